"""The one place where metrics meet thresholds and become statuses.

Rules, for a threshold with ``direction="above"`` (``"below"`` mirrors them):

* a metric without a value (``None``) is ``inconclusive``;
* a p-value (``Metric.p_value``) is judged on its corrected value (``adjusted``) once the
  engine has applied the audit-wide correction (``auditor.multiple_testing``);
* a point estimate strictly above ``fail`` is ``fail``, above ``warn`` is ``warn``,
  otherwise ``pass``;
* a metric with a confidence interval that contains the ``fail`` level cannot be
  decided by the data: it is ``inconclusive`` whatever its point estimate;
* a check's status is the worst of its judged metrics (``fail`` > ``inconclusive`` >
  ``warn`` > ``pass``); a check with no judged metric passes.
"""

from __future__ import annotations

from typing import Any, Mapping

from auditor.check import Threshold
from auditor.results import STATUS_RANK, Metric


def _beyond(value: float, level: float | None, direction: str) -> bool:
    if level is None:
        return False
    return value > level if direction == "above" else value < level


def judge_metric(metric: Metric, threshold: Threshold | Mapping[str, Any]) -> str:
    th = threshold.as_dict() if isinstance(threshold, Threshold) else dict(threshold)
    direction, warn, fail = th["direction"], th.get("warn"), th.get("fail")
    if metric.p_value and metric.adjusted is not None:
        # A p-value is judged after the audit-wide multiple-testing correction.
        metric = Metric(metric.adjusted)
    if metric.value is None:
        return "inconclusive"
    if fail is not None and metric.ci_low is not None and metric.ci_high is not None:
        low_beyond = _beyond(metric.ci_low, fail, direction)
        high_beyond = _beyond(metric.ci_high, fail, direction)
        if low_beyond != high_beyond:
            return "inconclusive"
    if _beyond(metric.value, fail, direction):
        return "fail"
    if _beyond(metric.value, warn, direction):
        return "warn"
    return "pass"


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
