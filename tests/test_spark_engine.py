"""The Spark engine in local mode: the same statistics as the pandas engine on the same data
(exact for counts, within stated tolerances for sketches and the Poisson bootstrap), the
seeded sample, scoring on the executors, the CLI and the Python API.

Marked ``spark`` and ``slow``: the everyday loop (``-m "not slow"``) skips it; CI runs it.
Tolerances, as the README states them:

- row-hash counts (duplicates, overlap), nulls, min and max: exact;
- distinct counts: HyperLogLog++ at 2% relative standard error (held to 6% here);
- quantiles: KLL with k = 200, normalised rank error under 1.65% at 99% confidence (held to 2%);
- metric point estimates from the model's outputs: exact, ROC AUC within 0.002 (binned);
- bootstrap bounds: the Poisson bootstrap's, within 0.01 of the resampling bootstrap's on 2,000+ rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.contract.compute_spark import pyspark_problem

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(pyspark_problem() is not None, reason="pyspark 4.1+ is not installed")]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spark():
    from auditor.contract.compute_spark import spark_session

    return spark_session({"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4",
                          "spark.driver.memory": "1g"})


def _frames(seed: int = 0):
    """A train and a test table with planted repeats and overlap, mixed types and missing values."""
    rng = np.random.default_rng(seed)
    n = 3000
    train = pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.integers(0, 50, n).astype("int64"),
        "colour": rng.choice(["red", "green", "blue"], n).astype(object), "y": rng.integers(0, 2, n).astype("int64"),
    })
    train.loc[rng.choice(n, 60, replace=False), "colour"] = None
    train.loc[rng.choice(n, 40, replace=False), "x1"] = np.nan
    train = pd.concat([train, train.iloc[:150]], ignore_index=True)  # 150 exact repeats
    test = pd.DataFrame({
        "x1": rng.normal(size=1500), "x2": rng.integers(0, 50, 1500).astype("int64"),
        "colour": rng.choice(["red", "green", "blue"], 1500).astype(object), "y": rng.integers(0, 2, 1500).astype("int64"),
    })
    test = pd.concat([test, train.iloc[200:320]], ignore_index=True)  # 120 test rows copy training rows
    return train, test


def _engines(spark, train, test, *, sample_rows=100_000):
    from auditor.contract.compute import PandasStatistics
    from auditor.contract.compute_spark import SparkStatistics
    from auditor.contract.context import AuditContext

    frames = {"train": spark.createDataFrame(train), "test": spark.createDataFrame(test)}
    sparked = SparkStatistics(spark, frames, sample_rows=sample_rows, seed=3)
    samples = sparked.draw_samples()
    common = dict(target="y", task="binary", features=["x1", "x2", "colour"], classes=[0, 1], positive_label=1)
    return (AuditContext(datasets={"train": train, "test": test}, engine=PandasStatistics(), **common),
            AuditContext(datasets=samples, engine=sparked, **common))


def test_row_hash_counts_nulls_and_ranges_equal_the_pandas_engine(spark):
    train, test = _frames()
    pdx, spx = _engines(spark, train, test)
    cols = ["x1", "x2", "colour"]
    assert spx.stats.distributed and spx.stats.engine == "spark"
    assert spx.stats.duplicate_rows("train", cols) == pdx.stats.duplicate_rows("train", cols) >= 150
    assert spx.stats.repeated_share("train", cols) == pytest.approx(pdx.stats.repeated_share("train", cols), abs=1e-12)
    assert spx.stats.matching_rows("test", "train", cols) == pdx.stats.matching_rows("test", "train", cols) == 120
    assert spx.stats.matching_rows("test", "train", cols + ["y"]) == pdx.stats.matching_rows("test", "train", cols + ["y"])
    a, b = pdx.stats.column_profile("train", cols), spx.stats.column_profile("train", cols)
    for c in cols:
        assert (a[c].rows, a[c].nulls, a[c].minimum, a[c].maximum) == (b[c].rows, b[c].nulls, b[c].minimum, b[c].maximum)
        assert b[c].distinct == pytest.approx(a[c].distinct, rel=0.06)


def test_kll_quantiles_are_within_the_sketch_rank_error(spark):
    rng = np.random.default_rng(1)
    big = pd.DataFrame({"x1": rng.lognormal(size=50_000), "x2": 0, "colour": "red", "y": 0})
    pdx, spx = _engines(spark, big, big.iloc[:100])
    probs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
    got = spx.stats.quantiles("train", "x1", probs)
    values = np.sort(big["x1"].to_numpy())
    ranks = np.searchsorted(values, got) / len(values)
    assert np.all(np.abs(ranks - np.array(probs)) < 0.02), ranks
    assert np.allclose(pdx.stats.quantiles("train", "x1", [0.5]), np.quantile(values, 0.5, method="inverted_cdf"))


def test_the_sample_is_seeded_exact_in_size_and_independent_of_partitioning(spark):
    from auditor.contract.compute_spark import SparkStatistics

    train, test = _frames()
    frames = {"train": spark.createDataFrame(train), "test": spark.createDataFrame(test)}
    one = SparkStatistics(spark, frames, sample_rows=1000, seed=5).draw_samples()
    again = SparkStatistics(spark, {r: f.repartition(7) for r, f in frames.items()}, sample_rows=1000, seed=5).draw_samples()
    other = SparkStatistics(spark, frames, sample_rows=1000, seed=6).draw_samples()
    assert len(one["train"]) == 1000 and len(one["test"]) == 1000
    key = ["x1", "x2", "colour", "y"]

    def rows(f):
        return sorted(map(str, f[key].itertuples(index=False)))

    assert rows(one["train"]) == rows(again["train"])
    assert rows(one["train"]) != rows(other["train"])
    # a table no larger than the sample comes whole and in its order, with the pandas engine's dtypes
    whole = SparkStatistics(spark, frames, sample_rows=100_000, seed=5).draw_samples()
    pd.testing.assert_frame_equal(whole["test"], test, check_dtype=False)
    assert str(whole["test"]["x2"].dtype) == "int64" and str(whole["test"]["x1"].dtype) == "float64"


def _model(train):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer([
        ("num", SimpleImputer(), ["x1", "x2"]),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder()), ["colour"]),
    ])
    X = train[["x1", "x2", "colour"]].copy()
    y = ((X["x1"].fillna(0) + 0.05 * X["x2"] + np.random.default_rng(0).normal(size=len(X))) > 1).astype(int)
    return Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(X, y), y


def test_st001_on_the_cluster_matches_the_pandas_engine_within_the_stated_tolerance(spark):
    from auditor.checks.significance.st001_test_metric_intervals import MetricIntervals
    from auditor.contract.adapters import SklearnAdapter
    from tests.conftest import run_check

    train, test = _frames(2)
    model, _ = _model(train)
    test = test.assign(y=model.predict(test[["x1", "x2", "colour"]]) ^ (np.random.default_rng(1).uniform(size=len(test)) < 0.2))
    pdx, spx = _engines(spark, train, test)
    for ctx in (pdx, spx):
        ctx.model = SklearnAdapter(model)
    a, status_a = run_check(MetricIntervals, pdx)
    b, status_b = run_check(MetricIntervals, spx)
    assert status_a == status_b
    assert b.sample["rows_used"] == b.sample["rows_available"] == len(test)
    for name in ("accuracy", "balanced_accuracy", "f1", "log_loss"):
        assert b.metrics[name].value == pytest.approx(a.metrics[name].value, abs=1e-9), name
    assert b.metrics["roc_auc"].value == pytest.approx(a.metrics["roc_auc"].value, abs=0.002)
    for name in ("accuracy", "balanced_accuracy", "roc_auc", "f1"):
        assert b.metrics[name].ci_low == pytest.approx(a.metrics[name].ci_low, abs=0.01), name
        assert b.metrics[name].ci_high == pytest.approx(a.metrics[name].ci_high, abs=0.01), name
    assert "Poisson bootstrap" in b.evidence[0].note


@pytest.mark.parametrize("kind", ["lightgbm", "onnx"])
def test_boosting_and_onnx_models_are_shipped_to_the_executors(spark, tmp_path, kind):
    """The adapter is broadcast (an ONNX session is rebuilt from the model's bytes there)."""
    from auditor.checks.significance.st001_test_metric_intervals import MetricIntervals
    from auditor.contract.adapters import load_model
    from tests.conftest import fit_pipeline, make_binary_frame, run_check

    frame = make_binary_frame(2500, seed=7)
    train, test = frame.iloc[:1500].reset_index(drop=True), frame.iloc[1500:].reset_index(drop=True)
    features = ["x1", "x2", "colour", "noise"]
    if kind == "onnx":
        from tests.adapters.test_onnx import to_onnx

        path = tmp_path / "model.onnx"
        path.write_bytes(to_onnx(fit_pipeline(train), train[features]))
    else:
        import lightgbm

        features = ["x1", "x2", "noise"]
        path = tmp_path / "model.txt"
        lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(train[features], train["y"]).booster_.save_model(path)
    model = load_model(path, classes=[0, 1] if kind == "lightgbm" else None)
    pdx, spx = _engines(spark, train, test)
    for ctx in (pdx, spx):
        ctx.model, ctx.features = model, features
    a, _ = run_check(MetricIntervals, pdx)
    b, _ = run_check(MetricIntervals, spx)
    assert b.sample["rows_used"] == len(test)
    assert b.metrics["balanced_accuracy"].value == pytest.approx(a.metrics["balanced_accuracy"].value, abs=1e-12)
    assert b.metrics["roc_auc"].value == pytest.approx(a.metrics["roc_auc"].value, abs=0.002)


def test_a_model_that_raises_on_the_executors_is_an_error_result_with_its_message(spark):
    from auditor.checks.significance.st001_test_metric_intervals import MetricIntervals
    from auditor.contract.adapters import SklearnAdapter
    from tests.broken_model import RaisesOnPredict
    from tests.conftest import run_result

    train, test = _frames()
    _, spx = _engines(spark, train, test)
    spx.model = SklearnAdapter(RaisesOnPredict())
    spx.features = ["x1", "x2", "colour"]
    result = run_result(MetricIntervals, spx, expect_error=True)
    assert result.status == "error"
    assert "scoring the test data on the cluster failed" in result.summary
    assert "feature store is offline" in result.summary


def test_duplicates_and_overlap_checks_give_the_same_results_on_both_engines(spark):
    from auditor.checks.data_quality.dq002_duplicate_rows import DuplicateRows
    from auditor.checks.leakage.lk001_row_overlap import RowOverlap
    from tests.conftest import findings_payload, run_check

    train, test = _frames()
    pdx, spx = _engines(spark, train, test)
    for cls in (DuplicateRows, RowOverlap):
        a, status_a = run_check(cls, pdx)
        b, status_b = run_check(cls, spx)
        assert status_a == status_b and status_a in ("warn", "fail"), cls.id
        pa, pb = findings_payload(a), findings_payload(b)
        assert pa["metrics"] == pb["metrics"], cls.id
        assert pa["evidence"][0] == pb["evidence"][0], cls.id
    # on a sample smaller than the tables, the counts are still over every row
    _, small = _engines(spark, train, test, sample_rows=1000)
    got, _ = run_check(RowOverlap, small)
    assert got.metrics["test_overlap_rate"].value == pytest.approx(120 / len(test))
    assert len(small.frame("test")) == 1000


def test_constant_columns_are_found_over_every_row_on_both_engines(spark):
    from auditor.checks.data_quality.dq003_constant_columns import ConstantColumns
    from tests.conftest import findings_payload, run_check

    train, test = _frames(4)
    n = len(train)
    train = train.assign(k=7, rare=np.where(np.arange(n) < 12, "odd", "usual"), gone=np.nan)
    test = test.assign(k=7, rare="usual", gone=np.nan)
    pdx, spx = _engines(spark, train, test, sample_rows=1000)
    for ctx in (pdx, spx):
        ctx.features = ["x1", "x2", "colour", "k", "rare", "gone"]
    a, status_a = run_check(ConstantColumns, pdx)
    b, status_b = run_check(ConstantColumns, spx)
    assert status_a == status_b == "fail"
    assert findings_payload(a)["metrics"] == findings_payload(b)["metrics"]
    assert a.evidence[0].rows == b.evidence[0].rows  # k constant, gone all missing, rare near-constant
    assert {r[0] for r in b.evidence[0].rows} == {"k", "gone", "rare"}
    assert b.sample is None  # every row, not the 1,000-row sample


def test_api_accepts_spark_dataframes_and_catalog_tables_and_states_every_sample(spark, tmp_path):
    import auditor

    train, test = _frames()
    model, _ = _model(train)
    sdf_train, sdf_test = spark.createDataFrame(train), spark.createDataFrame(test)
    sdf_test.createOrReplaceTempView("auditor_test_rows")
    report = auditor.audit(model=model, train=sdf_train, test="auditor_test_rows", target="y", sample_rows=2000,
                           policy={"select": ["DQ001", "DQ002", "LK001", "ST001", "OF001"]}, progress=False)
    data = report.to_dict()
    assert data["engine"]["name"] == "spark" and data["engine"]["sample_rows"] == 2000
    assert data["inputs"]["datasets"]["test"]["source"] == "catalog table read by Spark"
    assert data["inputs"]["datasets"]["train"]["rows"] == len(train)
    by_id = {c["id"]: c for c in data["checks"]}
    # row-reading checks ran on the seeded sample and say so; the statistics ones on every row
    dq = by_id["DQ001"]["sample"]
    assert dq["by_role"]["train"]["rows_used"] == 2000 and dq["by_role"]["test"]["rows_used"] == len(test)
    assert dq["rows_available"] == len(train) + len(test) and dq["drawn"].startswith("seeded sample")
    assert by_id["LK001"]["sample"] is None
    assert by_id["ST001"]["sample"]["rows_used"] == len(test)
    from auditor.render.html import row_scope

    lines = {line["kind"]: line["areas"] for line in row_scope(data)}
    assert "LK001" in lines["rows-all"] and f"DQ001 ({2000 + len(test):,} of {len(train) + len(test):,} train and test rows" in lines["rows-sample"]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=900)


def test_cli_refuses_bad_spark_inputs_with_one_line(tmp_path):
    got = _cli("run", "--engine", "spark", "--train", str(tmp_path / "nope.parquet"), "--test", str(tmp_path / "nope.parquet"),
               "--target", "y", "--predictions", "p", "--out", str(tmp_path / "out"), "-q")
    assert got.returncode == 2
    assert "path not found" in got.stderr and "Traceback" not in got.stderr
    got = _cli("run", "--spark-conf", "spark.driver.memory=1g", "--test", "t.csv", "--target", "y", "--predictions", "p",
               "--out", str(tmp_path / "out"))
    assert got.returncode == 2 and "go with --engine spark" in got.stderr
    got = _cli("run", "--engine", "spark", "--spark-conf", "driver.memory", "--test", "t.csv", "--target", "y",
               "--predictions", "p", "--out", str(tmp_path / "out"))
    assert got.returncode == 2 and "KEY=VALUE" in got.stderr


def test_bundled_example_on_spark_has_the_statuses_of_the_pandas_engine(tmp_path):
    """The README's example audit, once per engine: every status equal, every metric within tolerance."""
    model = ROOT / "examples" / "adult" / "model.skops"
    if not model.is_file():
        subprocess.run([sys.executable, str(ROOT / "examples" / "adult" / "train_model.py"), "--out", str(model)], check=True)
    common = ["--model", str(model), "--trust-type", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
              "--train", "examples/adult/adult_train.csv.gz", "--test", "examples/adult/adult_test.csv.gz",
              "--target", "income", "--positive-label", ">50K", "--sensitive", "sex", "--sensitive", "race",
              "--policy", "examples/adult/audit.yaml", "--format", "json", "-q"]
    pandas_run = _cli("run", *common, "--out", str(tmp_path / "pandas"))
    spark_run = _cli("run", *common, "--engine", "spark", "--spark-conf", "spark.master=local[2]", "--out", str(tmp_path / "spark"))
    assert pandas_run.returncode == spark_run.returncode == 1, spark_run.stderr[-2000:]
    a = {c["id"]: c for c in json.loads((tmp_path / "pandas" / "report.json").read_text())["checks"]}
    b = {c["id"]: c for c in json.loads((tmp_path / "spark" / "report.json").read_text())["checks"]}
    assert {k: v["status"] for k, v in a.items()} == {k: v["status"] for k, v in b.items()}
    for check_id, check in a.items():
        for name, metric in check["metrics"].items():
            other = b[check_id]["metrics"][name]
            # ST001's bounds come from a different bootstrap (Poisson weights): within its noise
            tolerance = 0.005 if check_id == "ST001" else 1e-9
            for key in ("value", "ci_low", "ci_high"):
                if isinstance(metric.get(key), float):
                    assert other[key] == pytest.approx(metric[key], abs=tolerance), (check_id, name, key)
                else:
                    assert other.get(key) == metric.get(key), (check_id, name, key)
