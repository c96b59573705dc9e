"""ST001 test-metric-intervals: test metrics with bootstrap confidence intervals."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.toolkit.figures import interval_chart
from auditor.toolkit.stats import bootstrap_ci, effective_rows, exact_interval_needed, proportion_interval
from auditor.util import wording


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
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        problem = evaluation_problem(out)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        specs = out.specs()
        metrics: dict[str, Metric] = {}
        rows = []
        widths = []
        stratified = ctx.is_classification and params["stratified"]
        bootstrap_name = "class-stratified percentile bootstrap" if stratified else f"{params['method']} bootstrap"
        for spec in specs:
            est, low, high = bootstrap_ci(
                out.scorer(spec.name), out.y, out.output_for(spec), n_resamples=params["n_resamples"],
                confidence=params["confidence"], method=params["method"], random_state=ctx.seed_for(self.id),
                # Classification: resample within each class, so every resample keeps the class mix.
                strata=out.y if stratified else None,
            )
            how, description = bootstrap_name, spec.description
            if spec.name in ("accuracy", "balanced_accuracy"):
                n_eff = effective_rows(out.y, metric=spec.name)
                if exact_interval_needed(est, n_eff, low, high):
                    low, high = proportion_interval(est, n_eff, confidence=params["confidence"], method="beta")
                    how = "Clopper-Pearson" + (f" at {n_eff:.1f} effective rows" if spec.name == "balanced_accuracy" else "")
                    description += f"; exact interval ({how}): too few errors for the bootstrap"
            metrics[spec.name] = Metric(est, low, high, description=description)
            rows.append([spec.name, est, low, high, "higher" if spec.higher_is_better else "lower", how])
            if spec.name in ("balanced_accuracy", "roc_auc", "r2") and low is not None:
                widths.append(high - low)
        judged = "R²" if ctx.task == "regression" else "balanced accuracy and ROC AUC" if out.scores is not None else "balanced accuracy"
        metrics["max_ci_width"] = Metric(
            max(widths) if widths else None,
            description=f"widest {params['confidence']:.0%} interval among {judged}",
        )
        sample["rows_used"] = len(out)
        head = primary_metric(ctx.task)
        m = metrics[head]
        interval = f" ({params['confidence']:.0%} CI {m.ci_low:.3f} to {m.ci_high:.3f})" if m.ci_low is not None else ""
        return Findings(
            summary=f"On {len(out)} test rows the model's {wording.metric_label(head)} is {m.value:.3f}{interval}.",
            metrics=metrics,
            evidence=[Evidence(
                title="Test metrics",
                columns=["metric", "estimate", "CI low", "CI high", "better", "interval"],
                rows=rows,
                note=(f"{bootstrap_name}, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}; Clopper-Pearson "
                      f"(exact) for accuracy and balanced accuracy where fewer than 5 errors or correct rows lie behind them"),
            )],
            figures=[interval_chart(
                "Test metrics with confidence intervals",
                [(r[0], r[1], r[2], r[3]) for r in rows if r[0] != "log_loss"],
                xlabel="score",
                caption=f"Dots: estimates on the test rows; bars: {params['confidence']:.0%} intervals.",
            )],
            recommendation="Quote each metric with its interval; if the interval is wide, evaluate on more held-out rows.",
            sample=sample,
        )
