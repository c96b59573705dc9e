"""The Spark engine: the statistics of :mod:`auditor.contract.compute` over Spark DataFrames.

The tables stay on the cluster. What comes to the driver is

- aggregates: row counts, counts of distinct row hashes, per-column profiles, KLL quantile
  sketches (Apache DataSketches, Spark 4.1's ``kll_sketch_*`` functions), and the sums of
  the model's outputs with their Poisson-bootstrap replicates, one small array per
  partition, added up as it streams in (``toLocalIterator``);
- one seeded sample of each dataset, of at most ``sample_rows`` rows, for the checks that
  read rows (SHAP, permutation importance, perturbations, refits, the domain classifier...).
  Its rows are those with the smallest hash of (seed, row values), so the same table and
  seed give the same sample however the table is partitioned; exactly ``sample_rows`` of
  them, or the whole table when it is smaller, in the table's order.

The model is shipped to the executors inside the scoring function (cloudpickle) and
called on Arrow batches with ``mapInPandas``; its predictions never leave them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from auditor.contract.compute import (
    ColumnProfile,
    PandasStatistics,
    Reducer,
    ScoredSums,
    TopValue,
    encode_outputs,
    replicate_sums,
)
from auditor.util.errors import AuditInputError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

# Methods take the AuditContext they serve (``ctx``); it is not imported here, as the context
# imports this module (``ctx.stats``).
AuditContext = Any

MSG_NO_PYSPARK = (
    "--engine spark needs pyspark 4.1 or newer, which is not installed: pip install 'auditor[spark]' "
    "(Spark also needs Java 17 or newer)"
)
MIN_SPARK = (4, 1)
#: Rows of each dataset brought to the driver for the checks that read rows.
DEFAULT_SAMPLE_ROWS = 100_000
ROW_ID = "__auditor_row_id"
ORDER_KEY = "__auditor_order"
SPARK_SUFFIXES_PARQUET = (".parquet", ".pq")
SPARK_SUFFIXES_CSV = (".csv", ".csv.gz", ".csv.bz2")
REMOTE_SCHEMES = ("s3://", "s3a://", "s3n://", "gs://", "abfs://", "abfss://", "wasbs://", "hdfs://", "dbfs:/", "file:/")


def pyspark_problem() -> str | None:
    """Why the Spark engine cannot run here (pyspark missing or too old), or None."""
    try:
        import pyspark
    except ImportError:
        return MSG_NO_PYSPARK
    version = tuple(int(p) for p in pyspark.__version__.split(".")[:2] if p.isdigit())
    if version < MIN_SPARK:
        return f"--engine spark needs pyspark 4.1 or newer (for its DataSketches functions); this is pyspark {pyspark.__version__}"
    return None


def is_spark_frame(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("pyspark.sql") and type(value).__name__ == "DataFrame"


def spark_session(conf: dict[str, str] | None = None) -> Any:
    """The active SparkSession (a notebook's, spark-submit's, Databricks'), or a new one.

    A new one takes ``spark.master`` from ``conf``, then from Spark's own configuration
    (spark-submit, spark-defaults.conf), then ``$SPARK_MASTER``, else ``local[*]``.
    """
    if (problem := pyspark_problem()) is not None:
        raise AuditInputError(problem)
    import warnings

    # pyspark warns on every conversion that it does not "fully support" pandas 3; the
    # conversions the engine makes (Arrow batches of plain columns) are tested here.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = dict(conf or {})
    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in conf.items():
            try:
                active.conf.set(key, value)
            except Exception as exc:  # a static setting of a running session cannot change
                raise AuditInputError(f"--spark-conf {key}={value}: the running SparkSession cannot change it ({exc})") from None
        return active
    # Under spark-submit the JVM is already up and holds the submitted master; otherwise asking
    # SparkConf would start the JVM before the settings below (spark.driver.memory) could apply.
    submitted = SparkConf().get("spark.master", None) if os.environ.get("PYSPARK_GATEWAY_PORT") else None
    master = conf.pop("spark.master", None) or submitted or os.environ.get("SPARK_MASTER") or "local[*]"
    if master.startswith("local"):
        # Local mode: the Python workers are this interpreter, which has the model's libraries.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        conf.setdefault("spark.ui.enabled", "false")
        conf.setdefault("spark.ui.showConsoleProgress", "false")
        conf.setdefault("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
    builder = SparkSession.builder.appName("auditor").master(master)
    conf.setdefault("spark.sql.execution.arrow.pyspark.enabled", "true")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuditInputError(f"cannot start Spark (master {master}): {reason}; Spark needs Java 17 or newer") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def read_spark_table(session: Any, value: Any, *, role: str) -> tuple[Any, dict[str, Any]]:
    """A dataset as a Spark DataFrame: a DataFrame given in the API, a Parquet, Delta or CSV path
    (local or on a cluster file system), or a catalog table name; and the report's record of it."""
    if is_spark_frame(value):
        return value, {"path": None, "source": "in memory (pyspark.sql.DataFrame)", "sha256": None}
    if not isinstance(value, (str, os.PathLike)):
        raise AuditInputError(f"{role} data for --engine spark must be a path, a table name or a pyspark DataFrame; "
                              f"got a {type(value).__module__.split('.')[0]}.{type(value).__name__}")
    text = str(value)
    lower = text.lower()
    remote = lower.startswith(REMOTE_SCHEMES)
    local = not remote and os.path.exists(text)
    try:
        if local and os.path.isdir(text) and os.path.isdir(os.path.join(text, "_delta_log")) or lower.startswith("delta:"):
            path = text.removeprefix("delta:")
            frame, kind = session.read.format("delta").load(path), "Delta"
        elif lower.endswith(SPARK_SUFFIXES_CSV):
            if not local and not remote:
                raise AuditInputError(f"{role} file not found: {text}")
            frame = session.read.csv(text, header=True, inferSchema=True)
            kind = "CSV"
        elif local or remote:
            frame, kind = session.read.parquet(text), "Parquet"
        elif "/" in text or "\\" in text or lower.endswith(SPARK_SUFFIXES_PARQUET):
            raise AuditInputError(f"{role} path not found: {text}")
        else:
            frame, kind = session.table(text), "catalog table"
    except AuditInputError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuditInputError(f"cannot read the {role} data {text!r} with Spark: {reason}") from None
    names = list(frame.columns)
    if len(set(names)) != len(names):
        dupes = sorted({c for c in names if names.count(c) > 1})
        raise AuditInputError(f"{role} data has duplicate column names {dupes}: {text}")
    record: dict[str, Any] = {"path": text, "source": f"{kind} read by Spark", "sha256": None}
    if local and os.path.isfile(text):
        from auditor.contract.data import sha256_file

        record["sha256"] = sha256_file(text)
    return frame, record


def _model_failure(exc: Exception, role: str) -> Exception:
    """A failure on the executors as the audit's error: the Python exception's last line, not
    the JVM's stack (a model that raises there is the user's model failing, not a crash)."""
    from auditor.contract.adapters import ModelCallError

    text = str(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    python = [ln for ln in lines if ln.split(":")[0].endswith(("Error", "Exception"))]
    reason = (python[-1] if python else lines[0] if lines else type(exc).__name__)[:400]
    return ModelCallError(f"scoring the {role} data on the cluster failed: {reason}")


def _to_pandas(frame: Any) -> pd.DataFrame:
    """A collected Spark sample as pandas with the dtypes the pandas engine reads a file with."""
    out = frame.toPandas()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype("int64")
        elif pd.api.types.is_float_dtype(s.dtype):
            out[c] = s.astype("float64")
    return out.reset_index(drop=True)


class SparkStatistics(PandasStatistics):
    """Statistics over Spark DataFrames (see the module's docstring)."""

    engine = "spark"
    distributed = True

    def __init__(self, session: Any, frames: dict[str, Any], *, sample_rows: int = DEFAULT_SAMPLE_ROWS, seed: int = 0):
        from pyspark.sql import functions as F

        self.session = session
        self.sample_rows = int(sample_rows)
        self.seed = int(seed)
        # Each row keeps the table's order (a scan's monotonically increasing id) for the sample.
        self.frames = {role: df.withColumn(ORDER_KEY, F.monotonically_increasing_id()) for role, df in frames.items()}
        self._rows: dict[str, int] = {}
        self._drawn: dict[str, int] = {}

    # -- the driver sample ----------------------------------------------------------
    def draw_samples(self) -> dict[str, pd.DataFrame]:
        """The seeded sample of every dataset, as pandas on the driver (the whole table when smaller)."""
        from pyspark.sql import functions as F

        out = {}
        for role, df in self.frames.items():
            n = self._count(role)
            columns = [c for c in df.columns if c != ORDER_KEY]
            if n <= self.sample_rows:
                chosen = df
            else:
                key = F.xxhash64(F.lit(self.seed), *[F.col(f"`{c}`") for c in columns])
                chosen = df.withColumn("__auditor_draw", key).orderBy("__auditor_draw", ORDER_KEY).limit(self.sample_rows)
            frame = _to_pandas(chosen.orderBy(ORDER_KEY).select(*[F.col(f"`{c}`") for c in columns]))
            if len(frame) == 0:
                raise AuditInputError(f"{role} data is empty (0 rows)")
            self._drawn[role] = len(frame)
            out[role] = frame
        return out

    def _count(self, role: str) -> int:
        if role not in self._rows:
            self._rows[role] = int(self.frames[role].count())
        return self._rows[role]

    def rows(self, ctx: AuditContext, role: str) -> int:
        return self._count(role)

    def sample_record(self, roles: list[str]) -> dict[str, Any] | None:
        """The ``sample`` of a check that read the driver sample of ``roles``."""
        from auditor.contract.context import combine_samples

        records = {r: {"role": r, "rows_used": self._drawn[r], "rows_available": self._count(r), "seed": self.seed,
                       "drawn": "seeded sample drawn on the cluster"} for r in roles if r in self._drawn}
        if not records:
            return None
        if len(records) == 1:
            return next(iter(records.values()))
        return combine_samples(records, self.seed) | {"drawn": "seeded sample drawn on the cluster"}

    # -- row hashes ---------------------------------------------------------------------
    def _hashed(self, roles: tuple[str, ...], columns: list[str]) -> list[Any]:
        """Each role's rows as two 64-bit hashes over ``columns``, each column in one representation
        across the roles (numbers as doubles, anything else as text), missing values marked."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import BooleanType, NumericType

        frames = [self.frames[r] for r in roles]
        parts = []
        for c in columns:
            kinds = [f.schema[c].dataType for f in frames]
            numeric = all(isinstance(k, (NumericType, BooleanType)) for k in kinds)
            col = F.col(f"`{c}`")
            parts.append(F.coalesce(col.cast("double"), F.lit(float("nan"))) if numeric
                         else F.coalesce(col.cast("string"), F.lit("\u0000missing")))
        return [f.select(F.xxhash64(*parts).alias("h1"), F.hash(*parts).alias("h2")) for f in frames]

    def duplicate_rows(self, ctx: AuditContext, role: str, columns: list[str]) -> int:
        (h,) = self._hashed((role,), columns)
        return self._count(role) - int(h.distinct().count())

    def repeated_share(self, ctx: AuditContext, role: str, columns: list[str]) -> float:
        from pyspark.sql import functions as F

        (h,) = self._hashed((role,), columns)
        repeated = h.groupBy("h1", "h2").count().where(F.col("count") > 1).agg(F.sum("count")).first()[0]
        n = self._count(role)
        return float(repeated or 0) / n if n else 0.0

    def matching_rows(self, ctx: AuditContext, role: str, reference: str, columns: list[str]) -> int:
        h_ref, h_role = self._hashed((reference, role), columns)
        return int(h_role.join(h_ref.distinct(), on=["h1", "h2"], how="left_semi").count())

    # -- columns --------------------------------------------------------------------------
    def column_profile(self, ctx: AuditContext, role: str, columns: list[str]) -> dict[str, ColumnProfile]:
        """Rows, nulls (NaN counted as missing, as pandas does), distinct values (HyperLogLog++,
        2% relative error) and the numeric columns' min and max, in one pass."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import BooleanType, NumericType

        df = self.frames[role]
        aggs = [F.count(F.lit(1)).alias("rows")]
        numeric = {c: isinstance(df.schema[c].dataType, NumericType) and not isinstance(df.schema[c].dataType, BooleanType)
                   for c in columns}
        for i, c in enumerate(columns):
            col = F.col(f"`{c}`")
            missing = col.isNull() | F.isnan(col) if numeric[c] else col.isNull()
            aggs += [F.sum(F.when(missing, 1).otherwise(0)).alias(f"n{i}"),
                     F.approx_count_distinct(F.when(~missing, col), 0.02).alias(f"d{i}")]
            if numeric[c]:
                aggs += [F.min(F.when(~missing, col)).alias(f"lo{i}"), F.max(F.when(~missing, col)).alias(f"hi{i}")]
        row = df.agg(*aggs).first().asDict()
        out = {}
        for i, c in enumerate(columns):
            lo, hi = row.get(f"lo{i}"), row.get(f"hi{i}")
            out[c] = ColumnProfile(rows=int(row["rows"]), nulls=int(row[f"n{i}"] or 0), distinct=int(row[f"d{i}"] or 0),
                                   minimum=float(lo) if lo is not None else None, maximum=float(hi) if hi is not None else None)
        return out

    def top_values(self, ctx: AuditContext, role: str, columns: list[str], *, min_share: float) -> dict[str, TopValue]:
        """In two passes: the candidates that may hold ``min_share`` of the rows (Spark's
        frequent-items sketch, Karp et al. 2003: no value above the share is missed), then
        their exact counts; missing and distinct counts from :meth:`column_profile`."""
        from pyspark.sql import functions as F

        profile = self.column_profile(ctx, role, columns)
        n = self._count(role)
        df = self.frames[role]
        support = min(max(float(min_share), 1e-4), 1.0)
        found = df.stat.freqItems(columns, support=support).first() if columns else None
        candidates = {c: [v for v in (found[f"{c}_freqItems"] or []) if v is not None and v == v] for c in columns} \
            if found is not None else {}
        aggs, keys = [], []
        for c, values in candidates.items():
            for v in values:
                aggs.append(F.sum(F.when(F.col(f"`{c}`") == F.lit(v), 1).otherwise(0)).alias(f"c{len(keys)}"))
                keys.append((c, v))
        counted = df.agg(*aggs).first().asDict() if aggs else {}
        best: dict[str, tuple[Any, int]] = {}
        for i, (c, v) in enumerate(keys):
            count = int(counted.get(f"c{i}") or 0)
            if count >= min_share * n and count > best.get(c, (None, 0))[1]:
                best[c] = (v, count)
        out = {}
        for c in columns:
            value, count = best.get(c, (None, 0))
            p = profile[c]
            distinct = p.distinct if p.nulls < n else 0
            out[c] = TopValue(rows=n, missing=p.nulls, distinct=max(distinct, 1 if count else 0), value=value, count=count)
        return out

    def quantiles(self, ctx: AuditContext, role: str, column: str, probs: list[float]) -> np.ndarray:
        """Quantiles from a KLL sketch (k = 200: rank error about 1.65% at 99% confidence)."""
        from pyspark.sql import functions as F

        col = F.col(f"`{column}`").cast("double")
        df = self.frames[role].where(col.isNotNull() & ~F.isnan(col))
        sketch = df.agg(F.kll_sketch_agg_double(col).alias("s"))
        got = sketch.select(F.kll_sketch_get_quantile_double("s", F.array(*[F.lit(float(p)) for p in probs]))).first()[0]
        return np.full(len(probs), np.nan) if got is None else np.asarray(got, dtype=float)

    # -- the model's outputs ----------------------------------------------------------------
    def scored_sums(self, ctx: AuditContext, role: str, reducer: Reducer, *, replicates: int, seed: int) -> ScoredSums:
        """The reducer's sums over every labelled row, the model called on the executors."""
        from pyspark.sql import functions as F

        model = ctx.model
        callable_model = model is not None and model.can_call
        features, target = list(ctx.features), ctx.target
        classes = list(ctx.classes) if ctx.is_classification else None
        with_proba = ctx.is_classification and model is not None and model.has_proba
        pred_col = None if callable_model else model.prediction_column  # type: ignore[union-attr]
        score_col = None if callable_model else getattr(model, "score_column", None)
        positive = ctx.positive_index
        wanted = list(dict.fromkeys(features + [target] + [c for c in (pred_col, score_col) if c])) if callable_model \
            else [target] + [c for c in (pred_col, score_col) if c]
        df = self.frames[role]
        absent = [c for c in wanted if c not in df.columns]
        if absent:
            raise AuditInputError(f"the {role} data lacks the columns {absent}")
        source = df.select(*[F.col(f"`{c}`") for c in wanted], F.col(ORDER_KEY).alias(ROW_ID))

        # The model goes to every executor once, as a broadcast variable; the function below runs
        # there and must not refer to this module's lazily imported globals (they do not pickle).
        shipped = self.session.sparkContext.broadcast(model)

        def partition_sums(batches):
            import numpy as np
            import pandas as pd

            model = shipped.value
            rows, totals, reps = 0, None, None
            for batch in batches:
                keys = batch[ROW_ID].to_numpy().astype(np.uint64)
                y = batch[target].to_numpy()
                if callable_model:
                    X = batch[features]
                    if with_proba:
                        pred, proba = model.predict_with_proba(X)
                    else:
                        pred, proba = model.predict(X), None
                else:
                    pred = batch[pred_col].to_numpy()
                    proba = None
                    if score_col is not None and with_proba:
                        score = pd.to_numeric(batch[score_col], errors="coerce").to_numpy(dtype=float)
                        proba = np.empty((len(score), 2))
                        proba[:, positive], proba[:, 1 - positive] = score, 1.0 - score
                labelled = ~pd.isna(y)
                y_, pred_, p_ = encode_outputs(y, pred, proba, classes=classes)
                size, contributions = reducer(y_, pred_, p_)
                t, r = replicate_sums(size, contributions, keys[labelled], replicates=replicates, seed=seed)
                rows += len(y_)
                totals = t if totals is None else totals + t
                reps = r if reps is None else reps + r
            if totals is not None:
                yield pd.DataFrame({"rows": [rows], "totals": [totals.tobytes()], "reps": [reps.tobytes()]})

        out = source.mapInPandas(partition_sums, "rows long, totals binary, reps binary")
        rows, totals, reps = 0, None, None
        try:
            for got in out.toLocalIterator():
                t = np.frombuffer(got["totals"], dtype=float)
                r = np.frombuffer(got["reps"], dtype=float).reshape(replicates, -1)
                rows += int(got["rows"])
                totals = t.copy() if totals is None else totals + t
                reps = r.copy() if reps is None else reps + r
        except Exception as exc:
            raise _model_failure(exc, role) from None
        finally:
            shipped.unpersist()
        if totals is None:
            raise AuditInputError(f"the {role} data has no labelled rows")
        return ScoredSums(rows=rows, totals=totals, replicates=reps)

    def describe(self) -> dict[str, Any]:
        import pyspark

        sc = self.session.sparkContext
        return {"name": "spark", "spark_version": pyspark.__version__, "master": sc.master,
                "sample_rows": self.sample_rows, "sample_seed": self.seed}
