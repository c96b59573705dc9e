"""EX004 correlated-feature-groups: groups of near-copies that trade importance between them."""

from __future__ import annotations

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    BACKGROUND,
    FAMILY,
    MIN_CORR,
    REPEATS,
    ROWS,
    SHAP_ROWS,
    _model_problem,
    _sample,
    _skip,
    correlated_groups,
    permutation,
)
from ._shap import (
    shap_importance,
    shap_values,
)


class CorrelatedFeatureGroups(Check):
    """Correlated feature groups that make importance unstable

    What it checks:
        Groups of strongly correlated numeric input features: hierarchical clustering
        (scipy.cluster.hierarchy, average linkage) on the distance 1 - |Spearman
        correlation| over the test sample, cut at ``min_corr``. The judged metric
        ``correlated_importance_share`` is the share of the model's total mean |SHAP| carried
        by features that sit in such a group: warn above 0.10, fail above 0.25. Each group
        is listed with its smallest pairwise |correlation| and its importance under both
        methods. Categorical columns have no rank order and are not clustered (they are
        named in the result).

    Why it matters:
        Near-copies of a feature share its importance in ways that change with the seed
        and the resample: permutation importance understates each (the model still sees
        the copy), SHAP splits the credit arbitrarily. The group is the likely reason an
        importance ranking moves (EX002), and reading any one member's importance alone is
        misleading.

    How to fix:
        Group the correlated features: report (and, for permutation importance, shuffle)
        them together, or keep one of each group and refit. Combine them into one feature
        where they measure the same thing.

    References:
        Strobl et al. (2008), Conditional variable importance for random forests, BMC
        Bioinformatics 9.
        Hooker, Mentch & Zhou (2021), Unrestricted permutation forces extrapolation,
        Statistics and Computing 31.
        scikit-learn example, Permutation importance with multicollinear or correlated
        features.
    """

    id = "EX004"
    name = "correlated-feature-groups"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "low"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "shap_rows": SHAP_ROWS, "background": BACKGROUND, "min_corr": MIN_CORR}
    thresholds = {
        "correlated_importance_share": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=1,
                                                 help="share of total mean |SHAP| carried by features in a correlated group"),
    }
    practices = ("P1.6", "P5.4")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Strobl et al. (2008), BMC Bioinformatics 9",
        "Hooker, Mentch & Zhou (2021), Statistics and Computing 31",
        "https://scikit-learn.org/stable/auto_examples/inspection/plot_permutation_importance_multicollinear.html",
    )

    def run(self, ctx, params):
        X, _, sample = _sample(ctx, "test", params["rows"]) if ctx.has_labels("test") else (None, None, None)
        if X is None:
            return _skip(_model_problem(ctx))
        features = list(ctx.features)
        found = correlated_groups(ctx, rows=params["rows"], min_corr=params["min_corr"])
        if len(found["numeric"]) < 2:
            return Findings(status="skipped", sample=sample,
                            summary="Skipped: fewer than two numeric input columns, so no correlated group can form.")
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        shap_imp = shap_importance(sv["values"])
        perm = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"]
        total = shap_imp.sum()
        in_group = [features.index(f) for g in found["groups"] for f in g["features"]]
        share = float(shap_imp[in_group].sum() / total) if total > 0 else 0.0
        metrics = {
            "correlated_importance_share": Metric(share, description="share of total mean |SHAP| in correlated groups"),
            "groups": Metric(len(found["groups"]), description=f"groups of numeric features with |Spearman| of about {params['min_corr']} or more"),
        }
        rows = []
        for g in sorted(found["groups"], key=lambda g: -sum(shap_imp[features.index(f)] for f in g["features"])):
            idx = [features.index(f) for f in g["features"]]
            rows.append([", ".join(wording.shorten(f) for f in g["features"]), len(idx), g["min_abs_corr"],
                         float(shap_imp[idx].sum() / total) if total > 0 else 0.0, float(perm[idx].sum())])
        if found["groups"]:
            summary = (f"{wording.count(len(found['groups']), 'group')} of strongly correlated features "
                       f"(|Spearman| ≥ {params['min_corr']}): " + "; ".join("{" + r[0] + "}" for r in rows) +
                       f". They carry {wording.share(share)} of the model's SHAP importance; importance moves between "
                       "the members of a group from resample to resample, so no member's importance can be read alone.")
        else:
            summary = (f"No two of the {len(found['numeric'])} numeric features are correlated at |Spearman| ≥ "
                       f"{params['min_corr']}: among them, correlation does not explain away any importance.")
        if found["skipped"]:
            summary += (f" Not clustered (not numeric, or constant), so redundancy among them is not assessed here "
                        f"(DQ011 measures associations between categorical features): "
                        f"{', '.join(wording.shorten(c) for c in found['skipped'][:8])}.")
        figures = []
        if found["linkage"] is not None:
            from auditor.toolkit.figures import dendrogram_chart

            figures.append(dendrogram_chart(
                "Feature clusters by rank correlation", found["linkage"], found["numeric"], cut=1 - params["min_corr"],
                xlabel="1 - |Spearman correlation|",
                caption=(f"Average-linkage clustering of the numeric features on 1 - |Spearman correlation| over {sample['rows_used']} "
                         f"test rows; features joined between the dashed line and the labels (|correlation| ≥ {params['min_corr']}) form a group."),
            ))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=figures,
            evidence=[Evidence(title="Correlated groups",
                               columns=["features", "size", "smallest |Spearman|", "share of SHAP importance", "summed permutation importance"],
                               rows=rows)] if rows else [],
            recommendation=("No action needed." if not rows else
                            "Group each set of correlated features (report their joint importance, or keep one member and "
                            "refit); do not rank the members against each other."),
        )
