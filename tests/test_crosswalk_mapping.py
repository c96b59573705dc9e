"""The standards crosswalk derived from each check's own ``clauses``.

Every built-in check names shipped clauses, every shipped clause has a built-in check, the
declarations reproduce the frozen lists the YAML files used to carry (legacy_checks.yaml),
a report of this version is mapped from its results alone (a plugin's clauses included,
no central file touched), and a report written before ``clauses`` existed keeps the
legacy mapping.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from auditor.contract.check import BUILTIN_ID_PATTERN, Check, Threshold, definition_problems
from auditor.contract.results import CheckResult, Findings, Metric
from auditor.engine.registry import Registered, Registry, load_registry
from auditor.reportdata.report import coverage
from auditor.standards import checks_by_clause, clause_keys, crosswalk, legacy_checks, load_frameworks, report_mapping
from tests.engine_checks import DOC
from tests.sample_report import build_sample_report

REGISTRY = load_registry()
BUILTINS = [REGISTRY.get(i).cls for i in REGISTRY.ids() if REGISTRY.get(i).builtin]


def _legacy_mapping() -> dict[str, list[str]]:
    return {f"{fw}:{clause}": ids for fw, clauses in legacy_checks().items() for clause, ids in clauses.items()}


def _unordered(frameworks: list[dict]) -> list[dict]:
    """The crosswalk with every list of IDs sorted: the derived one lists them in report order."""
    out = copy.deepcopy(frameworks)
    for fw in out:
        for row in fw["clauses"]:
            for key in ("checks", "absent", "softened"):
                row[key] = sorted(row[key])
            for group in row["groups"]:
                group["ids"] = sorted(group["ids"])
    return out


def _row(frameworks: list[dict], framework: str, clause: str) -> dict:
    fw = next(f for f in frameworks if f["framework"] == framework)
    return next(c for c in fw["clauses"] if c["id"] == clause)


# ---------------------------------------------------------------- the declarations

def test_every_builtin_clause_names_a_shipped_framework_and_clause():
    shipped = set(clause_keys())
    unknown = {cls.id: [c for c in cls.clauses if c not in shipped] for cls in BUILTINS}
    assert {cid: bad for cid, bad in unknown.items() if bad} == {}
    assert all(cls.clauses for cls in BUILTINS)
    assert len(BUILTINS) == 59


def test_every_shipped_clause_has_a_builtin_check():
    declared = checks_by_clause(BUILTINS)
    assert [key for key in clause_keys() if not declared.get(key)] == []
    assert len(clause_keys()) == 5 + 12 + 7


def test_the_declarations_reproduce_the_frozen_lists():
    declared = checks_by_clause(BUILTINS)
    legacy = _legacy_mapping()
    assert {k: sorted(v) for k, v in declared.items()} == {k: sorted(v) for k, v in legacy.items()}
    assert list(legacy) == clause_keys()  # the frozen file names exactly the shipped clauses


def test_the_framework_files_carry_no_check_lists():
    for fw in load_frameworks():
        assert fw["clauses"] and all(set(c) == {"id", "title", "why"} for c in fw["clauses"])


@pytest.mark.parametrize("clauses, message", [
    (("Art. 9",), "clauses entries must look like 'eu_ai_act:Art. 9' (framework:clause); got ['Art. 9']"),
    (("eu_ai_act: Art. 9", "EU:Art. 9"), "got ['eu_ai_act: Art. 9', 'EU:Art. 9']"),
    ("eu_ai_act:Art. 9", "clauses must be a tuple of texts such as ('eu_ai_act:Art. 9',); got 'eu_ai_act:Art. 9'"),
])
def test_a_malformed_clause_is_a_definition_problem(clauses, message):
    bad = type("Bad", (_AcmeRows,), {"clauses": clauses})
    assert any(message in p for p in definition_problems(bad))
    assert definition_problems(_AcmeRows) == []


# ---------------------------------------------------------------- deriving the crosswalk

def _with_declared_clauses(report: dict) -> dict:
    """``report`` as this version writes it: each result's clauses, the checks it did not run."""
    new = copy.deepcopy(report)
    known = {cls.id: cls for cls in BUILTINS}
    for check in new["checks"]:
        check["clauses"] = list(known[check["id"]].clauses) if check["id"] in known else []
    new["coverage"] = coverage([CheckResult.from_dict(c) for c in new["checks"]], {cls.area for cls in BUILTINS},
                               registered_clauses={cls.id: cls.clauses for cls in BUILTINS})
    return new


def test_derived_crosswalk_equals_the_legacy_crosswalk_for_the_sample_report():
    old_style = build_sample_report(with_figures=False)
    assert not any("clauses" in c for c in old_style["checks"])
    new_style = _with_declared_clauses(old_style)
    assert _unordered(crosswalk(new_style)) == _unordered(crosswalk(old_style))
    art10 = _row(crosswalk(new_style), "eu_ai_act", "Art. 10")
    # in report order, then the checks the audit did not run
    assert art10["checks"][:9] == ["DQ001", "DQ002", "DQ003", "DQ004", "DQ005", "LK002", "DR001", "FR001", "GV001"]
    assert art10["present"] == 9 and len(art10["absent"]) == 25 - 9


def test_a_report_without_clauses_keeps_the_legacy_mapping():
    report = {"checks": [{"id": "DQ001", "status": "fail"}, {"id": "GV001", "status": "pass"}], "gate": {}}
    assert report_mapping(report) == _legacy_mapping()
    art10 = _row(crosswalk(report), "eu_ai_act", "Art. 10")
    assert art10["checks"] == legacy_checks()["eu_ai_act"]["Art. 10"]  # the frozen order, as before
    assert [(g["status"], g["ids"]) for g in art10["groups"]] == [("fail", ["DQ001"]), ("pass", ["GV001"])]
    assert art10["present"] == 2 and len(art10["absent"]) == 23 and art10["status"] == "fail"


def test_a_report_with_clauses_ignores_the_legacy_lists():
    # DQ001 is in the frozen lists of three clauses; declaring only one, it shows under only that one.
    report = {"checks": [{"id": "DQ001", "status": "fail", "clauses": ["iso_42001:A.7.4", "eu_ai_act:Art. 99"]},
                         {"id": "DQ002", "status": "pass"}], "gate": {}}
    frameworks = crosswalk(report)
    assert _row(frameworks, "iso_42001", "A.7.4")["groups"] == [{"status": "fail", "ids": ["DQ001"]}]
    art10 = _row(frameworks, "eu_ai_act", "Art. 10")
    assert (art10["checks"], art10["groups"], art10["status"], art10["present"]) == ([], [], None, 0)
    # no coverage record (a hand-made report): nothing counted as absent
    assert all(not row["absent"] for fw in frameworks for row in fw["clauses"])


# ---------------------------------------------------------------- a plugin, through the engine

class _AcmeRows(Check):
    __doc__ = DOC.format(title="Enough test rows")
    id = "ACME101"
    name = "acme-test-rows"
    area = "significance"
    needs = frozenset({"test"})
    thresholds = {"test_rows": Threshold(direction="below", warn=100, fail=10)}
    # a framework auditor does not ship is allowed and simply not drawn
    clauses = ("eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.3", "acme_standard:4.2")

    def run(self, ctx, params):
        n = len(ctx.frame("test"))
        return Findings(summary=f"{n} test rows.", metrics={"test_rows": Metric(n)})


class _AcmeOptIn(_AcmeRows):
    __doc__ = DOC.format(title="Not run unless selected")
    id = "ACME102"
    name = "acme-opt-in"
    opt_in = True
    clauses = ("eu_ai_act:Art. 15",)


class _AcmeNoClauses(_AcmeRows):
    __doc__ = DOC.format(title="Declares no clause")
    id = "ACME103"
    name = "acme-no-clauses"
    opt_in = True
    clauses = ()


def _run(files, registry=None, overrides=None) -> dict:
    from auditor.app.audit import run_audit
    from auditor.contract.inputs import RunOptions

    opts = RunOptions(train=files["train"], test=files["test"], target="y", model=files["model"])
    report = run_audit(opts, registry=registry, overrides=overrides, today=dt.date(2026, 11, 27))
    return json.loads(json.dumps(report))  # as report.json holds it


def test_a_plugin_checks_clauses_reach_the_crosswalk_without_a_central_list(clean_audit_files):
    registry = Registry()
    for cls in (_AcmeRows, _AcmeOptIn, _AcmeNoClauses):
        registry.add(Registered(cls=cls, distribution="acme-audit", version="1.0", entry_point="acme"))
    report = _run(clean_audit_files, registry)
    assert [(c["id"], c["status"], c["clauses"]) for c in report["checks"]] == [
        ("ACME101", "pass", ["eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.3", "acme_standard:4.2"])]
    assert report["coverage"]["not_selected_checks"] == {"ACME102": ["eu_ai_act:Art. 15"]}
    frameworks = crosswalk(report)
    art15 = _row(frameworks, "eu_ai_act", "Art. 15")
    assert art15["groups"] == [{"status": "pass", "ids": ["ACME101"]}] and art15["status"] == "pass"
    assert art15["checks"] == ["ACME101", "ACME102"] and art15["present"] == 1 and art15["absent"] == ["ACME102"]
    measure23 = _row(frameworks, "nist_ai_rmf", "MEASURE 2.3")
    assert measure23["present"] == 1 and measure23["absent"] == []
    art9 = _row(frameworks, "eu_ai_act", "Art. 9")
    assert art9["checks"] == [] and art9["status"] is None
    from auditor.render import render

    page = render(report, "html")
    assert "1 mapped check not in this audit" in page


def test_absent_counts_the_installed_checks_the_audit_did_not_run(clean_audit_files):
    report = _run(clean_audit_files, overrides=["select=[DQ001, DQ002]"])
    assert [c["id"] for c in report["checks"]] == ["DQ001", "DQ002"]
    not_run = report["coverage"]["not_selected_checks"]
    assert {cid for cid in not_run if BUILTIN_ID_PATTERN.match(cid)} == {cls.id for cls in BUILTINS} - {"DQ001", "DQ002"}
    legacy = _legacy_mapping()
    for fw in crosswalk(report):
        for row in fw["clauses"]:
            key = f"{fw['framework']}:{row['id']}"
            builtin = {cid for cid in row["checks"] if BUILTIN_ID_PATTERN.match(cid)}
            assert builtin == set(legacy[key]), key  # the same checks as the frozen lists, live
            assert row["present"] == len({"DQ001", "DQ002"} & set(legacy[key])), key
    art10 = _row(crosswalk(report), "eu_ai_act", "Art. 10")
    assert art10["present"] == 2 and len([c for c in art10["absent"] if BUILTIN_ID_PATTERN.match(c)]) == 23
