"""Time the audit per check family and in total on a synthetic workload.

The workload is the one peers were measured on: a binary task with 25 features (20
numeric, 5 categorical), one binary sensitive column, a scikit-learn model and a 70/30
split. Each measurement runs in a fresh process (benchmarks/measure.py) so that peak
memory is that run's own.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/run_benchmark.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FAMILIES = {"data_quality": "DQ", "leakage": "LK", "overfitting": "OF", "significance": "ST"}
TRUST = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def make_workload(rows: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, 20))
    frame = pd.DataFrame(numeric, columns=[f"num_{i}" for i in range(20)])
    for i in range(5):
        frame[f"cat_{i}"] = rng.choice([f"level_{k}" for k in range(8 + 4 * i)], size=rows)
    frame["group"] = rng.choice(["a", "b"], size=rows, p=[0.6, 0.4])
    logit = numeric[:, :6] @ np.array([1.0, -0.8, 0.6, 0.5, -0.4, 0.3]) + 0.4 * (frame["cat_0"] == "level_1")
    frame["target"] = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def train_model(train: pd.DataFrame, path: Path) -> None:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = train.drop(columns=["target"])
    cats = [c for c in X.columns if c.startswith("cat_") or c == "group"]
    prep = ColumnTransformer(
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats)], remainder="passthrough"
    )
    model = Pipeline([("prep", prep), ("clf", HistGradientBoostingClassifier(max_iter=100, random_state=0))])
    sio.dump(model.fit(X, train["target"]), path)


def measure(args: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run([sys.executable, str(HERE / "measure.py"), *args], capture_output=True, text=True, env=env)
    last = proc.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    if result["exit_code"] not in (0, 1):
        raise RuntimeError(f"auditor failed ({result['exit_code']}): {proc.stderr[-2000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    args = parser.parse_args()
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for rows in args.rows:
            frame = make_workload(rows)
            cut = int(0.7 * rows)
            train, test = frame.iloc[:cut], frame.iloc[cut:]
            train.to_parquet(tmp / "train.parquet")
            test.to_parquet(tmp / "test.parquet")
            train_model(train, tmp / "model.skops")
            base = [
                "run", "-q", "--model", str(tmp / "model.skops"), "--trust-type", TRUST,
                "--train", str(tmp / "train.parquet"), "--test", str(tmp / "test.parquet"),
                "--target", "target", "--sensitive", "group", "--out", str(tmp / "out"),
            ]
            plans = {name: ["--set", f"select=[{prefix}]", "--format", "json"] for name, prefix in FAMILIES.items()}
            plans["full audit (json+html)"] = ["--format", "json,html"]
            plans["full audit (json+html+pdf)"] = ["--format", "json,html,pdf"]
            print(f"\n## {rows:,} rows x 25 features ({cut:,} train / {rows - cut:,} test)")
            print(f"{'what':<28}{'median s':>10}{'peak MB':>10}")
            for name, extra in plans.items():
                runs = [measure(base + extra) for _ in range(args.repeat)]
                wall = float(np.median([r["wall_s"] for r in runs]))
                peak = max(r["peak_mb"] for r in runs)
                print(f"{name:<28}{wall:>10.2f}{peak:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
