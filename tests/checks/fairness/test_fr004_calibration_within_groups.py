"""FR004 calibration-within-groups (checks/fairness/fr004_calibration_within_groups.py):
calibration in each group."""

from __future__ import annotations

from tests.checks.fairness.conftest import _group_aware, group_aware_ctx, run

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (lambda: _group_aware(power=4.0), {"fail"})


# -- FR004 --------------------------------------------------------------------------------
def test_calibration_gap_fails_when_one_group_is_overconfident():
    result = run("FR004", group_aware_ctx(power=4.0))
    assert result.status == "fail"
    rows = {r[1]: r for r in result.evidence[0]["rows"]}
    assert rows["B"][3] > 0.1 > rows["A"][3]
