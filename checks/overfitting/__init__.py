"""Overfitting checks (area ``overfitting``, IDs OF001-OF005).

Does the model's test score describe how it will behave on new data, or has it learnt
its training rows by heart? These checks compare training and held-out performance,
refit the model under cross-validation where it can be cloned, and read a deep
learning run's per-epoch losses for the early-stopping analysis.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .of001_train_test_gap import TrainTestGap
from .of002_cross_validation_stability import CrossValidationStability
from .of003_learning_curve import LearningCurve
from .of004_memorisation import Memorisation, _error_ratio_bootstrap
from .of005_training_history import TrainingHistory

CHECKS: tuple[type[Check], ...] = (
    TrainTestGap,
    CrossValidationStability,
    LearningCurve,
    Memorisation,
    TrainingHistory,
)

__all__ = [
    "CHECKS",
    "CrossValidationStability",
    "LearningCurve",
    "Memorisation",
    "TrainTestGap",
    "TrainingHistory",
    "_error_ratio_bootstrap",  # tests/checks/overfitting/test_overfitting.py
]
