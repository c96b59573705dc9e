"""Significance checks (area ``significance``, IDs ST001-ST003).

Can the test set support the claims made on it? ST001 puts intervals on the test
metrics, ST002 asks whether the model beats a baseline that ignores the inputs, ST003
asks whether the test set is large enough, overall and per class, to measure anything.
"""

from __future__ import annotations

from auditor.contract.check import Check
from auditor.toolkit.figures import bar_chart

from .st001_test_metric_intervals import MetricIntervals
from .st002_better_than_baseline import BetterThanBaseline, chance_p_value, mcnemar_one_sided
from .st003_test_set_adequacy import TestSetAdequacy, min_detectable_difference, proportion_ci_width

CHECKS: tuple[type[Check], ...] = (
    MetricIntervals,
    BetterThanBaseline,
    TestSetAdequacy,
)

__all__ = [
    "BetterThanBaseline",
    "CHECKS",
    "MetricIntervals",
    "TestSetAdequacy",
    "chance_p_value",
    "mcnemar_one_sided",
    "min_detectable_difference",
    "proportion_ci_width",
    "bar_chart",  # tests/test_simulation.py patches it
]
