"""Shared statistics glue: task metrics and their bootstrap confidence intervals.

The mathematics is scikit-learn's (metrics) and SciPy's (``scipy.stats.bootstrap``);
this module only chooses the metrics for a task and wires them together, so every
check reports intervals the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from auditor.lazy import lazy_module

np = lazy_module("numpy")
sklearn = lazy_module("sklearn")
stats = lazy_module("scipy.stats")
skm = lazy_module("sklearn.metrics")


CIMethod = Literal["percentile", "basic", "BCa"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    higher_is_better: bool
    needs_scores: bool
    description: str


CLASSIFICATION_METRICS = (
    MetricSpec("accuracy", True, False, "share of correct predictions"),
    MetricSpec("balanced_accuracy", True, False, "mean recall over classes"),
    MetricSpec("f1", True, False, "F1 of the positive class (binary) or macro F1 (multiclass)"),
    MetricSpec("roc_auc", True, True, "area under the ROC curve (one-vs-rest macro for multiclass)"),
    MetricSpec("log_loss", False, True, "cross-entropy of the predicted probabilities"),
)
REGRESSION_METRICS = (
    MetricSpec("rmse", False, False, "root mean squared error"),
    MetricSpec("mae", False, False, "mean absolute error"),
    MetricSpec("r2", True, False, "coefficient of determination"),
)


def encode_labels(values: np.ndarray, classes: list) -> np.ndarray:
    """Class labels as integer codes (their index in ``classes``; -1 for an unknown label).

    scikit-learn's metrics are many times faster on small integers than on strings,
    which matters when a metric is recomputed on hundreds of bootstrap resamples.
    """
    lookup = {c: i for i, c in enumerate(classes)}
    lookup.update({str(c): i for i, c in enumerate(classes)})
    return np.fromiter((lookup.get(v, lookup.get(str(v), -1)) for v in values), dtype=np.int64, count=len(values))


def metric_specs(task: str, *, has_scores: bool) -> list[MetricSpec]:
    specs = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    return [s for s in specs if has_scores or not s.needs_scores]


def metric_function(
    name: str, *, task: str, positive_label=None, classes: list | None = None
) -> Callable[[np.ndarray, np.ndarray], float]:
    """``f(y_true, y_out) -> float`` where ``y_out`` is labels, scores or probabilities as the metric needs."""
    binary = task == "binary"
    if name == "accuracy":
        return skm.accuracy_score
    if name == "balanced_accuracy":
        return skm.balanced_accuracy_score
    if name == "f1":
        if binary:
            return lambda y, p: skm.f1_score(y, p, pos_label=positive_label, zero_division=0)
        return lambda y, p: skm.f1_score(y, p, average="macro", zero_division=0)
    if name == "roc_auc":
        if binary:
            return lambda y, s: skm.roc_auc_score(y == positive_label, s)
        return lambda y, proba: skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    if name == "log_loss":
        if binary:
            return lambda y, s: skm.log_loss(y == positive_label, np.clip(s, 1e-15, 1 - 1e-15), labels=[False, True])
        return lambda y, proba: skm.log_loss(y, proba, labels=classes)
    if name == "rmse":
        return lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p)))
    if name == "mae":
        return skm.mean_absolute_error
    if name == "r2":
        return skm.r2_score
    raise ValueError(f"unknown metric {name!r}")


def bootstrap_ci(
    fn: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    y_out: np.ndarray,
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    method: CIMethod = "percentile",
    random_state: int = 0,
    strata: np.ndarray | None = None,
) -> tuple[float, float | None, float | None]:
    """The metric on all rows and a paired bootstrap interval over rows (``scipy.stats.bootstrap``).

    With ``strata`` (for classification, the labels) each resample draws the same number
    of rows from every stratum as the data hold, so no resample loses a class; SciPy's
    bootstrap cannot stratify, so those resamples are drawn here and the interval is the
    percentile interval of the resampled statistic.

    Returns ``(estimate, low, high)``; the interval is ``None`` where the metric is
    undefined on resamples (for example one class only) or the data are too few.
    """
    y_true = np.asarray(y_true)
    y_out = np.asarray(y_out)
    estimate = float(fn(y_true, y_out))
    if len(y_true) < 10:
        return estimate, None, None
    if strata is not None:
        return (estimate, *_stratified_percentile(fn, y_true, y_out, np.asarray(strata), n_resamples=n_resamples,
                                                  confidence=confidence, random_state=random_state))
    index = np.arange(len(y_true))

    def statistic(idx):
        idx = idx.astype(int)
        try:
            return float(fn(y_true[idx], y_out[idx]))
        except ValueError:  # a resample with one class has no AUC
            return np.nan

    # Inputs were validated once above; skipping scikit-learn's per-call validation
    # makes hundreds of resamples several times cheaper.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        res = stats.bootstrap(
            (index,),
            statistic,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method=method,
            vectorized=False,
            random_state=np.random.default_rng(random_state),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return estimate, None, None
    return estimate, low, high


def _stratified_percentile(fn, y_true, y_out, strata, *, n_resamples: int, confidence: float, random_state: int):
    rng = np.random.default_rng(random_state)
    groups = [np.flatnonzero(strata == v) for v in np.unique(strata)]
    values = np.empty(n_resamples)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for b in range(n_resamples):
            idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
            try:
                values[b] = fn(y_true[idx], y_out[idx])
            except ValueError:
                values[b] = np.nan
    values = values[np.isfinite(values)]
    if len(values) < n_resamples // 2:
        return None, None
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)
