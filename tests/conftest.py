"""Shared fixtures: small synthetic data and models built in code with a fixed seed, and
:func:`run_check`, the one way the tests run a check: exactly as the engine does."""

from __future__ import annotations

import functools
import os
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest

from auditor.contract.results import Findings


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


def registration(cls):
    """The engine's registration of a check class: the installed one, or (for a class the tests
    define, such as the tiny checks of tests/engine_checks.py) one made for it here, under the
    built-in distribution when its ID is a built-in's so that the registry accepts it."""
    from auditor.contract.check import BUILTIN_ID_PATTERN
    from auditor.engine.registry import BUILTIN_DISTRIBUTION, Registered

    installed = _installed().checks.get(cls.id)
    if installed is not None and installed.cls is cls:
        return installed
    distribution = BUILTIN_DISTRIBUTION if BUILTIN_ID_PATTERN.match(cls.id) else "tests"
    return Registered(cls=cls, distribution=distribution, version="0", entry_point="tests")


def plan_check(cls, **overrides):
    """The engine's plan for one check: ``overrides`` are its policy params, validated as
    ``audit.yaml: checks.<ID>.params`` is (a wrong name or value raises PolicyError)."""
    from auditor.engine.planning import plan_checks
    from auditor.engine.policy import validate_policy
    from auditor.engine.registry import Registry

    registry = Registry()
    registry.add(registration(cls))  # a badly defined class is refused as at load time
    policy = validate_policy({"select": [cls.id], "checks": {cls.id: {"params": dict(overrides)}}}, registry,
                             source="run_check")
    (planned,) = plan_checks(registry, policy)
    return planned


def run_result(cls, ctx, *, expect_error: bool = False, **overrides):
    """Run one check exactly as the engine does (planned, its needs and task checked, run
    with ``run_one``, judged) and return the engine's CheckResult.

    An exception inside the check, which the engine turns into an ``error`` result, is raised
    here as an AssertionError carrying its message and traceback, so that a broken check
    cannot pass a test that only looks at a status; ``expect_error=True`` returns the result.
    """
    from auditor.engine.runner import available_needs, run_one

    result = run_one(ctx, plan_check(cls, **overrides), available_needs(ctx))
    if result.error is not None and not expect_error:
        raise AssertionError(
            f"{cls.id} ended in an error: {result.error['type']}: {result.error['message']}\n{result.error['traceback']}"
        )
    return result


class EngineFindings(Findings):
    """A check's Findings rebuilt from the engine's CheckResult, as the report carries them:
    metrics as Metric objects (with the threshold and status the engine wrote into them),
    evidence and figures as their dataclasses, values made plain (NaN becomes None, tuples
    lists). ``status`` is the engine's status.

    ``result`` is the CheckResult itself (its error, params, warnings and duration): a plain
    attribute, not a dataclass field, so that ``dataclasses.asdict`` and ``==`` see only what
    the check found, never the time it took.
    """

    result: Any = None


def findings_of(result) -> EngineFindings:
    from auditor.contract.results import Evidence, Figure, Metric

    metric_fields = set(Metric.__dataclass_fields__)
    findings = EngineFindings(
        summary=result.summary,
        metrics={k: Metric(**{f: v for f, v in d.items() if f in metric_fields}) for k, d in result.metrics.items()},
        evidence=[Evidence(**e) for e in result.evidence],
        figures=[Figure(**f) for f in result.figures],
        recommendation=result.recommendation,
        status=result.status,
        sample=result.sample,
    )
    findings.result = result
    return findings


def run_check(cls, ctx, *, expect_error: bool = False, **overrides):
    """Run a check as the engine does (defaults, then validated overrides, then the judge):
    ``(findings, status)``, the findings rebuilt from the CheckResult (see :func:`run_result`)."""
    result = run_result(cls, ctx, expect_error=expect_error, **overrides)
    return findings_of(result), result.status


@functools.cache
def _installed():
    from auditor.engine.registry import load_registry

    return load_registry()


def findings_payload(findings, *, strict_json: bool = False) -> dict:
    """What a check's findings put in report.json, as plain data (for comparing two runs);
    ``strict_json`` also requires it to be valid JSON (no NaN or infinity)."""
    import json

    data = {
        "summary": findings.summary,
        "recommendation": findings.recommendation,
        "status": findings.status,
        "metrics": {k: m.to_dict() for k, m in findings.metrics.items()},
        "evidence": [e.to_dict() for e in findings.evidence],
        "figures": [f.to_dict() for f in findings.figures],
        "sample": findings.sample,
    }
    return json.loads(json.dumps(data, allow_nan=False)) if strict_json else data


def comparable_results(report: dict) -> dict:
    """A report's results by ID without what differs between two runs of the same audit (durations)."""
    out = {}
    for c in report["checks"]:
        c = dict(c)
        c.pop("duration_s", None)
        out[c["id"]] = c
    return out


def three_class_split(n: int, *, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three classes ('a', 'b', 'c') from a multinomial logistic model on two inputs (u, v):
    ``n`` training rows and ``n`` test rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, 2))
    logits = np.column_stack([np.zeros(2 * n), 1.5 * X[:, 0], 1.5 * X[:, 1]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.uniform(size=(2 * n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    frame = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "y": y})
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].reset_index(drop=True)
    return train, test
