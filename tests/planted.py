"""What the planted-defect cases share, and the governance checks' cases.

Each built-in check's planted defect lives beside its tests, as ``PLANTED`` in
``tests/checks/<family>/test_<id>_<name>.py``; tests/test_contract.py finds them there. This
module keeps what several families build on: the context of a small synthetic task
(:func:`_ctx`), the clean control every check must pass (:func:`clean_context`), a clean
training history, a sensitive group and a current sample to add to a context, and the
noisy-label tree several families plant.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame

FEATURES = ["x1", "x2", "colour", "noise"]


def _ctx(train: pd.DataFrame, test: pd.DataFrame, *, model_on: pd.DataFrame | None = None) -> AuditContext:
    model = SklearnAdapter(fit_pipeline(model_on if model_on is not None else make_binary_frame(3000, seed=11)))
    return AuditContext(
        datasets={"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)},
        target="y", task="binary", features=FEATURES, model=model, positive_label=1, classes=[0, 1], seed=0,
    )


def clean_history() -> pd.DataFrame:
    epochs = np.arange(30)
    return pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + epochs), "val_loss": 1.1 / (1 + epochs)})


def clean_context() -> AuditContext:
    """Clean data and a well-specified model: every built-in check must pass on it.

    It declares a group column (disjoint entities), a time column (a chronological
    split), a training history that improves to the end, a labelled current sample, a
    baseline to compare with, monotonic features and a sensitive attribute, so no check
    is skipped.
    """
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)
    train["entity"] = [f"e{i}" for i in range(len(train))]
    test["entity"] = [f"e{i + len(train)}" for i in range(len(test))]
    start = pd.Timestamp("2024-01-01")
    train["when"] = start + pd.to_timedelta(np.arange(len(train)), unit="h")
    test["when"] = start + pd.to_timedelta(np.arange(len(test)) + len(train) + 24, unit="h")
    ctx = _ctx(train, test)
    # A production sample from the same distribution, labelled, after the test period.
    current = make_binary_frame(3000, seed=23)
    current["entity"] = [f"e{i + len(train) + len(test)}" for i in range(len(current))]
    current["when"] = start + pd.to_timedelta(np.arange(len(current)) + len(train) + len(test) + 48, unit="h")
    ctx.datasets["current"] = current
    ctx.group_column, ctx.time_column, ctx.history = "entity", "when", clean_history()
    # Compared with itself (twice): every comparison check must find no difference.
    ctx.others = {"baseline": ctx.model, "same-again": ctx.model}
    # The logistic model is increasing in x1 and decreasing in x2 (RB005 checks the declaration).
    ctx.feature_domains = {"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}}
    # The same logistic pipeline, also differentiable (RB007) where torch is installed.
    ctx.model = ctx.others["baseline"] = ctx.others["same-again"] = _DifferentiableLogistic(ctx.model.estimator)
    # A complete model card and no waivers: the governance checks (GV) must pass.
    ctx.policy = {"model_card": dict(CLEAN_MODEL_CARD)}
    ctx.today = AUDIT_DATE
    # A sensitive attribute independent of everything: every fairness check must pass.
    return _with_group(ctx)


def _noisy_tree() -> AuditContext:
    """An unpruned tree on 20% flipped labels: it memorises the noise (the planted case of PV002,
    OF001, OF003, OF004, EX005 and EX006)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(4000, seed=5)
    flip = np.random.default_rng(5).uniform(size=len(frame)) < 0.2
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    train, test = frame.iloc[:2500], frame.iloc[2500:]
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder="passthrough")
    tree = Pipeline([("prep", prep), ("tree", DecisionTreeClassifier(random_state=0))]).fit(train[FEATURES], train["y"])
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(tree)
    return ctx


def _with_current(current: pd.DataFrame) -> AuditContext:
    ctx = _ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22))
    ctx.datasets["current"] = current.reset_index(drop=True)
    return ctx


# -- a sensitive attribute (the clean control, the fairness cases) ------------------------
def _with_group(ctx: AuditContext, *, seed: int = 7) -> AuditContext:
    """Adds a sensitive column 'group' (A or B, independent of everything) to every dataset."""
    rng = np.random.default_rng(seed)
    for frame in ctx.datasets.values():
        frame["group"] = rng.choice(["A", "B"], size=len(frame))
    ctx.sensitive = ["group"]
    return ctx


# -- the clean control's model, differentiable too (RB007) --------------------------------
class _DifferentiableLogistic(SklearnAdapter):
    """The clean control's logistic pipeline, also handed to autograd: its fitted
    preprocessing (scaler and one-hot) followed by its coefficients as a torch linear layer,
    so RB007 attacks exactly the model every other check calls."""

    @property
    def differentiable(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("torch") is not None

    def gradient_view(self):
        import torch

        from auditor.contract.adapters_torch import TorchAdapter

        prep, clf = self.estimator.named_steps["prep"], self.estimator.named_steps["clf"]
        layer = torch.nn.Linear(clf.coef_.shape[1], 1).double()
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(clf.coef_))
            layer.bias.copy_(torch.as_tensor(clf.intercept_))
        return TorchAdapter.from_module(layer, columns=list(self.feature_names), classes=list(clf.classes_),
                                        preprocessing=prep).gradient_view()


# -- governance (GV001-GV002) ---------------------------------------------------------------
AUDIT_DATE = dt.date(2026, 11, 27)


CLEAN_MODEL_CARD = {
    "name": "synthetic-logit",
    "version": "1.0",
    "intended_use": "Test fixture: a logistic regression on synthetic data, used to test the audit itself.",
    "out_of_scope_uses": ["Any decision about a person or an organisation."],
    "training_data": "3,000 synthetic rows drawn from a known logistic model (seed 21).",
    "evaluation_data": "3,000 synthetic rows from the same model (seed 22).",
    "limitations": ["The data is synthetic; nothing here transfers to real data."],
    "ethical_considerations": ["The sensitive column 'group' is random and independent of the outcome."],
}
