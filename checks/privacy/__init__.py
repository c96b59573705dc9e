"""Privacy checks (area ``privacy``, IDs PV001-PV002).

PV001 looks for direct identifiers (e-mail addresses, phone numbers, national IDs, bank
and card numbers, IP addresses, person names, dates of birth, case and record numbers)
in the data handed to the audit, and judges a column's name by its values; PV002
asks how easily a simple attacker could tell the model's training rows from rows it
never saw (membership inference).

Nothing in this module ever copies a scanned value into a result: findings name the
column, the kind of identifier, how many rows match and a fixed, generic form of that
kind ("name@domain.tld"), never a masked or partial value. The pattern matching is
pandas' (``Series.str.contains`` / ``extractall`` / ``fullmatch``) and numpy's (the
Luhn checksum); the attack is scored with scikit-learn's ``roc_auc_score`` and
``roc_curve``; this module is glue.
"""

from __future__ import annotations

from auditor.contract.check import Check

from ._common import VALUE_KINDS, _iban_valid, luhn_valid, name_hint
from .pv001_personal_data_in_features import PersonalData
from .pv002_membership_inference import MembershipInference, membership_advantage

# Names other modules and the tests read from the family: the checksums, the name hints
# and the attack's advantage are tested on their own.
__all__ = [
    "CHECKS",
    "VALUE_KINDS",
    "MembershipInference",
    "PersonalData",
    "_iban_valid",
    "luhn_valid",
    "membership_advantage",
    "name_hint",
]

CHECKS: tuple[type[Check], ...] = (PersonalData, MembershipInference)
