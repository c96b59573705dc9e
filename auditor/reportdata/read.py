"""Reading a report.json back: is it one this version can render, and loading it as
``auditor render``, ``auditor diff`` and ``--baseline-report`` do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.util.errors import AuditInputError


def report_problem(report: Any) -> str | None:
    """Why a loaded report.json cannot be rendered, or None when it can."""
    from auditor.util.version import SCHEMA_VERSION

    if not isinstance(report, dict):
        return "the top level is not an object"
    missing = [k for k in ("schema_version", "checks", "gate", "inputs", "created_at") if k not in report]
    if missing:
        return f"it lacks {', '.join(missing)}"
    major = str(report["schema_version"]).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        return f"schema_version {report['schema_version']!r}; this auditor reads {SCHEMA_VERSION.split('.')[0]}.x"
    if not isinstance(report["checks"], list) or not all(isinstance(c, dict) and "id" in c and "status" in c for c in report["checks"]):
        return "checks must be a list of results with id and status"
    gate = report["gate"]
    if not isinstance(gate, dict) or "passed" not in gate or "exit_code" not in gate:
        return "gate must record passed and exit_code"
    return None


def load_report(path: str | Path, *, role: str = "report") -> dict[str, Any]:
    """Read and validate a report.json as ``auditor render`` does; AuditInputError (exit 2) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"{role} file not found: {path}")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuditInputError(f"{role} {path} is not a valid report.json: {exc}") from None
    problem = report_problem(report)
    if problem:
        raise AuditInputError(f"{role} {path} is not an auditor report.json this version can read: {problem}")
    return report
