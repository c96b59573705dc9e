"""JUnit XML: a test suite per area, a test case per check, for CI test-report views.

Mapping, so that the CI test view agrees with the gate's exit code: a ``fail`` that
blocks the gate is a <failure>; an ``error`` that blocks it an <error> carrying the
traceback; ``skipped`` a <skipped>; a waived ``fail`` is a <skipped> whose message
names the waiver; a ``fail`` below the gate's severity, an allowed ``error``, ``warn``
and ``inconclusive`` pass, with the real status written in <system-out>, except an
``inconclusive`` result that blocks the gate (``undecided_fail_on``), a <failure>.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from auditor.render.common import (
    area_label,
    blocking_ids,
    checks_by_area,
    format_number,
    is_percent_name,
    is_waived,
    waiver_text,
)

# Characters XML 1.0 cannot carry at all (control characters, e.g. ANSI escapes in a traceback).
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: Any) -> str:
    return _INVALID_XML.sub("\ufffd", "" if text is None else str(text))


def _seconds(value: Any) -> str:
    try:
        return f"{float(value or 0.0):.3f}"
    except (TypeError, ValueError):
        return "0.000"


def _metrics_text(check: dict[str, Any]) -> str:
    lines = []
    for name, m in (check.get("metrics") or {}).items():
        m = m if isinstance(m, dict) else {"value": m}
        pct = is_percent_name(name)
        line = f"{name} = {format_number(m.get('value'), percent=pct)}"
        if m.get("ci_low") is not None and m.get("ci_high") is not None:
            line += f" (95% CI {format_number(m['ci_low'], percent=pct)} to {format_number(m['ci_high'], percent=pct)})"
        th = m.get("threshold") or {}
        symbol = {"above": ">", "below": "<"}.get(th.get("direction"), "")
        limits = []
        if th.get("warn") is not None:
            limits.append(f"warn if {symbol} {format_number(th['warn'], percent=pct, trim=True)}")
        if th.get("fail") is not None:
            limits.append(f"fail if {symbol} {format_number(th['fail'], percent=pct, trim=True)}")
        if limits:
            line += "; " + ", ".join(limits)
        if m.get("status"):
            line += f" -> {m['status']}"
        lines.append(line)
    return "\n".join(lines)


def _details(check: dict[str, Any]) -> str:
    parts = [f"{check.get('id')} {check.get('name')}: {check.get('title') or ''}".rstrip(": "),
             f"status: {check.get('status')}, severity: {check.get('severity')}"]
    if check.get("waiver"):
        parts.append(waiver_text(check))
    if check.get("summary"):
        parts.append(str(check["summary"]))
    metrics = _metrics_text(check)
    if metrics:
        parts.append("metrics:\n" + metrics)
    if check.get("recommendation"):
        parts.append("recommendation: " + str(check["recommendation"]))
    return "\n".join(parts)


def render_junit(report: dict[str, Any]) -> str:
    """The report as JUnit XML text (UTF-8, with an XML declaration)."""
    root = ET.Element("testsuites", {"name": "auditor"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    timestamp = _clean(report.get("created_at") or "")[:19]

    blocking = blocking_ids(report)
    gate = report.get("gate") or {}
    for area, checks in checks_by_area(report):
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        suite = ET.SubElement(root, "testsuite", {"name": _clean(f"auditor.{area}")})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "area", "value": _clean(area_label(area))})
        for check in checks:
            counts["tests"] += 1
            seconds = float(check.get("duration_s") or 0.0)
            suite_time += seconds
            status = check.get("status")
            case = ET.SubElement(suite, "testcase", {
                "classname": _clean(f"auditor.{area}"),
                "name": _clean(f"{check.get('id')} {check.get('name')}"),
                "time": _seconds(seconds),
            })
            details = _clean(_details(check))
            summary = _clean(check.get("summary") or check.get("title") or status)
            blocks = str(check.get("id")) in blocking
            if status in ("fail", "error") and is_waived(check):
                w = check.get("waiver") or {}
                message = f"waived: {w.get('reason') or 'no reason given'} ({w.get('owner') or 'unknown owner'}"
                message += f", until {w['expires']})" if w.get("expires") else ")"
                ET.SubElement(case, "skipped", {"message": _clean(message)})
                counts["skipped"] += 1
            elif status in ("fail", "error") and not blocks:
                # Below the gate's severity (or an allowed error): reported, not a test failure,
                # so the CI test view agrees with the exit code.
                details = _clean(f"{status} below the gate (severity {check.get('severity')}, "
                                 f"fail_on {gate.get('fail_on')}, allow_errors {gate.get('allow_errors')})\n") + details
            elif status == "fail" or (status == "inconclusive" and blocks):
                # An undecided result that blocks (at least warn, undecided_fail_on) fails the test case too.
                failure = ET.SubElement(case, "failure", {"message": summary,
                                                          "type": _clean(check.get("severity") or "fail")})
                failure.text = details
                counts["failures"] += 1
            elif status == "error":
                err = check.get("error") or {}
                element = ET.SubElement(case, "error", {
                    "message": _clean(err.get("message") or summary),
                    "type": _clean(err.get("type") or "error"),
                })
                element.text = _clean(err.get("traceback") or details)
                counts["errors"] += 1
            elif status == "skipped":
                ET.SubElement(case, "skipped", {"message": summary})
                counts["skipped"] += 1
            out = ET.SubElement(case, "system-out")
            out.text = details
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", str(counts["errors"]))
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", _seconds(suite_time))
        if timestamp:
            suite.set("timestamp", timestamp)
        for key in totals:
            totals[key] += counts[key]
        total_time += suite_time

    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(report.get("duration_s") if report.get("duration_s") is not None else total_time))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
