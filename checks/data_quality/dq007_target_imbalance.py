"""DQ007: class imbalance of the target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.wording import cell as _text

from ._common import DATA_ROLES, MAX_ROWS, _counts, _empty_train, _omitted_note, _rate

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class TargetImbalance(Check):
    """Class imbalance of the target

    What it checks:
        The class counts of the target in the training data (and, for comparison, in the
        test data and any other labelled dataset). The metric ``minority_ratio`` is the
        count of the smallest class divided by that of the largest, in train; a class that
        the model knows of but that is absent from train counts as 0. It warns below 0.2
        (1:5) and fails below 0.05 (1:20). Classification only.

    Why it matters:
        With a rare class, accuracy rewards ignoring it, decision thresholds tuned on the
        majority miss it, and estimates for it rest on few rows. A different class mix
        in test or production changes the metrics without the model changing.

    How to fix:
        Evaluate with metrics that see the minority (balanced accuracy, recall and
        precision per class, PR-AUC); stratify splits; weight classes
        (``class_weight="balanced"``) or resample (over-/under-sampling, SMOTE) inside
        cross-validation only; collect more minority examples.

    References:
        P4.1 and P1.8 of the practices; He & Garcia, "Learning from Imbalanced Data",
        IEEE TKDE 21(9), 2009; imbalanced-learn documentation.
    """

    id = "DQ007"
    name = "target-imbalance"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    tasks = frozenset({"binary", "multiclass"})
    thresholds = {
        "minority_ratio": Threshold(
            direction="below", warn=0.2, fail=0.05, low=0, high=1,
            help="smallest class count divided by the largest, in train",
        )
    }
    practices = ("P4.1", "P1.8")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "He & Garcia, Learning from Imbalanced Data, IEEE TKDE 21(9), 2009",
        "https://imbalanced-learn.org/stable/user_guide.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        y = ctx.y("train")
        if y is None or not y.notna().any():
            return Findings(summary=f"Skipped: the training data has no values of the target {ctx.target!r}.", status="skipped")
        roles = [r for r in DATA_ROLES if ctx.has(r) and ctx.has_labels(r)]
        counts = {r: _counts(ctx.y(r)) for r in roles}
        classes: list[Any] = list(counts["train"].index)
        for extra in [*(ctx.classes or []), *(v for r in roles for v in counts[r].index)]:
            if extra not in classes:
                classes.append(extra)
        train = counts["train"].reindex(classes, fill_value=0)
        ratio = float(train.min()) / float(train.max())
        rows = []
        for cls in classes:
            row = [_text(cls)]
            for r in roles:
                c = int(counts[r].get(cls, 0))
                row += [c, _rate(c / counts[r].sum())]
            rows.append(row)
        columns = ["class"] + [f"{r} {what}" for r in roles for what in ("count", "share")]
        smallest, largest = train.idxmin(), train.idxmax()
        summary = (
            f"Counted {wording.count(len(classes), 'class', 'classes')} in the train target: the smallest ({_text(smallest)!r}, "
            f"{int(train.min())} rows) is {ratio:.3f} times the largest ({_text(largest)!r}, {int(train.max())} rows)."
        )
        return Findings(
            summary=summary,
            metrics={
                "minority_ratio": Metric(ratio, description="smallest class count / largest class count in train"),
                "minority_share": Metric(float(train.min()) / float(train.sum()), description="share of the smallest class in train"),
            },
            evidence=[Evidence(title="Class counts and shares", columns=columns, rows=rows[:MAX_ROWS],
                               note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "classes"))],
            recommendation=(
                "Judge the model with metrics that see every class (balanced accuracy, per-class recall, PR-AUC), "
                "stratify splits, and consider class weights or resampling inside cross-validation."
            ),
        )
