"""ST003 test-set-adequacy: enough rows overall and per class."""

from __future__ import annotations

from auditor.contract.adapters import ModelCallError
from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import bar_chart, label
from auditor.toolkit.stats import bootstrap_ci, encode_labels, metric_function
from auditor.util import wording
from auditor.util.lazy import lazy_module

from ._common import METRIC_INTERVALS_ID

np = lazy_module("numpy")


CONFIDENCE = 0.95
ALPHA = 0.05


def proportion_ci_width(p: float, n: int) -> float:
    """Full width of the 95% Wilson interval of a proportion ``p`` observed on ``n`` rows."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(p * n, n, alpha=1 - CONFIDENCE, method="wilson")
    return float(high - low)


def min_detectable_difference(p: float, n: int, *, power: float) -> float:
    """Smallest difference from accuracy ``p`` that two samples of ``n`` rows detect.

    Two-sided two-proportion z-test at alpha 0.05 with the given power, in Cohen's h
    (statsmodels ``NormalIndPower``), turned back into a difference of proportions in the
    direction of 0.5, where the variance is larger (the conservative side).
    """
    from statsmodels.stats.power import NormalIndPower

    h = float(NormalIndPower().solve_power(effect_size=None, nobs1=n, alpha=ALPHA, power=power, ratio=1.0,
                                           alternative="two-sided"))
    phi = 2 * np.arcsin(np.sqrt(p))
    other = phi - h if p >= 0.5 else phi + h
    other = float(np.clip(other, 0.0, np.pi))
    return float(abs(p - np.sin(other / 2) ** 2))


class TestSetAdequacy(Check):
    """Test-set adequacy: enough rows overall and per class

    What it checks:
        Whether the test set is large enough to measure the model with useful precision.
        It needs only the test labels; the model's predictions sharpen it where they exist.

        Judged: ``ci_width``, the full width of the 95% Wilson interval of accuracy that the
        test size gives, at the observed accuracy when predictions exist, else at the worst
        case 50%: warn above 0.10, fail above 0.20 (the same levels as ST001's interval
        widths); and, for classification, ``smallest_class_rows``, the test rows of the
        rarest class (a class of the model that the test set lacks counts 0): warn below
        100. A class with fewer than ``min_class_rows`` rows (30) cannot be measured however
        many rows the others have: the result is then ``inconclusive`` (the data cannot
        decide), which the report lists among the undecided results at the gate.

        Reported: ``rows_needed``, the rows a 95% interval of accuracy of half-width
        ``target_ci_width`` (± 0.05 by default, a full width of 0.10) needs at that accuracy
        (statsmodels ``samplesize_confint_proportion``); ``min_detectable_difference``, the
        smallest accuracy difference that two samples of this size detect with a two-sided
        two-proportion test at alpha 0.05 and power ``power`` (statsmodels
        ``NormalIndPower``; comparing two models on the same rows with McNemar's test can
        detect smaller differences when they agree on most rows, so this is the
        conservative figure); per-class counts with the width of each class's recall
        interval, and the classes below ``min_class_rows``.

        Regression: ``ci_width`` is the width of the 95% bootstrap interval of R² when
        predictions exist (auditor.toolkit.stats.bootstrap_ci on the rows and with the seed of
        ST001, so that both checks quote the same interval for the same R²; they differ
        only where ST001's ``confidence``, ``method``, ``n_resamples`` or ``max_rows`` is
        set away from its default), else the width of the 95% interval
        of the RMSE relative to the RMSE for normal residuals (chi-square, labels alone);
        the detectable effect is the paired t-test's Cohen's d (statsmodels ``TTestPower``).

    Why it matters:
        A test set of 50 rows cannot tell 80% accuracy from 70%; a class with 12 test rows
        has a recall that swings by tens of points from one split to the next. Metrics
        quoted on such a set, and comparisons between models on it, are noise.

    How to fix:
        Hold out more rows, or use cross-validation for the estimate; stratify the split
        by class so rare classes get their share; for very rare classes collect more
        labelled examples before judging per-class metrics.

    References:
        Wilson (1927), Probable inference, the law of succession, and statistical
        inference, JASA 22.
        Cohen (1988), Statistical Power Analysis for the Behavioral Sciences, ch. 6.
        statsmodels documentation, statsmodels.stats.power and statsmodels.stats.proportion.
    """

    id = "ST003"
    name = "test-set-adequacy"
    area = "significance"
    severity = "medium"
    needs = frozenset({"test"})
    params = {
        "target_ci_width": Param(default=0.05, kind="float", help="target half-width (±) of the 95% interval of accuracy, for rows_needed",
                                 low=0.001, high=0.5),
        "min_class_rows": Param(default=30, kind="int", help="rows a class needs for its own metrics; classes below are listed", low=1),
        "power": Param(default=0.8, kind="float", help="power of the minimum-detectable-difference calculation", low=0.5, high=0.99),
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples (regression with predictions)", low=50, high=10000),
        "max_rows": Param(default=20000, kind="int", help="rows bootstrapped at most (regression; a seeded sample above)", low=100),
    }
    thresholds = {
        "ci_width": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                              help="full width of the 95% interval of accuracy (regression: of R², or of the RMSE relative to it)"),
        "smallest_class_rows": Threshold(direction="below", warn=100, low=0,
                                         help="test rows of the rarest class (below min_class_rows: inconclusive)"),
    }
    practices = ("P1.7", "P4.1", "P4.6")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 13", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.1", "nist_ai_rmf:MEASURE 2.3",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Wilson (1927), JASA 22",
        "Cohen (1988), Statistical Power Analysis for the Behavioral Sciences",
        "https://www.statsmodels.org/stable/stats.html#power-and-sample-size-calculations",
    )

    def run(self, ctx, params):
        y_all = ctx.y("test")
        if y_all is None:
            return Findings(status="skipped", summary=f"Skipped: the test data has no target column {ctx.target!r}.")
        rows = np.flatnonzero(y_all.notna().to_numpy())
        sample = {"role": "test", "rows_used": len(rows), "rows_available": len(y_all), "seed": ctx.seed_for(self.id)}
        pred, why_no_pred = None, "no model predictions are available"
        if ctx.model is not None:
            try:
                pred = np.asarray(ctx.predictions("test"))[rows]
            except ModelCallError as exc:
                why_no_pred = str(exc)
        if ctx.is_classification:
            return self._classification(ctx, params, y_all.to_numpy()[rows], pred, why_no_pred, sample)
        return self._regression(ctx, params, y_all.to_numpy()[rows].astype(float), pred, rows, why_no_pred, sample)

    def _classification(self, ctx, params, y, pred, why_no_pred, sample):
        classes = ctx.classes if ctx.classes is not None else sorted(set(y.tolist()), key=str)
        codes = encode_labels(y, classes)
        n, k = len(codes), len(classes)
        counts = np.bincount(codes[codes >= 0], minlength=k)
        if pred is not None:
            right = (encode_labels(pred, classes) == codes) & (codes >= 0)
            acc, basis = float(right.mean()) if n else 0.5, "the observed accuracy"
        else:
            right, acc, basis = None, 0.5, f"the worst case of 50% accuracy ({why_no_pred})"
        width = proportion_ci_width(acc, n) if n else None
        metrics = {
            "ci_width": Metric(width, description=f"full width of the 95% Wilson interval of accuracy at {basis}"),
            "smallest_class_rows": Metric(int(counts.min()) if k else 0, description="test rows of the rarest class"),
            "rows": Metric(n, description="labelled test rows"),
        }
        small = [c for c, cnt in zip(classes, counts) if cnt < params["min_class_rows"]]
        metrics["classes_below_min"] = Metric(len(small), description=f"classes with fewer than {params['min_class_rows']} test rows")
        if n:
            needed = self._rows_needed(acc, params["target_ci_width"])
            metrics["rows_needed"] = Metric(needed, description=f"rows for a 95% interval of ± {params['target_ci_width']:g} at {basis}")
            metrics["min_detectable_difference"] = Metric(
                min_detectable_difference(acc, n, power=params["power"]),
                description=f"smallest accuracy difference two samples of {n} rows detect (alpha 0.05, power {params['power']:g})",
            )
        table = []
        for i, (c, cnt) in enumerate(zip(classes, counts)):
            recall = float(right[codes == i].mean()) if right is not None and cnt else 0.5
            table.append([label(c), int(cnt), cnt / n if n else 0.0, proportion_ci_width(recall, int(cnt)) if cnt else None,
                          "yes" if cnt < params["min_class_rows"] else ""])
        rarest = classes[int(np.argmin(counts))] if k else None
        if n == 0:
            summary = "The test set has no labelled rows: nothing can be measured on it."
        else:
            summary = (
                f"{wording.count(n, 'labelled test row')} give a 95% interval of accuracy {width:.3f} wide at {basis} "
                f"(± {params['target_ci_width']:g} needs {metrics['rows_needed'].value:,} rows); the rarest class, "
                f"{label(rarest)}, has {wording.count(int(counts.min()), 'row')}"
                + (f"; {wording.count(len(small), 'class', 'classes')} below {params['min_class_rows']} rows: "
                   f"{', '.join(label(c) for c in small[:10])}" if small else "")
                + f". Two samples of this size detect an accuracy difference of "
                  f"{metrics['min_detectable_difference'].value:.3f} (power {params['power']:g})."
            )
        return Findings(
            summary=summary,
            # A group too small to measure makes the verdict undecided, never a pass.
            status="inconclusive" if small else None,
            metrics=metrics,
            evidence=[Evidence(
                title="Test rows per class",
                columns=["class", "rows", "share", "95% CI width of recall", f"below {params['min_class_rows']}"],
                rows=table,
                note="Recall interval: Wilson, at the observed recall" + ("" if right is not None else " (worst case 50%: no predictions)") + ".",
            )],
            figures=[bar_chart("Test rows per class", [label(c) for c in classes], {"rows": [int(c) for c in counts]},
                               xlabel="test rows",
                               caption=f"Labelled test rows of each class; a class needs about {params['min_class_rows']} for its own metrics.")] if k else [],
            recommendation=(
                "Hold out more rows (stratified by class), or estimate with cross-validation; quote per-class metrics only "
                "for classes with enough rows."
            ),
            sample=sample,
        )

    @staticmethod
    def _rows_needed(p: float, half_width: float) -> int:
        from statsmodels.stats.proportion import samplesize_confint_proportion

        # The normal approximation needs some variance to work with: at 0% or 100% plan for 1 in 100.
        p = float(np.clip(p, 0.01, 0.99))
        return int(np.ceil(samplesize_confint_proportion(p, half_width, alpha=ALPHA)))

    def _regression(self, ctx, params, y, pred, rows, why_no_pred, sample):
        from scipy import stats
        from statsmodels.stats.power import TTestPower

        n = len(y)
        metrics: dict[str, Metric] = {"rows": Metric(n, description="labelled test rows")}
        if n >= 10 and pred is not None:
            # The rows and resamples of ST001's R² interval (its sample and seed), so that the same
            # metric on the same data reads the same interval in both checks; with both checks'
            # defaults (200 resamples, percentile, 95%, 20,000 rows) the two intervals are identical.
            idx, boot = ctx.sample_index("test", params["max_rows"], check_id=METRIC_INTERVALS_ID)
            keep = np.isin(rows, idx)
            yy, pp = y[keep], np.asarray(pred, dtype=float)[keep]
            est, low, high = bootstrap_ci(metric_function("r2", task="regression"), yy, pp, n_resamples=params["n_resamples"],
                                          confidence=CONFIDENCE, method="percentile",
                                          random_state=ctx.seed_for(METRIC_INTERVALS_ID))
            width = None if low is None else high - low
            basis = f"the 95% bootstrap interval of R² ({est:.3f})"
            sample = {**boot, "rows_used": len(yy)}
        elif n >= 2:
            lo, hi = stats.chi2.ppf([0.975, 0.025], n - 1)
            width = float(np.sqrt((n - 1) / hi) - np.sqrt((n - 1) / lo))
            basis = ("the 95% interval of the RMSE relative to the RMSE, for normal residuals"
                     + ("" if pred is not None else f" ({why_no_pred})"))
        else:
            width, basis = None, "no interval (fewer than 2 rows)"
        metrics["ci_width"] = Metric(width, description=f"full width of {basis}")
        if n >= 2:
            metrics["min_detectable_effect_size"] = Metric(
                float(TTestPower().solve_power(effect_size=None, nobs=n, alpha=ALPHA, power=params["power"], alternative="two-sided")),
                description=f"Cohen's d of per-row error differences a paired t-test detects (alpha 0.05, power {params['power']:g})",
            )
        summary = (
            f"{wording.count(n, 'labelled test row')}: {basis} is {width:.3f} wide."
            if width is not None else f"{wording.count(n, 'labelled test row')}: too few to put an interval on a metric."
        )
        if "min_detectable_effect_size" in metrics:
            summary += f" A paired comparison of two models detects an effect of d = {metrics['min_detectable_effect_size'].value:.3f}."
        return Findings(
            summary=summary,
            metrics=metrics,
            recommendation="Hold out more rows, or estimate with cross-validation.",
            sample=sample,
        )
