"""The model card: what the model is for, on what data, with what limits.

Two sources meet here. The user writes the parts no audit can compute in the policy's
``model_card:`` block (intended use, out-of-scope uses, training and evaluation data,
limitations, ethical considerations); the audit supplies the facts it measured (the
model and data files with their SHA-256, the task, the test metrics with their
intervals, the findings that limit the model, the fairness results).

:func:`build_model_card` joins them into report.json's ``model_card`` field, a plain
JSON-ready dict; :func:`model_card_markdown` writes it as Markdown. Both read only
the report dict, so a card can be redrawn from any report.json. Validation of the
policy block (:func:`validate_model_card`) lives here too, next to the field list,
and raises :class:`~auditor.errors.PolicyError` with the same message shapes as the
rest of the policy.

Nothing heavy is imported here: the policy module (and so the CLI) imports it.
"""

from __future__ import annotations

from typing import Any

from auditor.errors import PolicyError, did_you_mean

#: Fields the user writes, in the order a card shows them.
MODEL_CARD_KEYS: tuple[str, ...] = (
    "name",
    "version",
    "description",
    "owners",
    "intended_use",
    "out_of_scope_uses",
    "training_data",
    "evaluation_data",
    "limitations",
    "ethical_considerations",
)
#: Fields a reviewer cannot do without: each one missing is a GV001 finding.
REQUIRED_FIELDS: tuple[str, ...] = (
    "intended_use",
    "out_of_scope_uses",
    "training_data",
    "evaluation_data",
    "limitations",
    "ethical_considerations",
)
#: Fields that hold several items (a YAML list, or one text for a single item).
LIST_FIELDS: frozenset[str] = frozenset({"owners", "out_of_scope_uses", "limitations", "ethical_considerations"})

FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "version": "Version",
    "description": "Description",
    "owners": "Owners",
    "intended_use": "Intended use",
    "out_of_scope_uses": "Out-of-scope uses",
    "training_data": "Training data",
    "evaluation_data": "Evaluation data",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
}

#: Checks whose interval estimates a card reports, with the heading they are shown under.
CARD_METRIC_CHECKS: dict[str, str] = {
    "ST001": "performance on the test set",
    "CA001": "calibration",
    "OF001": "generalisation (train minus test)",
    "FR002": "fairness (worst sensitive attribute)",
}
#: Statuses that make a finding a limitation the card lists.
LIMITING_STATUSES: tuple[str, ...] = ("fail", "error", "inconclusive", "warn")



def validate_model_card(raw: Any, where: str) -> dict[str, Any]:
    """The policy's ``model_card`` block, checked and normalised (list fields become lists).

    An unknown key is an error naming it with the nearest valid one; a value of the
    wrong type is an error that says what was expected. Missing fields are allowed
    here: they are a governance finding (GV001), not a reason to refuse the policy.
    """
    base = f"{where}: model_card"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{base} must be a mapping with keys {list(MODEL_CARD_KEYS)}; got {raw!r}.")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in MODEL_CARD_KEYS:
            raise PolicyError(f"{base}: unknown key {key!r}{did_you_mean(key, MODEL_CARD_KEYS)}")
        if value is None:
            continue
        if key == "version" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # `version: 2` or `version: 1.4` in YAML means the text a person typed
        if key in LIST_FIELDS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise PolicyError(f"{base}.{key} must be text or a list of texts; got {value!r}.")
            items = [v.strip() for v in items if v.strip()]
            if items:
                out[key] = items
        else:
            if not isinstance(value, str):
                raise PolicyError(f"{base}.{key} must be text; got {value!r}.")
            if value.strip():
                out[key] = value.strip()
    return out


def missing_fields(card: dict[str, Any] | None) -> list[str]:
    """The required fields a user-written card leaves out or leaves empty."""
    card = card or {}
    return [key for key in REQUIRED_FIELDS if not card.get(key)]


# --------------------------------------------------------------------------------------
# Building the card from a report
# --------------------------------------------------------------------------------------

def _file_name(path: Any) -> str:
    return str(path or "").replace("\\", "/").rstrip("/").split("/")[-1]


def _dataset(role: str, d: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "path": d.get("path"), "rows": d.get("rows"), "columns": d.get("columns"),
            "sha256": d.get("sha256")}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def build_model_card(report: dict[str, Any]) -> dict[str, Any]:
    """The model card of a report: the user's text from ``report["policy"]["model_card"]``
    beside the facts the audit computed. A plain JSON-ready dict."""
    policy = report.get("policy") or {}
    try:  # report.json holds the policy as written; read its card as the validator does
        user = validate_model_card(policy.get("model_card"), "report.json policy")
    except PolicyError:  # a hand-edited report: show the computed facts only
        user = {}
    inputs = report.get("inputs") or {}
    model = inputs.get("model") or {}
    datasets = inputs.get("datasets") or {}
    task = report.get("task") or {}
    gate = report.get("gate") or {}
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]

    metrics = []
    order = list(CARD_METRIC_CHECKS)
    for c in sorted((c for c in checks if str(c.get("id")) in CARD_METRIC_CHECKS), key=lambda c: order.index(str(c["id"]))):
        group = CARD_METRIC_CHECKS.get(str(c.get("id")))
        if group is None or c.get("status") in ("skipped", "error"):
            continue
        for name, m in (c.get("metrics") or {}).items():
            if not isinstance(m, dict) or m.get("ci_low") is None or m.get("ci_high") is None:
                continue
            metrics.append({
                "check": c.get("id"), "group": group, "name": name, "description": m.get("description") or "",
                "value": m.get("value"), "ci_low": m.get("ci_low"), "ci_high": m.get("ci_high"),
                "status": m.get("status"),
            })

    findings = [{
        "id": c.get("id"), "title": c.get("title") or c.get("name"), "status": c.get("status"),
        "severity": c.get("severity"), "summary": c.get("summary") or "",
        "waived": bool((c.get("waiver") or {}).get("active")),
    } for c in checks if c.get("status") in LIMITING_STATUSES]
    findings.sort(key=lambda f: (LIMITING_STATUSES.index(f["status"]), str(f["id"])))

    fairness = [{"id": c.get("id"), "title": c.get("title") or c.get("name"), "status": c.get("status"),
                 "summary": c.get("summary") or ""} for c in checks if c.get("area") == "fairness"]

    return {
        "name": user.get("name") or _file_name(model.get("path")) or "model",
        "version": user.get("version"),
        "description": user.get("description"),
        "owners": _as_list(user.get("owners")),
        "intended_use": user.get("intended_use"),
        "out_of_scope_uses": _as_list(user.get("out_of_scope_uses")),
        "training_data": {
            "description": user.get("training_data"),
            "datasets": [_dataset(r, datasets[r]) for r in ("train", "validation") if isinstance(datasets.get(r), dict)],
        },
        "evaluation_data": {
            "description": user.get("evaluation_data"),
            "datasets": [_dataset(r, datasets[r]) for r in ("test", "current") if isinstance(datasets.get(r), dict)],
        },
        "metrics": metrics,
        "limitations": _as_list(user.get("limitations")),
        "findings": findings,
        "ethical_considerations": _as_list(user.get("ethical_considerations")),
        "sensitive_features": _as_list(task.get("sensitive")),
        "fairness": fairness,
        "model": {"path": model.get("path"), "kind": model.get("kind"), "class": model.get("class"),
                  "sha256": model.get("sha256")},
        "task": {"type": task.get("type"), "target": task.get("target"), "positive_label": task.get("positive_label"),
                 "features": len(task.get("features") or [])},
        "audit": {"created_at": report.get("created_at"), "auditor_version": report.get("auditor_version"),
                  "gate_passed": gate.get("passed"), "exit_code": gate.get("exit_code")},
        "missing": missing_fields(user),
        "provided_by_user": [k for k in MODEL_CARD_KEYS if user.get(k)],
    }


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------

def _md(text: Any) -> str:
    """Text for a Markdown paragraph or table cell: no raw HTML, no table breaks."""
    return (str(text).replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " ").strip())


def _code(text: Any) -> str:
    """Text for a Markdown code span: shown literally, so only backticks, pipes and line breaks matter."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ").strip() + "`"


def _num(value: Any) -> str:
    from auditor.render import format_number

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
