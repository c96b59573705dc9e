"""DQ005 mixed-types (checks/data_quality/dq005_mixed_types.py): columns that mix numbers and text."""

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


def _mixed() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train["colour"] = train["colour"].astype(object)
    train.loc[:299, "colour"] = [str(i) for i in range(300)]
    return _ctx(train, make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_mixed, {"fail"})


# -- DQ005 mixed-types ------------------------------------------------------------
def test_mixed_numbers_and_text_fail():
    rng = np.random.default_rng(3)
    train = make_frame()
    weight = pd.Series(rng.integers(40, 120, size=N).astype(str), dtype=object)
    weight.iloc[:50] = "unknown"  # 5% of values are text
    weight.iloc[50:60] = "?"  # placeholders are ignored
    train["weight"] = pd.array(weight, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 1
    assert value(findings, "max_minority_share") == pytest.approx(50 / 990, abs=0.01)
    assert status == "fail"
    row = findings.evidence[0].rows[0]
    assert row[0] == "weight" and row[1] == "train" and "'unknown'" in row[4]


def test_numeric_text_with_placeholders_is_not_mixed():
    train = make_frame()
    code = pd.Series(np.arange(N).astype(str), dtype=object)
    code.iloc[:30] = " ? "
    train["code"] = pd.array(code, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 0 and status == "pass"
    assert value(findings, "numeric_text_columns") == 1


def test_object_column_with_python_types():
    test = make_frame(seed=1)
    mixed = test["size"].astype(object)
    mixed.iloc[:20] = 3  # ints among strings, as a Parquet object column can hold
    test["size"] = mixed
    findings, status = run(dq.MixedTypes, make_ctx(make_frame(), test))
    assert value(findings, "mixed_type_columns") == 1 and status == "fail"
    assert findings.evidence[0].rows[0][1] == "test"
    assert value(findings, "max_minority_share") == pytest.approx(0.02)


def test_mixed_all_missing_text_column():
    train = make_frame()
    train["notes"] = pd.array([None] * N, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 0 and status == "pass"
