"""Model adapters: one small interface over every kind of model.

The checks see only :class:`ModelAdapter`. A new kind of model (PyTorch, ONNX) is one
new adapter class registered under the ``auditor.adapters`` entry-point group; no check
changes. :func:`load_model` picks the adapter that claims a file (by its suffix, or by
its content where a suffix is shared, such as ``.json``), :func:`adapter_for` the one
that wraps a fitted object handed to the Python API. An adapter module must import its
model library inside its methods only, so that registering it costs nothing and a
missing optional library fails one load with a clear message, not every audit.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from auditor.util.errors import MSG_PICKLE_UNTRUSTED, MSG_SKOPS_UNTRUSTED, ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")


class ModelCallError(RuntimeError):
    """The model raised when asked for predictions; checks that need them become ``error``."""


#: Longest model error message a result's summary quotes (a model's own message can list
#: thousands of values); the result's ``error.message`` keeps it whole.
MAX_MODEL_MESSAGE = 500


def model_raised(on: str, exc: BaseException) -> ModelCallError:
    """The error a check reports when the model raised ``exc`` on ``on``."""
    return ModelCallError(f"the model raised on {on}: {type(exc).__name__}: {exc}")


class ModelAdapter:
    """What every model looks like to the engine."""

    kind: ClassVar[str] = "abstract"
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: Loading options the adapter accepts besides trust: ``device`` (PyTorch), ``classes``
    #: (the class labels in output order, for formats that store only their codes 0..k-1).
    options: ClassVar[frozenset[str]] = frozenset()
    #: Adapters are asked in decreasing priority; a generic one (scikit-learn: anything with
    #: ``predict``) goes last.
    priority: ClassVar[int] = 10
    #: What :meth:`claims` looks for in a file whose suffix another format shares (for the
    #: message when no adapter claims it), e.g. "an XGBoost JSON model's first key is \"learner\"".
    content_hint: ClassVar[str] = ""

    #: Column names the model was fitted on, in order, when it records them.
    feature_names: list[str] | None = None
    #: How many inputs the model takes, when it records that (scikit-learn's ``n_features_in_``).
    n_inputs: int | None = None
    #: Class labels in the order of ``predict_proba``'s columns (classification only).
    classes: list[Any] | None = None

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = ()) -> ModelAdapter:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def claims(cls, path: Path) -> bool:
        """Whether this adapter reads ``path`` (by default: its name ends with one of :attr:`suffixes`).
        An adapter whose suffix others share (``.json``) also looks at the content; this must not
        import the model library, and never raises."""
        return cls.has_suffix(path)

    @classmethod
    def has_suffix(cls, path: Path) -> bool:
        """Whether ``path``'s name ends with one of :attr:`suffixes` (case aside)."""
        name = path.name.lower()
        return any(name.endswith(s) for s in cls.suffixes)

    @classmethod
    def wraps(cls, obj: Any) -> bool:
        """Whether this adapter wraps the fitted object ``obj`` (Python API). Decided by the
        object's type and module, without importing the model library."""
        return False

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> ModelAdapter:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def has_proba(self) -> bool:
        return False

    @property
    def can_call(self) -> bool:
        """Whether the model can be called on new inputs (false for a predictions file)."""
        return True

    @property
    def can_refit(self) -> bool:
        return False

    @property
    def refit_problem(self) -> str | None:
        """Why this model cannot be refitted, in the adapter's own words, where it can say more
        than "cannot be cloned and refitted" (a format that records no training setup)."""
        return None

    @property
    def used_positions(self) -> list[int] | None:
        """Positions (in the model's input order) of the inputs its output depends on, when the
        model can tell and it is fewer than all; None when every input is used or it cannot be told."""
        return None

    @property
    def used_features(self) -> list[str] | None:
        """Names of the inputs the model really reads (see :attr:`used_positions`), in its input
        order; None when it reads them all, cannot tell, or records no column names."""
        positions = self.used_positions
        if positions is None or not self.feature_names:
            return None
        return [self.feature_names[i] for i in positions]

    @property
    def differentiable(self) -> bool:
        """Whether :meth:`gradient_view` gives the model as a function autograd can differentiate."""
        return False

    def gradient_view(self) -> Any:
        """The model as a differentiable function of its input space (see ``auditor.contract.adapters_torch``)."""
        raise NotImplementedError(f"{self.kind} models are not differentiable")

    def own_importances(self) -> tuple[Any, str] | None:
        """The model's own feature importances, one per input in its input order, with what they are
        (``"feature_importances_"``), for a model that is not a scikit-learn object (a booster read
        from its file); None when it has none or :attr:`estimator` shows them."""
        return None

    def tree_model(self) -> Any:
        """What shap's exact TreeExplainer reads for this model, where it applies (the boosting
        adapters: ``auditor.contract.adapters_boosting.TreeModel``); None otherwise."""
        return None

    def align_columns(self, columns: list[str]) -> dict[str, str]:
        """Match the model's recorded input names to the data's ``columns`` where its format
        rewrote them (ONNX converters); returns ``{input name: data column}`` for those it
        re-pointed (and updates :attr:`feature_names`). Most formats keep the names: nothing."""
        return {}

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Predictions and class probabilities of the same rows (adapters may share work between the two)."""
        return self.predict(X), self.predict_proba(X)

    def unfitted_clone(self) -> Any:
        raise NotImplementedError(f"{self.kind} models cannot be refitted")

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


#: scikit-learn's warnings when an estimator is called with column names it was not fitted
#: with, or without those it was (``sklearn.utils.validation._check_feature_names``). The
#: audit does both on purpose: a model fitted on a bare array is given the data's columns by
#: position (the report says so), and a check may hand a pipeline's final step an encoded array.
FEATURE_NAME_WARNINGS = (
    r"X has feature names, but \w+ was fitted without feature names",
    r"X does not have valid feature names, but \w+ was fitted with feature names",
)


@contextlib.contextmanager
def feature_name_warnings_ignored() -> Iterator[None]:
    """Within the block, :data:`FEATURE_NAME_WARNINGS` are not shown (every other warning is)."""
    with warnings.catch_warnings():
        for pattern in FEATURE_NAME_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern, category=UserWarning)
        yield


def _is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "sklearn"


def _resolve_columns(spec: Any, names: list[str] | None, n_in: int) -> list[int] | None:
    """The positions a fitted ColumnTransformer's column selection picks out of its ``n_in``
    inputs (named ``names`` when it was fitted on a frame); None when it cannot be told."""
    if callable(spec):  # resolved at fit time into transformers_; should it remain, it cannot be replayed
        return None
    if isinstance(spec, str):
        return [names.index(spec)] if names and spec in names else None
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return [int(spec) % n_in] if -n_in <= spec < n_in else None
    if isinstance(spec, slice):
        if isinstance(spec.start, str) or isinstance(spec.stop, str):  # name slices include their stop
            if not names:
                return None
            start = names.index(spec.start) if spec.start is not None else 0
            stop = names.index(spec.stop) + 1 if spec.stop is not None else n_in
            return list(range(start, stop))[::spec.step or 1]
        return list(range(n_in))[spec]
    values = list(np.asarray(spec).ravel()) if not isinstance(spec, list) else spec
    if not values:
        return []
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return [i for i, keep in enumerate(values) if keep] if len(values) == n_in else None
    if all(isinstance(v, str) for v in values):
        return [names.index(v) for v in values] if names and all(v in names for v in values) else None
    if all(isinstance(v, (int, np.integer)) for v in values):
        return [int(v) % n_in for v in values] if all(-n_in <= v < n_in for v in values) else None
    return None


def positions_read(step: Any, n_in: int) -> set[int]:
    """Which of a fitted step's ``n_in`` inputs its output depends on.

    Told apart: a ColumnTransformer's dropped columns (a ``'drop'`` transformer, columns no
    transformer selects with ``remainder='drop'``), also inside a Pipeline's first step and
    nested ColumnTransformers, and a feature selector's unselected columns (``get_support``).
    Anything else reads every input.
    """
    every = set(range(n_in))
    if isinstance(step, str):
        return set() if step == "drop" else every
    if step is None or not _is_sklearn(step):
        return every
    if getattr(step, "n_features_in_", n_in) != n_in:  # not the step we think it is: claim nothing
        return every
    name = type(step).__name__
    if name == "Pipeline":
        # Only the first step that does anything sees the inputs; what later steps ignore is
        # a column of its output, not an input.
        first = next((s for _, s in step.steps if s is not None and s != "passthrough"), None)
        return every if first is None else positions_read(first, n_in)
    if name == "ColumnTransformer":
        fitted = getattr(step, "transformers_", None)
        if fitted is None:
            return every
        names_in = getattr(step, "feature_names_in_", None)
        names = [str(n) for n in names_in] if names_in is not None else None
        read: set[int] = set()
        for _, sub, columns in fitted:  # the fitted list holds the remainder too
            picked = _resolve_columns(columns, names, n_in)
            if picked is None:
                return every
            if picked:
                read |= {picked[k] for k in positions_read(sub, len(picked))}
        return read
    from sklearn.feature_selection import SelectorMixin

    if isinstance(step, SelectorMixin):
        try:
            return {int(i) for i in step.get_support(indices=True)}
        except Exception:  # noqa: BLE001 - unfitted or unusual: claim nothing
            return every
    return every


class _NoTorch:
    """An import finder that refuses PyTorch (see :func:`_import_skops`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is not imported while skops lists scikit-learn's types")


def _import_skops():
    """``skops.io``, imported without PyTorch.

    On import, skops lists scikit-learn's estimators, walking every scikit-learn package;
    one of them (``sklearn.externals.array_api_compat.torch``) imports PyTorch when it is
    installed, which alone costs a second or more of every audit. A skops file cannot hold
    PyTorch objects, so PyTorch is kept out for the duration of that import (the walk skips
    a package that cannot be imported) unless it is already loaded.
    """
    import sys

    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io

        return skops.io
    blocker = _NoTorch()
    sys.meta_path.insert(0, blocker)
    try:
        import skops.io
    finally:
        sys.meta_path.remove(blocker)
    return skops.io


def load_skops(path: Path, *, trust: bool, trusted_types: tuple[str, ...] = ()) -> Any:
    """An object from a skops file, refused while it holds types skops does not trust by
    default unless each is named in ``trusted_types`` (or ``trust`` trusts them all)."""
    sio = _import_skops()

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise ModelLoadError(f"cannot read {path} as a skops file: {exc}") from None
    still_untrusted = [t for t in untrusted if t not in trusted_types]
    if still_untrusted and not trust:
        raise ModelLoadError(MSG_SKOPS_UNTRUSTED.format(path=path, types=", ".join(still_untrusted)))
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {path} with skops: {type(exc).__name__}: {exc}") from None


class SklearnAdapter(ModelAdapter):
    """scikit-learn estimators and pipelines: skops files, or joblib/pickle when trusted."""

    kind = "sklearn"
    suffixes = (".skops", ".joblib", ".pkl", ".pickle")
    priority = 0  # anything with predict: asked after the adapters for particular libraries

    @classmethod
    def wraps(cls, obj: Any) -> bool:
        return callable(getattr(obj, "predict", None)) and not isinstance(obj, type)

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> SklearnAdapter:
        return cls(obj)

    def __init__(self, estimator: Any, *, path: Path | None = None):
        if not hasattr(estimator, "predict"):
            raise ModelLoadError(f"the object in {path} has no predict method; got {type(estimator).__name__}")
        self.estimator = estimator
        self.path = path
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else None
        n_in = getattr(estimator, "n_features_in_", None)
        self.n_inputs = len(self.feature_names) if self.feature_names else int(n_in) if n_in is not None else None
        classes = getattr(estimator, "classes_", None)
        self.classes = list(classes) if classes is not None else None

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = ()) -> SklearnAdapter:
        if path.suffix.lower() == ".skops":
            estimator = load_skops(path, trust=trust, trusted_types=trusted_types)
        else:
            if not trust:
                raise ModelLoadError(MSG_PICKLE_UNTRUSTED.format(path=path))
            import joblib

            try:
                estimator = joblib.load(path)
            except Exception as exc:
                raise ModelLoadError(f"cannot load {path} with joblib: {type(exc).__name__}: {exc}") from None
        return cls(estimator, path=path)

    @property
    def has_proba(self) -> bool:
        try:
            return hasattr(self.estimator, "predict_proba")
        except Exception:  # some meta-estimators raise from hasattr when the step lacks it
            return False

    @property
    def can_refit(self) -> bool:
        return hasattr(self.estimator, "get_params") and hasattr(self.estimator, "fit")

    @property
    def used_positions(self) -> list[int] | None:
        if self.n_inputs is None:
            return None
        read = positions_read(self.estimator, self.n_inputs)
        return sorted(read) if len(read) < self.n_inputs else None

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(X), dtype=float)

    def predict_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """A pipeline transforms ``X`` once for both (as its own ``predict`` and
        ``predict_proba`` each would), then asks its final step for each."""
        steps = getattr(self.estimator, "steps", None)
        if not steps or len(steps) < 2 or type(self.estimator).__module__.split(".")[0] != "sklearn":
            return self.predict(X), self.predict_proba(X)
        Xt = self.estimator[:-1].transform(X)
        final = steps[-1][1]
        return np.asarray(final.predict(Xt)), np.asarray(final.predict_proba(Xt), dtype=float)

    def unfitted_clone(self) -> Any:
        from sklearn.base import clone

        return clone(self.estimator)

    def describe(self) -> dict[str, Any]:
        est = self.estimator
        steps = getattr(est, "steps", None)
        return {
            "kind": self.kind,
            "class": f"{type(est).__module__}.{type(est).__qualname__}",
            "steps": [f"{name}: {type(step).__name__}" for name, step in steps] if steps else None,
            "n_features": len(self.feature_names) if self.feature_names else getattr(est, "n_features_in_", None),
        }


class PredictionsAdapter(ModelAdapter):
    """Predictions-only mode: a model's outputs already stored as columns of the data."""

    kind = "predictions"

    def __init__(self, *, prediction_column: str, score_column: str | None = None, score_kind: str = "probability"):
        self.prediction_column = prediction_column
        self.score_column = score_column
        #: "probability" (the positive label's probability), "rank" (higher: more likely the
        #: positive label) or "reversed-rank" (higher: less likely); set once the values are read.
        self.score_kind = score_kind

    @property
    def can_call(self) -> bool:
        return False

    @property
    def has_proba(self) -> bool:
        return self.score_column is not None and self.score_kind == "probability"

    @property
    def has_ranking_scores(self) -> bool:
        """Scores that order the rows by how likely the positive label is, probabilities or not."""
        return self.score_column is not None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "prediction_column": self.prediction_column, "score_column": self.score_column,
                "score_kind": self.score_kind if self.score_column is not None else None}


def adapter_classes() -> list[type[ModelAdapter]]:
    """Adapters registered under the ``auditor.adapters`` entry-point group, in the order they
    are asked: decreasing :attr:`ModelAdapter.priority`, then by entry-point name."""
    found: list[tuple[int, str, type[ModelAdapter]]] = []
    for ep in metadata.entry_points(group="auditor.adapters"):
        try:
            cls = ep.load()
        except Exception as exc:
            raise ModelLoadError(f"model adapter plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        found.append((-int(getattr(cls, "priority", 10)), ep.name, cls))
    return [cls for _, _, cls in sorted(found, key=lambda t: (t[0], t[1]))]


def _options_for(cls: type[ModelAdapter], given: dict[str, Any]) -> dict[str, Any]:
    """The loading options ``cls`` accepts, of those given (``classes`` only when set)."""
    extra = {k: v for k, v in given.items() if k in cls.options and not (k == "classes" and v is None)}
    if given.get("classes") is not None and "classes" not in cls.options:
        raise ModelLoadError(f"--model-classes does not apply to {cls.kind} models: they record their class labels")
    return extra


def adapter_for(obj: Any, *, device: str = "auto", classes: list[Any] | None = None) -> ModelAdapter:
    """The adapter for a fitted model object (the Python API's ``model=``); an adapter is returned as it is."""
    if isinstance(obj, ModelAdapter):
        if classes is not None:
            raise ModelLoadError("model_classes goes with a model object or file, not with an adapter")
        return obj
    for cls in adapter_classes():
        if cls.wraps(obj):
            return cls.from_object(obj, **_options_for(cls, {"device": device, "classes": classes}))
    raise ModelLoadError(
        f"no model adapter wraps a {type(obj).__module__}.{type(obj).__qualname__}; auditor takes scikit-learn "
        "estimators and pipelines, XGBoost, LightGBM and CatBoost models, ONNX sessions, an auditor ModelAdapter, "
        "or a model file"
    )


def load_model(path: str | Path, *, trust: bool = False, trusted_types: tuple[str, ...] = (),
               device: str = "auto", classes: list[Any] | None = None) -> ModelAdapter:
    """Load a model file with the adapter registered for its suffix.

    ``trust`` allows formats that run code when loaded (pickle, joblib) and any type in a
    skops file; ``trusted_types`` allows only the named types of a skops file. ``device``
    (``auto``, ``cpu``, ``cuda``) goes to adapters that run on one (PyTorch); others
    ignore it. ``classes`` names the class labels of a model whose file stores only their
    codes (``--model-classes``); an adapter whose format records its labels refuses it.
    """
    path = Path(path)
    adapters = adapter_classes()
    # A model URI (runs:/..., models:/...) or a model folder (an MLflow model) is read by an
    # adapter that claims it; anything else must be a file.
    is_uri = "://" in str(path) or str(path).startswith(("runs:/", "models:/"))
    if not is_uri and not path.exists():
        raise ModelLoadError(f"model file not found: {path}")
    for cls in adapters:
        try:
            claimed = cls.claims(path)
        except Exception:  # a claim is a cheap look; an adapter that cannot look does not claim
            claimed = False
        if claimed:
            extra = _options_for(cls, {"device": device, "classes": classes})
            return cls.load(path, trust=trust, trusted_types=tuple(trusted_types), **extra)
    if not is_uri and not path.is_file():
        raise ModelLoadError(f"model file not found (a folder that no adapter reads): {path}")
    by_suffix = [cls for cls in adapters if cls.has_suffix(path)]
    if by_suffix:  # the suffix is known, the content is not: say what each reader looks for
        looked = "; ".join(f"{cls.kind}: {cls.content_hint}" for cls in by_suffix if cls.content_hint)
        raise ModelLoadError(f"{path.name!r} is not a model file auditor recognises: its suffix is read by "
                             f"{', '.join(cls.kind for cls in by_suffix)}, but its content is none of them"
                             + (f" ({looked})" if looked else ""))
    known = sorted({s for cls in adapters for s in cls.suffixes})
    raise ModelLoadError(f"no model adapter reads {path.name!r}; known file types: {', '.join(known)}")
