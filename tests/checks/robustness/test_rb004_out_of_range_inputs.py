"""RB004 out-of-range-inputs (checks/robustness/rb004_out_of_range_inputs.py): valid outputs for
numeric inputs beyond the training range."""

from __future__ import annotations

import numpy as np

from auditor.checks import robustness as rb
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.robustness.conftest import clean_ctx, make_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


# -- RB004 ---------------------------------------------------------------------------
class LinearProbability:
    """A linear probability model, P(y=1) = 0.5 + 0.1 x1: valid in the training range, not beyond."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = 0.5 + 0.1 * X["x1"].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class RaisesOnLargeNoise(LinearProbability):
    def predict_proba(self, X):
        if (X["noise"] > 50).any():
            raise OverflowError("noise out of range")
        return np.clip(super().predict_proba(X), 0, 1)


def _rb_linear_probability() -> AuditContext:
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    ctx.model = SklearnAdapter(LinearProbability())
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_linear_probability, {"fail"})


def test_out_of_range_probabilities_above_one_fail():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(1000, seed=2)
    findings, status = run(rb.OutOfRangeInputs, make_ctx(LinearProbability(), train, test, fit=False))
    assert status == "fail" and findings.metrics["invalid_output_features"].value == 1
    bad = [r for r in findings.evidence[0].rows if r[4] == "no"]
    assert sorted((r[0], r[1]) for r in bad) == [("x1", "high"), ("x1", "low")]
    assert all(r[7].startswith("returned probabilities outside [0, 1] (from ") for r in bad)
    assert "Extreme values of 1 feature of 3 give invalid output or a raise: at x1=" in findings.summary


def test_out_of_range_raise_is_a_finding_with_the_message():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(500, seed=2)
    findings, status = run(rb.OutOfRangeInputs, make_ctx(RaisesOnLargeNoise(), train, test, fit=False), beyond=20.0)
    assert status == "fail" and findings.metrics["invalid_output_features"].value == 1
    row = findings.evidence[0].rows[0]
    assert row[:2] == ["noise", "high"] and row[7] == "raised OverflowError: noise out of range"


def test_out_of_range_clean_model_reports_class_share_shifts(clean):
    findings, status = run(rb.OutOfRangeInputs, clean)
    assert status == "pass" and findings.metrics["invalid_output_features"].value == 0
    # Pushing x1 far out sends nearly every prediction to one class (not judged, reported).
    assert findings.metrics["max_extreme_shift"].value > 0.4
    assert findings.metrics["max_extreme_shift"].status is None


def test_out_of_range_tests_declared_bounds_instead_of_going_beyond():
    ctx = clean_ctx()
    ctx.feature_domains = {"noise": {"min": 0.0, "max": 10.0}, "x1": {"max": 2.5}}
    findings, _ = run(rb.OutOfRangeInputs, ctx)
    values = {(r[0], r[1]): (r[2], r[3]) for r in findings.evidence[0].rows}
    assert values[("noise", "high")] == (10.0, "declared max") and values[("noise", "low")] == (0.0, "declared min")
    assert values[("x1", "high")] == (2.5, "declared max") and values[("x1", "low")][1] == "train min - 3 spread"
