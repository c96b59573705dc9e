"""DQ006 outliers (checks/data_quality/dq006_outliers.py): outliers in numeric features (robust
z-score, IQR fallback)."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import N, make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _outliers() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train.loc[:599, "x2"] = 1e4
    return _ctx(train, make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_outliers, {"fail"})


# -- DQ006 outliers ---------------------------------------------------------------
def test_outliers_thirty_percent_fails():
    rng = np.random.default_rng(5)
    train = make_frame()
    x = rng.normal(size=N)
    x[: int(0.3 * N)] = rng.uniform(40, 60, size=int(0.3 * N))
    train["x1"] = x
    findings, status = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.30, abs=0.02)
    assert status == "fail"


def test_outliers_ten_percent_robust_z():
    rng = np.random.default_rng(4)
    train = make_frame()
    x = rng.normal(size=N)
    x[:100] = rng.choice([-1, 1], size=100) * rng.uniform(20, 50, size=100)
    train["x1"] = x
    findings, status = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "warn"
    row = findings.evidence[0].rows[0]
    assert row[0] == "x1" and row[1].startswith("robust z")


def test_outliers_iqr_fallback_and_degenerate():
    rng = np.random.default_rng(5)
    train = make_frame()
    # Not whole numbers, so not measured as a count: the IQR fallback on the raw scale.
    spiky = np.where(rng.random(N) < 0.6, 0.0, rng.integers(1, 11, size=N) + 0.5)
    spiky[:200] = 1000.0  # 20% far outliers
    train["spiky"] = spiky
    train["flat"] = np.where(np.arange(N) < 950, 0.0, 5.0)
    findings, status = run(dq.Outliers, make_ctx(train))
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert rows["spiky"][1].startswith("IQR fences")
    assert rows["spiky"][-1] == pytest.approx(0.20, abs=0.01)
    assert status == "warn"  # 0.20 lies between warn (0.05) and fail (0.25)
    assert "flat" not in rows and "Degenerate spread" in findings.evidence[0].note and "'flat'" in findings.evidence[0].note


def test_outliers_infinite_and_no_numeric_columns():
    train = make_frame()
    train.loc[:29, "x2"] = np.inf
    findings, _ = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.03, abs=0.005)
    cats = make_frame()[["color", "size", "y"]]
    findings, status = run(dq.Outliers, make_ctx(cats, make_frame(seed=1)[["color", "size", "y"]]))
    assert value(findings, "max_outlier_rate") == 0 and status == "pass"
    assert "no numeric feature" in findings.summary


def test_outliers_all_nan_column():
    train = make_frame()
    train["empty"] = np.nan
    findings, status = run(dq.Outliers, make_ctx(train))
    assert status == "pass" and "No values" in findings.evidence[0].note
