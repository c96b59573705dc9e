"""Simulations of the significance checks' statistics against known truths (slow).

(a) ST001's bootstrap intervals (auditor.toolkit.stats.bootstrap_ci, as ST001 calls it) cover a
metric whose true value is known exactly about 95% of the time. (b) ST002's baseline
test rejects a truly useless model (predictions independent of the labels) at about the
nominal rate, and the check fails such a model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import significance as st
from auditor.contract.adapters import PredictionsAdapter
from auditor.contract.context import AuditContext
from auditor.contract.results import Figure
from auditor.toolkit.stats import bootstrap_ci, metric_function
from tests.conftest import run_check

REPEATS = 300
# 500 test sets put the standard error of a 95% coverage near 1%: the 92%-98% window is about 3 of them.
COVERAGE_REPEATS = 500


def binary_test_set(rng: np.random.Generator, n: int, *, prevalence: float, recall: tuple[float, float]):
    """Labels with the given prevalence; each prediction right with probability recall[class]."""
    y = (rng.uniform(size=n) < prevalence).astype(int)
    right = rng.uniform(size=n) < np.where(y == 1, recall[1], recall[0])
    return y, np.where(right, y, 1 - y)


# Numpy twins of ST001's metric functions: scipy's bootstrap calls the statistic once per
# resample, and scikit-learn's input checks would make 300 x 200 calls take a minute.
# Each twin is checked equal to auditor.toolkit.stats.metric_function, so the intervals are ST001's.
def accuracy(y, pred):
    return float(np.mean(y == pred))


def balanced_accuracy(y, pred):
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def roc_auc(y, score):
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n1 = int(np.sum(y == 1))
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("one class only")  # bootstrap_ci turns this into an undefined resample
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


TWINS = {"accuracy": accuracy, "balanced_accuracy": balanced_accuracy, "roc_auc": roc_auc}


def coverage(metric: str, truth: float, draw, *, n: int, seed: int) -> float:
    reference = metric_function(metric, task="binary", positive_label=1, classes=[0, 1])
    fn = TWINS[metric]
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(COVERAGE_REPEATS):
        y, out = draw(rng, n)
        if i < 5:
            assert fn(y, out) == pytest.approx(reference(y, out), abs=1e-12)
        _, low, high = bootstrap_ci(fn, y, out, n_resamples=200, confidence=0.95, random_state=i)
        hits += low <= truth <= high
    return hits / COVERAGE_REPEATS


def labels_and_predictions(prevalence: float, recall: tuple[float, float]):
    return lambda rng, n: binary_test_set(rng, n, prevalence=prevalence, recall=recall)


@pytest.mark.slow
def test_bootstrap_interval_of_accuracy_covers_the_truth():
    # Accuracy = 0.4 * 0.9 + 0.6 * 0.7 = 0.78 exactly, in the population the test sets are drawn from.
    rate = coverage("accuracy", 0.4 * 0.9 + 0.6 * 0.7, labels_and_predictions(0.4, (0.7, 0.9)), n=200, seed=1)
    assert 0.92 <= rate <= 0.98, rate


@pytest.mark.slow
def test_bootstrap_interval_of_balanced_accuracy_covers_the_truth():
    # Balanced accuracy = (0.7 + 0.9) / 2 = 0.8 whatever the prevalence.
    rate = coverage("balanced_accuracy", 0.8, labels_and_predictions(0.3, (0.7, 0.9)), n=300, seed=2)
    assert 0.92 <= rate <= 0.98, rate


@pytest.mark.slow
def test_bootstrap_interval_of_roc_auc_covers_the_truth():
    from scipy.stats import norm

    def draw(rng, n):  # scores N(0, 1) for negatives, N(1, 1) for positives: AUC = Phi(1 / sqrt(2))
        y = (rng.uniform(size=n) < 0.4).astype(int)
        return y, rng.normal(size=n) + y

    rate = coverage("roc_auc", float(norm.cdf(1 / np.sqrt(2))), draw, n=250, seed=3)
    assert 0.92 <= rate <= 0.98, rate


def useless_context(rng: np.random.Generator, n: int, *, classes: list, shares: list[float]) -> AuditContext:
    """A test set whose predictions are drawn independently of its labels (and a training set for the baseline)."""
    draw = lambda size, p: np.asarray(classes)[rng.choice(len(classes), size=size, p=p)]
    test = pd.DataFrame({"f": np.zeros(n), "y": draw(n, shares), "pred": draw(n, [1 / len(classes)] * len(classes))})
    train = pd.DataFrame({"f": np.zeros(n), "y": draw(n, shares), "pred": draw(n, shares)})
    return AuditContext(
        datasets={"train": train, "test": test}, target="y", task="binary" if len(classes) == 2 else "multiclass",
        features=["f"], model=PredictionsAdapter(prediction_column="pred"), classes=list(classes),
        positive_label=classes[-1] if len(classes) == 2 else None, seed=0,
    )


def false_alarms(classes: list, shares: list[float], *, n: int, repeats: int, seed: int, **params) -> tuple[float, float]:
    """Share of useless models the baseline test rejects (p < 0.05, uncorrected), and share the check fails."""
    rng = np.random.default_rng(seed)
    settings = {"n_resamples": 50} | params
    rejected = failed = 0
    for _ in range(repeats):
        findings, status = run_check(st.BetterThanBaseline, useless_context(rng, n, classes=classes, shares=shares), **settings)
        rejected += findings.metrics["p_value"].value < 0.05
        failed += status == "fail"
    return rejected / repeats, failed / repeats


@pytest.fixture()
def no_figures(monkeypatch):
    """The figure does not enter the statistic; drawing it 500 times would double the run time.
    The stub gives an empty Figure, not None: the engine serialises every figure a check returns."""
    monkeypatch.setattr(st.st002_better_than_baseline, "bar_chart", lambda *args, **kwargs: Figure(title="", svg=""))


@pytest.mark.slow
@pytest.mark.usefixtures("no_figures")
def test_baseline_test_false_alarm_rate_binary():
    rejected, failed = false_alarms([0, 1], [0.65, 0.35], n=200, repeats=REPEATS, seed=3)
    # Fisher's exact test is discrete, so at most alpha; a test that never rejects would be useless too.
    assert 0.01 <= rejected <= 0.08, rejected
    assert failed >= 0.92, failed


@pytest.mark.slow
@pytest.mark.usefixtures("no_figures")
def test_baseline_test_false_alarm_rate_multiclass():
    rejected, failed = false_alarms(["a", "b", "c"], [0.5, 0.3, 0.2], n=150, repeats=REPEATS, seed=4, n_permutations=999)
    assert 0.01 <= rejected <= 0.08, rejected
    assert failed >= 0.92, failed


@pytest.mark.slow
def test_baseline_test_has_power_against_a_weak_model():
    # The other side of the false-alarm rate: a model with balanced accuracy 0.6 on 400 rows is found.
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(REPEATS):
        y, pred = binary_test_set(rng, 400, prevalence=0.35, recall=(0.6, 0.6))
        found += st.chance_p_value(y, pred, k=2)[0] < 0.05
    # A two-proportion test of recall 0.6 against 0.4 on about 140 and 260 rows has power above 0.95.
    assert found / REPEATS >= 0.8, found / REPEATS
