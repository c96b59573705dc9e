"""The model card: what the model is for, on what data, with what limits.

Two sources meet here. The user writes the parts no audit can compute in the policy's
``model_card:`` block (intended use, out-of-scope uses, training and evaluation data,
limitations, ethical considerations); the audit supplies the facts it measured (the
model and data files with their SHA-256, the task, the test metrics with their
intervals, the findings that limit the model, the fairness results).

:func:`build_model_card` joins them into report.json's ``model_card`` field, a plain
JSON-ready dict; ``auditor.render.model_card`` writes it as Markdown. Both read only
the report dict, so a card can be redrawn from any report.json. Validation of the
policy block (:func:`validate_model_card`) lives here too, next to the field list,
and raises :class:`~auditor.util.errors.PolicyError` with the same message shapes as the
rest of the policy.

Nothing heavy is imported here: the policy module (and so the CLI) imports it.
"""

from __future__ import annotations

from typing import Any

from auditor.contract.model_card_fields import (  # noqa: F401  (the card's fields, re-exported)
    FIELD_LABELS,
    LIST_FIELDS,
    MODEL_CARD_KEYS,
    REQUIRED_FIELDS,
    missing_fields,
    validate_model_card,
)
from auditor.util.errors import PolicyError

#: Checks whose interval estimates a card reports, with the heading they are shown under.
CARD_METRIC_CHECKS: dict[str, str] = {
    "ST001": "performance on the test set",
    "CA001": "calibration",
    "OF001": "generalisation (train minus test)",
    "FR002": "fairness (worst sensitive attribute)",
}
#: Statuses that make a finding a limitation the card lists.
LIMITING_STATUSES: tuple[str, ...] = ("fail", "error", "inconclusive", "warn")



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
