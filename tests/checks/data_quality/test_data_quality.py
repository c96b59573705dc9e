"""Planted-defect tests for the data-quality checks (DQ001-DQ011).

For every check: clean data passes, a planted defect reads close to its planted size and
judges as expected, and degenerate input gives a sensible result without crashing.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import data_quality as dq
from auditor.contract.check import Check, definition_problems
from auditor.contract.context import AuditContext
from tests.conftest import run_check as run

N = 1000
HOSTILE = ["<script>alert(1)</script>", "col with spaces 列", 'quo"te\'s', "ünï€ødé $x$", "a\nb"]


def make_frame(n: int = N, *, seed: int = 0) -> pd.DataFrame:
    """Clean data: independent continuous and categorical columns, a balanced binary target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(10, 3, size=n),
            "k": rng.integers(0, 10, size=n),
            "color": pd.array(rng.choice(["red", "green", "blue", "black", "white"], size=n), dtype="str"),
            "size": pd.array(rng.choice(["S", "M", "L"], size=n), dtype="str"),
            "y": rng.integers(0, 2, size=n),
        }
    )


def make_ctx(train: pd.DataFrame, test: pd.DataFrame | None = None, *, target: str = "y", task: str = "binary",
             current: pd.DataFrame | None = None, **kwargs) -> AuditContext:
    datasets = {"train": train, "test": make_frame(seed=1) if test is None else test}
    if current is not None:
        datasets["current"] = current
    features = kwargs.pop("features", [c for c in train.columns if c != target])
    return AuditContext(datasets=datasets, target=target, task=task, features=features, seed=0, **kwargs)


def value(findings, name: str) -> float:
    return findings.metrics[name].value


def module_checks() -> list[type[Check]]:
    return [
        v for v in vars(dq).values()
        if inspect.isclass(v) and issubclass(v, Check) and v is not Check and (v.__module__ == dq.__name__ or v.__module__.startswith(dq.__name__ + "."))
    ]


# -- definitions ------------------------------------------------------------------
def test_module_defines_dq001_to_dq011():
    assert sorted(c.id for c in module_checks()) == [f"DQ{i:03d}" for i in range(1, 12)]
    assert set(dq.CHECKS) == set(module_checks())


@pytest.mark.parametrize("cls", dq.CHECKS, ids=lambda c: c.id)
def test_definition_is_valid(cls):
    assert definition_problems(cls) == []
    assert cls.area == "data_quality"
    assert cls.thresholds, "every check has a thresholded metric"
    assert cls.practices and cls.references


@pytest.mark.parametrize("cls", dq.CHECKS, ids=lambda c: c.id)
def test_clean_data_passes(cls):
    findings, status = run(cls, make_ctx(make_frame()))
    assert status == "pass", (findings.summary, {k: m.value for k, m in findings.metrics.items()})
    assert set(cls.thresholds) <= set(findings.metrics)
    assert findings.summary
    for word in ("passed", "failed"):
        assert word not in findings.summary.lower()


# One train row and one test row: the test row's class and size differ from train's.
ONE_ROW_STATUS = {
    "DQ001": "pass", "DQ002": "pass", "DQ003": "skipped", "DQ004": "pass", "DQ005": "pass", "DQ006": "pass",
    "DQ007": "fail", "DQ008": "pass", "DQ009": "fail", "DQ010": "pass", "DQ011": "pass",
}


@pytest.mark.parametrize("cls", dq.CHECKS, ids=lambda c: c.id)
def test_one_row_frames(cls):
    findings, status = run(cls, make_ctx(make_frame(1), make_frame(1, seed=1)))
    assert status == ONE_ROW_STATUS[cls.id], findings.summary
    assert findings.summary


@pytest.mark.parametrize("cls", dq.CHECKS, ids=lambda c: c.id)
def test_empty_train_is_skipped(cls):
    findings, status = run(cls, make_ctx(make_frame(0)))
    assert status == "skipped"
    assert findings.summary == "Skipped: the training data has no rows."


# -- DQ001 missing-values ---------------------------------------------------------
def test_missing_counts_placeholders():
    train = make_frame()
    color = train["color"].astype(object)
    color.iloc[:80] = "?"  # 8% disguised missing values
    color.iloc[80:85] = " NA "  # placeholders are compared after stripping
    train["color"] = pd.array(color, dtype="str")
    findings, status = run(dq.MissingValues, make_ctx(train))
    assert value(findings, "max_missing_rate") == pytest.approx(0.085, abs=1e-9)
    assert status == "warn"
    (table,) = findings.evidence
    row = table.rows[0]
    assert row[0] == "color" and row[1] == pytest.approx(0.085)
    assert "'?'" in row[-1] and "'NA'" in row[-1]
    assert findings.figures and findings.figures[0].svg.lstrip().startswith("<?xml")


def test_missing_nan_in_test_fails_and_current_target_is_ignored():
    test = make_frame(seed=1)
    test.loc[: int(0.4 * N) - 1, "x1"] = np.nan
    current = make_frame(seed=2).drop(columns="y")
    current["x2"] = current["x2"].astype(object)
    current.loc[:9, "x2"] = None
    findings, status = run(dq.MissingValues, make_ctx(make_frame(), test, current=current))
    assert value(findings, "max_missing_rate") == pytest.approx(0.40)
    assert status == "fail"
    cols = findings.evidence[0].columns
    assert cols == ["column", "train", "test", "current", "placeholders seen"]
    by_col = {r[0]: r for r in findings.evidence[0].rows}
    assert by_col["x2"][3] == pytest.approx(0.01)
    assert "y" not in by_col


def test_missing_all_nan_column():
    train = make_frame()
    train["empty"] = np.nan
    findings, status = run(dq.MissingValues, make_ctx(train, make_frame(seed=1).assign(empty=1.0)))
    assert value(findings, "max_missing_rate") == 1.0
    assert status == "fail"


def test_missing_custom_placeholders():
    train = make_frame()
    train.loc[:99, "color"] = "unknown"
    findings, _ = run(dq.MissingValues, make_ctx(train), placeholders=["unknown"])
    assert value(findings, "max_missing_rate") == pytest.approx(0.10)
    findings, status = run(dq.MissingValues, make_ctx(train), placeholders=[])
    assert value(findings, "max_missing_rate") == 0 and status == "pass"


# -- DQ002 duplicate-rows ---------------------------------------------------------
def with_duplicates(frame: pd.DataFrame, n_dup: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = frame.iloc[: len(frame) - n_dup]
    copies = base.iloc[rng.integers(0, len(base), size=n_dup)]
    return pd.concat([base, copies], ignore_index=True)


def test_duplicates_ten_percent_fail():
    train = with_duplicates(make_frame(), 100)
    findings, status = run(dq.DuplicateRows, make_ctx(train))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    assert findings.evidence[0].rows[0][:3] == ["train", N, 100]
    examples = findings.evidence[1]
    assert examples.rows and all(len(str(v)) <= 40 for r in examples.rows for v in r)


def test_duplicates_one_percent_in_test_warns():
    findings, status = run(dq.DuplicateRows, make_ctx(make_frame(), with_duplicates(make_frame(seed=1), 10)))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.01, abs=1e-9)
    assert status == "warn"


def test_duplicates_differing_only_in_target_are_not_duplicates():
    train = make_frame()
    extra = train.iloc[:50].assign(y=1 - train["y"].iloc[:50])
    findings, status = run(dq.DuplicateRows, make_ctx(pd.concat([train, extra], ignore_index=True)))
    assert value(findings, "max_duplicate_rate") == 0 and status == "pass"


def test_duplicates_long_text_truncated():
    train = make_frame(10)
    train["color"] = "x" * 500
    train["x1"] = 1.0
    train["x2"] = 2.0
    train["k"] = 3
    train["size"] = "S"
    train["y"] = 0
    findings, status = run(dq.DuplicateRows, make_ctx(train))
    assert value(findings, "max_duplicate_rate") == pytest.approx(0.9)
    assert all(len(str(v)) <= 40 for r in findings.evidence[1].rows for v in r)


# -- DQ003 constant-columns -------------------------------------------------------
def test_constant_and_near_constant():
    train = make_frame()
    train["const"] = 7
    train["near"] = 0
    train.loc[:4, "near"] = 1  # 99.5% zeros
    findings, status = run(dq.ConstantColumns, make_ctx(train))
    assert value(findings, "constant_columns") == 1
    assert value(findings, "near_constant_columns") == 1
    assert status == "fail"
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert rows["near"][3] == pytest.approx(0.995)
    assert rows["const"][-1] == "constant"


def test_near_constant_only_warns_and_respects_dominance():
    train = make_frame()
    train["near"] = 0
    train.loc[:4, "near"] = 1
    _, status = run(dq.ConstantColumns, make_ctx(train))
    assert status == "warn"
    findings, status = run(dq.ConstantColumns, make_ctx(train), dominance=0.999)
    assert value(findings, "near_constant_columns") == 0 and status == "pass"


def test_constant_all_nan_column_and_one_row():
    train = make_frame()
    train["empty"] = np.nan
    findings, _ = run(dq.ConstantColumns, make_ctx(train))
    assert value(findings, "constant_columns") == 1
    assert findings.evidence[0].rows[0][-1] == "all missing"
    findings, status = run(dq.ConstantColumns, make_ctx(make_frame(1)))
    assert status == "skipped" and "1 row" in findings.summary


# -- DQ004 conflicting-labels -----------------------------------------------------
def with_conflicts(n_pairs: int, n_same: int = 0) -> pd.DataFrame:
    """N rows: the last n_pairs copy the inputs of the first ones with the label flipped."""
    base = make_frame(N - n_pairs - n_same)
    flipped = base.iloc[:n_pairs].assign(y=1 - base["y"].iloc[:n_pairs])
    same = base.iloc[n_pairs: n_pairs + n_same]  # identical inputs and label: not a conflict
    return pd.concat([base, flipped, same], ignore_index=True)


def test_conflicts_planted_fail():
    findings, status = run(dq.ConflictingLabels, make_ctx(with_conflicts(30, n_same=20)))
    assert value(findings, "conflict_rate") == pytest.approx(0.06, abs=1e-9)
    assert value(findings, "conflicting_groups") == 30
    assert status == "fail"
    assert findings.evidence[0].rows[0][0] == 2


def test_conflicts_small_warns():
    findings, status = run(dq.ConflictingLabels, make_ctx(with_conflicts(10)))
    assert value(findings, "conflict_rate") == pytest.approx(0.02)
    assert status == "warn"


def test_conflicts_regression_and_missing_target():
    train = make_frame().assign(y=lambda d: d["x1"] * 2.0)
    flipped = train.iloc[:5].assign(y=99.0)
    findings, _ = run(dq.ConflictingLabels, make_ctx(pd.concat([train, flipped], ignore_index=True), task="regression"))
    assert value(findings, "conflict_rate") == pytest.approx(10 / 1005)
    unlabelled = make_frame().drop(columns="y")
    findings, status = run(dq.ConflictingLabels, make_ctx(unlabelled, features=["x1", "x2", "k", "color", "size"]))
    assert status == "skipped" and "no target" in findings.summary


def test_conflicts_with_missing_inputs_group_together():
    train = make_frame(4).assign(x1=np.nan, x2=np.nan, k=1, color="a", size="S", y=[0, 1, 0, 0])
    findings, _ = run(dq.ConflictingLabels, make_ctx(train))
    assert value(findings, "conflict_rate") == 1.0


# -- DQ005 mixed-types ------------------------------------------------------------
def test_mixed_numbers_and_text_fail():
    rng = np.random.default_rng(3)
    train = make_frame()
    weight = pd.Series(rng.integers(40, 120, size=N).astype(str), dtype=object)
    weight.iloc[:50] = "unknown"  # 5% of values are text
    weight.iloc[50:60] = "?"  # placeholders are ignored
    train["weight"] = pd.array(weight, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 1
    assert value(findings, "max_minority_share") == pytest.approx(50 / 990, abs=0.01)
    assert status == "fail"
    row = findings.evidence[0].rows[0]
    assert row[0] == "weight" and row[1] == "train" and "'unknown'" in row[4]


def test_numeric_text_with_placeholders_is_not_mixed():
    train = make_frame()
    code = pd.Series(np.arange(N).astype(str), dtype=object)
    code.iloc[:30] = " ? "
    train["code"] = pd.array(code, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 0 and status == "pass"
    assert value(findings, "numeric_text_columns") == 1


def test_object_column_with_python_types():
    test = make_frame(seed=1)
    mixed = test["size"].astype(object)
    mixed.iloc[:20] = 3  # ints among strings, as a Parquet object column can hold
    test["size"] = mixed
    findings, status = run(dq.MixedTypes, make_ctx(make_frame(), test))
    assert value(findings, "mixed_type_columns") == 1 and status == "fail"
    assert findings.evidence[0].rows[0][1] == "test"
    assert value(findings, "max_minority_share") == pytest.approx(0.02)


def test_mixed_all_missing_text_column():
    train = make_frame()
    train["notes"] = pd.array([None] * N, dtype="str")
    findings, status = run(dq.MixedTypes, make_ctx(train))
    assert value(findings, "mixed_type_columns") == 0 and status == "pass"


# -- DQ006 outliers ---------------------------------------------------------------
def test_outliers_thirty_percent_fails():
    rng = np.random.default_rng(5)
    train = make_frame()
    x = rng.normal(size=N)
    x[: int(0.3 * N)] = rng.uniform(40, 60, size=int(0.3 * N))
    train["x1"] = x
    findings, status = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.30, abs=0.02)
    assert status == "fail"


def test_outliers_ten_percent_robust_z():
    rng = np.random.default_rng(4)
    train = make_frame()
    x = rng.normal(size=N)
    x[:100] = rng.choice([-1, 1], size=100) * rng.uniform(20, 50, size=100)
    train["x1"] = x
    findings, status = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "warn"
    row = findings.evidence[0].rows[0]
    assert row[0] == "x1" and row[1].startswith("robust z")


def test_outliers_iqr_fallback_and_degenerate():
    rng = np.random.default_rng(5)
    train = make_frame()
    # Not whole numbers, so not measured as a count: the IQR fallback on the raw scale.
    spiky = np.where(rng.random(N) < 0.6, 0.0, rng.integers(1, 11, size=N) + 0.5)
    spiky[:200] = 1000.0  # 20% far outliers
    train["spiky"] = spiky
    train["flat"] = np.where(np.arange(N) < 950, 0.0, 5.0)
    findings, status = run(dq.Outliers, make_ctx(train))
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert rows["spiky"][1].startswith("IQR fences")
    assert rows["spiky"][-1] == pytest.approx(0.20, abs=0.01)
    assert status == "warn"  # 0.20 lies between warn (0.05) and fail (0.25)
    assert "flat" not in rows and "Degenerate spread" in findings.evidence[0].note and "'flat'" in findings.evidence[0].note


def test_outliers_infinite_and_no_numeric_columns():
    train = make_frame()
    train.loc[:29, "x2"] = np.inf
    findings, _ = run(dq.Outliers, make_ctx(train))
    assert value(findings, "max_outlier_rate") == pytest.approx(0.03, abs=0.005)
    cats = make_frame()[["color", "size", "y"]]
    findings, status = run(dq.Outliers, make_ctx(cats, make_frame(seed=1)[["color", "size", "y"]]))
    assert value(findings, "max_outlier_rate") == 0 and status == "pass"
    assert "no numeric feature" in findings.summary


def test_outliers_all_nan_column():
    train = make_frame()
    train["empty"] = np.nan
    findings, status = run(dq.Outliers, make_ctx(train))
    assert status == "pass" and "No values" in findings.evidence[0].note


# -- DQ007 target-imbalance -------------------------------------------------------
def with_labels(n_pos: int, n: int = N) -> pd.DataFrame:
    return make_frame(n).assign(y=np.r_[np.ones(n_pos, dtype=int), np.zeros(n - n_pos, dtype=int)])


@pytest.mark.parametrize(("n_pos", "expected"), [(150, "warn"), (40, "fail"), (500, "pass")])
def test_imbalance_levels(n_pos, expected):
    findings, status = run(dq.TargetImbalance, make_ctx(with_labels(n_pos)))
    assert value(findings, "minority_ratio") == pytest.approx(n_pos / (N - n_pos) if n_pos < N / 2 else 1.0)
    assert status == expected
    table = findings.evidence[0]
    assert table.columns == ["class", "train count", "train share", "test count", "test share"]


def test_imbalance_class_absent_from_train_and_single_class():
    ctx = make_ctx(with_labels(0), task="multiclass", classes=[0, 1, 2])
    findings, status = run(dq.TargetImbalance, ctx)
    assert value(findings, "minority_ratio") == 0.0 and status == "fail"
    assert len(findings.evidence[0].rows) == 3


def test_imbalance_without_labels_skips():
    train = make_frame().assign(y=np.nan)
    findings, status = run(dq.TargetImbalance, make_ctx(train))
    assert status == "skipped"


# -- DQ008 schema-mismatch --------------------------------------------------------
def test_schema_differences_counted():
    test = make_frame(seed=1)
    test["x2"] = test["x2"].round(1).astype(str)  # numeric -> string
    test["k"] = test["k"].astype(float)  # int -> float: same kind
    test = test.drop(columns="size").assign(extra=1)
    findings, status = run(dq.SchemaMismatch, make_ctx(make_frame(), test))
    assert value(findings, "schema_differences") == 3
    assert status == "fail"
    problems = {(r[0], r[-1]) for r in findings.evidence[0].rows}
    assert problems == {
        ("size", "model input missing in test"),
        ("extra", "extra column in test"),
        ("x2", "kind changed"),
    }


def test_schema_current_without_target_and_auxiliary_columns():
    train = make_frame().assign(row_id=np.arange(N))
    test = make_frame(seed=1).assign(row_id=np.arange(N))
    current = make_frame(seed=2).drop(columns="y")
    findings, status = run(
        dq.SchemaMismatch,
        make_ctx(train, test, current=current, id_column="row_id", features=["x1", "x2", "k", "color", "size"]),
    )
    assert value(findings, "schema_differences") == 0 and status == "pass"
    assert "test, current" in findings.summary


def test_schema_all_missing_column_is_not_a_kind_change():
    test = make_frame(seed=1).assign(color=np.nan)
    findings, status = run(dq.SchemaMismatch, make_ctx(make_frame(), test))
    assert value(findings, "schema_differences") == 0 and status == "pass"


# -- DQ009 unseen-categories ------------------------------------------------------
def test_unseen_categories_fail_and_warn():
    test = make_frame(seed=1)
    test.loc[:29, "color"] = "purple"  # 3% of test rows
    test.loc[30:31, "color"] = "<b>pink</b>"
    current = make_frame(seed=2).drop(columns="y")
    current.loc[:4, "size"] = "XXL"  # 0.5% of current rows
    findings, status = run(dq.UnseenCategories, make_ctx(make_frame(), test, current=current))
    assert value(findings, "max_unseen_rate") == pytest.approx(0.032)
    assert status == "fail"
    rows = {(r[0], r[1]): r for r in findings.evidence[0].rows}
    assert "'purple'" in rows[("color", "test")][2] and rows[("color", "test")][3] == 2
    assert rows[("size", "current")][-1] == pytest.approx(0.005)
    findings, status = run(dq.UnseenCategories, make_ctx(make_frame(), current.assign(y=0)))
    assert value(findings, "max_unseen_rate") == pytest.approx(0.005) and status == "warn"


def test_unseen_ignores_missing_and_handles_no_categoricals():
    test = make_frame(seed=1)
    test.loc[:99, "color"] = np.nan
    _, status = run(dq.UnseenCategories, make_ctx(make_frame(), test))
    assert status == "pass"
    num = make_frame()[["x1", "x2", "y"]]
    findings, status = run(dq.UnseenCategories, make_ctx(num, make_frame(seed=1)[["x1", "x2", "y"]]))
    assert value(findings, "max_unseen_rate") == 0 and status == "pass"
    assert "no categorical feature" in findings.summary


def test_unseen_category_dtype_and_bool():
    train = make_frame().assign(flag=True)
    train["size"] = train["size"].astype("category")
    test = make_frame(seed=1).assign(flag=np.arange(N) % 10 == 0)
    test["size"] = pd.Categorical(test["size"], categories=["S", "M", "L", "XL"])  # unused category
    findings, _ = run(dq.UnseenCategories, make_ctx(train, test))
    rows = {r[0]: r for r in findings.evidence[0].rows}
    assert set(rows) == {"flag"} and rows["flag"][-1] == pytest.approx(0.9)  # False never seen in train


# -- DQ010 high-cardinality -------------------------------------------------------
def test_high_cardinality_planted():
    rng = np.random.default_rng(6)
    train = make_frame()
    train["city"] = pd.array([f"city{i}" for i in rng.integers(0, 200, size=N)], dtype="str")
    train["row_id"] = [f"r{i}" for i in range(N)]
    findings, status = run(dq.HighCardinality, make_ctx(train, id_column="row_id"))
    assert value(findings, "high_cardinality_columns") == 1 and status == "warn"
    assert findings.evidence[0].rows[0][0] == "city"
    assert 150 < value(findings, "max_levels_seen") <= 200


def test_high_cardinality_ratio_rule():
    train = make_frame(100)
    train["code"] = [f"c{i}" for i in range(40)] * 2 + ["c0"] * 20  # 40 levels on 100 rows
    findings, status = run(dq.HighCardinality, make_ctx(train))
    assert status == "pass"
    findings, status = run(dq.HighCardinality, make_ctx(train), max_unique_ratio=0.3)
    assert value(findings, "high_cardinality_columns") == 1 and status == "warn"
    assert "per row" in findings.evidence[0].rows[0][-1]


def test_high_cardinality_no_categoricals():
    num = make_frame()[["x1", "x2", "y"]]
    findings, status = run(dq.HighCardinality, make_ctx(num))
    assert value(findings, "high_cardinality_columns") == 0 and value(findings, "max_levels_seen") == 0
    assert status == "pass"


# -- DQ011 redundant-features -----------------------------------------------------
def test_redundant_numeric_pair():
    rng = np.random.default_rng(7)
    train = make_frame()
    train["x1_copy"] = train["x1"] * 3 + rng.normal(0, 0.01, size=N)
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert value(findings, "max_association") > 0.99 and status == "fail"
    top = findings.evidence[0].rows[0]
    assert {top[0], top[1]} == {"x1", "x1_copy"} and top[2] == "|Spearman|"
    assert findings.sample == {"role": "train", "rows_used": N, "rows_available": N, "seed": make_ctx(train).seed_for("DQ011")}


def test_redundant_category_and_its_code():
    train = make_frame()
    train["size_code"] = train["size"].map({"S": 1, "M": 2, "L": 3}).astype(int)
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert value(findings, "max_association") == pytest.approx(1.0)
    top = findings.evidence[0].rows[0]
    assert {top[0], top[1]} == {"size", "size_code"} and top[2] == "Cramér's V"
    assert status == "fail"


def test_redundant_moderate_pair_warns_and_sampling_is_seeded():
    rng = np.random.default_rng(8)
    train = make_frame()
    train["x1_noisy"] = train["x1"] + rng.normal(0, 0.35, size=N)
    ctx = make_ctx(train)
    a, status = run(dq.RedundantFeatures, ctx, sample_size=400)
    b, _ = run(dq.RedundantFeatures, ctx, sample_size=400)
    assert 0.9 < value(a, "max_association") < 0.98 and status == "warn"
    assert a.sample["rows_used"] == 400 and a.sample["rows_available"] == N
    assert value(a, "max_association") == value(b, "max_association")


def test_redundant_high_cardinality_left_out_and_single_feature():
    train = make_frame()
    train["row_code"] = [f"r{i}" for i in range(N)]
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert status == "pass" and "'row_code'" in findings.evidence[0].note
    solo = make_frame()[["x1", "y"]]
    findings, status = run(dq.RedundantFeatures, make_ctx(solo))
    assert value(findings, "max_association") == 0 and status == "pass"


# -- hostile column names and plain results ----------------------------------------
def hostile_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(9)
    train = make_frame()
    names = dict(zip(["x1", "x2", "k", "color", "size"], HOSTILE))
    train = train.rename(columns=names)
    train.loc[:59, HOSTILE[3]] = "?"
    train[HOSTILE[3]] = train[HOSTILE[3]].astype("str")
    train.loc[:99, HOSTILE[0]] = 1e6
    train.loc[100:104, HOSTILE[0]] = np.nan
    train.loc[:2, HOSTILE[1]] = np.nan
    test = make_frame(seed=1).rename(columns=names)
    test.loc[:9, HOSTILE[4]] = "<img src=x onerror=alert(1)>"
    return train, pd.concat([test, test.iloc[:20]], ignore_index=True).assign(**{HOSTILE[1]: rng.normal(size=N + 20)})


@pytest.mark.parametrize("cls", dq.CHECKS, ids=lambda c: c.id)
def test_hostile_column_names_and_json_round_trip(cls):
    train, test = hostile_frames()
    ctx = make_ctx(train, test)
    findings, status = run(cls, ctx)
    assert status in ("pass", "warn", "fail")
    payload = {
        "summary": findings.summary,
        "recommendation": findings.recommendation,
        "metrics": {k: m.to_dict() for k, m in findings.metrics.items()},
        "evidence": [e.to_dict() for e in findings.evidence],
        "figures": [f.to_dict() for f in findings.figures],
        "sample": findings.sample,
    }
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    for fig in findings.figures:
        assert "<script" not in fig.svg and "<img" not in fig.svg
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fig.svg and "ünï€ødé $x$" in fig.svg
        assert "col with spaces 列" in fig.svg
    again, _ = run(cls, ctx)
    assert {k: m.value for k, m in again.metrics.items()} == {k: m.value for k, m in findings.metrics.items()}
    assert [f.svg for f in again.figures] == [f.svg for f in findings.figures]


def test_hostile_names_are_reported_verbatim():
    train, test = hostile_frames()
    findings, _ = run(dq.MissingValues, make_ctx(train, test))
    # The 1e6 planted in 100 rows of HOSTILE[0] is a repeated round code far beyond the column's
    # other values: missing by code since issue 15, so that column (10.5%) now leads the '?' one (6%).
    assert [r[0] for r in findings.evidence[0].rows[:2]] == [HOSTILE[0], HOSTILE[3]]
    findings, _ = run(dq.Outliers, make_ctx(train, test))
    assert findings.evidence[0].rows[0][0] == HOSTILE[0]
    findings, _ = run(dq.UnseenCategories, make_ctx(train, test))
    assert findings.evidence[0].rows[0][0] == HOSTILE[4]


def test_numeric_column_with_stray_text_is_not_treated_as_categorical():
    """One bad value turns a numeric column into text; DQ005 reports it, DQ009/DQ010 must not cry wolf."""
    rng = np.random.default_rng(9)
    train = make_frame()
    train["income"] = [f"{v:.2f}" for v in rng.normal(50, 10, size=N)]
    train.loc[7, "income"] = "n/a (refused)"
    test = make_frame(seed=1)
    test["income"] = rng.normal(50, 10, size=N)
    ctx = make_ctx(train, test)
    findings, status = run(dq.UnseenCategories, ctx)
    assert value(findings, "max_unseen_rate") == 0 and status == "pass"
    findings, status = run(dq.HighCardinality, ctx)
    assert value(findings, "high_cardinality_columns") == 0 and status == "pass"
    findings, status = run(dq.MixedTypes, ctx)
    assert value(findings, "mixed_type_columns") == 1 and status == "fail"


def test_numeric_sentinel_at_the_top_is_reported():
    rng = np.random.default_rng(11)
    train = make_frame()
    gains = rng.choice([0, 0, 0, 1500, 3000, 7000, 15000], size=N).astype(float)
    gains[:12] = 99999
    train["capital_gain"] = gains
    findings, status = run(dq.MissingValues, make_ctx(train, train.copy()))
    assert value(findings, "max_sentinel_rate") == pytest.approx(12 / N)
    assert status == "warn"
    table = next(e for e in findings.evidence if e.title.startswith("Possible numeric sentinels"))
    assert table.rows[0][:4] == ["capital_gain", "train", 99999, 12]


def test_ordinary_maxima_are_not_sentinels():
    train = make_frame()
    train["age"] = np.random.default_rng(12).integers(17, 99, size=N)  # tops out near 98, a plain value
    train["count"] = 999  # constant: no gap to the other values
    findings, _ = run(dq.MissingValues, make_ctx(train, train.copy()))
    assert value(findings, "max_sentinel_rate") == 0


def test_declared_time_and_group_columns_are_not_profiled_as_categories():
    train, test = make_frame(seed=0), make_frame(seed=1)
    train["when"] = pd.date_range("2024-01-01", periods=N, freq="h").strftime("%Y-%m-%d %H:%M")
    test["when"] = pd.date_range("2025-01-01", periods=N, freq="h").strftime("%Y-%m-%d %H:%M")
    train["who"] = [f"c{i}" for i in range(N)]
    test["who"] = [f"c{i + N}" for i in range(N)]
    ctx = make_ctx(train, test, time_column="when", group_column="who")
    assert run(dq.UnseenCategories, ctx)[1] == "pass"
    assert run(dq.HighCardinality, ctx)[1] == "pass"
    ctx.time_column = ctx.group_column = None
    assert run(dq.UnseenCategories, ctx)[1] == "fail"
