"""The engine seam: statistics that checks ask the context for, computed where the rows live.

A check that can be written over aggregates (counts of repeated rows, rows that match
another dataset, per-column profiles and quantiles, sums over the model's outputs with
their bootstrap replicates) asks ``ctx.stats`` for them instead of reading DataFrames.
Two engines answer:

- :class:`PandasStatistics` (the default), over the tables held in memory;
- ``SparkStatistics`` (:mod:`auditor.contract.compute_spark`), over Spark DataFrames on a
  cluster, in one pass per statistic, with nothing but the aggregate brought to the driver.

Every other check reads ``ctx.frame(role)``: under the pandas engine that is the whole
table, under Spark a seeded sample of stated size drawn on the cluster, and the result's
``sample`` says which.

The bootstrap over rows that lie on many machines is the Poisson bootstrap (Hanley &
MacGibbon 2006; Chamandy et al. 2012): each row gets, per replicate, an independent
Poisson(1) weight, so replicate sums are sums over partitions and merge as counts do.
The weights are a function of a row key, the replicate and the seed (a counter-based
generator), so they need no shared state between machines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

# Methods take the AuditContext they serve (``ctx``); it is not imported here, as the context
# imports this module (``ctx.stats``).
AuditContext = Any

ENGINES = ("pandas", "spark")

# Poisson(1) cumulative probabilities for 0..19 (the tail beyond 19 is below 1e-17).
_POISSON_CDF: list[float] = []


def _poisson_cdf() -> np.ndarray:
    if not _POISSON_CDF:
        from scipy.stats import poisson

        _POISSON_CDF.extend(poisson.cdf(np.arange(20), 1.0).tolist())
    return np.asarray(_POISSON_CDF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64 values: a bijection that scatters nearby keys."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def poisson_weights(keys: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """Poisson(1) bootstrap weights of the rows with these 64-bit ``keys``: shape (rows, replicates).

    The same key, replicate and seed give the same weight on any machine, so replicates
    computed partition by partition add up to the replicate over the whole table.
    """
    keys = np.asarray(keys).astype(np.uint64, copy=False)
    salt = _splitmix64(np.arange(replicates, dtype=np.uint64) + np.uint64((int(seed) & 0xFFFFFFFF) << 20))
    mixed = _splitmix64(keys[:, None] ^ salt[None, :])
    uniform = (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return np.searchsorted(_poisson_cdf(), uniform, side="right").astype(np.float64)


def replicate_sums(size: int, contributions: list[tuple[Any, Any]], keys: np.ndarray, *, replicates: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell totals of a reducer's ``(cells, values)`` contributions over a batch of rows, and
    the same under each Poisson replicate: shapes (size,) and (replicates, size)."""
    from scipy import sparse

    n = len(keys)
    weights = poisson_weights(keys, replicates, seed)  # (n, B)
    totals = np.zeros(size)
    reps = np.zeros((replicates, size))
    rows = np.arange(n)
    for cells, values in contributions:
        cells = np.asarray(cells, dtype=np.int64)
        values = np.broadcast_to(np.asarray(values, dtype=float), (n,))
        totals += np.bincount(cells, weights=values, minlength=size)
        per_row = sparse.csr_matrix((values, (rows, cells)), shape=(n, size))
        reps += np.asarray((per_row.T @ weights).T)
    return totals, reps


@dataclass(frozen=True)
class ScoredSums:
    """Cell totals of a reducer over every labelled row of a dataset, and the same totals
    under each Poisson-bootstrap replicate."""

    rows: int
    totals: np.ndarray  # (size,)
    replicates: np.ndarray  # (B, size)


@dataclass(frozen=True)
class ColumnProfile:
    rows: int
    nulls: int
    #: Exact under pandas; under Spark a HyperLogLog estimate (relative error about 2%).
    distinct: int
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class TopValue:
    """A column's most frequent non-missing value and how many rows hold it, with its missing
    and distinct counts. Under Spark the value is reported only where it holds at least the
    ``min_share`` asked for (None and 0 otherwise), and ``distinct`` is a HyperLogLog estimate."""

    rows: int
    missing: int
    distinct: int
    value: Any
    count: int


#: A reducer turns one batch of a dataset's labelled rows into the cells each row adds to:
#: ``reducer(y, pred, proba) -> (size, [(cells, values), ...])``, each pair one cell index and
#: one value per row, whose totals per cell are the statistic. For classification ``y``
#: and ``pred`` are class codes (positions in ``ctx.classes``) and ``proba`` the probability
#: matrix (None without one); for regression they are floats. It must be picklable (a
#: module-level function or an instance of a module-level class), as Spark ships it to workers.
Reducer = Callable[[Any, Any, Any], Any]


def encode_outputs(y: Any, pred: Any, proba: Any, *, classes: list[Any] | None) -> tuple[Any, Any, Any]:
    """Labelled rows only; class labels as their codes in ``classes`` (regression: floats)."""
    y = np.asarray(y)
    labelled = ~pd.isna(y)
    y, pred = y[labelled], np.asarray(pred)[labelled]
    if proba is not None:
        proba = np.asarray(proba, dtype=float)[labelled]
    if classes is None:
        return y.astype(float), pred.astype(float), proba
    lookup = {c: i for i, c in enumerate(classes)}
    text = {str(c): i for i, c in enumerate(classes)}

    def codes(values: np.ndarray) -> np.ndarray:
        return np.fromiter((lookup.get(v, text.get(str(v), -1)) for v in values.tolist()), dtype=np.int64, count=len(values))

    return codes(y), codes(pred), proba


class PandasStatistics:
    """The statistics over the tables in memory (``ctx.datasets``): exact."""

    engine = "pandas"
    #: Whether the rows lie elsewhere (a cluster) and ``ctx.frame`` holds only a sample.
    distributed = False

    def rows(self, ctx: AuditContext, role: str) -> int:
        return int(len(ctx.datasets[role]))

    # -- row hashes ------------------------------------------------------------------
    def _hashes(self, ctx: AuditContext, roles: tuple[str, ...], columns: list[str]) -> list[np.ndarray]:
        key = ("row hashes", roles, tuple(columns))
        return ctx.memo(key, lambda: row_hashes([ctx.datasets[r] for r in roles], columns))

    def duplicate_rows(self, ctx: AuditContext, role: str, columns: list[str]) -> int:
        """Rows that repeat an earlier row of the same dataset over ``columns``."""
        (h,) = self._hashes(ctx, (role,), columns)
        return int(pd.Series(h).duplicated(keep="first").sum())

    def repeated_share(self, ctx: AuditContext, role: str, columns: list[str]) -> float:
        """Share of rows equal to some other row of the same dataset over ``columns``."""
        (h,) = self._hashes(ctx, (role,), columns)
        return float(pd.Series(h).duplicated(keep=False).mean()) if len(h) else 0.0

    def matching_rows(self, ctx: AuditContext, role: str, reference: str, columns: list[str]) -> int:
        """Rows of ``role`` whose values over ``columns`` equal some row of ``reference``."""
        h_ref, h_role = self._hashes(ctx, (reference, role), columns)
        return int(np.isin(h_role, h_ref).sum())

    # -- columns ----------------------------------------------------------------------
    def column_profile(self, ctx: AuditContext, role: str, columns: list[str]) -> dict[str, ColumnProfile]:
        frame = ctx.datasets[role]
        out = {}
        for c in columns:
            s = frame[c]
            numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
            values = pd.to_numeric(s, errors="coerce") if numeric else None
            out[c] = ColumnProfile(
                rows=int(len(s)), nulls=int(s.isna().sum()), distinct=int(s.nunique(dropna=True)),
                minimum=float(values.min()) if numeric and values.notna().any() else None,
                maximum=float(values.max()) if numeric and values.notna().any() else None,
            )
        return out

    def top_values(self, ctx: AuditContext, role: str, columns: list[str], *, min_share: float) -> dict[str, TopValue]:
        """Each column's most frequent value (exact here, whatever its share)."""
        frame = ctx.datasets[role]
        out = {}
        for c in columns:
            vc = frame[c].value_counts(dropna=True, sort=True)
            vc = vc[vc > 0]
            values = np.asarray(vc.index, dtype=object)
            out[c] = TopValue(rows=int(len(frame)), missing=int(len(frame) - vc.sum()), distinct=int(len(vc)),
                              value=values[0] if len(vc) else None, count=int(vc.iloc[0]) if len(vc) else 0)
        return out

    def quantiles(self, ctx: AuditContext, role: str, column: str, probs: list[float]) -> np.ndarray:
        """Quantiles of a numeric column, missing values left out (exact: numpy's 'inverted_cdf')."""
        values = pd.to_numeric(ctx.datasets[role][column], errors="coerce").dropna().to_numpy(dtype=float)
        if values.size == 0:
            return np.full(len(probs), np.nan)
        return np.quantile(values, probs, method="inverted_cdf")

    # -- the model's outputs --------------------------------------------------------------
    def scored_sums(self, ctx: AuditContext, role: str, reducer: Reducer, *, replicates: int, seed: int) -> ScoredSums:
        """Sums of ``reducer``'s features over the labelled rows of ``role`` and their Poisson
        replicates (row keys: positions in the table)."""
        y = ctx.y(role)
        proba = ctx.probabilities(role)
        labelled = ~y.isna().to_numpy()
        y_, pred, p = encode_outputs(y.to_numpy(), ctx.predictions(role), proba,
                                     classes=ctx.classes if ctx.is_classification else None)
        size, contributions = reducer(y_, pred, p)
        keys = np.flatnonzero(labelled).astype(np.uint64)
        totals, reps = replicate_sums(size, contributions, keys, replicates=replicates, seed=seed)
        return ScoredSums(rows=int(len(y_)), totals=totals, replicates=reps)

    def describe(self) -> dict[str, Any]:
        return {"name": self.engine}


def _comparable(series: list[pd.Series]) -> list[pd.Series]:
    """The same column from several datasets in one representation, so equal values hash equal.

    Numbers become float64 in all of them (an int 1 in train equals a float 1.0 in test);
    anything else, or a column whose kind differs between datasets, becomes text.
    """
    from auditor.util.columns import is_numeric

    if all(is_numeric(s) or pd.api.types.is_bool_dtype(s.dtype) for s in series):
        return [pd.Series(s.to_numpy(dtype="float64", na_value=np.nan)) for s in series]
    return [s.astype(str).reset_index(drop=True) for s in series]


def row_hashes(frames: list[pd.DataFrame], cols: list[str]) -> list[np.ndarray]:
    """A 64-bit hash of each row over ``cols`` (pandas.util.hash_pandas_object), comparable across frames."""
    parts: list[dict[int, pd.Series]] = [{} for _ in frames]
    for i, col in enumerate(cols):
        for part, values in zip(parts, _comparable([f[col] for f in frames])):
            part[i] = values
    return [pd.util.hash_pandas_object(pd.DataFrame(p), index=False).to_numpy() for p in parts]


class BoundStatistics:
    """An engine's statistics bound to one context: ``ctx.stats.duplicate_rows(role, cols)``."""

    def __init__(self, engine: Any, ctx: AuditContext) -> None:
        self._engine, self._ctx = engine, ctx

    @property
    def engine(self) -> str:
        return self._engine.engine

    @property
    def distributed(self) -> bool:
        return self._engine.distributed

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._engine, name)
        return lambda *args, **kwargs: method(self._ctx, *args, **kwargs)
