"""Small helpers that keep the report's sentences grammatical and its numbers consistent."""

from __future__ import annotations

import math
import re
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
    return _percent(100.0 * rate, trim=False)


METRIC_LABELS = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "f1": "F1", "roc_auc": "ROC AUC",
    "log_loss": "log loss", "rmse": "RMSE", "mae": "MAE", "r2": "R²",
}


def metric_label(name: str) -> str:
    """A metric's name as a reader writes it: ``roc_auc`` -> "ROC AUC", ``r2`` -> "R²"."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


# Names of metrics and evidence columns whose values in [0, 1] read best as percentages.
_PERCENT_NAME = re.compile(r"(?:^|[_\s-])(rate|share|fraction)$", re.IGNORECASE)


def is_percent_name(name: str) -> bool:
    return bool(_PERCENT_NAME.search(str(name)))


def format_number(value: Any, *, percent: bool = False, trim: bool | None = None) -> str:
    """A number for people: integers with thousands separators, floats to 3 significant digits.

    With ``percent=True`` a float in [0, 1] is shown as a percentage (0.0566 -> "5.66%").
    Trailing zeros are dropped from plain numbers (0.2, not 0.200) and kept in
    percentages so that a column of rates lines up (3.20%, 3.12%); ``trim`` overrides
    that (measured values keep them: 0.330 [0.300, 0.360]; thresholds drop them: "> 5%"). ``None`` becomes an em dash;
    anything that is not a number is returned as text.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if percent and 0.0 <= value <= 1.0:
        return _percent(value * 100.0, trim=bool(trim))
    return _sig3(value, trim=True if trim is None else trim)


def _percent(pct: float, *, trim: bool) -> str:
    # Fixed decimals by size, so a column of rates lines up: 23.6%, 5.66%, 0.96%; below 0.1%
    # two significant digits (0.074%, 0.0012%), so that a small non-zero rate never reads 0%.
    if pct == 0:
        return "0%"
    size = abs(pct)
    decimals = 1 if size >= 10 else 2 if size >= 0.1 else 1 - math.floor(math.log10(size))
    text = f"{pct:.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def _sig3(value: float, *, trim: bool) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude < 1e-3:
        return f"{value:.2e}"
    decimals = max(0, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
