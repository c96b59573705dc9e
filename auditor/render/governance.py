"""The reviewer's parts of the HTML/PDF report, drawn from the report dict.

Cover facts, the plain-language executive summary, the model card, the standards
crosswalk tables, the waiver register, the sign-off page (decision log plus blank rows)
and the methods appendix. Everything is formatted here; the template only loops.
Only the report dict is read (and the crosswalk data shipped in ``auditor.standards``).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from auditor.render.common import STATUS_LABELS, area_label, format_number, is_percent_name
from auditor.util.wording import count

DIFF_PARTIAL = "_diff_section.html.j2"
#: Blank rows on the sign-off page, for reviewers who sign on paper.
BLANK_SIGNOFF_ROWS = 3
DECISIONS = {
    "approve": "Approve",
    "approve-with-conditions": "Approve with conditions",
    "reject": "Reject",
}


def _anchor(prefix: str, name: str) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-").lower()


def diff_partial_exists() -> bool:
    """Whether the "changes since the approved audit" partial ships with this install."""
    try:
        return resources.files("auditor.templates").joinpath(DIFF_PARTIAL).is_file()
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - templates always ship
        return False


def governance_view(report: dict[str, Any]) -> dict[str, Any]:
    from auditor.reportdata.model_card import build_model_card

    card = report.get("model_card") if isinstance(report.get("model_card"), dict) else build_model_card(report)
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    return {
        "cover": _cover(report, card),
        "plain_summary": _plain_summary(report, card, checks),
        "card": _card_view(card),
        "crosswalk": _crosswalk_view(report),
        "waivers": _waivers(report, checks),
        "decisions": _decisions(report.get("decisions")),
        "blank_rows": list(range(BLANK_SIGNOFF_ROWS)),
        "diff": bool(report.get("baseline_diff")) and diff_partial_exists(),
        "baseline_diff": report.get("baseline_diff"),
        "filter_statuses": _filter_statuses(checks),
        "filter_areas": _filter_areas(checks),
        "methods": _methods(report),
    }


# -- cover and summary -------------------------------------------------------------------

def _cover(report: dict[str, Any], card: dict[str, Any]) -> dict[str, str]:
    created = str(report.get("created_at") or "")
    return {
        "model_name": str(card.get("name") or "model"),
        "version": str(card.get("version") or "not stated in the model card"),
        "date": created[:10] if created else "—",
    }


def _plain_summary(report: dict[str, Any], card: dict[str, Any], checks: list[dict[str, Any]]) -> list[str]:
    """A handful of sentences a non-specialist can read: what was audited, the verdict, why."""
    gate = report.get("gate") or {}
    task = report.get("task") or {}
    counts = {s: sum(1 for c in checks if c.get("status") == s) for s in STATUS_LABELS}
    version = f" version {card['version']}" if card.get("version") else ""
    what = f"a {task['type']} model predicting {task.get('target')}" if task.get("type") and task.get("target") else "a model"
    lines = [f"This report audits {card.get('name') or 'the model'}{version}, {what}, with {count(len(checks), 'automated check')}."]
    fail_on = gate.get("fail_on") or "high"
    blocking = [str(b) for b in gate.get("blocking") or []]
    baselined = [str(b) for b in gate.get("baselined_ids") or []]
    if gate.get("passed") and baselined:
        lines.append(f"The audit's gate passed against the approved baseline audit: no new finding at or above {fail_on} "
                     f"severity failed without a waiver; {count(len(baselined), 'result')} ({', '.join(baselined)}) "
                     "failed at that severity but had already failed in the baseline, and still stand.")
    elif gate.get("passed"):
        lines.append(f"The audit's gate passed: no finding at or above {fail_on} severity failed without a waiver.")
    else:
        ids = f" ({', '.join(blocking)})" if blocking else ""
        lines.append(f"The audit's gate failed: {count(len(blocking) or len(gate.get('reasons') or []), 'result')}"
                     f"{ids} at or above {fail_on} severity failed or could not run, with no waiver in force.")
    parts = [f"{counts['pass']} passed"]
    for status, text in (("warn", "gave a warning"), ("fail", "failed"), ("inconclusive", "could not be decided by the data"),
                         ("error", "could not run"), ("skipped", "were skipped for lack of an input")):
        if counts[status]:
            parts.append(f"{counts[status]} {text}")
    lines.append("Of the checks, " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + ".")
    waivers = [w for w in ((report.get("policy") or {}).get("waivers") or []) if isinstance(w, dict)]
    if waivers:
        expired = sum(1 for c in checks if (c.get("waiver") or {}).get("expired"))
        lines.append(f"{count(len(waivers), 'risk is', 'risks are')} accepted through waivers"
                     + (f"; {count(expired, 'waiver has', 'waivers have')} expired and no longer applies." if expired else "."))
    else:
        lines.append("No risk is accepted through a waiver: every finding stands as measured.")
    missing = card.get("missing") or []
    if missing:
        from auditor.reportdata.model_card import FIELD_LABELS

        lines.append("The model card is incomplete: it does not state the "
                     + ", ".join(FIELD_LABELS.get(m, m).lower() for m in missing) + ".")
    else:
        lines.append("The model card states the intended use, out-of-scope uses, data, limitations and ethical considerations.")
    not_assessed = [area_label(a).lower() for a in (report.get("coverage") or {}).get("not_installed") or []]
    if not_assessed:
        lines.append("Not assessed by any installed check: " + ", ".join(not_assessed) + ".")
    lines.append("The standards crosswalk relates these results to the EU AI Act, the NIST AI RMF and ISO/IEC 42001 "
                 "as evidence for a reviewer; it is not a statement of compliance.")
    return lines


# -- model card ---------------------------------------------------------------------------

def _text_or_items(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {"entries": [str(v) for v in value], "text": ""}
    return {"entries": [], "text": str(value) if value else ""}


def _card_view(card: dict[str, Any]) -> dict[str, Any]:
    from auditor.reportdata.model_card import FIELD_LABELS

    missing = set(card.get("missing") or [])

    def field(key: str, value: Any) -> dict[str, Any]:
        return {"key": key, "label": FIELD_LABELS[key], "missing": key in missing, **_text_or_items(value)}

    def datasets(block: dict[str, Any]) -> list[dict[str, str]]:
        return [{"role": str(d.get("role") or ""), "path": str(d.get("path") or "—"),
                 "shape": (f"{format_number(d.get('rows'))} × {format_number(d.get('columns'))}"
                           if d.get("rows") is not None and d.get("columns") is not None else "—"),
                 "sha": str(d.get("sha256") or "—")} for d in block.get("datasets") or []]

    training, evaluation = card.get("training_data") or {}, card.get("evaluation_data") or {}
    model = card.get("model") or {}
    metrics = []
    for m in card.get("metrics") or []:
        percent = is_percent_name(m.get("name", ""))
        metrics.append({
            "check": str(m.get("check")), "anchor": _anchor("check", m.get("check") or ""), "group": str(m.get("group") or ""),
            "name": str(m.get("name")), "description": str(m.get("description") or ""),
            "value": format_number(m.get("value"), percent=percent, trim=False),
            "ci": f"{format_number(m.get('ci_low'), percent=percent, trim=False)} – {format_number(m.get('ci_high'), percent=percent, trim=False)}",
            "status": str(m.get("status") or ""), "status_label": STATUS_LABELS.get(m.get("status"), "not judged"),
        })
    return {
        "name": str(card.get("name") or "model"),
        "facts": [row for row in (
            ("Version", card.get("version")),
            ("Owners", ", ".join(card.get("owners") or [])),
            ("Description", card.get("description")),
            ("Model file", f"{model.get('path')} ({model.get('class') or model.get('kind')})" if model.get("path") else ""),
        ) if row[1]],
        "missing": [FIELD_LABELS.get(m, m) for m in card.get("missing") or []],
        "intended_use": field("intended_use", card.get("intended_use")),
        "out_of_scope_uses": field("out_of_scope_uses", card.get("out_of_scope_uses")),
        "training_data": {**field("training_data", training.get("description")), "datasets": datasets(training)},
        "evaluation_data": {**field("evaluation_data", evaluation.get("description")), "datasets": datasets(evaluation)},
        "metrics": metrics,
        "limitations": field("limitations", card.get("limitations")),
        "findings": [{"id": str(f.get("id")), "anchor": _anchor("check", f.get("id") or ""), "title": str(f.get("title") or ""),
                      "status": str(f.get("status")), "status_label": STATUS_LABELS.get(f.get("status"), str(f.get("status"))),
                      "waived": bool(f.get("waived"))} for f in card.get("findings") or []],
        "ethical_considerations": field("ethical_considerations", card.get("ethical_considerations")),
        "sensitive": ", ".join(card.get("sensitive_features") or []),
        "fairness": [{"id": str(f.get("id")), "anchor": _anchor("check", f.get("id") or ""), "title": str(f.get("title") or ""),
                      "status": str(f.get("status")), "status_label": STATUS_LABELS.get(f.get("status"), str(f.get("status")))}
                     for f in card.get("fairness") or []],
    }


# -- crosswalk ----------------------------------------------------------------------------

def _crosswalk_view(report: dict[str, Any]) -> dict[str, Any]:
    from auditor.standards import DISCLAIMER, crosswalk

    frameworks = []
    for fw in crosswalk(report):
        rows = []
        for clause in fw["clauses"]:
            status = clause["status"]
            rows.append({
                "id": clause["id"], "title": clause["title"], "why": clause["why"],
                "groups": [{"status": g["status"], "label": STATUS_LABELS.get(g["status"], g["status"].capitalize()),
                            "checks": [{"id": i, "anchor": _anchor("check", i)} for i in g["ids"]]} for g in clause["groups"]],
                "status": status or "none",
                "status_label": STATUS_LABELS[status] if status else "No evidence",
                "absent": len(clause["absent"]),
                "softened": ", ".join(clause.get("softened") or []),
            })
        frameworks.append({"name": fw["name"], "edition": fw["edition"], "anchor": _anchor("xw", fw["framework"]), "rows": rows})
    return {"disclaimer": DISCLAIMER, "frameworks": frameworks}


# -- waivers, decisions ---------------------------------------------------------------------

def _waivers(report: dict[str, Any], checks: list[dict[str, Any]]) -> list[dict[str, str]]:
    by_id = {str(c.get("id")): c for c in checks}
    created = str(report.get("created_at") or "")[:10]
    out = []
    for w in (report.get("policy") or {}).get("waivers") or []:
        if not isinstance(w, dict):
            continue
        cid = str(w.get("check") or "—")
        check = by_id.get(cid) or {}
        state = check.get("waiver") or {}
        expires = str(w.get("expires") or "—")
        if state:
            expired = bool(state.get("expired"))
        else:  # the check did not run: judge the date against the audit's own date
            expired = bool(created) and expires < created
        out.append({
            "check": cid, "anchor": _anchor("check", cid) if check else "",
            "status": str(check.get("status") or "not run"),
            "status_label": STATUS_LABELS.get(check.get("status"), "Not run"),
            "owner": str(w.get("owner") or "—"), "reason": str(w.get("reason") or "—"),
            "expires": expires, "expired": expired,
        })
    return out


def _decisions(raw: Any) -> list[dict[str, str]]:
    out = []
    for d in raw if isinstance(raw, list) else []:
        if not isinstance(d, dict):
            continue
        decision = str(d.get("decision") or "")
        out.append({
            # auditor sign records a UTC timestamp; a hand-made list may give a date
            "date": str(d.get("date") or str(d.get("timestamp") or "").replace("T", " ")[:16] or "—"), "reviewer": str(d.get("reviewer") or "—"),
            "decision": DECISIONS.get(decision, decision or "—"), "css": decision if decision in DECISIONS else "other",
            "note": str(d.get("note") or ""),
        })
    return out


# -- filters ------------------------------------------------------------------------------

def _filter_statuses(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    present = {c.get("status") for c in checks}
    return [{"status": s, "label": label, "count": sum(1 for c in checks if c.get("status") == s)}
            for s, label in STATUS_LABELS.items() if s in present]


def _filter_areas(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from auditor.render.common import ordered_areas

    areas = ordered_areas(c.get("area") or "other" for c in checks)
    return [{"area": a, "key": _anchor("area", a), "label": area_label(a),
             "count": sum(1 for c in checks if (c.get("area") or "other") == a)} for a in areas]


# -- methods ------------------------------------------------------------------------------

def _methods(report: dict[str, Any]) -> list[str]:
    testing = report.get("multiple_testing") or {}
    names = {"holm": "Holm's method", "fdr_bh": "the Benjamini-Hochberg procedure", "bonferroni": "Bonferroni's correction"}
    method = names.get(str(testing.get("method")))
    tests = int(testing.get("tests") or 0)
    return [
        ("Each check measures; one engine module judges every measured value against the threshold shown next to it "
         "(defaults, overridden by the policy in this appendix). A check's status is the worst of its judged metrics."),
        ("Estimates carry confidence intervals (bootstrap or exact, as each metric's description says). When an interval "
         "contains the fail level, the data cannot decide and the result is inconclusive rather than pass or fail."),
        (f"The audit's {count(tests, 'p-value was', 'p-values were')} corrected together with {method} before being judged."
         if method else "No p-value correction across the audit was applied."),
        (f"Sampled computations use seed {report.get('seed', '—')} and state the rows they used; the same inputs and seed "
         "give the same results, timings and timestamps aside."),
        "A waived result keeps its real status and is shown as waived; an expired waiver no longer waives.",
        ("The model card's text fields are written by the model's owners in the policy's model_card block; its files, "
         "hashes, metrics and findings are computed by the audit."),
        ("The standards crosswalk is data shipped with this version of auditor (auditor/standards/*.yaml): it relates "
         "checks to clauses for which their results are evidence. It is not a legal assessment."),
    ]
