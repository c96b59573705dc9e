"""DQ010: categorical features with very many levels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    MAX_ROWS,
    _columns,
    _declared_columns,
    _empty_train,
    _is_categorical,
    _omitted_note,
    _rate,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class HighCardinality(Check):
    """Categorical features with very many levels

    What it checks:
        Categorical model inputs (string, bool or category dtype) of the training data,
        other than the declared id column, whose number of distinct non-missing values
        exceeds ``max_levels`` (50), or whose distinct values per non-missing row exceed
        ``max_unique_ratio`` (0.5) when the column has more than ``min_levels`` (10)
        distinct values (so that a few levels on a few rows are not flagged). The metric
        ``high_cardinality_columns`` counts them and warns above 0; ``max_levels_seen``
        reports the largest number of levels.

    Why it matters:
        One-hot encoding a column with hundreds of levels explodes the feature space and
        overfits the rare levels; a column that is nearly unique per row is an
        identifier in disguise and lets the model memorise rows instead of learning.

    How to fix:
        Drop identifier-like columns (or declare them with ``--id-column``); group rare
        levels (``OneHotEncoder(min_frequency=...)``), use target or hashing encoders
        with cross-fitting, or replace the column by a coarser attribute.

    References:
        P1.5 of the practices; Micci-Barreca, SIGKDD Explorations 3(1), 2001;
        Cerda & Varoquaux, "Encoding high-cardinality string categorical variables",
        IEEE TKDE, 2020; scikit-learn ``TargetEncoder``.
    """

    id = "DQ010"
    name = "high-cardinality"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "max_levels": Param(default=50, kind="int", low=2, high=1_000_000, help="levels above which a categorical feature is high-cardinality"),
        "max_unique_ratio": Param(
            default=0.5, kind="float", low=0.0, high=1.0,
            help="distinct values per non-missing row above which a feature looks like an identifier",
        ),
        "min_levels": Param(
            default=10, kind="int", low=1, high=1_000_000,
            help="levels a feature needs before max_unique_ratio applies",
        ),
    }
    thresholds = {
        "high_cardinality_columns": Threshold(direction="above", warn=0, low=0, help="number of high-cardinality categorical features"),
    }
    practices = ("P1.5",)
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "Micci-Barreca, A preprocessing scheme for high-cardinality categorical attributes, SIGKDD Explorations 3(1), 2001",
        "Cerda & Varoquaux, Encoding high-cardinality string categorical variables, IEEE TKDE 34(3), 2022",
        "https://scikit-learn.org/stable/modules/preprocessing.html#target-encoder",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        frame = ctx.frame("train")
        max_levels, max_ratio, min_levels = int(params["max_levels"]), float(params["max_unique_ratio"]), int(params["min_levels"])
        cats = [
            c for c in _columns(ctx, "train", target=False)
            if c not in _declared_columns(ctx) and _is_categorical(frame[c])
        ]
        rows = []
        max_seen = 0
        for col in cats:
            s = frame[col]
            levels = int(s.nunique(dropna=True))
            non_missing = int(s.notna().sum())
            ratio = levels / non_missing if non_missing else 0.0
            max_seen = max(max_seen, levels)
            reasons = []
            if levels > max_levels:
                reasons.append(f"more than {max_levels} levels")
            if levels > min_levels and ratio > max_ratio:
                reasons.append(f"more than {max_ratio:g} distinct values per row")
            if reasons:
                rows.append([col, levels, _rate(ratio), "; ".join(reasons)])
        rows.sort(key=lambda r: -r[1])
        evidence = [
            Evidence(
                title="High-cardinality categorical features (train)",
                columns=["column", "levels", "levels per row", "reason"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "columns"),
            )
        ] if rows else []
        summary = (
            f"Counted the levels of {wording.count(len(cats), 'categorical train feature')}: {len(rows)} exceed the cardinality "
            f"limits; the most levels in one feature is {max_seen}."
            if cats
            else "Found no categorical feature in the training data; nothing to count."
        )
        recommendation = (
            "Drop identifier-like columns, group rare levels, or use a target or hashing encoder with cross-fitting."
            if rows
            else "Nothing to regroup."
        )
        return Findings(
            summary=summary,
            metrics={
                "high_cardinality_columns": Metric(len(rows), description="categorical features with too many levels"),
                "max_levels_seen": Metric(max_seen, description="most distinct values in one categorical feature"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )
