"""CP004 model-ranking: ranking of three or more models (Friedman test with Nemenyi post-hoc comparisons)."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.comparison import LOWER_IS_BETTER, baseline_name, candidate_names, chosen_metric
from auditor.toolkit.evaluation import model_outputs
from auditor.toolkit.figures import interval_chart
from auditor.util import wording
from auditor.util.lazy import lazy_module

from ._common import COMMON_PARAMS

np = lazy_module("numpy")


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
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.3", "iso_42001:A.6.2.4")
    references = ("Demšar (2006), JMLR 7:1-30", "scipy.stats.friedmanchisquare; scipy.stats.studentized_range")

    def run(self, ctx, params):
        from auditor.toolkit import comparison_stats as cs

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
                "worse_than_baseline": Metric(
                    len(worse), description="candidates whose average rank is worse than the baseline's by more than the critical difference"
                ),
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
