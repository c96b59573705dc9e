"""The gate: from results and policy to pass/fail and the exit code.

Exit 0 when every gate passes; 1 when an unwaived result at or above ``fail_on`` fails,
or a check errored and the policy does not allow errors, or an unwaived ``inconclusive``
result at or above both ``fail_on`` and ``undecided_fail_on`` is at least ``warn`` (a
judged metric's whole interval lies beyond its warn level while reaching past its fail
level: the data shows a problem, only not yet how large). Other inconclusive results at
the gate's severity are listed under ``undecided``, counted neither way. Exit 2 (the audit could not
run) is raised before this point, by bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from auditor.contract.results import SEVERITIES, CheckResult
from auditor.engine.policy import Policy
from auditor.util.wording import shorten

#: Longest error message a gate reason quotes (a model's own message can list thousands of values).
MAX_REASON = 500


def attach_waivers(results: list[CheckResult], policy: Policy, *, today: dt.date) -> None:
    """Record each check's waiver; the real status is kept, an expired waiver waives nothing."""
    for result in results:
        waiver = policy.waiver_for(result.id)
        if waiver is not None:
            result.waiver = waiver.state(today)


def evaluate_gate(
    results: list[CheckResult], policy: Policy, *, baseline: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The gate's verdict over ``results``.

    ``baseline`` (check ID -> status in an approved earlier audit) adopts the audit's
    known findings the way a linter adopts a baseline: a result that would block but
    failed the same way (same ID, same failing status) in the baseline is listed under
    ``baselined`` instead of blocking; anything new still blocks.
    """
    threshold = SEVERITIES.index(policy.fail_on)
    undecided_level = (max(threshold, SEVERITIES.index(policy.undecided_fail_on))
                       if policy.undecided_fail_on in SEVERITIES else None)
    reasons: list[str] = []
    waived: list[str] = []
    baselined: list[str] = []
    baselined_ids: list[str] = []
    blocking: list[str] = []
    undecided: list[str] = []
    for r in results:
        decided = at_least_warn(r)
        if r.status == "inconclusive" and SEVERITIES.index(r.severity) >= threshold and not r.waived:
            said = f"; {decided}" if decided else ""
            undecided.append(f"{r.id} {r.name} is inconclusive at severity {r.severity}{said}: {r.summary}")
        if (r.status == "inconclusive" and decided and undecided_level is not None
                and SEVERITIES.index(r.severity) >= undecided_level and not r.waived):
            if baseline is not None and baseline.get(r.id) == "inconclusive":
                baselined_ids.append(r.id)
                baselined.append(f"{r.id} {r.name} is undecided at severity {r.severity}, as in the baseline audit: not blocking")
            else:
                blocking.append(r.id)
                reasons.append(f"{r.id} {r.name} is undecided at severity {r.severity} but at least warn with the "
                               f"interval's confidence ({decided}; undecided_fail_on: {policy.undecided_fail_on})")
        if r.status == "fail" and SEVERITIES.index(r.severity) >= threshold:
            if r.waived:
                waived.append(f"{r.id} {r.name} failed at severity {r.severity} but is waived by {r.waiver['owner']} until {r.waiver['expires']}")
            elif baseline is not None and baseline.get(r.id) == "fail":
                baselined_ids.append(r.id)
                baselined.append(f"{r.id} {r.name} failed at severity {r.severity} but already failed in the baseline audit: not blocking")
            else:
                expired = " (its waiver expired)" if r.waiver and r.waiver.get("expired") else ""
                blocking.append(r.id)
                reasons.append(f"{r.id} {r.name} failed at severity {r.severity} (fail_on: {policy.fail_on}){expired}")
        elif r.status == "error" and not policy.allow_errors:
            if r.waived:
                waived.append(f"{r.id} {r.name} errored but is waived by {r.waiver['owner']} until {r.waiver['expires']}")
            elif baseline is not None and baseline.get(r.id) == "error":
                baselined_ids.append(r.id)
                baselined.append(f"{r.id} {r.name} could not run, as in the baseline audit: not blocking")
            else:
                blocking.append(r.id)
                why = shorten(r.error["message"], MAX_REASON) if r.error else "error"  # report.json keeps it whole
                reasons.append(f"{r.id} {r.name} could not run: {why} (allow_errors: false)")
    passed = not reasons
    gate = {
        "passed": passed,
        "exit_code": 0 if passed else 1,
        "fail_on": policy.fail_on,
        "undecided_fail_on": policy.undecided_fail_on,
        "allow_errors": policy.allow_errors,
        "reasons": reasons,
        "blocking": blocking,
        "waived": waived,
        # Results the gate could not count either way: the data did not decide them.
        "undecided": undecided,
    }
    if baseline is not None:  # only with --baseline-report: the keys of older reports stay as they were
        gate["baselined"] = baselined
        gate["baselined_ids"] = baselined_ids
    return gate


def at_least_warn(result: CheckResult) -> str:
    """What an undecided result's intervals do decide, when that is at least ``warn``; else ``""``.

    Reads the judged metrics' ``at_least`` (``auditor.engine.thresholds``): the words of the
    first metric whose whole interval lies beyond its warn level, prefixed by its name.
    """
    for name, metric in (result.metrics or {}).items():
        if isinstance(metric, dict) and metric.get("status") == "inconclusive" and metric.get("at_least") == "warn":
            return f"{name}: {metric.get('decided') or 'at least warn'}"
    return ""
