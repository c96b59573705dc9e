"""What two or more data-quality checks share: the datasets they look at, the placeholder
tokens read as missing, how a column's kind is told (numeric, string, bool, ...), and the
small formatting helpers of their evidence tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from auditor.contract.results import MAX_EVIDENCE_ROWS, Findings
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# The datasets a data-quality check looks at, in report order.
DATA_ROLES: tuple[str, ...] = ("train", "validation", "test", "current")
# Roles compared against train (schema, unseen categories).
OTHER_ROLES: tuple[str, ...] = ("validation", "test", "current")

DEFAULT_PLACEHOLDERS: tuple[str, ...] = ("?", "", "NA", "N/A", "n/a", "null", "NULL", "None", "nan", "-")
MISSING_LABEL = "<missing>"
# Evidence tables stay small: renderers show them whole.
MAX_ROWS = MAX_EVIDENCE_ROWS
MAX_TEXT = 40

_OBJECT_KINDS = {
    "string": "string",
    "empty": "empty",
    "integer": "numeric",
    "floating": "numeric",
    "mixed-integer-float": "numeric",
    "decimal": "numeric",
    "complex": "numeric",
    "boolean": "bool",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
    "timedelta": "timedelta",
    "timedelta64": "timedelta",
}


# -- shared helpers ------------------------------------------------------------------
def _roles(ctx: AuditContext, roles: Iterable[str] = DATA_ROLES) -> list[str]:
    return [r for r in roles if ctx.has(r)]


def _columns(ctx: AuditContext, role: str, *, target: bool = True) -> list[str]:
    """The model's input columns present in a role, plus the target when asked and present."""
    frame = ctx.frame(role)
    present = set(frame.columns)
    cols = [c for c in ctx.features if c in present]
    if target and ctx.target and ctx.target in present and ctx.target not in cols:
        cols.append(ctx.target)
    return cols


def _empty_train(ctx: AuditContext) -> Findings | None:
    """A skipped result when the training data has no rows (the loader normally refuses them)."""
    if len(ctx.frame("train")) == 0:
        return Findings(summary="Skipped: the training data has no rows.", status="skipped")
    return None


def _kind(s: pd.Series) -> str:
    """A column's kind: numeric, string, bool, datetime, timedelta, mixed or empty (all missing).

    Kinds, not exact dtypes: int64 and float64 are both ``numeric``.
    """
    dtype = s.dtype
    if not s.notna().any():
        return "empty"
    if isinstance(dtype, pd.CategoricalDtype):
        return _kind(pd.Series(np.asarray(dtype.categories, dtype=object)))
    if ptypes.is_bool_dtype(dtype):
        return "bool"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    if ptypes.is_numeric_dtype(dtype):
        return "numeric"
    if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        return "string"
    return _OBJECT_KINDS.get(ptypes.infer_dtype(s, skipna=True), "mixed")


def _declared_columns(ctx: AuditContext) -> set[str]:
    """The id, group and time columns the user declared."""
    return {c for c in (ctx.id_column, ctx.group_column, ctx.time_column) if c}


def _is_text_like(s: pd.Series) -> bool:
    """Whether a column can hold text values (string, object or categorical dtype)."""
    dtype = s.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or ptypes.is_object_dtype(dtype)
        or (ptypes.is_string_dtype(dtype) and not ptypes.is_bool_dtype(dtype))
    )


# A text column whose values are nearly all numbers is a numeric column with stray text
# (DQ005 reports it); treating it as categorical would flag every number as a new level.
NUMERIC_TEXT_SHARE = 0.9


def _numeric_text_share(s: pd.Series) -> float:
    """Share of a text column's non-missing values that parse as numbers (weighted by rows)."""
    counts = s.dropna().astype(str).str.strip().value_counts()
    counts = counts[~counts.index.isin(DEFAULT_PLACEHOLDERS)]
    if counts.empty:
        return 0.0
    numeric = pd.to_numeric(pd.Series(counts.index), errors="coerce").notna().to_numpy()
    return float(counts.to_numpy()[numeric].sum() / counts.sum())


def _is_categorical(s: pd.Series) -> bool:
    """String, bool or category dtype, or an object column of non-numeric values.

    Not a text column whose values are nearly all numbers (see NUMERIC_TEXT_SHARE).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return True
    kind = _kind(s)
    if kind == "bool":
        return True
    if kind in ("string", "mixed"):
        return _numeric_text_share(s) < NUMERIC_TEXT_SHARE
    return False


def _counts(s: pd.Series) -> pd.Series:
    """Non-missing value counts, observed values only, index as plain objects."""
    vc = s.value_counts(dropna=True, sort=True)
    vc = vc[vc > 0]
    vc.index = pd.Index(np.asarray(vc.index, dtype=object), dtype=object)
    return vc


def _placeholder_set(values: Iterable[Any]) -> set[str]:
    return {str(v).strip() for v in values if v is not None}


def _quote(value: Any) -> str:
    return _text(repr(value) if isinstance(value, str) else value)


def _rate(value: float) -> float:
    return round(float(value), 6)


def _omitted_note(total: int, shown: int, what: str) -> str:
    return f"{total - shown} more {what} not shown." if total > shown else ""
