"""ST001 test-metric-intervals: test metrics with bootstrap confidence intervals."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import MIN_ROWS, evaluation_problem, model_outputs, primary_metric
from auditor.toolkit.figures import interval_chart
from auditor.toolkit.output_sums import DEFAULT_BINS, OutputCells, replicate_metrics
from auditor.toolkit.stats import (
    bootstrap_ci,
    effective_rows,
    effective_rows_of_counts,
    exact_interval_needed,
    metric_specs,
    proportion_interval,
)
from auditor.util import wording
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
PROPORTIONS = ("accuracy", "balanced_accuracy")


class MetricIntervals(Check):
    """Test metrics with bootstrap confidence intervals

    What it checks:
        The task's main metrics on the test set (classification: accuracy, balanced
        accuracy, F1, ROC AUC and log loss when the model gives probabilities;
        regression: RMSE, MAE, R²), each with a bootstrap confidence interval over test
        rows (95% by default): for classification a class-stratified percentile
        bootstrap (every resample keeps the test set's class counts), otherwise
        scipy.stats.bootstrap with ``method`` (percentile by default; BCa selectable,
        at the cost of a jackknife over the rows). Accuracy and balanced accuracy are
        shares of correct rows, and where fewer than 5 errors (or 5 correct rows) lie
        behind them, or the bootstrap collapses to a point, the bootstrap says nothing
        (a perfect model on 54 rows would read "1.000, 95% CI 1.000 to 1.000"): their
        interval is then the exact Clopper-Pearson interval of the count of correct
        rows (statsmodels ``proportion_confint``), for balanced accuracy at Kish's
        effective number of rows, k² / Σ 1/n_c over the k classes, as Korn & Graubard
        (1998) do for a weighted proportion (54 rows in three classes of 18, 21 and
        15: 53 effective rows, a lower bound of 0.933 at 100%). The evidence table
        names the interval each metric got. The judged metric is
        the width of the widest interval among accuracy-like metrics (balanced
        accuracy, ROC AUC, R²): warn above 0.10, fail above 0.20. The R² interval is
        the one ST003 judges the test set by: the same rows and resamples.

    Why it matters:
        A score without its uncertainty is a guess. A wide interval means the test set
        cannot tell a good model from a mediocre one, and any decision taken on the
        point estimate alone is noise.

    How to fix:
        Evaluate on more held-out rows, or report the interval next to the score and
        decide on its lower bound. Stratify the test split by class.

    References:
        Efron & Tibshirani (1993), An Introduction to the Bootstrap.
        SciPy documentation, scipy.stats.bootstrap.
        Clopper & Pearson (1934), The use of confidence or fiducial limits illustrated
        in the case of the binomial, Biometrika 26.
        Korn & Graubard (1998), Confidence intervals for proportions with small
        expected number of positive counts estimated from survey data, Survey
        Methodology 24.
    """

    id = "ST001"
    name = "test-metric-intervals"
    area = "significance"
    severity = "medium"
    engine_rows = "all"
    needs = frozenset({"test", "predictions"})
    params = {
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples", low=50, high=10000),
        "confidence": Param(default=0.95, kind="float", help="confidence level", low=0.5, high=0.999),
        "method": Param(default="percentile", kind="str", help="bootstrap interval method", choices=("percentile", "basic", "BCa")),
        "max_rows": Param(default=20000, kind="int", help="rows resampled at most (a seeded sample above)", low=100),
        "stratified": Param(default=True, kind="bool",
                            help="classification: resample within each class (percentile interval); false: scipy.stats.bootstrap with `method`"),
    }
    thresholds = {
        "max_ci_width": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                  help="widest interval among balanced accuracy, ROC AUC and R²"),
    }
    practices = ("P4.3", "P4.6")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 13", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.1", "nist_ai_rmf:MEASURE 2.3",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Efron & Tibshirani (1993), An Introduction to the Bootstrap",
        "scipy.stats.bootstrap",
        "Clopper & Pearson (1934), The use of confidence or fiducial limits illustrated in the case of the binomial, Biometrika 26",
        "Korn & Graubard (1998), Confidence intervals for proportions with small expected number of positive counts estimated from survey data, "
            "Survey Methodology 24",
    )

    def run(self, ctx, params):
        if ctx.stats.distributed:
            return self._on_every_row(ctx, params)
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        problem = evaluation_problem(out)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        stratified = ctx.is_classification and params["stratified"]
        bootstrap_name = "class-stratified percentile bootstrap" if stratified else f"{params['method']} bootstrap"
        entries = []
        for spec in out.specs():
            est, low, high = bootstrap_ci(
                out.scorer(spec.name), out.y, out.output_for(spec), n_resamples=params["n_resamples"],
                confidence=params["confidence"], method=params["method"], random_state=ctx.seed_for(self.id),
                # Classification: resample within each class, so every resample keeps the class mix.
                strata=out.y if stratified else None,
            )
            n_eff = effective_rows(out.y, metric=spec.name) if spec.name in PROPORTIONS else None
            entries.append((spec, est, low, high, n_eff))
        sample["rows_used"] = len(out)
        return self._findings(ctx, params, entries, rows=len(out), bootstrap_name=bootstrap_name, sample=sample,
                              has_scores=out.scores is not None)

    def _on_every_row(self, ctx, params):
        """Under a distributed engine: every labelled test row, scored where it lies, and a Poisson
        bootstrap whose replicates are sums over the partitions (``ctx.stats.scored_sums``)."""
        classification = ctx.is_classification
        proba = classification and ctx.model is not None and ctx.model.has_proba
        cells = OutputCells(task=ctx.task, n_classes=len(ctx.classes) if classification else 0, proba=proba,
                            positive=ctx.positive_index)
        seed = ctx.seed_for(self.id)
        sums = ctx.stats.scored_sums("test", cells, replicates=params["n_resamples"], seed=seed)
        available = ctx.rows_available("test")
        sample = {"role": "test", "rows_used": sums.rows, "rows_available": available, "seed": seed,
                  "drawn": "every labelled row, on the cluster"}
        if sums.rows < MIN_ROWS:
            return Findings(status="inconclusive", sample=sample, summary=(
                f"Inconclusive: only {sums.rows} labelled test rows: too few to estimate a metric and its interval."))
        if classification and (cells.supports(sums.totals) > 0).sum() < 2:
            return Findings(status="inconclusive", sample=sample, summary=(
                "Inconclusive: the test rows hold a single class: balanced accuracy, F1 and ROC AUC are undefined or "
                "meaningless without both classes."))
        point = cells.metrics(sums.totals)
        replicated = replicate_metrics(cells, sums.replicates)
        tail = (1 - params["confidence"]) / 2
        entries = []
        for spec in metric_specs(ctx.task, has_scores=proba):
            values = replicated[spec.name][~np.isnan(replicated[spec.name])]
            low, high = (float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))) if len(values) else (None, None)
            n_eff = None
            if spec.name in PROPORTIONS:
                support = cells.supports(sums.totals)
                n_eff = effective_rows_of_counts(support[support > 0], metric=spec.name)
            entries.append((spec, point[spec.name], low, high, n_eff))
        return self._findings(ctx, params, entries, rows=sums.rows, bootstrap_name="Poisson bootstrap (percentile)",
                              sample=sample, has_scores=proba)

    def _findings(self, ctx, params, entries, *, rows: int, bootstrap_name: str, sample, has_scores: bool) -> Findings:
        metrics: dict[str, Metric] = {}
        table = []
        widths = []
        for spec, est, low, high, n_eff in entries:
            how, description = bootstrap_name, spec.description
            if n_eff is not None and exact_interval_needed(est, n_eff, low, high):
                low, high = proportion_interval(est, n_eff, confidence=params["confidence"], method="beta")
                how = "Clopper-Pearson" + (f" at {n_eff:.1f} effective rows" if spec.name == "balanced_accuracy" else "")
                description += f"; exact interval ({how}): too few errors for the bootstrap"
            metrics[spec.name] = Metric(est, low, high, description=description)
            table.append([spec.name, est, low, high, "higher" if spec.higher_is_better else "lower", how])
            if spec.name in ("balanced_accuracy", "roc_auc", "r2") and low is not None:
                widths.append(high - low)
        judged = "R²" if ctx.task == "regression" else "balanced accuracy and ROC AUC" if has_scores else "balanced accuracy"
        metrics["max_ci_width"] = Metric(
            max(widths) if widths else None,
            description=f"widest {params['confidence']:.0%} interval among {judged}",
        )
        head = primary_metric(ctx.task)
        m = metrics[head]
        interval = f" ({params['confidence']:.0%} CI {m.ci_low:.3f} to {m.ci_high:.3f})" if m.ci_low is not None else ""
        note = (f"{bootstrap_name}, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}; Clopper-Pearson "
                f"(exact) for accuracy and balanced accuracy where fewer than 5 errors or correct rows lie behind them")
        if ctx.stats.distributed:
            note += (f"; every labelled test row, scored on the cluster: each row weighted by an independent Poisson(1) "
                     f"count per resample; ROC AUC from {DEFAULT_BINS}-bin score histograms (within 0.002 of the exact area)")
        return Findings(
            summary=f"On {rows} test rows the model's {wording.metric_label(head)} is {m.value:.3f}{interval}.",
            metrics=metrics,
            evidence=[Evidence(
                title="Test metrics",
                columns=["metric", "estimate", "CI low", "CI high", "better", "interval"],
                rows=table,
                note=note,
            )],
            figures=[interval_chart(
                "Test metrics with confidence intervals",
                [(r[0], r[1], r[2], r[3]) for r in table if r[0] != "log_loss"],
                xlabel="score",
                caption=f"Dots: estimates on the test rows; bars: {params['confidence']:.0%} intervals.",
            )],
            recommendation="Quote each metric with its interval; if the interval is wide, evaluate on more held-out rows.",
            sample=sample,
        )
