"""What the significance check tests share: binary, regression and predictions-only contexts,
and the tiny test set planted for ST001 and ST003."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.adapters import PredictionsAdapter, SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.planted import _ctx

FEATURES = ["x1", "x2", "colour", "noise"]


def binary_ctx(model=None, *, n_train: int = 3000, n_test: int = 3000, seed: int = 21) -> AuditContext:
    train, test = make_binary_frame(n_train, seed=seed), make_binary_frame(n_test, seed=seed + 1)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(model if model is not None else fit_pipeline(train)),
                        positive_label=1, classes=[0, 1], seed=0)


def predictions_ctx(y_test, pred, *, y_train=None, task="binary", classes=(0, 1), scores=None) -> AuditContext:
    """A predictions-only context: the model's outputs stored as columns of the test data."""
    y_test = np.asarray(y_test)
    test = pd.DataFrame({"f": np.zeros(len(y_test)), "y": y_test, "pred": np.asarray(pred)})
    if scores is not None:
        test["score"] = scores
    y_train = y_test if y_train is None else np.asarray(y_train)
    train = pd.DataFrame({"f": np.zeros(len(y_train)), "y": y_train, "pred": y_train})
    return AuditContext(
        datasets={"train": train, "test": test}, target="y", task=task, features=["f"],
        model=PredictionsAdapter(prediction_column="pred", score_column="score" if scores is not None else None),
        positive_label=classes[-1] if task == "binary" else None, classes=None if task == "regression" else list(classes), seed=0,
    )


def regression_ctx(*, useless: bool = False, n: int = 2000) -> AuditContext:
    """y = 2a - b + noise; a ridge regression on a and b, or (useless) on the irrelevant column z only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=2 * n), "b": rng.normal(size=2 * n), "z": rng.normal(size=2 * n)})
    frame = X.assign(y=2 * X["a"] - X["b"] + rng.normal(size=2 * n))
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].reset_index(drop=True)
    uses = ["z"] if useless else ["a", "b"]
    model = make_pipeline(ColumnTransformer([("x", "passthrough", uses)]), Ridge(alpha=1.0))
    model.fit(train[["a", "b", "z"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="regression", features=["a", "b", "z"],
                        model=SklearnAdapter(model), seed=0)


# -- the case planted for ST001 and ST003 --------------------------------------------------
def _tiny_test() -> AuditContext:
    return _ctx(make_binary_frame(2000, seed=1), make_binary_frame(40, seed=2))
