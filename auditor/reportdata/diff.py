"""Audit diff: what changed between two report.json files.

``diff_reports(old, new)`` returns a plain, JSON-ready dict:

- ``new_failures``: checks failing (status ``fail`` or ``error``) in the new audit that
  did not fail in the old one (including checks the old audit did not run);
- ``resolved``: checks that failed in the old audit and now pass or warn;
- ``not_verified``: checks that failed in the old audit and are now ``skipped`` or
  ``inconclusive``: the failure is no longer measured, not shown to be fixed;
- ``status_changes``: every other change of status of a check both audits ran;
- ``added`` / ``removed``: checks only one of the audits ran;
- ``metric_changes``: metrics whose values moved beyond their confidence intervals:
  the new value lies outside the old interval and the old value outside the new one.
  A shift within the noise the intervals describe is not a change;
- ``metric_changes_without_interval``: metrics that changed but carry no interval in
  one audit or both, so their change cannot be told from noise; they are listed apart;
- ``warnings``: what makes the two reports hard to compare: a different task, target,
  class labels, positive label or favourable outcome (then metrics mean different
  things), different data (SHA-256 of train, test or current) or a different model.

Each entry carries its display text (``old_text``, ``new_text``), so the Markdown, text
and HTML views (``auditor.render.diff``) only arrange it. Nothing here imports a heavy library.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: The diff's lists of checks, in the order the views show them.
SECTIONS = (
    ("new_failures", "New failures"),
    ("resolved", "Resolved"),
    ("not_verified", "Failed before, not measured now (skipped or inconclusive)"),
    ("status_changes", "Other status changes"),
    ("added", "Checks added"),
    ("removed", "Checks removed"),
)
FAILING = ("fail", "error")
#: Statuses that show a failure fixed; ``skipped`` and ``inconclusive`` show only that it is no longer measured.
FIXED = ("pass", "warn")
RULE = ("a metric counts as changed when the new value lies outside the old confidence interval "
        "and the old value outside the new one")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _metric_text(metric: dict[str, Any]) -> str:
    from auditor.util.wording import format_number

    value = metric.get("value")
    text = format_number(value)
    low, high = _number(metric.get("ci_low")), _number(metric.get("ci_high"))
    if low is not None and high is not None:
        text += f" [{format_number(low)}, {format_number(high)}]"
    return text


def _compare_metric(cid: str, name: str, title: str, key: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """("interval" | "plain", entry) when the metric changed, None when it did not."""
    ov, nv = _number(old.get("value")), _number(new.get("value"))
    if ov is None and nv is None:
        if old.get("value") == new.get("value"):
            return None
        kind = "plain"
    elif ov is None or nv is None:
        kind = "plain"
    else:
        olo, ohi = _number(old.get("ci_low")), _number(old.get("ci_high"))
        nlo, nhi = _number(new.get("ci_low")), _number(new.get("ci_high"))
        if None not in (olo, ohi, nlo, nhi):
            outside_old = not (olo <= nv <= ohi)
            outside_new = not (nlo <= ov <= nhi)
            if not (outside_old and outside_new):
                return None
            kind = "interval"
        elif math.isclose(ov, nv, rel_tol=1e-9, abs_tol=1e-12):
            return None
        else:
            kind = "plain"
    entry = {
        "id": cid, "name": name, "title": title, "metric": key,
        "description": new.get("description") or old.get("description") or "",
        "old": {k: old.get(k) for k in ("value", "ci_low", "ci_high", "status")},
        "new": {k: new.get(k) for k in ("value", "ci_low", "ci_high", "status")},
        "old_text": _metric_text(old), "new_text": _metric_text(new),
        "direction": ("up" if nv > ov else "down") if ov is not None and nv is not None else "changed",
    }
    return kind, entry


def _side(report: dict[str, Any], label: str | None) -> dict[str, Any]:
    gate = report.get("gate") or {}
    model = (report.get("inputs") or {}).get("model") or {}
    return {
        "label": label or report.get("title") or "report",
        "title": report.get("title"),
        "created_at": report.get("created_at"),
        "model_path": model.get("path"),
        "model_sha256": model.get("sha256"),
        "gate_passed": bool(gate.get("passed")),
        "checks": len(report.get("checks") or []),
    }


def diff_reports(old: dict[str, Any], new: dict[str, Any], *, old_label: str | None = None,
                 new_label: str | None = None) -> dict[str, Any]:
    """What changed from the ``old`` report to the ``new`` one (both report.json dicts)."""
    old_checks = {str(c["id"]): c for c in old.get("checks") or []}
    new_checks = {str(c["id"]): c for c in new.get("checks") or []}

    def row(cid: str) -> dict[str, Any]:
        o, n = old_checks.get(cid) or {}, new_checks.get(cid) or {}
        latest = n or o
        return {
            "id": cid, "name": latest.get("name", ""), "title": latest.get("title") or latest.get("name", ""),
            "area": latest.get("area", ""), "severity": latest.get("severity", ""),
            "old_status": o.get("status"), "new_status": n.get("status"),
            "summary": latest.get("summary", ""),
        }

    new_failures, resolved, not_verified, changes, metric_changes, plain_changes = [], [], [], [], [], []
    for cid, current in new_checks.items():
        was, now = (old_checks.get(cid) or {}).get("status"), current.get("status")
        if now in FAILING and was not in FAILING:
            new_failures.append(row(cid))
        elif cid in old_checks and was in FAILING and now in FIXED:
            resolved.append(row(cid))
        elif cid in old_checks and was in FAILING and now not in FAILING:
            not_verified.append(row(cid))
        elif cid in old_checks and was != now:
            changes.append(row(cid))
        if cid in old_checks:
            o, n = old_checks[cid], current
            old_metrics, new_metrics = o.get("metrics") or {}, n.get("metrics") or {}
            for key in new_metrics:
                if key in old_metrics and isinstance(old_metrics[key], dict) and isinstance(new_metrics[key], dict):
                    found = _compare_metric(cid, n.get("name", ""), n.get("title") or n.get("name", ""), key,
                                            old_metrics[key], new_metrics[key])
                    if found:
                        (metric_changes if found[0] == "interval" else plain_changes).append(found[1])
    added = [row(cid) for cid in new_checks if cid not in old_checks]
    removed = [row(cid) for cid in old_checks if cid not in new_checks]
    old_side, new_side = _side(old, old_label), _side(new, new_label)
    return {
        "old": old_side,
        "new": new_side,
        "warnings": comparability_warnings(old, new),
        "gate_changed": old_side["gate_passed"] != new_side["gate_passed"],
        "new_failures": new_failures,
        "resolved": resolved,
        "not_verified": not_verified,
        "status_changes": changes,
        "added": added,
        "removed": removed,
        "metric_changes": metric_changes,
        "metric_changes_without_interval": plain_changes,
        "rule": RULE,
        # The views' order and headings, so the HTML partial needs nothing but this dict.
        "sections": [{"key": key, "heading": heading} for key, heading in SECTIONS],
        "counts": {
            "new_failures": len(new_failures), "resolved": len(resolved), "not_verified": len(not_verified),
            "status_changes": len(changes),
            "added": len(added), "removed": len(removed), "metric_changes": len(metric_changes),
            "metric_changes_without_interval": len(plain_changes),
        },
    }


#: Task fields that change what the metrics mean: a diff across them compares different quantities.
TASK_FIELDS = (("type", "task"), ("target", "target"), ("classes", "class labels"), ("positive_label", "positive label"),
               ("favourable_label", "favourable outcome"))


def comparability_warnings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between the two audits' set-ups, so that a reader weighs the changes."""
    out: list[str] = []
    old_task, new_task = old.get("task") or {}, new.get("task") or {}
    for key, words in TASK_FIELDS:
        if old_task.get(key) != new_task.get(key):
            out.append(f"The {words} differs ({_shown(old_task.get(key))} -> {_shown(new_task.get(key))}): "
                       "metrics and statuses may measure different things and are not directly comparable.")
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    old_data, new_data = old_inputs.get("datasets") or {}, new_inputs.get("datasets") or {}
    changed = sorted(role for role in set(old_data) | set(new_data)
                     if (old_data.get(role) or {}).get("sha256") != (new_data.get(role) or {}).get("sha256"))
    if changed:
        out.append(f"The data differs ({', '.join(changed)}: other SHA-256 or present in one audit only): "
                   "a change may come from the data rather than the model.")
    old_model, new_model = old_inputs.get("model") or {}, new_inputs.get("model") or {}
    if old_model.get("sha256") != new_model.get("sha256"):
        out.append("The model differs (another SHA-256): the changes below mix the model's change with any other.")
    return out


def _shown(value: Any) -> str:
    return "not set" if value is None else json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
