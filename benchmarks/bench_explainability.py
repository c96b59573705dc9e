"""Time the explainability family (EX001-EX006) on a large test set (default 100,000 rows x 30 columns).

    N=100000 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_explainability.py

The data: 25 numeric and 5 categorical columns, a binary target driven by four of them;
the model: a histogram gradient-boosting pipeline (ordinal-encoded categories). The family
runs twice on the same context: as an audit runs it (the pipeline encodes each column on
its own, so the sample is encoded once and SHAP is shap's TreeExplainer through the
encoding: ``auditor.toolkit.encoded``), then with that view switched off, as for a model whose
preprocessing mixes columns (every shuffled copy goes through the whole pipeline, SHAP is
the model-agnostic Permutation explainer over the raw columns: the slower path). The
family works on its declared samples (``rows``, ``shap_rows``, ``background``,
``local_rows``), so its time should not grow with N; the script prints each result's
``sample``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from auditor.checks import explainability as ex
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.engine.thresholds import judge

N = int(os.environ.get("N", 100_000))


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"n{i}": rng.normal(size=n) for i in range(25)}
    for i in range(5):
        data[f"c{i}"] = rng.choice(["a", "b", "c", "d", "e"], size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    df = pd.DataFrame(data)
    logit = 1.2 * df["n0"] - 0.8 * df["n1"] + 0.5 * df["n2"] * df["n3"] + np.where(df["c0"] == "a", 0.7, 0.0)
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def main() -> None:
    started = time.perf_counter()
    train, test = frame(N, 1), frame(N, 2)
    features = [c for c in train.columns if c != "y"]
    cats = [f for f in features if f.startswith("c")]
    prep = ColumnTransformer([("c", OrdinalEncoder(), cats)], remainder="passthrough")
    small = train.iloc[:20000]
    model = Pipeline([("p", prep), ("m", HistGradientBoostingClassifier(max_iter=100, random_state=0))])
    model.fit(small[features], small["y"])
    ctx = AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=features,
                       model=SklearnAdapter(model), positive_label=1, classes=[0, 1], seed=0)
    print(f"data and model: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    from auditor.checks.explainability import _shap

    _shap()  # imported once, as the first EX check of an audit imports it (kernels left as Python)
    print(f"import shap: {time.perf_counter() - started:.1f} s")
    run_family(ctx, "through the column-wise encoding (as an audit runs it)")
    from auditor.toolkit import encoded

    encoded.encoded_view = lambda _ctx: None  # the model-agnostic path, on a context of its own
    ctx = AuditContext(datasets={"train": train, "test": test}, target="y", task="binary", features=features,
                       model=SklearnAdapter(model), positive_label=1, classes=[0, 1], seed=0)
    run_family(ctx, "model-agnostic path (whole pipeline per call, Permutation explainer)")


def run_family(ctx: AuditContext, label: str) -> None:
    print(f"-- {label}")
    family = time.perf_counter()
    for cls in ex.CHECKS:
        params = {k: p.default for k, p in cls.params.items()}
        started = time.perf_counter()
        findings = cls().run(ctx, params)
        elapsed = time.perf_counter() - started
        status = findings.status or judge(findings.metrics, {k: t.as_dict() for k, t in cls.thresholds.items()})
        s = findings.sample or {}
        print(f"{cls.id} {status:<12} {elapsed:5.1f} s  sample {s.get('rows_used')} of {s.get('rows_available')} "
              f"(seed {s.get('seed')})  {findings.summary[:120]}")
    print(f"explainability family, {label}: {time.perf_counter() - family:.1f} s on {N:,} test rows x "
          f"{len(ctx.features)} features")

if __name__ == "__main__":
    main()
