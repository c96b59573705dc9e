"""XGBoost models: ``.json`` (claimed only when its first key is ``"learner"``) and ``.ubj``
files, boosters and the scikit-learn wrappers. What the three boosting adapters share is in
``auditor.contract.adapters_boosting`` (its docstring says how files are checked before the
library reads them, how categories and class labels are handled, and what can be refitted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.contract.adapters_boosting import (
    _XGB_JSON,
    MSG_NOT_A_MODEL,
    MSG_NOT_FITTED,
    InputCoding,
    TreeModel,
    _BoostingAdapter,
    _classes_in_mro,
    _head,
    _import,
    _sigmoid,
    _softmax,
    _two_columns,
)
from auditor.util.errors import ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")


_UBJ_NUMBERS = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8", b"d": ">f4", b"D": ">f8"}


class _UBJReader:
    """A strict Universal Binary JSON reader for what XGBoost writes: it must end exactly at
    the file's end, so a truncated file is refused before XGBoost (which can crash on one) reads it."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"the file ends early: {n} more byte(s) expected at byte {self.pos} of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def marker(self) -> bytes:
        m = self.take(1)
        while m == b"N":
            m = self.take(1)
        return m

    def number(self, m: bytes) -> Any:
        dtype = np.dtype(_UBJ_NUMBERS[m])
        return np.frombuffer(self.take(dtype.itemsize), dtype)[0].item()

    def length(self, m: bytes | None = None) -> int:
        m = m or self.marker()
        if m not in _UBJ_NUMBERS or m in (b"d", b"D"):
            raise ValueError(f"a length must be an integer; got marker {m!r} at byte {self.pos - 1}")
        n = self.number(m)
        if n < 0:
            raise ValueError(f"negative length {n} at byte {self.pos}")
        return n

    def value(self, m: bytes | None = None) -> Any:
        m = m or self.marker()
        if m in _UBJ_NUMBERS:
            return self.number(m)
        if m in (b"S", b"H"):
            return self.take(self.length()).decode("utf-8")
        if m == b"C":
            return self.take(1).decode("latin-1")
        if m in (b"T", b"F", b"Z"):
            return {b"T": True, b"F": False, b"Z": None}[m]
        if m == b"[":
            return self._array()
        if m == b"{":
            return self._object()
        raise ValueError(f"unknown UBJSON marker {m!r} at byte {self.pos - 1}")

    def _header(self) -> tuple[bytes | None, int | None, bytes | None]:
        typ = None
        m = self.marker()
        if m == b"$":
            typ = self.take(1)
            m = self.marker()
            if m != b"#":
                raise ValueError(f"a typed container needs a count ('#') at byte {self.pos - 1}")
        if m == b"#":
            return typ, self.length(), None
        return None, None, m

    def _array(self) -> Any:
        typ, count, m = self._header()
        if count is not None:
            if typ in _UBJ_NUMBERS:
                dtype = np.dtype(_UBJ_NUMBERS[typ])
                return np.frombuffer(self.take(count * dtype.itemsize), dtype)
            return [self.value(typ) for _ in range(count)]
        out = []
        while m != b"]":
            out.append(self.value(m))
            m = self.marker()
        return out

    def _object(self) -> dict[str, Any]:
        typ, count, m = self._header()
        out: dict[str, Any] = {}
        if count is not None:
            for _ in range(count):
                key = self.take(self.length()).decode("utf-8")
                out[key] = self.value(typ)
            return out
        while m != b"}":
            key = self.take(self.length(m)).decode("utf-8")
            out[key] = self.value()
            m = self.marker()
        return out

    def read(self) -> Any:
        doc = self.value()
        if self.pos != len(self.data):
            raise ValueError(f"{len(self.data) - self.pos} byte(s) follow the end of the model")
        return doc


def _check_xgboost_doc(doc: Any) -> dict[str, Any]:
    """What the loaded document records, once its structure is checked (raises ValueError saying what is wrong)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("learner"), dict):
        raise ValueError("it has no 'learner' object: not an XGBoost model")
    learner = doc["learner"]
    objective = (learner.get("objective") or {}).get("name")
    if not isinstance(objective, str):
        raise ValueError("learner.objective.name is missing")
    param = learner.get("learner_model_param") or {}
    try:
        n_features = int(param["num_feature"])
        num_class = int(param.get("num_class", 0))
        num_target = int(param.get("num_target", 1))
    except (KeyError, TypeError, ValueError):
        raise ValueError("learner.learner_model_param lacks num_feature / num_class") from None
    booster = learner.get("gradient_booster") or {}
    name = booster.get("name")
    n_trees = None
    if name in ("gbtree", "dart"):
        model = (booster if name == "gbtree" else booster.get("gbtree") or {}).get("model") or {}
        trees = model.get("trees")
        try:
            declared = int(model["gbtree_model_param"]["num_trees"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("gradient_booster.model.gbtree_model_param.num_trees is missing") from None
        if not isinstance(trees, list) or len(trees) != declared:
            raise ValueError(f"it declares {declared} trees and holds {len(trees) if isinstance(trees, list) else 'no'} list of trees")
        for t, tree in enumerate(trees):
            try:
                nodes = int(tree["tree_param"]["num_nodes"])
                arrays = {k: np.asarray(tree[k]) for k in ("left_children", "right_children", "split_indices",
                                                           "split_conditions", "default_left")}
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"tree {t} lacks its node arrays") from None
            if nodes < 1 or any(len(a) != nodes for a in arrays.values()):
                raise ValueError(f"tree {t} declares {nodes} nodes; its arrays hold {sorted({len(a) for a in arrays.values()})}")
            for side in ("left_children", "right_children"):
                c = arrays[side].astype(np.int64)
                if np.any((c < -1) | (c >= nodes)):
                    raise ValueError(f"tree {t}: a child index is out of range")
            inner = arrays["left_children"].astype(np.int64) != -1
            split = arrays["split_indices"].astype(np.int64)
            if np.any(inner & ((split < 0) | (split >= n_features))):
                raise ValueError(f"tree {t}: a split feature index is out of range")
        n_trees = declared
    elif name != "gblinear":
        raise ValueError(f"unknown gradient booster {name!r}")
    names = learner.get("feature_names")
    types = learner.get("feature_types")
    return {"objective": objective, "n_features": n_features, "num_class": num_class, "num_target": num_target,
            "booster": name, "n_trees": n_trees,
            "feature_names": [str(n) for n in names] if names is not None and len(names) else None,
            "feature_types": [str(t) for t in types] if types is not None and len(types) else None,
            "attributes": dict(learner.get("attributes") or {})}


XGB_PROBA = ("binary:logistic", "binary:logitraw", "multi:softprob", "multi:softmax")
XGB_LOG_LINK = ("count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft")


class XGBoostAdapter(_BoostingAdapter):
    """XGBoost boosters and scikit-learn wrappers, from ``.json`` / ``.ubj`` files or objects."""

    content_hint = 'a .json XGBoost model starts with the key "learner"'
    kind = "xgboost"
    suffixes = (".json", ".ubj")
    library = "xgboost"
    extra = "xgboost"
    wrapper_names = frozenset({"XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor"})
    booster_names = frozenset({"Booster"})
    missing: float = float("nan")
    iteration_range: tuple[int, int] = (0, 0)

    @classmethod
    def claims(cls, path: Path) -> bool:
        name = path.name.lower()
        if name.endswith(".ubj"):
            return True
        return name.endswith(".json") and not name.endswith(".torch.json") and bool(_XGB_JSON.match(_head(path)))

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (), classes: list[Any] | None = None) -> XGBoostAdapter:
        what = "an XGBoost model" + (" (UBJSON)" if path.name.lower().endswith(".ubj") else " (JSON)")
        xgb = _import("xgboost", "xgboost", path=path, what=what)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=exc)) from None
        try:
            if path.name.lower().endswith(".ubj"):
                doc = _UBJReader(data).read()
            else:
                doc = json.loads(data.decode("utf-8"))
            info = _check_xgboost_doc(doc)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=exc)) from None
        booster = xgb.Booster()
        try:
            booster.load_model(str(path))
        except Exception as exc:
            reason = str(exc).split("Stack trace")[0].strip()
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=f"{type(exc).__name__}: {reason}")) from None
        adapter = cls(booster, info, path=path, fmt="ubj" if path.name.lower().endswith(".ubj") else "json")
        adapter._finish(classes)
        return adapter

    @classmethod
    def _from_object(cls, obj: Any) -> XGBoostAdapter:
        names = _classes_in_mro(obj, "xgboost")
        if names & cls.wrapper_names:
            try:
                booster = obj.get_booster()
            except Exception:  # noqa: BLE001 - xgboost raises NotFittedError here
                raise ModelLoadError(MSG_NOT_FITTED.format(name=type(obj).__name__)) from None
        else:
            booster = obj
        try:
            info = _check_xgboost_doc(json.loads(bytes(booster.save_raw(raw_format="json")).decode("utf-8")))
        except Exception as exc:  # noqa: BLE001 - an empty Booster(), say
            raise ModelLoadError(f"cannot read the {type(obj).__name__}: {type(exc).__name__}: {str(exc)[:300]}") from None
        adapter = cls(booster, info, estimator=obj if names & cls.wrapper_names else None)
        if adapter.estimator is not None:
            missing = getattr(obj, "missing", None)
            adapter.missing = float("nan") if missing is None else missing
            wrapper_names = getattr(obj, "feature_names_in_", None)
            if wrapper_names is not None and not adapter.feature_names:
                adapter.feature_names = [str(n) for n in wrapper_names]
        return adapter

    def __init__(self, booster: Any, info: dict[str, Any], *, path: Path | None = None, fmt: str = "object", estimator: Any = None):
        super().__init__(booster, path=path, fmt=fmt, estimator=estimator)
        self.info = info
        self.objective = info["objective"]
        self.n_trees = info["n_trees"]
        if info["num_target"] > 1:
            raise ModelLoadError(f"this XGBoost model has {info['num_target']} targets; auditor audits single-target models")
        if self.objective.startswith("binary:"):
            self.task, self.n_outputs = "binary", 2
        elif self.objective.startswith("multi:"):
            self.task, self.n_outputs = "multiclass", max(info["num_class"], 2)
        else:
            self.task, self.n_outputs = "regression", 1
        self._has_proba = self.objective in XGB_PROBA
        self.feature_names = info["feature_names"]
        self.n_inputs = info["n_features"]
        best = info["attributes"].get("best_iteration")
        # As XGBoost's scikit-learn wrapper predicts: up to the best iteration when early stopping recorded one.
        self.iteration_range = (0, int(best) + 1) if best is not None and info["booster"] != "gblinear" else (0, 0)
        self.coding = self._coding(info)

    def _coding(self, info: dict[str, Any]) -> InputCoding | None:
        types = info["feature_types"] or []
        cat_positions = [i for i, t in enumerate(types) if t == "c"]
        if not cat_positions:
            return None
        names = info["feature_names"] or [f"f{i}" for i in range(info["n_features"])]
        recorded: dict[str, list[Any]] = {}
        try:
            arrow = self.booster.get_categories(export_to_arrow=True).to_arrow()
            recorded = {str(name): array.to_pylist() for name, array in arrow if array is not None}
        except Exception:  # noqa: BLE001 - XGBoost before 3.1 records no categories
            recorded = {}
        return InputCoding("category", {names[i]: recorded.get(names[i]) for i in cat_positions})

    def _dmatrix(self, frame: pd.DataFrame):
        import xgboost as xgb

        data = frame if self.feature_names else frame.to_numpy(dtype=float, na_value=np.nan)
        return xgb.DMatrix(data, missing=self.missing, enable_categorical=self.coding is not None)

    def _margin(self, frame: pd.DataFrame):
        out = self.booster.predict(self._dmatrix(frame), output_margin=True, iteration_range=self.iteration_range)
        return np.asarray(out, dtype=float).reshape(len(frame), -1)

    def _proba_of(self, frame: pd.DataFrame):
        if self.objective == "multi:softprob":
            out = self.booster.predict(self._dmatrix(frame), iteration_range=self.iteration_range)
            return np.asarray(out, dtype=float).reshape(len(frame), -1)
        if self.objective == "binary:logistic":
            return _two_columns(self.booster.predict(self._dmatrix(frame), iteration_range=self.iteration_range))
        margin = self._margin(frame)
        return _softmax(margin) if self.task == "multiclass" else _two_columns(_sigmoid(margin[:, 0]))

    def _codes_of_frame(self, frame: pd.DataFrame):  # binary:hinge gives 0/1
        return np.rint(self.booster.predict(self._dmatrix(frame), iteration_range=self.iteration_range))

    def _values_of(self, frame: pd.DataFrame):
        return self.booster.predict(self._dmatrix(frame), iteration_range=self.iteration_range)

    def tree_model(self) -> TreeModel | None:
        if self.info["booster"] == "gblinear":
            return None
        model = self.booster
        if self.iteration_range != (0, 0):
            model = self.booster[self.iteration_range[0]:self.iteration_range[1]]
        return TreeModel(
            model=model,
            inputs=lambda X: self._dmatrix(self._frame(X)),
            raw_output=lambda X: self._margin(self._frame(X)),
            units=self._units(),
            description=f"XGBoost's own TreeSHAP (pred_contribs) over {self.n_trees} trees, categorical splits included",
        )

    def _units(self) -> str:
        if self.objective in XGB_LOG_LINK:
            return "log of the prediction (the model's raw score)"
        if self.objective == "reg:logistic":
            return "log-odds"
        return super()._units()

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["booster"] = self.info["booster"]
        out["trees_used"] = ("all" if self.iteration_range == (0, 0)
                             else f"the first {self.iteration_range[1]} rounds (best_iteration recorded by early stopping)")
        return out


# -- LightGBM ----------------------------------------------------------------------------------
