"""LK003: single features that predict the target almost perfectly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import bar_chart
from auditor.toolkit.stats import batched_metric, bootstrap_ci, encode_labels
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_attribute, lazy_module

from ._common import (
    MAX_ROWS,
    MISSING_LABEL,
    _as_float,
    _as_text,
    _classes,
    _common_features,
    _empty,
    _encoded_target,
    _is_datetime,
    _positive,
    _score_name,
    _single_feature_outputs,
    _single_feature_score,
    _single_feature_scores,
    _skip,
    _target_problem,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
stats = lazy_module("scipy.stats")
r2_score = lazy_attribute("sklearn.metrics", "r2_score")
roc_auc_score = lazy_attribute("sklearn.metrics", "roc_auc_score")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- LK003 ---------------------------------------------------------------------------
def _target_ordered_codes(train: pd.Series, test: pd.Series, t_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A categorical feature as the rank of each level's mean target in train; unseen levels NaN.

    Missing values are a level of their own. Ordering levels by their target mean lets a
    tree on one ordinal column split them as well as any grouping of levels (exactly so for
    binary and regression targets).
    """
    tr = _as_text(train).fillna(MISSING_LABEL).to_numpy(dtype=object)
    te = _as_text(test).fillna(MISSING_LABEL).to_numpy(dtype=object)
    labelled = ~np.isnan(t_train)
    means = pd.Series(t_train[labelled]).groupby(tr[labelled]).mean()
    order = means.rank(method="first")
    mapping = pd.Series(order.to_numpy(), index=order.index)
    return (
        pd.Series(tr).map(mapping).to_numpy(dtype="float64", na_value=np.nan),
        pd.Series(te).map(mapping).to_numpy(dtype="float64", na_value=np.nan),
    )


def _model_test_score(ctx: AuditContext, t_test_full: np.ndarray) -> float | None:
    """The model's own score on all labelled test rows, for comparison; None when unavailable."""
    if ctx.model is None:
        return None
    try:
        labelled = ~np.isnan(t_test_full)
        if ctx.task == "regression":
            pred = np.asarray(ctx.predictions("test"), dtype="float64")
            return float(r2_score(t_test_full[labelled], pred[labelled]))
        if ctx.task == "binary":
            score = ctx.scores("test")
            if score is None:
                classes = _classes(ctx, ctx.y("train"), ctx.y("test"))
                pred = encode_labels(np.asarray(ctx.predictions("test"), dtype=object), classes)
                score = (pred == classes.index(_positive(ctx, classes))).astype(float)
            return float(roc_auc_score(t_test_full[labelled] == 1, np.asarray(score, dtype=float)[labelled]))
        proba = ctx.probabilities("test")
        if proba is None:
            return None
        return _single_feature_score(t_test_full[labelled].astype(np.int64), proba[labelled], "multiclass")
    except Exception:  # the model is optional here: its failure is other checks' finding
        return None


class TargetLeakage(Check):
    """Single features that predict the target almost perfectly

    What it checks:
        For each model input, a shallow tree (``DecisionTreeClassifier`` or
        ``DecisionTreeRegressor``, depth ``max_depth``, at least ``min_samples_leaf``
        rows per leaf; regression on a complete numeric feature also fits an isotonic
        regression and keeps whichever of the two fits train better) is fitted on that feature alone, on a seeded sample of at most
        ``max_rows`` training rows, and scored on at most ``max_rows`` test rows: ROC AUC
        of the positive class for binary tasks, macro one-vs-rest ROC AUC for multiclass,
        R² for regression. Categorical features enter as the rank of each level's mean
        target in train (multiclass: mean class code); levels unseen in train and
        missing numbers are left missing for the tree to route. The metric
        ``max_single_feature_score`` is the highest score over the features; it warns
        above 0.95 and fails above 0.99. R² lives on the same scale (1 is a perfect fit,
        0 or below is no signal), so the same levels apply. The levels sit high because
        real data have honest single predictors near 0.95 (a tumour's radius for its
        malignancy: 0.957 on scikit-learn's breast cancer data, which the old levels of
        0.90 and 0.97 left undecided and so blocking at this severity); a feature that is
        the label in disguise scores near 1. The absolute Spearman
        correlation of each numeric feature with the target on train (binary: 1 for the
        positive label; not for multiclass) and the model's own test score, when the
        model's outputs are available, are reported for comparison.

    Why it matters:
        A feature that alone predicts the label almost perfectly is usually the label in
        disguise: recorded after the outcome (a refund date for fraud, a discharge code
        for a diagnosis), derived from it, or filled in by the same process. The model
        looks excellent in evaluation and fails in production, where the feature is not
        yet known when the prediction is made.

    How to fix:
        For each named feature, establish when its value becomes known relative to the
        moment of prediction. Drop features only known afterwards or derived from the
        target; rebuild any that were computed with the labels (target encodings fitted
        on all rows) inside cross-validation folds, then retrain and re-evaluate.

    References:
        P4.2 and P1.7 of the practices; Kaufman et al., "Leakage in data mining:
        formulation, detection, and avoidance", ACM TKDD 6(4), 2012; Kapoor & Narayanan,
        Patterns 4(9), 2023; scikit-learn ``DecisionTreeClassifier``, ``roc_auc_score``.
    """

    id = "LK003"
    name = "target-leakage"
    area = "leakage"
    severity = "critical"
    needs = frozenset({"train", "test"})
    params = {
        "max_rows": Param(default=20_000, kind="int", low=100, high=10_000_000, help="training rows and test rows used, each"),
        "max_depth": Param(default=4, kind="int", low=1, high=20, help="depth of each single-feature tree"),
        "min_samples_leaf": Param(default=20, kind="int", low=1, high=100_000, help="fewest training rows per leaf"),
        "n_resamples": Param(default=200, kind="int", low=0, high=10_000, help="bootstrap resamples for the best feature's interval (0: none)"),
    }
    thresholds = {
        "max_single_feature_score": Threshold(
            direction="above", warn=0.95, fail=0.99, low=0, high=1,
            help="best test ROC AUC (classification) or R² (regression) of a one-feature tree",
        )
    }
    practices = ("P4.2", "P1.7")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "Kapoor & Narayanan, Leakage and the reproducibility crisis in machine-learning-based science, Patterns 4(9), 2023",
        "https://scikit-learn.org/stable/modules/tree.html#missing-values-support",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        if not (ctx.has_labels("train") and ctx.has_labels("test")):
            return _skip("the training or test data has no target values.")
        cols = _common_features(ctx, "train", "test")
        if not cols:
            return _skip("train and test share no model input column.")
        seed = ctx.seed_for(self.id)
        tr_idx, tr_rec = ctx.sample_index("train", int(params["max_rows"]), check_id=self.id)
        te_idx, te_rec = ctx.sample_index("test", int(params["max_rows"]), check_id=self.id)
        sample = combine_samples({"train": tr_rec, "test": te_rec}, seed)
        train, test = ctx.frame("train").iloc[tr_idx], ctx.frame("test").iloc[te_idx]
        t_train_full, t_test_full, encoding, n_classes = _encoded_target(ctx, ctx.y("train"), ctx.y("test"))
        t_train, t_test = t_train_full[tr_idx], t_test_full[te_idx]
        if (problem := _target_problem(ctx, t_train, t_test)) is not None:
            return Findings(summary=f"Skipped: {problem}", status="skipped", sample=sample)

        encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        kinds: dict[str, str] = {}
        rhos: dict[str, float | None] = {}
        for col in cols:
            a, b = train[col], test[col]
            if (_is_numeric(a) or _is_datetime(a)) and (_is_numeric(b) or _is_datetime(b)):
                kinds[col] = "numeric"
                encoded[col] = (_as_float(a), _as_float(b))
                x, ok = encoded[col][0], ~np.isnan(encoded[col][0]) & ~np.isnan(t_train)
                rhos[col] = (
                    abs(float(stats.spearmanr(x[ok], t_train[ok]).statistic))
                    if ctx.task != "multiclass" and ok.sum() > 2 and np.ptp(x[ok]) > 0 and np.ptp(t_train[ok]) > 0
                    else None
                )
            else:
                kinds[col] = "categorical"
                encoded[col] = _target_ordered_codes(a, b, t_train)
                rhos[col] = None
        y_test, outputs = _single_feature_outputs(
            encoded, t_train, t_test, task=ctx.task, n_classes=n_classes, max_depth=int(params["max_depth"]),
            min_samples_leaf=int(params["min_samples_leaf"]), random_state=seed,
        )
        scores = _single_feature_scores(y_test, outputs, ctx.task)
        ranked = sorted((c for c in cols if scores[c] is not None), key=lambda c: -scores[c])
        best = scores[ranked[0]] if ranked else None
        low = high = None
        if ranked and int(params["n_resamples"]):
            task = ctx.task

            def best_score(y, out):
                return _single_feature_score(y, out, task)

            # the same score on every resample at once where it has a batched form
            # (binary: the AUC of code 1; regression: R²)
            best_score.batched = (None if task == "multiclass" else  # type: ignore[attr-defined]
                                  batched_metric("roc_auc" if task == "binary" else "r2", task=task, positive_label=1))
            _, low, high = bootstrap_ci(
                best_score, y_test, outputs[ranked[0]],
                n_resamples=int(params["n_resamples"]), random_state=seed,
            )
        model_score = _model_test_score(ctx, t_test_full)
        score_name = _score_name(ctx.task)

        rows = [
            [c, kinds[c], round(scores[c], 4), round(rhos[c], 4) if rhos[c] is not None else "—"]
            for c in ranked[:MAX_ROWS]
        ]
        unscored = [c for c in cols if scores[c] is None]
        notes = [f"Single-feature tree (depth {params['max_depth']}) fitted on train, scored on test; target encoded as {encoding}."]
        if unscored:
            notes.append(f"{len(unscored)} features are empty in train and were not scored.")
        if len(ranked) > MAX_ROWS:
            notes.append(f"{len(ranked) - MAX_ROWS} weaker features not shown.")
        evidence = [Evidence(
            title=f"Strongest single features (test {score_name})",
            columns=["feature", "kind", f"test {score_name}", "|Spearman| with target (train)"],
            rows=rows,
            note=" ".join(notes),
        )]
        if model_score is not None:
            evidence.append(Evidence(
                title="The model's own test score, for comparison",
                columns=["model", f"test {score_name}"],
                rows=[["full model, all inputs", round(model_score, 4)]],
                note="A single feature scoring close to or above the full model carries most of what the model knows.",
            ))
        figures = [bar_chart(
            "Single-feature test scores",
            ranked[:12],
            {f"test {score_name}": [max(0.0, scores[c]) for c in ranked[:12]]},
            f"test {score_name} of a one-feature tree",
            "Each bar is a shallow tree fitted on one feature alone; a bar near 1 is a feature that predicts the target by itself.",
        )] if ranked else []
        top = ", ".join(f"{c!r} ({scores[c]:.3f})" for c in ranked[:3])
        summary = (
            f"Fitted a one-feature tree per input on {len(tr_idx)} training rows and scored it on {len(te_idx)} test "
            f"rows: the strongest single features by test {score_name} are {top}"
            + (f", against {model_score:.3f} for the full model." if model_score is not None else ".")
            if ranked
            else f"Could not score any of {len(cols)} features: every one is empty in the training sample."
        )
        metrics = {
            "max_single_feature_score": Metric(
                best, low, high, description=f"best test {score_name} of a one-feature tree (95% bootstrap interval over test rows)"
            ),
            "features_scored": Metric(len(ranked), description="features with a single-feature score"),
        }
        if model_score is not None:
            metrics["model_test_score"] = Metric(model_score, description=f"the model's own test {score_name}")
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=figures,
            recommendation=(
                f"Establish when {ranked[0]!r} becomes known relative to the prediction; drop it if it is recorded "
                "after the outcome or derived from the target, and rebuild target-derived encodings inside CV folds."
                if ranked
                else "Nothing to check."
            ),
            sample=sample,
        )
