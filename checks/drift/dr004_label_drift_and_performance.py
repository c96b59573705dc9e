"""DR004: labels and model performance on labelled current data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.toolkit.figures import interval_chart
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    MAX_ROWS,
    REFERENCE_ROLES,
    _as_float,
    _as_text,
    _chi2,
    _output_problem,
    _roles_problem,
    _sig,
    _skip,
    compare_numeric,
)

np = lazy_module("numpy")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- DR004 -----------------------------------------------------------------------------
def scores_and_drop(fn, a_y, a_out, b_y, b_out, *, n_resamples: int, confidence: float, seed: int) -> dict[str, tuple[float, float | None, float | None]]:
    """fn on two independent samples and their difference, each with a percentile bootstrap interval.

    One ``scipy.stats.bootstrap`` run resamples the two samples separately and evaluates
    all three statistics on the same resamples, so the three intervals agree with one
    another and cost two metric evaluations per resample. Intervals are None with fewer
    than 10 rows on a side or where resamples leave the metric undefined.
    """
    import sklearn

    a = float(fn(a_y, a_out))
    b = float(fn(b_y, b_out))
    out: dict[str, tuple[float, float | None, float | None]] = {"a": (a, None, None), "b": (b, None, None), "drop": (a - b, None, None)}
    if min(len(a_y), len(b_y)) < 10:
        return out

    def statistic(i_a, i_b):
        i_a, i_b = i_a.astype(int), i_b.astype(int)
        try:
            sa, sb = float(fn(a_y[i_a], a_out[i_a])), float(fn(b_y[i_b], b_out[i_b]))
        except ValueError:  # a resample with one class has no ROC AUC
            return np.array([np.nan, np.nan, np.nan])
        return np.array([sa, sb, sa - sb])

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        res = stats.bootstrap(
            (np.arange(len(a_y)), np.arange(len(b_y))), statistic, paired=False, vectorized=False,
            n_resamples=n_resamples, confidence_level=confidence, method="percentile",
            random_state=np.random.default_rng(seed),
        )
    for key, low, high in zip(("a", "b", "drop"), res.confidence_interval.low, res.confidence_interval.high):
        if np.isfinite(low) and np.isfinite(high):
            out[key] = (out[key][0], float(low), float(high))
    return out


class LabelDriftAndPerformance(Check):
    """Labels and model performance on labelled current data

    What it checks:
        Where the current sample carries the target: (a) the label distribution against
        the reference data (``reference``: train by default): for classification the
        total variation distance (half the sum of absolute differences of class shares)
        and the chi-squared test of the class-by-dataset counts
        (``scipy.stats.chi2_contingency``), for regression the two-sample KS test and the
        Wasserstein distance in reference standard deviations; reported, not judged
        (a change of class mix is prior shift, which the performance measures below
        weigh). (b) The model's primary metric (balanced accuracy, or R² for
        regression) on the current sample against the test data, on seeded samples of at
        most ``max_rows`` labelled rows each. The metric ``performance_drop`` = test score
        − current score, with a 95% percentile bootstrap interval resampling both
        samples independently (``scipy.stats.bootstrap``, ``n_resamples``); it warns
        above 0.02 and fails above 0.05, and an interval that contains 0.05 reads
        inconclusive. Each score's own interval (from the same resamples) and every task
        metric on both samples are reported. A current sample with fewer than 10
        labelled rows, or (classification) a single class, cannot estimate the metric:
        inconclusive. Note that R² also falls when the current targets vary less, with
        the same errors: read it with the RMSE next to it.

    Why it matters:
        Drift checks on inputs and outputs say the world moved; only labelled recent
        data says whether the model still works. A model that lost five points of
        balanced accuracy since its evaluation is no longer the model that was approved,
        whatever its inputs look like.

    How to fix:
        Retrain on recent labelled data and re-evaluate on a recent holdout; where the
        class mix changed, recalibrate the scores or re-tune the decision threshold for
        the new prior. Keep collecting labels from production for this comparison.

    References:
        P4.7, P6.3 and P7.1 of the practices; Moreno-Torres et al., "A unifying view on
        dataset shift in classification", Pattern Recognition 45(1), 2012; Lipton, Wang &
        Smola, ICML 2018 (label shift); Efron & Tibshirani, An Introduction to the
        Bootstrap, 1993; SciPy ``bootstrap``, ``chi2_contingency``, ``ks_2samp``.
    """

    id = "DR004"
    name = "label-drift-and-performance"
    area = "drift"
    severity = "high"
    needs = frozenset({"current", "current_labels", "predictions"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset whose labels the current labels are compared with"),
        "max_rows": Param(default=20_000, kind="int", low=100, high=10_000_000,
                          help="labelled rows per dataset for the performance comparison (seeded sample)"),
        "n_resamples": Param(default=500, kind="int", low=50, high=100_000, help="bootstrap resamples of the interval of the drop"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
    }
    thresholds = {
        "performance_drop": Threshold(
            direction="above", warn=0.02, fail=0.05, low=-1, high=1,
            help="primary metric on test minus on current (balanced accuracy or R²)",
        )
    }
    practices = ("P4.7", "P6.3", "P7.1")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.3", "nist_ai_rmf:MEASURE 2.4", "nist_ai_rmf:MANAGE 4.1",
        "iso_42001:A.6.2.6",
    )
    references = (
        "Moreno-Torres et al., A unifying view on dataset shift in classification, Pattern Recognition 45(1), 2012",
        "Lipton, Wang & Smola, Detecting and correcting for label shift with black box predictors, ICML 2018",
        "Efron & Tibshirani, An Introduction to the Bootstrap, Chapman & Hall 1993",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.bootstrap.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        if not ctx.has("test") or not ctx.has_labels("test"):
            return _skip("the test data has no target values to compare the current performance with.")
        for role in ("test", "current"):
            if (problem := _output_problem(ctx, role)) is not None:
                return _skip(problem)
        seed = ctx.seed_for(self.id)
        confidence = float(params["confidence"])
        metrics: dict[str, Metric] = {}
        evidence: list[Evidence] = []
        label_text = self._label_drift(ctx, reference, metrics, evidence)

        idx_t, rec_t = ctx.sample_index("test", int(params["max_rows"]), check_id=self.id)
        idx_c, rec_c = ctx.sample_index("current", int(params["max_rows"]), check_id=self.id)
        sample = combine_samples({"test": rec_t, "current": rec_c}, seed)
        test, cur = model_outputs(ctx, "test", idx_t), model_outputs(ctx, "current", idx_c)
        primary = primary_metric(ctx.task)
        pretty = primary.replace("_", " ")
        description = f"{pretty} on test minus on current ({confidence:.0%} bootstrap interval)"
        problem = evaluation_problem(test) or evaluation_problem(cur)
        if problem is not None:
            metrics["performance_drop"] = Metric(None, description=description)
            return Findings(
                summary=f"Could not compare the model's performance: {problem}. {label_text}",
                metrics=metrics, evidence=evidence, sample=sample,
            )
        fn = test.scorer(primary)
        spec = next(s for s in test.specs() if s.name == primary)
        out_t, out_c = test.output_for(spec), cur.output_for(spec)
        n_res = int(params["n_resamples"])
        scored = scores_and_drop(fn, test.y, out_t, cur.y, out_c, n_resamples=n_res, confidence=confidence, seed=seed)
        (s_t, lo_t, hi_t), (s_c, lo_c, hi_c), (drop, low, high) = scored["a"], scored["b"], scored["drop"]
        metrics["performance_drop"] = Metric(drop, low, high, description=description)
        metrics["test_score"] = Metric(s_t, lo_t, hi_t, description=f"{pretty} on the test data")
        metrics["current_score"] = Metric(s_c, lo_c, hi_c, description=f"{pretty} on the current data")
        rows = []
        for s in test.specs():
            try:
                a, b = test.score(s.name), cur.score(s.name)
            except ValueError:  # undefined on one side (one class for ROC AUC)
                continue
            rows.append([s.name.replace("_", " "), _sig(a), _sig(b), _sig(a - b), "higher" if s.higher_is_better else "lower"])
        evidence.insert(0, Evidence(
            title="The model's scores on test and current data",
            columns=["metric", "test", "current", "test − current", "better when"],
            rows=rows,
            note=f"{len(test):,} labelled test rows and {len(cur):,} labelled current rows; primary metric {pretty}.",
        ))
        figure = interval_chart(
            f"{pretty.capitalize()} on test and current data",
            [("test", s_t, lo_t, hi_t), ("current", s_c, lo_c, hi_c)],
            pretty, f"Point estimates with {confidence:.0%} bootstrap intervals ({n_res} resamples).",
        )
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None else ""
        summary = (
            f"The model's {pretty} is {s_t:.3f} on {len(test):,} test rows and {s_c:.3f} on {len(cur):,} labelled current "
            f"rows: a drop of {drop:+.3f}{interval}. {label_text}"
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=[figure],
            recommendation=(
                "Retrain on recent labelled data and re-evaluate on a recent holdout; where the class mix changed, "
                "recalibrate the scores or re-tune the decision threshold for the new prior."
                if drop > 0.02 or (low is not None and low > 0)
                else "Nothing to change; keep collecting labels from production to repeat this comparison."
            ),
            sample=sample,
        )

    def _label_drift(self, ctx: AuditContext, reference: str, metrics: dict[str, Metric], evidence: list[Evidence]) -> str:
        """Compare the reference and current labels; fill metrics and evidence; return a sentence."""
        y_ref, y_cur = ctx.y(reference), ctx.y("current")
        if y_ref is None or not y_ref.notna().any():
            return f"The {reference} data has no labels to compare the current labels with."
        y_ref, y_cur = y_ref.dropna(), y_cur.dropna()
        if ctx.task == "regression":
            c = compare_numeric("target", _as_float(y_ref), _as_float(y_cur), bins=10)
            metrics["label_ks_statistic"] = Metric(c.statistic, description=f"KS statistic of the target, current against {reference}")
            metrics["label_wasserstein"] = Metric(c.wasserstein, description="Wasserstein distance of the target in reference standard deviations")
            metrics["label_p_value"] = Metric(c.p_value, description="two-sample KS test of the target", p_value=True)
            qs = [0.05, 0.25, 0.5, 0.75, 0.95]
            fr, fc = _as_float(y_ref), _as_float(y_cur)
            fr, fc = fr[np.isfinite(fr)], fc[np.isfinite(fc)]
            if len(fr) and len(fc):
                evidence.append(Evidence(
                    title=f"Target quantiles on {reference} and current data",
                    columns=["quantile", reference, "current"],
                    rows=[[f"{q:.0%}", _sig(a), _sig(b)] for q, a, b in zip(qs, np.quantile(fr, qs), np.quantile(fc, qs))],
                ))
            if c.statistic is None:
                return "The target could not be compared."
            return f"The target's KS statistic against {reference} is {c.statistic:.3f} (p = {c.p_value:.2g})."
        ref_text, cur_text = _as_text(y_ref), _as_text(y_cur)
        classes = [str(v) for v in (ctx.classes or [])]
        seen = list(dict.fromkeys(classes + sorted(set(ref_text) | set(cur_text))))
        a = np.array([np.sum(ref_text == v) for v in seen], dtype="float64")
        b = np.array([np.sum(cur_text == v) for v in seen], dtype="float64")
        keep = (a + b) > 0
        seen, a, b = [s for s, k in zip(seen, keep) if k], a[keep], b[keep]
        share_a, share_b = a / a.sum(), b / b.sum()
        tvd = 0.5 * float(np.abs(share_a - share_b).sum())
        stat, p = _chi2(np.vstack([a, b]))
        metrics["label_tvd"] = Metric(tvd, description=f"total variation distance of the class shares, current against {reference}")
        metrics["label_p_value"] = Metric(p, description="chi-squared test of the class-by-dataset counts", p_value=True)
        order = np.argsort(-np.abs(share_b - share_a), kind="stable")[:MAX_ROWS]
        evidence.append(Evidence(
            title=f"Class shares on {reference} and current data (largest changes first)",
            columns=["class", f"{reference} share", "current share", "current − reference"],
            rows=[[_text(seen[i]), _sig(share_a[i]), _sig(share_b[i]), _sig(share_b[i] - share_a[i])] for i in order],
            note=f"Chi-squared {stat:.3g}, p = {p:.2g}.",
        ))
        return f"The class shares differ from {reference} by a total variation distance of {tvd:.3f} (chi-squared p = {p:.2g})."
