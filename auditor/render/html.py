"""The HTML report: one self-contained file drawn from the report dict.

All formatting and ordering happens here, in ``build_view``; the Jinja2 template only
loops and tests. Autoescaping is on for every template, so any string from the report
(column names, summaries, messages) is escaped. Figures are embedded as
``<img src="data:image/svg+xml;base64,...">``: an image's SVG cannot run script in the
page, whatever a hand-edited report.json holds.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from importlib import resources
from typing import Any

from auditor.render.common import (
    STATUS_LABELS,
    area_label,
    checks_by_area,
    format_cell,
    format_number,
    is_percent_name,
    is_waived,
    sample_text,
    skip_reason,
    waiver_text,
)
from auditor.render.governance import governance_view
from auditor.util.wording import shorten

TEMPLATE = "report.html.j2"
#: Longest error message a check's card shows (report.json keeps it whole).
MAX_ERROR_MESSAGE = 2000
STYLESHEET = "report.css"
SHA_SHORT = 12


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (inline CSS, no scripts, no URLs)."""
    return _render(report, media="screen")


def _render(report: dict[str, Any], *, media: str) -> str:
    import jinja2
    import markupsafe

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template(TEMPLATE)
    # The stylesheet is ours, not the report's: it is the one string not escaped.
    css = markupsafe.Markup(_read_resource(STYLESHEET))
    # ``report`` is there for included partials (the baseline diff) that read report.json fields directly.
    return template.render(view=build_view(report, media=media), css=css, report=report)


def _read_resource(name: str) -> str:
    return resources.files("auditor.templates").joinpath(name).read_text(encoding="utf-8")


def _load_template(name: str) -> str | None:
    # None tells Jinja the template does not exist (an optional partial, included with `ignore missing`).
    if not resources.files("auditor.templates").joinpath(name).is_file():
        return None
    return _read_resource(name)


# --------------------------------------------------------------------------------------
# The view: everything the template shows, already formatted.
# --------------------------------------------------------------------------------------

def build_view(report: dict[str, Any], *, media: str = "screen") -> dict[str, Any]:
    """Turn the report dict into the plain, pre-formatted data the template draws."""
    from auditor.contract.results import STATUSES

    inputs = report.get("inputs") or {}
    checks = list(report.get("checks") or [])
    grouped = checks_by_area(report)
    gate = report.get("gate") or {}

    counts = {s: 0 for s in STATUSES}
    for c in checks:
        if c.get("status") in counts:
            counts[c["status"]] += 1
    waived = sum(1 for c in checks if is_waived(c))

    sections = []
    for area, members in grouped:
        sections.append({
            "anchor": _anchor("area", area),
            "label": area_label(area),
            "area": area,
            "count": len(members),
            "tally": tally(members),
            "checks": [card_view(c) for c in members],
        })

    return {
        "media": media,
        "title": report.get("title") or "Model audit report",
        "created_at": _when(report.get("created_at")),
        "auditor_version": report.get("auditor_version") or "",
        "schema_version": report.get("schema_version") or "",
        "duration": _duration(report.get("duration_s")),
        "model": _model(inputs.get("model") or {}),
        "datasets": _datasets(inputs.get("datasets") or {}),
        "policy_input": _policy_input(inputs.get("policy") or {}),
        "task": _task(report.get("task") or {}),
        "verdict": verdict_view(gate),
        "counts": [{"status": s, "label": STATUS_LABELS[s], "count": counts[s]} for s in STATUSES],
        "waived_count": waived,
        "total": len(checks),
        "statuses": [{"status": s, "label": STATUS_LABELS[s]} for s in STATUSES],
        "area_rows": [_area_row(sec, grouped_members, STATUSES)
                      for sec, (_, grouped_members) in zip(sections, grouped)],
        "reasons": [str(r) for r in gate.get("reasons") or []],
        "undecided": [str(r) for r in gate.get("undecided") or []],
        "baselined": [str(r) for r in gate.get("baselined") or []],
        "scope": _scope(report.get("coverage") or {}) + row_scope(report),
        "notes": [str(n) for n in report.get("notes") or []],
        "sections": sections,
        "ethics": _ethics(report),
        "appendix": _appendix(report),
        "gov": governance_view(report),
    }


def _anchor(prefix: str, name: str) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-").lower()


def tally(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The non-zero status counts of a group of checks, worst first."""
    from auditor.contract.results import STATUS_RANK

    seen: dict[str, int] = {}
    for c in members:
        seen[c.get("status")] = seen.get(c.get("status"), 0) + 1
    order = sorted(seen, key=lambda s: -STATUS_RANK.get(s, -1))
    return [{"status": s, "label": STATUS_LABELS.get(s, str(s)), "count": seen[s]} for s in order]


def _area_row(section: dict[str, Any], members: list[dict[str, Any]], statuses) -> dict[str, Any]:
    cells = []
    for s in statuses:
        n = sum(1 for c in members if c.get("status") == s)
        cells.append({"status": s, "count": n, "text": str(n) if n else "·"})
    return {"label": section["label"], "anchor": section["anchor"], "cells": cells, "total": len(members)}


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() == 0:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M") + (moment.strftime(" %z") if offset is not None else "")


def _duration(value: Any) -> str:
    if value is None:
        return ""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return str(value)
    if seconds < 0.01:
        return "< 0.01 s"
    if seconds < 60:
        return f"{format_number(seconds)} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def _short_sha(sha: Any) -> str:
    return str(sha)[:SHA_SHORT] if sha else "—"


def _model(model: dict[str, Any]) -> dict[str, Any]:
    kind = model.get("kind") or "unknown"
    if kind == "predictions":
        parts = [f"prediction column {model['prediction_column']}"] if model.get("prediction_column") else []
        if model.get("score_column"):
            parts.append(f"score column {model['score_column']}")
        headline = "predictions file" + (f" ({', '.join(parts)})" if parts else "")
    else:
        headline = kind + (f" · {model['class']}" if model.get("class") else "")
    details = []
    if model.get("steps"):
        details.append(("steps", " → ".join(str(s) for s in model["steps"])))
    if model.get("n_features") is not None:
        details.append(("features", format_number(model["n_features"])))
    for other in model.get("compared_with") or []:
        sha = f" · sha256 {_short_sha(other.get('sha256'))}" if other.get("sha256") else ""
        details.append((f"compared with {other.get('name')}", f"{other.get('class') or other.get('kind')} · {other.get('path')}{sha}"))
    return {
        "headline": headline,
        "path": model.get("path") or model.get("source") or "",
        "sha": _short_sha(model.get("sha256")) if model.get("sha256") else "",
        "details": [{"label": k, "value": v} for k, v in details],
    }


def _datasets(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    order = {"train": 0, "validation": 1, "test": 2, "current": 3}
    for role in sorted(datasets, key=lambda r: (order.get(r, 9), r)):
        d = datasets[role] or {}
        shape = ""
        if d.get("rows") is not None and d.get("columns") is not None:
            shape = f"{format_number(d['rows'])} × {format_number(d['columns'])}"
        elif d.get("rows") is not None:
            shape = f"{format_number(d['rows'])} rows"
        rows.append({"role": role, "path": d.get("path") or d.get("source") or "", "shape": shape,
                     "sha": _short_sha(d.get("sha256")) if d.get("sha256") else ""})
    return rows


def _policy_input(policy: dict[str, Any]) -> dict[str, str]:
    if not policy.get("path"):
        return {"path": "built-in defaults", "sha": ""}
    return {"path": str(policy["path"]), "sha": _short_sha(policy.get("sha256")) if policy.get("sha256") else ""}


def _task(task: dict[str, Any]) -> dict[str, Any]:
    kind = task.get("type") or "unknown"
    headline = kind + (" (inferred)" if task.get("inferred") else "")
    details = []
    if task.get("target"):
        details.append(("target", str(task["target"])))
    if task.get("positive_label") is not None:
        details.append(("positive label", str(task["positive_label"])))
    if task.get("type") == "binary" and task.get("sensitive"):
        favourable = task.get("favourable_label")
        details.append(("favourable outcome", str(favourable) if favourable is not None else "not declared"))
    if task.get("classes") and len(task["classes"]) <= 12:
        details.append(("classes", ", ".join(str(c) for c in task["classes"])))
    if task.get("features"):
        details.append(("features", format_number(len(task["features"]))))
    details.append(("sensitive", ", ".join(str(s) for s in task["sensitive"]) if task.get("sensitive") else "none declared"))
    for key in ("id_column", "group_column", "time_column"):
        if task.get(key):
            details.append((key.replace("_", " "), str(task[key])))
    return {"headline": headline, "details": [{"label": k, "value": v} for k, v in details]}


def _ethics(report: dict[str, Any]) -> dict[str, Any]:
    """Fairness, privacy, transparency and accountability in one place, for a non-technical reader."""
    checks = list(report.get("checks") or [])
    task = report.get("task") or {}
    inputs = report.get("inputs") or {}
    datasets = inputs.get("datasets") or {}
    sensitive = [str(s) for s in task.get("sensitive") or []]
    features = [str(f) for f in task.get("features") or []]

    def lines(area: str) -> list[dict[str, str]]:
        return [{
            "anchor": _anchor("check", c.get("id") or ""),
            "id": str(c.get("id") or ""),
            "title": str(c.get("title") or c.get("name") or ""),
            "status": str(c.get("status") or ""),
            "status_label": STATUS_LABELS.get(c.get("status"), str(c.get("status"))),
            "summary": skip_reason(c) if c.get("status") == "skipped" else str(c.get("summary") or ""),
        } for c in checks if c.get("area") == area]

    fairness, privacy = lines("fairness"), lines("privacy")
    if not sensitive:
        fairness_note = "No sensitive attribute was declared (--sensitive), so fairness across groups was not assessed."
    elif not fairness:
        fairness_note = f"Sensitive attributes declared: {', '.join(sensitive)}; no fairness check ran on them."
    else:
        fairness_note = f"Sensitive attributes declared: {', '.join(sensitive)}."
    if sensitive and task.get("type") == "binary":
        favourable = task.get("favourable_label")
        fairness_note += (f" Selection rates count the favourable outcome {favourable!s}." if favourable is not None else
                          " No favourable outcome was declared (--favourable-label or the policy's favourable_label): "
                          "selection-rate measures were judged in both orientations, the worse counting.")
    used = [s for s in sensitive if s in features]
    transparency = [
        f"The model uses {len(features)} input{'s' if len(features) != 1 else ''}: {', '.join(features[:30])}"
        + (f" and {len(features) - 30} more" if len(features) > 30 else "") + ".",
        (f"Sensitive attributes among its inputs: {', '.join(used)}." if used
         else "No declared sensitive attribute is among its inputs." if sensitive else
         "No sensitive attribute was declared."),
    ]
    for role, text in (("train", "It was trained on"), ("test", "It was evaluated on"), ("current", "Production sample")):
        d = datasets.get(role)
        if d:
            transparency.append(f"{text} {d.get('path')} ({format_number(d.get('rows'))} rows).")
    if task.get("type"):
        transparency.append(
            f"Task: {task['type']}{' (inferred)' if task.get('inferred') else ''}, target {task.get('target')}"
            + (f", positive label {task.get('positive_label')}" if task.get("positive_label") is not None else "") + "."
        )
    waivers = [{
        "id": str(c.get("id")), "status": STATUS_LABELS.get(c.get("status"), str(c.get("status"))),
        "text": waiver_text(c), "active": is_waived(c),
    } for c in checks if c.get("waiver")]
    return {
        "fairness_note": fairness_note,
        "fairness": fairness,
        "privacy": privacy,
        "transparency": transparency,
        "waivers": waivers,
        "gate": "passed" if (report.get("gate") or {}).get("passed") else "failed",
    }


def _scope(coverage: dict[str, Any]) -> list[dict[str, str]]:
    """The audit's scope as labelled lines: what was assessed and what was not."""
    lines = []
    for key, label in (
        ("assessed", "Assessed"),
        ("skipped", "Not assessed: every check skipped (see each check's reason)"),
        ("not_selected", "Not assessed: excluded by the policy"),
        ("not_installed", "Not assessed: no installed check covers it"),
    ):
        areas = coverage.get(key) or []
        if areas:
            lines.append({"label": label, "areas": ", ".join(area_label(a) for a in areas), "kind": key})
    return lines


def row_scope(report: dict[str, Any]) -> list[dict[str, str]]:
    """Which checks read every row and which a sample (and how large), as scope lines.

    Under a distributed engine (Spark) both are listed; in memory only the sampled ones, as
    every other check reads the whole tables."""
    distributed = (report.get("engine") or {}).get("name") == "spark"
    whole, sampled = [], []
    for check in report.get("checks") or []:
        if check.get("status") == "skipped":
            continue
        sample = check.get("sample") or {}
        used, available = sample.get("rows_used"), sample.get("rows_available")
        if used is not None and available is not None and used < available:
            sampled.append(f"{check['id']} ({sample_text(sample)})")
        else:
            whole.append(str(check["id"]))
    lines = []
    if distributed and whole:
        lines.append({"label": "On every row (statistics computed by Spark, or a sample that holds the whole table)",
                      "areas": ", ".join(whole), "kind": "rows-all"})
    if sampled:
        lines.append({"label": "On a seeded sample drawn on the cluster" if distributed else "On a seeded sample",
                      "areas": "; ".join(sampled), "kind": "rows-sample"})
    return lines


def verdict_view(gate: dict[str, Any]) -> dict[str, Any]:
    passed = bool(gate.get("passed"))
    return {
        "passed": passed,
        "label": "Gate passed" if passed else "Gate failed",
        "word": "Passed" if passed else "Failed",
        "css": "passed" if passed else "failed",
        "exit_code": gate.get("exit_code", "—"),
        "fail_on": gate.get("fail_on") or "—",
        "allow_errors": "yes" if gate.get("allow_errors") else "no",
    }


def card_view(check: dict[str, Any]) -> dict[str, Any]:
    from auditor.reportdata.practices import format_practice

    status = check.get("status") or "error"
    waiver = check.get("waiver")
    waiver_view = None
    if waiver:
        waiver_view = {
            "active": is_waived(check),
            "badge": "Waived" if is_waived(check) else "Waiver expired" if waiver.get("expired") else "Waiver inactive",
            "text": waiver_text(check),
        }
    error = check.get("error")
    error_view = None
    if error:
        error_view = {
            "type": str(error.get("type") or "Error"),
            # a model's own message can list thousands of values; report.json keeps it whole
            "message": shorten(error.get("message") or "", MAX_ERROR_MESSAGE),
            "traceback": str(error.get("traceback") or ""),
        }
    meta = []
    sample = sample_text(check.get("sample"))
    if sample:
        meta.append({"label": "Sample", "value": sample})
    params = check.get("params") or {}
    if params:
        meta.append({"label": "Parameters", "value": "; ".join(f"{k} = {_param(v)}" for k, v in params.items())})
    if check.get("duration_s") is not None:
        meta.append({"label": "Duration", "value": _duration(check.get("duration_s"))})
    if check.get("source"):
        meta.append({"label": "Source", "value": str(check["source"])})
    if check.get("warnings"):
        meta.append({"label": "Library warnings", "value": "; ".join(str(w) for w in check["warnings"])})
    return {
        "anchor": _anchor("check", check.get("id") or ""),
        "id": str(check.get("id") or ""),
        "name": str(check.get("name") or ""),
        "title": str(check.get("title") or ""),
        "status": status,
        "status_label": STATUS_LABELS.get(status, str(status)),
        "severity": str(check.get("severity") or ""),
        "waiver": waiver_view,
        "summary": skip_reason(check) if status == "skipped" else str(check.get("summary") or ""),
        "skipped": status == "skipped",
        "metrics": [_metric_row(name, m) for name, m in (check.get("metrics") or {}).items()],
        "evidence": [_evidence(e) for e in check.get("evidence") or []],
        "figures": [_figure(f) for f in check.get("figures") or [] if f.get("svg")],
        "recommendation": str(check.get("recommendation") or ""),
        "what": str((check.get("about") or {}).get("what") or ""),
        "practices": [format_practice(str(p)) for p in check.get("practices") or []],
        "references": [str(r) for r in check.get("references") or []],
        "error": error_view,
        "meta": meta,
    }


def _param(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _metric_row(name: str, metric: Any) -> dict[str, Any]:
    if not isinstance(metric, dict):
        metric = {"value": metric}
    percent = is_percent_name(name)
    value = metric.get("value")
    low, high = metric.get("ci_low"), metric.get("ci_high")
    ci = f"{format_number(low, percent=percent, trim=False)} – {format_number(high, percent=percent, trim=False)}" \
        if low is not None and high is not None else "—"
    th = metric.get("threshold") or {}
    symbol = {"above": ">", "below": "<"}.get(th.get("direction"), str(th.get("direction") or ""))
    warn = f"{symbol} {format_number(th['warn'], percent=percent, trim=True)}" if th.get("warn") is not None else "—"
    fail = f"{symbol} {format_number(th['fail'], percent=percent, trim=True)}" if th.get("fail") is not None else "—"
    status = metric.get("status")
    shown = format_number(value, percent=percent, trim=False)
    description = str(metric.get("description") or "")
    if metric.get("adjusted") is not None:
        # A p-value: judged on its audit-wide corrected value, shown beside the raw one.
        shown = f"{format_number(metric['adjusted'], trim=False)} adj."
        description = (description + "; " if description else "") + f"raw p = {format_number(value, trim=False)}, corrected across the audit"
    if metric.get("decided"):
        # What an undecided metric's interval does decide (auditor.engine.thresholds).
        description = (description + "; " if description else "") + f"undecided: {metric['decided']}"
    return {
        "name": str(name),
        "description": description,
        "value": shown,
        "ci": ci,
        "warn": warn,
        "fail": fail,
        "status": status or "",
        "status_label": STATUS_LABELS.get(status, str(status)) if status else "",
    }


def _evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    names = [str(c) for c in evidence.get("columns") or []]
    raw_rows = [list(r) for r in evidence.get("rows") or []]
    width = max([len(names)] + [len(r) for r in raw_rows])
    names += [""] * (width - len(names))
    percent = [is_percent_name(c) for c in names]
    # A column is numeric (right-aligned, header too) when every value in it is a number.
    numeric = []
    for i in range(width):
        values = [r[i] for r in raw_rows if i < len(r) and r[i] is not None]
        numeric.append(bool(values) and all(_is_number(v) for v in values))
    rows = []
    for row in raw_rows:
        cells = []
        for i in range(width):
            value = row[i] if i < len(row) else None
            cells.append({"text": format_cell(value, percent=percent[i]), "numeric": numeric[i]})
        rows.append(cells)
    return {
        "title": str(evidence.get("title") or "Evidence"),
        "columns": [{"name": n, "numeric": numeric[i]} for i, n in enumerate(names)],
        "rows": rows,
        "note": str(evidence.get("note") or ""),
        "wide": width > 5,
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _figure(figure: dict[str, Any]) -> dict[str, str]:
    svg = str(figure.get("svg") or "")
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return {
        "src": "data:image/svg+xml;base64," + encoded,
        "title": str(figure.get("title") or "Figure"),
        "caption": str(figure.get("caption") or ""),
    }


def _appendix(report: dict[str, Any]) -> dict[str, Any]:
    env = report.get("environment") or {}
    packages = env.get("packages") or {}
    inputs = report.get("inputs") or {}
    hashes = []
    model = inputs.get("model") or {}
    if model.get("path") or model.get("sha256"):
        hashes.append({"role": "model", "path": str(model.get("path") or "—"), "sha": str(model.get("sha256") or "—")})
    for other in model.get("compared_with") or []:
        hashes.append({"role": f"model {other.get('name')}", "path": str(other.get("path") or "—"), "sha": str(other.get("sha256") or "—")})
    for d in _datasets(inputs.get("datasets") or {}):
        full = ((inputs.get("datasets") or {}).get(d["role"]) or {}).get("sha256")
        hashes.append({"role": d["role"], "path": d["path"] or "—", "sha": str(full or "—")})
    policy_in = inputs.get("policy") or {}
    if policy_in.get("path"):
        hashes.append({"role": "policy file", "path": str(policy_in["path"]), "sha": str(policy_in.get("sha256") or "—")})
    if report.get("policy_sha256"):
        hashes.append({"role": "effective policy", "path": "—", "sha": str(report["policy_sha256"])})
    plugins = [{
        "distribution": str(p.get("distribution") or ""),
        "version": str(p.get("version") or ""),
        "entry_point": str(p.get("entry_point") or ""),
        "checks": ", ".join(str(c) for c in p.get("checks") or []),
    } for p in report.get("plugins") or []]
    return {
        "environment": [{"label": "Python", "value": str(env.get("python") or "—")},
                        {"label": "Platform", "value": str(env.get("platform") or "—")},
                        {"label": "auditor", "value": str(report.get("auditor_version") or "—")},
                        {"label": "Report schema", "value": str(report.get("schema_version") or "—")},
                        {"label": "Seed", "value": str(report.get("seed", "—"))},
                        {"label": "Multiple testing", "value": _testing(report.get("multiple_testing") or {})},
                        {"label": "Run time", "value": _duration(report.get("duration_s")) or "—"}],
        "packages": [{"name": str(k), "version": str(v)} for k, v in sorted(packages.items())],
        "plugins": plugins,
        "hashes": hashes,
        "policy": _policy_text(report.get("policy")),
    }


def _testing(record: dict[str, Any]) -> str:
    names = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni", "none": "no correction"}
    method = names.get(str(record.get("method")), str(record.get("method") or "—"))
    return f"{method} over {record.get('tests', 0)} p-values"


def _policy_text(policy: Any) -> str:
    if not policy:
        return "(built-in defaults)"
    try:
        import yaml

        return yaml.safe_dump(policy, sort_keys=False, allow_unicode=True, default_flow_style=False, width=88)
    except Exception:  # yaml missing or a value it cannot represent: JSON says the same
        return json.dumps(policy, indent=2, ensure_ascii=False)
