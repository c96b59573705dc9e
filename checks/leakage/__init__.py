"""Leakage checks (area ``leakage``, IDs LK001-LK007).

Each check measures one way in which the data used to evaluate a model can know
something it should not: rows shared with training (exactly or nearly), a feature that
is the target in disguise, identifier-like columns, groups or time periods that straddle
the split, and a label distribution that differs between the splits. They return
metrics and small evidence tables; the engine judges the metrics against the thresholds
declared on each class, and nothing here compares a metric with a level.

Every check is vectorised; the heavier ones (LK002, LK003, LK004) work on seeded
samples of a declared size and record them in ``sample``. The mathematics is
scikit-learn's (``NearestNeighbors``, decision trees, ``roc_auc_score``, ``r2_score``),
SciPy's (``binomtest``, ``spearmanr``, ``chi2_contingency``, ``ks_2samp``) and pandas'
(``hash_pandas_object``); this module is glue.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .lk001_row_overlap import RowOverlap
from .lk002_near_duplicates import NearDuplicates
from .lk003_target_leakage import TargetLeakage
from .lk004_id_like_columns import IdLikeColumns
from .lk005_group_overlap import GroupOverlap
from .lk006_temporal_leakage import TemporalLeakage
from .lk007_label_distribution_mismatch import LabelDistributionMismatch

__all__ = [
    "CHECKS",
    "GroupOverlap",
    "IdLikeColumns",
    "LabelDistributionMismatch",
    "NearDuplicates",
    "RowOverlap",
    "TargetLeakage",
    "TemporalLeakage",
]

CHECKS: tuple[type[Check], ...] = (
    RowOverlap,
    NearDuplicates,
    TargetLeakage,
    IdLikeColumns,
    GroupOverlap,
    TemporalLeakage,
    LabelDistributionMismatch,
)
