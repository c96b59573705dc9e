"""Per-check time limits and parallel runs (issue #10).

Deterministic: the time limits are far apart from the checks' real durations, and the
parallel run is compared field by field with the serial one.
"""

from __future__ import annotations

import pytest

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.engine.planning import plan_checks
from auditor.engine.policy import validate_policy
from auditor.engine.registry import load_registry
from auditor.engine.runner import run_checks
from auditor.util.errors import PolicyError
from tests.conftest import fit_pipeline, make_binary_frame
from tests.engine_checks import ALL, Sleeps, Swallows
from tests.test_engine import make_registry


@pytest.fixture()
def ctx():
    frame = make_binary_frame(500, seed=4)
    train, test = frame.iloc[:350].reset_index(drop=True), frame.iloc[350:].reset_index(drop=True)
    return AuditContext(
        datasets={"train": train, "test": test}, target="y", task="binary",
        features=["x1", "x2", "colour", "noise"], model=SklearnAdapter(fit_pipeline(train)),
        positive_label=1, classes=[0, 1], sensitive=["colour"],
    )


def _run(ctx, raw, classes=(*ALL, Sleeps, Swallows), jobs=1):
    registry = make_registry(list(classes))
    policy = validate_policy(raw, registry)
    return {r.id: r for r in run_checks(ctx, plan_checks(registry, policy), jobs=jobs)}


def test_a_check_past_its_time_limit_is_an_error_and_the_audit_goes_on(ctx):
    results = _run(ctx, {"time_limit_s": 0.5, "checks": {"TST006": {"params": {"seconds": 30}}}})
    slow = results["TST006"]
    assert slow.status == "error"
    assert "exceeded its time limit of 0.5 s" in slow.summary
    assert slow.error["type"] == "CheckTimeout"
    assert slow.duration_s < 5
    assert results["TST001"].status in ("pass", "warn", "fail")  # the others still ran
    assert results["TST004"].status == "pass"


def test_a_broad_except_in_the_check_cannot_swallow_the_time_limit(ctx):
    results = _run(ctx, {"checks": {"TST007": {"time_limit_s": 0.3, "params": {"seconds": 30}}}})
    assert results["TST007"].status == "error"
    assert "time limit of 0.3 s" in results["TST007"].summary


def test_per_check_limit_overrides_the_audit_wide_one(ctx):
    raw = {"time_limit_s": 0.2, "checks": {"TST006": {"time_limit_s": None, "params": {"seconds": 0.5}},
                                           "TST007": {"time_limit_s": 20, "params": {"seconds": 0.4}}}}
    results = _run(ctx, raw)
    assert results["TST006"].status == "pass"  # null: no limit for this check
    assert results["TST007"].status == "pass"


def test_no_limit_by_default(ctx):
    results = _run(ctx, {"checks": {"TST006": {"params": {"seconds": 0.3}}}})
    assert results["TST006"].status == "pass"


@pytest.mark.parametrize("raw,message", [
    ({"time_limit_s": 0}, r"time_limit_s must be a positive number of seconds or null"),
    ({"time_limit_s": "10s"}, r"time_limit_s must be a positive number"),
    ({"time_limit": 10}, r"unknown key 'time_limit'; did you mean 'time_limit_s'\?"),
    ({"checks": {"TST006": {"time_limit_s": -1}}}, r"checks.TST006.time_limit_s must be a positive number"),
    ({"checks": {"TST006": {"time_limits": 3}}}, r"unknown key 'time_limits'; did you mean 'time_limit_s'\?"),
])
def test_time_limit_policy_is_validated(raw, message):
    with pytest.raises(PolicyError, match=message):
        validate_policy(raw, make_registry([*ALL, Sleeps]))


def test_time_limit_in_a_parallel_worker(ctx):
    results = _run(ctx, {"time_limit_s": 0.5, "checks": {"TST006": {"params": {"seconds": 30}}}}, jobs=2)
    assert results["TST006"].status == "error" and "time limit of 0.5 s" in results["TST006"].summary
    assert results["TST002"].status == "error" and "planted bug" in results["TST002"].summary


def _comparable(result):
    data = result.to_dict() if hasattr(result, "to_dict") else dict(vars(result))
    data.pop("duration_s", None)
    if data.get("error"):
        data["error"] = {k: v for k, v in data["error"].items() if k != "traceback"}
    return data


@pytest.mark.slow
def test_parallel_results_are_those_of_a_serial_run(ctx):
    """Real seeded checks (bootstraps, refits, perturbations, slices), serial and with two workers."""
    registry = load_registry()
    policy = validate_policy({"select": ["DQ", "LK", "OF", "ST", "RB", "FR", "PV", "EX"]}, registry)
    planned = plan_checks(registry, policy)
    serial = run_checks(ctx, planned, jobs=1)
    fresh = AuditContext(**{k: getattr(ctx, k) for k in (
        "datasets", "target", "task", "features", "model", "positive_label", "classes", "sensitive")})
    parallel = run_checks(fresh, planned, jobs=2)
    assert [r.id for r in serial] == [r.id for r in parallel]
    assert len(serial) > 30
    for a, b in zip(serial, parallel):
        assert _comparable(a) == _comparable(b), a.id


def test_checks_that_share_work_run_in_one_worker_largest_group_first():
    from auditor.engine.runner import work_groups

    registry = load_registry()
    planned = plan_checks(registry, validate_policy({"select": ["DQ001", "EX", "ST001"]}, registry))
    ids = [p.cls.id for p in planned]
    groups = [[ids[i] for i in g] for g in work_groups(planned)]
    assert groups[0] == [i for i in ids if i.startswith("EX")] and len(groups[0]) == 6
    assert sorted(groups[1:]) == [["DQ001"], ["ST001"]]


def test_enabled_switches_a_check_on_within_the_selection_only():
    registry = load_registry()
    enabled = {"checks": {"OF003": {"enabled": True}}}
    assert "OF003" in [p.cls.id for p in plan_checks(registry, validate_policy(enabled, registry))]
    narrowed = [p.cls.id for p in plan_checks(registry, validate_policy({**enabled, "select": ["GV"]}, registry))]
    assert narrowed == ["GV001", "GV002"]
    off = {"checks": {"DQ001": {"enabled": False}}, "select": ["DQ"]}
    assert "DQ001" not in [p.cls.id for p in plan_checks(registry, validate_policy(off, registry))]


def test_auto_jobs_parallelises_small_scikit_learn_audits_only(ctx, monkeypatch):
    import multiprocessing

    from auditor.engine import runner

    monkeypatch.setattr(runner, "available_cores", lambda: 2)
    assert runner.resolve_jobs(3, ctx) == 3  # a number is taken as given
    expected = 2 if "fork" in multiprocessing.get_all_start_methods() else 1
    assert runner.resolve_jobs("auto", ctx) == expected
    monkeypatch.setattr(runner, "available_cores", lambda: 64)
    assert runner.resolve_jobs("auto", ctx) == min(expected * 32, runner.AUTO_MAX_JOBS)
    monkeypatch.setattr(runner, "AUTO_MAX_ROWS", len(ctx.frame("train")) + len(ctx.frame("test")) - 1)
    assert runner.resolve_jobs("auto", ctx) == 1  # larger data: serial, to bound the peak memory

    class Torchlike(SklearnAdapter):
        kind = "pytorch"

    monkeypatch.setattr(runner, "AUTO_MAX_ROWS", 10**9)
    ctx.model = Torchlike(ctx.model.estimator)
    assert runner.resolve_jobs("auto", ctx) == 1  # its own threads and devices: never forked


def test_workers_cap_native_threads_at_their_share_of_the_cores(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from auditor.engine import runner

    if not threadpool_info():
        pytest.skip("no native thread pool is loaded in this process")
    monkeypatch.setattr(runner, "available_cores", lambda: 8)
    with threadpool_limits(limits=3):
        runner._limit_threads(2)  # a share of 4 never raises a limit of 3
        assert {i["num_threads"] for i in threadpool_info()} == {3}
        runner._limit_threads(4)
        assert {i["num_threads"] for i in threadpool_info()} == {2}


def test_long_lived_blocks_freeze_and_the_outermost_end_unfreezes():
    import gc

    from auditor.engine.runner import collector_paused, long_lived

    gc.unfreeze()
    with long_lived():
        outer = gc.get_freeze_count()
        assert outer > 0
        kept = [[] for _ in range(100)]
        with long_lived():
            assert gc.get_freeze_count() >= outer + 100  # the inner block froze what was created since
        assert gc.get_freeze_count() >= outer + 100  # an inner end does not unfreeze the outer block's objects
    assert gc.get_freeze_count() == 0 and len(kept) == 100
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_timings_record_the_processes_that_really_ran(ctx):
    import multiprocessing

    from auditor.engine.runner import work_groups

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("parallel runs need fork")

    registry = load_registry()
    planned = plan_checks(registry, validate_policy({"select": ["DQ001", "DQ002", "ST001"]}, registry))
    timings: dict = {}
    run_checks(ctx, planned, jobs=64, timings=timings)
    assert timings["jobs"] == len(work_groups(planned)) == 3
    run_checks(ctx, planned, jobs=1, timings=timings)
    assert timings["jobs"] == 1


def test_a_models_long_error_is_shortened_in_summaries_and_gate_reasons_but_kept_whole(ctx):
    from auditor.engine.gate import evaluate_gate

    class Loud:
        classes_ = [0, 1]

        def predict(self, X):
            raise ValueError("unknown categories " + ", ".join(str(i) for i in range(3000)))

        predict_proba = predict

    ctx.model = SklearnAdapter(Loud())
    registry = load_registry()
    policy = validate_policy({"select": ["ST001"]}, registry)
    (result,) = run_checks(ctx, plan_checks(registry, policy), jobs=1)
    assert result.status == "error"
    assert len(result.summary) < 700 and result.summary.endswith("…")
    assert "2999" in result.error["message"]  # report.json keeps the model's whole message
    gate = evaluate_gate([result], policy)
    assert gate["exit_code"] == 1 and all(len(reason) < 700 for reason in gate["reasons"])
