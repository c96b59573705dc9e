"""Calibration checks (area ``calibration``, IDs CA001-).

Do the model's probabilities mean what they say? Of the rows given 0.8, about 80%
should be positive. These checks read the cached test probabilities; they never call
the model.
"""

from __future__ import annotations

from auditor.contract.check import Check
from auditor.toolkit.calibration import (  # re-exported: the family's maths
    Binning,
    bin_edges,
    brier_score,
    calibration_bins,
    calibration_target,
    expected_calibration_error,
)

from .ca001_calibration import ExpectedCalibrationError

__all__ = [
    "CHECKS",
    "Binning",
    "ExpectedCalibrationError",
    "bin_edges",
    "brier_score",
    "calibration_bins",
    "calibration_target",
    "expected_calibration_error",
]

CHECKS: tuple[type[Check], ...] = (ExpectedCalibrationError,)
