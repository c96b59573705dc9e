"""LK001: test rows that exactly repeat a training row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.compute import row_hashes
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import (
    MAX_EXAMPLES,
    OTHER_ROLES,
    _common_features,
    _empty,
    _rate,
    _skip,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Evidence tables stay small: renderers show them whole.
EXAMPLE_COLUMNS = 6


# -- LK001 ---------------------------------------------------------------------------
def _match_positions(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query hash, the position of the first reference row with that hash (-1 when none)."""
    first = ~pd.Series(reference).duplicated(keep="first").to_numpy()
    positions = np.flatnonzero(first)
    found = pd.Index(reference[first]).get_indexer(query)
    return np.where(found >= 0, positions[np.maximum(found, 0)], -1)


class RowOverlap(Check):
    """Test rows that exactly repeat a training row

    What it checks:
        Every row's model inputs are hashed (``pandas.util.hash_pandas_object``; numbers
        compared as float64, anything else as text, missing values equal to each other)
        and each test row is looked up among the training rows. The metric
        ``test_overlap_rate`` is the share of test rows whose inputs equal those of some
        training row; it warns above 0.01 and fails above 0.05. ``current_overlap_rate``
        is the same for the current (production) sample, when given, with the same
        thresholds. The share with the target included as well
        (``test_overlap_rate_with_target``) and the share of training rows that repeat
        another training row (``train_internal_overlap_rate``, the rate to expect by
        chance when the inputs take few distinct values) are reported, not judged.

    Why it matters:
        A test row that the model saw in training measures memory, not generalisation:
        the test score is optimistic by an amount that grows with the share of copies.
        Copies usually come from duplicated records, several rows per entity, or
        augmentation applied before the split.

    How to fix:
        Deduplicate before splitting, or split by entity (a group key) so that copies of
        one record cannot land on both sides; then re-evaluate on the cleaned test set.
        Where the inputs are few discrete values and repeats are genuine (compare with
        ``train_internal_overlap_rate``), raise the thresholds in the policy and say why.

    References:
        P4.2, P1.4 and P1.7 of the practices; Kaufman et al., "Leakage in data mining:
        formulation, detection, and avoidance", ACM TKDD 6(4), 2012; pandas
        ``hash_pandas_object``.
    """

    id = "LK001"
    name = "row-overlap"
    area = "leakage"
    severity = "high"
    engine_rows = "all"
    needs = frozenset({"train", "test"})
    thresholds = {
        "test_overlap_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of test rows whose inputs equal a training row's",
        ),
        "current_overlap_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of current rows whose inputs equal a training row's",
        ),
    }
    practices = ("P4.2", "P1.4", "P1.7")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "https://pandas.pydata.org/docs/reference/api/pandas.util.hash_pandas_object.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        roles = [r for r in OTHER_ROLES if ctx.has(r) and len(ctx.frame(r))]
        if not _common_features(ctx, "train", "test"):
            return _skip("train and test share no model input column.")
        metrics: dict[str, Metric] = {}
        rows, examples = [], []
        example_cols: list[str] = []
        internal = None
        for role in roles:
            other = ctx.frame(role)
            cols = _common_features(ctx, "train", role)
            if not cols:
                continue
            # Counted over every row by the engine (under Spark on the cluster); the examples come
            # from the rows at hand (under Spark the driver's sample).
            n = ctx.rows_available(role)
            if internal is None and role == "test":
                internal = ctx.stats.repeated_share("train", cols)
            count = ctx.stats.matching_rows(role, "train", cols)
            rate = count / n if n else 0.0
            with_target: float | None = None
            if ctx.target in train.columns and ctx.has_labels(role):
                with_target = ctx.stats.matching_rows(role, "train", cols + [ctx.target]) / n if n else 0.0
            rows.append([role, "train", n, count, _rate(rate),
                         _rate(with_target) if with_target is not None else "no labels"])
            if role in ("test", "current"):
                metrics[f"{role}_overlap_rate"] = Metric(
                    rate, description=f"share of {role} rows whose inputs equal a training row's"
                )
            if role == "test" and with_target is not None:
                metrics["test_overlap_rate_with_target"] = Metric(
                    with_target, description="share of test rows equal to a training row, target included"
                )
            if count and len(examples) < MAX_EXAMPLES:
                h_train, h_other = row_hashes([train, other], cols)
                match = _match_positions(h_train, h_other)
                matched = match >= 0
                shown = cols[:EXAMPLE_COLUMNS]
                example_cols = example_cols or shown
                if shown == example_cols:
                    positions = np.flatnonzero(matched)[: MAX_EXAMPLES - len(examples)]
                    values = other.iloc[positions][shown]
                    for pos, row in zip(positions, values.itertuples(index=False, name=None)):
                        examples.append([role, int(pos), int(match[pos]), *[_text(v) for v in row]])
        metrics["train_internal_overlap_rate"] = Metric(
            internal if internal is not None else 0.0,
            description="share of training rows whose inputs equal another training row's (chance level)",
        )
        evidence = [Evidence(
            title="Rows whose inputs equal a training row, per pair of datasets",
            columns=["dataset", "compared with", "rows", "matching rows", "rate", "rate with target"],
            rows=rows,
            note=f"{_rate(metrics['train_internal_overlap_rate'].value)} of training rows repeat another training row.",
        )]
        if examples:
            evidence.append(Evidence(
                title="Examples of rows that repeat a training row",
                columns=["dataset", "row", "train row", *example_cols],
                rows=examples,
                note="Rows are 0-based positions in each file; only the first columns are shown." if not ctx.stats.distributed
                else "Rows are 0-based positions in the samples drawn for the driver (the files' order where a sample holds "
                     "every row); only the first columns are shown.",
            ))
        test_row = next(r for r in rows if r[0] == "test")
        summary = (
            f"Hashed the model inputs of {', '.join(r[0] for r in rows)} and looked them up in train: "
            f"{test_row[3]} of {test_row[2]} test rows ({wording.share(test_row[4])}) repeat a training row exactly"
            + (
                f", {wording.share(metrics['current_overlap_rate'].value)} of current rows do"
                if "current_overlap_rate" in metrics else ""
            )
            + "."
        )
        any_match = any(r[3] for r in rows)
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Deduplicate before splitting, or split by a group key so that copies of a record cannot land "
                "on both sides; re-evaluate on test rows that do not repeat training rows."
                if any_match
                else "Nothing to remove; keep deduplicating before the split."
            ),
        )
