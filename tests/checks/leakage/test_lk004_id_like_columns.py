"""LK004 id-like-columns (checks/leakage/lk004_id_like_columns.py): identifier-like features that
carry signal about the target."""

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


# -- LK004 id-like-columns --------------------------------------------------------
def sorted_by_target(n: int = 4000, *, per_file_numbers: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = make_binary_frame(n, seed=5).sort_values("y", kind="stable").reset_index(drop=True)
    frame["row"] = np.arange(n)
    is_test = np.random.default_rng(1).random(n) < 0.3
    train, test = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
    if per_file_numbers:
        train["row"], test["row"] = np.arange(len(train)), np.arange(len(test))
    return train, test


def _lk_id_like() -> AuditContext:
    frame = make_binary_frame(4000, seed=1).sort_values("y", kind="stable").reset_index(drop=True)
    frame["noise"] = np.arange(len(frame))  # the row number of a file sorted by the target
    is_test = np.random.default_rng(0).random(len(frame)) < 0.3
    return _ctx(frame[~is_test], frame[is_test])


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_id_like, {"fail"})


@pytest.mark.parametrize("per_file_numbers", [False, True])
def test_row_number_of_sorted_file_fails(per_file_numbers):
    train, test = sorted_by_target(per_file_numbers=per_file_numbers)
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["row"]))
    assert value(findings, "id_like_columns_with_signal") == 1 and value(findings, "id_like_columns") == 1
    assert status == "fail"
    row = findings.evidence[0].rows[0]
    assert row[0] == "row" and row[1] == "unique per row and monotonic in row order" and row[-1] > 0.95
    assert "'row'" in findings.summary


def test_random_unique_id_is_listed_but_passes():
    train, test = frames()
    rng = np.random.default_rng(2)
    ids = rng.permutation(10**6)[: 2 * N]
    train["customer_id"], test["customer_id"] = ids[:N], ids[N:]
    train["ref"], test["ref"] = [f"R{i:07d}" for i in ids[:N]], [f"R{i:07d}" for i in ids[N:]]
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["customer_id", "ref"]))
    assert value(findings, "id_like_columns") == 2 and value(findings, "id_like_columns_with_signal") == 0
    assert status == "pass"
    assert {r[0] for r in findings.evidence[0].rows} == {"customer_id", "ref"}


def test_declared_id_column_and_continuous_floats_are_not_id_like():
    train, test = frames()
    train["row_id"], test["row_id"] = np.arange(N), np.arange(N)
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["row_id"], id_column="row_id"))
    assert value(findings, "id_like_columns") == 0 and status == "pass"  # x1, x2, noise are unique floats
