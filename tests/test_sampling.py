"""Honest sampling (issue #10): a check that computes on a sample says so.

Every built-in check that bounds its cost by a row-count parameter is run with that
bound below the data's size; its result must then record ``sample``: rows used, rows
available and the seed.
"""

from __future__ import annotations

import pytest

from auditor.engine.registry import load_registry
from tests.conftest import run_check
from tests.planted import clean_context

#: Parameters that cap the rows a check computes on.
ROW_PARAMS = ("max_rows", "reference_rows", "probe_rows", "permutation_rows", "consistency_rows",
              "sample_size", "mmd_rows")

#: Checks whose row bound applies to one task only; on this binary task they use every
#: row (linear work), and their ``sample`` says so.
TASK_BOUND = {"ST003": "max_rows bounds the regression bootstrap; the classification power analysis is linear"}


def _bounded_checks():
    registry = load_registry()
    return [registry.get(i).cls for i in registry.ids()
            if registry.get(i).builtin and any(p in registry.get(i).cls.params for p in ROW_PARAMS)]


@pytest.fixture(scope="module")
def ctx():
    return clean_context()


@pytest.mark.slow
@pytest.mark.parametrize("cls", _bounded_checks(), ids=lambda c: c.id)
def test_a_check_that_samples_records_its_sample(cls, ctx):
    bounds = {}
    for name in ROW_PARAMS:
        if name in cls.params:
            low = cls.params[name].low or 1
            bounds[name] = max(int(low), 500)  # below the 3,000 rows of every dataset
    available = {role: len(frame) for role, frame in ctx.datasets.items()}
    findings, status = run_check(cls, ctx, **bounds)
    if status == "skipped" or (status == "inconclusive" and not findings.sample):
        pytest.skip(f"{cls.id}: {findings.summary}")
    sample = findings.sample
    assert sample, f"{cls.id} computed with a row bound below the data but recorded no sample"
    assert {"rows_used", "rows_available", "seed"} <= set(sample), sample
    assert 0 < sample["rows_used"] <= sample["rows_available"] <= sum(available.values())
    if cls.id not in TASK_BOUND:
        assert sample["rows_used"] < sample["rows_available"], f"{cls.id} claims all rows: {sample}"
