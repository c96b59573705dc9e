"""LK002 near-duplicates (checks/leakage/lk002_near_duplicates.py): test rows that are near-copies
of training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import leakage as lk
from auditor.contract.context import AuditContext
from tests.checks.leakage.conftest import N, frames, make_ctx, value
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


# -- LK002 near-duplicates --------------------------------------------------------
def near_copies(train: pd.DataFrame, test: pd.DataFrame, n: int, *, scale: float = 1e-3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    copies = train.iloc[rng.choice(len(train), n, replace=False)].copy()
    for col in ("x1", "x2", "noise"):
        copies[col] = copies[col] + rng.normal(0, scale, n)
    return pd.concat([copies, test.iloc[n:]], ignore_index=True)


def _lk_near_duplicates() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    copies = train.iloc[:200].copy()  # 10% of test rows: train rows with tiny noise, so not exact copies
    copies[["x1", "x2", "noise"]] += np.random.default_rng(0).normal(0, 1e-3, size=(200, 3))
    return _ctx(train, pd.concat([copies, test.iloc[200:]]))


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_lk_near_duplicates, {"fail"})


def test_near_duplicates_ten_percent_fail():
    train, test = frames()
    findings, status = run(lk.NearDuplicates, make_ctx(train, near_copies(train, test, 200)))
    assert value(findings, "near_duplicate_excess") == pytest.approx(0.10, abs=0.01)
    assert status == "fail"
    m = findings.metrics["near_duplicate_excess"]
    assert m.ci_low < m.value < m.ci_high and m.ci_low > 0.05
    assert value(findings, "binomial_p_value") < 1e-10
    assert findings.sample["by_role"]["train"]["rows_used"] == N and findings.sample["by_role"]["test"]["rows_used"] == 1000
    assert findings.sample["rows_used"] == N + 1000
    closest = findings.evidence[1].rows
    assert len(closest) == 5 and closest[0][2] < 0.01
    # Exact copies are missed by nothing: LK001 sees them too, LK002 reads the same size.
    exact = pd.concat([train.iloc[:200], test.iloc[200:]], ignore_index=True)
    findings, _ = run(lk.NearDuplicates, make_ctx(train, exact))
    assert value(findings, "near_duplicate_excess") == pytest.approx(0.10, abs=0.01)


def test_near_duplicates_large_train_is_sampled():
    train, test = frames(6000, group=False, time=False)
    findings, status = run(lk.NearDuplicates, make_ctx(train, test), reference_rows=3000, probe_rows=500)
    assert status == "pass"
    assert value(findings, "reference_coverage") == 0.5 and "(50% of them)" in findings.summary
    assert findings.sample["by_role"] == {
        "train": {"rows_used": 3000, "rows_available": 6000, "seed": findings.sample["seed"]},
        "test": {"rows_used": 500, "rows_available": 6000, "seed": findings.sample["seed"]},
    }


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_near_duplicates_iid_seeds_pass(seed):
    train, test = make_binary_frame(N, seed=seed), make_binary_frame(N, seed=seed + 100)
    findings, status = run(lk.NearDuplicates, make_ctx(train, test))
    assert status == "pass" and abs(value(findings, "near_duplicate_excess")) < 0.015


def test_near_duplicates_discrete_features_are_calibrated():
    """Inputs with few distinct values tie at distance 0 in train as in test: no excess."""
    rng = np.random.default_rng(8)
    def make() -> pd.DataFrame:
        return pd.DataFrame({
            "a": rng.integers(0, 3, N), "b": rng.choice(["p", "q"], N), "c": rng.integers(0, 2, N), "y": rng.integers(0, 2, N),
        })

    findings, status = run(lk.NearDuplicates, make_ctx(make(), make(), features=["a", "b", "c"]))
    assert value(findings, "distance_threshold") == 0.0
    assert value(findings, "control_near_duplicate_rate") == 1.0 and status == "pass"


def test_different_seed_changes_samples_only():
    ctx = make_ctx(*frames())
    first, _ = run(lk.NearDuplicates, ctx)
    ctx.seed = 1
    second, status = run(lk.NearDuplicates, ctx)
    assert first.sample["seed"] != second.sample["seed"] and status == "pass"
