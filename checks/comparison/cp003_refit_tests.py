"""CP003 refit-tests: 5x2cv paired t and the corrected resampled t."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.comparison import SCORERS, baseline_name, candidate_names, chosen_metric
from auditor.util import wording

from ._common import COMMON_PARAMS, one_sided_worse


class RefitTests(Check):
    """Refit tests: 5x2cv paired t and the corrected resampled t

    What it checks:
        Refits clones of the baseline and each candidate (same hyperparameters) on
        resampled splits of a sample of the training data and compares their held-out
        scores with Dietterich's 5x2cv paired t test and Nadeau and Bengio's corrected
        resampled t test. Each test's one-sided p-value for "the candidate is worse" is
        corrected with the audit's other p-values and fails below 0.05. Opt-in: it
        refits each model 10 + 10 times (``auditor compare --refit``).

    Why it matters:
        A comparison on one test set says how these two fitted models differ; a refit
        comparison says whether the candidate's way of learning is better, which is
        what a change of algorithm or hyperparameters claims.

    How to fix:
        Treat a significant loss as a regression of the learning setup, not of one fit.

    References:
        Dietterich (1998), Approximate statistical tests for comparing supervised
        classification learning algorithms, Neural Computation.
        Nadeau & Bengio (2003), Inference for the generalization error, Machine Learning.
    """

    id = "CP003"
    name = "refit-tests"
    area = "significance"
    severity = "medium"
    opt_in = True
    needs = frozenset({"train", "refit", "baseline"})
    params = {
        **{k: COMMON_PARAMS[k] for k in ("metric", "confidence")},
        "max_rows": Param(default=5000, kind="int", help="training rows used at most (a seeded sample above)", low=50),
    }
    thresholds = {
        "p_worse_5x2cv": Threshold(direction="below", fail=0.05, low=0, high=1, help="5x2cv paired t, corrected"),
        "p_worse_corrected_t": Threshold(direction="below", fail=0.05, low=0, high=1, help="corrected resampled t, corrected"),
    }
    practices = ("P4.5", "P4.6", "P2.2")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.3", "iso_42001:A.6.2.4")
    references = (
        "Dietterich (1998), Neural Computation 10(7)",
        "Nadeau & Bengio (2003), Machine Learning 52(3)",
    )

    def run(self, ctx, params):
        from auditor.toolkit import refit_tests as rt

        not_refittable = [n for n in [ctx.model_name, *ctx.others] if not ctx.for_model(n).model.can_refit]
        if not_refittable:
            return Findings(status="skipped", summary=f"Skipped: cannot refit {', '.join(map(repr, not_refittable))}.")
        metric = chosen_metric(ctx, params["metric"])
        seed = ctx.seed_for(self.id)
        X, y, sample = ctx.labelled_sample("train", params["max_rows"], check_id=self.id)
        baseline = ctx.for_model(baseline_name(ctx)).model.unfitted_clone()
        best: dict[str, float] = {}
        rows = []
        for name in candidate_names(ctx):
            candidate = ctx.for_model(name).model.unfitted_clone()
            for key, fn in (("5x2cv", rt.five_by_two_cv_ttest), ("corrected_t", rt.corrected_resampled_ttest)):
                result = fn(estimator_a=baseline, estimator_b=candidate, X=X, y=y, scoring=SCORERS[metric],
                            random_state=seed, confidence=params["confidence"])
                # Scorers are "greater is better" (errors are negated), so B - A is already an improvement.
                imp = result.estimate
                p_worse = one_sided_worse(result.p_value, imp)
                rows.append([name, result.test, imp, result.ci_low, result.ci_high, result.p_value, p_worse])
                if p_worse is not None:
                    best[key] = min(best.get(key, 1.0), p_worse)
        return Findings(
            summary=(
                f"Refitted the baseline and {wording.count(len(candidate_names(ctx)), 'candidate')} on resampled splits of "
                f"{len(y):,} training rows ({wording.metric_label(metric)}); the strongest evidence that a candidate is worse is p = "
                f"{min(best.values()):.3g} before correction." if best else "No refit test could be computed."
            ),
            metrics={
                f"p_worse_{key}": Metric(value, description=f"one-sided p that a candidate is worse ({key})", p_value=True)
                for key, value in best.items()
            },
            evidence=[Evidence(
                title="Refit comparisons against the baseline",
                columns=["candidate", "test", "mean improvement", "CI low", "CI high", "p (two-sided)", "p (worse, one-sided)"],
                rows=rows,
            )],
            recommendation="A significant loss under refitting means the candidate's learning setup is worse, not just one fit.",
            sample=sample,
        )
