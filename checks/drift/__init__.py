"""Drift checks (area ``drift``, IDs DR001-DR004).

Has the population the model serves moved away from the one it was built and
evaluated on? Each check compares a reference dataset (the training data by default,
or the test data) with the ``current`` production sample: one input column at a time
(DR001), all inputs together (DR002), the model's outputs (DR003) and, where the
current sample is labelled, its labels and the model's performance on it (DR004).

A shift counts as drift only when it is both statistically significant and large
enough to matter: on a million rows a shift of a fiftieth of a standard deviation is
significant, and harmless. The mathematics is SciPy's (``ks_2samp``,
``chi2_contingency``, ``wasserstein_distance``, ``jensenshannon``, ``mannwhitneyu``,
``bootstrap``), statsmodels' (``multipletests``) and scikit-learn's
(``HistGradientBoostingClassifier``, ``permutation_importance``, ``rbf_kernel``); the
optional alibi-detect backend (``pip install auditor[alibi]``) runs DR001's univariate
tests and DR002's MMD test through alibi-detect instead. This module is glue: it
measures, and the engine judges the metrics against the thresholds on each class.
"""

from __future__ import annotations

from auditor.contract.check import Check

from ._common import (
    ALIBI_MISSING,
    BACKENDS,
    EXACT_KS_ROWS,
    PSI_EPSILON,
    REFERENCE_ROLES,
    Comparison,
    _distribution_figure,
    category_table,
    compare_categorical,
    compare_numeric,
    js_distance,
    ks_and_wasserstein,
    psi,
)
from .dr001_feature_drift import CORRECTIONS, FeatureDrift
from .dr002_multivariate_drift import MultivariateDrift, cross_validated_auc, median_bandwidth, mmd_permutation_test
from .dr003_prediction_drift import PredictionDrift
from .dr004_label_drift_and_performance import LabelDriftAndPerformance, scores_and_drop

__all__ = [
    "ALIBI_MISSING",
    "BACKENDS",
    "CHECKS",
    "CORRECTIONS",
    "EXACT_KS_ROWS",
    "PSI_EPSILON",
    "REFERENCE_ROLES",
    "Comparison",
    "FeatureDrift",
    "LabelDriftAndPerformance",
    "MultivariateDrift",
    "PredictionDrift",
    "_distribution_figure",
    "category_table",
    "compare_categorical",
    "compare_numeric",
    "cross_validated_auc",
    "js_distance",
    "ks_and_wasserstein",
    "median_bandwidth",
    "mmd_permutation_test",
    "psi",
    "scores_and_drop",
]

CHECKS: tuple[type[Check], ...] = (FeatureDrift, MultivariateDrift, PredictionDrift, LabelDriftAndPerformance)
