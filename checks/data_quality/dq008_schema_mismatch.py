"""DQ008: schema differences between train and the other datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import MAX_ROWS, OTHER_ROLES, _empty_train, _kind, _omitted_note, _roles

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class SchemaMismatch(Check):
    """Schema differences between train and the other datasets

    What it checks:
        Compares the columns of the test data (and of the validation data and the
        current production sample when given) with the training data: columns missing or
        extra, and changes of kind in the model's inputs and the target. Kinds, not exact
        dtypes, are compared: numeric, string, bool, datetime, timedelta, mixed; int64
        against float64 is no change, numeric against string is. A column that is
        entirely missing has no kind and is left to DQ001. Declared id, group and time
        columns, prediction / score columns, and the target's absence from the current
        sample are not differences. The metric ``schema_differences`` counts the
        differences and fails above 0.

    Why it matters:
        A model fitted on one schema and fed another either fails in production or,
        worse, runs on wrongly typed values: a numeric column read as text becomes a
        category per value, a missing column is silently imputed.

    How to fix:
        Export every dataset through the same code path, declare dtypes when reading
        (``dtype=`` in ``read_csv``, a Parquet schema), and validate inputs against a
        schema at the model's boundary.

    References:
        P1.5 and P4.1 of the practices; Breck et al., "Data Validation for Machine
        Learning", SysML 2019; pandas documentation, ``pandas.api.types``.
    """

    id = "DQ008"
    name = "schema-mismatch"
    area = "data_quality"
    severity = "high"
    needs = frozenset({"train", "test"})
    thresholds = {
        "schema_differences": Threshold(direction="above", fail=0, low=0, help="missing, extra or retyped columns"),
    }
    practices = ("P1.5", "P4.1")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "Breck, Polyzotis, Roy, Whang & Zinkevich, Data Validation for Machine Learning, SysML 2019",
        "https://pandas.pydata.org/docs/reference/arrays.html#data-type-introspection",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        model = ctx.model
        auxiliary = {
            c
            for c in (
                ctx.id_column,
                ctx.group_column,
                ctx.time_column,
                getattr(model, "prediction_column", None),
                getattr(model, "score_column", None),
            )
            if c
        }
        relevant = [*ctx.features, ctx.target]
        train_kinds = {c: _kind(train[c]) for c in relevant if c in train.columns}
        rows = []
        others = _roles(ctx, OTHER_ROLES)
        for role in others:
            frame = ctx.frame(role)
            present = set(frame.columns)
            train_present = set(train.columns)
            for col in train.columns:
                if col in present or col in auxiliary:
                    continue
                if col == ctx.target and role == "current":
                    continue
                what = "model input" if col in ctx.features else "target" if col == ctx.target else "column"
                rows.append([col, role, train_kinds.get(col) or _kind(train[col]), "absent", f"{what} missing in {role}"])
            for col in frame.columns:
                if col not in train_present and col not in auxiliary:
                    rows.append([col, role, "absent", _kind(frame[col]), f"extra column in {role}"])
            for col in relevant:
                if col not in present or col not in train_kinds:
                    continue
                a, b = train_kinds[col], _kind(frame[col])
                if a != b and "empty" not in (a, b):
                    rows.append([col, role, a, b, "kind changed"])
        n_diff = len(rows)
        evidence = [
            Evidence(
                title="Schema differences against train",
                columns=["column", "dataset", "train kind", "other kind", "problem"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(n_diff, min(n_diff, MAX_ROWS), "differences"),
            )
        ] if rows else []
        summary = (
            f"Compared the columns and column kinds of {', '.join(others)} with train: {wording.count(n_diff, 'difference')}."
        )
        recommendation = (
            "Produce every dataset through the same export code, declare dtypes when reading, "
            "and validate inputs against a schema before scoring."
            if rows
            else "Nothing to align."
        )
        return Findings(
            summary=summary,
            metrics={"schema_differences": Metric(n_diff, description="missing, extra or retyped columns against train")},
            evidence=evidence,
            recommendation=recommendation,
        )
