"""Reading an ONNX graph for the ONNX adapter: its inputs (one per column, or one tensor
matched by position) and what its outputs hold (the class labels a ZipMap or classifier
operator records, decision scores, the operator that ends an output). Plain functions over
onnxruntime's session and the ``onnx`` model proto; see ``auditor.contract.adapters_onnx``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from auditor.util.errors import ModelLoadError

MSG_ONNX_UNREADABLE = "cannot read {path} as an ONNX model: {reason}"

#: onnxruntime element types and the NumPy dtype each input is given.
ELEMENT_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16", "tensor(int8)": "int8",
    "tensor(uint64)": "uint64", "tensor(uint32)": "uint32", "tensor(uint16)": "uint16", "tensor(uint8)": "uint8",
    "tensor(bool)": "bool", "tensor(string)": "object",
}
FLOAT_OUTPUTS = frozenset({"tensor(float)", "tensor(double)", "tensor(float16)"})
LABEL_OUTPUTS = frozenset({"tensor(int64)", "tensor(int32)", "tensor(string)", "tensor(bool)"})
#: Operators that only reshape or relabel a tensor: looking for the operator behind an
#: output walks back through them.
SHAPE_ONLY_OPS = frozenset({"Identity", "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})
CLASS_LABEL_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")
#: Operators after which an output holds probabilities whatever came before.
PROBABILITY_OPS = frozenset({"Softmax", "Sigmoid", "Normalizer", "ZipMap"})


@dataclass(frozen=True)
class OnnxInput:
    """One graph input and the data columns it takes (names, or positions in the positional layout)."""

    name: str
    type: str
    shape: tuple[Any, ...]
    dtype: str
    columns: tuple[Any, ...]

    @property
    def rank(self) -> int:
        return len(self.shape)


def _dim(value: Any) -> int | None:
    """A fixed dimension, or None for a symbolic or unknown one."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _read_inputs(session: Any, where: Any) -> tuple[list[OnnxInput], str, int | None]:
    """The graph's inputs with the columns each takes, the layout, and a fixed batch size if any."""
    declared = session.get_inputs()
    if not declared:
        raise ModelLoadError(MSG_ONNX_UNREADABLE.format(path=where, reason="the graph has no inputs"))
    for arg in declared:
        if arg.type not in ELEMENT_TYPES:
            raise ModelLoadError(f"the ONNX model's input {arg.name!r} is a {arg.type}; auditor feeds tensors of numbers, "
                                 "booleans or strings only")
        if len(arg.shape) not in (1, 2):
            raise ModelLoadError(f"the ONNX model's input {arg.name!r} has shape {list(arg.shape)}; auditor feeds tables: "
                                 "one input [N, n] or one [N, 1] input per column")
    widths = [1 if len(a.shape) == 1 else _dim(a.shape[1]) for a in declared]
    batches = {_dim(a.shape[0]) for a in declared} - {None}
    if len(batches) > 1:
        raise ModelLoadError(f"the ONNX model's inputs have different fixed batch sizes: {sorted(batches)}")
    fixed_batch = batches.pop() if batches else None
    per_column = all(w == 1 for w in widths) and (len(declared) > 1 or declared[0].type == "tensor(string)")
    if per_column:
        names = [a.name for a in declared]
        if len(set(names)) != len(names):  # pragma: no cover - ONNX forbids it; a guard for hand-made graphs
            raise ModelLoadError("the ONNX model declares an input name twice")
        inputs = [OnnxInput(a.name, a.type, tuple(a.shape), ELEMENT_TYPES[a.type], (a.name,)) for a in declared]
        return inputs, "columns", fixed_batch
    unknown = [a.name for a, w in zip(declared, widths) if w is None]
    if unknown:
        raise ModelLoadError(f"the ONNX model's input {unknown[0]!r} has no fixed width (shape "
                             f"{list(declared[widths.index(None)].shape)}); auditor cannot tell which columns it takes")
    inputs, start = [], 0
    for arg, width in zip(declared, widths):
        inputs.append(OnnxInput(arg.name, arg.type, tuple(arg.shape), ELEMENT_TYPES[arg.type],
                                tuple(range(start, start + width))))
        start += width
    return inputs, "positional", fixed_batch


# -- the graph ----------------------------------------------------------------------------
def _upstream(proto: Any, name: str) -> Iterator[Any]:
    """The nodes an output depends on, nearest first (breadth-first from its producer)."""
    producers = {out: node for node in proto.graph.node for out in node.output}
    queue, seen = deque([name]), {name}
    while queue:
        node = producers.get(queue.popleft())
        if node is None:
            continue
        yield node
        for source in node.input:
            if source and source not in seen:
                seen.add(source)
                queue.append(source)


def _attribute(node: Any, name: str) -> Any:
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return None


def _recorded_labels(proto: Any, outputs: list[str]) -> tuple[list[Any], str] | None:
    """The class labels the graph records for these outputs, and where they were read."""
    for output in outputs:
        for node in _upstream(proto, output):
            for attr in CLASS_LABEL_ATTRIBUTES:
                values = _attribute(node, attr)
                if values:
                    labels = [v.decode("utf-8") if isinstance(v, bytes) else int(v) for v in values]
                    return labels, f"{node.op_type} {attr}"
    return None


def _holds_scores(proto: Any, output: str) -> str | None:
    """Why a classifier's probability output holds decision scores, or None when it holds probabilities
    (or the graph cannot tell). skl2onnx fills it with scores for models without predict_proba."""
    for node in _upstream(proto, output):
        if node.op_type in PROBABILITY_OPS:
            return None
        if node.op_type in ("LinearClassifier", "SVMClassifier"):
            post = _attribute(node, "post_transform")
            post = post.decode() if isinstance(post, bytes) else (post or "NONE")
            if post != "NONE" or _attribute(node, "prob_a"):
                return None
            return f"its {node.op_type} has post_transform NONE: the output holds decision scores, not probabilities"
    return None


def _final_op(proto: Any, output: str) -> str | None:
    """The operator behind an output, past any that only reshape it."""
    for node in _upstream(proto, output):
        if node.op_type not in SHAPE_ONLY_OPS:
            return node.op_type
    return None


def _graph_of_session(session: Any, onnx: Any) -> Any:
    """The ModelProto behind a session the caller built, when it can still be read (onnxruntime
    keeps the path or bytes it was given in private attributes); None otherwise."""
    try:
        path = getattr(session, "_model_path", None)
        if path:
            return onnx.load(path, load_external_data=False)
        data = getattr(session, "_model_bytes", None)
        if data:
            return onnx.load_from_string(data)
    except Exception:  # noqa: BLE001 - the graph is a source of labels only; the session still runs
        return None
    return None
