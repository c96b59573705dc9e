"""What the overfitting checks OF001-OF005 share: valid definitions."""

from __future__ import annotations

import pytest

from auditor.checks import overfitting as of
from auditor.contract.check import definition_problems


@pytest.mark.parametrize("cls", [of.TrainTestGap, of.CrossValidationStability, of.LearningCurve, of.Memorisation, of.TrainingHistory])
def test_definitions(cls):
    assert definition_problems(cls) == []
