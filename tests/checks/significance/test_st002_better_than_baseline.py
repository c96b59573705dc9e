"""ST002 better-than-baseline (checks/significance/st002_better_than_baseline.py): better than a
trivial baseline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from auditor.checks import significance as st
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.engine.registry import Registered
from auditor.engine.runner import PlannedCheck, run_checks
from tests.checks.significance.conftest import FEATURES, binary_ctx, predictions_ctx, regression_ctx
from tests.conftest import make_binary_frame, three_class_split
from tests.conftest import run_check as run
from tests.planted import _ctx


def multiclass_ctx(*, useless: bool = False, n: int = 3000, seed: int = 4) -> AuditContext:
    """Three classes from a multinomial logistic model; a logistic regression fitted on it, or random predictions."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    train, test = three_class_split(n, seed=seed)
    model = DummyClassifier(strategy="uniform", random_state=0) if useless else LogisticRegression(max_iter=500)
    model.fit(train[["u", "v"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="multiclass", features=["u", "v"],
                        model=SklearnAdapter(model), classes=["a", "b", "c"], seed=0)


def uniform_random_model():
    """A classifier whose predictions are random: independent of the inputs and of the labels."""
    from sklearn.dummy import DummyClassifier

    train = make_binary_frame(100, seed=0)
    return DummyClassifier(strategy="uniform", random_state=0).fit(train[FEATURES], train["y"])


def _random_predictions() -> AuditContext:
    """A classifier whose predictions are random (DummyClassifier 'uniform'): no better than chance."""
    from sklearn.dummy import DummyClassifier

    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(DummyClassifier(strategy="uniform", random_state=0).fit(train[FEATURES], train["y"]))
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_random_predictions, {"fail"})


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
