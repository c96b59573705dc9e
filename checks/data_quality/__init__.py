"""Data-quality checks (area ``data_quality``, IDs DQ001-DQ011).

Each check measures one property of the tables the model was trained and evaluated on
(missing values, duplicates, constant columns, conflicting labels, mixed types,
outliers, class balance, schema, unseen categories, cardinality, redundancy) and
returns metrics and small evidence tables. The engine judges the metrics against the
thresholds declared on each class; nothing here compares a metric with a level.

Every check is vectorised and roughly linear in the number of rows; DQ011 works on a
seeded sample and records it.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .dq001_missing_values import MissingValues
from .dq002_duplicate_rows import DuplicateRows
from .dq003_constant_columns import ConstantColumns
from .dq004_conflicting_labels import ConflictingLabels
from .dq005_mixed_types import MixedTypes
from .dq006_outliers import Outliers
from .dq007_target_imbalance import TargetImbalance
from .dq008_schema_mismatch import SchemaMismatch
from .dq009_unseen_categories import UnseenCategories
from .dq010_high_cardinality import HighCardinality
from .dq011_redundant_features import RedundantFeatures

CHECKS: tuple[type[Check], ...] = (
    MissingValues,
    DuplicateRows,
    ConstantColumns,
    ConflictingLabels,
    MixedTypes,
    Outliers,
    TargetImbalance,
    SchemaMismatch,
    UnseenCategories,
    HighCardinality,
    RedundantFeatures,
)
