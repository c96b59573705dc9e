"""Model comparison (area ``significance``, IDs CP001-CP004): is the candidate at least as good?

These checks compare models on the same rows with paired tests; ``auditor compare``
runs them (they are opt-in for ``auditor run``, which audits one model). The model
under audit is the candidate; ``ctx.others`` holds the baseline first, then any
further candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor import wording
from auditor.check import Check, Param, Threshold
from auditor.evaluation import evaluation_problem, model_outputs
from auditor.figures import interval_chart
from auditor.lazy import lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.toolkit.comparison import (  # noqa: F401  (re-exported)
    LOWER_IS_BETTER,
    METRIC_CHOICES,
    SCORERS,
    UNBOUNDED,
    baseline_name,
    candidate_names,
    chosen_metric,
)

np = lazy_module("numpy")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

def margin_line(ctx: "AuditContext", check_id: str) -> float | None:
    """Where the non-inferiority threshold sits (the policy's fail level: minus the margin)."""
    return (ctx.policy.get("checks", {}).get(check_id, {}).get("thresholds", {})
            .get("improvement_lower_bound", {}).get("fail", NonInferiority.thresholds["improvement_lower_bound"].fail))


def _oriented(result, metric: str) -> tuple[float, float | None, float | None]:
    """The test's B - A estimate and interval turned into an improvement (positive = B better)."""
    est, low, high = result.estimate, result.ci_low, result.ci_high
    if metric in LOWER_IS_BETTER:
        return -est, (None if high is None else -high), (None if low is None else -low)
    return est, low, high


def one_sided_worse(p_two_sided: float | None, improvement: float) -> float | None:
    """One-sided p-value for 'the candidate is worse', from a two-sided test and the estimate's sign."""
    if p_two_sided is None:
        return None
    half = min(1.0, p_two_sided) / 2
    return half if improvement < 0 else 1.0 - half


def _paired(ctx: "AuditContext", name: str):
    base = model_outputs(ctx.for_model(baseline_name(ctx)), "test")
    cand = model_outputs(ctx.for_model(name), "test")
    problem = evaluation_problem(base)
    return base, cand, problem


def _interval_test(ctx: "AuditContext", base, cand, metric: str, *, confidence: float, n_resamples: int, seed: int):
    """The test that gives the best interval for a metric: DeLong for ROC AUC, McNemar's paired
    proportions for accuracy, a paired bootstrap otherwise."""
    from auditor import comparison_stats as cs

    if metric == "roc_auc" and ctx.task == "binary":
        return cs.delong_test(y_true=base.y == base.positive, score_a=base.scores, score_b=cand.scores, confidence=confidence)
    if metric == "accuracy":
        return cs.mcnemar_test(y_true=base.y, pred_a=base.pred, pred_b=cand.pred, confidence=confidence)
    spec = next(s for s in base.specs() if s.name == metric)
    return cs.paired_bootstrap_test(
        metric=base.scorer(metric), y_true=base.y, out_a=base.output_for(spec), out_b=cand.output_for(spec),
        n_resamples=n_resamples, confidence=confidence, random_state=seed,
    )


COMMON_PARAMS = {
    "metric": Param(default="auto", kind="str", help="metric compared (auto: ROC AUC with probabilities, else accuracy; RMSE for regression)", choices=METRIC_CHOICES),
    "confidence": Param(default=0.95, kind="float", help="two-sided confidence of the intervals", low=0.5, high=0.999),
    "n_resamples": Param(default=1000, kind="int", help="bootstrap and permutation resamples", low=100, high=100000),
}


class NonInferiority(Check):
    """Non-inferiority: the candidate is not worse than the baseline by more than a margin

    What it checks:
        On the same test rows, the improvement of each candidate over the baseline in
        the compared metric (candidate minus baseline, sign turned so that positive is
        better) with its two-sided interval at ``confidence`` (95%: a one-sided
        non-inferiority test at 2.5%). The interval comes from DeLong's test for ROC
        AUC, McNemar's paired proportions for accuracy and a paired bootstrap for any
        other metric. Judged: the interval's lower end, which fails below minus the
        margin (``auditor compare --margin``: default 0.01 for metrics on a 0-1 scale;
        RMSE and MAE are in the target's units, so their margin must be given). With
        ``margin_kind: relative`` (``--margin 5%``) the lower end is divided by the
        baseline's score, so the margin is a share of it. A candidate whose interval
        reaches below the margin has not been shown to be non-inferior.

    Why it matters:
        A new model is usually shipped because it is not worse; "its score is a bit
        higher" on one test set is noise unless the interval says so. The margin is the
        loss the owners accept in exchange for the change's other benefits.

    How to fix:
        Evaluate on more rows to narrow the interval, or keep the baseline. Agree the
        margin before looking at the results.

    References:
        Walker & Nowacki (2011), Understanding equivalence and noninferiority testing,
        J Gen Intern Med.
        DeLong, DeLong & Clarke-Pearson (1988), Comparing the areas under two or more
        correlated ROC curves, Biometrics.
    """

    id = "CP001"
    name = "non-inferiority"
    area = "significance"
    severity = "high"
    opt_in = True
    needs = frozenset({"test", "predictions", "baseline"})
    params = {
        **COMMON_PARAMS,
        "margin_kind": Param(default="absolute", kind="str", choices=("absolute", "relative"),
                             help="absolute: the margin is in the metric's units; relative: a share of the baseline's score"),
    }
    thresholds = {
        "improvement_lower_bound": Threshold(direction="below", fail=-0.01, high=0,
                                             help="lower end of the interval of candidate minus baseline (relative: divided "
                                                  "by the baseline's score); fail below -margin"),
    }
    practices = ("P4.6", "P2.2", "P7.1")
    references = (
        "Walker & Nowacki (2011), Understanding equivalence and noninferiority testing, J Gen Intern Med",
        "DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44(3)",
    )

    def run(self, ctx, params):
        metric = chosen_metric(ctx, params["metric"])
        relative = params["margin_kind"] == "relative"
        unit = f"{metric}, relative to the baseline's score" if relative else metric
        rows, chart, worst = [], [], None
        for name in candidate_names(ctx):
            base, cand, problem = _paired(ctx, name)
            if problem:
                return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.")
            result = _interval_test(ctx, base, cand, metric, confidence=params["confidence"],
                                    n_resamples=params["n_resamples"], seed=ctx.seed_for(self.id))
            imp, low, high = _oriented(result, metric)
            rows.append([name, base.score(metric), cand.score(metric), imp, low, high, result.test])
            if relative:
                scale = abs(base.score(metric))
                if not scale:
                    return Findings(status="inconclusive",
                                    summary="Inconclusive: the baseline's score is 0, so a relative margin has no scale.")
                imp, low, high = imp / scale, (None if low is None else low / scale), (None if high is None else high / scale)
            chart.append((name, imp, low, high))
            if low is not None and (worst is None or low < worst[1]):
                worst = (name, low, imp)
        base_name = baseline_name(ctx)
        if worst is None:
            return Findings(status="inconclusive", summary="Inconclusive: no interval could be computed for the improvement.")
        return Findings(
            summary=(
                f"On {len(base):,} test rows, {wording.metric_label(metric)} of {wording.count(len(rows), 'candidate')} vs the "
                f"baseline {base_name!r}: " + ("the weakest, " if len(rows) > 1 else "") + f"{worst[0]!r} changes it by "
                + (f"{worst[2]:+.1%} of the baseline's score (positive is better), with a {params['confidence']:.0%} interval "
                   f"reaching down to {worst[1]:+.1%}." if relative else
                   f"{worst[2]:+.4f} (positive is better), with a {params['confidence']:.0%} interval reaching down to {worst[1]:+.4f}.")
            ),
            metrics={
                "improvement_lower_bound": Metric(worst[1], description=f"lowest interval end of candidate minus baseline ({unit})"),
                "improvement": Metric(worst[2], description=f"estimated improvement of that candidate ({unit}; positive is better)"),
            },
            evidence=[Evidence(
                title=f"Candidates against the baseline {base_name!r} ({metric})",
                columns=["candidate", "baseline score", "candidate score", "improvement", "CI low", "CI high", "test"],
                rows=rows,
                note="Improvement = candidate minus baseline, sign turned so that positive is better.",
            )],
            figures=[interval_chart(
                "Improvement over the baseline", chart,
                xlabel=f"improvement in {wording.metric_label(metric)}" + (" (share of the baseline's score)" if relative else ""),
                caption=f"Dots: estimates; bars: {params['confidence']:.0%} intervals. Non-inferior when the bar stays right of the dashed line.",
                reference=margin_line(ctx, self.id), reference_label="minus the margin",
            )],
            recommendation=(
                "Ship the candidate only if its whole interval lies above minus the agreed margin; otherwise evaluate "
                "on more rows or keep the baseline."
            ),
        )


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
    references = (
        "McNemar (1947), Psychometrika 12(2)",
        "Dietterich (1998), Neural Computation 10(7)",
        "scipy.stats.permutation_test; scipy.stats.bootstrap",
    )

    def run(self, ctx, params):
        from auditor import comparison_stats as cs

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
    references = (
        "Dietterich (1998), Neural Computation 10(7)",
        "Nadeau & Bengio (2003), Machine Learning 52(3)",
    )

    def run(self, ctx, params):
        from auditor import comparison_stats as cs

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
            for key, fn in (("5x2cv", cs.five_by_two_cv_ttest), ("corrected_t", cs.corrected_resampled_ttest)):
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


class ModelRanking(Check):
    """Ranking of three or more models: Friedman test with Nemenyi post-hoc comparisons

    What it checks:
        Splits the test rows into ``blocks`` disjoint, stratified chunks, scores every
        model on each chunk, and ranks the models within each chunk (1 = best). The
        Friedman test asks whether the models differ at all; Nemenyi's critical
        difference tells which pairs of average ranks differ. Judged: how many
        candidates rank significantly worse than the baseline (fail above 0).

    Why it matters:
        Comparing many models pairwise inflates false alarms; a rank-based omnibus test
        with a post-hoc critical difference keeps the error rate honest.

    How to fix:
        Drop the candidates that rank significantly worse than the baseline.

    References:
        Demšar (2006), Statistical comparisons of classifiers over multiple data sets,
        JMLR 7.
        Friedman (1937), The use of ranks to avoid the assumption of normality, JASA.
    """

    id = "CP004"
    name = "model-ranking"
    area = "significance"
    severity = "medium"
    opt_in = True
    needs = frozenset({"test", "predictions", "three_models"})
    params = {
        "metric": COMMON_PARAMS["metric"],
        "blocks": Param(default=10, kind="int", help="disjoint chunks of the test rows, one rank per chunk", low=3, high=1000),
        "alpha": Param(default=0.05, kind="float", help="level of the Nemenyi critical difference", low=0.001, high=0.2),
    }
    thresholds = {
        "worse_than_baseline": Threshold(direction="above", fail=0, low=0, help="candidates ranked significantly below the baseline"),
    }
    practices = ("P4.6", "P2.2")
    references = ("Demšar (2006), JMLR 7:1-30", "scipy.stats.friedmanchisquare; scipy.stats.studentized_range")

    def run(self, ctx, params):
        from auditor import comparison_stats as cs

        metric = chosen_metric(ctx, params["metric"])
        names = [baseline_name(ctx), *candidate_names(ctx)]
        outs = {n: model_outputs(ctx.for_model(n), "test") for n in names}
        base = outs[names[0]]
        rng = ctx.rng(self.id)
        # Stratified chunks: deal each class's shuffled rows round-robin into the blocks.
        block = np.empty(len(base), dtype=int)
        strata = base.y if ctx.is_classification else np.zeros(len(base), dtype=int)
        for value in np.unique(strata):
            rows = rng.permutation(np.flatnonzero(strata == value))
            block[rows] = np.arange(len(rows)) % params["blocks"]
        spec = next(s for s in base.specs() if s.name == metric)
        scores = np.full((params["blocks"], len(names)), np.nan)
        for b in range(params["blocks"]):
            rows = np.flatnonzero(block == b)
            for j, n in enumerate(names):
                sub = outs[n].subset(rows)
                try:
                    scores[b, j] = sub.scorer(metric)(sub.y, sub.output_for(spec))
                except ValueError:
                    pass
        scores = scores[~np.isnan(scores).any(axis=1)]
        if len(scores) < 3:
            return Findings(status="inconclusive", summary="Inconclusive: fewer than 3 test chunks could be scored.")
        result = cs.friedman_nemenyi(scores=scores, names=names, alpha=params["alpha"],
                                     higher_is_better=metric not in LOWER_IS_BETTER)
        ranks = result["average_ranks"]
        worse = [n for n in names[1:] if ranks[n] - ranks[names[0]] > result["critical_difference"]]
        return Findings(
            summary=(
                f"Ranked {wording.count(len(names), 'model')} on {len(scores)} chunks of the test rows by "
                f"{wording.metric_label(metric)}: Friedman p = {result['p_value']:.3g}; "
                f"{wording.count(len(worse), 'candidate ranks', 'candidates rank')} significantly below the baseline "
                f"(critical difference {result['critical_difference']:.2f})."
            ),
            metrics={
                "worse_than_baseline": Metric(len(worse), description="candidates whose average rank is worse than the baseline's by more than the critical difference"),
                "friedman_p_value": Metric(result["p_value"], description="Friedman test: do the models differ at all?", p_value=True),
                "critical_difference": Metric(result["critical_difference"], description=f"Nemenyi critical difference at alpha {params['alpha']}"),
            },
            evidence=[
                Evidence(title="Average ranks (1 = best)", columns=["model", "average rank", "role"],
                         rows=[[n, ranks[n], "baseline" if n == names[0] else "candidate"] for n in sorted(names, key=ranks.get)]),
                Evidence(title="Nemenyi pairwise comparisons", columns=["model A", "model B", "rank difference", "significant"],
                         rows=[[p["a"], p["b"], p["rank_difference"], "yes" if p["significant"] else "no"] for p in result["pairs"]]),
            ],
            figures=[interval_chart(
                "Average ranks with the critical difference",
                [(n, ranks[n], ranks[n] - result["critical_difference"] / 2, ranks[n] + result["critical_difference"] / 2)
                 for n in sorted(names, key=ranks.get)],
                xlabel="average rank (1 = best)",
                caption="Two models whose bars do not overlap differ significantly (Nemenyi).",
            )],
            recommendation="Drop candidates ranked significantly below the baseline; the rest are statistically tied with it or better.",
        )
