"""DQ001: missing values, including disguised placeholders and numeric sentinel codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import bar_chart
from auditor.util import wording
from auditor.util.lazy import lazy_attribute, lazy_module

from ._common import (
    DEFAULT_PLACEHOLDERS,
    MAX_ROWS,
    _columns,
    _counts,
    _empty_train,
    _is_text_like,
    _omitted_note,
    _placeholder_set,
    _rate,
    _roles,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
iqr = lazy_attribute("scipy.stats", "iqr")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# A largest value made only of 9s (99, 999, 99999...) that lies this many times beyond the
# next largest distinct value reads as a code ("unknown", "capped"), not a measurement.
SENTINEL_GAP = 2.0
# A repeated whole-number code at either end of a numeric column (a negative one at the
# bottom: -1, -99, -999; a run of 9s or a round number at the top: 999, 10000) that lies
# beyond the range of the column's other values by more than this many of their
# interquartile ranges (their standard deviation where the IQR is 0) reads as a code: a
# value 3 IQRs past the other values' extreme is further out than Tukey's "far out" fence,
# which is measured from the quartiles. Genuine negatives (temperatures, balances, centred
# features) sit inside or next to the other values' range and are never this far.
SENTINEL_MARGIN = 3.0


def _code_shaped(value: float, *, bottom: bool) -> bool:
    """Whether a whole number has the shape of a code: any negative number at the bottom; at the
    top a run of 9s (99, 999, ...) or a round number of one significant digit from 1000 up."""
    if bottom:
        return value < 0
    digits = str(int(value))
    return value >= 99 and (set(digits) == {"9"} or (value >= 1000 and set(digits[1:]) == {"0"}))


def _beyond_range(value: float, rest: np.ndarray, *, bottom: bool) -> bool:
    """Whether a value lies past the other values' range by more than SENTINEL_MARGIN of their spread."""
    spread = float(iqr(rest)) or float(np.std(rest))
    if spread == 0:
        return False  # two-valued codings such as -1 / 1 have no spread to stand out from
    gap = float(rest.min() - value) if bottom else float(value - rest.max())
    return gap > SENTINEL_MARGIN * spread


def _numeric_sentinels(s: pd.Series) -> list[tuple[Any, int]]:
    """Possible sentinel codes at the bottom and the top of a numeric column, as (value, rows) pairs.

    A code is a whole number held by two or more rows at the column's minimum or maximum that
    either has the shape of a code and lies beyond the other values' range by more than
    SENTINEL_MARGIN interquartile ranges, or (at the top) is a run of 9s at least SENTINEL_GAP
    times the next largest value (UCI Adult's capital-gain of 99999).
    """
    if not ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        return []
    values = s.to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    found = []
    for bottom, end in ((True, values.min()), (False, values.max())):
        if end != np.floor(end):
            continue
        held = values == end
        count = int(held.sum())
        rest = values[~held]
        if count < 2 or rest.size == 0:
            continue
        nines_far_above = (
            not bottom and end >= 99 and set(str(int(end))) == {"9"}
            and rest.max() > 0 and end >= SENTINEL_GAP * rest.max()
        )
        if nines_far_above or (_code_shaped(end, bottom=bottom) and _beyond_range(end, rest, bottom=bottom)):
            found.append((int(end), count))
    return found


def _placeholder_counts(s: pd.Series, placeholders: set[str]) -> dict[str, int]:
    """How many values of a text column are placeholder tokens, by token (after stripping)."""
    if not placeholders or not _is_text_like(s):
        return {}
    vc = _counts(s)
    if vc.empty:
        return {}
    tokens = pd.Series(vc.index.astype(str), index=vc.index, dtype=object).str.strip()
    is_str = np.fromiter((isinstance(v, str) for v in vc.index), dtype=bool, count=len(vc))
    mask = tokens.isin(placeholders).to_numpy() & is_str
    if not mask.any():
        return {}
    found = pd.Series(vc.to_numpy()[mask], index=tokens.to_numpy()[mask]).groupby(level=0).sum()
    return {str(k): int(v) for k, v in found.items()}


class MissingValues(Check):
    """Missing values, including disguised placeholders

    What it checks:
        The share of missing values in every model input column and in the target, in
        each dataset (train, validation, test, current). A value is missing when it is
        NaN / None, or when a text value equals, after stripping whitespace, one of the
        ``placeholders`` (by default ``?``, empty, ``NA``, ``N/A``, ``n/a``, ``null``,
        ``NULL``, ``None``, ``nan``, ``-``). The metric ``max_missing_rate`` is the
        highest rate over all columns and datasets; it warns above 0.05 and fails above
        0.30. The target is not counted in the current sample, whose labels often arrive
        later. Numeric input columns are also searched for disguised codes, a whole
        number held by two or more rows at the column's minimum or maximum that is
        either (a) code-shaped (at the bottom any negative number, such as -1, -99,
        -999, -9999; at the top a run of 9s or a round number of one significant digit
        from 1000 up) and beyond the range of the column's other values by more than 3
        of their interquartile ranges (their standard deviation where the IQR is 0), or
        (b) at the top, a run of 9s (99, 999, 99999...) at least twice the next largest
        value, such as UCI Adult's capital-gain of 99999. Such a code is counted as
        missing (by code) in the column's missing rate, and the evidence names it; the
        metric ``max_sentinel_rate`` (the share of rows holding one) warns above 0.
        Genuine negative values (temperatures, balances, mean-centred features) lie
        inside or next to the other values' range, and two-valued codings such as -1/1
        have no spread to stand out from, so they are not codes.

    Why it matters:
        Placeholders such as ``?`` are read as a category of their own, so the model
        learns from "unknown" without anyone deciding it should. Missing values handled by
        accident (silently dropped rows, a default imputer) bias training and evaluation,
        and a rate that differs between train and test or production changes what the
        model sees.

    How to fix:
        Convert placeholders and numeric codes to real missing values when loading
        (``na_values=["?", -999]`` in ``pandas.read_csv``), then decide per column: impute (mean, median, mode, KNN or
        iterative imputation), add a missing-indicator feature, or drop the column or
        rows, inside the model's pipeline so the same treatment applies in production.

    References:
        P1.2 and P1.9 of the practices; scikit-learn user guide, "Imputation of missing
        values"; Little & Rubin, Statistical Analysis with Missing Data (3rd ed., 2019).
    """

    id = "DQ001"
    name = "missing-values"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    params = {
        "placeholders": Param(
            default=list(DEFAULT_PLACEHOLDERS),
            kind="list",
            help="text values counted as missing, compared after stripping whitespace",
        )
    }
    thresholds = {
        "max_missing_rate": Threshold(
            direction="above", warn=0.05, fail=0.30, low=0, high=1,
            help="highest share of missing values in any column of any dataset",
        ),
        "max_sentinel_rate": Threshold(
            direction="above", warn=0.0, fail=None, low=0, high=1,
            help="highest share of rows holding a possible numeric sentinel such as -999 or 99999",
        ),
    }
    practices = ("P1.2", "P1.9")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "https://scikit-learn.org/stable/modules/impute.html",
        "https://pandas.pydata.org/docs/user_guide/missing_data.html",
        "Little & Rubin, Statistical Analysis with Missing Data, 3rd ed., Wiley, 2019",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        placeholders = _placeholder_set(params["placeholders"])
        roles = _roles(ctx)
        rates: dict[str, dict[str, float]] = {}
        tokens: dict[str, dict[Any, dict[str, int]]] = {}
        order: list[str] = []
        sentinels = []
        worst = (0.0, None, None)
        for role in roles:
            frame = ctx.frame(role)
            n = len(frame)
            cols = _columns(ctx, role, target=role != "current")
            if n == 0 or not cols:
                continue
            nulls = frame[cols].isna().sum()
            for position, col in enumerate(cols):
                found: dict[Any, int] = dict(_placeholder_counts(frame[col], placeholders))
                if col != ctx.target:
                    # A numeric code (-999, 99999) is a placeholder too: missing by code.
                    for code, count in _numeric_sentinels(frame[col]):
                        found[code] = count
                        sentinels.append([col, role, code, count, _rate(count / n)])
                rate = (int(nulls.iloc[position]) + sum(found.values())) / n
                if col not in rates:
                    rates[col], tokens[col] = {}, {}
                    order.append(col)
                rates[col][role] = rate
                for token, count in found.items():
                    tokens[col].setdefault(token, {})[role] = count
                if rate > worst[0]:
                    worst = (rate, col, role)

        flagged = sorted((c for c in order if max(rates[c].values()) > 0), key=lambda c: -max(rates[c].values()))
        shown = flagged[:MAX_ROWS]
        rows = []
        for col in shown:
            seen = "; ".join(
                f"{token!r} ({', '.join(f'{r} {k}' for r, k in per_role.items())})"
                for token, per_role in sorted(tokens[col].items(), key=lambda item: str(item[0]))
            )
            rows.append([col, *[_rate(rates[col][r]) if r in rates[col] else "absent" for r in roles], seen or ""])
        evidence = [
            Evidence(
                title="Columns with missing values (share of rows, placeholders and numeric codes included)",
                columns=["column", *roles, "placeholders seen"],
                rows=rows,
                note=_omitted_note(len(flagged), len(shown), "columns with missing values"),
            )
        ] if flagged else []
        figures = []
        if flagged:
            top = shown[:12]
            figures.append(
                bar_chart(
                    "Missing values by column",
                    top,
                    {r: [rates[c].get(r, 0.0) for c in top] for r in roles},
                    "share of rows missing (NaN or placeholder)",
                    "Columns with the highest missing rate; placeholders such as '?' count as missing.",
                )
            )
        sentinels.sort(key=lambda r: -r[4])
        max_sentinel = max((r[4] for r in sentinels), default=0.0)
        if sentinels:
            evidence.append(Evidence(
                title="Possible numeric sentinels (repeated codes far beyond the other values)",
                columns=["column", "dataset", "value", "rows", "rate"],
                rows=sentinels[:MAX_ROWS],
                note=(
                    "Codes such as -999 or 99999 often stand for 'unknown' or 'capped'; they are counted as missing "
                    "(by code) in the missing rate above."
                ),
            ))
        rate, col, role = worst
        n_placeholder_cols = sum(1 for c in flagged if tokens[c])
        if col is None:
            summary = (
                f"Measured missing values (NaN/None, {len(placeholders)} placeholder tokens and numeric codes) in "
                f"{wording.count(len(order), 'column')} across {', '.join(roles)}; none was found."
            )
            recommendation = "Keep handling missing values inside the model pipeline so production data is treated alike."
        else:
            summary = (
                f"Measured missing values (NaN/None, {len(placeholders)} placeholder tokens and numeric codes) in "
                f"{wording.count(len(order), 'column')} across {', '.join(roles)}: {wording.count(len(flagged), 'column has', 'columns have')} some, "
                f"the highest rate is {wording.share(rate)} in {col!r} ({role})."
            )
            recommendation = (
                f"Decide how to treat missing values in {len(flagged)} columns (impute, add an indicator, or drop)"
                + (
                    f"; {n_placeholder_cols} of them hold placeholder tokens that should be read as missing "
                    "(na_values= when loading)."
                    if n_placeholder_cols
                    else "."
                )
            )
        if sentinels:
            top = sentinels[0]
            summary += (
                f" {wording.count(len({r[0] for r in sentinels}), 'numeric column holds', 'numeric columns hold')} a possible "
                f"sentinel code, counted as missing, such as {top[2]} in {top[0]!r} ({wording.share(top[4])} of {top[1]} rows)."
            )
            recommendation += " Find out what the sentinel codes mean and treat them as missing or capped values."
        return Findings(
            summary=summary,
            metrics={
                "max_missing_rate": Metric(rate, description="highest share of missing values in any column and dataset"),
                "columns_with_missing": Metric(len(flagged), description="columns with at least one missing value"),
                "max_sentinel_rate": Metric(max_sentinel, description="highest share of rows holding a possible numeric sentinel (-999, 99999, ...)"),
            },
            evidence=evidence,
            figures=figures,
            recommendation=recommendation,
        )
