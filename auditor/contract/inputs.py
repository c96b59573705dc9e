"""From the user's options to an AuditContext: load, validate, infer, and record inputs.

Everything that can be wrong with the inputs is found here, before any check runs,
and reported as one line (:class:`~auditor.util.errors.AuditInputError`, exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from auditor.contract.adapters import ModelAdapter, PredictionsAdapter, load_model
from auditor.contract.context import AuditContext
from auditor.contract.data import read_table, sha256_file
from auditor.util.errors import (
    MSG_COLUMN_MISSING,
    MSG_NO_COMMON_FEATURES,
    MSG_TARGET_MISSING,
    AuditInputError,
)
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

Task = Literal["binary", "multiclass", "regression"]
MAX_CLASSES = 50

#: A model fitted without column names whose number of inputs is not the data's number of candidate columns.
MSG_POSITIONAL_COUNT = (
    "the model{name} was fitted without column names, so its inputs are matched to the data's columns by position, "
    "but it takes {n_inputs} inputs and the data has {n_columns} candidate columns (those in both the train and the "
    "test data, less the target and any --id-column, --group-column and --time-column): {columns}; give data whose "
    "other columns are exactly the model's inputs in its order, or refit the model on a DataFrame so that it "
    "records its column names"
)


#: A dataset as the user gives it: a file path (CSV or Parquet), or, from the Python API, a
#: pandas DataFrame, a Polars DataFrame or a PyArrow Table.
TableInput = Any


@dataclass
class RunOptions:
    train: TableInput | None
    test: TableInput
    target: str
    #: A model file (or an MLflow URI), or, from the Python API, a fitted model object or a ModelAdapter.
    model: Any = None
    current: TableInput | None = None
    validation: TableInput | None = None
    task: Task | None = None
    positive_label: str | None = None
    favourable_label: str | None = None
    sensitive: list[str] = field(default_factory=list)
    id_column: str | None = None
    group_column: str | None = None
    time_column: str | None = None
    predictions: str | None = None
    scores: str | None = None
    #: What --scores holds: auto (probabilities when every value is in [0, 1], else a ranking
    #: score), probability, rank (higher: more likely the positive label) or reversed-rank.
    score_kind: str = "auto"
    history: TableInput | None = None
    trust_model: bool = False
    trusted_types: list[str] = field(default_factory=list)
    #: Other models to compare with the one under audit, as (name, path or object): the baseline first.
    comparators: list[tuple[str, Any]] = field(default_factory=list)
    #: The class labels in the order of the model's outputs, for model formats that store only
    #: their codes 0..k-1 (XGBoost, LightGBM text models, ONNX networks): ``--model-classes``.
    model_classes: list[str] | None = None
    #: The name the model under audit goes by in a comparison.
    model_name: str = "model"
    seed: int | None = None
    #: Where PyTorch models run: auto (a CUDA device when there is one), cpu or cuda.
    device: str = "auto"
    #: Where the rows live and are aggregated: pandas (in memory) or spark (Spark DataFrames:
    #: Parquet, Delta or CSV paths, catalog tables, or pyspark DataFrames from the API).
    engine: str = "pandas"
    #: Spark settings for a session the audit starts (``--spark-conf key=value``).
    spark_conf: dict[str, str] = field(default_factory=dict)
    #: Under Spark: rows of each dataset brought to the driver for the checks that read rows.
    sample_rows: int | None = None


def _shown(columns: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "")


def infer_task(y: pd.Series) -> tuple[str, str]:
    """Guess the task from the target; return it with the reason the report shows."""
    values = y.dropna()
    n_unique = values.nunique()
    if n_unique <= 1:
        raise AuditInputError(f"target column {y.name!r} has {n_unique} distinct value(s) in the train data; nothing to audit")
    if n_unique == 2:
        return "binary", "the target has 2 distinct values"
    if pd.api.types.is_float_dtype(values) and not np.allclose(values, np.round(values)):
        return "regression", "the target is numeric with non-integer values"
    if pd.api.types.is_numeric_dtype(values) and n_unique > MAX_CLASSES:
        return "regression", f"the target is numeric with {n_unique} distinct values"
    if n_unique > MAX_CLASSES:
        raise AuditInputError(
            f"target column {y.name!r} is not numeric and has {n_unique} distinct values; "
            "pass --task to say what the model predicts"
        )
    return "multiclass", f"the target has {n_unique} distinct values"


def _match_label(text: str, classes: list[Any]) -> Any:
    for c in classes:
        if str(c) == text:
            return c
    raise AuditInputError(f"--positive-label {text!r} is not a class of the target; classes are {[str(c) for c in classes]}")


def choose_positive_label(classes: list[Any], y: pd.Series, given: str | None) -> tuple[Any, str]:
    if given is not None:
        return _match_label(given, classes), "given with --positive-label"
    as_text = {str(c).lower() for c in classes}
    for candidate in ("1", "true", "yes", "1.0"):
        if candidate in as_text and len(classes) == 2:
            label = next(c for c in classes if str(c).lower() == candidate)
            return label, f"inferred: {label!r} is the conventional positive label"
    counts = y.value_counts()
    label = counts.index[-1]
    return label, f"inferred: {label!r} is the minority class (pass --positive-label to choose)"


TRAIN_LOSS_NAMES = ("train_loss", "loss", "training_loss")
VAL_LOSS_NAMES = ("val_loss", "valid_loss", "validation_loss")


def _favourable_label(classes: list[Any], given: str | None) -> Any:
    """The declared favourable outcome as one of the two classes (None when not declared)."""
    if given is None:
        return None
    for c in classes:
        if str(c) == given:
            return c
    raise AuditInputError(
        f"--favourable-label {given!r} is not a class of the target; classes are {[str(c) for c in classes]}"
    )


def is_path(value: Any) -> bool:
    from pathlib import PurePath

    return isinstance(value, (str, PurePath))


def in_memory_table(value: Any, *, role: str) -> pd.DataFrame:
    """A dataset handed over in memory, as a pandas DataFrame with text column names and a fresh
    0..n-1 index, checked as a file is (not empty, no duplicate column names). Polars and
    PyArrow tables are converted (``to_pandas``); the caller's object is never modified."""
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    if isinstance(value, pd.DataFrame):
        frame = value
    elif callable(getattr(value, "to_pandas", None)) and kind.split(".")[0] in ("polars", "pyarrow"):
        try:
            frame = value.to_pandas()
        except Exception as exc:
            raise AuditInputError(f"{role} data: cannot convert the {kind} to pandas: {type(exc).__name__}: {exc}") from None
    elif kind.startswith("pyspark."):
        raise AuditInputError(f"{role} data is a pyspark DataFrame: audit it with the Spark engine (engine='spark', "
                              "or --engine spark on the command line)")
    else:
        raise AuditInputError(
            f"{role} data must be a file path or a pandas DataFrame (or a Polars DataFrame or PyArrow Table); got a {kind}"
        )
    if len(frame) == 0 or frame.shape[1] == 0:
        raise AuditInputError(f"{role} data is empty ({len(frame)} rows, {frame.shape[1]} columns)")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dupes = sorted({c for c in names if names.count(c) > 1})
        raise AuditInputError(f"{role} data has duplicate column names {dupes}")
    # Our own frame (the caller's keeps its labels): text column names, and rows numbered 0..n-1 as
    # a file's are, whatever index the caller's frame carries (a shuffled split, a date index).
    frame = frame.reset_index(drop=True)
    frame.columns = names
    return frame


def table_sha256(frame: pd.DataFrame) -> str:
    """A digest of an in-memory table's content: column names, dtypes and values (row order counts)."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_table(value: Any, *, role: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A dataset from a path or from memory, with the report's record of it."""
    if is_path(value):
        frame = read_table(value, role=role)
        return frame, _file_record(value, frame)
    frame = in_memory_table(value, role=role)
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    return frame, {"path": None, "source": f"in memory ({kind})", "sha256": table_sha256(frame),
                   "rows": int(len(frame)), "columns": int(frame.shape[1])}


def read_history(path: Any) -> pd.DataFrame:
    """A per-epoch training history: ``epoch`` (optional), a train loss and a validation loss column.

    Keras' CSVLogger names them ``loss`` and ``val_loss``; both spellings are accepted.
    """
    frame = read_table(path, role="history") if is_path(path) else in_memory_table(path, role="history")
    columns = {c.lower().strip(): c for c in frame.columns}
    train = next((columns[n] for n in TRAIN_LOSS_NAMES if n in columns), None)
    val = next((columns[n] for n in VAL_LOSS_NAMES if n in columns), None)
    if train is None or val is None:
        raise AuditInputError(
            f"history file needs a train loss column ({' or '.join(TRAIN_LOSS_NAMES)}) and a validation loss "
            f"column ({' or '.join(VAL_LOSS_NAMES)}); columns are: {_shown(list(frame.columns))}"
        )
    out = pd.DataFrame(
        {
            "epoch": pd.to_numeric(frame[columns["epoch"]], errors="coerce") if "epoch" in columns else np.arange(len(frame)),
            "train_loss": pd.to_numeric(frame[train], errors="coerce"),
            "val_loss": pd.to_numeric(frame[val], errors="coerce"),
        }
    )
    if out[["train_loss", "val_loss"]].isna().any().any() or out["epoch"].isna().any():
        raise AuditInputError(f"history file has non-numeric or missing losses: {path if is_path(path) else 'the history table'}")
    if len(out) < 2:
        raise AuditInputError(f"history file needs at least 2 epochs; got {len(out)}: {path if is_path(path) else 'the history table'}")
    return out.sort_values("epoch").reset_index(drop=True)


def plain_label(value: Any) -> Any:
    """A label as a plain Python value (numpy scalars print as np.int64(1) otherwise)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def read_signature(record: dict[str, Any]) -> str:
    return record["sha256"]


def _validate_prediction_columns(opts: RunOptions, datasets: dict[str, pd.DataFrame], *, task: str, classes) -> None:
    """Predictions-only mode: the columns must hold what they claim, or the audit cannot run."""
    if opts.predictions == opts.target:
        raise AuditInputError(f"--predictions {opts.predictions!r} is the target column; name the column with the model's outputs")
    if opts.scores is not None and opts.scores in (opts.target, opts.predictions):
        raise AuditInputError(f"--scores {opts.scores!r} must be a column of scores, not the target or the predictions")
    for role, frame in datasets.items():
        if opts.predictions not in frame.columns:
            continue
        pred = frame[opts.predictions]
        if pred.isna().any():
            raise AuditInputError(
                f"--predictions column {opts.predictions!r} has {int(pred.isna().sum())} missing values in the {role} data"
            )
        if classes is not None:
            known = {str(c) for c in classes}
            stray = sorted({str(v) for v in pred.unique()} - known)
            if stray:
                raise AuditInputError(
                    f"--predictions column {opts.predictions!r} holds values that are not classes of the target: "
                    f"{_shown(stray)}; classes are {_shown(sorted(known))}"
                )
        elif not pd.api.types.is_numeric_dtype(pred):
            raise AuditInputError(f"--predictions column {opts.predictions!r} must be numeric for a regression task")
        if opts.scores is not None and opts.scores in frame.columns:
            scores = pd.to_numeric(frame[opts.scores], errors="coerce")
            bad = scores.isna() | ~np.isfinite(scores.to_numpy(dtype=float, na_value=np.nan))
            if bad.any():
                raise AuditInputError(
                    f"--scores column {opts.scores!r} must hold a number in every row; {int(bad.sum())} {role} rows "
                    f"do not (for example {str(frame[opts.scores][bad].iloc[0])!r})"
                )
            outside = (scores < 0) | (scores > 1)
            if opts.score_kind == "probability" and outside.any():
                raise AuditInputError(
                    f"--scores column {opts.scores!r} must hold probabilities in [0, 1] (--score-kind probability); "
                    f"{int(outside.sum())} {role} rows do not (for example {str(frame[opts.scores][outside].iloc[0])!r}); "
                    "pass --score-kind rank for a score that only ranks (a decile, a logit, a credit score)"
                )


def score_kind(opts: RunOptions, datasets: dict[str, pd.DataFrame], positive_label: Any) -> tuple[str, str | None]:
    """What the --scores column holds, and the note that says how it was read."""
    if opts.score_kind != "auto":
        if opts.score_kind == "probability":
            return "probability", None
        higher = "more" if opts.score_kind == "rank" else "less"
        return opts.score_kind, (
            f"--scores {opts.scores!r} ranks the rows (--score-kind {opts.score_kind}: higher means {higher} likely "
            f"{str(positive_label)!r}): ROC AUC and the other rank measures read it; calibration, the Brier score, "
            "log-loss and every other check that needs probabilities are skipped.")
    values = pd.concat([pd.to_numeric(f[opts.scores], errors="coerce") for f in datasets.values() if opts.scores in f.columns])
    low, high = float(values.min()), float(values.max())
    if 0 <= low and high <= 1:
        return "probability", (
            f"--scores {opts.scores!r} is read as the probability of {str(positive_label)!r}: every value lies in [0, 1] "
            "(pass --score-kind rank if it only ranks the rows).")
    return "rank", (
        f"--scores {opts.scores!r} holds values from {low:g} to {high:g}, outside [0, 1], so it is read as a ranking "
        f"score (higher means more likely {str(positive_label)!r}; --score-kind reversed-rank if it is the other way): "
        "ROC AUC and the other rank measures read it; calibration, the Brier score, log-loss and every other check "
        "that needs probabilities are skipped.")


def _check_comparable(name: str, other: ModelAdapter, model: ModelAdapter, *, task: str, classes, features, datasets) -> None:
    """Models compared on the same rows must answer the same question."""
    if task != "regression":
        if other.classes is None:
            raise AuditInputError(f"model {name!r} has no classes_ (it looks like a regressor) but the task is {task}")
        if [str(c) for c in other.classes] != [str(c) for c in classes]:
            raise AuditInputError(
                f"model {name!r} predicts classes {[str(c) for c in other.classes]}, the compared model {[str(c) for c in classes]}"
            )
    elif other.classes is not None:
        raise AuditInputError(f"model {name!r} is a classifier but the task is regression")
    if not other.feature_names and other.n_inputs is not None and other.n_inputs != len(features):
        raise AuditInputError(MSG_POSITIONAL_COUNT.format(name=f" {name!r}", n_inputs=other.n_inputs,
                                                          n_columns=len(features), columns=_shown(features)))
    if other.feature_names:
        absent = [c for c in other.feature_names if c not in datasets["test"].columns]
        if absent:
            raise AuditInputError(f"model {name!r} expects columns the test data lacks: {_shown(absent)}")


def _load_model(opts: RunOptions, given: Any, observed: list[Any] | None = None) -> tuple[ModelAdapter, dict[str, Any]]:
    """A model from a file or URI (by the adapter that claims it) or a fitted object, with its record."""
    from auditor.contract.adapters import adapter_for

    classes = list(opts.model_classes) if opts.model_classes is not None else None
    if classes is not None and observed is not None:
        # The CLI gives labels as text; a target holding numbers or booleans keeps its own values.
        by_text = {str(v): v for v in observed}
        classes = [by_text.get(str(c), c) for c in classes]
    if is_path(given):
        model = load_model(given, trust=opts.trust_model, trusted_types=tuple(opts.trusted_types), device=opts.device,
                           classes=classes)
        from pathlib import Path

        sha = sha256_file(given) if Path(given).is_file() else None  # a model folder or URI: its adapter records it
        return model, {"path": str(given), "sha256": sha, **model.describe()}
    model = adapter_for(given, device=opts.device, classes=classes)
    kind = f"{type(given).__module__.split('.')[0]}.{type(given).__name__}"
    return model, {"path": None, "source": f"in memory ({kind})", "sha256": None, **model.describe()}


def _observed_labels(target: str, datasets: dict[str, pd.DataFrame]) -> list[Any] | None:
    """The distinct values of the target in the train and test data (None when none is labelled)."""
    seen = [datasets[r][target] for r in ("train", "test") if r in datasets and target in datasets[r].columns]
    if not seen:
        return None
    return [plain_label(v) for v in pd.concat(seen).dropna().unique()]


def _file_record(path: str, frame: pd.DataFrame) -> dict[str, Any]:
    return {"path": str(path), "sha256": sha256_file(path), "rows": int(len(frame)), "columns": int(frame.shape[1])}


def _spark_tables(opts: RunOptions, given: dict[str, Any]) -> tuple[Any, dict[str, pd.DataFrame], dict[str, Any]]:
    """Under ``--engine spark``: the Spark engine over every dataset, the seeded sample of each on
    the driver, and the report's records (the whole table's shape, and the sample's size)."""
    from auditor.contract.compute_spark import DEFAULT_SAMPLE_ROWS, SparkStatistics, read_spark_table, spark_session

    session = spark_session(opts.spark_conf)
    frames, records = {}, {}
    for role, table in given.items():
        frames[role], records[role] = read_spark_table(session, table, role=role)
    engine = SparkStatistics(session, frames, sample_rows=opts.sample_rows or DEFAULT_SAMPLE_ROWS, seed=opts.seed or 0)
    datasets = engine.draw_samples()
    for role in frames:
        records[role].update({"rows": engine.rows(None, role), "columns": int(datasets[role].shape[1]),
                              "sample_rows": int(len(datasets[role]))})
    return engine, datasets, records


def build_context(opts: RunOptions, *, policy: dict[str, Any] | None = None) -> tuple[AuditContext, dict[str, Any]]:
    """Load and validate every input. Returns the context and the report's ``inputs`` / ``task``."""
    if opts.model is None and opts.predictions is None:
        raise AuditInputError("give a model (--model FILE) or the column that holds its predictions (--predictions COL)")
    if opts.model is not None and opts.predictions is not None:
        raise AuditInputError("give either --model or --predictions, not both")
    if opts.scores is not None and opts.predictions is None:
        raise AuditInputError("--scores goes with --predictions")

    datasets: dict[str, pd.DataFrame] = {}
    records: dict[str, Any] = {}
    given_tables = {role: table for role, table in (("train", opts.train), ("test", opts.test),
                                                    ("validation", opts.validation), ("current", opts.current))
                    if table is not None}
    engine = None
    if opts.engine == "spark":
        engine, datasets, records = _spark_tables(opts, given_tables)
    elif opts.engine != "pandas":
        raise AuditInputError(f"the engine must be 'pandas' or 'spark'; got {opts.engine!r}")
    for role, given_table in given_tables.items():
        if engine is None:
            datasets[role], records[role] = load_table(given_table, role=role)

    given = [r for r in ("train", "test") if r in datasets]
    for role in given:
        if opts.target not in datasets[role].columns:
            raise AuditInputError(
                MSG_TARGET_MISSING.format(target=opts.target, role=role, columns=_shown(list(datasets[role].columns)))
            )
    declared = {
        "--id-column": opts.id_column,
        "--group-column": opts.group_column,
        "--time-column": opts.time_column,
        "--predictions": opts.predictions,
        "--scores": opts.scores,
    }
    for option, column in declared.items():
        if column is None:
            continue
        roles = ("test",) if option in ("--predictions", "--scores") else given
        for role in roles:
            if column not in datasets[role].columns:
                raise AuditInputError(MSG_COLUMN_MISSING.format(option=option, column=column, role=role))
    for column in opts.sensitive:
        for role in given:
            if column not in datasets[role].columns:
                raise AuditInputError(MSG_COLUMN_MISSING.format(option="--sensitive", column=column, role=role))

    notes: list[str] = []
    # Model (--model-classes, given as text, takes the target's own values)
    observed_labels = _observed_labels(opts.target, datasets) if opts.model_classes is not None else None
    model: ModelAdapter
    model_record: dict[str, Any]
    if opts.model_classes is not None and opts.model is None:
        raise AuditInputError("--model-classes goes with --model")
    if opts.model is not None:
        model, model_record = _load_model(opts, opts.model, observed_labels)
    else:
        model = PredictionsAdapter(prediction_column=opts.predictions, score_column=opts.scores)
        model_record = model.describe()

    # Features
    excluded = {opts.target, opts.id_column, opts.group_column, opts.time_column, opts.predictions, opts.scores} - {None}
    # Without training data (auditor compare on a test set alone) the test data stands in
    # wherever only the columns and labels matter: features, task, classes.
    test = datasets["test"]
    train = datasets.get("train", test)
    if model.feature_names:
        realigned = model.align_columns(list(test.columns))
        if realigned:
            notes.append("The model names some inputs differently from the data's columns (its library or converter rewrote "
                         "the names); they were matched by that rewriting: "
                         + ", ".join(f"{name!r} is column {column!r}" for name, column in list(realigned.items())[:12])
                         + (f" and {len(realigned) - 12} more" if len(realigned) > 12 else "") + ".")
        features = list(model.feature_names)
        for role in ("test", "current", "validation"):
            if role in datasets:
                absent = [c for c in features if c not in datasets[role].columns]
                if absent:
                    raise AuditInputError(
                        f"the model expects columns the {role} data lacks: {_shown(absent)}"
                    )
    else:
        features = [c for c in train.columns if c in set(test.columns) and c not in excluded]
    if not [c for c in features if c in train.columns and c in test.columns]:
        raise AuditInputError(MSG_NO_COMMON_FEATURES)
    positional = model.can_call and not model.feature_names and model.n_inputs is not None
    if positional and model.n_inputs != len(features):
        # Matched by position, a count that differs shifts every column (or makes every check err).
        raise AuditInputError(MSG_POSITIONAL_COUNT.format(name="", n_inputs=model.n_inputs, n_columns=len(features),
                                                          columns=_shown(features)))

    # Task, classes, positive label
    y_train, y_test = train[opts.target], test[opts.target]
    for role, y in (("train", y_train), ("test", y_test)):
        if role in datasets and y.isna().all():
            raise AuditInputError(f"target column {opts.target!r} is empty (all missing) in the {role} data")
    if positional:
        notes.append(f"The model was fitted without column names: its {len(features)} inputs are matched to the data's "
                     f"columns by position, in the data's column order: {_shown(features)}.")
    if opts.task is None:
        task, why = infer_task(y_train)
        notes.append(f"Task inferred as {task}: {why} (pass --task to set it).")
        inferred = True
    else:
        task, inferred = opts.task, False
    classes: list[Any] | None = None
    positive_label = favourable_label = None
    if task in ("binary", "multiclass"):
        observed = [plain_label(v) for v in pd.concat([y_train, y_test]).dropna().unique()]
        if model.can_call and model.classes is None:
            raise AuditInputError(
                f"the task is {task} but the model has no classes_ (it looks like a regressor); "
                "pass --task regression or give a classifier"
            )
        classes = [plain_label(c) for c in model.classes] if model.classes else sorted(observed, key=str)
        unknown = [v for v in observed if v not in classes and str(v) not in {str(c) for c in classes}]
        if unknown:
            raise AuditInputError(
                f"the target holds labels the model does not know: {_shown([str(v) for v in unknown])}; "
                f"the model's classes are {_shown([str(c) for c in classes])}"
                + (f"; its file stores only class codes: name the labels in the order of its outputs with "
                   f"--model-classes (labels coded in sorted order, as scikit-learn's LabelEncoder codes them, are "
                   f"--model-classes {','.join(sorted({str(v) for v in observed}, key=str))})"
                   if opts.model_classes is None and classes == list(range(len(classes)))
                   and "classes" in type(model).options else "")
            )
        if task == "binary" and len(classes) != 2:
            raise AuditInputError(
                f"--task binary needs a target with 2 classes; found {len(classes)}: {_shown([str(c) for c in classes])}"
            )
        if task == "multiclass" and len(classes) < 3:
            raise AuditInputError(f"--task multiclass needs 3 or more classes; found {len(classes)}: use --task binary")
        if task == "binary":
            positive_label, why = choose_positive_label(classes, y_train, opts.positive_label)
            notes.append(f"Positive label {str(positive_label)!r}: {why}.")
            favourable_label = _favourable_label(classes, opts.favourable_label)
            if favourable_label is not None:
                notes.append(f"Favourable outcome {str(favourable_label)!r}: the fairness checks' selection rates count it.")
            elif opts.sensitive:
                notes.append("No favourable outcome was declared (--favourable-label, or favourable_label in the policy): "
                             "the fairness measures that depend on it (disparate impact, demographic parity ratio, equal "
                             "opportunity) are judged in both orientations, the worse counting.")
    else:
        if opts.positive_label is not None:
            raise AuditInputError("--positive-label applies to classification tasks only")
        if opts.favourable_label is not None:
            raise AuditInputError("--favourable-label applies to binary classification only")
        if model.can_call and model.classes is not None:
            raise AuditInputError(
                f"the task is regression but the model is a classifier (classes {_shown([str(c) for c in model.classes])}); "
                "pass --task binary or --task multiclass"
            )
        for role, y in (("train", y_train), ("test", y_test)):
            if role in datasets and not pd.api.types.is_numeric_dtype(y):
                example = next((v for v in y.dropna() if not _is_number(v)), y.dropna().iloc[0])
                raise AuditInputError(
                    f"a regression target must be numeric; the {role} column {opts.target!r} holds text such as {str(example)!r}"
                )

    if opts.scores is not None and task != "binary":
        raise AuditInputError("--scores is supported for binary tasks only")
    if opts.predictions is not None:
        _validate_prediction_columns(opts, datasets, task=task, classes=classes)
        if opts.scores is not None:
            kind, note = score_kind(opts, datasets, positive_label)
            model.score_kind = kind  # type: ignore[attr-defined]
            model_record["score_kind"] = kind
            if note:
                notes.append(note)
    if opts.target in opts.sensitive:
        raise AuditInputError(f"--sensitive {opts.target!r} is the target column; name a feature such as sex or age")
    for option, column in (("--id-column", opts.id_column), ("--group-column", opts.group_column), ("--time-column", opts.time_column)):
        if column is not None and column == opts.target:
            raise AuditInputError(f"{option} {column!r} is the target column")
        if column is not None and column in features:
            notes.append(f"{option} {column!r} is also one of the model's inputs.")
    if "train" in records and records["train"].get("sha256") and read_signature(records["train"]) == read_signature(records["test"]):
        notes.append("The train and test files are byte-for-byte identical: every test score is a training score.")

    others: dict[str, ModelAdapter] = {}
    for name, given_model in opts.comparators:
        other, other_record = _load_model(opts, given_model, observed_labels)
        _check_comparable(name, other, model, task=task, classes=classes, features=features, datasets=datasets)
        others[name] = other
        model_record.setdefault("compared_with", []).append({"name": name, **other_record})

    history = None
    if opts.history is not None:
        history = read_history(opts.history)
        records["history"] = ({"path": str(opts.history), "sha256": sha256_file(opts.history)} if is_path(opts.history)
                              else {"path": None, "source": "in memory", "sha256": table_sha256(history)})
        records["history"].update({"rows": int(len(history)), "columns": 3})

    ctx = AuditContext(
        datasets=datasets,
        target=opts.target,
        task=task,
        features=features,
        model=model,
        positive_label=positive_label,
        favourable_label=favourable_label,
        classes=classes,
        sensitive=list(opts.sensitive),
        id_column=opts.id_column,
        group_column=opts.group_column,
        time_column=opts.time_column,
        seed=opts.seed or 0,
        policy=policy or {},
        notes=notes,
        history=history,
        others=others,
        model_name=opts.model_name,
        engine=engine,
    )
    model_inputs = ctx.model_inputs
    ignored = [c for c in features if c not in set(model_inputs)]
    if ignored:
        which = "which has no effect on its outputs and is not counted as one of its inputs" if len(ignored) == 1 else \
            "which have no effect on its outputs and are not counted as its inputs"
        notes.append(f"The model is given {len(features)} columns but reads only {len(model_inputs)}: its preprocessing "
                     f"drops {_shown(ignored, limit=20)}, {which}.")
    inputs = {"model": model_record, "datasets": records}
    task_record = {
        "type": task,
        "inferred": inferred,
        "target": opts.target,
        "positive_label": positive_label,
        "favourable_label": favourable_label,
        "classes": classes,
        "features": features,
        # the columns the model really reads (features less those its preprocessing drops);
        # None in predictions-only mode, where which columns produced the predictions is unknown
        "model_inputs": model_inputs if model.can_call else None,
        "sensitive": list(opts.sensitive),
        "id_column": opts.id_column,
        "group_column": opts.group_column,
        "time_column": opts.time_column,
    }
    return ctx, {"inputs": inputs, "task": task_record}
