"""Fairness checks (area ``fairness``, IDs FR001-FR007).

Does the model treat the groups named by the sensitive features (``--sensitive``) alike?
FR001 lays out the model's metrics per group, FR002 measures the standard group
disparities, FR003 says which groups are too small to measure, FR004 compares calibration
across groups, FR005 looks for inputs that stand in for a sensitive attribute, FR006 says
whether a sensitive attribute is itself an input, and FR007 searches for slices of the
data where the model errs significantly more.

Groups are formed for each sensitive feature and, with two or more, for their
intersections (``max_order``). A numeric sensitive feature with many values (age) is cut
into quantile bins. A missing value is a group of its own (``<missing>``).

The mathematics is fairlearn's (``MetricFrame`` and its disparity metrics) and AIF360's
(``aif360.sklearn.metrics``), with scikit-learn, SciPy and statsmodels; this module is
glue. The libraries are called on the distinct (group, label, prediction) cells with
their row counts as sample weights, which returns the numbers they return on the rows
(the tests check it) at a fraction of the cost. Intervals come from a bootstrap that
resamples rows within each cell of the sensitive features, so group sizes stay fixed: a
resample is summarised by its counts and every disparity is recomputed from those counts
for all resamples at once. The same code evaluated on the observed counts must reproduce
the libraries' estimates (to 1e-9) before any interval is reported; a mismatch is an
error, never a silent divergence. Both libraries are imported inside ``run``, so the
command line stays fast.
"""

from __future__ import annotations

from auditor.contract.check import Check

from ._common import _design_matrix, cell_table
from .fr001_group_metrics import GroupMetrics
from .fr002_disparities import Disparities
from .fr003_group_sample_size import GroupSampleSize
from .fr004_calibration_within_groups import CalibrationWithinGroups
from .fr005_proxy_features import ProxyFeatures
from .fr006_sensitive_attribute_as_input import SensitiveAttributeAsInput
from .fr007_weak_segments import WeakSegments

CHECKS: tuple[type[Check], ...] = (
    GroupMetrics,
    Disparities,
    GroupSampleSize,
    CalibrationWithinGroups,
    ProxyFeatures,
    SensitiveAttributeAsInput,
    WeakSegments,
)

__all__ = [
    "CHECKS",
    "CalibrationWithinGroups",
    "Disparities",
    "GroupMetrics",
    "GroupSampleSize",
    "ProxyFeatures",
    "SensitiveAttributeAsInput",
    "WeakSegments",
    "_design_matrix",  # tests/checks/fairness/test_fairness.py
    "cell_table",  # tests/checks/fairness/test_fairness.py
]
