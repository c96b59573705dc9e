"""What a model comparison judges: the metric choices, their direction, the unbounded
ones (a margin must be given for them) and the metric chosen for a task. Read by the
comparison checks (CP) and by ``auditor compare`` before any check runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
#: Metrics in the target's own units, with no natural scale: a margin must be given for them
#: (in those units, or relative to the baseline's score), never defaulted.
UNBOUNDED = frozenset({"rmse", "mae"})
#: Every metric a comparison can judge, with its scikit-learn scorer name.
SCORERS = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "f1": "f1_macro", "roc_auc": "roc_auc",
    "log_loss": "neg_log_loss", "rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2",
}
#: What ``--metric`` accepts (the CLI's choice list and the CP checks' ``metric`` param): auto or a scored metric.
METRIC_CHOICES = ("auto", *SCORERS)


def baseline_name(ctx: AuditContext) -> str:
    return next(iter(ctx.others))


def candidate_names(ctx: AuditContext) -> list[str]:
    """The model under audit, then every other model but the baseline."""
    return [ctx.model_name, *list(ctx.others)[1:]]


def chosen_metric(ctx: AuditContext, requested: str) -> str:
    """The metric a comparison judges: as requested, or the natural one for the task."""
    has_scores = all(ctx.for_model(n).probabilities("test") is not None for n in [ctx.model_name, *ctx.others])
    if requested != "auto":
        if requested in ("roc_auc", "log_loss") and not has_scores:
            raise ValueError(f"--metric {requested} needs probabilities from every model")
        if (requested in ("rmse", "mae", "r2")) != (ctx.task == "regression"):
            raise ValueError(f"--metric {requested} does not apply to a {ctx.task} task")
        return requested
    if ctx.task == "regression":
        return "rmse"
    return "roc_auc" if ctx.task == "binary" and has_scores else "accuracy"
