"""Model comparison (area ``significance``, IDs CP001-CP004): is the candidate at least as good?

These checks compare models on the same rows with paired tests; ``auditor compare``
runs them (they are opt-in for ``auditor run``, which audits one model). The model
under audit is the candidate; ``ctx.others`` holds the baseline first, then any
further candidates.
"""

from __future__ import annotations

from auditor.contract.check import Check
from auditor.toolkit.comparison import (  # re-exported: the metric choices
    LOWER_IS_BETTER,
    METRIC_CHOICES,
    SCORERS,
    UNBOUNDED,
    baseline_name,
    candidate_names,
    chosen_metric,
)

from ._common import COMMON_PARAMS, one_sided_worse
from .cp001_non_inferiority import NonInferiority, margin_line
from .cp002_paired_tests import PairedTests
from .cp003_refit_tests import RefitTests
from .cp004_model_ranking import ModelRanking

CHECKS: tuple[type[Check], ...] = (
    NonInferiority,
    PairedTests,
    RefitTests,
    ModelRanking,
)

__all__ = [
    "CHECKS",
    "COMMON_PARAMS",
    "LOWER_IS_BETTER",
    "METRIC_CHOICES",
    "ModelRanking",
    "NonInferiority",
    "PairedTests",
    "RefitTests",
    "SCORERS",
    "UNBOUNDED",
    "baseline_name",
    "candidate_names",
    "chosen_metric",
    "margin_line",
    "one_sided_worse",
]
