"""DQ006: outliers in numeric features (robust z-score, IQR fallback)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_attribute, lazy_module
from auditor.util.wording import cell as _text

from ._common import MAX_ROWS, _columns, _empty_train, _omitted_note, _rate

np = lazy_module("numpy")
median_abs_deviation = lazy_attribute("scipy.stats", "median_abs_deviation")
skew = lazy_attribute("scipy.stats", "skew")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


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
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "Iglewicz & Hoaglin, How to Detect and Handle Outliers, ASQC Quality Press, 1993",
        "Tukey, Exploratory Data Analysis, Addison-Wesley, 1977",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.median_abs_deviation.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
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
