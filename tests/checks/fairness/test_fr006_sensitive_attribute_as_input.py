"""FR006 sensitive-attribute-as-input (checks/fairness/fr006_sensitive_attribute_as_input.py):
sensitive attributes used as model inputs."""

from __future__ import annotations

from auditor.contract.context import AuditContext
from tests.checks.fairness.conftest import binary_ctx, metric, run, with_group
from tests.conftest import make_binary_frame
from tests.planted import _ctx, _with_group


def _fr_sensitive_input() -> AuditContext:
    """The model input 'colour' is declared sensitive."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    ctx.sensitive = ["colour"]
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_fr_sensitive_input, {"warn"})


def test_sensitive_attribute_as_input():
    ctx = with_group(binary_ctx())
    assert run("FR006", ctx).status == "pass"
    ctx.sensitive = ["group", "colour"]
    result = run("FR006", ctx)
    assert result.status == "warn" and metric(result, "sensitive_inputs")["value"] == 1
    assert result.evidence[0]["rows"][1] == ["colour", "yes", "train, test"]
