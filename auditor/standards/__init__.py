"""Standards crosswalk: which checks supply evidence for which clauses of a framework.

The frameworks are data (``*.yaml`` in this package, shipped in the wheel), one file per
framework: its clauses (EU AI Act articles, NIST AI RMF 1.0 MEASURE and MANAGE
subcategories, ISO/IEC 42001:2023 Annex A controls), each with a title and why it bears on
a model audit. Which checks supply evidence for a clause is not listed there: each check
declares it (``Check.clauses``, entries ``"<framework>:<clause id>"`` such as
``"eu_ai_act:Art. 9"``), the runner copies the declaration into the check's result, and
:func:`crosswalk` derives the tables from the report alone: per clause, the checks that
ran, grouped by status, and the installed checks declaring the clause that the audit did
not run (``coverage.not_selected_checks``). A new check, built-in or plugin, edits no
central list.

A report written before checks declared their clauses (no result has a ``clauses`` key)
is read with the frozen lists of ``legacy_checks.yaml``, so re-rendering it gives the
tables it had.

The crosswalk says which findings *bear on* a clause. It is not a legal assessment and
never says that a clause is met: every framework asks for far more (processes, people,
records) than a model audit measures. Declared clauses that no shipped framework has are
ignored; checks that declare no clause are simply absent from the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

#: Frameworks in the order a report shows them.
FRAMEWORK_FILES: tuple[str, ...] = ("eu_ai_act.yaml", "nist_ai_rmf.yaml", "iso_42001.yaml")
#: Frozen framework -> clause -> check IDs, only for reports that predate ``Check.clauses``.
LEGACY_FILE = "legacy_checks.yaml"

DISCLAIMER = (
    "These tables show which results of this audit supply evidence relevant to each clause. "
    "They are not a legal or certification assessment and do not state that any clause is met: "
    "each framework also requires processes, records and human decisions that a model audit does not measure."
)


def _read(name: str) -> Any:
    import yaml

    return yaml.safe_load(resources.files("auditor.standards").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_frameworks() -> tuple[dict[str, Any], ...]:
    """Every framework shipped with auditor and its clauses (``id``, ``title``, ``why``), as plain data."""
    out = []
    for name in FRAMEWORK_FILES:
        data = _read(name)
        out.append({
            "framework": str(data["framework"]),
            "name": str(data["name"]),
            "edition": str(data.get("edition") or ""),
            "clauses": [{"id": str(c["id"]), "title": str(c["title"]), "why": str(c.get("why") or "")}
                        for c in data["clauses"]],
        })
    return tuple(out)


def clause_keys() -> list[str]:
    """Every shipped clause as a check declares it, ``"<framework>:<clause id>"``, in report order."""
    return [f"{fw['framework']}:{c['id']}" for fw in load_frameworks() for c in fw["clauses"]]


@lru_cache(maxsize=1)
def legacy_checks() -> dict[str, dict[str, list[str]]]:
    """The frozen framework -> clause -> check IDs of ``legacy_checks.yaml`` (older reports only)."""
    data = _read(LEGACY_FILE)
    return {str(fw): {str(cid): [str(i) for i in ids or []] for cid, ids in clauses.items()}
            for fw, clauses in data.items()}


def _by_clause(declared: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """``(check ID, its clauses)`` pairs -> clause key -> check IDs, in the pairs' order, once each."""
    out: dict[str, list[str]] = {}
    for cid, clauses in declared:
        for key in clauses if isinstance(clauses, (list, tuple)) else ():
            ids = out.setdefault(str(key), [])
            if cid not in ids:
                ids.append(cid)
    return out


def checks_by_clause(classes: Iterable[type]) -> dict[str, list[str]]:
    """Clause key (``"eu_ai_act:Art. 9"``) -> the IDs of ``classes`` that declare it, in their order."""
    return _by_clause((cls.id, getattr(cls, "clauses", ())) for cls in classes)


def report_mapping(report: dict[str, Any]) -> dict[str, list[str]]:
    """Clause key -> the check IDs mapped to it for this report: those it ran, then those it did not.

    From the results' own ``clauses`` (in report order) and ``coverage.not_selected_checks``
    (installed checks the audit did not run); for a report without any ``clauses`` key, the
    frozen ``legacy_checks.yaml``.
    """
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    if not any("clauses" in c for c in checks):
        return {f"{fw}:{clause}": list(ids) for fw, clauses in legacy_checks().items() for clause, ids in clauses.items()}
    coverage = report.get("coverage")
    not_run = (coverage if isinstance(coverage, dict) else {}).get("not_selected_checks")
    return _by_clause([(str(c.get("id")), c.get("clauses")) for c in checks]
                      + [(str(cid), clauses) for cid, clauses in (not_run if isinstance(not_run, dict) else {}).items()])


def crosswalk(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per framework, per clause: the report's results for the mapped checks, grouped by status.

    A clause's ``checks`` are the IDs mapped to it (:func:`report_mapping`), ``present`` how
    many of them the report holds and ``absent`` the others. Its ``status`` is the worst
    status among its checks that ran (skipped ones aside), or ``None`` when none ran: there
    is no evidence for it in this audit. A ``fail`` or ``error`` that does not block the gate
    (waived, below ``fail_on``, or an allowed error) counts as ``warn`` for the clause: the
    clause fails only on a finding the audit's own gate holds against the model. The groups
    keep every real status, and ``softened`` lists the checks so counted.
    """
    from auditor.contract.results import STATUS_RANK, STATUSES

    results = {str(c.get("id")): c for c in report.get("checks") or [] if isinstance(c, dict)}
    mapping = report_mapping(report)
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
            mapped = mapping.get(f"{fw['framework']}:{clause['id']}", [])
            present = [cid for cid in mapped if cid in results]
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
            rows.append({**clause, "checks": mapped, "groups": groups, "status": worst, "present": len(present),
                         "softened": softened, "absent": [cid for cid in mapped if cid not in results]})
        frameworks.append({**fw, "clauses": rows})
    return frameworks
