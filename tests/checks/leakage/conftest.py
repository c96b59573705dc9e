"""What the leakage check tests share: frames and contexts built in code with a fixed seed,
and a reader of the findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame

N = 2000
FEATURES = ["x1", "x2", "colour", "noise"]


START = pd.Timestamp("2024-01-01")


def frames(n: int = N, *, group: bool = True, time: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean train and test: independent draws, disjoint groups, a chronological split."""
    train, test = make_binary_frame(n, seed=1), make_binary_frame(n, seed=2)
    if group:
        train["entity"] = [f"e{i // 4}" for i in range(n)]
        test["entity"] = [f"e{i // 4 + n}" for i in range(n)]
    if time:
        train["when"] = START + pd.to_timedelta(np.arange(n), unit="h")
        test["when"] = START + pd.to_timedelta(np.arange(n) + n, unit="h")
    return train, test


def make_ctx(train: pd.DataFrame, test: pd.DataFrame, *, task: str = "binary", current: pd.DataFrame | None = None,
             features: list[str] | None = None, target: str = "y", **kwargs) -> AuditContext:
    datasets = {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}
    if current is not None:
        datasets["current"] = current.reset_index(drop=True)
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    kwargs.setdefault("group_column", "entity" if "entity" in train.columns else None)
    kwargs.setdefault("time_column", "when" if "when" in train.columns else None)
    return AuditContext(datasets=datasets, target=target, task=task, features=features or list(FEATURES), seed=0, **kwargs)


def value(findings, name: str):
    return findings.metrics[name].value
