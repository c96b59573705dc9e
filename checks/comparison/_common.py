"""What the model comparisons share: the common parameters, the paired outputs of the baseline and
a candidate, and the orientation of a test's estimate as an improvement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.contract.check import Param
from auditor.toolkit.comparison import LOWER_IS_BETTER, METRIC_CHOICES, baseline_name
from auditor.toolkit.evaluation import evaluation_problem, model_outputs

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def _oriented(result, metric: str) -> tuple[float, float | None, float | None]:
    """The test's B - A estimate and interval turned into an improvement (positive = B better)."""
    est, low, high = result.estimate, result.ci_low, result.ci_high
    if metric in LOWER_IS_BETTER:
        return -est, (None if high is None else -high), (None if low is None else -low)
    return est, low, high


def one_sided_worse(p_two_sided: float | None, improvement: float) -> float | None:
    """One-sided p-value for 'the candidate is worse', from a two-sided test and the estimate's sign."""
    if p_two_sided is None:
        return None
    half = min(1.0, p_two_sided) / 2
    return half if improvement < 0 else 1.0 - half


def _paired(ctx: AuditContext, name: str):
    base = model_outputs(ctx.for_model(baseline_name(ctx)), "test")
    cand = model_outputs(ctx.for_model(name), "test")
    problem = evaluation_problem(base)
    return base, cand, problem


COMMON_PARAMS = {
    "metric": Param(default="auto", kind="str", help="metric compared (auto: ROC AUC with probabilities, else accuracy; RMSE for regression)",
                    choices=METRIC_CHOICES),
    "confidence": Param(default=0.95, kind="float", help="two-sided confidence of the intervals", low=0.5, high=0.999),
    "n_resamples": Param(default=1000, kind="int", help="bootstrap and permutation resamples", low=100, high=100000),
}
