"""Planted-defect tests for the robustness checks (RB001-RB005).

For every check: a planted defect is caught, a clean control passes, degenerate input
(no feature of the kind, one test row, an empty test set) gives a sensible status, the
policy's declared feature domains are respected, and the same seed gives the same
findings.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from auditor.checks import robustness as rb
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.check import definition_problems
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run

FEATURES = ["x1", "x2", "colour", "noise"]
NUMERIC = ["x1", "x2", "noise"]
CHECKS = [rb.NoiseSensitivity, rb.CategoricalPerturbation, rb.MissingValueHandling, rb.OutOfRangeInputs,
          rb.MonotonicConstraints]


def make_ctx(model, train: pd.DataFrame, test: pd.DataFrame, *, features=None, task="binary", fit=True, **kwargs) -> AuditContext:
    features = features or FEATURES
    if fit:
        model = model.fit(train[features], train["y"])
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    return AuditContext(datasets={"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)},
                        target="y", task=task, features=features, model=SklearnAdapter(model), seed=0, **kwargs)


def noisy_labels(n: int, seed: int, rate: float = 0.2) -> pd.DataFrame:
    frame = make_binary_frame(n, seed=seed)
    flip = np.random.default_rng(seed).uniform(size=n) < rate
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    return frame


def scaled_onehot():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])


def ordinal():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    # Output columns: colour, x1, x2, noise. A missing colour stays NaN for the booster to route.
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    return ColumnTransformer([("cat", encoder, ["colour"])], remainder="passthrough")


def imputing_logistic(fill: str | float = "median"):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    imputer = SimpleImputer(strategy="median") if fill == "median" else SimpleImputer(strategy="constant", fill_value=fill)
    prep = ColumnTransformer([("num", make_pipeline(imputer, StandardScaler()), NUMERIC),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])


def boosting(monotonic_cst=None):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    clf = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.1, max_iter=100, min_samples_leaf=40,
                                         l2_regularization=1.0, monotonic_cst=monotonic_cst, random_state=0)
    return Pipeline([("prep", ordinal()), ("clf", clf)])


def one_nn():
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline

    return Pipeline([("prep", scaled_onehot()), ("knn", KNeighborsClassifier(n_neighbors=1))])


def clean_ctx(**kwargs) -> AuditContext:
    """A logistic model with median imputation, increasing in x1 and decreasing in x2."""
    return make_ctx(imputing_logistic(), make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22), **kwargs)


@pytest.fixture(scope="module")
def clean():
    return clean_ctx()


@pytest.mark.parametrize("cls", CHECKS)
def test_definitions(cls):
    assert definition_problems(cls) == []
    assert cls.area == "robustness" and cls.needs == frozenset({"test", "model"})


@pytest.mark.parametrize("cls", CHECKS[:4])
def test_clean_control_passes(cls, clean):
    findings, status = run(cls, clean)
    assert status == "pass", findings.summary
    assert findings.sample == {"role": "test", "rows_used": 2000, "rows_available": 2000, "seed": clean.seed_for(cls.id)}


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
    with pytest.raises(ValueError, match=r"params.levels of RB001 must be a non-empty list of positive numbers; got \[0.1, 'x'\]"):
        run(rb.NoiseSensitivity, clean, levels=[0.1, "x"])


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


# -- RB002 ---------------------------------------------------------------------------
LEVELS = np.array([f"c{i}" for i in range(40)])


def chaotic_colour_ctx() -> AuditContext:
    """Half of 40 colours had their training labels inverted: the model learnt large, arbitrary
    per-colour effects that the test data (no inversion) does not share."""
    inverted = LEVELS[np.random.default_rng(3).permutation(40)[:20]]

    def frame(n: int, seed: int, *, invert: bool) -> pd.DataFrame:
        f = make_binary_frame(n, seed=seed)
        f["colour"] = np.random.default_rng(seed + 100).choice(LEVELS, size=n)
        if invert:
            hit = f["colour"].isin(inverted)
            f.loc[hit, "y"] = 1 - f.loc[hit, "y"]
        return f

    train = frame(3000, 1, invert=True)
    return make_ctx(fit_pipeline(train), train, frame(2000, 2, invert=False), fit=False)


def test_categorical_chaotic_reliance_fails():
    findings, status = run(rb.CategoricalPerturbation, chaotic_colour_ctx())
    m = findings.metrics["max_categorical_flip_rate"]
    # A swap moves a row to a colour of the other group 20 times in 39, and the prediction follows
    # unless x1 and x2 outweigh the learnt colour effect.
    assert 0.38 < m.value < 0.52 and m.ci_low > 0.30 and status == "fail"
    assert findings.evidence[0].rows[0][:3] == ["colour", 40, 2000]
    assert "'colour'" in findings.summary


def test_categorical_clean_model_passes_with_a_small_real_effect(clean):
    findings, status = run(rb.CategoricalPerturbation, clean)
    # 'red' adds 0.5 to the logit: only rows near the boundary flip.
    assert 0.01 < findings.metrics["max_categorical_flip_rate"].value < 0.15 and status == "pass"


def test_categorical_swaps_draw_other_train_categories():
    rng = np.random.default_rng(0)
    values = np.array(["a", "b", "c", None, "zz"] * 200, dtype=object)
    out, changed = rb._swap_categories(values, np.array(["a", "b", "c"], dtype=object), np.array([8, 1, 1]), rng)
    assert (out[changed] != values[changed]).all() and set(out[changed]) <= {"a", "b", "c"}
    assert not changed[3::5].any() and out[3] is None  # missing values are kept
    from_b = out[1::5]
    assert 0.8 < np.mean(from_b == "a") < 0.95  # drawn by frequency, the row's own value excluded


def test_categorical_without_categorical_features_passes_with_zero():
    from sklearn.linear_model import LogisticRegression

    train, test = make_binary_frame(600, seed=1), make_binary_frame(300, seed=2)
    findings, status = run(rb.CategoricalPerturbation, make_ctx(LogisticRegression(), train, test, features=NUMERIC))
    assert status == "pass" and findings.metrics["max_categorical_flip_rate"].value == 0
    assert findings.summary == ("The model has no mutable categorical feature with two or more levels, so nothing was "
                                "swapped: the flip rate is 0.")


def test_categorical_one_level_and_immutable_features_are_not_swapped():
    train, test = make_binary_frame(1000, seed=1), make_binary_frame(500, seed=2)
    for f in (train, test):
        f["plant"] = "north"
        f["shift"] = np.where(f["x2"] > 0, "day", "night")
    ctx = make_ctx(fit_pipeline(train), train, test, features=[*FEATURES, "plant", "shift"], fit=False)
    ctx.feature_domains = {"shift": {"immutable": True}}
    findings, _ = run(rb.CategoricalPerturbation, ctx)
    assert [r[0] for r in findings.evidence[0].rows] == ["colour"]
    assert "Not swapped: declared immutable: shift; one level only: plant." in findings.summary


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


def test_weak_input_segments_find_a_planted_region_and_stay_quiet_on_clean_data():
    from auditor.checks.robustness import WeakInputSegments as WeakSegments
    from tests.planted import _ctx, _rb_weak_region

    params = {k: p.default for k, p in WeakSegments.params.items()}
    findings = WeakSegments().run(_rb_weak_region(), params)
    assert findings.metrics["weak_slices"].value >= 1
    assert "colour = red" in findings.evidence[0].rows[0][0]
    for seed in range(3):  # the decision-boundary band of a calibrated model is not called weak
        clean = _ctx(make_binary_frame(3000, seed=100 + seed), make_binary_frame(3000, seed=200 + seed))
        assert WeakSegments().run(clean, params).metrics["weak_slices"].value == 0
