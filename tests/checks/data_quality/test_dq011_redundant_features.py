"""DQ011 redundant-features (checks/data_quality/dq011_redundant_features.py): strongly associated
(redundant) feature pairs."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import data_quality as dq
from auditor.contract.context import AuditContext
from tests.checks.data_quality.conftest import N, make_ctx, make_frame, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


def _redundant() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train["noise"] = train["x1"] * 3 + 1
    return _ctx(train, make_binary_frame(2000, seed=2))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_redundant, {"fail"})


# -- DQ011 redundant-features -----------------------------------------------------
def test_redundant_numeric_pair():
    rng = np.random.default_rng(7)
    train = make_frame()
    train["x1_copy"] = train["x1"] * 3 + rng.normal(0, 0.01, size=N)
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert value(findings, "max_association") > 0.99 and status == "fail"
    top = findings.evidence[0].rows[0]
    assert {top[0], top[1]} == {"x1", "x1_copy"} and top[2] == "|Spearman|"
    assert findings.sample == {"role": "train", "rows_used": N, "rows_available": N, "seed": make_ctx(train).seed_for("DQ011")}


def test_redundant_category_and_its_code():
    train = make_frame()
    train["size_code"] = train["size"].map({"S": 1, "M": 2, "L": 3}).astype(int)
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert value(findings, "max_association") == pytest.approx(1.0)
    top = findings.evidence[0].rows[0]
    assert {top[0], top[1]} == {"size", "size_code"} and top[2] == "Cramér's V"
    assert status == "fail"


def test_redundant_moderate_pair_warns_and_sampling_is_seeded():
    rng = np.random.default_rng(8)
    train = make_frame()
    train["x1_noisy"] = train["x1"] + rng.normal(0, 0.35, size=N)
    ctx = make_ctx(train)
    a, status = run(dq.RedundantFeatures, ctx, sample_size=400)
    b, _ = run(dq.RedundantFeatures, ctx, sample_size=400)
    assert 0.9 < value(a, "max_association") < 0.98 and status == "warn"
    assert a.sample["rows_used"] == 400 and a.sample["rows_available"] == N
    assert value(a, "max_association") == value(b, "max_association")


def test_redundant_high_cardinality_left_out_and_single_feature():
    train = make_frame()
    train["row_code"] = [f"r{i}" for i in range(N)]
    findings, status = run(dq.RedundantFeatures, make_ctx(train))
    assert status == "pass" and "'row_code'" in findings.evidence[0].note
    solo = make_frame()[["x1", "y"]]
    findings, status = run(dq.RedundantFeatures, make_ctx(solo))
    assert value(findings, "max_association") == 0 and status == "pass"
