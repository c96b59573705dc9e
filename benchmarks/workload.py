"""The benchmark workload, shared by our runs and the peers' (which import it by path).

A binary task like the one the peers were measured on: 25 features (20 numeric, 5
categorical), one binary sensitive column (``group``, also a model input), a
scikit-learn HistGradientBoosting pipeline and a 70/30 split. Only NumPy, pandas and
scikit-learn are used, so each peer's own environment can run it too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "target"
SENSITIVE = "group"


def make_workload(rows: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, 20))
    frame = pd.DataFrame(numeric, columns=[f"num_{i}" for i in range(20)])
    for i in range(5):
        frame[f"cat_{i}"] = rng.choice([f"level_{k}" for k in range(8 + 4 * i)], size=rows)
    frame[SENSITIVE] = rng.choice(["a", "b"], size=rows, p=[0.6, 0.4])
    logit = numeric[:, :6] @ np.array([1.0, -0.8, 0.6, 0.5, -0.4, 0.3]) + 0.4 * (frame["cat_0"] == "level_1")
    frame[TARGET] = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("cat_") or c == SENSITIVE]


def build_model():
    """The unfitted pipeline: ordinal-encoded categoricals, gradient-boosted trees."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    cats = [f"cat_{i}" for i in range(5)] + [SENSITIVE]
    prep = ColumnTransformer(
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats)], remainder="passthrough"
    )
    return Pipeline([("prep", prep), ("clf", HistGradientBoostingClassifier(max_iter=100, random_state=0))])


def fit_model(train: pd.DataFrame):
    return build_model().fit(train.drop(columns=[TARGET]), train[TARGET])


def write_workload(rows: int, folder: Path) -> dict[str, Path]:
    """train/test as Parquet and CSV in ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = make_workload(rows)
    cut = int(0.7 * rows)
    paths: dict[str, Path] = {}
    for role, part in (("train", frame.iloc[:cut]), ("test", frame.iloc[cut:])):
        part = part.reset_index(drop=True)
        paths[role] = folder / f"{role}.parquet"
        part.to_parquet(paths[role], index=False)
        paths[f"{role}_csv"] = folder / f"{role}.csv"
        part.to_csv(paths[f"{role}_csv"], index=False)
    return paths
