"""What the drift checks DR001-DR004 share (checks/drift/_common.py: the distance and test
statistics, agreeing with SciPy, and the alibi backend), and the tests that run all four.

For every check: a clean control (same distribution) passes, a planted shift reads close
to its planted size and judges as expected, and degenerate input gives a sensible result
without crashing; each check's own file holds those.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from auditor.checks import drift as dr
from auditor.contract.check import definition_problems
from auditor.contract.results import CheckResult
from tests.checks.drift.conftest import make_ctx, model_ctx, numeric_frame
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run


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


def test_alibi_backend_missing_gives_a_clear_error():
    try:
        import alibi_detect  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("alibi-detect is installed")
    ctx = make_ctx(numeric_frame(seed=1), numeric_frame(seed=2), numeric_frame(seed=3))
    for cls in (dr.FeatureDrift, dr.MultivariateDrift):
        # the engine turns the check's exception into an error result that keeps its type and message
        findings, status = run(cls, ctx, backend="alibi", expect_error=True)
        assert status == "error" and findings.result.error["type"] == "RuntimeError"
        assert findings.result.error["message"] == "the alibi backend needs `pip install auditor[alibi]`"


# -- through the engine -------------------------------------------------------------------
def test_checks_run_through_the_engine_and_survive_json():
    from auditor.engine.planning import plan_checks
    from auditor.engine.policy import validate_policy
    from auditor.engine.registry import load_registry
    from auditor.engine.runner import available_needs, run_one

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
