"""The model card drawn as Markdown (what a review packet ships as model_card.md); the
card itself is built from the report by ``auditor.reportdata.model_card``."""

from __future__ import annotations

from typing import Any

from auditor.render.common import escape_md as _md
from auditor.reportdata.model_card import FIELD_LABELS
from auditor.util.wording import format_number


def _code(text: Any) -> str:
    """Text for a Markdown code span: shown literally, so only backticks, pipes and line breaks matter."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ").strip() + "`"


def _num(value: Any) -> str:
    return format_number(value, trim=False) if isinstance(value, float) else format_number(value)


def model_card_markdown(card: dict[str, Any]) -> str:
    """The card as a Markdown document (what the review packet ships as model_card.md)."""
    not_given = "_Not provided in the policy's `model_card` block._"
    lines = [f"# Model card: {_md(card.get('name') or 'model')}", ""]
    facts = []
    if card.get("version"):
        facts.append(f"- **Version:** {_md(card['version'])}")
    if card.get("owners"):
        facts.append(f"- **Owners:** {', '.join(_md(o) for o in card['owners'])}")
    model = card.get("model") or {}
    if model.get("path"):
        facts.append(f"- **Model file:** {_code(model['path'])} ({_md(model.get('class') or model.get('kind') or '')})"
                     + (f", SHA-256 {_code(model['sha256'])}" if model.get("sha256") else ""))
    task = card.get("task") or {}
    if task.get("type"):
        facts.append(f"- **Task:** {_md(task['type'])}, target {_code(task.get('target'))}"
                     + (f", positive label {_code(task['positive_label'])}" if task.get("positive_label") is not None else "")
                     + f", {task.get('features', 0)} input features")
    audit = card.get("audit") or {}
    if audit.get("created_at"):
        verdict = "passed" if audit.get("gate_passed") else "failed"
        facts.append(f"- **Audit:** {_md(audit['created_at'])}, auditor {_md(audit.get('auditor_version') or '')}, gate {verdict}")
    lines += facts + ([""] if facts else [])
    if card.get("description"):
        lines += [_md(card["description"]), ""]
    if card.get("missing"):
        lines += ["> **Incomplete card:** no " + ", ".join(FIELD_LABELS[m].lower() for m in card["missing"])
                  + " (reported as GV001).", ""]

    lines += ["## Intended use", "", _md(card["intended_use"]) if card.get("intended_use") else not_given, ""]
    lines += ["## Out-of-scope uses", ""]
    lines += [f"- {_md(u)}" for u in card.get("out_of_scope_uses") or []] or [not_given]
    lines.append("")
    for key, heading in (("training_data", "Training data"), ("evaluation_data", "Evaluation data")):
        block = card.get(key) or {}
        lines += [f"## {heading}", "", _md(block["description"]) if block.get("description") else not_given, ""]
        if block.get("datasets"):
            lines += ["| role | file | rows | columns | SHA-256 |", "|---|---|--:|--:|---|"]
            for d in block["datasets"]:
                lines.append(f"| {_md(d.get('role'))} | {_code(d.get('path'))} | {_num(d.get('rows'))} | "
                             f"{_num(d.get('columns'))} | {_code(d.get('sha256') or '—')} |")
            lines.append("")
    lines += ["## Metrics", ""]
    if card.get("metrics"):
        lines += ["Measured by this audit; each check in the report states how its interval was computed.", "",
                  "| check | metric | value | interval | status |", "|---|---|--:|---|---|"]
        for m in card["metrics"]:
            lines.append(f"| {_md(m['check'])} | {_md(m['name'])} ({_md(m['group'])}) | {_num(m.get('value'))} | "
                         f"{_num(m.get('ci_low'))} – {_num(m.get('ci_high'))} | {_md(m.get('status') or 'not judged')} |")
    else:
        lines.append("_No interval estimate was measured (no performance, calibration or fairness check ran)._")
    lines.append("")
    lines += ["## Limitations", ""]
    lines += [f"- {_md(x)}" for x in card.get("limitations") or []] or [not_given]
    if card.get("findings"):
        lines += ["", "Findings of this audit that limit the model:", ""]
        lines += [f"- **{_md(f['id'])}** {_md(f['title'])}: {_md(f['status'])}"
                  + (" (waived)" if f.get("waived") else "") + f" — {_md(f['summary'])}" for f in card["findings"]]
    lines.append("")
    lines += ["## Ethical considerations", ""]
    lines += [f"- {_md(x)}" for x in card.get("ethical_considerations") or []] or [not_given]
    lines.append("")
    sensitive = card.get("sensitive_features") or []
    lines.append(f"Sensitive attributes declared for the audit: {', '.join(_md(s) for s in sensitive)}." if sensitive
                 else "No sensitive attribute was declared for the audit, so fairness across groups was not assessed.")
    if card.get("fairness"):
        lines.append("")
    for f in card.get("fairness") or []:
        lines.append(f"- **{_md(f['id'])}** {_md(f['title'])}: {_md(f['status'])} — {_md(f['summary'])}")
    lines.append("")
    return "\n".join(lines)
