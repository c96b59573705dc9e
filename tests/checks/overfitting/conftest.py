"""What the overfitting check tests share: a tree fitted on noisy labels, a clean model, and
regression contexts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame

FEATURES = ["x1", "x2", "colour", "noise"]


def noisy_tree_ctx(noise: float = 0.2, seed: int = 0) -> AuditContext:
    """An unpruned decision tree fitted on labels of which `noise` were flipped."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(4000, seed=seed)
    rng = np.random.default_rng(seed)
    flip = rng.uniform(size=len(frame)) < noise
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    train, test = frame.iloc[:2500].reset_index(drop=True), frame.iloc[2500:].reset_index(drop=True)
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder="passthrough")
    tree = Pipeline([("prep", prep), ("tree", DecisionTreeClassifier(random_state=0))]).fit(train[FEATURES], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(tree), positive_label=1, classes=[0, 1], seed=0)


def clean_ctx(n_train: int = 3000, n_test: int = 3000) -> AuditContext:
    train, test = make_binary_frame(n_train, seed=21), make_binary_frame(n_test, seed=22)
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=FEATURES,
                        model=SklearnAdapter(fit_pipeline(train)), positive_label=1, classes=[0, 1], seed=0)


def regression_ctx(*, overfit: bool) -> AuditContext:
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = 2 * X["a"] - X["b"] + rng.normal(scale=1.0, size=n)
    frame = X.assign(y=y)
    train, test = frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)
    model = DecisionTreeRegressor(random_state=0) if overfit else Ridge(alpha=1.0)
    model.fit(train[["a", "b"]], train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="regression", features=["a", "b"],
                        model=SklearnAdapter(model), seed=0)
