"""Paired model comparison statistics, each checked against an independent reference.

References used here:
- McNemar: the chi-square formula (|b - c| - 1)^2 / (b + c) by hand and
  ``scipy.stats.binomtest``; the paired-difference interval against the Newcombe
  square-and-add value published for the Cavo et al. (2012) table in Fagerland,
  Lydersen & Laake (2017), ch. 8 (also the ``contingencytables`` R package's test).
- DeLong: R pROC's own regression values for ``roc.test`` on its ``aSAH`` data
  (pROC tests/testthat/test-roc.test.R), an O(m*n) brute-force of DeLong's structural
  components, ``sklearn.metrics.roc_auc_score`` and a stratified paired bootstrap.
- Friedman / Nemenyi: ``scipy.stats.friedmanchisquare`` and the worked example of
  Demšar (2006), sec. 3.2.2 (Table 6: four C4.5 variants on 14 data sets).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, get_scorer, log_loss, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from auditor.toolkit import comparison_stats as cs
from auditor.toolkit import refit_tests as rt
from auditor.toolkit.comparison_stats import (
    TestResult,
    delong_test,
    friedman_nemenyi,
    mcnemar_test,
    non_inferiority,
    paired_bootstrap_test,
    paired_permutation_test,
)
from auditor.toolkit.refit_tests import corrected_resampled_ttest, five_by_two_cv_ttest


def accuracy(y, pred):
    """A plain NumPy accuracy: the resampling tests call it thousands of times."""
    return float(np.mean(y == pred))


def preds_from_table(both: int, b_only: int, a_only: int, neither: int):
    """Rows with a given (A correct?, B correct?) table: y is all 1, a wrong prediction is 0."""
    a = [1] * both + [0] * b_only + [1] * a_only + [0] * neither
    b = [1] * both + [1] * b_only + [0] * a_only + [0] * neither
    return np.ones(len(a), dtype=int), np.array(a), np.array(b)


def assert_json_ready(result: TestResult) -> None:
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False)) == result.to_dict()


# ---------------------------------------------------------------------------
# McNemar
# ---------------------------------------------------------------------------


def test_mcnemar_chi_square_matches_the_hand_computed_table():
    y, a, b = preds_from_table(50, 30, 15, 5)  # 45 discordant pairs: chi-square
    res = mcnemar_test(y_true=y, pred_a=a, pred_b=b)
    chi2 = (abs(30 - 15) - 1) ** 2 / (30 + 15)
    assert res.test == "McNemar"
    assert res.statistic == pytest.approx(chi2, rel=1e-12)
    assert res.p_value == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-12)
    assert res.estimate == pytest.approx((80 - 65) / 100)
    assert res.details["b01"] == 30 and res.details["b10"] == 15 and res.details["n"] == 100
    assert res.details["method"] == "chi-square with continuity correction"
    assert res.ci_low < res.estimate < res.ci_high
    assert_json_ready(res)


def test_mcnemar_exact_binomial_below_25_discordant_pairs():
    y, a, b = preds_from_table(40, 8, 2, 10)
    res = mcnemar_test(y_true=y, pred_a=a, pred_b=b)
    assert res.details["method"] == "exact binomial"
    assert res.p_value == pytest.approx(stats.binomtest(2, 10, 0.5).pvalue, rel=1e-12)
    assert res.p_value == pytest.approx(0.109375)
    assert res.estimate == pytest.approx(6 / 60)


def test_mcnemar_exact_argument_overrides_the_automatic_choice():
    y, a, b = preds_from_table(50, 30, 15, 5)
    exact = mcnemar_test(y_true=y, pred_a=a, pred_b=b, exact=True)
    assert exact.p_value == pytest.approx(stats.binomtest(15, 45, 0.5).pvalue, rel=1e-12)
    y, a, b = preds_from_table(40, 8, 2, 10)
    approx = mcnemar_test(y_true=y, pred_a=a, pred_b=b, exact=False)
    assert approx.p_value == pytest.approx(stats.chi2.sf((6 - 1) ** 2 / 10, 1), rel=1e-12)


def test_mcnemar_interval_matches_newcombe_published_example():
    # Cavo et al. (2012) paired table (Fagerland, Lydersen & Laake 2017, ch. 8): the
    # Newcombe square-and-add interval of the difference is -0.0621 (-0.1186 to -0.0046).
    # Rows there are the first measurement (here B), columns the second (here A).
    y, a, b = preds_from_table(59, 6, 16, 80)
    res = mcnemar_test(y_true=y, pred_a=a, pred_b=b)
    assert res.estimate == pytest.approx(-0.0621, abs=5e-5)
    assert res.ci_low == pytest.approx(-0.1186, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.0046, abs=5e-5)


def test_mcnemar_interval_approaches_wald_for_large_counts():
    y, a, b = preds_from_table(4000, 900, 700, 400)
    res = mcnemar_test(y_true=y, pred_a=a, pred_b=b)
    n, d = 6000, (900 - 700) / 6000
    se = math.sqrt((900 + 700) / n - d**2) / math.sqrt(n)
    assert res.ci_low == pytest.approx(d - 1.959964 * se, abs=5e-4)
    assert res.ci_high == pytest.approx(d + 1.959964 * se, abs=5e-4)


def test_mcnemar_without_discordant_pairs_is_p_one():
    y = np.array([0, 1, 1, 0, 1])
    res = mcnemar_test(y_true=y, pred_a=y, pred_b=y.copy())
    assert (res.p_value, res.estimate) == (1.0, 0.0)
    assert res.ci_low <= 0 <= res.ci_high


def test_mcnemar_refuses_mismatched_rows_and_bad_exact():
    with pytest.raises(ValueError) as err:
        mcnemar_test(y_true=[1, 0], pred_a=[1, 0], pred_b=[1])
    assert str(err.value) == cs.MSG_LENGTHS.format(
        names="'y_true', 'pred_a', 'pred_b'", func="mcnemar_test", lengths=[2, 2, 1]
    )
    with pytest.raises(ValueError, match="The 'exact' parameter of mcnemar_test"):
        mcnemar_test(y_true=[1], pred_a=[1], pred_b=[1], exact="yes")
    with pytest.raises(ValueError, match="The 'confidence' parameter of mcnemar_test"):
        mcnemar_test(y_true=[1], pred_a=[1], pred_b=[1], confidence=95)


# ---------------------------------------------------------------------------
# DeLong
# ---------------------------------------------------------------------------

# pROC's aSAH data (Turck et al. 2010; 113 patients, 41 with a poor outcome), shipped with
# the R package: outcome == "Poor", s100b, as.numeric(wfns) (ordinal, many ties), ndka.
ASAH_Y = [
    0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0,
    0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0,
    0,
]  # fmt: skip
ASAH_S100B = [
    0.13, 0.14, 0.1, 0.04, 0.13, 0.1, 0.47, 0.16, 0.18, 0.1, 0.12, 0.1, 0.44, 0.71,
    0.04, 0.08, 0.49, 0.04, 0.07, 0.33, 0.09, 0.09, 0.07, 0.11, 0.07, 0.17, 0.07, 0.11,
    0.13, 0.19, 0.05, 0.16, 0.41, 0.14, 0.34, 0.35, 0.48, 0.09, 0.96, 0.25, 0.5, 0.46,
    0.16, 0.07, 0.43, 0.45, 0.11, 0.08, 0.09, 0.86, 0.52, 0.08, 0.06, 0.13, 2.07, 0.1,
    0.14, 0.15, 0.07, 0.06, 0.77, 0.05, 0.09, 0.3, 0.03, 0.09, 0.04, 0.23, 0.7, 0.09,
    0.27, 0.71, 0.08, 0.26, 0.08, 0.16, 0.09, 0.13, 0.1, 0.08, 0.11, 0.33, 0.11, 0.28,
    0.07, 0.1, 0.32, 0.22, 0.07, 0.05, 0.24, 0.38, 0.1, 0.15, 0.08, 0.14, 0.1, 0.07,
    0.04, 0.19, 0.56, 0.14, 0.58, 0.32, 0.82, 0.74, 0.15, 0.47, 0.17, 0.44, 0.15, 0.5,
    0.48,
]  # fmt: skip
ASAH_WFNS = [
    1, 1, 1, 1, 3, 2, 5, 4, 1, 2, 5, 2, 5, 5, 1, 2, 5, 2, 2, 5, 2, 1, 1, 1, 1, 2, 1, 2,
    1, 1, 3, 4, 2, 1, 4, 5, 4, 1, 4, 2, 5, 5, 1, 1, 2, 4, 1, 1, 2, 5, 5, 2, 1, 2, 5, 1,
    2, 2, 2, 1, 5, 1, 1, 2, 5, 2, 1, 4, 5, 2, 4, 4, 1, 4, 1, 2, 1, 4, 2, 1, 2, 3, 2, 4,
    2, 1, 4, 5, 1, 1, 5, 4, 2, 2, 1, 1, 1, 3, 1, 2, 5, 2, 2, 5, 5, 5, 2, 4, 4, 5, 1, 1,
    1,
]  # fmt: skip
ASAH_NDKA = [
    3.01, 8.54, 8.09, 10.42, 17.4, 12.75, 6.0, 13.2, 15.54, 6.01, 15.96, 17.86, 5.18,
    8.9, 13.41, 20.75, 11.6, 16.11, 32.37, 54.82, 32.41, 49.94, 40.34, 9.47, 6.29,
    12.53, 6.54, 6.3, 80.3, 12.8, 9.8, 9.81, 9.85, 18.21, 5.03, 14.04, 21.93, 8.02,
    7.42, 8.38, 6.59, 9.63, 13.12, 7.96, 14.34, 41.43, 7.63, 7.06, 12.59, 13.56, 3.87,
    9.44, 7.66, 12.98, 419.19, 27.19, 22.27, 9.95, 21.22, 11.73, 10.4, 58.83, 6.39,
    11.09, 12.22, 13.67, 17.21, 22.63, 12.9, 9.7, 21.57, 8.23, 72.57, 15.54, 10.51,
    10.6, 14.57, 5.19, 9.63, 4.61, 21.48, 17.3, 12.71, 9.44, 11.07, 19.46, 10.83, 5.37,
    11.97, 7.75, 9.83, 10.55, 28.49, 8.53, 12.57, 12.9, 46.83, 11.68, 12.67, 9.01, 9.57,
    34.06, 11.72, 14.26, 47.61, 11.67, 24.58, 10.33, 13.87, 15.89, 22.43, 6.79, 13.45,
]  # fmt: skip

# pROC tests/testthat/test-roc.test.R: roc.test(roc1, roc2) -> Z, p, 95% CI of AUC1 - AUC2.
# Here roc1 is the candidate (B) and roc2 the baseline (A).
PROC_ROC_TEST = [
    ("wfns", "s100b", 2.20898359144091, 0.0271757822291882, 0.0104061769564846, 0.174214419249478),
    ("wfns", "ndka", 2.79777591868904, 0.00514557970691098, 0.0634011709339876, 0.3600405634833566),
    ("ndka", "s100b", -1.39077002573558, 0.164295175223054, -0.2876917446341914, 0.0488706064228094),
]
ASAH_SCORES = {"s100b": ASAH_S100B, "wfns": ASAH_WFNS, "ndka": ASAH_NDKA}


@pytest.mark.parametrize("b_name, a_name, z, p, low, high", PROC_ROC_TEST)
def test_delong_reproduces_r_proc_roc_test_on_asah(b_name, a_name, z, p, low, high):
    y = np.array(ASAH_Y)
    assert (len(y), int(y.sum())) == (113, 41)
    res = delong_test(y_true=y, score_a=ASAH_SCORES[a_name], score_b=ASAH_SCORES[b_name])
    assert res.statistic == pytest.approx(z, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert res.ci_low == pytest.approx(low, rel=1e-9)
    assert res.ci_high == pytest.approx(high, rel=1e-9)
    assert res.estimate == pytest.approx(
        roc_auc_score(y, ASAH_SCORES[b_name]) - roc_auc_score(y, ASAH_SCORES[a_name]), abs=1e-12
    )
    assert_json_ready(res)


def brute_force_delong(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """DeLong et al. (1988) by definition: psi = 1 if a positive outscores a negative, 1/2 if tied."""
    components = []
    for s in (a, b):
        pos, neg = s[y == 1], s[y == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        components.append((psi.mean(axis=1), psi.mean(axis=0)))
    (v10a, v01a), (v10b, v01b) = components
    m, n = len(v10a), len(v01a)
    s10, s01 = np.cov(v10a, v10b), np.cov(v01a, v01b)
    var_diff = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return v10a.mean(), v10b.mean(), var_diff


@pytest.mark.parametrize("seed", [0, 1])
def test_delong_midranks_equal_the_pairwise_definition_and_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 301)
    a = np.round(0.8 * y + rng.normal(size=301), 1)  # rounding forces ties
    b = np.round(0.5 * a + 0.6 * y + rng.normal(size=301), 1)
    res = delong_test(y_true=y.astype(bool), score_a=a, score_b=b)
    auc_a, auc_b, var_diff = brute_force_delong(y, a, b)
    assert res.details["auc_a"] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert res.details["auc_b"] == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    assert (res.details["auc_a"], res.details["auc_b"]) == pytest.approx((auc_a, auc_b), abs=1e-12)
    assert res.details["standard_error"] ** 2 == pytest.approx(var_diff, rel=1e-10)


def test_delong_variance_agrees_with_a_paired_bootstrap():
    rng = np.random.default_rng(3)
    n = 1500
    y = (rng.random(n) < 0.4).astype(int)
    noise = rng.normal(size=n)
    a = y + noise
    b = 1.2 * y + 0.6 * noise + 0.8 * rng.normal(size=n)
    res = delong_test(y_true=y, score_a=a, score_b=b)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    diffs = []
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for _ in range(1500):  # stratified, as DeLong's variance is conditional on m and n
            idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
            diffs.append(roc_auc_score(y[idx], b[idx]) - roc_auc_score(y[idx], a[idx]))
    boot_var = np.var(diffs, ddof=1)
    assert res.details["standard_error"] ** 2 == pytest.approx(boot_var, rel=0.10)


def test_delong_identical_scores_give_z_zero_and_p_one():
    y = np.array([0, 1, 0, 1, 1, 0, 0, 1])
    s = np.array([0.1, 0.8, 0.4, 0.35, 0.9, 0.2, 0.5, 0.7])
    res = delong_test(y_true=y, score_a=s, score_b=s.copy())
    assert (res.statistic, res.p_value, res.estimate, res.ci_low, res.ci_high) == (0.0, 1.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "y, fragment",
    [
        ([1, 1, 1, 1, 1, 0], "5 positive and 1 negative rows"),
        ([1, 0, 0, 0, 0, 0], "1 positive and 5 negative rows"),
        ([0, 1, 2, 0, 1, 2], "values ['0', '1', '2']"),
        (["yes", "no", "yes", "no", "yes", "no"], "values ['no', 'yes']"),
    ],
)
def test_delong_refuses_non_binary_or_thin_targets(y, fragment):
    with pytest.raises(ValueError) as err:
        delong_test(y_true=np.array(y), score_a=np.arange(6.0), score_b=np.arange(6.0))
    assert str(err.value) == cs.MSG_BINARY.format(got=fragment)


def test_delong_refuses_non_finite_scores():
    with pytest.raises(ValueError) as err:
        delong_test(y_true=[0, 1, 0, 1], score_a=[0.1, 0.2, 0.3, 0.4], score_b=[0.1, np.nan, 0.3, 0.4])
    assert str(err.value) == cs.MSG_SCORES.format(name="score_b", got="non-finite values")


# ---------------------------------------------------------------------------
# paired bootstrap and permutation
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unequal_models():
    """B right on ~90% of rows, A on ~55%: a large true difference."""
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 400)
    a = np.where(rng.random(400) < 0.55, y, 1 - y)
    b = np.where(rng.random(400) < 0.90, y, 1 - y)
    return y, a, b


def test_bootstrap_detects_a_large_difference(unequal_models):
    y, a, b = unequal_models
    res = paired_bootstrap_test(metric=accuracy, y_true=y, out_a=a, out_b=b, n_resamples=999)
    assert res.estimate == pytest.approx(accuracy(y, b) - accuracy(y, a))
    assert res.statistic == res.estimate
    assert res.p_value == pytest.approx(1 / 1000)  # no shifted resample reaches |d|
    assert 0 < res.ci_low < res.estimate < res.ci_high
    assert res.details["n_undefined"] == 0
    assert_json_ready(res)


def test_bootstrap_of_identical_models_is_zero_with_p_one(unequal_models):
    y, a, _ = unequal_models
    res = paired_bootstrap_test(metric=accuracy, y_true=y, out_a=a, out_b=a.copy(), n_resamples=200)
    assert (res.estimate, res.p_value, res.ci_low, res.ci_high) == (0.0, 1.0, 0.0, 0.0)


def test_bootstrap_interval_agrees_with_the_wald_paired_interval():
    rng = np.random.default_rng(5)
    n = 3000
    y = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < 0.80, y, 1 - y)
    b = np.where(rng.random(n) < 0.83, y, 1 - y)
    res = paired_bootstrap_test(metric=accuracy, y_true=y, out_a=a, out_b=b, n_resamples=2000)
    b01, b10 = int(np.sum((a != y) & (b == y))), int(np.sum((a == y) & (b != y)))
    d = (b01 - b10) / n
    se = math.sqrt((b01 + b10) / n - d**2) / math.sqrt(n)  # Wald, paired proportions
    assert res.ci_low == pytest.approx(d - 1.959964 * se, abs=0.004)
    assert res.ci_high == pytest.approx(d + 1.959964 * se, abs=0.004)
    assert res.details["standard_error"] == pytest.approx(se, rel=0.1)


def test_bootstrap_drops_resamples_where_the_metric_is_undefined():
    # One positive in 20 rows: a resample misses it with probability (19/20)^20 = 0.358,
    # and ROC AUC is undefined there.
    rng = np.random.default_rng(2)
    y = np.r_[1, np.zeros(19, dtype=int)]
    a, b = rng.random(20), rng.random(20)
    res = paired_bootstrap_test(metric=roc_auc_score, y_true=y, out_a=a, out_b=b, n_resamples=1000)
    assert 0.358 * 1000 - 60 < res.details["n_undefined"] < 0.358 * 1000 + 60
    assert res.ci_low is not None and res.ci_low <= res.estimate <= res.ci_high
    assert 0 < res.p_value <= 1
    assert_json_ready(res)


def test_bootstrap_refuses_a_metric_undefined_on_all_rows():
    y = np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="The metric is undefined on the full data"):
        paired_bootstrap_test(metric=roc_auc_score, y_true=y, out_a=np.arange(10.0), out_b=np.arange(10.0))


def test_bootstrap_takes_probability_matrices_bca_and_is_seeded(unequal_models):
    y, a, b = unequal_models
    proba_a = np.column_stack([1 - (0.2 + 0.6 * a), 0.2 + 0.6 * a])
    proba_b = np.column_stack([1 - (0.1 + 0.8 * b), 0.1 + 0.8 * b])
    kwargs = {"metric": log_loss, "y_true": y, "out_a": proba_a, "out_b": proba_b, "n_resamples": 300}
    kwargs["method"] = "BCa"
    first, second = paired_bootstrap_test(**kwargs), paired_bootstrap_test(**kwargs)
    assert first == second
    assert first.estimate == pytest.approx(log_loss(y, proba_b) - log_loss(y, proba_a))
    assert first.details["method"] == "BCa" and first.ci_low < first.estimate < first.ci_high
    with pytest.raises(ValueError) as err:
        paired_bootstrap_test(**{**kwargs, "method": "normal"})
    assert str(err.value) == cs.MSG_METHOD.format(allowed=["BCa", "basic", "percentile"], got="normal")


def test_permutation_detects_a_large_difference(unequal_models):
    y, a, b = unequal_models
    res = paired_permutation_test(metric=accuracy, y_true=y, out_a=a, out_b=b, n_resamples=999)
    assert res.estimate == pytest.approx(accuracy(y, b) - accuracy(y, a))
    assert res.p_value <= 2 / 1000
    assert (res.ci_low, res.ci_high) == (None, None)
    assert_json_ready(res)


def test_permutation_of_identical_models_is_p_one(unequal_models):
    y, a, _ = unequal_models
    res = paired_permutation_test(metric=accuracy, y_true=y, out_a=a, out_b=a.copy(), n_resamples=200)
    assert (res.estimate, res.p_value) == (0.0, 1.0)


def test_permutation_is_exact_for_few_rows_and_matches_full_enumeration():
    y = np.array([1, 0, 1, 1, 0, 1, 0])
    a = np.array([0.9, 0.3, 0.2, 0.6, 0.4, 0.7, 0.1])
    b = np.array([0.8, 0.1, 0.7, 0.9, 0.2, 0.6, 0.3])

    def brier(y_, s):
        return float(np.mean((s - y_) ** 2))

    observed = brier(y, b) - brier(y, a)
    null = []
    for swap in itertools.product([False, True], repeat=len(y)):
        swap = np.array(swap)
        null.append(brier(y, np.where(swap, a, b)) - brier(y, np.where(swap, b, a)))
    null = np.array(null)
    tol = 1e-12
    p_ref = min(1.0, 2 * min(np.mean(null >= observed - tol), np.mean(null <= observed + tol)))
    res = paired_permutation_test(metric=brier, y_true=y, out_a=a, out_b=b, n_resamples=1000)
    assert res.details["exact"] is True and res.details["n_resamples"] == 2**7
    assert res.p_value == pytest.approx(p_ref, rel=1e-12)
    assert res.estimate == pytest.approx(observed)


# ---------------------------------------------------------------------------
# 5x2cv and corrected resampled t
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classification_data():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.8, size=300) > 0).astype(int)
    return X, y


def test_five_by_two_matches_dietterich_formula_and_a_manual_refit(classification_data):
    X, y = classification_data
    est_a, est_b = DummyClassifier(strategy="stratified", random_state=0), LogisticRegression()
    res = five_by_two_cv_ttest(estimator_a=est_a, estimator_b=est_b, X=X, y=y, scoring="accuracy", random_state=7)
    diffs = np.array(res.details["differences"]).reshape(5, 2)
    s2 = ((diffs - diffs.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    t = diffs[0, 0] / math.sqrt(s2.mean())
    assert res.statistic == pytest.approx(t, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(t), 5), rel=1e-12)
    assert res.details["df"] == 5
    assert res.estimate == pytest.approx(diffs.mean())
    half = stats.t.ppf(0.975, 5) * math.sqrt(s2.mean())
    assert (res.ci_low, res.ci_high) == pytest.approx((diffs.mean() - half, diffs.mean() + half))
    # the differences themselves, refitted by hand on the documented folds
    manual = []
    for train, test in RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=7).split(X, y):
        fitted = [clone(e).fit(X[train], y[train]) for e in (est_a, est_b)]
        manual.append(accuracy_score(y[test], fitted[1].predict(X[test])) - accuracy_score(y[test], fitted[0].predict(X[test])))
    np.testing.assert_allclose(res.details["differences"], manual, rtol=0, atol=1e-12)
    assert res.estimate > 0.2 and res.p_value < 0.01  # logistic regression beats a coin
    assert_json_ready(res)


def test_five_by_two_identical_estimators_give_zero_difference(classification_data):
    X, y = classification_data
    res = five_by_two_cv_ttest(
        estimator_a=LogisticRegression(), estimator_b=LogisticRegression(), X=X, y=y, scoring="roc_auc"
    )
    assert res.details["differences"] == [0.0] * 10
    assert (res.estimate, res.statistic, res.p_value) == (0.0, 0.0, 1.0)


def test_five_by_two_regression_uses_plain_folds_and_a_callable_scorer():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.3, size=120)
    scorer = get_scorer("neg_mean_squared_error")
    res = five_by_two_cv_ttest(estimator_a=Ridge(alpha=50.0), estimator_b=LinearRegression(), X=X, y=y, scoring=scorer)
    assert res.details["splitter"] == "RepeatedKFold"
    assert res.estimate > 0  # less shrinkage, lower squared error


def test_corrected_resampled_t_matches_nadeau_bengio_formula(classification_data):
    X, y = classification_data
    res = corrected_resampled_ttest(
        estimator_a=DummyClassifier(strategy="most_frequent"),
        estimator_b=LogisticRegression(),
        X=X,
        y=y,
        scoring="accuracy",
        n_repeats=12,
        test_size=0.2,
        random_state=3,
    )
    d = np.array(res.details["differences"])
    assert len(d) == 12 and (res.details["n_train"], res.details["n_test"]) == (240, 60)
    se = math.sqrt((1 / 12 + 60 / 240) * np.var(d, ddof=1))
    assert res.statistic == pytest.approx(d.mean() / se, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(d.mean() / se), 11), rel=1e-12)
    assert res.details["df"] == 11 and res.details["splitter"] == "StratifiedShuffleSplit"
    half = stats.t.ppf(0.975, 11) * se
    assert (res.ci_low, res.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
    # the correction widens the naive resampled t interval
    assert se > math.sqrt(np.var(d, ddof=1) / 12)
    assert_json_ready(res)


def test_corrected_resampled_t_identical_estimators_and_bad_repeats(classification_data):
    X, y = classification_data
    kwargs = {"estimator_a": LogisticRegression(), "estimator_b": LogisticRegression(), "X": X, "y": y}
    kwargs["scoring"] = "accuracy"
    res = corrected_resampled_ttest(**kwargs)
    assert (res.estimate, res.statistic, res.p_value) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError) as err:
        corrected_resampled_ttest(**kwargs, n_repeats=1)
    assert str(err.value) == rt.MSG_N_REPEATS.format(got=1)


# ---------------------------------------------------------------------------
# Friedman / Nemenyi
# ---------------------------------------------------------------------------

DEMSAR_NAMES = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
# Demšar (2006) Table 6: AUC on 14 data sets. The table is printed to three decimals;
# its ranks (Demšar's 2.893 and 1.964) put C4.5+cf ahead of C4.5+m+cf on "voting",
# where the printed values tie at 0.975, so that entry is nudged to 0.97501.
DEMSAR_AUC = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970],
])  # fmt: skip


def test_friedman_nemenyi_reproduces_demsar_worked_example():
    res = friedman_nemenyi(scores=DEMSAR_AUC, names=DEMSAR_NAMES)
    ranks = res["average_ranks"]
    assert [round(ranks[n], 3) for n in DEMSAR_NAMES] == [3.143, 2.000, 2.893, 1.964]
    # Demšar's chi2_F = 9.28 and F_F = 3.69 use the formula without a tie correction
    n, k = 14, 4
    r = np.array([ranks[name] for name in DEMSAR_NAMES])
    chi2_f = 12 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4)
    assert chi2_f == pytest.approx(9.28, abs=0.005)
    assert (n - 1) * chi2_f / (n * (k - 1) - chi2_f) == pytest.approx(3.69, abs=0.005)
    # the reported statistic is SciPy's tie-corrected one
    sp = stats.friedmanchisquare(*DEMSAR_AUC.T)
    assert (res["statistic"], res["p_value"]) == pytest.approx((sp.statistic, sp.pvalue), rel=1e-12)
    assert res["q_alpha"] == pytest.approx(2.569, abs=5e-4)
    assert res["critical_difference"] == pytest.approx(1.25, abs=0.005)
    assert not any(p["significant"] for p in res["pairs"])  # Demšar: nothing at 0.05
    json.dumps(res, allow_nan=False)


def test_nemenyi_at_alpha_ten_percent_separates_c45_from_the_m_variants():
    res = friedman_nemenyi(scores=DEMSAR_AUC, names=DEMSAR_NAMES, alpha=0.10)
    assert res["q_alpha"] == pytest.approx(2.291, abs=5e-4)
    assert res["critical_difference"] == pytest.approx(1.12, abs=0.005)
    significant = {(p["a"], p["b"]) for p in res["pairs"] if p["significant"]}
    assert significant == {("C4.5", "C4.5+m"), ("C4.5", "C4.5+m+cf")}


def test_friedman_lower_is_better_mirrors_the_ranks():
    higher = friedman_nemenyi(scores=DEMSAR_AUC, names=DEMSAR_NAMES)
    lower = friedman_nemenyi(scores=1 - DEMSAR_AUC, names=DEMSAR_NAMES, higher_is_better=False)
    assert lower["average_ranks"] == pytest.approx(higher["average_ranks"])


def test_friedman_refuses_fewer_than_three_models():
    with pytest.raises(ValueError) as err:
        friedman_nemenyi(scores=DEMSAR_AUC[:, :2], names=DEMSAR_NAMES[:2])
    assert str(err.value) == cs.MSG_SCORES_SHAPE.format(shape=(14, 2), k=2)


# ---------------------------------------------------------------------------
# non-inferiority
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "low, high, higher_is_better, expected, bound",
    [
        (-0.005, 0.02, True, True, -0.005),  # whole interval above -margin
        (-0.015, 0.02, True, False, -0.015),  # lower end below -margin
        (-0.010, 0.02, True, False, -0.010),  # exactly at the margin is not enough
        (0.010, 0.030, True, True, 0.010),  # superior is non-inferior too
        (-0.02, 0.005, False, True, 0.005),  # loss: whole interval below +margin
        (-0.02, 0.015, False, False, 0.015),
        (-0.02, 0.010, False, False, 0.010),
    ],
)
def test_non_inferiority_truth_table(low, high, higher_is_better, expected, bound):
    res = non_inferiority(
        estimate=(low + high) / 2, ci_low=low, ci_high=high, margin=0.01, higher_is_better=higher_is_better
    )
    assert res["non_inferior"] is expected
    assert res["bound"] == bound and res["margin"] == 0.01
    assert ("lower bound" if higher_is_better else "upper bound") in res["decided_by"]


def test_non_inferiority_refuses_a_negative_margin_and_a_reversed_interval():
    with pytest.raises(ValueError) as err:
        non_inferiority(estimate=0.0, ci_low=-0.1, ci_high=0.1, margin=-0.01)
    assert str(err.value) == cs.MSG_MARGIN.format(got=-0.01)
    with pytest.raises(ValueError) as err:
        non_inferiority(estimate=0.0, ci_low=0.1, ci_high=-0.1, margin=0.01)
    assert str(err.value) == cs.MSG_INTERVAL.format(low=0.1, high=-0.1)


# ---------------------------------------------------------------------------
# calibration under the null: equally good models
# ---------------------------------------------------------------------------


def test_mcnemar_and_delong_reject_at_about_alpha_for_equally_good_models():
    rng = np.random.default_rng(2024)
    sims, alpha = 200, 0.05
    mcnemar_rejections = delong_rejections = 0
    for _ in range(sims):
        y = rng.integers(0, 2, 500)
        a = np.where(rng.random(500) < 0.85, y, 1 - y)
        b = np.where(rng.random(500) < 0.85, y, 1 - y)
        mcnemar_rejections += mcnemar_test(y_true=y, pred_a=a, pred_b=b).p_value < alpha
        noise = rng.normal(size=500)
        score_a = y + noise
        score_b = y + 0.5 * noise + math.sqrt(0.75) * rng.normal(size=500)  # same AUC, correlated
        delong_rejections += delong_test(y_true=y, score_a=score_a, score_b=score_b).p_value < alpha
    assert 0.02 <= mcnemar_rejections / sims <= 0.09
    assert 0.02 <= delong_rejections / sims <= 0.09
