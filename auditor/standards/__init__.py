"""Standards crosswalk: which checks supply evidence for which clauses of a framework.

The mappings are data (``*.yaml`` in this package, shipped in the wheel), one file per
framework: EU AI Act articles, NIST AI RMF 1.0 MEASURE and MANAGE subcategories,
ISO/IEC 42001:2023 Annex A controls. Each clause lists the check IDs whose results are
evidence for it. :func:`crosswalk` joins a report's results to the mappings: per clause,
the checks that ran, grouped by status.

The crosswalk says which findings *bear on* a clause. It is not a legal assessment and
never says that a clause is met: every framework asks for far more (processes, people,
records) than a model audit measures. IDs a report does not hold (checks not installed
or not selected) are counted, never an error; IDs in a report that no mapping names are
simply absent from the tables.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

#: Frameworks in the order a report shows them.
FRAMEWORK_FILES: tuple[str, ...] = ("eu_ai_act.yaml", "nist_ai_rmf.yaml", "iso_42001.yaml")

DISCLAIMER = (
    "These tables show which results of this audit supply evidence relevant to each clause. "
    "They are not a legal or certification assessment and do not state that any clause is met: "
    "each framework also requires processes, records and human decisions that a model audit does not measure."
)


@lru_cache(maxsize=1)
def load_frameworks() -> tuple[dict[str, Any], ...]:
    """Every framework mapping shipped with auditor, as plain data."""
    import yaml

    folder = resources.files("auditor.standards")
    out = []
    for name in FRAMEWORK_FILES:
        data = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8"))
        out.append({
            "framework": str(data["framework"]),
            "name": str(data["name"]),
            "edition": str(data.get("edition") or ""),
            "clauses": [{"id": str(c["id"]), "title": str(c["title"]), "why": str(c.get("why") or ""),
                         "checks": [str(i) for i in c.get("checks") or []]} for c in data["clauses"]],
        })
    return tuple(out)


def mapped_ids() -> dict[str, list[str]]:
    """Check ID -> the clauses (``"EU AI Act Art. 9"``) it supplies evidence for."""
    out: dict[str, list[str]] = {}
    for fw in load_frameworks():
        for clause in fw["clauses"]:
            for cid in clause["checks"]:
                out.setdefault(cid, []).append(f"{fw['name']} {clause['id']}")
    return out


def crosswalk(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per framework, per clause: the report's results for the mapped checks, grouped by status.

    A clause's ``status`` is the worst status among its checks that ran (skipped ones
    aside), or ``None`` when none ran: there is no evidence for it in this audit. A
    ``fail`` or ``error`` that does not block the gate (waived, below ``fail_on``, or an
    allowed error) counts as ``warn`` for the clause: the clause fails only on a finding
    the audit's own gate holds against the model. The groups keep every real status, and
    ``softened`` lists the checks so counted.
    """
    from auditor.contract.results import STATUS_RANK, STATUSES

    results = {str(c.get("id")): c for c in report.get("checks") or [] if isinstance(c, dict)}
    gate = report.get("gate") or {}
    # Reports of this version list what blocks; an older one without the list keeps the plain worst status.
    blocking = {str(i) for i in gate.get("blocking") or []} if "blocking" in gate else None

    def counted(cid: str) -> str:
        status = results[cid].get("status")
        if blocking is not None and status in ("fail", "error") and cid not in blocking:
            return "warn"
        return status
    frameworks = []
    for fw in load_frameworks():
        rows = []
        for clause in fw["clauses"]:
            present = [cid for cid in clause["checks"] if cid in results]
            groups = []
            for status in sorted(STATUSES, key=lambda s: -STATUS_RANK[s]):
                ids = [cid for cid in present if results[cid].get("status") == status]
                if ids:
                    groups.append({"status": status, "ids": ids})
            odd = [cid for cid in present if results[cid].get("status") not in STATUSES]
            if odd:
                groups.append({"status": "unknown", "ids": odd})
            ran = [counted(cid) for cid in present if results[cid].get("status") in STATUS_RANK
                   and results[cid].get("status") != "skipped"]
            worst = max(ran, key=lambda s: STATUS_RANK[s]) if ran else None
            softened = [cid for cid in present if counted(cid) != results[cid].get("status")]
            rows.append({**clause, "groups": groups, "status": worst, "present": len(present), "softened": softened,
                         "absent": [cid for cid in clause["checks"] if cid not in results]})
        frameworks.append({**fw, "clauses": rows})
    return frameworks
