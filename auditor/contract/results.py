"""Plain-data results: what a check returns and what the report carries.

Everything here serialises to JSON with ``to_dict`` and back with ``from_dict``;
no live DataFrames or figure objects cross this boundary.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


Status = Literal["pass", "warn", "fail", "inconclusive", "error", "skipped"]
Severity = Literal["info", "low", "medium", "high", "critical"]

STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "inconclusive", "error", "skipped")
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
# Worst first: the order in which an overall status is chosen from several metrics.
#: Evidence tables stay small: renderers show them whole, so a check keeps its rows to this.
MAX_EVIDENCE_ROWS = 20

STATUS_RANK = {"error": 5, "fail": 4, "inconclusive": 3, "warn": 2, "pass": 1, "skipped": 0}


def plain(value: Any) -> Any:
    """Turn numpy / pandas scalars and containers into JSON-ready Python values.

    NaN and infinities become ``None``: JSON has no spelling for them.
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)


@dataclass
class Metric:
    """One measured number, with its interval where it is an estimate.

    ``threshold`` and ``status`` are filled in by the engine (``auditor.engine.thresholds``),
    never by the check.
    """

    value: float | int | None
    ci_low: float | None = None
    ci_high: float | None = None
    description: str = ""
    threshold: dict[str, Any] | None = None
    status: str | None = None
    #: True for a p-value: the engine corrects it across the whole audit (``policy.correction``)
    #: and judges the corrected value, kept in ``adjusted``.
    p_value: bool = False
    adjusted: float | None = None
    #: Set by the engine for an ``inconclusive`` metric (its interval contains the fail level):
    #: the least status the interval allows (``warn`` or ``pass``), the point estimate's
    #: status, and both in words. ``None`` for a decided metric.
    at_least: str | None = None
    point_status: str | None = None
    decided: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))


@dataclass
class Evidence:
    """A small table shown under a finding: a title, column names and rows of plain values."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))


@dataclass
class Figure:
    """A figure as SVG text, with a caption."""

    title: str
    svg: str
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Findings:
    """What a check's ``run`` returns: measurements, not a verdict.

    ``status`` is set by a check only where no number can decide (for example
    ``skipped`` with a reason found at run time, or ``inconclusive`` because a group is
    too small); otherwise the engine judges ``metrics`` against the thresholds.
    """

    summary: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    recommendation: str = ""
    status: Status | None = None
    sample: dict[str, Any] | None = None


@dataclass
class CheckResult:
    id: str
    name: str
    area: str
    status: str
    severity: str
    summary: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    recommendation: str = ""
    references: list[str] = field(default_factory=list)
    practices: list[str] = field(default_factory=list)
    #: The check's declared standards clauses (``Check.clauses``), from which the crosswalk is derived.
    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    waiver: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    duration_s: float = 0.0
    source: str = ""
    #: Warnings the check's libraries raised while it ran (deduplicated), kept with the result.
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def waived(self) -> bool:
        return bool(self.waiver and self.waiver.get("active"))


def skipped(reason: str, sample: dict[str, Any] | None = None) -> Findings:
    """The finding of a check that could not run: ``Skipped: <reason>``, status ``skipped``."""
    return Findings(summary=f"Skipped: {reason}", status="skipped", sample=sample)
