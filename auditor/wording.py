"""Small helpers that keep the report's sentences grammatical and its numbers consistent."""

from __future__ import annotations

from typing import Any

#: How missing values read in an evidence cell.
MISSING_LABEL = "<missing>"
#: Evidence cells stay short: renderers show whole tables.
MAX_TEXT = 40


def shorten(value: Any, limit: int = MAX_TEXT) -> str:
    """``str(value)`` cut to ``limit`` characters, with an ellipsis when cut."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell(value: Any, limit: int = MAX_TEXT) -> str:
    """A data value as a short string for an evidence cell; missing values read ``<missing>``."""
    import math

    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return MISSING_LABEL
    return shorten(value, limit)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "column")`` -> "1 column"; ``count(3, "column")`` -> "3 columns"."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def share(rate: float) -> str:
    """A rate as a percentage with enough digits that a small non-zero rate never reads 0%."""
    pct = 100.0 * rate
    if pct == 0:
        return "0%"
    if abs(pct) >= 10:
        return f"{pct:.1f}%"
    if abs(pct) >= 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.2g}%"


METRIC_LABELS = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "f1": "F1", "roc_auc": "ROC AUC",
    "log_loss": "log loss", "rmse": "RMSE", "mae": "MAE", "r2": "R²",
}


def metric_label(name: str) -> str:
    """A metric's name as a reader writes it: ``roc_auc`` -> "ROC AUC", ``r2`` -> "R²"."""
    return METRIC_LABELS.get(name, name.replace("_", " "))
