"""Planning and running checks: each isolated, seeded, timed.

An exception inside a check becomes an ``error`` result with its traceback kept; a
missing input becomes ``skipped`` with the reason. One check's failure never stops
the others.

Time limits: a check that runs past its limit (the policy's ``time_limit_s``, or
``checks: {ID: {time_limit_s: ...}}``) is stopped and reported as ``error`` with the
reason; the audit goes on. The limit is a timer signal (``SIGALRM``), so it interrupts
Python code at once and a single long native call (one big model fit) as soon as that
call returns. Where no timer signal can be set (not the main thread, or not POSIX)
a check that ran past its limit is still reported as an error when it returns.

Parallelism: with ``jobs > 1`` the checks run in forked worker processes that share
the built context (data, model, and the predictions computed before the fork) copy-on-
write, so nothing is pickled but each check's index and result. Every check is seeded
from the audit seed and its own ID, never from the order it runs in, so the results are
those of a serial run. Each worker's native thread pools (OpenMP, BLAS) are capped at
its share of the cores, so that workers do not fight over them. ``jobs="auto"`` (the
command line's default) is resolved by :func:`resolve_jobs`.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from auditor.contract.adapters import MAX_MODEL_MESSAGE, ModelCallError
from auditor.contract.check import NEEDS, Check
from auditor.contract.context import ROLES, AuditContext
from auditor.contract.results import CheckResult, Findings, Metric
from auditor.engine.multiple_testing import correct
from auditor.engine.registry import Registered
from auditor.engine.thresholds import judge
from auditor.util.wording import shorten


@dataclass
class PlannedCheck:
    reg: Registered
    severity: str
    params: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    #: Seconds the check may run before it is stopped and reported as an error (None: no limit).
    time_limit_s: float | None = None

    @property
    def cls(self) -> type[Check]:
        return self.reg.cls


def available_needs(ctx: AuditContext) -> set[str]:
    have = {role for role in ("train", "test", "current") if ctx.has(role)}
    if ctx.has("current") and ctx.has_labels("current"):
        have.add("current_labels")
    model = ctx.model
    if model is not None:
        have.add("predictions")
        if model.has_proba and ctx.is_classification:
            have.add("probabilities")
        if model.can_call:
            have.add("model")
        if model.can_call or (ctx.has("train") and getattr(model, "prediction_column", None) in ctx.frame("train").columns):
            have.add("train_predictions")
        if model.can_refit:
            have.add("refit")
        if model.can_call and getattr(model, "differentiable", False):
            have.add("gradients")
    if ctx.sensitive:
        have.add("sensitive")
    if ctx.group_column:
        have.add("group")
    if ctx.time_column:
        have.add("time")
    if ctx.history is not None:
        have.add("history")
    if ctx.others:
        have.add("baseline")
        if len(ctx.others) >= 2:
            have.add("three_models")
    return have


def _base_result(item: PlannedCheck, **extra: Any) -> CheckResult:
    cls = item.cls
    return CheckResult(
        id=cls.id,
        name=cls.name,
        area=cls.area,
        status=extra.pop("status", "pass"),
        severity=item.severity,
        summary=extra.pop("summary", ""),
        references=list(cls.references),
        practices=list(cls.practices),
        clauses=list(cls.clauses),
        params=dict(item.params),
        source=f"{item.reg.distribution} {item.reg.version}",
        **extra,
    )


def run_one(ctx: AuditContext, item: PlannedCheck, have: set[str]) -> CheckResult:
    return _execute(ctx, item, have)[0]


def _execute(ctx: AuditContext, item: PlannedCheck, have: set[str]) -> tuple[CheckResult, bool]:
    """Run one check; return its result and whether the check set its status itself."""
    cls = item.cls
    if ctx.task not in cls.tasks:
        return _base_result(item, status="skipped", summary=f"Skipped: does not apply to {ctx.task} tasks."), True
    missing = sorted(set(cls.needs) - have)
    if missing:
        if "current" in missing:  # without a current sample, its labels are not the point
            missing = [m for m in missing if m != "current_labels"]
        own = ctx.model.refit_problem if "refit" in missing else None
        reasons = "; ".join(f"{NEEDS[m]}: {own}" if m == "refit" and own else NEEDS[m] for m in missing)
        return _base_result(item, status="skipped", summary=f"Skipped: {reasons}."), True
    started = time.perf_counter()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught, _time_limit(item.time_limit_s):
            warnings.simplefilter("always")
            findings = cls().run(ctx, dict(item.params))
            _raise_if_over(item.time_limit_s, started)
        if not isinstance(findings, Findings):
            raise TypeError(f"{cls.__name__}.run returned {type(findings).__name__}, expected Findings")
        for name, metric in findings.metrics.items():
            if not isinstance(metric, Metric):
                raise TypeError(f"metric {name!r} is a {type(metric).__name__}, expected Metric")
    except CheckTimeout as exc:
        return _base_result(
            item,
            status="error",
            summary=f"Error: {exc}",
            error={"type": "CheckTimeout", "message": str(exc), "traceback": ""},
            duration_s=round(time.perf_counter() - started, 4),
            warnings=_warning_texts(caught),
        ), True
    except Exception as exc:
        is_model = isinstance(exc, ModelCallError)
        said = shorten(exc, MAX_MODEL_MESSAGE)  # the whole message stays in error.message
        return _base_result(
            item,
            status="error",
            summary=f"Error: {said}" if is_model else f"Error: the check raised {type(exc).__name__}: {said}",
            error={
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": traceback.format_exc(),
            },
            duration_s=round(time.perf_counter() - started, 4),
            warnings=_warning_texts(caught),
        ), True
    judged = judge(findings.metrics, item.thresholds)
    status = findings.status or judged
    if ctx.stats.distributed and cls.engine_rows == "sample" and findings.sample is None:
        findings.sample = ctx.engine.sample_record(_roles_read(ctx, cls))
    return _base_result(
        item,
        status=status,
        summary=findings.summary,
        metrics={k: m.to_dict() for k, m in findings.metrics.items()},
        evidence=[e.to_dict() for e in findings.evidence],
        figures=[f.to_dict() for f in findings.figures],
        recommendation=findings.recommendation,
        sample=findings.sample,
        duration_s=round(time.perf_counter() - started, 4),
        warnings=_warning_texts(caught),
    ), findings.status is not None


def _roles_read(ctx: AuditContext, cls: type) -> list[str]:
    """The datasets a check reads: those it needs, else every one given (data checks read them all)."""
    needed = [r for r in ROLES if r in cls.needs and ctx.has(r)]
    return needed if needed and cls.area not in ("data_quality", "leakage") else [r for r in ROLES if ctx.has(r)]


class CheckTimeout(BaseException):
    """A check ran past its time limit (a BaseException, so that a check's own
    ``except Exception`` cannot swallow it)."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"the check exceeded its time limit of {limit:g} s and was stopped")
        self.limit = limit


def _raise_if_over(limit: float | None, started: float) -> None:
    if limit is not None and time.perf_counter() - started > limit:
        raise CheckTimeout(limit)


class _time_limit:
    """Interrupt the block with :class:`CheckTimeout` after ``limit`` seconds (POSIX, main thread)."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.armed = False

    def __enter__(self) -> None:
        usable = (
            self.limit is not None and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )
        if not usable:
            return
        limit = float(self.limit)  # type: ignore[arg-type]

        def stop(signum: int, frame: Any) -> None:
            raise CheckTimeout(limit)

        self.previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, limit)
        self.armed = True

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


MAX_WARNINGS = 5


def _warning_texts(caught: list[warnings.WarningMessage]) -> list[str]:
    texts: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).strip().splitlines()[0] if str(w.message).strip() else ''}"
        if text not in texts:
            texts.append(text)
    return texts[:MAX_WARNINGS] + ([f"... and {len(texts) - MAX_WARNINGS} more"] if len(texts) > MAX_WARNINGS else [])


def run_checks(
    ctx: AuditContext,
    planned: list[PlannedCheck],
    *,
    progress: Callable[[int, int, CheckResult], None] | None = None,
    correction: str = "holm",
    record: dict[str, Any] | None = None,
    jobs: int = 1,
    timings: dict[str, float] | None = None,
) -> list[CheckResult]:
    """Run every planned check, then correct the audit's p-values together and re-judge them.

    ``jobs`` > 1 runs the checks in that many forked processes (where the platform can
    fork); the results are the same as a serial run's, timings aside. When a planned
    check reads the model's outputs, every dataset's prediction pass runs first, once,
    so that no check's ``duration_s`` carries it; ``timings`` (when given) receives
    ``predictions_s`` and ``checks_s``.
    """
    with long_lived():
        return _run_checks(ctx, planned, progress=progress, correction=correction, record=record, jobs=jobs,
                           timings=timings)


def _run_checks(ctx, planned, *, progress, correction, record, jobs, timings) -> list[CheckResult]:
    have = available_needs(ctx)
    started = time.perf_counter()
    if any(set(item.cls.needs) & MODEL_OUTPUT_NEEDS for item in planned):
        warm_cache(ctx)
    predicted = time.perf_counter()
    processes = 1
    if jobs > 1 and len(planned) > 1 and "fork" in multiprocessing.get_all_start_methods():
        processes = min(jobs, len(work_groups(planned)))
        outcomes = _run_parallel(ctx, planned, have, processes, progress)
    else:
        outcomes = []
        for i, item in enumerate(planned, start=1):
            outcomes.append(_execute(ctx, item, have))
            if progress is not None:
                progress(i, len(planned), outcomes[-1][0])
    results = [r for r, _ in outcomes]
    explicit = [e for _, e in outcomes]
    if timings is not None:
        timings["predictions_s"] = round(predicted - started, 3)
        timings["checks_s"] = round(time.perf_counter() - predicted, 3)
        timings["jobs"] = processes  # the processes that ran the checks (--jobs 64 on 20 units of work starts 20)
    summary = correct(results, method=correction)
    if record is not None:
        record.update(summary)
    for item, result, set_itself in zip(planned, results, explicit):
        if set_itself or not any(m.get("adjusted") is not None for m in result.metrics.values()):
            continue
        metrics = {k: Metric(**{f: v for f, v in d.items() if f in METRIC_FIELDS}) for k, d in result.metrics.items()}
        result.status = judge(metrics, item.thresholds)
        result.metrics = {k: m.to_dict() for k, m in metrics.items()}
    return results


#: Nesting depth of :func:`long_lived` blocks.
_LONG_LIVED = 0


@contextmanager
def long_lived():
    """Keep everything alive now out of the cyclic garbage collector's scans until the block ends.

    An audit holds a few hundred thousand long-lived objects (the imported libraries, the
    data, the model) that a full collection walks every time; an audit triggers several
    (statsmodels' multiple-testing correction even calls ``gc.collect()`` itself), each
    costing 0.1-0.2 s. ``gc.freeze`` moves the objects alive at the block's start out of
    those scans (objects still die by reference counting as usual); in forked workers it
    also keeps the collector from writing to, and so copying, the parent's pages. Blocks
    nest: an inner block freezes what was created since, and the outermost block's end
    hands every frozen object back to the collector.
    """
    global _LONG_LIVED
    gc.freeze()
    _LONG_LIVED += 1
    try:
        yield
    finally:
        _LONG_LIVED -= 1
        if _LONG_LIVED == 0:
            gc.unfreeze()


@contextmanager
def collector_paused():
    """No cyclic garbage collection inside the block (imports and reading the inputs, which
    create many objects and almost no reference cycles); the previous state after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: ``jobs="auto"`` runs the checks in parallel only while the audit's datasets hold at most
#: this many rows in all. Each worker keeps its own working arrays, so on large data the
#: peak memory grows with the workers; small data is where the fixed costs dominate and
#: parallel workers save the most time for the least memory.
AUTO_MAX_ROWS = 50_000
#: Most workers ``jobs="auto"`` starts.
AUTO_MAX_JOBS = 4


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | str, ctx: AuditContext) -> int:
    """The number of worker processes for ``jobs``: itself when a number; for ``"auto"``, one
    per core (at most ``AUTO_MAX_JOBS``) when the platform can fork, the model is a
    scikit-learn model or stored predictions, and the data is small (``AUTO_MAX_ROWS``);
    otherwise 1. Other models (PyTorch, plugins) run serially: they keep thread pools or
    devices of their own that forked workers should not share."""
    if jobs != "auto":
        return int(jobs)
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if ctx.model is not None and ctx.model.kind not in ("sklearn", "predictions"):
        return 1
    if sum(len(frame) for frame in ctx.datasets.values()) > AUTO_MAX_ROWS:
        return 1
    return max(1, min(available_cores(), AUTO_MAX_JOBS))


def _limit_threads(jobs: int) -> None:
    """In a worker: cap native thread pools at this worker's share of the cores (never raise them)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        return
    share = max(1, available_cores() // jobs)
    current = [info.get("num_threads", share) for info in threadpool_info()]
    threadpool_limits(limits=min([share, *current]))


#: Needs that mean a check reads the model's cached outputs.
MODEL_OUTPUT_NEEDS = frozenset({"predictions", "probabilities", "train_predictions", "model"})


def warm_cache(ctx: AuditContext) -> None:
    """Compute every dataset's predictions and probabilities once, before workers fork,
    so that no worker repeats the pass (a model that fails is recorded, not raised)."""
    if ctx.model is None:
        return
    for role in ctx.datasets:
        if role == "train" and not ctx.model.can_call and getattr(ctx.model, "prediction_column", None) not in ctx.frame(role).columns:
            continue
        for get in (ctx.predictions, ctx.probabilities):
            try:
                get(role)
            except ModelCallError:
                pass


def _preload(planned: list[PlannedCheck]) -> None:
    """Import, before forking, the libraries the planned checks name lazily (and matplotlib
    for their figures), so that the workers share one copy instead of importing their own."""
    from auditor.util.lazy import LazyModule

    for module in {sys.modules.get(item.cls.__module__) for item in planned} - {None}:
        for value in list(vars(module).values()):
            if isinstance(value, LazyModule):
                try:
                    value._lazy_load()
                except ImportError:  # the check itself will report it
                    pass
    import importlib

    for name in ("matplotlib.figure", "matplotlib.backends.backend_svg", "matplotlib.backends.backend_agg"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


#: What a forked worker reads: set in the parent just before the pool forks.
_SHARED: dict[str, Any] = {}


def _work(indices: list[int]) -> list[tuple[int, tuple[CheckResult, bool]]]:
    ctx, planned, have = _SHARED["ctx"], _SHARED["planned"], _SHARED["have"]
    return [(index, _execute(ctx, planned[index], have)) for index in indices]


def work_groups(planned: list[PlannedCheck]) -> list[list[int]]:
    """The planned checks' indices as units of parallel work, the largest first: checks that
    declare the same ``shares_work`` run together (in plan order), every other check alone."""
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(planned):
        groups.setdefault(getattr(p.cls, "shares_work", None) or f"#{i}", []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _run_parallel(ctx: AuditContext, planned: list[PlannedCheck], have: set[str], jobs: int,
                  progress: Callable[[int, int, CheckResult], None] | None) -> list[tuple[CheckResult, bool]]:
    warm_cache(ctx)  # a no-op when run_checks already did; otherwise each worker would repeat it
    _preload(planned)
    gc.freeze()  # what the preloading and predictions created, too (undone with run_checks' own freeze)
    _SHARED.update(ctx=ctx, planned=planned, have=have)
    outcomes: list[tuple[CheckResult, bool] | None] = [None] * len(planned)
    groups = work_groups(planned)
    done = 0
    try:
        workers = min(jobs, len(groups))
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_limit_threads, initargs=(workers,)) as pool:
            futures = {pool.submit(_work, group): group for group in groups}
            for future in as_completed(futures):
                group = futures[future]
                try:
                    finished = future.result()
                except Exception as exc:  # noqa: BLE001 - the worker process itself died (killed, out of memory)
                    finished = [(index, (_base_result(
                        planned[index], status="error",
                        summary=f"Error: the worker process running the check died ({type(exc).__name__}: {exc})",
                        error={"type": type(exc).__name__, "message": str(exc), "traceback": ""},
                    ), True)) for index in group]
                for index, outcome in finished:
                    outcomes[index] = outcome
                    done += 1
                    if progress is not None:
                        progress(done, len(planned), outcome[0])
    finally:
        _SHARED.clear()
    return outcomes  # type: ignore[return-value]


METRIC_FIELDS = frozenset(Metric.__dataclass_fields__) - {"threshold", "status"}


def terminal_progress(i: int, total: int, result: CheckResult) -> None:
    width = len(str(total))
    sys.stderr.write(
        f"[{i:>{width}}/{total}] {result.id} {result.name:<28} {result.status:<12} {result.duration_s:6.2f}s\n"
    )
    sys.stderr.flush()
