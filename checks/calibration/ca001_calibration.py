"""CA001 calibration: the expected calibration error of the test probabilities."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.calibration import (
    brier_score,
    calibration_bins,
    calibration_target,
    expected_calibration_error,
)
from auditor.toolkit.evaluation import MIN_ROWS, evaluation_problem, model_outputs
from auditor.toolkit.figures import label, new_figure, to_svg
from auditor.toolkit.stats import bootstrap_ci
from auditor.util import wording
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


class ExpectedCalibrationError(Check):
    """Calibration of the predicted probabilities

    What it checks:
        Whether the model's probabilities match observed frequencies on the test rows.
        Binary tasks use the positive-class probability and whether the row is positive;
        multiclass tasks the top-label confidence and whether the top label is right.
        Rows are grouped in ``bins`` bins of the probability (``strategy: uniform``,
        equal-width, by default; ``quantile`` for equal-count bins, the better choice when
        the probabilities crowd together). The judged metric is the expected calibration
        error ``ece``, the row-weighted mean over bins of |observed frequency - mean
        predicted probability|, with a bootstrap interval over rows: warn above 0.05,
        fail above 0.10; when the interval contains 0.10 the data cannot decide and the
        result is inconclusive. ECE is biased upwards on few rows (noise alone leaves gaps
        in every bin): below ``min_rows`` test rows (300) the result is inconclusive.

        Reported: the ECE under the other binning, the largest gap in a bin with at least
        ``min_bin_rows`` rows, the Brier score (scikit-learn's brier_score_loss; for
        multiclass the summed squared error of the one-hot labels, 0 to 2) and its skill
        against always predicting the test rows' class shares, and a reliability diagram
        (scikit-learn's calibration_curve for binary tasks) above a histogram of the
        probabilities.

    Why it matters:
        Probabilities drive decisions: thresholds, expected costs, triage queues, the
        confidence shown to a user. An over-confident model (boosted trees, deep networks,
        naive Bayes on correlated features) says 0.99 where 0.8 is true; decisions taken
        on those numbers are wrong even when the ranking (AUC) is fine.

    How to fix:
        Recalibrate on held-out data: Platt scaling (sigmoid) or isotonic regression with
        scikit-learn's CalibratedClassifierCV, or temperature scaling for a neural
        network; then re-check on the test rows. Use probabilities, not labels, only
        after they pass.

    References:
        Guo et al. (2017), On calibration of modern neural networks, ICML.
        Naeini, Cooper & Hauskrecht (2015), Obtaining well calibrated probabilities using
        Bayesian binning, AAAI.
        Brier (1950), Verification of forecasts expressed in terms of probability,
        Monthly Weather Review 78.
        scikit-learn user guide, Probability calibration.
    """

    id = "CA001"
    name = "calibration"
    area = "calibration"
    severity = "medium"
    needs = frozenset({"test", "probabilities"})
    tasks = frozenset({"binary", "multiclass"})
    params = {
        "bins": Param(default=10, kind="int", help="probability bins", low=2, high=100),
        "strategy": Param(default="uniform", kind="str", help="equal-width or equal-count bins", choices=("uniform", "quantile")),
        "min_bin_rows": Param(default=30, kind="int", help="rows a bin needs to count towards the largest gap", low=1),
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples for the ECE's interval", low=50, high=10000),
        "confidence": Param(default=0.95, kind="float", help="confidence level of the interval", low=0.5, high=0.999),
        "max_rows": Param(default=50000, kind="int", help="test rows used at most (a seeded sample above)", low=100),
        "min_rows": Param(default=300, kind="int", help="test rows below which the ECE's upward bias decides more than the model: inconclusive", low=10),
    }
    thresholds = {
        "ece": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                         help="expected calibration error: weighted mean |observed - predicted| over probability bins"),
    }
    practices = ("P4.3", "P6.3")
    clauses = (
        "eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.5",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Guo et al. (2017), On calibration of modern neural networks, ICML",
        "Naeini, Cooper & Hauskrecht (2015), AAAI",
        "https://scikit-learn.org/stable/modules/calibration.html",
    )

    def run(self, ctx, params):
        seed = ctx.seed_for(self.id)
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        scores = np.asarray(out.scores, dtype=float)
        finite = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
        dropped = int(np.count_nonzero(~finite))
        out = out.subset(np.flatnonzero(finite))
        problem = evaluation_problem(out)
        if len(out) >= MIN_ROWS and len(np.unique(out.y)) < 2:  # the shared wording names other metrics
            problem = (f"the {len(out)} test rows hold a single class: every observed frequency is 0 or 1, so "
                       "calibration cannot be told apart from the base rate")
        if not problem and len(out) < params["min_rows"]:
            # The binned ECE is biased upwards on few rows: a perfectly calibrated model on 40 rows
            # reads about 0.1. Below min_rows the data cannot decide.
            problem = (f"only {len(out)} test rows with probabilities; the calibration error is biased upwards below "
                       f"{params['min_rows']} rows, so a calibrated model could not be told from a miscalibrated one")
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        scores = np.asarray(out.scores, dtype=float)
        if scores.min() < 0 or scores.max() > 1:
            return Findings(
                status="inconclusive", sample=sample,
                summary=f"Inconclusive: the scores run from {scores.min():.4g} to {scores.max():.4g}; probabilities lie in [0, 1], "
                        "so these scores cannot be read for calibration.",
            )
        sample["rows_used"] = len(out)
        outcome, prob, what = calibration_target(out.y, scores, out.task, out.positive)
        bins, strategy = params["bins"], params["strategy"]
        other = "quantile" if strategy == "uniform" else "uniform"

        def ece(o, p):
            return expected_calibration_error(o, p, bins=bins, strategy=strategy)

        est, low, high = bootstrap_ci(ece, outcome, prob, n_resamples=params["n_resamples"],
                                      confidence=params["confidence"], random_state=seed)
        edges, count, p_sum, y_sum = calibration_bins(outcome, prob, bins=bins, strategy=strategy)
        full = count > 0
        gaps = np.where(full, (y_sum - p_sum) / np.maximum(count, 1), 0.0)
        big = count >= params["min_bin_rows"]
        brier, reference = brier_score(out.y, scores, out.task, out.positive, len(out.classes))
        interval = f" ({params['confidence']:.0%} CI {low:.3f} to {high:.3f})" if low is not None else ""
        metrics = {
            "ece": Metric(est, low, high, description=f"expected calibration error of the {what}, {bins} {strategy} bins"),
            f"ece_{other}": Metric(expected_calibration_error(outcome, prob, bins=bins, strategy=other),
                                   description=f"expected calibration error with {bins} {other} bins"),
            "max_bin_gap": Metric(float(np.abs(gaps[big]).max()) if big.any() else None,
                                  description=f"largest |observed - predicted| in a bin of at least {params['min_bin_rows']} rows"),
            "brier": Metric(brier, description="Brier score (lower is better)"),
            "brier_skill": Metric(1 - brier / reference if reference > 0 else None,
                                  description="1 - Brier / Brier of always predicting the test class shares"),
        }
        summary = (
            f"On {len(out)} test rows the expected calibration error of the model's {what} is {est:.3f}{interval} "
            f"({bins} {strategy} bins); on average the model gives {prob.mean():.3f} where the observed frequency is "
            f"{outcome.mean():.3f}. The Brier score is {brier:.3f} against {reference:.3f} for predicting the class shares."
        )
        if dropped:
            summary += f" {wording.count(dropped, 'row')} without a finite probability {'was' if dropped == 1 else 'were'} left out."
        rows = [
            [f"{edges[i]:.2f}-{edges[i + 1]:.2f}", int(count[i]), p_sum[i] / count[i], y_sum[i] / count[i], gaps[i]]
            for i in range(bins) if count[i]
        ]
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(
                title="Reliability table",
                columns=["bin", "rows", "mean predicted", "observed frequency", "observed - predicted"],
                rows=rows,
                note=f"Outcome: {'the row is positive' if out.task == 'binary' else 'the top label is right'}; "
                     f"bootstrap of {params['n_resamples']} resamples, seed {seed}.",
            )],
            figures=[self._figure(outcome, prob, edges, count, p_sum, y_sum, what=what, bins=bins, strategy=strategy,
                                  binary=out.task == "binary")],
            recommendation=(
                "If the error is large, recalibrate on held-out data (CalibratedClassifierCV with method='sigmoid' or "
                "'isotonic', or temperature scaling for a network) and check again on the test rows."
            ),
            sample=sample,
        )

    @staticmethod
    def _figure(outcome, prob, edges, count, p_sum, y_sum, *, what, bins, strategy, binary):
        fig = new_figure(6.0, 5.2)
        grid = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.08)
        ax = fig.add_subplot(grid[0])
        hist = fig.add_subplot(grid[1], sharex=ax)
        ax.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1, label="perfectly calibrated")
        if binary:
            from sklearn.calibration import calibration_curve

            observed, predicted = calibration_curve(outcome, prob, n_bins=bins, strategy=strategy)
        else:
            full = count > 0
            observed, predicted = y_sum[full] / count[full], p_sum[full] / count[full]
        ax.plot(predicted, observed, "o-", color="#3b5b92", markersize=4, label="model")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_ylabel("observed frequency" if binary else "accuracy")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.grid(color="#dddddd", linewidth=0.6)
        ax.tick_params(labelbottom=False)
        hist.hist(prob, bins=edges if strategy == "uniform" else np.linspace(0, 1, 21), color="#b8c2d1", edgecolor="#3b5b92", linewidth=0.5)
        hist.set_xlabel(label(what))
        hist.set_ylabel("rows")
        return to_svg(fig, title="Reliability diagram", caption=(
            f"Top: observed frequency against mean {what} per bin ({bins} {strategy} bins); the dashed diagonal is perfect "
            "calibration, points below it are over-confident. Bottom: how many rows get each probability."))
