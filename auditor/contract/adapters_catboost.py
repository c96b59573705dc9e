"""CatBoost models: ``.cbm`` and the JSON export, and the scikit-learn style objects. What the
three boosting adapters share is in ``auditor.contract.adapters_boosting``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.contract.adapters_boosting import (
    _CATBOOST_JSON,
    _CATBOOST_MAGIC,
    CATBOOST_MISSING,
    MSG_NOT_A_MODEL,
    MSG_NOT_FITTED,
    InputCoding,
    TreeModel,
    _auto_names,
    _BoostingAdapter,
    _classes_in_mro,
    _head,
    _import,
    _plain,
    _threads,
)
from auditor.util.errors import ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")


CB_BINARY = ("Logloss", "CrossEntropy")
CB_MULTICLASS = ("MultiClass", "MultiClassOneVsAll")
CB_REFUSED = ("MultiRMSE", "MultiLogloss", "MultiCrossEntropy", "RMSEWithUncertainty", "MultiQuantile")
CB_EXPONENT = ("Poisson", "Tweedie")


class CatBoostAdapter(_BoostingAdapter):
    """CatBoost models, from ``.cbm`` files, CatBoost's JSON export, or objects."""

    content_hint = 'a CatBoost JSON export starts with the key "ctr_data" or "features_info"'
    kind = "catboost"
    suffixes = (".cbm", ".json")
    library = "catboost"
    extra = "catboost"
    wrapper_names = frozenset({"CatBoostClassifier", "CatBoostRegressor"})
    booster_names = frozenset({"CatBoost"})

    @classmethod
    def claims(cls, path: Path) -> bool:
        name = path.name.lower()
        if name.endswith(".cbm"):
            return True
        return name.endswith(".json") and not name.endswith(".torch.json") and bool(_CATBOOST_JSON.match(_head(path)))

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (), classes: list[Any] | None = None) -> CatBoostAdapter:
        is_json = path.name.lower().endswith(".json")
        what = "a CatBoost model" + (" (JSON export)" if is_json else " (.cbm)")
        cb = _import("catboost", "catboost", path=path, what=what)
        trees_in_file = None
        try:
            if is_json:
                # CatBoost's JSON reader takes a truncated file as a smaller model: Python's reader is strict
                doc = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(doc, dict) or not ("oblivious_trees" in doc or "trees" in doc) or "features_info" not in doc:
                    raise ValueError("it has no features_info and oblivious_trees / trees: not a CatBoost JSON export")
                trees_in_file = len(doc.get("oblivious_trees") or doc.get("trees") or [])
            elif _head(path, len(_CATBOOST_MAGIC)) != _CATBOOST_MAGIC:
                raise ValueError("it does not start with CatBoost's 'CBM1' header")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=exc)) from None
        model = cb.CatBoost()
        try:
            model.load_model(str(path), format="json" if is_json else "cbm")
        except Exception as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=f"{type(exc).__name__}: {exc}")) from None
        if trees_in_file is not None and model.tree_count_ != trees_in_file:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(
                path=path, what=what, reason=f"CatBoost read {model.tree_count_} of the {trees_in_file} trees in the file"))
        adapter = cls(model, path=path, fmt="JSON export" if is_json else "cbm")
        adapter._finish(classes)
        return adapter

    @classmethod
    def _from_object(cls, obj: Any) -> CatBoostAdapter:
        try:
            fitted = obj.is_fitted()
        except Exception:  # noqa: BLE001
            fitted = False
        if not fitted:
            raise ModelLoadError(MSG_NOT_FITTED.format(name=type(obj).__name__))
        wrapper = bool(_classes_in_mro(obj, "catboost") & cls.wrapper_names)
        return cls(obj, estimator=obj if wrapper else None)

    def __init__(self, model: Any, *, path: Path | None = None, fmt: str = "object", estimator: Any = None):
        super().__init__(model, path=path, fmt=fmt, estimator=estimator)
        try:
            loss = model.get_all_params().get("loss_function")
        except Exception:  # noqa: BLE001 - an old model without its parameters
            loss = None
        self.objective = str(loss) if loss is not None else None
        name = (self.objective or "").split(":")[0]
        if name in CB_REFUSED:
            raise ModelLoadError(f"this CatBoost model's loss {name} gives several outputs per row; auditor audits "
                                 "single-output regressors and classifiers")
        recorded = self._recorded_classes()
        if name in CB_BINARY:
            self.task, self.n_outputs = "binary", 2
        elif name in CB_MULTICLASS:
            self.task, self.n_outputs = "multiclass", len(recorded) if recorded else int(model.get_all_params().get("classes_count") or 0)
        else:
            self.task, self.n_outputs = "regression", 1
        if self.task == "multiclass" and self.n_outputs < 2:
            raise ModelLoadError(f"this CatBoost model's loss is {name} but it records no number of classes")
        self.n_trees = int(model.tree_count_)
        names = [str(n) for n in (model.feature_names_ or [])]
        self.n_inputs = len(names) or None
        self._model_names = names
        self.feature_names = None if _auto_names(names, "{}") else names
        cat = [names[i] for i in model.get_cat_feature_indices()]
        self.coding = InputCoding("text", {c: None for c in cat}) if cat else None

    def _recorded_classes(self) -> list[Any] | None:
        try:  # CatBoost records the class names (none for a regression)
            classes = list(self.booster.classes_ if self.estimator is None else self.estimator.classes_)
        except Exception:  # noqa: BLE001
            return None
        return [_plain(c) for c in classes] or None

    def _native_names(self) -> list[str] | None:
        return self._model_names or None

    def _predict(self, frame: pd.DataFrame, prediction_type: str):
        return np.asarray(self.booster.predict(frame, prediction_type=prediction_type, thread_count=_threads()), dtype=float)

    def _proba_of(self, frame: pd.DataFrame):
        return self._predict(frame, "Probability").reshape(len(frame), -1)

    def _values_of(self, frame: pd.DataFrame):
        if self.estimator is not None:
            return np.asarray(self.estimator.predict(frame, thread_count=_threads()), dtype=float)
        name = (self.objective or "").split(":")[0]
        return self._predict(frame, "Exponent" if name in CB_EXPONENT else "RawFormulaVal")

    def _margin(self, frame: pd.DataFrame):
        return self._predict(frame, "RawFormulaVal").reshape(len(frame), -1)

    def _clone_setup(self, inner: Any) -> tuple[Any, dict[str, Any]]:
        if self.coding is not None and inner.get_params().get("cat_features") is None:
            inner.set_params(cat_features=list(self.coding.columns))
        return inner, {}

    def tree_model(self) -> TreeModel | None:
        return TreeModel(
            model=self.booster,
            inputs=self._frame,
            raw_output=lambda X: self._margin(self._frame(X)),
            units=self._units(),
            description=f"CatBoost's own SHAP values over {self.n_trees} trees, categorical features included",
        )

    def _units(self) -> str:
        if (self.objective or "").split(":")[0] in CB_EXPONENT:
            return "log of the prediction (the model's raw score)"
        return super()._units()

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.coding is not None:
            out["categorical_missing_as"] = CATBOOST_MISSING
        return out
