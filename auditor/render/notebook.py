"""The report as a notebook shows it: a compact, self-contained HTML summary (the gate,
per-area counts, the findings that fail or block with their metrics and figures) and one
result's card. Drawn from the report dict like every other format; no script, no link,
no stylesheet outside the fragment (its CSS is scoped to the fragment's own class, so it
changes nothing else on the notebook page).
"""

from __future__ import annotations

from typing import Any

from auditor.render.common import STATUS_LABELS, area_label, blocking_ids, checks_by_area, is_waived
from auditor.render.html import _read_resource, card_view, tally, verdict_view

TEMPLATE = "notebook.html.j2"
#: Findings shown in the summary at most (the rest are counted; report.save writes them all).
MAX_FINDINGS = 12
#: Statuses a summary lists as findings, worst first.
FINDING_STATUSES = ("error", "fail", "inconclusive", "warn")


def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: _read_resource(name)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def summary_view(report: dict[str, Any]) -> dict[str, Any]:
    from auditor.contract.results import STATUS_RANK, STATUSES

    gate = report.get("gate") or {}
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    blocking = blocking_ids(report)
    statuses = [s for s in STATUSES if any(c.get("status") == s for c in checks)]
    areas = []
    for area, members in checks_by_area(report):
        counts = {s: sum(1 for c in members if c.get("status") == s) for s in statuses}
        areas.append({"label": area_label(area), "cells": [{"status": s, "count": counts[s]} for s in statuses],
                      "total": len(members)})
    findings = [c for c in checks if c.get("status") in FINDING_STATUSES]
    # What blocks the gate first, then by status (worst first), then in the report's order.
    findings.sort(key=lambda c: (str(c.get("id")) not in blocking, -STATUS_RANK.get(c.get("status"), 0)))
    shown = []
    for c in findings[:MAX_FINDINGS]:
        card = card_view(c)
        card["blocking"] = str(c.get("id")) in blocking
        shown.append(card)
    return {
        "title": report.get("title") or "Model audit",
        "verdict": verdict_view(gate),
        "reasons": [str(r) for r in gate.get("reasons") or []],
        "tally": tally(checks),
        "waived": sum(1 for c in checks if is_waived(c)),
        "total": len(checks),
        "statuses": [{"status": s, "label": STATUS_LABELS.get(s, s)} for s in statuses],
        "areas": areas,
        "findings": shown,
        "more": max(0, len(findings) - len(shown)),
        "notes": [str(n) for n in report.get("notes") or []][:6],
    }


def summary_html(report: dict[str, Any]) -> str:
    """The compact summary a notebook shows for an audit (``Report._repr_html_``)."""
    return _env().get_template(TEMPLATE).render(view=summary_view(report), one=None, css=_css())


def result_html(report: dict[str, Any], check_id: str) -> str:
    """One result's card, as in the HTML report (``Report.show(id)``)."""
    check = next((c for c in report.get("checks") or [] if str(c.get("id")) == check_id), None)
    if check is None:
        raise KeyError(check_id)
    card = card_view(check)
    card["blocking"] = check_id in blocking_ids(report)
    return _env().get_template(TEMPLATE).render(view=None, one=card, css=_css())


def _css() -> Any:
    import markupsafe

    return markupsafe.Markup(_read_resource("notebook.css"))
