"""GV002 waiver-register (checks/governance/gv002_waiver_register.py): waivers are current (none
expired, none expiring within notice_days, none running for more than a year)."""

from __future__ import annotations

import pytest

from auditor.contract.context import AuditContext
from checks.governance import WaiverRegister
from tests.conftest import make_binary_frame, run_check
from tests.planted import AUDIT_DATE, _ctx


def _expired_waiver() -> AuditContext:
    """One waiver that expired a year before the audit and one that is still in force."""
    ctx = _ctx(make_binary_frame(300, seed=1), make_binary_frame(300, seed=2))
    ctx.today = AUDIT_DATE
    ctx.policy = {"waivers": [
        {"check": "DQ002", "reason": "repeated records", "owner": "a@example.org", "expires": "2025-11-27"},
        {"check": "DQ011", "reason": "kept as published", "owner": "b@example.org", "expires": "2027-03-31"},
    ]}
    return ctx


PLANTED = (_expired_waiver, {"fail"})


def test_gv002_expired_waiver_fails_and_names_it():
    findings, status = run_check(WaiverRegister, _expired_waiver())
    assert status == "fail"
    assert findings.metrics["expired_waivers"].value == 1
    states = {r[0]: (r[4], r[5]) for r in findings.evidence[0].rows}
    assert states["DQ002"] == (-365, "expired")
    assert states["DQ011"] == (124, "in force")
    assert "2 waivers recorded; 1 expired (as of 2026-11-27)" in findings.summary


@pytest.mark.parametrize("expires, metric, status", [
    ("2026-12-10", "expiring_soon", "warn"),      # 13 days left, inside the 30-day notice
    ("2029-01-01", "longest_waiver_days", "warn"),  # runs for more than a year
    ("2027-06-30", "expired_waivers", "pass"),
])
def test_gv002_expiring_and_long_waivers(expires, metric, status):
    ctx = _expired_waiver()
    ctx.policy = {"waivers": [{"check": "DQ002", "reason": "r", "owner": "o", "expires": expires}]}
    findings, got = run_check(WaiverRegister, ctx)
    assert got == status
    if status == "warn":
        assert findings.metrics[metric].value > 0


def test_gv002_no_waivers_passes():
    ctx = _expired_waiver()
    ctx.policy = {}
    findings, status = run_check(WaiverRegister, ctx)
    assert status == "pass" and findings.metrics["expired_waivers"].value == 0
    assert AUDIT_DATE.isoformat() in findings.metrics["expired_waivers"].description
