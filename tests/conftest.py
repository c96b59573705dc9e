"""Shared fixtures: small synthetic data and models built in code with a fixed seed."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest


def make_binary_frame(n: int = 600, *, seed: int = 0) -> pd.DataFrame:
    """A clean binary task: two numeric signals, one categorical, one noise column."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    noise = rng.uniform(0, 10, size=n)
    logit = 1.5 * x1 - 1.0 * x2 + np.where(colour == "red", 0.5, 0.0)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "noise": noise, "y": y})


def fit_pipeline(train: pd.DataFrame, target: str = "y"):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = train.drop(columns=[target])
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    nums = [c for c in X.columns if c not in cats]
    prep = ColumnTransformer(
        [("num", StandardScaler(), nums), ("cat", OneHotEncoder(handle_unknown="ignore"), cats)]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])
    return model.fit(X, train[target])


@pytest.fixture()
def clean_audit_files(tmp_path):
    """train.csv, test.csv and a skops model for a clean binary task."""
    import skops.io as sio

    frame = make_binary_frame(900, seed=1)
    train, test = frame.iloc[:600].reset_index(drop=True), frame.iloc[600:].reset_index(drop=True)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    model = fit_pipeline(train)
    sio.dump(model, tmp_path / "model.skops")
    return {
        "dir": tmp_path,
        "train": str(tmp_path / "train.csv"),
        "test": str(tmp_path / "test.csv"),
        "model": str(tmp_path / "model.skops"),
    }


def run_check(cls, ctx, **overrides):
    """Run a check with its defaults (plus overrides) and judge it as the engine does."""
    from auditor.engine.thresholds import judge

    params = {k: p.default for k, p in cls.params.items()}
    params.update(overrides)
    findings = cls().run(ctx, params)
    status = findings.status or judge(findings.metrics, {k: t.as_dict() for k, t in cls.thresholds.items()})
    return findings, status
