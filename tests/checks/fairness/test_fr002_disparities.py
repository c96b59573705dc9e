"""FR002 disparities (checks/fairness/fr002_disparities.py): group disparities: demographic parity,
equalized odds, disparate impact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import fairness as fr
from auditor.checks.fairness._common import _aif360_metrics as _aif
from tests.checks.fairness.conftest import FEATURES, _group_aware, binary_ctx, group_aware_ctx, metric, predictions_ctx, run, three_group_frame, with_group

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (lambda: _group_aware(factor=0.2), {"fail"})


# -- FR002 against the libraries ------------------------------------------------------------
def test_disparities_equal_fairlearn_and_aif360_on_the_rows():
    import fairlearn.metrics as flm

    aif = _aif()
    frame = three_group_frame()
    result = run("FR002", predictions_ctx(frame), consistency_rows=0)
    y, p, g = frame["y"].to_numpy(), frame["pred"].to_numpy(), frame["group"].to_numpy()
    assert metric(result, "demographic_parity_difference")["value"] == pytest.approx(
        flm.demographic_parity_difference(y, p, sensitive_features=g), abs=1e-12)
    assert metric(result, "demographic_parity_ratio")["value"] == pytest.approx(
        flm.demographic_parity_ratio(y, p, sensitive_features=g), abs=1e-12)
    assert metric(result, "equalized_odds_difference")["value"] == pytest.approx(
        flm.equalized_odds_difference(y, p, sensitive_features=g), abs=1e-12)
    assert metric(result, "equal_opportunity_difference")["value"] == pytest.approx(
        flm.equal_opportunity_difference(y, p, sensitive_features=g), abs=1e-12)
    # AIF360 between the least (C) and the most (A) selected groups, A privileged, on the rows.
    sel = frame.groupby("group")["pred"].mean()
    low, high = sel.idxmin(), sel.idxmax()
    pair = frame[frame["group"].isin([low, high])]
    y_pair = pd.Series(pair["y"].to_numpy(), index=pd.Index(pair["group"].to_numpy(dtype=object), name="g"))
    kw = {"prot_attr": "g", "priv_group": high, "pos_label": 1}
    assert metric(result, "disparate_impact_ratio")["value"] == pytest.approx(
        aif.disparate_impact_ratio(y_pair, pair["pred"].to_numpy(), **kw), abs=1e-12)
    assert metric(result, "statistical_parity_difference")["value"] == pytest.approx(
        aif.statistical_parity_difference(y_pair, pair["pred"].to_numpy(), **kw), abs=1e-12)
    assert metric(result, "average_odds_difference")["value"] == pytest.approx(
        aif.average_odds_difference(y_pair, pair["pred"].to_numpy(), **kw), abs=1e-12)
    assert metric(result, "theil_index")["value"] == pytest.approx(aif.generalized_entropy_error(y, p, alpha=1, pos_label=1), abs=1e-12)
    # The two libraries agree with each other where their definitions meet.
    assert flm.demographic_parity_ratio(y, p, sensitive_features=g) == pytest.approx(
        aif.disparate_impact_ratio(y_pair, pair["pred"].to_numpy(), **kw), abs=1e-12)
    assert flm.demographic_parity_difference(y, p, sensitive_features=g) == pytest.approx(
        -aif.statistical_parity_difference(y_pair, pair["pred"].to_numpy(), **kw), abs=1e-12)
    # Each group against the most selected one, as AIF360 computes it on the rows.
    table = next(e for e in result.evidence if e["title"].startswith("Each group"))
    for row in table["rows"]:
        if row[1] == high:
            assert row[7] == "reference"
            continue
        sub = frame[frame["group"].isin([row[1], high])]
        ys = pd.Series(sub["y"].to_numpy(), index=pd.Index(sub["group"].to_numpy(dtype=object), name="g"))
        assert row[7] == pytest.approx(aif.statistical_parity_difference(ys, sub["pred"].to_numpy(), **kw), abs=1e-12)
        assert row[8] == pytest.approx(aif.disparate_impact_ratio(ys, sub["pred"].to_numpy(), **kw), abs=1e-12)
        assert row[9] == pytest.approx(aif.average_odds_difference(ys, sub["pred"].to_numpy(), **kw), abs=1e-12)
    # Every interval holds its estimate's neighbourhood and is ordered.
    for name in ("demographic_parity_difference", "equalized_odds_difference", "disparate_impact_ratio"):
        m = metric(result, name)
        assert m["ci_low"] <= m["ci_high"]


def test_two_groups_fairlearn_and_aif360_agree_through_the_check():
    """With two groups, fairlearn's ratio and difference are AIF360's DI and -SPD, and equal
    opportunity is AIF360's, in absolute value; the check reports both sides."""
    import fairlearn.metrics as flm

    aif = _aif()
    frame = three_group_frame(seed=8)
    frame = frame[frame["group"] != "C"].reset_index(drop=True)
    result = run("FR002", predictions_ctx(frame), consistency_rows=0)
    y, p, g = frame["y"].to_numpy(), frame["pred"].to_numpy(), frame["group"].to_numpy(dtype=object)
    ys = pd.Series(y, index=pd.Index(g, name="g"))
    assert metric(result, "disparate_impact_ratio")["value"] == pytest.approx(metric(result, "demographic_parity_ratio")["value"], abs=1e-12)
    assert metric(result, "statistical_parity_difference")["value"] == pytest.approx(
        -metric(result, "demographic_parity_difference")["value"], abs=1e-12)
    assert abs(aif.equal_opportunity_difference(ys, p, prot_attr="g", priv_group="A", pos_label=1)) == pytest.approx(
        flm.equal_opportunity_difference(y, p, sensitive_features=g), abs=1e-12)
    assert metric(result, "equal_opportunity_difference")["value"] == pytest.approx(
        flm.equal_opportunity_difference(y, p, sensitive_features=g), abs=1e-12)


def test_consistency_is_aif360s_on_the_same_rows():
    aif = _aif()
    ctx = with_group(binary_ctx(n_test=600))
    result = run("FR002", ctx, consistency_rows=600)
    test = ctx.frame("test")
    X = fr._design_matrix(test, FEATURES, max_levels=20)
    p = np.asarray(ctx.predictions("test")).astype(int)
    assert metric(result, "consistency")["value"] == pytest.approx(aif.consistency_score(X, p, n_neighbors=5), abs=1e-12)
    assert result.sample["consistency_rows"] == 600


# -- verdicts -------------------------------------------------------------------------------
def test_predictions_pushed_down_for_one_group_fail():
    result = run("FR002", group_aware_ctx(factor=0.2))
    assert result.status == "fail"
    dpd = metric(result, "demographic_parity_difference")
    assert dpd["status"] == "fail" and dpd["ci_low"] > 0.2
    assert metric(result, "disparate_impact_ratio")["status"] == "fail"
    assert "selection rate" in result.summary and "for B" in result.summary


def test_labels_flipped_in_one_group_fail_equalized_odds():
    """Positive labels flipped alone move equalized odds by about 0.23 here (the interval
    straddles 0.2: inconclusive); flipping 70% of group B's labels both ways fails."""
    ctx = with_group(binary_ctx())
    test = ctx.frame("test")
    positives = ((test["group"] == "B") & (test["y"] == 1)).to_numpy() & (np.random.default_rng(1).uniform(size=len(test)) < 0.8)
    test.loc[positives, "y"] = 0
    eod = metric(run("FR002", ctx, consistency_rows=0), "equalized_odds_difference")
    assert eod["value"] > 0.2 and eod["status"] in ("fail", "inconclusive")
    ctx = with_group(binary_ctx())
    test = ctx.frame("test")
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(1).uniform(size=len(test)) < 0.7)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    result = run("FR002", ctx, consistency_rows=0)
    assert metric(result, "equalized_odds_difference")["status"] == "fail"
    assert metric(result, "demographic_parity_difference")["status"] == "pass"  # predictions untouched
    assert result.status == "fail"


def test_an_unmeasurable_attribute_widens_the_interval_but_a_clear_failure_still_fails():
    ctx = group_aware_ctx(factor=0.2)
    for frame in ctx.datasets.values():
        frame["region"] = "north"
    ctx.frame("test").loc[:11, "region"] = "south"
    ctx.sensitive = ["group", "region"]
    result = run("FR002", ctx, consistency_rows=0)
    dpd = metric(result, "demographic_parity_difference")
    assert dpd["ci_high"] == 1.0 and dpd["ci_low"] > 0.2
    assert result.status == "fail"
    assert "region has 1 group with at least 30 rows" in result.summary
    # Without the planted bias the same unmeasurable attribute makes it inconclusive, not a pass.
    clean = with_group(binary_ctx())
    for frame in clean.datasets.values():
        frame["region"] = "north"
    clean.frame("test").loc[:11, "region"] = "south"
    clean.sensitive = ["group", "region"]
    assert run("FR002", clean, consistency_rows=0).status == "inconclusive"
