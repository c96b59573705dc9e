"""ST001 test-metric-intervals (checks/significance/st001_test_metric_intervals.py): test metrics
with bootstrap confidence intervals.

The coverage of its bootstrap intervals is simulated in test_simulation.py; this file holds
its planted defect.
"""

from __future__ import annotations

from tests.checks.significance.conftest import _tiny_test

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_tiny_test, {"fail", "inconclusive"})
