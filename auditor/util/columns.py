"""What kind of column a check is looking at, decided one way for every check."""

from __future__ import annotations

from auditor.util.lazy import lazy_module

pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")



def is_numeric(s: pd.Series) -> bool:
    """Numbers a check can do arithmetic on: not booleans, not categoricals with numeric levels."""
    dtype = s.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)
