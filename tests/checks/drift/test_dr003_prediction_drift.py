"""DR003 prediction-drift (checks/drift/dr003_prediction_drift.py): the model's outputs on current
data differ from those on reference data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import drift as dr
from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.drift.conftest import BINARY, make_ctx, model_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _with_current


def _dr_prediction_shift() -> AuditContext:
    """The model's strongest input moves by one standard deviation: its scores move with it."""
    current = make_binary_frame(3000, seed=23)
    current["x1"] += 1.0
    return _with_current(current)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_dr_prediction_shift, {"fail"})


# -- DR003 prediction-drift -------------------------------------------------------------
def test_dr003_clean_passes():
    f, status = run(dr.PredictionDrift, model_ctx(make_binary_frame(3000, seed=23)))
    assert status == "pass" and value(f, "prediction_psi") < 0.02
    assert "positive-class score" in f.summary and "with 3,000 test rows" in f.summary
    assert f.metrics["p_value"].p_value


def test_dr003_binary_score_shift():
    current = make_binary_frame(3000, seed=23)
    current["x1"] += 1.0  # the model's strongest input moves by one sd
    f, status = run(dr.PredictionDrift, model_ctx(current))
    assert status == "fail"
    assert value(f, "prediction_shift") == value(f, "prediction_psi") > 0.2
    assert value(f, "p_value") < 1e-10 and value(f, "positive_rate_change") > 0.15
    means = f.evidence[0].rows[0]
    assert means[0] == "mean" and means[2] - means[1] > 0.15
    # every score quantile moves up, so the Wasserstein distance is the shift of the mean
    assert value(f, "prediction_wasserstein") == pytest.approx(means[2] - means[1], rel=0.02)


def test_dr003_multiclass_class_shares():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)

    def frame(n, shift=0.0):
        x = rng.normal(size=(n, 2)) + [shift, 0]
        y = np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})

    train = frame(2000)
    model = SklearnAdapter(LogisticRegression(max_iter=500).fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, shift=1.0), task="multiclass", features=["a", "b"], model=model,
                   classes=["high", "low", "mid"])
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "fail" and "predicted class" in f.summary
    shares = {row[0]: row for row in f.evidence[0].rows}
    assert shares["high"][3] == pytest.approx(0.38, abs=0.05)  # P(x > 0.5) goes from 0.31 to 0.69
    clean = make_ctx(train, frame(2000), frame(2000), task="multiclass", features=["a", "b"], model=model,
                     classes=["high", "low", "mid"])
    assert run(dr.PredictionDrift, clean)[1] == "pass"


def test_dr003_regression_values():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)

    def frame(n, shift=0.0):
        x = rng.normal(size=(n, 2)) + [shift, 0]
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 2 * x[:, 0] + rng.normal(size=n)})

    train = frame(2000)
    model = SklearnAdapter(LinearRegression().fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, shift=0.5), task="regression", features=["a", "b"], model=model)
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "fail" and "predicted value" in f.summary
    # predictions 2a: a shift of 0.5 in a is about 0.5 sd of the predictions
    assert value(f, "prediction_wasserstein") == pytest.approx(0.5, abs=0.08)


def test_dr003_predictions_only_mode():
    train, test, current = make_binary_frame(1000, seed=1), make_binary_frame(1000, seed=2), make_binary_frame(1000, seed=3)
    for frame, shift in ((train, 0.0), (test, 0.0), (current, 0.3)):
        frame["pred"] = (frame["x1"] + shift > 0).astype(int)
    ctx = make_ctx(train, test, current, features=BINARY, model=PredictionsAdapter(prediction_column="pred"))
    f, status = run(dr.PredictionDrift, ctx)
    assert "predicted class" in f.summary and value(f, "prediction_psi") > 0.05
    ctx.datasets["current"] = current.drop(columns="pred")
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "skipped"
    assert f.summary == "Skipped: predictions-only mode: the current data has no predictions column 'pred'."


def test_dr003_tiny_current_sample_is_inconclusive():
    f, status = run(dr.PredictionDrift, model_ctx(make_binary_frame(12, seed=23)))
    assert status == "inconclusive" and value(f, "prediction_shift") is None
