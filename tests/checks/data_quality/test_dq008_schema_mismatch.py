"""DQ008 schema-mismatch (checks/data_quality/dq008_schema_mismatch.py): schema differences between
train and the other datasets."""

from __future__ import annotations

import numpy as np

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import N, make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _schema() -> AuditContext:
    test = make_binary_frame(2000, seed=2)
    test["x2"] = test["x2"].map(lambda v: f"{v:.2f} units")
    return _ctx(make_binary_frame(2000, seed=1), test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_schema, {"fail"})


# -- DQ008 schema-mismatch --------------------------------------------------------
def test_schema_differences_counted():
    test = make_frame(seed=1)
    test["x2"] = test["x2"].round(1).astype(str)  # numeric -> string
    test["k"] = test["k"].astype(float)  # int -> float: same kind
    test = test.drop(columns="size").assign(extra=1)
    findings, status = run(dq.SchemaMismatch, make_ctx(make_frame(), test))
    assert value(findings, "schema_differences") == 3
    assert status == "fail"
    problems = {(r[0], r[-1]) for r in findings.evidence[0].rows}
    assert problems == {
        ("size", "model input missing in test"),
        ("extra", "extra column in test"),
        ("x2", "kind changed"),
    }


def test_schema_current_without_target_and_auxiliary_columns():
    train = make_frame().assign(row_id=np.arange(N))
    test = make_frame(seed=1).assign(row_id=np.arange(N))
    current = make_frame(seed=2).drop(columns="y")
    findings, status = run(
        dq.SchemaMismatch,
        make_ctx(train, test, current=current, id_column="row_id", features=["x1", "x2", "k", "color", "size"]),
    )
    assert value(findings, "schema_differences") == 0 and status == "pass"
    assert "test, current" in findings.summary


def test_schema_all_missing_column_is_not_a_kind_change():
    test = make_frame(seed=1).assign(color=np.nan)
    findings, status = run(dq.SchemaMismatch, make_ctx(make_frame(), test))
    assert value(findings, "schema_differences") == 0 and status == "pass"
