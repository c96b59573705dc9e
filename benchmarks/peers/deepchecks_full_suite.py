"""Deepchecks' tabular full_suite on the benchmark files, run with Deepchecks' own Python.

    PEER_PYTHON benchmarks/peers/deepchecks_full_suite.py TRAIN.parquet TEST.parquet OUT_DIR

Fits the workload's model (not timed), then times the suite and its HTML report; prints
one JSON line {"wall_s": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from workload import TARGET, categorical_columns, fit_model

train, test = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
out = Path(sys.argv[3])
model = fit_model(train)

from deepchecks.tabular import Dataset
from deepchecks.tabular.suites import full_suite

started = time.perf_counter()
cats = categorical_columns(train)
result = full_suite().run(
    train_dataset=Dataset(train, label=TARGET, cat_features=cats),
    test_dataset=Dataset(test, label=TARGET, cat_features=cats),
    model=model,
)
result.save_as_html(str(out / "deepchecks.html"))
print(json.dumps({"wall_s": round(time.perf_counter() - started, 2)}))
