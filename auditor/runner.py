"""Planning and running checks: each isolated, seeded, timed.

An exception inside a check becomes an ``error`` result with its traceback kept; a
missing input becomes ``skipped`` with the reason. One check's failure never stops
the others.
"""

from __future__ import annotations

import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from auditor.adapters import ModelCallError
from auditor.check import NEEDS, Check
from auditor.context import AuditContext
from auditor.multiple_testing import correct
from auditor.policy import Policy
from auditor.registry import Registered, Registry
from auditor.results import CheckResult, Findings, Metric
from auditor.thresholds import judge


@dataclass
class PlannedCheck:
    reg: Registered
    severity: str
    params: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]

    @property
    def cls(self) -> type[Check]:
        return self.reg.cls


def _matches(cid: str, prefixes: list[str]) -> bool:
    return any(cid.startswith(p) for p in prefixes)


def plan_checks(registry: Registry, policy: Policy) -> list[PlannedCheck]:
    """The checks this policy selects, with their effective severity, params and thresholds."""
    planned: list[PlannedCheck] = []
    for cid in registry.ids():
        reg = registry.get(cid)
        cls = reg.cls
        settings = policy.checks.get(cid)
        if policy.select is None:
            selected = not cls.opt_in
        else:
            selected = _matches(cid, policy.select) and (not cls.opt_in or cid in policy.select)
        if settings is not None and settings.enabled is not None:
            selected = settings.enabled
        if _matches(cid, policy.ignore):
            selected = False
        if not selected:
            continue
        params = {k: p.default for k, p in cls.params.items()}
        thresholds = {k: t.as_dict() for k, t in cls.thresholds.items()}
        severity = cls.severity
        if settings is not None:
            params.update(settings.params)
            thresholds.update(settings.thresholds)
            severity = settings.severity or severity
        planned.append(PlannedCheck(reg=reg, severity=severity, params=params, thresholds=thresholds))
    return planned


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
        if model.can_call or getattr(model, "prediction_column", None) in ctx.frame("train").columns:
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
        reasons = "; ".join(NEEDS[m] for m in missing)
        return _base_result(item, status="skipped", summary=f"Skipped: {reasons}."), True
    started = time.perf_counter()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            findings = cls().run(ctx, dict(item.params))
        if not isinstance(findings, Findings):
            raise TypeError(f"{cls.__name__}.run returned {type(findings).__name__}, expected Findings")
        for name, metric in findings.metrics.items():
            if not isinstance(metric, Metric):
                raise TypeError(f"metric {name!r} is a {type(metric).__name__}, expected Metric")
    except Exception as exc:
        is_model = isinstance(exc, ModelCallError)
        return _base_result(
            item,
            status="error",
            summary=f"Error: {exc}" if is_model else f"Error: the check raised {type(exc).__name__}: {exc}",
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
) -> list[CheckResult]:
    """Run every planned check, then correct the audit's p-values together and re-judge them."""
    have = available_needs(ctx)
    results, explicit = [], []
    for i, item in enumerate(planned, start=1):
        result, set_itself = _execute(ctx, item, have)
        results.append(result)
        explicit.append(set_itself)
        if progress is not None:
            progress(i, len(planned), result)
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


METRIC_FIELDS = frozenset(Metric.__dataclass_fields__) - {"threshold", "status"}


def terminal_progress(i: int, total: int, result: CheckResult) -> None:
    width = len(str(total))
    sys.stderr.write(
        f"[{i:>{width}}/{total}] {result.id} {result.name:<28} {result.status:<12} {result.duration_s:6.2f}s\n"
    )
    sys.stderr.flush()
