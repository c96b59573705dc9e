"""RB005 monotonic-constraints (checks/robustness/rb005_monotonic_constraints.py): monotonic
relations declared in the policy."""

from __future__ import annotations

from auditor.checks import robustness as rb
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.robustness.conftest import FEATURES, boosting, clean_ctx, make_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _rb_unconstrained_boosting() -> AuditContext:
    """Gradient boosting without monotonic_cst while the policy declares x1 increasing and x2 decreasing."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train, test = make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22)
    prep = ColumnTransformer([("cat", OrdinalEncoder(), ["colour"])], remainder="passthrough")
    clf = HistGradientBoostingClassifier(max_depth=3, min_samples_leaf=40, l2_regularization=1.0, random_state=0)
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(Pipeline([("prep", prep), ("clf", clf)]).fit(train[FEATURES], train["y"]))
    ctx.feature_domains = {"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}}
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_unconstrained_boosting, {"fail"})


# -- RB005 ---------------------------------------------------------------------------
def test_monotonic_unconstrained_boosting_fails_constrained_passes():
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22)
    declared = {"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}}
    ctx = make_ctx(boosting(), train, test, feature_domains=declared)
    findings, status = run(rb.MonotonicConstraints, ctx)
    assert findings.metrics["monotonicity_violation_rate"].value > 0.1 and status == "fail"
    assert {r[0] for r in findings.evidence[0].rows} == {"x1", "x2"}
    # The same model with scikit-learn's monotonic constraints (columns: colour, x1, x2, noise).
    ctx = make_ctx(boosting(monotonic_cst=[0, 1, -1, 0]), train, test, feature_domains=declared)
    findings, status = run(rb.MonotonicConstraints, ctx)
    assert findings.metrics["monotonicity_violation_rate"].value == 0 and status == "pass"


def test_monotonic_logistic_passes_and_a_wrong_direction_fails_on_every_row():
    ctx = clean_ctx(feature_domains={"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}})
    assert run(rb.MonotonicConstraints, ctx)[1] == "pass"
    ctx = clean_ctx(feature_domains={"x2": {"monotonic": "increasing"}})
    findings, status = run(rb.MonotonicConstraints, ctx)
    # Every row but those whose probability is saturated near 0 or 1 (moves below the tolerance).
    assert findings.metrics["monotonicity_violation_rate"].value > 0.99 and status == "fail"


def test_monotonic_without_declarations_is_skipped(clean):
    findings, status = run(rb.MonotonicConstraints, clean)
    assert status == "skipped"
    assert findings.summary == "Skipped: the policy declares no monotonic feature (features: {col: {monotonic: increasing}})."


def test_monotonic_feature_declared_immutable_is_not_moved():
    ctx = clean_ctx(feature_domains={"x1": {"monotonic": "increasing", "immutable": True}})
    findings, status = run(rb.MonotonicConstraints, ctx)
    assert status == "skipped" and findings.summary == "Skipped: no feature declared monotonic can be moved (x1: declared immutable)."


def test_monotonic_is_for_binary_and_regression_only():
    assert rb.MonotonicConstraints.tasks == frozenset({"binary", "regression"})
