"""DQ007 target-imbalance (checks/data_quality/dq007_target_imbalance.py): class imbalance of the
target."""

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


# -- DQ007 target-imbalance -------------------------------------------------------
def with_labels(n_pos: int, n: int = N) -> pd.DataFrame:
    return make_frame(n).assign(y=np.r_[np.ones(n_pos, dtype=int), np.zeros(n - n_pos, dtype=int)])


def _imbalance() -> AuditContext:
    train = make_binary_frame(4000, seed=1)
    keep = pd.concat([train[train.y == 0], train[train.y == 1].iloc[:40]])
    return _ctx(keep, make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_imbalance, {"fail"})


@pytest.mark.parametrize(("n_pos", "expected"), [(150, "warn"), (40, "fail"), (500, "pass")])
def test_imbalance_levels(n_pos, expected):
    findings, status = run(dq.TargetImbalance, make_ctx(with_labels(n_pos)))
    assert value(findings, "minority_ratio") == pytest.approx(n_pos / (N - n_pos) if n_pos < N / 2 else 1.0)
    assert status == expected
    table = findings.evidence[0]
    assert table.columns == ["class", "train count", "train share", "test count", "test share"]


def test_imbalance_class_absent_from_train_and_single_class():
    ctx = make_ctx(with_labels(0), task="multiclass", classes=[0, 1, 2])
    findings, status = run(dq.TargetImbalance, ctx)
    assert value(findings, "minority_ratio") == 0.0 and status == "fail"
    assert len(findings.evidence[0].rows) == 3


def test_imbalance_without_labels_skips():
    train = make_frame().assign(y=np.nan)
    findings, status = run(dq.TargetImbalance, make_ctx(train))
    assert status == "skipped"
