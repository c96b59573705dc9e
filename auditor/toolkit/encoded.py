"""A scikit-learn pipeline seen as a column-wise encoding followed by its final estimator.

Many pipelines only encode each input column on its own (an ordinal or one-hot encoder,
a scaler, an imputer, 'passthrough') before the estimator. For such a model,

    model(X) == final(encode(X)), and encode(X with column c shuffled)
                                  == encode(X) with c's encoded columns shuffled alike,

so a check that perturbs whole columns (permutation importance) can encode the sample
once and shuffle encoded columns, calling only the final estimator; and an explainer
built for the final estimator (shap's TreeExplainer) can explain the encoded columns,
each input column's attribution being the sum over the columns it feeds. Both avoid the
pipeline's per-call overhead, which on small samples outweighs the prediction itself.

:func:`encoded_view` gives that view only when it holds: every preprocessing step is a
scikit-learn transformer known to act column by column, the encoded matrix is dense, and
on a probe of the audited rows the view reproduces the model's outputs exactly and each
input column moves only its own encoded columns. Otherwise it gives None and the checks
call the whole model, as they would for any other model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.util.lazy import lazy_module

if TYPE_CHECKING:
    from auditor.contract.context import AuditContext

np = lazy_module("numpy")

#: scikit-learn transformers whose output column k depends on input column k alone.
ONE_TO_ONE = frozenset({
    "OrdinalEncoder", "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler",
    "QuantileTransformer", "PowerTransformer", "Binarizer",
})
#: Rows of the audited data the view is checked on before it is used.
PROBE_ROWS = 64


@dataclass
class EncodedView:
    """``final`` applied to ``encode(X)`` is the model; ``groups[c]`` lists input column c's encoded columns."""

    encode_frame: Any
    final: Any
    groups: dict[str, list[int]]
    width: int

    def encode(self, X) -> np.ndarray:
        return np.asarray(self.encode_frame(X), dtype=float)

    def predict(self, T: np.ndarray) -> np.ndarray:
        return np.asarray(self.final.predict(T))

    def predict_proba(self, T: np.ndarray) -> np.ndarray:
        return np.asarray(self.final.predict_proba(T), dtype=float)

    @property
    def one_to_one(self) -> bool:
        """Whether every input column is encoded as exactly one column (attributions are then exact, not summed)."""
        return all(len(cols) <= 1 for cols in self.groups.values())

    def describe(self) -> str:
        kind = type(self.final).__name__
        if self.one_to_one:
            return f"the final {kind} on the pipeline's column-wise encoding, each encoded column standing for one input"
        return (f"the final {kind} on the pipeline's column-wise encoding ({self.width} encoded columns), "
                "each input column's attribution summed over the encoded columns it feeds")


def _identity(n: int) -> list[list[int]]:
    return [[k] for k in range(n)]


def _width(mapping: list[list[int]]) -> int:
    """How many encoded columns a column map reaches (one past the highest)."""
    return 1 + max((o for cols in mapping for o in cols), default=-1)


def _is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "sklearn"


def column_map(transformer: Any, n_in: int) -> list[list[int]] | None:
    """For a fitted transformer taking ``n_in`` columns: the output columns each input column
    feeds, or None when the transformer is not known to act column by column."""
    if isinstance(transformer, str):
        return _identity(n_in) if transformer == "passthrough" else [[] for _ in range(n_in)] if transformer == "drop" else None
    if transformer is None or not _is_sklearn(transformer):
        return None
    name = type(transformer).__name__
    if name in ONE_TO_ONE:
        return _identity(n_in)
    if name == "FunctionTransformer":
        return _identity(n_in) if transformer.func is None else None
    if name == "SimpleImputer":
        if transformer.add_indicator:
            return None
        # without keep_empty_features, a column with no observed value is dropped from the output
        kept = [k for k in range(n_in) if transformer.keep_empty_features or not _empty(transformer.statistics_[k])]
        out: list[list[int]] = [[] for _ in range(n_in)]
        for position, k in enumerate(kept):
            out[k] = [position]
        return out
    if name == "OneHotEncoder":
        if getattr(transformer, "_infrequent_enabled", False):
            return None
        drop = getattr(transformer, "drop_idx_", None)
        out, start = [], 0
        for k, cats in enumerate(transformer.categories_):
            width = len(cats) - (1 if drop is not None and drop[k] is not None else 0)
            out.append(list(range(start, start + width)))
            start += width
        return out
    if name == "Pipeline":
        current = _identity(n_in)
        for _, step in transformer.steps:
            step_map = column_map(step, _width(current))
            if step_map is None:
                return None
            current = [sorted({o for c in cols for o in step_map[c]}) for cols in current]
        return current
    if name == "ColumnTransformer":
        inputs = getattr(transformer, "_transformer_to_input_indices", None)
        outputs = getattr(transformer, "output_indices_", None)
        if inputs is None or outputs is None:
            return None
        out = [[] for _ in range(n_in)]
        for part, sub, _ in transformer.transformers_:
            in_idx = list(inputs.get(part, []))
            piece = outputs.get(part)
            if not in_idx:
                continue
            sub_map = column_map(sub, len(in_idx))
            if sub_map is None or piece is None:
                return None
            for k, i in enumerate(in_idx):
                out[i].extend(piece.start + o for o in sub_map[k])
        return out
    return None


def _empty(statistic: Any) -> bool:
    try:
        return bool(np.isnan(statistic))
    except TypeError:  # a string fill value
        return False


def split_pipeline(estimator: Any, columns: list[str]) -> EncodedView | None:
    """The view of a pipeline whose preprocessing steps all act column by column, for inputs
    given as a frame with ``columns``; None for anything else (a bare estimator included)."""
    steps = getattr(estimator, "steps", None)
    if not steps or len(steps) < 2 or not _is_sklearn(estimator):
        return None
    prefix = estimator[:-1]
    names_in = getattr(prefix, "feature_names_in_", None)
    if names_in is None:
        names_in = getattr(steps[0][1], "feature_names_in_", None)
    if names_in is None or sorted(map(str, names_in)) != sorted(map(str, columns)):
        return None
    mapping = column_map(prefix, len(names_in))
    if mapping is None:
        return None
    groups = {str(name): cols for name, cols in zip(names_in, mapping)}
    return EncodedView(encode_frame=prefix.transform, final=steps[-1][1], groups=groups, width=_width(mapping))


def _verified(ctx: AuditContext, view: EncodedView) -> bool:
    """Whether the view reproduces the model on a probe of the audited rows, and each input
    column, rolled one row along the probe, moves only its own encoded columns."""
    import pandas as pd
    from scipy import sparse

    role = "test" if ctx.has("test") else "train"
    probe = ctx.X(role).head(PROBE_ROWS).reset_index(drop=True)
    n = len(probe)
    if n < 2:
        return False
    encoded = view.encode_frame(probe)
    if sparse.issparse(encoded) or not isinstance(encoded, np.ndarray) or encoded.shape != (n, view.width):
        return False
    encoded = encoded.astype(float)
    if ctx.is_classification and ctx.model.has_proba:
        predicted, proba = ctx.call_model_with_proba(probe)
        if not np.allclose(view.predict_proba(encoded), np.asarray(proba, dtype=float), rtol=1e-9, atol=1e-12):
            return False
    else:
        predicted = ctx.call_model(probe)
    if not np.array_equal(view.predict(encoded), np.asarray(predicted)):
        return False
    shift = np.roll(np.arange(n), 1)
    rolled = pd.concat([probe] * probe.shape[1], ignore_index=True)
    for j in range(probe.shape[1]):  # copy j: column j rolled one row along, in its own dtype
        rolled.iloc[j * n:(j + 1) * n, j] = probe.iloc[shift, j].to_numpy()
    moved = view.encode(rolled).reshape(len(probe.columns), n, view.width)
    expected = np.repeat(encoded[None], len(probe.columns), axis=0)
    for j, column in enumerate(probe.columns):
        cols = view.groups[str(column)]
        expected[j][:, cols] = np.roll(encoded[:, cols], 1, axis=0)
    return bool(np.array_equal(moved, expected, equal_nan=True))


def encoded_view(ctx: AuditContext) -> EncodedView | None:
    """The audited model's column-wise view (see the module's docstring), checked once per audit; None when it has none."""

    def compute():
        model = ctx.model
        if model is None or not model.can_call or getattr(model, "kind", "") != "sklearn":
            return None
        try:
            view = split_pipeline(model.estimator, list(ctx.features))
            return view if view is not None and _verified(ctx, view) else None
        except Exception:  # noqa: BLE001 - any surprise: the checks call the whole model, which reports its own errors
            return None

    return ctx.memo(("encoded view",), compute)
