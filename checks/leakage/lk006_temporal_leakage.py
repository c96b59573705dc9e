"""LK006: test rows that are older than training rows."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import (
    MISSING_LABEL,
    _as_float,
    _empty,
    _is_datetime,
    _rate,
    _skip,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- LK006 ---------------------------------------------------------------------------
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:[ T].*)?$"


def _day_first(values: pd.Series) -> bool | None:
    """For dates written as numbers with the year last (31/12/2024 or 12/31/2024): which part is
    the day. False when they are not written that way; None when nothing tells the orders apart."""
    parts = values.astype(str).str.extract(_NUMERIC_DATE).dropna().astype(int)
    if parts.empty or len(parts) < 0.5 * len(values):
        return False
    if (parts[0] > 12).any():
        return True
    if (parts[1] > 12).any():
        return False
    return None


def _parse_time(s: pd.Series, min_parsed: float) -> tuple[np.ndarray | None, str, str]:
    """A time column as float (seconds since the epoch for dates), its kind, and a reason when it fails."""
    present = s.notna().to_numpy()
    n_present = int(present.sum())
    if n_present == 0:
        return None, "", "it holds no values"
    if ptypes.is_bool_dtype(s.dtype):
        return None, "", "it is boolean"
    if _is_numeric(s):
        return _as_float(s), "number", ""
    if _is_datetime(s):
        return _as_float(s), "date", ""
    numbers = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if np.isfinite(numbers[present]).all():
        return numbers, "number", ""
    x = None
    dayfirst = _day_first(s[present])
    if dayfirst is None:
        return None, "", "its dates could be day-first or month-first (no day above 12 tells them apart); write them as YYYY-MM-DD"
    for fmt in (None, "mixed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(s, errors="coerce", utc=True, format=fmt, dayfirst=dayfirst)
            except (TypeError, ValueError, OverflowError):
                continue
        x = _as_float(parsed)
        if np.isfinite(x[present]).mean() >= min_parsed:
            return x, "date", ""
    share = float(np.isfinite(x[present]).mean()) if x is not None else 0.0
    bad = s[present & ~np.isfinite(x)].iloc[0] if x is not None and (present & ~np.isfinite(x)).any() else s[present].iloc[0]
    return None, "", f"only {share:.0%} of its values parse as dates or numbers (for example {_text(bad)!r})"


def _time_text(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return MISSING_LABEL
    if kind == "date":
        return pd.Timestamp(round(value * 1e6), unit="us", tz="UTC").strftime("%Y-%m-%d %H:%M:%S")
    return f"{value:.6g}"


class TemporalLeakage(Check):
    """Test rows that are older than training rows

    What it checks:
        The declared time column (``--time-column``), parsed with ``pandas.to_datetime``
        (or read as numbers when it is numeric, such as an epoch or a period index). The
        metric ``lookahead_rate`` is the share of timed test rows strictly earlier than the
        latest training time: the model was trained on the future of those rows. It warns
        above 0.0 and fails above 0.01. The share of test rows inside the training time
        range (``train_test_time_overlap``), the time ranges of each dataset and, when a
        current sample is given, its rows earlier than the latest training and test
        times are reported. A column that does not parse (fewer than ``min_parsed`` of its
        values) is skipped with the reason.

    Why it matters:
        In production a model predicts the future from the past. A random split of
        time-ordered data lets it learn from later rows (trends, seasonal effects,
        outcomes of the same events) and evaluates it on earlier ones, which overstates
        how it will do when the future is genuinely unseen.

    How to fix:
        Split chronologically: train on rows before a cut-off date and test on rows after
        it (``sklearn.model_selection.TimeSeriesSplit`` for cross-validation), leaving a
        gap as long as the prediction horizon when features aggregate over time.

    References:
        P4.2, P1.7 and P4.1 of the practices; scikit-learn ``TimeSeriesSplit``; Bergmeir &
        Benítez, "On the use of cross-validation for time series predictor evaluation",
        Information Sciences 191, 2012.
    """

    id = "LK006"
    name = "temporal-leakage"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test", "time"})
    params = {
        "min_parsed": Param(default=0.95, kind="float", low=0.5, high=1.0, help="share of non-missing values that must parse as times"),
    }
    thresholds = {
        "lookahead_rate": Threshold(
            direction="above", warn=0.0, fail=0.01, low=0, high=1,
            help="share of test rows strictly earlier than the latest training time",
        )
    }
    practices = ("P4.2", "P1.7", "P4.1")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "https://scikit-learn.org/stable/modules/cross_validation.html#time-series-split",
        "Bergmeir & Benítez, On the use of cross-validation for time series predictor evaluation, Information Sciences 191, 2012",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        col = ctx.time_column
        if not col:
            return _skip("no time column was declared (--time-column).")
        roles = [r for r in ("train", "validation", "test", "current") if ctx.has(r)]
        times: dict[str, np.ndarray] = {}
        kinds: dict[str, str] = {}
        for role in roles:
            if col not in ctx.frame(role).columns:
                if role in ("train", "test"):
                    return _skip(f"the time column {col!r} is not in the {role} data.")
                continue
            x, kind, reason = _parse_time(ctx.frame(role)[col], float(params["min_parsed"]))
            if x is None:
                if role in ("train", "test"):
                    return _skip(f"the time column {col!r} cannot be read as times in the {role} data: {reason}.")
                continue
            times[role], kinds[role] = x, kind
        if kinds["train"] != kinds["test"]:
            return _skip(f"the time column {col!r} holds {kinds['train']}s in train but {kinds['test']}s in test.")
        kind = kinds["train"]
        t_train = times["train"][np.isfinite(times["train"])]
        t_test_all = times["test"]
        t_test = t_test_all[np.isfinite(t_test_all)]
        if len(t_train) == 0:
            return _skip(f"the time column {col!r} has no finite values in the training data.")
        if len(t_test) == 0:
            return _skip(f"the time column {col!r} has no values in the test data.")
        lo, hi = float(t_train.min()), float(t_train.max())
        lookahead = float((t_test < hi).mean())
        inside = float(((t_test >= lo) & (t_test <= hi)).mean())
        metrics = {
            "lookahead_rate": Metric(lookahead, description="share of test rows strictly earlier than the latest training time"),
            "train_test_time_overlap": Metric(inside, description="share of test rows inside the training time range"),
        }
        ranges = []
        for role in [r for r in roles if r in times and kinds[r] == kind]:
            x = times[role]
            ok = x[np.isfinite(x)]
            ranges.append([role, len(x), int(len(x) - len(ok)),
                           _time_text(float(ok.min()), kind) if len(ok) else MISSING_LABEL,
                           _time_text(float(ok.max()), kind) if len(ok) else MISSING_LABEL])
        test_hi = float(t_test.max())
        order_rows = [["test", len(t_test), _rate(lookahead), _rate(inside), "—"]]
        if "current" in times and kinds["current"] == kind:
            t_cur = times["current"][np.isfinite(times["current"])]
            if len(t_cur):
                cur_look = float((t_cur < hi).mean())
                cur_before_test = float((t_cur < test_hi).mean())
                metrics["current_lookahead_rate"] = Metric(cur_look, description="share of current rows earlier than the latest training time")
                metrics["current_before_test_rate"] = Metric(cur_before_test, description="share of current rows earlier than the latest test time")
                order_rows.append(["current", len(t_cur), _rate(cur_look), _rate(float(((t_cur >= lo) & (t_cur <= hi)).mean())), _rate(cur_before_test)])
        evidence = [
            Evidence(
                title=f"Time ranges of {col!r}",
                columns=["dataset", "rows", "rows without a time", "earliest", "latest"],
                rows=ranges,
                note="Dates are shown in UTC." if kind == "date" else "",
            ),
            Evidence(
                title="Rows earlier than the latest training time",
                columns=["dataset", "rows with a time", "earlier than latest train time", "inside train range", "earlier than latest test time"],
                rows=order_rows,
            ),
        ]
        summary = (
            f"Compared the times in {col!r}: {wording.share(lookahead)} of test rows are earlier than the latest training time "
            f"({_time_text(hi, kind)}) and {wording.share(inside)} fall inside the training range"
            + ("; a random rather than chronological split of time-ordered data gives such a rate." if lookahead > 0 else
               "; the test period starts after the training period ends.")
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Split chronologically: train before a cut-off time and test after it (TimeSeriesSplit for "
                "cross-validation), with a gap as long as the prediction horizon."
                if lookahead > 0
                else "Nothing to change; keep splitting chronologically."
            ),
        )
