"""OF005 training-history (checks/overfitting/of005_training_history.py): training history:
validation loss rising while training loss falls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import overfitting as of
from auditor.contract.context import AuditContext
from tests.checks.overfitting.conftest import clean_ctx
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx


# -- OF005 ---------------------------------------------------------------------------
def history(val_tail_rise: float) -> pd.DataFrame:
    epochs = np.arange(40)
    train = 1.0 / (1 + 0.3 * epochs)
    val = 1.0 / (1 + 0.25 * np.minimum(epochs, 20)) + 0.8 * val_tail_rise * np.clip(epochs - 20, 0, None) / 19 * (1 / 6)
    return pd.DataFrame({"epoch": epochs, "train_loss": train, "val_loss": val})


def _overtrained_history() -> AuditContext:
    ctx = _ctx(make_binary_frame(500, seed=1), make_binary_frame(500, seed=2))
    epochs = np.arange(40)
    val = 1 / (1 + 0.25 * np.minimum(epochs, 20)) + 0.01 * np.clip(epochs - 20, 0, None)
    ctx.history = pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + 0.3 * epochs), "val_loss": val})
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_overtrained_history, {"fail"})


def test_history_rising_validation_loss_fails_and_names_early_stop():
    ctx = clean_ctx()
    ctx.history = history(val_tail_rise=1.0)
    findings, status = run(of.TrainingHistory, ctx)
    assert findings.metrics["best_epoch"].value == 20
    assert findings.metrics["val_loss_rise"].value == pytest.approx(0.8 * (1 / 6) / (1 / 6), rel=0.05)
    assert findings.metrics["early_stop_epoch"].value == 25
    assert status == "fail"
    assert "kept falling" in findings.summary


def test_history_still_improving_passes():
    ctx = clean_ctx()
    epochs = np.arange(30)
    ctx.history = pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + epochs), "val_loss": 1.1 / (1 + epochs)})
    findings, status = run(of.TrainingHistory, ctx)
    assert findings.metrics["val_loss_rise"].value == 0 and status == "pass"
    assert "would not have stopped" in findings.summary


def test_history_file_is_read_from_keras_csvlogger_columns(tmp_path):
    from auditor.contract.inputs import read_history
    from auditor.util.errors import AuditInputError

    path = tmp_path / "log.csv"
    pd.DataFrame({"epoch": [0, 1, 2], "loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.95]}).to_csv(path, index=False)
    h = read_history(str(path))
    assert list(h.columns) == ["epoch", "train_loss", "val_loss"] and len(h) == 3
    (tmp_path / "bad.csv").write_text("epoch,acc\n0,0.5\n1,0.6\n")
    with pytest.raises(AuditInputError, match="history file needs a train loss column"):
        read_history(str(tmp_path / "bad.csv"))
