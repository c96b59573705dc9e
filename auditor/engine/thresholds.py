"""The one place where metrics meet thresholds and become statuses.

Rules, for a threshold with ``direction="above"`` (``"below"`` mirrors them):

* a metric without a value (``None``) is ``inconclusive``;
* a p-value (``Metric.p_value``) is judged on its corrected value (``adjusted``) once the
  engine has applied the audit-wide correction (``auditor.engine.multiple_testing``);
* a point estimate strictly above ``fail`` is ``fail``, above ``warn`` is ``warn``,
  otherwise ``pass``;
* a metric with a confidence interval that contains the ``fail`` level cannot be
  decided between ``fail`` and what lies below it: it is ``inconclusive``. What the
  interval *does* decide is kept with the metric: ``at_least`` is ``warn`` when the whole
  interval lies beyond the ``warn`` level (the data shows at least a warning), ``pass``
  otherwise; ``point_status`` is the status of the point estimate alone; ``decided``
  says both in words ("fail at the point estimate; at least warn: the whole interval
  lies beyond the warn level"). The gate reads ``at_least`` (``undecided_fail_on`` in
  the policy): an undecided result that is at least ``warn`` at or above that severity
  blocks, so clear evidence of a problem is never passed silently for lack of a
  narrower interval;
* a check's status is the worst of its judged metrics (``fail`` > ``inconclusive`` >
  ``warn`` > ``pass``); a check with no judged metric passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.contract.check import Threshold
from auditor.contract.results import STATUS_RANK, Metric


def _beyond(value: float, level: float | None, direction: str) -> bool:
    if level is None:
        return False
    return value > level if direction == "above" else value < level


def _point_status(value: float, warn: float | None, fail: float | None, direction: str) -> str:
    if _beyond(value, fail, direction):
        return "fail"
    if _beyond(value, warn, direction):
        return "warn"
    return "pass"


def judge_metric(metric: Metric, threshold: Threshold | Mapping[str, Any]) -> str:
    """The status of one metric; an undecided one also gets ``at_least``, ``point_status`` and ``decided``."""
    th = threshold.as_dict() if isinstance(threshold, Threshold) else dict(threshold)
    direction, warn, fail = th["direction"], th.get("warn"), th.get("fail")
    judged = metric
    if metric.p_value and metric.adjusted is not None:
        # A p-value is judged after the audit-wide multiple-testing correction.
        judged = Metric(metric.adjusted)
    metric.at_least = metric.point_status = metric.decided = None
    if judged.value is None:
        return "inconclusive"
    point = _point_status(judged.value, warn, fail, direction)
    if fail is not None and judged.ci_low is not None and judged.ci_high is not None:
        low_beyond = _beyond(judged.ci_low, fail, direction)
        high_beyond = _beyond(judged.ci_high, fail, direction)
        if low_beyond != high_beyond:
            # The interval reaches on both sides of the fail level. Its near end says what is decided.
            near = judged.ci_low if direction == "above" else judged.ci_high
            at_least = "warn" if _beyond(near, warn, direction) else "pass"
            metric.at_least, metric.point_status = at_least, point
            metric.decided = (f"{point} at the point estimate; "
                              + ("at least warn: the whole interval lies beyond the warn level" if at_least == "warn"
                                 else "the interval reaches from the pass side to the fail side, so the data cannot decide"))
            return "inconclusive"
    return point


def judge(metrics: dict[str, Metric], thresholds: Mapping[str, Mapping[str, Any]]) -> str:
    """Write each judged metric's threshold and status into it; return the check status."""
    worst = "pass"
    for name, th in thresholds.items():
        metric = metrics.get(name)
        if metric is None:
            continue
        metric.threshold = dict(th)
        metric.status = judge_metric(metric, th)
        if STATUS_RANK[metric.status] > STATUS_RANK[worst]:
            worst = metric.status
    return worst
