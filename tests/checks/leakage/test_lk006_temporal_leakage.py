"""LK006 temporal-leakage (checks/leakage/lk006_temporal_leakage.py): test rows that are older than
training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import START, N, frames, make_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


# -- LK006 temporal-leakage -------------------------------------------------------
def time_ordered(n: int = 4000) -> pd.DataFrame:
    frame = make_binary_frame(n, seed=6)
    frame["when"] = START + pd.to_timedelta(np.arange(n), unit="h")
    return frame


def _lk_time() -> AuditContext:
    frame = make_binary_frame(4000, seed=1)
    frame["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)), unit="h")
    is_test = np.random.default_rng(0).random(len(frame)) < 0.25  # a random, not chronological, split
    ctx = _ctx(frame[~is_test], frame[is_test])
    ctx.time_column = "when"
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_time, {"fail"})


def test_random_split_of_time_ordered_data_fails():
    frame = time_ordered()
    is_test = np.random.default_rng(0).random(len(frame)) < 0.25
    findings, status = run(lk.TemporalLeakage, make_ctx(frame[~is_test], frame[is_test]))
    assert value(findings, "lookahead_rate") > 0.99 and value(findings, "train_test_time_overlap") > 0.99
    assert status == "fail"
    assert "random rather than chronological split" in findings.summary
    ranges = findings.evidence[0].rows
    assert ranges[0][0] == "train" and ranges[0][3].startswith("2024-01-01")


def test_chronological_split_passes_and_small_lookahead_warns():
    frame = time_ordered()
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"
    test = frame.iloc[3000:].copy()
    test.iloc[:5, test.columns.get_loc("when")] = START  # 0.5% of test rows predate the cut-off
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], test))
    assert value(findings, "lookahead_rate") == pytest.approx(0.005) and status == "warn"


def test_day_first_dates_are_read_day_first_and_ambiguous_ones_skip():
    frame = time_ordered()
    frame["when"] = (START + pd.to_timedelta(np.arange(len(frame)) // 24 * 2, unit="D")).strftime("%d/%m/%Y")
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"
    ambiguous = frame.copy()
    ambiguous["when"] = "01/02/2024"
    findings, status = run(lk.TemporalLeakage, make_ctx(ambiguous.iloc[:3000], ambiguous.iloc[3000:]))
    assert status == "skipped" and "day-first or month-first" in findings.summary


def test_time_as_text_numbers_and_current():
    frame = time_ordered()
    frame["when"] = frame["when"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    current = frame.iloc[3500:].drop(columns="y")
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[2900:3500], current=current))
    assert value(findings, "lookahead_rate") == pytest.approx(99 / 600)  # the shared last hour is not earlier
    assert value(findings, "current_lookahead_rate") == 0 and value(findings, "current_before_test_rate") == 0
    assert status == "fail"
    frame["when"] = np.arange(len(frame)) // 10  # a period index
    findings, status = run(lk.TemporalLeakage, make_ctx(frame.iloc[:3000], frame.iloc[3000:]))
    assert value(findings, "lookahead_rate") == 0 and status == "pass"


@pytest.mark.parametrize("bad", ["not a date", True])
def test_unparseable_time_column_is_skipped(bad):
    train, test = frames(time=False)
    findings, status = run(lk.TemporalLeakage, make_ctx(train.assign(when=bad), test.assign(when=bad), time_column="when"))
    assert status == "skipped"
    assert findings.summary.startswith("Skipped: the time column 'when' cannot be read as times in the train data")


def test_time_kinds_differ_is_skipped():
    train, test = frames()
    findings, status = run(lk.TemporalLeakage, make_ctx(train, test.assign(when=np.arange(N))))
    assert status == "skipped" and "dates in train but numbers in test" in findings.summary
