"""OF004 memorisation (checks/overfitting/of004_memorisation.py): memorisation: near-perfect
training performance that the test set does not share."""

from __future__ import annotations

from auditor.checks import overfitting as of
from tests.checks.overfitting.conftest import clean_ctx, noisy_tree_ctx, regression_ctx
from tests.conftest import run_check as run
from tests.planted import _noisy_tree

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})


# -- OF004 ---------------------------------------------------------------------------
def test_memorisation_of_noisy_labels_fails():
    findings, status = run(of.Memorisation, noisy_tree_ctx())
    assert findings.metrics["train_error"].value == 0
    assert findings.metrics["test_error"].value > 0.3
    assert status == "fail"


def test_memorisation_clean_and_regression():
    findings, status = run(of.Memorisation, clean_ctx())
    assert findings.metrics["train_to_test_error_ratio"].value > 0.8 and status == "pass"
    assert run(of.Memorisation, regression_ctx(overfit=True))[1] == "fail"
    assert run(of.Memorisation, regression_ctx(overfit=False))[1] == "pass"
