"""FR007 weak-segments (checks/fairness/fr007_weak_segments.py): slices of the data where the model
is significantly worse.
And the weak-slice search it runs (auditor.toolkit.slicing), which RB006 shares."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditor.toolkit.slicing import MSG_BINARY, MSG_COLUMNS, find_weak_slices
from tests.checks.fairness.conftest import _fr_group_label_noise, binary_ctx, metric, run, with_group

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_fr_group_label_noise, {"fail"})


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
