"""The tests' one way of running a check, tests/conftest.py::run_check: exactly as the engine
does (planned, params validated, needs checked, run, judged), and a broken check does not pass
silently."""

from __future__ import annotations

import pytest

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from auditor.engine.planning import plan_checks
from auditor.engine.policy import validate_policy
from auditor.engine.registry import load_registry
from auditor.engine.runner import available_needs, run_one
from auditor.util.errors import PolicyError
from tests.checks.data_quality.test_dq002_duplicate_rows import PLANTED as DUPLICATES
from tests.conftest import make_binary_frame, run_check
from tests.engine_checks import Raises, ShareAbove


def _frames_only() -> AuditContext:
    return AuditContext(datasets={"train": make_binary_frame(200, seed=1), "test": make_binary_frame(200, seed=2)},
                        target="y", task="binary", features=["x1", "x2", "colour", "noise"], positive_label=1,
                        classes=[0, 1], seed=0)


def _without_timing(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "duration_s"}


def test_run_check_reraises_the_exception_a_check_raised_with_its_traceback():
    with pytest.raises(AssertionError, match=r"^TST002 ended in an error: ValueError: planted bug\n") as info:
        run_check(Raises, _frames_only())
    assert "Traceback (most recent call last)" in str(info.value)
    assert 'raise ValueError("planted bug")' in str(info.value)  # the line in tests/engine_checks.py
    findings, status = run_check(Raises, _frames_only(), expect_error=True)
    assert status == "error" and findings.result.error["type"] == "ValueError"
    assert findings.summary == "Error: the check raised ValueError: planted bug"


def test_run_check_gives_the_engines_result_for_a_real_check():
    factory, expected = DUPLICATES
    findings, status = run_check(dq.DuplicateRows, factory())
    registry = load_registry()
    planned = {p.cls.id: p for p in plan_checks(registry, validate_policy({"select": ["DQ002"]}, registry))}
    ctx = factory()
    engine = run_one(ctx, planned["DQ002"], available_needs(ctx))
    assert status == engine.status and status in expected
    assert _without_timing(findings.result.to_dict()) == _without_timing(engine.to_dict())
    # the findings are the result's, rebuilt: metrics as Metric objects with the engine's judgement
    assert {k: m.to_dict() for k, m in findings.metrics.items()} == engine.metrics
    assert findings.metrics["max_duplicate_rate"].status == engine.metrics["max_duplicate_rate"]["status"] == "fail"
    assert [e.to_dict() for e in findings.evidence] == engine.evidence
    assert [f.to_dict() for f in findings.figures] == engine.figures
    assert (findings.summary, findings.recommendation, findings.sample) == (engine.summary, engine.recommendation, engine.sample)


def test_run_check_validates_params_as_the_policy_does_and_runs_a_class_the_tests_define():
    with pytest.raises(PolicyError, match=r"checks\.DQ002\.params: unknown parameter 'nope'"):
        run_check(dq.DuplicateRows, _frames_only(), nope=1)
    with pytest.raises(PolicyError, match=r"checks\.TST001\.params\.cut must be a number in \[-10, 10\]; got 11\."):
        run_check(ShareAbove, _frames_only(), cut=11)
    findings, status = run_check(ShareAbove, _frames_only(), cut=1)  # not installed: registered for the run
    assert findings.result.params == {"cut": 1.0} and findings.result.source == "tests 0"
    assert findings.metrics["share"].threshold == {"direction": "above", "warn": 0.4, "fail": 0.6}
    assert status == "pass"


def test_run_check_skips_a_check_whose_needs_are_missing_as_the_engine_does():
    ctx = _frames_only()
    del ctx.datasets["test"]
    findings, status = run_check(dq.DuplicateRows, ctx)
    assert status == "skipped" and findings.summary == "Skipped: no test data was given."
