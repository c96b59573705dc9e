"""EX006 train-test-importance (checks/explainability/ex006_train_test_importance.py): importance
on training rows against test rows."""

from __future__ import annotations

import pytest

from auditor.checks import explainability as ex
from tests.conftest import run_check
from tests.planted import _noisy_tree

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})  # it memorised 20% flipped labels: training importance does not carry over


def test_memorisation_shows_as_train_only_importance():
    findings, status = run_check(ex.TrainTestImportance, _noisy_tree())
    assert status == "fail"
    assert findings.metrics["train_score"].value == pytest.approx(1.0)
    assert findings.metrics["train_only_share"].value > 0.5
    train_only = [row[0] for row in findings.evidence[0].rows if row[4] == "yes"]
    assert "noise" in train_only
