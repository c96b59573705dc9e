"""What two or more fairness checks share.

The sensitive groups and their intersections, the bootstrap that resamples cell counts
within the finest strata and its intervals, the preparation of the test rows (FR001,
FR002, FR004), the parameters of the sensitive features, the imports of fairlearn and
AIF360, and the test that our statistic on the observed rows agrees with theirs.
``_aif360_metrics`` and ``_design_matrix`` serve FR002 alone; they sit here with the other
library and input helpers, which keeps FR002's file under 600 lines.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from auditor.contract.check import Param
from auditor.contract.results import MAX_EVIDENCE_ROWS, Findings
from auditor.contract.results import skipped as _skip  # noqa: F401  (the family's name for it)
from auditor.toolkit.evaluation import MIN_ROWS, model_outputs
from auditor.toolkit.slicing import MISSING_LEVEL, column_levels
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = MAX_EVIDENCE_ROWS
MAX_TEXT = 40
JOIN = " & "
# The bootstrap statistic on the observed counts must equal the libraries' estimate to this.
AGREEMENT = 1e-9
# An interval needs this share of resamples where the statistic is defined.
MIN_DEFINED_SHARE = 0.9
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


def favourable_outcome(ctx: AuditContext, positive: int) -> tuple[int | None, str]:
    """The favourable outcome as a code of the binary outputs (None: not declared), and
    the words that say what a selection rate counts."""
    if ctx.favourable_label is None:
        label = ctx.positive_label
        return None, (f"selection rate = share predicted {_text(label)!r}, the positive label: no favourable outcome "
                      "was declared (--favourable-label)")
    code = ctx.classes.index(ctx.favourable_label)
    return code, f"selection rate = share predicted {_text(ctx.favourable_label)!r}, the declared favourable outcome"


def _spread(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Largest minus smallest value over ``groups`` (last axis), NaN where fewer than two are defined."""
    sub = values[..., groups]
    defined = np.isfinite(sub).sum(axis=-1)
    out = _nan_reduce(np.nanmax, sub, axis=-1) - _nan_reduce(np.nanmin, sub, axis=-1)
    return np.where(defined >= 2, out, np.nan)


# -- inputs as numbers for a distance (FR002's consistency score) ------------------------
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
