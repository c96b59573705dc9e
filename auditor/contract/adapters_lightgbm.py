"""LightGBM models: the text model (``.txt`` when its first line is ``tree``; ``.lgb``,
``.lgbm``), boosters and the scikit-learn wrappers. What the three boosting adapters share is
in ``auditor.contract.adapters_boosting``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from auditor.contract.adapters_boosting import (
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
    _two_columns,
)
from auditor.util.errors import ModelLoadError
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")


_LGB_LEAF_ARRAYS = ("leaf_value", "leaf_weight", "leaf_count")
_LGB_NODE_ARRAYS = ("split_feature", "split_gain", "threshold", "decision_type", "left_child", "right_child",
                    "internal_value", "internal_weight", "internal_count")
_LGB_NODE_REQUIRED = ("split_feature", "threshold", "decision_type", "left_child", "right_child")


def _numbers(text: str, what: str):
    try:
        return np.array(text.split(" "), dtype=float) if text.strip() else np.zeros(0)
    except ValueError:
        raise ValueError(f"{what} holds a value that is not a number") from None


def _check_lightgbm_text(text: str) -> dict[str, Any]:
    """The header of a LightGBM text model, once every tree is checked (raises ValueError saying what is wrong).

    LightGBM's parser trusts the file: a truncated or damaged one can crash the process, so
    the structure it relies on is checked here first.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "tree":
        raise ValueError("its first line is not 'tree': not a LightGBM text model")
    header: dict[str, str] = {}
    i = 1
    while i < len(lines) and not lines[i].startswith("Tree=") and lines[i] != "end of trees":
        if "=" in lines[i]:
            key, value = lines[i].split("=", 1)
            header[key] = value
        i += 1
    for key in ("version", "num_class", "num_tree_per_iteration", "max_feature_idx", "feature_names", "feature_infos"):
        if key not in header:
            raise ValueError(f"its header lacks {key}=")
    try:
        n_features = int(header["max_feature_idx"]) + 1
        per_iteration = int(header["num_tree_per_iteration"])
        num_class = int(header["num_class"])
    except ValueError:
        raise ValueError("its header's counts are not integers") from None
    names = header["feature_names"].split(" ")
    infos = header["feature_infos"].split(" ")
    if len(names) != n_features or len(infos) != n_features:
        raise ValueError(f"its header declares {n_features} features, {len(names)} names and {len(infos)} feature infos")
    try:
        end = lines.index("end of trees", i)
    except ValueError:
        raise ValueError("it has no 'end of trees' line: the file is truncated") from None
    blocks: list[dict[str, str]] = []
    for line in lines[i:end]:
        if line.startswith("Tree="):
            blocks.append({})
        elif "=" in line and blocks:
            key, value = line.split("=", 1)
            blocks[-1][key] = value
    if not blocks or per_iteration < 1 or len(blocks) % per_iteration:
        raise ValueError(f"it holds {len(blocks)} trees, not a multiple of num_tree_per_iteration={per_iteration}")
    sizes = header.get("tree_sizes")
    if sizes is not None and len(sizes.split(" ")) != len(blocks):
        raise ValueError(f"its tree_sizes lists {len(sizes.split(' '))} trees; the file holds {len(blocks)}")
    for t, block in enumerate(blocks):
        try:
            leaves, n_cat = int(block["num_leaves"]), int(block["num_cat"])
        except (KeyError, ValueError):
            raise ValueError(f"tree {t} lacks num_leaves / num_cat") from None
        if leaves < 1 or n_cat < 0:
            raise ValueError(f"tree {t}: num_leaves={leaves}, num_cat={n_cat}")
        if "leaf_value" not in block:
            raise ValueError(f"tree {t} has no leaf_value: the file is damaged or truncated")
        arrays = {k: _numbers(block[k], f"tree {t} {k}") for k in (*_LGB_LEAF_ARRAYS, *_LGB_NODE_ARRAYS) if k in block}
        for key in _LGB_LEAF_ARRAYS:
            if key in arrays and len(arrays[key]) != leaves:
                raise ValueError(f"tree {t}: {key} holds {len(arrays[key])} values for {leaves} leaves")
        if leaves > 1:
            for key in _LGB_NODE_REQUIRED:
                if key not in arrays:
                    raise ValueError(f"tree {t} lacks {key}")
            for key in _LGB_NODE_ARRAYS:
                if key in arrays and len(arrays[key]) != leaves - 1:
                    raise ValueError(f"tree {t}: {key} holds {len(arrays[key])} values for {leaves - 1} splits")
            for key in ("left_child", "right_child"):
                c = arrays[key]
                if np.any((c >= leaves - 1) | (c < -leaves)) or np.any(c != np.round(c)):
                    raise ValueError(f"tree {t}: a {key} index is out of range")
            split = arrays["split_feature"]
            if np.any((split < 0) | (split >= n_features)):
                raise ValueError(f"tree {t}: a split_feature index is out of range")
            categorical = (arrays["decision_type"].astype(np.int64) & 1) == 1
            if np.any(categorical):
                if n_cat == 0:
                    raise ValueError(f"tree {t} has categorical splits and num_cat=0")
                thresholds = arrays["threshold"][categorical]
                if np.any((thresholds < 0) | (thresholds >= n_cat)):
                    raise ValueError(f"tree {t}: a categorical split's index is out of range")
        if n_cat > 0:
            bounds = _numbers(block.get("cat_boundaries", ""), f"tree {t} cat_boundaries")
            cats = _numbers(block.get("cat_threshold", ""), f"tree {t} cat_threshold")
            if len(bounds) != n_cat + 1 or bounds[0] != 0 or np.any(np.diff(bounds) < 0) or len(cats) != bounds[-1]:
                raise ValueError(f"tree {t}: its categorical split tables do not match num_cat={n_cat}")
        if block.get("is_linear", "0").strip() == "1":
            for key in ("leaf_const", "num_features", "leaf_features", "leaf_coeff"):
                if key not in block:
                    raise ValueError(f"tree {t} is linear but lacks {key}")
    rest = lines[end + 1:]
    if "parameters:" in rest and "end of parameters" not in rest:
        raise ValueError("its parameters section has no end: the file is truncated")
    pandas_categorical = None
    for line in rest:
        if line.startswith("pandas_categorical:"):
            try:
                pandas_categorical = json.loads(line[len("pandas_categorical:"):])
            except ValueError:
                raise ValueError("its pandas_categorical line is not valid JSON") from None
    objective = header.get("objective")
    return {"objective": objective, "num_class": num_class, "per_iteration": per_iteration, "n_trees": len(blocks),
            "feature_names": names, "feature_infos": infos, "pandas_categorical": pandas_categorical}


def _lightgbm_header(text: str) -> dict[str, Any]:
    """The header of a model string LightGBM wrote itself (an in-memory booster): read, not checked."""
    head = text.split("\nTree=", 1)[0].split("\n")
    header = dict(line.split("=", 1) for line in head if "=" in line)
    return {"objective": header.get("objective"), "num_class": int(header.get("num_class", 1)),
            "per_iteration": int(header.get("num_tree_per_iteration", 1)), "n_trees": text.count("\nTree="),
            "feature_names": header.get("feature_names", "").split(" "),
            "feature_infos": header.get("feature_infos", "").split(" "), "pandas_categorical": None}


LGB_MULTICLASS = ("multiclass", "multiclassova", "softmax", "multiclass_ova", "ova", "ovr")
LGB_LOG_LINK = ("poisson", "gamma", "tweedie")


class LightGBMAdapter(_BoostingAdapter):
    """LightGBM boosters and scikit-learn wrappers, from text models or objects."""

    content_hint = "a .txt LightGBM text model's first line is \"tree\""
    kind = "lightgbm"
    suffixes = (".txt", ".lgb", ".lgbm")
    library = "lightgbm"
    extra = "lightgbm"
    wrapper_names = frozenset({"LGBMClassifier", "LGBMRegressor"})
    booster_names = frozenset({"Booster"})

    @classmethod
    def claims(cls, path: Path) -> bool:
        name = path.name.lower()
        if name.endswith((".lgb", ".lgbm")):
            return True
        return name.endswith(".txt") and _head(path, 8).replace(b"\r", b"").split(b"\n")[0] == b"tree"

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (), classes: list[Any] | None = None) -> LightGBMAdapter:
        what = "a LightGBM text model"
        lgb = _import("lightgbm", "lightgbm", path=path, what=what)
        try:
            text = path.read_text(encoding="utf-8")
            info = _check_lightgbm_text(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=exc)) from None
        # Without its tree_sizes index LightGBM parses the trees one after another, in one thread.
        text = re.sub(r"(?m)^tree_sizes=.*\n", "", text)
        try:
            booster = lgb.Booster(model_str=text)
        except Exception as exc:
            raise ModelLoadError(MSG_NOT_A_MODEL.format(path=path, what=what, reason=f"{type(exc).__name__}: {exc}")) from None
        adapter = cls(booster, info, path=path, fmt="text model")
        adapter._finish(classes)
        return adapter

    @classmethod
    def _from_object(cls, obj: Any) -> LightGBMAdapter:
        names = _classes_in_mro(obj, "lightgbm")
        wrapper = bool(names & cls.wrapper_names)
        if wrapper:
            booster = getattr(obj, "_Booster", None)
            if booster is None:
                raise ModelLoadError(MSG_NOT_FITTED.format(name=type(obj).__name__))
        else:
            booster = obj
        info = _lightgbm_header(booster.model_to_string())
        info["pandas_categorical"] = getattr(booster, "pandas_categorical", None)
        adapter = cls(booster, info, estimator=obj if wrapper else None)
        if wrapper:
            given = getattr(obj, "feature_names_in_", None)  # the frame's own names (the booster's lose whitespace)
            if given is not None and len(given) == adapter.n_inputs:
                adapter.feature_names = [str(n) for n in given]
                if adapter.coding is not None:
                    rename = dict(zip(info["feature_names"], adapter.feature_names))
                    adapter.coding = InputCoding("category", {rename.get(c, c): v for c, v in adapter.coding.categories.items()})
        return adapter

    def _recorded_classes(self) -> list[Any] | None:
        classes = getattr(self.estimator, "classes_", None) if self.estimator is not None else None
        return [_plain(c) for c in classes] if classes is not None and len(classes) else None

    def __init__(self, booster: Any, info: dict[str, Any], *, path: Path | None = None, fmt: str = "object", estimator: Any = None):
        super().__init__(booster, path=path, fmt=fmt, estimator=estimator)
        self.info = info
        objective = info["objective"] or "custom"
        self.objective = objective
        name = objective.split(" ")[0]
        if name == "binary":
            self.task, self.n_outputs = "binary", 2
        elif name in LGB_MULTICLASS:
            self.task, self.n_outputs = "multiclass", max(info["num_class"], 2)
        else:
            self.task, self.n_outputs = "regression", 1
        self.n_trees = info["n_trees"]
        names = [str(n) for n in info["feature_names"]]
        self.n_inputs = len(names)
        self._booster_names = names
        self.feature_names = None if _auto_names(names, "Column_{}") else names
        self.coding = self._coding(info)

    def _native_names(self) -> list[str] | None:
        return self._booster_names

    def _coding(self, info: dict[str, Any]) -> InputCoding | None:
        infos = info["feature_infos"]
        # a numerical feature's info is its range "[min:max]" (or "none"); a categorical one's its codes "0:1:2"
        positions = [i for i, text in enumerate(infos) if text and not text.startswith("[") and text != "none"]
        pandas_cats = info.get("pandas_categorical") or []
        self._int_categorical = []
        if not positions:
            return None
        names = self._booster_names
        if not pandas_cats:
            # categorical_feature given as integer columns: LightGBM reads the codes as they are
            self._int_categorical = [names[i] for i in positions]
            return None
        if len(pandas_cats) != len(positions):
            raise ModelLoadError(
                f"this LightGBM model has {len(positions)} categorical features but records the categories of "
                f"{len(pandas_cats)} pandas category columns; auditor cannot tell which columns they belong to"
            )
        return InputCoding("category", {names[i]: list(cats) for i, cats in zip(positions, pandas_cats)})

    def _predict(self, frame: pd.DataFrame, **kwargs):
        return np.asarray(self.booster.predict(frame, **kwargs), dtype=float)

    #: Recorded parameters that describe the machine or the file rather than the training.
    _NOT_TRAINING = frozenset({"categorical_feature", "num_machines", "local_listen_port", "machine_list_filename",
                               "machines", "time_out", "gpu_platform_id", "gpu_device_id", "num_gpu", "header",
                               "input_model", "output_model", "saved_feature_importance_type", "snapshot_freq",
                               "output_result", "convert_model", "convert_model_language"})

    def _refit_template(self) -> Any:
        """A text model records every training parameter (its ``parameters:`` block, with the seeds
        LightGBM derived), so a booster read from a file is refitted as a wrapper built from them:
        the same training setup as the wrapper that saved it."""
        template = super()._refit_template()
        if template is not None or self.estimator is not None:
            return template
        params = dict(getattr(self.booster, "params", None) or {})
        if not params.get("objective") or self.objective.split(" ")[0] == "custom":
            return None  # a custom objective is code the file does not hold
        import lightgbm as lgb

        kept = {k: v for k, v in params.items() if k not in self._NOT_TRAINING and v is not None}
        trees_per_round = self.n_outputs if self.task == "multiclass" else 1
        kept["n_estimators"] = int(kept.pop("num_iterations", self.n_trees // trees_per_round))
        if self.task != "multiclass":
            kept.pop("num_class", None)
        kept["verbose"] = -1
        wrapper = lgb.LGBMRegressor if self.task == "regression" else lgb.LGBMClassifier
        return wrapper(**kept)

    def align_columns(self, columns: list[str]) -> dict[str, str]:
        """LightGBM stores a column name's whitespace as ``_`` ('mean radius' becomes 'mean_radius'):
        an input with no column of its own name takes the one column that rewrites to it."""
        if not self.feature_names:
            return {}
        present = set(columns)
        matched: dict[str, str] = {}
        for name in self.feature_names:
            if name in present:
                continue
            candidates = [c for c in columns if c != name and re.sub(r"\s", "_", c) == name]
            if len(candidates) == 1:
                matched[name] = candidates[0]
        if matched:
            self.feature_names = [matched.get(n, n) for n in self.feature_names]
            if self.coding is not None:
                self.coding = InputCoding(self.coding.mode, {matched.get(c, c): v for c, v in self.coding.categories.items()})
        return matched

    def own_importances(self) -> tuple[Any, str] | None:
        """Split counts per input, as the scikit-learn wrapper's ``feature_importances_`` gives them."""
        if self.estimator is not None:
            return None
        return np.asarray(self.booster.feature_importance(importance_type="split"), dtype=float), "feature_importances_"

    def _proba_of(self, frame: pd.DataFrame):
        out = self._predict(frame)
        return _two_columns(out) if self.task == "binary" else out.reshape(len(frame), -1)

    def _values_of(self, frame: pd.DataFrame):
        return self._predict(frame)

    def _margin(self, frame: pd.DataFrame):
        return self._predict(frame, raw_score=True).reshape(len(frame), -1)

    def _clone_setup(self, inner: Any) -> tuple[Any, dict[str, Any]]:
        if self._int_categorical:
            return inner, {"categorical_feature": list(self._int_categorical)}
        return inner, {}

    def _categorical_features(self) -> list[str]:
        return super()._categorical_features() + list(self._int_categorical)

    def tree_model(self) -> TreeModel | None:
        return TreeModel(
            model=self.booster,
            inputs=self._frame,
            raw_output=lambda X: self._margin(self._frame(X)),
            units=self._units(),
            description=f"LightGBM's own TreeSHAP (pred_contrib) over {self.n_trees} trees, categorical splits included",
        )

    def _units(self) -> str:
        name = (self.objective or "").split(" ")[0]
        if name in LGB_LOG_LINK:
            return "log of the prediction (the model's raw score)"
        if name in ("cross_entropy", "xentropy"):
            return "log-odds"
        return super()._units()


# -- CatBoost -------------------------------------------------------------------------------------
