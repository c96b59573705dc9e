"""LK003 target-leakage (checks/leakage/lk003_target_leakage.py): single features that predict the
target almost perfectly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import FEATURES, N, frames, make_ctx, value
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _lk_target_leak() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    rng = np.random.default_rng(0)
    for frame in (train, test):  # 'noise' becomes the label plus a little noise
        frame["noise"] = frame["y"] + rng.normal(0, 0.1, len(frame))
    return _ctx(train, test)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_target_leak, {"fail"})


# -- LK003 target-leakage ---------------------------------------------------------
def test_target_leak_is_named_and_fails():
    train, test = frames()
    rng = np.random.default_rng(3)
    train["refund_flag"] = train["y"] + rng.normal(0, 0.1, N)
    test["refund_flag"] = test["y"] + rng.normal(0, 0.1, N)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, features=FEATURES + ["refund_flag"]))
    assert value(findings, "max_single_feature_score") > 0.99
    assert status == "fail"
    assert "'refund_flag'" in findings.summary
    assert findings.evidence[0].rows[0][0] == "refund_flag"
    assert findings.evidence[0].rows[0][3] > 0.8  # |Spearman| with the target
    assert findings.figures and "refund_flag" in findings.figures[0].svg


def test_target_leak_through_a_category_and_honest_scores():
    train, test = frames()
    findings, _ = run(lk.TargetLeakage, make_ctx(train, test))
    scores = {r[0]: r[2] for r in findings.evidence[0].rows}
    assert 0.7 < scores["x1"] < 0.85 and scores["noise"] < 0.6
    label = {0: "denied", 1: "approved"}
    train["status"] = train["y"].map(label)
    test["status"] = test["y"].map(label)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, features=FEATURES + ["status"]))
    assert value(findings, "max_single_feature_score") == pytest.approx(1.0)
    assert status == "fail" and findings.evidence[0].rows[0][:2] == ["status", "categorical"]


def test_target_leak_regression_and_multiclass():
    train, test = frames(group=False, time=False)
    rng = np.random.default_rng(4)
    train["y"], test["y"] = train["x1"] + rng.normal(0, 1, N), test["x1"] + rng.normal(0, 1, N)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="regression"))
    assert 0.3 < value(findings, "max_single_feature_score") < 0.6 and status == "pass"
    train["echo"], test["echo"] = train["y"] * 2 + 1, test["y"] * 2 + 1
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="regression", features=FEATURES + ["echo"]))
    assert value(findings, "max_single_feature_score") > 0.97 and status == "fail"
    assert "R²" in findings.summary
    classes = np.array(["a", "b", "c"])
    train["y"], test["y"] = classes[rng.integers(0, 3, N)], classes[rng.integers(0, 3, N)]
    train["code"], test["code"] = pd.Series(train["y"]).map({"a": 0, "b": 5, "c": 9}), pd.Series(test["y"]).map({"a": 0, "b": 5, "c": 9})
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="multiclass", features=FEATURES + ["code"]))
    assert value(findings, "max_single_feature_score") == pytest.approx(1.0) and status == "fail"
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="multiclass"))
    assert value(findings, "max_single_feature_score") < 0.6 and status == "pass"


def test_target_leakage_reports_the_model_score_when_available():
    train, test = frames(group=False, time=False)
    model = SklearnAdapter(fit_pipeline(make_binary_frame(1500, seed=11)))
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, model=model))
    assert status == "pass"
    assert 0.8 < value(findings, "model_test_score") < 0.9
    assert findings.evidence[1].rows[0][0] == "full model, all inputs"
