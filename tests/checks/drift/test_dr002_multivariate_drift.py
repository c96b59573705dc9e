"""DR002 multivariate-drift (checks/drift/dr002_multivariate_drift.py): reference and current rows
that a classifier can tell apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics.pairwise import rbf_kernel

from auditor.checks import drift as dr
from auditor.contract.context import AuditContext
from tests.checks.drift.conftest import make_ctx, payload, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _with_current


def correlated_frame(n: int, *, seed: int, rho: float = 0.0) -> pd.DataFrame:
    """x1 and x2 standard normal with correlation ``rho`` (marginals unchanged), plus a category and noise."""
    rng = np.random.default_rng(seed)
    x1, e = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({
        "x1": x1, "x2": rho * x1 + np.sqrt(1 - rho**2) * e,
        "colour": rng.choice(["red", "green", "blue"], size=n), "noise": rng.uniform(size=n),
    })


def _dr_correlation() -> AuditContext:
    """x2 = 0.95·x1 + noise in the current sample: every marginal unchanged, the joint distribution not."""
    current = make_binary_frame(3000, seed=23)
    current["x2"] = 0.95 * current["x1"] + np.sqrt(1 - 0.95**2) * current["x2"]
    return _with_current(current)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_dr_correlation, {"fail"})


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
