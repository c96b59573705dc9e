"""Planted-defect tests for the fairness checks FR001-FR007 and the weak-slice search.

Our numbers are checked against fairlearn's and AIF360's own functions called on the
rows, against a small example computed by hand, and against planted biases: a group
whose predictions are pushed down fails, an independent group passes, a group of 12 rows
makes the disparities inconclusive.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.checks import fairness as fr
from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.contract.results import CheckResult
from auditor.engine.registry import load_registry
from auditor.engine.runner import PlannedCheck, available_needs, run_one
from auditor.toolkit.slicing import MSG_BINARY, MSG_COLUMNS, find_weak_slices
from tests.conftest import fit_pipeline, make_binary_frame
from tests.planted import _GroupAware as GroupAware

FEATURES = ["x1", "x2", "colour", "noise"]
REGISTRY = load_registry()


def _aif():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        import aif360.sklearn.metrics as aif
    finally:
        root.setLevel(level)
    return aif


def run(cid: str, ctx: AuditContext, **overrides) -> CheckResult:
    cls = REGISTRY.get(cid).cls
    params = {k: p.default for k, p in cls.params.items()}
    params.update(overrides)
    item = PlannedCheck(reg=REGISTRY.get(cid), severity=cls.severity, params=params,
                        thresholds={k: t.as_dict() for k, t in cls.thresholds.items()})
    result = run_one(ctx, item, available_needs(ctx))
    assert result.error is None, result.error["traceback"]
    return result


def metric(result: CheckResult, name: str) -> dict:
    return result.metrics[name]


# -- contexts ---------------------------------------------------------------------------
def with_group(ctx: AuditContext, *, seed: int = 7, groups=("A", "B"), column: str = "group") -> AuditContext:
    rng = np.random.default_rng(seed)
    for frame in ctx.datasets.values():
        frame[column] = rng.choice(list(groups), size=len(frame))
    ctx.sensitive = [*ctx.sensitive, column] if column not in ctx.sensitive else ctx.sensitive
    return ctx


def binary_ctx(*, n_test: int = 3000, seed: int = 22) -> AuditContext:
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(n_test, seed=seed)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=list(FEATURES),
                        model=SklearnAdapter(fit_pipeline(make_binary_frame(3000, seed=11))),
                        positive_label=1, classes=[0, 1], seed=0)


def predictions_ctx(frame: pd.DataFrame, *, sensitive=("group",), score: bool = False) -> AuditContext:
    """Predictions-only binary context: labels 'y', predictions 'pred' (and 'score') as columns."""
    frame = frame.reset_index(drop=True).copy()
    if "f" not in frame:
        frame["f"] = np.arange(len(frame)) % 7
    model = PredictionsAdapter(prediction_column="pred", score_column="score" if score else None)
    return AuditContext(datasets={"train": frame, "test": frame}, target="y", task="binary", features=["f"],
                        model=model, positive_label=1, classes=[0, 1], sensitive=list(sensitive), seed=0)


def group_aware_ctx(**kwargs) -> AuditContext:
    ctx = with_group(binary_ctx())
    ctx.model = SklearnAdapter(GroupAware(fit_pipeline(make_binary_frame(3000, seed=11)), **kwargs))
    ctx.features = FEATURES + ["group"]
    return ctx


def three_group_frame(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    """Labels and predictions whose rates differ by group (A, B, C of 50/30/20%)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    base = np.select([group == "A", group == "B"], [0.5, 0.35], 0.25)
    y = (rng.uniform(size=n) < base).astype(int)
    tpr = np.select([group == "A", group == "B"], [0.85, 0.7], 0.6)
    fpr = np.select([group == "A", group == "B"], [0.2, 0.1], 0.15)
    pred = np.where(y == 1, rng.uniform(size=n) < tpr, rng.uniform(size=n) < fpr).astype(int)
    score = np.clip(0.5 * pred + 0.4 * rng.uniform(size=n) + 0.05, 0, 1)
    return pd.DataFrame({"group": group, "y": y, "pred": pred, "score": score, "x": rng.normal(size=n)})


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


def test_hand_computed_example():
    """Group A: TP 16, FN 4, FP 4, TN 16; group B: TP 8, FN 12, FP 2, TN 18."""
    rows = []
    for group, cells in (("A", {(1, 1): 16, (1, 0): 4, (0, 1): 4, (0, 0): 16}), ("B", {(1, 1): 8, (1, 0): 12, (0, 1): 2, (0, 0): 18})):
        for (y, p), n in cells.items():
            rows += [(group, y, p)] * n
    frame = pd.DataFrame(rows, columns=["group", "y", "pred"])
    result = run("FR002", predictions_ctx(frame), consistency_rows=0)
    # selection 0.5 and 0.25; TPR 0.8 and 0.4; FPR 0.2 and 0.1
    assert metric(result, "demographic_parity_difference")["value"] == pytest.approx(0.25)
    assert metric(result, "demographic_parity_ratio")["value"] == pytest.approx(0.5)
    assert metric(result, "disparate_impact_ratio")["value"] == pytest.approx(0.5)
    assert metric(result, "statistical_parity_difference")["value"] == pytest.approx(-0.25)
    assert metric(result, "equalized_odds_difference")["value"] == pytest.approx(0.4)
    assert metric(result, "equal_opportunity_difference")["value"] == pytest.approx(0.4)
    assert metric(result, "average_odds_difference")["value"] == pytest.approx(((0.1 - 0.2) + (0.4 - 0.8)) / 2)
    # Theil index of b = 1 + prediction - label: 16 rows of 0, 58 of 1, 6 of 2; mean 0.875.
    mu = 70 / 80
    theil = (58 * (1 / mu) * math.log(1 / mu) + 6 * (2 / mu) * math.log(2 / mu)) / 80
    assert metric(result, "theil_index")["value"] == pytest.approx(theil)
    # 40 rows a group cannot tell 0.25 from the fail level 0.2: the interval straddles it.
    dpd = metric(result, "demographic_parity_difference")
    assert dpd["ci_low"] < 0.2 < dpd["ci_high"] and dpd["status"] == "inconclusive"
    assert result.status == "inconclusive"
    # FR001 from the same rows: accuracy 0.8 (A) and 0.65 (B)
    result = run("FR001", predictions_ctx(frame))
    assert metric(result, "max_accuracy_gap")["value"] == pytest.approx(0.15)
    table = result.evidence[0]
    assert table["rows"][0][:3] == ["group", "A", 40]
    assert table["rows"][0][3] == 20  # positive labels
    # selection, TPR, FPR, FNR, TNR, precision, accuracy, each "estimate (low to high)"
    assert [float(cell.split()[0]) for cell in table["rows"][0][4:11]] == pytest.approx([0.5, 0.8, 0.2, 0.2, 0.8, 0.8, 0.8])
    assert [float(cell.split()[0]) for cell in table["rows"][1][4:11]] == pytest.approx([0.25, 0.4, 0.1, 0.6, 0.9, 0.8, 0.65])
    # the error-rate gaps are judged: FNR 0.6 vs 0.2, FPR 0.2 vs 0.1
    assert metric(result, "max_false_negative_rate_gap")["value"] == pytest.approx(0.4)
    assert metric(result, "max_false_positive_rate_gap")["value"] == pytest.approx(0.1)
    gaps = {row[1]: row for row in result.evidence[1]["rows"]}
    assert gaps["false negative rate"][2:4] == ["B: 0.600", "A: 0.200"]
    assert gaps["false negative rate"][5] == pytest.approx(0.2 / 0.6, abs=1e-3)


def test_check_calls_the_libraries_on_counts_and_they_match_rows():
    """The cell table with counts as sample weights gives fairlearn's row numbers."""
    import fairlearn.metrics as flm

    frame = three_group_frame(seed=11)
    codes = pd.factorize(frame["group"], sort=True)[0]
    y, p = frame["y"].to_numpy(), frame["pred"].to_numpy()
    table = fr.cell_table(codes, y, p)
    assert table.weight.sum() == len(frame) and len(table.weight) <= 12
    for fn in (flm.demographic_parity_difference, flm.equalized_odds_difference, flm.demographic_parity_ratio):
        assert fn(table.y, table.p, sensitive_features=table.group, sample_weight=table.weight) == pytest.approx(
            fn(y, p, sensitive_features=codes), abs=1e-12)


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


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_no_group_effect_passes(seed):
    ctx = with_group(binary_ctx(), seed=seed)
    for cid in ("FR001", "FR002", "FR003", "FR004", "FR005", "FR006", "FR007"):
        result = run(cid, ctx)
        assert result.status == "pass", (cid, result.summary)


def test_group_of_12_rows_is_reported_and_makes_disparities_inconclusive():
    ctx = with_group(binary_ctx())
    for frame in ctx.datasets.values():
        frame["group"] = "A"
    ctx.frame("test").loc[:11, "group"] = "B"
    fr002 = run("FR002", ctx)
    assert fr002.status == "inconclusive"
    assert metric(fr002, "demographic_parity_difference")["value"] is None
    assert "B (12 rows)" in fr002.summary
    left = next(e for e in fr002.evidence if e["title"] == "Groups left out")
    assert left["rows"][0][:3] == ["group", "B", 12]
    fr003 = run("FR003", ctx)
    assert fr003.status == "warn"
    assert metric(fr003, "small_groups")["value"] == 1
    assert fr003.evidence[0]["rows"][0][:3] == ["group", "B", 12]
    assert "B (group, 12 rows)" in fr003.summary
    assert run("FR001", ctx).status == "inconclusive"


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


def test_intersections_are_compared_and_listed():
    ctx = with_group(binary_ctx(), seed=3)
    with_group(ctx, seed=4, groups=("x", "y", "z"), column="band")
    result = run("FR003", ctx)
    groups = [(r[0], r[1]) for r in result.evidence[0]["rows"]]
    assert ("group & band", "A & x") in groups and metric(result, "groups")["value"] == 2 + 3 + 6
    ctx.favourable_label = 1  # undeclared, the disparate impact with 0 favourable (0.874, 0.78-0.96) is undecided
    fr002 = run("FR002", ctx, consistency_rows=0)
    table = fr002.evidence[0]
    assert [r[0] for r in table["rows"]] == ["group", "band", "group & band"]
    assert fr002.status == "pass"
    assert run("FR003", ctx, max_order=1).metrics["groups"]["value"] == 5


def test_numeric_sensitive_feature_is_binned():
    ctx = binary_ctx()
    rng = np.random.default_rng(0)
    for frame in ctx.datasets.values():
        frame["age"] = rng.integers(18, 90, size=len(frame))
    ctx.sensitive = ["age"]
    result = run("FR003", ctx)
    assert metric(result, "groups")["value"] == 4
    assert all(r[1].startswith(("[", "(")) for r in result.evidence[0]["rows"])


def test_small_label_counts_leave_groups_out_of_error_rates():
    frame = three_group_frame(seed=2)
    frame.loc[frame["group"] == "C", "y"] = 0
    frame.loc[frame.index[frame["group"] == "C"][:5], "y"] = 1  # 5 positives in C
    result = run("FR002", predictions_ctx(frame), consistency_rows=0)
    left = next(e for e in result.evidence if e["title"] == "Groups left out")
    assert left["rows"] == [["group", "C", int((frame["group"] == "C").sum()), 5, int((frame["group"] == "C").sum()) - 5,
                             "fewer than 10 rows of a label: in no error-rate disparity"]]
    assert metric(result, "groups_excluded_from_error_rates")["value"] == 1
    fr003 = run("FR003", predictions_ctx(frame))
    assert metric(fr003, "groups_with_few_labels")["value"] == 1


# -- FR001 across tasks -------------------------------------------------------------------
def test_group_metrics_fail_when_one_group_is_served_worse():
    ctx = with_group(binary_ctx())
    test = ctx.frame("test")
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(3).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    result = run("FR001", ctx)
    gap = metric(result, "max_accuracy_gap")
    assert result.status == "fail" and gap["value"] == pytest.approx(0.35 * (1 - 2 * 0.25), abs=0.05)
    assert result.figures and "<svg" in result.figures[0]["svg"]


def test_group_metrics_multiclass_and_regression():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(5)
    n = 2000
    X = rng.normal(size=(n, 2))
    group = rng.choice(["A", "B"], size=n)
    y = np.array(["a", "b", "c"])[np.digitize(X[:, 0] + 0.3 * rng.normal(size=n), [-0.5, 0.5])]
    frame = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "group": group, "y": y})
    model = LogisticRegression(max_iter=500).fit(frame[["u", "v"]], frame["y"])
    ctx = AuditContext(datasets={"train": frame, "test": frame}, target="y", task="multiclass", features=["u", "v"],
                       model=SklearnAdapter(model), classes=["a", "b", "c"], sensitive=["group"], seed=0)
    result = run("FR001", ctx)
    assert result.status == "pass" and result.evidence[0]["columns"][3] == "accuracy"
    assert run("FR002", ctx).status == "skipped"

    target = 2 * X[:, 0] + rng.normal(size=n) * np.where(group == "B", 3.0, 1.0)  # noisier for B
    reg = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "group": group, "y": target})
    ctx = AuditContext(datasets={"train": reg, "test": reg}, target="y", task="regression", features=["u", "v"],
                       model=SklearnAdapter(LinearRegression().fit(reg[["u", "v"]], reg["y"])), sensitive=["group"], seed=0)
    result = run("FR001", ctx)
    gap = metric(result, "max_relative_mae_gap")
    assert result.status == "fail" and gap["value"] > 0.5
    assert "max_accuracy_gap" not in result.metrics


# -- FR004 --------------------------------------------------------------------------------
def test_calibration_gap_fails_when_one_group_is_overconfident():
    result = run("FR004", group_aware_ctx(power=4.0))
    assert result.status == "fail"
    rows = {r[1]: r for r in result.evidence[0]["rows"]}
    assert rows["B"][3] > 0.1 > rows["A"][3]


# -- FR005 and FR006 ----------------------------------------------------------------------
def test_proxy_is_found():
    ctx = with_group(binary_ctx())
    rng = np.random.default_rng(5)
    for frame in ctx.datasets.values():
        frame["group"] = np.where((frame["noise"] > 5).to_numpy() ^ (rng.uniform(size=len(frame)) < 0.1), "B", "A")
    result = run("FR005", ctx)
    assert result.status == "fail"
    top = result.evidence[0]["rows"][0]
    assert top[:2] == ["group", "noise"] and top[2] == pytest.approx(0.9, abs=0.03)
    assert metric(result, "max_proxy_auc")["ci_low"] > 0.8
    # A categorical proxy for a three-group attribute (macro one-vs-rest AUC).
    for frame in ctx.datasets.values():
        frame["band"] = frame["colour"].map({"red": "r", "green": "g", "blue": "b"})
    ctx.sensitive = ["band"]
    result = run("FR005", ctx)
    assert result.evidence[0]["rows"][0][:2] == ["band", "colour"] and result.evidence[0]["rows"][0][2] == pytest.approx(1.0)


def test_sensitive_attribute_as_input():
    ctx = with_group(binary_ctx())
    assert run("FR006", ctx).status == "pass"
    ctx.sensitive = ["group", "colour"]
    result = run("FR006", ctx)
    assert result.status == "warn" and metric(result, "sensitive_inputs")["value"] == 1
    assert result.evidence[0]["rows"][1] == ["colour", "yes", "train, test"]


# -- FR007 and the slice search -------------------------------------------------------------
def test_weak_segment_planted_in_a_sensitive_group_is_found():
    ctx = with_group(binary_ctx())
    test = ctx.frame("test")
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(3).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    result = run("FR007", ctx)
    assert result.status == "fail"
    assert result.evidence[0]["rows"][0][0] == "group = B"
    assert metric(result, "weak_slices")["value"] >= 1


def _slice_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n), "b": rng.choice(["x", "y", "z", "<script>alert(1)</script>"], size=n),
        "c": rng.uniform(size=n), "d": rng.integers(0, 3, size=n),
    })


@pytest.mark.parametrize("seed", range(6))
def test_slice_search_finds_nothing_on_clean_errors(seed):
    rng = np.random.default_rng(100 + seed)
    frame = _slice_frame(4000, seed)
    rate = find_weak_slices(frame=frame, errors=rng.uniform(size=4000) < 0.2, columns=list(frame.columns), random_state=seed)
    assert rate.weak == [] and rate.searched > 50 and rate.error_type == "binary"
    magnitude = find_weak_slices(frame=frame, errors=np.abs(rng.standard_t(4, size=4000)), columns=list(frame.columns))
    assert magnitude.weak == [] and magnitude.error_type == "continuous"


def test_slice_search_finds_a_doubled_error_rate():
    rng = np.random.default_rng(101)
    frame = _slice_frame(8000, 1)
    planted = ((frame["b"] == "y") & (frame["a"] > 0)).to_numpy()
    errors = rng.uniform(size=8000) < np.where(planted, 0.4, 0.2)
    result = find_weak_slices(frame=frame, errors=errors, columns=list(frame.columns), random_state=0)
    descriptions = [r["description"] for r in result.weak]
    assert descriptions[0] == "b = y"
    assert any(d.startswith("a in") and d.endswith("& b = y") for d in descriptions)
    # every weak slice overlaps the planted region: b = y, or a bin of positive a
    for r in result.weak:
        levels = dict(zip(r["columns"], r["levels"]))
        assert levels.get("b") == "y" or float(levels.get("a", "[-1,")[1:].split(",")[0]) > 0
    record = result.weak[0]
    assert set(record) >= {"columns", "levels", "size", "metric", "ci_low", "ci_high", "reference", "p_value", "q_value"}
    assert json.loads(json.dumps(result.to_dict()))["searched"] == result.searched
    # restricted to slices that involve 'c', the planted slice is not searched
    only_c = find_weak_slices(frame=frame, errors=errors, columns=list(frame.columns), must_include=["c"], reference="parents")
    assert all("c" in r["columns"] for r in only_c.records) and only_c.weak == []


def test_slice_search_regression_and_bounds():
    rng = np.random.default_rng(200)
    frame = _slice_frame(3000, 2)
    errors = np.abs(rng.normal(size=3000)) * np.where(frame["d"].to_numpy() == 2, 2.0, 1.0)
    result = find_weak_slices(frame=frame, errors=errors, columns=["a", "b", "c", "d"])
    assert result.weak and result.weak[0]["description"] == "d = 2"
    capped = find_weak_slices(frame=frame, errors=errors, columns=["a", "b", "c", "d"], max_slices=20)
    assert capped.searched == 20 and capped.candidates > 20
    assert find_weak_slices(frame=frame, errors=errors, columns=["a"], max_rows=500, random_state=0).rows == 500
    with pytest.raises(ValueError, match="missing from 'frame'"):
        find_weak_slices(frame=frame, errors=errors, columns=["nope"])
    with pytest.raises(ValueError) as info:
        find_weak_slices(frame=frame, errors=errors, columns=["a"], error_type="binary")
    assert str(info.value) == MSG_BINARY
    assert MSG_COLUMNS.startswith("The 'columns' parameter of find_weak_slices")


@pytest.mark.parametrize("seed", [7, 8, 9, 10, 11])
def test_weak_segments_none_on_clean_data(seed):
    result = run("FR007", with_group(binary_ctx(seed=22 + seed), seed=seed))
    assert result.status == "pass", result.summary


# -- robustness of the glue -------------------------------------------------------------------
def test_hostile_group_values():
    ctx = binary_ctx()
    values = np.array(["<script>alert(1)</script>", "$\\x$", "", "A & B", "élève"], dtype=object)
    rng = np.random.default_rng(0)
    for frame in ctx.datasets.values():
        frame["who"] = values[rng.integers(0, len(values), size=len(frame))]
        frame.loc[frame.index[:40], "who"] = None
    ctx.sensitive = ["who"]
    for cid in ("FR001", "FR002", "FR003", "FR004", "FR005", "FR006", "FR007"):
        result = run(cid, ctx)
        text = json.dumps(result.to_dict(), allow_nan=False)
        assert CheckResult.from_dict(json.loads(text)).to_dict() == result.to_dict()
        for figure in result.figures:
            assert "<script>" not in figure["svg"]
    groups = {r[1] for r in run("FR003", ctx).evidence[0]["rows"]}
    assert {"<script>alert(1)</script>", "<missing>", "$\\x$", ""} <= groups


def test_skips_and_degenerate_inputs():
    ctx = binary_ctx()
    assert run("FR002", ctx).status == "skipped"  # no sensitive feature
    assert run("FR007", ctx).status == "skipped"  # slices of other columns belong to robustness
    ctx.sensitive = ["absent"]
    ctx.frame("test")  # the loader validates columns; a hand-built context may not
    assert run("FR003", ctx).summary == "Skipped: the test data lacks the sensitive column(s) 'absent'."
    tiny = with_group(binary_ctx(n_test=8))
    assert run("FR002", tiny).status == "inconclusive"
    only = with_group(binary_ctx())
    only.features = ["group"]
    only.model = SklearnAdapter(fit_pipeline(only.frame("train")[["group", "y"]]))
    assert run("FR005", only).summary.startswith("Skipped: the model has no inputs other than the sensitive features")


# -- the real example -------------------------------------------------------------------------
ADULT = Path(__file__).resolve().parents[3] / "examples" / "adult"


@pytest.fixture(scope="module")
def adult_model(tmp_path_factory) -> Path:
    """The example model: the one scripts/example.sh built, else trained here by the same script (seeded)."""
    built = ADULT / "model.skops"
    if built.is_file():
        return built
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("adult") / "model.skops"
    subprocess.run([sys.executable, str(ADULT / "train_model.py"), "--out", str(out)], check=True, capture_output=True,
                   timeout=600)
    return out


@pytest.mark.slow
def test_adult_relationship_is_a_proxy_for_sex_and_disparities_fail(adult_model):
    from auditor.contract.inputs import RunOptions, build_context

    ctx, _ = build_context(RunOptions(
        train=str(ADULT / "adult_train.csv.gz"), test=str(ADULT / "adult_test.csv.gz"), target="income",
        model=str(adult_model), positive_label=">50K", sensitive=["sex", "race"],
        trusted_types=["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"],
    ))
    proxies = run("FR005", ctx)
    assert proxies.status == "fail" and proxies.evidence[0]["rows"][0][:2] == ["sex", "relationship"]
    disparities = run("FR002", ctx)
    assert disparities.status == "fail"
    sex = next(r for r in disparities.evidence[0]["rows"] if r[0] == "sex")
    assert sex[2].startswith("0.17")  # men selected at 0.26, women at 0.08
    assert run("FR006", ctx).status == "warn"
