"""CP001 non-inferiority: the candidate is not worse than the baseline by more than a margin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.comparison import baseline_name, candidate_names, chosen_metric
from auditor.toolkit.figures import interval_chart
from auditor.util import wording

from ._common import COMMON_PARAMS, _oriented, _paired

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def margin_line(ctx: AuditContext, check_id: str) -> float | None:
    """Where the non-inferiority threshold sits (the policy's fail level: minus the margin)."""
    return (ctx.policy.get("checks", {}).get(check_id, {}).get("thresholds", {})
            .get("improvement_lower_bound", {}).get("fail", NonInferiority.thresholds["improvement_lower_bound"].fail))


def _interval_test(ctx: AuditContext, base, cand, metric: str, *, confidence: float, n_resamples: int, seed: int):
    """The test that gives the best interval for a metric: DeLong for ROC AUC, McNemar's paired
    proportions for accuracy, a paired bootstrap otherwise."""
    from auditor.toolkit import comparison_stats as cs

    if metric == "roc_auc" and ctx.task == "binary":
        return cs.delong_test(y_true=base.y == base.positive, score_a=base.scores, score_b=cand.scores, confidence=confidence)
    if metric == "accuracy":
        return cs.mcnemar_test(y_true=base.y, pred_a=base.pred, pred_b=cand.pred, confidence=confidence)
    spec = next(s for s in base.specs() if s.name == metric)
    return cs.paired_bootstrap_test(
        metric=base.scorer(metric), y_true=base.y, out_a=base.output_for(spec), out_b=cand.output_for(spec),
        n_resamples=n_resamples, confidence=confidence, random_state=seed,
    )


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
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.3", "nist_ai_rmf:MANAGE 1.1",
        "iso_42001:A.6.2.4",
    )
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
