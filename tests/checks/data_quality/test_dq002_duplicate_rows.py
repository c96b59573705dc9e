"""DQ002 duplicate-rows (checks/data_quality/dq002_duplicate_rows.py): duplicate rows within each
dataset."""

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


# -- DQ002 duplicate-rows ---------------------------------------------------------
def with_duplicates(frame: pd.DataFrame, n_dup: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = frame.iloc[: len(frame) - n_dup]
    copies = base.iloc[rng.integers(0, len(base), size=n_dup)]
    return pd.concat([base, copies], ignore_index=True)


def _duplicates() -> AuditContext:
    train = make_binary_frame(1800, seed=1)
    return _ctx(pd.concat([train, train.iloc[:200]]), make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_duplicates, {"fail"})


def test_duplicates_ten_percent_fail():
    train = with_duplicates(make_frame(), 100)
    findings, status = run(dq.DuplicateRows, make_ctx(train))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    assert findings.evidence[0].rows[0][:3] == ["train", N, 100]
    examples = findings.evidence[1]
    assert examples.rows and all(len(str(v)) <= 40 for r in examples.rows for v in r)


def test_duplicates_one_percent_in_test_warns():
    findings, status = run(dq.DuplicateRows, make_ctx(make_frame(), with_duplicates(make_frame(seed=1), 10)))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.01, abs=1e-9)
    assert status == "warn"


def test_duplicates_differing_only_in_target_are_not_duplicates():
    train = make_frame()
    extra = train.iloc[:50].assign(y=1 - train["y"].iloc[:50])
    findings, status = run(dq.DuplicateRows, make_ctx(pd.concat([train, extra], ignore_index=True)))
    assert value(findings, "max_duplicate_rate") == 0 and status == "pass"


def test_duplicates_long_text_truncated():
    train = make_frame(10)
    train["color"] = "x" * 500
    train["x1"] = 1.0
    train["x2"] = 2.0
    train["k"] = 3
    train["size"] = "S"
    train["y"] = 0
    findings, status = run(dq.DuplicateRows, make_ctx(train))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.9)
    assert all(len(str(v)) <= 40 for r in findings.evidence[1].rows for v in r)
