"""EX001 global-importance: which inputs the model relies on, by permutation importance and SHAP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    BACKGROUND,
    FAMILY,
    MAX_SHOWN,
    REPEATS,
    ROWS,
    RUNS,
    SHAP_ROWS,
    _names,
    _score_name,
    _test_sample,
    permutation,
    stability_runs,
)
from ._shap import (
    shap_bootstrap,
    shap_importance,
    shap_values,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def _native_importances(ctx: AuditContext) -> tuple[list[str], np.ndarray, str] | None:
    """The model's own importances (feature_importances_ or |coef_|), with their feature names."""
    est = getattr(ctx.model, "estimator", None)
    steps = getattr(est, "steps", None)
    final = steps[-1][1] if steps else est
    own = ctx.model.own_importances() if final is None else None  # a booster read from its file
    if final is None and own is None:
        return None
    if own is not None:
        values, what = np.asarray(own[0], dtype=float), own[1]
    elif hasattr(final, "feature_importances_"):
        values, what = np.asarray(final.feature_importances_, dtype=float), "feature_importances_"
    elif hasattr(final, "coef_"):
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=float))
        values, what = np.abs(coef).sum(axis=0), "|coef_| (on the model's own input scale)"
    else:
        return None
    names: list[str] | None = None
    if steps and len(steps) > 1:
        try:
            names = [str(n) for n in est[:-1].get_feature_names_out()]
        except Exception:
            names = None
    elif len(values) == len(ctx.features):
        names = list(ctx.features)
    if names is None or len(names) != len(values):
        names = [f"input {i}" for i in range(len(values))]
    return names, values, what


def _importance_figure(features, perm, perm_low, perm_high, shap_imp, shap_low, shap_high, *, score, units, caption):
    from auditor.toolkit.figures import importance_panels

    order = [int(i) for i in np.argsort(-perm, kind="stable")][:MAX_SHOWN]
    panels = [
        {"name": "Permutation importance", "xlabel": f"drop in {wording.metric_label(score)}",
         "values": [perm[i] for i in order], "low": [perm_low[i] for i in order], "high": [perm_high[i] for i in order]},
    ]
    if shap_imp is not None:
        panels.append({"name": "SHAP", "xlabel": f"mean |SHAP| ({units})", "values": [shap_imp[i] for i in order],
                       "low": [shap_low[i] for i in order], "high": [shap_high[i] for i in order]})
    return importance_panels("Global feature importance", [features[i] for i in order], panels, caption=caption)


class GlobalImportance(Check):
    """Global feature importance, two ways

    What it checks:
        Which inputs the model relies on, measured two ways on a seeded sample of the test
        rows (``rows``): permutation importance of each input column (as scikit-learn's
        permutation_importance measures it: the drop of ROC AUC for binary models with
        probabilities, of balanced accuracy for other classifiers, of R² for regression,
        when the column is shuffled, ``repeats`` times; a column's shuffled copies go to
        the model together, and for a pipeline that encodes each column on its own the
        sample is encoded once and the column's encoded columns are shuffled, which feeds
        the final estimator the same inputs) and the mean absolute SHAP value on
        ``shap_rows`` rows: shap's TreeExplainer for a tree model, on the raw columns or
        through such a column-wise encoding (each input's attributions summed over its
        encoded columns), provided its attributions add up to the model's output on probe
        rows; otherwise the model-agnostic Permutation explainer over the raw input
        columns against ``background`` training rows. The model's own importances
        (``feature_importances_`` or ``coef_``) are listed where it has them, in its own
        feature space. Each importance carries a 95% interval: permutation importance over
        ``runs`` bootstrap resamples of the test sample, SHAP over bootstrap resamples of
        the explained rows.

        The judged metric is ``top_feature_share``, the top feature's share of the summed
        positive permutation importance (interval over the resamples): warn above 0.75,
        fail above 0.90.

    Why it matters:
        A reviewer reads an importance chart as what the model has learned. When one input
        carries nearly all of the model's performance, the model is a one-feature rule: a
        shortcut, a leaked label, or a proxy that will stop working when that input changes
        meaning. Two methods side by side, with their uncertainty, keep a single method's
        quirks from being read as fact.

    How to fix:
        Find out why one feature dominates: check it for leakage (is it known at prediction
        time?), for a proxy of the target or of a sensitive attribute, and for a data error.
        If it is legitimate, document the dependence and monitor that input closely.

    References:
        Breiman (2001), Random forests, Machine Learning 45 (permutation importance).
        Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS.
        Molnar, Interpretable Machine Learning, chapters on permutation feature importance
        and SHAP.
        scikit-learn user guide, Permutation feature importance.
    """

    id = "EX001"
    name = "global-importance"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "runs": RUNS, "shap_rows": SHAP_ROWS, "background": BACKGROUND}
    thresholds = {
        "top_feature_share": Threshold(direction="above", warn=0.75, fail=0.90, low=0, high=1,
                                       help="the top feature's share of the summed positive permutation importance"),
    }
    practices = ("P5.1", "P5.3", "P5.4")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Breiman (2001), Random forests, Machine Learning 45",
        "Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx, params):
        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features, score = list(ctx.features), _score_name(ctx)
        ref = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])
        runs = stability_runs(ctx, rows=params["rows"], repeats=params["repeats"], runs=params["runs"])
        perm = ref["mean"]
        # Normal intervals around the estimate with the bootstrap runs' standard error: percentiles
        # of a handful of resamples are no 95% interval, and they need not even contain the estimate.
        spread = 1.96 * runs.std(axis=0, ddof=1)
        low, high = perm - spread, perm + spread
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        imp_shap = shap_importance(sv["values"])
        boot = shap_bootstrap(sv["values"], resamples=200, seed=ctx.seed_for(self.id))
        s_low, s_high = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)

        def top_share(values: np.ndarray) -> float | None:
            positive = np.clip(values, 0, None)
            return float(positive.max() / positive.sum()) if positive.sum() > 0 else None

        share = top_share(perm)
        run_shares = [s for s in (top_share(r) for r in runs) if s is not None]
        share_low = share_high = None
        if share is not None and len(run_shares) >= 3:
            share_spread = 1.96 * float(np.std(run_shares, ddof=1))
            share_low, share_high = max(0.0, share - share_spread), min(1.0, share + share_spread)
        order = [int(i) for i in np.argsort(-perm, kind="stable")]
        above_zero = int(np.sum(low > 0))
        metrics = {
            "top_feature_share": Metric(share, None if share_low is None else float(share_low),
                                        None if share_high is None else float(share_high),
                                        description="top feature's share of the summed positive permutation importance"),
            "baseline_score": Metric(ref["baseline"], description=f"the model's {wording.metric_label(score)} on the sample"),
            "features_above_zero": Metric(above_zero, description="features whose permutation-importance interval lies above zero"),
        }
        shap_order = [int(i) for i in np.argsort(-imp_shap, kind="stable")]
        top = features[order[0]]
        if share is None:
            summary = (f"No input column lowers the model's {wording.metric_label(score)} when shuffled on "
                       f"{len(y)} test rows: the model's performance does not rest on any single input.")
        else:
            summary = (f"On {len(y)} test rows the model relies most on {top}: shuffling it lowers "
                       f"{wording.metric_label(score)} by {perm[order[0]]:.3f}, {wording.share(share)} of the summed "
                       f"permutation importance. SHAP ({sv['method']} explainer, {len(sv['rows'])} rows) ranks "
                       f"{_names(features, shap_order[:3])} first; "
                       f"{wording.count(above_zero, 'feature')} {'has' if above_zero == 1 else 'have'} an importance interval above zero.")
        rows = []
        shap_rank = {f: r + 1 for r, f in enumerate(shap_order)}
        for rank, i in enumerate(order[:MAX_SHOWN], start=1):
            rows.append([rank, features[i], perm[i], f"{low[i]:.4f} to {high[i]:.4f}", imp_shap[i],
                         f"{s_low[i]:.4f} to {s_high[i]:.4f}", shap_rank[i]])
        evidence = [Evidence(
            title="Importance by feature",
            columns=["rank", "feature", f"permutation ({wording.metric_label(score)} drop)", "95% interval",
                     f"mean |SHAP| ({sv['units']})", "95% interval", "SHAP rank"],
            rows=rows,
            note=(f"Permutation importance: {params['repeats']} shuffles per column; 95% intervals: the estimate ± 1.96 "
                  f"standard errors from {params['runs']} bootstrap resamples of the test sample. SHAP: {sv['description']}."),
        )]
        native = _native_importances(ctx)
        if native is not None:
            names, values, what = native
            best = np.argsort(-values, kind="stable")[:MAX_SHOWN]
            evidence.append(Evidence(
                title="The model's own importances", columns=["feature (model's space)", what],
                rows=[[wording.shorten(names[i]), float(values[i])] for i in best],
                note="In the model's own feature space (after its preprocessing); not comparable with the raw-column "
                     "importances above where a pipeline transforms the inputs.",
            ))
        figure = _importance_figure(features, perm, low, high, imp_shap, s_low, s_high, score=score, units=sv["units"],
                                    caption=("Left: drop in the model's score when a column is shuffled (dot: all test "
                                             "sample rows; bar: ± 1.96 bootstrap standard errors). Right: mean "
                                             "absolute SHAP value with a 95% bootstrap interval over the explained rows. "
                                             "Features in order of permutation importance."))
        return Findings(
            summary=summary, metrics=metrics, evidence=evidence, figures=[figure], sample=sample,
            recommendation=(f"If {top} carries nearly all of the importance, check it for leakage and for a proxy of the "
                            "target before trusting the model; otherwise read the ranking together with its intervals."),
        )
