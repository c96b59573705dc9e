"""OF001 train-test-gap: gap between training and test performance."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import Outputs, evaluation_problem, model_outputs, primary_metric
from auditor.toolkit.figures import paired_dot_chart
from auditor.toolkit.stats import bootstrap_batch_size
from auditor.util import wording
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


def _bootstrap_gap(train: Outputs, test: Outputs, metric: str, *, n_resamples: int, confidence: float, seed: int):
    """Train-minus-test score gap with an interval from resampling both sets independently."""
    import sklearn
    from scipy import stats

    fn = train.scorer(metric)
    spec = next(s for s in train.specs() if s.name == metric)
    out_tr, out_te = train.output_for(spec), test.output_for(spec)
    gap = float(fn(train.y, out_tr) - fn(test.y, out_te))
    if min(len(train), len(test)) < 10:
        return gap, None, None

    def statistic(i_tr, i_te):
        i_tr, i_te = i_tr.astype(int), i_te.astype(int)
        try:
            return float(fn(train.y[i_tr], out_tr[i_tr]) - fn(test.y[i_te], out_te[i_te]))
        except ValueError:
            return np.nan

    batched = fn.batched

    def statistic_batched(i_tr, i_te, axis=-1):  # many resamples at once (auditor.toolkit.stats.batched_metric)
        return batched(train.y[i_tr], out_tr[i_tr]) - batched(test.y[i_te], out_te[i_te])

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), \
            np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap(
            (np.arange(len(train)), np.arange(len(test))),
            statistic if batched is None else statistic_batched,
            paired=False, vectorized=batched is not None,
            n_resamples=n_resamples, confidence_level=confidence, method="percentile",
            batch=bootstrap_batch_size(max(len(train), len(test)), n_resamples),
            random_state=np.random.default_rng(seed),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return gap, None, None
    return gap, low, high


class TrainTestGap(Check):
    """Gap between training and test performance

    What it checks:
        The task's main metrics on the training rows and on the test rows
        (classification: accuracy, balanced accuracy, F1, and ROC AUC and log loss with
        probabilities; regression: RMSE, MAE, R²). The judged metric is the gap in the
        primary metric (balanced accuracy, or R² for regression), training minus test,
        with a bootstrap interval that resamples both sets: warn above 0.05, fail above
        0.10. When the interval contains the fail level the data cannot decide and the
        result is inconclusive.

    Why it matters:
        A model that scores much better on the rows it was fitted on than on held-out
        rows has learnt noise specific to its training data; its test score is the
        honest one, and the gap says how much capacity went into memorising.

    How to fix:
        Regularise (L1/L2 penalties, shallower trees, fewer boosting rounds, dropout,
        early stopping), simplify the model, or collect more training data; tune these
        with cross-validation rather than on the test set.

    References:
        Hastie, Tibshirani & Friedman (2009), The Elements of Statistical Learning, ch. 7.
        Efron & Tibshirani (1993), An Introduction to the Bootstrap.
    """

    id = "OF001"
    name = "train-test-gap"
    area = "overfitting"
    # Medium: a gap alone does not prove a worse model (a random forest fits its training
    # rows by design and may still generalise well); OF002 and the test score say how well.
    severity = "medium"
    needs = frozenset({"train", "test", "predictions", "train_predictions"})
    params = {
        "max_rows": Param(default=20000, kind="int", help="rows per dataset at most (a seeded sample above)", low=100),
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples for the gap's interval", low=50, high=10000),
        "confidence": Param(default=0.95, kind="float", help="confidence level of the interval", low=0.5, high=0.999),
    }
    thresholds = {
        "gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                         help="train minus test of balanced accuracy (classification) or R² (regression)"),
    }
    practices = ("P3.3", "P4.4", "P2.1")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.3", "nist_ai_rmf:MEASURE 2.5",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Hastie, Tibshirani & Friedman (2009), The Elements of Statistical Learning, ch. 7",
        "scipy.stats.bootstrap",
    )

    def run(self, ctx, params):
        seed = ctx.seed_for(self.id)
        i_tr, s_tr = ctx.sample_index("train", params["max_rows"], check_id=self.id + ":train")
        i_te, s_te = ctx.sample_index("test", params["max_rows"], check_id=self.id + ":test")
        train, test = model_outputs(ctx, "train", i_tr), model_outputs(ctx, "test", i_te)
        problem = evaluation_problem(train) or evaluation_problem(test)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.")
        primary = primary_metric(ctx.task)
        gap, low, high = _bootstrap_gap(
            train, test, primary, n_resamples=params["n_resamples"], confidence=params["confidence"], seed=seed
        )
        rows, chart = [], []
        for spec in train.specs():
            tr, te = train.score(spec.name), test.score(spec.name)
            diff = tr - te if spec.higher_is_better else te - tr
            rows.append([spec.name, tr, te, diff, "higher" if spec.higher_is_better else "lower"])
            if spec.name not in ("log_loss", "rmse", "mae"):
                chart.append((wording.metric_label(spec.name), tr, te))
        metrics = {
            "gap": Metric(gap, low, high, description=f"train minus test {wording.metric_label(primary)}"),
            f"train_{primary}": Metric(train.score(primary), description=f"{wording.metric_label(primary)} on the training rows"),
            f"test_{primary}": Metric(test.score(primary), description=f"{wording.metric_label(primary)} on the test rows"),
        }
        interval = f" ({params['confidence']:.0%} interval {low:.3f} to {high:.3f})" if low is not None else ""
        return Findings(
            summary=(
                f"The model's {wording.metric_label(primary)} is {metrics[f'train_{primary}'].value:.3f} on {len(train)} "
                f"training rows and {metrics[f'test_{primary}'].value:.3f} on {len(test)} test rows: a gap of {gap:.3f}{interval}."
            ),
            metrics=metrics,
            evidence=[Evidence(
                title="Training and test metrics",
                columns=["metric", "train", "test", "gap (train better by)", "better"],
                rows=rows,
                note="A positive gap means the model does better on its training rows.",
            )],
            figures=[paired_dot_chart("Training vs test metrics", chart, ("train", "test"), xlabel="score",
                                      caption="Each metric on the training rows (circles) and the test rows (squares).")] if chart else [],
            recommendation=(
                "If the gap is large, regularise or simplify the model and tune that choice with cross-validation; "
                "quote the test score, never the training score."
            ),
            sample=combine_samples({"train": s_tr, "test": s_te}, seed),
        )
