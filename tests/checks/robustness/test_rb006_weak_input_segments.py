"""RB006 weak-input-segments (checks/robustness/rb006_weak_input_segments.py): slices of the inputs
where the model errs more than its own confidence says."""

from __future__ import annotations

import numpy as np

from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _rb_weak_region() -> AuditContext:
    """35% of the test labels flipped where colour is red: the model errs there far beyond its own confidence."""
    ctx = _ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22))
    test = ctx.datasets["test"]
    flip = (test["colour"] == "red").to_numpy() & (np.random.default_rng(4).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_weak_region, {"fail"})


def test_weak_input_segments_find_a_planted_region_and_stay_quiet_on_clean_data():
    from auditor.checks.robustness import WeakInputSegments as WeakSegments

    findings, _ = run(WeakSegments, _rb_weak_region())
    assert findings.metrics["weak_slices"].value >= 1
    assert "colour = red" in findings.evidence[0].rows[0][0]
    for seed in range(3):  # the decision-boundary band of a calibrated model is not called weak
        clean = _ctx(make_binary_frame(3000, seed=100 + seed), make_binary_frame(3000, seed=200 + seed))
        assert run(WeakSegments, clean)[0].metrics["weak_slices"].value == 0
