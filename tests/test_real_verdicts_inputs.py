"""Issue 15, defect 7: the model's real inputs (scikit-learn's bundled sets, offline).

A column a ColumnTransformer drops is given to the model but never read: ``ctx.model_inputs``
leaves it out while ``ctx.features`` (what the model is called with) keeps it. A model fitted
on a bare array is matched to the data by position: the report says so, a count that differs
stops the audit with one line, and scikit-learn's feature-name warnings stay off stderr.

Each test here failed before its fix: ``used_features`` / ``model_inputs`` did not exist, the
array model's mismatch made every model-reading check err (exit 1), and stderr carried
"UserWarning: X has feature names, but StandardScaler was fitted without feature names".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from auditor.cli import main
from auditor.contract.adapters import (
    FEATURE_NAME_WARNINGS,
    SklearnAdapter,
    feature_name_warnings_ignored,
)
from auditor.contract.inputs import MSG_POSITIONAL_COUNT, RunOptions, build_context

ROOT = Path(__file__).resolve().parents[1]


def _cancer() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda c: c.replace(" ", "_"))
    return frame.assign(y=data.target)


CANCER = _cancer()
COLUMNS = [c for c in CANCER.columns if c != "y"]
MEANS = [c for c in COLUMNS if c.startswith("mean_")]  # 10 columns
ERRORS = [c for c in COLUMNS if c.endswith("_error")]  # 10 columns
WORST = [c for c in COLUMNS if c.startswith("worst_")]  # 10 columns


def _files(tmp_path: Path) -> dict[str, str]:
    train, test = CANCER.iloc[:400], CANCER.iloc[400:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    return {"train": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv")}


def _dropping_pipeline() -> Pipeline:
    # Scales the means, passes two worst_ columns, drops the errors explicitly, and the
    # remaining worst_ columns by remainder='drop'.
    prep = ColumnTransformer([("scale", StandardScaler(), MEANS), ("keep", "passthrough", WORST[:2]),
                              ("errors", "drop", ERRORS)], remainder="drop")
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))])


def _array_model(n_columns: int):
    train = CANCER.iloc[:400]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
        train[COLUMNS[:n_columns]].to_numpy(), train["y"])


def test_columns_a_column_transformer_drops_are_not_model_inputs(tmp_path):
    files = _files(tmp_path)
    model = _dropping_pipeline().fit(CANCER.iloc[:400][COLUMNS], CANCER.iloc[:400]["y"])
    sio.dump(model, tmp_path / "model.skops")
    ctx, meta = build_context(RunOptions(train=files["train"], test=files["test"], target="y",
                                         model=str(tmp_path / "model.skops")))
    read = MEANS + WORST[:2]
    ignored = ERRORS + WORST[2:]
    assert ctx.model.used_features == read
    assert ctx.model_inputs == read
    assert ctx.features == COLUMNS  # the model is still called with every column it was fitted on
    assert ctx.X("test").shape[1] == 30 and len(ctx.predictions("test")) == len(CANCER) - 400
    assert meta["task"]["features"] == COLUMNS and meta["task"]["model_inputs"] == read
    note = next(n for n in ctx.notes if "reads only" in n)
    assert note.startswith("The model is given 30 columns but reads only 12: its preprocessing drops ")
    assert all(repr(c) in note for c in ignored) and not any(repr(c) in note for c in read)


def test_a_pipeline_that_reads_every_column_has_them_all_as_inputs(tmp_path):
    files = _files(tmp_path)
    prep = ColumnTransformer([("scale", StandardScaler(), MEANS)], remainder="passthrough")
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))])
    sio.dump(model.fit(CANCER.iloc[:400][COLUMNS], CANCER.iloc[:400]["y"]), tmp_path / "model.skops")
    ctx, meta = build_context(RunOptions(train=files["train"], test=files["test"], target="y",
                                         model=str(tmp_path / "model.skops")))
    assert ctx.model.used_features is None
    assert ctx.model_inputs == ctx.features == COLUMNS == meta["task"]["model_inputs"]
    assert not any("reads only" in n for n in ctx.notes)


WINE = load_wine(as_frame=True)
WINE_COLUMNS = list(WINE.data.columns)  # 13 columns


@pytest.mark.parametrize(("columns", "expected"), [
    pytest.param(WINE_COLUMNS[:3], [0, 1, 2], id="names"),
    pytest.param("ash", [2], id="one name"),
    pytest.param([0, 2, -1], [0, 2, 12], id="int positions"),
    pytest.param([i % 4 == 0 for i in range(13)], [0, 4, 8, 12], id="boolean mask"),
    pytest.param(slice("malic_acid", "alcalinity_of_ash"), [1, 2, 3], id="slice of names"),
    pytest.param(slice(5, 8), [5, 6, 7], id="slice of positions"),
    pytest.param(make_column_selector(pattern="^(?:alcohol|hue)$"), [0, 10], id="make_column_selector"),
    pytest.param(lambda X: ["proline"], [12], id="callable"),
])
def test_every_kind_of_column_selection_resolves_to_the_columns_read(columns, expected):
    # a single name selects a 1-D column, which the scaler takes only as a 2-D one
    scale = make_pipeline(FunctionTransformer(lambda s: np.asarray(s, dtype=float).reshape(-1, 1)), StandardScaler()) \
        if isinstance(columns, str) else StandardScaler()
    prep = ColumnTransformer([("scale", scale, columns)], remainder="drop")
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=5000))]).fit(WINE.data, WINE.target)
    adapter = SklearnAdapter(model)
    assert adapter.used_positions == expected
    assert adapter.used_features == [WINE_COLUMNS[i] for i in expected]


def test_nested_column_transformers_and_selectors_read_only_what_they_keep():
    inner = Pipeline([("pick", ColumnTransformer([("s", StandardScaler(), WINE_COLUMNS[:2])], remainder="drop")),
                      ("scale", StandardScaler())])
    outer = ColumnTransformer([("inner", inner, WINE_COLUMNS[:6]), ("hue", "passthrough", [10]),
                               ("rest", "drop", WINE_COLUMNS[11:])], remainder="drop")
    model = Pipeline([("prep", outer), ("clf", LogisticRegression(max_iter=5000))]).fit(WINE.data, WINE.target)
    assert SklearnAdapter(model).used_features == ["alcohol", "malic_acid", "hue"]
    selected = Pipeline([("k", SelectKBest(k=4)), ("clf", LogisticRegression(max_iter=5000))]).fit(WINE.data, WINE.target)
    kept = list(WINE.data.columns[selected[0].get_support()])
    assert SklearnAdapter(selected).used_features == kept and len(kept) == 4
    bare = LogisticRegression(max_iter=5000).fit(WINE.data, WINE.target)
    assert SklearnAdapter(bare).used_features is None and SklearnAdapter(bare).used_positions is None


def test_an_array_fitted_model_is_matched_by_position_and_the_report_says_so(tmp_path):
    files = _files(tmp_path)
    joblib.dump(_array_model(30), tmp_path / "array.joblib")
    ctx, _ = build_context(RunOptions(train=files["train"], test=files["test"], target="y",
                                      model=str(tmp_path / "array.joblib"), trust_model=True))
    assert ctx.model.feature_names is None and ctx.model.n_inputs == 30
    assert ctx.features == COLUMNS and ctx.model_inputs == COLUMNS
    note = ctx.notes[0]
    assert note.startswith("The model was fitted without column names: its 30 inputs are matched to the data's "
                           "columns by position, in the data's column order: 'mean_radius', 'mean_texture', ")
    assert note.endswith("... (30 in all).")


def test_an_array_fitted_model_reads_positions_a_column_transformer_keeps(tmp_path):
    files = _files(tmp_path)
    train = CANCER.iloc[:400]
    prep = ColumnTransformer([("scale", StandardScaler(), [0, 1, 2])], remainder="drop")
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))]).fit(train[COLUMNS].to_numpy(), train["y"])
    joblib.dump(model, tmp_path / "array.joblib")
    ctx, _ = build_context(RunOptions(train=files["train"], test=files["test"], target="y",
                                      model=str(tmp_path / "array.joblib"), trust_model=True))
    assert ctx.model.used_features is None  # no names of its own ...
    assert ctx.model_inputs == COLUMNS[:3]  # ... but the data's columns it is matched with


def test_an_array_fitted_model_with_another_count_of_columns_stops_the_audit(tmp_path, capsys):
    files = _files(tmp_path)
    joblib.dump(_array_model(10), tmp_path / "array10.joblib")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quiet", "--model", str(tmp_path / "array10.joblib"), "--trust-model",
              "--train", files["train"], "--test", files["test"], "--target", "y", "--format", "json",
              "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, out + err
    prefix = MSG_POSITIONAL_COUNT.split("{columns}")[0].format(name="", n_inputs=10, n_columns=30)
    assert err.startswith("auditor: error: " + prefix)
    assert "'mean_radius'" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "report.json").exists()


def test_feature_name_warnings_are_silenced_only_within_the_block():
    import warnings

    model = _array_model(30)
    frame = CANCER.iloc[400:410][COLUMNS]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with feature_name_warnings_ignored():
            model.predict(frame)
            warnings.warn("another warning", UserWarning, stacklevel=1)
        model.predict(frame)
    texts = [str(w.message) for w in caught]
    assert texts[0] == "another warning"
    assert len(texts) == 2 and texts[1].startswith("X has feature names, but StandardScaler was fitted without")
    assert len(FEATURE_NAME_WARNINGS) == 2


def test_cli_quiet_run_on_an_array_fitted_model_writes_no_feature_name_warning(tmp_path):
    # In a subprocess: pytest records warnings itself, so only a real run shows what reaches stderr.
    files = _files(tmp_path)
    joblib.dump(_array_model(30), tmp_path / "array.joblib")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-q", "--model", str(tmp_path / "array.joblib"), "--trust-model",
         "--train", files["train"], "--test", files["test"], "--target", "y", "--format", "json", "--jobs", "1",
         "--set", "select=[ST002, RB001]", "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "feature names" not in done.stderr, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("matched to the data's columns by position" in n for n in report["notes"])
    assert np.array_equal(sorted(c["id"] for c in report["checks"]), ["RB001", "ST002"])
