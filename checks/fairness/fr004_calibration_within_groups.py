"""FR004 calibration-within-groups: calibration in each group."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.calibration import expected_calibration_error
from auditor.toolkit.figures import interval_chart
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    _INTERVAL_PARAM,
    _SENSITIVE_PARAMS,
    MAX_ROWS,
    _ci_text,
    _members,
    _num,
    _prepare,
    _spread,
    _undecidable_reason,
    bootstrap_interval,
    combine_worst,
    resample_rows,
)

np = lazy_module("numpy")


class CalibrationWithinGroups(Check):
    """Calibration in each group

    What it checks:
        Whether the predicted probabilities mean the same thing in every group: the
        expected calibration error (ECE, the row-weighted mean over ``bins`` probability
        bins of |observed frequency - mean predicted probability|, computed with CA001's
        function) of the positive-class probability in each group of each sensitive
        feature and intersection. Groups with fewer than ``min_group_rows`` rows (100 by
        default: ECE needs rows in its bins) are shown and left out. The judged metric
        ``max_ece_gap`` is the largest group ECE minus the smallest, the worst over the
        attributes, with a bootstrap interval (rows resampled within groups; each resample
        takes the worst attribute again; bias-corrected as in FR002): warn above 0.05,
        fail above 0.10; an interval containing 0.10, or an attribute with fewer than two
        groups large enough, reads inconclusive. ECE is biased upwards on few rows, so a
        small group's ECE is high by noise alone; the bias correction and the interval
        show how much.

    Why it matters:
        If a score of 0.7 means a 70% chance for one group and 50% for another, every
        decision taken on the score treats the groups differently even at the same
        threshold (calibration within groups, one of the standard fairness criteria).

    How to fix:
        Recalibrate, checking the result per group: calibration fitted on all rows can
        leave a group miscalibrated. Look for features that mean different things in
        different groups, and for groups under-represented in training.

    References:
        P8.1 and P4.3 of the practices; Pleiss et al. (2017), On fairness and
        calibration, NeurIPS; Kleinberg, Mullainathan & Raghavan (2017), Inherent
        trade-offs in the fair determination of risk scores, ITCS; Guo et al. (2017), On
        calibration of modern neural networks, ICML.
    """

    id = "FR004"
    name = "calibration-within-groups"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "probabilities", "sensitive"})
    tasks = frozenset({"binary"})
    params = {
        **_SENSITIVE_PARAMS,
        "min_group_rows": Param(default=100, kind="int", low=10, high=1_000_000,
                                help="rows a group needs for its ECE to enter the comparison"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="probability bins"),
        "strategy": Param(default="uniform", kind="str", choices=("uniform", "quantile"), help="equal-width or equal-count bins"),
        "n_resamples": Param(default=200, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "max_ece_gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                                 help="largest minus smallest group ECE, worst attribute"),
    }
    practices = ("P8.1", "P4.3")
    clauses = ("eu_ai_act:Art. 9", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Pleiss et al. (2017), On fairness and calibration, NeurIPS",
        "Kleinberg, Mullainathan & Raghavan (2017), Inherent trade-offs in the fair determination of risk scores, ITCS",
    )

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        out = prepared.out
        scores = np.asarray(out.scores, dtype="float64")
        finite = np.isfinite(scores) & (scores >= 0) & (scores <= 1)
        if not finite.all():
            return Findings(status="inconclusive", sample=prepared.sample,
                            summary=f"Inconclusive: {wording.count(int((~finite).sum()), 'test row')} lack a probability in [0, 1].")
        outcome = (out.y == out.positive).astype("float64")
        bins, strategy, conf, min_rows = params["bins"], params["strategy"], params["confidence"], params["min_group_rows"]
        rng = ctx.rng(self.id)

        def ece(rows):
            return expected_calibration_error(outcome[rows], scores[rows], bins=bins, strategy=strategy)

        attrs = prepared.attributes
        positions = [[np.flatnonzero(a.codes == g) for g in range(len(a.groups))] for a in attrs]
        eligible = [np.flatnonzero(a.sizes >= min_rows) for a in attrs]
        observed = [np.array([ece(pos) if len(pos) else np.nan for pos in group_rows]) for group_rows in positions]
        boot = [np.full((params["n_resamples"], len(a.groups)), np.nan) for a in attrs]
        members = _members(prepared.strata, prepared.n_strata)
        for b in range(params["n_resamples"]):
            idx = resample_rows(prepared.strata, rng, members)
            for ai in range(len(attrs)):
                for g in eligible[ai]:
                    boot[ai][b, g] = ece(idx[positions[ai][g]])
        estimates, stats_, reasons = [], [], []
        for ai, a in enumerate(attrs):
            if len(eligible[ai]) < 2:
                estimates.append(None)
                stats_.append(None)
                reasons.append(_undecidable_reason(a, eligible[ai], min_rows))
                continue
            estimates.append(float(_spread(observed[ai], eligible[ai])))
            stats_.append(_spread(boot[ai], eligible[ai]))
        value, low, high, worst = combine_worst(estimates, stats_, worst="max", undecided=bool(reasons), bound=1.0,
                                                confidence=conf, method=params["interval"], limits=(0.0, 1.0))
        overall = expected_calibration_error(outcome, scores, bins=bins, strategy=strategy)
        metrics = {
            "max_ece_gap": Metric(value, low, high, description=f"largest minus smallest group ECE, worst attribute ({conf:.0%} interval)"
                                  + ("; widened: an attribute has fewer than two groups large enough" if reasons else "")),
            "overall_ece": Metric(overall, description=f"ECE over all test rows, {bins} {strategy} bins"),
            "groups_excluded": Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                      description=f"groups with fewer than {min_rows} rows, left out of the comparison"),
        }
        rows, figure_rows = [], []
        for ai, a in enumerate(attrs):
            for g, group in enumerate(a.groups):
                pos = positions[ai][g]
                est = _num(observed[ai][g])
                lo, hi = (bootstrap_interval(est, boot[ai][:, g], confidence=conf, method=params["interval"], limits=(0.0, 1.0))
                          if g in eligible[ai] and est is not None else (None, None))
                rows.append([_text(a.name), _text(group), len(pos), est, lo, hi,
                             float(scores[pos].mean()) if len(pos) else None, float(outcome[pos].mean()) if len(pos) else None,
                             "yes" if len(pos) < min_rows else ""])
                if est is not None and g in eligible[ai]:
                    figure_rows.append((f"{a.name}: {group}", est, lo, hi))
        note = f"ECE with {bins} {strategy} bins; bootstrap within groups, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}."
        if len(rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(rows)} groups."
        if value is None:
            summary = "Could not compare calibration between groups: " + "; ".join(reasons) + "."
        else:
            a = attrs[worst]
            vals = observed[worst]
            e = eligible[worst]
            hi_g, lo_g = e[np.nanargmax(vals[e])], e[np.nanargmin(vals[e])]
            summary = (f"Calibration differs most across {_text(a.name)}: ECE {vals[hi_g]:.3f} for {_text(a.groups[hi_g])} and "
                       f"{vals[lo_g]:.3f} for {_text(a.groups[lo_g])}, a gap of {_ci_text(value, low, high)}; over all rows "
                       f"the ECE is {overall:.3f}.")
            if reasons:
                summary += " Not measurable: " + "; ".join(reasons) + "."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="Calibration per group",
                               columns=["attribute", "group", "rows", "ECE", "CI low", "CI high", "mean predicted",
                                        "observed frequency", f"below {min_rows} rows"],
                               rows=rows[:MAX_ROWS], note=note)],
            figures=[interval_chart("Expected calibration error per group", figure_rows[:MAX_ROWS], xlabel="ECE",
                                    caption=f"Dots: ECE per group; bars: {conf:.0%} bootstrap intervals.")] if figure_rows else [],
            recommendation=(
                "Recalibrate on held-out data and check the result per group; where one group stays miscalibrated, look for "
                "features that mean different things across groups and for groups under-represented in training."
            ),
            sample=prepared.sample,
        )
