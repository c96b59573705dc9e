"""Tiny check classes used by the engine tests (not registered through entry points)."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Findings, Metric

DOC = """{title}

What it checks:
    A test metric.

Why it matters:
    Tests need a check.

How to fix:
    Nothing to fix.

References:
    None.
"""


class ShareAbove(Check):
    __doc__ = DOC.format(title="Share of x1 above a cut-off")
    id = "TST001"
    name = "share-above"
    area = "data_quality"
    severity = "high"
    needs = frozenset({"train"})
    params = {"cut": Param(default=0.0, kind="float", help="cut-off", low=-10, high=10)}
    thresholds = {"share": Threshold(direction="above", warn=0.4, fail=0.6, low=0, high=1)}

    def run(self, ctx, params):
        x = ctx.frame("train")["x1"]
        share = float((x > params["cut"]).mean())
        return Findings(summary=f"{share:.2f} of rows above {params['cut']}", metrics={"share": Metric(share)})


class Raises(Check):
    __doc__ = DOC.format(title="Always raises")
    id = "TST002"
    name = "always-raises"
    area = "data_quality"
    severity = "low"

    def run(self, ctx, params):
        raise ValueError("planted bug")


class NeedsCurrent(Check):
    __doc__ = DOC.format(title="Needs a current sample")
    id = "TST003"
    name = "needs-current"
    area = "drift"
    needs = frozenset({"current"})
    thresholds = {"x": Threshold(direction="above", fail=1)}

    def run(self, ctx, params):  # pragma: no cover - skipped in tests
        return Findings(summary="ran", metrics={"x": Metric(0)})


class UsesPredictions(Check):
    __doc__ = DOC.format(title="Reads the test predictions")
    id = "TST004"
    name = "uses-predictions"
    area = "significance"
    needs = frozenset({"test", "predictions"})
    thresholds = {"error_rate": Threshold(direction="above", fail=0.5, low=0, high=1)}

    def run(self, ctx, params):
        pred = ctx.predictions("test")
        err = float((pred != ctx.y("test").to_numpy()).mean())
        return Findings(summary=f"error rate {err:.3f}", metrics={"error_rate": Metric(err)})


ALL = [ShareAbove, Raises, NeedsCurrent, UsesPredictions]


class TwoPValues(Check):
    __doc__ = DOC.format(title="Two p-values judged after correction")
    id = "TST005"
    name = "two-p-values"
    area = "significance"
    thresholds = {
        "p_first": Threshold(direction="above", fail=0.05, low=0, high=1),
        "p_second": Threshold(direction="above", fail=0.05, low=0, high=1),
    }

    def run(self, ctx, params):
        return Findings(
            summary="two tests",
            metrics={"p_first": Metric(0.03, p_value=True), "p_second": Metric(0.04, p_value=True)},
        )


class Sleeps(Check):
    __doc__ = DOC.format(title="Runs for as long as it is told")
    id = "TST006"
    name = "sleeps"
    area = "data_quality"
    severity = "low"
    params = {"seconds": Param(default=0.05, kind="float", help="how long to run", low=0, high=60)}
    thresholds = {"x": Threshold(direction="above", fail=1)}

    def run(self, ctx, params):
        import time

        deadline = time.monotonic() + params["seconds"]
        while time.monotonic() < deadline:  # Python-level work, which a time limit interrupts
            time.sleep(0.01)
        return Findings(summary="done", metrics={"x": Metric(0)})


class Swallows(Sleeps):
    __doc__ = DOC.format(title="Catches every Exception while it runs")
    id = "TST007"
    name = "swallows"

    def run(self, ctx, params):
        try:
            return super().run(ctx, params)
        except Exception:  # a check's own broad except must not hide the time limit
            return Findings(summary="swallowed", metrics={"x": Metric(0)})
