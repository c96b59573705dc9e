"""LK007 label-distribution-mismatch (checks/leakage/lk007_label_distribution_mismatch.py): label
distribution that differs between train and test beyond sampling noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import N, frames, make_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


# -- LK007 label-distribution-mismatch --------------------------------------------
def with_positive_share(frame: pd.DataFrame, share: float, n: int) -> pd.DataFrame:
    pos, neg = frame[frame["y"] == 1], frame[frame["y"] == 0]
    k = round(share * n)
    return pd.concat([neg.iloc[: n - k], pos.iloc[:k]], ignore_index=True)


def _lk_labels() -> AuditContext:
    train, test = make_binary_frame(5000, seed=1), make_binary_frame(5000, seed=2)
    train = pd.concat([train[train.y == 0].iloc[:1600], train[train.y == 1].iloc[:400]])  # 80/20
    test = pd.concat([test[test.y == 0].iloc[:1000], test[test.y == 1].iloc[:1000]])  # 50/50
    return _ctx(train, test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_labels, {"fail"})


def test_label_mismatch_80_20_vs_50_50_fails():
    train = with_positive_share(make_binary_frame(5000, seed=1), 0.2, N)
    test = with_positive_share(make_binary_frame(5000, seed=2), 0.5, N)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, group_column=None, time_column=None))
    assert value(findings, "label_tvd") == pytest.approx(0.30)
    assert 0.25 < value(findings, "excess_label_distance") < 0.30
    assert value(findings, "chi2_p_value") < 1e-20 and status == "fail"
    assert abs(findings.evidence[0].rows[0][-1]) == pytest.approx(0.30)


@pytest.mark.parametrize("seed", range(6))
def test_label_same_distribution_is_not_flagged(seed):
    train, test = make_binary_frame(1500, seed=seed), make_binary_frame(700, seed=seed + 50)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test))
    assert status == "pass", findings.summary


def test_label_mismatch_regression_and_multiclass():
    rng = np.random.default_rng(9)
    train, test = frames(group=False, time=False)
    train["y"], test["y"] = rng.normal(0, 1, N), rng.normal(0.5, 1, N)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="regression"))
    assert value(findings, "ks_statistic") == pytest.approx(0.197, abs=0.03)
    assert value(findings, "ks_critical_value") == pytest.approx(1.358 * np.sqrt(2 / N), abs=1e-3)
    assert status == "fail"
    test["y"] = rng.normal(0, 1, N)
    _, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="regression"))
    assert status == "pass"
    train["y"], test["y"] = rng.choice(["a", "b", "c"], N), rng.choice(["a", "b", "c", "d"], N, p=[0.3, 0.3, 0.3, 0.1])
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="multiclass"))
    assert findings.evidence[0].rows[0][0] == "d" and status == "fail"


def test_label_mismatch_skips_without_test_labels():
    train, test = frames()
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test.drop(columns="y")))
    assert status == "skipped" and findings.summary == "Skipped: the test data has no target values."
