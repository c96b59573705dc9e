"""The engine seam without Spark: Poisson-bootstrap weights, replicate sums that merge across
batches, metrics from cell totals against scikit-learn, and the pandas engine's statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from auditor.contract.compute import PandasStatistics, encode_outputs, poisson_weights, replicate_sums
from auditor.contract.context import AuditContext
from auditor.toolkit.output_sums import OutputCells, binned_auc, replicate_metrics


def test_poisson_weights_have_the_poisson_1_moments_and_depend_only_on_key_replicate_and_seed():
    keys = np.arange(200_000, dtype=np.uint64)
    w = poisson_weights(keys, 3, seed=7)
    assert w.shape == (200_000, 3)
    assert abs(w.mean() - 1.0) < 0.01 and abs(w.var() - 1.0) < 0.02
    assert abs((w == 0).mean() - np.exp(-1)) < 0.005  # P(0) of Poisson(1)
    # the same keys in another order, or alone, get the same weights
    shuffled = np.random.default_rng(0).permutation(keys)
    again = poisson_weights(shuffled, 3, seed=7)
    assert np.array_equal(again, w[shuffled.astype(np.int64)])
    assert not np.array_equal(poisson_weights(keys[:1000], 3, seed=8), w[:1000])
    # replicates are independent of one another (correlation near zero)
    assert abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 0.01


def test_replicate_sums_of_batches_add_up_to_the_sums_of_the_whole():
    rng = np.random.default_rng(1)
    n = 5_000
    y = rng.integers(0, 2, n)
    p = rng.uniform(size=n)
    proba = np.column_stack([1 - p, p])
    pred = (p > 0.5).astype(int)
    cells = OutputCells(task="binary", n_classes=2, proba=True, positive=1, bins=64)
    keys = np.arange(n, dtype=np.uint64)
    size, contributions = cells(y, pred, proba)
    whole_t, whole_r = replicate_sums(size, contributions, keys, replicates=20, seed=3)
    parts_t, parts_r = np.zeros(size), np.zeros((20, size))
    for lo, hi in ((0, 1234), (1234, 4000), (4000, n)):
        s, c = cells(y[lo:hi], pred[lo:hi], proba[lo:hi])
        t, r = replicate_sums(s, c, keys[lo:hi], replicates=20, seed=3)
        parts_t += t
        parts_r += r
    np.testing.assert_allclose(parts_t, whole_t)
    np.testing.assert_allclose(parts_r, whole_r)


def _binary(n=4000, seed=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1)
    return y, (p > 0.5).astype(int), np.column_stack([1 - p, p])


def test_binary_metrics_from_cells_equal_scikit_learn():
    y, pred, proba = _binary()
    cells = OutputCells(task="binary", n_classes=2, proba=True, positive=1)
    size, contributions = cells(y, pred, proba)
    totals, _ = replicate_sums(size, contributions, np.arange(len(y), dtype=np.uint64), replicates=1, seed=0)
    got = cells.metrics(totals)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba[:, 1]), abs=1e-9)
    # binned: 2,048 bins put the area within 0.002 of the exact one (here far closer)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]), abs=0.002)
    # the positive class may be code 0: F1 and AUC then score class 0
    cells0 = OutputCells(task="binary", n_classes=2, proba=True, positive=0)
    s0, c0 = cells0(y, pred, proba)
    t0, _ = replicate_sums(s0, c0, np.arange(len(y), dtype=np.uint64), replicates=1, seed=0)
    m0 = cells0.metrics(t0)
    assert m0["f1"] == pytest.approx(skm.f1_score(y, pred, pos_label=0), abs=1e-12)
    assert m0["roc_auc"] == pytest.approx(skm.roc_auc_score(y == 0, proba[:, 0]), abs=0.002)


def test_multiclass_and_regression_metrics_from_cells_equal_scikit_learn():
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + np.eye(3)[y] * 1.2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    cells = OutputCells(task="multiclass", n_classes=3, proba=True)
    s, c = cells(y, pred, proba)
    t, _ = replicate_sums(s, c, np.arange(n, dtype=np.uint64), replicates=1, seed=0)
    got = cells.metrics(t)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-12)
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", labels=[0, 1, 2]), abs=0.002)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]), abs=1e-6)

    yr = rng.normal(size=n) * 3
    pr = yr + rng.normal(size=n)
    reg = OutputCells(task="regression")
    s, c = reg(yr, pr, None)
    t, _ = replicate_sums(s, c, np.arange(n, dtype=np.uint64), replicates=1, seed=0)
    m = reg.metrics(t)
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(yr, pr)), rel=1e-9)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(yr, pr), rel=1e-9)
    assert m["r2"] == pytest.approx(skm.r2_score(yr, pr), rel=1e-9)


def test_poisson_bootstrap_interval_matches_the_resampling_bootstrap_within_its_noise():
    y, pred, proba = _binary(n=3000, seed=4)
    cells = OutputCells(task="binary", n_classes=2, proba=True, positive=1)
    s, c = cells(y, pred, proba)
    _, reps = replicate_sums(s, c, np.arange(len(y), dtype=np.uint64), replicates=400, seed=5)
    acc = replicate_metrics(cells, reps)["accuracy"]
    rng = np.random.default_rng(6)
    classic = [skm.accuracy_score(y[i], pred[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(400))]
    # the spread of the accuracy: sqrt(p(1-p)/n) = 0.0089 here; the two bootstraps agree to a tenth of it
    assert np.std(acc) == pytest.approx(np.std(classic), rel=0.12)
    assert np.std(acc) == pytest.approx(np.sqrt(acc.mean() * (1 - acc.mean()) / len(y)), rel=0.12)


def test_binned_auc_of_separated_and_identical_scores():
    assert binned_auc([0, 0, 5], [5, 0, 0]) == 1.0
    assert binned_auc([0, 4, 0], [0, 4, 0]) == 0.5
    assert np.isnan(binned_auc([0, 0], [1, 1]))


def test_encode_outputs_drops_unlabelled_rows_and_codes_labels_by_class_position():
    y, pred, proba = encode_outputs(np.array(["b", None, "a"], dtype=object), np.array(["a", "a", "b"]), None,
                                    classes=["b", "a"])
    assert y.tolist() == [0, 1] and pred.tolist() == [1, 0] and proba is None


def _context(frames: dict[str, pd.DataFrame]) -> AuditContext:
    return AuditContext(datasets=frames, target="y", task="binary", features=["a", "b"])


def test_pandas_statistics_count_repeats_and_matches_over_the_given_columns():
    train = pd.DataFrame({"a": [1, 1, 2, 3, 3, 3], "b": ["x", "x", "y", "z", "z", "w"], "y": [0, 1, 0, 1, 1, 0]})
    test = pd.DataFrame({"a": [1.0, 2.0, 9.0], "b": ["x", "y", "y"], "y": [0, 0, 1]})
    ctx = _context({"train": train, "test": test})
    assert ctx.stats.engine == "pandas" and not ctx.stats.distributed
    assert ctx.stats.duplicate_rows("train", ["a", "b"]) == 2  # (1, x) and (3, z) repeat once each
    assert ctx.stats.repeated_share("train", ["a", "b"]) == pytest.approx(4 / 6)
    # an int 1 in train equals a float 1.0 in test
    assert ctx.stats.matching_rows("test", "train", ["a", "b"]) == 2
    assert ctx.stats.matching_rows("test", "train", ["a", "b", "y"]) == 2
    profile = ctx.stats.column_profile("train", ["a", "b"])
    assert (profile["a"].distinct, profile["a"].minimum, profile["a"].maximum, profile["b"].minimum) == (3, 1.0, 3.0, None)
    assert ctx.stats.quantiles("train", "a", [0.0, 0.5, 1.0]).tolist() == [1.0, 2.0, 3.0]
    assert ctx.rows_available("train") == 6
    assert PandasStatistics().describe() == {"name": "pandas"}


def test_engine_spark_without_pyspark_is_a_clear_exit_2(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['pyspark'] = None\n"
            "from auditor.cli import entry\n"
            "sys.argv = ['auditor', 'run', '--engine', 'spark', '--test', 't.parquet', '--target', 'y', '--predictions', 'p',"
            f" '--out', {str(tmp_path / 'out')!r}]\n"
            "entry()\n")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert got.returncode == 2
    assert "--engine spark needs pyspark 4.1 or newer, which is not installed: pip install 'auditor[spark]'" in got.stderr
    assert "Traceback" not in got.stderr
    assert not (tmp_path / "out").exists()
