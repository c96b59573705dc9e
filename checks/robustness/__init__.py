"""Robustness checks (area ``robustness``, IDs RB001-RB005).

Does the model behave sensibly on inputs a little (or a lot) different from its test
rows? Each check perturbs a seeded sample of the test rows (``max_rows``, recorded in
``sample``), calls the model on the perturbed copies (``AuditContext.call_model``) and
measures how its predictions move: small Gaussian noise on numeric features, swapped
categories, missing values, values beyond the training range, and steps along features
the policy declares monotonic.

Every perturbation respects the policy's declared feature domains
(``features: {col: {immutable, min, max, monotonic}}``): an immutable feature is never
changed and a numeric value never leaves a declared ``[min, max]``. Where a check needs
statistics of the data (a feature's spread, its range, its categories and their
frequencies, the target's spread) it takes them from the training data, or from the
test data when no training data was given.

The perturbed copies of a check are stacked and sent to the model in as few calls as
possible (the model is assumed to score rows independently, as every scikit-learn
predictor and every network in evaluation mode does); where a stacked call raises, the
copies are sent one by one so that the raise is attributed. The statistics are
SciPy's (``scipy.stats.iqr``, ``binomtest`` for Wilson intervals, ``ttest_1samp``) and
the metrics scikit-learn's (``auditor.toolkit.stats``); this module is the perturbation glue.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .rb001_noise_sensitivity import NoiseSensitivity
from .rb002_categorical_perturbation import CategoricalPerturbation, _swap_categories
from .rb003_missing_value_handling import MissingValueHandling
from .rb004_out_of_range_inputs import OutOfRangeInputs
from .rb005_monotonic_constraints import MonotonicConstraints
from .rb006_weak_input_segments import WeakInputSegments

CHECKS: tuple[type[Check], ...] = (
    NoiseSensitivity,
    CategoricalPerturbation,
    MissingValueHandling,
    OutOfRangeInputs,
    MonotonicConstraints,
    WeakInputSegments,
)

__all__ = [
    "CHECKS",
    "CategoricalPerturbation",
    "MissingValueHandling",
    "MonotonicConstraints",
    "NoiseSensitivity",
    "OutOfRangeInputs",
    "WeakInputSegments",
    "_swap_categories",  # tests/checks/robustness/test_robustness.py
]
