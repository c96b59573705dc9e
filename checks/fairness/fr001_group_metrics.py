"""FR001 group-metrics: the model's metrics in each group."""

from __future__ import annotations

import warnings
from functools import partial

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import interval_chart
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
    Prepared,
    _agree,
    _ci_text,
    _fairlearn_metrics,
    _members,
    _num,
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
    resample_rows,
    stratum_groups,
)

np = lazy_module("numpy")


# Regression's relative error gap has no natural ceiling; an attribute that cannot be measured
# widens the interval up to this value (a policy cannot set a fail level above it).
RELATIVE_GAP_BOUND = 10.0


# The rates FR001 lays out per group for a binary task: name -> (numerator cells, denominator
# cells, what it is). Error rates are those of the positive label; the selection rate counts
# the favourable outcome (see ``favourable_cells``).
BINARY_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "selection_rate": ((FP, TP), (TN, FP, FN, TP), "share predicted favourable"),
    "true_positive_rate": ((TP,), (FN, TP), "positives predicted positive"),
    "false_positive_rate": ((FP,), (TN, FP), "negatives predicted positive"),
    "false_negative_rate": ((FN,), (FN, TP), "positives predicted negative"),
    "true_negative_rate": ((TN,), (TN, FP), "negatives predicted negative"),
    "precision": ((TP,), (FP, TP), "predicted positives that are positive"),
    "accuracy": ((TN, TP), (TN, FP, FN, TP), "predictions that are right"),
}
# The error-rate gaps FR001 judges (FR002's equalized odds is the larger of the two ranges).
JUDGED_RATE_GAPS = {"false_positive_rate": "max_false_positive_rate_gap",
                    "false_negative_rate": "max_false_negative_rate_gap"}


def wilson_intervals(count: np.ndarray, nobs: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of proportions (NaN where there is no row to count); a
    bootstrap interval of a rate of 0 or 1 collapses to a point, the score interval does not."""
    from statsmodels.stats.proportion import proportion_confint

    count, nobs = np.asarray(count, dtype="float64"), np.asarray(nobs, dtype="float64")
    low, high = np.full(count.shape, np.nan), np.full(count.shape, np.nan)
    ok = nobs > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(count[ok], nobs[ok], alpha=1 - confidence, method="wilson")
    return low, high


class GroupMetrics(Check):
    """The model's metrics in each group

    What it checks:
        For each sensitive feature and, with two or more, each intersection of them
        (``max_order``), the model's test metrics in every group, computed with
        fairlearn's ``MetricFrame``. Binary tasks: rows, positive labels, selection rate,
        true and false positive rates, false negative and true negative rates, precision
        and accuracy, each with its Wilson score interval (which, unlike a bootstrap, does
        not collapse to a point at a rate of 0 or 1), and for each rate the highest and
        the lowest group with their difference (bootstrap interval) and ratio. The error
        rates are those of the positive label; the selection rate counts the favourable
        outcome when one is declared (``--favourable-label``), the positive label
        otherwise, and the evidence says which. Multiclass tasks: rows and accuracy only,
        since there is no positive class whose rates would mean anything (one-vs-rest
        rates for each class would multiply the table without changing the verdict).
        Regression: rows, mean absolute error and root mean squared error.

        Groups with fewer than ``min_group_rows`` rows are shown, flagged and left out of
        the comparison. The judged metric is ``max_accuracy_gap``: the largest accuracy
        minus the smallest over the groups compared, the worst over all attributes, with a
        bootstrap interval (rows resampled within each group, ``n_resamples``; each
        resample takes the worst attribute again, so the interval is that of the maximum;
        ``interval: bias_corrected`` moves the percentile interval back by the bootstrap's
        estimate of the bias that a largest gap carries). It warns above 0.05 and fails
        above 0.10; an interval that contains 0.10 reads inconclusive, as does an
        attribute with fewer than two groups large enough (its interval is widened to 1).
        Binary tasks also judge the error-rate gaps, since equal accuracy can hide one
        group's mistakes being false alarms and another's misses:
        ``max_false_positive_rate_gap`` and ``max_false_negative_rate_gap`` (largest minus
        smallest group rate over groups with at least ``min_group_labels`` rows of each
        label, worst attribute, the same bootstrap): warn above 0.10, fail above 0.20, the
        levels of FR002's equalized odds difference, which is the larger of the two.
        Regression judges ``max_relative_mae_gap`` instead, the largest group mean
        absolute error minus the smallest, divided by the overall one (scale-free): warn
        above 0.10, fail above 0.25.

    Why it matters:
        An overall score averages over people. A model can be accurate on the majority and
        much worse on a minority, and the average hides it; the per-group table is the
        first thing a reviewer asks for (fairness as performance parity).

    How to fix:
        Look at where the gap comes from: a group with few training rows (collect more, or
        reweight), features that are less informative for one group, or labels of
        different quality. Then consider mitigation, such as fairlearn's
        ThresholdOptimizer or ExponentiatedGradient, or AIF360's Reweighing, and measure
        again: closing one gap can widen another.

    References:
        P8.1 and P4.3 of the practices; Bird et al. (2020), Fairlearn: a toolkit for
        assessing and improving fairness in AI, Microsoft MSR-TR-2020-32 (MetricFrame);
        Buolamwini & Gebru (2018), Gender shades: intersectional accuracy disparities in
        commercial gender classification, FAT*; Efron & Tibshirani (1993), An
        Introduction to the Bootstrap.
    """

    id = "FR001"
    name = "group-metrics"
    area = "fairness"
    severity = "medium"
    needs = frozenset({"test", "predictions", "sensitive"})
    params = {
        **_SENSITIVE_PARAMS,
        "n_resamples": Param(default=500, kind="int", low=50, high=10000, help="bootstrap resamples"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
        "interval": _INTERVAL_PARAM,
        "min_group_labels": Param(default=10, kind="int", low=1, high=1_000_000,
                                  help="binary: rows of each label a group needs to enter the error-rate gaps"),
        "max_rows": Param(default=100_000, kind="int", low=100, help="test rows used at most (a seeded sample above)"),
    }
    thresholds = {
        "max_accuracy_gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                                      help="largest minus smallest group accuracy, worst attribute"),
        "max_false_positive_rate_gap": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                                 help="binary: largest minus smallest group false positive rate, worst attribute"),
        "max_false_negative_rate_gap": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                                 help="binary: largest minus smallest group false negative rate, worst attribute"),
        "max_relative_mae_gap": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=RELATIVE_GAP_BOUND,
                                          help="regression: (largest - smallest group MAE) / overall MAE, worst attribute"),
    }
    practices = ("P8.1", "P4.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Bird et al. (2020), Fairlearn: a toolkit for assessing and improving fairness in AI, MSR-TR-2020-32",
        "Buolamwini & Gebru (2018), Gender shades, FAT*",
        "https://fairlearn.org/main/user_guide/assessment/index.html",
    )

    def run(self, ctx, params):
        prepared = _prepare(ctx, params, self.id)
        if isinstance(prepared, Findings):
            return prepared
        flm = _fairlearn_metrics()
        from sklearn.metrics import (
            accuracy_score,
            mean_absolute_error,
            root_mean_squared_error,
        )

        out, attrs = prepared.out, prepared.attributes
        if out.task == "binary":
            return self._binary(ctx, params, prepared, flm)
        rng = ctx.rng(self.id)
        min_rows, conf = params["min_group_rows"], params["confidence"]
        regression = out.task == "regression"
        if out.task == "multiclass":
            y, p = out.y, out.pred
            metric_fns = {"accuracy": accuracy_score}
        else:
            y, p = out.y.astype(float), out.pred.astype(float)
            metric_fns = {"mae": mean_absolute_error, "rmse": root_mean_squared_error}
        judged_name = "mae" if regression else "accuracy"

        frames = []
        for attr in attrs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a group with one class gives sklearn's ill-defined warnings
                if regression:
                    mf = flm.MetricFrame(metrics=metric_fns, y_true=y, y_pred=p, sensitive_features=attr.codes)
                else:
                    t = cell_table(attr.codes, y, p)
                    mf = flm.MetricFrame(metrics=metric_fns, y_true=t.y, y_pred=t.p, sensitive_features=t.group,
                                         sample_params={k: {"sample_weight": t.weight} for k in metric_fns})
            frames.append(mf.by_group)

        # Bootstrap: per-group accuracy (or MAE) in each resample, rows drawn within the finest strata.
        per_group_boot: list[np.ndarray] = []  # (B, groups) per attribute
        overall_boot = None
        if regression:
            absolute = np.abs(y - p)
            members = _members(prepared.strata, prepared.n_strata)
            overall_boot = np.empty(params["n_resamples"])
            sums = [np.empty((params["n_resamples"], len(a.groups))) for a in attrs]
            for b in range(params["n_resamples"]):
                # position i of the resample holds a row of i's stratum, hence of i's group
                drawn = absolute[resample_rows(prepared.strata, rng, members)]
                overall_boot[b] = drawn.mean()
                for ai, attr in enumerate(attrs):
                    sums[ai][b] = np.bincount(attr.codes, weights=drawn, minlength=len(attr.groups))
            per_group_boot = [total / np.maximum(attr.sizes, 1) for total, attr in zip(sums, attrs)]
        else:
            correct = (y == p).astype(np.int64)
            observed = cell_counts(prepared.strata, correct, prepared.n_strata, 2)
            boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)
            for attr in attrs:
                g = by_group(boot, stratum_groups(attr, prepared.strata, prepared.n_strata), len(attr.groups))
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_group_boot.append(g[..., 1] / g.sum(axis=-1))

        estimates, boots, reasons = [], [], []
        eligible_by_attr = []
        overall_mae = float(np.mean(np.abs(y - p))) if regression else None
        for attr, table, gboot in zip(attrs, frames, per_group_boot):
            eligible = np.flatnonzero(attr.sizes >= min_rows)
            eligible_by_attr.append(eligible)
            values = table[judged_name].reindex(range(len(attr.groups))).to_numpy(dtype="float64")
            if len(eligible) < 2:
                estimates.append(None)
                boots.append(None)
                reasons.append(_undecidable_reason(attr, eligible, min_rows))
                continue
            gap = float(values[eligible].max() - values[eligible].min())
            stat = _spread(gboot, eligible)
            if regression:
                gap = gap / overall_mae if overall_mae > 0 else None
                stat = stat / np.where(overall_boot > 0, overall_boot, np.nan)
            estimates.append(gap)
            boots.append(stat)
            # fairlearn's per-group values and the bootstrap's agree on the observed rows
            if not regression:
                counts = by_group(cell_counts(prepared.strata, (y == p).astype(np.int64), prepared.n_strata, 2),
                                  stratum_groups(attr, prepared.strata, prepared.n_strata), len(attr.groups))
                _agree(f"accuracy gap ({attr.name})", float(_spread(counts[..., 1] / counts.sum(-1), eligible)), gap,
                       "fairlearn MetricFrame")
        metric_name = "max_relative_mae_gap" if regression else "max_accuracy_gap"
        value, low, high, worst = combine_worst(estimates, boots, worst="max", undecided=bool(reasons),
                                                bound=RELATIVE_GAP_BOUND if regression else 1.0, confidence=conf,
                                                method=params["interval"], limits=(0.0, RELATIVE_GAP_BOUND if regression else 1.0))
        what = "(largest - smallest group MAE) / overall MAE" if regression else "largest minus smallest group accuracy"
        metrics = {
            metric_name: Metric(value, low, high, description=f"{what}, worst attribute ({conf:.0%} bootstrap interval of the maximum)"
                                + ("; widened: an attribute has fewer than two groups large enough" if reasons else "")),
            "groups": Metric(int(sum(len(a.groups) for a in attrs)), description="groups and intersections measured"),
            "groups_excluded": Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                      description=f"groups with fewer than {min_rows} rows, left out of the comparison"),
        }
        if regression:
            metrics["overall_mae"] = Metric(overall_mae, description="mean absolute error over all test rows")

        columns = ["attribute", "group", "rows"] + [k.replace("_", " ") for k in metric_fns] + [
            f"{judged_name} CI low", f"{judged_name} CI high", f"below {min_rows} rows"]
        rows, figure_rows = [], []
        for attr, table, gboot in zip(attrs, frames, per_group_boot):
            for g, group in enumerate(attr.groups):
                record = table.loc[g] if g in table.index else None
                values = [None if record is None else _num(record[k]) for k in metric_fns]
                est = None if record is None else _num(record[judged_name])
                lo, hi = (None, None) if est is None else bootstrap_interval(
                    est, gboot[:, g], confidence=conf, method=params["interval"], limits=(0.0, np.inf if regression else 1.0))
                rows.append([_text(attr.name), _text(group), int(attr.sizes[g]), *values, lo, hi,
                             "yes" if attr.sizes[g] < min_rows else ""])
                if est is not None:
                    figure_rows.append((f"{attr.name}: {group}", est, lo, hi))
        total_rows = len(rows)
        note = (f"fairlearn MetricFrame; intervals: bootstrap within groups, {params['n_resamples']} resamples, "
                f"seed {ctx.seed_for(self.id)}.")
        if total_rows > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {total_rows} groups."
        evidence = [Evidence(title="Metrics per group", columns=columns, rows=rows[:MAX_ROWS], note=note)]
        figures = [interval_chart(
            f"{'Mean absolute error' if regression else 'Accuracy'} per group",
            figure_rows[:MAX_ROWS], xlabel="mean absolute error" if regression else "accuracy",
            caption=f"Dots: estimates on the test rows; bars: {conf:.0%} bootstrap intervals (rows resampled within groups).",
        )] if figure_rows else []

        if value is None:
            summary = "Could not compare groups: " + "; ".join(reasons) + "."
        else:
            attr = attrs[worst]
            table = frames[worst].reindex(range(len(attr.groups)))
            eligible = eligible_by_attr[worst]
            vals = table[judged_name].to_numpy(dtype="float64")
            hi_g, lo_g = eligible[np.argmax(vals[eligible])], eligible[np.argmin(vals[eligible])]
            if regression:
                summary = (f"The mean absolute error differs most across {_text(attr.name)}: from {vals[lo_g]:.4g} "
                           f"({_text(attr.groups[lo_g])}) to {vals[hi_g]:.4g} ({_text(attr.groups[hi_g])}), a gap of "
                           f"{_ci_text(value, low, high)} of the overall {overall_mae:.4g}.")
            else:
                summary = (f"Accuracy differs most across {_text(attr.name)}: {vals[hi_g]:.3f} for {_text(attr.groups[hi_g])} "
                           f"and {vals[lo_g]:.3f} for {_text(attr.groups[lo_g])}, a gap of {_ci_text(value, low, high)}.")
            if reasons:
                summary += " Not measurable: " + "; ".join(reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            summary += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'is' if excluded == 1 else 'are'} shown but not compared."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=figures,
            recommendation=(
                "Find where the gap comes from (group size in training, feature quality, label quality) before mitigating; "
                "then try fairlearn's ThresholdOptimizer or ExponentiatedGradient, or AIF360's Reweighing, and measure again."
            ),
            sample=prepared.sample,
        )


    # -- binary tasks: every rate per group, the error-rate gaps judged ---------------
    def _binary(self, ctx, params, prepared: Prepared, flm) -> Findings:
        from sklearn.metrics import accuracy_score, precision_score

        out, attrs = prepared.out, prepared.attributes
        rng = ctx.rng(self.id)
        min_rows, min_labels, conf = params["min_group_rows"], params["min_group_labels"], params["confidence"]
        y = (out.y == out.positive).astype(np.int64)
        p = (out.pred == out.positive).astype(np.int64)
        favourable, orientation = favourable_outcome(ctx, out.positive)
        selected = (FP, TP) if favourable is None or favourable == out.positive else (TN, FN)
        rates = dict(BINARY_RATES)
        rates["selection_rate"] = (selected, rates["selection_rate"][1], rates["selection_rate"][2])
        metric_fns = {
            "selection_rate": partial(flm.selection_rate, pos_label=1 if selected == (FP, TP) else 0),
            "true_positive_rate": partial(flm.true_positive_rate, pos_label=1),
            "false_positive_rate": partial(flm.false_positive_rate, pos_label=1),
            "false_negative_rate": partial(flm.false_negative_rate, pos_label=1),
            "true_negative_rate": partial(flm.true_negative_rate, pos_label=1),
            "precision": partial(precision_score, zero_division=np.nan),
            "accuracy": accuracy_score,
        }
        observed = cell_counts(prepared.strata, 2 * y + p, prepared.n_strata, 4)
        boot = resample_cell_counts(observed, n_resamples=params["n_resamples"], rng=rng)

        def rate(counts: np.ndarray, name: str) -> np.ndarray:
            num, den = rates[name][0], rates[name][1]
            top, bottom = counts[..., list(num)].sum(-1).astype("float64"), counts[..., list(den)].sum(-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(bottom > 0, top / np.maximum(bottom, 1), np.nan)

        per_attr = []  # (g_obs, g_boot, eligible, rate-eligible) per attribute
        group_rows, gap_rows, figure_rows = [], [], []
        estimates: dict[str, list] = {m: [] for m in ("accuracy", *JUDGED_RATE_GAPS)}
        boots: dict[str, list] = {m: [] for m in estimates}
        reasons, rate_reasons = [], []
        for attr in attrs:
            sg = stratum_groups(attr, prepared.strata, prepared.n_strata)
            g_obs, g_boot = by_group(observed, sg, len(attr.groups)), by_group(boot, sg, len(attr.groups))
            eligible = np.flatnonzero(attr.sizes >= min_rows)
            labels_ok = (g_obs[:, FN] + g_obs[:, TP] >= min_labels) & (g_obs[:, TN] + g_obs[:, FP] >= min_labels)
            rate_eligible = eligible[labels_ok[eligible]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a group with one class gives sklearn's ill-defined warnings
                t = cell_table(attr.codes, y, p)
                table = flm.MetricFrame(metrics=metric_fns, y_true=t.y, y_pred=t.p, sensitive_features=t.group,
                                        sample_params={k: {"sample_weight": t.weight} for k in metric_fns}).by_group
            table = table.reindex(range(len(attr.groups)))
            for name in metric_fns:  # fairlearn's numbers and the counts' agree on the observed rows
                for g in eligible:
                    _agree(f"{name} ({attr.name}: {attr.groups[g]})", _num(rate(g_obs[g], name)), _num(table.loc[g, name]),
                           "fairlearn MetricFrame")
            per_attr.append((g_obs, g_boot, eligible, rate_eligible, table))
            if len(eligible) < 2:
                reasons.append(_undecidable_reason(attr, eligible, min_rows))
                estimates["accuracy"].append(None)
                boots["accuracy"].append(None)
            else:
                estimates["accuracy"].append(float(_spread(rate(g_obs, "accuracy"), eligible)))
                boots["accuracy"].append(_spread(rate(g_boot, "accuracy"), eligible))
            if len(rate_eligible) < 2:
                if len(eligible) >= 2:
                    rate_reasons.append(f"{_text(attr.name)} has fewer than two groups with {min_labels} rows of each label")
                for name in JUDGED_RATE_GAPS:
                    estimates[name].append(None)
                    boots[name].append(None)
            else:
                for name in JUDGED_RATE_GAPS:
                    estimates[name].append(float(_spread(rate(g_obs, name), rate_eligible)))
                    boots[name].append(_spread(rate(g_boot, name), rate_eligible))

            # the per-group table: every rate with its score interval
            for g, group in enumerate(attr.groups):
                cells = g_obs[g]
                row = [_text(attr.name), _text(group), int(attr.sizes[g]), int(cells[FN] + cells[TP])]
                for name in metric_fns:
                    num, den = rates[name][0], rates[name][1]
                    k, n = int(cells[list(num)].sum()), int(cells[list(den)].sum())
                    lo, hi = wilson_intervals(np.array([k]), np.array([n]), conf)
                    row.append(f"{k / n:.3f} ({lo[0]:.3f}–{hi[0]:.3f})" if n else "—")
                row.append("" if g in rate_eligible else f"< {min_rows} rows" if attr.sizes[g] < min_rows
                           else f"< {min_labels} of a label")
                group_rows.append(row)
                if g in eligible:
                    acc = float(rate(cells, "accuracy"))
                    lo, hi = wilson_intervals(np.array([cells[TN] + cells[TP]]), np.array([cells.sum()]), conf)
                    figure_rows.append((f"{attr.name}: {group}", acc, _num(lo[0]), _num(hi[0])))
            # the gaps: for each rate, the highest and the lowest group, difference and ratio
            for name in metric_fns:
                among = eligible if name in ("selection_rate", "accuracy", "precision") else rate_eligible
                values = rate(g_obs, name)
                among = among[np.isfinite(values[among])]
                if len(among) < 2:
                    continue
                hi_g, lo_g = int(among[np.argmax(values[among])]), int(among[np.argmin(values[among])])
                diff = float(values[hi_g] - values[lo_g])
                d_lo, d_hi = bootstrap_interval(diff, _spread(rate(g_boot, name), among), confidence=conf,
                                                method=params["interval"], limits=(0.0, 1.0))
                ratio = float(values[lo_g] / values[hi_g]) if values[hi_g] > 0 else None
                gap_rows.append([_text(attr.name), name.replace("_", " "),
                                 f"{_text(attr.groups[hi_g])}: {values[hi_g]:.3f}", f"{_text(attr.groups[lo_g])}: {values[lo_g]:.3f}",
                                 _ci_text(diff, d_lo, d_hi), None if ratio is None else round(ratio, 3), len(among)])

        metrics: dict[str, Metric] = {}
        worst: dict[str, int | None] = {}
        for name, metric_name, words in (
            ("accuracy", "max_accuracy_gap", "largest minus smallest group accuracy"),
            ("false_positive_rate", "max_false_positive_rate_gap", "largest minus smallest group false positive rate"),
            ("false_negative_rate", "max_false_negative_rate_gap", "largest minus smallest group false negative rate"),
        ):
            undecided = bool(reasons or (name != "accuracy" and rate_reasons))
            value, low, high, w = combine_worst(estimates[name], boots[name], worst="max", undecided=undecided, bound=1.0,
                                                confidence=conf, method=params["interval"], limits=(0.0, 1.0))
            worst[name] = w
            metrics[metric_name] = Metric(value, low, high, description=(
                f"{words}, worst attribute ({conf:.0%} bootstrap interval of the maximum)"
                + (f"; groups with at least {min_labels} rows of each label" if name != "accuracy" else "")
                + ("; widened: an attribute has fewer than two groups large enough" if undecided else "")))
        metrics["groups"] = Metric(int(sum(len(a.groups) for a in attrs)), description="groups and intersections measured")
        metrics["groups_excluded"] = Metric(int(sum(int((a.sizes < min_rows).sum()) for a in attrs)),
                                            description=f"groups with fewer than {min_rows} rows, left out of the comparison")

        columns = ["attribute", "group", "rows", "positive labels"] + [k.replace("_", " ") for k in metric_fns] + ["left out"]
        note = (f"Estimate (Wilson {conf:.0%} score interval). {orientation[0].upper() + orientation[1:]}. The error rates "
                f"are those of the positive label {_text(ctx.positive_label)!r}. Left out: groups with fewer than {min_rows} "
                f"rows, or fewer than {min_labels} rows of either label, are shown but not compared. fairlearn MetricFrame.")
        if len(group_rows) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(group_rows)} groups."
        evidence = [
            Evidence(title="Rates per group", columns=columns, rows=group_rows[:MAX_ROWS], note=note),
            Evidence(title="Gaps between groups", columns=["attribute", "rate", "highest", "lowest", "difference",
                                                           "ratio (lowest / highest)", "groups compared"],
                     rows=gap_rows[:MAX_ROWS],
                     note=(f"Difference: highest minus lowest group, with its {conf:.0%} bootstrap interval (rows resampled "
                           f"within groups, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}). Error rates "
                           f"compare groups with at least {min_labels} rows of each label."
                           + (f" Showing {MAX_ROWS} of {len(gap_rows)}." if len(gap_rows) > MAX_ROWS else ""))),
        ]
        figures = [interval_chart(
            "Accuracy per group", figure_rows[:MAX_ROWS], xlabel="accuracy",
            caption=f"Dots: estimates on the test rows; bars: Wilson {conf:.0%} score intervals.",
        )] if figure_rows else []

        acc = metrics["max_accuracy_gap"]
        if acc.value is None:
            summary = "Could not compare groups: " + "; ".join(reasons) + "."
        else:
            parts = []
            for name, label in (("accuracy", "Accuracy"), ("false_positive_rate", "the false positive rate"),
                                ("false_negative_rate", "the false negative rate")):
                w = worst[name]
                if w is None:
                    continue
                attr = attrs[w]
                g_obs, _, eligible, rate_eligible, _ = per_attr[w]
                among = eligible if name == "accuracy" else rate_eligible
                values = rate(g_obs, name)
                hi_g, lo_g = among[np.argmax(values[among])], among[np.argmin(values[among])]
                m = metrics["max_accuracy_gap" if name == "accuracy" else JUDGED_RATE_GAPS[name]]
                parts.append(f"{label} differs most across {_text(attr.name)}: {values[hi_g]:.3f} for {_text(attr.groups[hi_g])} "
                             f"and {values[lo_g]:.3f} for {_text(attr.groups[lo_g])}, a gap of {_ci_text(m.value, m.ci_low, m.ci_high)}")
            summary = "; ".join(parts) + "."
            summary = summary[0].upper() + summary[1:]
            if reasons or rate_reasons:
                summary += " Not measurable: " + "; ".join(reasons + rate_reasons) + "."
        excluded = metrics["groups_excluded"].value
        if excluded:
            summary += f" {wording.count(excluded, 'group')} with fewer than {min_rows} rows {'is' if excluded == 1 else 'are'} shown but not compared."
        summary += f" {orientation[0].upper() + orientation[1:]}."
        return Findings(
            summary=summary, metrics=metrics, evidence=evidence, figures=figures, sample=prepared.sample,
            recommendation=(
                "Find where a gap comes from (group size in training, feature quality, label quality) before mitigating. "
                "Unequal false positive or false negative rates mean the model's mistakes fall more on one group: decide "
                "which error costs the people concerned more, then try fairlearn's ThresholdOptimizer (per-group thresholds "
                "for equal error rates) or ExponentiatedGradient, or AIF360's Reweighing, and measure again."
            ),
        )
