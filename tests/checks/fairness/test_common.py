"""What the fairness checks FR001-FR007 share (checks/fairness/_common.py) and the tests that
run several of them on one input.

Our numbers are checked against fairlearn's and AIF360's own functions called on the
rows, against a small example computed by hand, and against planted biases: a group
whose predictions are pushed down fails, an independent group passes, a group of 12 rows
makes the disparities inconclusive.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.checks import fairness as fr
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.results import CheckResult
from tests.checks.fairness.conftest import binary_ctx, metric, predictions_ctx, run, three_group_frame, with_group
from tests.conftest import fit_pipeline


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
