"""What the fairness check tests share: the run by check ID, contexts with a sensitive group,
and the planted cases of two checks each (FR001 and FR007, FR002 and FR004)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.contract.results import CheckResult
from auditor.engine.registry import load_registry
from tests.conftest import fit_pipeline, make_binary_frame, run_result
from tests.planted import _ctx, _with_group

FEATURES = ["x1", "x2", "colour", "noise"]
REGISTRY = load_registry()


def run(cid: str, ctx: AuditContext, **overrides) -> CheckResult:
    return run_result(REGISTRY.get(cid).cls, ctx, **overrides)


def metric(result: CheckResult, name: str) -> dict:
    return result.metrics[name]


# -- contexts ---------------------------------------------------------------------------
def with_group(ctx: AuditContext, *, seed: int = 7, groups=("A", "B"), column: str = "group") -> AuditContext:
    rng = np.random.default_rng(seed)
    for frame in ctx.datasets.values():
        frame[column] = rng.choice(list(groups), size=len(frame))
    ctx.sensitive = [*ctx.sensitive, column] if column not in ctx.sensitive else ctx.sensitive
    return ctx


def binary_ctx(*, n_test: int = 3000, seed: int = 22) -> AuditContext:
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(n_test, seed=seed)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=list(FEATURES),
                        model=SklearnAdapter(fit_pipeline(make_binary_frame(3000, seed=11))),
                        positive_label=1, classes=[0, 1], seed=0)


def predictions_ctx(frame: pd.DataFrame, *, sensitive=("group",), score: bool = False) -> AuditContext:
    """Predictions-only binary context: labels 'y', predictions 'pred' (and 'score') as columns."""
    frame = frame.reset_index(drop=True).copy()
    if "f" not in frame:
        frame["f"] = np.arange(len(frame)) % 7
    model = PredictionsAdapter(prediction_column="pred", score_column="score" if score else None)
    return AuditContext(datasets={"train": frame, "test": frame}, target="y", task="binary", features=["f"],
                        model=model, positive_label=1, classes=[0, 1], sensitive=list(sensitive), seed=0)


def group_aware_ctx(**kwargs) -> AuditContext:
    ctx = with_group(binary_ctx())
    ctx.model = SklearnAdapter(GroupAware(fit_pipeline(make_binary_frame(3000, seed=11)), **kwargs))
    ctx.features = FEATURES + ["group"]
    return ctx


def three_group_frame(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    """Labels and predictions whose rates differ by group (A, B, C of 50/30/20%)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    base = np.select([group == "A", group == "B"], [0.5, 0.35], 0.25)
    y = (rng.uniform(size=n) < base).astype(int)
    tpr = np.select([group == "A", group == "B"], [0.85, 0.7], 0.6)
    fpr = np.select([group == "A", group == "B"], [0.2, 0.1], 0.15)
    pred = np.where(y == 1, rng.uniform(size=n) < tpr, rng.uniform(size=n) < fpr).astype(int)
    score = np.clip(0.5 * pred + 0.4 * rng.uniform(size=n) + 0.05, 0, 1)
    return pd.DataFrame({"group": group, "y": y, "pred": pred, "score": score, "x": rng.normal(size=n)})


# -- planted cases of two checks each: FR002 and FR004, FR001 and FR007 ----------------------
class GroupAware:
    """A fitted classifier that also receives the sensitive column 'group': for rows of group B it
    multiplies the positive-class probability by ``factor`` (predictions follow: fewer positives)
    and raises the probabilities to ``power`` (renormalised: over-confident, labels unchanged)."""

    def __init__(self, model, *, factor: float = 1.0, power: float = 1.0):
        self.model, self.factor, self.power, self.classes_ = model, factor, power, model.classes_

    def predict_proba(self, X):
        proba = self.model.predict_proba(X[FEATURES]).copy()
        hit = (X["group"] == "B").to_numpy()
        proba[hit, 1] *= self.factor
        proba[hit] = proba[hit] ** self.power
        proba[hit] /= proba[hit].sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _group_aware(**kwargs) -> AuditContext:
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    ctx.model = SklearnAdapter(GroupAware(fit_pipeline(make_binary_frame(3000, seed=11)), **kwargs))
    ctx.features = FEATURES + ["group"]
    return ctx


def _fr_group_label_noise() -> AuditContext:
    """35% of group B's test labels flipped: the model's error rate in B roughly doubles."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    test = ctx.datasets["test"]
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(3).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return ctx
