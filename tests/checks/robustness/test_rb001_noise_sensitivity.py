"""RB001 noise-sensitivity (checks/robustness/rb001_noise_sensitivity.py): sensitivity of
predictions to small noise on numeric features."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from auditor.checks import robustness as rb
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.robustness.conftest import FEATURES, NUMERIC, boosting, clean_ctx, make_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def noisy_labels(n: int, seed: int, rate: float = 0.2) -> pd.DataFrame:
    frame = make_binary_frame(n, seed=seed)
    flip = np.random.default_rng(seed).uniform(size=n) < rate
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    return frame


def scaled_onehot():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])


def one_nn():
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline

    return Pipeline([("prep", scaled_onehot()), ("knn", KNeighborsClassifier(n_neighbors=1))])


def _rb_one_nn() -> AuditContext:
    """A 1-nearest-neighbour model on 20% flipped labels: noise of 0.05 spread flips about 19% of its predictions."""
    from sklearn.compose import ColumnTransformer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, test = noisy_labels(10000, 5), noisy_labels(2000, 6)
    prep = ColumnTransformer([("num", StandardScaler(), ["x1", "x2", "noise"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(Pipeline([("prep", prep), ("knn", KNeighborsClassifier(n_neighbors=1))]).fit(train[FEATURES], train["y"]))
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_one_nn, {"fail"})


# -- RB001 ---------------------------------------------------------------------------
def test_noise_one_nn_on_noisy_labels_fails_while_regularised_boosting_passes():
    train, test = noisy_labels(10000, 5), noisy_labels(2000, 6)
    findings, status = run(rb.NoiseSensitivity, make_ctx(one_nn(), train, test))
    m = findings.metrics["flip_rate_small_noise"]
    # A 1-nearest-neighbour reproduces its neighbour's (20% wrong) label: noise of 0.05 spread
    # changes the neighbour, and the label with it, for about a fifth of the rows.
    assert m.value > 0.15 and m.ci_low > 0.15 and status == "fail"
    assert [r[0] for r in findings.evidence[0].rows] == [0.01, 0.05, 0.1, 0.25]
    rates = [r[1] for r in findings.evidence[0].rows]
    assert rates == sorted(rates)  # the same draws, scaled: more noise, more flips
    assert findings.figures and findings.figures[0].svg.startswith("<?xml")

    findings, status = run(rb.NoiseSensitivity, make_ctx(boosting(), train, test))
    m = findings.metrics["flip_rate_small_noise"]
    assert m.value < 0.05 and m.ci_high < 0.05 and status == "pass"


def test_noise_clean_logistic_flips_only_near_the_boundary(clean):
    findings, _ = run(rb.NoiseSensitivity, clean)
    assert findings.metrics["flip_rate_small_noise"].value < 0.03
    assert findings.metrics["baseline_balanced_accuracy"].value > 0.7
    assert "2,000 sampled test rows" in findings.summary
    assert [r[0] for r in findings.evidence[1].rows] == NUMERIC


def test_noise_regression_measures_mean_change_in_target_spreads():
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=6000), "b": rng.normal(size=6000)})
    frame["y"] = 2 * frame["a"] - frame["b"] + rng.normal(size=6000)
    train, test = frame.iloc[:4000], frame.iloc[4000:]
    ridge = make_ctx(Ridge(), train, test, features=["a", "b"], task="regression")
    findings, status = run(rb.NoiseSensitivity, ridge)
    # Linear: noise of 0.05 sd moves the prediction by about 0.8 * 0.05 * sd(signal) / sd(y).
    assert findings.metrics["flip_rate_small_noise"].value == pytest.approx(0.8 * 0.05 * np.sqrt(5 / 6), abs=0.006)
    assert status == "pass" and "of the target's spread" in findings.summary
    knn = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=1))
    assert run(rb.NoiseSensitivity, make_ctx(knn, train, test, features=["a", "b"], task="regression"))[1] == "fail"


def test_noise_judge_level_is_added_to_the_levels(clean):
    findings, _ = run(rb.NoiseSensitivity, clean, levels=[0.1, 0.01], judge_level=0.02)
    assert [r[0] for r in findings.evidence[0].rows] == [0.01, 0.02, 0.1]
    assert findings.metrics["flip_rate_small_noise"].value == findings.evidence[0].rows[1][1]


def test_noise_rejects_levels_that_are_not_positive_numbers(clean):
    findings, status = run(rb.NoiseSensitivity, clean, levels=[0.1, "x"], expect_error=True)
    error = findings.result.error  # the engine keeps the check's exception as an error result
    assert status == "error" and error["type"] == "ValueError"
    assert re.search(r"params.levels of RB001 must be a non-empty list of positive numbers; got \[0.1, 'x'\]", error["message"])


def test_noise_without_numeric_features_is_skipped():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train, test = make_binary_frame(600, seed=1), make_binary_frame(300, seed=2)
    ctx = make_ctx(make_pipeline(OneHotEncoder(), LogisticRegression()), train, test, features=["colour"])
    findings, status = run(rb.NoiseSensitivity, ctx)
    assert status == "skipped"
    assert findings.summary == "Skipped: the model has no mutable numeric feature with a spread to add noise to."
    findings, status = run(rb.OutOfRangeInputs, ctx)
    assert status == "skipped" and findings.summary == "Skipped: the model has no mutable numeric feature to push beyond its range."


def test_noise_all_numeric_features_immutable_is_skipped_with_the_reason():
    ctx = clean_ctx()
    ctx.feature_domains = {c: {"immutable": True} for c in NUMERIC}
    findings, status = run(rb.NoiseSensitivity, ctx)
    assert status == "skipped" and "(3 declared immutable)" in findings.summary


def test_noise_leaves_a_spike_at_zero_alone_and_says_why():
    """A capital-gains-like column (90% zeros): noise scaled by its standard deviation would turn
    zeros into small gains the data never holds. A tree split at 'any gain at all' then flips on
    noise that is off the data's support; RB001 leaves such a column out and lists it."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(3)
    n = 3000
    gain = np.where(rng.uniform(size=n) < 0.9, 0.0, rng.exponential(5000, size=n)).round()
    x1 = rng.normal(size=n)
    y = ((gain > 0) | (x1 > 1.0)).astype(int)
    frame = pd.DataFrame({"gain": gain, "x1": x1, "y": y})
    train, test = frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(train[["gain", "x1"]], train["y"])
    ctx = AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=["gain", "x1"],
                       model=SklearnAdapter(model), positive_label=1, classes=[0, 1], seed=0)
    findings, status = run(rb.NoiseSensitivity, ctx)
    perturbed = findings.evidence[1]
    assert [r[0] for r in perturbed.rows] == ["x1"]
    assert "zero interquartile range" in perturbed.note and "gain" in perturbed.note
    # the split on x1 at 1.0 flips only rows within the noise of it: a smooth, small rate
    assert findings.metrics["flip_rate_small_noise"].value < 0.05 and status == "pass"
    only_gain = AuditContext(datasets={"train": train[["gain", "y"]], "test": test[["gain", "y"]]}, target="y",
                             task="binary", features=["gain"], positive_label=1, classes=[0, 1], seed=0,
                             model=SklearnAdapter(DecisionTreeClassifier(max_depth=1).fit(train[["gain"]], train["y"])))
    findings, status = run(rb.NoiseSensitivity, only_gain)
    assert status == "skipped" and "1 with a zero interquartile range" in findings.summary
