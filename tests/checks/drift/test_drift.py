"""Planted-defect tests for the drift checks (DR001-DR004).

For every check: a clean control (same distribution) passes, a planted shift reads
close to its planted size and judges as expected, degenerate input gives a sensible
result without crashing, and the statistics agree with SciPy and statsmodels.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.metrics.pairwise import rbf_kernel
from statsmodels.stats.multitest import multipletests

from auditor.checks import drift as dr
from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.check import definition_problems
from auditor.contract.context import AuditContext
from auditor.contract.results import CheckResult
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run

N = 2000
BINARY = ["x1", "x2", "colour", "noise"]
NUMERIC = [f"f{i}" for i in range(10)]


def numeric_frame(n: int = N, *, seed: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    """Ten independent standard normal columns; ``shift`` adds a constant to some of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.normal(size=n) for c in NUMERIC})
    for col, delta in (shift or {}).items():
        frame[col] += delta
    return frame


def correlated_frame(n: int, *, seed: int, rho: float = 0.0) -> pd.DataFrame:
    """x1 and x2 standard normal with correlation ``rho`` (marginals unchanged), plus a category and noise."""
    rng = np.random.default_rng(seed)
    x1, e = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({
        "x1": x1, "x2": rho * x1 + np.sqrt(1 - rho**2) * e,
        "colour": rng.choice(["red", "green", "blue"], size=n), "noise": rng.uniform(size=n),
    })


def make_ctx(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame | None, *, task: str = "binary",
             features: list[str] | None = None, model=None, **kwargs) -> AuditContext:
    datasets = {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}
    if current is not None:
        datasets["current"] = current.reset_index(drop=True)
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    return AuditContext(datasets=datasets, target="y", task=task, features=features or list(train.columns.drop("y", errors="ignore")),
                        model=model, seed=0, **kwargs)


def model_ctx(current: pd.DataFrame, **kwargs) -> AuditContext:
    """The binary task of the contract tests: a logistic pipeline, clean train and test."""
    model = SklearnAdapter(fit_pipeline(make_binary_frame(3000, seed=11)))
    return make_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22), current, features=BINARY, model=model, **kwargs)


def value(findings, name: str):
    return findings.metrics[name].value


def column_rows(findings) -> dict[str, dict]:
    table = findings.evidence[0]
    return {row[0]: dict(zip(table.columns, row)) for row in table.rows}


def payload(findings) -> dict:
    return json.loads(json.dumps({
        "summary": findings.summary,
        "metrics": {k: m.to_dict() for k, m in findings.metrics.items()},
        "evidence": [e.to_dict() for e in findings.evidence],
        "figures": [f.to_dict() for f in findings.figures],
        "sample": findings.sample,
    }, allow_nan=False))


# -- definitions --------------------------------------------------------------------
@pytest.mark.parametrize("cls", dr.CHECKS, ids=lambda c: c.id)
def test_definition(cls):
    assert definition_problems(cls) == []
    assert cls.area == "drift" and cls.thresholds and cls.practices
    assert "current" in cls.needs


def test_module_registers_every_check():
    from auditor.engine.registry import load_registry

    registry = load_registry()
    assert [registry.get(c.id).cls for c in dr.CHECKS] == list(dr.CHECKS)


# -- statistics against SciPy and statsmodels ----------------------------------------
def test_psi_by_hand():
    # (0.3 − 0.5)·ln(0.3/0.5) + 0 + (0.4 − 0.2)·ln(0.4/0.2)
    assert dr.psi(np.array([50, 30, 20]), np.array([30, 30, 40])) == pytest.approx(0.2 * np.log(5 / 3) + 0.2 * np.log(2), rel=1e-12)
    # An empty reference bin is floored at 1e-4: (0.9 − 1)·ln(0.9) + (0.1 − 1e-4)·ln(0.1 / 1e-4)
    assert dr.psi(np.array([100, 0]), np.array([90, 10])) == pytest.approx(-0.1 * np.log(0.9) + (0.1 - 1e-4) * np.log(1e3), rel=1e-12)
    assert dr.psi(np.array([5, 5]), np.array([50, 50])) == 0.0


def test_js_distance_matches_scipy():
    a, b = np.array([50.0, 30.0, 20.0]), np.array([30.0, 30.0, 40.0])
    assert dr.js_distance(a, b) == pytest.approx(jensenshannon(a / a.sum(), b / b.sum(), base=2), rel=1e-12)
    assert dr.js_distance(a, a) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("n, m", [(300, 200), (30, 2000), (20_000, 15_000)])
def test_ks_and_wasserstein_match_scipy(n, m):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(0.05, 1.1, size=m)
    b[:10] = np.round(b[:10], 1)  # a few ties
    d, p, w = dr.ks_and_wasserstein(a, b)
    ref = stats.ks_2samp(a, b)
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    if max(n, m) <= dr.EXACT_KS_ROWS:
        assert p == pytest.approx(ref.pvalue, rel=1e-9)
    else:  # the Kolmogorov limit distribution, close to ks_2samp's finite-sample asymptotic
        assert p == pytest.approx(ref.pvalue, rel=0.02)


def test_category_table_pools_rare_levels_and_chi2_matches_scipy():
    ref = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 196 + ["rare1"] * 2 + ["rare2"] * 2, dtype=object)
    cur = np.array(["a"] * 100 + ["b"] * 50 + ["c"] * 48 + ["new"] * 2, dtype=object)
    levels, a, b = dr.category_table(ref, cur, max_levels=50)
    assert levels == ["a", "b", "c", "<other>"]
    assert a.tolist() == [500, 300, 196, 4] and b.tolist() == [100, 50, 48, 2]
    c = dr.compare_categorical("col", ref, cur, max_levels=50)
    res = stats.chi2_contingency(np.vstack([a, b]))
    assert (c.statistic, c.p_value) == pytest.approx((res.statistic, res.pvalue), rel=1e-12)
    assert c.psi == pytest.approx(dr.psi(a, b)) and c.js == pytest.approx(dr.js_distance(a, b))


def test_category_table_keeps_two_groups_on_tiny_samples():
    levels, a, b = dr.category_table(np.array(list("aaabbc"), dtype=object), np.array(list("ab"), dtype=object), max_levels=50)
    assert levels == ["a", "<other>"] and a.tolist() == [3, 3] and b.tolist() == [1, 1]


def test_numeric_bins_are_reference_deciles_plus_a_missing_bin():
    ref = np.r_[np.arange(1000, dtype=float), [np.nan] * 10]
    cur = np.r_[np.arange(500, dtype=float), [np.nan] * 90]
    c = dr.compare_numeric("col", ref, cur, bins=10)
    assert c.counts_reference.tolist() == [100] * 10 + [10]
    assert c.counts_current.tolist() == [100] * 5 + [0] * 5 + [90]
    assert c.psi == pytest.approx(dr.psi(c.counts_reference, c.counts_current))
    assert c.test == "KS + missing share"
    p_ks = stats.ks_2samp(ref[:1000], cur[:500]).pvalue
    p_missing = stats.chi2_contingency(np.array([[10, 1000], [90, 500]])).pvalue
    assert c.p_value == pytest.approx(min(1.0, 2 * min(p_ks, p_missing)), rel=1e-9)


def test_discrete_numeric_column_gets_one_bin_per_value():
    c = dr.compare_numeric("flag", np.array([0.0] * 70 + [1.0] * 30), np.array([0.0] * 40 + [1.0] * 60), bins=10)
    assert c.counts_reference.tolist() == [70, 30, 0] and c.counts_current.tolist() == [40, 60, 0]


def test_mmd_matches_the_unbiased_estimator():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(1.0, 1, size=(30, 3))
    mmd2, p, sigma = dr.mmd_permutation_test(x, y, n_permutations=200, random_state=0)
    z = np.vstack([x, y])
    d = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    assert sigma == pytest.approx(np.median(d[np.triu_indices(70, 1)]))
    k = rbf_kernel(z, gamma=1 / (2 * sigma**2))
    kxx, kyy, kxy = k[:40, :40], k[40:, 40:], k[:40, 40:]
    expected = ((kxx.sum() - 40) / (40 * 39) + (kyy.sum() - 30) / (30 * 29) - 2 * kxy.mean())
    assert mmd2 == pytest.approx(expected, rel=1e-9)
    assert p < 0.05


def test_cross_validated_auc_is_the_mean_of_fold_aucs():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    labels = [np.r_[np.zeros(50, int), np.ones(50, int)] for _ in range(3)]
    scores = [rng.normal(size=100) + 0.8 * y for y in labels]
    auc, low, high, p = dr.cross_validated_auc(scores, labels)
    assert auc == pytest.approx(np.mean([roc_auc_score(y, s) for s, y in zip(scores, labels)]))
    assert low < auc < high and p < 1e-3
    z = [stats.norm.isf(stats.mannwhitneyu(s[y == 1], s[y == 0], alternative="greater").pvalue) for s, y in zip(scores, labels)]
    assert p == pytest.approx(stats.norm.sf(np.mean(z)))


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


def test_alibi_backend_missing_gives_a_clear_error():
    try:
        import alibi_detect  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("alibi-detect is installed")
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3))
    for cls in (dr.FeatureDrift, dr.MultivariateDrift):
        with pytest.raises(RuntimeError, match=r"^the alibi backend needs `pip install auditor\[alibi\]`$"):
            run(cls, ctx, backend="alibi")


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


# -- DR002 multivariate-drift -----------------------------------------------------------
FAST_DR002 = {"max_iter": 40, "n_permutations": 200, "mmd_rows": 400}


def test_dr002_clean_passes():
    ctx = make_ctx(correlated_frame(1000, seed=1), correlated_frame(200, seed=2), correlated_frame(1000, seed=3))
    f, status = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    assert status == "pass"
    m = f.metrics["domain_auc"]
    assert m.ci_low < 0.5 < m.ci_high and abs(m.value - 0.5) < 0.04
    assert value(f, "domain_auc_p_value") > 0.05 and f.metrics["domain_auc_p_value"].p_value
    assert f.metrics["mmd_p_value"].p_value and value(f, "mmd_p_value") > 0.01
    assert "leaning" not in f.summary  # no features named when the AUC is not significant


def test_dr002_catches_a_change_of_correlation_that_dr001_misses():
    ctx = make_ctx(correlated_frame(1000, seed=1), correlated_frame(200, seed=2), correlated_frame(1000, seed=3, rho=0.95))
    assert run(dr.FeatureDrift, ctx)[1] == "pass"  # every marginal is unchanged
    f, status = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    assert status == "fail" and value(f, "domain_auc") > 0.75
    assert value(f, "domain_auc_p_value") < 1e-6 and value(f, "mmd_p_value") < 0.01
    leaning = [row[0] for row in f.evidence[1].rows[:2]]
    assert set(leaning) == {"x1", "x2"} and "leaning most on x" in f.summary
    assert f.sample["by_role"]["current"]["rows_used"] == 1000


def test_dr002_balances_and_caps_the_sample():
    ctx = make_ctx(correlated_frame(3000, seed=1), correlated_frame(200, seed=2), correlated_frame(500, seed=3))
    f, _ = run(dr.MultivariateDrift, ctx, max_rows=400, **FAST_DR002)
    assert f.sample["by_role"]["train"] == {"rows_used": 400, "rows_available": 3000, "seed": ctx.seed_for("DR002")}
    assert f.sample["by_role"]["current"]["rows_used"] == 400
    assert f.evidence[0].rows[1][1] == 400  # MMD rows per side


def test_dr002_tiny_current_sample():
    ctx = make_ctx(correlated_frame(1000, seed=1), correlated_frame(200, seed=2), correlated_frame(12, seed=3))
    f, status = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    assert status == "inconclusive" and value(f, "domain_auc") is None
    assert "Only 12 current rows: too few to judge (at least 30)." in f.summary
    ctx = make_ctx(correlated_frame(1000, seed=1), correlated_frame(200, seed=2), correlated_frame(3, seed=3))
    f, status = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    assert status == "inconclusive"
    assert f.summary == "Could not train a domain classifier: 3 rows per side, at least 5 are needed."


def test_dr002_column_all_missing_in_current_and_unseen_level():
    current = correlated_frame(1000, seed=3)
    current["noise"] = np.nan
    current.loc[:99, "colour"] = "purple"
    ctx = make_ctx(correlated_frame(1000, seed=1), correlated_frame(200, seed=2), current)
    f, status = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    assert status == "fail" and value(f, "domain_auc") > 0.95
    assert f.evidence[1].rows[0][0] == "noise"


def test_dr002_is_reproducible():
    ctx = make_ctx(correlated_frame(600, seed=1), correlated_frame(200, seed=2), correlated_frame(600, seed=3, rho=0.5))
    assert payload(run(dr.MultivariateDrift, ctx, **FAST_DR002)[0]) == payload(run(dr.MultivariateDrift, ctx, **FAST_DR002)[0])


def test_alibi_mmd_gives_the_same_fields():
    pytest.importorskip("alibi_detect")
    ctx = make_ctx(correlated_frame(600, seed=1), correlated_frame(200, seed=2), correlated_frame(600, seed=3, rho=0.95))
    f_scipy, _ = run(dr.MultivariateDrift, ctx, **FAST_DR002)
    f_alibi, status = run(dr.MultivariateDrift, ctx, backend="alibi", **FAST_DR002)
    assert status == "fail" and set(f_alibi.metrics) == set(f_scipy.metrics)
    assert value(f_alibi, "mmd_p_value") < 0.05
    assert value(f_alibi, "mmd2") == pytest.approx(value(f_scipy, "mmd2"), rel=1e-3)  # same kernel, same estimator
    assert "(alibi-detect)" in f_alibi.evidence[0].rows[1][0]


# -- DR003 prediction-drift -------------------------------------------------------------
def test_dr003_clean_passes():
    f, status = run(dr.PredictionDrift, model_ctx(make_binary_frame(3000, seed=23)))
    assert status == "pass" and value(f, "prediction_psi") < 0.02
    assert "positive-class score" in f.summary and "with 3,000 test rows" in f.summary
    assert f.metrics["p_value"].p_value


def test_dr003_binary_score_shift():
    current = make_binary_frame(3000, seed=23)
    current["x1"] += 1.0  # the model's strongest input moves by one sd
    f, status = run(dr.PredictionDrift, model_ctx(current))
    assert status == "fail"
    assert value(f, "prediction_shift") == value(f, "prediction_psi") > 0.2
    assert value(f, "p_value") < 1e-10 and value(f, "positive_rate_change") > 0.15
    means = f.evidence[0].rows[0]
    assert means[0] == "mean" and means[2] - means[1] > 0.15
    # every score quantile moves up, so the Wasserstein distance is the shift of the mean
    assert value(f, "prediction_wasserstein") == pytest.approx(means[2] - means[1], rel=0.02)


def test_dr003_multiclass_class_shares():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)

    def frame(n, shift=0.0):
        x = rng.normal(size=(n, 2)) + [shift, 0]
        y = np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})

    train = frame(2000)
    model = SklearnAdapter(LogisticRegression(max_iter=500).fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, shift=1.0), task="multiclass", features=["a", "b"], model=model,
                   classes=["high", "low", "mid"])
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "fail" and "predicted class" in f.summary
    shares = {row[0]: row for row in f.evidence[0].rows}
    assert shares["high"][3] == pytest.approx(0.38, abs=0.05)  # P(x > 0.5) goes from 0.31 to 0.69
    clean = make_ctx(train, frame(2000), frame(2000), task="multiclass", features=["a", "b"], model=model,
                     classes=["high", "low", "mid"])
    assert run(dr.PredictionDrift, clean)[1] == "pass"


def test_dr003_regression_values():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)

    def frame(n, shift=0.0):
        x = rng.normal(size=(n, 2)) + [shift, 0]
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 2 * x[:, 0] + rng.normal(size=n)})

    train = frame(2000)
    model = SklearnAdapter(LinearRegression().fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, shift=0.5), task="regression", features=["a", "b"], model=model)
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "fail" and "predicted value" in f.summary
    # predictions 2a: a shift of 0.5 in a is about 0.5 sd of the predictions
    assert value(f, "prediction_wasserstein") == pytest.approx(0.5, abs=0.08)


def test_dr003_predictions_only_mode():
    train, test, current = make_binary_frame(1000, seed=1), make_binary_frame(1000, seed=2), make_binary_frame(1000, seed=3)
    for frame, shift in ((train, 0.0), (test, 0.0), (current, 0.3)):
        frame["pred"] = (frame["x1"] + shift > 0).astype(int)
    ctx = make_ctx(train, test, current, features=BINARY, model=PredictionsAdapter(prediction_column="pred"))
    f, status = run(dr.PredictionDrift, ctx)
    assert "predicted class" in f.summary and value(f, "prediction_psi") > 0.05
    ctx.datasets["current"] = current.drop(columns="pred")
    f, status = run(dr.PredictionDrift, ctx)
    assert status == "skipped"
    assert f.summary == "Skipped: predictions-only mode: the current data has no predictions column 'pred'."


def test_dr003_tiny_current_sample_is_inconclusive():
    f, status = run(dr.PredictionDrift, model_ctx(make_binary_frame(12, seed=23)))
    assert status == "inconclusive" and value(f, "prediction_shift") is None


# -- DR004 label-drift-and-performance --------------------------------------------------
def test_dr004_clean_passes():
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(make_binary_frame(3000, seed=23)), n_resamples=200)
    assert status == "pass"
    m = f.metrics["performance_drop"]
    assert m.ci_low < 0 < m.ci_high and abs(m.value) < 0.03
    assert value(f, "label_tvd") < 0.03 and f.metrics["label_p_value"].p_value
    assert f.sample["by_role"]["current"]["rows_used"] == 3000


def test_dr004_performance_drop_reads_its_planted_size():
    current = make_binary_frame(3000, seed=23)
    flip = np.random.default_rng(0).uniform(size=len(current)) < 0.2
    current.loc[flip, "y"] = 1 - current.loc[flip, "y"]
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    # flipping 20% of labels moves balanced accuracy b to b − 0.2·(2b − 1): about 0.10 at b ≈ 0.75
    test_score = value(f, "test_score")
    assert value(f, "performance_drop") == pytest.approx(0.2 * (2 * test_score - 1), abs=0.03)
    assert status == "fail" and f.metrics["performance_drop"].ci_low > 0.05


def test_dr004_label_shift_is_reported():
    current = make_binary_frame(6000, seed=23)
    current = pd.concat([current[current.y == 1].iloc[:2400], current[current.y == 0].iloc[:600]])  # 80% positive
    f, _ = run(dr.LabelDriftAndPerformance, model_ctx(current), n_resamples=200)
    share_train = (make_binary_frame(3000, seed=21)["y"] == 1).mean()
    assert value(f, "label_tvd") == pytest.approx(0.8 - share_train, abs=1e-9)
    assert value(f, "label_p_value") < 1e-10
    assert f.evidence[1].columns == ["class", "train share", "current share", "current − reference"]


def test_dr004_regression():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)

    def frame(n, noise=1.0):
        x = rng.normal(size=(n, 2))
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 2 * x[:, 0] + noise * rng.normal(size=n)})

    train = frame(2000)
    model = SklearnAdapter(LinearRegression().fit(train[["a", "b"]], train["y"]))
    ctx = make_ctx(train, frame(2000), frame(2000, noise=2.0), task="regression", features=["a", "b"], model=model)
    f, status = run(dr.LabelDriftAndPerformance, ctx)
    # R² = 4 / (4 + σ²): 0.8 on test, 0.5 on current
    assert value(f, "performance_drop") == pytest.approx(0.3, abs=0.05) and status == "fail"
    assert value(f, "label_ks_statistic") > 0.05 and f.metrics["label_p_value"].p_value


def test_dr004_too_few_labels_is_inconclusive():
    current = make_binary_frame(300, seed=23)
    current.loc[5:, "y"] = np.nan
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    assert status == "inconclusive" and value(f, "performance_drop") is None
    assert "only 5 labelled current rows" in f.summary


def test_dr004_single_class_current_is_inconclusive():
    current = make_binary_frame(300, seed=23)
    current["y"] = 1
    f, status = run(dr.LabelDriftAndPerformance, model_ctx(current))
    assert status == "inconclusive" and "the current rows hold a single class" in f.summary


def test_dr004_skips_without_test_labels():
    ctx = model_ctx(make_binary_frame(300, seed=23))
    ctx.datasets["test"] = ctx.datasets["test"].assign(y=np.nan)
    f, status = run(dr.LabelDriftAndPerformance, ctx)
    assert status == "skipped" and "the test data has no target values" in f.summary


# -- through the engine -------------------------------------------------------------------
def test_checks_run_through_the_engine_and_survive_json():
    from auditor.engine.policy import validate_policy
    from auditor.engine.registry import load_registry
    from auditor.engine.runner import available_needs, plan_checks, run_one

    registry = load_registry()
    planned = {p.cls.id: p for p in plan_checks(registry, validate_policy({"select": ["DR"]}, registry))}
    current = make_binary_frame(1000, seed=23)
    current["x1"] += 1.5
    ctx = model_ctx(current)
    have = available_needs(ctx)
    statuses = {}
    for cid in ("DR001", "DR002", "DR003", "DR004"):
        result = run_one(ctx, planned[cid], have)
        assert CheckResult.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False))).to_dict() == result.to_dict()
        statuses[cid] = result.status
    # x1 moved by 1.5 and the labels follow x1: the label shares and the model's accuracy move too (DR004)
    assert statuses == {"DR001": "fail", "DR002": "fail", "DR003": "fail", "DR004": "fail"}


def test_checks_skip_without_a_current_sample():
    from auditor.engine.registry import load_registry
    from auditor.engine.runner import PlannedCheck, available_needs, run_one

    ctx = model_ctx(None)
    for cls in dr.CHECKS:
        reg = load_registry().get(cls.id)
        item = PlannedCheck(reg=reg, severity=cls.severity, params={k: p.default for k, p in cls.params.items()}, thresholds={})
        result = run_one(ctx, item, available_needs(ctx))
        assert result.status == "skipped" and "no current (production) sample was given (--current)" in result.summary
