"""What the robustness checks share: the policy's feature domains, feature statistics, the seeded
test sample, the stacked model calls and the validity of their outputs, and the rate metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from auditor.contract.adapters import ModelCallError
from auditor.contract.results import MAX_EVIDENCE_ROWS, Metric
from auditor.contract.results import skipped as _skip  # noqa: F401  (the family's name for it)
from auditor.toolkit.evaluation import MIN_ROWS, primary_metric
from auditor.toolkit.stats import encode_labels, metric_function
from auditor.util import wording
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = MAX_EVIDENCE_ROWS
MAX_MESSAGE = 200
# Perturbed copies are stacked into model calls of at most this many rows.
CALL_ROWS = 100_000
# Numerical tolerances for valid probabilities: inside [0, 1], and rows summing to 1 (looser:
# a float32 softmax over many classes sums to 1 only within about 1e-6 per class).
PROBA_TOLERANCE = 1e-6
SUM_TOLERANCE = 1e-4




def _domain(ctx: AuditContext, col: str) -> dict[str, Any]:
    return ctx.feature_domains.get(col) or {}


def _mutable(ctx: AuditContext, col: str) -> bool:
    return not _domain(ctx, col).get("immutable", False)


def _bounds(ctx: AuditContext, col: str) -> tuple[float, float]:
    d = _domain(ctx, col)
    low, high = d.get("min"), d.get("max")
    return (-np.inf if low is None else float(low)), (np.inf if high is None else float(high))


def _reference(ctx: AuditContext) -> tuple[str, pd.DataFrame]:
    """Where feature statistics come from: the training data, or the test data without it."""
    if ctx.has("train") and len(ctx.frame("train")) > 0:
        return "train", ctx.frame("train")
    return "test", ctx.frame("test")


def _floats(s: pd.Series) -> np.ndarray:
    x = s.to_numpy(dtype="float64", na_value=np.nan).copy()
    x[~np.isfinite(x)] = np.nan
    return x


def _spread(s: pd.Series) -> float:
    """A robust standard deviation: IQR / 1.349 (``scipy.stats.iqr(scale="normal")``), or the
    standard deviation where the IQR is 0 (a feature with most values tied); 0 for a constant."""
    x = _floats(s)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return 0.0
    spread = float(stats.iqr(x, scale="normal"))
    return spread if spread > 0 else float(np.std(x, ddof=1))


def _tied(s: pd.Series) -> bool:
    """Whether the middle half of a numeric column is one value (IQR 0) though it is not constant."""
    x = _floats(s)
    x = x[~np.isnan(x)]
    return x.size >= 2 and float(stats.iqr(x)) == 0.0 and float(np.ptp(x)) > 0


def _target_spread(ctx: AuditContext, base_pred: np.ndarray) -> float:
    """The regression target's spread (training data first), the unit a prediction change is measured in."""
    for role in ("train", "test"):
        y = ctx.y(role) if ctx.has(role) else None
        if y is not None:
            spread = _spread(pd.Series(pd.to_numeric(y, errors="coerce"), dtype="float64"))
            if spread > 0:
                return spread
    spread = _spread(pd.Series(np.asarray(base_pred, dtype=float)))
    return spread if spread > 0 else 1.0


def _like(values: np.ndarray, original: pd.Series) -> pd.Series:
    """Perturbed numbers in the original column's dtype (integers rounded to the nearest integer)."""
    dtype = original.dtype
    if ptypes.is_integer_dtype(dtype):
        values = np.rint(values)
        if np.isnan(values).any() and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return pd.Series(values, index=original.index)  # a NaN makes an int64 column float
    return pd.Series(values, index=original.index).astype(dtype)


def _replace_cells(s: pd.Series, mask: np.ndarray, values: np.ndarray) -> pd.Series:
    """``s`` with the masked cells replaced by ``values``, in ``s``'s dtype (a category dtype
    gains the categories it lacks, rather than turning them into missing values)."""
    arr = s.to_numpy(dtype=object, copy=True)
    arr[mask] = values
    out = pd.Series(arr, index=s.index)
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        extra = pd.Index(pd.unique(pd.Series(values).dropna())).difference(dtype.categories)
        if not extra.empty:
            dtype = pd.CategoricalDtype([*dtype.categories, *extra], ordered=dtype.ordered)
    try:
        return out.astype(dtype)
    except (TypeError, ValueError):  # a value the dtype cannot hold: keep the objects
        return out


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


# The loader refuses an empty file; a context built in code may still have one.
NO_ROWS = "the test data has no rows."


@dataclass
class _Sample:
    X: pd.DataFrame  # sampled test inputs, index 0..n-1
    positions: np.ndarray
    record: dict[str, Any]
    pred: np.ndarray  # the model's predictions on them (cached by the context)
    y: np.ndarray | None  # their labels, when the test data has a target

    def __len__(self) -> int:
        return len(self.X)


def _draw_sample(ctx: AuditContext, check_id: str, max_rows: int) -> _Sample:
    positions, record = ctx.sample_index("test", max_rows, check_id=check_id)
    X = ctx.X("test").iloc[positions].reset_index(drop=True)
    pred = np.asarray(ctx.predictions("test"))[positions]
    y = ctx.y("test")
    return _Sample(X=X, positions=positions, record=record, pred=pred, y=None if y is None else y.to_numpy()[positions])


@dataclass
class _Outcome:
    pred: np.ndarray | None = None
    proba: np.ndarray | None = None
    error: str | None = None


def _call(ctx: AuditContext, X: pd.DataFrame, proba: bool) -> _Outcome:
    if not proba:
        return _Outcome(pred=np.asarray(ctx.call_model(X)))
    pred, p = ctx.call_model_with_proba(X)
    try:
        p = np.asarray(p, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelCallError(f"predict_proba returned something that is not numbers: {exc}") from exc
    return _Outcome(pred=np.asarray(pred), proba=p)


def _split(out: _Outcome, sizes: list[int]) -> list[_Outcome]:
    total = sum(sizes)
    if len(out.pred) != total or (out.proba is not None and (out.proba.ndim != 2 or len(out.proba) != total)):
        raise ModelCallError(f"the model returned {len(out.pred)} predictions for {total} rows")
    edges = np.cumsum([0] + sizes)
    return [
        _Outcome(pred=out.pred[a:b], proba=None if out.proba is None else out.proba[a:b])
        for a, b in pairwise(edges)
    ]


def _call_blocks(ctx: AuditContext, blocks: list[pd.DataFrame], *, proba: bool = False,
                 attribute: bool = False) -> list[_Outcome]:
    """The model's outputs on each perturbed copy, stacked into as few calls as possible.

    With ``attribute``, a stacked call that raises is retried copy by copy and each
    copy's error is kept in its outcome; without it, the raise propagates (the check
    becomes ``error`` with the model's message).
    """
    outcomes: list[_Outcome] = []
    start = 0
    while start < len(blocks):
        stop, rows = start, 0
        while stop < len(blocks) and (stop == start or rows + len(blocks[stop]) <= CALL_ROWS):
            rows += len(blocks[stop])
            stop += 1
        group = blocks[start:stop]
        try:
            stacked = group[0] if len(group) == 1 else pd.concat(group, ignore_index=True)
            outcomes += _split(_call(ctx, stacked, proba), [len(b) for b in group])
        except ModelCallError as exc:
            if not attribute:
                raise
            if len(group) == 1:
                cause = exc.__cause__  # the model's own exception, which call_model wraps
                outcomes.append(_Outcome(error=_short(f"{type(cause).__name__}: {cause}" if cause else str(exc))))
            else:  # find which copies raise
                outcomes += [o for b in group for o in _call_blocks(ctx, [b], proba=proba, attribute=True)]
        start = stop
    return outcomes


def _invalid(ctx: AuditContext, out: _Outcome, n: int) -> str | None:
    """Why a model's outputs on ``n`` rows are unusable (a raise, NaN, labels or probabilities
    that cannot be), or None when they are valid."""
    if out.error is not None:
        return f"raised {out.error}"
    pred = out.pred
    if pred is None or len(pred) != n:
        return f"returned {0 if pred is None else len(pred)} predictions for {n} rows"
    if ctx.is_classification:
        if ctx.classes:
            codes = encode_labels(pred, list(ctx.classes))
            bad = np.flatnonzero(codes < 0)
            if bad.size:
                return f"predicted {wording.count(bad.size, 'label')} outside the model's classes (e.g. {_short(repr(pred[bad[0]]))})"
    else:
        values = pd.to_numeric(pd.Series(pred), errors="coerce").to_numpy(dtype=float)
        bad = int((~np.isfinite(values)).sum())
        if bad:
            return f"returned {wording.count(bad, 'prediction')} that {'is' if bad == 1 else 'are'} NaN, infinite or not a number"
    p = out.proba
    if p is not None:
        if p.ndim != 2 or len(p) != n:
            return f"returned probabilities of shape {p.shape} for {n} rows"
        if not np.isfinite(p).all():
            return f"returned NaN or infinite probabilities for {wording.count(int((~np.isfinite(p)).any(axis=1).sum()), 'row')}"
        if (p < -PROBA_TOLERANCE).any() or (p > 1 + PROBA_TOLERANCE).any():
            return f"returned probabilities outside [0, 1] (from {p.min():.4g} to {p.max():.4g})"
        sums = p.sum(axis=1)
        if (np.abs(sums - 1) > SUM_TOLERANCE).any():
            return f"returned probabilities that do not sum to 1 (row sums from {sums.min():.4g} to {sums.max():.4g})"
    return None


def _changes(ctx: AuditContext, base: np.ndarray, new: np.ndarray, target_spread: float) -> np.ndarray:
    """Per row: 1.0 where the predicted label flipped (classification), or the absolute change
    of the prediction in units of the target's spread (regression)."""
    if ctx.is_classification:
        if ctx.classes:
            classes = list(ctx.classes)
            return (encode_labels(new, classes) != encode_labels(base, classes)).astype(float)
        return (np.asarray(new, dtype=object) != np.asarray(base, dtype=object)).astype(float)
    return np.abs(np.asarray(new, dtype=float) - np.asarray(base, dtype=float)) / target_spread


def _proportion(flags: np.ndarray, description: str, confidence: float = 0.95) -> Metric:
    """A share of rows with its Wilson interval (``scipy.stats.binomtest``)."""
    n = len(flags)
    if n == 0:
        return Metric(None, description=description)
    ci = stats.binomtest(int(np.sum(flags)), n).proportion_ci(confidence_level=confidence, method="wilson")
    return Metric(float(np.mean(flags)), float(ci.low), float(ci.high), description=description)


def _mean(values: np.ndarray, description: str, *, floor: float | None = None, confidence: float = 0.95) -> Metric:
    """A mean over rows with its Student's t interval (``scipy.stats.ttest_1samp``); none for constant values."""
    n = len(values)
    if n == 0:
        return Metric(None, description=description)
    mean = float(np.mean(values))
    if n < 2 or np.all(values == values[0]):
        return Metric(mean, description=description)
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(confidence_level=confidence)
    low = float(ci.low) if floor is None else max(floor, float(ci.low))
    return Metric(mean, low, float(ci.high), description=description)


def _change_metric(ctx: AuditContext, changes: np.ndarray, description: str) -> Metric:
    """The mean of per-row changes: a flip rate (classification) or a mean change (regression), with its interval."""
    if ctx.is_classification:
        return _proportion(changes.astype(bool), description)
    return _mean(changes, description, floor=0.0)


def _rate_word(ctx: AuditContext) -> str:
    return "flip rate" if ctx.is_classification else "mean change"


def _rate_text(ctx: AuditContext, value: float | None) -> str:
    """A flip rate as '1.2% of predictions flip', a regression change as '3.4% of the target's spread'."""
    if value is None:
        return "n/a"
    if ctx.is_classification:
        return f"{wording.share(value)} of predictions flip"
    return f"predictions move by {wording.share(value)} of the target's spread on average"


def _score(ctx: AuditContext, y: np.ndarray | None, pred: np.ndarray) -> float | None:
    """The primary metric (balanced accuracy or R²) of ``pred`` on the labelled rows, None where undefined."""
    if y is None:
        return None
    labelled = ~pd.isna(y)
    if labelled.sum() < MIN_ROWS:
        return None
    name = primary_metric(ctx.task)
    y, pred = y[labelled], np.asarray(pred)[labelled]
    if ctx.is_classification:
        if not ctx.classes:
            return None
        classes = list(ctx.classes)
        y, pred = encode_labels(y, classes), encode_labels(pred, classes)
        if len(np.unique(y)) < 2:
            return None
        fn = metric_function(name, task=ctx.task, positive_label=classes.index(ctx.positive_label)
                             if ctx.task == "binary" and ctx.positive_label in classes else None,
                             classes=list(range(len(classes))))
    else:
        y, pred = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(float), np.asarray(pred, dtype=float)
        if not (np.isfinite(y).all() and np.isfinite(pred).all()):
            return None
        fn = metric_function(name, task=ctx.task)
    return float(fn(y, pred))


def _few_rows(n: int) -> str | None:
    if n < MIN_ROWS:
        return f"only {wording.count(n, 'test row')} sampled: too few to estimate a rate"
    return None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
