"""Time the drift family on a large production sample (default 1,000,000 rows x 25 columns).

    N=1000000 SHIFT=0.02 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_drift.py

SHIFT moves every numeric column of the current sample by that many standard
deviations: at 0.02 the shift is statistically significant on a million rows but
negligible in size, and the family must not flag it.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from auditor.checks import drift as dr
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.engine.thresholds import judge

N = int(os.environ.get("N", 1_000_000))
SHIFT = float(os.environ.get("SHIFT", 0.02))


def frame(seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"n{i}": rng.normal(size=N) + shift for i in range(20)}
    for i in range(5):
        data[f"c{i}"] = pd.array(rng.choice(["a", "b", "c", "d", "e"], size=N, p=[0.3, 0.25, 0.2, 0.15, 0.1]), dtype="str")
    df = pd.DataFrame(data)
    df["y"] = (rng.uniform(size=N) < 1 / (1 + np.exp(-(df["n0"] - df["n1"])))).astype(int)
    return df


def main() -> None:
    started = time.perf_counter()
    train, test, current = frame(1, 0.0), frame(2, 0.0), frame(3, SHIFT)
    print(f"data: {time.perf_counter() - started:.1f} s")
    features = [c for c in train.columns if c != "y"]
    nums = [f for f in features if f.startswith("n")]
    cats = [f for f in features if f.startswith("c")]
    small = train.iloc[:20000]
    prep = ColumnTransformer([("n", StandardScaler(), nums), ("c", OneHotEncoder(), cats)])
    model = Pipeline([("p", prep), ("m", LogisticRegression(max_iter=200))]).fit(small[features], small["y"])
    ctx = AuditContext(datasets={"train": train, "test": test, "current": current}, target="y", task="binary",
                       features=features, model=SklearnAdapter(model), positive_label=1, classes=[0, 1], seed=0)
    started = time.perf_counter()
    for role in ("test", "current"):
        ctx.predictions(role)
        ctx.probabilities(role)
    print(f"predictions (computed once by the context): {time.perf_counter() - started:.1f} s")
    total = 0.0
    for cls in dr.CHECKS:
        params = {k: p.default for k, p in cls.params.items()}
        started = time.perf_counter()
        findings = cls().run(ctx, params)
        elapsed = time.perf_counter() - started
        total += elapsed
        status = findings.status or judge(findings.metrics, {k: t.as_dict() for k, t in cls.thresholds.items()})
        print(f"{cls.id} {status:<12} {elapsed:5.1f} s  {findings.summary[:160]}")
    print(f"drift family: {total:.1f} s on {N:,} rows per dataset")


if __name__ == "__main__":
    main()
