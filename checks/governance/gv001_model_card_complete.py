"""GV001 model-card-complete: the model card gives the fields only the model's owners can write."""

from __future__ import annotations

from typing import Any

from auditor.contract.check import Check, Threshold
from auditor.contract.model_card_fields import (
    FIELD_LABELS,
    REQUIRED_FIELDS,
    missing_fields,
    validate_model_card,
)
from auditor.contract.results import Evidence, Findings, Metric


class ModelCardComplete(Check):
    """The model card states intended use, limits, data and ethical considerations

    What it checks:
        Whether the policy's ``model_card:`` block gives each field a reviewer needs:
        intended use, out-of-scope uses, training data, evaluation data, limitations and
        ethical considerations. The metric is the number of those fields missing or empty.
        The audit fills in what it can compute (files and their hashes, metrics with
        intervals, findings); these fields are the ones only the model's owners can write.
    Why it matters:
        A model is approved for a purpose, not in general. Without a written intended use
        and its exclusions a reviewer cannot tell whether the test data resembles the
        deployment, whether a fairness gap matters for the decisions taken, or when the
        model is being used outside what was approved. Regulators and standards ask for
        this documentation (EU AI Act Art. 13, ISO/IEC 42001 A.6.2.7 and A.9.4).
    How to fix:
        Add a ``model_card:`` block to the policy with the missing fields
        (``auditor init`` writes a commented example). Write what is true of this model,
        including what it must not be used for and what the audit found against it.
    References:
        Mitchell et al., "Model Cards for Model Reporting", Proceedings of ACM FAT* 2019.
        Gebru et al., "Datasheets for Datasets", Communications of the ACM 64(12), 2021.
    """

    id = "GV001"
    name = "model-card-complete"
    area = "governance"
    engine_rows = "all"  # reads the policy and the model card, never rows
    severity = "medium"
    thresholds = {
        "missing_fields": Threshold(direction="above", fail=0, low=0, high=len(REQUIRED_FIELDS),
                                    help="required model-card fields missing or empty"),
    }
    practices = ("P8.3", "P8.4")
    clauses = (
        "eu_ai_act:Art. 10", "eu_ai_act:Art. 13",
        "nist_ai_rmf:MEASURE 2.1", "nist_ai_rmf:MEASURE 2.8", "nist_ai_rmf:MANAGE 1.1",
        "iso_42001:A.6.2.7", "iso_42001:A.9.4",
    )

    def run(self, ctx, params):
        card = validate_model_card((ctx.policy or {}).get("model_card"), "policy")
        missing = missing_fields(card)
        rows = [[FIELD_LABELS[key], "given" if key not in missing else "missing",
                 _extent(card.get(key))] for key in REQUIRED_FIELDS]
        if not card:
            summary = "The policy has no model_card block: intended use, limits and data are undocumented."
        elif missing:
            summary = (f"The model card leaves out {len(missing)} of {len(REQUIRED_FIELDS)} required fields: "
                       + ", ".join(FIELD_LABELS[m].lower() for m in missing) + ".")
        else:
            summary = f"The model card gives all {len(REQUIRED_FIELDS)} required fields."
        return Findings(
            summary=summary,
            metrics={"missing_fields": Metric(len(missing), description=f"of {len(REQUIRED_FIELDS)} required model-card fields")},
            evidence=[Evidence(title="Required model-card fields", columns=["field", "state", "extent"], rows=rows)],
            recommendation=("Add the missing fields to the policy's model_card block; the audit adds the facts it "
                            "measured (data hashes, metrics with intervals, findings)." if missing else ""),
        )


def _extent(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    words = len(str(value).split())
    return f"{words} word{'s' if words != 1 else ''}"
