"""DQ010 high-cardinality (checks/data_quality/dq010_high_cardinality.py): categorical features
with very many levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import N, make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _cardinality() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    test = make_binary_frame(2000, seed=2)
    train["colour"] = [f"c{i % 500}" for i in range(len(train))]
    test["colour"] = [f"c{i % 500}" for i in range(len(test))]
    return _ctx(train, test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_cardinality, {"warn"})


# -- DQ010 high-cardinality -------------------------------------------------------
def test_high_cardinality_planted():
    rng = np.random.default_rng(6)
    train = make_frame()
    train["city"] = pd.array([f"city{i}" for i in rng.integers(0, 200, size=N)], dtype="str")
    train["row_id"] = [f"r{i}" for i in range(N)]
    findings, status = run(dq.HighCardinality, make_ctx(train, id_column="row_id"))
    assert value(findings, "high_cardinality_columns") == 1 and status == "warn"
    assert findings.evidence[0].rows[0][0] == "city"
    assert 150 < value(findings, "max_levels_seen") <= 200


def test_high_cardinality_ratio_rule():
    train = make_frame(100)
    train["code"] = [f"c{i}" for i in range(40)] * 2 + ["c0"] * 20  # 40 levels on 100 rows
    findings, status = run(dq.HighCardinality, make_ctx(train))
    assert status == "pass"
    findings, status = run(dq.HighCardinality, make_ctx(train), max_unique_ratio=0.3)
    assert value(findings, "high_cardinality_columns") == 1 and status == "warn"
    assert "per row" in findings.evidence[0].rows[0][-1]


def test_high_cardinality_no_categoricals():
    num = make_frame()[["x1", "x2", "y"]]
    findings, status = run(dq.HighCardinality, make_ctx(num))
    assert value(findings, "high_cardinality_columns") == 0 and value(findings, "max_levels_seen") == 0
    assert status == "pass"
