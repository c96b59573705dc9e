"""EX002 importance-stability: whether the ranking of the leading features survives a resample."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    BACKGROUND,
    FAMILY,
    MAX_SHOWN,
    MIN_CORR,
    MIN_SHARE,
    REPEATS,
    ROWS,
    RUNS,
    SHAP_ROWS,
    TOP_K,
    _names,
    _test_sample,
    correlated_groups,
    permutation,
    stability_runs,
    top_features,
)
from ._shap import (
    shap_bootstrap,
    shap_importance,
    shap_values,
)


def group_of(groups: list[dict[str, Any]], feature: str) -> list[str] | None:
    return next((g["features"] for g in groups if feature in g["features"]), None)


def tie_groups(reference: np.ndarray, runs: np.ndarray, idx: list[int], *, margin: float) -> list[list[int]]:
    """The features ``idx`` (in the reference's order, most important first) coarsened into tie groups.

    Two features are equally important, as far as the data shows, when the 95% interval of
    the difference of their importances lies within ``margin`` times the larger importance
    (an equivalence test, two one-sided tests at 2.5%): the reference difference ± 1.96
    standard deviations of that difference over the ``runs`` (bootstrap resamples, so the
    standard deviation is the difference's standard error). A group is grown down the
    reference order while the next feature is equally important as every member
    (complete linkage), so no group chains a large gap out of small steps. Failing to
    resolve an order is not enough: two features whose difference is merely too noisy to
    sign are not shown to be equal, and their swaps still count as disagreement.
    """
    def equal(a: int, b: int) -> bool:
        half = 1.96 * float(np.std(runs[:, a] - runs[:, b], ddof=1)) if len(runs) > 1 else math.inf
        larger = max(float(reference[a]), float(reference[b]))
        return larger > 0 and abs(float(reference[a] - reference[b])) + half <= margin * larger

    groups: list[list[int]] = []
    for i in idx:
        if groups and all(equal(j, i) for j in groups[-1]):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _coarsened(runs: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Each run's importances of the grouped features (in the groups' order), every member of a
    tie group given its group's mean in that run: the ranks coarsened into tie groups."""
    columns = [np.repeat(runs[:, g].mean(axis=1, keepdims=True), len(g), axis=1) for g in groups]
    return np.concatenate(columns, axis=1)


def _kendall_pairs(runs: np.ndarray, groups: list[list[int]]) -> list[float]:
    """Kendall's tau-b between every two runs on the ranks coarsened into ``groups``: a pair of features
    in one tie group is tied in every run and never counts as disagreement; a pair from different groups
    is concordant or discordant as the two runs order it. With a single group nothing is left to
    disagree about (tau 1)."""
    from scipy.stats import kendalltau

    if len(groups) < 2:
        return [1.0] * (len(runs) * (len(runs) - 1) // 2)
    values = _coarsened(runs, groups)
    taus = []
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            tau = kendalltau(values[a], values[b], variant="b").statistic
            taus.append(0.0 if tau is None or math.isnan(tau) else float(tau))
    return taus


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = most important."""
    from scipy.stats import rankdata

    return rankdata(-values, method="min")


class ImportanceStability(Check):
    """Stability of feature importance across resamples and seeds

    What it checks:
        Whether the ranking of the leading features survives a resample. Permutation
        importance is recomputed on ``runs`` bootstrap resamples of the test sample, each
        with its own shuffling seed. The top features are the reference ranking's first
        ``top_k`` with at least ``min_share`` of the top feature's importance. Measured:
        ``rank_agreement``, the mean Kendall's tau-b between every two runs over the top
        features, on ranks coarsened into tie groups (judged: warn below 0.8, fail below
        0.6; needs two top features). A tie the data shows is not instability: two top
        features form a tie group when the 95% interval of the difference of their
        importances (the reference difference ± 1.96 standard deviations of that
        difference over the runs) lies within ``tie_margin`` times the larger importance,
        every two members of a group being tied so (an equivalence test); each run ranks
        the groups by their members' mean importance, so swaps inside a group never count
        as disagreement, and with one group only there is nothing to disagree about (tau
        1). Features whose difference is merely too noisy to sign are not shown to be equal:
        their swaps still count. With ``tie_margin`` 0 no two features tie and the metric
        is the plain mean Kendall's tau;
        ``rank_resolution``, the share of adjacent pairs of top features whose order is
        resolved: every run orders the pair as the reference does and the reference
        difference exceeds two standard errors of the shuffles, or the pair is shown
        equal (one tie group), which the data resolve as well (judged: warn below 0.8);
        ``correlated_ties``, how many of the tied pairs are strongly correlated features
        (|Spearman| at least ``min_corr``, the groups of EX004): near-copies that tie
        leave their order to chance by construction (judged: fail above 0);
        ``top_k_overlap``, the mean Jaccard overlap between each run's top set and the
        reference's (judged: warn below 0.8, fail below 0.6); and ``sign_stability``, the
        smallest share of runs in which a top feature keeps an importance above zero
        (warn below 0.8). SHAP's ranking on bootstrap resamples of the explained rows is
        reported too. Strongly correlated features (see EX004) among the unstable ones are
        named as the likely cause.

    Why it matters:
        An explanation that changes with the resample or the seed misleads everyone who
        reads it: the second feature today is the fourth tomorrow, and decisions (which
        input to monitor, which to drop, what to tell a regulator) follow the noise.

    How to fix:
        When near-copies trade places, group them (report and permute them together) or
        keep one. Otherwise explain on more rows (``rows``), and report ranks only where
        the intervals separate them.

    References:
        Molnar et al. (2022), General pitfalls of model-agnostic interpretation methods,
        xxAI workshop, LNAI 13200.
        Strobl et al. (2008), Conditional variable importance for random forests, BMC
        Bioinformatics 9.
        Schuirmann (1987), A comparison of the two one-sided tests procedure and the power
        approach for assessing the equivalence of average bioavailability, Journal of
        Pharmacokinetics and Biopharmaceutics 15 (the equivalence test behind the tie groups).
        scipy.stats.kendalltau.
    """

    id = "EX002"
    name = "importance-stability"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "runs": RUNS, "top_k": TOP_K, "min_share": MIN_SHARE,
              "shap_rows": SHAP_ROWS, "background": BACKGROUND, "min_corr": MIN_CORR,
              "tie_margin": Param(default=0.3, kind="float", low=0.0, high=1.0,
                                  help="two top features tie when the 95% interval of their importance difference lies "
                                       "within this fraction of the larger importance (0: no ties)")}
    thresholds = {
        "rank_agreement": Threshold(direction="below", warn=0.8, fail=0.6, low=-1, high=1,
                                    help="mean Kendall's tau-b between resampled runs over the top features, tie groups coarsened"),
        "top_k_overlap": Threshold(direction="below", warn=0.8, fail=0.6, low=0, high=1,
                                   help="mean Jaccard overlap of each run's top features with the reference's"),
        "rank_resolution": Threshold(direction="below", warn=0.8, low=0, high=1,
                                     help="share of adjacent top-feature pairs whose order every resample keeps, by more than the shuffles' noise"),
        "correlated_ties": Threshold(direction="above", fail=0, low=0,
                                     help="adjacent top-feature pairs that tie and are strongly correlated with each other (near-copies)"),
        "sign_stability": Threshold(direction="below", warn=0.8, low=0, high=1,
                                    help="smallest share of runs in which a top feature's importance stays above zero"),
    }
    practices = ("P5.3", "P5.4")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Molnar et al. (2022), General pitfalls of model-agnostic interpretation methods, LNAI 13200",
        "Strobl et al. (2008), Conditional variable importance for random forests, BMC Bioinformatics 9",
        ("Schuirmann (1987), A comparison of the two one-sided tests procedure and the power approach for assessing "
         "the equivalence of average bioavailability, J. Pharmacokinetics and Biopharmaceutics 15"),
    )

    def run(self, ctx, params):
        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features = list(ctx.features)
        ref = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"]
        runs = stability_runs(ctx, rows=params["rows"], repeats=params["repeats"], runs=params["runs"])
        top = top_features(ref, features, top_k=params["top_k"], min_share=params["min_share"])
        if not top:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: no feature lowers the model's score when shuffled, so there is no "
                                    "ranking whose stability could be measured.")
        k = len(top)
        overlaps, kept = [], np.zeros(len(features))
        for r in runs:
            run_top = top_features(r, features, top_k=k, min_share=0.0)[:k]
            overlaps.append(len(set(run_top) & set(top)) / len(set(run_top) | set(top)))
            kept += r > 0
        sign = float(min(kept[i] for i in top) / len(runs))
        ranks = np.stack([_ranks(r) for r in runs])
        ref_ranks = _ranks(ref)
        # An adjacent pair of top features is resolved when every run orders it as the reference does and
        # the reference difference exceeds two standard errors of the shuffles: otherwise the two tie.
        reference = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])
        se = reference["std"] / math.sqrt(params["repeats"])
        tied = [(a, b) for a, b in zip(top, top[1:])
                if not (np.all(runs[:, a] > runs[:, b]) and ref[a] - ref[b] > 2 * math.hypot(se[a], se[b]))]
        ties = tie_groups(ref, runs, top, margin=params["tie_margin"])
        # A pair shown equal (one tie group) is resolved too: the data settle that they matter alike.
        group_of_feature = {i: g for g, members in enumerate(ties) for i in members}
        unresolved = [(a, b) for a, b in tied if group_of_feature.get(a) != group_of_feature.get(b)]
        metrics = {
            "top_k_overlap": Metric(float(np.mean(overlaps)), description=f"mean Jaccard overlap of each run's top {k} with the reference's"),
            "rank_resolution": Metric(1 - len(unresolved) / (k - 1) if k >= 2 else None,
                                      description="share of adjacent top-feature pairs whose order the data resolve, or "
                                                  "that the data show to be equally important"),
            "sign_stability": Metric(sign, description="smallest share of runs in which a top feature's importance is above zero"),
        }
        equal = [g for g in ties if len(g) > 1]
        taus = _kendall_pairs(runs, ties) if k >= 2 else []
        if taus:
            metrics["rank_agreement"] = Metric(float(np.mean(taus)), description=(
                f"mean Kendall's tau-b between runs over the top {k} features, features tied within "
                f"{wording.share(params['tie_margin'])} of each other coarsened into one rank"))
            metrics["rank_agreement_min"] = Metric(float(np.min(taus)), description="smallest Kendall's tau-b between two runs")
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        boot = shap_bootstrap(sv["values"], resamples=params["runs"], seed=ctx.seed_for(self.id))
        imp_shap = shap_importance(sv["values"])
        shap_top = top_features(imp_shap, features, top_k=params["top_k"], min_share=params["min_share"])
        if len(shap_top) >= 2:
            shap_ties = tie_groups(imp_shap, boot, shap_top, margin=params["tie_margin"])
            metrics["shap_rank_agreement"] = Metric(float(np.mean(_kendall_pairs(boot, shap_ties))),
                                                    description="mean Kendall's tau-b of SHAP's top features between bootstrap resamples "
                                                                "of the explained rows, tie groups coarsened")
        unstable = [i for i in top if ranks[:, i].max() != ranks[:, i].min() or any(i in pair for pair in tied)]
        groups = correlated_groups(ctx, rows=params["rows"], min_corr=params["min_corr"])["groups"]
        # Near-copies tie because the model spreads one signal over them: their order is chance by
        # construction. Two uncorrelated features that tie merely matter about equally (a warning).
        metrics["correlated_ties"] = Metric(
            sum(1 for a, b in tied if (g := group_of(groups, features[a])) and features[b] in g),
            description=f"adjacent top-feature pairs that tie and correlate at |Spearman| >= {params['min_corr']}")
        involved = []
        for i in unstable:
            g = group_of(groups, features[i])
            if g and g not in involved:
                involved.append(g)
        tau_text = f"mean Kendall's tau {metrics['rank_agreement'].value:.2f}, " if taus else ""
        summary = (f"Over {len(runs)} bootstrap resamples of {len(y)} test rows, each with its own seed, the top "
                   f"{wording.count(k, 'feature')} ({_names(features, top)}) agree with {tau_text}"
                   f"top-{k} overlap {metrics['top_k_overlap'].value:.2f}; "
                   f"{wording.count(len(tied), 'adjacent pair')} of them tie.")
        if equal:
            summary += (" Equally important within the resamples' noise (the 95% interval of their difference lies within "
                        f"{wording.share(params['tie_margin'])} of the larger importance), so their order is not counted as "
                        "disagreement: " + "; ".join("{" + _names(features, g) + "}" for g in equal) + ".")
        if unstable:
            summary += (f" {wording.count(len(unstable), 'top feature')} change rank between runs or tie within the "
                        f"shuffles' noise: {_names(features, unstable)}.")
        if involved:
            summary += " Strongly correlated features among them (importance moves between near-copies): " + "; ".join(
                "{" + ", ".join(g) + "}" for g in involved) + "."
        rows = []
        shown = top + [i for i in np.argsort(-ref, kind="stable") if i not in top][: max(0, MAX_SHOWN - k)]
        for i in shown:
            g = group_of(groups, features[i])
            tie = next((t for t in equal if i in t), [])
            rows.append([features[i], int(ref_ranks[i]), f"{int(ranks[:, i].min())}-{int(ranks[:, i].max())}",
                         float(np.mean([i in top_features(r, features, top_k=k, min_share=0.0) for r in runs])),
                         float(np.mean(runs[:, i] > 0)), ", ".join(x for x in g if x != features[i]) if g else "",
                         _names(features, [j for j in tie if j != i])])
        from auditor.toolkit.figures import interval_chart

        figure = interval_chart(
            "Rank of each feature across resamples",
            [(features[i], float(np.median(ranks[:, i])), float(ranks[:, i].min()), float(ranks[:, i].max())) for i in shown[:MAX_SHOWN]],
            "rank (1 = most important)",
            f"Dot: median rank over {len(runs)} bootstrap resamples with their own seeds; bar: lowest to highest rank. "
            "A long bar means the feature's place in the ranking is not determined by the data.",
        )
        recommendation = "The ranking is stable enough to read." if not unstable else (
            "Do not read an order into features whose rank moves. " + (
                "Group the correlated features (" + "; ".join(", ".join(g) for g in involved) + ") and report their joint "
                "importance, or keep one of each group and refit." if involved else
                "Explain on more rows (rows), or report features whose intervals overlap as tied."))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=[figure], recommendation=recommendation,
            evidence=[Evidence(
                title="Rank of each feature across resamples",
                columns=["feature", "reference rank", "rank range", f"share of runs in top {k}", "share of runs above zero",
                         "strongly correlated with", "equally important as (tie group)"],
                rows=rows,
                note=f"Permutation importance, {params['repeats']} shuffles per column per run; top features: reference top "
                     f"{params['top_k']} with at least {wording.share(params['min_share'])} of the top importance.",
            )],
        )
