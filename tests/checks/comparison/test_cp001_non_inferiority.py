"""CP001 non-inferiority (checks/comparison/cp001_non_inferiority.py): non-inferiority: the
candidate is not worse than the baseline by more than a margin.

Its statistics are checked against published examples in test_comparison_stats.py and
`auditor compare` end to end in test_compare.py; this file holds its planted defect.
"""

from __future__ import annotations

from tests.checks.comparison.conftest import _worse_candidate

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_worse_candidate, {"fail"})
