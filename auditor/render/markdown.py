"""A Markdown summary for a pull request: the verdict, counts, and what needs attention.

Every string from the report is escaped: a hostile column name such as
``<script>`` or a summary with ``|`` cannot break the table or inject HTML on GitHub.
"""

from __future__ import annotations

from typing import Any

from auditor.render.common import STATUS_LABELS, area_label, checks_by_area, escape_md, is_waived


def _status_word(check: dict[str, Any]) -> str:
    status = str(check.get("status") or "")
    waiver = check.get("waiver") or {}
    if is_waived(check):
        return f"{status} (waived)"
    if waiver.get("expired"):
        return f"{status} (waiver expired)"
    return status


def _table(checks: list[dict[str, Any]]) -> list[str]:
    lines = ["| ID | Check | Area | Status | Severity | Summary |", "|---|---|---|---|---|---|"]
    for c in checks:
        cells = [c.get("id"), c.get("name"), area_label(c.get("area") or "other"), _status_word(c),
                 c.get("severity"), c.get("summary")]
        lines.append("| " + " | ".join(escape_md(x) for x in cells) + " |")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    """The pull-request summary as GitHub-flavoured Markdown."""
    from auditor.contract.results import STATUS_RANK, STATUSES

    gate = report.get("gate") or {}
    passed = bool(gate.get("passed"))
    ordered = [c for _, members in checks_by_area(report) for c in members]
    counts = {s: sum(1 for c in ordered if c.get("status") == s) for s in STATUSES}
    waived = sum(1 for c in ordered if is_waived(c))

    verdict = "PASSED" if passed else "FAILED"
    lines = [f"## {escape_md(report.get('title') or 'Model audit')}: gate {verdict}", ""]
    lines.append(f"**Gate {verdict.lower()}**: exit code {escape_md(gate.get('exit_code', '—'))}, "
                 f"fail on {escape_md(gate.get('fail_on') or '—')}, "
                 f"errors allowed: {'yes' if gate.get('allow_errors') else 'no'}.")
    lines.append("")
    tally = ", ".join(f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUSES if counts[s])
    lines.append(f"{len(ordered)} checks: {tally or 'none'}" + (f"; {waived} waived." if waived else "."))
    lines.append("")

    reasons = gate.get("reasons") or []
    if reasons:
        lines.append("### Why the gate failed" if not passed else "### Gate notes")
        lines.append("")
        lines.extend(f"- {escape_md(r)}" for r in reasons)
        lines.append("")

    baselined = gate.get("baselined") or []
    if baselined:
        lines.append("### Baselined: failed in the baseline audit too, not blocking")
        lines.append("")
        lines.extend(f"- {escape_md(r)}" for r in baselined)
        lines.append("")

    if report.get("baseline_diff"):
        from auditor.render.diff import diff_markdown

        lines.append(diff_markdown(report["baseline_diff"], level=3))

    attention = sorted((c for c in ordered if c.get("status") != "pass"),
                       key=lambda c: -STATUS_RANK.get(c.get("status"), -1))
    if attention:
        lines.append("### Findings that need attention")
        lines.append("")
        lines.extend(_table(attention))
    else:
        lines.append("Every check passed." if ordered else "No check ran.")
    lines.append("")

    lines.append(f"<details><summary>All {len(ordered)} checks</summary>")
    lines.append("")
    lines.extend(_table(ordered))
    lines.append("")
    lines.append("</details>")
    lines.append("")

    notes = report.get("notes") or []
    if notes:
        lines.append("<details><summary>Notes</summary>")
        lines.append("")
        lines.extend(f"- {escape_md(n)}" for n in notes)
        lines.append("")
        lines.append("</details>")
        lines.append("")

    footer = [f"auditor {escape_md(report['auditor_version'])}" if report.get("auditor_version") else "auditor",
              escape_md(report.get("created_at") or ""),
              f"seed {escape_md(report['seed'])}" if report.get("seed") is not None else ""]
    lines.append("<sub>" + " · ".join(part for part in footer if part) + "</sub>")
    return "\n".join(lines) + "\n"
