"""FR003 group-sample-size (checks/fairness/fr003_group_sample_size.py): rows and positive labels
in each group."""

from __future__ import annotations

import numpy as np

from auditor.contract.context import AuditContext
from tests.checks.fairness.conftest import binary_ctx, metric, run
from tests.conftest import make_binary_frame
from tests.planted import _ctx, _with_group


def _fr_small_group() -> AuditContext:
    """A sensitive attribute with two groups, one of 12 test rows."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    for frame in ctx.datasets.values():
        frame["group"] = "A"
    ctx.datasets["test"].loc[:11, "group"] = "B"
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_fr_small_group, {"warn"})


def test_numeric_sensitive_feature_is_binned():
    ctx = binary_ctx()
    rng = np.random.default_rng(0)
    for frame in ctx.datasets.values():
        frame["age"] = rng.integers(18, 90, size=len(frame))
    ctx.sensitive = ["age"]
    result = run("FR003", ctx)
    assert metric(result, "groups")["value"] == 4
    assert all(r[1].startswith(("[", "(")) for r in result.evidence[0]["rows"])
