"""DQ009: categories absent from the training data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    MAX_ROWS,
    OTHER_ROLES,
    _columns,
    _counts,
    _declared_columns,
    _empty_train,
    _is_categorical,
    _omitted_note,
    _quote,
    _rate,
    _roles,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class UnseenCategories(Check):
    """Categories absent from the training data

    What it checks:
        For each categorical model input (string, bool or category dtype), the values in
        the test data (and the validation data and current sample when given) that never
        occur in the training data. The metric ``max_unseen_rate`` is the largest share
        of a dataset's rows carrying an unseen value in one column; any unseen value
        warns (above 0.0) and more than 1% of rows fails. Missing values are not counted.

    Why it matters:
        The model has learnt nothing about an unseen category: one-hot encoders raise or
        map it to all zeros, ordinal encoders fail, and the prediction for those rows is
        a guess. A high rate also signals a split that is not representative or a change
        of coding between datasets (``"US"`` against ``"United-States"``).

    How to fix:
        Make the split representative (stratify or split by time deliberately); map
        spelling variants to one code; group rare values into an "other" level at
        training time; configure encoders for unknown values
        (``OneHotEncoder(handle_unknown="infrequent_if_exist")``).

    References:
        P1.7 and P4.1 of the practices; scikit-learn user guide, "Encoding categorical
        features"; Micci-Barreca, "A preprocessing scheme for high-cardinality
        categorical attributes", SIGKDD Explorations 3(1), 2001.
    """

    id = "DQ009"
    name = "unseen-categories"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    thresholds = {
        "max_unseen_rate": Threshold(
            direction="above", warn=0.0, fail=0.01, low=0, high=1,
            help="largest share of a dataset's rows with a category absent from train, in one column",
        )
    }
    practices = ("P1.7", "P4.1")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "https://scikit-learn.org/stable/modules/preprocessing.html#encoding-categorical-features",
        "Micci-Barreca, A preprocessing scheme for high-cardinality categorical attributes, SIGKDD Explorations 3(1), 2001",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        # Declared id, group and time columns take new values by design: not categories.
        cats = [c for c in _columns(ctx, "train", target=False)
                if c not in _declared_columns(ctx) and _is_categorical(train[c])]
        others = _roles(ctx, OTHER_ROLES)
        rows = []
        worst = (0.0, None, None)
        for col in cats:
            seen = _counts(train[col]).index
            for role in others:
                frame = ctx.frame(role)
                if col not in frame.columns or len(frame) == 0:
                    continue
                vc = _counts(frame[col])
                unseen = vc[~vc.index.isin(seen)]
                if unseen.empty:
                    continue
                share = int(unseen.sum()) / len(frame)
                rows.append([
                    col,
                    role,
                    ", ".join(_quote(v) for v in unseen.index[:5]),
                    len(unseen),
                    int(unseen.sum()),
                    _rate(share),
                ])
                if share > worst[0]:
                    worst = (share, col, role)
        rows.sort(key=lambda r: -r[5])
        rate, col, role = worst
        evidence = [
            Evidence(
                title="Categories absent from train",
                columns=["column", "dataset", "unseen values (up to 5)", "distinct unseen", "rows", "share of rows"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "column/dataset pairs"),
            )
        ] if rows else []
        if not cats:
            summary = "Found no categorical feature in the training data; nothing to compare."
        else:
            summary = (
                f"Compared the values of {wording.count(len(cats), 'categorical feature')} in {', '.join(others)} with train: "
                f"{wording.count(len(rows), 'column/dataset pair holds', 'column/dataset pairs hold')} unseen values"
                + (f", at most {wording.share(rate)} of rows ({col!r}, {role})." if col is not None else ".")
            )
        recommendation = (
            "Check the split and the coding of the flagged columns; group rare values and configure "
            "encoders to handle unknown categories."
            if rows
            else "Nothing to align."
        )
        return Findings(
            summary=summary,
            metrics={
                "max_unseen_rate": Metric(rate, description="largest share of rows with an unseen category in one column"),
                "columns_with_unseen": Metric(len({r[0] for r in rows}), description="categorical features with unseen values"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )
