"""Explainability checks (area ``explainability``, IDs EX001-EX006).

Can the model's explanations be trusted? Each check measures one way an explanation
can mislead: importance that hangs on one feature, rankings that reshuffle with the
resample or the seed, two methods that name different features, correlated features
that trade importance between them, attributions that jump under tiny input changes,
and features that matter only on the rows the model was trained on.

Two importance methods are computed once per audit and shared by the checks through
``AuditContext.memo`` (keyed by the method, the role, the sample's size and seed and
the parameters that change the value):

* permutation importance on the raw input columns, categorical ones included: the drop
  of the model's score (ROC AUC for binary models with probabilities, balanced accuracy
  for other classifiers, R² for regression) when a column is shuffled. It is measured as
  ``sklearn.inspection.permutation_importance`` measures it, but with the shuffled copies
  of each column sent to the model in one stacked call (see ``_permuted_outputs``; the
  tests compare the two);
* SHAP values (the ``shap`` library): ``TreeExplainer`` when the model is itself a tree
  model shap supports, fitted on the raw numeric columns; otherwise the model-agnostic
  Permutation explainer over the raw input columns, through the model adapter only, with
  a background sample of training rows as the masker. Categorical columns are handed to
  shap as integer codes and decoded back to their values before the model is called, so
  every column is explained, whatever its type.

Every check works on a seeded sample of the test rows (``rows``, shared by the family
and recorded in each result's ``sample``); SHAP explains a smaller sample
(``shap_rows``) against ``background`` training rows. Heavy libraries are imported
inside the functions that use them.
"""

from __future__ import annotations

from auditor.contract.check import Check

from ._common import (
    BACKGROUND,
    FAMILY,
    MAX_SHOWN,
    MIN_CORR,
    MIN_SHARE,
    REPEATS,
    ROWS,
    RUNS,
    SHAP_ROWS,
    STACK_ROWS,
    TOP_K,
    _permuted_outputs,
    _sample,
    correlated_groups,
    permutation,
    stability_runs,
    top_features,
)
from ._shap import (
    TREE_MODELS,
    Attributions,
    _Codec,
    _shap,
    _tree_problem,
    attributions,
    shap_bootstrap,
    shap_importance,
    shap_values,
)
from .ex001_global_importance import GlobalImportance
from .ex002_importance_stability import (
    ImportanceStability,
    _kendall_pairs,
    group_of,
    tie_groups,
)
from .ex003_explanation_method_agreement import MethodAgreement
from .ex004_correlated_feature_groups import CorrelatedFeatureGroups
from .ex005_local_explanation_stability import LocalStability
from .ex006_train_test_importance import TrainTestImportance, score_gap

__all__ = [
    "BACKGROUND",
    "CHECKS",
    "FAMILY",
    "MAX_SHOWN",
    "MIN_CORR",
    "MIN_SHARE",
    "REPEATS",
    "ROWS",
    "RUNS",
    "SHAP_ROWS",
    "STACK_ROWS",
    "TOP_K",
    "TREE_MODELS",
    "Attributions",
    "CorrelatedFeatureGroups",
    "GlobalImportance",
    "ImportanceStability",
    "LocalStability",
    "MethodAgreement",
    "TrainTestImportance",
    "_Codec",
    "_kendall_pairs",
    "_permuted_outputs",
    "_sample",
    "_shap",
    "_tree_problem",
    "attributions",
    "correlated_groups",
    "group_of",
    "permutation",
    "score_gap",
    "shap_bootstrap",
    "shap_importance",
    "shap_values",
    "stability_runs",
    "tie_groups",
    "top_features",
]

CHECKS: tuple[type[Check], ...] = (
    GlobalImportance,
    ImportanceStability,
    MethodAgreement,
    CorrelatedFeatureGroups,
    LocalStability,
    TrainTestImportance,
)
