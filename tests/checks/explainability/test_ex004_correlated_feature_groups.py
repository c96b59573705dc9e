"""EX004 correlated-feature-groups (checks/explainability/ex004_correlated_feature_groups.py):
correlated feature groups that make importance unstable."""

from __future__ import annotations

from auditor.checks import explainability as ex
from tests.checks.explainability.conftest import _ex_near_copies
from tests.conftest import run_check

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_ex_near_copies, {"fail"})


def test_near_copies_are_named_as_a_correlated_group(copies):
    findings, status = run_check(ex.CorrelatedFeatureGroups, copies)
    assert status == "fail"
    assert findings.metrics["groups"].value == 1
    assert findings.evidence[0].rows[0][0] == "x1, x1_copy, x1_copy2"
    assert findings.metrics["correlated_importance_share"].value > 0.4
    assert "colour" in findings.summary  # categorical columns are said to be left out of the clustering
