"""DQ001 missing-values (checks/data_quality/dq001_missing_values.py): missing values, including
disguised placeholders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import N, make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _missing() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train.loc[train.sample(frac=0.4, random_state=0).index, "colour"] = "?"
    return _ctx(train, make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_missing, {"fail"})


# -- DQ001 missing-values ---------------------------------------------------------
def test_missing_counts_placeholders():
    train = make_frame()
    color = train["color"].astype(object)
    color.iloc[:80] = "?"  # 8% disguised missing values
    color.iloc[80:85] = " NA "  # placeholders are compared after stripping
    train["color"] = pd.array(color, dtype="str")
    findings, status = run(dq.MissingValues, make_ctx(train))
    assert value(findings, "max_missing_rate") == pytest.approx(0.085, abs=1e-9)
    assert status == "warn"
    (table,) = findings.evidence
    row = table.rows[0]
    assert row[0] == "color" and row[1] == pytest.approx(0.085)
    assert "'?'" in row[-1] and "'NA'" in row[-1]
    assert findings.figures and findings.figures[0].svg.lstrip().startswith("<?xml")


def test_missing_nan_in_test_fails_and_current_target_is_ignored():
    test = make_frame(seed=1)
    test.loc[: int(0.4 * N) - 1, "x1"] = np.nan
    current = make_frame(seed=2).drop(columns="y")
    current["x2"] = current["x2"].astype(object)
    current.loc[:9, "x2"] = None
    findings, status = run(dq.MissingValues, make_ctx(make_frame(), test, current=current))
    assert value(findings, "max_missing_rate") == pytest.approx(0.40)
    assert status == "fail"
    cols = findings.evidence[0].columns
    assert cols == ["column", "train", "test", "current", "placeholders seen"]
    by_col = {r[0]: r for r in findings.evidence[0].rows}
    assert by_col["x2"][3] == pytest.approx(0.01)
    assert "y" not in by_col


def test_missing_all_nan_column():
    train = make_frame()
    train["empty"] = np.nan
    findings, status = run(dq.MissingValues, make_ctx(train, make_frame(seed=1).assign(empty=1.0)))
    assert value(findings, "max_missing_rate") == 1.0
    assert status == "fail"


def test_missing_custom_placeholders():
    train = make_frame()
    train.loc[:99, "color"] = "unknown"
    findings, _ = run(dq.MissingValues, make_ctx(train), placeholders=["unknown"])
    assert value(findings, "max_missing_rate") == pytest.approx(0.10)
    findings, status = run(dq.MissingValues, make_ctx(train), placeholders=[])
    assert value(findings, "max_missing_rate") == 0 and status == "pass"


def test_numeric_sentinel_at_the_top_is_reported():
    rng = np.random.default_rng(11)
    train = make_frame()
    gains = rng.choice([0, 0, 0, 1500, 3000, 7000, 15000], size=N).astype(float)
    gains[:12] = 99999
    train["capital_gain"] = gains
    findings, status = run(dq.MissingValues, make_ctx(train, train.copy()))
    assert value(findings, "max_sentinel_rate") == pytest.approx(12 / N)
    assert status == "warn"
    table = next(e for e in findings.evidence if e.title.startswith("Possible numeric sentinels"))
    assert table.rows[0][:4] == ["capital_gain", "train", 99999, 12]


def test_ordinary_maxima_are_not_sentinels():
    train = make_frame()
    train["age"] = np.random.default_rng(12).integers(17, 99, size=N)  # tops out near 98, a plain value
    train["count"] = 999  # constant: no gap to the other values
    findings, _ = run(dq.MissingValues, make_ctx(train, train.copy()))
    assert value(findings, "max_sentinel_rate") == 0
