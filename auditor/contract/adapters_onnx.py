"""ONNX models, run with onnxruntime.

An ONNX file is a graph of standard operators and its weights: loading it runs no code
of the file's author (unlike pickle), so it needs no ``--trust-model``. A graph that needs
custom operators cannot run here (no custom-op library is ever registered). The file is
read twice: by ``onnx`` for what the graph records (opset, producer, class labels, the
operator behind each output; external weights are not loaded for that) and by an
onnxruntime session on the CPU, which runs it.

**Inputs.** Two layouts are read, those skl2onnx produces:

- *one input per column* (two or more inputs, each ``[N, 1]`` or ``[N]``, or a single
  string input): the input names are the column names (:attr:`feature_names`), and the
  audit matches the data's columns by name;
- *positional* (one input ``[N, n]``, or several of fixed widths, as a network exported
  with ``torch.onnx.export`` or a converter given ``FloatTensorType([None, n])``): the
  model records no column names, :attr:`n_inputs` is the total width, and the audit
  matches the data's columns by position (its report says so). Several inputs take
  consecutive columns, in the order they are declared.

Each column is cast to its input's element type. Missing values: a float input receives
NaN as NaN (a converted imputer handles it; a graph without one passes NaN through to its
outputs); a string input receives the empty string, which a converted ``OneHotEncoder``
with ``handle_unknown='ignore'`` reads as an unknown category, as scikit-learn reads a
missing value it never saw in training; an integer or boolean input cannot hold a missing
value, nor a numeric one a non-numeric value, and such a column raises naming itself. A
fraction given to an integer input (a perturbed value, in the robustness checks) is rounded
to the nearest integer, the value the deployed model could be given.

skl2onnx writes input names with every character other than a letter, digit, ``_`` or ``+``
replaced by ``_`` (``education-num`` becomes ``education_num``); such a model's inputs no
longer name the data's columns, and the audit refuses it until the graph's inputs are renamed
back (or the data's columns renamed).

**Outputs.**

- a label output and a probability output (skl2onnx classifiers): the probabilities are a
  ZipMap (a sequence of ``{label: probability}``) or, with ``zipmap=False``, an ``[N, k]``
  tensor. The class labels are the ZipMap's or the classifier operator's
  ``classlabels_strings`` / ``classlabels_int64s`` / ``classlabels_ints``. A probability
  output that holds decision scores (skl2onnx gives those for models without
  ``predict_proba``: ``SVC(probability=False)``, ``RidgeClassifier``, ``LinearSVC``) is not
  offered as probabilities;
- one float tensor (a network exported with ``torch.onnx.export``): with the loading
  option ``classes`` (``--model-classes``, the labels in output order) a classifier,
  ``[N, k]`` for k classes or ``[N, 1]`` / ``[N]`` for the second of two; without it, a
  single value per row is a regression. Whether a classifier's outputs are probabilities,
  log-probabilities or logits is read from the graph when it ends in Softmax, Sigmoid or
  LogSoftmax, and otherwise from its outputs on synthetic rows (probabilities lie in
  [0, 1] and each row sums to 1, whatever the input); logits go through softmax (sigmoid
  for a single output). :meth:`OnnxAdapter.describe` records which and why.

ONNX runs in float32 as a rule, so probabilities agree with the original model to about
1e-6; they are renormalised in float64 so that each row sums to 1. Rows are run
``batch_size`` at a time; a graph exported with a fixed batch size is run at that size,
the last batch padded. onnxruntime ignores ``OMP_NUM_THREADS``; the session's thread pool
is sized from it when it is set, so that the audit keeps to the threads it was given.
Neither refitting nor gradients are available: ``can_refit`` and ``differentiable`` are
false and the checks that need them are skipped.

onnxruntime and onnx are imported inside methods only (``pip install 'auditor[onnx]'``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from auditor.contract.adapters import ModelAdapter
from auditor.contract.adapters_onnx_graph import (
    FLOAT_OUTPUTS,
    LABEL_OUTPUTS,
    MSG_ONNX_UNREADABLE,
    OnnxInput,
    _dim,
    _final_op,
    _graph_of_session,
    _holds_scores,
    _read_inputs,
    _recorded_labels,
)
from auditor.util.errors import ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

MSG_ONNX_MISSING = "{path} is an ONNX model but {library} is not installed: pip install 'auditor[onnx]'"
MSG_ONNX_CLASSES = "--model-classes must name 2 or more distinct class labels, in the order of the model's outputs; got {classes!r}"
MSG_ONNX_CLASS_COUNT = (
    "the ONNX model's output {output!r} gives {width} value(s) per row, but --model-classes names {n} classes: {classes!r} "
    "(a binary model may give 1 value per row: the second class's)"
)
MSG_ONNX_CLASSES_DIFFER = "--model-classes {given!r} does not match the class labels the ONNX model records ({recorded!r}, from {source})"
MSG_ONNX_NEEDS_CLASSES = (
    "the ONNX model's output {output!r} gives {width} values per row; pass --model-classes (the class label of each "
    "output column, in order) to audit it as a classifier"
)
MSG_ONNX_NO_LABELS = (
    "the ONNX classifier records no class labels (no ZipMap or classifier operator with classlabels_*); "
    "pass --model-classes with the labels in the order of its probability columns"
)

DEFAULT_BATCH = 65536
#: Synthetic rows a classifier network is probed with when its graph does not say whether it
#: outputs probabilities; the seed keeps the decision the same from run to run.
PROBE_ROWS = 256
PROBE_SEED = 0
#: How far from 1 a float32 row of probabilities may sum, and how far outside [0, 1] a value may lie.
ROW_SUM_TOLERANCE = 1e-3
RANGE_TOLERANCE = 1e-6


def _require(path: Any) -> tuple[Any, Any]:
    """``onnxruntime`` and ``onnx``, or the error naming the extra that installs them."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelLoadError(MSG_ONNX_MISSING.format(path=path, library="onnxruntime")) from None
    try:
        import onnx
    except ImportError:
        raise ModelLoadError(MSG_ONNX_MISSING.format(path=path, library="onnx")) from None
    return onnxruntime, onnx


def _session_options(ort: Any) -> Any:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: shape-mismatch warnings would go to the audit's stderr
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return options


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _checked_classes(classes: Any) -> list[Any] | None:
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise ModelLoadError(MSG_ONNX_CLASSES.format(classes=classes))
    labels = [_plain(c) for c in classes]
    if len(labels) < 2 or len({str(c) for c in labels}) != len(labels):
        raise ModelLoadError(MSG_ONNX_CLASSES.format(classes=labels))
    return labels


# -- the adapter ----------------------------------------------------------------------------
class OnnxAdapter(ModelAdapter):
    """An ONNX model (``.onnx``, an ``onnxruntime.InferenceSession`` or an ``onnx.ModelProto``)."""

    kind = "onnx"
    suffixes = (".onnx",)
    options = frozenset({"classes"})

    def __init__(self, session: Any, proto: Any = None, *, classes: list[Any] | None = None, path: Path | None = None,
                 batch_size: int = DEFAULT_BATCH):
        self.session = session
        self.proto = proto
        self.path = path
        where = path or "the ONNX session"
        self.inputs, self.layout, self.fixed_batch = _read_inputs(session, where)
        self.batch_size = self.fixed_batch or int(batch_size)
        if self.layout == "columns":
            self.feature_names = [i.name for i in self.inputs]
            self.n_inputs = len(self.inputs)
        else:
            self.feature_names = None
            self.n_inputs = sum(len(i.columns) for i in self.inputs)
        self.label_output: str | None = None
        self.proba_output: str | None = None
        self.proba_format: str | None = None  # "zipmap" or "tensor"
        self.value_output: str | None = None
        #: For a classifier read from one float tensor: probabilities, log-probabilities or logits, and why.
        self.score_kind: str | None = None
        self.score_reason: str | None = None
        self.classes_source: str | None = None
        self.no_proba_reason: str | None = None
        self._read_outputs(_checked_classes(classes))

    # -- loading ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (),
             classes: list[Any] | None = None) -> OnnxAdapter:
        ort, onnx = _require(path)
        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:
            raise ModelLoadError(MSG_ONNX_UNREADABLE.format(path=path, reason=f"{type(exc).__name__}: {exc}")) from None
        try:
            session = ort.InferenceSession(str(path), sess_options=_session_options(ort), providers=["CPUExecutionProvider"])
        except Exception as exc:
            reason = " ".join(str(exc).split())[:500]
            raise ModelLoadError(MSG_ONNX_UNREADABLE.format(path=path, reason=f"onnxruntime refuses it: {reason}")) from None
        return cls(session, proto, classes=classes, path=path)

    @classmethod
    def wraps(cls, obj: Any) -> bool:
        kind = type(obj)
        root = kind.__module__.split(".")[0]
        return (root == "onnxruntime" and kind.__name__ == "InferenceSession") or (root == "onnx" and kind.__name__ == "ModelProto")

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> OnnxAdapter:
        ort, onnx = _require(f"the {type(obj).__name__}")
        if type(obj).__name__ == "ModelProto":
            try:
                session = ort.InferenceSession(obj.SerializeToString(), sess_options=_session_options(ort),
                                               providers=["CPUExecutionProvider"])
            except Exception as exc:
                reason = " ".join(str(exc).split())[:500]
                raise ModelLoadError(MSG_ONNX_UNREADABLE.format(path="the ModelProto", reason=reason)) from None
            return cls(session, obj, classes=options.get("classes"))
        return cls(obj, _graph_of_session(obj, onnx), classes=options.get("classes"))

    # -- shipping (Spark broadcasts the adapter to its executors) ----------------------------
    def __getstate__(self) -> dict[str, Any]:
        """An onnxruntime session does not pickle: the model's bytes travel instead, and the
        session is rebuilt where the adapter lands."""
        state = dict(self.__dict__)
        session = state.pop("session")
        if self.proto is not None:
            state["_model_bytes"] = self.proto.SerializeToString()
        elif self.path is not None:
            state["_model_bytes"] = Path(self.path).read_bytes()
        else:
            raise TypeError(f"this ONNX session cannot be shipped: it came without its model ({session!r})")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import onnxruntime as ort

        data = state.pop("_model_bytes")
        self.__dict__.update(state)
        self.session = ort.InferenceSession(data, sess_options=_session_options(ort), providers=["CPUExecutionProvider"])

    def _read_outputs(self, classes: list[Any] | None) -> None:
        outputs = list(self.session.get_outputs())
        maps = [o for o in outputs if o.type.startswith("seq(map(")]
        floats = [o for o in outputs if o.type in FLOAT_OUTPUTS]
        labels = [o for o in outputs if o.type in LABEL_OUTPUTS and len(o.shape) <= 2]
        listed = ", ".join(f"{o.name} {o.type} {list(o.shape)}" for o in outputs)
        if labels and (maps or floats) or (labels and len(outputs) == 1):
            self.label_output = labels[0].name
            proba = maps[0] if maps else floats[0] if floats else None
            recorded = _recorded_labels(self.proto, [o.name for o in (proba, labels[0]) if o is not None]) \
                if self.proto is not None else None
            if recorded is not None:
                if classes is not None and [str(c) for c in classes] != [str(c) for c in recorded[0]]:
                    raise ModelLoadError(MSG_ONNX_CLASSES_DIFFER.format(given=classes, recorded=recorded[0], source=recorded[1]))
                self.classes, self.classes_source = recorded
            elif classes is not None:
                self.classes, self.classes_source = classes, "--model-classes"
            else:
                raise ModelLoadError(MSG_ONNX_NO_LABELS)
            if proba is None:
                self.no_proba_reason = "the model has a label output only"
                return
            self.proba_output, self.proba_format = proba.name, "zipmap" if maps else "tensor"
            if self.proba_format == "tensor":
                width = _dim(proba.shape[1]) if len(proba.shape) == 2 else None
                if width is not None and width != len(self.classes) and not (width == 1 and len(self.classes) == 2):
                    raise ModelLoadError(MSG_ONNX_CLASS_COUNT.format(output=proba.name, width=width, n=len(self.classes),
                                                                     classes=self.classes))
                why = _holds_scores(self.proto, proba.name) if self.proto is not None else None
                if why is not None:
                    self.no_proba_reason = f"the output {proba.name!r} is not probabilities: {why}"
            return
        if len(outputs) == 1 and floats:
            out = floats[0]
            if len(out.shape) > 2:
                raise ModelLoadError(f"the ONNX model's output {out.name!r} has shape {list(out.shape)}; auditor reads one "
                                     "value per row (regression) or one per class")
            width = 1 if len(out.shape) <= 1 else _dim(out.shape[1])
            if classes is None:
                if width not in (1, None):
                    raise ModelLoadError(MSG_ONNX_NEEDS_CLASSES.format(output=out.name, width=width))
                self.value_output = out.name
                return
            if width is not None and width != len(classes) and not (width == 1 and len(classes) == 2):
                raise ModelLoadError(MSG_ONNX_CLASS_COUNT.format(output=out.name, width=width, n=len(classes), classes=classes))
            self.classes, self.classes_source = classes, "--model-classes"
            self.proba_output, self.proba_format = out.name, "tensor"
            self.score_kind, self.score_reason = self._decide_scores(out.name, width)
            return
        raise ModelLoadError(f"auditor cannot tell what the ONNX model's outputs mean ({listed}); it reads a label output "
                             "with a probability output (skl2onnx classifiers) or one float tensor (regression, or a "
                             "classifier with --model-classes)")

    def _decide_scores(self, output: str, width: int | None) -> tuple[str, str]:
        """Whether a classifier's single float output holds probabilities, log-probabilities or logits."""
        op = _final_op(self.proto, output) if self.proto is not None else None
        if op in ("Softmax", "Sigmoid"):
            return "probabilities", f"the graph ends in {op}"
        if op == "LogSoftmax":
            return "log-probabilities", "the graph ends in LogSoftmax: exp applied"
        transform = "sigmoid" if width == 1 else "softmax"
        ends = f"the graph ends in {op}" if op else "the graph's last operator is unknown"
        out = self._probe(output)
        if out is None:
            return "logits", f"{ends} and the model could not be run on synthetic rows: read as logits, {transform} applied"
        out = out.reshape(len(out), -1)
        out = out[np.isfinite(out).all(axis=1)]
        if not len(out):
            return "logits", f"{ends} and its outputs on synthetic rows are not finite: read as logits, {transform} applied"
        in_range = bool(((out >= -RANGE_TOLERANCE) & (out <= 1 + RANGE_TOLERANCE)).all())
        sums_to_1 = bool(np.allclose(out.sum(axis=1), 1.0, atol=ROW_SUM_TOLERANCE, rtol=0))
        n = len(out)
        if out.shape[1] == 1:
            if in_range:
                return "probabilities", f"{ends}; its single output lies in [0, 1] on {n} synthetic rows"
            return "logits", f"{ends}; its single output leaves [0, 1] on {n} synthetic rows: read as a logit, sigmoid applied"
        if in_range and sums_to_1:
            return "probabilities", f"{ends}; on {n} synthetic rows its outputs lie in [0, 1] and each row sums to 1"
        if (out <= RANGE_TOLERANCE).all() and np.allclose(np.exp(out).sum(axis=1), 1.0, atol=ROW_SUM_TOLERANCE, rtol=0):
            return "log-probabilities", f"{ends}; on {n} synthetic rows exp(output) sums to 1 in each row: exp applied"
        return "logits", f"{ends}; on {n} synthetic rows its outputs do not sum to 1 in each row: read as logits, softmax applied"

    def _probe(self, output: str) -> np.ndarray | None:
        """The output for synthetic rows (seeded normal values, spread wide), or None when the
        inputs cannot be synthesised (strings) or the model raises on them."""
        rng = np.random.default_rng(PROBE_SEED)
        columns: dict[Any, Any] = {}
        for arg in self.inputs:
            if arg.dtype == "object":
                return None
            for col in arg.columns:
                if arg.dtype == "bool":
                    columns[col] = rng.integers(0, 2, size=PROBE_ROWS).astype(bool)
                elif arg.dtype.startswith(("int", "uint")):
                    columns[col] = rng.integers(0, 5, size=PROBE_ROWS)
                else:
                    columns[col] = rng.normal(scale=3.0, size=PROBE_ROWS)
        try:
            return np.asarray(self._run([output], pd.DataFrame(columns))[0], dtype=np.float64)
        except Exception:  # noqa: BLE001 - a model that rejects synthetic rows is read by its graph alone
            return None

    # -- running -------------------------------------------------------------------------
    def _column(self, X: pd.DataFrame, col: Any, arg: OnnxInput) -> np.ndarray:
        series = X[col] if self.layout == "columns" else X.iloc[:, col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        shown = repr(col) if self.layout == "columns" else f"{col} ({X.columns[col]!r})"
        missing = series.isna().to_numpy()
        if arg.dtype == "object":
            values = series.astype(object).to_numpy(copy=True)
            values[missing] = ""
            return np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)
        if pd.api.types.is_bool_dtype(series):
            numeric = series.astype("float64")
        else:
            numeric = pd.to_numeric(series, errors="coerce")
            bad = numeric.isna().to_numpy() & ~missing
            if bad.any():
                example = series[bad].iloc[0]
                raise ValueError(f"column {shown} holds non-numeric values ({example!r}, {int(bad.sum())} in all) but the "
                                 f"model's input {arg.name!r} is a {arg.type}")
        values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        if arg.dtype.startswith("float"):
            return values.astype(arg.dtype)
        if missing.any():
            raise ValueError(f"column {shown} has {int(missing.sum())} missing value(s) but the model's input {arg.name!r} "
                             f"is a {arg.type}, which cannot hold one")
        if arg.dtype == "bool":
            return values != 0
        # An integer input cannot hold a fraction (a perturbed value): it gets the nearest integer, as a caller of
        # the deployed model would have to give it.
        return np.rint(values).astype(arg.dtype)

    def align_columns(self, columns: list[str]) -> dict[str, str]:
        """Match graph inputs to data columns whose names a converter rewrote: skl2onnx turns
        every character other than letters, digits and ``_`` into ``_`` (``education-num`` is
        fed as ``education_num``). An input with no column of its own name takes the one data
        column that rewrites to it; returns ``{input: column}`` for those so matched."""
        import re

        def rewritten(name: str) -> str:
            return re.sub(r"[^A-Za-z0-9_]", "_", name)

        if self.layout != "columns":
            return {}
        present = set(columns)
        matched: dict[str, str] = {}
        for i, arg in enumerate(self.inputs):
            if arg.name in present:
                continue
            candidates = [c for c in columns if c != arg.name and rewritten(c) == arg.name]
            if len(candidates) == 1:
                matched[arg.name] = candidates[0]
                self.inputs[i] = dataclasses.replace(arg, columns=(candidates[0],))
        if matched:
            self.feature_names = [arg.columns[0] for arg in self.inputs]
        return matched

    def encode(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """The session's inputs for the rows of ``X``, each cast to its element type."""
        if self.layout == "columns":
            absent = [i.columns[0] for i in self.inputs if i.columns[0] not in X.columns]
            if absent:
                raise ValueError(f"the input lacks columns the ONNX model reads: {absent[:5]}")
        elif X.shape[1] != self.n_inputs:
            raise ValueError(f"the ONNX model takes {self.n_inputs} inputs by position; got {X.shape[1]} columns")
        feeds = {}
        for arg in self.inputs:
            parts = [self._column(X, col, arg) for col in arg.columns]
            feeds[arg.name] = parts[0] if arg.rank == 1 else np.column_stack(parts).astype(arg.dtype, copy=False)
        return feeds

    def _run(self, names: list[str], X: pd.DataFrame) -> list[Any]:
        """The named outputs for the rows of ``X``, ``batch_size`` rows at a time; ZipMap outputs
        come back as arrays of probabilities in :attr:`classes` order."""
        parts: list[list[Any]] = [[] for _ in names]
        for start in range(0, len(X), self.batch_size):
            chunk = X.iloc[start:start + self.batch_size]
            n = len(chunk)
            if self.fixed_batch and n < self.fixed_batch:  # the graph takes exactly fixed_batch rows: pad with the last
                chunk = chunk.iloc[np.r_[np.arange(n), np.full(self.fixed_batch - n, n - 1)]]
            out = self.session.run(names, self.encode(chunk))
            for k, (name, values) in enumerate(zip(names, out)):
                if name == self.proba_output and self.proba_format == "zipmap":
                    values = np.array([[row[c] for c in self.classes] for row in values], dtype=np.float64)
                parts[k].append(np.asarray(values)[:n])
        if not len(X):
            return [None for _ in names]
        return [np.concatenate(p, axis=0) for p in parts]

    # -- what the engine asks ---------------------------------------------------------------
    @property
    def refit_problem(self) -> str | None:
        return "an ONNX graph is an exported model: it holds no training procedure to run again"

    @property
    def has_proba(self) -> bool:
        return self.proba_output is not None and self.no_proba_reason is None

    def _empty_proba(self) -> np.ndarray:
        return np.zeros((0, len(self.classes)))

    def _probabilities(self, raw: np.ndarray) -> np.ndarray:
        out = np.asarray(raw, dtype=np.float64)
        out = out.reshape(len(out), -1)
        width, k = out.shape[1], len(self.classes)
        if width != k and not (width == 1 and k == 2):
            raise ValueError(MSG_ONNX_CLASS_COUNT.format(output=self.proba_output, width=width, n=k, classes=self.classes))
        if self.score_kind == "logits":
            if width == 1:
                from scipy.special import expit

                out = expit(out)
            else:
                from scipy.special import softmax

                return softmax(out, axis=1)
        elif self.score_kind == "log-probabilities":
            out = np.exp(out)
        finite = np.isfinite(out).all(axis=1)
        checked = out[finite]
        if not ((checked >= -RANGE_TOLERANCE) & (checked <= 1 + RANGE_TOLERANCE)).all() or (
                width > 1 and not np.allclose(checked.sum(axis=1), 1.0, atol=ROW_SUM_TOLERANCE, rtol=0)):
            raise ValueError(f"the ONNX model's output {self.proba_output!r} does not hold probabilities (values outside "
                             "[0, 1], or rows that do not sum to 1)")
        if width == 1:
            p = np.clip(out[:, 0], 0.0, 1.0)
            return np.column_stack([1.0 - p, p])
        out = np.clip(out, 0.0, None)
        sums = out.sum(axis=1, keepdims=True)
        # float32 probabilities sum to 1 within ~1e-7; renormalised here, NaN rows stay NaN
        return np.divide(out, sums, out=out, where=sums > 0)

    def _labels_from(self, proba: np.ndarray) -> np.ndarray:
        labels = np.asarray(self.classes)
        if labels.dtype.kind in "US":
            labels = labels.astype(object)
        return labels[np.argmax(proba, axis=1)] if len(proba) else labels[:0]

    def _label_values(self, raw: np.ndarray) -> np.ndarray:
        values = np.asarray(raw).reshape(-1)
        return values.astype(object) if values.dtype.kind in "US" else values

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.value_output is not None:
            (out,) = self._run([self.value_output], X)
            if out is None:
                return np.zeros(0)
            out = np.asarray(out, dtype=np.float64).reshape(len(out), -1)
            if out.shape[1] != 1:
                raise ValueError(MSG_ONNX_NEEDS_CLASSES.format(output=self.value_output, width=out.shape[1]))
            return out[:, 0]
        if self.label_output is not None:
            (out,) = self._run([self.label_output], X)
            return self._label_values(out) if out is not None else np.asarray(self.classes)[:0]
        return self._labels_from(self.predict_proba(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if not self.has_proba:
            raise ValueError(f"the ONNX model gives no class probabilities: {self.no_proba_reason or 'it is a regression'}")
        (out,) = self._run([self.proba_output], X)
        return self._empty_proba() if out is None else self._probabilities(out)

    def predict_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """One run for both: the label output where the model has one, else the most probable class."""
        if not self.has_proba:
            return self.predict(X), self.predict_proba(X)  # raises: no probabilities
        if self.label_output is None:
            proba = self.predict_proba(X)
            return self._labels_from(proba), proba
        labels, raw = self._run([self.label_output, self.proba_output], X)
        if raw is None:
            return np.asarray(self.classes)[:0], self._empty_proba()
        return self._label_values(labels), self._probabilities(raw)

    def describe(self) -> dict[str, Any]:
        proto = self.proto
        opset = {(o.domain or "ai.onnx"): int(o.version) for o in proto.opset_import} if proto is not None else None
        producer = {"name": proto.producer_name or None, "version": proto.producer_version or None} if proto is not None else None
        meta = self.session.get_modelmeta()
        producer_name = producer["name"] if producer else meta.producer_name or None

        def args(declared: list[Any]) -> list[dict[str, Any]]:
            return [{"name": a.name, "type": a.type, "shape": [_plain(d) for d in a.shape]} for a in declared]

        if self.value_output is not None:
            output = f"value (regression): {self.value_output!r}"
        elif self.proba_format == "zipmap":
            output = f"label {self.label_output!r} and probabilities {self.proba_output!r} (ZipMap)"
        elif self.label_output is not None:
            output = (f"label {self.label_output!r}" + (f" and probabilities {self.proba_output!r} (tensor)" if self.proba_output else "")
                      + (f"; no probabilities: {self.no_proba_reason}" if self.no_proba_reason else ""))
        else:
            output = f"{self.score_kind} {self.proba_output!r}: {self.score_reason}"
        return {
            "kind": self.kind,
            # what the report's headline shows as the model's class: the program that wrote the graph
            "class": " ".join(p for p in (producer_name, producer and producer["version"]) if p) or None,
            "producer": producer,
            "opset": opset,
            "ir_version": int(proto.ir_version) if proto is not None else None,
            "inputs": args(self.session.get_inputs()),
            "outputs": args(self.session.get_outputs()),
            "input_layout": ("one input per column, matched to the data's columns by name" if self.layout == "columns" else
                             f"positional: {self.n_inputs} inputs matched to the data's columns by position"),
            "output": output,
            "classes": [_plain(c) for c in self.classes] if self.classes is not None else None,
            "classes_from": self.classes_source,
            "n_features": self.n_inputs,
            "missing_values": "NaN into float inputs, the empty string into string inputs; refused for integer and boolean inputs",
            "batch_size": self.batch_size,
            "fixed_batch": self.fixed_batch,
            "providers": list(self.session.get_providers()),
        }
