"""DR001 feature-drift (checks/drift/dr001_feature_drift.py): input columns whose distribution
moved between the reference and the current data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from auditor.checks import drift as dr
from auditor.contract.context import AuditContext
from tests.checks.drift.conftest import BINARY, NUMERIC, N, make_ctx, numeric_frame, payload, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _with_current


def column_rows(findings) -> dict[str, dict]:
    table = findings.evidence[0]
    return {row[0]: dict(zip(table.columns, row)) for row in table.rows}


def _dr_feature_shift() -> AuditContext:
    """A labelled current sample whose x1 and x2 moved by one standard deviation (2 of 4 inputs drifted)."""
    current = make_binary_frame(3000, seed=23)
    current[["x1", "x2"]] += 1.0
    return _with_current(current)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_dr_feature_shift, {"fail"})


# -- DR001 feature-drift ----------------------------------------------------------------
def test_dr001_clean_passes():
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3))
    f, status = run(dr.FeatureDrift, ctx)
    assert status == "pass"
    assert value(f, "drifted_share") == 0.0 and value(f, "columns_compared") == 10
    assert value(f, "max_psi") < 0.05
    assert f.sample["rows_used"] == 2 * N
    assert "none of 10 columns drifted" in f.summary


def test_dr001_one_sd_shift_in_three_of_ten_columns():
    shifted = {"f0": 1.0, "f4": 1.0, "f7": 1.0}
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3, shift=shifted))
    f, status = run(dr.FeatureDrift, ctx)
    assert status == "fail"
    assert value(f, "drifted_share") == pytest.approx(0.3) and value(f, "drifted_columns") == 3
    rows = column_rows(f)
    assert {c for c, r in rows.items() if r["drifted"]} == set(shifted)
    for col in shifted:  # the planted size reads back in standard deviations
        assert rows[col]["Wasserstein (sd)"] == pytest.approx(1.0, abs=0.1)
        assert rows[col]["PSI"] > 0.5
    # the table's corrected p-values are statsmodels' Benjamini-Hochberg of its raw ones
    raw = [rows[c]["p"] for c in NUMERIC]
    corrected = multipletests([r for r in raw], method="fdr_bh")[1]
    assert [rows[c]["corrected p"] for c in NUMERIC] == pytest.approx(corrected, rel=1e-2)
    assert list(rows)[:3] and set(list(rows)[:3]) == set(shifted)  # drifted first
    assert f.figures and "f0" in f.figures[0].svg


def test_dr001_bonferroni_is_selectable():
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3, shift={"f0": 1.0}))
    f, _ = run(dr.FeatureDrift, ctx, correction="bonferroni")
    rows = column_rows(f)
    assert rows["f5"]["corrected p"] == pytest.approx(min(1.0, rows["f5"]["p"] * 10), rel=1e-2)
    assert value(f, "drifted_columns") == 1


def test_dr001_significant_but_negligible_shift_is_not_drift():
    n = 200_000
    ctx = make_ctx(numeric_frame(n, seed=1), numeric_frame(100, seed=2), numeric_frame(n, seed=3, shift={c: 0.02 for c in NUMERIC[:3]}))
    f, status = run(dr.FeatureDrift, ctx)
    rows = column_rows(f)
    assert rows["f0"]["corrected p"] < 1e-3  # the shift is real and detected ...
    assert rows["f0"]["PSI"] < 0.01  # ... and tiny
    assert status == "pass" and value(f, "drifted_share") == 0.0


def test_dr001_category_share_change():
    train = make_binary_frame(N, seed=1)
    current = make_binary_frame(N, seed=3)
    rng = np.random.default_rng(0)
    current["colour"] = rng.choice(["red", "green", "blue"], size=N, p=[0.6, 0.2, 0.2])
    ctx = make_ctx(train, make_binary_frame(N, seed=2), current, features=BINARY)
    f, status = run(dr.FeatureDrift, ctx)
    rows = column_rows(f)
    assert rows["colour"]["drifted"] and rows["colour"]["test"] == "chi-squared"
    a = train["colour"].value_counts().reindex(["red", "green", "blue"]).to_numpy()
    b = current["colour"].value_counts().reindex(["red", "green", "blue"]).to_numpy()
    assert rows["colour"]["PSI"] == pytest.approx(dr.psi(a, b), rel=1e-3)
    # planted shares 0.6/0.2/0.2 against 1/3 each: PSI ≈ 0.27·ln(1.8) + 2·(−0.13)·ln(0.6) ≈ 0.29
    assert rows["colour"]["PSI"] == pytest.approx(0.2932, abs=0.06)
    assert value(f, "drifted_columns") == 1 and status == "fail"  # 1 of 4 columns = 25%


def test_dr001_level_only_in_current():
    current = make_binary_frame(N, seed=3)
    current.loc[:199, "colour"] = "purple"  # 10% of rows
    ctx = make_ctx(make_binary_frame(N, seed=1), make_binary_frame(N, seed=2), current, features=BINARY)
    f, status = run(dr.FeatureDrift, ctx)
    rows = column_rows(f)
    assert rows["colour"]["drifted"] and status == "fail"
    assert "purple" in f.figures[0].svg


def test_dr001_column_all_missing_in_current():
    current = numeric_frame(seed=3)
    current["f3"] = np.nan
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), current)
    f, status = run(dr.FeatureDrift, ctx)
    row = column_rows(f)["f3"]
    assert row["test"] == "missing share (chi-squared)" and row["drifted"]
    missing = {r[0]: r[1:] for r in f.evidence[1].rows}
    assert f.evidence[1].title == "Missing values in the compared columns" and missing == {"f3": [0.0, 1.0]}
    assert value(f, "drifted_columns") == 1 and status == "warn"


def test_dr001_column_all_missing_on_both_sides_is_not_tested():
    train, current = numeric_frame(seed=1), numeric_frame(seed=3)
    train["f3"], current["f3"] = np.nan, np.nan
    f, status = run(dr.FeatureDrift, make_ctx(train, numeric_frame(seed=2), current))
    assert value(f, "columns_compared") == 9 and status == "pass"
    assert "f3 (missing in every row of both samples)" in f.evidence[0].note


def test_dr001_tiny_current_sample_is_inconclusive():
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(12, seed=3))
    f, status = run(dr.FeatureDrift, ctx)
    assert status == "inconclusive" and value(f, "drifted_share") is None
    assert "only 12 current rows, fewer than the 30 needed" in f.summary
    assert value(f, "columns_compared") == 10  # still measured and shown


def test_dr001_reference_can_be_the_test_data():
    ctx = make_ctx(numeric_frame(seed=1, shift={"f0": 1.0}), numeric_frame(seed=2), numeric_frame(seed=3))
    f_train, _ = run(dr.FeatureDrift, ctx)
    f_test, status = run(dr.FeatureDrift, ctx, reference="test")
    assert column_rows(f_train)["f0"]["drifted"] and not column_rows(f_test)["f0"]["drifted"]
    assert status == "pass" and "with the test data" in f_test.summary


def test_dr001_datetime_and_mixed_type_columns():
    train, current = numeric_frame(seed=1), numeric_frame(seed=3)
    train["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(N), unit="h")
    current["when"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(N), unit="h")
    train["code"], current["code"] = np.arange(N) % 3, (np.arange(N) % 3).astype(str)
    ctx = make_ctx(train, numeric_frame(seed=2), current, features=NUMERIC + ["when", "code"])
    rows = column_rows(run(dr.FeatureDrift, ctx)[0])
    assert rows["when"]["test"] == "KS" and rows["when"]["drifted"]
    # numbers in train, text in current: compared as text, where 1 and "1" are equal
    assert rows["code"]["test"] == "chi-squared" and not rows["code"]["drifted"]


def test_dr001_skips_without_usable_data():
    train = numeric_frame(seed=1)
    f, status = run(dr.FeatureDrift, make_ctx(train, numeric_frame(seed=2), numeric_frame(seed=3).iloc[:0]))
    assert status == "skipped" and f.summary == "Skipped: the current data has no rows."
    other = pd.DataFrame({"z": np.arange(10.0)})
    f, status = run(dr.FeatureDrift, make_ctx(train, numeric_frame(seed=2), other))
    assert status == "skipped" and "share no model input column" in f.summary


def test_alibi_backend_error_becomes_an_error_result():
    from auditor.engine.registry import load_registry
    from auditor.engine.runner import PlannedCheck, available_needs, run_one

    try:
        import alibi_detect  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("alibi-detect is installed")
    reg = load_registry().get("DR001")
    params = {k: p.default for k, p in dr.FeatureDrift.params.items()} | {"backend": "alibi"}
    item = PlannedCheck(reg=reg, severity="high", params=params, thresholds={k: t.as_dict() for k, t in dr.FeatureDrift.thresholds.items()})
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3))
    result = run_one(ctx, item, available_needs(ctx))
    assert result.status == "error" and result.error["message"] == dr.ALIBI_MISSING


def test_alibi_backend_gives_the_same_fields():
    pytest.importorskip("alibi_detect")
    current = make_binary_frame(N, seed=3)
    current["x1"] += 1.0
    ctx = make_ctx(make_binary_frame(N, seed=1), make_binary_frame(N, seed=2), current, features=BINARY)
    f_scipy, _ = run(dr.FeatureDrift, ctx)
    f_alibi, status = run(dr.FeatureDrift, ctx, backend="alibi")
    assert status == "fail" and set(f_alibi.metrics) == set(f_scipy.metrics)  # 1 of 4 columns: 25%
    a, s = column_rows(f_alibi), column_rows(f_scipy)
    assert list(a) == list(s) and a["x1"]["drifted"]
    for col in BINARY:
        assert a[col]["statistic"] == pytest.approx(s[col]["statistic"], rel=1e-3)
        assert a[col]["PSI"] == s[col]["PSI"]


def test_dr001_is_reproducible_and_json_ready():
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3, shift={"f1": 0.5}))
    assert payload(run(dr.FeatureDrift, ctx)[0]) == payload(run(dr.FeatureDrift, ctx)[0])
