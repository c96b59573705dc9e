"""OF002 cross-validation-stability (checks/overfitting/of002_cross_validation_stability.py):
cross-validation stability and agreement with the test score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.checks import overfitting as of
from auditor.contract.context import AuditContext
from tests.checks.overfitting.conftest import clean_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _shifted_test_labels() -> AuditContext:
    test = make_binary_frame(3000, seed=22)
    flip = np.random.default_rng(0).uniform(size=len(test)) < 0.35
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return _ctx(make_binary_frame(3000, seed=21), test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_shifted_test_labels, {"fail"})


# -- OF002 ---------------------------------------------------------------------------
def test_cv_clean_model_is_stable_and_agrees_with_test():
    findings, status = run(of.CrossValidationStability, clean_ctx())
    assert findings.metrics["cv_std"].value < 0.03
    assert findings.metrics["test_cv_difference"].value < 0.05
    assert status == "pass"
    assert len(findings.evidence[0].rows) == 6


def test_cv_test_set_from_another_population_fails():
    ctx = clean_ctx()
    test = ctx.datasets["test"].copy()
    flip = np.random.default_rng(0).uniform(size=len(test)) < 0.35
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    ctx.datasets["test"] = test
    ctx._cache.clear()
    findings, status = run(of.CrossValidationStability, ctx)
    assert findings.metrics["test_cv_difference"].value > 0.10
    assert status == "fail"


def test_cv_too_few_rows_per_class_is_inconclusive():
    ctx = clean_ctx()
    train = ctx.datasets["train"]
    ctx.datasets["train"] = pd.concat([train[train.y == 0], train[train.y == 1].iloc[:3]]).reset_index(drop=True)
    findings, status = run(of.CrossValidationStability, ctx)
    assert status == "inconclusive" and "fewer than 5 training rows" in findings.summary
