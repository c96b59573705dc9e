"""One contract test over the whole registry, parametrised by check ID.

Every registered check: a valid definition with the fixed doc sections, a planted
defect it catches, a clean control it passes, a result that survives a JSON round trip,
and the same result for the same seed.

Each check's planted defect lives beside its tests: ``PLANTED = (factory, expected
statuses)`` in ``tests/checks/<family>/test_<id>_<name>.py``, with ``REQUIRES`` naming
the optional package its case and clean control need, where one does.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from auditor.contract.check import DOC_SECTIONS, definition_problems
from auditor.contract.results import CheckResult
from auditor.engine.planning import plan_checks
from auditor.engine.policy import validate_policy
from auditor.engine.registry import load_registry
from auditor.engine.runner import available_needs, run_one
from tests.planted import clean_context

#: A check's test file is named after the check file: FR002's is test_fr002_disparities.py.
CHECK_TEST_FILE = re.compile(r"^test_([a-z]{2}\d{3})_\w+$")


def planted_cases() -> tuple[dict, dict, dict[str, list[str]]]:
    """The ``PLANTED`` case (and ``REQUIRES``) of every check test file under tests/checks/,
    keyed by the check ID its name starts with, and the modules that define each ID's case."""
    import tests.checks

    planted: dict = {}
    requires: dict = {}
    found: dict[str, list[str]] = {}
    for path in sorted(Path(tests.checks.__file__).parent.glob("*/test_*.py")):
        named = CHECK_TEST_FILE.match(path.stem)
        if named is None:  # a family's shared tests (test_common.py) and simulations hold no case
            continue
        module = importlib.import_module(f"tests.checks.{path.parent.name}.{path.stem}")
        if not hasattr(module, "PLANTED"):
            continue
        cid = named.group(1).upper()
        found.setdefault(cid, []).append(module.__name__)
        planted[cid] = module.PLANTED
        if hasattr(module, "REQUIRES"):
            requires[cid] = module.REQUIRES
    return planted, requires, found


PLANTED, REQUIRES, FOUND = planted_cases()

REGISTRY = load_registry()
BUILTIN = [cid for cid in REGISTRY.ids() if REGISTRY.get(cid).builtin]
# Checks whose planted case refits models (CP002's 5x2cv and corrected t tests, RB007's
# retraining): about a minute of the file's two; the everyday loop (-m "not slow") leaves
# their runs to CI.
SLOW = frozenset({"CP002", "RB007"})
RUNS = [pytest.param(cid, marks=pytest.mark.slow) if cid in SLOW else cid for cid in BUILTIN]
# Select every check by its exact ID so that opt-in checks are planned too.
PLANNED = {p.cls.id: p for p in plan_checks(REGISTRY, validate_policy({"select": BUILTIN}, REGISTRY))}


@pytest.fixture(scope="module")
def clean():
    return clean_context()


def _run(cid, ctx):
    return run_one(ctx, PLANNED[cid], available_needs(ctx))


def _without_timing(result: CheckResult) -> dict:
    d = result.to_dict()
    d.pop("duration_s")
    return d


@pytest.mark.parametrize("cid", BUILTIN)
def test_definition(cid):
    cls = REGISTRY.get(cid).cls
    assert definition_problems(cls) == []
    assert list(cls.doc_sections()) == list(DOC_SECTIONS)
    assert cls.thresholds, f"{cid} has no thresholded metric: it could never fail"
    assert cls.practices, f"{cid} cites no practice"


def test_every_builtin_check_has_a_planted_case():
    assert sorted(PLANTED) == sorted(BUILTIN)
    assert {cid: where for cid, where in FOUND.items() if len(where) > 1} == {}  # exactly one each


@pytest.mark.parametrize("cid", RUNS)
def test_planted_defect_is_caught(cid):
    factory, expected = PLANTED[cid]
    result = _run(cid, factory())
    assert result.status in expected, (result.status, result.summary, result.error)


@pytest.mark.parametrize("cid", RUNS)
def test_clean_control_passes(cid, clean):
    if cid in REQUIRES:
        pytest.importorskip(REQUIRES[cid])
    result = _run(cid, clean)
    assert result.status == "pass", (result.summary, result.metrics)


@pytest.mark.parametrize("cid", RUNS)
def test_result_survives_json_round_trip_and_is_reproducible(cid):
    factory, _ = PLANTED[cid]
    first = _run(cid, factory())
    text = json.dumps(first.to_dict(), allow_nan=False)
    again = CheckResult.from_dict(json.loads(text))
    assert again.to_dict() == first.to_dict()
    assert _without_timing(_run(cid, factory())) == _without_timing(first)
