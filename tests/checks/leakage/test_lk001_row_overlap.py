"""LK001 row-overlap (checks/leakage/lk001_row_overlap.py): test rows that exactly repeat a
training row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import FEATURES, N, frames, make_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _lk_overlap() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    return _ctx(train, pd.concat([train.iloc[:200], test.iloc[200:]]))  # 10% of test rows copied from train


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_overlap, {"fail"})


# -- LK001 row-overlap ------------------------------------------------------------
def test_overlap_ten_percent_fails():
    train, test = frames()
    test.iloc[:200, :4] = train.iloc[:200, :4].to_numpy()
    test["x1"], test["x2"], test["noise"] = (test[c].astype(float) for c in ("x1", "x2", "noise"))
    findings, status = run(lk.RowOverlap, make_ctx(train, test))
    assert value(findings, "test_overlap_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    assert value(findings, "test_overlap_rate_with_target") <= value(findings, "test_overlap_rate")
    pairs, examples = findings.evidence
    assert pairs.rows[0][:4] == ["test", "train", N, 200]
    assert len(examples.rows) == 5 and examples.rows[0][:3] == ["test", 0, 0]
    assert all(len(str(v)) <= 40 for r in examples.rows for v in r)


def test_overlap_small_warns_and_current_is_judged():
    train, test = frames()
    test.iloc[:30, :4] = train.iloc[100:130, :4].to_numpy()  # 1.5% of test rows
    test[["x1", "x2", "noise"]] = test[["x1", "x2", "noise"]].astype(float)
    current = make_binary_frame(N, seed=3).drop(columns="y")
    current.iloc[:300, :4] = train.iloc[:300, :4].to_numpy()  # 15% of current rows
    current[["x1", "x2", "noise"]] = current[["x1", "x2", "noise"]].astype(float)
    findings, status = run(lk.RowOverlap, make_ctx(train, test, current=current))
    assert value(findings, "test_overlap_rate") == pytest.approx(0.015)
    assert value(findings, "current_overlap_rate") == pytest.approx(0.15)
    assert findings.metrics["current_overlap_rate"] and status == "fail"
    assert [r[0] for r in findings.evidence[0].rows] == ["test", "current"]
    assert findings.evidence[0].rows[1][-1] == "no labels"
    findings, status = run(lk.RowOverlap, make_ctx(train, test))
    assert status == "warn"


def test_overlap_ignores_int_float_and_string_dtype_differences():
    train, test = frames(200)
    train["k"] = np.arange(200)
    test = train.copy()
    test["k"] = test["k"].astype(float)
    test["colour"] = test["colour"].astype("category")
    findings, _ = run(lk.RowOverlap, make_ctx(train, test, features=FEATURES + ["k"]))
    assert value(findings, "test_overlap_rate") == 1.0


def test_overlap_target_differs():
    train, test = frames(500)
    test = train.assign(y=1 - train["y"])
    findings, _ = run(lk.RowOverlap, make_ctx(train, test))
    assert value(findings, "test_overlap_rate") == 1.0
    assert value(findings, "test_overlap_rate_with_target") == 0.0
