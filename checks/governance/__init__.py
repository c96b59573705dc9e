"""Governance checks (area ``governance``, IDs GV001-).

What a reviewer needs besides measurements: a model card that says what the model is
for and where it must not be used, and a register of accepted risks (waivers) that is
current. Both read the validated policy from the context; neither touches the data or
the model.
"""

from __future__ import annotations

from auditor.contract.check import Check

from .gv001_model_card_complete import ModelCardComplete
from .gv002_waiver_register import WaiverRegister

__all__ = ["CHECKS", "ModelCardComplete", "WaiverRegister"]

CHECKS: tuple[type[Check], ...] = (ModelCardComplete, WaiverRegister)
