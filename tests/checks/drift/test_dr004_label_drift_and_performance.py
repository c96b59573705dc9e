"""DR004 label-drift-and-performance (checks/drift/dr004_label_drift_and_performance.py): labels
and model performance on labelled current data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import drift as dr
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.drift.conftest import make_ctx, model_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _with_current


def _dr_performance_drop() -> AuditContext:
    """A labelled current sample with 20% of its labels flipped: balanced accuracy falls by about 0.1."""
    current = make_binary_frame(3000, seed=23)
    flip = np.random.default_rng(0).uniform(size=len(current)) < 0.2
    current.loc[flip, "y"] = 1 - current.loc[flip, "y"]
    return _with_current(current)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_dr_performance_drop, {"fail"})


# -- DR004 label-drift-and-performance --------------------------------------------------
def test_dr004_clean_passes():
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(make_binary_frame(3000, seed=23)), n_resamples=200)
    assert status == "pass"
    m = f.metrics["performance_drop"]
    assert m.ci_low < 0 < m.ci_high and abs(m.value) < 0.03
    assert value(f, "label_tvd") < 0.03 and f.metrics["label_p_value"].p_value
    assert f.sample["by_role"]["current"]["rows_used"] == 3000


def test_dr004_performance_drop_reads_its_planted_size():
    current = make_binary_frame(3000, seed=23)
    flip = np.random.default_rng(0).uniform(size=len(current)) < 0.2
    current.loc[flip, "y"] = 1 - current.loc[flip, "y"]
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    # flipping 20% of labels moves balanced accuracy b to b − 0.2·(2b − 1): about 0.10 at b ≈ 0.75
    test_score = value(f, "test_score")
    assert value(f, "performance_drop") == pytest.approx(0.2 * (2 * test_score - 1), abs=0.03)
    assert status == "fail" and f.metrics["performance_drop"].ci_low > 0.05


def test_dr004_label_shift_is_reported():
    current = make_binary_frame(6000, seed=23)
    current = pd.concat([current[current.y == 1].iloc[:2400], current[current.y == 0].iloc[:600]])  # 80% positive
    f, _ = run(dr.LabelDriftAndPerformance, model_ctx(current), n_resamples=200)
    share_train = (make_binary_frame(3000, seed=21)["y"] == 1).mean()
    assert value(f, "label_tvd") == pytest.approx(0.8 - share_train, abs=1e-9)
    assert value(f, "label_p_value") < 1e-10
    assert f.evidence[1].columns == ["class", "train share", "current share", "current − reference"]


def test_dr004_regression():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)

    def frame(n, noise=1.0):
        x = rng.normal(size=(n, 2))
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 2 * x[:, 0] + noise * rng.normal(size=n)})

    train = frame(2000)
    model = SklearnAdapter(LinearRegression().fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, noise=2.0), task="regression", features=["a", "b"], model=model)
    f, status = run(dr.LabelDriftAndPerformance, ctx)
    # R² = 4 / (4 + σ²): 0.8 on test, 0.5 on current
    assert value(f, "performance_drop") == pytest.approx(0.3, abs=0.05) and status == "fail"
    assert value(f, "label_ks_statistic") > 0.05 and f.metrics["label_p_value"].p_value


def test_dr004_too_few_labels_is_inconclusive():
    current = make_binary_frame(300, seed=23)
    current.loc[5:, "y"] = np.nan
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    assert status == "inconclusive" and value(f, "performance_drop") is None
    assert "only 5 labelled current rows" in f.summary


def test_dr004_single_class_current_is_inconclusive():
    current = make_binary_frame(300, seed=23)
    current["y"] = 1
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    assert status == "inconclusive" and "the current rows hold a single class" in f.summary


def test_dr004_skips_without_test_labels():
    ctx = model_ctx(make_binary_frame(300, seed=23))
    ctx.datasets["test"] = ctx.datasets["test"].assign(y=np.nan)
    f, status = run(dr.LabelDriftAndPerformance, ctx)
    assert status == "skipped" and "the test data has no target values" in f.summary
