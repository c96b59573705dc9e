"""Shared statistics glue: task metrics and their bootstrap confidence intervals.

The mathematics is scikit-learn's (metrics) and SciPy's (``scipy.stats.bootstrap``);
this module only chooses the metrics for a task and wires them together, so every
check reports intervals the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from auditor.util.lazy import lazy_module

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
    import pandas as pd

    lookup = {c: i for i, c in enumerate(classes)}
    lookup.update({str(c): i for i, c in enumerate(classes)})
    # Look up each distinct value once (pandas' hash factorisation, missing values
    # included) rather than every row: the same codes, a linear pass in C.
    inverse, distinct = pd.factorize(np.asarray(values).ravel(), use_na_sentinel=False)
    codes = np.fromiter((lookup.get(v, lookup.get(str(v), -1)) for v in distinct), dtype=np.int64, count=len(distinct))
    return codes[inverse] if len(codes) else np.zeros(0, dtype=np.int64)


#: Metrics that read the scores as probabilities (a ranking score only serves the others).
PROBABILITY_METRICS = frozenset({"log_loss"})


def metric_specs(task: str, *, has_scores: bool, probabilities: bool = True) -> list[MetricSpec]:
    specs = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    return [s for s in specs if (has_scores or not s.needs_scores) and (probabilities or s.name not in PROBABILITY_METRICS)]


def metric_function(
    name: str, *, task: str, positive_label=None, classes: list | None = None
) -> Callable[[np.ndarray, np.ndarray], float]:
    """``f(y_true, y_out) -> float`` where ``y_out`` is labels, scores or probabilities as the metric needs.

    Where the metric has one, ``f.batched`` computes it on many bootstrap resamples at
    once (see :func:`batched_metric`); :func:`bootstrap_ci` uses it.
    """
    fn = _metric_function(name, task=task, positive_label=positive_label, classes=classes)

    def metric(y_true: np.ndarray, y_out: np.ndarray) -> float:
        return fn(y_true, y_out)

    metric.__name__ = metric.__qualname__ = name
    metric.batched = batched_metric(name, task=task, positive_label=positive_label)  # type: ignore[attr-defined]
    return metric


def _metric_function(name: str, *, task: str, positive_label=None, classes: list | None = None):
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


def batched_metric(name: str, *, task: str, positive_label=None) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """The metric on a batch of resamples: ``y`` and ``out`` of shape (resamples, rows) in,
    one value per resample out (NaN where the metric is undefined, as for an AUC on one
    class). The same definitions as scikit-learn's functions in :func:`metric_function`
    (the tests compare them), written over an axis so that hundreds of resamples cost one
    array operation instead of hundreds of calls. None for a metric without this form
    (multiclass F1, AUC and log loss): it is then computed resample by resample.
    """
    binary = task == "binary"
    if name == "accuracy":
        return lambda y, p: (y == p).mean(axis=-1)
    if name == "balanced_accuracy":
        def balanced(y, p):
            recalls = []
            for c in np.unique(y):
                in_c = y == c
                n_c = in_c.sum(axis=-1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    recalls.append(np.where(n_c > 0, (in_c & (p == c)).sum(axis=-1) / n_c, np.nan))
            return np.nanmean(np.stack(recalls), axis=0)
        return balanced
    if name == "f1" and binary:
        def f1(y, p):
            true, said = y == positive_label, p == positive_label
            tp = (true & said).sum(axis=-1)
            wrong = (true ^ said).sum(axis=-1)
            denom = 2 * tp + wrong
            return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
        return f1
    if name == "roc_auc" and binary:
        def auc(y, s):  # the Mann-Whitney form: AUC = U / (n_pos * n_neg), ties counted half
            from scipy.stats import rankdata

            pos = y == positive_label
            n_pos = pos.sum(axis=-1)
            n_neg = pos.shape[-1] - n_pos
            ranks = rankdata(s, axis=-1)
            u = np.where(pos, ranks, 0.0).sum(axis=-1) - n_pos * (n_pos + 1) / 2
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where((n_pos > 0) & (n_neg > 0), u / (n_pos * n_neg), np.nan)
        return auc
    if name == "log_loss" and binary:
        def log_loss(y, s):
            s = np.clip(s, 1e-15, 1 - 1e-15)
            return -np.where(y == positive_label, np.log(s), np.log1p(-s)).mean(axis=-1)
        return log_loss
    if name == "rmse":
        return lambda y, p: np.sqrt(((y - p) ** 2).mean(axis=-1))
    if name == "mae":
        return lambda y, p: np.abs(y - p).mean(axis=-1)
    if name == "r2":
        def r2(y, p):
            sse = ((y - p) ** 2).sum(axis=-1)
            sst = ((y - y.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                # scikit-learn's convention for constant targets: 1 when perfect, else 0
                return np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1), np.where(sse == 0, 1.0, 0.0))
        return r2
    return None


def weighted_auc_batched(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Binary ROC AUC of the same rows under many weightings at once: ``positive`` and
    ``score`` of shape (rows,), ``weights`` (weightings, rows); one AUC per weighting.

    For a bootstrap drawn as counts of distinct rows (a multinomial over cells), where each
    weighting is one resample: the Mann-Whitney form with weights, ties counted half,
    which is scikit-learn's ``roc_auc_score(..., sample_weight=w)`` (the tests compare
    them). NaN where a weighting leaves no positive or no negative weight.
    """
    order = np.argsort(score, kind="stable")
    score, positive, weights = score[order], np.asarray(positive, dtype=bool)[order], weights[:, order]
    starts = np.flatnonzero(np.r_[True, score[1:] != score[:-1]])  # the first row of each run of tied scores
    pos = np.add.reduceat(np.where(positive, weights, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, weights), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negative weight strictly below each score
    u = (pos * (below + 0.5 * neg)).sum(axis=1)
    p, n = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((p > 0) & (n > 0), u / (p * n), np.nan)


#: Most index entries one batch of bootstrap resamples may hold (int64: 8 bytes each, and a few
#: arrays of that shape while a batch is scored), so
#: that a million-row test set is resampled in slices rather than in one huge array.
BOOTSTRAP_BATCH_CELLS = 1_000_000


def bootstrap_batch_size(n_rows: int, n_resamples: int) -> int:
    return max(1, min(n_resamples, BOOTSTRAP_BATCH_CELLS // max(n_rows, 1)))


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
    batched = getattr(fn, "batched", None)

    def statistic(idx):
        idx = idx.astype(int)
        try:
            return float(fn(y_true[idx], y_out[idx]))
        except ValueError:  # a resample with one class has no AUC
            return np.nan

    def statistic_batched(idx, axis=-1):
        return batched(y_true[idx], y_out[idx])

    # Inputs were validated once above; skipping scikit-learn's per-call validation
    # makes hundreds of resamples several times cheaper. Resamples are drawn in batches
    # of bounded size, so memory does not grow with rows x resamples.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), \
            np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap(
            (index,),
            statistic if batched is None else statistic_batched,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method=method,
            vectorized=batched is not None,
            batch=bootstrap_batch_size(len(index), n_resamples),
            random_state=np.random.default_rng(random_state),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return estimate, None, None
    return estimate, low, high


def _stratified_percentile(fn, y_true, y_out, strata, *, n_resamples: int, confidence: float, random_state: int):
    rng = np.random.default_rng(random_state)
    groups = [np.flatnonzero(strata == v) for v in np.unique(strata)]
    batched = getattr(fn, "batched", None)
    values = np.empty(n_resamples)
    size = bootstrap_batch_size(len(y_true), n_resamples)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), \
            np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_resamples, size):
            b = min(size, n_resamples - start)
            # every resample draws as many rows from each stratum as the data hold
            idx = np.concatenate([g[rng.integers(0, len(g), size=(b, len(g)))] for g in groups], axis=1)
            if batched is not None:
                values[start:start + b] = batched(y_true[idx], y_out[idx])
                continue
            for k in range(b):
                try:
                    values[start + k] = fn(y_true[idx[k]], y_out[idx[k]])
                except ValueError:
                    values[start + k] = np.nan
    values = values[np.isfinite(values)]
    if len(values) < n_resamples // 2:
        return None, None
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


# -- exact intervals of proportions ----------------------------------------------------------

#: Below this many errors (or this many successes), counted on the effective number of rows,
#: a bootstrap of a proportion under-covers, and at none it collapses to a point ("1.000 to
#: 1.000" on 54 rows): the interval is then the exact one on the count. Five is the usual
#: rule of thumb for the normal approximation to the binomial (n p >= 5 and n (1 - p) >= 5).
EXACT_BELOW_COUNT = 5

ProportionMetric = Literal["accuracy", "balanced_accuracy"]


def effective_rows(y_true: np.ndarray, *, metric: ProportionMetric) -> float:
    """Kish's effective number of rows of a metric that is a weighted share of correct rows.

    Accuracy weighs every row alike: ``n``. Balanced accuracy weighs a row of class c by
    ``1 / (k n_c)`` over the k classes present: ``k**2 / sum(1 / n_c)``, ``n`` for balanced
    classes and less the more unequal they are.
    """
    _, counts = np.unique(np.asarray(y_true), return_counts=True)
    return effective_rows_of_counts(counts, metric=metric)


def effective_rows_of_counts(counts: np.ndarray, *, metric: ProportionMetric) -> float:
    """:func:`effective_rows` from the rows of each class present (for rows held elsewhere)."""
    counts = np.asarray(counts, dtype=float)
    if metric == "accuracy":
        return float(counts.sum())
    if metric == "balanced_accuracy":
        return float(len(counts) ** 2 / np.sum(1.0 / counts)) if len(counts) else 0.0
    raise ValueError(f"The 'metric' parameter of effective_rows must be 'accuracy' or 'balanced_accuracy'. Got {metric!r} instead.")


def proportion_interval(
    estimate: float, n_rows: float, *, confidence: float = 0.95, method: Literal["beta", "wilson"] = "beta"
) -> tuple[float, float]:
    """Clopper-Pearson (``"beta"``, exact) or Wilson interval of a proportion ``estimate``
    observed on ``n_rows`` (statsmodels ``proportion_confint``). ``n_rows`` may be an
    effective number (:func:`effective_rows`): the Clopper-Pearson interval at the
    effective sample size is Korn & Graubard's (1998) interval for a weighted proportion.
    """
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(estimate * n_rows, n_rows, alpha=1 - confidence, method=method)
    return float(low), float(high)


def exact_interval_needed(estimate: float, n_rows: float, low: float | None, high: float | None) -> bool:
    """Whether a bootstrap interval ``(low, high)`` of a proportion is to be replaced by the
    exact one: there is none, it collapsed to a point, or fewer than
    :data:`EXACT_BELOW_COUNT` errors (or successes) lie behind the estimate."""
    if low is None or high is None or high - low <= 0:
        return True
    return min(estimate, 1 - estimate) * n_rows < EXACT_BELOW_COUNT


# -- spread of a metric from sampling alone ------------------------------------------------------

def sampling_sd(
    fn: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    y_out: np.ndarray,
    *,
    size: int,
    n_resamples: int = 1000,
    random_state: int = 0,
    strata: np.ndarray | None = None,
) -> float:
    """Standard deviation of the metric on ``size`` rows drawn with replacement from these rows.

    The spread that sampling alone gives a metric computed on ``size`` rows, the model held
    fixed: for the fold scores of a cross-validation, ``y_out`` holds the pooled out-of-fold
    outputs and ``size`` the fold size. With ``strata`` each resample draws from every
    stratum its share of ``size`` (at least one row), as a stratified fold holds. For a
    random partition into folds the expected variance of the fold scores equals this
    variance of draws with replacement (for a mean, exactly: ``sigma**2 / size``).
    """
    y_true, y_out = np.asarray(y_true), np.asarray(y_out)
    rng = np.random.default_rng(random_state)
    if strata is not None:
        strata = np.asarray(strata)
        groups = [np.flatnonzero(strata == v) for v in np.unique(strata)]
        per_group = [max(1, round(len(g) * size / len(y_true))) for g in groups]
    else:
        groups, per_group = [np.arange(len(y_true))], [size]
    batched = getattr(fn, "batched", None)
    values = np.empty(n_resamples)
    step = bootstrap_batch_size(sum(per_group), n_resamples)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), \
            np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_resamples, step):
            b = min(step, n_resamples - start)
            idx = np.concatenate([g[rng.integers(0, len(g), size=(b, m))] for g, m in zip(groups, per_group)], axis=1)
            if batched is not None:
                values[start:start + b] = batched(y_true[idx], y_out[idx])
                continue
            for k in range(b):
                try:
                    values[start + k] = fn(y_true[idx[k]], y_out[idx[k]])
                except ValueError:
                    values[start + k] = np.nan
    values = values[np.isfinite(values)]
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def sd_ratio_interval(ratio: float, n_values: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of a ratio of an observed standard deviation (of ``n_values`` values) to a
    known one: ``(n - 1) s**2 / sigma**2`` is chi-square on ``n - 1`` degrees of freedom
    for normal values (scipy.stats.chi2), so the variance ratio's interval is
    ``s**2 / sigma**2 * (n - 1) / chi2(1 - a/2, 1 + a/2)`` and the ratio's its square root."""
    df = n_values - 1
    upper_q, lower_q = stats.chi2.ppf([(1 + confidence) / 2, (1 - confidence) / 2], df)
    return float(ratio * np.sqrt(df / upper_q)), float(ratio * np.sqrt(df / lower_q))
