"""What the leakage checks LK001-LK007 share, and the tests that run all seven.

For every check: clean data passes, degenerate input gives a sensible result without
crashing, hostile column names survive a JSON round trip; each check's own file holds its
planted defects.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.check import Check, definition_problems
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import N, frames, make_ctx, value
from tests.conftest import findings_payload
from tests.conftest import run_check as run
from tests.planted import clean_context

HOSTILE = ["<script>alert(1)</script>", "col with spaces 列", 'quo"te\'s', "ünï€ødé $x$"]


def module_checks() -> list[type[Check]]:
    return [
        v for v in vars(lk).values()
        if inspect.isclass(v) and issubclass(v, Check) and v is not Check and (v.__module__ == lk.__name__ or v.__module__.startswith(lk.__name__ + "."))
    ]


def payload(findings) -> dict:
    return findings_payload(findings)


# -- definitions ------------------------------------------------------------------
def test_module_defines_lk001_to_lk007():
    assert sorted(c.id for c in module_checks()) == [f"LK{i:03d}" for i in range(1, 8)]
    assert set(lk.CHECKS) == set(module_checks())


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_definition_is_valid(cls):
    assert definition_problems(cls) == []
    assert cls.area == "leakage"
    assert cls.thresholds and cls.practices and cls.references
    assert "P4.2" in cls.practices or "P4.1" in cls.practices


# -- clean controls ---------------------------------------------------------------
@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_clean_data_passes(cls):
    findings, status = run(cls, make_ctx(*frames()))
    assert status == "pass", (findings.summary, {k: m.value for k, m in findings.metrics.items()})
    assert set(cls.thresholds) - {"current_overlap_rate"} <= set(findings.metrics)
    assert findings.summary and findings.recommendation
    for word in ("passed", "failed"):
        assert word not in findings.summary.lower()


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_shared_clean_context_passes(cls):
    findings, status = run(cls, clean_context())
    assert status in ("pass", "skipped"), findings.summary


# -- degenerate input ---------------------------------------------------------------
DEGENERATE = ["tiny", "all_nan_column", "no_numeric", "no_test_labels", "one_test_class", "empty_test"]


def degenerate(kind: str) -> AuditContext:
    train, test = frames()
    if kind == "tiny":
        return make_ctx(train.iloc[:2], test.iloc[:1])
    if kind == "all_nan_column":
        train["x1"], test["x1"] = np.nan, np.nan
        train["colour"] = pd.array([None] * N, dtype="str")
        return make_ctx(train, test)
    if kind == "no_numeric":
        return make_ctx(train, test, features=["colour"])
    if kind == "no_test_labels":
        return make_ctx(train, test.drop(columns="y"))
    if kind == "one_test_class":
        return make_ctx(train, test.assign(y=1))
    return make_ctx(train, test.iloc[:0])


# What each check concludes on each degenerate input. Unlisted pairs pass: the input is
# degenerate for another check, not for this one (LK005 still compares groups on 1 row).
DEGENERATE_STATUS = {
    ("LK001", "no_numeric"): "fail",  # one 3-level input: every test row repeats a training row (the
    # chance rate, train_internal_overlap_rate, is reported beside it, and the docstring says to compare)
    ("LK002", "tiny"): "inconclusive",
    ("LK003", "no_test_labels"): "skipped", ("LK003", "one_test_class"): "skipped", ("LK003", "tiny"): "skipped",
    ("LK004", "tiny"): "skipped",
    ("LK007", "no_test_labels"): "skipped",
    ("LK007", "one_test_class"): "fail",  # test holds one class, train two: a real label mismatch
}


@pytest.mark.parametrize("kind", DEGENERATE)
@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_degenerate_input_does_not_crash(cls, kind):
    findings, status = run(cls, degenerate(kind))
    expected = "skipped" if kind == "empty_test" else DEGENERATE_STATUS.get((cls.id, kind), "pass")
    assert status == expected, (status, findings.summary)
    assert findings.summary
    json.dumps(payload(findings), allow_nan=False)
    if kind == "empty_test":
        assert status == "skipped" and findings.summary == "Skipped: the test data has no rows."
    if kind in ("no_test_labels", "one_test_class") and cls in (lk.TargetLeakage,):
        assert status == "skipped"


def test_degenerate_specifics():
    findings, status = run(lk.NearDuplicates, degenerate("tiny"))
    assert status == "inconclusive" and value(findings, "near_duplicate_excess") is None
    findings, status = run(lk.IdLikeColumns, degenerate("tiny"))
    assert status == "skipped" and "2 rows" in findings.summary
    findings, status = run(lk.TargetLeakage, degenerate("one_test_class"))
    assert findings.summary == "Skipped: the test labels have a single class, so ROC AUC is undefined."
    findings, status = run(lk.TargetLeakage, degenerate("all_nan_column"))
    assert status == "pass" and "x1" not in {r[0] for r in findings.evidence[0].rows}
    findings, status = run(lk.NearDuplicates, make_ctx(*frames(), features=["colour"]))
    assert status == "pass"
    few = make_ctx(*frames(40))
    findings, status = run(lk.NearDuplicates, few)
    assert findings.metrics["near_duplicate_excess"].ci_high - findings.metrics["near_duplicate_excess"].ci_low > 0.1


# -- hostile column names, plain results, reproducibility ----------------------------
def hostile_ctx() -> AuditContext:
    train, test = frames()
    test.iloc[:60, :4] = train.iloc[:60, :4].to_numpy()  # 3% copies: LK001 and LK002 warn
    test[["x1", "x2", "noise"]] = test[["x1", "x2", "noise"]].astype(float)
    names = dict(zip(["x1", "x2", "colour", "noise"], HOSTILE))
    train, test = train.rename(columns=names), test.rename(columns=names)
    test.loc[:9, HOSTILE[2]] = "<img src=x onerror=alert(1)>"
    return make_ctx(train, test, features=HOSTILE)


@pytest.mark.parametrize("cls", lk.CHECKS, ids=lambda c: c.id)
def test_hostile_column_names_json_round_trip_and_same_seed(cls):
    ctx = hostile_ctx()
    findings, status = run(cls, ctx)
    assert status in ("pass", "warn", "fail")
    data = payload(findings)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for fig in findings.figures:
        assert "<script" not in fig.svg and "<img" not in fig.svg
    again, _ = run(cls, hostile_ctx())
    assert payload(again) == data


def test_hostile_names_reported_verbatim():
    findings, status = run(lk.RowOverlap, hostile_ctx())
    assert findings.evidence[1].columns[3:7] == HOSTILE and status == "warn"
    findings, _ = run(lk.TargetLeakage, hostile_ctx())
    assert findings.evidence[0].rows[0][0] == HOSTILE[0]
