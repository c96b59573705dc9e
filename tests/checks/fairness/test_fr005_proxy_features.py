"""FR005 proxy-features (checks/fairness/fr005_proxy_features.py): inputs that stand in for a
sensitive attribute."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.contract.context import AuditContext
from tests.checks.fairness.conftest import binary_ctx, metric, run, with_group
from tests.conftest import make_binary_frame
from tests.planted import _ctx, _with_group


def _fr_proxy() -> AuditContext:
    """'group' is 'noise' above 5, with 10% of rows swapped: the input 'noise' recovers it."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    rng = np.random.default_rng(5)
    for frame in ctx.datasets.values():
        above = (frame["noise"] > 5).to_numpy() ^ (rng.uniform(size=len(frame)) < 0.1)
        frame["group"] = np.where(above, "B", "A")
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_fr_proxy, {"fail"})


# -- FR005 --------------------------------------------------------------------------------
def test_proxy_is_found():
    ctx = with_group(binary_ctx())
    rng = np.random.default_rng(5)
    for frame in ctx.datasets.values():
        frame["group"] = np.where((frame["noise"] > 5).to_numpy() ^ (rng.uniform(size=len(frame)) < 0.1), "B", "A")
    result = run("FR005", ctx)
    assert result.status == "fail"
    top = result.evidence[0]["rows"][0]
    assert top[:2] == ["group", "noise"] and top[2] == pytest.approx(0.9, abs=0.03)
    assert metric(result, "max_proxy_auc")["ci_low"] > 0.8
    # A categorical proxy for a three-group attribute (macro one-vs-rest AUC).
    for frame in ctx.datasets.values():
        frame["band"] = frame["colour"].map({"red": "r", "green": "g", "blue": "b"})
    ctx.sensitive = ["band"]
    result = run("FR005", ctx)
    assert result.evidence[0]["rows"][0][:2] == ["band", "colour"] and result.evidence[0]["rows"][0][2] == pytest.approx(1.0)
