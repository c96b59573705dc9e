"""Evidently's data drift and data summary presets on the benchmark files, with Evidently's own Python.

    PEER_PYTHON benchmarks/peers/evidently_presets.py TRAIN.parquet TEST.parquet OUT_DIR

Times the report (train as reference, test as current) and its HTML; prints one JSON
line {"wall_s": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from workload import TARGET, categorical_columns

train, test = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
out = Path(sys.argv[3])
cats = categorical_columns(train)
nums = [c for c in train.columns if c not in cats and c != TARGET]

started = time.perf_counter()
try:  # Evidently 0.7 and later
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    definition = DataDefinition(numerical_columns=nums, categorical_columns=[*cats, TARGET])
    snapshot = Report([DataDriftPreset(), DataSummaryPreset()]).run(
        current_data=Dataset.from_pandas(test, data_definition=definition),
        reference_data=Dataset.from_pandas(train, data_definition=definition),
    )
    snapshot.save_html(str(out / "evidently.html"))
except ImportError:  # the older API
    from evidently.metric_preset import DataDriftPreset, DataQualityPreset
    from evidently.report import Report

    report = Report(metrics=[DataDriftPreset(), DataQualityPreset()])
    report.run(reference_data=train, current_data=test)
    report.save_html(str(out / "evidently.html"))
print(json.dumps({"wall_s": round(time.perf_counter() - started, 2)}))
