"""DQ004 conflicting-labels (checks/data_quality/dq004_conflicting_labels.py): identical inputs
with different labels, told apart from irreducible noise."""

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


# -- DQ004 conflicting-labels -----------------------------------------------------
def with_conflicts(n_pairs: int, n_same: int = 0) -> pd.DataFrame:
    """N rows: the last n_pairs copy the inputs of the first ones with the label flipped."""
    base = make_frame(N - n_pairs - n_same)
    flipped = base.iloc[:n_pairs].assign(y=1 - base["y"].iloc[:n_pairs])
    same = base.iloc[n_pairs: n_pairs + n_same]  # identical inputs and label: not a conflict
    return pd.concat([base, flipped, same], ignore_index=True)


def _conflicts() -> AuditContext:
    train = make_binary_frame(1800, seed=1)
    flipped = train.iloc[:200].assign(y=lambda d: 1 - d["y"])
    return _ctx(pd.concat([train, flipped]), make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_conflicts, {"fail"})


def test_conflicts_planted_fail():
    findings, status = run(dq.ConflictingLabels, make_ctx(with_conflicts(30, n_same=20)))
    assert value(findings, "conflict_rate") == pytest.approx(0.06, abs=1e-9)
    assert value(findings, "conflicting_groups") == 30
    assert status == "fail"
    assert findings.evidence[0].rows[0][0] == 2


def test_conflicts_small_warns():
    findings, status = run(dq.ConflictingLabels, make_ctx(with_conflicts(10)))
    assert value(findings, "conflict_rate") == pytest.approx(0.02)
    assert status == "warn"


def test_conflicts_regression_and_missing_target():
    train = make_frame().assign(y=lambda d: d["x1"] * 2.0)
    flipped = train.iloc[:5].assign(y=99.0)
    findings, _ = run(dq.ConflictingLabels, make_ctx(pd.concat([train, flipped], ignore_index=True), task="regression"))
    assert value(findings, "conflict_rate") == pytest.approx(10 / 1005)
    unlabelled = make_frame().drop(columns="y")
    findings, status = run(dq.ConflictingLabels, make_ctx(unlabelled, features=["x1", "x2", "k", "color", "size"]))
    assert status == "skipped" and "no target" in findings.summary


def test_conflicts_with_missing_inputs_group_together():
    train = make_frame(4).assign(x1=np.nan, x2=np.nan, k=1, color="a", size="S", y=[0, 1, 0, 0])
    findings, _ = run(dq.ConflictingLabels, make_ctx(train))
    assert value(findings, "conflict_rate") == 1.0
