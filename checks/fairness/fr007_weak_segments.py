"""FR007 weak-segments: slices of the data where the model is significantly worse."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import model_outputs
from auditor.toolkit.figures import interval_chart
from auditor.toolkit.slicing import SEARCH_PARAMS, find_weak_slices
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import MAX_ROWS, _missing_sensitive, _skip

np = lazy_module("numpy")


class WeakSegments(Check):
    """Slices of the data where the model is significantly worse

    What it checks:
        An automatic search (``auditor.toolkit.slicing.find_weak_slices``) over slices of one or
        two columns of the test rows (``max_order``): categorical values (the
        ``max_levels`` most frequent per column), numeric columns cut into ``bins``
        quantile bins, missing values as a value of their own; the columns are the model's
        inputs and the sensitive features, even those the model does not take. In each
        slice of at least ``min_size`` rows, the model's error (classification: the error
        rate; regression: the mean absolute error) is tested one-sided against its
        reference: the exact binomial test of the slice's errors against the reference
        rate (SciPy), or Welch's t-test of the slice's absolute errors against the rest of
        the reference. The reference of a one-column slice is all rows; a two-column slice
        must also be worse than each of its one-column parents (``reference: parents``),
        so a region that is merely hard for any model does not make every pair through it
        weak. The false discovery rate is controlled at ``alpha`` over every slice
        searched (Benjamini-Hochberg, statsmodels). Only slices that involve a declared
        sensitive feature are searched and reported: a slice of other columns where the
        model errs more is often a region that is intrinsically harder (near the decision
        boundary), not a group treated worse, and belongs to robustness. The judged metric
        ``weak_slices`` counts the significantly weaker slices: fail above 0. The search
        is bounded: at most ``max_slices`` slices (single-column slices first, then the
        largest pairs) on a seeded sample of at most ``max_rows`` rows.

    Why it matters:
        Declared groups are the ones someone thought of. A model can fail a slice nobody
        named (older women in one occupation, one region's night shift), and an average
        over declared groups hides it. Searching every slice finds them; controlling the
        false discovery rate keeps chance from producing them.

    How to fix:
        Look at the rows of each weak slice: are they rare in training (collect or
        reweight), mislabelled, or missing a feature that matters for them? Retrain and
        search again; report slices that stay weak in the model's documentation.

    References:
        P8.1 and P4.3 of the practices; Chung et al. (2019), Slice Finder: automated data
        slicing for model validation, ICDE; Benjamini & Hochberg (1995), Controlling the
        false discovery rate, JRSS B 57; Kearns et al. (2018), Preventing fairness
        gerrymandering, ICML.
    """

    id = "FR007"
    name = "weak-segments"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "sensitive"})
    params = {
        **SEARCH_PARAMS,
        "reference": Param(default="parents", kind="str", choices=("parents", "overall"),
                           help="a two-column slice against its parents and all rows, or all rows only"),
    }
    thresholds = {
        "weak_slices": Threshold(direction="above", fail=0, low=0,
                                 help="slices with a significantly higher error than their reference, after FDR control"),
    }
    practices = ("P8.1", "P4.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE",
        "Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57",
    )

    def run(self, ctx, params):
        missing = _missing_sensitive(ctx, "test")
        if missing:
            return _skip(f"the test data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        if ctx.is_classification:
            errors = (out.y != out.pred).astype("float64")
            keep = np.ones(len(out), dtype=bool)
            what, unit = "error rate", "error rate"
        else:
            errors = np.abs(np.asarray(out.y, dtype="float64") - np.asarray(out.pred, dtype="float64"))
            keep = np.isfinite(errors)
            errors = errors[keep]
            what, unit = "mean absolute error", "mean absolute error"
        sample["rows_used"] = int(keep.sum())
        if keep.sum() < 2 * params["min_size"]:
            return Findings(status="inconclusive", sample=sample,
                            summary=f"Inconclusive: {wording.count(int(keep.sum()), 'labelled test row')}, too few for slices of "
                                    f"{params['min_size']} rows to be compared with the rest.")
        frame = ctx.frame("test").iloc[out.rows[keep]].reset_index(drop=True)
        columns = list(dict.fromkeys([c for c in ctx.features if c in frame.columns] + list(ctx.sensitive)))
        search = find_weak_slices(
            frame=frame, errors=errors, columns=columns, max_order=params["max_order"], min_size=params["min_size"],
            bins=params["bins"], alpha=params["alpha"], random_state=ctx.seed_for(self.id),
            must_include=list(ctx.sensitive), error_type="binary" if ctx.is_classification else "continuous",
            reference=params["reference"], max_levels=params["max_levels"], max_slices=params["max_slices"],
        )
        weak = search.weak
        scope = (f"slices involving {', '.join(_text(c) for c in ctx.sensitive)}" if ctx.sensitive
                 else "slices of the model's inputs")
        metrics = {
            "weak_slices": Metric(len(weak), description=f"{scope} with a significantly higher {what} (FDR {params['alpha']:g})"),
            "slices_searched": Metric(search.searched, description=f"{scope} with at least {params['min_size']} rows, tested"),
            "slices_not_searched": Metric(search.candidates - search.searched,
                                          description=f"eligible slices beyond max_slices ({params['max_slices']}), not tested"),
            f"overall_{'error_rate' if ctx.is_classification else 'mae'}": Metric(search.overall, description=f"{what} over the rows searched"),
        }
        if weak:
            top = weak[0]
            metrics["worst_slice_error"] = Metric(top["metric"], top["ci_low"], top["ci_high"],
                                                  description=f"{what} in the most significant weak slice ({top['description']})")
        shown = weak[:MAX_ROWS] if weak else search.records[:5]
        rows = [[_text(r["description"], 80), r["size"], r["metric"], r["ci_low"], r["ci_high"], r["reference"], r["q_value"]]
                for r in shown]
        title = "Weak slices" if weak else "Slices with the strongest evidence (none significant)"
        note = (f"{unit.capitalize()} with a 95% interval; reference: "
                f"{'all rows, and for two-column slices each parent (the largest shown)' if params['reference'] == 'parents' else 'all rows'}; "
                f"q: Benjamini-Hochberg adjusted p-value over {search.searched:,} slices.")
        if len(weak) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(weak)}."
        figures = []
        if weak:
            figures = [interval_chart("Weak slices", [(r["description"], r["metric"], r["ci_low"], r["ci_high"]) for r in weak[:MAX_ROWS]],
                                      xlabel=unit, caption=f"Dots: {unit} in each weak slice; bars: 95% intervals; dashed line: all rows.",
                                      reference=search.overall, reference_label="all rows")]
        if weak:
            listed = "; ".join(f"{_text(r['description'], 60)} ({r['size']:,} rows, {r['metric']:.3g} against {r['reference']:.3g})" for r in weak[:3])
            summary = (f"Searched {search.searched:,} {scope} on {search.rows:,} test rows: {wording.count(len(weak), 'slice')} "
                       f"{'has' if len(weak) == 1 else 'have'} a significantly higher {what} than {search.overall:.3g} overall "
                       f"(FDR {params['alpha']:g}): {listed}" + (" and more" if len(weak) > 3 else "") + ".")
        else:
            summary = (f"Searched {search.searched:,} {scope} on {search.rows:,} test rows: none has a significantly higher {what} "
                       f"than its reference (overall {search.overall:.3g}; FDR {params['alpha']:g}).")
        if search.candidates > search.searched:
            summary += (f" {wording.count(search.candidates - search.searched, 'further slice')} beyond the cap of {params['max_slices']:,} "
                        f"{'was' if search.candidates - search.searched == 1 else 'were'} not searched.")
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title=title, columns=["slice", "rows", unit, "CI low", "CI high", "reference", "q"], rows=rows, note=note)],
            figures=figures,
            recommendation=(
                "Inspect the rows of each weak slice: too few in training, mislabelled, or missing a feature that matters for "
                "them? Retrain and search again; document slices that stay weak."
                if weak else "No weak slice; search again after retraining or when the data change."
            ),
            sample=sample,
        )
