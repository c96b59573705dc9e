"""The model card's fields as the policy's ``model_card:`` block declares them: their
order and labels, which a reviewer requires, and the validation of the block. The
policy validates it, GV001 judges its completeness and the report builds the card
from it, so it lives in the contract that all three read."""

from __future__ import annotations

from typing import Any

from auditor.util.errors import PolicyError, did_you_mean

#: Fields the user writes, in the order a card shows them.
MODEL_CARD_KEYS: tuple[str, ...] = (
    "name",
    "version",
    "description",
    "owners",
    "intended_use",
    "out_of_scope_uses",
    "training_data",
    "evaluation_data",
    "limitations",
    "ethical_considerations",
)
#: Fields a reviewer cannot do without: each one missing is a GV001 finding.
REQUIRED_FIELDS: tuple[str, ...] = (
    "intended_use",
    "out_of_scope_uses",
    "training_data",
    "evaluation_data",
    "limitations",
    "ethical_considerations",
)
#: Fields that hold several items (a YAML list, or one text for a single item).
LIST_FIELDS: frozenset[str] = frozenset({"owners", "out_of_scope_uses", "limitations", "ethical_considerations"})

FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "version": "Version",
    "description": "Description",
    "owners": "Owners",
    "intended_use": "Intended use",
    "out_of_scope_uses": "Out-of-scope uses",
    "training_data": "Training data",
    "evaluation_data": "Evaluation data",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
}

def validate_model_card(raw: Any, where: str) -> dict[str, Any]:
    """The policy's ``model_card`` block, checked and normalised (list fields become lists).

    An unknown key is an error naming it with the nearest valid one; a value of the
    wrong type is an error that says what was expected. Missing fields are allowed
    here: they are a governance finding (GV001), not a reason to refuse the policy.
    """
    base = f"{where}: model_card"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{base} must be a mapping with keys {list(MODEL_CARD_KEYS)}; got {raw!r}.")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in MODEL_CARD_KEYS:
            raise PolicyError(f"{base}: unknown key {key!r}{did_you_mean(key, MODEL_CARD_KEYS)}")
        if value is None:
            continue
        if key == "version" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # `version: 2` or `version: 1.4` in YAML means the text a person typed
        if key in LIST_FIELDS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise PolicyError(f"{base}.{key} must be text or a list of texts; got {value!r}.")
            items = [v.strip() for v in items if v.strip()]
            if items:
                out[key] = items
        else:
            if not isinstance(value, str):
                raise PolicyError(f"{base}.{key} must be text; got {value!r}.")
            if value.strip():
                out[key] = value.strip()
    return out


def missing_fields(card: dict[str, Any] | None) -> list[str]:
    """The required fields a user-written card leaves out or leaves empty."""
    card = card or {}
    return [key for key in REQUIRED_FIELDS if not card.get(key)]
