"""Gradient-based robustness (area ``robustness``, ID RB007).

Where the model is differentiable (a PyTorch network, ``ModelAdapter.differentiable``),
the worst case within a small budget can be *searched for* rather than sampled: FGSM
(one signed-gradient step) and PGD (several projected steps) find the perturbation of
each row's mutable numeric features that most increases the network's loss. The
attacks are written with PyTorch autograd directly (``torch.autograd.grad``); the only
model-specific part is the adapter's :meth:`gradient_view`.

Budgets are in standardised raw units: ``epsilon`` x each feature's standard deviation
(in the training data, or the test data without it), applied to every attackable feature
at once (an L-infinity box). The attack runs in the network's own input space (after
the preprocessing): the adapter reports, for each raw numeric column, the network input
it becomes and ``dz/dx`` there (a per-column affine map such as a StandardScaler), so a
raw budget ``epsilon * std`` is the network-space budget ``epsilon * std * |dz/dx|``
and a declared ``[min, max]`` maps the same way. Columns that reach the network any
other way (one-hot categories, binned or nonlinear transforms) are not attacked, and
the evidence says so. Immutable features (the policy's ``features`` block) are never
changed; a value already outside its declared bounds is left as it is. The attack is
continuous: an integer column may take fractional values (a worst case, not a realistic
input).

torch, pandas and SciPy are imported inside functions so that ``auditor --help`` stays fast.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .rb007_adversarial_robustness import AdversarialRobustness, fgsm, pgd

CHECKS: tuple[type[Check], ...] = (
    AdversarialRobustness,
)

__all__ = [
    "AdversarialRobustness",
    "CHECKS",
    "fgsm",
    "pgd",
]
