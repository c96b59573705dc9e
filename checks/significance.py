"""Significance: model metrics on the test set with their uncertainty."""

from __future__ import annotations

from auditor.check import Check, Param, Threshold
from auditor.figures import interval_chart
from auditor.results import Evidence, Findings, Metric
from auditor.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.stats import bootstrap_ci


class MetricIntervals(Check):
    """Test metrics with bootstrap confidence intervals

    What it checks:
        The task's main metrics on the test set (classification: accuracy, balanced
        accuracy, F1, ROC AUC and log loss when the model gives probabilities;
        regression: RMSE, MAE, R²), each with a paired bootstrap confidence interval
        over test rows (scipy.stats.bootstrap, 95% by default). The judged metric is
        the width of the widest interval among accuracy-like metrics (balanced
        accuracy, ROC AUC, R²): warn above 0.10, fail above 0.20.

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
    }
    thresholds = {
        "max_ci_width": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                  help="widest interval among balanced accuracy, ROC AUC and R²"),
    }
    practices = ("P4.3", "P4.6")
    references = ("Efron & Tibshirani (1993), An Introduction to the Bootstrap", "scipy.stats.bootstrap")

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
        for spec in specs:
            est, low, high = bootstrap_ci(
                out.scorer(spec.name), out.y, out.output_for(spec), n_resamples=params["n_resamples"],
                confidence=params["confidence"], method=params["method"], random_state=ctx.seed_for(self.id),
            )
            metrics[spec.name] = Metric(est, low, high, description=spec.description)
            rows.append([spec.name, est, low, high, "higher" if spec.higher_is_better else "lower"])
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
            summary=f"On {len(out)} test rows the model's {head.replace('_', ' ')} is {m.value:.3f}{interval}.",
            metrics=metrics,
            evidence=[Evidence(
                title="Test metrics",
                columns=["metric", "estimate", "CI low", "CI high", "better"],
                rows=rows,
                note=f"{params['method']} bootstrap, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}",
            )],
            figures=[interval_chart(
                "Test metrics with confidence intervals",
                [(r[0], r[1], r[2], r[3]) for r in rows if r[0] != "log_loss"],
                xlabel="score",
                caption=f"Dots: estimates on the test rows; bars: {params['confidence']:.0%} bootstrap intervals.",
            )],
            recommendation="Quote each metric with its interval; if the interval is wide, evaluate on more held-out rows.",
            sample=sample,
        )
