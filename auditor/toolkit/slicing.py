"""Weak-segment search: slices of one or two columns where a model errs significantly more.

A *slice* is the set of rows where one column takes one value (a categorical level, or a
quantile bin of a numeric column), or where two columns take one value each. For every
slice of at least ``min_size`` rows the search asks, with a one-sided test, whether the
model's error there is above its reference, then controls the false discovery rate over
every slice it tested (Benjamini-Hochberg, ``statsmodels.stats.multitest.multipletests``).

The tests are SciPy's: for an error *rate* (0/1 errors) the exact binomial test of the
slice's error count against the reference rate (``scipy.stats.binom.sf``, the p-value of
``binomtest(..., alternative="greater")``, vectorised over slices); for an error
*magnitude* (absolute errors) Welch's t-test of the slice against the rest of its reference
(``scipy.stats.ttest_ind_from_stats``). The reference of a one-column slice is every row;
with ``reference="parents"`` a two-column slice must also be worse than each of its two
one-column parents (the larger of the three p-values, an intersection-union test), so that
a slice is not reported merely because one of its columns marks rows that are hard for any
model. The functions here are glue: they count, they do not judge; the caller decides what
a weak slice means for its check.

Shared by the fairness check FR007 (slices that involve a sensitive column) and the
robustness checks (any slice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from auditor.contract.check import Param
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

MISSING_LEVEL = "<missing>"
OTHER_LEVEL = "<other levels>"
MAX_LABEL = 40

MSG_LENGTH = "The 'errors' parameter of find_weak_slices must have one value per row of 'frame' ({rows}); got {got} instead."
MSG_COLUMNS = "The 'columns' parameter of find_weak_slices names columns missing from 'frame': {missing}."
MSG_BINARY = "The 'errors' parameter of find_weak_slices must hold only 0 and 1 when error_type='binary'."
MSG_FINITE = "The 'errors' parameter of find_weak_slices must be finite numbers; got NaN or infinity."


@dataclass(frozen=True)
class SliceSearch:
    """The outcome of :func:`find_weak_slices`: plain records, one per slice tested.

    ``records`` are sorted by adjusted p-value (then by size, largest first). Each is a
    plain dict: ``columns`` and ``levels`` (lists), ``description``, ``order`` (1 or 2),
    ``size``, ``metric`` (error rate or mean absolute error in the slice), ``ci_low`` /
    ``ci_high`` (its interval), ``reference`` (the metric it was tested against: the
    largest of its references), ``p_value`` (one-sided), ``q_value`` (Benjamini-Hochberg
    adjusted over all records) and ``weak`` (rejected at ``alpha`` and worse than the
    reference).
    """

    records: list[dict[str, Any]]
    rows: int
    overall: float
    error_type: str
    candidates: int
    searched: int
    alpha: float
    reference: str
    columns: list[str] = field(default_factory=list)

    @property
    def weak(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["weak"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records, "rows": self.rows, "overall": self.overall, "error_type": self.error_type,
            "candidates": self.candidates, "searched": self.searched, "alpha": self.alpha,
            "reference": self.reference, "columns": list(self.columns),
        }


def _short(value: Any, limit: int = MAX_LABEL) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_numeric(s: pd.Series) -> bool:
    dtype = s.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)


def _edge(value: float) -> str:
    return f"{value:.4g}"


def column_levels(series: pd.Series, *, bins: int, max_levels: int) -> tuple[np.ndarray, list[str]]:
    """Each row's level code in one column, and the levels' labels.

    A numeric column with more than ``bins`` distinct values is cut into ``bins`` quantile
    bins (``pandas.qcut``, fewer where quantiles tie); any other column keeps its values as
    levels, the ``max_levels`` most frequent ones, the rest pooled as one level. Missing
    values are a level of their own.
    """
    s = series.reset_index(drop=True)
    missing = s.isna().to_numpy()
    if _is_numeric(s) and s.nunique(dropna=True) > bins:
        x = s.to_numpy(dtype="float64", na_value=np.nan)
        x = np.where(np.isfinite(x), x, np.nan)
        missing = np.isnan(x)
        binned = pd.qcut(pd.Series(x), q=bins, duplicates="drop")
        codes = binned.cat.codes.to_numpy().astype(np.int64)
        labels = []
        for i, interval in enumerate(binned.cat.categories):
            low = "[" if i == 0 else "("
            labels.append(f"{low}{_edge(interval.left)}, {_edge(interval.right)}]")
    else:
        text = s.astype(str).to_numpy(dtype=object)
        text[missing] = MISSING_LEVEL
        codes, uniques = pd.factorize(pd.Series(text, dtype=object), sort=True)
        labels = [str(u) for u in uniques]
        if len(labels) > max_levels:
            counts = np.bincount(codes, minlength=len(labels))
            keep = np.sort(np.argsort(-counts, kind="stable")[:max_levels])
            remap = np.full(len(labels), len(keep), dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            codes = remap[codes]
            labels = [labels[k] for k in keep] + [OTHER_LEVEL]
        return np.asarray(codes, dtype=np.int64), labels
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels = labels + [MISSING_LEVEL]
    return codes, labels


def _describe(columns: Sequence[str], levels: Sequence[str], numeric: Sequence[bool]) -> str:
    parts = []
    for col, level, is_num in zip(columns, levels, numeric):
        binned = is_num and level not in (MISSING_LEVEL, OTHER_LEVEL) and level[:1] in "[("
        parts.append(f"{_short(col)} in {level}" if binned else f"{_short(col)} = {_short(level)}")
    return " & ".join(parts)


def find_weak_slices(
    *,
    frame: pd.DataFrame,
    errors: np.ndarray | Sequence[float],
    columns: Sequence[str],
    max_order: Literal[1, 2] = 2,
    min_size: int = 50,
    bins: int = 5,
    alpha: float = 0.05,
    random_state: int | None = 0,
    must_include: Sequence[str] | None = None,
    error_type: Literal["binary", "continuous"] | None = None,
    reference: Literal["overall", "parents"] = "parents",
    max_levels: int = 20,
    max_slices: int = 2000,
    max_rows: int | None = None,
    confidence: float = 0.95,
    fdr_method: Literal["fdr_bh", "fdr_by"] = "fdr_bh",
) -> SliceSearch:
    """Search slices of one or two columns for a significantly higher error than their reference.

    Parameters
    ----------
    frame : DataFrame whose ``columns`` define the slices (any other column is ignored).
    errors : one value per row: 0/1 errors (``error_type="binary"``, tested as a rate) or
        non-negative error magnitudes such as absolute residuals (``"continuous"``, tested
        as a mean). ``None`` infers ``binary`` when every value is 0 or 1.
    columns : the columns to slice on.
    max_order : 1 for single-column slices only, 2 to add pairs of columns.
    min_size : the fewest rows a slice needs to be tested.
    bins : quantile bins per numeric column (a numeric column with at most ``bins``
        distinct values is sliced by value).
    alpha : the false discovery rate controlled over every slice tested.
    random_state : seed of the row sample drawn when ``max_rows`` is exceeded.
    must_include : when given, only slices that involve one of these columns are tested
        (and counted in the correction); the others still serve as parents.
    reference : ``"overall"``: every slice against all rows; ``"parents"``: a two-column
        slice must also be worse than each of its one-column parents.
    max_levels : most frequent levels kept per categorical column; the rest are pooled.
    max_slices : the most slices tested: every single-column slice first, then the
        largest two-column slices.
    max_rows : rows used at most (a seeded sample above); ``None`` uses all.
    confidence : level of each slice's interval (Wilson for a rate, t for a mean).
    fdr_method : Benjamini-Hochberg (``"fdr_bh"``) or Benjamini-Yekutieli (``"fdr_by"``,
        valid under any dependence between slices, more conservative).

    Returns
    -------
    SliceSearch with one plain record per slice tested.
    """
    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint

    columns = list(dict.fromkeys(columns))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(MSG_COLUMNS.format(missing=", ".join(repr(c) for c in missing)))
    err = np.asarray(errors, dtype="float64")
    if err.ndim != 1 or len(err) != len(frame):
        raise ValueError(MSG_LENGTH.format(rows=len(frame), got=err.shape[0] if err.ndim else 0))
    if not np.isfinite(err).all():
        raise ValueError(MSG_FINITE)
    binary_values = bool(np.isin(err, (0.0, 1.0)).all())
    if error_type is None:
        error_type = "binary" if binary_values else "continuous"
    if error_type == "binary" and not binary_values:
        raise ValueError(MSG_BINARY)
    frame = frame.reset_index(drop=True)
    if max_rows is not None and len(frame) > max_rows:
        keep = np.sort(np.random.default_rng(random_state).choice(len(frame), size=max_rows, replace=False))
        frame, err = frame.iloc[keep].reset_index(drop=True), err[keep]
    n = len(err)
    required = set(must_include) if must_include else None
    empty = SliceSearch(records=[], rows=n, overall=float(err.mean()) if n else float("nan"), error_type=error_type,
                        candidates=0, searched=0, alpha=alpha, reference=reference, columns=columns)
    if n == 0 or not columns:
        return empty

    level_codes: dict[str, np.ndarray] = {}
    level_labels: dict[str, list[str]] = {}
    numeric: dict[str, bool] = {}
    for col in columns:
        level_codes[col], level_labels[col] = column_levels(frame[col], bins=bins, max_levels=max_levels)
        numeric[col] = _is_numeric(frame[col]) and frame[col].nunique(dropna=True) > bins
    err2 = err * err

    def sums(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.bincount(codes, minlength=size).astype("float64"),
                np.bincount(codes, weights=err, minlength=size), np.bincount(codes, weights=err2, minlength=size))

    total = (float(n), float(err.sum()), float(err2.sum()))
    # One-column slices: size, error sum and squared sum by level.
    single: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
        col: sums(level_codes[col], len(level_labels[col])) for col in columns
    }
    candidates: list[tuple[tuple[str, ...], tuple[int, ...], tuple[float, float, float]]] = []
    for col in columns:
        if required is not None and col not in required:
            continue
        cnt, s1, s2 = single[col]
        for level in np.flatnonzero((cnt >= min_size) & (cnt < n)):
            candidates.append(((col,), (int(level),), (cnt[level], s1[level], s2[level])))
    pairs: list[tuple[tuple[str, ...], tuple[int, ...], tuple[float, float, float]]] = []
    if max_order >= 2:
        for a, b in combinations(columns, 2):
            if required is not None and a not in required and b not in required:
                continue
            lb = len(level_labels[b])
            size = len(level_labels[a]) * lb
            cnt, s1, s2 = sums(level_codes[a] * lb + level_codes[b], size)
            parent_a, parent_b = single[a][0], single[b][0]
            for code in np.flatnonzero(cnt >= min_size):
                la, lvl_b = divmod(int(code), lb)
                # A pair that holds every row of a parent is that parent again.
                if cnt[code] == parent_a[la] or cnt[code] == parent_b[lvl_b]:
                    continue
                pairs.append(((a, b), (la, lvl_b), (cnt[code], s1[code], s2[code])))
    n_candidates = len(candidates) + len(pairs)
    room = max(0, max_slices - len(candidates))
    candidates = candidates[:max_slices]
    if len(pairs) > room:
        order = sorted(range(len(pairs)), key=lambda i: (-pairs[i][2][0], i))[:room]
        pairs = [pairs[i] for i in sorted(order)]
    chosen = candidates + pairs
    if not chosen:
        return SliceSearch(records=[], rows=n, overall=float(err.mean()), error_type=error_type,
                           candidates=n_candidates, searched=0, alpha=alpha, reference=reference, columns=columns)

    stats_slice = np.array([c[2] for c in chosen], dtype="float64")  # (k, 3): count, sum, sum of squares

    def p_values(ref: np.ndarray) -> np.ndarray:
        """One-sided p-values of each slice against its reference (count, sum, squared sum)."""
        size, s1, s2 = stats_slice.T
        if error_type == "binary":
            rate = np.clip(ref[:, 1] / ref[:, 0], 0.0, 1.0)
            k = np.rint(s1)
            return stats.binom.sf(k - 1, size.astype(np.int64), rate)
        rest = ref - stats_slice
        mean1, mean2 = s1 / size, np.divide(rest[:, 1], rest[:, 0], out=np.zeros(len(size)), where=rest[:, 0] > 0)
        var1 = np.maximum(s2 - size * mean1**2, 0.0) / np.maximum(size - 1, 1)
        var2 = np.maximum(rest[:, 2] - rest[:, 0] * mean2**2, 0.0) / np.maximum(rest[:, 0] - 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = stats.ttest_ind_from_stats(mean1, np.sqrt(var1), size, mean2, np.sqrt(var2), rest[:, 0],
                                             equal_var=False, alternative="greater")
        p = np.asarray(res.pvalue, dtype="float64")
        p = np.where(rest[:, 0] < 2, 1.0, p)
        # No spread on either side: the slice is worse exactly when its mean is higher.
        return np.where(np.isnan(p), np.where(mean1 > mean2, 0.0, 1.0), p)

    overall_ref = np.tile(np.array(total), (len(chosen), 1))
    p = p_values(overall_ref)
    references = [overall_ref[:, 1] / overall_ref[:, 0]]
    if reference == "parents":
        is_pair = np.array([len(c[0]) == 2 for c in chosen])
        for side in (0, 1):
            parent = overall_ref.copy()
            for i, (cols, levels, _) in enumerate(chosen):
                if len(cols) == 2:
                    cnt, s1, s2 = single[cols[side]]
                    parent[i] = (cnt[levels[side]], s1[levels[side]], s2[levels[side]])
            p = np.where(is_pair, np.maximum(p, p_values(parent)), p)
            references.append(parent[:, 1] / parent[:, 0])
    p = np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)
    reject, q, _, _ = multipletests(p, alpha=alpha, method=fdr_method)
    size, s1, s2 = stats_slice.T
    metric = s1 / size
    if error_type == "binary":
        low, high = proportion_confint(np.rint(s1).astype(np.int64), size.astype(np.int64), alpha=1 - confidence, method="wilson")
    else:
        sd = np.sqrt(np.maximum(s2 - size * metric**2, 0.0) / np.maximum(size - 1, 1))
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(size - 1, 1)) * sd / np.sqrt(size)
        low, high = metric - half, metric + half
    ref_metric = np.max(np.vstack(references), axis=0)
    records: list[dict[str, Any]] = []
    for i, (cols, levels, _) in enumerate(chosen):
        labels = [level_labels[c][lv] for c, lv in zip(cols, levels)]
        records.append({
            "columns": list(cols),
            "levels": labels,
            "description": _describe(cols, labels, [numeric[c] for c in cols]),
            "order": len(cols),
            "size": int(size[i]),
            "metric": float(metric[i]),
            "ci_low": float(low[i]),
            "ci_high": float(high[i]),
            "reference": float(ref_metric[i]),
            "p_value": float(p[i]),
            "q_value": float(q[i]),
            "weak": bool(reject[i] and metric[i] > ref_metric[i]),
        })
    records.sort(key=lambda r: (r["q_value"], r["p_value"], -r["size"], r["description"]))
    return SliceSearch(records=records, rows=n, overall=float(err.mean()), error_type=error_type,
                       candidates=n_candidates, searched=len(chosen), alpha=alpha, reference=reference, columns=columns)


#: The parameters of a slice search, shared by every check that runs one (FR007, RB006).
SEARCH_PARAMS = {
    "max_order": Param(default=2, kind="int", low=1, high=2, help="columns per slice"),
    "bins": Param(default=5, kind="int", low=2, high=20, help="quantile bins per numeric column"),
    "max_levels": Param(default=20, kind="int", low=2, high=1000, help="most frequent values kept per categorical column"),
    "min_size": Param(default=50, kind="int", low=5, high=1_000_000, help="rows a slice needs to be tested"),
    "alpha": Param(default=0.05, kind="float", low=0.0001, high=0.5, help="false discovery rate over the slices searched"),
    "max_slices": Param(default=2000, kind="int", low=10, high=1_000_000, help="slices searched at most"),
    "max_rows": Param(default=20_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
}
