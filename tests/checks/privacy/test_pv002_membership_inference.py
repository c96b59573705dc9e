"""PV002 membership-inference (checks/privacy/pv002_membership_inference.py): membership inference:
can an attacker tell training rows from unseen rows?

A model that memorises noisy labels is caught by the membership attack, a regularised one on
plenty of data is not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import privacy as pv
from auditor.contract.adapters import SklearnAdapter
from tests.checks.privacy.conftest import FEATURES, make_ctx, payload, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _noisy_tree


# -- PV002 membership inference ------------------------------------------------------
def noisy_frames(n_train: int, n_test: int, *, flip: float, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = make_binary_frame(n_train + n_test, seed=seed)
    flips = np.random.default_rng(seed).uniform(size=len(frame)) < flip
    frame.loc[flips, "y"] = 1 - frame.loc[flips, "y"]
    return frame.iloc[:n_train], frame.iloc[n_train:]


def fitted(estimator, train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
                              ("num", StandardScaler(), ["x1", "x2", "noise"])])
    return SklearnAdapter(Pipeline([("prep", prep), ("est", estimator)]).fit(train[FEATURES], train["y"]))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_noisy_tree, {"fail"})  # unpruned tree on 20% flipped labels: attack AUC 0.722, CI 0.709-0.736


def test_membership_unpruned_tree_on_noisy_labels_fails():
    from sklearn.tree import DecisionTreeClassifier

    train, test = noisy_frames(2500, 1500, flip=0.2)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train)))
    assert status == "fail", findings.summary
    auc = findings.metrics["attack_auc"]
    assert auc.ci_low > 0.7 and value(findings, "membership_advantage") > 0.35
    # a memorising model: zero training loss, so AUC = 0.5 + (test error) / 2 and advantage = test error
    assert value(findings, "train_mean_loss") == pytest.approx(0.0, abs=1e-9)
    assert findings.sample["by_role"]["train"]["rows_used"] == 1500 == findings.sample["by_role"]["test"]["rows_used"]


def test_membership_one_nearest_neighbour_fails():
    from sklearn.neighbors import KNeighborsClassifier

    train, test = noisy_frames(2000, 2000, flip=0.25, seed=7)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(KNeighborsClassifier(1), train)))
    assert status == "fail", findings.summary


def test_membership_regularised_logistic_regression_passes():
    from sklearn.linear_model import LogisticRegression

    train, test = noisy_frames(6000, 3000, flip=0.1, seed=9)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(LogisticRegression(C=0.1), train)))
    assert status == "pass", findings.summary
    auc = findings.metrics["attack_auc"]
    assert auc.ci_low < 0.5 < auc.ci_high and abs(auc.value - 0.5) < 0.03
    assert value(findings, "membership_advantage") < 0.06 and "confidence_attack_auc" in findings.metrics


def test_membership_regression_memorising_tree_fails():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    frame = make_binary_frame(3000, seed=3)
    frame["y"] = 2 * frame["x1"] + rng.normal(0, 1, len(frame))
    train, test = frame.iloc[:2000], frame.iloc[2000:]
    model = fitted(DecisionTreeRegressor(random_state=0), train)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=model, task="regression"))
    assert status == "fail" and value(findings, "attack_auc") > 0.95
    assert "confidence_attack_auc" not in findings.metrics and "squared error" in findings.summary


def test_membership_without_probabilities_uses_zero_one_loss():
    from sklearn.svm import LinearSVC

    train, test = noisy_frames(1500, 1500, flip=0.1)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(LinearSVC(), train)))
    assert status == "pass" and "0/1 loss" in findings.summary


def test_membership_too_few_rows_is_inconclusive_and_reproducible():
    from sklearn.tree import DecisionTreeClassifier

    train, test = noisy_frames(300, 30, flip=0.2)
    ctx = make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train))
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "inconclusive"
    assert findings.summary == ("Inconclusive: 30 labelled rows per side (training and test); at least 50 are needed "
                                "to measure an attack.")
    train, test = noisy_frames(1000, 800, flip=0.2)
    ctx = make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train))
    first, _ = run(pv.MembershipInference, ctx)
    again, _ = run(pv.MembershipInference, make_ctx(train, test, model=ctx.model))
    assert payload(first) == payload(again)
    assert json.loads(json.dumps(payload(first), allow_nan=False)) == payload(first)


def test_membership_multiclass_memorising_tree_fails_and_unlabelled_test_is_inconclusive():
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(3000, seed=4)
    rng = np.random.default_rng(4)
    labels = np.array(["low", "mid", "high"])
    codes = np.digitize(frame["x1"], [-0.43, 0.43])
    noisy = rng.uniform(size=len(frame)) < 0.5
    codes[noisy] = rng.integers(0, 3, noisy.sum())
    frame["y"] = labels[codes]
    train, test = frame.iloc[:2000], frame.iloc[2000:]
    model = fitted(DecisionTreeClassifier(random_state=0), train)
    ctx = make_ctx(train, test, model=model, task="multiclass")
    ctx.classes = sorted(labels.tolist())
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "fail" and "cross-entropy" in findings.summary
    ctx.datasets["test"] = test.drop(columns="y").reset_index(drop=True)
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "inconclusive" and findings.summary.startswith("Inconclusive: 0 labelled rows per side")


def test_batched_membership_advantage_equals_roc_curve_on_every_resample():
    from auditor.checks.privacy import membership_advantage

    rng = np.random.default_rng(3)
    member = (rng.uniform(size=400) < 0.5).astype(int)
    score = np.round(rng.normal(size=400) + 0.4 * member, 1)  # rounded: many ties
    idx = rng.integers(0, 400, (40, 400))
    idx[0] = 7  # one row repeated: a single class, no rates
    batched = membership_advantage.batched(member[idx], score[idx])
    one_by_one = [membership_advantage(member[row], score[row]) if len(set(member[row])) == 2 else np.nan for row in idx]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(batched[0]) and np.nanmin(batched) >= 0
