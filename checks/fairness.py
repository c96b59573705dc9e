"""Fairness checks (area ``fairness``, IDs FR001-FR007).

Does the model treat the groups named by the sensitive features (``--sensitive``) alike?
FR001 lays out the model's metrics per group, FR002 measures the standard group
disparities, FR003 says which groups are too small to measure, FR004 compares calibration
across groups, FR005 looks for inputs that stand in for a sensitive attribute, FR006 says
whether a sensitive attribute is itself an input, and FR007 searches for slices of the
data where the model errs significantly more.

Groups are formed for each sensitive feature and, with two or more, for their
intersections (``max_order``). A numeric sensitive feature with many values (age) is cut
into quantile bins. A missing value is a group of its own (``<missing>``).

The mathematics is fairlearn's (``MetricFrame`` and its disparity metrics) and AIF360's
(``aif360.sklearn.metrics``), with scikit-learn, SciPy and statsmodels; this module is
glue. The libraries are called on the distinct (group, label, prediction) cells with
their row counts as sample weights, which returns the numbers they return on the rows
(the tests check it) at a fraction of the cost. Intervals come from a bootstrap that
resamples rows within each cell of the sensitive features, so group sizes stay fixed: a
resample is summarised by its counts and every disparity is recomputed from those counts
for all resamples at once. The same code evaluated on the observed counts must reproduce
the libraries' estimates (to 1e-9) before any interval is reported; a mismatch is an
error, never a silent divergence. Both libraries are imported inside ``run``, so the
command line stays fast.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from auditor import wording
from auditor.check import Check, Param, Threshold
from auditor.columns import is_numeric as _is_numeric
from auditor.evaluation import MIN_ROWS, model_outputs
from auditor.figures import interval_chart
from auditor.lazy import lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.slicing import (
    MISSING_LEVEL,
    SEARCH_PARAMS,
    column_levels,
    find_weak_slices,
)
from auditor.stats import bootstrap_ci
from auditor.toolkit.calibration import expected_calibration_error
from auditor.wording import shorten as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = 20
MAX_TEXT = 40
JOIN = " & "
# The bootstrap statistic on the observed counts must equal the libraries' estimate to this.
AGREEMENT = 1e-9
# An interval needs this share of resamples where the statistic is defined.
MIN_DEFINED_SHARE = 0.9
# Regression's relative error gap has no natural ceiling; an attribute that cannot be measured
# widens the interval up to this value (a policy cannot set a fail level above it).
RELATIVE_GAP_BOUND = 10.0
# Confusion cells of a binary task: cell = 2 * label + prediction (1 = positive label).
TN, FP, FN, TP = 0, 1, 2, 3

MSG_DISAGREE = (
    "internal consistency check failed: the bootstrap statistic {name} on the observed rows is {ours!r} "
    "but {library} gives {theirs!r}"
)


# -- libraries ---------------------------------------------------------------------------
def _aif360_metrics():
    """``aif360.sklearn.metrics``, imported with the root logger quietened.

    Importing AIF360 logs a root-logger WARNING for each optional extra it lacks
    (tensorflow, inFairness, ot); those are not the audit's business.
    """
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        import aif360.sklearn.metrics as aif
    finally:
        root.setLevel(level)
    return aif


def _fairlearn_metrics():
    import fairlearn.metrics as flm

    return flm


# -- small helpers -------------------------------------------------------------------------
def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _ci_text(est: float | None, low: float | None, high: float | None, digits: int = 3) -> str:
    if est is None:
        return "not measurable"
    if low is None or high is None:
        return f"{est:.{digits}f}"
    return f"{est:.{digits}f} ({low:.{digits}f} to {high:.{digits}f})"


def _skip(reason: str) -> Findings:
    return Findings(summary=f"Skipped: {reason}", status="skipped")


def _missing_sensitive(ctx: AuditContext, role: str) -> list[str]:
    return [c for c in ctx.sensitive if c not in ctx.frame(role).columns]


def _agree(name: str, ours: float | None, theirs: float | None, library: str) -> None:
    """Raise when the bootstrap statistic on the observed data differs from the library's estimate."""
    a = np.nan if ours is None else float(ours)
    b = np.nan if theirs is None else float(theirs)
    if np.isnan(a) and np.isnan(b):
        return
    if not (np.isfinite(a) and np.isfinite(b) and abs(a - b) <= AGREEMENT * max(1.0, abs(b))):
        raise RuntimeError(MSG_DISAGREE.format(name=name, ours=ours, theirs=theirs, library=library))


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    values = np.asarray(values, dtype="float64")
    finite = values[np.isfinite(values)]
    if len(values) == 0 or len(finite) < MIN_DEFINED_SHARE * len(values):
        return None, None
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _nan_reduce(fn, values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmax`` / ``np.nanmin`` without the warning for an all-NaN slice (it stays NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(values, axis=axis)


# -- groups ------------------------------------------------------------------------------
@dataclass
class Attribute:
    """One sensitive feature, or an intersection of several: each row's group."""

    name: str
    columns: tuple[str, ...]
    codes: np.ndarray
    groups: list[str]

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=len(self.groups))

    @property
    def is_intersection(self) -> bool:
        return len(self.columns) > 1


def group_codes(series: pd.Series, *, max_levels: int, numeric_bins: int) -> tuple[np.ndarray, list[str]]:
    """Each row's group in one sensitive column, and the groups' labels.

    Every value is a group, except in a numeric column with more than ``max_levels``
    distinct values, which is cut into ``numeric_bins`` quantile bins. Missing values form
    the group ``<missing>``.
    """
    s = series.reset_index(drop=True)
    if _is_numeric(s) and s.nunique(dropna=True) > max_levels:
        return column_levels(s, bins=numeric_bins, max_levels=len(s) + 1)
    as_object = s.astype(object).where(s.notna(), None)
    return column_levels(as_object, bins=numeric_bins, max_levels=len(s) + 1)


def sensitive_attributes(frame: pd.DataFrame, columns: list[str], *, max_order: int, max_levels: int,
                         numeric_bins: int) -> list[Attribute]:
    """The sensitive features and their intersections up to ``max_order`` features at a time."""
    singles = []
    for col in columns:
        codes, groups = group_codes(frame[col], max_levels=max_levels, numeric_bins=numeric_bins)
        singles.append(Attribute(name=str(col), columns=(col,), codes=codes, groups=groups))
    attributes = list(singles)
    for order in range(2, min(max_order, len(singles)) + 1):
        for combo in combinations(singles, order):
            combined = np.zeros(len(frame), dtype=np.int64)
            for part in combo:
                combined = combined * len(part.groups) + part.codes
            codes, uniques = pd.factorize(combined, sort=True)
            labels = []
            for value in uniques:
                parts = []
                for part in reversed(combo):
                    value, code = divmod(int(value), len(part.groups))
                    parts.append(part.groups[code])
                labels.append(JOIN.join(reversed(parts)))
            attributes.append(Attribute(
                name=JOIN.join(str(p.name) for p in combo), columns=tuple(c for p in combo for c in p.columns),
                codes=np.asarray(codes, dtype=np.int64), groups=labels,
            ))
    return attributes


def finest_strata(attributes: list[Attribute], n: int) -> tuple[np.ndarray, int]:
    """Each row's cell in the finest partition of all the attributes (the bootstrap's strata)."""
    combined = np.zeros(n, dtype=np.int64)
    for attr in attributes:
        if not attr.is_intersection:
            combined = combined * len(attr.groups) + attr.codes
    codes, uniques = pd.factorize(combined, sort=True)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def stratum_groups(attr: Attribute, strata: np.ndarray, n_strata: int) -> np.ndarray:
    """The group of ``attr`` that each stratum lies in (every stratum lies in exactly one)."""
    out = np.zeros(n_strata, dtype=np.int64)
    out[strata] = attr.codes
    return out


def cell_counts(strata: np.ndarray, cells: np.ndarray, n_strata: int, n_cells: int) -> np.ndarray:
    """Observed rows per (stratum, cell), shape (n_strata, n_cells)."""
    return np.bincount(strata * n_cells + cells, minlength=n_strata * n_cells).reshape(n_strata, n_cells)


def resample_cell_counts(observed: np.ndarray, *, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Cell counts of bootstrap resamples drawn within each stratum, shape (B, n_strata, n_cells).

    Drawing a stratum's rows with replacement and counting them by cell is drawing the
    counts from a multinomial with the stratum's size and observed cell shares, so the
    counts are drawn directly: the same resamples, without materialising the rows.
    """
    n_strata, n_cells = observed.shape
    out = np.zeros((n_resamples, n_strata, n_cells), dtype=np.int64)
    for s in range(n_strata):
        size = int(observed[s].sum())
        if size:
            out[:, s, :] = rng.multinomial(size, observed[s] / size, size=n_resamples)
    return out


def by_group(counts: np.ndarray, groups_of_strata: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum stratum counts (..., n_strata, n_cells) into group counts (..., n_groups, n_cells)."""
    onehot = np.zeros((len(groups_of_strata), n_groups), dtype=np.int64)
    onehot[np.arange(len(groups_of_strata)), groups_of_strata] = 1
    return np.einsum("...sc,sg->...gc", counts, onehot)


def resample_rows(strata: np.ndarray, rng: np.random.Generator, members: list[np.ndarray]) -> np.ndarray:
    """One bootstrap resample drawn within each stratum: position i holds a row of i's stratum."""
    idx = np.empty(len(strata), dtype=np.int64)
    for rows in members:
        idx[rows] = rows[rng.integers(0, len(rows), size=len(rows))]
    return idx


def _members(strata: np.ndarray, n_strata: int) -> list[np.ndarray]:
    order = np.argsort(strata, kind="stable")
    bounds = np.searchsorted(strata[order], np.arange(n_strata + 1))
    return [order[bounds[s]:bounds[s + 1]] for s in range(n_strata) if bounds[s + 1] > bounds[s]]


IntervalMethod = Literal["bias_corrected", "percentile", "basic"]


def bootstrap_interval(estimate: float, values: np.ndarray, *, confidence: float, method: IntervalMethod,
                       limits: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float | None, float | None]:
    """A bootstrap interval of a statistic from its resampled values, clipped to ``limits``.

    ``percentile``: the resamples' quantiles. ``bias_corrected``: the same quantiles moved
    by the bootstrap estimate of the bias (mean of the resamples minus the estimate). The
    largest gap between groups is biased upwards (noise alone makes a maximum larger) and
    resampling adds the same bias once more, so the plain percentile interval sits too high
    and reads "inconclusive" on data with no disparity at all; moving it back by the bias
    fixes that while keeping the resamples' spread (Efron & Tibshirani 1993, ch. 10).
    ``basic``: the quantiles reflected about the estimate (2 x estimate - quantile), which
    removes the bias too but folds the interval of a gap near zero onto itself.
    """
    values = np.asarray(values, dtype="float64")
    low, high = _percentile_interval(values, confidence)
    if low is None or high is None:
        return None, None
    if method == "bias_corrected":
        bias = float(np.mean(values[np.isfinite(values)])) - estimate
        low, high = low - bias, high - bias
    elif method == "basic":
        low, high = 2 * estimate - high, 2 * estimate - low
    return float(np.clip(low, *limits)), float(np.clip(high, *limits))


def combine_worst(estimates: list[float | None], boots: list[np.ndarray | None], *, worst: Literal["max", "min"],
                  undecided: bool, bound: float, confidence: float, method: IntervalMethod = "percentile",
                  limits: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float | None, float | None, float | None, int | None]:
    """The worst value over attributes, with the bootstrap interval of that worst value.

    Each resample's statistic is the worst over the attributes in that resample, so the
    interval covers the maximum (or minimum) itself, not one attribute picked after the
    fact. ``undecided``: some attribute could not be measured (fewer than two groups large
    enough); its value could be anything up to ``bound``, so the interval is widened to
    reach it and a verdict that depends on it reads inconclusive.
    """
    measured = [i for i, e in enumerate(estimates) if e is not None and np.isfinite(e)]
    if not measured:
        return None, None, None, None
    est = np.array([estimates[i] for i in measured], dtype="float64")
    pick = int(np.argmax(est) if worst == "max" else np.argmin(est))
    value = float(est[pick])
    low = high = None
    if all(boots[i] is not None for i in measured):
        stack = np.vstack([boots[i] for i in measured])
        joint = _nan_reduce(np.nanmax if worst == "max" else np.nanmin, stack, axis=0)
        low, high = bootstrap_interval(value, joint, confidence=confidence, method=method, limits=limits)
    if undecided:
        if worst == "max":
            low, high = (value if low is None else low), bound
        else:
            low, high = bound, (value if high is None else high)
    return value, low, high, measured[pick]


# -- preparation shared by FR001, FR002 and FR004 -------------------------------------------
@dataclass
class Prepared:
    out: Any
    attributes: list[Attribute]
    strata: np.ndarray
    n_strata: int
    sample: dict[str, Any]


def _prepare(ctx: AuditContext, params: dict[str, Any], check_id: str) -> Prepared | Findings:
    missing = _missing_sensitive(ctx, "test")
    if missing:
        return _skip(f"the test data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
    idx, sample = ctx.sample_index("test", params["max_rows"], check_id=check_id)
    out = model_outputs(ctx, "test", idx)
    if len(out) < MIN_ROWS:
        return Findings(status="inconclusive", sample=sample,
                        summary=f"Inconclusive: only {len(out)} labelled test rows; groups cannot be compared on so few.")
    sample["rows_used"] = len(out)
    frame = ctx.frame("test").iloc[out.rows].reset_index(drop=True)
    attributes = sensitive_attributes(frame, list(ctx.sensitive), max_order=params["max_order"],
                                      max_levels=params["max_levels"], numeric_bins=params["numeric_bins"])
    strata, n_strata = finest_strata(attributes, len(out))
    return Prepared(out=out, attributes=attributes, strata=strata, n_strata=n_strata, sample=sample)


def _group_list(attr: Attribute, codes: np.ndarray) -> str:
    sizes = attr.sizes
    shown = [f"{_text(attr.groups[g])} ({sizes[g]:,} rows)" for g in codes[:6]]
    return ", ".join(shown) + (f" and {len(codes) - 6} more" if len(codes) > 6 else "")


def _undecidable_reason(attr: Attribute, eligible: np.ndarray, min_rows: int) -> str:
    sizes = attr.sizes
    small = np.flatnonzero(sizes < min_rows)
    return (
        f"{_text(attr.name)} has {wording.count(len(eligible), 'group')} with at least {min_rows} rows"
        + (f" (too small: {_group_list(attr, small)})" if len(small) else "")
    )


_SENSITIVE_PARAMS = {
    "min_group_rows": Param(default=30, kind="int", low=1, high=1_000_000,
                            help="rows a group needs to enter a comparison; smaller groups are listed and left out"),
    "max_order": Param(default=2, kind="int", low=1, high=4,
                       help="intersections of up to this many sensitive features (1: none)"),
    "max_levels": Param(default=10, kind="int", low=2, high=1000,
                        help="a numeric sensitive feature with more distinct values is cut into quantile bins"),
    "numeric_bins": Param(default=4, kind="int", low=2, high=20, help="quantile bins of a many-valued numeric sensitive feature"),
}
_INTERVAL_PARAM = Param(default="bias_corrected", kind="str", choices=("bias_corrected", "percentile", "basic"),
                        help="bootstrap interval: percentile moved by the bootstrap bias (default; a largest gap is biased), plain percentile, or basic")


@dataclass
class CellTable:
    """Rows summarised as distinct (group, label, prediction) cells with their row counts.

    fairlearn's and AIF360's metrics take ``sample_weight``; called on this table with the
    counts as weights they return what they return on the rows (the tests check it), in a
    fraction of the time.
    """

    group: np.ndarray
    y: np.ndarray
    p: np.ndarray
    weight: np.ndarray

    def only(self, groups) -> CellTable:
        keep = np.isin(self.group, groups)
        return CellTable(self.group[keep], self.y[keep], self.p[keep], self.weight[keep])

    def labelled_series(self, name: str = "group") -> pd.Series:
        """Labels indexed by group, as AIF360 expects them."""
        return pd.Series(self.y, index=pd.Index(self.group, name=name))


def cell_table(codes: np.ndarray, y: np.ndarray, p: np.ndarray) -> CellTable:
    """The (group, label, prediction) cells of integer-coded rows (a code may be -1: an unknown label)."""
    k = int(max(y.max(initial=0), p.max(initial=0))) + 2
    combined = (codes.astype(np.int64) * k + (y + 1)) * k + (p + 1)
    cells, counts = np.unique(combined, return_counts=True)
    rest, pp = np.divmod(cells, k)
    group, yy = np.divmod(rest, k)
    return CellTable(group=group, y=yy - 1, p=pp - 1, weight=counts.astype("float64"))


def _rates(g: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group rates from confusion counts (..., groups, 4); NaN where a rate is undefined."""
    g = g.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        n = g.sum(axis=-1)
        pos, neg = g[..., FN] + g[..., TP], g[..., TN] + g[..., FP]
        predicted = g[..., FP] + g[..., TP]
        return {
            "n": n,
            "selection_rate": predicted / n,
            "true_positive_rate": np.where(pos > 0, g[..., TP] / pos, np.nan),
            "false_positive_rate": np.where(neg > 0, g[..., FP] / neg, np.nan),
            "false_negative_rate": np.where(pos > 0, g[..., FN] / pos, np.nan),
            "true_negative_rate": np.where(neg > 0, g[..., TN] / neg, np.nan),
            "precision": np.where(predicted > 0, g[..., TP] / predicted, np.nan),
            "accuracy": (g[..., TN] + g[..., TP]) / n,
        }


# The rates FR001 lays out per group for a binary task: name -> (numerator cells, denominator
# cells, what it is). Error rates are those of the positive label; the selection rate counts
# the favourable outcome (see ``favourable_cells``).
BINARY_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "selection_rate": ((FP, TP), (TN, FP, FN, TP), "share predicted favourable"),
    "true_positive_rate": ((TP,), (FN, TP), "positives predicted positive"),
    "false_positive_rate": ((FP,), (TN, FP), "negatives predicted positive"),
    "false_negative_rate": ((FN,), (FN, TP), "positives predicted negative"),
    "true_negative_rate": ((TN,), (TN, FP), "negatives predicted negative"),
    "precision": ((TP,), (FP, TP), "predicted positives that are positive"),
    "accuracy": ((TN, TP), (TN, FP, FN, TP), "predictions that are right"),
}
# The error-rate gaps FR001 judges (FR002's equalized odds is the larger of the two ranges).
JUDGED_RATE_GAPS = {"false_positive_rate": "max_false_positive_rate_gap",
                    "false_negative_rate": "max_false_negative_rate_gap"}


def favourable_outcome(ctx: AuditContext, positive: int) -> tuple[int | None, str]:
    """The favourable outcome as a code of the binary outputs (None: not declared), and
    the words that say what a selection rate counts."""
    if ctx.favourable_label is None:
        label = ctx.positive_label
        return None, (f"selection rate = share predicted {_text(label)!r}, the positive label: no favourable outcome "
                      "was declared (--favourable-label)")
    code = ctx.classes.index(ctx.favourable_label)
    return code, f"selection rate = share predicted {_text(ctx.favourable_label)!r}, the declared favourable outcome"


def wilson_intervals(count: np.ndarray, nobs: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of proportions (NaN where there is no row to count); a
    bootstrap interval of a rate of 0 or 1 collapses to a point, the score interval does not."""
    from statsmodels.stats.proportion import proportion_confint

    count, nobs = np.asarray(count, dtype="float64"), np.asarray(nobs, dtype="float64")
    low, high = np.full(count.shape, np.nan), np.full(count.shape, np.nan)
    ok = nobs > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(count[ok], nobs[ok], alpha=1 - confidence, method="wilson")
    return low, high


def _spread(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Largest minus smallest value over ``groups`` (last axis), NaN where fewer than two are defined."""
    sub = values[..., groups]
    defined = np.isfinite(sub).sum(axis=-1)
    out = _nan_reduce(np.nanmax, sub, axis=-1) - _nan_reduce(np.nanmin, sub, axis=-1)
    return np.where(defined >= 2, out, np.nan)


# -- FR001 ---------------------------------------------------------------------------
class GroupMetrics(Check):
    """The model's metrics in each group

    What it checks:
        For each sensitive feature and, with two or more, each intersection of them
        (``max_order``), the model's test metrics in every group, computed with
        fairlearn's ``MetricFrame``. Binary tasks: rows, positive labels, selection rate,
        true and false positive rates, false negative and true negative rates, precision
        and accuracy, each with its Wilson score interval (which, unlike a bootstrap, does
        not collapse to a point at a rate of 0 or 1), and for each rate the highest and
        the lowest group with their difference (bootstrap interval) and ratio. The error
        rates are those of the positive label; the selection rate counts the favourable
        outcome when one is declared (``--favourable-label``), the positive label
        otherwise, and the evidence says which. Multiclass tasks: rows and accuracy only,
        since there is no positive class whose rates would mean anything (one-vs-rest
        rates for each class would multiply the table without changing the verdict).
        Regression: rows, mean absolute error and root mean squared error.

        Groups with fewer than ``min_group_rows`` rows are shown, flagged and left out of
        the comparison. The judged metric is ``max_accuracy_gap``: the largest accuracy
        minus the smallest over the groups compared, the worst over all attributes, with a
        bootstrap interval (rows resampled within each group, ``n_resamples``; each
        resample takes the worst attribute again, so the interval is that of the maximum;
        ``interval: bias_corrected`` moves the percentile interval back by the bootstrap's
        estimate of the bias that a largest gap carries). It warns above 0.05 and fails
        above 0.10; an interval that contains 0.10 reads inconclusive, as does an
        attribute with fewer than two groups large enough (its interval is widened to 1).
        Binary tasks also judge the error-rate gaps, since equal accuracy can hide one
        group's mistakes being false alarms and another's misses:
        ``max_false_positive_rate_gap`` and ``max_false_negative_rate_gap`` (largest minus
        smallest group rate over groups with at least ``min_group_labels`` rows of each
        label, worst attribute, the same bootstrap): warn above 0.10, fail above 0.20, the
        levels of FR002's equalized odds difference, which is the larger of the two.
        Regression judges ``max_relative_mae_gap`` instead, the largest group mean
        absolute error minus the smallest, divided by the overall one (scale-free): warn
        above 0.10, fail above 0.25.

    Why it matters:
        An overall score averages over people. A model can be accurate on the majority and
        much worse on a minority, and the average hides it; the per-group table is the
        first thing a reviewer asks for (fairness as performance parity).

    How to fix:
        Look at where the gap comes from: a group with few training rows (collect more, or
        reweight), features that are less informative for one group, or labels of
        different quality. Then consider mitigation, such as fairlearn's
        ThresholdOptimizer or ExponentiatedGradient, or AIF360's Reweighing, and measure
        again: closing one gap can widen another.

    References:
        P8.1 and P4.3 of the practices; Bird et al. (2020), Fairlearn: a toolkit for
        assessing and improving fairness in AI, Microsoft MSR-TR-2020-32 (MetricFrame);
        Buolamwini & Gebru (2018), Gender shades: intersectional accuracy disparities in
        commercial gender classification, FAT*; Efron & Tibshirani (1993), An
        Introduction to the Bootstrap.
    """

    id = "FR001"
    name = "group-metrics"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "sensitive"})
    params = {
        **_SENSITIVE_PARAMS,
        "n_resamples": Param(default=500, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="binary: rows of each label a group needs to enter the error-rate gaps"),
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "max_accuracy_gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                                      help="largest minus smallest group accuracy, worst attribute"),
        "max_false_positive_rate_gap": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                                 help="binary: largest minus smallest group false positive rate, worst attribute"),
        "max_false_negative_rate_gap": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                                 help="binary: largest minus smallest group false negative rate, worst attribute"),
        "max_relative_mae_gap": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=RELATIVE_GAP_BOUND,
                                          help="regression: (largest - smallest group MAE) / overall MAE, worst attribute"),
    }
    practices = ("P8.1", "P4.3")
    references = (
        "Bird et al. (2020), Fairlearn: a toolkit for assessing and improving fairness in AI, MSR-TR-2020-32",
        "Buolamwini & Gebru (2018), Gender shades, FAT*",
        "https://fairlearn.org/main/user_guide/assessment/index.html",
    )

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        flm = _fairlearn_metrics()
        from sklearn.metrics import (
            accuracy_score,
            mean_absolute_error,
            root_mean_squared_error,
        )

        out, attrs = prepared.out, prepared.attributes
        if out.task == "binary":
            return self._binary(ctx, params, prepared, flm)
        rng = ctx.rng(self.id)
        min_rows, conf = params["min_group_rows"], params["confidence"]
        regression = out.task == "regression"
        if out.task == "multiclass":
            y, p = out.y, out.pred
            metric_fns = {"accuracy": accuracy_score}
        else:
            y, p = out.y.astype(float), out.pred.astype(float)
            metric_fns = {"mae": mean_absolute_error, "rmse": root_mean_squared_error}
        judged_name = "mae" if regression else "accuracy"

        frames = []
        for attr in attrs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a group with one class gives sklearn's ill-defined warnings
                if regression:
                    mf = flm.MetricFrame(metrics=metric_fns, y_true=y, y_pred=p, sensitive_features=attr.codes)
                else:
                    t = cell_table(attr.codes, y, p)
                    mf = flm.MetricFrame(metrics=metric_fns, y_true=t.y, y_pred=t.p, sensitive_features=t.group,
                                         sample_params={k: {"sample_weight": t.weight} for k in metric_fns})
            frames.append(mf.by_group)

        # Bootstrap: per-group accuracy (or MAE) in each resample, rows drawn within the finest strata.
        per_group_boot: list[np.ndarray] = []  # (B, groups) per attribute
        overall_boot = None
        if regression:
            absolute = np.abs(y - p)
            members = _members(prepared.strata, prepared.n_strata)
            overall_boot = np.empty(params["n_resamples"])
            sums = [np.empty((params["n_resamples"], len(a.groups))) for a in attrs]
            for b in range(params["n_resamples"]):
                # position i of the resample holds a row of i's stratum, hence of i's group
                drawn = absolute[resample_rows(prepared.strata, rng, members)]
                overall_boot[b] = drawn.mean()
                for ai, attr in enumerate(attrs):
                    sums[ai][b] = np.bincount(attr.codes, weights=drawn, minlength=len(attr.groups))
            per_group_boot = [total / np.maximum(attr.sizes, 1) for total, attr in zip(sums, attrs)]
        else:
            correct = (y == p).astype(np.int64)
            observed = cell_counts(prepared.strata, correct, prepared.n_strata, 2)
            boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)
            for attr in attrs:
                g = by_group(boot, stratum_groups(attr, prepared.strata, prepared.n_strata), len(attr.groups))
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_group_boot.append(g[..., 1] / g.sum(axis=-1))

        estimates, boots, reasons = [], [], []
        eligible_by_attr = []
        overall_mae = float(np.mean(np.abs(y - p))) if regression else None
        for attr, table, gboot in zip(attrs, frames, per_group_boot):
            eligible = np.flatnonzero(attr.sizes >= min_rows)
            eligible_by_attr.append(eligible)
            values = table[judged_name].reindex(range(len(attr.groups))).to_numpy(dtype="float64")
            if len(eligible) < 2:
                estimates.append(None)
                boots.append(None)
                reasons.append(_undecidable_reason(attr, eligible, min_rows))
                continue
            gap = float(values[eligible].max() - values[eligible].min())
            stat = _spread(gboot, eligible)
            if regression:
                gap = gap / overall_mae if overall_mae > 0 else None
                stat = stat / np.where(overall_boot > 0, overall_boot, np.nan)
            estimates.append(gap)
            boots.append(stat)
            # fairlearn's per-group values and the bootstrap's agree on the observed rows
            if not regression:
                counts = by_group(cell_counts(prepared.strata, (y == p).astype(np.int64), prepared.n_strata, 2),
                                  stratum_groups(attr, prepared.strata, prepared.n_strata), len(attr.groups))
                _agree(f"accuracy gap ({attr.name})", float(_spread(counts[..., 1] / counts.sum(-1), eligible)), gap,
                       "fairlearn MetricFrame")
        metric_name = "max_relative_mae_gap" if regression else "max_accuracy_gap"
        value, low, high, worst = combine_worst(estimates, boots, worst="max", undecided=bool(reasons),
                                                bound=RELATIVE_GAP_BOUND if regression else 1.0, confidence=conf,
                                                method=params["interval"], limits=(0.0, RELATIVE_GAP_BOUND if regression else 1.0))
        what = "(largest - smallest group MAE) / overall MAE" if regression else "largest minus smallest group accuracy"
        metrics = {
            metric_name: Metric(value, low, high, description=f"{what}, worst attribute ({conf:.0%} bootstrap interval of the maximum)"
                                + ("; widened: an attribute has fewer than two groups large enough" if reasons else "")),
            "groups": Metric(int(sum(len(a.groups) for a in attrs)), description="groups and intersections measured"),
            "groups_excluded": Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                      description=f"groups with fewer than {min_rows} rows, left out of the comparison"),
        }
        if regression:
            metrics["overall_mae"] = Metric(overall_mae, description="mean absolute error over all test rows")

        columns = ["attribute", "group", "rows"] + [k.replace("_", " ") for k in metric_fns] + [
            f"{judged_name} CI low", f"{judged_name} CI high", f"below {min_rows} rows"]
        rows, figure_rows = [], []
        for attr, table, gboot in zip(attrs, frames, per_group_boot):
            for g, group in enumerate(attr.groups):
                record = table.loc[g] if g in table.index else None
                values = [None if record is None else _num(record[k]) for k in metric_fns]
                est = None if record is None else _num(record[judged_name])
                lo, hi = (None, None) if est is None else bootstrap_interval(
                    est, gboot[:, g], confidence=conf, method=params["interval"], limits=(0.0, np.inf if regression else 1.0))
                rows.append([_text(attr.name), _text(group), int(attr.sizes[g]), *values, lo, hi,
                             "yes" if attr.sizes[g] < min_rows else ""])
                if est is not None:
                    figure_rows.append((f"{attr.name}: {group}", est, lo, hi))
        total_rows = len(rows)
        note = (f"fairlearn MetricFrame; intervals: bootstrap within groups, {params['n_resamples']} resamples, "
                f"seed {ctx.seed_for(self.id)}.")
        if total_rows > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {total_rows} groups."
        evidence = [Evidence(title="Metrics per group", columns=columns, rows=rows[:MAX_ROWS], note=note)]
        figures = [interval_chart(
            f"{'Mean absolute error' if regression else 'Accuracy'} per group",
            figure_rows[:MAX_ROWS], xlabel="mean absolute error" if regression else "accuracy",
            caption=f"Dots: estimates on the test rows; bars: {conf:.0%} bootstrap intervals (rows resampled within groups).",
        )] if figure_rows else []

        if value is None:
            summary = "Could not compare groups: " + "; ".join(reasons) + "."
        else:
            attr = attrs[worst]
            table = frames[worst].reindex(range(len(attr.groups)))
            eligible = eligible_by_attr[worst]
            vals = table[judged_name].to_numpy(dtype="float64")
            hi_g, lo_g = eligible[np.argmax(vals[eligible])], eligible[np.argmin(vals[eligible])]
            if regression:
                summary = (f"The mean absolute error differs most across {_text(attr.name)}: from {vals[lo_g]:.4g} "
                           f"({_text(attr.groups[lo_g])}) to {vals[hi_g]:.4g} ({_text(attr.groups[hi_g])}), a gap of "
                           f"{_ci_text(value, low, high)} of the overall {overall_mae:.4g}.")
            else:
                summary = (f"Accuracy differs most across {_text(attr.name)}: {vals[hi_g]:.3f} for {_text(attr.groups[hi_g])} "
                           f"and {vals[lo_g]:.3f} for {_text(attr.groups[lo_g])}, a gap of {_ci_text(value, low, high)}.")
            if reasons:
                summary += " Not measurable: " + "; ".join(reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            summary += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'is' if excluded == 1 else 'are'} shown but not compared."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=figures,
            recommendation=(
                "Find where the gap comes from (group size in training, feature quality, label quality) before mitigating; "
                "then try fairlearn's ThresholdOptimizer or ExponentiatedGradient, or AIF360's Reweighing, and measure again."
            ),
            sample=prepared.sample,
        )


    # -- binary tasks: every rate per group, the error-rate gaps judged ---------------
    def _binary(self, ctx, params, prepared: Prepared, flm) -> Findings:
        from sklearn.metrics import accuracy_score, precision_score

        out, attrs = prepared.out, prepared.attributes
        rng = ctx.rng(self.id)
        min_rows, min_labels, conf = params["min_group_rows"], params["min_group_labels"], params["confidence"]
        y = (out.y == out.positive).astype(np.int64)
        p = (out.pred == out.positive).astype(np.int64)
        favourable, orientation = favourable_outcome(ctx, out.positive)
        selected = (FP, TP) if favourable is None or favourable == out.positive else (TN, FN)
        rates = dict(BINARY_RATES)
        rates["selection_rate"] = (selected, rates["selection_rate"][1], rates["selection_rate"][2])
        metric_fns = {
            "selection_rate": partial(flm.selection_rate, pos_label=1 if selected == (FP, TP) else 0),
            "true_positive_rate": partial(flm.true_positive_rate, pos_label=1),
            "false_positive_rate": partial(flm.false_positive_rate, pos_label=1),
            "false_negative_rate": partial(flm.false_negative_rate, pos_label=1),
            "true_negative_rate": partial(flm.true_negative_rate, pos_label=1),
            "precision": partial(precision_score, zero_division=np.nan),
            "accuracy": accuracy_score,
        }
        observed = cell_counts(prepared.strata, 2 * y + p, prepared.n_strata, 4)
        boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)

        def rate(counts: np.ndarray, name: str) -> np.ndarray:
            num, den = rates[name][0], rates[name][1]
            top, bottom = counts[..., list(num)].sum(-1).astype("float64"), counts[..., list(den)].sum(-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(bottom > 0, top / np.maximum(bottom, 1), np.nan)

        per_attr = []  # (g_obs, g_boot, eligible, rate-eligible) per attribute
        group_rows, gap_rows, figure_rows = [], [], []
        estimates: dict[str, list] = {m: [] for m in ("accuracy", *JUDGED_RATE_GAPS)}
        boots: dict[str, list] = {m: [] for m in estimates}
        reasons, rate_reasons = [], []
        for attr in attrs:
            sg = stratum_groups(attr, prepared.strata, prepared.n_strata)
            g_obs, g_boot = by_group(observed, sg, len(attr.groups)), by_group(boot, sg, len(attr.groups))
            eligible = np.flatnonzero(attr.sizes >= min_rows)
            labels_ok = (g_obs[:, FN] + g_obs[:, TP] >= min_labels) & (g_obs[:, TN] + g_obs[:, FP] >= min_labels)
            rate_eligible = eligible[labels_ok[eligible]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a group with one class gives sklearn's ill-defined warnings
                t = cell_table(attr.codes, y, p)
                table = flm.MetricFrame(metrics=metric_fns, y_true=t.y, y_pred=t.p, sensitive_features=t.group,
                                        sample_params={k: {"sample_weight": t.weight} for k in metric_fns}).by_group
            table = table.reindex(range(len(attr.groups)))
            for name in metric_fns:  # fairlearn's numbers and the counts' agree on the observed rows
                for g in eligible:
                    _agree(f"{name} ({attr.name}: {attr.groups[g]})", _num(rate(g_obs[g], name)), _num(table.loc[g, name]),
                           "fairlearn MetricFrame")
            per_attr.append((g_obs, g_boot, eligible, rate_eligible, table))
            if len(eligible) < 2:
                reasons.append(_undecidable_reason(attr, eligible, min_rows))
                estimates["accuracy"].append(None)
                boots["accuracy"].append(None)
            else:
                estimates["accuracy"].append(float(_spread(rate(g_obs, "accuracy"), eligible)))
                boots["accuracy"].append(_spread(rate(g_boot, "accuracy"), eligible))
            if len(rate_eligible) < 2:
                if len(eligible) >= 2:
                    rate_reasons.append(f"{_text(attr.name)} has fewer than two groups with {min_labels} rows of each label")
                for name in JUDGED_RATE_GAPS:
                    estimates[name].append(None)
                    boots[name].append(None)
            else:
                for name in JUDGED_RATE_GAPS:
                    estimates[name].append(float(_spread(rate(g_obs, name), rate_eligible)))
                    boots[name].append(_spread(rate(g_boot, name), rate_eligible))

            # the per-group table: every rate with its score interval
            for g, group in enumerate(attr.groups):
                cells = g_obs[g]
                row = [_text(attr.name), _text(group), int(attr.sizes[g]), int(cells[FN] + cells[TP])]
                for name in metric_fns:
                    num, den = rates[name][0], rates[name][1]
                    k, n = int(cells[list(num)].sum()), int(cells[list(den)].sum())
                    lo, hi = wilson_intervals(np.array([k]), np.array([n]), conf)
                    row.append(f"{k / n:.3f} ({lo[0]:.3f}–{hi[0]:.3f})" if n else "—")
                row.append("" if g in rate_eligible else f"< {min_rows} rows" if attr.sizes[g] < min_rows
                           else f"< {min_labels} of a label")
                group_rows.append(row)
                if g in eligible:
                    acc = float(rate(cells, "accuracy"))
                    lo, hi = wilson_intervals(np.array([cells[TN] + cells[TP]]), np.array([cells.sum()]), conf)
                    figure_rows.append((f"{attr.name}: {group}", acc, _num(lo[0]), _num(hi[0])))
            # the gaps: for each rate, the highest and the lowest group, difference and ratio
            for name in metric_fns:
                among = eligible if name in ("selection_rate", "accuracy", "precision") else rate_eligible
                values = rate(g_obs, name)
                among = among[np.isfinite(values[among])]
                if len(among) < 2:
                    continue
                hi_g, lo_g = int(among[np.argmax(values[among])]), int(among[np.argmin(values[among])])
                diff = float(values[hi_g] - values[lo_g])
                d_lo, d_hi = bootstrap_interval(diff, _spread(rate(g_boot, name), among), confidence=conf,
                                                method=params["interval"], limits=(0.0, 1.0))
                ratio = float(values[lo_g] / values[hi_g]) if values[hi_g] > 0 else None
                gap_rows.append([_text(attr.name), name.replace("_", " "),
                                 f"{_text(attr.groups[hi_g])}: {values[hi_g]:.3f}", f"{_text(attr.groups[lo_g])}: {values[lo_g]:.3f}",
                                 _ci_text(diff, d_lo, d_hi), None if ratio is None else round(ratio, 3), len(among)])

        metrics: dict[str, Metric] = {}
        worst: dict[str, int | None] = {}
        for name, metric_name, words in (
            ("accuracy", "max_accuracy_gap", "largest minus smallest group accuracy"),
            ("false_positive_rate", "max_false_positive_rate_gap", "largest minus smallest group false positive rate"),
            ("false_negative_rate", "max_false_negative_rate_gap", "largest minus smallest group false negative rate"),
        ):
            undecided = bool(reasons or (name != "accuracy" and rate_reasons))
            value, low, high, w = combine_worst(estimates[name], boots[name], worst="max", undecided=undecided, bound=1.0,
                                                confidence=conf, method=params["interval"], limits=(0.0, 1.0))
            worst[name] = w
            metrics[metric_name] = Metric(value, low, high, description=(
                f"{words}, worst attribute ({conf:.0%} bootstrap interval of the maximum)"
                + (f"; groups with at least {min_labels} rows of each label" if name != "accuracy" else "")
                + ("; widened: an attribute has fewer than two groups large enough" if undecided else "")))
        metrics["groups"] = Metric(int(sum(len(a.groups) for a in attrs)), description="groups and intersections measured")
        metrics["groups_excluded"] = Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                            description=f"groups with fewer than {min_rows} rows, left out of the comparison")

        columns = ["attribute", "group", "rows", "positive labels"] + [k.replace("_", " ") for k in metric_fns] + ["left out"]
        note = (f"Estimate (Wilson {conf:.0%} score interval). {orientation[0].upper() + orientation[1:]}. The error rates "
                f"are those of the positive label {_text(ctx.positive_label)!r}. Left out: groups with fewer than {min_rows} "
                f"rows, or fewer than {min_labels} rows of either label, are shown but not compared. fairlearn MetricFrame.")
        if len(group_rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(group_rows)} groups."
        evidence = [
            Evidence(title="Rates per group", columns=columns, rows=group_rows[:MAX_ROWS], note=note),
            Evidence(title="Gaps between groups", columns=["attribute", "rate", "highest", "lowest", "difference",
                                                           "ratio (lowest / highest)", "groups compared"],
                     rows=gap_rows[:MAX_ROWS],
                     note=(f"Difference: highest minus lowest group, with its {conf:.0%} bootstrap interval (rows resampled "
                           f"within groups, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}). Error rates "
                           f"compare groups with at least {min_labels} rows of each label."
                           + (f" Showing {MAX_ROWS} of {len(gap_rows)}." if len(gap_rows) > MAX_ROWS else ""))),
        ]
        figures = [interval_chart(
            "Accuracy per group", figure_rows[:MAX_ROWS], xlabel="accuracy",
            caption=f"Dots: estimates on the test rows; bars: Wilson {conf:.0%} score intervals.",
        )] if figure_rows else []

        acc = metrics["max_accuracy_gap"]
        if acc.value is None:
            summary = "Could not compare groups: " + "; ".join(reasons) + "."
        else:
            parts = []
            for name, label in (("accuracy", "Accuracy"), ("false_positive_rate", "the false positive rate"),
                                ("false_negative_rate", "the false negative rate")):
                w = worst[name]
                if w is None:
                    continue
                attr = attrs[w]
                g_obs, _, eligible, rate_eligible, _ = per_attr[w]
                among = eligible if name == "accuracy" else rate_eligible
                values = rate(g_obs, name)
                hi_g, lo_g = among[np.argmax(values[among])], among[np.argmin(values[among])]
                m = metrics["max_accuracy_gap" if name == "accuracy" else JUDGED_RATE_GAPS[name]]
                parts.append(f"{label} differs most across {_text(attr.name)}: {values[hi_g]:.3f} for {_text(attr.groups[hi_g])} "
                             f"and {values[lo_g]:.3f} for {_text(attr.groups[lo_g])}, a gap of {_ci_text(m.value, m.ci_low, m.ci_high)}")
            summary = "; ".join(parts) + "."
            summary = summary[0].upper() + summary[1:]
            if reasons or rate_reasons:
                summary += " Not measurable: " + "; ".join(reasons + rate_reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            summary += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'is' if excluded == 1 else 'are'} shown but not compared."
        summary += f" {orientation[0].upper() + orientation[1:]}."
        return Findings(
            summary=summary, metrics=metrics, evidence=evidence, figures=figures, sample=prepared.sample,
            recommendation=(
                "Find where a gap comes from (group size in training, feature quality, label quality) before mitigating. "
                "Unequal false positive or false negative rates mean the model's mistakes fall more on one group: decide "
                "which error costs the people concerned more, then try fairlearn's ThresholdOptimizer (per-group thresholds "
                "for equal error rates) or ExponentiatedGradient, or AIF360's Reweighing, and measure again."
            ),
        )


# -- FR002 ---------------------------------------------------------------------------
def _design_matrix(frame: pd.DataFrame, columns: list[str], *, max_levels: int) -> np.ndarray:
    """Inputs as numbers for a distance: numeric columns imputed and standardised, others one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = {}
    numeric, other = [], []
    for col in columns:
        s = frame[col].reset_index(drop=True)
        if _is_numeric(s):
            x = s.to_numpy(dtype="float64", na_value=np.nan)
            data[col] = np.where(np.isfinite(x), x, np.nan)
            numeric.append(col)
        else:
            text = s.astype(str).to_numpy(dtype=object)
            text[s.isna().to_numpy()] = MISSING_LEVEL
            data[col] = text
            other.append(col)
    table = pd.DataFrame({str(i): data[c] for i, c in enumerate(columns)})
    num_keys = [str(columns.index(c)) for c in numeric if np.isfinite(data[c]).any()]
    cat_keys = [str(columns.index(c)) for c in other]
    parts = []
    if num_keys:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num_keys))
    if cat_keys:
        parts.append(("cat", OneHotEncoder(max_categories=max_levels, handle_unknown="infrequent_if_exist",
                                           sparse_output=False), cat_keys))
    if not parts:
        return np.zeros((len(frame), 0))
    return np.asarray(ColumnTransformer(parts, sparse_threshold=0).fit_transform(table), dtype="float64")


@dataclass
class _AttributeDisparity:
    attr: Attribute
    eligible: np.ndarray
    odds_eligible: np.ndarray
    estimates: dict[str, float | None]
    boots: dict[str, np.ndarray | None]
    pair: tuple[int, int] | None  # (least selected, most selected) group codes
    per_group: list[list[Any]]
    left_out: list[list[Any]]
    #: the two equalized-odds rates' (name, range, highest group, its rate, lowest group, its rate)
    odds_ranges: list[tuple[str, float, str, float, str, float]] = field(default_factory=list)


class Disparities(Check):
    """Group disparities: demographic parity, equalized odds, disparate impact

    What it checks:
        For each sensitive feature and each intersection of them (``max_order``), on the
        test rows of groups with at least ``min_group_rows`` rows (smaller groups are
        listed and left out, never averaged in): with fairlearn, the demographic parity
        difference and ratio (selection rates, largest minus smallest and smallest over
        largest), the equalized odds difference (the larger of the true-positive-rate and
        false-positive-rate ranges) and the equal opportunity difference (the
        true-positive-rate range); with AIF360, between the least and the most selected
        group (the most selected serving as the privileged group), the disparate impact
        ratio, the statistical parity difference and the average odds difference, and
        each group against the most selected one. The true- and false-positive-rate
        comparisons (equalized odds, equal opportunity, average odds) also leave out groups
        with fewer than ``min_group_labels`` rows of either label: a rate over three
        positives is not a measurement. fairlearn and AIF360 are called on the distinct
        (group, label, prediction) cells weighted by their row counts, which gives the
        same numbers as on the rows. Over all test rows, AIF360's
        Theil index (generalised entropy of the benefit 1 + prediction - label) and, on a
        seeded sample of ``consistency_rows`` rows, its consistency score (agreement of each
        prediction with those of its 5 nearest neighbours in the non-sensitive inputs).

        Intervals: rows are resampled within each cell of the sensitive features
        (``n_resamples``), so group sizes stay fixed (fairlearn's own MetricFrame
        bootstrap resamples all rows together, so a small group's size varies and can
        vanish); each resample recomputes every disparity from its counts, picks its own
        least and most selected groups, and takes the worst attribute again, so a reported
        interval is that of the worst value. A largest gap is biased upwards (noise alone
        widens a range) and resampling adds the bias again; ``interval: bias_corrected``
        (the default) moves the percentile interval back by the bootstrap estimate of that
        bias, which keeps data with no disparity from reading inconclusive while a real
        disparity near the fail level still does (``percentile`` and ``basic`` are
        available). The Theil index's interval is a plain percentile one; the consistency
        interval resamples the per-row agreements with the neighbour graph held fixed.

        Judged, each the worst over the attributes: ``demographic_parity_difference``
        (warn above 0.1, fail above 0.2), ``equalized_odds_difference`` (warn above 0.1,
        fail above 0.2) and ``disparate_impact_ratio`` (fail below 0.8: the four-fifths
        rule). An interval that contains the fail level reads inconclusive. An attribute
        with fewer than two groups large enough cannot be measured: the result is
        inconclusive with the reason, unless another attribute already fails beyond doubt.

    Why it matters:
        A model that selects one group far more often than another (demographic parity),
        or that errs differently for qualified and unqualified people depending on their
        group (equalized odds), reproduces or amplifies unequal treatment, whatever its
        accuracy. The four-fifths rule is the screening test US employment regulators use
        for adverse impact. Which criterion applies depends on the decision; they cannot
        all hold at once when base rates differ, so all are reported.

    How to fix:
        Decide which criterion the use case requires and why. Check the labels for
        historical bias and the training data for under-represented groups; then mitigate
        before training (AIF360's Reweighing), in training (fairlearn's
        ExponentiatedGradient with a DemographicParity or EqualizedOdds constraint) or
        after (fairlearn's ThresholdOptimizer), and audit again on held-out data.

    References:
        P8.1 of the practices; Hardt, Price & Srebro (2016), Equality of opportunity in
        supervised learning, NeurIPS; Feldman et al. (2015), Certifying and removing
        disparate impact, KDD; US EEOC Uniform Guidelines on Employee Selection
        Procedures, 29 CFR 1607.4(D) (four-fifths rule); Speicher et al. (2018), A unified
        approach to quantifying algorithmic unfairness, KDD (Theil index); Zemel et al.
        (2013), Learning fair representations, ICML (consistency); Bellamy et al. (2018),
        AI Fairness 360, arXiv:1810.01943; Bird et al. (2020), Fairlearn, MSR-TR-2020-32.
    """

    id = "FR002"
    name = "disparities"
    area = "fairness"
    severity = "high"
    needs = frozenset({"test", "predictions", "sensitive"})
    tasks = frozenset({"binary"})
    params = {
        **_SENSITIVE_PARAMS,
        "n_resamples": Param(default=500, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="rows of each label a group needs to enter the true and false positive rate comparisons"),
        "consistency_rows": Param(default=2000, kind="int", low=0, high=50_000,
                                  help="test rows sampled for the consistency score (0: not computed)"),
        "n_neighbors": Param(default=5, kind="int", low=1, high=100, help="neighbours in the consistency score"),
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "demographic_parity_difference": Threshold(direction="above", warn=0.1, fail=0.2, low=0, high=1,
                                                   help="largest minus smallest selection rate between groups, worst attribute"),
        "equalized_odds_difference": Threshold(direction="above", warn=0.1, fail=0.2, low=0, high=1,
                                               help="larger of the TPR and FPR ranges between groups, worst attribute"),
        "disparate_impact_ratio": Threshold(direction="below", fail=0.8, low=0, high=1,
                                            help="least over most selected group's selection rate (four-fifths rule), worst attribute"),
    }
    practices = ("P8.1",)
    references = (
        "Hardt, Price & Srebro (2016), Equality of opportunity in supervised learning, NeurIPS",
        "Feldman et al. (2015), Certifying and removing disparate impact, KDD",
        "US EEOC Uniform Guidelines, 29 CFR 1607.4(D) (four-fifths rule)",
        "Speicher et al. (2018), A unified approach to quantifying algorithmic unfairness, KDD",
        "Zemel et al. (2013), Learning fair representations, ICML",
        "https://fairlearn.org/main/user_guide/assessment/common_fairness_metrics.html",
        "https://aif360.readthedocs.io/en/stable/modules/sklearn.html#metrics",
    )

    # The measures that change when the other label is the favourable one (a selection
    # rate s becomes 1 - s): without a declared favourable outcome both are judged.
    ORIENTED = ("demographic_parity_ratio", "disparate_impact_ratio", "equal_opportunity_difference")
    # metric -> (how the worst attribute is chosen, the value an unmeasurable attribute could reach)
    COMBINED: dict[str, tuple[str, float]] = {
        "demographic_parity_difference": ("max", 1.0),
        "demographic_parity_ratio": ("min", 0.0),
        "equalized_odds_difference": ("max", 1.0),
        "equal_opportunity_difference": ("max", 1.0),
        "disparate_impact_ratio": ("min", 0.0),
        "statistical_parity_difference": ("min", -1.0),
    }
    LIMITS: dict[str, tuple[float, float]] = {
        "demographic_parity_difference": (0.0, 1.0), "demographic_parity_ratio": (0.0, 1.0),
        "equalized_odds_difference": (0.0, 1.0), "equal_opportunity_difference": (0.0, 1.0),
        "disparate_impact_ratio": (0.0, 1.0), "statistical_parity_difference": (-1.0, 0.0),
    }
    DESCRIPTIONS = {
        "demographic_parity_difference": "largest minus smallest selection rate (fairlearn)",
        "demographic_parity_ratio": "smallest over largest selection rate (fairlearn)",
        "equalized_odds_difference": "larger of the TPR and FPR ranges (fairlearn)",
        "equal_opportunity_difference": "true positive rate range (fairlearn)",
        "disparate_impact_ratio": "selection rate of the least over the most selected group (AIF360)",
        "statistical_parity_difference": "selection rate of the least minus the most selected group (AIF360)",
        "average_odds_difference": "mean of the FPR and TPR differences, least vs most selected group (AIF360)",
    }

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        flm, aif = _fairlearn_metrics(), _aif360_metrics()
        import sklearn

        out, attrs = prepared.out, prepared.attributes
        seed, conf, min_rows = ctx.seed_for(self.id), params["confidence"], params["min_group_rows"]
        rng = ctx.rng(self.id)
        y = (out.y == out.positive).astype(np.int64)
        p = (out.pred == out.positive).astype(np.int64)
        cells = 2 * y + p
        observed = cell_counts(prepared.strata, cells, prepared.n_strata, 4)
        boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)
        # Every disparity is computed with "positive" meaning favourable. Turning the other
        # label into the favourable one maps each cell c to 3 - c (TN <-> TP, FP <-> FN).
        favourable, _ = favourable_outcome(ctx, out.positive)
        other = next(c for c in range(len(ctx.classes)) if c != out.positive)
        flipped = (1 - y, 1 - p, observed[..., ::-1], boot[..., ::-1])
        if favourable is None:  # not declared: both orientations, the worse counting
            orientations = [(out.positive, (y, p, observed, boot)), (other, flipped)]
        elif favourable == out.positive:
            orientations = [(out.positive, (y, p, observed, boot))]
        else:
            orientations = [(other, flipped)]
        labels = [ctx.classes[code] for code, _ in orientations]

        by_orientation: list[list[_AttributeDisparity]] = []
        with sklearn.config_context(assume_finite=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero-division warnings of a group without positives
            for code, (yo, po, obs_o, boot_o) in orientations:
                by_orientation.append([self._attribute(attr, yo, po, obs_o, boot_o, prepared, min_rows,
                                                       params["min_group_labels"], flm, aif, flipped=code != out.positive)
                                       for attr in attrs])
        results = by_orientation[0]
        y, p = orientations[0][1][0], orientations[0][1][1]
        boot = orientations[0][1][3]

        reasons = [_undecidable_reason(r.attr, r.eligible, min_rows) for r in results if len(r.eligible) < 2]
        odds_reasons = [
            f"{_text(r.attr.name)} has fewer than two groups with {params['min_group_labels']} rows of each label among those compared"
            for r in results if len(r.eligible) >= 2 and len(r.odds_eligible) < 2
        ]
        metrics: dict[str, Metric] = {}
        worst_attr: dict[str, int | None] = {}
        worst_orientation: dict[str, int] = {}
        for name, (worst, bound) in self.COMBINED.items():
            needs_labels = name in ("equalized_odds_difference", "equal_opportunity_difference")
            undecided = bool(reasons or (needs_labels and odds_reasons))
            # an orientation-free measure is the same in both; the others take the worse one
            pool = by_orientation if name in self.ORIENTED else by_orientation[:1]
            flat = [r for rs in pool for r in rs]
            value, low, high, w = combine_worst([r.estimates[name] for r in flat], [r.boots[name] for r in flat],
                                                worst=worst, undecided=undecided, bound=bound, confidence=conf,
                                                method=params["interval"], limits=self.LIMITS[name])
            worst_attr[name] = None if w is None else w % len(attrs)
            worst_orientation[name] = 0 if w is None else w // len(attrs)
            where = f"; worst: {results[worst_attr[name]].attr.name}" if w is not None else ""
            if name in self.ORIENTED and w is not None:
                where += (f", {_text(labels[worst_orientation[name]])!r} favourable" if len(pool) == 1 else
                          f", the worse of both orientations ({_text(labels[worst_orientation[name]])!r} favourable); "
                          "no favourable outcome declared")
            if name == "equalized_odds_difference" and w is not None:
                where += f"; driven by the {self._odds_driver(results[worst_attr[name]])}"
            metrics[name] = Metric(value, low, high, description=f"{self.DESCRIPTIONS[name]}, worst attribute ({conf:.0%} interval){where}"
                                   + ("; interval widened: an attribute could not be measured" if undecided else ""))
        # Average odds difference is signed: the attribute with the largest magnitude, with its own interval.
        aod = [(abs(r.estimates["average_odds_difference"]), i) for i, r in enumerate(results)
               if r.estimates["average_odds_difference"] is not None]
        if aod:
            i = max(aod)[1]
            est = results[i].estimates["average_odds_difference"]
            lo, hi = bootstrap_interval(est, results[i].boots["average_odds_difference"], confidence=conf,
                                        method=params["interval"], limits=(-1.0, 1.0))
            metrics["average_odds_difference"] = Metric(est, lo, hi, description=f"{self.DESCRIPTIONS['average_odds_difference']}, "
                                                        f"largest in magnitude ({results[i].attr.name})")
        else:
            metrics["average_odds_difference"] = Metric(None, description=self.DESCRIPTIONS["average_odds_difference"])
        metrics["theil_index"] = self._theil(y, p, boot, conf, aif)
        metrics["theil_index"].description += (f"; favourable: {_text(labels[0])!r}" if favourable is not None else
                                               f"; {_text(labels[0])!r} taken as favourable (none declared)")
        consistency, n_consistency = self._consistency(ctx, out, p, params, seed, conf, aif)
        metrics["consistency"] = consistency
        metrics["groups_excluded"] = Metric(int(sum(int((r.attr.sizes < min_rows).sum()) for r in results)),
                                            description=f"groups with fewer than {min_rows} rows, left out of every disparity")
        metrics["groups_excluded_from_error_rates"] = Metric(
            int(sum(len(r.left_out) for r in results)) - metrics["groups_excluded"].value,
            description=f"groups with enough rows but fewer than {params['min_group_labels']} of a label, left out of the "
                        "true and false positive rate comparisons")
        sample = dict(prepared.sample)
        if n_consistency:
            sample["consistency_rows"] = n_consistency

        primary_flipped = orientations[0][0] != out.positive
        evidence = self._evidence(results, min_rows, conf, params, seed, favourable=labels[0], flipped=primary_flipped)
        if len(by_orientation) > 1:
            evidence.append(self._orientation_evidence(by_orientation, labels, conf, params))
        figure_rows = []
        for r in results:
            for name in ("demographic_parity_difference", "equalized_odds_difference"):
                est = r.estimates[name]
                if est is not None:
                    lo, hi = bootstrap_interval(est, r.boots[name], confidence=conf, method=params["interval"], limits=(0.0, 1.0))
                    figure_rows.append((f"{r.attr.name}: {name.replace('_', ' ').replace(' difference', '')}", est, lo, hi))
        figures = [interval_chart(
            "Disparities per sensitive attribute", figure_rows[:MAX_ROWS], xlabel="difference between groups",
            caption=f"Dots: estimates; bars: {conf:.0%} bootstrap intervals (rows resampled within groups); 0 is parity.",
        )] if figure_rows else []
        summary = self._summary(results, metrics, worst_attr, reasons, odds_reasons, min_rows, conf)
        di, w = metrics["disparate_impact_ratio"], worst_attr["disparate_impact_ratio"]
        if favourable is not None:
            summary = f"Selection rate = share predicted {_text(labels[0])!r}, the declared favourable outcome. " + summary
        elif w is not None:
            both = []
            for o, label in enumerate(labels):
                v = by_orientation[o][w].estimates["disparate_impact_ratio"]
                both.append(f"{v:.3f} with {_text(label)!r} favourable" if v is not None else f"not measurable with {_text(label)!r} favourable")
            summary = (f"No favourable outcome was declared (--favourable-label, or the policy's favourable_label): the "
                       f"disparate impact ratio depends on it ({_text(results[w].attr.name)}: {', '.join(both)}), so both "
                       f"orientations are judged and the worse counts ({di.value:.3f}). " + summary)
        return Findings(summary=summary,
                        metrics=metrics, evidence=evidence, figures=figures, sample=sample,
                        recommendation=(
                            "Decide which criterion the decision calls for (equal selection, or equal error rates for the "
                            "qualified and the unqualified) and document why; check labels and group representation in "
                            "training; mitigate with AIF360's Reweighing, fairlearn's ExponentiatedGradient or "
                            "ThresholdOptimizer, and audit again. Groups listed as too small need more data before any "
                            "claim about them."
                        ))

    # -- one attribute --------------------------------------------------------------
    @staticmethod
    def _odds_driver(r: _AttributeDisparity) -> str:
        """Which rate's range is the equalized odds difference, in words with its groups."""
        name, width, hi_name, hi, lo_name, lo = max(r.odds_ranges, key=lambda t: t[1])
        return f"{name} ({hi:.3f} for {hi_name}, {lo:.3f} for {lo_name})"

    def _attribute(self, attr, y, p, observed, boot, prepared, min_rows, min_labels, flm, aif, *,
                   flipped: bool = False) -> _AttributeDisparity:
        """One attribute's disparities with ``y``/``p`` = 1 for the favourable outcome; ``flipped``:
        that is the negative label, so the true and false positive rates here are, in the
        positive label's terms, the true and false negative rates."""
        n_groups = len(attr.groups)
        sg = stratum_groups(attr, prepared.strata, prepared.n_strata)
        g_obs = by_group(observed, sg, n_groups)
        g_boot = by_group(boot, sg, n_groups)
        r_obs, r_boot = _rates(g_obs), _rates(g_boot)
        table = cell_table(attr.codes, y, p)
        eligible = np.flatnonzero(attr.sizes >= min_rows)
        labels_ok = (g_obs[:, FN] + g_obs[:, TP] >= min_labels) & (g_obs[:, TN] + g_obs[:, FP] >= min_labels)
        odds_eligible = eligible[labels_ok[eligible]]
        names = list(self.COMBINED) + ["average_odds_difference"]
        estimates: dict[str, float | None] = {k: None for k in names}
        boots: dict[str, np.ndarray | None] = {k: None for k in names}
        sel_b, sel_o = r_boot["selection_rate"], r_obs["selection_rate"]
        tpr_b, fpr_b = r_boot["true_positive_rate"], r_boot["false_positive_rate"]
        tpr_o, fpr_o = r_obs["true_positive_rate"], r_obs["false_positive_rate"]
        pair = None
        odds_ranges: list[tuple[str, float, str, float, str, float]] = []
        if len(eligible) >= 2:
            t = table.only(eligible)
            kw = {"sensitive_features": t.group, "sample_weight": t.weight}
            estimates["demographic_parity_difference"] = float(flm.demographic_parity_difference(t.y, t.p, **kw))
            estimates["demographic_parity_ratio"] = _num(flm.demographic_parity_ratio(t.y, t.p, **kw))
            boots["demographic_parity_difference"] = _spread(sel_b, eligible)
            with np.errstate(divide="ignore", invalid="ignore"):
                boots["demographic_parity_ratio"] = sel_b[:, eligible].min(axis=1) / sel_b[:, eligible].max(axis=1)
                ratio_obs = sel_o[eligible].min() / sel_o[eligible].max()
            _agree(f"demographic parity difference ({attr.name})", float(_spread(sel_o, eligible)),
                   estimates["demographic_parity_difference"], "fairlearn")
            _agree(f"demographic parity ratio ({attr.name})", _num(ratio_obs), estimates["demographic_parity_ratio"], "fairlearn")
            # AIF360: least vs most selected group, the most selected as the privileged group.
            low_g = int(eligible[np.argmin(sel_o[eligible])])
            high_g = int(eligible[np.argmax(sel_o[eligible])])
            pair = (low_g, high_g)
            t = table.only(pair)
            kw = {"prot_attr": "group", "priv_group": high_g, "pos_label": 1, "sample_weight": t.weight}
            estimates["statistical_parity_difference"] = float(aif.statistical_parity_difference(t.labelled_series(), t.p, **kw))
            estimates["disparate_impact_ratio"] = _num(aif.disparate_impact_ratio(t.labelled_series(), t.p, zero_division=np.nan, **kw))
            # Each resample picks its own least and most selected groups, as the estimate did.
            boots["statistical_parity_difference"] = -boots["demographic_parity_difference"]
            boots["disparate_impact_ratio"] = boots["demographic_parity_ratio"]
            with np.errstate(divide="ignore", invalid="ignore"):
                di_obs = sel_o[low_g] / sel_o[high_g]
            _agree(f"statistical parity difference ({attr.name})", float(sel_o[low_g] - sel_o[high_g]),
                   estimates["statistical_parity_difference"], "AIF360")
            _agree(f"disparate impact ratio ({attr.name})", _num(di_obs), estimates["disparate_impact_ratio"], "AIF360")
            if labels_ok[low_g] and labels_ok[high_g]:
                estimates["average_odds_difference"] = float(aif.average_odds_difference(t.labelled_series(), t.p, **kw))
                boots["average_odds_difference"] = ((fpr_b[:, low_g] - fpr_b[:, high_g]) + (tpr_b[:, low_g] - tpr_b[:, high_g])) / 2
                _agree(f"average odds difference ({attr.name})",
                       float(((fpr_o[low_g] - fpr_o[high_g]) + (tpr_o[low_g] - tpr_o[high_g])) / 2),
                       estimates["average_odds_difference"], "AIF360")
        if len(odds_eligible) >= 2:
            t = table.only(odds_eligible)
            kw = {"sensitive_features": t.group, "sample_weight": t.weight}
            estimates["equalized_odds_difference"] = float(flm.equalized_odds_difference(t.y, t.p, **kw))
            estimates["equal_opportunity_difference"] = float(flm.equal_opportunity_difference(t.y, t.p, **kw))
            tpr_range, fpr_range = _spread(tpr_b, odds_eligible), _spread(fpr_b, odds_eligible)
            boots["equal_opportunity_difference"] = tpr_range
            boots["equalized_odds_difference"] = np.where(np.isfinite(tpr_range) & np.isfinite(fpr_range),
                                                          np.maximum(tpr_range, fpr_range), np.nan)
            _agree(f"equal opportunity difference ({attr.name})", float(_spread(tpr_o, odds_eligible)),
                   estimates["equal_opportunity_difference"], "fairlearn")
            _agree(f"equalized odds difference ({attr.name})",
                   float(max(_spread(tpr_o, odds_eligible), _spread(fpr_o, odds_eligible))),
                   estimates["equalized_odds_difference"], "fairlearn")
            rate_names = ("true negative rate", "false negative rate") if flipped else ("true positive rate", "false positive rate")
            for rate_name, values in zip(rate_names, (tpr_o, fpr_o)):
                hi_g = int(odds_eligible[np.argmax(values[odds_eligible])])
                lo_g = int(odds_eligible[np.argmin(values[odds_eligible])])
                odds_ranges.append((rate_name, float(values[hi_g] - values[lo_g]), _text(attr.groups[hi_g]),
                                    float(values[hi_g]), _text(attr.groups[lo_g]), float(values[lo_g])))

        per_group = []
        if pair is not None:
            high_g = pair[1]
            for g in eligible:
                spd = di = aod = None
                if g != high_g:
                    t = table.only((g, high_g))
                    kw = {"prot_attr": "group", "priv_group": high_g, "pos_label": 1, "sample_weight": t.weight}
                    spd = float(aif.statistical_parity_difference(t.labelled_series(), t.p, **kw))
                    di = _num(aif.disparate_impact_ratio(t.labelled_series(), t.p, zero_division=np.nan, **kw))
                    if labels_ok[g] and labels_ok[high_g]:
                        aod = float(aif.average_odds_difference(t.labelled_series(), t.p, **kw))
                per_group.append([_text(attr.name), _text(attr.groups[g]), int(attr.sizes[g]),
                                  int(g_obs[g, FN] + g_obs[g, TP]), _num(sel_o[g]), _num(tpr_o[g]), _num(fpr_o[g]),
                                  "reference" if g == high_g else spd, di, aod])
        left_out = [[_text(attr.name), _text(attr.groups[g]), int(attr.sizes[g]), int(g_obs[g, FN] + g_obs[g, TP]),
                     int(g_obs[g, TN] + g_obs[g, FP]),
                     f"fewer than {min_rows} rows: in no disparity" if attr.sizes[g] < min_rows
                     else f"fewer than {min_labels} rows of a label: in no error-rate disparity"]
                    for g in range(n_groups) if attr.sizes[g] < min_rows or not labels_ok[g]]
        return _AttributeDisparity(attr=attr, eligible=eligible, odds_eligible=odds_eligible, estimates=estimates,
                                   boots=boots, pair=pair, per_group=per_group, left_out=left_out, odds_ranges=odds_ranges)

    # -- whole-population measures ---------------------------------------------------
    @staticmethod
    def _theil(y, p, boot, conf, aif) -> Metric:
        estimate = float(aif.generalized_entropy_error(y, p, alpha=1, pos_label=1))
        totals = boot.sum(axis=1)  # (B, 4)
        benefit_counts = np.stack([totals[:, FN], totals[:, TN] + totals[:, TP], totals[:, FP]], axis=1)
        values = np.array([aif.generalized_entropy_index(np.repeat([0.0, 1.0, 2.0], c), alpha=1) for c in benefit_counts])
        observed = np.array([np.sum((y == 1) & (p == 0)), np.sum(y == p), np.sum((y == 0) & (p == 1))])
        _agree("Theil index", float(aif.generalized_entropy_index(np.repeat([0.0, 1.0, 2.0], observed), alpha=1)), estimate, "AIF360")
        low, high = _percentile_interval(values, conf)
        return Metric(estimate, low, high, description="Theil index of the benefit 1 + prediction - label over all test rows (AIF360; 0 is equal)")

    @staticmethod
    def _consistency(ctx, out, p, params, seed, conf, aif) -> tuple[Metric, int]:
        description = f"consistency: agreement of each prediction with its {params['n_neighbors']} nearest neighbours' (AIF360; 1 is consistent)"
        inputs = [c for c in ctx.features if c not in ctx.sensitive and c in ctx.frame("test").columns]
        n_rows = min(params["consistency_rows"], len(out))
        if not inputs or n_rows <= params["n_neighbors"]:
            why = "no inputs other than the sensitive features" if not inputs else "too few rows"
            return Metric(None, description=f"{description}; not computed: {why}"), 0
        from sklearn.neighbors import NearestNeighbors

        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(out), size=n_rows, replace=False))
        frame = ctx.frame("test").iloc[out.rows[pick]]
        X = _design_matrix(frame, inputs, max_levels=20)
        if X.shape[1] == 0:
            return Metric(None, description=f"{description}; not computed: the inputs carry no values"), 0
        labels = p[pick]
        estimate = float(aif.consistency_score(X, labels, n_neighbors=params["n_neighbors"]))
        # The per-row agreements behind the score, from the same neighbour search, for the interval.
        neighbours = NearestNeighbors(n_neighbors=params["n_neighbors"], algorithm="ball_tree").fit(X).kneighbors(X, return_distance=False)
        terms = 1.0 - np.abs(labels - labels[neighbours].mean(axis=1))
        _agree("consistency", float(terms.mean()), estimate, "AIF360")
        def mean(a, _b):
            return float(np.mean(a))

        mean.batched = lambda a, _b: a.mean(axis=-1)  # every resample at once
        _, low, high = bootstrap_ci(mean, terms, terms, n_resamples=params["n_resamples"],
                                    confidence=conf, random_state=seed)
        return Metric(estimate, low, high, description=f"{description}, {n_rows} sampled rows"), n_rows

    # -- presentation ----------------------------------------------------------------
    def _orientation_evidence(self, by_orientation, labels, conf, params) -> Evidence:
        """The measures that depend on which outcome is favourable, in both orientations."""
        rows = []
        for o, label in enumerate(labels):
            for r in by_orientation[o]:
                cells = []
                for name in self.ORIENTED:
                    est, b = r.estimates[name], r.boots[name]
                    lo, hi = (bootstrap_interval(est, b, confidence=conf, method=params["interval"], limits=self.LIMITS[name])
                              if b is not None and est is not None else (None, None))
                    cells.append(_ci_text(est, lo, hi))
                rows.append([_text(label), _text(r.attr.name), *cells])
        return Evidence(
            title="With each outcome taken as the favourable one",
            columns=["favourable outcome", "attribute", *[n.replace("_", " ") for n in self.ORIENTED]],
            rows=rows[:MAX_ROWS],
            note=("No favourable outcome was declared, and these measures change with it (a selection rate s becomes "
                  "1 - s): each is judged at the worse of the two. Declare the outcome that benefits the person with "
                  "--favourable-label or the policy's favourable_label."),
        )

    def _evidence(self, results, min_rows, conf, params, seed, *, favourable: Any = None, flipped: bool = False) -> list[Evidence]:
        def cell(r: _AttributeDisparity, name: str) -> str:
            est = r.estimates[name]
            lo, hi = (bootstrap_interval(est, r.boots[name], confidence=conf, method=params["interval"],
                                         limits=self.LIMITS.get(name, (-1.0, 1.0)))
                      if r.boots[name] is not None and est is not None else (None, None))
            return _ci_text(est, lo, hi)

        rows = []
        for r in results:
            pair = "" if r.pair is None else f"{_text(r.attr.groups[r.pair[0]])} vs {_text(r.attr.groups[r.pair[1]])}"
            rows.append([_text(r.attr.name), len(r.eligible), cell(r, "demographic_parity_difference"),
                         cell(r, "equalized_odds_difference"), cell(r, "equal_opportunity_difference"),
                         cell(r, "disparate_impact_ratio"), cell(r, "statistical_parity_difference"),
                         cell(r, "average_odds_difference"), pair])
        evidence = [Evidence(
            title="Disparities per sensitive attribute",
            columns=["attribute", "groups compared", "demographic parity difference", "equalized odds difference",
                     "equal opportunity difference", "disparate impact ratio", "statistical parity difference",
                     "average odds difference", "least vs most selected"],
            rows=rows[:MAX_ROWS],
            note=(f"Estimate ({conf:.0%} interval). fairlearn for the first three, AIF360 (least vs most selected group) "
                  f"for the rest; bootstrap within groups, {params['n_resamples']} resamples, seed {seed}."),
        )]
        per_group = [row for r in results for row in r.per_group]
        if per_group:
            evidence.append(Evidence(
                title="Each group against the most selected group (AIF360)",
                columns=["attribute", "group", "rows", f"labels {_text(favourable)!r}", "selection rate",
                         "true negative rate" if flipped else "true positive rate",
                         "false negative rate" if flipped else "false positive rate",
                         "statistical parity difference", "disparate impact ratio", "average odds difference"],
                rows=per_group[:MAX_ROWS],
                note=f"Groups with at least {min_rows} rows. Selection rate = share predicted {_text(favourable)!r}; "
                     f"reference: the group most often predicted {_text(favourable)!r}."
                     + (f" Showing {MAX_ROWS} of {len(per_group)}." if len(per_group) > MAX_ROWS else ""),
            ))
        left_out = [row for r in results for row in r.left_out]
        if left_out:
            evidence.append(Evidence(
                title="Groups left out",
                columns=["attribute", "group", "rows", f"labels {_text(favourable)!r}", "other labels", "why"],
                rows=left_out[:MAX_ROWS],
                note="Too few rows to estimate their rates; never averaged into another group."
                     + (f" Showing {MAX_ROWS} of {len(left_out)}." if len(left_out) > MAX_ROWS else ""),
            ))
        return evidence

    @staticmethod
    def _summary(results, metrics, worst_attr, reasons, odds_reasons, min_rows, conf) -> str:
        dpd, di, eod = (metrics[k] for k in ("demographic_parity_difference", "disparate_impact_ratio", "equalized_odds_difference"))
        names = ", ".join(_text(r.attr.name) for r in results)
        if dpd.value is None:
            return f"Inconclusive: no attribute can be measured: {'; '.join(reasons)}."
        w = results[worst_attr["demographic_parity_difference"]]
        sel = {row[1]: row[4] for row in w.per_group}
        low_name, high_name = (_text(w.attr.groups[g]) for g in w.pair)
        text = (
            f"Across {names}: the largest demographic parity difference is {_ci_text(dpd.value, dpd.ci_low, dpd.ci_high)} "
            f"({_text(w.attr.name)}: selection rate {sel.get(high_name, 0):.3f} for {high_name}, {sel.get(low_name, 0):.3f} "
            f"for {low_name}); the lowest disparate impact ratio is {_ci_text(di.value, di.ci_low, di.ci_high)}"
        )
        if eod.value is not None:
            text += f"; the largest equalized odds difference is {_ci_text(eod.value, eod.ci_low, eod.ci_high)} ({_text(results[worst_attr['equalized_odds_difference']].attr.name)})"
        text += f" ({conf:.0%} intervals)."
        if reasons or odds_reasons:
            text += " Not measurable: " + "; ".join(reasons + odds_reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            text += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'was' if excluded == 1 else 'were'} left out."
        few = metrics["groups_excluded_from_error_rates"].value
        if few:
            text += f" {wording.count(few, 'group')} with too few rows of a label {'was' if few == 1 else 'were'} left out of the error-rate comparisons."
        return text


# -- FR003 ---------------------------------------------------------------------------
class GroupSampleSize(Check):
    """Rows and positive labels in each group

    What it checks:
        Every group of each sensitive feature and of their intersections (``max_order``),
        with its test rows, its share, and for binary tasks its rows of each label (for
        multiclass tasks, rows of its rarest class). The judged metric ``small_groups`` is
        the number of groups with fewer than ``min_group_rows`` rows (30 by default, the
        same default as FR001 and FR002, which leave such groups out of their
        comparisons); it warns above 0. Reported as well: the smallest group's rows, and
        for binary tasks the groups with fewer than ``min_group_labels`` rows of either
        label (FR002 leaves them out of its true- and false-positive-rate comparisons).

    Why it matters:
        A rate measured on a dozen rows is noise: one row moves it by several points, and
        a disparity computed from it can say anything. Small groups are also where models
        most often fail, because they were small in training too. Saying which groups the
        audit could not measure is part of the result.

    How to fix:
        Collect more test rows for the small groups (stratify the test split by the
        sensitive features), or merge groups where that is meaningful and documented, or
        state in the model's documentation that those groups were not assessed. Lowering
        ``min_group_rows`` only hides the problem.

    References:
        P8.1 and P4.1 of the practices; Buolamwini & Gebru (2018), Gender shades, FAT*;
        Kearns et al. (2018), Preventing fairness gerrymandering: auditing and learning for
        subgroup fairness, ICML.
    """

    id = "FR003"
    name = "group-sample-size"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "sensitive"})
    params = {
        **_SENSITIVE_PARAMS,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="binary tasks: rows of each label below which a group's error rates are not compared"),
    }
    thresholds = {
        "small_groups": Threshold(direction="above", warn=0, low=0,
                                  help="groups or intersections with fewer than min_group_rows test rows"),
    }
    practices = ("P8.1", "P4.1")
    references = (
        "Buolamwini & Gebru (2018), Gender shades, FAT*",
        "Kearns, Neel, Roth & Wu (2018), Preventing fairness gerrymandering, ICML",
    )

    def run(self, ctx, params):
        missing = _missing_sensitive(ctx, "test")
        if missing:
            return _skip(f"the test data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        frame = ctx.frame("test").reset_index(drop=True)
        n = len(frame)
        if n == 0:
            return _skip("the test data has no rows.")
        min_rows = params["min_group_rows"]
        attrs = sensitive_attributes(frame, list(ctx.sensitive), max_order=params["max_order"],
                                     max_levels=params["max_levels"], numeric_bins=params["numeric_bins"])
        y = ctx.y("test")
        labelled = None if y is None else y.notna().to_numpy()
        codes = None
        if y is not None and ctx.is_classification and ctx.classes:
            from auditor.stats import encode_labels

            codes = encode_labels(y.to_numpy(dtype=object), list(ctx.classes))
            codes[~labelled] = -1
        binary = ctx.task == "binary" and codes is not None
        positive = ctx.positive_index if binary else None
        rows, few_labels = [], 0
        min_labels = params["min_group_labels"]
        for ai, attr in enumerate(attrs):
            for g, group in enumerate(attr.groups):
                in_g = attr.codes == g
                size = int(attr.sizes[g])
                row = [_text(attr.name), _text(group), size, size / n]
                if binary:
                    pos = int(np.sum(in_g & (codes == positive)))
                    neg = int(np.sum(in_g & (codes >= 0) & (codes != positive)))
                    row += [pos, neg]
                    few_labels += int(pos < min_labels or neg < min_labels)
                elif codes is not None:
                    per_class = np.bincount(codes[in_g & (codes >= 0)], minlength=len(ctx.classes))
                    row += [int(per_class.min())]
                row.append("yes" if size < min_rows else "")
                rows.append((size >= min_rows, ai, g, row))
        small = [r for r in rows if not r[0]]
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        columns = ["attribute", "group", "rows", "share"]
        columns += [f"labelled {_text(ctx.positive_label)}", "other labels"] if binary else (["rows of its rarest class"] if codes is not None else [])
        columns.append(f"below {min_rows} rows")
        note = f"Test rows per group; intersections join values with '{JOIN.strip()}'."
        if len(rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(rows)} groups, the small ones first."
        smallest = min(rows, key=lambda r: r[3][2])[3]
        metrics = {
            "small_groups": Metric(len(small), description=f"groups with fewer than {min_rows} test rows"),
            "groups": Metric(len(rows), description="groups and intersections"),
            "smallest_group_rows": Metric(int(smallest[2]), description=f"test rows of the smallest group ({smallest[0]}: {smallest[1]})"),
        }
        if binary:
            metrics["groups_with_few_labels"] = Metric(few_labels, description=f"groups with fewer than {min_labels} test rows of a label")
        names = ", ".join(_text(a.name) for a in attrs)
        summary = (f"{wording.count(len(rows), 'group')} across {names}; the smallest, {smallest[1]} ({smallest[0]}), "
                   f"has {wording.count(int(smallest[2]), 'test row')}.")
        if small:
            shown = ", ".join(f"{r[3][1]} ({r[3][0]}, {r[3][2]} rows)" for r in small[:5])
            summary += (f" {wording.count(len(small), 'group')} {'has' if len(small) == 1 else 'have'} fewer than {min_rows} rows "
                        f"and cannot be compared reliably: {shown}" + (" and more" if len(small) > 5 else "") + ".")
        if binary and few_labels:
            summary += (f" {wording.count(few_labels, 'group')} {'has' if few_labels == 1 else 'have'} fewer than {min_labels} "
                        "rows of a label, too few to compare error rates.")
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="Test rows per group", columns=columns, rows=[r[3] for r in rows[:MAX_ROWS]], note=note)],
            recommendation=(
                "Collect more test rows for the small groups (stratify the split by the sensitive features) or state that "
                "they were not assessed; do not read their rates."
                if small else "Every group is large enough to compare; keep stratifying the test split by the sensitive features."
            ),
        )


# -- FR004 ---------------------------------------------------------------------------
class CalibrationWithinGroups(Check):
    """Calibration in each group

    What it checks:
        Whether the predicted probabilities mean the same thing in every group: the
        expected calibration error (ECE, the row-weighted mean over ``bins`` probability
        bins of |observed frequency - mean predicted probability|, computed with CA001's
        function) of the positive-class probability in each group of each sensitive
        feature and intersection. Groups with fewer than ``min_group_rows`` rows (100 by
        default: ECE needs rows in its bins) are shown and left out. The judged metric
        ``max_ece_gap`` is the largest group ECE minus the smallest, the worst over the
        attributes, with a bootstrap interval (rows resampled within groups; each resample
        takes the worst attribute again; bias-corrected as in FR002): warn above 0.05,
        fail above 0.10; an interval containing 0.10, or an attribute with fewer than two
        groups large enough, reads inconclusive. ECE is biased upwards on few rows, so a
        small group's ECE is high by noise alone; the bias correction and the interval
        show how much.

    Why it matters:
        If a score of 0.7 means a 70% chance for one group and 50% for another, every
        decision taken on the score treats the groups differently even at the same
        threshold (calibration within groups, one of the standard fairness criteria).

    How to fix:
        Recalibrate, checking the result per group: calibration fitted on all rows can
        leave a group miscalibrated. Look for features that mean different things in
        different groups, and for groups under-represented in training.

    References:
        P8.1 and P4.3 of the practices; Pleiss et al. (2017), On fairness and
        calibration, NeurIPS; Kleinberg, Mullainathan & Raghavan (2017), Inherent
        trade-offs in the fair determination of risk scores, ITCS; Guo et al. (2017), On
        calibration of modern neural networks, ICML.
    """

    id = "FR004"
    name = "calibration-within-groups"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "probabilities", "sensitive"})
    tasks = frozenset({"binary"})
    params = {
        **_SENSITIVE_PARAMS,
        "min_group_rows": Param(default=100, kind="int", low=10, high=1_000_000,
                                help="rows a group needs for its ECE to enter the comparison"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="probability bins"),
        "strategy": Param(default="uniform", kind="str", choices=("uniform", "quantile"), help="equal-width or equal-count bins"),
        "n_resamples": Param(default=200, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "max_ece_gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                                 help="largest minus smallest group ECE, worst attribute"),
    }
    practices = ("P8.1", "P4.3")
    references = (
        "Pleiss et al. (2017), On fairness and calibration, NeurIPS",
        "Kleinberg, Mullainathan & Raghavan (2017), Inherent trade-offs in the fair determination of risk scores, ITCS",
    )

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        out = prepared.out
        scores = np.asarray(out.scores, dtype="float64")
        finite = np.isfinite(scores) & (scores >= 0) & (scores <= 1)
        if not finite.all():
            return Findings(status="inconclusive", sample=prepared.sample,
                            summary=f"Inconclusive: {wording.count(int((~finite).sum()), 'test row')} lack a probability in [0, 1].")
        outcome = (out.y == out.positive).astype("float64")
        bins, strategy, conf, min_rows = params["bins"], params["strategy"], params["confidence"], params["min_group_rows"]
        rng = ctx.rng(self.id)

        def ece(rows):
            return expected_calibration_error(outcome[rows], scores[rows], bins=bins, strategy=strategy)

        attrs = prepared.attributes
        positions = [[np.flatnonzero(a.codes == g) for g in range(len(a.groups))] for a in attrs]
        eligible = [np.flatnonzero(a.sizes >= min_rows) for a in attrs]
        observed = [np.array([ece(pos) if len(pos) else np.nan for pos in group_rows]) for group_rows in positions]
        boot = [np.full((params["n_resamples"], len(a.groups)), np.nan) for a in attrs]
        members = _members(prepared.strata, prepared.n_strata)
        for b in range(params["n_resamples"]):
            idx = resample_rows(prepared.strata, rng, members)
            for ai in range(len(attrs)):
                for g in eligible[ai]:
                    boot[ai][b, g] = ece(idx[positions[ai][g]])
        estimates, stats_, reasons = [], [], []
        for ai, a in enumerate(attrs):
            if len(eligible[ai]) < 2:
                estimates.append(None)
                stats_.append(None)
                reasons.append(_undecidable_reason(a, eligible[ai], min_rows))
                continue
            estimates.append(float(_spread(observed[ai], eligible[ai])))
            stats_.append(_spread(boot[ai], eligible[ai]))
        value, low, high, worst = combine_worst(estimates, stats_, worst="max", undecided=bool(reasons), bound=1.0,
                                                confidence=conf, method=params["interval"], limits=(0.0, 1.0))
        overall = expected_calibration_error(outcome, scores, bins=bins, strategy=strategy)
        metrics = {
            "max_ece_gap": Metric(value, low, high, description=f"largest minus smallest group ECE, worst attribute ({conf:.0%} interval)"
                                  + ("; widened: an attribute has fewer than two groups large enough" if reasons else "")),
            "overall_ece": Metric(overall, description=f"ECE over all test rows, {bins} {strategy} bins"),
            "groups_excluded": Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                      description=f"groups with fewer than {min_rows} rows, left out of the comparison"),
        }
        rows, figure_rows = [], []
        for ai, a in enumerate(attrs):
            for g, group in enumerate(a.groups):
                pos = positions[ai][g]
                est = _num(observed[ai][g])
                lo, hi = (bootstrap_interval(est, boot[ai][:, g], confidence=conf, method=params["interval"], limits=(0.0, 1.0))
                          if g in eligible[ai] and est is not None else (None, None))
                rows.append([_text(a.name), _text(group), len(pos), est, lo, hi,
                             float(scores[pos].mean()) if len(pos) else None, float(outcome[pos].mean()) if len(pos) else None,
                             "yes" if len(pos) < min_rows else ""])
                if est is not None and g in eligible[ai]:
                    figure_rows.append((f"{a.name}: {group}", est, lo, hi))
        note = f"ECE with {bins} {strategy} bins; bootstrap within groups, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}."
        if len(rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(rows)} groups."
        if value is None:
            summary = "Could not compare calibration between groups: " + "; ".join(reasons) + "."
        else:
            a = attrs[worst]
            vals = observed[worst]
            e = eligible[worst]
            hi_g, lo_g = e[np.nanargmax(vals[e])], e[np.nanargmin(vals[e])]
            summary = (f"Calibration differs most across {_text(a.name)}: ECE {vals[hi_g]:.3f} for {_text(a.groups[hi_g])} and "
                       f"{vals[lo_g]:.3f} for {_text(a.groups[lo_g])}, a gap of {_ci_text(value, low, high)}; over all rows "
                       f"the ECE is {overall:.3f}.")
            if reasons:
                summary += " Not measurable: " + "; ".join(reasons) + "."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="Calibration per group",
                               columns=["attribute", "group", "rows", "ECE", "CI low", "CI high", "mean predicted",
                                        "observed frequency", f"below {min_rows} rows"],
                               rows=rows[:MAX_ROWS], note=note)],
            figures=[interval_chart("Expected calibration error per group", figure_rows[:MAX_ROWS], xlabel="ECE",
                                    caption=f"Dots: ECE per group; bars: {conf:.0%} bootstrap intervals.")] if figure_rows else [],
            recommendation=(
                "Recalibrate on held-out data and check the result per group; where one group stays miscalibrated, look for "
                "features that mean different things across groups and for groups under-represented in training."
            ),
            sample=prepared.sample,
        )


# -- FR005 ---------------------------------------------------------------------------
def _proxy_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of a binary attribute, macro one-vs-rest ROC AUC of one with more groups."""
    from sklearn.metrics import roc_auc_score

    if scores.ndim == 1 or scores.shape[1] == 2:
        return float(roc_auc_score(y, scores if scores.ndim == 1 else scores[:, 1]))
    return float(roc_auc_score(y, scores, multi_class="ovr", average="macro", labels=np.arange(scores.shape[1])))


def _auc_interval(y: np.ndarray, scores: np.ndarray, *, n_resamples: int, confidence: float,
                  rng: np.random.Generator) -> tuple[float | None, float | None]:
    """Bootstrap interval of :func:`_proxy_auc` over rows.

    A single-input tree gives few distinct outputs, so the rows are summarised as distinct
    (label, output) cells; a resample is a multinomial draw of the cells' counts and its
    AUC is scikit-learn's, weighted by those counts (the same number as on the rows).
    """
    import sklearn

    out = scores.reshape(len(y), -1)
    table = np.column_stack([y, out])
    cells, inverse = np.unique(table, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), minlength=len(cells))
    cy, cs = cells[:, 0].astype(np.int64), cells[:, 1:]
    binary = cs.shape[1] <= 2
    k = cs.shape[1]
    values = []
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        values = _auc_draws(cy, cs, counts, binary=binary, k=k, n=len(y), n_resamples=n_resamples, rng=rng)
    return _percentile_interval(np.array(values, dtype="float64"), confidence)


def _auc_draws(cy, cs, counts, *, binary, k, n, n_resamples, rng) -> list[float]:
    from sklearn.metrics import roc_auc_score

    from auditor.stats import weighted_auc_batched

    draws = rng.multinomial(n, counts / counts.sum(), size=n_resamples)
    if binary:  # every resample at once
        return list(weighted_auc_batched(cy == 1, cs[:, -1], draws.astype(float)))
    values = []
    for draw in draws:  # more than two groups: macro one-vs-rest, resample by resample
        keep = draw > 0
        try:
            values.append(roc_auc_score(cy[keep], cs[keep], sample_weight=draw[keep], multi_class="ovr",
                                        average="macro", labels=np.arange(k)))
        except ValueError:  # a resample without some group
            values.append(np.nan)
    return values


class ProxyFeatures(Check):
    """Inputs that stand in for a sensitive attribute

    What it checks:
        For each sensitive feature and each model input that is not itself sensitive, on a
        seeded sample of at most ``max_rows`` training rows: how well the input alone
        predicts the sensitive attribute. A shallow decision tree (depth ``max_depth``, at
        least ``min_samples_leaf`` rows per leaf) is fitted on that one input, a
        categorical input entering through scikit-learn's TargetEncoder fitted inside the
        folds, and scored out of fold (``cv`` stratified folds) by ROC AUC: for a
        two-group attribute the AUC of one group, for more groups the macro one-vs-rest
        AUC. Groups with fewer than ``min_group_rows`` sampled rows are left out. The
        mutual information between input and attribute (scikit-learn's
        ``mutual_info_classif``, in nats) is reported beside it. The judged metric
        ``max_proxy_auc`` is the highest AUC over inputs and attributes, with a bootstrap
        interval of that input's out-of-fold AUC: warn above 0.7, fail above 0.8. An AUC
        of 0.5 is no information; 0.7 is the usual bound of an "acceptable" discriminator
        and 0.8 of an "excellent" one (Hosmer & Lemeshow), that is an input that would
        recover the attribute well enough to discriminate on it.

    Why it matters:
        Leaving a sensitive attribute out of the inputs does not keep it out of the model:
        an input that predicts it lets the model reconstruct it ("fairness through
        unawareness" fails). Relationship status recovers sex; postcode recovers
        ethnicity. Knowing the proxies tells a reviewer where disparities can come from
        and what removing the attribute did not remove.

    How to fix:
        Ask whether each proxy is needed for the task and legitimate in itself; if not,
        drop or coarsen it. Where it must stay, measure disparities (FR002) with the
        attribute known, and mitigate them directly rather than hoping unawareness works.

    References:
        P8.1 and P1.9 of the practices; Barocas, Hardt & Narayanan, Fairness and Machine
        Learning (fairmlbook.org, 2023), chapter on classification; Datta et al. (2017),
        Proxy non-discrimination in data-driven systems, CCS; Hosmer & Lemeshow (2000),
        Applied Logistic Regression, 2nd ed.; scikit-learn ``mutual_info_classif``,
        ``TargetEncoder``, ``cross_val_predict``.
    """

    id = "FR005"
    name = "proxy-features"
    area = "fairness"
    severity = "high"
    needs = frozenset({"train", "sensitive"})
    params = {
        "min_group_rows": Param(default=30, kind="int", low=5, high=1_000_000,
                                help="sampled rows a group needs to be predicted; smaller groups are left out"),
        "max_levels": _SENSITIVE_PARAMS["max_levels"],
        "numeric_bins": _SENSITIVE_PARAMS["numeric_bins"],
        "max_rows": Param(default=5000, kind="int", low=100, high=1_000_000, help="training rows sampled"),
        "cv": Param(default=3, kind="int", low=2, high=10, help="cross-validation folds"),
        "max_depth": Param(default=4, kind="int", low=1, high=20, help="depth of each single-input tree"),
        "min_samples_leaf": Param(default=20, kind="int", low=1, high=10000, help="rows per leaf of each tree"),
        "n_resamples": Param(default=100, kind="int", low=50, high=10000,
                             help="bootstrap resamples for the top AUC's interval (scikit-learn's AUC costs milliseconds a call)"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the interval"),
    }
    thresholds = {
        "max_proxy_auc": Threshold(direction="above", warn=0.7, fail=0.8, low=0.5, high=1,
                                   help="highest cross-validated AUC of one input predicting a sensitive attribute"),
    }
    practices = ("P8.1", "P1.9")
    references = (
        "Barocas, Hardt & Narayanan, Fairness and Machine Learning, fairmlbook.org (2023)",
        "Datta et al. (2017), Proxy non-discrimination in data-driven systems, CCS",
        "https://scikit-learn.org/stable/modules/generated/sklearn.feature_selection.mutual_info_classif.html",
    )

    def run(self, ctx, params):
        from sklearn.feature_selection import mutual_info_classif
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import TargetEncoder
        from sklearn.tree import DecisionTreeClassifier

        missing = _missing_sensitive(ctx, "train")
        if missing:
            return _skip(f"the training data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        train = ctx.frame("train")
        inputs = [c for c in ctx.features if c not in ctx.sensitive and c in train.columns]
        if not inputs:
            return _skip("the model has no inputs other than the sensitive features, so none can stand in for them.")
        seed, conf = ctx.seed_for(self.id), params["confidence"]
        idx, sample = ctx.sample_index("train", params["max_rows"], check_id=self.id)
        frame = train.iloc[idx].reset_index(drop=True)
        columns: dict[str, tuple[np.ndarray, bool]] = {}
        for col in inputs:
            s = frame[col]
            if _is_numeric(s):
                x = s.to_numpy(dtype="float64", na_value=np.nan)
                columns[col] = (np.where(np.isfinite(x), x, np.nan), True)
            else:
                text = s.astype(str).to_numpy(dtype=object)
                text[s.isna().to_numpy()] = MISSING_LEVEL
                columns[col] = (text, False)

        results, notes = [], []
        best: tuple[float, str, str, np.ndarray, np.ndarray] | None = None
        for attr in ctx.sensitive:
            codes, groups = group_codes(frame[attr], max_levels=params["max_levels"], numeric_bins=params["numeric_bins"])
            sizes = np.bincount(codes, minlength=len(groups))
            kept = np.flatnonzero(sizes >= max(params["min_group_rows"], params["cv"]))
            if len(kept) < len(groups):
                notes.append(f"{_text(attr)}: left out {', '.join(_text(groups[g]) for g in np.flatnonzero(sizes < max(params['min_group_rows'], params['cv']))[:5])}")
            if len(kept) < 2:
                notes.append(f"{_text(attr)} has fewer than two groups with enough sampled rows; not assessed")
                continue
            rows = np.isin(codes, kept)
            target = np.searchsorted(kept, codes[rows])
            folds = StratifiedKFold(n_splits=params["cv"], shuffle=True, random_state=seed)
            mi_matrix = np.column_stack([
                np.nan_to_num(x[rows], nan=float(np.nanmedian(x[rows])) if np.isfinite(x[rows]).any() else 0.0) if numeric
                else pd.factorize(pd.Series(x[rows], dtype=object))[0]
                for x, numeric in columns.values()
            ]).astype("float64")
            discrete = np.array([not numeric for _, numeric in columns.values()])
            mi = mutual_info_classif(mi_matrix, target, discrete_features=discrete, random_state=seed)
            for (col, (x, numeric)), info in zip(columns.items(), mi):
                tree = DecisionTreeClassifier(max_depth=params["max_depth"], min_samples_leaf=params["min_samples_leaf"], random_state=seed)
                model = tree if numeric else make_pipeline(TargetEncoder(cv=KFold(5, shuffle=True, random_state=seed)), tree)
                X = x[rows].reshape(-1, 1)
                if numeric and not np.isfinite(X).any():
                    continue
                oof = cross_val_predict(model, X, target, cv=folds, method="predict_proba")
                auc = _proxy_auc(target, oof)
                results.append([_text(attr), _text(col), auc, float(info), len(kept)])
                if best is None or auc > best[0]:
                    best = (auc, str(attr), str(col), target, oof)
        sample["rows_used"] = len(frame)
        if best is None:
            return Findings(summary="Could not assess proxies: " + "; ".join(notes) + ".", sample=sample,
                            metrics={"max_proxy_auc": Metric(None, description="highest single-input AUC for a sensitive attribute")})
        auc, attr, col, target, oof = best
        low, high = _auc_interval(target, oof, n_resamples=params["n_resamples"], confidence=conf, rng=ctx.rng(self.id))
        results.sort(key=lambda r: (-r[2], r[0], r[1]))
        strong = [r for r in results if r[2] > 0.7]
        metrics = {
            "max_proxy_auc": Metric(auc, low, high, description=f"cross-validated AUC of {col} predicting {attr} ({conf:.0%} bootstrap interval)"),
            "max_mutual_information": Metric(max(r[3] for r in results), description="highest mutual information between an input and a sensitive attribute (nats)"),
            "inputs_assessed": Metric(len(inputs), description="model inputs other than the sensitive features"),
        }
        summary = (f"The strongest proxy is {_text(col)}, which predicts {_text(attr)} with a cross-validated AUC of "
                   f"{_ci_text(auc, low, high)} from {len(frame):,} training rows")
        others = [r for r in results[1:4] if r[2] > 0.6]
        if others:
            summary += "; next: " + ", ".join(f"{r[1]} for {r[0]} ({r[2]:.3f})" for r in others)
        summary += "."
        if notes:
            summary += " " + "; ".join(notes) + "."
        note = (f"Out-of-fold AUC of a depth-{params['max_depth']} tree on the input alone ({params['cv']} folds; "
                f"categorical inputs target-encoded inside the folds); mutual information in nats. 0.5 is no information.")
        if len(results) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(results)} pairs."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="How well each input predicts each sensitive attribute",
                               columns=["sensitive attribute", "input", "AUC", "mutual information", "groups"],
                               rows=results[:MAX_ROWS], note=note)],
            recommendation=(
                f"Review the inputs that predict a sensitive attribute ({', '.join(r[1] for r in strong[:5])}): keep one only "
                "if it is needed and legitimate in itself, and measure disparities (FR002) with the attribute known rather "
                "than relying on its absence from the inputs."
                if strong else "No input recovers a sensitive attribute well; keep measuring disparities directly."
            ),
            sample=sample,
        )


# -- FR006 ---------------------------------------------------------------------------
class SensitiveAttributeAsInput(Check):
    """Sensitive attributes used as model inputs

    What it checks:
        Whether each sensitive feature (``--sensitive``) is itself one of the model's
        inputs. The metric ``sensitive_inputs`` counts those that are; it warns above 0.
        The warning is a transparency note, not a verdict: using a sensitive attribute can
        be unlawful (direct discrimination in many jurisdictions and sectors), required
        (to correct for a known bias, or in medicine), or harmless; the reviewer must see
        that it happens and the documentation must say why. Leaving it out is no proof of
        fairness either: see FR005 for inputs that stand in for it.

    Why it matters:
        A model that takes sex or ethnicity as an input can treat two otherwise identical
        people differently because of it. Whether that is acceptable is a legal and
        ethical decision that has to be made and recorded, not left implicit.

    How to fix:
        Record in the model's documentation which sensitive attributes it uses and on what
        grounds; where there are none, retrain without them and compare (disparities with
        FR002, proxies with FR005). If the use is deliberate, waive this finding in the
        policy with the reason and an owner.

    References:
        P8.1 and P8.3 of the practices; Mitchell et al. (2019), Model cards for model
        reporting, FAT*; Barocas, Hardt & Narayanan, Fairness and Machine Learning
        (fairmlbook.org, 2023).
    """

    id = "FR006"
    name = "sensitive-attribute-as-input"
    area = "fairness"
    severity = "low"
    needs = frozenset({"sensitive"})
    thresholds = {
        "sensitive_inputs": Threshold(direction="above", warn=0, low=0,
                                      help="sensitive features that are model inputs (a transparency note)"),
    }
    practices = ("P8.1", "P8.3")
    references = (
        "Mitchell et al. (2019), Model cards for model reporting, FAT*",
        "Barocas, Hardt & Narayanan, Fairness and Machine Learning, fairmlbook.org (2023)",
    )

    def run(self, ctx, params):
        if ctx.model is None or not ctx.model.can_call:
            # Stored predictions say nothing about which columns produced them.
            return Findings(status="skipped", summary=(
                "Skipped: predictions-only mode: which columns the model read is unknown, so whether a sensitive "
                "feature is a model input cannot be told."))
        features = set(ctx.model_inputs)
        used = [c for c in ctx.sensitive if c in features]
        rows = [[_text(c), "yes" if c in features else "no",
                 ", ".join(r for r in ("train", "test", "current") if ctx.has(r) and c in ctx.frame(r).columns) or "none"]
                for c in ctx.sensitive]
        if used:
            summary = (f"{wording.count(len(used), 'sensitive feature')} of {len(ctx.sensitive)} "
                       f"{'is a model input' if len(used) == 1 else 'are model inputs'}: {', '.join(_text(c) for c in used)}.")
        else:
            summary = (f"None of the {wording.count(len(ctx.sensitive), 'sensitive feature')} ({', '.join(_text(c) for c in ctx.sensitive)}) "
                       "is a model input; other inputs may still stand in for them (FR005).")
        return Findings(
            summary=summary,
            metrics={"sensitive_inputs": Metric(len(used), description="sensitive features that are model inputs")},
            evidence=[Evidence(title="Sensitive features and the model's inputs", columns=["sensitive feature", "model input", "present in"],
                               rows=rows[:MAX_ROWS])],
            recommendation=(
                "Document why the model uses these attributes (legal basis, purpose), or retrain without them and compare "
                "disparities (FR002) and proxies (FR005); waive this note in the policy when the use is deliberate."
                if used else "Nothing to document here; check FR005 for inputs that stand in for the sensitive features."
            ),
        )


# -- FR007 ---------------------------------------------------------------------------
class WeakSegments(Check):
    """Slices of the data where the model is significantly worse

    What it checks:
        An automatic search (``auditor.slicing.find_weak_slices``) over slices of one or
        two columns of the test rows (``max_order``): categorical values (the
        ``max_levels`` most frequent per column), numeric columns cut into ``bins``
        quantile bins, missing values as a value of their own; the columns are the model's
        inputs and the sensitive features, even those the model does not take. In each
        slice of at least ``min_size`` rows, the model's error (classification: the error
        rate; regression: the mean absolute error) is tested one-sided against its
        reference: the exact binomial test of the slice's errors against the reference
        rate (SciPy), or Welch's t-test of the slice's absolute errors against the rest of
        the reference. The reference of a one-column slice is all rows; a two-column slice
        must also be worse than each of its one-column parents (``reference: parents``),
        so a region that is merely hard for any model does not make every pair through it
        weak. The false discovery rate is controlled at ``alpha`` over every slice
        searched (Benjamini-Hochberg, statsmodels). Only slices that involve a declared
        sensitive feature are searched and reported: a slice of other columns where the
        model errs more is often a region that is intrinsically harder (near the decision
        boundary), not a group treated worse, and belongs to robustness. The judged metric
        ``weak_slices`` counts the significantly weaker slices: fail above 0. The search
        is bounded: at most ``max_slices`` slices (single-column slices first, then the
        largest pairs) on a seeded sample of at most ``max_rows`` rows.

    Why it matters:
        Declared groups are the ones someone thought of. A model can fail a slice nobody
        named (older women in one occupation, one region's night shift), and an average
        over declared groups hides it. Searching every slice finds them; controlling the
        false discovery rate keeps chance from producing them.

    How to fix:
        Look at the rows of each weak slice: are they rare in training (collect or
        reweight), mislabelled, or missing a feature that matters for them? Retrain and
        search again; report slices that stay weak in the model's documentation.

    References:
        P8.1 and P4.3 of the practices; Chung et al. (2019), Slice Finder: automated data
        slicing for model validation, ICDE; Benjamini & Hochberg (1995), Controlling the
        false discovery rate, JRSS B 57; Kearns et al. (2018), Preventing fairness
        gerrymandering, ICML.
    """

    id = "FR007"
    name = "weak-segments"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "sensitive"})
    params = {
        **SEARCH_PARAMS,
        "reference": Param(default="parents", kind="str", choices=("parents", "overall"),
                           help="a two-column slice against its parents and all rows, or all rows only"),
    }
    thresholds = {
        "weak_slices": Threshold(direction="above", fail=0, low=0,
                                 help="slices with a significantly higher error than their reference, after FDR control"),
    }
    practices = ("P8.1", "P4.3")
    references = (
        "Chung et al. (2019), Slice Finder: automated data slicing for model validation, ICDE",
        "Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57",
    )

    def run(self, ctx, params):
        missing = _missing_sensitive(ctx, "test")
        if missing:
            return _skip(f"the test data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        if ctx.is_classification:
            errors = (out.y != out.pred).astype("float64")
            keep = np.ones(len(out), dtype=bool)
            what, unit = "error rate", "error rate"
        else:
            errors = np.abs(np.asarray(out.y, dtype="float64") - np.asarray(out.pred, dtype="float64"))
            keep = np.isfinite(errors)
            errors = errors[keep]
            what, unit = "mean absolute error", "mean absolute error"
        sample["rows_used"] = int(keep.sum())
        if keep.sum() < 2 * params["min_size"]:
            return Findings(status="inconclusive", sample=sample,
                            summary=f"Inconclusive: {wording.count(int(keep.sum()), 'labelled test row')}, too few for slices of "
                                    f"{params['min_size']} rows to be compared with the rest.")
        frame = ctx.frame("test").iloc[out.rows[keep]].reset_index(drop=True)
        columns = list(dict.fromkeys([c for c in ctx.features if c in frame.columns] + list(ctx.sensitive)))
        search = find_weak_slices(
            frame=frame, errors=errors, columns=columns, max_order=params["max_order"], min_size=params["min_size"],
            bins=params["bins"], alpha=params["alpha"], random_state=ctx.seed_for(self.id),
            must_include=list(ctx.sensitive), error_type="binary" if ctx.is_classification else "continuous",
            reference=params["reference"], max_levels=params["max_levels"], max_slices=params["max_slices"],
        )
        weak = search.weak
        scope = (f"slices involving {', '.join(_text(c) for c in ctx.sensitive)}" if ctx.sensitive
                 else "slices of the model's inputs")
        metrics = {
            "weak_slices": Metric(len(weak), description=f"{scope} with a significantly higher {what} (FDR {params['alpha']:g})"),
            "slices_searched": Metric(search.searched, description=f"{scope} with at least {params['min_size']} rows, tested"),
            "slices_not_searched": Metric(search.candidates - search.searched,
                                          description=f"eligible slices beyond max_slices ({params['max_slices']}), not tested"),
            f"overall_{'error_rate' if ctx.is_classification else 'mae'}": Metric(search.overall, description=f"{what} over the rows searched"),
        }
        if weak:
            top = weak[0]
            metrics["worst_slice_error"] = Metric(top["metric"], top["ci_low"], top["ci_high"],
                                                  description=f"{what} in the most significant weak slice ({top['description']})")
        shown = weak[:MAX_ROWS] if weak else search.records[:5]
        rows = [[_text(r["description"], 80), r["size"], r["metric"], r["ci_low"], r["ci_high"], r["reference"], r["q_value"]]
                for r in shown]
        title = "Weak slices" if weak else "Slices with the strongest evidence (none significant)"
        note = (f"{unit.capitalize()} with a 95% interval; reference: {'all rows, and for two-column slices each parent (the largest shown)' if params['reference'] == 'parents' else 'all rows'}; "
                f"q: Benjamini-Hochberg adjusted p-value over {search.searched:,} slices.")
        if len(weak) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(weak)}."
        figures = []
        if weak:
            figures = [interval_chart("Weak slices", [(r["description"], r["metric"], r["ci_low"], r["ci_high"]) for r in weak[:MAX_ROWS]],
                                      xlabel=unit, caption=f"Dots: {unit} in each weak slice; bars: 95% intervals; dashed line: all rows.",
                                      reference=search.overall, reference_label="all rows")]
        if weak:
            listed = "; ".join(f"{_text(r['description'], 60)} ({r['size']:,} rows, {r['metric']:.3g} against {r['reference']:.3g})" for r in weak[:3])
            summary = (f"Searched {search.searched:,} {scope} on {search.rows:,} test rows: {wording.count(len(weak), 'slice')} "
                       f"{'has' if len(weak) == 1 else 'have'} a significantly higher {what} than {search.overall:.3g} overall "
                       f"(FDR {params['alpha']:g}): {listed}" + (" and more" if len(weak) > 3 else "") + ".")
        else:
            summary = (f"Searched {search.searched:,} {scope} on {search.rows:,} test rows: none has a significantly higher {what} "
                       f"than its reference (overall {search.overall:.3g}; FDR {params['alpha']:g}).")
        if search.candidates > search.searched:
            summary += f" {wording.count(search.candidates - search.searched, 'further slice')} beyond the cap of {params['max_slices']:,} {'was' if search.candidates - search.searched == 1 else 'were'} not searched."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title=title, columns=["slice", "rows", unit, "CI low", "CI high", "reference", "q"], rows=rows, note=note)],
            figures=figures,
            recommendation=(
                "Inspect the rows of each weak slice: too few in training, mislabelled, or missing a feature that matters for "
                "them? Retrain and search again; document slices that stay weak."
                if weak else "No weak slice; search again after retraining or when the data change."
            ),
            sample=sample,
        )
