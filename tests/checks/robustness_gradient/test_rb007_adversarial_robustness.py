"""RB007 adversarial-robustness (checks/robustness_gradient/rb007_adversarial_robustness.py):
accuracy under gradient-based adversarial perturbation (FGSM, PGD), and the two attacks checked
by hand on small networks.

The tests need torch and skip without it; the planted case stays importable so that
tests/test_contract.py finds it (and skips it, as REQUIRES says). The PyTorch adapter's own
tests are in tests/test_torch.py.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from auditor.checks.robustness_gradient import AdversarialRobustness, fgsm, pgd
from auditor.contract.adapters_torch import TorchAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame, run_check

try:
    import torch
except ImportError:
    torch = None
else:
    from tests.torch_models import smooth_context, tiny_scale_context

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _rb_tiny_scale_network() -> AuditContext:
    """A network trained on a label that is the sign of a tiny-scale feature whose informative
    variation is 20 times finer than its standard deviation: PGD at 0.1 std breaks about 88% of rows."""
    pytest.importorskip("torch")
    return tiny_scale_context()


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean
# control), and the optional package both need: without it they are skipped.
PLANTED = (_rb_tiny_scale_network, {"fail"})
REQUIRES = "torch"


# -- the attacks, checked by hand on a linear model ------------------------------------------
def test_fgsm_and_pgd_on_a_linear_model_match_the_hand_computed_attack():
    """logit = 2 z0 - 1 z1 + 0.5; y = 1 rows lose along -sign(w), y = 0 rows along +sign(w).
    FGSM moves each unfrozen input by its radius; on a linear model PGD can do no better."""
    layer = torch.nn.Linear(2, 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[2.0, -1.0]]))
        layer.bias.fill_(0.5)
    view = TorchAdapter.from_module(layer, columns=["a", "b"], classes=[0, 1]).gradient_view()
    z = torch.tensor([[0.1, 0.2], [-0.3, 0.1], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([1, 0, 1])
    radius = torch.tensor([[0.2, 0.3]], dtype=torch.float64).expand(3, 2).clone()
    radius[2, 1] = 0.0  # frozen (immutable) input of the third row
    low = torch.full_like(z, -np.inf)
    high = torch.full_like(z, np.inf)
    high[0, 1] = 0.35  # a declared maximum below z + radius

    def loss(zz):
        return torch.nn.functional.nll_loss(view.log_proba(zz), y, reduction="none")

    expected = torch.tensor([[0.1 - 0.2, 0.35], [-0.3 + 0.2, 0.1 - 0.3], [-0.2, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(fgsm(loss, z, radius, low, high), expected)
    torch.testing.assert_close(pgd(loss, z, radius, low, high, steps=10), expected)
    # logits after the attack: 2(0.1-0.2) - 0.35 + 0.5 = -0.05 (row 0 flips), 2(-0.1) - (-0.2) + 0.5 = 0.5
    # (row 1, label 0, flips), 2(-0.2) - 0 + 0.5 = 0.1 (row 2 holds)
    assert view.log_proba(expected).argmax(dim=1).tolist() == [0, 1, 1]


def test_pgd_beats_fgsm_where_the_loss_curves():
    """On |z| - 1 (a V-shaped logit) a gradient step from 0.05 toward the boundary overshoots
    less than it should: PGD's small steps reach the minimum at 0 and FGSM crosses it."""
    class V(torch.nn.Module):
        def forward(self, z):
            return (z.abs().sum(dim=1, keepdim=True) * 4 - 1)

    view = TorchAdapter.from_module(V(), columns=["a"], classes=[0, 1]).gradient_view()
    z = torch.tensor([[0.3], [0.05]], dtype=torch.float32)
    y = torch.tensor([1, 1])
    radius = torch.full_like(z, 0.2)
    inf = torch.full_like(z, np.inf)

    def loss(zz):
        return torch.nn.functional.nll_loss(view.log_proba(zz), y, reduction="none")

    after_fgsm, after_pgd = fgsm(loss, z, radius, -inf, inf), pgd(loss, z, radius, -inf, inf, steps=20)
    assert loss(after_pgd)[1] >= loss(after_fgsm)[1]
    assert abs(float(after_pgd[1, 0])) < 0.05  # PGD ends near the V's bottom; FGSM overshoots to -0.15
    assert float(after_fgsm[1, 0]) == pytest.approx(-0.15)


# -- RB007 ----------------------------------------------------------------------------------
def test_tiny_scale_network_degrades_steeply_and_a_smooth_one_gently():
    steep, steep_status = run_check(AdversarialRobustness, tiny_scale_context())
    gentle, gentle_status = run_check(AdversarialRobustness, smooth_context())
    assert steep_status == "fail" and gentle_status == "pass"
    s_pgd = [row[3] / row[1] for row in steep.evidence[0].rows]  # PGD accuracy relative to clean, by epsilon
    g_pgd = [row[3] / row[1] for row in gentle.evidence[0].rows]
    assert steep.evidence[0].rows[1][0] == 0.05
    assert s_pgd[1] < 0.5 and g_pgd[1] > 0.85  # at 0.05 std: most rows lost vs a few
    assert steep.metrics["adversarial_accuracy_drop"].value > 0.7
    assert gentle.metrics["adversarial_accuracy_drop"].value < 0.1
    assert all(a >= b for a, b in pairwise(g_pgd)) and all(a >= b for a, b in pairwise(s_pgd))
    assert steep.figures and "<svg" in steep.figures[0].svg


def test_rb007_respects_immutable_features_and_bounds():
    ctx = tiny_scale_context()
    ctx.feature_domains = {"t": {"immutable": True}}
    findings, status = run_check(AdversarialRobustness, ctx)
    assert status == "pass"  # t alone carries the signal; x1 and x2 are noise the network ignores
    assert [r[0] for r in findings.evidence[1].rows] == ["x1", "x2"]
    assert ["t", "declared immutable"] in findings.evidence[2].rows
    ctx.feature_domains = {"t": {"min": 0.0}}  # t may not go below 0: negative rows cannot be pushed up
    bounded, _ = run_check(AdversarialRobustness, ctx)
    free, _ = run_check(AdversarialRobustness, tiny_scale_context())
    assert bounded.metrics["adversarial_accuracy_drop"].value < free.metrics["adversarial_accuracy_drop"].value - 0.3


def test_rb007_skips_a_model_without_gradients():
    from auditor.contract.adapters import SklearnAdapter
    from auditor.contract.context import AuditContext
    from auditor.engine.planning import plan_checks
    from auditor.engine.policy import validate_policy
    from auditor.engine.registry import load_registry
    from auditor.engine.runner import available_needs, run_one

    registry = load_registry()
    ctx = AuditContext(datasets={"train": make_binary_frame(300, seed=1), "test": make_binary_frame(300, seed=2)},
                       target="y", task="binary", features=["x1", "x2", "colour", "noise"],
                       model=SklearnAdapter(fit_pipeline(make_binary_frame(300, seed=3))), positive_label=1, classes=[0, 1])
    planned = {p.cls.id: p for p in plan_checks(registry, validate_policy({"select": ["RB007"]}, registry))}
    result = run_one(ctx, planned["RB007"], available_needs(ctx))
    assert result.status == "skipped"
    assert "the model is not differentiable (a PyTorch model is needed)" in result.summary
