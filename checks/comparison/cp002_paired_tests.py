"""CP002 paired-tests: paired significance tests (is the candidate significantly worse than the baseline?)."""

from __future__ import annotations

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.comparison import baseline_name, candidate_names, chosen_metric
from auditor.util import wording

from ._common import COMMON_PARAMS, _oriented, _paired, one_sided_worse


class PairedTests(Check):
    """Paired significance tests: is the candidate significantly worse than the baseline?

    What it checks:
        On the same test rows, each candidate against the baseline with the paired
        tests that apply: McNemar's test of the error rates (classification), DeLong's
        test of ROC AUC (binary, with probabilities), and a paired bootstrap and a
        paired permutation test of the compared metric. Each two-sided p-value is
        turned into a one-sided p-value for "the candidate is worse"; these are
        corrected with every other p-value of the audit and the corrected value fails
        below 0.05.

    Why it matters:
        A drop in a score can be noise; a significant drop on the same rows is a
        regression that the change introduced.

    How to fix:
        Investigate what changed between the models (data, features, hyperparameters)
        on the rows where the candidate errs and the baseline does not.

    References:
        McNemar (1947), Note on the sampling error of the difference between correlated
        proportions or percentages, Psychometrika.
        Dietterich (1998), Approximate statistical tests for comparing supervised
        classification learning algorithms, Neural Computation.
    """

    id = "CP002"
    name = "paired-tests"
    area = "significance"
    severity = "high"
    opt_in = True
    needs = frozenset({"test", "predictions", "baseline"})
    params = dict(COMMON_PARAMS)
    thresholds = {
        "p_worse_mcnemar": Threshold(direction="below", fail=0.05, low=0, high=1, help="McNemar, corrected"),
        "p_worse_delong": Threshold(direction="below", fail=0.05, low=0, high=1, help="DeLong, corrected"),
        "p_worse_bootstrap": Threshold(direction="below", fail=0.05, low=0, high=1, help="paired bootstrap, corrected"),
        "p_worse_permutation": Threshold(direction="below", fail=0.05, low=0, high=1, help="paired permutation, corrected"),
    }
    practices = ("P4.6", "P2.2")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.3", "iso_42001:A.6.2.4")
    references = (
        "McNemar (1947), Psychometrika 12(2)",
        "Dietterich (1998), Neural Computation 10(7)",
        "scipy.stats.permutation_test; scipy.stats.bootstrap",
    )

    def run(self, ctx, params):
        from auditor.toolkit import comparison_stats as cs

        metric = chosen_metric(ctx, params["metric"])
        seed = ctx.seed_for(self.id)
        best: dict[str, float] = {}
        rows = []
        for name in candidate_names(ctx):
            base, cand, problem = _paired(ctx, name)
            if problem:
                return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.")
            spec = next(s for s in base.specs() if s.name == metric)
            tests = {}
            if ctx.is_classification:
                tests["mcnemar"] = (cs.mcnemar_test(y_true=base.y, pred_a=base.pred, pred_b=cand.pred), "accuracy")
            if ctx.task == "binary" and base.scores is not None and cand.scores is not None:
                tests["delong"] = (cs.delong_test(y_true=base.y == base.positive, score_a=base.scores, score_b=cand.scores), "roc_auc")
            common = dict(metric=base.scorer(metric), y_true=base.y, out_a=base.output_for(spec), out_b=cand.output_for(spec),
                          n_resamples=params["n_resamples"], random_state=seed)
            tests["bootstrap"] = (cs.paired_bootstrap_test(**common, confidence=params["confidence"]), metric)
            tests["permutation"] = (cs.paired_permutation_test(**common), metric)
            for key, (result, on) in tests.items():
                imp, _, _ = _oriented(result, on)
                p_worse = one_sided_worse(result.p_value, imp)
                rows.append([name, result.test, on, imp, result.p_value, p_worse])
                if p_worse is not None:
                    best[key] = min(best.get(key, 1.0), p_worse)
        metrics = {
            f"p_worse_{key}": Metric(value, description=f"one-sided p that a candidate is worse ({key})", p_value=True)
            for key, value in best.items()
        }
        lowest = min(best.values()) if best else None
        return Findings(
            summary=(
                f"Ran {wording.count(len(rows), 'paired test')} of {wording.count(len(candidate_names(ctx)), 'candidate')} against the "
                f"baseline {baseline_name(ctx)!r} on the same test rows; the strongest evidence that a candidate is worse is p = "
                f"{lowest:.3g} before correction." if lowest is not None else "No paired test applied."
            ),
            metrics=metrics,
            evidence=[Evidence(
                title="Paired tests against the baseline",
                columns=["candidate", "test", "metric", "improvement", "p (two-sided)", "p (worse, one-sided)"],
                rows=rows,
                note="Improvement = candidate minus baseline, positive is better. The judged p-values are corrected across the audit.",
            )],
            recommendation="A significant loss on the same rows is a regression: find the rows where the candidate errs and the baseline does not.",
        )
