"""EX005 local-explanation-stability (checks/explainability/ex005_local_explanation_stability.py):
local stability of single-row explanations."""

from __future__ import annotations

from auditor.checks import explainability as ex
from tests.conftest import run_check
from tests.planted import _noisy_tree

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})  # an unpruned tree: a 0.05 sd step crosses splits and rewrites attributions


def test_unstable_local_model_flags_rows():
    findings, status = run_check(ex.LocalStability, _noisy_tree())
    assert status == "fail"
    assert findings.metrics["unstable_row_share"].value > 0.25
    listed = findings.evidence[0].rows
    assert listed[0][1] == findings.metrics["max_lipschitz"].value and listed[0][4] == "yes"
