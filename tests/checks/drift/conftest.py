"""What the drift check tests share: reference and current frames, contexts, and readers of
the findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import findings_payload, fit_pipeline, make_binary_frame

N = 2000
BINARY = ["x1", "x2", "colour", "noise"]
NUMERIC = [f"f{i}" for i in range(10)]


def numeric_frame(n: int = N, *, seed: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    """Ten independent standard normal columns; ``shift`` adds a constant to some of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.normal(size=n) for c in NUMERIC})
    for col, delta in (shift or {}).items():
        frame[col] += delta
    return frame


def make_ctx(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame | None, *, task: str = "binary",
             features: list[str] | None = None, model=None, **kwargs) -> AuditContext:
    datasets = {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}
    if current is not None:
        datasets["current"] = current.reset_index(drop=True)
    if task == "binary":
        kwargs.setdefault("positive_label", 1)
        kwargs.setdefault("classes", [0, 1])
    return AuditContext(datasets=datasets, target="y", task=task, features=features or list(train.columns.drop("y", errors="ignore")),
                        model=model, seed=0, **kwargs)


def model_ctx(current: pd.DataFrame, **kwargs) -> AuditContext:
    """The binary task of the contract tests: a logistic pipeline, clean train and test."""
    model = SklearnAdapter(fit_pipeline(make_binary_frame(3000, seed=11)))
    return make_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22), current, features=BINARY, model=model, **kwargs)


def value(findings, name: str):
    return findings.metrics[name].value


def payload(findings) -> dict:
    return findings_payload(findings, strict_json=True)
