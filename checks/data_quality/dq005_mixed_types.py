"""DQ005: columns that mix numbers and text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module

from ._common import (
    DEFAULT_PLACEHOLDERS,
    MAX_ROWS,
    _columns,
    _counts,
    _empty_train,
    _is_text_like,
    _omitted_note,
    _placeholder_set,
    _quote,
    _rate,
    _roles,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def _value_classes(values: pd.Index) -> np.ndarray:
    """Classify distinct values: 'number' (a number or numeric text), 'text', or a type name."""
    objs = np.asarray(values, dtype=object)
    is_str = np.fromiter((isinstance(v, str) for v in objs), dtype=bool, count=len(objs))
    out = np.empty(len(objs), dtype=object)
    if is_str.any():
        parsed = pd.to_numeric(pd.Series(objs[is_str], dtype=object).str.strip(), errors="coerce")
        out[is_str] = np.where(parsed.notna().to_numpy(), "number", "text")
    for i in np.flatnonzero(~is_str):
        v = objs[i]
        if isinstance(v, (bool, np.bool_)):
            out[i] = "bool"
        elif isinstance(v, (int, float, np.number)):
            out[i] = "number"
        else:
            out[i] = type(v).__name__
    return out


class MixedTypes(Check):
    """Columns that mix numbers and text

    What it checks:
        Text columns (string, object or categorical dtype) among the model inputs and the
        target, in each dataset, whose non-missing values are of more than one type: some
        parse as numbers and others do not (placeholders such as ``?`` are ignored), or
        an object column (typical of Parquet) holds several Python types. The metric
        ``mixed_type_columns`` counts such columns and fails above 0. Evidence shows each
        type's share, the minority share and example values. Text columns whose values
        all parse as numbers are listed separately (``numeric_text_columns``, not judged).

    Why it matters:
        A numeric column with a few text values ("1,200", "unknown", "12 kg") is read as
        text: the model sees hundreds of categories instead of one number, or the
        pipeline fails in production on the first new value. Mixed Python types break
        sorting, encoders and Parquet round trips.

    How to fix:
        Clean the values at the source: strip units and thousands separators, map the
        text tokens to missing values, then convert the column with ``pd.to_numeric``.
        If the column is truly categorical, convert every value to text.

    References:
        P1.5 of the practices; pandas documentation, ``pandas.to_numeric`` and
        ``pandas.api.types.infer_dtype``; Wickham, "Tidy Data", JSS 59(10), 2014.
    """

    id = "DQ005"
    name = "mixed-types"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    params = {
        "placeholders": Param(
            default=list(DEFAULT_PLACEHOLDERS),
            kind="list",
            help="text values treated as missing (ignored), compared after stripping whitespace",
        )
    }
    thresholds = {
        "mixed_type_columns": Threshold(direction="above", fail=0, low=0, help="columns holding values of more than one type"),
    }
    practices = ("P1.5",)
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "https://pandas.pydata.org/docs/reference/api/pandas.to_numeric.html",
        "https://pandas.pydata.org/docs/reference/api/pandas.api.types.infer_dtype.html",
        "Wickham, Tidy Data, Journal of Statistical Software 59(10), 2014",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        placeholders = _placeholder_set(params["placeholders"])
        rows, mixed_cols, numeric_text = [], [], []
        max_minority = 0.0
        checked: set[str] = set()
        for role in _roles(ctx):
            frame = ctx.frame(role)
            for col in _columns(ctx, role):
                s = frame[col]
                if not _is_text_like(s):
                    continue
                checked.add(col)
                vc = _counts(s)
                if vc.empty:
                    continue
                stripped = np.array([v.strip() if isinstance(v, str) else None for v in vc.index], dtype=object)
                keep = ~pd.Series(stripped, dtype=object).isin(placeholders).to_numpy()
                vc = vc[keep]
                if vc.empty:
                    continue
                classes = _value_classes(vc.index)
                by_class = pd.Series(vc.to_numpy(), index=classes).groupby(level=0).sum().sort_values(ascending=False)
                if len(by_class) == 1:
                    if by_class.index[0] == "number" and col not in numeric_text:
                        numeric_text.append(col)
                    continue
                total = int(by_class.sum())
                majority = by_class.index[0]
                minority_share = 1.0 - int(by_class.iloc[0]) / total
                max_minority = max(max_minority, minority_share)
                if col not in mixed_cols:
                    mixed_cols.append(col)
                minority_examples = [_quote(v) for v in vc.index[classes != majority][:3]]
                majority_examples = [_quote(v) for v in vc.index[classes == majority][:2]]
                rows.append([
                    col,
                    role,
                    ", ".join(f"{k} {int(v) / total:.1%}" for k, v in by_class.items()),
                    _rate(minority_share),
                    ", ".join(minority_examples),
                    ", ".join(majority_examples),
                ])
        rows.sort(key=lambda r: -r[3])
        evidence = []
        if rows:
            evidence.append(
                Evidence(
                    title="Columns whose values mix types",
                    columns=["column", "dataset", "types (share of values)", "minority share", "minority examples", "majority examples"],
                    rows=rows[:MAX_ROWS],
                    note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "column/dataset pairs"),
                )
            )
        if numeric_text:
            evidence.append(
                Evidence(
                    title="Text columns whose values are all numbers",
                    columns=["column"],
                    rows=[[c] for c in numeric_text[:MAX_ROWS]],
                    note="Not judged: these may be codes; convert them with pd.to_numeric if they are quantities.",
                )
            )
        summary = (
            f"Classified the values of {wording.count(len(checked), 'text column')} in {', '.join(_roles(ctx))} as numbers, text or other types: "
            f"{wording.count(len(mixed_cols), 'column mixes', 'columns mix')} types."
        )
        recommendation = (
            f"Clean {', '.join(repr(c) for c in mixed_cols[:5])}{' and others' if len(mixed_cols) > 5 else ''}: "
            "map stray tokens to missing values and convert to one type (pd.to_numeric or str)."
            if mixed_cols
            else "Nothing to convert."
        )
        return Findings(
            summary=summary,
            metrics={
                "mixed_type_columns": Metric(len(mixed_cols), description="columns whose values are of more than one type"),
                "max_minority_share": Metric(max_minority, description="largest share of values not of a column's main type"),
                "numeric_text_columns": Metric(len(numeric_text), description="text columns whose values all parse as numbers"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )
