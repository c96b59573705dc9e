"""The model's outputs on a dataset, ready for scoring: one place that every check uses.

Classification labels are encoded as class indices (scikit-learn's metrics are many
times faster on small integers than on strings), unlabelled rows are dropped, and each
metric is paired with the output it scores (labels, positive-class scores or the
probability matrix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.toolkit.stats import MetricSpec, encode_labels, metric_function, metric_specs
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


@dataclass
class Outputs:
    role: str
    task: str
    y: np.ndarray
    pred: np.ndarray
    #: binary: positive-class probability; multiclass: the probability matrix; else None
    scores: np.ndarray | None
    positive: Any
    classes: list[Any] | None
    rows: np.ndarray  # positions in the role's table
    #: False when ``scores`` only rank the rows (predictions-only mode, ``--score-kind rank``):
    #: ROC AUC reads them, log-loss does not.
    probabilities: bool = True

    def __len__(self) -> int:
        return len(self.y)

    def specs(self) -> list[MetricSpec]:
        return metric_specs(self.task, has_scores=self.scores is not None, probabilities=self.probabilities)

    def scorer(self, name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        return metric_function(name, task=self.task, positive_label=self.positive, classes=self.classes)

    def output_for(self, spec: MetricSpec) -> np.ndarray:
        return self.scores if spec.needs_scores else self.pred

    def score(self, name: str) -> float:
        spec = next(s for s in self.specs() if s.name == name)
        return float(self.scorer(name)(self.y, self.output_for(spec)))

    def subset(self, positions: np.ndarray) -> Outputs:
        return Outputs(
            role=self.role, task=self.task, y=self.y[positions], pred=self.pred[positions],
            scores=None if self.scores is None else self.scores[positions],
            positive=self.positive, classes=self.classes, rows=self.rows[positions], probabilities=self.probabilities,
        )


def primary_metric(task: str) -> str:
    """The metric a check judges when it judges one: balanced accuracy or R²."""
    return "r2" if task == "regression" else "balanced_accuracy"


def model_outputs(ctx: AuditContext, role: str, positions: np.ndarray | None = None) -> Outputs:
    """Labels, predictions and scores of ``role`` (optionally only ``positions``), labelled rows only."""
    y_all = ctx.y(role)
    if y_all is None:
        raise ValueError(f"the {role} data has no target column {ctx.target!r}")
    rows = np.arange(len(y_all)) if positions is None else np.asarray(positions)
    labelled = ~y_all.isna().to_numpy()[rows]
    rows = rows[labelled]
    y = y_all.to_numpy()[rows]
    pred = np.asarray(ctx.predictions(role))[rows]
    proba = ctx.probabilities(role)
    scores = None
    probabilities = True
    positive, classes = ctx.positive_label, ctx.classes
    if ctx.is_classification:
        y, pred = encode_labels(y, ctx.classes), encode_labels(pred, ctx.classes)
        classes = list(range(len(ctx.classes)))
        positive = ctx.positive_index if ctx.task == "binary" else None
        if proba is not None:
            scores = proba[rows, positive] if ctx.task == "binary" else proba[rows]
        elif ctx.task == "binary" and (ranking := ctx.ranking_scores(role)) is not None:
            scores, probabilities = ranking[rows], False
    else:
        y, pred = y.astype(float), pred.astype(float)
    return Outputs(role=role, task=ctx.task, y=y, pred=pred, scores=scores, positive=positive, classes=classes, rows=rows,
                   probabilities=probabilities)


MIN_ROWS = 10


def evaluation_problem(out: Outputs) -> str | None:
    """Why these outputs cannot support a metric estimate, or None when they can."""
    if len(out) < MIN_ROWS:
        return f"only {len(out)} labelled {out.role} rows: too few to estimate a metric and its interval"
    if out.task != "regression" and len(np.unique(out.y)) < 2:
        return (
            f"the {out.role} rows hold a single class: balanced accuracy, F1 and ROC AUC are undefined or "
            "meaningless without both classes"
        )
    return None
