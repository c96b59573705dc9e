"""DR003: the model's outputs on current data differ from those on reference data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    MAX_ROWS,
    REFERENCE_ROLES,
    _as_float,
    _as_text,
    _distribution_figure,
    _full_sample,
    _output_problem,
    _roles_problem,
    _sig,
    _skip,
    compare_categorical,
    compare_numeric,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- DR003 -----------------------------------------------------------------------------
def _has_scores(ctx: AuditContext, roles: tuple[str, ...]) -> bool:
    model = ctx.model
    if ctx.task != "binary" or model is None or not model.has_proba:
        return False
    if model.can_call:
        return True
    col = getattr(model, "score_column", None)
    return all(col in ctx.frame(r).columns for r in roles)


def _outputs(ctx: AuditContext, role: str, kind: str) -> np.ndarray:
    if kind == "score":
        return np.asarray(ctx.scores(role), dtype="float64")
    pred = ctx.predictions(role)
    if kind == "class":
        return _as_text(pd.Series(pred))
    return _as_float(pd.Series(pred))


class PredictionDrift(Check):
    """The model's outputs on current data differ from those on reference data

    What it checks:
        The distribution of the model's outputs on the current sample against the
        reference data (``reference``: test by default, since outputs on training rows
        are in-sample and an overfitted model's are sharper there than on any new
        data). Binary tasks with probabilities: the positive-class score, by the
        two-sample KS test, the PSI over ``bins`` quantile bins of the reference scores,
        the Wasserstein distance (in probability units) and the Jensen-Shannon distance.
        Multiclass tasks (and binary ones without probabilities): the predicted class
        shares, by the chi-squared test of the class-by-dataset counts, PSI and JS.
        Regression: the predicted values, by KS, PSI, JS and the Wasserstein distance in
        reference standard deviations. The same rule as DR001: the judged metric
        ``prediction_shift`` is the PSI when the test's p-value is below ``alpha``, and 0
        when the shift is not significant; it warns above 0.1 and fails above 0.2 (the
        conventional "moderate" and "significant" PSI levels). The raw PSI, the other
        distances and the p-value (fed to the audit-wide correction, not judged) are
        reported. With fewer than ``min_rows`` current rows it is not measured
        (inconclusive). In predictions-only mode the current data must carry the
        predictions column.

    Why it matters:
        A shift in what the model outputs is the first visible sign that it is used on
        another population or that an input broke, and it is measurable without labels.
        A binary model whose scores moved also moves its positive rate at a fixed
        decision threshold: more alerts, more refusals, other costs.

    How to fix:
        Find the inputs behind the shift with DR001 and DR002. If the population really
        changed, check the model on recent labelled data (DR004) and recalibrate or
        retrain; if an input broke, fix the pipeline.

    References:
        P6.3 and P4.7 of the practices; Rabanser, Günnemann & Lipton, NeurIPS 2019
        (black-box shift detection on model outputs); Lipton, Wang & Smola, "Detecting
        and correcting for label shift with black box predictors", ICML 2018; Siddiqi,
        Credit Risk Scorecards, 2006 (PSI); SciPy ``ks_2samp``, ``chi2_contingency``.
    """

    id = "DR003"
    name = "prediction-drift"
    area = "drift"
    severity = "high"
    needs = frozenset({"current", "predictions"})
    params = {
        "reference": Param(default="test", kind="str", choices=REFERENCE_ROLES, help="dataset whose model outputs the current ones are compared with"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5, help="significance level at which a shift counts"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="quantile bins of the reference outputs for the PSI and JS"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent predicted classes kept; the rest pooled"),
        "min_rows": Param(default=30, kind="int", low=1, high=1_000_000, help="current rows below which drift is not judged (inconclusive)"),
    }
    thresholds = {
        "prediction_shift": Threshold(
            direction="above", warn=0.1, fail=0.2, low=0, high=10,
            help="PSI of the model's outputs, current against reference, counted when the shift is significant",
        )
    }
    practices = ("P6.3", "P4.7")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.4", "nist_ai_rmf:MANAGE 4.1",
        "iso_42001:A.6.2.6",
    )
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Lipton, Wang & Smola, Detecting and correcting for label shift with black box predictors, ICML 2018",
        "Siddiqi, Credit Risk Scorecards, Wiley 2006 (population stability index)",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        for role in (reference, "current"):
            if (problem := _output_problem(ctx, role)) is not None:
                return _skip(problem)
        kind = "score" if _has_scores(ctx, (reference, "current")) else ("class" if ctx.is_classification else "value")
        out_ref, out_cur = _outputs(ctx, reference, kind), _outputs(ctx, "current", kind)
        name = {"score": "positive-class score", "class": "predicted class", "value": "predicted value"}[kind]
        if kind == "class":
            c = compare_categorical(name, out_ref, out_cur, max_levels=int(params["max_levels"]))
        else:
            c = compare_numeric(name, out_ref, out_cur, bins=int(params["bins"]), normalise=kind == "value")
        alpha = float(params["alpha"])
        enough = len(out_cur) >= int(params["min_rows"])
        significant = c.p_value is not None and c.p_value < alpha
        shift = (c.psi if significant else 0.0) if enough and c.psi is not None else None
        # The engine judges the size of a significant shift; the figure is not labelled "drifted".
        moved_significantly = bool(significant and shift)
        metrics = {
            "prediction_shift": Metric(shift, description=f"PSI of the {name} when the shift is significant (p < {alpha:g}), else 0"),
            "prediction_psi": Metric(c.psi, description=f"population stability index of the {name}, current against {reference}"),
            "prediction_js": Metric(c.js, description="Jensen-Shannon distance (base 2) of the binned outputs"),
            "test_statistic": Metric(c.statistic, description=f"{c.test} statistic"),
            "p_value": Metric(c.p_value, description=f"{c.test} test of the {name} distributions", p_value=True),
        }
        if kind != "class":
            metrics["prediction_wasserstein"] = Metric(
                c.wasserstein,
                description="Wasserstein distance of the outputs" + (" in reference standard deviations" if kind == "value" else " (probability units)")
            )
            fr, fc = out_ref[np.isfinite(out_ref)], out_cur[np.isfinite(out_cur)]
            mean_r = float(fr.mean()) if len(fr) else None
            mean_c = float(fc.mean()) if len(fc) else None
            qs = [0.05, 0.25, 0.5, 0.75, 0.95]
            qr = np.quantile(fr, qs) if len(fr) else [None] * len(qs)
            qc = np.quantile(fc, qs) if len(fc) else [None] * len(qs)
            evidence = Evidence(
                title=f"The {name} on {reference} and current data",
                columns=["statistic", reference, "current"],
                rows=[["mean", _sig(mean_r), _sig(mean_c)]] + [[f"{q:.0%} quantile", _sig(a), _sig(b)] for q, a, b in zip(qs, qr, qc)],
                note=f"{c.test}: statistic {_sig(c.statistic)}, p = {_sig(c.p_value, 3)}; PSI {_sig(c.psi)} over {int(params['bins'])} quantile bins "
                     f"of the {reference} outputs.",
            )
            if kind == "score":
                pred_r, pred_c = _as_text(pd.Series(ctx.predictions(reference))), _as_text(pd.Series(ctx.predictions("current")))
                positive = str(ctx.positive_label)
                rate_r, rate_c = float(np.mean(pred_r == positive)), float(np.mean(pred_c == positive))
                metrics["positive_rate_change"] = Metric(
                    rate_c - rate_r, description="share of current rows predicted positive minus that share on the reference"
                )
                evidence.rows.append(["predicted positive share", _sig(rate_r), _sig(rate_c)])
            moved = f"mean {mean_r:.3g} → {mean_c:.3g}" if mean_r is not None and mean_c is not None else ""
        else:
            share_r, share_c = c.counts_reference / c.counts_reference.sum(), c.counts_current / c.counts_current.sum()
            order = np.argsort(-np.abs(share_c - share_r), kind="stable")[:MAX_ROWS]
            evidence = Evidence(
                title=f"Predicted class shares on {reference} and current data (largest changes first)",
                columns=["class", f"{reference} share", "current share", "current − reference"],
                rows=[[_text(c.bins[i]), _sig(share_r[i]), _sig(share_c[i]), _sig(share_c[i] - share_r[i])] for i in order],
                note=f"{c.test}: statistic {_sig(c.statistic)}, p = {_sig(c.p_value, 3)}; Jensen-Shannon distance {_sig(c.js)}.",
            )
            top = order[0] if len(order) else None
            moved = f"largest change {c.bins[top]} {share_r[top]:.1%} → {share_c[top]:.1%}" if top is not None else ""
        values = {name: (out_ref, out_cur)} if kind != "class" else {}
        figure = _distribution_figure(
            [c], values, reference, title=f"The model's {name}, current against {reference}",
            caption="Density of the outputs (0.5-99.5% range)." if kind != "class" else "Shares of the predicted classes.",
        )
        if not enough:
            verdict = f"only {wording.count(len(out_cur), 'current row')}, fewer than the {int(params['min_rows'])} needed to judge drift."
        else:
            verdict = (
                f"PSI {c.psi:.3f}, {c.test} p = {c.p_value:.2g}"
                + (f" ({moved})" if moved else "")
                + (f": statistically significant at α = {alpha:g}." if significant else f": not significant at α = {alpha:g}.")
            ) if c.psi is not None and c.p_value is not None else "the outputs could not be compared."
        summary = f"Compared the model's {name} on {len(out_cur):,} current rows with {len(out_ref):,} {reference} rows: {verdict}"
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[evidence],
            figures=[figure],
            recommendation=(
                "Where the shift is large enough to matter (the judged PSI), find the inputs behind it (DR001, DR002); "
                "if the population changed, check the model on recent labelled data and recalibrate or retrain; if an "
                "input broke, fix the pipeline."
                if moved_significantly
                else "Nothing to change; keep comparing the model's outputs in production with those at evaluation."
            ),
            sample=_full_sample(ctx, (reference, "current"), self.id),
        )
