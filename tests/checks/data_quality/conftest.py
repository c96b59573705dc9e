"""What the data-quality check tests share: frames and contexts built in code with a fixed seed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.context import AuditContext

N = 1000


def make_frame(n: int = N, *, seed: int = 0) -> pd.DataFrame:
    """Clean data: independent continuous and categorical columns, a balanced binary target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(10, 3, size=n),
            "k": rng.integers(0, 10, size=n),
            "color": pd.array(rng.choice(["red", "green", "blue", "black", "white"], size=n), dtype="str"),
            "size": pd.array(rng.choice(["S", "M", "L"], size=n), dtype="str"),
            "y": rng.integers(0, 2, size=n),
        }
    )


def make_ctx(train: pd.DataFrame, test: pd.DataFrame | None = None, *, target: str = "y", task: str = "binary",
             current: pd.DataFrame | None = None, **kwargs) -> AuditContext:
    datasets = {"train": train, "test": make_frame(seed=1) if test is None else test}
    if current is not None:
        datasets["current"] = current
    features = kwargs.pop("features", [c for c in train.columns if c != target])
    return AuditContext(datasets=datasets, target=target, task=task, features=features, seed=0, **kwargs)


def value(findings, name: str) -> float:
    return findings.metrics[name].value
