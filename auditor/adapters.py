"""Model adapters: one small interface over every kind of model.

The checks see only :class:`ModelAdapter`. A new kind of model (PyTorch, ONNX) is one
new adapter class registered under the ``auditor.adapters`` entry-point group; no check
changes. :func:`load_model` picks the adapter by the file's suffix.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from auditor.errors import MSG_PICKLE_UNTRUSTED, MSG_SKOPS_UNTRUSTED, ModelLoadError
from auditor.lazy import lazy_module

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
    #: Loading options the adapter accepts besides trust (``device`` for PyTorch models).
    options: ClassVar[frozenset[str]] = frozenset()

    #: Column names the model was fitted on, in order, when it records them.
    feature_names: list[str] | None = None
    #: Class labels in the order of ``predict_proba``'s columns (classification only).
    classes: list[Any] | None = None

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = ()) -> "ModelAdapter":  # pragma: no cover - abstract
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
    def differentiable(self) -> bool:
        """Whether :meth:`gradient_view` gives the model as a function autograd can differentiate."""
        return False

    def gradient_view(self) -> Any:
        """The model as a differentiable function of its input space (see ``auditor.adapters_torch``)."""
        raise NotImplementedError(f"{self.kind} models are not differentiable")

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

    def __init__(self, estimator: Any, *, path: Path | None = None):
        if not hasattr(estimator, "predict"):
            raise ModelLoadError(f"the object in {path} has no predict method; got {type(estimator).__name__}")
        self.estimator = estimator
        self.path = path
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else None
        classes = getattr(estimator, "classes_", None)
        self.classes = list(classes) if classes is not None else None

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = ()) -> "SklearnAdapter":
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

    def __init__(self, *, prediction_column: str, score_column: str | None = None):
        self.prediction_column = prediction_column
        self.score_column = score_column

    @property
    def can_call(self) -> bool:
        return False

    @property
    def has_proba(self) -> bool:
        return self.score_column is not None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "prediction_column": self.prediction_column, "score_column": self.score_column}


def adapter_classes() -> list[type[ModelAdapter]]:
    """Adapters registered under the ``auditor.adapters`` entry-point group."""
    found: list[type[ModelAdapter]] = []
    for ep in metadata.entry_points(group="auditor.adapters"):
        try:
            cls = ep.load()
        except Exception as exc:
            raise ModelLoadError(f"model adapter plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        found.append(cls)
    return found


def load_model(path: str | Path, *, trust: bool = False, trusted_types: tuple[str, ...] = (),
               device: str = "auto") -> ModelAdapter:
    """Load a model file with the adapter registered for its suffix.

    ``trust`` allows formats that run code when loaded (pickle, joblib) and any type in a
    skops file; ``trusted_types`` allows only the named types of a skops file. ``device``
    (``auto``, ``cpu``, ``cuda``) goes to adapters that run on one (PyTorch); others
    ignore it.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    name = path.name.lower()
    classes = adapter_classes()
    for cls in classes:
        if any(name.endswith(s) for s in cls.suffixes):
            extra = {"device": device} if "device" in cls.options else {}
            return cls.load(path, trust=trust, trusted_types=tuple(trusted_types), **extra)
    known = sorted({s for cls in classes for s in cls.suffixes})
    raise ModelLoadError(f"no model adapter reads {path.name!r}; known file types: {', '.join(known)}")
