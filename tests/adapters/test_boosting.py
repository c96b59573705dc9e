"""XGBoost, LightGBM and CatBoost models (auditor/contract/adapters_boosting.py): reloaded from their
own files with the fitted object's outputs, text columns recoded as the model's categories, classes,
refitting, damaged files refused, shap's TreeExplainer chosen and additive, and whole audits."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.contract.adapters import ModelAdapter, adapter_classes, adapter_for, load_model
from auditor.contract.context import AuditContext
from auditor.util.errors import ModelLoadError
from tests.conftest import make_binary_frame

LIBS = ("xgboost", "lightgbm", "catboost")
FEATURES = ["x1", "x2", "colour", "noise"]
#: (library, file suffix) of every format each adapter reads
FORMATS = [("xgboost", ".json"), ("xgboost", ".ubj"), ("lightgbm", ".txt"), ("lightgbm", ".lgb"),
           ("catboost", ".cbm"), ("catboost", ".json")]
ADAPTER = {"xgboost": "XGBoostAdapter", "lightgbm": "LightGBMAdapter", "catboost": "CatBoostAdapter"}
TIGHT = {"rtol": 1e-7, "atol": 1e-9}


def frame(n: int, seed: int) -> pd.DataFrame:
    """The clean binary task (make_binary_frame) with a colour that matters: red and blue move the log-odds by
    +1.5 and -1.5, so every model splits on the categorical column and a wrong coding shows."""
    out = make_binary_frame(n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    logit = 1.5 * out["x1"] - out["x2"] + np.where(out["colour"] == "red", 1.5, 0) - np.where(out["colour"] == "blue", 1.5, 0)
    out["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return out


@functools.cache
def data() -> dict[str, pd.DataFrame]:
    train, test = frame(240, 1), frame(120, 2)
    as_category = lambda f: f.assign(colour=pd.Categorical(f["colour"], categories=["blue", "green", "red"]))
    return {"train": train, "test": test, "Xtrain": as_category(train[FEATURES]), "Xtest": as_category(test[FEATURES])}


def read_back(df: pd.DataFrame, tmp_path: Path, name: str = "rows.csv") -> pd.DataFrame:
    """``df`` as the audit reads it from a CSV file (the colour column as text)."""
    df.to_csv(tmp_path / name, index=False)
    return pd.read_csv(tmp_path / name)


def fit(lib: str, X: pd.DataFrame, y, *, task: str = "classification", **extra):
    """A small model of ``lib`` on ``X`` (colour a pandas category; CatBoost is given it as text), single-threaded."""
    module = pytest.importorskip(lib)
    if lib == "xgboost":
        cls = module.XGBRegressor if task == "regression" else module.XGBClassifier
        return cls(n_estimators=25, max_depth=3, learning_rate=0.3, enable_categorical=True, tree_method="hist",
                   max_cat_to_onehot=1, n_jobs=1, random_state=0, **extra).fit(X, y)
    if lib == "lightgbm":
        cls = module.LGBMRegressor if task == "regression" else module.LGBMClassifier
        return cls(n_estimators=25, num_leaves=8, min_child_samples=10, min_data_per_group=10, cat_smooth=1,
                   n_jobs=1, verbose=-1, random_state=0, **extra).fit(X, y)
    cls = module.CatBoostRegressor if task == "regression" else module.CatBoostClassifier
    X = X.assign(colour=X["colour"].astype(object))
    return cls(iterations=25, depth=3, thread_count=1, verbose=0, random_seed=0, allow_writing_files=False,
               **extra).fit(X, y, cat_features=["colour"])


@functools.cache
def binary_model(lib: str):
    return fit(lib, data()["Xtrain"], data()["train"]["y"])


def save(lib: str, model, path: Path, X: pd.DataFrame | None = None, y=None) -> Path:
    """``model`` in its library's own format, by ``path``'s suffix."""
    if lib == "xgboost":
        model.save_model(path)
    elif lib == "lightgbm":
        model.booster_.save_model(path)
    elif path.suffix == ".json":
        from catboost import Pool

        pool = Pool(X.assign(colour=X["colour"].astype(object)), y, cat_features=["colour"])
        model.save_model(str(path), format="json", pool=pool)
    else:
        model.save_model(str(path))
    return path


def saved_binary(lib: str, suffix: str, tmp_path: Path) -> Path:
    return save(lib, binary_model(lib), tmp_path / f"model{suffix}", data()["Xtrain"], data()["train"]["y"])


def object_proba(model, X: pd.DataFrame):
    if type(model).__module__.startswith("catboost"):
        X = X.assign(colour=X["colour"].astype(object))
    return np.asarray(model.predict_proba(X), dtype=float)


def object_predict(model, X: pd.DataFrame):
    if type(model).__module__.startswith("catboost"):
        X = X.assign(colour=X["colour"].astype(object))
    return np.asarray(model.predict(X)).reshape(len(X), -1)[:, 0] if np.ndim(model.predict(X)) > 1 else np.asarray(model.predict(X))


# -- files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lib,suffix", FORMATS)
def test_a_saved_model_reloads_with_the_fitted_objects_outputs(lib, suffix, tmp_path):
    path = saved_binary(lib, suffix, tmp_path)
    adapter = load_model(path)
    model, X = binary_model(lib), data()["Xtest"]
    assert type(adapter).__name__ == ADAPTER[lib]
    np.testing.assert_allclose(adapter.predict_proba(X), object_proba(model, X), **TIGHT)
    np.testing.assert_array_equal(adapter.predict(X), object_predict(model, X))
    assert adapter.feature_names == FEATURES and adapter.n_inputs == 4
    # a LightGBM text model records its training parameters; the XGBoost and CatBoost files do not
    assert adapter.has_proba and adapter.can_refit == (lib == "lightgbm")
    assert adapter.classes == [0, 1]  # CatBoost records the labels; the others their codes, here the same
    about = adapter.describe()
    assert about["kind"] == lib and about["library"].startswith(f"{lib} ") and about["n_trees"] == 25
    assert about["categorical_features"] == ["colour"] and about["task"] == "binary"
    json.dumps(about)  # plain data for report.json
    if lib != "lightgbm":
        with pytest.raises(NotImplementedError, match="cannot be refitted"):
            adapter.unfitted_clone()


def test_a_lightgbm_text_model_refits_as_the_wrapper_that_saved_it(tmp_path):
    """Refitted from the parameters its file records, the model trained on the same rows is the
    model the wrapper gives when cloned and refitted: OF002/OF003 read the same from the file."""
    from sklearn.base import clone

    pytest.importorskip("lightgbm")
    model, X = binary_model("lightgbm"), data()["Xtest"]
    from_file = load_model(saved_binary("lightgbm", ".txt", tmp_path))
    train_text = read_back(data()["train"][FEATURES], tmp_path, "train.csv")
    y = data()["train"]["y"]
    ours = clone(from_file.unfitted_clone()).fit(train_text, y)
    theirs = clone(adapter_for(model).unfitted_clone()).fit(train_text, y)
    text = read_back(X, tmp_path)
    np.testing.assert_allclose(ours.predict_proba(text), theirs.predict_proba(text), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(text), object_proba(model, X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("lib,suffix", FORMATS)
def test_text_columns_from_a_csv_score_as_the_category_columns(lib, suffix, tmp_path):
    adapter = load_model(saved_binary(lib, suffix, tmp_path))
    X = data()["Xtest"]
    from_csv = read_back(X, tmp_path)
    assert not isinstance(from_csv["colour"].dtype, pd.CategoricalDtype)
    expected = adapter.predict_proba(X)
    np.testing.assert_allclose(adapter.predict_proba(from_csv), expected, **TIGHT)
    # categories in another order (a parquet file written elsewhere) mean the same colours
    reordered = X.assign(colour=X["colour"].cat.reorder_categories(["red", "green", "blue"]))
    np.testing.assert_allclose(adapter.predict_proba(reordered), expected, **TIGHT)
    # the colour matters, so a coding that lost it would show
    recoloured = X.assign(colour=pd.Categorical(["red"] * len(X), categories=["blue", "green", "red"]))
    assert np.abs(adapter.predict_proba(recoloured) - expected).max() > 0.05


@pytest.mark.parametrize("lib", LIBS)
def test_unseen_and_missing_categories_are_scored(lib, tmp_path):
    adapter = load_model(saved_binary(lib, {"xgboost": ".ubj", "lightgbm": ".txt", "catboost": ".cbm"}[lib], tmp_path))
    X = read_back(data()["Xtest"].head(6), tmp_path)
    X.loc[0:1, "colour"] = "purple"
    X.loc[2:3, "colour"] = np.nan
    proba = adapter.predict_proba(X)
    assert proba.shape == (6, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    if lib != "catboost":  # an unseen category is a missing value to XGBoost and LightGBM
        np.testing.assert_allclose(proba[0:2], adapter.predict_proba(X.assign(colour=np.nan).head(2)), **TIGHT)


def test_catboost_reads_a_missing_category_as_the_text_nan(tmp_path):
    pytest.importorskip("catboost")
    train = data()["train"].copy()
    train.loc[train.index % 5 == 0, "colour"] = np.nan
    train.loc[train["colour"].isna(), "y"] = 1  # the placeholder carries signal, so reading it otherwise shows
    X = train[FEATURES].assign(colour=train["colour"].fillna("nan"))  # CatBoost refuses NaN in a categorical feature
    model = fit("catboost", X, train["y"])
    adapter = load_model(save("catboost", model, tmp_path / "m.cbm"))
    test = read_back(data()["test"][FEATURES].head(10).assign(colour=np.nan), tmp_path)
    np.testing.assert_allclose(adapter.predict_proba(test), model.predict_proba(test.assign(colour="nan")), **TIGHT)
    unseen = adapter.predict_proba(test.assign(colour="never seen"))
    assert np.abs(adapter.predict_proba(test) - unseen).max() > 0.01
    assert adapter.describe()["categorical_missing_as"] == "nan"


# -- objects ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", LIBS)
def test_a_fitted_wrapper_is_audited_and_refitted_on_raw_frames(lib, tmp_path):
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    model, X = binary_model(lib), data()["Xtest"]
    adapter = adapter_for(model)
    assert type(adapter).__name__ == ADAPTER[lib] and adapter.can_refit
    assert adapter.classes == [0, 1] and adapter.feature_names == FEATURES
    text = read_back(X, tmp_path)
    np.testing.assert_allclose(adapter.predict_proba(text), object_proba(model, X), **TIGHT)
    np.testing.assert_array_equal(adapter.predict(text), object_predict(model, X))
    refit = adapter.unfitted_clone()
    assert is_classifier(refit)
    train_text = read_back(data()["train"][FEATURES], tmp_path, "train.csv")
    y = data()["train"]["y"]
    refitted = clone(refit).fit(train_text, y)
    # refitted on the raw text columns, the same learner on the same rows is the same model
    np.testing.assert_allclose(refitted.predict_proba(text), object_proba(model, X), rtol=1e-6, atol=1e-7)
    assert list(refitted.classes_) == [0, 1]
    oof = cross_val_predict(refit, train_text, y, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=1)
    assert set(np.unique(oof)) <= {0, 1} and len(oof) == len(y)


@pytest.mark.parametrize("lib", LIBS)
def test_a_native_booster_is_audited_and_refitted_only_from_recorded_parameters(lib, tmp_path):
    model, X = binary_model(lib), data()["Xtest"]
    if lib == "xgboost":
        booster = model.get_booster()
    elif lib == "lightgbm":
        booster = model.booster_
    else:
        import catboost

        booster = catboost.CatBoost()
        booster.load_model(str(saved_binary(lib, ".cbm", tmp_path)))
    adapter = adapter_for(booster)
    assert type(adapter).__name__ == ADAPTER[lib] and adapter.can_refit == (lib == "lightgbm")
    np.testing.assert_allclose(adapter.predict_proba(read_back(X, tmp_path)), object_proba(model, X), **TIGHT)


def test_wraps_decides_by_module_and_leaves_other_objects_alone():
    from sklearn.linear_model import LogisticRegression

    registered = {cls.__name__: cls for cls in adapter_classes()}
    for name in ADAPTER.values():
        assert not registered[name].wraps(LogisticRegression()) and not registered[name].wraps(object())
    assert type(adapter_for(LogisticRegression().fit([[0], [1]], [0, 1]))).__name__ == "SklearnAdapter"
    order = [cls.__name__ for cls in adapter_classes()]
    assert all(order.index(name) < order.index("SklearnAdapter") for name in ADAPTER.values())


def test_an_unfitted_wrapper_is_refused_with_the_reason():
    xgb = pytest.importorskip("xgboost")
    with pytest.raises(ModelLoadError, match="the XGBClassifier is not fitted"):
        adapter_for(xgb.XGBClassifier())


# -- tasks and classes ------------------------------------------------------------------------
@pytest.mark.parametrize("lib,suffix", [("lightgbm", ".txt"), ("xgboost", ".json"), ("catboost", ".cbm")])
def test_multiclass_models_give_one_probability_column_per_class(lib, suffix, tmp_path):
    train = data()["train"]
    codes = np.digitize(train["x1"] - train["x2"], [-0.7, 0.7])  # 0, 1, 2
    y = np.array(["low", "mid", "high"])[codes] if lib == "catboost" else codes
    model = fit(lib, data()["Xtrain"], y)
    adapter = load_model(save(lib, model, tmp_path / f"multi{suffix}"))
    X = read_back(data()["Xtest"], tmp_path)
    proba = adapter.predict_proba(X)
    assert adapter.task == "multiclass" and proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba, object_proba(model, data()["Xtest"]), **TIGHT)
    expected_classes = ["high", "low", "mid"] if lib == "catboost" else [0, 1, 2]
    assert adapter.classes == expected_classes
    np.testing.assert_array_equal(adapter.predict(X), np.asarray(expected_classes, dtype=object)[proba.argmax(axis=1)])
    np.testing.assert_array_equal(adapter.predict(X), object_predict(model, data()["Xtest"]))


@pytest.mark.parametrize("lib,suffix", [("lightgbm", ".txt"), ("xgboost", ".ubj"), ("catboost", ".cbm")])
def test_regression_models_predict_values_and_refuse_classes(lib, suffix, tmp_path):
    train = data()["train"]
    target = 2 * train["x1"] - train["x2"] + np.where(train["colour"] == "red", 1.0, 0.0)
    model = fit(lib, data()["Xtrain"], target, task="regression")
    path = save(lib, model, tmp_path / f"reg{suffix}")
    adapter = load_model(path)
    X = read_back(data()["Xtest"], tmp_path)
    assert adapter.task == "regression" and adapter.classes is None and not adapter.has_proba
    np.testing.assert_allclose(adapter.predict(X), object_predict(model, data()["Xtest"]), rtol=1e-6, atol=1e-6)
    with pytest.raises(ModelLoadError, match="--model-classes applies to classifiers"):
        load_model(path, classes=["a", "b"])


def test_model_classes_name_the_codes_a_file_records(tmp_path):
    path = saved_binary("lightgbm", ".txt", tmp_path)
    adapter = load_model(path, classes=["no", "yes"])
    X = read_back(data()["Xtest"], tmp_path)
    assert adapter.classes == ["no", "yes"] and "--model-classes" in adapter.describe()["classes_source"]
    expected = np.where(binary_model("lightgbm").predict(data()["Xtest"]) == 1, "yes", "no")
    np.testing.assert_array_equal(adapter.predict(X), expected)
    np.testing.assert_allclose(adapter.predict_proba(X), load_model(path).predict_proba(X), **TIGHT)
    assert "codes 0..1" in load_model(path).describe()["classes_source"]
    with pytest.raises(ModelLoadError, match=r"names 3 class\(es\) \('a', 'b', 'c'\) but the model has 2 outputs"):
        load_model(path, classes=["a", "b", "c"])
    with pytest.raises(ModelLoadError, match="names a label twice"):
        load_model(path, classes=["a", "a"])


def test_model_classes_relabel_a_wrapper_and_its_refit_clone(tmp_path):
    model = binary_model("xgboost")
    adapter = adapter_for(model, classes=["no", "yes"])
    X = read_back(data()["Xtest"], tmp_path)
    np.testing.assert_array_equal(adapter.predict(X), np.where(model.predict(data()["Xtest"]) == 1, "yes", "no"))
    y_text = np.where(data()["train"]["y"] == 1, "yes", "no")
    refit = adapter.unfitted_clone().fit(read_back(data()["train"][FEATURES], tmp_path, "train.csv"), y_text)
    assert list(refit.classes_) == ["no", "yes"]
    np.testing.assert_array_equal(refit.predict(X), adapter.predict(X))


# -- files that are not what they say ---------------------------------------------------------------
def test_a_json_file_that_is_no_boosting_model_is_not_claimed(tmp_path):
    other = tmp_path / "settings.json"
    other.write_text(json.dumps({"format": "torchscript", "learner": {"looks": "like xgboost further down"}}))
    refused = r"'settings.json' is not a model file auditor recognises: its suffix is read by catboost, xgboost, but"
    with pytest.raises(ModelLoadError, match=refused + r" its content is none of them .*\"learner\""):
        load_model(other)
    registered = {cls.__name__: cls for cls in adapter_classes()}
    spec = tmp_path / "net.torch.json"
    spec.write_text('{"learner": 1}')
    assert not registered["XGBoostAdapter"].claims(spec) and not registered["CatBoostAdapter"].claims(spec)


@pytest.mark.parametrize("lib,suffix", [("xgboost", ".json"), ("catboost", ".json")])
def test_each_json_format_is_claimed_by_its_own_adapter(lib, suffix, tmp_path):
    path = saved_binary(lib, suffix, tmp_path)
    claimed = [cls.__name__ for cls in adapter_classes() if cls.claims(path)]
    assert claimed == [ADAPTER[lib]]


def test_a_text_file_that_is_no_lightgbm_model_is_not_claimed(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("trees are nice\n")
    with pytest.raises(ModelLoadError, match=r"'notes.txt' is not a model file auditor recognises: its suffix is read by lightgbm.*first line is \"tree\""):
        load_model(notes)


@pytest.mark.parametrize("lib,suffix,keep", [
    ("xgboost", ".json", 0.5), ("xgboost", ".ubj", 0.1), ("xgboost", ".ubj", 0.9),
    ("lightgbm", ".txt", 0.1), ("lightgbm", ".txt", 0.5), ("lightgbm", ".txt", 0.97),
    ("catboost", ".cbm", 0.5), ("catboost", ".json", 0.9),
])
def test_a_truncated_file_is_refused_with_the_reason(lib, suffix, keep, tmp_path):
    # LightGBM's and XGBoost's own readers can crash the process on these, and CatBoost's JSON
    # reader loads a truncated file as a smaller model: the adapter must refuse them first.
    path = saved_binary(lib, suffix, tmp_path)
    content = path.read_bytes()
    path.write_bytes(content[:int(len(content) * keep)])
    with pytest.raises(ModelLoadError, match=r"cannot load .*model\S* as an? \w+ "):
        load_model(path)


@pytest.mark.parametrize("name,content,message", [
    ("model.lgb", b"not a model\n", "its first line is not 'tree'"),
    ("model.cbm", b"PK\x03\x04 a zip file", "CatBoost's 'CBM1' header"),
    ("model.ubj", b"{L\x00\x00\x00\x00\x00\x00\x00\x07learnerZ}", "learner"),
    ("model.json", b'{"learner": {"objective": {"name": "binary:logistic"}}}', "learner_model_param"),
])
def test_a_damaged_file_is_refused_with_the_reason(name, content, message, tmp_path):
    lib = {"lgb": "lightgbm", "cbm": "catboost", "ubj": "xgboost", "json": "xgboost"}[name.split(".")[-1]]
    pytest.importorskip(lib)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        load_model(path)


def test_a_lightgbm_tree_with_an_index_out_of_range_is_refused(tmp_path):
    path = saved_binary("lightgbm", ".txt", tmp_path)
    text = path.read_text()
    start = text.index("\nleft_child=") + len("\nleft_child=")
    path.write_text(text[:start] + "99 " + text[start:].split(" ", 1)[1])
    with pytest.raises(ModelLoadError, match="tree 0: a left_child index is out of range"):
        load_model(path)


PROBE = """
import json, sys
from pathlib import Path
from auditor.contract.adapters import adapter_classes
found = adapter_classes()
claims = {cls.__name__: [bool(cls.claims(Path(p))) for p in sys.argv[1:]] for cls in found}
print(json.dumps({"claims": claims, "imported": sorted(m for m in ("xgboost", "lightgbm", "catboost") if m in sys.modules)}))
"""


def test_registering_and_claiming_import_no_model_library(tmp_path):
    files = [saved_binary(lib, suffix, tmp_path) for lib, suffix in FORMATS[:1] + FORMATS[2:3] + FORMATS[4:5]]
    odd = [tmp_path / "missing.json", tmp_path, tmp_path / "empty.ubj"]
    (tmp_path / "empty.ubj").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, files + odd)], capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["imported"] == []
    assert out["claims"]["XGBoostAdapter"] == [True, False, False, False, False, True]
    assert out["claims"]["LightGBMAdapter"] == [False, True, False, False, False, False]
    assert out["claims"]["CatBoostAdapter"] == [False, False, True, False, False, False]


@pytest.mark.parametrize("lib,suffix", [("lightgbm", ".txt"), ("xgboost", ".json"), ("catboost", ".cbm")])
def test_a_missing_library_names_the_extra_to_install(lib, suffix, tmp_path, monkeypatch):
    path = saved_binary(lib, suffix, tmp_path)
    monkeypatch.setitem(sys.modules, lib, None)  # import lib now raises ImportError
    with pytest.raises(ModelLoadError, match=rf"{lib} is not installed: pip install 'auditor\[{lib}\]'"):
        load_model(path)


# -- SHAP ---------------------------------------------------------------------------------------
def context(adapter: ModelAdapter, tmp_path: Path, *, positive_label=1, classes=(0, 1), task="binary") -> AuditContext:
    train = read_back(data()["train"], tmp_path, "train.csv")
    test = read_back(data()["test"], tmp_path, "test.csv")
    return AuditContext(datasets={"train": train, "test": test}, target="y", task=task, features=FEATURES,
                        model=adapter, positive_label=positive_label if task == "binary" else None,
                        classes=list(classes), seed=0)


@pytest.mark.parametrize("lib,suffix", FORMATS[:1] + FORMATS[2:3] + FORMATS[4:5] + [("xgboost", "object")])
def test_tree_explainer_explains_each_library_exactly(lib, suffix, tmp_path):
    from auditor.checks import explainability as ex

    adapter = adapter_for(binary_model(lib)) if suffix == "object" else load_model(saved_binary(lib, suffix, tmp_path))
    ctx = context(adapter, tmp_path)
    explainer = ex.attributions(ctx, background=20)
    assert explainer.method == "tree", explainer.description
    assert "TreeExplainer" in explainer.description and explainer.units == "log-odds"
    X = ctx.X("test").head(15)
    values = explainer.explain(X, np.arange(len(X)))
    assert values.shape == (15, 4, 1)
    total = values[:, :, 0].sum(axis=1) + float(np.ravel(explainer.tree.expected_value)[0])
    np.testing.assert_allclose(total, explainer.hook.raw_output(X)[:, 0], rtol=1e-5, atol=1e-5)
    assert np.abs(values[:, FEATURES.index("colour"), 0]).mean() > 0.05  # the categorical splits are explained
    # the first class as the positive one: the same attributions, negated
    flipped = ex.attributions(context(adapter, tmp_path, positive_label=0), background=20).explain(X, np.arange(len(X)))
    np.testing.assert_allclose(flipped, -values)


def test_tree_explainer_gives_one_output_per_class_for_a_multiclass_model(tmp_path):
    from auditor.checks import explainability as ex

    train = data()["train"]
    model = fit("lightgbm", data()["Xtrain"], np.digitize(train["x1"] - train["x2"], [-0.7, 0.7]))
    adapter = load_model(save("lightgbm", model, tmp_path / "multi.txt"))
    explainer = ex.attributions(context(adapter, tmp_path, classes=(0, 1, 2), task="multiclass"), background=20)
    X = read_back(data()["Xtest"].head(10), tmp_path)
    values = explainer.explain(X, np.arange(10))
    assert explainer.method == "tree" and values.shape == (10, 4, 3)
    total = values.sum(axis=1) + np.ravel(explainer.tree.expected_value)[None, :]
    np.testing.assert_allclose(total, explainer.hook.raw_output(X), rtol=1e-5, atol=1e-5)


def test_attributions_that_do_not_add_up_send_the_model_down_the_permutation_path(tmp_path, monkeypatch):
    from auditor.checks import explainability as ex

    adapter = load_model(saved_binary("lightgbm", ".txt", tmp_path))
    real = type(adapter).tree_model

    def skewed(self):
        tree = real(self)
        honest = tree.raw_output
        tree.raw_output = lambda X: honest(X) + 0.01
        return tree

    monkeypatch.setattr(type(adapter), "tree_model", skewed)
    explainer = ex.attributions(context(adapter, tmp_path), background=20)
    assert explainer.method == "permutation"
    assert "did not add up to the model's output on probe rows" in explainer.description


# -- whole audits --------------------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str]:
    from auditor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out + err


def audit_files(tmp_path: Path, model_path: Path, *, labels=None) -> list[str]:
    train, test = data()["train"], data()["test"]
    if labels is not None:
        train, test = (f.assign(y=np.asarray(labels, dtype=object)[f["y"]]) for f in (train, test))
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    return ["run", "--quiet", "--model", str(model_path), "--train", str(tmp_path / "train.csv"),
            "--test", str(tmp_path / "test.csv"), "--target", "y", "--out", str(tmp_path / "out"), "--format", "json"]


def assert_audited_with_tree_shap(code: int, output: str, report: dict) -> None:
    assert code in (0, 1), output
    errors = [(c["id"], c["summary"]) for c in report["checks"] if c["status"] == "error"]
    assert errors == []
    ex1 = next(c for c in report["checks"] if c["id"] == "EX001")
    assert ex1["status"] in ("pass", "warn", "fail"), ex1["summary"]
    assert "SHAP (tree explainer" in ex1["summary"]
    assert "shap TreeExplainer" in ex1["evidence"][0]["note"]


@pytest.mark.parametrize("lib,suffix", [("xgboost", ".ubj"), ("lightgbm", ".txt"), ("catboost", ".cbm")])
def test_a_whole_audit_through_the_cli(lib, suffix, tmp_path, capsys):
    argv = audit_files(tmp_path, saved_binary(lib, suffix, tmp_path))
    code, output = run_cli(capsys, *argv)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert_audited_with_tree_shap(code, output, report)
    assert report["inputs"]["model"]["kind"] == lib
    of2 = next(c for c in report["checks"] if c["id"] == "OF002")
    if lib == "lightgbm":  # refitted from the training parameters the text model records
        assert of2["status"] != "skipped" and "cross-validation" in of2["summary"]
    else:
        assert of2["status"] == "skipped" and "cannot be cloned and refitted" in of2["summary"]


def test_the_cli_names_a_lightgbm_files_classes_with_model_classes(tmp_path, capsys):
    argv = audit_files(tmp_path, saved_binary("lightgbm", ".txt", tmp_path), labels=["no", "yes"])
    code, output = run_cli(capsys, *argv)
    assert code == 2 and "the target holds labels the model does not know" in output
    assert "its file stores only class codes: name the labels in the order of its outputs with --model-classes" in output
    assert "--model-classes no,yes)" in output
    code, output = run_cli(capsys, *argv, "--model-classes", "no,yes", "--positive-label", "yes")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert_audited_with_tree_shap(code, output, report)
    assert report["inputs"]["model"]["classes"] == ["no", "yes"]


@pytest.mark.parametrize("lib", LIBS)
def test_a_whole_audit_of_a_wrapper_object_refits_it(lib, tmp_path):
    import auditor

    train = read_back(data()["train"], tmp_path, "train.csv")
    test = read_back(data()["test"], tmp_path, "test.csv")
    report = auditor.audit(model=binary_model(lib), train=train, test=test, target="y", progress=False,
                           policy={"checks": {"OF003": {"enabled": True}}}).to_dict()
    assert_audited_with_tree_shap(report["gate"]["exit_code"], "", report)
    for check in ("OF002", "OF003"):
        result = next(c for c in report["checks"] if c["id"] == check)
        assert result["status"] in ("pass", "warn", "fail", "inconclusive"), result["summary"]


def test_a_file_that_cannot_be_refitted_says_why_in_the_skip(tmp_path, capsys):
    argv = audit_files(tmp_path, saved_binary("xgboost", ".json", tmp_path)) + ["--set", "select=[OF002]"]
    code, output = run_cli(capsys, *argv)
    assert code in (0, 1), output
    (of2,) = json.loads((tmp_path / "out" / "report.json").read_text())["checks"]
    assert of2["status"] == "skipped"
    assert of2["summary"] == ("Skipped: the model cannot be cloned and refitted: this XGBoost model file (json) records the "
                              "trees, not the training setup that made them; audit the fitted scikit-learn wrapper from "
                              "Python (auditor.audit(model=...)) to refit it.")


def test_lightgbm_names_with_spaces_are_matched_to_their_columns(tmp_path):
    """LightGBM stores 'mean radius' as 'mean_radius'; the audit matches the two (file and object) and says so."""
    lgb = pytest.importorskip("lightgbm")
    from sklearn.datasets import load_breast_cancer

    import auditor

    frame = load_breast_cancer(as_frame=True).frame
    train, test = frame.iloc[:400].reset_index(drop=True), frame.iloc[400:].reset_index(drop=True)
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1, random_state=0).fit(train.drop(columns="target"), train["target"])
    model.booster_.save_model(str(tmp_path / "bc.txt"))
    kwargs = {"train": train, "test": test, "target": "target", "policy": {"select": ["ST001", "DQ001"]}, "progress": False}
    from_object = auditor.audit(model=model, **kwargs)
    from_file = auditor.audit(model=str(tmp_path / "bc.txt"), model_classes="0,1", **kwargs)
    assert from_object.exit_code in (0, 1) and from_file.exit_code in (0, 1)
    assert from_file.results["ST001"]["metrics"] == from_object.results["ST001"]["metrics"]
    assert "'mean_radius' is column 'mean radius'" in " ".join(from_file.to_dict()["notes"])
    assert from_file.to_dict()["task"]["classes"] == [0, 1]
