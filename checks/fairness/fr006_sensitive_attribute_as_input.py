"""FR006 sensitive-attribute-as-input: sensitive attributes used as model inputs."""

from __future__ import annotations

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.wording import shorten as _text

from ._common import MAX_ROWS


class SensitiveAttributeAsInput(Check):
    """Sensitive attributes used as model inputs

    What it checks:
        Whether each sensitive feature (``--sensitive``) is itself one of the model's
        inputs. The metric ``sensitive_inputs`` counts those that are; it warns above 0.
        The warning is a transparency note, not a verdict: using a sensitive attribute can
        be unlawful (direct discrimination in many jurisdictions and sectors), required
        (to correct for a known bias, or in medicine), or harmless; the reviewer must see
        that it happens and the documentation must say why. Leaving it out is no proof of
        fairness either: see FR005 for inputs that stand in for it.

    Why it matters:
        A model that takes sex or ethnicity as an input can treat two otherwise identical
        people differently because of it. Whether that is acceptable is a legal and
        ethical decision that has to be made and recorded, not left implicit.

    How to fix:
        Record in the model's documentation which sensitive attributes it uses and on what
        grounds; where there are none, retrain without them and compare (disparities with
        FR002, proxies with FR005). If the use is deliberate, waive this finding in the
        policy with the reason and an owner.

    References:
        P8.1 and P8.3 of the practices; Mitchell et al. (2019), Model cards for model
        reporting, FAT*; Barocas, Hardt & Narayanan, Fairness and Machine Learning
        (fairmlbook.org, 2023).
    """

    id = "FR006"
    name = "sensitive-attribute-as-input"
    area = "fairness"
    severity = "low"
    needs = frozenset({"sensitive"})
    thresholds = {
        "sensitive_inputs": Threshold(direction="above", warn=0, low=0,
                                      help="sensitive features that are model inputs (a transparency note)"),
    }
    practices = ("P8.1", "P8.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Mitchell et al. (2019), Model cards for model reporting, FAT*",
        "Barocas, Hardt & Narayanan, Fairness and Machine Learning, fairmlbook.org (2023)",
    )

    def run(self, ctx, params):
        if ctx.model is None or not ctx.model.can_call:
            # Stored predictions say nothing about which columns produced them.
            return Findings(status="skipped", summary=(
                "Skipped: predictions-only mode: which columns the model read is unknown, so whether a sensitive "
                "feature is a model input cannot be told."))
        features = set(ctx.model_inputs)
        used = [c for c in ctx.sensitive if c in features]
        rows = [[_text(c), "yes" if c in features else "no",
                 ", ".join(r for r in ("train", "test", "current") if ctx.has(r) and c in ctx.frame(r).columns) or "none"]
                for c in ctx.sensitive]
        if used:
            summary = (f"{wording.count(len(used), 'sensitive feature')} of {len(ctx.sensitive)} "
                       f"{'is a model input' if len(used) == 1 else 'are model inputs'}: {', '.join(_text(c) for c in used)}.")
        else:
            summary = (f"None of the {wording.count(len(ctx.sensitive), 'sensitive feature')} ({', '.join(_text(c) for c in ctx.sensitive)}) "
                       "is a model input; other inputs may still stand in for them (FR005).")
        return Findings(
            summary=summary,
            metrics={"sensitive_inputs": Metric(len(used), description="sensitive features that are model inputs")},
            evidence=[Evidence(title="Sensitive features and the model's inputs", columns=["sensitive feature", "model input", "present in"],
                               rows=rows[:MAX_ROWS])],
            recommendation=(
                "Document why the model uses these attributes (legal basis, purpose), or retrain without them and compare "
                "disparities (FR002) and proxies (FR005); waive this note in the policy when the use is deliberate."
                if used else "Nothing to document here; check FR005 for inputs that stand in for the sensitive features."
            ),
        )
