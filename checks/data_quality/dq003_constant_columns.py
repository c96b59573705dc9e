"""DQ003: constant and near-constant features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.wording import cell as _text

from ._common import MAX_ROWS, _columns, _empty_train, _omitted_note, _rate

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class ConstantColumns(Check):
    """Constant and near-constant features

    What it checks:
        Model input columns of the training data that are constant (one distinct
        non-missing value, or nothing but missing values) and near-constant (the most
        frequent value, missing counted as a value, covers at least ``dominance`` of the
        rows, 0.99 by default). Metrics: ``constant_columns`` fails above 0 and
        ``near_constant_columns`` warns above 0. A training set of fewer than two rows
        is skipped: constancy is undefined there.

    Why it matters:
        A constant column carries no information and can break scalers and some solvers
        (zero variance); a near-constant one is mostly noise, is easily overfitted on its
        few odd rows, and may vanish entirely from a cross-validation fold.

    How to fix:
        Drop constant columns. For near-constant ones, check whether the rare values are
        errors; otherwise drop them, merge rare values, or use a variance threshold
        (``sklearn.feature_selection.VarianceThreshold``) inside the pipeline.

    References:
        P1.6 and P1.9 of the practices; scikit-learn user guide, "Removing features with
        low variance"; Kuhn & Johnson, Applied Predictive Modeling (2013), section 3.5.
    """

    id = "DQ003"
    name = "constant-columns"
    area = "data_quality"
    engine_rows = "all"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "dominance": Param(
            default=0.99, kind="float", low=0.5, high=1.0,
            help="share of the most frequent value at or above which a column is near-constant",
        )
    }
    thresholds = {
        "constant_columns": Threshold(direction="above", fail=0, low=0, help="number of constant features"),
        "near_constant_columns": Threshold(direction="above", warn=0, low=0, help="number of near-constant features"),
    }
    practices = ("P1.6", "P1.9")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "https://scikit-learn.org/stable/modules/feature_selection.html#removing-features-with-low-variance",
        "Kuhn & Johnson, Applied Predictive Modeling, Springer, 2013, section 3.5",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        n = ctx.rows_available("train")
        cols = _columns(ctx, "train", target=False)
        if n < 2:
            return Findings(
                summary=f"Skipped: the training data has {n} row(s); constancy needs at least two.",
                status="skipped",
            )
        dominance = float(params["dominance"])
        constant, near = [], []
        # Over every training row, by the engine (under Spark: a frequent-items sketch for the
        # candidates, their exact counts, and a HyperLogLog estimate of the distinct values).
        tops = ctx.stats.top_values("train", cols, min_share=dominance)
        for col in cols:
            top = tops[col]
            n_missing, distinct, top_value, top_count = top.missing, top.distinct, top.value, top.count
            if n_missing > top_count:
                top_value, top_count = None, n_missing
            share = top_count / n
            row = [col, distinct, _text(top_value), _rate(share)]
            if distinct <= 1:
                constant.append([*row, "constant" if distinct else "all missing"])
            elif share >= dominance:
                near.append([*row, "near-constant"])
        flagged = constant + sorted(near, key=lambda r: -r[3])
        evidence = [
            Evidence(
                title="Constant and near-constant features (train)",
                columns=["column", "distinct values", "most frequent value", "share", "kind"],
                rows=flagged[:MAX_ROWS],
                note=" ".join(filter(None, [
                    _omitted_note(len(flagged), min(len(flagged), MAX_ROWS), "columns"),
                    "Distinct values are HyperLogLog estimates (about 2% relative error; exact for a handful of values)."
                    if ctx.stats.distributed else ""])),
            )
        ] if flagged else []
        summary = (
            f"Measured value dominance in {wording.count(len(cols), 'train feature')}: {len(constant)} constant, "
            f"{len(near)} with one value covering at least {dominance:.0%} of rows."
        )
        recommendation = (
            "Drop constant features; for near-constant ones check whether the rare values are errors, "
            "then drop them or apply a variance threshold in the pipeline."
            if flagged
            else "Nothing to drop."
        )
        return Findings(
            summary=summary,
            metrics={
                "constant_columns": Metric(len(constant), description="features with at most one distinct value"),
                "near_constant_columns": Metric(len(near), description=f"features whose top value covers >= {dominance:g} of rows"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )
