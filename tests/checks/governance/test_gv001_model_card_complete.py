"""GV001 model-card-complete (checks/governance/gv001_model_card_complete.py): the policy's model
card states intended use, out-of-scope uses, data, limitations and ethical considerations."""

from __future__ import annotations

from auditor.contract.context import AuditContext
from auditor.reportdata.model_card import REQUIRED_FIELDS
from checks.governance import ModelCardComplete
from tests.conftest import make_binary_frame, run_check
from tests.planted import CLEAN_MODEL_CARD, _ctx


def _incomplete_card() -> AuditContext:
    """A model card with only its intended use: five of six required fields are missing."""
    ctx = _ctx(make_binary_frame(300, seed=1), make_binary_frame(300, seed=2))
    ctx.policy = {"model_card": {"name": "m", "intended_use": "Scoring test fixtures."}}
    return ctx


PLANTED = (_incomplete_card, {"fail"})


def test_gv001_counts_missing_fields():
    findings, status = run_check(ModelCardComplete, _incomplete_card())
    assert status == "fail"
    assert findings.metrics["missing_fields"].value == len(REQUIRED_FIELDS) - 1
    assert "leaves out 5 of 6 required fields" in findings.summary
    rows = {r[0]: r[1] for r in findings.evidence[0].rows}
    assert rows["Intended use"] == "given" and rows["Limitations"] == "missing"


def test_gv001_without_any_card_and_with_a_complete_one():
    ctx = _incomplete_card()
    ctx.policy = {}
    findings, status = run_check(ModelCardComplete, ctx)
    assert (status, findings.metrics["missing_fields"].value) == ("fail", 6)
    assert findings.summary.startswith("The policy has no model_card block")
    ctx.policy = {"model_card": dict(CLEAN_MODEL_CARD)}
    findings, status = run_check(ModelCardComplete, ctx)
    assert (status, findings.metrics["missing_fields"].value) == ("pass", 0)
