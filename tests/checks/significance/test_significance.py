"""Planted-defect tests for the significance checks ST002 (better than baseline) and ST003 (test-set adequacy)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from auditor.checks import significance as st
from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.check import definition_problems
from auditor.contract.context import AuditContext
from auditor.engine.registry import Registered
from auditor.engine.runner import PlannedCheck, available_needs, run_checks, run_one
from auditor.engine.thresholds import judge
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run

FEATURES = ["x1", "x2", "colour", "noise"]


def binary_ctx(model=None, *, n_train: int = 3000, n_test: int = 3000, seed: int = 21) -> AuditContext:
    train, test = make_binary_frame(n_train, seed=seed), make_binary_frame(n_test, seed=seed + 1)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(model if model is not None else fit_pipeline(train)),
                        positive_label=1, classes=[0, 1], seed=0)


def predictions_ctx(y_test, pred, *, y_train=None, task="binary", classes=(0, 1), scores=None) -> AuditContext:
    """A predictions-only context: the model's outputs stored as columns of the test data."""
    y_test = np.asarray(y_test)
    test = pd.DataFrame({"f": np.zeros(len(y_test)), "y": y_test, "pred": np.asarray(pred)})
    if scores is not None:
        test["score"] = scores
    y_train = y_test if y_train is None else np.asarray(y_train)
    train = pd.DataFrame({"f": np.zeros(len(y_train)), "y": y_train, "pred": y_train})
    return AuditContext(
        datasets={"train": train, "test": test}, target="y", task=task, features=["f"],
        model=PredictionsAdapter(prediction_column="pred", score_column="score" if scores is not None else None),
        positive_label=classes[-1] if task == "binary" else None, classes=None if task == "regression" else list(classes), seed=0,
    )


def multiclass_ctx(*, useless: bool = False, n: int = 3000, seed: int = 4) -> AuditContext:
    """Three classes from a multinomial logistic model; a logistic regression fitted on it, or random predictions."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, 2))
    logits = np.column_stack([np.zeros(2 * n), 1.5 * X[:, 0], 1.5 * X[:, 1]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.uniform(size=(2 * n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    frame = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "y": y})
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].reset_index(drop=True)
    model = DummyClassifier(strategy="uniform", random_state=0) if useless else LogisticRegression(max_iter=500)
    model.fit(train[["u", "v"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="multiclass", features=["u", "v"],
                        model=SklearnAdapter(model), classes=["a", "b", "c"], seed=0)


def regression_ctx(*, useless: bool = False, n: int = 2000) -> AuditContext:
    """y = 2a - b + noise; a ridge regression on a and b, or (useless) on the irrelevant column z only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=2 * n), "b": rng.normal(size=2 * n), "z": rng.normal(size=2 * n)})
    frame = X.assign(y=2 * X["a"] - X["b"] + rng.normal(size=2 * n))
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].reset_index(drop=True)
    uses = ["z"] if useless else ["a", "b"]
    model = make_pipeline(ColumnTransformer([("x", "passthrough", uses)]), Ridge(alpha=1.0))
    model.fit(train[["a", "b", "z"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="regression", features=["a", "b", "z"],
                        model=SklearnAdapter(model), seed=0)


def uniform_random_model():
    """A classifier whose predictions are random: independent of the inputs and of the labels."""
    from sklearn.dummy import DummyClassifier

    train = make_binary_frame(100, seed=0)
    return DummyClassifier(strategy="uniform", random_state=0).fit(train[FEATURES], train["y"])


@pytest.mark.parametrize("cls", [st.MetricIntervals, st.BetterThanBaseline, st.TestSetAdequacy])
def test_definitions(cls):
    assert definition_problems(cls) == []


# -- ST002: the statistics against independent references ------------------------------
def test_mcnemar_exact_matches_one_sided_binomial():
    # 9 rows only the model gets right, 3 only the baseline: 12 discordant pairs, exact test.
    model = np.array([1] * 9 + [0] * 3 + [1] * 50 + [0] * 20, bool)
    base = np.array([0] * 9 + [1] * 3 + [1] * 50 + [0] * 20, bool)
    p, table = st.mcnemar_one_sided(model, base)
    assert table.tolist() == [[50, 9], [3, 20]]
    assert p == pytest.approx(stats.binomtest(9, 12, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_mcnemar_chi_square_matches_hand_computation():
    b, c = 60, 30  # 90 discordant pairs: continuity-corrected chi-square, halved
    model = np.array([1] * b + [0] * c + [1] * 100, bool)
    base = np.array([0] * b + [1] * c + [1] * 100, bool)
    p, _ = st.mcnemar_one_sided(model, base)
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)
    assert p == pytest.approx(stats.chi2.sf(chi2, 1) / 2, rel=1e-12)
    assert p == pytest.approx(stats.norm.sf((abs(b - c) - 1) / math.sqrt(b + c)), rel=1e-9)


def test_mcnemar_model_not_better_gives_one():
    model = np.array([1] * 5 + [0] * 8 + [1] * 40, bool)
    base = np.array([0] * 5 + [1] * 8 + [1] * 40, bool)
    assert st.mcnemar_one_sided(model, base)[0] == 1.0
    assert st.mcnemar_one_sided(base, base)[0] == 1.0


def balanced_accuracy_along(pred, k):
    """Balanced accuracy of fixed predictions against labels along the last axis (vectorised, by hand)."""
    def statistic(y, axis=-1):
        recalls = [np.sum((y == c) & (pred == c), axis=-1) / np.sum(y == c, axis=-1) for c in range(k)]
        return np.mean(recalls, axis=0)
    return statistic


def test_binary_chance_p_value_is_the_exact_permutation_test():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0, 1])
    pred = np.array([0, 0, 1, 1, 1, 0, 1, 0, 1])
    p, method = st.chance_p_value(y, pred, k=2)
    assert "Fisher" in method
    # 9! = 362,880 orderings: scipy enumerates them all.
    ref = stats.permutation_test((y,), balanced_accuracy_along(pred, 2), permutation_type="pairings", vectorized=True,
                                 n_resamples=np.inf, alternative="greater")
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_multiclass_chance_p_value_agrees_with_scipy_permutation_test():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 90)
    pred = np.where(rng.uniform(size=90) < 0.12, y, rng.integers(0, 3, 90))
    p, method = st.chance_p_value(y, pred, k=3, n_permutations=40000, random_state=1)
    assert "permutation" in method
    ref = stats.permutation_test((y,), balanced_accuracy_along(pred, 3), permutation_type="pairings", vectorized=True,
                                 n_resamples=40000, alternative="greater", rng=np.random.default_rng(2))
    assert 0.01 < ref.pvalue < 0.5  # an informative comparison, not two p-values at the floor
    assert p == pytest.approx(ref.pvalue, abs=0.01)


def test_chance_p_value_of_constant_or_unknown_predictions():
    y = np.array([0, 1] * 20)
    assert st.chance_p_value(y, np.zeros(40, int), k=2)[0] == 1.0
    # A predicted label that is not a class (-1) is never right; it is its own column, not a crash.
    pred = np.where(np.arange(40) % 4 == 0, -1, y)
    p, method = st.chance_p_value(y, pred, k=2, n_permutations=999)
    assert "permutation" in method and p < 0.01
    # Only class 1 and unknown labels predicted: a 2x2 table whose one right cell is off the
    # main diagonal; the test must still look at the right cell (here: always right on class 1).
    pred = np.where(y == 1, 1, -1)
    p, method = st.chance_p_value(y, pred, k=2, n_permutations=999)
    assert "permutation" in method and p < 0.01


# -- ST002: planted defects and controls ---------------------------------------------
def test_random_predictions_fail():
    findings, status = run(st.BetterThanBaseline, binary_ctx(uniform_random_model(), n_test=2000))
    m = findings.metrics
    assert status == "fail"
    assert m["p_value"].p_value is True and m["p_value"].value > 0.05
    assert abs(m["model_balanced_accuracy"].value - 0.5) < 0.03
    assert m["improvement"].ci_low < 0 < m["improvement"].ci_high
    assert m["baseline_balanced_accuracy"].value == 0.5


def test_majority_class_model_fails_with_p_one():
    from sklearn.dummy import DummyClassifier

    train = make_binary_frame(3000, seed=21)
    model = DummyClassifier(strategy="most_frequent").fit(train[FEATURES], train["y"])
    findings, status = run(st.BetterThanBaseline, binary_ctx(model))
    assert status == "fail"
    assert findings.metrics["p_value"].value == 1.0 and findings.metrics["mcnemar_p"].value == 1.0
    assert findings.metrics["improvement"].value == 0.0


def test_good_model_passes_and_reports_the_baselines():
    findings, status = run(st.BetterThanBaseline, binary_ctx())
    m = findings.metrics
    assert status == "pass"
    assert m["p_value"].value < 1e-50 and m["mcnemar_p"].value < 1e-20
    assert m["improvement"].value == pytest.approx(m["model_balanced_accuracy"].value - 0.5)
    assert m["improvement"].ci_low > 0.2
    table = findings.evidence[0]
    assert [r[0] for r in table.rows] == ["model", "majority class (always 1)", "stratified (expected)"]
    # The stratified baseline's expected balanced accuracy is 1/k whatever the class shares.
    assert table.rows[2][2] == pytest.approx(0.5)
    assert findings.figures and findings.figures[0].svg.startswith("<?xml")
    assert findings.sample["rows_used"] == 3000


def test_multiclass():
    findings, status = run(st.BetterThanBaseline, multiclass_ctx())
    assert status == "pass" and findings.metrics["p_value"].value == pytest.approx(1 / 10000)
    assert findings.metrics["baseline_balanced_accuracy"].value == pytest.approx(1 / 3)
    findings, status = run(st.BetterThanBaseline, multiclass_ctx(useless=True))
    assert status == "fail", findings.summary


def test_regression():
    findings, status = run(st.BetterThanBaseline, regression_ctx())
    assert status == "pass" and findings.metrics["p_value"].value < 0.001
    assert findings.metrics["improvement"].value > 0.7
    assert findings.metrics["baseline_r2"].value == pytest.approx(0, abs=0.01)
    findings, status = run(st.BetterThanBaseline, regression_ctx(useless=True))
    assert status == "fail" and findings.metrics["p_value"].value > 0.05


def test_regression_permutation_test_is_scipys_on_the_squared_error_gain():
    ctx = regression_ctx(n=300)
    findings, _ = run(st.BetterThanBaseline, ctx, n_permutations=999)
    y, pred = ctx.y("test").to_numpy(), ctx.predictions("test")
    base = ctx.y("train").mean()
    gain = (y - base) ** 2 - (y - pred) ** 2
    assert findings.metrics["mse_reduction"].value == pytest.approx(gain.mean())
    assert findings.metrics["p_value"].value == pytest.approx(1 / 1000)  # every sign flip does worse


def test_test_param_chooses_the_judged_p_value():
    # 80% of one class: a model with real signal whose accuracy is still below always predicting 0.
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=1000) < 0.2).astype(int)
    pred = np.where(y == 1, rng.uniform(size=1000) < 0.7, rng.uniform(size=1000) < 0.3).astype(int)
    ctx = predictions_ctx(y, pred)
    by_ba, status_ba = run(st.BetterThanBaseline, ctx)
    by_acc, status_acc = run(st.BetterThanBaseline, ctx, test="accuracy")
    both, status_both = run(st.BetterThanBaseline, ctx, test="both")
    assert by_ba.metrics["model_accuracy"].value < by_ba.metrics["baseline_accuracy"].value
    assert status_ba == "pass" and by_ba.metrics["p_value"].value < 1e-10
    assert status_acc == "fail" and by_acc.metrics["p_value"].value == 1.0
    assert status_both == "fail" and both.metrics["p_value"].value == 1.0


def test_degenerate_test_sets_are_inconclusive_with_the_reason():
    findings, status = run(st.BetterThanBaseline, predictions_ctx([0, 1, 0, 1, 1], [0, 1, 0, 1, 1]))
    assert status == "inconclusive" and "only 5 labelled test rows" in findings.summary
    findings, status = run(st.BetterThanBaseline, predictions_ctx(np.ones(50, int), np.ones(50, int), y_train=[0, 1] * 25))
    assert status == "inconclusive" and "single class" in findings.summary
    ctx = predictions_ctx([0, 1] * 25, [0, 1] * 25)
    ctx.datasets["train"]["y"] = np.nan
    findings, status = run(st.BetterThanBaseline, ctx)
    assert status == "inconclusive" and findings.summary == "Inconclusive: the training data has no labels to fit the baseline on."


def test_p_value_takes_part_in_the_audit_wide_correction():
    planned = [PlannedCheck(reg=Registered(st.BetterThanBaseline, "auditor", "0", "significance"), severity="high",
                            params={k: p.default for k, p in st.BetterThanBaseline.params.items()},
                            thresholds={k: t.as_dict() for k, t in st.BetterThanBaseline.thresholds.items()})]
    [result] = run_checks(binary_ctx(uniform_random_model()), planned)
    p = result.metrics["p_value"]
    assert p["adjusted"] == pytest.approx(p["value"]) and result.status == "fail"


def test_result_is_json_ready_and_reproducible():
    a, _ = run(st.BetterThanBaseline, multiclass_ctx())
    b, _ = run(st.BetterThanBaseline, multiclass_ctx())
    dump = lambda f: json.dumps([{k: m.to_dict() for k, m in f.metrics.items()}, [e.to_dict() for e in f.evidence]], allow_nan=False)
    assert dump(a) == dump(b)


# -- ST003 ---------------------------------------------------------------------------
def test_tiny_test_set_is_inconclusive_with_exact_counts():
    ctx = binary_ctx(n_test=40)
    findings, status = run(st.TestSetAdequacy, ctx)
    y = ctx.y("test").to_numpy()
    m = findings.metrics
    # Classes below min_class_rows: the data cannot decide; the interval width alone would fail.
    assert status == "inconclusive"
    assert judge(m, {k: t.as_dict() for k, t in st.TestSetAdequacy.thresholds.items()}) == "fail"
    assert m["smallest_class_rows"].value == np.bincount(y).min()
    acc = float(np.mean(ctx.predictions("test") == y))
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(acc * 40, 40, method="wilson")
    assert m["ci_width"].value == pytest.approx(high - low) and m["ci_width"].value > 0.2
    assert m["classes_below_min"].value == 2


def test_clean_test_set_passes():
    findings, status = run(st.TestSetAdequacy, binary_ctx())
    assert status == "pass", findings.summary
    assert findings.metrics["ci_width"].value < 0.04
    assert findings.metrics["rows_needed"].value < 3000


def test_power_and_sample_size_against_the_formulas():
    n = 500
    findings, _ = run(st.TestSetAdequacy, binary_ctx(n_test=n))
    ctx = binary_ctx(n_test=n)
    p = float(np.mean(ctx.predictions("test") == ctx.y("test").to_numpy()))
    # Cohen's h detectable by a two-sided z-test of two samples of n: (z_.975 + z_.8) * sqrt(2 / n).
    h = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(2 / n)
    other = p - findings.metrics["min_detectable_difference"].value
    assert 2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(other)) == pytest.approx(h, rel=1e-3)
    assert findings.metrics["rows_needed"].value == math.ceil(stats.norm.ppf(0.975) ** 2 * p * (1 - p) / 0.05**2)


def test_labels_only_uses_the_worst_case():
    ctx = binary_ctx(n_test=400)
    ctx.model = None
    assert "test" in available_needs(ctx) and "predictions" not in available_needs(ctx)
    findings, status = run(st.TestSetAdequacy, ctx)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(200, 400, method="wilson")
    assert findings.metrics["ci_width"].value == pytest.approx(high - low)
    assert "worst case of 50% accuracy" in findings.summary
    assert findings.metrics["rows_needed"].value == 385
    assert status == "pass"


def test_class_missing_from_the_test_set_is_inconclusive_and_named():
    ctx = predictions_ctx(np.array([0, 1] * 300), np.array([0, 1] * 300), classes=(0, 1, 2), task="multiclass")
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "inconclusive" and findings.metrics["smallest_class_rows"].value == 0
    assert "the rarest class, 2, has 0 rows" in findings.summary
    assert findings.evidence[0].rows[2][:2] == ["2", 0]


def test_small_class_warns():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(2000, int), np.ones(60, int)]
    findings, status = run(st.TestSetAdequacy, predictions_ctx(y, rng.permutation(y)))
    assert findings.metrics["smallest_class_rows"].value == 60 and status == "warn"


def test_no_labelled_rows_and_no_target():
    ctx = predictions_ctx([0, 1] * 10, [0, 1] * 10)
    ctx.datasets["test"]["y"] = np.nan
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "inconclusive" and findings.summary == "The test set has no labelled rows: nothing can be measured on it."
    ctx.datasets["test"] = ctx.datasets["test"].drop(columns="y")
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "skipped" and findings.summary == "Skipped: the test data has no target column 'y'."


def test_regression_adequacy():
    findings, status = run(st.TestSetAdequacy, regression_ctx())
    assert status == "pass" and findings.metrics["ci_width"].value < 0.05
    assert "bootstrap interval of R²" in findings.metrics["ci_width"].description
    ctx = regression_ctx(n=50)
    ctx.model = None
    findings, status = run(st.TestSetAdequacy, ctx)
    lo, hi = stats.chi2.ppf([0.975, 0.025], 49)
    assert findings.metrics["ci_width"].value == pytest.approx(math.sqrt(49 / hi) - math.sqrt(49 / lo))
    assert status == "fail"


def test_adequacy_through_the_runner_needs_only_test():
    ctx = binary_ctx(n_test=40)
    ctx.model = None
    item = PlannedCheck(reg=Registered(st.TestSetAdequacy, "auditor", "0", "significance"), severity="medium",
                        params={k: p.default for k, p in st.TestSetAdequacy.params.items()},
                        thresholds={k: t.as_dict() for k, t in st.TestSetAdequacy.thresholds.items()})
    result = run_one(ctx, item, available_needs(ctx))
    assert result.status == "inconclusive" and result.metrics["smallest_class_rows"]["status"] == "warn"
    assert result.metrics["ci_width"]["status"] == "fail"
    json.dumps(result.to_dict(), allow_nan=False)


def test_ranking_model_on_rare_positives_passes_on_its_auc():
    """3% positives, informative scores that never reach 0.5: balanced accuracy is 0.5, the AUC is not."""
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(8)
    y = (rng.uniform(size=4000) < 0.03).astype(int)
    scores = np.clip(0.05 + 0.15 * y + rng.normal(0, 0.06, size=y.size), 0, 0.45)
    pred = np.zeros_like(y)
    ctx = predictions_ctx(y, pred, scores=scores)
    findings, status = run(st.BetterThanBaseline, ctx)
    expected = mannwhitneyu(scores[y == 1], scores[y == 0], alternative="greater").pvalue
    assert findings.metrics["p_value"].value == pytest.approx(expected)
    assert findings.metrics["model_balanced_accuracy"].value == 0.5
    assert status == "pass"
    findings, status = run(st.BetterThanBaseline, ctx, test="balanced_accuracy")
    assert status == "fail"
