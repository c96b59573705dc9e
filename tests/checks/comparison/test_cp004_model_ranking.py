"""CP004 model-ranking (checks/comparison/cp004_model_ranking.py): ranking of three or more models:
Friedman test with Nemenyi post-hoc comparisons.

Its statistics are checked against published examples in test_comparison_stats.py and
`auditor compare` end to end in test_compare.py; this file holds its planted defect.
"""

from __future__ import annotations

from tests.checks.comparison.conftest import _worse_candidate

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (lambda: _worse_candidate(models=3), {"fail"})
