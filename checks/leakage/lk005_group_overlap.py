"""LK005: groups that appear in both training and test data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import (
    OTHER_ROLES,
    _as_float,
    _as_text,
    _empty,
    _rate,
    _skip,
)

pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- LK005 ---------------------------------------------------------------------------
def _group_keys(train: pd.Series, other: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Group values of two datasets in one representation (int and float compare as numbers)."""
    if _is_numeric(train) and _is_numeric(other) and train.dtype != other.dtype:
        return pd.Series(_as_float(train)), pd.Series(_as_float(other))
    if (_is_numeric(train) or _is_numeric(other)) and not (_is_numeric(train) and _is_numeric(other)):
        return _as_text(train).reset_index(drop=True), _as_text(other).reset_index(drop=True)
    return train.reset_index(drop=True), other.reset_index(drop=True)


class GroupOverlap(Check):
    """Groups that appear in both training and test data

    What it checks:
        The declared group column (``--group-column``: a patient, customer, device or
        session) in train and test. The metric ``test_group_overlap_rate`` is the share
        of test rows whose group also appears in train; any fails (above 0.0). The share
        of distinct test groups seen in train (``test_group_overlap_share``), the number of
        shared groups and, when a current sample is given, the share of its rows in a
        training group (``current_group_overlap_rate``, expected in production) are
        reported. Missing group values never count as shared.

    Why it matters:
        Rows of one group are not independent: they share the person, the device, the
        measurement conditions. When a group straddles the split, the model is tested on
        people it has already seen and the score overstates how it does on new ones,
        often by a wide margin.

    How to fix:
        Split by group: ``sklearn.model_selection.GroupShuffleSplit`` or ``GroupKFold``
        (``StratifiedGroupKFold`` to keep classes balanced), then re-evaluate on test
        groups that training never saw.

    References:
        P4.2, P1.7 and P4.1 of the practices; scikit-learn user guide, "Cross-validation
        iterators for grouped data"; Roberts et al., "Cross-validation strategies for data
        with temporal, spatial, hierarchical, or phylogenetic structure", Ecography 40(8), 2017.
    """

    id = "LK005"
    name = "group-overlap"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test", "group"})
    thresholds = {
        "test_group_overlap_rate": Threshold(
            direction="above", fail=0.0, low=0, high=1,
            help="share of test rows whose group also appears in train",
        )
    }
    practices = ("P4.2", "P1.7", "P4.1")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "https://scikit-learn.org/stable/modules/cross_validation.html#group-cv",
        "Roberts et al., Cross-validation strategies for data with temporal, spatial, hierarchical, or phylogenetic structure, Ecography 40(8), 2017",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        group = ctx.group_column
        if not group:
            return _skip("no group column was declared (--group-column).")
        for role in ("train", "test"):
            if group not in ctx.frame(role).columns:
                return _skip(f"the group column {group!r} is not in the {role} data.")
        train_groups = ctx.frame("train")[group]
        metrics: dict[str, Metric] = {}
        rows = []
        shared_table: list[list[Any]] = []
        for role in [r for r in OTHER_ROLES if ctx.has(r) and group in ctx.frame(r).columns]:
            g_train, g_other = _group_keys(train_groups, ctx.frame(role)[group])
            known = g_train.dropna().unique()
            present = g_other.notna().to_numpy()
            shared_rows = g_other.isin(known).to_numpy() & present
            n = len(g_other)
            rate = float(shared_rows.sum() / n) if n else 0.0
            other_groups = g_other.dropna().unique()
            shared_groups = int(pd.Series(other_groups).isin(known).sum())
            share = shared_groups / len(other_groups) if len(other_groups) else 0.0
            rows.append([role, n, int((~present).sum()), len(other_groups), shared_groups, _rate(share), int(shared_rows.sum()), _rate(rate)])
            if role in ("test", "current"):
                metrics[f"{role}_group_overlap_rate"] = Metric(rate, description=f"share of {role} rows whose group appears in train")
            if role == "test":
                metrics["test_group_overlap_share"] = Metric(share, description="share of distinct test groups that appear in train")
                metrics["shared_groups"] = Metric(shared_groups, description="groups present in both train and test")
                if shared_groups:
                    test_counts = g_other[shared_rows].value_counts()
                    train_counts = g_train.value_counts()
                    shared_table = [
                        [_text(g), int(train_counts.get(g, 0)), int(k)] for g, k in test_counts.head(10).items()
                    ]
        evidence = [Evidence(
            title=f"Groups of {group!r} shared with train, per dataset",
            columns=["dataset", "rows", "rows without a group", "groups", "groups also in train", "share of groups", "rows in shared groups", "share of rows"],
            rows=rows,
        )]
        if shared_table:
            evidence.append(Evidence(
                title="Groups present in both train and test (largest in test first)",
                columns=["group", "train rows", "test rows"],
                rows=shared_table,
                note=(f"{metrics['shared_groups'].value - len(shared_table)} more shared groups not shown."
                      if metrics["shared_groups"].value > len(shared_table) else ""),
            ))
        test_row = next(r for r in rows if r[0] == "test")
        summary = (
            f"Compared the groups of {group!r}: {test_row[4]} of {test_row[3]} test groups also appear in train, "
            f"holding {wording.share(test_row[7])} of test rows"
            + (f"; {wording.share(metrics['current_group_overlap_rate'].value)} of current rows belong to a training group."
               if "current_group_overlap_rate" in metrics else ".")
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Split by group (GroupShuffleSplit, GroupKFold or StratifiedGroupKFold) so that no group is on both "
                "sides, and re-evaluate on unseen groups."
                if test_row[4]
                else "Nothing to change; keep splitting by group."
            ),
        )
