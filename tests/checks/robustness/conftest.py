"""What the robustness check tests share: models, contexts and the clean control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame

FEATURES = ["x1", "x2", "colour", "noise"]
NUMERIC = ["x1", "x2", "noise"]


def make_ctx(model, train: pd.DataFrame, test: pd.DataFrame, *, features=None, task="binary", fit=True, **kwargs) -> AuditContext:
    features = features or FEATURES
    if fit:
        model = model.fit(train[features], train["y"])
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    return AuditContext(datasets={"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)},
                        target="y", task=task, features=features, model=SklearnAdapter(model), seed=0, **kwargs)


def ordinal():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    # Output columns: colour, x1, x2, noise. A missing colour stays NaN for the booster to route.
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    return ColumnTransformer([("cat", encoder, ["colour"])], remainder="passthrough")


def imputing_logistic(fill: str | float = "median"):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    imputer = SimpleImputer(strategy="median") if fill == "median" else SimpleImputer(strategy="constant", fill_value=fill)
    prep = ColumnTransformer([("num", make_pipeline(imputer, StandardScaler()), NUMERIC),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])


def boosting(monotonic_cst=None):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    clf = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.1, max_iter=100, min_samples_leaf=40,
                                         l2_regularization=1.0, monotonic_cst=monotonic_cst, random_state=0)
    return Pipeline([("prep", ordinal()), ("clf", clf)])


def clean_ctx(**kwargs) -> AuditContext:
    """A logistic model with median imputation, increasing in x1 and decreasing in x2."""
    return make_ctx(imputing_logistic(), make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22), **kwargs)


@pytest.fixture(scope="module")
def clean():
    return clean_ctx()
