"""FR001 group-metrics (checks/fairness/fr001_group_metrics.py): the model's metrics in each group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.checks.fairness.conftest import _fr_group_label_noise, binary_ctx, metric, run, with_group

# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_fr_group_label_noise, {"fail"})


# -- FR001 across tasks -------------------------------------------------------------------
def test_group_metrics_fail_when_one_group_is_served_worse():
    ctx = with_group(binary_ctx())
    test = ctx.frame("test")
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(3).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    result = run("FR001", ctx)
    gap = metric(result, "max_accuracy_gap")
    assert result.status == "fail" and gap["value"] == pytest.approx(0.35 * (1 - 2 * 0.25), abs=0.05)
    assert result.figures and "<svg" in result.figures[0]["svg"]


def test_group_metrics_multiclass_and_regression():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(5)
    n = 2000
    X = rng.normal(size=(n, 2))
    group = rng.choice(["A", "B"], size=n)
    y = np.array(["a", "b", "c"])[np.digitize(X[:, 0] + 0.3 * rng.normal(size=n), [-0.5, 0.5])]
    frame = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "group": group, "y": y})
    model = LogisticRegression(max_iter=500).fit(frame[["u", "v"]], frame["y"])
    ctx = AuditContext(datasets={"train": frame, "test": frame}, target="y", task="multiclass", features=["u", "v"],
                       model=SklearnAdapter(model), classes=["a", "b", "c"], sensitive=["group"], seed=0)
    result = run("FR001", ctx)
    assert result.status == "pass" and result.evidence[0]["columns"][3] == "accuracy"
    assert run("FR002", ctx).status == "skipped"

    target = 2 * X[:, 0] + rng.normal(size=n) * np.where(group == "B", 3.0, 1.0)  # noisier for B
    reg = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "group": group, "y": target})
    ctx = AuditContext(datasets={"train": reg, "test": reg}, target="y", task="regression", features=["u", "v"],
                       model=SklearnAdapter(LinearRegression().fit(reg[["u", "v"]], reg["y"])), sensitive=["group"], seed=0)
    result = run("FR001", ctx)
    gap = metric(result, "max_relative_mae_gap")
    assert result.status == "fail" and gap["value"] > 0.5
    assert "max_accuracy_gap" not in result.metrics
