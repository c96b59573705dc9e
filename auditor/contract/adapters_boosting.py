"""XGBoost, LightGBM and CatBoost models, from their own files or as fitted objects.

Each library saves a model in a format that is read without running code (unlike pickle),
so none of these needs ``--trust-model``:

============  ==========================================================================
library       files read
============  ==========================================================================
XGBoost       ``.json`` (``save_model("m.json")``), claimed only when its first key is
              ``"learner"``: a PyTorch model spec (``.torch.json``) or a CatBoost export is
              left to its own adapter; ``.ubj`` (Universal Binary JSON, XGBoost's default).
LightGBM      the text model (``booster.save_model(path)``): ``.txt`` when its first line
              is ``tree``, and ``.lgb`` / ``.lgbm`` whatever it holds (a wrong file then
              fails with the reason).
CatBoost      ``.cbm`` (``save_model("m.cbm")``) and the JSON export
              (``save_model("m.json", format="json")``), claimed when its first key is
              ``ctr_data`` or ``features_info``.
============  ==========================================================================

Each file is checked before the library reads it, because the libraries' own readers do
not all fail cleanly: a truncated LightGBM text model or UBJSON file can crash the
process (a segmentation fault, or ``std::terminate`` from an OpenMP region), and
CatBoost's JSON reader loads a truncated file as a model with fewer trees. So XGBoost
JSON and CatBoost JSON are parsed by Python's strict ``json`` first, UBJSON by a small
reader here that must consume the whole file, and the LightGBM text model is walked
tree by tree (every array of the length its ``num_leaves`` implies, every child and
feature index in range, ``end of trees`` and ``end of parameters`` present); it is then
handed to LightGBM without its ``tree_sizes`` index, so LightGBM parses it in one thread.

Fitted objects (the Python API, :func:`auditor.contract.adapters.adapter_for`) are told
apart by their class's module, without importing the library: the scikit-learn wrappers
(``XGBClassifier``/``XGBRegressor``, ``LGBMClassifier``/``LGBMRegressor``,
``CatBoostClassifier``/``CatBoostRegressor``) and the native boosters
(``xgboost.Booster``, ``lightgbm.Booster``, ``catboost.CatBoost``).

**Task and classes.** The task is read from the objective: XGBoost ``binary:logistic`` /
``binary:logitraw`` / ``binary:hinge``, ``multi:softprob`` / ``multi:softmax``, and any
other objective a regression (``reg:*``, ``count:*``, ``survival:*``, ``rank:*``);
LightGBM ``binary``, ``multiclass`` / ``multiclassova``, and any other a regression;
CatBoost ``Logloss`` / ``CrossEntropy``, ``MultiClass`` / ``MultiClassOneVsAll``, and any
other single-output loss a regression (multi-target and multi-label losses are refused).
``classes`` are the labels the model records: CatBoost's class names, a wrapper
object's ``classes_``. XGBoost and LightGBM files record only the codes ``0..k-1``, which
are then the classes, unless the loading option ``classes`` (``--model-classes``) names
the labels in output order (its length must be the number of outputs). ``predict``
gives labels (the class of highest probability, as the libraries' own ``predict``
does), ``predict_proba`` an (n, k) array in ``classes`` order, two columns for a binary
model. ``binary:hinge`` has no probabilities. Regression predictions are on the
response scale (LightGBM and XGBoost apply their objective's link; a CatBoost file with
a ``Poisson`` or ``Tweedie`` loss is given its ``Exponent`` prediction, as
``CatBoostRegressor`` gives when that loss is set on it).

**Categorical inputs.** Data read from CSV holds text where a model was trained on
pandas ``category`` columns, so the adapter recodes each categorical input the way the
model recorded it, whatever dtype it arrives in:

- LightGBM: to ``pd.Categorical`` with the categories of the booster's
  ``pandas_categorical`` (stored in the text model), matched to the categorical features
  in column order, as LightGBM matches them;
- XGBoost (3.1 and later record the training categories in the model, read with
  ``Booster.get_categories(export_to_arrow=True)``): to ``pd.Categorical`` with those
  categories. XGBoost would re-code a category column itself; recoding here as well
  also serves text columns, which XGBoost refuses. A model with categorical features
  that records no categories (saved by XGBoost before 3.1) takes category columns as
  given and refuses text columns, naming the column;
- CatBoost takes its categorical features as strings (or integers), so each becomes
  text; a whole number stored as a float (a column of integer codes with a missing value
  reads as float) becomes the integer's text (``3.0`` -> ``"3"``, which is how CatBoost
  reads an integer category), and a missing value becomes ``"nan"``. CatBoost refuses
  NaN in a categorical feature, so its user replaced it when training, and the file does
  not say with what; ``"nan"`` is what NumPy's ``astype(str)`` and pandas' before 3.0
  (on an object column) give, the usual way to do it. A model trained with another
  placeholder (``fillna("missing")``) meets missing values as a category it never saw,
  which CatBoost scores without error.

A category the model never saw becomes missing for XGBoost and LightGBM (the value is
not among the categories), and is scored by CatBoost as an unseen value; neither
raises. Numerical columns go through as they are.

**Refitting** (OF002, OF003, CP003). The scikit-learn wrapper objects can be refitted:
:meth:`unfitted_clone` gives ``sklearn.base.clone`` of the wrapper inside a small
estimator (:class:`RefitClassifier` / :class:`RefitRegressor`) whose ``fit``,
``predict`` and ``predict_proba`` apply the same categorical recoding (and the
``--model-classes`` labels, fitting on their codes), so the clone fits the raw frame the
checks hand it. A CatBoost clone is given the fitted model's categorical features
(``cat_features``) where they were passed to ``fit`` rather than set on the estimator,
and a LightGBM clone the categorical features that were not pandas categories. A booster
(from a file, or a native booster object) records no training setup and cannot be
refitted: those checks are skipped with the reason.

**SHAP.** :meth:`tree_model` gives what ``shap.TreeExplainer`` reads: the booster, the
conversion of raw rows into what its ``shap_values`` takes, the model's raw output on
the scale the explainer explains (for the additivity check) and its units. For all
three libraries shap delegates path-dependent TreeSHAP to the library's own exact
implementation (XGBoost ``pred_contribs``, LightGBM ``pred_contrib``, CatBoost
``ShapValues``), categorical splits included, so the explainer is exact; the
explainability family still checks additivity on probe rows.

The libraries are imported inside methods only; a missing one fails the load with the
extra to install (``pip install 'auditor[lightgbm]'``).
"""

from __future__ import annotations

import copy
import functools
import importlib
import os
import re
from pathlib import Path
from typing import Any, ClassVar

from auditor.contract.adapters import ModelAdapter
from auditor.util.errors import ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

MSG_LIBRARY_MISSING = "{path} is {what} but {library} is not installed: pip install 'auditor[{extra}]'"
MSG_NOT_A_MODEL = "cannot load {path} as {what}: {reason}"
MSG_CLASSES_COUNT = (
    "--model-classes names {given} class(es) ({shown}) but the model has {k} outputs ({why}); "
    "name one label per output, in output order"
)
MSG_CLASSES_REGRESSION = "--model-classes applies to classifiers; this {library} model is a regression (objective {objective!r})"
MSG_CLASSES_DUPLICATE = "--model-classes names a label twice: {shown}"
MSG_NOT_FITTED = "the {name} is not fitted; fit it before auditing it"
MSG_NO_XGB_CATEGORIES = (
    "column {column!r} is a categorical input of this XGBoost model, which records no categories (it was saved by "
    "XGBoost before 3.1); give the column as a pandas category with the training categories, or re-save the model "
    "with XGBoost 3.1 or later"
)
#: The text CatBoost is given for a missing value in a categorical feature (see the module docstring).
CATBOOST_MISSING = "nan"
#: How many bytes a claim reads to recognise a file's content.
SNIFF_BYTES = 256

_XGB_JSON = re.compile(rb'^\s*\{\s*"learner"\s*:')
_CATBOOST_JSON = re.compile(rb'^\s*\{\s*"(ctr_data|features_info)"\s*:')
_CATBOOST_MAGIC = b"CBM1"


# -- small helpers ---------------------------------------------------------------------
def _head(path: Path, n: int = SNIFF_BYTES) -> bytes:
    """The first ``n`` bytes of ``path``; empty when it cannot be read (a claim never raises)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def _import(library: str, extra: str, *, path: Any, what: str):
    try:
        return importlib.import_module(library)
    except ImportError:
        raise ModelLoadError(MSG_LIBRARY_MISSING.format(path=path, what=what, library=library, extra=extra)) from None


def _classes_in_mro(obj: Any, root: str) -> set[str]:
    """Names of the classes of ``obj``'s type (and its bases) defined in the package ``root``."""
    try:
        mro = type(obj).__mro__
    except Exception:  # noqa: BLE001 - an odd object: wraps nothing
        return set()
    return {cls.__name__ for cls in mro if str(getattr(cls, "__module__", "")).split(".")[0] == root}


def _plain(value: Any) -> Any:
    """A label or number as a plain Python value (numpy scalars print as np.int64(1) otherwise)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _threads() -> int:
    """Threads a library that ignores OpenMP's setting should use: ``OMP_NUM_THREADS`` when set, else all (-1)."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return -1
    return n if n > 0 else -1


def _auto_names(names: list[str] | None, pattern: str) -> bool:
    """Whether ``names`` are the library's placeholders for a model fitted on a bare array."""
    return bool(names) and all(n == pattern.format(i) for i, n in enumerate(names))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _two_columns(p):
    p = np.asarray(p, dtype=float).reshape(-1)
    return np.column_stack([1.0 - p, p])


def _shown(values: list[Any], limit: int = 8) -> str:
    text = ", ".join(repr(_plain(v)) for v in values[:limit])
    return text + (f", ... ({len(values)} in all)" if len(values) > limit else "")


# -- categorical recoding --------------------------------------------------------------
def _as_text(value: Any) -> str:
    """A categorical value as the text a model trained on text would have seen."""
    if isinstance(value, str):
        return value
    if value is None:
        return CATBOOST_MISSING
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        value = float(value)
        if value != value:  # NaN
            return CATBOOST_MISSING
        if value.is_integer():
            return str(int(value))
        return repr(value)
    try:
        if pd.isna(value):
            return CATBOOST_MISSING
    except (TypeError, ValueError):
        pass
    return str(value)


class InputCoding:
    """How raw input columns are recoded for a boosting model's categorical features.

    ``mode`` is ``"category"`` (XGBoost, LightGBM: ``pd.Categorical`` with the recorded
    categories; a column whose categories are None is taken as a pandas category as it
    is) or ``"text"`` (CatBoost: strings, a missing value as :data:`CATBOOST_MISSING`).
    Plain data, so that scikit-learn's ``clone`` copies it with a refit estimator.
    """

    def __init__(self, mode: str, categories: dict[str, list[Any] | None]):
        self.mode = mode
        self.categories = categories

    def __repr__(self) -> str:
        return f"InputCoding({self.mode!r}, {list(self.categories)})"

    @property
    def columns(self) -> list[str]:
        return list(self.categories)

    def apply(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with each categorical column recoded (a copy, or ``X`` itself when nothing changes)."""
        changed: dict[str, Any] = {}
        for col, cats in self.categories.items():
            if col not in X.columns:
                continue  # the library names a missing column itself
            series = X[col]
            new = self._text(series) if self.mode == "text" else self._category(col, series, cats)
            if new is not series:
                changed[col] = new
        if not changed:
            return X
        out = X.copy()
        for col, values in changed.items():
            out[col] = values
        return out

    @staticmethod
    def _category(col: str, series: pd.Series, cats: list[Any] | None) -> pd.Series:
        is_cat = isinstance(series.dtype, pd.CategoricalDtype)
        if cats is None:
            if is_cat:
                return series
            raise ValueError(MSG_NO_XGB_CATEGORIES.format(column=col))
        if is_cat and list(series.cat.categories) == list(cats):
            return series
        values = series.astype(object) if is_cat else series
        if cats and all(isinstance(c, str) for c in cats) and not pd.api.types.is_string_dtype(values):
            # text categories, numbers in the data (a code column read from CSV): compare as text
            values = pd.Series([v if v is None or (not isinstance(v, str) and pd.isna(v)) else _as_text(v)
                                for v in values.tolist()], index=series.index, dtype=object)
        # by code: a value that is not a category (unseen, or missing) gets code -1, a missing value
        codes = pd.Index(cats).get_indexer(pd.Index(values))
        return pd.Series(pd.Categorical.from_codes(codes, categories=cats), index=series.index, name=series.name)

    @staticmethod
    def _text(series: pd.Series) -> pd.Series:
        if pd.api.types.is_integer_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype) \
                and not series.isna().any():
            return series  # CatBoost reads integers as their text itself
        if pd.api.types.is_string_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype) \
                and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            values = series.to_numpy(dtype=object, na_value=CATBOOST_MISSING)
            return pd.Series(values, index=series.index, name=series.name, dtype=object)
        values = [_as_text(v) for v in series.astype(object).tolist()]
        return pd.Series(values, index=series.index, name=series.name, dtype=object)


# -- the refit estimators (scikit-learn is imported when one is first asked for) -------
def _fresh(estimator: Any) -> Any:
    """An unfitted copy of a scikit-learn wrapper with the same parameters (``sklearn.base.clone``).

    CatBoost 1.2.10's ``get_params`` returns copies of list parameters (``cat_features``),
    which ``clone``'s identity check refuses (catboost/catboost#3078), so a CatBoost
    estimator is rebuilt from its parameters instead.
    """
    if _classes_in_mro(estimator, "catboost"):
        return type(estimator)(**copy.deepcopy(estimator.get_params()))
    from sklearn.base import clone

    return clone(estimator)


@functools.cache
def _refit_classes() -> dict[str, type]:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    class _Refit(BaseEstimator):
        def __init__(self, estimator=None, coding=None, classes=None, fit_params=None):
            self.estimator = estimator
            self.coding = coding
            self.classes = classes
            self.fit_params = fit_params

        def __sklearn_clone__(self):
            return type(self)(estimator=_fresh(self.estimator), coding=copy.deepcopy(self.coding),
                              classes=copy.deepcopy(self.classes), fit_params=copy.deepcopy(self.fit_params))

        def _inputs(self, X):
            return self.coding.apply(X) if self.coding is not None else X

        def fit(self, X, y, **kwargs):
            target = y
            if self.classes is not None:
                target = _codes_of(y, self.classes)
            self.estimator_ = _fresh(self.estimator).fit(self._inputs(X), target, **{**(self.fit_params or {}), **kwargs})
            return self

        def predict(self, X):
            out = np.asarray(self.estimator_.predict(self._inputs(X)))
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if self.classes is not None:
                out = _labels(self.classes)[out.astype(int)]
            return out

        @property
        def n_features_in_(self):
            return self.estimator_.n_features_in_

    class RefitClassifier(ClassifierMixin, _Refit):
        """A boosting classifier's unfitted clone that fits and predicts on raw frames (see the module docstring)."""

        def predict_proba(self, X):
            return np.asarray(self.estimator_.predict_proba(self._inputs(X)), dtype=float)

        @property
        def classes_(self):
            if self.classes is not None:
                return _labels(self.classes)
            return self.estimator_.classes_

    class RefitRegressor(RegressorMixin, _Refit):
        """A boosting regressor's unfitted clone that fits and predicts on raw frames (see the module docstring)."""

    for cls in (RefitClassifier, RefitRegressor):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__  # pickled under this module (see __getattr__)
    return {"RefitClassifier": RefitClassifier, "RefitRegressor": RefitRegressor}


def __getattr__(name: str) -> Any:
    # The refit estimators are defined on first use (scikit-learn is not imported when the
    # adapters register) and found here by name, as pickle and clone look them up.
    if name in ("RefitClassifier", "RefitRegressor"):
        return _refit_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _labels(classes: list[Any]):
    """Class labels as an array to index by code: numbers as numbers, anything else as objects."""
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes)
    out = np.empty(len(classes), dtype=object)
    out[:] = list(classes)
    return out


def _codes_of(y, classes: list[Any]):
    """The code (position in ``classes``) of each label of ``y``, matched as values, then as text."""
    index = {c: i for i, c in enumerate(classes)}
    text = {str(c): i for i, c in enumerate(classes)}
    codes = []
    for v in np.asarray(y, dtype=object).tolist():
        v = _plain(v)
        if v in index:
            codes.append(index[v])
        elif str(v) in text:
            codes.append(text[str(v)])
        else:
            raise ValueError(f"label {v!r} is not one of the model's classes {list(classes)}")
    return np.asarray(codes, dtype=int)


# -- what shap's TreeExplainer reads ----------------------------------------------------
class TreeModel:
    """A boosting model as ``shap.TreeExplainer`` explains it (see :meth:`_BoostingAdapter.tree_model`).

    ``model`` is the object ``TreeExplainer(model)`` is given; ``inputs(X)`` turns raw rows
    (the audit's columns) into what its ``shap_values`` takes; ``raw_output(X)`` is the
    model's own output for raw rows on the scale the explainer explains, shape
    (rows, outputs), against which the attributions must add up; ``units`` names that
    scale; ``description`` says what is explained.
    """

    def __init__(self, *, model: Any, inputs, raw_output, units: str, description: str):
        self.model = model
        self.inputs = inputs
        self.raw_output = raw_output
        self.units = units
        self.description = description


# -- the adapters -------------------------------------------------------------------------
class _BoostingAdapter(ModelAdapter):
    """What the three adapters share: classes, recoding, prediction, refit, description."""

    options = frozenset({"classes"})
    library: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    #: Names of the scikit-learn wrapper classes (refittable) and of the native boosters.
    wrapper_names: ClassVar[frozenset[str]] = frozenset()
    booster_names: ClassVar[frozenset[str]] = frozenset()

    #: the native model that predicts (a Booster, a CatBoost model)
    booster: Any = None
    #: the scikit-learn wrapper object when one was given (None for a file or a booster)
    estimator: Any = None
    path: Path | None = None
    format: str = "object"
    objective: str | None = None
    task: str = "regression"
    n_outputs: int = 1
    classes_source: str | None = None
    coding: InputCoding | None = None
    n_trees: int | None = None

    def __init__(self, booster: Any, *, path: Path | None = None, fmt: str = "object", estimator: Any = None):
        self.booster = booster
        self.estimator = estimator
        self.path = path
        self.format = fmt

    # -- finding the adapter -------------------------------------------------------
    @classmethod
    def wraps(cls, obj: Any) -> bool:
        if isinstance(obj, type):
            return False
        names = _classes_in_mro(obj, cls.library)
        return bool(names & (cls.wrapper_names | cls.booster_names))

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> _BoostingAdapter:
        _import(cls.library, cls.extra, path=f"the {type(obj).__name__}", what=f"a {cls.library} model")
        adapter = cls._from_object(obj)
        adapter._finish(options.get("classes"))
        return adapter

    def _recorded_classes(self) -> list[Any] | None:
        """The class labels the model records, in output order (None when it records only codes)."""
        return None

    @classmethod
    def _from_object(cls, obj: Any) -> _BoostingAdapter:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- classes ------------------------------------------------------------------
    def _finish(self, given: list[Any] | None) -> None:
        """Set :attr:`classes` from the labels the model records (or its codes), or from ``given``."""
        recorded = self._recorded_classes()
        if self.task == "regression":
            if given is not None:
                raise ModelLoadError(MSG_CLASSES_REGRESSION.format(library=self.library, objective=self.objective))
            self.classes = None
            return
        k = self.n_outputs
        if given is not None:
            given = list(given)
            if len(given) != k:
                why = f"objective {self.objective!r}" + (f", classes {_shown(recorded)} recorded" if recorded else "")
                raise ModelLoadError(MSG_CLASSES_COUNT.format(given=len(given), shown=_shown(given), k=k, why=why))
            if len({str(c) for c in given}) != len(given):
                raise ModelLoadError(MSG_CLASSES_DUPLICATE.format(shown=_shown(given)))
            if recorded and [str(c) for c in recorded] != [str(c) for c in given]:
                # a model that records its labels is not relabelled: a different order would swap its outputs
                raise ModelLoadError(f"--model-classes {_shown(given)} does not match the class labels this {self.library} "
                                     f"model records ({_shown(recorded)}, in its output order); leave the option out")
            self.classes = given
            self.classes_source = "given (--model-classes)"
        elif recorded:
            self.classes = [_plain(c) for c in recorded]
            self.classes_source = "recorded in the model"
        else:
            self.classes = list(range(k))
            self.classes_source = f"the model's output codes 0..{k - 1} (the format records no labels; name them with --model-classes)"

    # -- inputs ---------------------------------------------------------------------
    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as the model takes it: its columns in the model's order (or by position, under the
        names the model recorded for them), categorical columns recoded."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X))
        if self.feature_names:
            absent = [c for c in self.feature_names if c not in X.columns]
            if absent:
                raise ValueError(f"the input lacks columns the model reads: {_shown(absent, 5)}")
            X = X[self.feature_names]
        else:
            if self.n_inputs is not None and X.shape[1] != self.n_inputs:
                raise ValueError(f"the model takes {self.n_inputs} inputs; got {X.shape[1]} columns")
            names = self._native_names()
            if names is not None:
                X = X.set_axis(names, axis=1)
        return self.coding.apply(X) if self.coding is not None else X

    def _native_names(self) -> list[str] | None:
        """The placeholder names the model gives its inputs when it was fitted on a bare array."""
        return None

    # -- outputs --------------------------------------------------------------------
    _has_proba = True

    @property
    def has_proba(self) -> bool:
        return self.task != "regression" and self._has_proba

    @property
    def can_refit(self) -> bool:
        return self._refit_template() is not None

    @property
    def refit_problem(self) -> str | None:
        if self.can_refit:
            return None
        label = {"xgboost": "XGBoost", "lightgbm": "LightGBM", "catboost": "CatBoost"}.get(self.library, self.library)
        where = f"this {label} model file ({self.format})" if self.format != "object" else f"a native {label} booster"
        return (f"{where} records the trees, not the training setup that made them; audit the fitted "
                "scikit-learn wrapper from Python (auditor.audit(model=...)) to refit it")

    def _refit_template(self) -> Any:
        """An estimator to clone for refitting: the fitted scikit-learn wrapper, or (LightGBM) one
        rebuilt from the training parameters its file records; None when there is neither."""
        if self.estimator is not None and _classes_in_mro(self.estimator, self.library) & self.wrapper_names:
            return self.estimator
        return None

    def _proba_of(self, frame: pd.DataFrame):  # pragma: no cover - abstract
        raise NotImplementedError

    def _codes_of_frame(self, frame: pd.DataFrame):
        """Predicted class codes for a classifier without probabilities."""
        raise NotImplementedError  # pragma: no cover

    def _values_of(self, frame: pd.DataFrame):  # pragma: no cover - abstract
        raise NotImplementedError

    def _labels_from(self, proba):
        return _labels(self.classes)[np.argmax(proba, axis=1)]

    def predict(self, X: pd.DataFrame):
        return self.predict_with_proba(X)[0] if self.has_proba else self._predict_only(self._frame(X))

    def _predict_only(self, frame: pd.DataFrame):
        if self.task == "regression":
            return np.asarray(self._values_of(frame), dtype=float).reshape(-1)
        return _labels(self.classes)[np.asarray(self._codes_of_frame(frame)).astype(int).reshape(-1)]

    def predict_proba(self, X: pd.DataFrame):
        if not self.has_proba:
            raise ValueError(f"this {self.library} model gives no class probabilities (objective {self.objective!r})")
        return self._proba_of(self._frame(X))

    def predict_with_proba(self, X: pd.DataFrame):
        proba = self.predict_proba(X)
        return self._labels_from(proba), proba

    def unfitted_clone(self) -> Any:
        if not self.can_refit:
            raise NotImplementedError(f"a {self.library} model loaded from a {self.format} cannot be refitted: "
                                      "it records no training setup (give the fitted scikit-learn wrapper instead)")
        inner, fit_params = self._clone_setup(_fresh(self._refit_template()))
        refit = _refit_classes()["RefitRegressor" if self.task == "regression" else "RefitClassifier"]
        relabel = self.classes if self.classes_source == "given (--model-classes)" else None
        coding = InputCoding(self.coding.mode, dict(self.coding.categories)) if self.coding is not None else None
        return refit(estimator=inner, coding=coding, classes=relabel, fit_params=fit_params or None)

    def _clone_setup(self, inner: Any) -> tuple[Any, dict[str, Any]]:
        """The clone, adjusted to fit as the original was, and any fit() arguments it needs."""
        return inner, {}

    # -- SHAP ---------------------------------------------------------------------------
    def tree_model(self) -> TreeModel | None:
        """What ``shap.TreeExplainer`` reads for this model (see :class:`TreeModel`); None when it cannot."""
        return None

    def _units(self) -> str:
        if self.task == "binary":
            return "log-odds"
        if self.task == "multiclass":
            return "raw class scores (before softmax)"
        return "prediction units"

    # -- report ---------------------------------------------------------------------------
    def _categorical_features(self) -> list[str]:
        return self.coding.columns if self.coding is not None else []

    def describe(self) -> dict[str, Any]:
        lib = importlib.import_module(self.library)
        obj = self.estimator if self.estimator is not None else self.booster
        return {
            "kind": self.kind,
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "format": self.format,
            "library": f"{self.library} {getattr(lib, '__version__', '?')}",
            "objective": self.objective,
            "task": self.task,
            "n_trees": self.n_trees,
            "n_features": len(self.feature_names) if self.feature_names else self.n_inputs,
            "categorical_features": self._categorical_features(),
            "classes": None if self.classes is None else [_plain(c) for c in self.classes],
            "classes_source": self.classes_source,
            "refittable": self.can_refit,
        }


# -- XGBoost ---------------------------------------------------------------------------------
