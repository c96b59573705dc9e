"""RB006 weak-input-segments: slices of the inputs where the model errs more than its own confidence says."""

from __future__ import annotations

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.slicing import SEARCH_PARAMS, find_weak_slices
from auditor.util import wording


class WeakInputSegments(Check):
    """Slices of the inputs where the model errs more than its own confidence says

    What it checks:
        The robustness half of the weak-segment search (FR007 covers slices that involve
        a sensitive feature): slices of one or two model inputs other than the sensitive
        ones (``auditor.toolkit.slicing.find_weak_slices``: categorical values, numeric quantile
        bins, missing as a value). Every region near the decision boundary is hard for
        any model, so a slice is not judged on its raw error rate: each test row's
        residual is its error (0 or 1) minus the error the model's own probability
        expects (1 - the largest class probability), and a slice is weak when its mean
        residual is significantly above the rest's (Welch's t-test, one-sided), with the
        false discovery rate controlled at ``alpha`` over every slice searched, *and* its
        own mean residual is above zero with 95% confidence: a slice where the model errs
        less than its probabilities expect is never weak, however it compares with the
        rest. Judged:
        ``weak_slices``, fail above 0. Needs class probabilities; the search is bounded
        by ``max_slices`` and ``max_rows``.

    Why it matters:
        A model can be confidently wrong in one region of its inputs (one product line,
        one range of a measurement) while its averages look fine. Such a region is where
        it will fail in production without anyone noticing from the overall score.

    How to fix:
        Look at the rows of each weak slice: too few of them in training (collect or
        reweight), a feature missing that separates them, or a shift in how they are
        recorded. Recalibrate or retrain, and search again.

    References:
        Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE.
        Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57.
    """

    id = "RB006"
    name = "weak-input-segments"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "probabilities"})
    tasks = frozenset({"binary", "multiclass"})
    params = dict(SEARCH_PARAMS)
    thresholds = {
        "weak_slices": Threshold(direction="above", fail=0, low=0,
                                 help="slices where errors exceed the model's own expectation, after FDR control"),
    }
    practices = ("P4.3", "P6.3")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 14", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.5",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE",
        "Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57",
    )

    def run(self, ctx, params):
        from auditor.toolkit.evaluation import model_outputs

        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        proba = ctx.probabilities("test")[out.rows]
        residuals = (out.y != out.pred).astype("float64") - (1.0 - proba.max(axis=1))
        sample["rows_used"] = len(out)
        if len(out) < 2 * params["min_size"]:
            return Findings(status="inconclusive", sample=sample,
                            summary=f"Inconclusive: {wording.count(len(out), 'labelled test row')}, too few for slices of "
                                    f"{params['min_size']} rows to be compared with the rest.")
        frame = ctx.frame("test").iloc[out.rows].reset_index(drop=True)
        columns = [c for c in ctx.features if c in frame.columns and c not in ctx.sensitive]
        if not columns:
            return Findings(status="skipped", summary="Skipped: every model input is a declared sensitive feature (see FR007).")
        search = find_weak_slices(
            frame=frame, errors=residuals, columns=columns, max_order=params["max_order"], min_size=params["min_size"],
            bins=params["bins"], alpha=params["alpha"], random_state=ctx.seed_for(self.id), error_type="continuous",
            max_levels=params["max_levels"], max_slices=params["max_slices"],
        )
        # The search asks whether a slice's excess error is above the rest's; where the model is
        # better than its probabilities expect overall (negative excess), a slice can be "worse than
        # the rest" while still erring less than expected. Weak here means both: worse than the
        # rest after FDR control, and its own excess-error interval wholly above zero (an
        # intersection-union test, so the FDR control stays).
        weak = [r for r in search.weak if r["ci_low"] > 0]
        shown = weak[:20] if weak else search.records[:5]
        listed = "; ".join(f"{wording.shorten(r['description'], 60)} ({r['size']:,} rows, excess error {r['metric']:+.3f})"
                           for r in weak[:3])
        summary = (
            f"Searched {search.searched:,} slices of {wording.count(len(columns), 'input')} on {search.rows:,} test rows: "
            + (f"{wording.count(len(weak), 'slice')} {'errs' if len(weak) == 1 else 'err'} significantly more than the model's "
               f"own probabilities expect (FDR {params['alpha']:g}): {listed}" + (" and more." if len(weak) > 3 else ".")
               if weak else f"none errs significantly more than the model's own probabilities expect (FDR {params['alpha']:g}).")
        )
        return Findings(
            summary=summary,
            metrics={
                "weak_slices": Metric(len(weak), description="slices whose errors exceed the model's expected error, after FDR control"),
                "slices_searched": Metric(search.searched, description=f"slices with at least {params['min_size']} rows, tested"),
            },
            evidence=[Evidence(
                title="Weak input slices" if weak else "Slices with the strongest evidence (none significant)",
                columns=["slice", "rows", "excess error", "CI low", "CI high", "reference", "q"],
                rows=[[wording.shorten(r["description"], 80), r["size"], r["metric"], r["ci_low"], r["ci_high"],
                       r["reference"], r["q_value"]] for r in shown],
                note="Excess error: the slice's mean of (error - (1 - largest class probability)); q: Benjamini-Hochberg "
                     f"adjusted p-value over {search.searched:,} slices.",
            )],
            recommendation=(
                "Inspect the rows of each weak slice: rare in training, a missing feature, or recorded differently; "
                "recalibrate or retrain and search again."
            ),
            sample=sample,
        )
