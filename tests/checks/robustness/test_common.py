"""What the robustness checks RB001-RB005 share, and the tests that run them all.

For every check: a clean control passes, degenerate input (one test row, an empty test set)
gives a sensible status, the policy's declared feature domains are respected, and the same
seed gives the same findings.
"""

from __future__ import annotations

import dataclasses

import pytest

from auditor.checks import robustness as rb
from auditor.contract.check import definition_problems
from tests.checks.robustness.conftest import FEATURES, boosting, imputing_logistic, make_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run

CHECKS = [rb.NoiseSensitivity, rb.CategoricalPerturbation, rb.MissingValueHandling, rb.OutOfRangeInputs,
          rb.MonotonicConstraints]


@pytest.mark.parametrize("cls", CHECKS)
def test_definitions(cls):
    assert definition_problems(cls) == []
    assert cls.area == "robustness" and cls.needs == frozenset({"test", "model"})


@pytest.mark.parametrize("cls", CHECKS[:4])
def test_clean_control_passes(cls, clean):
    findings, status = run(cls, clean)
    assert status == "pass", findings.summary
    assert findings.sample == {"role": "test", "rows_used": 2000, "rows_available": 2000, "seed": clean.seed_for(cls.id)}


def test_one_row_test_set_is_inconclusive_not_a_crash():
    ctx = make_ctx(imputing_logistic(), make_binary_frame(2000, seed=1), make_binary_frame(1, seed=2))
    for cls in (rb.NoiseSensitivity, rb.CategoricalPerturbation, rb.MissingValueHandling):
        findings, status = run(cls, ctx)
        assert status == "inconclusive", (cls.id, findings.summary)
        assert findings.summary.startswith("Inconclusive: only 1 test row sampled: too few to estimate a rate.")
        assert findings.sample["rows_used"] == 1
    # A valid output on one row is still a valid output; an invalid one would still be a finding.
    assert run(rb.OutOfRangeInputs, ctx)[1] == "pass"


def test_empty_test_set_is_skipped():
    ctx = make_ctx(imputing_logistic(), make_binary_frame(600, seed=1), make_binary_frame(10, seed=2).iloc[:0])
    ctx.feature_domains = {"x1": {"monotonic": "increasing"}}
    for cls in CHECKS:
        findings, status = run(cls, ctx)
        assert status == "skipped" and findings.summary == "Skipped: the test data has no rows."


# -- declared domains and reproducibility ----------------------------------------------
class Spy:
    """Delegates to a fitted model and keeps every input it is called with."""

    def __init__(self, model):
        self.model, self.classes_, self.seen = model, model.classes_, []

    def predict(self, X):
        self.seen.append(X.copy())
        return self.model.predict(X)

    def predict_proba(self, X):
        self.seen.append(X.copy())
        return self.model.predict_proba(X)


def test_perturbations_respect_immutable_features_and_declared_bounds():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(500, seed=2)
    spy = Spy(imputing_logistic().fit(train[FEATURES], train["y"]))
    ctx = make_ctx(spy, train, test, fit=False)
    ctx.feature_domains = {"x2": {"immutable": True}, "colour": {"immutable": True},
                           "noise": {"min": 0.0, "max": 10.0}, "x1": {"min": -2.0, "max": 2.0, "monotonic": "increasing"}}
    ctx.predictions("test")
    spy.seen.clear()
    test_x1 = set(test["x1"])
    for cls in CHECKS:
        run(cls, ctx)
    assert len(spy.seen) >= 5
    for X in spy.seen:
        # Immutable: never changed, never set missing (every value is one of the test rows' own).
        assert X["x2"].isin(test["x2"]).all() and X["colour"].isin(test["colour"]).all()
        noise = X["noise"].dropna()
        assert ((noise >= 0) & (noise <= 10)).all()
        x1 = X["x1"].dropna()
        # Within the declared bounds, or a test value that was already outside them and left alone.
        assert (((x1 >= -2) & (x1 <= 2)) | x1.isin(test_x1)).all()


def test_same_seed_same_findings_and_another_seed_another_sample():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(3000, seed=2)
    declared = {"x1": {"monotonic": "increasing"}}

    def fresh(seed):
        ctx = make_ctx(boosting(), train, test, feature_domains=declared)
        ctx.seed = seed
        return ctx

    for cls in CHECKS:
        first, again = run(cls, fresh(0), max_rows=500), run(cls, fresh(0), max_rows=500)
        assert dataclasses.asdict(first[0]) == dataclasses.asdict(again[0]) and first[1] == again[1], cls.id
        other = run(cls, fresh(1), max_rows=500)[0]
        assert other.sample["seed"] != first[0].sample["seed"]
