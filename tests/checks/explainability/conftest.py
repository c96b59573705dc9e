"""What the explainability check tests share: the clean context, and the near-copies case
planted for EX002 and EX004."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.planted import FEATURES, _ctx, clean_context


@pytest.fixture(scope="module")
def clean():
    return clean_context()


@pytest.fixture(scope="module")
def copies():
    return _ex_near_copies()


# -- the case planted for EX002 and EX004 ---------------------------------------------------
def ex_copies_frame(n: int, seed: int) -> pd.DataFrame:
    """The clean task plus two near-copies of its strongest feature x1 (noise of 0.01 sd)."""
    frame = make_binary_frame(n, seed=seed)
    rng = np.random.default_rng(seed + 50)
    frame["x1_copy"] = frame["x1"] + rng.normal(0, 0.01, n)
    frame["x1_copy2"] = frame["x1"] + rng.normal(0, 0.01, n)
    return frame


def _ex_near_copies() -> AuditContext:
    """A strongly L2-penalised logistic pipeline fitted on x1 and two near-copies of it: the penalty splits
    x1's weight evenly between the three, so their importances tie and their order is a coin flip on every
    resample."""
    train, test = ex_copies_frame(3000, 1), ex_copies_frame(3000, 2)
    ctx = _ctx(train, test)
    model = fit_pipeline(train)
    model.set_params(clf__C=0.01).fit(train.drop(columns=["y"]), train["y"])
    ctx.model = SklearnAdapter(model)
    ctx.features = FEATURES + ["x1_copy", "x1_copy2"]
    return ctx
