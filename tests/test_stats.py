"""auditor.stats: the shared bootstrap interval."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from auditor.stats import bootstrap_ci


def test_stratified_bootstrap_keeps_rare_classes_in_every_resample():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(3, int), np.zeros(197, int)]
    scores = np.where(y == 1, rng.uniform(0.4, 1.0, y.size), rng.uniform(0.0, 0.8, y.size))
    est, low, high = bootstrap_ci(roc_auc_score, y, scores, strata=y, n_resamples=300, random_state=1)
    assert est == roc_auc_score(y, scores)
    assert low is not None and low <= est <= high
    seen = []
    # Every stratified resample has exactly 3 positives, so no resample is undefined.
    est2, low2, high2 = bootstrap_ci(lambda a, b: seen.append(a.sum()) or 0.0, y, scores, strata=y, n_resamples=50)
    assert set(seen[1:]) == {3}


def test_stratified_and_plain_intervals_agree_on_balanced_data():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2000)
    pred = np.where(rng.uniform(size=y.size) < 0.8, y, 1 - y)
    acc = lambda a, b: float(np.mean(a == b))  # noqa: E731 - a tiny metric for the test
    _, lo_s, hi_s = bootstrap_ci(acc, y, pred, strata=y, n_resamples=500)
    _, lo_p, hi_p = bootstrap_ci(acc, y, pred, n_resamples=500)
    assert abs((hi_s - lo_s) - (hi_p - lo_p)) < 0.01
