"""DQ003 constant-columns (checks/data_quality/dq003_constant_columns.py): constant and
near-constant features."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _constant() -> AuditContext:
    train = make_binary_frame(2000, seed=1).assign(noise=1.0)
    return _ctx(train, make_binary_frame(2000, seed=2).assign(noise=1.0))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_constant, {"fail"})


# -- DQ003 constant-columns -------------------------------------------------------
def test_constant_and_near_constant():
    train = make_frame()
    train["const"] = 7
    train["near"] = 0
    train.loc[:4, "near"] = 1  # 99.5% zeros
    findings, status = run(dq.ConstantColumns, make_ctx(train))
    assert value(findings, "constant_columns") == 1
    assert value(findings, "near_constant_columns") == 1
    assert status == "fail"
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert rows["near"][3] == pytest.approx(0.995)
    assert rows["const"][-1] == "constant"


def test_near_constant_only_warns_and_respects_dominance():
    train = make_frame()
    train["near"] = 0
    train.loc[:4, "near"] = 1
    _, status = run(dq.ConstantColumns, make_ctx(train))
    assert status == "warn"
    findings, status = run(dq.ConstantColumns, make_ctx(train), dominance=0.999)
    assert value(findings, "near_constant_columns") == 0 and status == "pass"


def test_constant_all_nan_column_and_one_row():
    train = make_frame()
    train["empty"] = np.nan
    findings, _ = run(dq.ConstantColumns, make_ctx(train))
    assert value(findings, "constant_columns") == 1
    assert findings.evidence[0].rows[0][-1] == "all missing"
    findings, status = run(dq.ConstantColumns, make_ctx(make_frame(1)))
    assert status == "skipped" and "1 row" in findings.summary
