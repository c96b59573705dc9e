"""Slow simulations of the drift checks' error rates (run in CI with ``-m slow``).

* False alarms: over repeated pairs of samples from one distribution, the share of runs
  in which DR001 flags ANY of its ten columns (the family-wise false-alarm rate) is at
  most the nominal 5%, and so is the share of runs in which any column is merely
  significant after the Benjamini-Hochberg correction (the PSI cut-off aside).
* Power: a one-standard-deviation shift in 3 of 10 columns at 2,000 rows is caught, with
  exactly those three columns flagged, in at least 95% of runs.
* Negligible shifts: a 0.02 standard-deviation shift of every column on 1,000,000 rows is
  highly significant and not flagged.
* DR002's domain-classifier p-value keeps its level on identical samples.

Figures are switched off (``_distribution_figure`` replaced): they are presentation, not
statistics, and drawing them would dominate the run time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import drift as dr
from auditor.contract.context import AuditContext
from auditor.contract.results import Figure
from tests.conftest import run_check

pytestmark = pytest.mark.slow

COLUMNS = [f"f{i}" for i in range(10)]
ALPHA = 0.05


@pytest.fixture(autouse=True)
def no_figures(monkeypatch):
    # DR001 draws the distribution figures (DR002 draws none): off in its own module. The stub
    # gives an empty Figure, not None: the engine serialises every figure a check returns.
    monkeypatch.setattr(dr.dr001_feature_drift, "_distribution_figure", lambda *args, **kwargs: Figure(title="", svg=""))


def _frame(rng: np.random.Generator, n: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rng.standard_normal((n, len(COLUMNS))), columns=COLUMNS)
    for col, delta in (shift or {}).items():
        frame[col] += delta
    return frame


def _run(reference: pd.DataFrame, current: pd.DataFrame, cls=dr.FeatureDrift, **overrides):
    ctx = AuditContext(datasets={"train": reference, "test": reference.iloc[:10], "current": current}, target="y",
                       task="binary", features=list(reference.columns), positive_label=1, classes=[0, 1], seed=0)
    return run_check(cls, ctx, **overrides)


def _upper(rate: float, runs: int) -> float:
    """The nominal rate plus two Monte Carlo standard errors."""
    return rate + 2 * np.sqrt(rate * (1 - rate) / runs)


@pytest.mark.parametrize("n_reference, n_current", [(2000, 2000), (2000, 100)])
def test_feature_drift_false_alarm_rate_is_at_most_nominal(n_reference, n_current):
    runs = 200
    rng = np.random.default_rng(20_000 + n_current)
    flagged = significant = warned = 0
    for _ in range(runs):
        findings, status = _run(_frame(rng, n_reference), _frame(rng, n_current))
        flagged += findings.metrics["drifted_columns"].value > 0
        significant += findings.metrics["global_p_value"].value < ALPHA
        warned += status != "pass"
    # Benjamini-Hochberg at 5% holds the family-wise rate at 5% when nothing moved; the PSI
    # cut-off can only lower it.
    assert significant / runs <= _upper(ALPHA, runs)
    assert flagged <= significant and flagged / runs <= ALPHA
    assert warned == flagged


def test_feature_drift_catches_one_sd_shift_in_three_of_ten_columns():
    runs = 100
    shifted = {"f1": 1.0, "f5": 1.0, "f8": 1.0}
    rng = np.random.default_rng(7)
    exact = failed = 0
    for _ in range(runs):
        findings, status = _run(_frame(rng, 2000), _frame(rng, 2000, shifted))
        rows = {row[0]: row[-1] for row in findings.evidence[0].rows}
        exact += {c for c, drifted in rows.items() if drifted} == set(shifted)
        failed += status == "fail"
    assert exact / runs >= 0.95
    assert failed / runs >= 0.95


def test_feature_drift_ignores_a_negligible_shift_on_a_million_rows():
    n = 1_000_000
    rng = np.random.default_rng(11)
    shift = {c: 0.02 for c in COLUMNS}
    findings, status = _run(_frame(rng, n), _frame(rng, n, shift))
    rows = {row[0]: row for row in findings.evidence[0].rows}
    columns = findings.evidence[0].columns
    corrected, psi = columns.index("corrected p"), columns.index("PSI")
    assert all(rows[c][corrected] < 1e-10 for c in COLUMNS)  # every shift is significant ...
    assert all(rows[c][psi] < 0.01 for c in COLUMNS)  # ... and negligible
    assert status == "pass" and findings.metrics["drifted_share"].value == 0.0


def test_domain_classifier_p_value_keeps_its_level():
    runs = 50
    rng = np.random.default_rng(3)
    small = 0
    for _ in range(runs):
        findings, status = _run(_frame(rng, 300)[COLUMNS[:4]], _frame(rng, 300)[COLUMNS[:4]], dr.MultivariateDrift,
                                max_iter=20, n_repeats=1, mmd_rows=100, n_permutations=50)
        small += findings.metrics["domain_auc_p_value"].value < ALPHA
        assert status == "pass", findings.summary
    assert small / runs <= _upper(ALPHA, runs)
