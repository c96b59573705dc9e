"""EX001 global-importance (checks/explainability/ex001_global_importance.py): global feature
importance, two ways."""

from __future__ import annotations

import numpy as np

from auditor.checks import explainability as ex
from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame, run_check
from tests.planted import _ctx


def _ex_leaky() -> AuditContext:
    """'noise' is the label plus a little noise, in train and test, and the model was fitted on it:
    one input carries nearly all of the model's performance."""
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    rng = np.random.default_rng(0)
    for frame in (train, test):
        frame["noise"] = frame["y"] + rng.normal(0, 0.1, len(frame))
    return _ctx(train, test, model_on=train)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_ex_leaky, {"fail"})


def test_one_feature_carrying_everything_fails_global_importance():
    findings, status = run_check(ex.GlobalImportance, _ex_leaky())
    assert status == "fail"
    assert findings.metrics["top_feature_share"].value > 0.9
    assert findings.evidence[0].rows[0][1] == "noise"
    assert findings.figures and findings.figures[0].svg.startswith("<?xml")


def test_importance_intervals_contain_their_estimates(clean):
    findings, _ = run_check(ex.GlobalImportance, clean)
    share = findings.metrics["top_feature_share"]
    assert share.ci_low <= share.value <= share.ci_high
    for row in findings.evidence[0].rows:
        low, high = (float(x) for x in row[3].split(" to "))
        assert low <= row[2] <= high, row
