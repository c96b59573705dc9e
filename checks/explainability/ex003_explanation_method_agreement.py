"""EX003 explanation-method-agreement: whether permutation importance and SHAP name the same features."""

from __future__ import annotations

import math

import numpy as np

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    BACKGROUND,
    FAMILY,
    MAX_SHOWN,
    MIN_SHARE,
    REPEATS,
    ROWS,
    SHAP_ROWS,
    TOP_K,
    _names,
    _test_sample,
    permutation,
    top_features,
)
from ._shap import (
    shap_importance,
    shap_values,
)


class MethodAgreement(Check):
    """Agreement between permutation importance and SHAP

    What it checks:
        Whether the two importance methods name the same leading features. Each method's
        importances are turned into shares of its total (permutation importance clipped at
        zero). Judged: ``top_k_overlap``, the Jaccard overlap of the two methods' top k
        features, where k is the smaller of the two methods' counts of top features (at
        most ``top_k``, each with at least ``min_share`` of its method's top importance):
        warn below 0.6, fail below 0.34; and ``max_share_gap``, the largest difference
        between the two shares of one feature: warn above 0.25, fail above 0.4. The
        Spearman correlation of the two rankings over all features is reported.

    Why it matters:
        The methods answer different questions: SHAP how much the model's output moves with
        a feature, permutation importance how much its performance depends on it. A feature
        that moves the output a lot but carries no information about the target (a noise
        input the model reacts to, a shortcut that fails on the test rows) shows up only in
        SHAP; disagreement is a finding, not a rounding error, and one method alone would
        hide it.

    How to fix:
        Look at the features involved. A feature with high SHAP and no permutation
        importance is one the model reacts to without benefit: constrain or remove it and
        refit. A feature with permutation importance and little SHAP often has correlated
        partners sharing its credit (see EX004).

    References:
        Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS.
        Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful, JMLR 20.
        Krishna et al. (2022), The disagreement problem in explainable machine learning,
        arXiv:2202.01602.
    """

    id = "EX003"
    name = "explanation-method-agreement"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "shap_rows": SHAP_ROWS, "background": BACKGROUND, "top_k": TOP_K,
              "min_share": MIN_SHARE}
    thresholds = {
        "top_k_overlap": Threshold(direction="below", warn=0.6, fail=0.34, low=0, high=1,
                                   help="Jaccard overlap of the top features named by permutation importance and by SHAP"),
        "max_share_gap": Threshold(direction="above", warn=0.25, fail=0.4, low=0, high=1,
                                   help="largest difference between a feature's share of importance under the two methods"),
    }
    practices = ("P5.2", "P5.4")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Lundberg & Lee (2017), NeurIPS",
        "Krishna et al. (2022), The disagreement problem in explainable machine learning, arXiv:2202.01602",
    )

    def run(self, ctx, params):
        from scipy.stats import spearmanr

        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features = list(ctx.features)
        perm = np.clip(permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"], 0, None)
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        shap_imp = shap_importance(sv["values"])
        if perm.sum() <= 0 or shap_imp.sum() <= 0:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: one of the methods finds no importance at all, so there is nothing to compare.")
        p_share, s_share = perm / perm.sum(), shap_imp / shap_imp.sum()
        p_top = top_features(perm, features, top_k=params["top_k"], min_share=params["min_share"])
        s_top = top_features(shap_imp, features, top_k=params["top_k"], min_share=params["min_share"])
        # Compare sets of one size: the number of features both methods count among the top ones, so that
        # a feature just above the cut for one method and just below it for the other is not a disagreement.
        k = max(1, min(len(p_top), len(s_top)))
        p_top = [int(i) for i in np.argsort(-perm, kind="stable")[:k]]
        s_top = [int(i) for i in np.argsort(-shap_imp, kind="stable")[:k]]
        overlap = len(set(p_top) & set(s_top)) / len(set(p_top) | set(s_top))
        gap = np.abs(p_share - s_share)
        worst = int(np.argmax(gap))
        rho = spearmanr(perm, shap_imp).statistic if len(features) > 2 else None
        metrics = {
            "top_k_overlap": Metric(overlap, description=f"Jaccard overlap of the two methods' top {k} features"),
            "max_share_gap": Metric(float(gap[worst]), description=f"largest share difference (feature {features[worst]})"),
            "rank_correlation": Metric(None if rho is None or math.isnan(rho) else float(rho),
                                       description="Spearman correlation of the two methods' importances over all features"),
        }
        only_p = [i for i in p_top if i not in s_top]
        only_s = [i for i in s_top if i not in p_top]
        summary = (f"Permutation importance names {_names(features, p_top)}; SHAP ({sv['method']} explainer) names "
                   f"{_names(features, s_top)}: overlap {overlap:.2f}. The largest disagreement is {features[worst]} "
                   f"({wording.share(p_share[worst])} of permutation importance, {wording.share(s_share[worst])} of SHAP).")
        if only_s:
            them = "it" if len(only_s) == 1 else "them"
            summary += (f" Only SHAP ranks {_names(features, only_s)} at the top: the model's output moves with {them} "
                        f"more than its score depends on {them}.")
        if only_p:
            summary += f" Only permutation importance ranks {_names(features, only_p)} at the top."
        order = [int(i) for i in np.argsort(-np.maximum(p_share, s_share), kind="stable")][:MAX_SHOWN]
        from auditor.toolkit.figures import paired_dot_chart

        figure = paired_dot_chart(
            "Share of importance by method",
            [(features[i], float(p_share[i]), float(s_share[i])) for i in order],
            ("permutation", "SHAP"), "share of the method's total importance",
            "Each feature's share of the total importance under permutation importance (circles) and mean |SHAP| "
            "(squares); a long line is a disagreement between the methods.",
        )
        involved = sorted(set(only_p + only_s + ([worst] if gap[worst] > self.thresholds["max_share_gap"].warn else [])))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=[figure],
            evidence=[Evidence(
                title="Importance shares by method",
                columns=["feature", "permutation share", "SHAP share", "difference", "top by permutation", "top by SHAP"],
                rows=[[features[i], float(p_share[i]), float(s_share[i]), float(s_share[i] - p_share[i]),
                       "yes" if i in p_top else "", "yes" if i in s_top else ""] for i in order],
                note=f"Permutation importance on {len(y)} test rows; SHAP on {len(sv['rows'])} rows ({sv['description']}).",
            )],
            recommendation=("The methods agree." if not involved else
                            f"Look at {_names(features, involved)}: a feature with high SHAP and little permutation importance "
                            "moves the output without helping the score (constrain or remove it); one with the reverse often "
                            "shares its credit with correlated features (EX004)."),
        )
