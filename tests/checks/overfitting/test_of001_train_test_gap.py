"""OF001 train-test-gap (checks/overfitting/of001_train_test_gap.py): gap between training and test
performance."""

from __future__ import annotations

import json

import pytest

from auditor.checks import overfitting as of
from tests.checks.overfitting.conftest import clean_ctx, noisy_tree_ctx, regression_ctx
from tests.conftest import run_check as run
from tests.planted import _noisy_tree

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})


# -- OF001 ---------------------------------------------------------------------------
def test_gap_unpruned_tree_on_noisy_labels_fails():
    findings, status = run(of.TrainTestGap, noisy_tree_ctx())
    gap = findings.metrics["gap"]
    assert findings.metrics["train_balanced_accuracy"].value == pytest.approx(1.0)
    # 20% flipped labels cap the test score near 0.8 of the signal: the gap is large and certain.
    assert gap.value > 0.25 and gap.ci_low > 0.10
    assert status == "fail"


def test_gap_clean_regularised_model_passes():
    findings, status = run(of.TrainTestGap, clean_ctx())
    assert abs(findings.metrics["gap"].value) < 0.03
    assert status == "pass"


def test_gap_regression():
    assert run(of.TrainTestGap, regression_ctx(overfit=True))[1] == "fail"
    assert run(of.TrainTestGap, regression_ctx(overfit=False))[1] == "pass"


def test_gap_small_test_set_is_inconclusive():
    ctx = clean_ctx(n_test=3000)
    # A gap near the fail level measured on few rows: the interval straddles 0.10.
    ctx.datasets["test"] = ctx.datasets["test"].iloc[:40].reset_index(drop=True)
    findings, status = run(of.TrainTestGap, ctx)
    m = findings.metrics["gap"]
    assert m.ci_high - m.ci_low > 0.15
    if m.ci_low < 0.10 < m.ci_high:
        assert status == "inconclusive"


def test_results_are_json_ready_and_reproducible():
    ctx = noisy_tree_ctx()
    a, _ = run(of.TrainTestGap, ctx)
    b, _ = run(of.TrainTestGap, ctx)
    assert json.dumps({k: m.to_dict() for k, m in a.metrics.items()}) == json.dumps({k: m.to_dict() for k, m in b.metrics.items()})
