"""Planning an audit: the checks a policy selects, each with its effective severity, params,
thresholds and time limit. The runner executes the plan and never reads the policy."""

from __future__ import annotations

from auditor.engine.policy import Policy
from auditor.engine.registry import Registry
from auditor.engine.runner import PlannedCheck


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
            # `enabled` switches a check on or off within the selection; `select` still limits the run
            selected = settings.enabled and (policy.select is None or _matches(cid, policy.select))
        if _matches(cid, policy.ignore):
            selected = False
        if not selected:
            continue
        params = {k: p.default for k, p in cls.params.items()}
        thresholds = {k: t.as_dict() for k, t in cls.thresholds.items()}
        severity = cls.severity
        time_limit = policy.time_limit_s
        if settings is not None:
            params.update(settings.params)
            thresholds.update(settings.thresholds)
            severity = settings.severity or severity
            if settings.time_limit_given:
                time_limit = settings.time_limit_s
        planned.append(PlannedCheck(reg=reg, severity=severity, params=params, thresholds=thresholds,
                                    time_limit_s=time_limit))
    return planned
