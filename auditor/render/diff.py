"""The diff between two reports, drawn: plain text for a terminal, Markdown, and a
self-contained HTML page. The diff itself (``auditor.reportdata.diff``) is plain data."""

from __future__ import annotations

from typing import Any

from auditor.render.common import escape_md
from auditor.reportdata.diff import SECTIONS

DIFF_FORMATS = ("text", "markdown", "html")
SECTION_TEMPLATE = "_diff_section.html.j2"
PAGE_TEMPLATE = "diff.html.j2"

def _gate_word(passed: bool) -> str:
    return "PASSED" if passed else "FAILED"


def diff_text(diff: dict[str, Any]) -> str:
    """Plain text for a terminal."""
    old, new = diff["old"], diff["new"]
    lines = [f"auditor diff: {old['label']} -> {new['label']}",
             f"gate: {_gate_word(old['gate_passed'])} -> {_gate_word(new['gate_passed'])}"]
    lines += [f"warning: {w}" for w in diff.get("warnings") or []]
    for key, heading in SECTIONS:
        items = diff[key]
        lines.append(f"{heading} ({len(items)}){':' if items else ''}")
        for c in items:
            lines.append(f"  {c['id']} {c['name']} [{c['severity']}]: {c['old_status'] or '—'} -> {c['new_status'] or '—'}"
                         + (f"  {c['summary']}" if c["new_status"] else ""))
    lines.append(f"Metric changes beyond their intervals ({len(diff['metric_changes'])}){':' if diff['metric_changes'] else ''}")
    for m in diff["metric_changes"]:
        lines.append(f"  {m['id']} {m['metric']}: {m['old_text']} -> {m['new_text']}")
    plain = diff["metric_changes_without_interval"]
    lines.append(f"Metric changes without an interval, not judged against noise ({len(plain)}){':' if plain else ''}")
    for m in plain:
        lines.append(f"  {m['id']} {m['metric']}: {m['old_text']} -> {m['new_text']} (no interval)")
    lines.append(f"({diff['rule']})")
    return "\n".join(lines) + "\n"


def diff_markdown(diff: dict[str, Any], *, level: int = 2) -> str:
    """GitHub-flavoured Markdown; ``level`` is the heading depth of its title."""
    h = "#" * level
    old, new = diff["old"], diff["new"]
    lines = [f"{h} Audit diff: {escape_md(old['label'])} → {escape_md(new['label'])}", "",
             f"Gate: **{_gate_word(old['gate_passed'])}** → **{_gate_word(new['gate_passed'])}**. "
             + ", ".join(f"{diff['counts'][k]} {heading.lower()}" for k, heading in SECTIONS) + ".", ""]
    lines += [f"> **Warning:** {escape_md(w)}" for w in diff.get("warnings") or []]
    if diff.get("warnings"):
        lines.append("")
    for key, heading in SECTIONS:
        items = diff[key]
        if not items:
            continue
        lines += [f"{h}# {heading} ({len(items)})", "", "| ID | Check | Severity | Was | Now | Summary |", "|---|---|---|---|---|---|"]
        for c in items:
            cells = [c["id"], c["name"], c["severity"], c["old_status"] or "—", c["new_status"] or "—",
                     c["summary"] if c["new_status"] else ""]
            lines.append("| " + " | ".join(escape_md(x) for x in cells) + " |")
        lines.append("")
    def metric_rows(items: list[dict[str, Any]]) -> list[str]:
        return ["| ID | Metric | Was | Now |", "|---|---|---|---|"] + [
            "| " + " | ".join(escape_md(x) for x in (m["id"], m["metric"], m["old_text"], m["new_text"])) + " |" for m in items]

    if diff["metric_changes"]:
        lines += [f"{h}# Metric changes beyond their intervals ({len(diff['metric_changes'])})", "",
                  *metric_rows(diff["metric_changes"]), ""]
    plain = diff["metric_changes_without_interval"]
    if plain:  # often long and never judged against noise: folded
        lines += [f"<details><summary>Metric changes without an interval ({len(plain)}): not judged against noise</summary>", "",
                  *metric_rows(plain), "", "</details>", ""]
    lines.append(f"<sub>{escape_md(diff['rule'][:1].upper() + diff['rule'][1:])}.</sub>")
    return "\n".join(lines) + "\n"


def diff_html(diff: dict[str, Any]) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no URLs) around the diff section partial."""
    from importlib import resources

    import jinja2

    def load(name: str) -> str:
        return resources.files("auditor.templates").joinpath(name).read_text(encoding="utf-8")

    env = jinja2.Environment(loader=jinja2.FunctionLoader(load), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(PAGE_TEMPLATE).render(diff=diff)


def render_diff(diff: dict[str, Any], fmt: str) -> str:
    if fmt == "text":
        return diff_text(diff)
    if fmt == "markdown":
        return diff_markdown(diff)
    if fmt == "html":
        return diff_html(diff)
    raise ValueError(f"The 'fmt' parameter of render_diff must be one of {list(DIFF_FORMATS)}. Got {fmt!r} instead.")
