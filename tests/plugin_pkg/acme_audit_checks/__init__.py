"""A third-party check package: nothing in auditor's repository refers to it."""

from auditor.contract.check import Check, Threshold
from auditor.contract.results import Evidence, Findings, Metric


class RowCount(Check):
    """Enough test rows for a stable estimate

    What it checks:
        The number of rows in the test set.

    Why it matters:
        A tiny test set gives a score that moves with every resample.

    How to fix:
        Hold out more data for testing.

    References:
        ACME internal model standard, section 4.
    """

    id = "ACME001"
    name = "acme-test-row-count"
    area = "significance"
    severity = "medium"
    needs = frozenset({"test"})
    thresholds = {"test_rows": Threshold(direction="below", warn=1000, fail=100, low=0)}
    practices = ("P4.1",)

    def run(self, ctx, params):
        n = len(ctx.frame("test"))
        return Findings(
            summary=f"The test set has {n} rows.",
            metrics={"test_rows": Metric(n, description="rows in the test set")},
            evidence=[Evidence(title="Test set size", columns=["rows"], rows=[[n]])],
            recommendation="Hold out at least 1,000 rows for testing.",
        )
