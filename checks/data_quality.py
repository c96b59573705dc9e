"""Data-quality checks (area ``data_quality``, IDs DQ001-DQ011).

Each check measures one property of the tables the model was trained and evaluated on
(missing values, duplicates, constant columns, conflicting labels, mixed types,
outliers, class balance, schema, unseen categories, cardinality, redundancy) and
returns metrics and small evidence tables. The engine judges the metrics against the
thresholds declared on each class; nothing here compares a metric with a level.

Every check is vectorised and roughly linear in the number of rows; DQ011 works on a
seeded sample and records it.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any, Iterable

from auditor import wording
from auditor.adapters import ModelCallError
from auditor.check import Check, Param, Threshold
from auditor.columns import is_numeric as _is_numeric
from auditor.figures import bar_chart
from auditor.lazy import lazy_attribute, lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.stats import encode_labels
from auditor.wording import cell as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
contingency = lazy_module("scipy.stats.contingency")
iqr = lazy_attribute("scipy.stats", "iqr")
median_abs_deviation = lazy_attribute("scipy.stats", "median_abs_deviation")
skew = lazy_attribute("scipy.stats", "skew")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

# The datasets a data-quality check looks at, in report order.
DATA_ROLES: tuple[str, ...] = ("train", "validation", "test", "current")
# Roles compared against train (schema, unseen categories).
OTHER_ROLES: tuple[str, ...] = ("validation", "test", "current")

DEFAULT_PLACEHOLDERS: tuple[str, ...] = ("?", "", "NA", "N/A", "n/a", "null", "NULL", "None", "nan", "-")
MISSING_LABEL = "<missing>"
# Evidence tables stay small: renderers show them whole.
MAX_ROWS = 20
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
def _roles(ctx: "AuditContext", roles: Iterable[str] = DATA_ROLES) -> list[str]:
    return [r for r in roles if ctx.has(r)]


def _columns(ctx: "AuditContext", role: str, *, target: bool = True) -> list[str]:
    """The model's input columns present in a role, plus the target when asked and present."""
    frame = ctx.frame(role)
    present = set(frame.columns)
    cols = [c for c in ctx.features if c in present]
    if target and ctx.target and ctx.target in present and ctx.target not in cols:
        cols.append(ctx.target)
    return cols


def _empty_train(ctx: "AuditContext") -> Findings | None:
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


def _declared_columns(ctx: "AuditContext") -> set[str]:
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


def _quote(value: Any) -> str:
    return _text(repr(value) if isinstance(value, str) else value)


def _rate(value: float) -> float:
    return round(float(value), 6)


def _omitted_note(total: int, shown: int, what: str) -> str:
    return f"{total - shown} more {what} not shown." if total > shown else ""


# -- DQ001 ---------------------------------------------------------------------------
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
    references = (
        "https://scikit-learn.org/stable/modules/impute.html",
        "https://pandas.pydata.org/docs/user_guide/missing_data.html",
        "Little & Rubin, Statistical Analysis with Missing Data, 3rd ed., Wiley, 2019",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
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


# -- DQ002 ---------------------------------------------------------------------------
def _duplicated(frame: pd.DataFrame) -> pd.Series:
    try:
        return frame.duplicated(keep="first")
    except TypeError:  # unhashable cells (lists from Parquet): compare their text
        return frame.astype(str).duplicated(keep="first")


class DuplicateRows(Check):
    """Duplicate rows within each dataset

    What it checks:
        The share of rows in each dataset (train, validation, test, current) that repeat
        an earlier row of the same dataset exactly, over the model's input columns and the
        target. The metric ``max_duplicate_rate`` is the highest share over the datasets;
        any duplicate warns (above 0.0) and more than 5% fails. Rows shared between train
        and test are the leakage checks' concern.

    Why it matters:
        Duplicates add no information, weight some records more than others, and in test
        data they count the same prediction several times, which narrows confidence
        intervals that should not be narrow. Many duplicates often mean a join or an
        export went wrong.

    How to fix:
        Find out why rows repeat. Remove exact copies (``DataFrame.drop_duplicates``)
        when they are artefacts; when they are real repeated events, keep them but
        split by a group key so that copies do not straddle train and test.

    References:
        P1.4 of the practices; pandas documentation, ``DataFrame.duplicated``;
        Kandel et al., "Research directions in data wrangling", Information Visualization 10(4), 2011.
    """

    id = "DQ002"
    name = "duplicate-rows"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train", "test"})
    thresholds = {
        "max_duplicate_rate": Threshold(
            direction="above", warn=0.0, fail=0.05, low=0, high=1,
            help="highest share of rows that repeat an earlier row of the same dataset",
        )
    }
    practices = ("P1.4",)
    references = (
        "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.duplicated.html",
        "Kandel et al., Research directions in data wrangling, Information Visualization 10(4), 2011",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        rows, examples = [], []
        worst = (0.0, None)
        example_cols: list[str] = []
        for role in _roles(ctx):
            frame = ctx.frame(role)
            cols = _columns(ctx, role)
            n = len(frame)
            if n == 0 or not cols:
                continue
            dup = _duplicated(frame[cols]).to_numpy()
            count = int(dup.sum())
            rate = count / n
            rows.append([role, n, count, _rate(rate)])
            if rate > worst[0]:
                worst = (rate, role)
            if count and len(examples) < 5:
                shown = cols[:6]
                example_cols = example_cols or shown
                if shown == example_cols:
                    positions = np.flatnonzero(dup)[: 5 - len(examples)]
                    part = frame.iloc[positions][shown]
                    for pos, values in zip(positions, part.itertuples(index=False, name=None)):
                        examples.append([role, int(pos), *[_text(v) for v in values]])
        evidence = [Evidence(title="Duplicate rows per dataset", columns=["dataset", "rows", "duplicates", "rate"], rows=rows)]
        if examples:
            evidence.append(
                Evidence(
                    title="Examples of duplicated rows",
                    columns=["dataset", "row", *example_cols],
                    rows=examples,
                    note="Row is the 0-based position in the file; only the first columns are shown.",
                )
            )
        rate, role = worst
        total = sum(r[2] for r in rows)
        summary = (
            f"Counted rows that repeat an earlier row in {', '.join(r[0] for r in rows)}: {total} in total"
            + (f", the highest share is {wording.share(rate)} ({role})." if role else ".")
        )
        recommendation = (
            "Find out why rows repeat; drop exact copies that are artefacts, or split by a group key "
            "so copies never straddle train and test."
            if total
            else "Nothing to remove."
        )
        return Findings(
            summary=summary,
            metrics={
                "max_duplicate_rate": Metric(rate, description="highest share of duplicated rows in any dataset"),
                "duplicate_rows": Metric(total, description="duplicated rows over all datasets"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ003 ---------------------------------------------------------------------------
class ConstantColumns(Check):
    """Constant and near-constant features

    What it checks:
        Model input columns of the training data that are constant (one distinct
        non-missing value, or nothing but missing values) and near-constant (the most
        frequent value, missing counted as a value, covers at least ``dominance`` of the
        rows, 0.99 by default). Metrics: ``constant_columns`` fails above 0 and
        ``near_constant_columns`` warns above 0. A training set of fewer than two rows
        is skipped: constancy is undefined there.

    Why it matters:
        A constant column carries no information and can break scalers and some solvers
        (zero variance); a near-constant one is mostly noise, is easily overfitted on its
        few odd rows, and may vanish entirely from a cross-validation fold.

    How to fix:
        Drop constant columns. For near-constant ones, check whether the rare values are
        errors; otherwise drop them, merge rare values, or use a variance threshold
        (``sklearn.feature_selection.VarianceThreshold``) inside the pipeline.

    References:
        P1.6 and P1.9 of the practices; scikit-learn user guide, "Removing features with
        low variance"; Kuhn & Johnson, Applied Predictive Modeling (2013), section 3.5.
    """

    id = "DQ003"
    name = "constant-columns"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "dominance": Param(
            default=0.99, kind="float", low=0.5, high=1.0,
            help="share of the most frequent value at or above which a column is near-constant",
        )
    }
    thresholds = {
        "constant_columns": Threshold(direction="above", fail=0, low=0, help="number of constant features"),
        "near_constant_columns": Threshold(direction="above", warn=0, low=0, help="number of near-constant features"),
    }
    practices = ("P1.6", "P1.9")
    references = (
        "https://scikit-learn.org/stable/modules/feature_selection.html#removing-features-with-low-variance",
        "Kuhn & Johnson, Applied Predictive Modeling, Springer, 2013, section 3.5",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        frame = ctx.frame("train")
        n = len(frame)
        cols = _columns(ctx, "train", target=False)
        if n < 2:
            return Findings(
                summary=f"Skipped: the training data has {n} row(s); constancy needs at least two.",
                status="skipped",
            )
        dominance = float(params["dominance"])
        constant, near = [], []
        for col in cols:
            s = frame[col]
            vc = _counts(s)
            n_missing = n - int(vc.sum())
            distinct = len(vc)
            top_value, top_count = (vc.index[0], int(vc.iloc[0])) if distinct else (None, 0)
            if n_missing > top_count:
                top_value, top_count = None, n_missing
            share = top_count / n
            row = [col, distinct, _text(top_value), _rate(share)]
            if distinct <= 1:
                constant.append([*row, "constant" if distinct else "all missing"])
            elif share >= dominance:
                near.append([*row, "near-constant"])
        flagged = constant + sorted(near, key=lambda r: -r[3])
        evidence = [
            Evidence(
                title="Constant and near-constant features (train)",
                columns=["column", "distinct values", "most frequent value", "share", "kind"],
                rows=flagged[:MAX_ROWS],
                note=_omitted_note(len(flagged), min(len(flagged), MAX_ROWS), "columns"),
            )
        ] if flagged else []
        summary = (
            f"Measured value dominance in {wording.count(len(cols), 'train feature')}: {len(constant)} constant, "
            f"{len(near)} with one value covering at least {dominance:.0%} of rows."
        )
        recommendation = (
            "Drop constant features; for near-constant ones check whether the rare values are errors, "
            "then drop them or apply a variance threshold in the pipeline."
            if flagged
            else "Nothing to drop."
        )
        return Findings(
            summary=summary,
            metrics={
                "constant_columns": Metric(len(constant), description="features with at most one distinct value"),
                "near_constant_columns": Metric(len(near), description=f"features whose top value covers >= {dominance:g} of rows"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ004 ---------------------------------------------------------------------------
def _discordant_pairs(counts: np.ndarray) -> np.ndarray:
    """Pairs of rows with different labels in each group, from label counts of shape (..., classes)."""
    n = counts.sum(axis=-1)
    return (n * n - (counts * counts).sum(axis=-1)) / 2


def _draw_counts(sizes: np.ndarray, proba: np.ndarray, times: int, rng: np.random.Generator) -> np.ndarray:
    """``times`` multinomial label counts per group, shape (times, groups, classes).

    Drawn class by class as conditional binomials (the multinomial's chain rule), which
    NumPy vectorises over groups far faster than ``Generator.multinomial`` with one row of
    probabilities per group.
    """
    left = np.broadcast_to(sizes, (times, len(sizes))).astype(np.int64)
    mass = np.ones(len(sizes))
    out = np.zeros((times, len(sizes), proba.shape[1]), dtype=np.int64)
    for c in range(proba.shape[1] - 1):
        share = np.divide(proba[:, c], mass, out=np.zeros(len(sizes)), where=mass > 0).clip(0.0, 1.0)
        out[:, :, c] = rng.binomial(left, share)
        left = left - out[:, :, c]
        mass = mass - proba[:, c]
    out[:, :, -1] = left
    return out


# Besag & Clifford's sequential Monte Carlo test stops once this many simulated label sets
# disagree at least as much as the observed one: a p-value clearly above any alpha is then
# known after a few dozen draws instead of all of them.
NOISE_TEST_EXCEEDANCES = 20


def _noise_test(counts: np.ndarray, proba: np.ndarray, *, n_simulations: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """Do identical inputs disagree more than the model's own probabilities make them? (observed, expected, p)

    ``counts`` holds the label counts of every group of identical inputs (one row per group,
    mixed or not), ``proba`` the model's class probabilities for each group's input. Under
    irreducible noise a group's labels are independent draws from those probabilities; the
    statistic is the number of within-group pairs with different labels, and the one-sided
    p-value is a parametric-bootstrap (Monte Carlo) one over at most ``n_simulations`` sets
    of labels drawn from the probabilities, with Besag & Clifford's (1991) sequential stop:
    h/L when the h-th set that disagrees at least as much comes at draw L
    (h = NOISE_TEST_EXCEEDANCES), else (1 + sets at least as far) / (1 + n_simulations).
    """
    sizes = counts.sum(axis=1)
    observed = float(_discordant_pairs(counts).sum())
    expected = float((sizes * (sizes - 1) / 2 * (1.0 - (proba * proba).sum(axis=1))).sum())
    # Small blocks first, so that a clear "noise" stops early; never more than about a million counts at once.
    cap = max(1, 1_000_000 // max(1, counts.size))
    at_least, done, block = 0, 0, 2 * NOISE_TEST_EXCEEDANCES
    while done < n_simulations:
        size = min(block, cap, n_simulations - done)
        drawn = _draw_counts(sizes, proba, size, rng)
        hits = np.cumsum(_discordant_pairs(drawn).sum(axis=1) >= observed - 1e-9) + at_least
        if hits[-1] >= NOISE_TEST_EXCEEDANCES:
            draws = done + 1 + int(np.argmax(hits >= NOISE_TEST_EXCEEDANCES))
            return observed, expected, NOISE_TEST_EXCEEDANCES / draws
        at_least, done, block = int(hits[-1]), done + size, 2 * block
    return observed, expected, (1 + at_least) / (1 + n_simulations)


class ConflictingLabels(Check):
    """Identical inputs with different labels, told apart from irreducible noise

    What it checks:
        Rows of the training data whose model inputs are identical but whose targets
        differ (for regression: differ exactly). ``conflict_rate``, the judged metric, is
        the share of labelled training rows that belong to such a conflicting group and
        that irreducible noise does not explain; it warns above 0.01 and fails above 0.05.
        Rows without a target are ignored; a training set without the target column is
        skipped.

        Noise or label errors: when the outcome is random given the inputs (a coin flip
        on a few binary features), identical inputs must often carry different labels,
        and no relabelling would help. For a classifier with probabilities, every group of
        identical inputs (mixed or not, so that the choice of groups does not depend on
        the labels) is compared with the model's own class probabilities for that input:
        under noise its labels are independent draws from them. The statistic is the
        number of within-group pairs of rows with different labels; its one-sided p-value
        is a parametric-bootstrap one, the share of up to ``n_simulations`` (999) seeded
        sets of labels drawn from the model's probabilities that disagree at least as
        much (stopped once 20 of them have, Besag & Clifford's sequential test). When the
        p-value is at least ``alpha`` (0.01), the conflicts are as many as noise makes:
        they are reported as ``noise_conflict_rate`` (not judged) and ``conflict_rate`` is
        0. Otherwise, and whenever there is no reference (a regression task, a model
        without probabilities, no model, labels the model does not know), every
        conflicting row counts in ``conflict_rate``. Copies of rows with the label flipped
        against an otherwise predictable relation disagree far more than the model's
        probabilities allow, and still fail. The reference is the model's probabilities:
        a model that memorised the conflicting rows explains more of them than a
        held-out model would.

    Why it matters:
        No model can fit both labels of the same input: conflicts set a floor under the
        training error, often reveal labelling mistakes or a missing feature, and
        mislead any evaluation that counts them. Conflicts that only reflect a random
        outcome are no defect: relabelling them would destroy the calibration of the
        probabilities.

    How to fix:
        Review the conflicting groups (evidence lists the largest). Correct wrong labels,
        add the feature that tells the cases apart, or, when the outcome is genuinely
        random, keep the rows and accept the error floor (or aggregate them to the
        majority label or mean).

    References:
        P1.4 and P1.9 of the practices; Frénay & Verleysen, "Classification in the
        presence of label noise: a survey", IEEE TNNLS 25(5), 2014; Northcutt et al.,
        "Confident learning", JAIR 70, 2021; Davison & Hinkley, Bootstrap Methods and
        their Application, Cambridge University Press, 1997, section 4.2; Besag &
        Clifford, "Sequential Monte Carlo p-values", Biometrika 78(2), 1991.
    """

    id = "DQ004"
    name = "conflicting-labels"
    area = "data_quality"
    severity = "high"
    needs = frozenset({"train"})
    params = {
        "alpha": Param(
            default=0.01, kind="float", low=0.0001, high=0.5,
            help="significance level below which conflicts are more than the model's probabilities explain",
        ),
        "n_simulations": Param(
            default=999, kind="int", low=99, high=100_000,
            help="label sets drawn from the model's probabilities for the noise test",
        ),
    }
    thresholds = {
        "conflict_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of labelled train rows in a group of identical inputs with different labels, beyond noise",
        )
    }
    practices = ("P1.4", "P1.9")
    references = (
        "Frénay & Verleysen, Classification in the presence of label noise: a survey, IEEE TNNLS 25(5), 2014",
        "Northcutt, Jiang & Chuang, Confident learning: estimating uncertainty in dataset labels, JAIR 70, 2021",
        "Davison & Hinkley, Bootstrap Methods and their Application, Cambridge University Press, 1997",
        "Besag & Clifford, Sequential Monte Carlo p-values, Biometrika 78(2), 1991",
    )

    def _reference(self, ctx: "AuditContext", labelled: np.ndarray) -> tuple[np.ndarray, np.ndarray] | str:
        """The model's class probabilities and the label codes of the labelled train rows, or why there are none."""
        if not ctx.is_classification:
            return "a regression target has no class probabilities to compare with"
        try:
            proba = ctx.probabilities("train")
        except ModelCallError as exc:
            return f"the model's probabilities are not available ({exc})"
        if proba is None or not ctx.classes:
            return "the model gives no class probabilities"
        codes = encode_labels(ctx.y("train").to_numpy()[labelled], list(ctx.classes))
        return np.asarray(proba, dtype=float)[labelled], codes

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        y = ctx.y("train")
        cols = _columns(ctx, "train", target=False)
        if y is None:
            return Findings(summary=f"Skipped: the training data has no target column {ctx.target!r}.", status="skipped")
        if not cols:
            return Findings(summary="Skipped: none of the model's input columns is in the training data.", status="skipped")
        frame = ctx.frame("train")
        labelled = y.notna().to_numpy()
        X = frame.loc[labelled, cols]
        labels = y[labelled]
        n = len(X)
        if n == 0:
            return Findings(summary="Skipped: no training row has a target value.", status="skipped")
        repeated = X.duplicated(keep=False).to_numpy()
        groups = pd.Series(dtype="int64")
        conflicting = np.zeros(n, dtype=bool)
        group_id = np.zeros(0, dtype=np.int64)
        if repeated.any():
            sub = X[repeated]
            group_id = sub.groupby(cols, dropna=False, sort=False).ngroup().to_numpy()
            sub_labels = pd.Series(labels.to_numpy()[repeated])
            n_labels = sub_labels.groupby(group_id).transform("nunique").to_numpy()
            conflicting[np.flatnonzero(repeated)[n_labels > 1]] = True
            groups = pd.Series(group_id[n_labels > 1])
        rate = float(conflicting.sum()) / n
        n_groups = int(groups.nunique()) if len(groups) else 0

        # Noise or label errors: compare every group of identical inputs with the model's probabilities.
        noise: dict[str, float] | None = None
        no_reference = ""
        if n_groups:
            reference = self._reference(ctx, labelled)
            if isinstance(reference, str):
                no_reference = reference
            else:
                proba, codes = reference
                codes = codes[repeated]
                if (codes < 0).any():
                    no_reference = "some labels are not among the model's classes"
                else:
                    n_classes = proba.shape[1]
                    counts = np.zeros((int(group_id.max()) + 1, n_classes), dtype=np.int64)
                    np.add.at(counts, (group_id, codes), 1)
                    # identical inputs get identical probabilities; the mean absorbs rounding
                    group_proba = np.zeros((len(counts), n_classes))
                    np.add.at(group_proba, group_id, proba[repeated])
                    group_proba /= counts.sum(axis=1, keepdims=True)
                    group_proba = np.clip(group_proba, 0.0, None)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        group_proba /= group_proba.sum(axis=1, keepdims=True)
                    if not np.isfinite(group_proba).all():
                        no_reference = "the model's probabilities are not all finite numbers"
                    else:
                        observed, expected, p_value = _noise_test(
                            counts, group_proba, n_simulations=int(params["n_simulations"]), rng=ctx.rng(self.id),
                        )
                        noise = {"observed": observed, "expected": expected, "p_value": p_value}
        explained = noise is not None and noise["p_value"] >= float(params["alpha"])
        judged_rate = 0.0 if explained else rate

        rows = []
        if n_groups:
            sizes = groups.value_counts().head(5)
            positions = np.flatnonzero(conflicting)
            shown = cols[:4]
            for gid, size in sizes.items():
                members = positions[groups.to_numpy() == gid]
                first = X.iloc[members[0]]
                label_counts = labels.iloc[members].value_counts()
                rows.append([
                    int(size),
                    "; ".join(f"{_text(k)}: {int(v)}" for k, v in label_counts.items()),
                    *[_text(first[c]) for c in shown],
                ])
            evidence = [
                Evidence(
                    title="Largest groups of identical inputs with different labels (train)",
                    columns=["rows", "labels", *shown],
                    rows=rows,
                    note="Only the first input columns are shown; every input column is identical within a group.",
                )
            ]
            if noise is not None:
                evidence.append(Evidence(
                    title="Conflicts against the model's own probabilities (noise test)",
                    columns=["groups of identical inputs", "pairs with different labels", "expected under noise",
                             "p-value", "alpha", "verdict"],
                    rows=[[
                        int(group_id.max()) + 1, int(noise["observed"]), round(noise["expected"], 2),
                        round(noise["p_value"], 6), float(params["alpha"]),
                        "irreducible noise" if explained else "more than noise: label errors or a missing feature",
                    ]],
                    note=(
                        f"Labels drawn {int(params['n_simulations'])} times from the model's class probabilities for each "
                        "group's input; the p-value is the share of draws that disagree at least as much."
                    ),
                ))
        else:
            evidence = []
        summary = (
            f"Compared labels of train rows with identical values in {wording.count(len(cols), 'input column')}: "
            f"{int(conflicting.sum())} of {n} labelled rows ({wording.share(rate)}) fall in {wording.count(n_groups, 'conflicting group')}."
        )
        if noise is not None:
            summary += (
                f" They hold {int(noise['observed'])} pairs of rows with different labels where the model's own probabilities "
                f"expect {noise['expected']:.1f} (p = {noise['p_value']:.3g}): "
                + ("as many as irreducible noise makes, so they are not counted as label errors." if explained
                   else "more than noise explains.")
            )
        elif no_reference:
            summary += f" They cannot be told from irreducible noise ({no_reference}), so all are counted."
        if not n_groups:
            recommendation = "Nothing to review."
        elif explained:
            recommendation = (
                "The outcome looks random given these inputs: keep the rows and accept the error floor, or add a "
                "feature that separates the cases."
            )
        else:
            recommendation = "Review the conflicting groups: correct wrong labels or add the feature that separates the cases."
        metrics = {
            "conflict_rate": Metric(judged_rate, description="share of labelled train rows in a conflicting group, beyond irreducible noise"),
            "noise_conflict_rate": Metric(
                rate if explained else 0.0,
                description="share of labelled train rows in conflicting groups that the model's probabilities explain as noise",
            ),
            "conflicting_groups": Metric(n_groups, description="groups of identical inputs with more than one label"),
        }
        if noise is not None:
            metrics["noise_test_p_value"] = Metric(
                noise["p_value"], description="Monte Carlo p-value: identical inputs disagree more than the model's probabilities make them",
            )
        return Findings(summary=summary, metrics=metrics, evidence=evidence, recommendation=recommendation)


# -- DQ005 ---------------------------------------------------------------------------
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
    references = (
        "https://pandas.pydata.org/docs/reference/api/pandas.to_numeric.html",
        "https://pandas.pydata.org/docs/reference/api/pandas.api.types.infer_dtype.html",
        "Wickham, Tidy Data, Journal of Statistical Software 59(10), 2014",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
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


# -- DQ006 ---------------------------------------------------------------------------
class Outliers(Check):
    """Outliers in numeric features (robust z-score, IQR fallback)

    What it checks:
        For each numeric model input of the training data, the share of non-missing
        values whose robust z-score ``|x - median| / (1.4826 * MAD)`` exceeds ``z``
        (3.5 by default, Iglewicz & Hoaglin). A count column (non-negative whole numbers)
        whose skewness is above 1, such as a zero-inflated count, is measured on
        ``log(1 + x)``: its long tail is its nature, not an error, while a sentinel such
        as 99999 still stands far out there; when over half of it is 0, the zeros are
        its structure, never outliers, and the other values are measured. When the MAD is 0 (more than half the values
        equal), Tukey's fences ``[Q1 - k*IQR, Q3 + k*IQR]`` with ``k = iqr_k`` (3.0,
        "far out") are used instead; when the IQR is 0 too, the column is listed as having
        a degenerate spread and not measured. Infinite values always count as outliers.
        The metric ``max_outlier_rate`` is the highest share over the columns; it warns
        above 0.05 and fails above 0.25 (a column piled up on one value inflates the rate; see the evidence). Evidence also gives the share of values equal to
        the median: when one value dominates, the MAD is small and the rate reflects wide
        tails around that spike rather than entry errors.

    Why it matters:
        Extreme values pull means, variances and linear models, dominate squared-error
        losses and distance-based methods, and are often entry errors (an age of 999,
        a sentinel such as -1 for "unknown"). A high rate can also mean a skewed
        distribution that would be better modelled on a log scale.

    How to fix:
        Look at the flagged values: correct or remove entry errors, turn sentinels into
        missing values, cap (winsorise) or transform skewed features (log, quantile), or
        use robust scalers and losses (``RobustScaler``, Huber loss).

    References:
        P1.3 of the practices; Iglewicz & Hoaglin, How to Detect and Handle Outliers,
        ASQC, 1993; Tukey, Exploratory Data Analysis, 1977; SciPy
        ``scipy.stats.median_abs_deviation``.
    """

    id = "DQ006"
    name = "outliers"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "z": Param(default=3.5, kind="float", low=1.0, high=100.0, help="robust z-score above which a value is an outlier"),
        "iqr_k": Param(default=3.0, kind="float", low=0.5, high=100.0, help="Tukey fence multiplier used when the MAD is 0"),
    }
    thresholds = {
        "max_outlier_rate": Threshold(
            direction="above", warn=0.05, fail=0.25, low=0, high=1,
            help="highest share of outlying values in any numeric feature",
        )
    }
    practices = ("P1.3",)
    references = (
        "Iglewicz & Hoaglin, How to Detect and Handle Outliers, ASQC Quality Press, 1993",
        "Tukey, Exploratory Data Analysis, Addison-Wesley, 1977",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.median_abs_deviation.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        frame = ctx.frame("train")
        z, k = float(params["z"]), float(params["iqr_k"])
        numeric = [c for c in _columns(ctx, "train", target=False) if _is_numeric(frame[c])]
        rows, degenerate, empty = [], [], []
        for col in numeric:
            values = frame[col].to_numpy(dtype=float, na_value=np.nan)
            values = values[~np.isnan(values)]
            if values.size == 0:
                empty.append(col)
                continue
            finite = np.isfinite(values)
            x = values[finite]
            if x.size == 0:
                rows.append([col, "non-finite", None, None, 0.0, int(values.size), 1.0])
                continue
            median = float(np.median(x))
            at_median = _rate(np.count_nonzero(x == median) / values.size)
            # A count (non-negative whole numbers) with a long right tail, often piled up at 0, is
            # skewed by nature: on its own scale the robust z calls its ordinary tail outlying (a
            # zero-inflated count read 12% outliers). It is measured on log(1 + x), where a typo
            # or sentinel (999 among ages, 99999) still stands far out.
            skewed_count = bool(x.min() >= 0 and np.all(x == np.round(x)) and float(skew(x)) > 1)
            scale = np.log1p(x) if skewed_count else x
            centre = float(np.median(scale))
            mad = float(median_abs_deviation(scale, scale="normal"))
            where = " on log(1 + x), a skewed count" if skewed_count else ""
            # Over half the values are 0 (zero-inflated): the zeros are the column's structure,
            # not candidates; the spread is measured on the other values, and only they can be outliers.
            zero_inflated = skewed_count and mad == 0 and np.count_nonzero(x) > 1
            if zero_inflated:
                base = scale[x > 0]
                centre, mad = float(np.median(base)), float(median_abs_deviation(base, scale="normal"))
                where = " on log(1 + x) of the non-zero values, a zero-inflated count"
            if mad > 0:
                method, low, high = f"robust z > {z:g}{where}", centre - z * mad, centre + z * mad
            else:
                q1, q3 = np.percentile(scale, [25, 75])
                iqr = float(q3 - q1)
                if iqr <= 0:
                    degenerate.append(col)
                    continue
                method, low, high = f"IQR fences, k = {k:g}{where}", float(q1 - k * iqr), float(q3 + k * iqr)
            beyond = (scale < low) | (scale > high)
            if zero_inflated:
                beyond &= x > 0
            count = int((~finite).sum() + beyond.sum())
            if skewed_count:  # bounds shown in the column's own units
                low, high = float(np.expm1(low)), float(np.expm1(high))
            rows.append([col, method, round(low, 6), round(high, 6), at_median, count, _rate(count / values.size)])
        rows.sort(key=lambda r: -r[6])
        max_rate = rows[0][6] if rows else 0.0
        notes = []
        if degenerate:
            notes.append("Degenerate spread (MAD and IQR are 0), not measured: " + ", ".join(repr(_text(c)) for c in degenerate[:MAX_ROWS]) + ".")
        if empty:
            notes.append("No values, not measured: " + ", ".join(repr(_text(c)) for c in empty[:MAX_ROWS]) + ".")
        omitted = _omitted_note(len(rows), min(len(rows), MAX_ROWS), "columns")
        if omitted:
            notes.append(omitted)
        if rows:
            notes.append(
                "A large share at the median shrinks the MAD: the rate then reflects wide tails around a spike "
                "more than entry errors."
            )
        evidence = [
            Evidence(
                title="Outlying values per numeric feature (train)",
                columns=["column", "method", "lower bound", "upper bound", "share at median", "outliers", "rate"],
                rows=rows[:MAX_ROWS],
                note=" ".join(notes),
            )
        ] if rows or notes else []
        if not numeric:
            summary = "Found no numeric feature in the training data; nothing to measure for outliers."
        else:
            summary = (
                f"Measured outlying values in {len(rows)} of {len(numeric)} numeric train features"
                + (f"; the highest rate is {wording.share(max_rate)} in {rows[0][0]!r}." if rows else ".")
            )
        recommendation = (
            "Inspect the values beyond the bounds: correct entry errors, turn sentinels into missing values, "
            "and cap or transform skewed features (log, quantile) or use robust scalers."
            if rows and max_rate > 0
            else "Nothing to inspect."
        )
        return Findings(
            summary=summary,
            metrics={
                "max_outlier_rate": Metric(max_rate, description="highest share of outlying values in a numeric feature"),
                "columns_measured": Metric(len(rows), description="numeric features with a usable spread"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ007 ---------------------------------------------------------------------------
class TargetImbalance(Check):
    """Class imbalance of the target

    What it checks:
        The class counts of the target in the training data (and, for comparison, in the
        test data and any other labelled dataset). The metric ``minority_ratio`` is the
        count of the smallest class divided by that of the largest, in train; a class that
        the model knows of but that is absent from train counts as 0. It warns below 0.2
        (1:5) and fails below 0.05 (1:20). Classification only.

    Why it matters:
        With a rare class, accuracy rewards ignoring it, decision thresholds tuned on the
        majority miss it, and estimates for it rest on few rows. A different class mix
        in test or production changes the metrics without the model changing.

    How to fix:
        Evaluate with metrics that see the minority (balanced accuracy, recall and
        precision per class, PR-AUC); stratify splits; weight classes
        (``class_weight="balanced"``) or resample (over-/under-sampling, SMOTE) inside
        cross-validation only; collect more minority examples.

    References:
        P4.1 and P1.8 of the practices; He & Garcia, "Learning from Imbalanced Data",
        IEEE TKDE 21(9), 2009; imbalanced-learn documentation.
    """

    id = "DQ007"
    name = "target-imbalance"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    tasks = frozenset({"binary", "multiclass"})
    thresholds = {
        "minority_ratio": Threshold(
            direction="below", warn=0.2, fail=0.05, low=0, high=1,
            help="smallest class count divided by the largest, in train",
        )
    }
    practices = ("P4.1", "P1.8")
    references = (
        "He & Garcia, Learning from Imbalanced Data, IEEE TKDE 21(9), 2009",
        "https://imbalanced-learn.org/stable/user_guide.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        y = ctx.y("train")
        if y is None or not y.notna().any():
            return Findings(summary=f"Skipped: the training data has no values of the target {ctx.target!r}.", status="skipped")
        roles = [r for r in DATA_ROLES if ctx.has(r) and ctx.has_labels(r)]
        counts = {r: _counts(ctx.y(r)) for r in roles}
        classes: list[Any] = list(counts["train"].index)
        for extra in [*(ctx.classes or []), *(v for r in roles for v in counts[r].index)]:
            if extra not in classes:
                classes.append(extra)
        train = counts["train"].reindex(classes, fill_value=0)
        ratio = float(train.min()) / float(train.max())
        rows = []
        for cls in classes:
            row = [_text(cls)]
            for r in roles:
                c = int(counts[r].get(cls, 0))
                row += [c, _rate(c / counts[r].sum())]
            rows.append(row)
        columns = ["class"] + [f"{r} {what}" for r in roles for what in ("count", "share")]
        smallest, largest = train.idxmin(), train.idxmax()
        summary = (
            f"Counted {wording.count(len(classes), 'class', 'classes')} in the train target: the smallest ({_text(smallest)!r}, "
            f"{int(train.min())} rows) is {ratio:.3f} times the largest ({_text(largest)!r}, {int(train.max())} rows)."
        )
        return Findings(
            summary=summary,
            metrics={
                "minority_ratio": Metric(ratio, description="smallest class count / largest class count in train"),
                "minority_share": Metric(float(train.min()) / float(train.sum()), description="share of the smallest class in train"),
            },
            evidence=[Evidence(title="Class counts and shares", columns=columns, rows=rows[:MAX_ROWS],
                               note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "classes"))],
            recommendation=(
                "Judge the model with metrics that see every class (balanced accuracy, per-class recall, PR-AUC), "
                "stratify splits, and consider class weights or resampling inside cross-validation."
            ),
        )


# -- DQ008 ---------------------------------------------------------------------------
class SchemaMismatch(Check):
    """Schema differences between train and the other datasets

    What it checks:
        Compares the columns of the test data (and of the validation data and the
        current production sample when given) with the training data: columns missing or
        extra, and changes of kind in the model's inputs and the target. Kinds, not exact
        dtypes, are compared: numeric, string, bool, datetime, timedelta, mixed; int64
        against float64 is no change, numeric against string is. A column that is
        entirely missing has no kind and is left to DQ001. Declared id, group and time
        columns, prediction / score columns, and the target's absence from the current
        sample are not differences. The metric ``schema_differences`` counts the
        differences and fails above 0.

    Why it matters:
        A model fitted on one schema and fed another either fails in production or,
        worse, runs on wrongly typed values: a numeric column read as text becomes a
        category per value, a missing column is silently imputed.

    How to fix:
        Export every dataset through the same code path, declare dtypes when reading
        (``dtype=`` in ``read_csv``, a Parquet schema), and validate inputs against a
        schema at the model's boundary.

    References:
        P1.5 and P4.1 of the practices; Breck et al., "Data Validation for Machine
        Learning", SysML 2019; pandas documentation, ``pandas.api.types``.
    """

    id = "DQ008"
    name = "schema-mismatch"
    area = "data_quality"
    severity = "high"
    needs = frozenset({"train", "test"})
    thresholds = {
        "schema_differences": Threshold(direction="above", fail=0, low=0, help="missing, extra or retyped columns"),
    }
    practices = ("P1.5", "P4.1")
    references = (
        "Breck, Polyzotis, Roy, Whang & Zinkevich, Data Validation for Machine Learning, SysML 2019",
        "https://pandas.pydata.org/docs/reference/arrays.html#data-type-introspection",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        model = ctx.model
        auxiliary = {
            c
            for c in (
                ctx.id_column,
                ctx.group_column,
                ctx.time_column,
                getattr(model, "prediction_column", None),
                getattr(model, "score_column", None),
            )
            if c
        }
        relevant = [*ctx.features, ctx.target]
        train_kinds = {c: _kind(train[c]) for c in relevant if c in train.columns}
        rows = []
        others = _roles(ctx, OTHER_ROLES)
        for role in others:
            frame = ctx.frame(role)
            present = set(frame.columns)
            train_present = set(train.columns)
            for col in train.columns:
                if col in present or col in auxiliary:
                    continue
                if col == ctx.target and role == "current":
                    continue
                what = "model input" if col in ctx.features else "target" if col == ctx.target else "column"
                rows.append([col, role, train_kinds.get(col) or _kind(train[col]), "absent", f"{what} missing in {role}"])
            for col in frame.columns:
                if col not in train_present and col not in auxiliary:
                    rows.append([col, role, "absent", _kind(frame[col]), f"extra column in {role}"])
            for col in relevant:
                if col not in present or col not in train_kinds:
                    continue
                a, b = train_kinds[col], _kind(frame[col])
                if a != b and "empty" not in (a, b):
                    rows.append([col, role, a, b, "kind changed"])
        n_diff = len(rows)
        evidence = [
            Evidence(
                title="Schema differences against train",
                columns=["column", "dataset", "train kind", "other kind", "problem"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(n_diff, min(n_diff, MAX_ROWS), "differences"),
            )
        ] if rows else []
        summary = (
            f"Compared the columns and column kinds of {', '.join(others)} with train: {wording.count(n_diff, 'difference')}."
        )
        recommendation = (
            "Produce every dataset through the same export code, declare dtypes when reading, "
            "and validate inputs against a schema before scoring."
            if rows
            else "Nothing to align."
        )
        return Findings(
            summary=summary,
            metrics={"schema_differences": Metric(n_diff, description="missing, extra or retyped columns against train")},
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ009 ---------------------------------------------------------------------------
class UnseenCategories(Check):
    """Categories absent from the training data

    What it checks:
        For each categorical model input (string, bool or category dtype), the values in
        the test data (and the validation data and current sample when given) that never
        occur in the training data. The metric ``max_unseen_rate`` is the largest share
        of a dataset's rows carrying an unseen value in one column; any unseen value
        warns (above 0.0) and more than 1% of rows fails. Missing values are not counted.

    Why it matters:
        The model has learnt nothing about an unseen category: one-hot encoders raise or
        map it to all zeros, ordinal encoders fail, and the prediction for those rows is
        a guess. A high rate also signals a split that is not representative or a change
        of coding between datasets (``"US"`` against ``"United-States"``).

    How to fix:
        Make the split representative (stratify or split by time deliberately); map
        spelling variants to one code; group rare values into an "other" level at
        training time; configure encoders for unknown values
        (``OneHotEncoder(handle_unknown="infrequent_if_exist")``).

    References:
        P1.7 and P4.1 of the practices; scikit-learn user guide, "Encoding categorical
        features"; Micci-Barreca, "A preprocessing scheme for high-cardinality
        categorical attributes", SIGKDD Explorations 3(1), 2001.
    """

    id = "DQ009"
    name = "unseen-categories"
    area = "data_quality"
    severity = "medium"
    needs = frozenset({"train", "test"})
    thresholds = {
        "max_unseen_rate": Threshold(
            direction="above", warn=0.0, fail=0.01, low=0, high=1,
            help="largest share of a dataset's rows with a category absent from train, in one column",
        )
    }
    practices = ("P1.7", "P4.1")
    references = (
        "https://scikit-learn.org/stable/modules/preprocessing.html#encoding-categorical-features",
        "Micci-Barreca, A preprocessing scheme for high-cardinality categorical attributes, SIGKDD Explorations 3(1), 2001",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        # Declared id, group and time columns take new values by design: not categories.
        cats = [c for c in _columns(ctx, "train", target=False)
                if c not in _declared_columns(ctx) and _is_categorical(train[c])]
        others = _roles(ctx, OTHER_ROLES)
        rows = []
        worst = (0.0, None, None)
        for col in cats:
            seen = _counts(train[col]).index
            for role in others:
                frame = ctx.frame(role)
                if col not in frame.columns or len(frame) == 0:
                    continue
                vc = _counts(frame[col])
                unseen = vc[~vc.index.isin(seen)]
                if unseen.empty:
                    continue
                share = int(unseen.sum()) / len(frame)
                rows.append([
                    col,
                    role,
                    ", ".join(_quote(v) for v in unseen.index[:5]),
                    len(unseen),
                    int(unseen.sum()),
                    _rate(share),
                ])
                if share > worst[0]:
                    worst = (share, col, role)
        rows.sort(key=lambda r: -r[5])
        rate, col, role = worst
        evidence = [
            Evidence(
                title="Categories absent from train",
                columns=["column", "dataset", "unseen values (up to 5)", "distinct unseen", "rows", "share of rows"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "column/dataset pairs"),
            )
        ] if rows else []
        if not cats:
            summary = "Found no categorical feature in the training data; nothing to compare."
        else:
            summary = (
                f"Compared the values of {wording.count(len(cats), 'categorical feature')} in {', '.join(others)} with train: "
                f"{wording.count(len(rows), 'column/dataset pair holds', 'column/dataset pairs hold')} unseen values"
                + (f", at most {wording.share(rate)} of rows ({col!r}, {role})." if col is not None else ".")
            )
        recommendation = (
            "Check the split and the coding of the flagged columns; group rare values and configure "
            "encoders to handle unknown categories."
            if rows
            else "Nothing to align."
        )
        return Findings(
            summary=summary,
            metrics={
                "max_unseen_rate": Metric(rate, description="largest share of rows with an unseen category in one column"),
                "columns_with_unseen": Metric(len({r[0] for r in rows}), description="categorical features with unseen values"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ010 ---------------------------------------------------------------------------
class HighCardinality(Check):
    """Categorical features with very many levels

    What it checks:
        Categorical model inputs (string, bool or category dtype) of the training data,
        other than the declared id column, whose number of distinct non-missing values
        exceeds ``max_levels`` (50), or whose distinct values per non-missing row exceed
        ``max_unique_ratio`` (0.5) when the column has more than ``min_levels`` (10)
        distinct values (so that a few levels on a few rows are not flagged). The metric
        ``high_cardinality_columns`` counts them and warns above 0; ``max_levels_seen``
        reports the largest number of levels.

    Why it matters:
        One-hot encoding a column with hundreds of levels explodes the feature space and
        overfits the rare levels; a column that is nearly unique per row is an
        identifier in disguise and lets the model memorise rows instead of learning.

    How to fix:
        Drop identifier-like columns (or declare them with ``--id-column``); group rare
        levels (``OneHotEncoder(min_frequency=...)``), use target or hashing encoders
        with cross-fitting, or replace the column by a coarser attribute.

    References:
        P1.5 of the practices; Micci-Barreca, SIGKDD Explorations 3(1), 2001;
        Cerda & Varoquaux, "Encoding high-cardinality string categorical variables",
        IEEE TKDE, 2020; scikit-learn ``TargetEncoder``.
    """

    id = "DQ010"
    name = "high-cardinality"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "max_levels": Param(default=50, kind="int", low=2, high=1_000_000, help="levels above which a categorical feature is high-cardinality"),
        "max_unique_ratio": Param(
            default=0.5, kind="float", low=0.0, high=1.0,
            help="distinct values per non-missing row above which a feature looks like an identifier",
        ),
        "min_levels": Param(
            default=10, kind="int", low=1, high=1_000_000,
            help="levels a feature needs before max_unique_ratio applies",
        ),
    }
    thresholds = {
        "high_cardinality_columns": Threshold(direction="above", warn=0, low=0, help="number of high-cardinality categorical features"),
    }
    practices = ("P1.5",)
    references = (
        "Micci-Barreca, A preprocessing scheme for high-cardinality categorical attributes, SIGKDD Explorations 3(1), 2001",
        "Cerda & Varoquaux, Encoding high-cardinality string categorical variables, IEEE TKDE 34(3), 2022",
        "https://scikit-learn.org/stable/modules/preprocessing.html#target-encoder",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        frame = ctx.frame("train")
        max_levels, max_ratio, min_levels = int(params["max_levels"]), float(params["max_unique_ratio"]), int(params["min_levels"])
        cats = [
            c for c in _columns(ctx, "train", target=False)
            if c not in _declared_columns(ctx) and _is_categorical(frame[c])
        ]
        rows = []
        max_seen = 0
        for col in cats:
            s = frame[col]
            levels = int(s.nunique(dropna=True))
            non_missing = int(s.notna().sum())
            ratio = levels / non_missing if non_missing else 0.0
            max_seen = max(max_seen, levels)
            reasons = []
            if levels > max_levels:
                reasons.append(f"more than {max_levels} levels")
            if levels > min_levels and ratio > max_ratio:
                reasons.append(f"more than {max_ratio:g} distinct values per row")
            if reasons:
                rows.append([col, levels, _rate(ratio), "; ".join(reasons)])
        rows.sort(key=lambda r: -r[1])
        evidence = [
            Evidence(
                title="High-cardinality categorical features (train)",
                columns=["column", "levels", "levels per row", "reason"],
                rows=rows[:MAX_ROWS],
                note=_omitted_note(len(rows), min(len(rows), MAX_ROWS), "columns"),
            )
        ] if rows else []
        summary = (
            f"Counted the levels of {wording.count(len(cats), 'categorical train feature')}: {len(rows)} exceed the cardinality "
            f"limits; the most levels in one feature is {max_seen}."
            if cats
            else "Found no categorical feature in the training data; nothing to count."
        )
        recommendation = (
            "Drop identifier-like columns, group rare levels, or use a target or hashing encoder with cross-fitting."
            if rows
            else "Nothing to regroup."
        )
        return Findings(
            summary=summary,
            metrics={
                "high_cardinality_columns": Metric(len(rows), description="categorical features with too many levels"),
                "max_levels_seen": Metric(max_seen, description="most distinct values in one categorical feature"),
            },
            evidence=evidence,
            recommendation=recommendation,
        )


# -- DQ011 ---------------------------------------------------------------------------
class RedundantFeatures(Check):
    """Strongly associated (redundant) feature pairs

    What it checks:
        The association between pairs of model inputs in a seeded sample of at most
        ``sample_size`` (20,000) training rows: the absolute Spearman rank correlation
        for two numeric features, and Cramér's V for two categorical features and for a
        categorical feature paired with a numeric one of at most ``max_levels`` (50)
        distinct values, so that a category and its numeric code read as 1.0.
        Categorical features with more levels are left out (Cramér's V is biased upwards
        there). Missing values are left out pairwise. The metric ``max_association`` is
        the strongest pair; it warns above 0.9 and fails above 0.98.

    Why it matters:
        Near-duplicate features add no information, make linear coefficients unstable
        and their importances meaningless (the credit is split arbitrarily), and double
        the weight of one signal in distance-based models.

    How to fix:
        Keep one feature of each redundant pair (or combine them), or reduce with PCA or
        an L1 penalty; for a category and its code, keep the encoding the model needs.

    References:
        P1.6 of the practices; Cramér, Mathematical Methods of Statistics, 1946; SciPy
        ``scipy.stats.contingency.association``; pandas ``DataFrame.corr``.
    """

    id = "DQ011"
    name = "redundant-features"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "sample_size": Param(default=20_000, kind="int", low=100, high=10_000_000, help="rows of train sampled for the associations"),
        "max_levels": Param(
            default=50, kind="int", low=2, high=10_000,
            help="most distinct values a column may have to enter Cramér's V",
        ),
    }
    thresholds = {
        "max_association": Threshold(
            direction="above", warn=0.9, fail=0.98, low=0, high=1,
            help="strongest |Spearman| or Cramér's V between two features",
        )
    }
    practices = ("P1.6",)
    references = (
        "Cramér, Mathematical Methods of Statistics, Princeton University Press, 1946",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.contingency.association.html",
        "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.corr.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        max_levels = int(params["max_levels"])
        idx, sample = ctx.sample_index("train", int(params["sample_size"]), check_id=self.id)
        frame = ctx.frame("train")
        cols = _columns(ctx, "train", target=False)
        data = frame.iloc[idx][cols]
        numeric = [c for c in cols if _is_numeric(data[c]) and data[c].nunique(dropna=True) > 1]
        categorical = [c for c in cols if c not in numeric and _is_categorical(data[c])]
        pairs: list[tuple[float, str, str, str]] = []

        if len(numeric) > 1:
            rho = data[numeric].astype(float).corr(method="spearman").to_numpy()
            for i, j in combinations(range(len(numeric)), 2):
                if np.isfinite(rho[i, j]):
                    pairs.append((abs(float(rho[i, j])), numeric[i], numeric[j], "|Spearman|"))

        codes: dict[str, np.ndarray] = {}
        too_many: list[str] = []
        for col in categorical + numeric:
            levels = data[col].nunique(dropna=True)
            if col in categorical and levels > max_levels:
                too_many.append(col)
            if 2 <= levels <= max_levels:
                codes[col] = pd.factorize(data[col], use_na_sentinel=True)[0]
        cat_codes = [c for c in categorical if c in codes]
        low_numeric = [c for c in numeric if c in codes]
        cramer_pairs = list(combinations(cat_codes, 2)) + [(c, n) for c in cat_codes for n in low_numeric]
        for a, b in cramer_pairs:
            ca, cb = codes[a], codes[b]
            keep = (ca >= 0) & (cb >= 0)
            table = contingency.crosstab(ca[keep], cb[keep]).count
            if min(table.shape) < 2:
                continue
            v = float(contingency.association(table, method="cramer"))
            if np.isfinite(v):
                pairs.append((v, a, b, "Cramér's V"))

        pairs.sort(key=lambda p: -p[0])
        max_assoc = pairs[0][0] if pairs else 0.0
        notes = []
        if too_many:
            notes.append(f"Left out of Cramér's V (more than {max_levels} levels): " + ", ".join(repr(_text(c)) for c in too_many[:MAX_ROWS]) + ".")
        evidence = [
            Evidence(
                title="Most strongly associated feature pairs (train sample)",
                columns=["feature", "feature", "method", "association"],
                rows=[[a, b, m, round(v, 4)] for v, a, b, m in pairs[:10]],
                note=" ".join(notes),
            )
        ] if pairs or notes else []
        if pairs:
            v, a, b, m = pairs[0]
            summary = (
                f"Measured {wording.count(len(pairs), 'feature-pair association')} on {wording.count(sample['rows_used'], 'train row')}; "
                f"the strongest is {m} = {v:.3f} between {a!r} and {b!r}."
            )
        else:
            summary = f"Found no pair of features whose association can be measured on {sample['rows_used']} train rows."
        return Findings(
            summary=summary,
            metrics={
                "max_association": Metric(max_assoc, description="strongest |Spearman| or Cramér's V between two features"),
                "pairs_measured": Metric(len(pairs), description="feature pairs with a measurable association"),
            },
            evidence=evidence,
            recommendation=(
                "Keep one feature of each strongly associated pair, combine them, or regularise (L1, PCA)."
                if pairs
                else "Nothing to reduce."
            ),
            sample=sample,
        )


CHECKS: tuple[type[Check], ...] = (
    MissingValues,
    DuplicateRows,
    ConstantColumns,
    ConflictingLabels,
    MixedTypes,
    Outliers,
    TargetImbalance,
    SchemaMismatch,
    UnseenCategories,
    HighCardinality,
    RedundantFeatures,
)
