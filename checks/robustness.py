"""Robustness checks (area ``robustness``, IDs RB001-RB005).

Does the model behave sensibly on inputs a little (or a lot) different from its test
rows? Each check perturbs a seeded sample of the test rows (``max_rows``, recorded in
``sample``), calls the model on the perturbed copies (``AuditContext.call_model``) and
measures how its predictions move: small Gaussian noise on numeric features, swapped
categories, missing values, values beyond the training range, and steps along features
the policy declares monotonic.

Every perturbation respects the policy's declared feature domains
(``features: {col: {immutable, min, max, monotonic}}``): an immutable feature is never
changed and a numeric value never leaves a declared ``[min, max]``. Where a check needs
statistics of the data (a feature's spread, its range, its categories and their
frequencies, the target's spread) it takes them from the training data, or from the
test data when no training data was given.

The perturbed copies of a check are stacked and sent to the model in as few calls as
possible (the model is assumed to score rows independently, as every scikit-learn
predictor and every network in evaluation mode does); where a stacked call raises, the
copies are sent one by one so that the raise is attributed. The statistics are
SciPy's (``scipy.stats.iqr``, ``binomtest`` for Wilson intervals, ``ttest_1samp``) and
the metrics scikit-learn's (``auditor.stats``); this module is the perturbation glue.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from auditor import wording
from auditor.adapters import ModelCallError
from auditor.check import Check, Param, Threshold
from auditor.columns import is_numeric as _is_numeric
from auditor.evaluation import MIN_ROWS, primary_metric
from auditor.figures import label, new_figure, to_svg
from auditor.lazy import lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.slicing import SEARCH_PARAMS, find_weak_slices
from auditor.stats import encode_labels, metric_function

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = 20
MAX_MESSAGE = 200
# Perturbed copies are stacked into model calls of at most this many rows.
CALL_ROWS = 100_000
# Numerical tolerances for valid probabilities: inside [0, 1], and rows summing to 1 (looser:
# a float32 softmax over many classes sums to 1 only within about 1e-6 per class).
PROBA_TOLERANCE = 1e-6
SUM_TOLERANCE = 1e-4


# -- shared helpers ------------------------------------------------------------------
def _skip(reason: str, sample: dict[str, Any] | None = None) -> Findings:
    return Findings(summary=f"Skipped: {reason}", status="skipped", sample=sample)


def _is_categorical(s: pd.Series) -> bool:
    """Categories to swap: string, object, category or bool columns (not numbers, dates or durations)."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_bool_dtype(dtype):
        return True
    return not (ptypes.is_numeric_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype))


def _domain(ctx: "AuditContext", col: str) -> dict[str, Any]:
    return ctx.feature_domains.get(col) or {}


def _mutable(ctx: "AuditContext", col: str) -> bool:
    return not _domain(ctx, col).get("immutable", False)


def _bounds(ctx: "AuditContext", col: str) -> tuple[float, float]:
    d = _domain(ctx, col)
    low, high = d.get("min"), d.get("max")
    return (-np.inf if low is None else float(low)), (np.inf if high is None else float(high))


def _reference(ctx: "AuditContext") -> tuple[str, pd.DataFrame]:
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


def _target_spread(ctx: "AuditContext", base_pred: np.ndarray) -> float:
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


def _within(values: np.ndarray, original: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip perturbed values to the declared bounds; a value already outside them is left as it was."""
    inside = (original >= low) & (original <= high)
    return np.where(inside | np.isnan(original), np.clip(values, low, high), original)


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


def _draw_sample(ctx: "AuditContext", check_id: str, max_rows: int) -> _Sample:
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


def _call(ctx: "AuditContext", X: pd.DataFrame, proba: bool) -> _Outcome:
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


def _call_blocks(ctx: "AuditContext", blocks: list[pd.DataFrame], *, proba: bool = False,
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


def _invalid(ctx: "AuditContext", out: _Outcome, n: int) -> str | None:
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


def _changes(ctx: "AuditContext", base: np.ndarray, new: np.ndarray, target_spread: float) -> np.ndarray:
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


def _change_metric(ctx: "AuditContext", changes: np.ndarray, description: str) -> Metric:
    """The mean of per-row changes: a flip rate (classification) or a mean change (regression), with its interval."""
    if ctx.is_classification:
        return _proportion(changes.astype(bool), description)
    return _mean(changes, description, floor=0.0)


def _rate_word(ctx: "AuditContext") -> str:
    return "flip rate" if ctx.is_classification else "mean change"


def _rate_text(ctx: "AuditContext", value: float | None) -> str:
    """A flip rate as '1.2% of predictions flip', a regression change as '3.4% of the target's spread'."""
    if value is None:
        return "n/a"
    if ctx.is_classification:
        return f"{wording.share(value)} of predictions flip"
    return f"predictions move by {wording.share(value)} of the target's spread on average"


def _score(ctx: "AuditContext", y: np.ndarray | None, pred: np.ndarray) -> float | None:
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


# -- RB001 -------------------------------------------------------------------------------
class NoiseSensitivity(Check):
    """Sensitivity of predictions to small noise on numeric features

    What it checks:
        Adds Gaussian noise to every mutable numeric feature of a seeded sample of test
        rows, at several levels (``levels``, default 0.01, 0.05, 0.1 and 0.25). A level
        is a multiple of each feature's spread in the training data: IQR / 1.349, which
        equals the standard deviation for normal data and is not inflated by outliers
        (the standard deviation where the IQR is 0, as for a feature with most values
        tied). The same standard-normal draws are scaled for every level, so the curve
        is smooth. Perturbed values are clipped to the policy's declared ``min`` /
        ``max``, integer columns are rounded back to integers, immutable features and
        constant ones are left alone. Per level: the flip rate (the share of rows whose
        predicted label changes; for regression, the mean absolute change of the
        prediction in units of the target's spread) and the primary metric (balanced
        accuracy or R²), drawn as a degradation curve. Judged: the flip rate at
        ``judge_level`` (0.05 spread: noise far below any feature's natural variation,
        the size of a rounding or measurement error), with a Wilson interval: warn
        above 0.05, fail above 0.15. A smooth model flips only rows within that noise of
        its decision boundary (about 1-3% for a logistic model on typical data; a
        linear regression moves by at most 0.04 of the target's spread at 0.05); a
        model that has memorised noise (a 1-nearest-neighbour or an unpruned tree on
        noisy labels) flips many times more.

    Why it matters:
        Inputs are never measured exactly. A model whose decisions change under noise
        the size of a measurement error gives different answers to the same case from
        one day to the next, and such brittleness usually means it has fitted noise in
        its training data.

    How to fix:
        Regularise (shallower trees, larger leaves, fewer boosting rounds, weight decay,
        larger k for neighbours), smooth the decision function (ensembles), train with
        noise augmentation, and remove noisy or redundant features.

    References:
        Hendrycks & Dietterich (2019), Benchmarking neural network robustness to common
        corruptions and perturbations, ICLR.
        Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with
        CheckList, ACL (invariance tests).
    """

    id = "RB001"
    name = "noise-sensitivity"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "levels": Param(default=[0.01, 0.05, 0.1, 0.25], kind="list",
                        help="noise standard deviations, as multiples of each feature's spread"),
        "judge_level": Param(default=0.05, kind="float", low=1e-6, high=10.0,
                             help="the noise level whose flip rate is judged (added to the levels if absent)"),
    }
    thresholds = {
        "flip_rate_small_noise": Threshold(
            direction="above", warn=0.05, fail=0.15, low=0,
            help="share of predictions that flip under noise of judge_level x spread (regression: mean change / target spread)"),
    }
    practices = ("P3.3", "P1.6", "P7.2")
    references = (
        "Hendrycks & Dietterich (2019), Benchmarking neural network robustness to common corruptions and perturbations, ICLR",
        "Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with CheckList, ACL",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        levels = params["levels"]
        if not levels or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in levels):
            raise ValueError(f"params.levels of RB001 must be a non-empty list of positive numbers; got {levels!r}.")
        judge_level = float(params["judge_level"])
        levels = sorted({float(v) for v in levels} | {judge_level})
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        numeric = [c for c in ctx.features if _is_numeric(s.X[c])]
        immutable = [c for c in numeric if not _mutable(ctx, c)]
        spreads = {c: _spread(ref[c]) for c in numeric if c not in immutable and c in ref.columns}
        cols = [c for c, v in spreads.items() if v > 0]
        constant = [c for c, v in spreads.items() if v <= 0]
        if not cols:
            why = f"{len(immutable)} declared immutable" if immutable else ""
            return _skip(
                "the model has no mutable numeric feature with a spread to add noise to"
                + (f" ({why})." if why else "."), s.record)
        rng = ctx.rng(self.id + ":noise")
        z = rng.standard_normal((len(s), len(cols)))
        originals = {c: _floats(s.X[c]) for c in cols}
        blocks = []
        for level in levels:
            block = s.X.copy()
            for j, c in enumerate(cols):
                low, high = _bounds(ctx, c)
                noisy = originals[c] + level * spreads[c] * z[:, j]
                block[c] = _like(_within(noisy, originals[c], low, high), s.X[c])
            blocks.append(block)
        outcomes = _call_blocks(ctx, blocks)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_score = _score(ctx, s.y, s.pred)
        rows, rates, scores = [], [], []
        judged = None
        for level, out in zip(levels, outcomes):
            changes = _changes(ctx, s.pred, out.pred, target_spread)
            score = _score(ctx, s.y, out.pred)
            rates.append(float(changes.mean()))
            scores.append(score)
            drop = None if score is None or base_score is None else base_score - score
            rows.append([level, rates[-1], score, drop])
            if level == judge_level:
                judged = _change_metric(ctx, changes, f"{_rate_word(ctx)} under noise of {judge_level:g} x each feature's spread")
        primary = primary_metric(ctx.task)
        pname = primary.replace("_", " ")
        metrics = {
            "flip_rate_small_noise": judged,
            "flip_rate_largest_noise": Metric(rates[-1], description=f"{_rate_word(ctx)} under noise of {levels[-1]:g} x spread"),
            f"baseline_{primary}": Metric(base_score, description=f"{pname} of the unperturbed sampled rows"),
            f"{primary}_drop_largest_noise": Metric(
                None if scores[-1] is None or base_score is None else base_score - scores[-1],
                description=f"{pname} lost under noise of {levels[-1]:g} x spread"),
        }
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        evidence = [
            Evidence(
                title="Predictions under noise",
                columns=["noise (x spread)", rate_col, pname, f"{pname} lost"],
                rows=rows,
                note=f"{len(s):,} sampled test rows; {wording.count(len(cols), 'numeric feature')} perturbed together; "
                     f"unperturbed {pname} {_fmt(base_score)}.",
            ),
            Evidence(
                title="Features perturbed",
                columns=["feature", f"spread ({ref_role})", "declared min", "declared max"],
                rows=[[c, spreads[c], _domain(ctx, c).get("min"), _domain(ctx, c).get("max")] for c in cols[:MAX_ROWS]],
                note=(f"Showing {MAX_ROWS} of {len(cols)}. " if len(cols) > MAX_ROWS else "")
                     + "Spread: IQR / 1.349 (the standard deviation where the IQR is 0). "
                     + (f"Left unchanged as declared immutable: {', '.join(immutable[:MAX_ROWS])}. " if immutable else "")
                     + (f"Constant in {ref_role}, left unchanged: {', '.join(constant[:MAX_ROWS])}. " if constant else "")
                     + "Integer columns are rounded after the noise is added.",
            ),
        ]
        summary = (
            f"Gaussian noise of {judge_level:g} x each feature's spread on {wording.count(len(cols), 'numeric feature')}: "
            f"{_rate_text(ctx, judged.value)} ({len(s):,} sampled test rows). At {levels[-1]:g} x spread "
            f"{_rate_text(ctx, rates[-1])}"
            + (f" and {pname} goes from {base_score:.3f} to {scores[-1]:.3f}." if base_score is not None and scores[-1] is not None else ".")
        )
        few = _few_rows(len(s))
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics=metrics,
            evidence=evidence,
            figures=[_noise_figure(levels, rates, scores, rate_col, pname, judge_level)],
            recommendation=(
                "If small noise flips many predictions, regularise or smooth the model (shallower trees, larger leaves, "
                "more neighbours, weight decay, ensembles) or train with noise augmentation, and check the features "
                "for measurement noise."
            ),
            sample=s.record,
        )


def _noise_figure(levels: list[float], rates: list[float], scores: list[float | None], rate_label: str,
                  metric_label: str, judge_level: float):
    fig = new_figure(6.5, 3.4)
    ax = fig.add_subplot()
    ax.plot(levels, rates, "o-", color="#b03a2e", label=rate_label, markersize=4)
    ax.axvline(judge_level, color="#777777", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("noise standard deviation (x feature spread)")
    ax.set_ylabel(label(rate_label), color="#b03a2e")
    ax.set_ylim(bottom=0)
    ax.grid(color="#dddddd", linewidth=0.6)
    if any(v is not None for v in scores):
        ax2 = ax.twinx()
        ax2.plot(levels, [np.nan if v is None else v for v in scores], "s--", color="#3b5b92", label=metric_label, markersize=4)
        ax2.set_ylabel(label(metric_label), color="#3b5b92")
    return to_svg(fig, title="Noise sensitivity",
                  caption=f"{rate_label.capitalize()} (left axis) and {metric_label} (right axis) against the noise level; "
                          f"dotted: the judged level ({judge_level:g}).")


# -- RB002 -------------------------------------------------------------------------------
# Rejection rounds before the rows still holding their own value are drawn exactly.
SWAP_ROUNDS = 20


def _swap_categories(values: np.ndarray, categories: np.ndarray, freq: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each observed value replaced by a different category, drawn by the reference frequencies.

    Draws by inverse CDF and redraws the rows that drew their own value (cheap even with
    many categories); the few left after ``SWAP_ROUNDS`` rounds (a dominant category) are
    drawn from the frequencies without their own value. Returns the new values and a
    mask of the rows that changed (missing values are kept).
    """
    out = values.copy()
    observed = ~pd.isna(values)
    codes = pd.Index(categories).get_indexer(pd.Index(values[observed]))
    cdf = np.cumsum(freq, dtype=float)
    cdf /= cdf[-1]

    def draw(size: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(categories) - 1)

    new = draw(codes.size)
    pending = np.flatnonzero(new == codes)
    for _ in range(SWAP_ROUNDS):
        if pending.size == 0:
            break
        new[pending] = draw(pending.size)
        pending = pending[new[pending] == codes[pending]]
    for code in np.unique(codes[pending]):
        rows = pending[codes[pending] == code]
        p = freq.astype(float)
        p[code] = 0.0
        new[rows] = rng.choice(len(categories), size=rows.size, p=p / p.sum())
    out[observed] = categories[new]
    return out, observed


class CategoricalPerturbation(Check):
    """Sensitivity of predictions to a swapped categorical value

    What it checks:
        For each mutable categorical feature (string, category or boolean columns) with
        at least two levels, replaces every sampled test row's value by another
        category seen in the training data, drawn by the training frequencies
        (seeded), and measures the flip rate: the share of rows whose predicted label
        changes (regression: the mean absolute change in units of the target's
        spread), together with the primary metric's drop. All such features are also
        swapped at once (reported, not judged). Judged: the largest per-feature flip
        rate, with a Wilson interval: warn above 0.15, fail above 0.30. A feature with
        a modest, real effect flips a few per cent of the rows (only those near the
        decision boundary); above 15% the model's decision hinges on that one value
        for a large share of cases, and above 30% a single mis-recorded category
        changes the outcome of nearly a third of them. Features with one level are
        skipped; with no categorical feature the check passes with 0 and says so.

    Why it matters:
        Categories are often recorded by hand or mapped between systems, and a wrong
        value is a routine data error. A model whose decisions swing with one such
        value is fragile, and when the metric barely drops while many predictions flip,
        its reliance on the feature is arbitrary rather than learnt signal.

    How to fix:
        Look at the feature's per-category effect (partial dependence); merge rare
        categories, use target encoding with smoothing or a regularised one-hot
        encoding, and regularise the model; check the feature is not a proxy for an
        identifier.

    References:
        Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful:
        learning a variable's importance by studying an entire class of prediction
        models simultaneously (model reliance), JMLR.
        Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with
        CheckList, ACL.
    """

    id = "RB002"
    name = "categorical-perturbation"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
    }
    thresholds = {
        "max_categorical_flip_rate": Threshold(
            direction="above", warn=0.15, fail=0.30, low=0,
            help="the largest share of predictions that flip when one categorical feature's value is swapped"),
    }
    practices = ("P1.5", "P3.3", "P5.3")
    references = (
        "Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful, JMLR",
        "Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with CheckList, ACL",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        categorical = [c for c in ctx.features if _is_categorical(s.X[c])]
        immutable = [c for c in categorical if not _mutable(ctx, c)]
        levels: dict[str, pd.Series] = {}
        one_level = []
        for c in categorical:
            if c in immutable or c not in ref.columns:
                continue
            counts = ref[c].value_counts(dropna=True, sort=False)
            counts = counts[counts > 0]
            if len(counts) < 2:
                one_level.append(c)
            else:
                levels[c] = counts
        notes = []
        if immutable:
            notes.append(f"declared immutable: {', '.join(immutable[:MAX_ROWS])}")
        if one_level:
            notes.append(f"one level only: {', '.join(one_level[:MAX_ROWS])}")
        if not levels:
            return Findings(
                summary="The model has no mutable categorical feature with two or more levels, so nothing was swapped: "
                        "the flip rate is 0" + (f" ({'; '.join(notes)})." if notes else "."),
                metrics={"max_categorical_flip_rate": Metric(0.0, description="no categorical feature to swap")},
                sample=s.record,
            )
        rng = ctx.rng(self.id + ":swap")
        cols = list(levels)
        swapped, changed = {}, {}
        for c in cols:
            cats = levels[c].index.to_numpy(dtype=object)
            values, mask = _swap_categories(s.X[c].to_numpy(dtype=object), cats, levels[c].to_numpy(), rng)
            swapped[c], changed[c] = _replace_cells(s.X[c], mask, values[mask]), mask
        blocks = [s.X.assign(**{c: swapped[c]}) for c in cols] + [s.X.assign(**swapped)]
        outcomes = _call_blocks(ctx, blocks)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_score = _score(ctx, s.y, s.pred)
        per_feature: dict[str, Metric] = {}
        rows = []
        for c, out in zip(cols, outcomes):
            changes = _changes(ctx, s.pred, out.pred, target_spread)[changed[c]]
            per_feature[c] = _change_metric(ctx, changes, f"{_rate_word(ctx)} when {c!r} is swapped")
            score = _score(ctx, s.y, out.pred)
            rows.append([c, len(levels[c]), int(changed[c].sum()), per_feature[c].value,
                         None if score is None or base_score is None else base_score - score])
        any_changed = np.logical_or.reduce([changed[c] for c in cols])
        overall = float(_changes(ctx, s.pred, outcomes[-1].pred, target_spread)[any_changed].mean()) if any_changed.any() else 0.0
        worst = max(cols, key=lambda c: (per_feature[c].value if per_feature[c].value is not None else -1.0))
        rows.sort(key=lambda r: -(r[3] if r[3] is not None else -1.0))
        pname = primary_metric(ctx.task).replace("_", " ")
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        judged = per_feature[worst]
        judged.description = f"largest {_rate_word(ctx)} over the categorical features (at {worst!r})"
        few = _few_rows(len(s))
        summary = (
            f"Swapping one categorical value for another seen in {ref_role}: the most sensitive feature is {worst!r}, where "
            f"{_rate_text(ctx, judged.value)} ({wording.count(len(cols), 'categorical feature')} tested on "
            f"{len(s):,} sampled test rows); swapping all of them at once, {_rate_text(ctx, overall)}."
            + (f" Not swapped: {'; '.join(notes)}." if notes else "")
        )
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics={
                "max_categorical_flip_rate": judged,
                "overall_categorical_flip_rate": Metric(overall, description=f"{_rate_word(ctx)} with every categorical feature swapped at once"),
            },
            evidence=[Evidence(
                title="Predictions with a swapped category",
                columns=["feature", f"levels ({ref_role})", "rows swapped", rate_col, f"{pname} lost"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing the {MAX_ROWS} most sensitive of {len(rows)}. " if len(rows) > MAX_ROWS else "")
                     + f"Each observed value replaced by a different {ref_role} category drawn by its {ref_role} frequency; "
                     "missing values kept.",
            )],
            recommendation=(
                f"If one category flips many predictions, inspect {worst!r}'s per-category effect; merge rare categories, "
                "regularise its encoding (smoothed target encoding, penalised one-hot) or the model, and make sure the "
                "feature is not a proxy for an identifier."
            ),
            sample=s.record,
        )


# -- RB003 -------------------------------------------------------------------------------
def _names(cols: list[str], limit: int = 5, *, last: str = ", ") -> str:
    """Column names for a sentence: 'a, b, c' (or 'a, b or c' with ``last=" or "``), at most ``limit``."""
    if len(cols) > limit:
        return ", ".join(cols[:limit]) + "..."
    return cols[0] if len(cols) == 1 else ", ".join(cols[:-1]) + last + cols[-1]


def _draw_from(ref: pd.Series, size: int, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """``size`` values drawn with replacement from the reference column's observed values
    (numbers only from inside the declared ``[low, high]``)."""
    observed = ref.dropna()
    if _is_numeric(observed) and (np.isfinite(low) or np.isfinite(high)):
        observed = observed[(observed >= low) & (observed <= high)]
    values = observed.to_numpy(dtype=object)
    if values.size == 0:
        return np.full(size, np.nan, dtype=object)
    return values[rng.integers(0, values.size, size=size)]


class MissingValueHandling(Check):
    """Handling of missing values at prediction time

    What it checks:
        Sets a share (``missing_rate``, default 0.1) of a seeded sample of test rows to
        missing, one mutable feature at a time and then in all mutable features at once
        (each value independently), and calls the model. A feature "breaks" the model
        when its missing values make it return invalid output (NaN or infinite
        predictions, labels outside its classes, probabilities outside [0, 1] or not
        summing to 1), a silent failure that always counts, or make it raise, which
        counts where the feature has missing values in the data given (training,
        validation, test or current): there missing values are known to occur and the
        model was not built for them. A raise on a feature that is complete in every
        dataset is reported with its message but not judged, since a model that refuses
        a missing value loudly is a defensible contract for complete data
        (``raise_counts_for: all_features`` judges it too). Judged: the number of
        features that break (fail above 0). For the rows given missing values the check
        also measures how many predictions flip (regression: the mean change in units
        of the target's spread) and the primary metric's drop. Since a value that goes
        missing takes its information with it, the flip rate also reflects how much
        the model relies on the features; the judged figure subtracts a reference:
        the flip rate when the same cells are instead filled with values drawn at
        random from the training data (an uninformed but plausible guess, within any
        declared bounds). Judged: that excess, ``joint_missing_excess_flip_rate``, for
        all features missing at once (over the features that do not raise), with an
        interval: warn above 0.05, fail above 0.10. Mean or median imputation and
        native missing-value support (gradient-boosted trees) read at or below 0;
        filling with a value the model never saw (0 for an income, -999) reads far
        above it.

    Why it matters:
        Production data has missing values the training data did not: a sensor drops
        out, a form field is left empty, an upstream join fails. A model that crashes on
        them stops scoring; one that silently turns them into extreme values gives
        confident, wrong answers. Missing values must be handled deliberately.

    How to fix:
        Put the imputation inside the model pipeline (scikit-learn's SimpleImputer,
        KNNImputer or IterativeImputer, with add_indicator=True where missingness
        carries information) or use a model with native missing-value support
        (HistGradientBoosting); never fill with a sentinel that the model reads as a
        real value.

    References:
        Little & Rubin (2019), Statistical Analysis with Missing Data, 3rd ed.
        Breck et al. (2017), The ML test score: a rubric for ML production readiness
        and technical debt reduction, IEEE Big Data.
        scikit-learn user guide, Imputation of missing values.
    """

    id = "RB003"
    name = "missing-value-handling"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "missing_rate": Param(default=0.1, kind="float", low=0.001, high=1.0,
                              help="share of the sampled rows (one feature at a time) or of the values (all at once) set missing"),
        "raise_counts_for": Param(default="features_seen_missing", kind="str",
                                  choices=("features_seen_missing", "all_features"),
                                  help="which features a raise on missing values counts against: those with missing "
                                       "values in the data given, or every feature"),
    }
    thresholds = {
        "features_that_break": Threshold(
            direction="above", fail=0, low=0,
            help="features whose missing values make the model return invalid output, or raise where the data have missing values"),
        "joint_missing_excess_flip_rate": Threshold(
            direction="above", warn=0.05, fail=0.10, low=-1, high=1,
            help="flip rate with values missing minus the flip rate with the same values drawn at random from the training data"),
    }
    practices = ("P1.2", "P6.3")
    references = (
        "Little & Rubin (2019), Statistical Analysis with Missing Data, 3rd ed.",
        "Breck et al. (2017), The ML test score: a rubric for ML production readiness and technical debt reduction, IEEE Big Data",
        "https://scikit-learn.org/stable/modules/impute.html",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        cols = [c for c in ctx.features if _mutable(ctx, c)]
        immutable = [c for c in ctx.features if c not in cols]
        if not cols:
            return _skip("every feature is declared immutable: none may be set missing.", s.record)
        n, rate = len(s), float(params["missing_rate"])
        rng = ctx.rng(self.id + ":missing")
        proba = ctx.is_classification and ctx.model.has_proba
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)

        # One feature at a time: the same number of rows for each, chosen independently.
        k = min(n, max(1, round(rate * n)))
        chosen = {c: np.sort(rng.choice(n, size=k, replace=False)) for c in cols}
        blocks = []
        for c in cols:
            block = s.X.iloc[chosen[c]]
            blocks.append(block.assign(**{c: block[c].where(np.zeros(len(block), dtype=bool))}))
        outcomes = _call_blocks(ctx, blocks, proba=proba, attribute=True)
        seen_missing = {c for c in cols if any(c in f.columns and f[c].isna().any() for f in ctx.datasets.values())}
        judge_all = params["raise_counts_for"] == "all_features"
        broken: dict[str, str] = {}  # judged
        raised: dict[str, str] = {}  # every raise, judged or not
        rows = []
        for c, out in zip(cols, outcomes):
            reason = _invalid(ctx, out, k)
            if out.error is not None:
                raised[c] = out.error
            if reason and (out.error is None or judge_all or c in seen_missing):
                broken[c] = reason
                rows.append([c, k, "yes", None, reason])
            elif reason:
                rows.append([c, k, "raises (never missing in the data)", None, reason])
            else:
                rate_c = float(_changes(ctx, s.pred[chosen[c]], out.pred, target_spread).mean())
                rows.append([c, k, "no", rate_c, ""])

        # All features that return valid output, at once, each value missing independently,
        # against the same cells filled with random training values.
        usable = [c for c in cols if c not in broken and c not in raised]
        joint_reason, joint, excess, joint_score, affected = None, None, None, None, np.zeros(n, dtype=bool)
        base_score = _score(ctx, s.y, s.pred)
        if usable:
            mask = rng.random((n, len(usable))) < rate
            affected = mask.any(axis=1)
            if not affected.any():
                mask[rng.integers(n), rng.integers(len(usable))] = True
                affected = mask.any(axis=1)
            missing_X, guessed_X = s.X.copy(), s.X.copy()
            for j, c in enumerate(usable):
                m = mask[:, j]
                missing_X[c] = s.X[c].where(~m)
                if c in ref.columns:
                    guessed_X[c] = _replace_cells(s.X[c], m, _draw_from(ref[c], int(m.sum()), rng, *_bounds(ctx, c)))
            out_missing, out_guessed = _call_blocks(ctx, [missing_X.iloc[np.flatnonzero(affected)],
                                                          guessed_X.iloc[np.flatnonzero(affected)]],
                                                    proba=proba, attribute=True)
            joint_reason = _invalid(ctx, out_missing, int(affected.sum()))
            guess_reason = _invalid(ctx, out_guessed, int(affected.sum()))
            if joint_reason is None and guess_reason is not None:
                joint_reason = f"{guess_reason} when the same values were filled from {ref_role}"
            if joint_reason is None:
                base = s.pred[affected]
                flips = _changes(ctx, base, out_missing.pred, target_spread)
                guess_flips = _changes(ctx, base, out_guessed.pred, target_spread)
                joint = _change_metric(ctx, flips, f"{_rate_word(ctx)} of the rows given missing values (all features at once)")
                excess = _mean(flips - guess_flips, f"{_rate_word(ctx)} with values missing minus with the same "
                                                    f"values filled at random from {ref_role}")
                full = s.pred.copy() if ctx.is_classification else s.pred.astype(float)
                full[affected] = out_missing.pred
                joint_score = _score(ctx, s.y, full)

        pname = primary_metric(ctx.task).replace("_", " ")
        rows.sort(key=lambda r: (r[2] != "yes", r[2] == "no", -(r[3] if r[3] is not None else 0.0)))
        metrics = {
            "features_that_break": Metric(len(broken), description=(
                "features whose missing values make the model return invalid output, or raise"
                + ("" if judge_all else " where the data have missing values"))),
            "features_that_raise": Metric(len(raised), description="features whose missing values make the model raise (judged or not)"),
            # Not measured where the joint call failed (inconclusive); absent where no feature accepts missing values.
            **({"joint_missing_excess_flip_rate": excess if excess is not None else Metric(
                None, description=f"not measured: the model {joint_reason}")} if usable else {}),
            "joint_missing_flip_rate": joint if joint is not None else Metric(None, description="not measured"),
            f"{primary_metric(ctx.task)}_drop_joint_missing": Metric(
                None if joint_score is None or base_score is None else base_score - joint_score,
                description=f"{pname} lost with values missing in all features at once"),
        }
        unjudged = [c for c in raised if c not in broken]
        if unjudged:
            unjudged_text = (
                f"The model raises on a missing {_names(unjudged, last=' or ')} ({raised[unjudged[0]]}); no dataset given has missing "
                f"values in {'it' if len(unjudged) == 1 else 'them'}, so this is reported, not judged "
                "(raise_counts_for: all_features judges it).")
        if broken:
            first = next(iter(broken))
            head = (f"Missing values in {wording.count(len(broken), 'feature')} of {len(cols)} break the model "
                    f"({_names(list(broken))}); for {first!r} it {broken[first]}." + (f" {unjudged_text}" if unjudged else ""))
        elif unjudged:
            rest = len(cols) - len(unjudged)
            head = unjudged_text + (f" It returns valid predictions with missing values in the other "
                                    f"{wording.count(rest, 'feature')}." if rest else "")
        else:
            head = f"The model returns valid predictions with missing values in each of its {wording.count(len(cols), 'mutable feature')}."
        if joint is not None:
            tail = (f" With {wording.share(rate)} of the values missing in {'all' if len(usable) == len(cols) else 'the other'} "
                    f"{wording.count(len(usable), 'feature')} at once, {_rate_text(ctx, joint.value)} on the "
                    f"{int(affected.sum()):,} rows affected, {excess.value:+.3f} against filling the same values at random "
                    f"from {ref_role} ({n:,} sampled test rows).")
        elif usable:
            tail = f" With values missing in several features at once the model {joint_reason}."
        else:
            tail = ""
        few = _few_rows(n) if not broken else None
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + head + tail,
            status="inconclusive" if few else None,
            metrics=metrics,
            evidence=[Evidence(
                title="One feature missing at a time",
                columns=["feature", "rows set missing", "breaks the model", rate_col, "what happened"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing {MAX_ROWS} of {len(rows)}, breaking ones first. " if len(rows) > MAX_ROWS else "")
                     + (f"Never set missing (declared immutable): {', '.join(immutable[:MAX_ROWS])}. " if immutable else "")
                     + f"Unperturbed {pname} {_fmt(base_score)}; with all features missing at once {_fmt(joint_score)}.",
            )],
            recommendation=(
                "Handle missing values inside the model: an imputer in the pipeline (SimpleImputer, KNNImputer, "
                "IterativeImputer, with add_indicator=True where missingness is informative) or a model with native "
                "support such as HistGradientBoosting; never fill them with a sentinel the model reads as a real value."
            ),
            sample=s.record,
        )


# -- RB004 -------------------------------------------------------------------------------
class OutOfRangeInputs(Check):
    """Valid outputs for numeric inputs beyond the training range

    What it checks:
        For each mutable numeric feature, sets it on every sampled test row to a value
        beyond the range seen in training: ``max + beyond x spread`` and
        ``min - beyond x spread`` (``beyond`` default 3; the spread is IQR / 1.349, or
        the standard deviation where the IQR is 0), one feature and one side at a time.
        Where the policy declares a ``min`` or ``max`` for the feature, that side is
        tested at the declared bound instead, never beyond it. Integer columns get
        integer values. The model's outputs must stay valid: no exception, no NaN or
        infinite prediction, no label outside its classes, probabilities inside [0, 1]
        that sum to 1. Judged: the number of features for which an extreme input gives
        an invalid output or a raise (fail above 0); the message is kept. Reported, not
        judged: how the predicted class shares (regression: the mean prediction, in
        target spreads) shift at the extremes.

    Why it matters:
        Production inputs leave the training range: new populations, unit errors,
        upstream bugs. A model should still answer with something valid (and a
        monitoring system should flag the input); a probability of 1.3, a NaN or a crash
        propagates into decisions and downstream systems.

    How to fix:
        Validate and clip inputs to their declared domain before scoring; use model
        outputs that are valid by construction (a logistic or softmax link rather than a
        linear probability); guard numerically unstable transforms (log, exp, division)
        in custom code; monitor for out-of-range inputs.

    References:
        Breck et al. (2017), The ML test score: a rubric for ML production readiness
        and technical debt reduction, IEEE Big Data.
        Hendrycks & Gimpel (2017), A baseline for detecting misclassified and
        out-of-distribution examples in neural networks, ICLR.
    """

    id = "RB004"
    name = "out-of-range-inputs"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "beyond": Param(default=3.0, kind="float", low=0.0, high=1e6,
                        help="how far beyond the training range, in multiples of the feature's spread"),
    }
    thresholds = {
        "invalid_output_features": Threshold(direction="above", fail=0, low=0,
                                             help="features whose extreme values make the model raise or return invalid output"),
    }
    practices = ("P1.3", "P6.3")
    references = (
        "Breck et al. (2017), The ML test score: a rubric for ML production readiness and technical debt reduction, IEEE Big Data",
        "Hendrycks & Gimpel (2017), A baseline for detecting misclassified and out-of-distribution examples in neural networks, ICLR",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        numeric = [c for c in ctx.features if _is_numeric(s.X[c])]
        immutable = [c for c in numeric if not _mutable(ctx, c)]
        cases: list[tuple[str, str, float, str]] = []  # feature, side, value, how it was chosen
        for c in numeric:
            if c in immutable or c not in ref.columns:
                continue
            x = _floats(ref[c])
            x = x[~np.isnan(x)]
            if x.size == 0:
                continue
            spread = _spread(ref[c]) or max(abs(float(x.max())), 1.0)
            low, high = _bounds(ctx, c)
            step = float(params["beyond"]) * spread
            hi_value, hi_how = (high, "declared max") if np.isfinite(high) else (float(x.max()) + step, f"{ref_role} max + {params['beyond']:g} spread")
            lo_value, lo_how = (low, "declared min") if np.isfinite(low) else (float(x.min()) - step, f"{ref_role} min - {params['beyond']:g} spread")
            if ptypes.is_integer_dtype(s.X[c].dtype):
                hi_value, lo_value = float(np.ceil(hi_value)), float(np.floor(lo_value))
            cases.append((c, "high", hi_value, hi_how))
            cases.append((c, "low", lo_value, lo_how))
        if not cases:
            why = f" ({len(immutable)} declared immutable)" if immutable else ""
            return _skip(f"the model has no mutable numeric feature to push beyond its range{why}.", s.record)
        n = len(s)
        proba = ctx.is_classification and ctx.model.has_proba
        blocks = [s.X.assign(**{c: _like(np.full(n, value), s.X[c])}) for c, _, value, _ in cases]
        outcomes = _call_blocks(ctx, blocks, proba=proba, attribute=True)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_shares = self._shares(ctx, s.pred)
        invalid: dict[str, str] = {}
        rows, shifts = [], []
        for (c, side, value, how), out in zip(cases, outcomes):
            reason = _invalid(ctx, out, n)
            shift, shown = None, None
            if reason:
                invalid.setdefault(c, f"at {c}={value:.6g} ({side}) the model {reason}")
            elif ctx.is_classification:
                shares = self._shares(ctx, out.pred)
                diff = {k: shares.get(k, 0.0) - base_shares.get(k, 0.0) for k in set(shares) | set(base_shares)}
                top = max(diff, key=lambda k: (abs(diff[k]), str(k)))
                shift, shown = abs(diff[top]), f"{top}: {base_shares.get(top, 0.0):.1%} -> {shares.get(top, 0.0):.1%}"
            else:
                new = float(np.mean(np.asarray(out.pred, dtype=float)))
                old = float(np.mean(np.asarray(s.pred, dtype=float)))
                shift, shown = abs(new - old) / target_spread, f"mean {old:.4g} -> {new:.4g}"
            if shift is not None:
                shifts.append(shift)
            rows.append([c, side, value, how, "no" if reason else "yes", shown or "", shift, reason or ""])
        rows.sort(key=lambda r: (r[4] != "no", -(r[6] if r[6] is not None else 0.0)))
        shift_col = "largest class-share change" if ctx.is_classification else "mean shift / target spread"
        tested = len({c for c, *_ in cases})
        if invalid:
            first = next(iter(invalid))
            head = (f"Extreme values of {wording.count(len(invalid), 'feature')} of {tested} give invalid output or a raise: "
                    f"{invalid[first]}.")
        else:
            bound = " (or to a declared bound)" if any(how.startswith("declared") for *_, how in cases) else ""
            head = (f"The model's outputs stay valid with each of {wording.count(tested, 'numeric feature')} pushed beyond "
                    f"its {ref_role} range{bound}.")
        tail = (f" At the extremes a predicted class's share changes by up to {100 * max(shifts):.1f} percentage points."
                if shifts and ctx.is_classification else
                f" The largest shift of the mean prediction at an extreme: {max(shifts):.3f} target spreads." if shifts else "")
        return Findings(
            summary=head + tail + f" ({n:,} sampled test rows.)",
            metrics={
                "invalid_output_features": Metric(len(invalid), description="features whose extreme values make the model raise or return invalid output"),
                "max_extreme_shift": Metric(max(shifts) if shifts else None, description=f"{shift_col} at an extreme input (not judged)"),
            },
            evidence=[Evidence(
                title="Predictions at extreme inputs",
                columns=["feature", "side", "value", "chosen as", "valid", "prediction shift", shift_col, "problem"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing {MAX_ROWS} of {len(rows)}, invalid ones first. " if len(rows) > MAX_ROWS else "")
                     + "Each feature set to the value on every sampled row, one feature and side at a time"
                     + (f"; left unchanged as declared immutable: {', '.join(immutable[:MAX_ROWS])}." if immutable else "."),
            )],
            recommendation=(
                "Validate and clip inputs to their declared domain before scoring, use outputs valid by construction "
                "(logistic or softmax links), guard log/exp/division in custom code, and monitor out-of-range inputs."
            ),
            sample=s.record,
        )

    @staticmethod
    def _shares(ctx: "AuditContext", pred: np.ndarray) -> dict[str, float]:
        values = pd.Series(np.asarray(pred, dtype=object)).map(str).value_counts(normalize=True, sort=False)
        return {str(k): float(v) for k, v in values.items()}


# -- RB005 -------------------------------------------------------------------------------
class MonotonicConstraints(Check):
    """Monotonic relations declared in the policy

    What it checks:
        For each feature the policy declares ``monotonic: increasing`` (or
        ``decreasing``), moves it on every sampled test row through a grid of steps
        around its value (``steps`` each way of ``step`` x the feature's spread; IQR /
        1.349 or the standard deviation), clipped to the declared ``min`` / ``max``, and
        follows the model's output along the grid: the positive-class probability
        (binary; the predicted label as 0/1 without probabilities) or the prediction in
        units of the target's spread (regression). A row violates the declaration
        when the output moves the wrong way between two neighbouring steps by more than
        ``tolerance`` (default 0.01). Judged: the share of rows that violate any
        declared relation, with a Wilson interval: warn above 0, fail above 0.01. A
        model built to be monotonic (linear models with the right sign, gradient
        boosting with ``monotonic_cst``) reads 0. Features also declared immutable are
        not moved. Skipped when nothing is declared; binary and regression tasks only
        (for several classes "the positive class" is undefined).

    Why it matters:
        Domain knowledge and regulation often fix a direction: more income should not
        lower a credit score, more severe symptoms should not lower a risk estimate.
        A model that violates such a relation for some applicants treats them
        unreasonably and cannot be explained or defended.

    How to fix:
        Enforce the constraint in training (HistGradientBoosting ``monotonic_cst``,
        LightGBM / XGBoost ``monotone_constraints``, lattice models, sign-constrained
        linear models), or remove the interactions that break it; check the declared
        direction is right.

    References:
        Gupta et al. (2016), Monotonic calibrated interpolated look-up tables, JMLR.
        Wang & Gupta (2020), Deontological ethics by monotonicity shape constraints,
        AISTATS.
        scikit-learn user guide, Monotonic constraints (HistGradientBoosting).
    """

    id = "RB005"
    name = "monotonic-constraints"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "model"})
    tasks = frozenset({"binary", "regression"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "steps": Param(default=5, kind="int", low=1, high=100, help="grid steps each way from a row's value"),
        "step": Param(default=0.5, kind="float", low=1e-6, high=100.0, help="size of a step, in multiples of the feature's spread"),
        "tolerance": Param(default=0.01, kind="float", low=0.0, high=1.0,
                           help="largest wrong-way move ignored: a probability (binary) or a share of the target's spread (regression)"),
    }
    thresholds = {
        "monotonicity_violation_rate": Threshold(direction="above", warn=0.0, fail=0.01, low=0, high=1,
                                                 help="share of rows whose output moves against a declared monotonic relation"),
    }
    practices = ("P8.3", "P8.4", "P5.1")
    references = (
        "Gupta et al. (2016), Monotonic calibrated interpolated look-up tables, JMLR",
        "Wang & Gupta (2020), Deontological ethics by monotonicity shape constraints, AISTATS",
        "https://scikit-learn.org/stable/modules/ensemble.html#monotonic-constraints",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        declared = {c: d["monotonic"] for c, d in ctx.feature_domains.items() if (d or {}).get("monotonic") and c in ctx.features}
        if not declared:
            return Findings(status="skipped", summary=(
                "Skipped: the policy declares no monotonic feature (features: {col: {monotonic: increasing}})."))
        s = _draw_sample(ctx, self.id, params["max_rows"])
        _, ref = _reference(ctx)
        not_moved = {c: "declared immutable" for c in declared if not _mutable(ctx, c)}
        not_moved.update({c: "not numeric" for c in declared if c not in not_moved and not _is_numeric(s.X[c])})
        spreads = {c: _spread(ref[c]) if c in ref.columns else 0.0 for c in declared if c not in not_moved}
        not_moved.update({c: "constant" for c, v in spreads.items() if v <= 0})
        cols = [c for c in declared if c not in not_moved]
        if not cols:
            return _skip("no feature declared monotonic can be moved ("
                         + "; ".join(f"{c}: {why}" for c, why in not_moved.items()) + ").", s.record)
        n, steps = len(s), int(params["steps"])
        offsets = np.arange(-steps, steps + 1) * float(params["step"])
        use_proba = ctx.task == "binary" and ctx.model.has_proba
        blocks = []
        for c in cols:
            low, high = _bounds(ctx, c)
            x = _floats(s.X[c])
            grid = x[None, :] + offsets[:, None] * spreads[c]  # (grid point, row)
            grid = np.clip(grid, low, high)
            blocks.append(pd.concat([s.X.assign(**{c: _like(grid[g], s.X[c])}) for g in range(len(offsets))],
                                    ignore_index=True))
        outcomes = _call_blocks(ctx, blocks, proba=use_proba)
        tolerance = float(params["tolerance"])
        unit = 1.0 if ctx.task == "binary" else _target_spread(ctx, s.pred)
        violated = np.zeros(n, dtype=bool)
        rows = []
        for c, out in zip(cols, outcomes):
            curve = self._output(ctx, out, use_proba).reshape(len(offsets), n) / unit
            missing = np.isnan(_floats(s.X[c]))
            diffs = np.diff(curve, axis=0)
            wrong = -diffs if declared[c] == "increasing" else diffs
            worst = np.where(np.isnan(wrong), -np.inf, wrong).max(axis=0)  # largest wrong-way move per row
            bad = (worst > tolerance) & ~missing
            violated |= bad
            rows.append([c, declared[c], int((~missing).sum()), float(bad.mean()),
                         float(max(worst[~missing].max(), 0.0)) + 0.0 if (~missing).any() else None])
        rows.sort(key=lambda r: -r[3])
        metric = _proportion(violated, "share of rows whose output moves against a declared monotonic relation")
        output = ("positive-class probability" if use_proba else "predicted label (0/1)") if ctx.task == "binary" \
            else "prediction (in target spreads)"
        few = _few_rows(n)
        summary = (
            f"Moving {wording.count(len(cols), 'feature')} declared monotonic through {len(offsets)} steps of "
            f"{params['step']:g} x spread: the {output} moves the wrong way by more than {tolerance:g} on "
            f"{wording.share(metric.value)} of {n:,} sampled test rows"
            + (f" (worst: {rows[0][0]!r}, {wording.share(rows[0][3])})." if rows[0][3] > 0 else ".")
            + (f" Not moved: {'; '.join(f'{c} ({why})' for c, why in not_moved.items())}." if not_moved else "")
        )
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics={"monotonicity_violation_rate": metric},
            evidence=[Evidence(
                title="Declared monotonic relations",
                columns=["feature", "declared", "rows checked", "share of rows violating", "largest wrong-way move"],
                rows=rows[:MAX_ROWS],
                note=f"Output: {output}; grid offsets {offsets[0]:g} to {offsets[-1]:g} x spread, clipped to declared bounds; "
                     f"tolerance {tolerance:g}. Rows where the feature is missing are not checked.",
            )],
            recommendation=(
                "Enforce the declared direction in training (HistGradientBoosting monotonic_cst, LightGBM/XGBoost "
                "monotone_constraints, lattice or sign-constrained linear models) and confirm the declared direction."
            ),
            sample=s.record,
        )

    @staticmethod
    def _output(ctx: "AuditContext", out: _Outcome, use_proba: bool) -> np.ndarray:
        if ctx.task == "binary":
            classes = list(ctx.classes or [])
            if use_proba and ctx.positive_label in classes:
                return out.proba[:, classes.index(ctx.positive_label)].astype(float)
            return (encode_labels(out.pred, classes) == classes.index(ctx.positive_label)).astype(float)
        return np.asarray(out.pred, dtype=float)


class WeakSegments(Check):
    """Slices of the inputs where the model errs more than its own confidence says

    What it checks:
        The robustness half of the weak-segment search (FR007 covers slices that involve
        a sensitive feature): slices of one or two model inputs other than the sensitive
        ones (``auditor.slicing.find_weak_slices``: categorical values, numeric quantile
        bins, missing as a value). Every region near the decision boundary is hard for
        any model, so a slice is not judged on its raw error rate: each test row's
        residual is its error (0 or 1) minus the error the model's own probability
        expects (1 - the largest class probability), and a slice is weak when its mean
        residual is significantly above the rest's (Welch's t-test, one-sided), with the
        false discovery rate controlled at ``alpha`` over every slice searched, *and* its
        own mean residual is above zero with 95% confidence: a slice where the model errs
        less than its probabilities expect is never weak, however it compares with the
        rest. Judged:
        ``weak_slices``, fail above 0. Needs class probabilities; the search is bounded
        by ``max_slices`` and ``max_rows``.

    Why it matters:
        A model can be confidently wrong in one region of its inputs (one product line,
        one range of a measurement) while its averages look fine. Such a region is where
        it will fail in production without anyone noticing from the overall score.

    How to fix:
        Look at the rows of each weak slice: too few of them in training (collect or
        reweight), a feature missing that separates them, or a shift in how they are
        recorded. Recalibrate or retrain, and search again.

    References:
        Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE.
        Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57.
    """

    id = "RB006"
    name = "weak-input-segments"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "probabilities"})
    tasks = frozenset({"binary", "multiclass"})
    params = dict(SEARCH_PARAMS)
    thresholds = {
        "weak_slices": Threshold(direction="above", fail=0, low=0,
                                 help="slices where errors exceed the model's own expectation, after FDR control"),
    }
    practices = ("P4.3", "P6.3")
    references = (
        "Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE",
        "Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57",
    )

    def run(self, ctx, params):
        from auditor.evaluation import model_outputs

        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        proba = ctx.probabilities("test")[out.rows]
        residuals = (out.y != out.pred).astype("float64") - (1.0 - proba.max(axis=1))
        sample["rows_used"] = len(out)
        if len(out) < 2 * params["min_size"]:
            return Findings(status="inconclusive", sample=sample,
                            summary=f"Inconclusive: {wording.count(len(out), 'labelled test row')}, too few for slices of "
                                    f"{params['min_size']} rows to be compared with the rest.")
        frame = ctx.frame("test").iloc[out.rows].reset_index(drop=True)
        columns = [c for c in ctx.features if c in frame.columns and c not in ctx.sensitive]
        if not columns:
            return Findings(status="skipped", summary="Skipped: every model input is a declared sensitive feature (see FR007).")
        search = find_weak_slices(
            frame=frame, errors=residuals, columns=columns, max_order=params["max_order"], min_size=params["min_size"],
            bins=params["bins"], alpha=params["alpha"], random_state=ctx.seed_for(self.id), error_type="continuous",
            max_levels=params["max_levels"], max_slices=params["max_slices"],
        )
        # The search asks whether a slice's excess error is above the rest's; where the model is
        # better than its probabilities expect overall (negative excess), a slice can be "worse than
        # the rest" while still erring less than expected. Weak here means both: worse than the
        # rest after FDR control, and its own excess-error interval wholly above zero (an
        # intersection-union test, so the FDR control stays).
        weak = [r for r in search.weak if r["ci_low"] > 0]
        shown = weak[:20] if weak else search.records[:5]
        listed = "; ".join(f"{wording.shorten(r['description'], 60)} ({r['size']:,} rows, excess error {r['metric']:+.3f})"
                           for r in weak[:3])
        summary = (
            f"Searched {search.searched:,} slices of {wording.count(len(columns), 'input')} on {search.rows:,} test rows: "
            + (f"{wording.count(len(weak), 'slice')} {'errs' if len(weak) == 1 else 'err'} significantly more than the model's "
               f"own probabilities expect (FDR {params['alpha']:g}): {listed}" + (" and more." if len(weak) > 3 else ".")
               if weak else f"none errs significantly more than the model's own probabilities expect (FDR {params['alpha']:g}).")
        )
        return Findings(
            summary=summary,
            metrics={
                "weak_slices": Metric(len(weak), description="slices whose errors exceed the model's expected error, after FDR control"),
                "slices_searched": Metric(search.searched, description=f"slices with at least {params['min_size']} rows, tested"),
            },
            evidence=[Evidence(
                title="Weak input slices" if weak else "Slices with the strongest evidence (none significant)",
                columns=["slice", "rows", "excess error", "CI low", "CI high", "reference", "q"],
                rows=[[wording.shorten(r["description"], 80), r["size"], r["metric"], r["ci_low"], r["ci_high"],
                       r["reference"], r["q_value"]] for r in shown],
                note="Excess error: the slice's mean of (error - (1 - largest class probability)); q: Benjamini-Hochberg "
                     f"adjusted p-value over {search.searched:,} slices.",
            )],
            recommendation=(
                "Inspect the rows of each weak slice: rare in training, a missing feature, or recorded differently; "
                "recalibrate or retrain and search again."
            ),
            sample=sample,
        )
