"""auditor.toolkit.stats: the shared bootstrap interval."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from auditor.toolkit.stats import bootstrap_ci


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


# -- batched bootstrap (issue #10): the same numbers, computed over an axis ---------------

import pytest  # noqa: E402

BATCHED_CASES = [
    ("accuracy", "binary", "labels"), ("balanced_accuracy", "binary", "labels"), ("f1", "binary", "labels"),
    ("roc_auc", "binary", "scores"), ("log_loss", "binary", "scores"),
    ("rmse", "regression", "values"), ("mae", "regression", "values"), ("r2", "regression", "values"),
]


def _batched_data(kind: str, n: int = 400):
    rng = np.random.default_rng(3)
    if kind == "values":
        y = rng.normal(size=n)
        return y, y + rng.normal(size=n)
    y = rng.integers(0, 2, n)
    s = np.clip(0.5 * rng.uniform(size=n) + 0.5 * y * rng.uniform(size=n), 0, 1)
    s[:40] = 0.5  # ties, which the rank form of the AUC must count half
    return y, (s if kind == "scores" else (s > 0.5).astype(int))


@pytest.mark.parametrize(("name", "task", "kind"), BATCHED_CASES)
def test_batched_metric_equals_scikit_learn_on_every_resample(name, task, kind):
    from auditor.toolkit.stats import metric_function

    y, out = _batched_data(kind)
    fn = metric_function(name, task=task, positive_label=1, classes=[0, 1])
    idx = np.random.default_rng(0).integers(0, len(y), (30, len(y)))
    idx[0] = 0  # one resample of a single row repeated (one class: no AUC)
    batched = fn.batched(y[idx], out[idx])
    one_by_one = []
    for row in idx:
        try:
            one_by_one.append(fn(y[row], out[row]))
        except ValueError:  # scikit-learn refuses an AUC on one class: the batch gives NaN
            one_by_one.append(np.nan)
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(("name", "task", "kind"), BATCHED_CASES)
def test_bootstrap_interval_is_the_same_batched_or_not(name, task, kind):
    from auditor.toolkit.stats import bootstrap_ci, metric_function

    y, out = _batched_data(kind)
    fn = metric_function(name, task=task, positive_label=1, classes=[0, 1])
    plain = lambda a, b: fn(a, b)  # noqa: E731 - no .batched: resample by resample
    strata = y if task == "binary" else None
    for kwargs in ({}, {"strata": strata}) if strata is not None else ({},):
        fast = bootstrap_ci(fn, y, out, n_resamples=120, random_state=5, **kwargs)
        slow = bootstrap_ci(plain, y, out, n_resamples=120, random_state=5, **kwargs)
        np.testing.assert_allclose(fast, slow, rtol=1e-12)


def test_bootstrap_memory_is_bounded_by_batches(monkeypatch):
    """A large sample is resampled in slices: the same interval (SciPy's draws do not depend
    on the slicing), and for stratified resamples an interval just as wide."""
    import auditor.toolkit.stats as st

    y, out = _batched_data("labels", n=2000)
    fn = st.metric_function("accuracy", task="binary", positive_label=1, classes=[0, 1])
    whole = st.bootstrap_ci(fn, y, out, n_resamples=100, random_state=2)
    whole_strat = st.bootstrap_ci(fn, y, out, n_resamples=100, random_state=2, strata=y)
    monkeypatch.setattr(st, "BOOTSTRAP_BATCH_CELLS", 2000 * 7)  # 7 resamples per batch
    assert st.bootstrap_batch_size(2000, 100) == 7
    np.testing.assert_allclose(st.bootstrap_ci(fn, y, out, n_resamples=100, random_state=2), whole, rtol=1e-12)
    est, low, high = st.bootstrap_ci(fn, y, out, n_resamples=100, random_state=2, strata=y)
    assert est == whole_strat[0]
    assert abs((high - low) - (whole_strat[2] - whole_strat[1])) < 0.3 * (whole_strat[2] - whole_strat[1])


def test_encode_labels_looks_up_each_distinct_value_as_the_row_by_row_lookup_did():
    from auditor.toolkit.stats import encode_labels

    def row_by_row(values, classes):
        lookup = {c: i for i, c in enumerate(classes)}
        lookup.update({str(c): i for i, c in enumerate(classes)})
        return [lookup.get(v, lookup.get(str(v), -1)) for v in values]

    cases = [
        (np.array([0, 1, 1, 0, 2]), [0, 1]),
        (np.array(["a", "b", None, np.nan, "c"], dtype=object), ["a", "b"]),
        (np.array([True, False, 1, 0, 1.0, "1", "True"], dtype=object), [0, 1]),
        (np.array([1.0, 0.0, np.nan]), [0, 1]),
        (np.array(["0", "1", "2"], dtype=object), [0, 1, 2]),
        (np.array([np.nan, "nan"], dtype=object), ["nan", "x"]),
        (np.array([], dtype=object), [0, 1]),
    ]
    for values, classes in cases:
        assert encode_labels(values, classes).tolist() == row_by_row(values, classes)


def test_weighted_auc_batched_equals_scikit_learn_with_sample_weights():
    from sklearn.metrics import roc_auc_score

    from auditor.toolkit.stats import weighted_auc_batched

    rng = np.random.default_rng(8)
    positive = rng.uniform(size=60) < 0.4
    score = np.round(rng.uniform(size=60), 1)  # few distinct scores: ties
    weights = rng.multinomial(60, np.full(60, 1 / 60), size=25).astype(float)
    weights[0] = np.where(positive, 1.0, 0.0)  # no negative weight: no AUC
    batched = weighted_auc_batched(positive, score, weights)
    expected = [np.nan if (w[positive].sum() == 0 or w[~positive].sum() == 0)
                else roc_auc_score(positive[w > 0], score[w > 0], sample_weight=w[w > 0]) for w in weights]
    np.testing.assert_allclose(batched, expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(batched[0])
