"""Planted-defect tests for the calibration check CA001 (checks/calibration/ca001_calibration.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import calibration as ca
from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.check import definition_problems
from auditor.contract.context import AuditContext
from auditor.engine.registry import Registered
from auditor.engine.runner import PlannedCheck, available_needs, run_one
from tests.conftest import fit_pipeline, make_binary_frame, run_check, three_class_split
from tests.planted import _ctx

FEATURES = ["x1", "x2", "colour", "noise"]
CA = ca.ExpectedCalibrationError


def run(ctx, **overrides):
    return run_check(CA, ctx, **overrides)


class Sharpened:
    """A fitted classifier whose probabilities are pushed towards 0 and 1 (p**power, renormalised).

    Its labels (the argmax) are the wrapped model's: only the probabilities are wrong.
    """

    def __init__(self, model, power: float = 3.0):
        self.model, self.power, self.classes_ = model, power, model.classes_

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        p = self.model.predict_proba(X) ** self.power
        return p / p.sum(axis=1, keepdims=True)


def binary_ctx(model=None, *, n_test: int = 3000) -> AuditContext:
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(n_test, seed=22)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(model if model is not None else fit_pipeline(train)),
                        positive_label=1, classes=[0, 1], seed=0)


def scores_ctx(y, scores) -> AuditContext:
    """Predictions-only binary context: labels and positive-class scores as columns."""
    y = np.asarray(y)
    frame = pd.DataFrame({"f": np.zeros(len(y)), "y": y, "pred": (np.asarray(scores) > 0.5).astype(int), "score": scores})
    return AuditContext(datasets={"train": frame, "test": frame}, target="y", task="binary", features=["f"],
                        model=PredictionsAdapter(prediction_column="pred", score_column="score"),
                        positive_label=1, classes=[0, 1], seed=0)


def multiclass_ctx(*, power: float = 1.0, n: int = 3000) -> AuditContext:
    from sklearn.linear_model import LogisticRegression

    train, test = three_class_split(n, seed=4)
    model = LogisticRegression(max_iter=500).fit(train[["u", "v"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="multiclass", features=["u", "v"],
                        model=SklearnAdapter(Sharpened(model, power) if power != 1 else model),
                        classes=["a", "b", "c"], seed=0)


def planned(**params) -> PlannedCheck:
    return PlannedCheck(reg=Registered(CA, "auditor", "0", "calibration"), severity="medium",
                        params={**{k: p.default for k, p in CA.params.items()}, **params},
                        thresholds={k: t.as_dict() for k, t in CA.thresholds.items()})


def _overconfident() -> AuditContext:
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    ctx.model = SklearnAdapter(Sharpened(fit_pipeline(make_binary_frame(3000, seed=11))))
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_overconfident, {"fail"})


def test_definition():
    assert definition_problems(CA) == []
    assert CA.tasks == frozenset({"binary", "multiclass"})


# -- the statistics against independent references ------------------------------------
def test_ece_hand_computation_on_a_tiny_example():
    prob = np.array([0.05, 0.15, 0.15, 0.85, 0.95])
    outcome = np.array([0, 0, 1, 1, 1])
    # bins [0, .1]: |0 - .05|; (.1, .2]: 2 rows, |.5 - .15|; (.8, .9]: |1 - .85|; (.9, 1]: |1 - .95|
    expected = (0.05 + 2 * 0.35 + 0.15 + 0.05) / 5
    assert ca.expected_calibration_error(outcome, prob, bins=10) == pytest.approx(expected)
    assert expected == pytest.approx(0.19)
    assert ca.expected_calibration_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_ece_agrees_with_sklearn_calibration_curve(strategy):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    prob = rng.uniform(size=1000) ** 2
    outcome = (rng.uniform(size=1000) < prob ** 0.7).astype(int)
    observed, predicted = calibration_curve(outcome, prob, n_bins=8, strategy=strategy)
    edges = np.percentile(prob, np.linspace(0, 100, 9)) if strategy == "quantile" else np.linspace(0, 1, 9)
    counts = np.histogram(prob, bins=edges)[0]
    reference = np.sum(counts[counts > 0] * np.abs(observed - predicted)) / len(prob)
    assert ca.expected_calibration_error(outcome, prob, bins=8, strategy=strategy) == pytest.approx(reference, rel=1e-9)


def test_brier_against_sklearn_and_the_one_hot_definition():
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = rng.uniform(size=200)
    brier, reference = ca.brier_score(y, s, "binary", 1, 2)
    assert brier == pytest.approx(brier_score_loss(y, s)) and brier == pytest.approx(np.mean((s - y) ** 2))
    assert reference == pytest.approx(y.mean() * (1 - y.mean()))
    proba = rng.dirichlet([1, 1, 1], size=200)
    y3 = rng.integers(0, 3, 200)
    brier, _ = ca.brier_score(y3, proba, "multiclass", None, 3)
    assert brier == pytest.approx(np.mean(np.sum((proba - np.eye(3)[y3]) ** 2, axis=1)))


# -- planted defects and controls -----------------------------------------------------
def test_calibrated_logistic_model_passes():
    findings, status = run(binary_ctx())
    m = findings.metrics["ece"]
    assert status == "pass", findings.summary
    assert m.value < 0.04 and m.ci_high < 0.05
    assert findings.metrics["brier_skill"].value > 0.2
    assert findings.figures[0].svg.startswith("<?xml") and "Reliability" in findings.figures[0].title


def test_sharpened_probabilities_fail():
    findings, status = run(binary_ctx(Sharpened(fit_pipeline(make_binary_frame(3000, seed=21)))))
    m = findings.metrics["ece"]
    assert status == "fail"
    assert m.value > 0.12 and m.ci_low > 0.10
    # Over-confident: in the top bin the observed frequency is well below the mean probability.
    top = findings.evidence[0].rows[-1]
    assert top[0] == "0.90-1.00" and top[3] < top[2] - 0.05


def test_naive_bayes_on_correlated_features_fails():
    from sklearn.naive_bayes import GaussianNB

    rng = np.random.default_rng(5)
    n = 6000
    signal = rng.normal(size=n)
    # Five noisy copies of one signal: naive Bayes counts the same evidence five times.
    X = pd.DataFrame({f"c{i}": signal + rng.normal(scale=0.3, size=n) for i in range(5)})
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-signal))).astype(int)
    frame = X.assign(y=y)
    train, test = frame.iloc[:3000].reset_index(drop=True), frame.iloc[3000:].reset_index(drop=True)
    features = list(X.columns)
    ctx = AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=features,
                       model=SklearnAdapter(GaussianNB().fit(train[features], train["y"])), positive_label=1, classes=[0, 1], seed=0)
    findings, status = run(ctx)
    assert status == "fail" and findings.metrics["ece"].ci_low > 0.10


def test_multiclass_uses_top_label_confidence():
    findings, status = run(multiclass_ctx())
    assert status == "pass" and "top-label confidence" in findings.metrics["ece"].description
    findings, status = run(multiclass_ctx(power=3.0))
    assert status == "fail"
    ctx = multiclass_ctx(power=3.0)
    proba, y = ctx.probabilities("test"), ctx.y("test").map({"a": 0, "b": 1, "c": 2}).to_numpy()
    hand = ca.expected_calibration_error((proba.argmax(axis=1) == y).astype(float), proba.max(axis=1), bins=10)
    assert findings.metrics["ece"].value == pytest.approx(hand)


def test_small_test_set_straddling_the_fail_level_is_inconclusive():
    findings, status = run(binary_ctx(n_test=200), min_rows=100)
    m = findings.metrics["ece"]
    assert m.ci_low < 0.10 < m.ci_high
    assert status == "inconclusive"


def test_too_few_rows_for_the_ece_are_inconclusive_with_the_reason():
    findings, status = run(binary_ctx(n_test=200))
    assert status == "inconclusive" and "biased upwards below 300 rows" in findings.summary


def test_quantile_binning_is_reported_and_selectable():
    findings, _ = run(binary_ctx())
    assert "ece_quantile" in findings.metrics
    findings, status = run(binary_ctx(), strategy="quantile", bins=15)
    assert "ece_uniform" in findings.metrics and "15 quantile bins" in findings.summary
    assert sum(r[1] for r in findings.evidence[0].rows) == 3000
    assert status == "pass"


# -- degenerate inputs ----------------------------------------------------------------
def test_one_class_and_tiny_test_sets_are_inconclusive():
    findings, status = run(scores_ctx(np.ones(40, int), np.linspace(0.2, 0.9, 40)))
    assert status == "inconclusive" and "the 40 test rows hold a single class" in findings.summary
    findings, status = run(scores_ctx([0, 1, 1, 0, 1], [0.1, 0.8, 0.7, 0.3, 0.9]))
    assert status == "inconclusive" and "only 5 labelled test rows" in findings.summary


def test_scores_outside_zero_one_are_inconclusive():
    rng = np.random.default_rng(0)
    findings, status = run(scores_ctx(rng.integers(0, 2, 400), rng.normal(size=400)))
    assert status == "inconclusive" and "probabilities lie in [0, 1]" in findings.summary


def test_rows_without_a_probability_are_left_out_and_counted():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p).astype(int)
    s = p.copy()
    s[:20] = np.nan
    findings, status = run(scores_ctx(y, s))
    assert "20 rows without a finite probability were left out" in findings.summary
    assert findings.sample["rows_used"] == 480 and status == "pass"


def test_skipped_without_probabilities_or_for_regression():
    ctx = scores_ctx([0, 1] * 50, [0.3, 0.7] * 50)
    ctx.model = PredictionsAdapter(prediction_column="pred")
    result = run_one(ctx, planned(), available_needs(ctx))
    assert result.status == "skipped" and "the model gives no probabilities" in result.summary
    ctx.task = "regression"
    result = run_one(ctx, planned(), available_needs(ctx))
    assert result.status == "skipped" and result.summary == "Skipped: does not apply to regression tasks."


def test_result_is_json_ready_and_reproducible():
    ctx = binary_ctx(Sharpened(fit_pipeline(make_binary_frame(3000, seed=21))))
    first = run_one(ctx, planned(), available_needs(ctx)).to_dict()
    again = run_one(ctx, planned(), available_needs(ctx)).to_dict()
    first.pop("duration_s"), again.pop("duration_s")
    assert json.dumps(first, allow_nan=False) == json.dumps(again, allow_nan=False)
    assert first["status"] == "fail" and first["metrics"]["ece"]["status"] == "fail"
