"""Planted-defect tests for the overfitting checks (OF001-OF005)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import overfitting as of
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.check import definition_problems
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run

FEATURES = ["x1", "x2", "colour", "noise"]


def noisy_tree_ctx(noise: float = 0.2, seed: int = 0) -> AuditContext:
    """An unpruned decision tree fitted on labels of which `noise` were flipped."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(4000, seed=seed)
    rng = np.random.default_rng(seed)
    flip = rng.uniform(size=len(frame)) < noise
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    train, test = frame.iloc[:2500].reset_index(drop=True), frame.iloc[2500:].reset_index(drop=True)
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder="passthrough")
    tree = Pipeline([("prep", prep), ("tree", DecisionTreeClassifier(random_state=0))]).fit(train[FEATURES], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(tree), positive_label=1, classes=[0, 1], seed=0)


def clean_ctx(n_train: int = 3000, n_test: int = 3000) -> AuditContext:
    train, test = make_binary_frame(n_train, seed=21), make_binary_frame(n_test, seed=22)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(fit_pipeline(train)), positive_label=1, classes=[0, 1], seed=0)


def regression_ctx(*, overfit: bool) -> AuditContext:
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = 2 * X["a"] - X["b"] + rng.normal(scale=1.0, size=n)
    frame = X.assign(y=y)
    train, test = frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)
    model = DecisionTreeRegressor(random_state=0) if overfit else Ridge(alpha=1.0)
    model.fit(train[["a", "b"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="regression", features=["a", "b"],
                        model=SklearnAdapter(model), seed=0)


@pytest.mark.parametrize("cls", [of.TrainTestGap, of.CrossValidationStability, of.LearningCurve, of.Memorisation, of.TrainingHistory])
def test_definitions(cls):
    assert definition_problems(cls) == []


# -- OF001 ---------------------------------------------------------------------------
def test_gap_unpruned_tree_on_noisy_labels_fails():
    findings, status = run(of.TrainTestGap, noisy_tree_ctx())
    gap = findings.metrics["gap"]
    assert findings.metrics["train_balanced_accuracy"].value == pytest.approx(1.0)
    # 20% flipped labels cap the test score near 0.8 of the signal: the gap is large and certain.
    assert gap.value > 0.25 and gap.ci_low > 0.10
    assert status == "fail"


def test_gap_clean_regularised_model_passes():
    findings, status = run(of.TrainTestGap, clean_ctx())
    assert abs(findings.metrics["gap"].value) < 0.03
    assert status == "pass"


def test_gap_regression():
    assert run(of.TrainTestGap, regression_ctx(overfit=True))[1] == "fail"
    assert run(of.TrainTestGap, regression_ctx(overfit=False))[1] == "pass"


def test_gap_small_test_set_is_inconclusive():
    ctx = clean_ctx(n_test=3000)
    # A gap near the fail level measured on few rows: the interval straddles 0.10.
    ctx.datasets["test"] = ctx.datasets["test"].iloc[:40].reset_index(drop=True)
    findings, status = run(of.TrainTestGap, ctx)
    m = findings.metrics["gap"]
    assert m.ci_high - m.ci_low > 0.15
    if m.ci_low < 0.10 < m.ci_high:
        assert status == "inconclusive"


# -- OF002 ---------------------------------------------------------------------------
def test_cv_clean_model_is_stable_and_agrees_with_test():
    findings, status = run(of.CrossValidationStability, clean_ctx())
    assert findings.metrics["cv_std"].value < 0.03
    assert findings.metrics["test_cv_difference"].value < 0.05
    assert status == "pass"
    assert len(findings.evidence[0].rows) == 6


def test_cv_test_set_from_another_population_fails():
    ctx = clean_ctx()
    test = ctx.datasets["test"].copy()
    flip = np.random.default_rng(0).uniform(size=len(test)) < 0.35
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    ctx.datasets["test"] = test
    ctx._cache.clear()
    findings, status = run(of.CrossValidationStability, ctx)
    assert findings.metrics["test_cv_difference"].value > 0.10
    assert status == "fail"


def test_cv_too_few_rows_per_class_is_inconclusive():
    ctx = clean_ctx()
    train = ctx.datasets["train"]
    ctx.datasets["train"] = pd.concat([train[train.y == 0], train[train.y == 1].iloc[:3]]).reset_index(drop=True)
    findings, status = run(of.CrossValidationStability, ctx)
    assert status == "inconclusive" and "fewer than 5 training rows" in findings.summary


# -- OF003 ---------------------------------------------------------------------------
def test_learning_curve_flags_noisy_tree_and_passes_clean():
    findings, status = run(of.LearningCurve, noisy_tree_ctx(), max_rows=2000)
    # A fully grown tree on noisy labels: training score stays 1.0, validation far below, at every size.
    assert findings.metrics["final_gap"].value > 0.2 and status == "fail"
    assert "of the 2,500 training rows" in findings.summary
    assert findings.figures and findings.figures[0].svg.startswith("<?xml")
    findings, status = run(of.LearningCurve, clean_ctx(), max_rows=2000)
    assert findings.metrics["final_gap"].value < 0.05 and status == "pass"


def test_learning_curve_is_opt_in():
    assert of.LearningCurve.opt_in is True


# -- OF004 ---------------------------------------------------------------------------
def test_memorisation_of_noisy_labels_fails():
    findings, status = run(of.Memorisation, noisy_tree_ctx())
    assert findings.metrics["train_error"].value == 0
    assert findings.metrics["test_error"].value > 0.3
    assert status == "fail"


def test_memorisation_clean_and_regression():
    findings, status = run(of.Memorisation, clean_ctx())
    assert findings.metrics["train_to_test_error_ratio"].value > 0.8 and status == "pass"
    assert run(of.Memorisation, regression_ctx(overfit=True))[1] == "fail"
    assert run(of.Memorisation, regression_ctx(overfit=False))[1] == "pass"


# -- OF005 ---------------------------------------------------------------------------
def history(val_tail_rise: float) -> pd.DataFrame:
    epochs = np.arange(40)
    train = 1.0 / (1 + 0.3 * epochs)
    val = 1.0 / (1 + 0.25 * np.minimum(epochs, 20)) + 0.8 * val_tail_rise * np.clip(epochs - 20, 0, None) / 19 * (1 / 6)
    return pd.DataFrame({"epoch": epochs, "train_loss": train, "val_loss": val})


def test_history_rising_validation_loss_fails_and_names_early_stop():
    ctx = clean_ctx()
    ctx.history = history(val_tail_rise=1.0)
    findings, status = run(of.TrainingHistory, ctx)
    assert findings.metrics["best_epoch"].value == 20
    assert findings.metrics["val_loss_rise"].value == pytest.approx(0.8 * (1 / 6) / (1 / 6), rel=0.05)
    assert findings.metrics["early_stop_epoch"].value == 25
    assert status == "fail"
    assert "kept falling" in findings.summary


def test_history_still_improving_passes():
    ctx = clean_ctx()
    epochs = np.arange(30)
    ctx.history = pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + epochs), "val_loss": 1.1 / (1 + epochs)})
    findings, status = run(of.TrainingHistory, ctx)
    assert findings.metrics["val_loss_rise"].value == 0 and status == "pass"
    assert "would not have stopped" in findings.summary


def test_history_file_is_read_from_keras_csvlogger_columns(tmp_path):
    from auditor.contract.inputs import read_history
    from auditor.util.errors import AuditInputError

    path = tmp_path / "log.csv"
    pd.DataFrame({"epoch": [0, 1, 2], "loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.95]}).to_csv(path, index=False)
    h = read_history(str(path))
    assert list(h.columns) == ["epoch", "train_loss", "val_loss"] and len(h) == 3
    (tmp_path / "bad.csv").write_text("epoch,acc\n0,0.5\n1,0.6\n")
    with pytest.raises(AuditInputError, match="history file needs a train loss column"):
        read_history(str(tmp_path / "bad.csv"))


def test_results_are_json_ready_and_reproducible():
    ctx = noisy_tree_ctx()
    a, _ = run(of.TrainTestGap, ctx)
    b, _ = run(of.TrainTestGap, ctx)
    assert json.dumps({k: m.to_dict() for k, m in a.metrics.items()}) == json.dumps({k: m.to_dict() for k, m in b.metrics.items()})
