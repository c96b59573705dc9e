"""Presentation helpers shared by the renderers: status labels, area order, cells,
waivers, skip reasons, sample wording. They read the report dict only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from auditor.util.wording import format_number, is_percent_name  # noqa: F401  (re-exported)

STATUS_LABELS: dict[str, str] = {
    "pass": "Pass",
    "warn": "Warn",
    "fail": "Fail",
    "inconclusive": "Inconclusive",
    "error": "Error",
    "skipped": "Skipped",
}

def format_cell(value: Any, *, percent: bool = False) -> str:
    """A table cell: numbers as in ``format_number``, lists joined, ``None`` as a dash."""
    if isinstance(value, (list, tuple)):
        return ", ".join(format_cell(v, percent=percent) for v in value)
    if isinstance(value, float) and not percent:
        return format_number(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return format_number(value, percent=percent)


def area_label(area: str) -> str:
    """``"data_quality"`` -> ``"Data quality"``."""
    text = str(area).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Other"


def ordered_areas(areas: Iterable[str]) -> list[str]:
    """Known areas in the contract's order, then any other area by name."""
    from auditor.contract.check import AREAS

    present = list(dict.fromkeys(areas))
    known = [a for a in AREAS if a in present]
    others = sorted(a for a in present if a not in AREAS)
    return known + others


def checks_by_area(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The report's checks grouped by area (areas in section order), worst status first."""
    from auditor.contract.results import STATUS_RANK

    checks = list(report.get("checks") or [])
    areas = ordered_areas(c.get("area") or "other" for c in checks)
    grouped = []
    for area in areas:
        members = [c for c in checks if (c.get("area") or "other") == area]
        members.sort(key=lambda c: (-STATUS_RANK.get(c.get("status"), -1), str(c.get("id"))))
        grouped.append((area, members))
    return grouped


def blocking_ids(report: dict[str, Any], *, ignore_waivers: bool = False) -> set[str]:
    """IDs of the results that made the gate fail (or would have, without their waivers).

    Reports written by this version list them in ``gate.blocking``; for older or
    hand-made reports they are recomputed from ``gate.fail_on`` and ``allow_errors``.
    """
    gate = report.get("gate") or {}
    if "blocking" in gate and not ignore_waivers:
        return {str(i) for i in gate.get("blocking") or []}
    from auditor.contract.results import SEVERITIES

    fail_on = gate.get("fail_on") if gate.get("fail_on") in SEVERITIES else "info"
    level = SEVERITIES.index(fail_on)
    out = set()
    for c in report.get("checks") or []:
        if is_waived(c) and not ignore_waivers:
            continue
        severity = c.get("severity") if c.get("severity") in SEVERITIES else "critical"
        if c.get("status") == "fail" and SEVERITIES.index(severity) >= level:
            out.add(str(c.get("id")))
        if c.get("status") == "error" and not gate.get("allow_errors"):
            out.add(str(c.get("id")))
    return out


def is_waived(check: dict[str, Any]) -> bool:
    """A check whose waiver is in force (an expired waiver no longer waives)."""
    waiver = check.get("waiver")
    return bool(waiver and waiver.get("active") and not waiver.get("expired"))


def waiver_text(check: dict[str, Any]) -> str:
    """One line about the waiver: who waived what until when, or that it has expired."""
    waiver = check.get("waiver") or {}
    if not waiver:
        return ""
    owner = waiver.get("owner") or "unknown owner"
    expires = waiver.get("expires")
    reason = waiver.get("reason") or "no reason given"
    status = check.get("status", "")
    if is_waived(check):
        until = f" until {expires}" if expires else ""
        return f"{status} — waived by {owner}{until}: {reason}"
    if waiver.get("expired"):
        return f"waiver by {owner} expired on {expires} and no longer applies: {reason}"
    return f"waiver by {owner} is not in force: {reason}"


def skip_reason(check: dict[str, Any]) -> str:
    """Why a check was skipped, without a leading "skipped:" the summary may carry."""
    text = str(check.get("summary") or "").strip()
    return re.sub(r"^skipped\s*:\s*", "", text, flags=re.IGNORECASE) or "no reason given"


def sample_text(sample: dict[str, Any] | None) -> str:
    """``"20,000 of 100,000 test rows, seed 123"``."""
    if not sample:
        return ""
    used, available = sample.get("rows_used"), sample.get("rows_available")
    role = sample.get("role")
    rows = f"{role} rows" if role else "rows"
    if used is not None and available is not None:
        text = f"{format_number(used)} of {format_number(available)} {rows}"
    elif used is not None:
        text = f"{format_number(used)} {rows}"
    else:
        text = rows
    if sample.get("seed") is not None:
        text += f", seed {sample['seed']}"
    return text


def dataset_paths(report: dict[str, Any]) -> list[str]:
    """The dataset paths of the report, the test set first."""
    datasets = ((report.get("inputs") or {}).get("datasets")) or {}
    roles = sorted(datasets, key=lambda r: (r != "test", r != "current", r != "train", r))
    return [datasets[r]["path"] for r in roles if isinstance(datasets.get(r), dict) and datasets[r].get("path")]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def escape_md(text: Any) -> str:
    """Escape ``text`` for one line of GitHub Markdown (a table cell or a list item)."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return " ".join(s.split())
