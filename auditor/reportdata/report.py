"""Assembling report.json: the canonical result every renderer reads."""

from __future__ import annotations

import datetime as dt
import platform
from collections import Counter
from importlib import metadata
from typing import Any

from auditor.contract.results import STATUSES, CheckResult, plain
from auditor.util.version import SCHEMA_VERSION, __version__

KEY_PACKAGES = (
    "numpy", "pandas", "scipy", "scikit-learn", "pyarrow", "skops", "joblib", "jinja2",
    "weasyprint", "matplotlib", "click", "pyyaml", "fairlearn", "aif360", "torch", "shap",
)


def environment() -> dict[str, Any]:
    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": packages}


def summarise(results: list[CheckResult]) -> dict[str, Any]:
    by_status = {s: 0 for s in STATUSES}
    by_status.update(Counter(r.status for r in results))
    by_area: dict[str, dict[str, int]] = {}
    for r in results:
        by_area.setdefault(r.area, {})
        by_area[r.area][r.status] = by_area[r.area].get(r.status, 0) + 1
    return {"total": len(results), "by_status": by_status, "by_area": by_area, "waived": sum(r.waived and r.status != "pass" for r in results)}


CORE_AREAS = (
    "data_quality", "leakage", "overfitting", "significance", "robustness", "drift", "fairness", "explainability",
)


def coverage(
    results: list[CheckResult],
    registered_areas: set[str],
    *,
    registered_clauses: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Which areas this audit assessed, which it could not, and which no installed check covers.

    ``registered_clauses`` (check ID -> ``Check.clauses``, for every installed check) gives
    ``not_selected_checks``: the installed checks that declare clauses but were not run
    (not selected by the policy, or opt-in), with those clauses. It is what the standards
    crosswalk counts as "mapped checks not in this audit".
    """
    ran = {r.area for r in results if r.status != "skipped"}
    planned = {r.area for r in results}
    planned_ids = {r.id for r in results}
    areas = list(CORE_AREAS) + sorted((planned | registered_areas) - set(CORE_AREAS))
    return {
        "assessed": [a for a in areas if a in ran],
        "skipped": [a for a in areas if a in planned and a not in ran],
        "not_selected": [a for a in areas if a in registered_areas and a not in planned],
        "not_installed": [a for a in CORE_AREAS if a not in registered_areas],
        "not_selected_checks": {cid: list(clauses) for cid, clauses in (registered_clauses or {}).items()
                                if clauses and cid not in planned_ids},
    }


def build_report(
    *,
    results: list[CheckResult],
    gate: dict[str, Any],
    inputs: dict[str, Any],
    task: dict[str, Any],
    policy: dict[str, Any],
    policy_sha256: str,
    plugins: list[dict[str, Any]],
    seed: int,
    notes: list[str],
    titles: dict[str, str],
    docs: dict[str, dict[str, str]],
    coverage: dict[str, Any],
    duration_s: float,
    multiple_testing: dict[str, Any] | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    created = created_at or dt.datetime.now(dt.timezone.utc)
    model = inputs.get("model", {})
    if model.get("path"):
        model_name = model["path"]
    elif model.get("kind") == "predictions":
        model_name = f"predictions column {model.get('prediction_column')!r}"
    else:  # a model object handed to the Python API
        model_name = str(model.get("class") or model.get("kind") or "model").rsplit(".", 1)[-1] + " (in memory)"
    checks = []
    for r in results:
        d = r.to_dict()
        d["title"] = titles.get(r.id, r.name)
        d["about"] = docs.get(r.id, {})
        checks.append(d)
    return plain(
        {
            "schema_version": SCHEMA_VERSION,
            "auditor_version": __version__,
            "created_at": created.isoformat(timespec="seconds"),
            "title": f"Audit of {str(model_name).replace(chr(92), '/').split('/')[-1]}",
            "inputs": inputs,
            "task": task,
            "environment": environment(),
            "plugins": plugins,
            "policy": policy,
            "policy_sha256": policy_sha256,
            "seed": seed,
            "notes": notes,
            "summary": summarise(results),
            "coverage": coverage,
            "multiple_testing": multiple_testing or {"method": "none", "tests": 0},
            "gate": gate,
            "duration_s": round(duration_s, 3),
            "checks": checks,
        }
    )
