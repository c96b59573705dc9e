"""DQ002: duplicate rows within each dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Threshold
from auditor.contract.compute import row_hashes
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import _columns, _empty_train, _rate, _roles

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class DuplicateRows(Check):
    """Duplicate rows within each dataset

    What it checks:
        The share of rows in each dataset (train, validation, test, current) that repeat
        an earlier row of the same dataset exactly, over the model's input columns and the
        target. The metric ``max_duplicate_rate`` is the highest share over the datasets;
        any duplicate warns (above 0.0) and more than 5% fails. Rows shared between train
        and test are the leakage checks' concern.

    Why it matters:
        Duplicates add no information, weight some records more than others, and in test
        data they count the same prediction several times, which narrows confidence
        intervals that should not be narrow. Many duplicates often mean a join or an
        export went wrong.

    How to fix:
        Find out why rows repeat. Remove exact copies (``DataFrame.drop_duplicates``)
        when they are artefacts; when they are real repeated events, keep them but
        split by a group key so that copies do not straddle train and test.

    References:
        P1.4 of the practices; pandas documentation, ``DataFrame.duplicated``;
        Kandel et al., "Research directions in data wrangling", Information Visualization 10(4), 2011.
    """

    id = "DQ002"
    name = "duplicate-rows"
    area = "data_quality"
    severity = "low"
    engine_rows = "all"
    needs = frozenset({"train", "test"})
    thresholds = {
        "max_duplicate_rate": Threshold(
            direction="above", warn=0.0, fail=0.05, low=0, high=1,
            help="highest share of rows that repeat an earlier row of the same dataset",
        )
    }
    practices = ("P1.4",)
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.duplicated.html",
        "Kandel et al., Research directions in data wrangling, Information Visualization 10(4), 2011",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        rows, examples = [], []
        worst = (0.0, None)
        example_cols: list[str] = []
        for role in _roles(ctx):
            frame = ctx.frame(role)
            cols = _columns(ctx, role)
            if len(frame) == 0 or not cols:
                continue
            # Counted over every row by the engine (under Spark on the cluster); the examples come
            # from the rows at hand (under Spark the driver's sample).
            n = ctx.rows_available(role)
            count = ctx.stats.duplicate_rows(role, cols)
            rate = count / n
            rows.append([role, n, count, _rate(rate)])
            if rate > worst[0]:
                worst = (rate, role)
            if count and len(examples) < 5:
                # the rows at hand hashed as the engine hashes them, so the examples agree with the count
                dup = pd.Series(row_hashes([frame], cols)[0]).duplicated(keep="first").to_numpy()
                shown = cols[:6]
                example_cols = example_cols or shown
                if shown == example_cols:
                    positions = np.flatnonzero(dup)[: 5 - len(examples)]
                    part = frame.iloc[positions][shown]
                    for pos, values in zip(positions, part.itertuples(index=False, name=None)):
                        examples.append([role, int(pos), *[_text(v) for v in values]])
        evidence = [Evidence(title="Duplicate rows per dataset", columns=["dataset", "rows", "duplicates", "rate"], rows=rows)]
        if examples:
            evidence.append(
                Evidence(
                    title="Examples of duplicated rows",
                    columns=["dataset", "row", *example_cols],
                    rows=examples,
                    note="Row is the 0-based position in the file; only the first columns are shown."
                    if not ctx.stats.distributed else
                    "Row is the 0-based position in the sample drawn for the driver (the file's order where the sample holds "
                    "every row); only the first columns are shown.",
                )
            )
        rate, role = worst
        total = sum(r[2] for r in rows)
        summary = (
            f"Counted rows that repeat an earlier row in {', '.join(r[0] for r in rows)}: {total} in total"
            + (f", the highest share is {wording.share(rate)} ({role})." if role else ".")
        )
        recommendation = (
            "Find out why rows repeat; drop exact copies that are artefacts, or split by a group key "
            "so copies never straddle train and test."
            if total
            else "Nothing to remove."
        )
        return Findings(
            summary=summary,
            metrics={
                "max_duplicate_rate": Metric(rate, description="highest share of duplicated rows in any dataset"),
                "duplicate_rows": Metric(total, description="duplicated rows over all datasets"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )
