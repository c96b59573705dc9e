"""Renderers: every format is drawn from the JSON-ready report dict, nothing else.

``render(report, fmt)`` returns one format; ``write_reports(report, out_dir, formats)``
renders every requested format first and only then writes the files, each atomically,
so a renderer's error leaves the output folder as it was.

The renderer modules (and Jinja2, WeasyPrint) are imported only when a format is
drawn: importing this package must stay cheap because the CLI imports it for
``FORMATS``. The small presentation helpers below are shared by several renderers.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterable

FORMATS: tuple[str, ...] = ("html", "pdf", "json", "junit", "sarif", "md")

FILENAMES: dict[str, str] = {
    "json": "report.json",
    "html": "report.html",
    "pdf": "report.pdf",
    "junit": "junit.xml",
    "sarif": "report.sarif",
    "md": "summary.md",
}

UNKNOWN_FORMAT = "The 'fmt' parameter of render must be one of {formats}. Got {got!r} instead."


def render(report: dict[str, Any], fmt: str) -> str | bytes:
    """Draw ``report`` in format ``fmt`` (one of ``FORMATS``); PDF is bytes, the rest text."""
    if fmt == "json":
        return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "html":
        from auditor.render.html import render_html

        return render_html(report)
    if fmt == "pdf":
        from auditor.render.pdf import render_pdf

        return render_pdf(report)
    if fmt == "junit":
        from auditor.render.junit import render_junit

        return render_junit(report)
    if fmt == "sarif":
        from auditor.render.sarif import render_sarif

        return render_sarif(report)
    if fmt == "md":
        from auditor.render.markdown import render_markdown

        return render_markdown(report)
    raise ValueError(UNKNOWN_FORMAT.format(formats=list(FORMATS), got=fmt))


def write_reports(report: dict[str, Any], out_dir: str | Path, formats: Iterable[str]) -> dict[str, Path]:
    """Render each of ``formats`` and write it into ``out_dir`` under ``FILENAMES[fmt]``.

    Every format is rendered before any file is written: if one renderer fails,
    nothing in ``out_dir`` changes. Returns ``{fmt: path}`` in the order asked.
    """
    from auditor.fileio import ensure_writable_dir, write_atomic

    wanted = list(dict.fromkeys(formats))
    for fmt in wanted:
        if fmt not in FORMATS:
            raise ValueError(UNKNOWN_FORMAT.format(formats=list(FORMATS), got=fmt))
    rendered = {fmt: render(report, fmt) for fmt in wanted}
    folder = ensure_writable_dir(out_dir)
    written: dict[str, Path] = {}
    for fmt, payload in rendered.items():
        path = folder / FILENAMES[fmt]
        write_atomic(path, payload)
        written[fmt] = path
    return written


# --------------------------------------------------------------------------------------
# Presentation helpers shared by the renderers. They read the report dict only.
# --------------------------------------------------------------------------------------

STATUS_LABELS: dict[str, str] = {
    "pass": "Pass",
    "warn": "Warn",
    "fail": "Fail",
    "inconclusive": "Inconclusive",
    "error": "Error",
    "skipped": "Skipped",
}

# Names of metrics and evidence columns whose values in [0, 1] read best as percentages.
_PERCENT_NAME = re.compile(r"(?:^|[_\s-])(rate|share|fraction)$", re.IGNORECASE)


def is_percent_name(name: str) -> bool:
    return bool(_PERCENT_NAME.search(str(name)))


def format_number(value: Any, *, percent: bool = False, trim: bool | None = None) -> str:
    """A number for people: integers with thousands separators, floats to 3 significant digits.

    With ``percent=True`` a float in [0, 1] is shown as a percentage (0.0566 -> "5.66%").
    Trailing zeros are dropped from plain numbers (0.2, not 0.200) and kept in
    percentages so that a column of rates lines up (3.20%, 3.12%); ``trim`` overrides
    that (measured values keep them: 0.330 [0.300, 0.360]; thresholds drop them: "> 5%"). ``None`` becomes an em dash;
    anything that is not a number is returned as text.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if percent and 0.0 <= value <= 1.0:
        return _percent(value * 100.0, trim=bool(trim))
    return _sig3(value, trim=True if trim is None else trim)


def _percent(pct: float, *, trim: bool) -> str:
    # Fixed decimals by size, so a column of rates lines up: 23.6%, 5.66%, 0.96%, 0.074%.
    if pct == 0:
        return "0%"
    decimals = 1 if pct >= 10 else 2 if pct >= 0.1 else min(3, 2 - math.floor(math.log10(pct)))
    text = f"{pct:.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def _sig3(value: float, *, trim: bool) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude < 1e-3:
        return f"{value:.2e}"
    decimals = max(0, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


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
    from auditor.check import AREAS

    present = list(dict.fromkeys(areas))
    known = [a for a in AREAS if a in present]
    others = sorted(a for a in present if a not in AREAS)
    return known + others


def checks_by_area(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The report's checks grouped by area (areas in section order), worst status first."""
    from auditor.results import STATUS_RANK

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
    from auditor.results import SEVERITIES

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
