"""DQ009 unseen-categories (checks/data_quality/dq009_unseen_categories.py): categories absent from
the training data."""

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


def _unseen() -> AuditContext:
    test = make_binary_frame(2000, seed=2)
    test.loc[:199, "colour"] = "purple"
    return _ctx(make_binary_frame(2000, seed=1), test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_unseen, {"fail"})


# -- DQ009 unseen-categories ------------------------------------------------------
def test_unseen_categories_fail_and_warn():
    test = make_frame(seed=1)
    test.loc[:29, "color"] = "purple"  # 3% of test rows
    test.loc[30:31, "color"] = "<b>pink</b>"
    current = make_frame(seed=2).drop(columns="y")
    current.loc[:4, "size"] = "XXL"  # 0.5% of current rows
    findings, status = run(dq.UnseenCategories, make_ctx(make_frame(), test, current=current))
    assert value(findings, "max_unseen_rate") == pytest.approx(0.032)
    assert status == "fail"
    rows = {(r[0], r[1]): r for r in findings.evidence[0].rows}
    assert "'purple'" in rows[("color", "test")][2] and rows[("color", "test")][3] == 2
    assert rows[("size", "current")][-1] == pytest.approx(0.005)
    findings, status = run(dq.UnseenCategories, make_ctx(make_frame(), current.assign(y=0)))
    assert value(findings, "max_unseen_rate") == pytest.approx(0.005) and status == "warn"


def test_unseen_ignores_missing_and_handles_no_categoricals():
    test = make_frame(seed=1)
    test.loc[:99, "color"] = np.nan
    _, status = run(dq.UnseenCategories, make_ctx(make_frame(), test))
    assert status == "pass"
    num = make_frame()[["x1", "x2", "y"]]
    findings, status = run(dq.UnseenCategories, make_ctx(num, make_frame(seed=1)[["x1", "x2", "y"]]))
    assert value(findings, "max_unseen_rate") == 0 and status == "pass"
    assert "no categorical feature" in findings.summary


def test_unseen_category_dtype_and_bool():
    train = make_frame().assign(flag=True)
    train["size"] = train["size"].astype("category")
    test = make_frame(seed=1).assign(flag=np.arange(N) % 10 == 0)
    test["size"] = pd.Categorical(test["size"], categories=["S", "M", "L", "XL"])  # unused category
    findings, _ = run(dq.UnseenCategories, make_ctx(train, test))
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert set(rows) == {"flag"} and rows["flag"][-1] == pytest.approx(0.9)  # False never seen in train
