"""SARIF 2.1.0: a rule per check, a result per finding, for code-scanning dashboards.

Results are emitted for ``fail``, ``warn``, ``inconclusive`` and ``error``; a waived
result carries an accepted external suppression, so SARIF viewers show it as
suppressed while keeping its real level. Findings are about data and models rather
than lines of code, so each result points at the dataset file(s) it was measured on.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from auditor.render.common import blocking_ids, dataset_paths, is_waived

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

RESULT_LEVELS = {"fail": "error", "error": "error", "warn": "warning", "inconclusive": "warning"}
SEVERITY_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def _uri(path: str) -> str:
    return quote(str(path).replace("\\", "/"), safe="/:@-._~")


def _utc(value: Any) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(*candidates: Any) -> str:
    for c in candidates:
        if c:
            return str(c)
    return "(no description)"


def _artifacts(report: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = report.get("inputs") or {}
    found = []
    for role, d in (inputs.get("datasets") or {}).items():
        if isinstance(d, dict) and d.get("path"):
            found.append((d["path"], d.get("sha256"), f"{role} dataset"))
    model = inputs.get("model") or {}
    if model.get("path"):
        found.append((model["path"], model.get("sha256"), "model"))
    artifacts = []
    for path, sha, role in found:
        artifact: dict[str, Any] = {"location": {"uri": _uri(path)}, "description": {"text": role}}
        if sha:
            artifact["hashes"] = {"sha-256": str(sha)}
        artifacts.append(artifact)
    return artifacts


def render_sarif(report: dict[str, Any]) -> str:
    """The report as a SARIF 2.1.0 log (JSON text)."""
    checks = list(report.get("checks") or [])
    artifacts = _artifacts(report)
    index_of = {a["location"]["uri"]: i for i, a in enumerate(artifacts)}

    targets = [_uri(p) for p in dataset_paths(report)]
    if not targets:
        targets = [a["location"]["uri"] for a in artifacts] or ["report.json"]
    locations = []
    for uri in targets:
        artifact_location: dict[str, Any] = {"uri": uri}
        if uri in index_of:
            artifact_location["index"] = index_of[uri]
        locations.append({"physicalLocation": {"artifactLocation": artifact_location}})

    # Failures the baseline audit already had (run --baseline-report) do not block: warnings,
    # marked unchanged, as code-scanning tools treat findings of an accepted baseline.
    baselined = {str(i) for i in (report.get("gate") or {}).get("baselined_ids") or []}
    blocking = blocking_ids(report) | (blocking_ids(report, ignore_waivers=True) - baselined)
    rules, results, notifications = [], [], []
    for index, check in enumerate(checks):
        cid = str(check.get("id") or f"CHECK{index}")
        severity = str(check.get("severity") or "medium")
        area = str(check.get("area") or "other")
        rule: dict[str, Any] = {
            "id": cid,
            "name": str(check.get("name") or cid),
            "shortDescription": {"text": _text(check.get("title"), check.get("name"), cid)},
            "fullDescription": {"text": _text((check.get("about") or {}).get("what"), check.get("title"), cid)},
            "defaultConfiguration": {"level": SEVERITY_LEVELS.get(severity, "warning")},
            "properties": {
                "area": area,
                "severity": severity,
                "practices": [str(p) for p in check.get("practices") or []],
                "tags": [area],
            },
        }
        how_to_fix = (check.get("about") or {}).get("how_to_fix")
        if how_to_fix:
            rule["help"] = {"text": str(how_to_fix)}
        rules.append(rule)

        status = check.get("status")
        if status not in RESULT_LEVELS:
            continue
        metrics = {str(name): (m.get("value") if isinstance(m, dict) else m)
                   for name, m in (check.get("metrics") or {}).items()}
        result: dict[str, Any] = {
            "ruleId": cid,
            "ruleIndex": index,
            # Only what blocks the gate (or would, but for its waiver) is an error.
            "level": "error" if cid in blocking else "warning",
            "kind": "fail",
            "message": {"text": _text(check.get("summary"), check.get("title"), f"{cid} {status}")},
            "locations": json.loads(json.dumps(locations)),
            "properties": {"status": status, "severity": severity, "area": area, "metrics": metrics},
        }
        if cid in baselined:
            result["baselineState"] = "unchanged"
        waiver = check.get("waiver")
        if waiver:
            result["properties"]["waiver"] = waiver
        if is_waived(check):
            result["suppressions"] = [{
                "kind": "external",
                "status": "accepted",
                "justification": _text(waiver.get("reason"), "waived"),
            }]
        results.append(result)
        if status == "error":
            err = check.get("error") or {}
            notifications.append({
                "level": "error",
                "message": {"text": f"{cid} raised {err.get('type') or 'an error'}: {err.get('message') or ''}".rstrip(": ")},
                "associatedRule": {"id": cid, "index": index},
            })

    gate = report.get("gate") or {}
    invocation: dict[str, Any] = {"executionSuccessful": not any(c.get("status") == "error" for c in checks)}
    if gate.get("exit_code") is not None:
        invocation["exitCode"] = int(gate["exit_code"])
    start = _utc(report.get("created_at"))
    if start:
        invocation["startTimeUtc"] = start
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    driver: dict[str, Any] = {"name": "auditor", "rules": rules}
    if report.get("auditor_version"):
        driver["version"] = str(report["auditor_version"])
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if artifacts:
        run["artifacts"] = artifacts
    run["results"] = results
    run["invocations"] = [invocation]
    run["properties"] = {
        "gate": gate,
        "schemaVersion": report.get("schema_version"),
        "policySha256": report.get("policy_sha256"),
        "seed": report.get("seed"),
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
