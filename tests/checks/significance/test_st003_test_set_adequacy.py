"""ST003 test-set-adequacy (checks/significance/st003_test_set_adequacy.py): test-set adequacy:
enough rows overall and per class."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from auditor.checks import significance as st
from auditor.engine.registry import Registered
from auditor.engine.runner import PlannedCheck, available_needs, run_one
from auditor.engine.thresholds import judge
from tests.checks.significance.conftest import _tiny_test, binary_ctx, predictions_ctx, regression_ctx
from tests.conftest import run_check as run

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_tiny_test, {"inconclusive"})


# -- ST003 ---------------------------------------------------------------------------
def test_tiny_test_set_is_inconclusive_with_exact_counts():
    ctx = binary_ctx(n_test=40)
    findings, status = run(st.TestSetAdequacy, ctx)
    y = ctx.y("test").to_numpy()
    m = findings.metrics
    # Classes below min_class_rows: the data cannot decide; the interval width alone would fail.
    assert status == "inconclusive"
    assert judge(m, {k: t.as_dict() for k, t in st.TestSetAdequacy.thresholds.items()}) == "fail"
    assert m["smallest_class_rows"].value == np.bincount(y).min()
    acc = float(np.mean(ctx.predictions("test") == y))
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(acc * 40, 40, method="wilson")
    assert m["ci_width"].value == pytest.approx(high - low) and m["ci_width"].value > 0.2
    assert m["classes_below_min"].value == 2


def test_clean_test_set_passes():
    findings, status = run(st.TestSetAdequacy, binary_ctx())
    assert status == "pass", findings.summary
    assert findings.metrics["ci_width"].value < 0.04
    assert findings.metrics["rows_needed"].value < 3000


def test_power_and_sample_size_against_the_formulas():
    n = 500
    findings, _ = run(st.TestSetAdequacy, binary_ctx(n_test=n))
    ctx = binary_ctx(n_test=n)
    p = float(np.mean(ctx.predictions("test") == ctx.y("test").to_numpy()))
    # Cohen's h detectable by a two-sided z-test of two samples of n: (z_.975 + z_.8) * sqrt(2 / n).
    h = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(2 / n)
    other = p - findings.metrics["min_detectable_difference"].value
    assert 2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(other)) == pytest.approx(h, rel=1e-3)
    assert findings.metrics["rows_needed"].value == math.ceil(stats.norm.ppf(0.975) ** 2 * p * (1 - p) / 0.05**2)


def test_labels_only_uses_the_worst_case():
    ctx = binary_ctx(n_test=400)
    ctx.model = None
    assert "test" in available_needs(ctx) and "predictions" not in available_needs(ctx)
    findings, status = run(st.TestSetAdequacy, ctx)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(200, 400, method="wilson")
    assert findings.metrics["ci_width"].value == pytest.approx(high - low)
    assert "worst case of 50% accuracy" in findings.summary
    assert findings.metrics["rows_needed"].value == 385
    assert status == "pass"


def test_class_missing_from_the_test_set_is_inconclusive_and_named():
    ctx = predictions_ctx(np.array([0, 1] * 300), np.array([0, 1] * 300), classes=(0, 1, 2), task="multiclass")
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "inconclusive" and findings.metrics["smallest_class_rows"].value == 0
    assert "the rarest class, 2, has 0 rows" in findings.summary
    assert findings.evidence[0].rows[2][:2] == ["2", 0]


def test_small_class_warns():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(2000, int), np.ones(60, int)]
    findings, status = run(st.TestSetAdequacy, predictions_ctx(y, rng.permutation(y)))
    assert findings.metrics["smallest_class_rows"].value == 60 and status == "warn"


def test_no_labelled_rows_and_no_target():
    ctx = predictions_ctx([0, 1] * 10, [0, 1] * 10)
    ctx.datasets["test"]["y"] = np.nan
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "inconclusive" and findings.summary == "The test set has no labelled rows: nothing can be measured on it."
    ctx.datasets["test"] = ctx.datasets["test"].drop(columns="y")
    findings, status = run(st.TestSetAdequacy, ctx)
    assert status == "skipped" and findings.summary == "Skipped: the test data has no target column 'y'."


def test_regression_adequacy():
    findings, status = run(st.TestSetAdequacy, regression_ctx())
    assert status == "pass" and findings.metrics["ci_width"].value < 0.05
    assert "bootstrap interval of R²" in findings.metrics["ci_width"].description
    ctx = regression_ctx(n=50)
    ctx.model = None
    findings, status = run(st.TestSetAdequacy, ctx)
    lo, hi = stats.chi2.ppf([0.975, 0.025], 49)
    assert findings.metrics["ci_width"].value == pytest.approx(math.sqrt(49 / hi) - math.sqrt(49 / lo))
    assert status == "fail"


def test_adequacy_through_the_runner_needs_only_test():
    ctx = binary_ctx(n_test=40)
    ctx.model = None
    item = PlannedCheck(reg=Registered(st.TestSetAdequacy, "auditor", "0", "significance"), severity="medium",
                        params={k: p.default for k, p in st.TestSetAdequacy.params.items()},
                        thresholds={k: t.as_dict() for k, t in st.TestSetAdequacy.thresholds.items()})
    result = run_one(ctx, item, available_needs(ctx))
    assert result.status == "inconclusive" and result.metrics["smallest_class_rows"]["status"] == "warn"
    assert result.metrics["ci_width"]["status"] == "fail"
    json.dumps(result.to_dict(), allow_nan=False)
