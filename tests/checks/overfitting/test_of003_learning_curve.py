"""OF003 learning-curve (checks/overfitting/of003_learning_curve.py): learning curve: training and
validation score against training-set size."""

from __future__ import annotations

from auditor.checks import overfitting as of
from tests.checks.overfitting.conftest import clean_ctx, noisy_tree_ctx
from tests.conftest import run_check as run
from tests.planted import _noisy_tree

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})


# -- OF003 ---------------------------------------------------------------------------
def test_learning_curve_flags_noisy_tree_and_passes_clean():
    findings, status = run(of.LearningCurve, noisy_tree_ctx(), max_rows=2000)
    # A fully grown tree on noisy labels: training score stays 1.0, validation far below, at every size.
    assert findings.metrics["final_gap"].value > 0.2 and status == "fail"
    assert "of the 2,500 training rows" in findings.summary
    assert findings.figures and findings.figures[0].svg.startswith("<?xml")
    findings, status = run(of.LearningCurve, clean_ctx(), max_rows=2000)
    assert findings.metrics["final_gap"].value < 0.05 and status == "pass"


def test_learning_curve_is_opt_in():
    assert of.LearningCurve.opt_in is True
