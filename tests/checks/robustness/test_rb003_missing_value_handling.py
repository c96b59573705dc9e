"""RB003 missing-value-handling (checks/robustness/rb003_missing_value_handling.py): handling of
missing values at prediction time."""

from __future__ import annotations

import numpy as np

from auditor.checks import robustness as rb
from auditor.contract.context import AuditContext
from tests.checks.robustness.conftest import FEATURES, NUMERIC, boosting, imputing_logistic, make_ctx
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _rb_no_imputation() -> AuditContext:
    """5% of the training rows lack x1; the model (no imputer) was fitted on the complete rows: a missing x1 makes it raise."""
    train = make_binary_frame(2000, seed=1)
    train.loc[train.sample(frac=0.05, random_state=0).index, "x1"] = np.nan
    return _ctx(train, make_binary_frame(2000, seed=2), model_on=train.dropna())


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_no_imputation, {"fail"})


# -- RB003 ---------------------------------------------------------------------------
def test_missing_values_seen_in_the_data_that_make_the_model_raise_are_findings():
    # 5% of the training rows lack x1; the model was fitted on the complete rows only and
    # has no imputer: a missing x1 in production makes it raise.
    train = make_binary_frame(2000, seed=1)
    train.loc[train.sample(frac=0.05, random_state=0).index, "x1"] = np.nan
    ctx = make_ctx(fit_pipeline(train.dropna()), train, make_binary_frame(2000, seed=2), fit=False)
    findings, status = run(rb.MissingValueHandling, ctx)
    assert status == "fail" and findings.metrics["features_that_break"].value == 1
    assert findings.metrics["features_that_raise"].value == 3
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert [rows[c][2] for c in FEATURES] == ["yes", "raises (never missing in the data)", "no",
                                              "raises (never missing in the data)"]
    assert rows["x1"][4].startswith("raised ValueError: Input X contains NaN")
    assert findings.summary.startswith("Missing values in 1 feature of 4 break the model (x1); for 'x1' it raised ValueError")
    assert "The model raises on a missing x2 or noise (ValueError: Input X contains NaN" in findings.summary
    # The joint measurement goes on over the feature that accepts missing values (colour).
    assert findings.metrics["joint_missing_flip_rate"].value is not None
    assert "in the other 1 feature at once" in findings.summary


def test_raise_on_features_never_missing_is_reported_not_judged():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    ctx = make_ctx(fit_pipeline(train), train, test, fit=False)
    findings, status = run(rb.MissingValueHandling, ctx)
    assert status == "pass" and findings.metrics["features_that_break"].value == 0
    assert findings.metrics["features_that_raise"].value == 3
    assert findings.summary.startswith(
        "The model raises on a missing x1, x2 or noise (ValueError: Input X contains NaN. LogisticRegression does not "
        "accept missing values encoded as NaN natively.")
    assert ("no dataset given has missing values in them, so this is reported, not judged (raise_counts_for: "
            "all_features judges it). It returns valid predictions with missing values in the other 1 feature.") in findings.summary
    findings, status = run(rb.MissingValueHandling, ctx, raise_counts_for="all_features")
    assert status == "fail" and findings.metrics["features_that_break"].value == 3


def test_every_feature_raising_unjudged_leaves_nothing_to_judge():
    from sklearn.linear_model import LogisticRegression

    train, test = make_binary_frame(1000, seed=1), make_binary_frame(500, seed=2)
    findings, status = run(rb.MissingValueHandling, make_ctx(LogisticRegression(), train, test, features=NUMERIC))
    assert status == "pass" and "joint_missing_excess_flip_rate" not in findings.metrics
    assert findings.metrics["features_that_raise"].value == 3


def test_missing_values_handled_by_imputation_or_natively_pass(clean):
    findings, status = run(rb.MissingValueHandling, clean)
    assert status == "pass" and findings.metrics["features_that_break"].value == 0
    # The raw flip rate reflects reliance on x1 and x2; against random filling it is no worse.
    assert findings.metrics["joint_missing_flip_rate"].value > 0.05
    assert findings.metrics["joint_missing_excess_flip_rate"].value <= 0.02
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22)
    assert run(rb.MissingValueHandling, make_ctx(boosting(), train, test))[1] == "pass"


def test_missing_values_filled_with_a_sentinel_fail():
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22)
    findings, status = run(rb.MissingValueHandling, make_ctx(imputing_logistic(fill=-100.0), train, test))
    m = findings.metrics["joint_missing_excess_flip_rate"]
    assert m.value > 0.15 and m.ci_low > 0.10 and status == "fail"
    assert findings.metrics["features_that_break"].value == 0


class NaNOnMissing:
    """Returns NaN probabilities for rows with a missing x1 instead of raising."""

    classes_ = np.array([0, 1])

    def __init__(self, model):
        self.model = model

    def predict_proba(self, X):
        p = self.model.predict_proba(X.fillna({"x1": 0.0}))
        p[X["x1"].isna().to_numpy()] = np.nan
        return p

    def predict(self, X):
        return self.model.predict(X.fillna({"x1": 0.0}))


def test_missing_values_that_give_nan_probabilities_break_the_model():
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(1000, seed=2)
    ctx = make_ctx(NaNOnMissing(fit_pipeline(train)), train, test, fit=False)
    ctx.feature_domains = {c: {"immutable": True} for c in ("x2", "noise")}
    findings, status = run(rb.MissingValueHandling, ctx)
    # A silent invalid output counts even though no dataset has a missing x1.
    assert status == "fail" and findings.metrics["features_that_break"].value == 1
    row = findings.evidence[0].rows[0]
    assert row[0] == "x1" and row[4] == "returned NaN or infinite probabilities for 100 rows"
    assert "Never set missing (declared immutable): x2, noise." in findings.evidence[0].note
