"""Logging an audit to an existing MLflow run: the gate as tags, the metrics, the report files.

What lands on the run (``run_id``, in the local store ``tracking_uri`` or MLflow's own):

- tags: ``auditor.gate`` (``passed`` / ``failed``), ``auditor.exit_code``, ``auditor.version``,
  ``auditor.schema_version``, ``auditor.count.fail`` / ``.warn`` / ``.error`` (checks of each
  status) and ``auditor.blocking`` (the IDs that failed the gate, when any);
- metrics: for every check's metric with a numeric value, ``auditor.<CHECK_ID>.<metric>``,
  and ``.low`` / ``.high`` where it has an interval, all at step 0 and one timestamp;
- artifacts: each report file, under ``auditor/``.

Nothing is created: a run that does not exist (or was deleted) is an :class:`AuditInputError`,
and so is a store that does not exist, which MLflow would otherwise create empty. Only a
local store is written to, with the run's artifacts on this machine too (see
:func:`auditor.contract.adapters_mlflow.local_store`).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from auditor.contract.adapters_mlflow import import_mlflow, local_store, one_line
from auditor.util.errors import AuditInputError

ARTIFACT_PATH = "auditor"
TAG_PREFIX = METRIC_PREFIX = "auditor"
#: MLflow's limits: a key's length, a tag value's length (kept well under), metrics in one log_batch call.
MAX_KEY = 250
MAX_TAG_VALUE = 5000
MAX_BATCH_METRICS = 1000
COUNTED = ("fail", "warn", "error")

MSG_RUN_MISSING = "--mlflow-run {run_id!r}: no such run in the MLflow tracking store {uri!r} ({reason})"
MSG_RUN_DELETED = "--mlflow-run {run_id!r}: the run is deleted in the MLflow tracking store {uri!r}; restore it or name another"
MSG_FILE_MISSING = "--mlflow-run: the report file {name!r} to log does not exist: {path}"
MSG_ARTIFACTS_REMOTE = (
    "{what}: the run keeps its artifacts at {location!r}, not on this machine; auditor writes to local stores only"
)
MSG_STORE_UNUSABLE = "{what}: MLflow cannot open the tracking store {uri!r}: {reason}"

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_\-. ]")


def metric_key(*parts: str) -> str:
    """An MLflow key from ``parts`` joined by dots: every character MLflow refuses (anything but
    letters, digits, ``_ - .`` and space; ``/`` too, which MLflow reads as a path) becomes ``_``,
    and a key over MLflow's length limit is cut and ends in a hash of the whole, so it stays unique."""
    key = _NOT_ALLOWED.sub("_", ".".join(str(p) for p in parts)).strip()
    if len(key) > MAX_KEY:
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        key = f"{key[: MAX_KEY - 11]}_{digest}"
    return key


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def audit_tags(report: dict[str, Any]) -> dict[str, str]:
    """The tags an audit sets on a run (see the module's docstring)."""
    gate = report.get("gate") or {}
    by_status = (report.get("summary") or {}).get("by_status") or {}
    counts = {s: by_status.get(s, sum(1 for c in report.get("checks", []) if c.get("status") == s)) for s in COUNTED}
    tags = {
        f"{TAG_PREFIX}.gate": "passed" if gate.get("passed") else "failed",
        f"{TAG_PREFIX}.exit_code": str(gate.get("exit_code")),
        f"{TAG_PREFIX}.version": str(report.get("auditor_version")),
        f"{TAG_PREFIX}.schema_version": str(report.get("schema_version")),
        **{f"{TAG_PREFIX}.count.{status}": str(int(n)) for status, n in counts.items()},
    }
    if gate.get("blocking"):
        tags[f"{TAG_PREFIX}.blocking"] = ", ".join(str(b) for b in gate["blocking"])[:MAX_TAG_VALUE]
    return tags


def audit_metrics(report: dict[str, Any]) -> dict[str, float]:
    """Every check's numeric metrics with their interval bounds, keyed ``auditor.<ID>.<metric>[.low|.high]``.
    Two names that become the same key once sanitised keep the first; the second gets ``_2``."""
    metrics: dict[str, float] = {}

    def put(key: str, value: float) -> None:
        unique, n = key, 1
        while unique in metrics:
            n += 1
            unique = metric_key(f"{key}_{n}")
        metrics[unique] = value

    for check in report.get("checks", []):
        for name, metric in (check.get("metrics") or {}).items():
            entry = metric if isinstance(metric, dict) else {"value": metric}
            value = _number(entry.get("value"))
            if value is None:
                continue
            key = metric_key(METRIC_PREFIX, check.get("id", "?"), name)
            put(key, value)
            for bound, suffix in (("ci_low", "low"), ("ci_high", "high")):
                limit = _number(entry.get(bound))
                if limit is not None:
                    put(metric_key(key, suffix), limit)
    return metrics


def check_run(run_id: str, *, tracking_uri: str | None = None) -> tuple[Any, str]:
    """The MLflow client and tracking URI for logging to ``run_id``, or the one-line reason it
    cannot be done (no such run, a deleted one, a store that is not local, artifacts kept
    off this machine). The CLI calls it before the audit runs, so a bad run fails fast."""
    what = f"--mlflow-run {run_id!r}"
    mlflow = import_mlflow(f"logging to an MLflow run ({what})", error=AuditInputError)
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = tracking_uri or mlflow.get_tracking_uri()
    local_store(uri, what=what, error=AuditInputError)
    try:
        client = MlflowClient(tracking_uri=uri)
    except Exception as exc:  # noqa: BLE001 - a store MLflow cannot open (a missing driver, a refused file store)
        reason = getattr(exc, "message", None) or str(exc)
        raise AuditInputError(MSG_STORE_UNUSABLE.format(what=what, uri=uri, reason=f"{type(exc).__name__}: {one_line(reason)}")) from None
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise AuditInputError(MSG_RUN_MISSING.format(run_id=run_id, uri=uri, reason=one_line(exc.message))) from None
    if run.info.lifecycle_stage == "deleted":
        raise AuditInputError(MSG_RUN_DELETED.format(run_id=run_id, uri=uri))
    artifact_scheme = urlparse(run.info.artifact_uri or "").scheme.lower()
    if len(artifact_scheme) > 1 and artifact_scheme != "file":  # a one-letter scheme is a Windows drive
        raise AuditInputError(MSG_ARTIFACTS_REMOTE.format(what=what, location=run.info.artifact_uri))
    return client, uri


def log_audit(report: dict[str, Any], files: dict[str, Path], *, run_id: str, tracking_uri: str | None = None) -> dict[str, Any]:
    """Log the audit ``report`` (the report.json dict) and its ``files`` (name -> path) to the
    existing MLflow run ``run_id``; returns what was logged: ``{"run_id", "tracking_uri",
    "tags", "metrics", "artifacts", "artifact_path"}`` with counts."""
    what = f"--mlflow-run {run_id!r}"
    paths = {name: Path(path) for name, path in files.items()}
    for name, path in paths.items():
        if not path.is_file():
            raise AuditInputError(MSG_FILE_MISSING.format(name=name, path=path))
    client, uri = check_run(run_id, tracking_uri=tracking_uri)
    from mlflow.entities import Metric, RunTag
    from mlflow.exceptions import MlflowException

    tags = audit_tags(report)
    metrics = audit_metrics(report)
    now = int(time.time() * 1000)
    metric_rows = [Metric(key, value, now, 0) for key, value in metrics.items()]
    tag_rows = [RunTag(key, value) for key, value in tags.items()]
    try:
        client.log_batch(run_id, tags=tag_rows)
        for start in range(0, len(metric_rows), MAX_BATCH_METRICS):
            client.log_batch(run_id, metrics=metric_rows[start : start + MAX_BATCH_METRICS])
        for path in paths.values():
            client.log_artifact(run_id, str(path), artifact_path=ARTIFACT_PATH)
    except MlflowException as exc:
        raise AuditInputError(f"{what}: MLflow refused the audit: {one_line(exc.message)}") from None
    return {"run_id": run_id, "tracking_uri": uri, "tags": len(tags), "metrics": len(metrics),
            "artifacts": len(paths), "artifact_path": ARTIFACT_PATH}
