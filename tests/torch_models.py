"""Small PyTorch networks and data for the PyTorch tests and the RB007 planted case.

Imported only where torch is installed (tests/test_torch.py skips without it; the planted
case skips itself). Every network is seeded with ``torch.manual_seed`` and trained
full-batch in well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.contract.context import AuditContext

TINY_SCALE = 1e-3


def make_mlp(n_inputs: int = 3, hidden: int = 16, n_outputs: int = 2):
    """The factory a state-dict spec names in the tests (``tests.torch_models:make_mlp``)."""
    from torch import nn

    return nn.Sequential(nn.Linear(n_inputs, hidden), nn.Tanh(), nn.Linear(hidden, n_outputs))


def tiny_scale_frame(n: int, *, seed: int) -> pd.DataFrame:
    """The label is the sign of ``t``, a feature whose values are tiny (about 1e-3) and whose
    informative variation is finer still: 95% of rows lie within 0.05 of its standard
    deviation from the boundary (a few large values set the spread). x1 and x2 are noise."""
    rng = np.random.default_rng(seed)
    bulk = rng.normal(0, 0.05, size=n)
    tail = rng.normal(0, 4.5, size=n)
    t = np.where(rng.uniform(size=n) < 0.95, bulk, tail) * TINY_SCALE
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "t": t, "y": (t > 0).astype(int)})


def smooth_frame(n: int, *, seed: int) -> pd.DataFrame:
    """A smooth task: the label follows a logistic function of x1 and x2; t (tiny-scale) is noise."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.normal(size=n) * TINY_SCALE
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(1.5 * x1 - 1.0 * x2)))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t, "y": y})


def train_network(frame: pd.DataFrame, *, seed: int = 0, epochs: int = 300, weight_decay: float = 0.0):
    """A StandardScaler (as the spec's preprocessing) and a small MLP trained on the
    standardised columns x1, x2, t with Adam, full batch."""
    import torch
    from sklearn.preprocessing import StandardScaler
    from torch import nn

    torch.manual_seed(seed)
    columns = ["x1", "x2", "t"]
    scaler = StandardScaler().fit(frame[columns])
    x = torch.tensor(scaler.transform(frame[columns]), dtype=torch.float32)
    y = torch.tensor(frame["y"].to_numpy(), dtype=torch.long)
    net = make_mlp(3, 16, 2)
    optimiser = torch.optim.Adam(net.parameters(), lr=0.02, weight_decay=weight_decay)
    for _ in range(epochs):
        optimiser.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    return scaler, net.eval()


def torch_context(train: pd.DataFrame, test: pd.DataFrame, *, seed: int = 0) -> AuditContext:
    """An audit context whose model is a small network trained on ``train``."""
    from auditor.contract.adapters_torch import TorchAdapter

    scaler, net = train_network(train, seed=seed)
    model = TorchAdapter.from_module(net, columns=["x1", "x2", "t"], classes=[0, 1], output="logits", preprocessing=scaler)
    return AuditContext(
        datasets={"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)},
        target="y", task="binary", features=["x1", "x2", "t"], model=model, positive_label=1, classes=[0, 1], seed=0,
    )


def tiny_scale_context() -> AuditContext:
    return torch_context(tiny_scale_frame(2000, seed=1), tiny_scale_frame(2000, seed=2))


def smooth_context() -> AuditContext:
    return torch_context(smooth_frame(2000, seed=1), smooth_frame(2000, seed=2))


class Shift:
    """A transformer class of the tests' own: skops does not trust it by default."""

    def __init__(self, by: float = 0.0):
        self.by = by

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) + self.by
