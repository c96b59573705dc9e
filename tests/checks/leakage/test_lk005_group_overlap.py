"""LK005 group-overlap (checks/leakage/lk005_group_overlap.py): groups that appear in both training
and test data."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import leakage as lk
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import N, frames, make_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _lk_groups() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    train["entity"] = [f"e{i // 4}" for i in range(len(train))]
    test["entity"] = [f"e{i // 4 + 1000}" for i in range(len(test))]
    test.loc[:399, "entity"] = train["entity"].iloc[:400].to_numpy()  # 100 of 500 test groups (20% of rows)
    ctx = _ctx(train, test)
    ctx.group_column = "entity"
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_groups, {"fail"})


# -- LK005 group-overlap ----------------------------------------------------------
def test_group_overlap_twenty_percent_fails():
    train, test = frames()
    test.loc[:399, "entity"] = train["entity"].iloc[:400].to_numpy()  # 100 of 500 test groups, 400 rows
    findings, status = run(lk.GroupOverlap, make_ctx(train, test))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(0.20)
    assert value(findings, "test_group_overlap_share") == pytest.approx(0.20)
    assert value(findings, "shared_groups") == 100 and status == "fail"
    shared = findings.evidence[1]
    assert len(shared.rows) == 10 and shared.rows[0][1:] == [4, 4]
    assert "90 more" in shared.note


def test_group_overlap_uneven_groups_read_the_row_share():
    train, test = frames()
    test["entity"] = [f"t{i // 10}" for i in range(N)]
    test.loc[:99, "entity"] = "e0"  # one group, 5% of test rows
    current = test.drop(columns="y").assign(entity="e1")
    findings, status = run(lk.GroupOverlap, make_ctx(train, test, current=current))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(0.05)
    assert value(findings, "test_group_overlap_share") == pytest.approx(1 / 191)
    assert value(findings, "current_group_overlap_rate") == 1.0
    assert status == "fail"


def test_group_overlap_missing_and_mixed_types():
    train, test = frames(group=False)
    train["entity"] = np.arange(N) // 4
    test["entity"] = (np.arange(N) // 4 + N).astype(float)
    test.loc[:9, "entity"] = np.nan
    test.loc[10:19, "entity"] = 3.0  # group 3 from train, stored as a float
    findings, status = run(lk.GroupOverlap, make_ctx(train, test, group_column="entity"))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(10 / N)
    assert findings.evidence[0].rows[0][2] == 10 and status == "fail"
    findings, status = run(lk.GroupOverlap, make_ctx(train, test.drop(columns="entity"), group_column="entity"))
    assert status == "skipped" and "not in the test data" in findings.summary
