"""Planted-defect tests for the leakage checks (LK001-LK007).

For every check: clean data passes, a planted defect reads close to its planted size and
judges as expected, and degenerate input gives a sensible result without crashing.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.check import Check, definition_problems
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run

N = 2000
FEATURES = ["x1", "x2", "colour", "noise"]
HOSTILE = ["<script>alert(1)</script>", "col with spaces 列", 'quo"te\'s', "ünï€ødé $x$"]
START = pd.Timestamp("2024-01-01")


def frames(n: int = N, *, group: bool = True, time: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean train and test: independent draws, disjoint groups, a chronological split."""
    train, test = make_binary_frame(n, seed=1), make_binary_frame(n, seed=2)
    if group:
        train["entity"] = [f"e{i // 4}" for i in range(n)]
        test["entity"] = [f"e{i // 4 + n}" for i in range(n)]
    if time:
        train["when"] = START + pd.to_timedelta(np.arange(n), unit="h")
        test["when"] = START + pd.to_timedelta(np.arange(n) + n, unit="h")
    return train, test


def make_ctx(train: pd.DataFrame, test: pd.DataFrame, *, task: str = "binary", current: pd.DataFrame | None = None,
             features: list[str] | None = None, target: str = "y", **kwargs) -> AuditContext:
    datasets = {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}
    if current is not None:
        datasets["current"] = current.reset_index(drop=True)
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    kwargs.setdefault("group_column", "entity" if "entity" in train.columns else None)
    kwargs.setdefault("time_column", "when" if "when" in train.columns else None)
    return AuditContext(datasets=datasets, target=target, task=task, features=features or list(FEATURES), seed=0, **kwargs)


def value(findings, name: str):
    return findings.metrics[name].value


def module_checks() -> list[type[Check]]:
    return [
        v for v in vars(lk).values()
        if inspect.isclass(v) and issubclass(v, Check) and v is not Check and (v.__module__ == lk.__name__ or v.__module__.startswith(lk.__name__ + "."))
    ]


def payload(findings) -> dict:
    return {
        "summary": findings.summary,
        "recommendation": findings.recommendation,
        "status": findings.status,
        "metrics": {k: m.to_dict() for k, m in findings.metrics.items()},
        "evidence": [e.to_dict() for e in findings.evidence],
        "figures": [f.to_dict() for f in findings.figures],
        "sample": findings.sample,
    }


# -- definitions ------------------------------------------------------------------
def test_module_defines_lk001_to_lk007():
    assert sorted(c.id for c in module_checks()) == [f"LK{i:03d}" for i in range(1, 8)]
    assert set(lk.CHECKS) == set(module_checks())


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_definition_is_valid(cls):
    assert definition_problems(cls) == []
    assert cls.area == "leakage"
    assert cls.thresholds and cls.practices and cls.references
    assert "P4.2" in cls.practices or "P4.1" in cls.practices


# -- clean controls ---------------------------------------------------------------
@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_clean_data_passes(cls):
    findings, status = run(cls, make_ctx(*frames()))
    assert status == "pass", (findings.summary, {k: m.value for k, m in findings.metrics.items()})
    assert set(cls.thresholds) - {"current_overlap_rate"} <= set(findings.metrics)
    assert findings.summary and findings.recommendation
    for word in ("passed", "failed"):
        assert word not in findings.summary.lower()


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_shared_clean_context_passes(cls):
    from tests.planted import clean_context

    findings, status = run(cls, clean_context())
    assert status in ("pass", "skipped"), findings.summary


# -- LK001 row-overlap ------------------------------------------------------------
def test_overlap_ten_percent_fails():
    train, test = frames()
    test.iloc[:200, :4] = train.iloc[:200, :4].to_numpy()
    test["x1"], test["x2"], test["noise"] = (test[c].astype(float) for c in ("x1", "x2", "noise"))
    findings, status = run(lk.RowOverlap, make_ctx(train, test))
    assert value(findings, "test_overlap_rate") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    assert value(findings, "test_overlap_rate_with_target") <= value(findings, "test_overlap_rate")
    pairs, examples = findings.evidence
    assert pairs.rows[0][:4] == ["test", "train", N, 200]
    assert len(examples.rows) == 5 and examples.rows[0][:3] == ["test", 0, 0]
    assert all(len(str(v)) <= 40 for r in examples.rows for v in r)


def test_overlap_small_warns_and_current_is_judged():
    train, test = frames()
    test.iloc[:30, :4] = train.iloc[100:130, :4].to_numpy()  # 1.5% of test rows
    test[["x1", "x2", "noise"]] = test[["x1", "x2", "noise"]].astype(float)
    current = make_binary_frame(N, seed=3).drop(columns="y")
    current.iloc[:300, :4] = train.iloc[:300, :4].to_numpy()  # 15% of current rows
    current[["x1", "x2", "noise"]] = current[["x1", "x2", "noise"]].astype(float)
    findings, status = run(lk.RowOverlap, make_ctx(train, test, current=current))
    assert value(findings, "test_overlap_rate") == pytest.approx(0.015)
    assert value(findings, "current_overlap_rate") == pytest.approx(0.15)
    assert findings.metrics["current_overlap_rate"] and status == "fail"
    assert [r[0] for r in findings.evidence[0].rows] == ["test", "current"]
    assert findings.evidence[0].rows[1][-1] == "no labels"
    findings, status = run(lk.RowOverlap, make_ctx(train, test))
    assert status == "warn"


def test_overlap_ignores_int_float_and_string_dtype_differences():
    train, test = frames(200)
    train["k"] = np.arange(200)
    test = train.copy()
    test["k"] = test["k"].astype(float)
    test["colour"] = test["colour"].astype("category")
    findings, _ = run(lk.RowOverlap, make_ctx(train, test, features=FEATURES + ["k"]))
    assert value(findings, "test_overlap_rate") == 1.0


def test_overlap_target_differs():
    train, test = frames(500)
    test = train.assign(y=1 - train["y"])
    findings, _ = run(lk.RowOverlap, make_ctx(train, test))
    assert value(findings, "test_overlap_rate") == 1.0
    assert value(findings, "test_overlap_rate_with_target") == 0.0


# -- LK002 near-duplicates --------------------------------------------------------
def near_copies(train: pd.DataFrame, test: pd.DataFrame, n: int, *, scale: float = 1e-3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    copies = train.iloc[rng.choice(len(train), n, replace=False)].copy()
    for col in ("x1", "x2", "noise"):
        copies[col] = copies[col] + rng.normal(0, scale, n)
    return pd.concat([copies, test.iloc[n:]], ignore_index=True)


def test_near_duplicates_ten_percent_fail():
    train, test = frames()
    findings, status = run(lk.NearDuplicates, make_ctx(train, near_copies(train, test, 200)))
    assert value(findings, "near_duplicate_excess") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    m = findings.metrics["near_duplicate_excess"]
    assert m.ci_low < m.value < m.ci_high and m.ci_low > 0.05
    assert value(findings, "binomial_p_value") < 1e-10
    assert findings.sample["by_role"]["train"]["rows_used"] == N and findings.sample["by_role"]["test"]["rows_used"] == 1000
    assert findings.sample["rows_used"] == N + 1000
    closest = findings.evidence[1].rows
    assert len(closest) == 5 and closest[0][2] < 0.01
    # Exact copies are missed by nothing: LK001 sees them too, LK002 reads the same size.
    exact = pd.concat([train.iloc[:200], test.iloc[200:]], ignore_index=True)
    findings, _ = run(lk.NearDuplicates, make_ctx(train, exact))
    assert value(findings, "near_duplicate_excess") == pytest.approx(0.10, abs=0.01)


def test_near_duplicates_large_train_is_sampled():
    train, test = frames(6000, group=False, time=False)
    findings, status = run(lk.NearDuplicates, make_ctx(train, test), reference_rows=3000, probe_rows=500)
    assert status == "pass"
    assert value(findings, "reference_coverage") == 0.5 and "(50% of them)" in findings.summary
    assert findings.sample["by_role"] == {
        "train": {"rows_used": 3000, "rows_available": 6000, "seed": findings.sample["seed"]},
        "test": {"rows_used": 500, "rows_available": 6000, "seed": findings.sample["seed"]},
    }


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_near_duplicates_iid_seeds_pass(seed):
    train, test = make_binary_frame(N, seed=seed), make_binary_frame(N, seed=seed + 100)
    findings, status = run(lk.NearDuplicates, make_ctx(train, test))
    assert status == "pass" and abs(value(findings, "near_duplicate_excess")) < 0.015


def test_near_duplicates_discrete_features_are_calibrated():
    """Inputs with few distinct values tie at distance 0 in train as in test: no excess."""
    rng = np.random.default_rng(8)
    def make() -> pd.DataFrame:
        return pd.DataFrame({
            "a": rng.integers(0, 3, N), "b": rng.choice(["p", "q"], N), "c": rng.integers(0, 2, N), "y": rng.integers(0, 2, N),
        })

    findings, status = run(lk.NearDuplicates, make_ctx(make(), make(), features=["a", "b", "c"]))
    assert value(findings, "distance_threshold") == 0.0
    assert value(findings, "control_near_duplicate_rate") == 1.0 and status == "pass"


# -- LK003 target-leakage ---------------------------------------------------------
def test_target_leak_is_named_and_fails():
    train, test = frames()
    rng = np.random.default_rng(3)
    train["refund_flag"] = train["y"] + rng.normal(0, 0.1, N)
    test["refund_flag"] = test["y"] + rng.normal(0, 0.1, N)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, features=FEATURES + ["refund_flag"]))
    assert value(findings, "max_single_feature_score") > 0.99
    assert status == "fail"
    assert "'refund_flag'" in findings.summary
    assert findings.evidence[0].rows[0][0] == "refund_flag"
    assert findings.evidence[0].rows[0][3] > 0.8  # |Spearman| with the target
    assert findings.figures and "refund_flag" in findings.figures[0].svg


def test_target_leak_through_a_category_and_honest_scores():
    train, test = frames()
    findings, _ = run(lk.TargetLeakage, make_ctx(train, test))
    scores = {r[0]: r[2] for r in findings.evidence[0].rows}
    assert 0.7 < scores["x1"] < 0.85 and scores["noise"] < 0.6
    label = {0: "denied", 1: "approved"}
    train["status"] = train["y"].map(label)
    test["status"] = test["y"].map(label)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, features=FEATURES + ["status"]))
    assert value(findings, "max_single_feature_score") == pytest.approx(1.0)
    assert status == "fail" and findings.evidence[0].rows[0][:2] == ["status", "categorical"]


def test_target_leak_regression_and_multiclass():
    train, test = frames(group=False, time=False)
    rng = np.random.default_rng(4)
    train["y"], test["y"] = train["x1"] + rng.normal(0, 1, N), test["x1"] + rng.normal(0, 1, N)
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="regression"))
    assert 0.3 < value(findings, "max_single_feature_score") < 0.6 and status == "pass"
    train["echo"], test["echo"] = train["y"] * 2 + 1, test["y"] * 2 + 1
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="regression", features=FEATURES + ["echo"]))
    assert value(findings, "max_single_feature_score") > 0.97 and status == "fail"
    assert "R²" in findings.summary
    classes = np.array(["a", "b", "c"])
    train["y"], test["y"] = classes[rng.integers(0, 3, N)], classes[rng.integers(0, 3, N)]
    train["code"], test["code"] = pd.Series(train["y"]).map({"a": 0, "b": 5, "c": 9}), pd.Series(test["y"]).map({"a": 0, "b": 5, "c": 9})
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="multiclass", features=FEATURES + ["code"]))
    assert value(findings, "max_single_feature_score") == pytest.approx(1.0) and status == "fail"
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, task="multiclass"))
    assert value(findings, "max_single_feature_score") < 0.6 and status == "pass"


def test_target_leakage_reports_the_model_score_when_available():
    train, test = frames(group=False, time=False)
    model = SklearnAdapter(fit_pipeline(make_binary_frame(1500, seed=11)))
    findings, status = run(lk.TargetLeakage, make_ctx(train, test, model=model))
    assert status == "pass"
    assert 0.8 < value(findings, "model_test_score") < 0.9
    assert findings.evidence[1].rows[0][0] == "full model, all inputs"


# -- LK004 id-like-columns --------------------------------------------------------
def sorted_by_target(n: int = 4000, *, per_file_numbers: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = make_binary_frame(n, seed=5).sort_values("y", kind="stable").reset_index(drop=True)
    frame["row"] = np.arange(n)
    is_test = np.random.default_rng(1).random(n) < 0.3
    train, test = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
    if per_file_numbers:
        train["row"], test["row"] = np.arange(len(train)), np.arange(len(test))
    return train, test


@pytest.mark.parametrize("per_file_numbers", [False, True])
def test_row_number_of_sorted_file_fails(per_file_numbers):
    train, test = sorted_by_target(per_file_numbers=per_file_numbers)
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["row"]))
    assert value(findings, "id_like_columns_with_signal") == 1 and value(findings, "id_like_columns") == 1
    assert status == "fail"
    row = findings.evidence[0].rows[0]
    assert row[0] == "row" and row[1] == "unique per row and monotonic in row order" and row[-1] > 0.95
    assert "'row'" in findings.summary


def test_random_unique_id_is_listed_but_passes():
    train, test = frames()
    rng = np.random.default_rng(2)
    ids = rng.permutation(10**6)[: 2 * N]
    train["customer_id"], test["customer_id"] = ids[:N], ids[N:]
    train["ref"], test["ref"] = [f"R{i:07d}" for i in ids[:N]], [f"R{i:07d}" for i in ids[N:]]
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["customer_id", "ref"]))
    assert value(findings, "id_like_columns") == 2 and value(findings, "id_like_columns_with_signal") == 0
    assert status == "pass"
    assert {r[0] for r in findings.evidence[0].rows} == {"customer_id", "ref"}


def test_declared_id_column_and_continuous_floats_are_not_id_like():
    train, test = frames()
    train["row_id"], test["row_id"] = np.arange(N), np.arange(N)
    findings, status = run(lk.IdLikeColumns, make_ctx(train, test, features=FEATURES + ["row_id"], id_column="row_id"))
    assert value(findings, "id_like_columns") == 0 and status == "pass"  # x1, x2, noise are unique floats


# -- LK005 group-overlap ----------------------------------------------------------
def test_group_overlap_twenty_percent_fails():
    train, test = frames()
    test.loc[:399, "entity"] = train["entity"].iloc[:400].to_numpy()  # 100 of 500 test groups, 400 rows
    findings, status = run(lk.GroupOverlap, make_ctx(train, test))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(0.20)
    assert value(findings, "test_group_overlap_share") == pytest.approx(0.20)
    assert value(findings, "shared_groups") == 100 and status == "fail"
    shared = findings.evidence[1]
    assert len(shared.rows) == 10 and shared.rows[0][1:] == [4, 4]
    assert "90 more" in shared.note


def test_group_overlap_uneven_groups_read_the_row_share():
    train, test = frames()
    test["entity"] = [f"t{i // 10}" for i in range(N)]
    test.loc[:99, "entity"] = "e0"  # one group, 5% of test rows
    current = test.drop(columns="y").assign(entity="e1")
    findings, status = run(lk.GroupOverlap, make_ctx(train, test, current=current))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(0.05)
    assert value(findings, "test_group_overlap_share") == pytest.approx(1 / 191)
    assert value(findings, "current_group_overlap_rate") == 1.0
    assert status == "fail"


def test_group_overlap_missing_and_mixed_types():
    train, test = frames(group=False)
    train["entity"] = np.arange(N) // 4
    test["entity"] = (np.arange(N) // 4 + N).astype(float)
    test.loc[:9, "entity"] = np.nan
    test.loc[10:19, "entity"] = 3.0  # group 3 from train, stored as a float
    findings, status = run(lk.GroupOverlap, make_ctx(train, test, group_column="entity"))
    assert value(findings, "test_group_overlap_rate") == pytest.approx(10 / N)
    assert findings.evidence[0].rows[0][2] == 10 and status == "fail"
    findings, status = run(lk.GroupOverlap, make_ctx(train, test.drop(columns="entity"), group_column="entity"))
    assert status == "skipped" and "not in the test data" in findings.summary


# -- LK006 temporal-leakage -------------------------------------------------------
def time_ordered(n: int = 4000) -> pd.DataFrame:
    frame = make_binary_frame(n, seed=6)
    frame["when"] = START + pd.to_timedelta(np.arange(n), unit="h")
    return frame


def test_random_split_of_time_ordered_data_fails():
    frame = time_ordered()
    is_test = np.random.default_rng(0).random(len(frame)) < 0.25
    findings, status = run(lk.TemporalLeakage, make_ctx(frame[~is_test], frame[is_test]))
    assert value(findings, "lookahead_rate") > 0.99 and value(findings, "train_test_time_overlap") > 0.99
    assert status == "fail"
    assert "random rather than chronological split" in findings.summary
    ranges = findings.evidence[0].rows
    assert ranges[0][0] == "train" and ranges[0][3].startswith("2024-01-01")


def test_chronological_split_passes_and_small_lookahead_warns():
    frame = time_ordered()
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"
    test = frame.iloc[3000:].copy()
    test.iloc[:5, test.columns.get_loc("when")] = START  # 0.5% of test rows predate the cut-off
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], test))
    assert value(findings, "lookahead_rate") == pytest.approx(0.005) and status == "warn"


def test_day_first_dates_are_read_day_first_and_ambiguous_ones_skip():
    frame = time_ordered()
    frame["when"] = (START + pd.to_timedelta(np.arange(len(frame)) // 24 * 2, unit="D")).strftime("%d/%m/%Y")
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"
    ambiguous = frame.copy()
    ambiguous["when"] = "01/02/2024"
    findings, status = run(lk.TemporalLeakage, make_ctx(ambiguous.iloc[:3000], ambiguous.iloc[3000:]))
    assert status == "skipped" and "day-first or month-first" in findings.summary


def test_time_as_text_numbers_and_current():
    frame = time_ordered()
    frame["when"] = frame["when"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    current = frame.iloc[3500:].drop(columns="y")
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[2900:3500], current=current))
    assert value(findings, "lookahead_rate") == pytest.approx(99 / 600)  # the shared last hour is not earlier
    assert value(findings, "current_lookahead_rate") == 0 and value(findings, "current_before_test_rate") == 0
    assert status == "fail"
    frame["when"] = np.arange(len(frame)) // 10  # a period index
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"


@pytest.mark.parametrize("bad", ["not a date", True])
def test_unparseable_time_column_is_skipped(bad):
    train, test = frames(time=False)
    findings, status = run(lk.TemporalLeakage, make_ctx(train.assign(when=bad), test.assign(when=bad), time_column="when"))
    assert status == "skipped"
    assert findings.summary.startswith("Skipped: the time column 'when' cannot be read as times in the train data")


def test_time_kinds_differ_is_skipped():
    train, test = frames()
    findings, status = run(lk.TemporalLeakage, make_ctx(train, test.assign(when=np.arange(N))))
    assert status == "skipped" and "dates in train but numbers in test" in findings.summary


# -- LK007 label-distribution-mismatch --------------------------------------------
def with_positive_share(frame: pd.DataFrame, share: float, n: int) -> pd.DataFrame:
    pos, neg = frame[frame["y"] == 1], frame[frame["y"] == 0]
    k = round(share * n)
    return pd.concat([neg.iloc[: n - k], pos.iloc[:k]], ignore_index=True)


def test_label_mismatch_80_20_vs_50_50_fails():
    train = with_positive_share(make_binary_frame(5000, seed=1), 0.2, N)
    test = with_positive_share(make_binary_frame(5000, seed=2), 0.5, N)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, group_column=None, time_column=None))
    assert value(findings, "label_tvd") == pytest.approx(0.30)
    assert 0.25 < value(findings, "excess_label_distance") < 0.30
    assert value(findings, "chi2_p_value") < 1e-20 and status == "fail"
    assert abs(findings.evidence[0].rows[0][-1]) == pytest.approx(0.30)


@pytest.mark.parametrize("seed", range(6))
def test_label_same_distribution_is_not_flagged(seed):
    train, test = make_binary_frame(1500, seed=seed), make_binary_frame(700, seed=seed + 50)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test))
    assert status == "pass", findings.summary


def test_label_mismatch_regression_and_multiclass():
    rng = np.random.default_rng(9)
    train, test = frames(group=False, time=False)
    train["y"], test["y"] = rng.normal(0, 1, N), rng.normal(0.5, 1, N)
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="regression"))
    assert value(findings, "ks_statistic") == pytest.approx(0.197, abs=0.03)
    assert value(findings, "ks_critical_value") == pytest.approx(1.358 * np.sqrt(2 / N), abs=1e-3)
    assert status == "fail"
    test["y"] = rng.normal(0, 1, N)
    _, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="regression"))
    assert status == "pass"
    train["y"], test["y"] = rng.choice(["a", "b", "c"], N), rng.choice(["a", "b", "c", "d"], N, p=[0.3, 0.3, 0.3, 0.1])
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test, task="multiclass"))
    assert findings.evidence[0].rows[0][0] == "d" and status == "fail"


def test_label_mismatch_skips_without_test_labels():
    train, test = frames()
    findings, status = run(lk.LabelDistributionMismatch, make_ctx(train, test.drop(columns="y")))
    assert status == "skipped" and findings.summary == "Skipped: the test data has no target values."


# -- degenerate input ---------------------------------------------------------------
DEGENERATE = ["tiny", "all_nan_column", "no_numeric", "no_test_labels", "one_test_class", "empty_test"]


def degenerate(kind: str) -> AuditContext:
    train, test = frames()
    if kind == "tiny":
        return make_ctx(train.iloc[:2], test.iloc[:1])
    if kind == "all_nan_column":
        train["x1"], test["x1"] = np.nan, np.nan
        train["colour"] = pd.array([None] * N, dtype="str")
        return make_ctx(train, test)
    if kind == "no_numeric":
        return make_ctx(train, test, features=["colour"])
    if kind == "no_test_labels":
        return make_ctx(train, test.drop(columns="y"))
    if kind == "one_test_class":
        return make_ctx(train, test.assign(y=1))
    return make_ctx(train, test.iloc[:0])


# What each check concludes on each degenerate input. Unlisted pairs pass: the input is
# degenerate for another check, not for this one (LK005 still compares groups on 1 row).
DEGENERATE_STATUS = {
    ("LK001", "no_numeric"): "fail",  # one 3-level input: every test row repeats a training row (the
    # chance rate, train_internal_overlap_rate, is reported beside it, and the docstring says to compare)
    ("LK002", "tiny"): "inconclusive",
    ("LK003", "no_test_labels"): "skipped", ("LK003", "one_test_class"): "skipped", ("LK003", "tiny"): "skipped",
    ("LK004", "tiny"): "skipped",
    ("LK007", "no_test_labels"): "skipped",
    ("LK007", "one_test_class"): "fail",  # test holds one class, train two: a real label mismatch
}


@pytest.mark.parametrize("kind", DEGENERATE)
@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_degenerate_input_does_not_crash(cls, kind):
    findings, status = run(cls, degenerate(kind))
    expected = "skipped" if kind == "empty_test" else DEGENERATE_STATUS.get((cls.id, kind), "pass")
    assert status == expected, (status, findings.summary)
    assert findings.summary
    json.dumps(payload(findings), allow_nan=False)
    if kind == "empty_test":
        assert status == "skipped" and findings.summary == "Skipped: the test data has no rows."
    if kind in ("no_test_labels", "one_test_class") and cls in (lk.TargetLeakage,):
        assert status == "skipped"


def test_degenerate_specifics():
    findings, status = run(lk.NearDuplicates, degenerate("tiny"))
    assert status == "inconclusive" and value(findings, "near_duplicate_excess") is None
    findings, status = run(lk.IdLikeColumns, degenerate("tiny"))
    assert status == "skipped" and "2 rows" in findings.summary
    findings, status = run(lk.TargetLeakage, degenerate("one_test_class"))
    assert findings.summary == "Skipped: the test labels have a single class, so ROC AUC is undefined."
    findings, status = run(lk.TargetLeakage, degenerate("all_nan_column"))
    assert status == "pass" and "x1" not in {r[0] for r in findings.evidence[0].rows}
    findings, status = run(lk.NearDuplicates, make_ctx(*frames(), features=["colour"]))
    assert status == "pass"
    few = make_ctx(*frames(40))
    findings, status = run(lk.NearDuplicates, few)
    assert findings.metrics["near_duplicate_excess"].ci_high - findings.metrics["near_duplicate_excess"].ci_low > 0.1


# -- hostile column names, plain results, reproducibility ----------------------------
def hostile_ctx() -> AuditContext:
    train, test = frames()
    test.iloc[:60, :4] = train.iloc[:60, :4].to_numpy()  # 3% copies: LK001 and LK002 warn
    test[["x1", "x2", "noise"]] = test[["x1", "x2", "noise"]].astype(float)
    names = dict(zip(["x1", "x2", "colour", "noise"], HOSTILE))
    train, test = train.rename(columns=names), test.rename(columns=names)
    test.loc[:9, HOSTILE[2]] = "<img src=x onerror=alert(1)>"
    return make_ctx(train, test, features=HOSTILE)


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_hostile_column_names_json_round_trip_and_same_seed(cls):
    ctx = hostile_ctx()
    findings, status = run(cls, ctx)
    assert status in ("pass", "warn", "fail")
    data = payload(findings)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for fig in findings.figures:
        assert "<script" not in fig.svg and "<img" not in fig.svg
    again, _ = run(cls, hostile_ctx())
    assert payload(again) == data


def test_hostile_names_reported_verbatim():
    findings, status = run(lk.RowOverlap, hostile_ctx())
    assert findings.evidence[1].columns[3:7] == HOSTILE and status == "warn"
    findings, _ = run(lk.TargetLeakage, hostile_ctx())
    assert findings.evidence[0].rows[0][0] == HOSTILE[0]


def test_different_seed_changes_samples_only():
    ctx = make_ctx(*frames())
    first, _ = run(lk.NearDuplicates, ctx)
    ctx.seed = 1
    second, status = run(lk.NearDuplicates, ctx)
    assert first.sample["seed"] != second.sample["seed"] and status == "pass"
