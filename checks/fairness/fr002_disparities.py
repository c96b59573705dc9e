"""FR002 disparities: demographic parity, equalized odds, disparate impact."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import interval_chart
from auditor.toolkit.stats import bootstrap_ci
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    _INTERVAL_PARAM,
    _SENSITIVE_PARAMS,
    FN,
    FP,
    MAX_ROWS,
    TN,
    TP,
    Attribute,
    _agree,
    _aif360_metrics,
    _ci_text,
    _design_matrix,
    _fairlearn_metrics,
    _num,
    _percentile_interval,
    _prepare,
    _spread,
    _undecidable_reason,
    bootstrap_interval,
    by_group,
    cell_counts,
    cell_table,
    combine_worst,
    favourable_outcome,
    resample_cell_counts,
    stratum_groups,
)

np = lazy_module("numpy")


def _rates(g: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group rates from confusion counts (..., groups, 4); NaN where a rate is undefined."""
    g = g.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        n = g.sum(axis=-1)
        pos, neg = g[..., FN] + g[..., TP], g[..., TN] + g[..., FP]
        predicted = g[..., FP] + g[..., TP]
        return {
            "n": n,
            "selection_rate": predicted / n,
            "true_positive_rate": np.where(pos > 0, g[..., TP] / pos, np.nan),
            "false_positive_rate": np.where(neg > 0, g[..., FP] / neg, np.nan),
            "false_negative_rate": np.where(pos > 0, g[..., FN] / pos, np.nan),
            "true_negative_rate": np.where(neg > 0, g[..., TN] / neg, np.nan),
            "precision": np.where(predicted > 0, g[..., TP] / predicted, np.nan),
            "accuracy": (g[..., TN] + g[..., TP]) / n,
        }


@dataclass
class _AttributeDisparity:
    attr: Attribute
    eligible: np.ndarray
    odds_eligible: np.ndarray
    estimates: dict[str, float | None]
    boots: dict[str, np.ndarray | None]
    pair: tuple[int, int] | None  # (least selected, most selected) group codes
    per_group: list[list[Any]]
    left_out: list[list[Any]]
    #: the two equalized-odds rates' (name, range, highest group, its rate, lowest group, its rate)
    odds_ranges: list[tuple[str, float, str, float, str, float]] = field(default_factory=list)


class Disparities(Check):
    """Group disparities: demographic parity, equalized odds, disparate impact

    What it checks:
        For each sensitive feature and each intersection of them (``max_order``), on the
        test rows of groups with at least ``min_group_rows`` rows (smaller groups are
        listed and left out, never averaged in): with fairlearn, the demographic parity
        difference and ratio (selection rates, largest minus smallest and smallest over
        largest), the equalized odds difference (the larger of the true-positive-rate and
        false-positive-rate ranges) and the equal opportunity difference (the
        true-positive-rate range); with AIF360, between the least and the most selected
        group (the most selected serving as the privileged group), the disparate impact
        ratio, the statistical parity difference and the average odds difference, and
        each group against the most selected one. The true- and false-positive-rate
        comparisons (equalized odds, equal opportunity, average odds) also leave out groups
        with fewer than ``min_group_labels`` rows of either label: a rate over three
        positives is not a measurement. fairlearn and AIF360 are called on the distinct
        (group, label, prediction) cells weighted by their row counts, which gives the
        same numbers as on the rows. Over all test rows, AIF360's
        Theil index (generalised entropy of the benefit 1 + prediction - label) and, on a
        seeded sample of ``consistency_rows`` rows, its consistency score (agreement of each
        prediction with those of its 5 nearest neighbours in the non-sensitive inputs).

        Intervals: rows are resampled within each cell of the sensitive features
        (``n_resamples``), so group sizes stay fixed (fairlearn's own MetricFrame
        bootstrap resamples all rows together, so a small group's size varies and can
        vanish); each resample recomputes every disparity from its counts, picks its own
        least and most selected groups, and takes the worst attribute again, so a reported
        interval is that of the worst value. A largest gap is biased upwards (noise alone
        widens a range) and resampling adds the bias again; ``interval: bias_corrected``
        (the default) moves the percentile interval back by the bootstrap estimate of that
        bias, which keeps data with no disparity from reading inconclusive while a real
        disparity near the fail level still does (``percentile`` and ``basic`` are
        available). The Theil index's interval is a plain percentile one; the consistency
        interval resamples the per-row agreements with the neighbour graph held fixed.

        Judged, each the worst over the attributes: ``demographic_parity_difference``
        (warn above 0.1, fail above 0.2), ``equalized_odds_difference`` (warn above 0.1,
        fail above 0.2) and ``disparate_impact_ratio`` (fail below 0.8: the four-fifths
        rule). An interval that contains the fail level reads inconclusive. An attribute
        with fewer than two groups large enough cannot be measured: the result is
        inconclusive with the reason, unless another attribute already fails beyond doubt.

    Why it matters:
        A model that selects one group far more often than another (demographic parity),
        or that errs differently for qualified and unqualified people depending on their
        group (equalized odds), reproduces or amplifies unequal treatment, whatever its
        accuracy. The four-fifths rule is the screening test US employment regulators use
        for adverse impact. Which criterion applies depends on the decision; they cannot
        all hold at once when base rates differ, so all are reported.

    How to fix:
        Decide which criterion the use case requires and why. Check the labels for
        historical bias and the training data for under-represented groups; then mitigate
        before training (AIF360's Reweighing), in training (fairlearn's
        ExponentiatedGradient with a DemographicParity or EqualizedOdds constraint) or
        after (fairlearn's ThresholdOptimizer), and audit again on held-out data.

    References:
        P8.1 of the practices; Hardt, Price & Srebro (2016), Equality of opportunity in
        supervised learning, NeurIPS; Feldman et al. (2015), Certifying and removing
        disparate impact, KDD; US EEOC Uniform Guidelines on Employee Selection
        Procedures, 29 CFR 1607.4(D) (four-fifths rule); Speicher et al. (2018), A unified
        approach to quantifying algorithmic unfairness, KDD (Theil index); Zemel et al.
        (2013), Learning fair representations, ICML (consistency); Bellamy et al. (2018),
        AI Fairness 360, arXiv:1810.01943; Bird et al. (2020), Fairlearn, MSR-TR-2020-32.
    """

    id = "FR002"
    name = "disparities"
    area = "fairness"
    severity = "high"
    needs = frozenset({"test", "predictions", "sensitive"})
    tasks = frozenset({"binary"})
    params = {
        **_SENSITIVE_PARAMS,
        "n_resamples": Param(default=500, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="rows of each label a group needs to enter the true and false positive rate comparisons"),
        "consistency_rows": Param(default=2000, kind="int", low=0, high=50_000,
                                  help="test rows sampled for the consistency score (0: not computed)"),
        "n_neighbors": Param(default=5, kind="int", low=1, high=100, help="neighbours in the consistency score"),
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "demographic_parity_difference": Threshold(direction="above", warn=0.1, fail=0.2, low=0, high=1,
                                                   help="largest minus smallest selection rate between groups, worst attribute"),
        "equalized_odds_difference": Threshold(direction="above", warn=0.1, fail=0.2, low=0, high=1,
                                               help="larger of the TPR and FPR ranges between groups, worst attribute"),
        "disparate_impact_ratio": Threshold(direction="below", fail=0.8, low=0, high=1,
                                            help="least over most selected group's selection rate (four-fifths rule), worst attribute"),
    }
    practices = ("P8.1",)
    clauses = ("eu_ai_act:Art. 9", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Hardt, Price & Srebro (2016), Equality of opportunity in supervised learning, NeurIPS",
        "Feldman et al. (2015), Certifying and removing disparate impact, KDD",
        "US EEOC Uniform Guidelines, 29 CFR 1607.4(D) (four-fifths rule)",
        "Speicher et al. (2018), A unified approach to quantifying algorithmic unfairness, KDD",
        "Zemel et al. (2013), Learning fair representations, ICML",
        "https://fairlearn.org/main/user_guide/assessment/common_fairness_metrics.html",
        "https://aif360.readthedocs.io/en/stable/modules/sklearn.html#metrics",
    )

    # The measures that change when the other label is the favourable one (a selection
    # rate s becomes 1 - s): without a declared favourable outcome both are judged.
    ORIENTED = ("demographic_parity_ratio", "disparate_impact_ratio", "equal_opportunity_difference")
    # metric -> (how the worst attribute is chosen, the value an unmeasurable attribute could reach)
    COMBINED: dict[str, tuple[str, float]] = {
        "demographic_parity_difference": ("max", 1.0),
        "demographic_parity_ratio": ("min", 0.0),
        "equalized_odds_difference": ("max", 1.0),
        "equal_opportunity_difference": ("max", 1.0),
        "disparate_impact_ratio": ("min", 0.0),
        "statistical_parity_difference": ("min", -1.0),
    }
    LIMITS: dict[str, tuple[float, float]] = {
        "demographic_parity_difference": (0.0, 1.0), "demographic_parity_ratio": (0.0, 1.0),
        "equalized_odds_difference": (0.0, 1.0), "equal_opportunity_difference": (0.0, 1.0),
        "disparate_impact_ratio": (0.0, 1.0), "statistical_parity_difference": (-1.0, 0.0),
    }
    DESCRIPTIONS = {
        "demographic_parity_difference": "largest minus smallest selection rate (fairlearn)",
        "demographic_parity_ratio": "smallest over largest selection rate (fairlearn)",
        "equalized_odds_difference": "larger of the TPR and FPR ranges (fairlearn)",
        "equal_opportunity_difference": "true positive rate range (fairlearn)",
        "disparate_impact_ratio": "selection rate of the least over the most selected group (AIF360)",
        "statistical_parity_difference": "selection rate of the least minus the most selected group (AIF360)",
        "average_odds_difference": "mean of the FPR and TPR differences, least vs most selected group (AIF360)",
    }

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        flm, aif = _fairlearn_metrics(), _aif360_metrics()
        import sklearn

        out, attrs = prepared.out, prepared.attributes
        seed, conf, min_rows = ctx.seed_for(self.id), params["confidence"], params["min_group_rows"]
        rng = ctx.rng(self.id)
        y = (out.y == out.positive).astype(np.int64)
        p = (out.pred == out.positive).astype(np.int64)
        cells = 2 * y + p
        observed = cell_counts(prepared.strata, cells, prepared.n_strata, 4)
        boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)
        # Every disparity is computed with "positive" meaning favourable. Turning the other
        # label into the favourable one maps each cell c to 3 - c (TN <-> TP, FP <-> FN).
        favourable, _ = favourable_outcome(ctx, out.positive)
        other = next(c for c in range(len(ctx.classes)) if c != out.positive)
        flipped = (1 - y, 1 - p, observed[..., ::-1], boot[..., ::-1])
        if favourable is None:  # not declared: both orientations, the worse counting
            orientations = [(out.positive, (y, p, observed, boot)), (other, flipped)]
        elif favourable == out.positive:
            orientations = [(out.positive, (y, p, observed, boot))]
        else:
            orientations = [(other, flipped)]
        labels = [ctx.classes[code] for code, _ in orientations]

        by_orientation: list[list[_AttributeDisparity]] = []
        with sklearn.config_context(assume_finite=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero-division warnings of a group without positives
            for code, (yo, po, obs_o, boot_o) in orientations:
                by_orientation.append([self._attribute(attr, yo, po, obs_o, boot_o, prepared, min_rows,
                                                       params["min_group_labels"], flm, aif, flipped=code != out.positive)
                                       for attr in attrs])
        results = by_orientation[0]
        y, p = orientations[0][1][0], orientations[0][1][1]
        boot = orientations[0][1][3]

        reasons = [_undecidable_reason(r.attr, r.eligible, min_rows) for r in results if len(r.eligible) < 2]
        odds_reasons = [
            f"{_text(r.attr.name)} has fewer than two groups with {params['min_group_labels']} rows of each label among those compared"
            for r in results if len(r.eligible) >= 2 and len(r.odds_eligible) < 2
        ]
        metrics: dict[str, Metric] = {}
        worst_attr: dict[str, int | None] = {}
        worst_orientation: dict[str, int] = {}
        for name, (worst, bound) in self.COMBINED.items():
            needs_labels = name in ("equalized_odds_difference", "equal_opportunity_difference")
            undecided = bool(reasons or (needs_labels and odds_reasons))
            # an orientation-free measure is the same in both; the others take the worse one
            pool = by_orientation if name in self.ORIENTED else by_orientation[:1]
            flat = [r for rs in pool for r in rs]
            value, low, high, w = combine_worst([r.estimates[name] for r in flat], [r.boots[name] for r in flat],
                                                worst=worst, undecided=undecided, bound=bound, confidence=conf,
                                                method=params["interval"], limits=self.LIMITS[name])
            worst_attr[name] = None if w is None else w % len(attrs)
            worst_orientation[name] = 0 if w is None else w // len(attrs)
            where = f"; worst: {results[worst_attr[name]].attr.name}" if w is not None else ""
            if name in self.ORIENTED and w is not None:
                where += (f", {_text(labels[worst_orientation[name]])!r} favourable" if len(pool) == 1 else
                          f", the worse of both orientations ({_text(labels[worst_orientation[name]])!r} favourable); "
                          "no favourable outcome declared")
            if name == "equalized_odds_difference" and w is not None:
                where += f"; driven by the {self._odds_driver(results[worst_attr[name]])}"
            metrics[name] = Metric(value, low, high, description=f"{self.DESCRIPTIONS[name]}, worst attribute ({conf:.0%} interval){where}"
                                   + ("; interval widened: an attribute could not be measured" if undecided else ""))
        # Average odds difference is signed: the attribute with the largest magnitude, with its own interval.
        aod = [(abs(r.estimates["average_odds_difference"]), i) for i, r in enumerate(results)
               if r.estimates["average_odds_difference"] is not None]
        if aod:
            i = max(aod)[1]
            est = results[i].estimates["average_odds_difference"]
            lo, hi = bootstrap_interval(est, results[i].boots["average_odds_difference"], confidence=conf,
                                        method=params["interval"], limits=(-1.0, 1.0))
            metrics["average_odds_difference"] = Metric(est, lo, hi, description=f"{self.DESCRIPTIONS['average_odds_difference']}, "
                                                        f"largest in magnitude ({results[i].attr.name})")
        else:
            metrics["average_odds_difference"] = Metric(None, description=self.DESCRIPTIONS["average_odds_difference"])
        metrics["theil_index"] = self._theil(y, p, boot, conf, aif)
        metrics["theil_index"].description += (f"; favourable: {_text(labels[0])!r}" if favourable is not None else
                                               f"; {_text(labels[0])!r} taken as favourable (none declared)")
        consistency, n_consistency = self._consistency(ctx, out, p, params, seed, conf, aif)
        metrics["consistency"] = consistency
        metrics["groups_excluded"] = Metric(int(sum(int((r.attr.sizes < min_rows).sum()) for r in results)),
                                            description=f"groups with fewer than {min_rows} rows, left out of every disparity")
        metrics["groups_excluded_from_error_rates"] = Metric(
            int(sum(len(r.left_out) for r in results)) - metrics["groups_excluded"].value,
            description=f"groups with enough rows but fewer than {params['min_group_labels']} of a label, left out of the "
                        "true and false positive rate comparisons")
        sample = dict(prepared.sample)
        if n_consistency:
            sample["consistency_rows"] = n_consistency

        primary_flipped = orientations[0][0] != out.positive
        evidence = self._evidence(results, min_rows, conf, params, seed, favourable=labels[0], flipped=primary_flipped)
        if len(by_orientation) > 1:
            evidence.append(self._orientation_evidence(by_orientation, labels, conf, params))
        figure_rows = []
        for r in results:
            for name in ("demographic_parity_difference", "equalized_odds_difference"):
                est = r.estimates[name]
                if est is not None:
                    lo, hi = bootstrap_interval(est, r.boots[name], confidence=conf, method=params["interval"], limits=(0.0, 1.0))
                    figure_rows.append((f"{r.attr.name}: {name.replace('_', ' ').replace(' difference', '')}", est, lo, hi))
        figures = [interval_chart(
            "Disparities per sensitive attribute", figure_rows[:MAX_ROWS], xlabel="difference between groups",
            caption=f"Dots: estimates; bars: {conf:.0%} bootstrap intervals (rows resampled within groups); 0 is parity.",
        )] if figure_rows else []
        summary = self._summary(results, metrics, worst_attr, reasons, odds_reasons, min_rows, conf)
        di, w = metrics["disparate_impact_ratio"], worst_attr["disparate_impact_ratio"]
        if favourable is not None:
            summary = f"Selection rate = share predicted {_text(labels[0])!r}, the declared favourable outcome. " + summary
        elif w is not None:
            both = []
            for o, label in enumerate(labels):
                v = by_orientation[o][w].estimates["disparate_impact_ratio"]
                both.append(f"{v:.3f} with {_text(label)!r} favourable" if v is not None else f"not measurable with {_text(label)!r} favourable")
            summary = (f"No favourable outcome was declared (--favourable-label, or the policy's favourable_label): the "
                       f"disparate impact ratio depends on it ({_text(results[w].attr.name)}: {', '.join(both)}), so both "
                       f"orientations are judged and the worse counts ({di.value:.3f}). " + summary)
        return Findings(summary=summary,
                        metrics=metrics, evidence=evidence, figures=figures, sample=sample,
                        recommendation=(
                            "Decide which criterion the decision calls for (equal selection, or equal error rates for the "
                            "qualified and the unqualified) and document why; check labels and group representation in "
                            "training; mitigate with AIF360's Reweighing, fairlearn's ExponentiatedGradient or "
                            "ThresholdOptimizer, and audit again. Groups listed as too small need more data before any "
                            "claim about them."
                        ))

    # -- one attribute --------------------------------------------------------------
    @staticmethod
    def _odds_driver(r: _AttributeDisparity) -> str:
        """Which rate's range is the equalized odds difference, in words with its groups."""
        name, width, hi_name, hi, lo_name, lo = max(r.odds_ranges, key=lambda t: t[1])
        return f"{name} ({hi:.3f} for {hi_name}, {lo:.3f} for {lo_name})"

    def _attribute(self, attr, y, p, observed, boot, prepared, min_rows, min_labels, flm, aif, *,
                   flipped: bool = False) -> _AttributeDisparity:
        """One attribute's disparities with ``y``/``p`` = 1 for the favourable outcome; ``flipped``:
        that is the negative label, so the true and false positive rates here are, in the
        positive label's terms, the true and false negative rates."""
        n_groups = len(attr.groups)
        sg = stratum_groups(attr, prepared.strata, prepared.n_strata)
        g_obs = by_group(observed, sg, n_groups)
        g_boot = by_group(boot, sg, n_groups)
        r_obs, r_boot = _rates(g_obs), _rates(g_boot)
        table = cell_table(attr.codes, y, p)
        eligible = np.flatnonzero(attr.sizes >= min_rows)
        labels_ok = (g_obs[:, FN] + g_obs[:, TP] >= min_labels) & (g_obs[:, TN] + g_obs[:, FP] >= min_labels)
        odds_eligible = eligible[labels_ok[eligible]]
        names = list(self.COMBINED) + ["average_odds_difference"]
        estimates: dict[str, float | None] = {k: None for k in names}
        boots: dict[str, np.ndarray | None] = {k: None for k in names}
        sel_b, sel_o = r_boot["selection_rate"], r_obs["selection_rate"]
        tpr_b, fpr_b = r_boot["true_positive_rate"], r_boot["false_positive_rate"]
        tpr_o, fpr_o = r_obs["true_positive_rate"], r_obs["false_positive_rate"]
        pair = None
        odds_ranges: list[tuple[str, float, str, float, str, float]] = []
        if len(eligible) >= 2:
            t = table.only(eligible)
            kw = {"sensitive_features": t.group, "sample_weight": t.weight}
            estimates["demographic_parity_difference"] = float(flm.demographic_parity_difference(t.y, t.p, **kw))
            estimates["demographic_parity_ratio"] = _num(flm.demographic_parity_ratio(t.y, t.p, **kw))
            boots["demographic_parity_difference"] = _spread(sel_b, eligible)
            with np.errstate(divide="ignore", invalid="ignore"):
                boots["demographic_parity_ratio"] = sel_b[:, eligible].min(axis=1) / sel_b[:, eligible].max(axis=1)
                ratio_obs = sel_o[eligible].min() / sel_o[eligible].max()
            _agree(f"demographic parity difference ({attr.name})", float(_spread(sel_o, eligible)),
                   estimates["demographic_parity_difference"], "fairlearn")
            _agree(f"demographic parity ratio ({attr.name})", _num(ratio_obs), estimates["demographic_parity_ratio"], "fairlearn")
            # AIF360: least vs most selected group, the most selected as the privileged group.
            low_g = int(eligible[np.argmin(sel_o[eligible])])
            high_g = int(eligible[np.argmax(sel_o[eligible])])
            pair = (low_g, high_g)
            t = table.only(pair)
            kw = {"prot_attr": "group", "priv_group": high_g, "pos_label": 1, "sample_weight": t.weight}
            estimates["statistical_parity_difference"] = float(aif.statistical_parity_difference(t.labelled_series(), t.p, **kw))
            estimates["disparate_impact_ratio"] = _num(aif.disparate_impact_ratio(t.labelled_series(), t.p, zero_division=np.nan, **kw))
            # Each resample picks its own least and most selected groups, as the estimate did.
            boots["statistical_parity_difference"] = -boots["demographic_parity_difference"]
            boots["disparate_impact_ratio"] = boots["demographic_parity_ratio"]
            with np.errstate(divide="ignore", invalid="ignore"):
                di_obs = sel_o[low_g] / sel_o[high_g]
            _agree(f"statistical parity difference ({attr.name})", float(sel_o[low_g] - sel_o[high_g]),
                   estimates["statistical_parity_difference"], "AIF360")
            _agree(f"disparate impact ratio ({attr.name})", _num(di_obs), estimates["disparate_impact_ratio"], "AIF360")
            if labels_ok[low_g] and labels_ok[high_g]:
                estimates["average_odds_difference"] = float(aif.average_odds_difference(t.labelled_series(), t.p, **kw))
                boots["average_odds_difference"] = ((fpr_b[:, low_g] - fpr_b[:, high_g]) + (tpr_b[:, low_g] - tpr_b[:, high_g])) / 2
                _agree(f"average odds difference ({attr.name})",
                       float(((fpr_o[low_g] - fpr_o[high_g]) + (tpr_o[low_g] - tpr_o[high_g])) / 2),
                       estimates["average_odds_difference"], "AIF360")
        if len(odds_eligible) >= 2:
            t = table.only(odds_eligible)
            kw = {"sensitive_features": t.group, "sample_weight": t.weight}
            estimates["equalized_odds_difference"] = float(flm.equalized_odds_difference(t.y, t.p, **kw))
            estimates["equal_opportunity_difference"] = float(flm.equal_opportunity_difference(t.y, t.p, **kw))
            tpr_range, fpr_range = _spread(tpr_b, odds_eligible), _spread(fpr_b, odds_eligible)
            boots["equal_opportunity_difference"] = tpr_range
            boots["equalized_odds_difference"] = np.where(np.isfinite(tpr_range) & np.isfinite(fpr_range),
                                                          np.maximum(tpr_range, fpr_range), np.nan)
            _agree(f"equal opportunity difference ({attr.name})", float(_spread(tpr_o, odds_eligible)),
                   estimates["equal_opportunity_difference"], "fairlearn")
            _agree(f"equalized odds difference ({attr.name})",
                   float(max(_spread(tpr_o, odds_eligible), _spread(fpr_o, odds_eligible))),
                   estimates["equalized_odds_difference"], "fairlearn")
            rate_names = ("true negative rate", "false negative rate") if flipped else ("true positive rate", "false positive rate")
            for rate_name, values in zip(rate_names, (tpr_o, fpr_o)):
                hi_g = int(odds_eligible[np.argmax(values[odds_eligible])])
                lo_g = int(odds_eligible[np.argmin(values[odds_eligible])])
                odds_ranges.append((rate_name, float(values[hi_g] - values[lo_g]), _text(attr.groups[hi_g]),
                                    float(values[hi_g]), _text(attr.groups[lo_g]), float(values[lo_g])))

        per_group = []
        if pair is not None:
            high_g = pair[1]
            for g in eligible:
                spd = di = aod = None
                if g != high_g:
                    t = table.only((g, high_g))
                    kw = {"prot_attr": "group", "priv_group": high_g, "pos_label": 1, "sample_weight": t.weight}
                    spd = float(aif.statistical_parity_difference(t.labelled_series(), t.p, **kw))
                    di = _num(aif.disparate_impact_ratio(t.labelled_series(), t.p, zero_division=np.nan, **kw))
                    if labels_ok[g] and labels_ok[high_g]:
                        aod = float(aif.average_odds_difference(t.labelled_series(), t.p, **kw))
                per_group.append([_text(attr.name), _text(attr.groups[g]), int(attr.sizes[g]),
                                  int(g_obs[g, FN] + g_obs[g, TP]), _num(sel_o[g]), _num(tpr_o[g]), _num(fpr_o[g]),
                                  "reference" if g == high_g else spd, di, aod])
        left_out = [[_text(attr.name), _text(attr.groups[g]), int(attr.sizes[g]), int(g_obs[g, FN] + g_obs[g, TP]),
                     int(g_obs[g, TN] + g_obs[g, FP]),
                     f"fewer than {min_rows} rows: in no disparity" if attr.sizes[g] < min_rows
                     else f"fewer than {min_labels} rows of a label: in no error-rate disparity"]
                    for g in range(n_groups) if attr.sizes[g] < min_rows or not labels_ok[g]]
        return _AttributeDisparity(attr=attr, eligible=eligible, odds_eligible=odds_eligible, estimates=estimates,
                                   boots=boots, pair=pair, per_group=per_group, left_out=left_out, odds_ranges=odds_ranges)

    # -- whole-population measures ---------------------------------------------------
    @staticmethod
    def _theil(y, p, boot, conf, aif) -> Metric:
        estimate = float(aif.generalized_entropy_error(y, p, alpha=1, pos_label=1))
        totals = boot.sum(axis=1)  # (B, 4)
        benefit_counts = np.stack([totals[:, FN], totals[:, TN] + totals[:, TP], totals[:, FP]], axis=1)
        values = np.array([aif.generalized_entropy_index(np.repeat([0.0, 1.0, 2.0], c), alpha=1) for c in benefit_counts])
        observed = np.array([np.sum((y == 1) & (p == 0)), np.sum(y == p), np.sum((y == 0) & (p == 1))])
        _agree("Theil index", float(aif.generalized_entropy_index(np.repeat([0.0, 1.0, 2.0], observed), alpha=1)), estimate, "AIF360")
        low, high = _percentile_interval(values, conf)
        return Metric(estimate, low, high, description="Theil index of the benefit 1 + prediction - label over all test rows (AIF360; 0 is equal)")

    @staticmethod
    def _consistency(ctx, out, p, params, seed, conf, aif) -> tuple[Metric, int]:
        description = f"consistency: agreement of each prediction with its {params['n_neighbors']} nearest neighbours' (AIF360; 1 is consistent)"
        inputs = [c for c in ctx.features if c not in ctx.sensitive and c in ctx.frame("test").columns]
        n_rows = min(params["consistency_rows"], len(out))
        if not inputs or n_rows <= params["n_neighbors"]:
            why = "no inputs other than the sensitive features" if not inputs else "too few rows"
            return Metric(None, description=f"{description}; not computed: {why}"), 0
        from sklearn.neighbors import NearestNeighbors

        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(out), size=n_rows, replace=False))
        frame = ctx.frame("test").iloc[out.rows[pick]]
        X = _design_matrix(frame, inputs, max_levels=20)
        if X.shape[1] == 0:
            return Metric(None, description=f"{description}; not computed: the inputs carry no values"), 0
        labels = p[pick]
        estimate = float(aif.consistency_score(X, labels, n_neighbors=params["n_neighbors"]))
        # The per-row agreements behind the score, from the same neighbour search, for the interval.
        neighbours = NearestNeighbors(n_neighbors=params["n_neighbors"], algorithm="ball_tree").fit(X).kneighbors(X, return_distance=False)
        terms = 1.0 - np.abs(labels - labels[neighbours].mean(axis=1))
        _agree("consistency", float(terms.mean()), estimate, "AIF360")
        def mean(a, _b):
            return float(np.mean(a))

        mean.batched = lambda a, _b: a.mean(axis=-1)  # every resample at once
        _, low, high = bootstrap_ci(mean, terms, terms, n_resamples=params["n_resamples"],
                                    confidence=conf, random_state=seed)
        return Metric(estimate, low, high, description=f"{description}, {n_rows} sampled rows"), n_rows

    # -- presentation ----------------------------------------------------------------
    def _orientation_evidence(self, by_orientation, labels, conf, params) -> Evidence:
        """The measures that depend on which outcome is favourable, in both orientations."""
        rows = []
        for o, label in enumerate(labels):
            for r in by_orientation[o]:
                cells = []
                for name in self.ORIENTED:
                    est, b = r.estimates[name], r.boots[name]
                    lo, hi = (bootstrap_interval(est, b, confidence=conf, method=params["interval"], limits=self.LIMITS[name])
                              if b is not None and est is not None else (None, None))
                    cells.append(_ci_text(est, lo, hi))
                rows.append([_text(label), _text(r.attr.name), *cells])
        return Evidence(
            title="With each outcome taken as the favourable one",
            columns=["favourable outcome", "attribute", *[n.replace("_", " ") for n in self.ORIENTED]],
            rows=rows[:MAX_ROWS],
            note=("No favourable outcome was declared, and these measures change with it (a selection rate s becomes "
                  "1 - s): each is judged at the worse of the two. Declare the outcome that benefits the person with "
                  "--favourable-label or the policy's favourable_label."),
        )

    def _evidence(self, results, min_rows, conf, params, seed, *, favourable: Any = None, flipped: bool = False) -> list[Evidence]:
        def cell(r: _AttributeDisparity, name: str) -> str:
            est = r.estimates[name]
            lo, hi = (bootstrap_interval(est, r.boots[name], confidence=conf, method=params["interval"],
                                         limits=self.LIMITS.get(name, (-1.0, 1.0)))
                      if r.boots[name] is not None and est is not None else (None, None))
            return _ci_text(est, lo, hi)

        rows = []
        for r in results:
            pair = "" if r.pair is None else f"{_text(r.attr.groups[r.pair[0]])} vs {_text(r.attr.groups[r.pair[1]])}"
            rows.append([_text(r.attr.name), len(r.eligible), cell(r, "demographic_parity_difference"),
                         cell(r, "equalized_odds_difference"), cell(r, "equal_opportunity_difference"),
                         cell(r, "disparate_impact_ratio"), cell(r, "statistical_parity_difference"),
                         cell(r, "average_odds_difference"), pair])
        evidence = [Evidence(
            title="Disparities per sensitive attribute",
            columns=["attribute", "groups compared", "demographic parity difference", "equalized odds difference",
                     "equal opportunity difference", "disparate impact ratio", "statistical parity difference",
                     "average odds difference", "least vs most selected"],
            rows=rows[:MAX_ROWS],
            note=(f"Estimate ({conf:.0%} interval). fairlearn for the first three, AIF360 (least vs most selected group) "
                  f"for the rest; bootstrap within groups, {params['n_resamples']} resamples, seed {seed}."),
        )]
        per_group = [row for r in results for row in r.per_group]
        if per_group:
            evidence.append(Evidence(
                title="Each group against the most selected group (AIF360)",
                columns=["attribute", "group", "rows", f"labels {_text(favourable)!r}", "selection rate",
                         "true negative rate" if flipped else "true positive rate",
                         "false negative rate" if flipped else "false positive rate",
                         "statistical parity difference", "disparate impact ratio", "average odds difference"],
                rows=per_group[:MAX_ROWS],
                note=f"Groups with at least {min_rows} rows. Selection rate = share predicted {_text(favourable)!r}; "
                     f"reference: the group most often predicted {_text(favourable)!r}."
                     + (f" Showing {MAX_ROWS} of {len(per_group)}." if len(per_group) > MAX_ROWS else ""),
            ))
        left_out = [row for r in results for row in r.left_out]
        if left_out:
            evidence.append(Evidence(
                title="Groups left out",
                columns=["attribute", "group", "rows", f"labels {_text(favourable)!r}", "other labels", "why"],
                rows=left_out[:MAX_ROWS],
                note="Too few rows to estimate their rates; never averaged into another group."
                     + (f" Showing {MAX_ROWS} of {len(left_out)}." if len(left_out) > MAX_ROWS else ""),
            ))
        return evidence

    @staticmethod
    def _summary(results, metrics, worst_attr, reasons, odds_reasons, min_rows, conf) -> str:
        dpd, di, eod = (metrics[k] for k in ("demographic_parity_difference", "disparate_impact_ratio", "equalized_odds_difference"))
        names = ", ".join(_text(r.attr.name) for r in results)
        if dpd.value is None:
            return f"Inconclusive: no attribute can be measured: {'; '.join(reasons)}."
        w = results[worst_attr["demographic_parity_difference"]]
        sel = {row[1]: row[4] for row in w.per_group}
        low_name, high_name = (_text(w.attr.groups[g]) for g in w.pair)
        text = (
            f"Across {names}: the largest demographic parity difference is {_ci_text(dpd.value, dpd.ci_low, dpd.ci_high)} "
            f"({_text(w.attr.name)}: selection rate {sel.get(high_name, 0):.3f} for {high_name}, {sel.get(low_name, 0):.3f} "
            f"for {low_name}); the lowest disparate impact ratio is {_ci_text(di.value, di.ci_low, di.ci_high)}"
        )
        if eod.value is not None:
            text += (
                f"; the largest equalized odds difference is {_ci_text(eod.value, eod.ci_low, eod.ci_high)} "
                f"({_text(results[worst_attr['equalized_odds_difference']].attr.name)})"
            )
        text += f" ({conf:.0%} intervals)."
        if reasons or odds_reasons:
            text += " Not measurable: " + "; ".join(reasons + odds_reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            text += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'was' if excluded == 1 else 'were'} left out."
        few = metrics["groups_excluded_from_error_rates"].value
        if few:
            text += f" {wording.count(few, 'group')} with too few rows of a label {'was' if few == 1 else 'were'} left out of the error-rate comparisons."
        return text
