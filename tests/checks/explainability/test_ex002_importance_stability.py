"""EX002 importance-stability (checks/explainability/ex002_importance_stability.py): stability of
feature importance across resamples and seeds."""

from __future__ import annotations

from auditor.checks import explainability as ex
from tests.checks.explainability.conftest import _ex_near_copies
from tests.conftest import run_check

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_ex_near_copies, {"fail"})


def test_near_copies_fail_stability_and_name_the_group(copies):
    findings, status = run_check(ex.ImportanceStability, copies)
    assert status == "fail"
    assert findings.metrics["rank_resolution"].value <= 0.5
    assert findings.metrics["correlated_ties"].value >= 1 and findings.metrics["correlated_ties"].status == "fail"
    assert "{x1, x1_copy, x1_copy2}" in findings.summary
    assert "Group the correlated features (x1, x1_copy, x1_copy2)" in findings.recommendation
    assert findings.sample["rows_used"] == 1000 and findings.sample["rows_available"] == 3000


def test_clean_ranking_is_stable_and_resolved(clean):
    findings, _ = run_check(ex.ImportanceStability, clean)
    assert findings.metrics["rank_agreement"].value == 1.0
    assert findings.metrics["rank_resolution"].value == 1.0
    assert "correlated" not in findings.summary
