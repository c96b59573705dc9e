"""RB001 noise-sensitivity: sensitivity of predictions to small noise on numeric features."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import primary_metric
from auditor.toolkit.figures import label, new_figure, to_svg
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    NO_ROWS,
    _bounds,
    _call_blocks,
    _change_metric,
    _changes,
    _domain,
    _draw_sample,
    _few_rows,
    _floats,
    _fmt,
    _like,
    _mutable,
    _rate_text,
    _rate_word,
    _reference,
    _score,
    _skip,
    _spread,
    _target_spread,
    _tied,
)

np = lazy_module("numpy")


def _within(values: np.ndarray, original: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip perturbed values to the declared bounds; a value already outside them is left as it was."""
    inside = (original >= low) & (original <= high)
    return np.where(inside | np.isnan(original), np.clip(values, low, high), original)


class NoiseSensitivity(Check):
    """Sensitivity of predictions to small noise on numeric features

    What it checks:
        Adds Gaussian noise to every mutable numeric feature of a seeded sample of test
        rows, at several levels (``levels``, default 0.01, 0.05, 0.1 and 0.25). A level
        is a multiple of each feature's spread in the training data: IQR / 1.349, which
        equals the standard deviation for normal data and is not inflated by outliers.
        A feature whose IQR is 0 (most values tied, as capital gains are at zero) is left
        alone and listed: noise scaled by its standard deviation would move the tied
        values to values the data never holds, so it would measure the model off its
        data's support. The same standard-normal draws are scaled for every level, so the
        curve is smooth. Perturbed values are clipped to the policy's declared ``min`` /
        ``max``, integer columns are rounded back to integers, immutable features and
        constant ones are left alone. Per level: the flip rate (the share of rows whose
        predicted label changes; for regression, the mean absolute change of the
        prediction in units of the target's spread) and the primary metric (balanced
        accuracy or R²), drawn as a degradation curve. Judged: the flip rate at
        ``judge_level`` (0.05 spread: noise far below any feature's natural variation,
        the size of a rounding or measurement error), with a Wilson interval: warn
        above 0.05, fail above 0.15. A smooth model flips only rows within that noise of
        its decision boundary (about 1-3% for a logistic model on typical data; a
        linear regression moves by at most 0.04 of the target's spread at 0.05); a
        model that has memorised noise (a 1-nearest-neighbour or an unpruned tree on
        noisy labels) flips many times more.

    Why it matters:
        Inputs are never measured exactly. A model whose decisions change under noise
        the size of a measurement error gives different answers to the same case from
        one day to the next, and such brittleness usually means it has fitted noise in
        its training data.

    How to fix:
        Regularise (shallower trees, larger leaves, fewer boosting rounds, weight decay,
        larger k for neighbours), smooth the decision function (ensembles), train with
        noise augmentation, and remove noisy or redundant features.

    References:
        Hendrycks & Dietterich (2019), Benchmarking neural network robustness to common
        corruptions and perturbations, ICLR.
        Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with
        CheckList, ACL (invariance tests).
    """

    id = "RB001"
    name = "noise-sensitivity"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "levels": Param(default=[0.01, 0.05, 0.1, 0.25], kind="list",
                        help="noise standard deviations, as multiples of each feature's spread"),
        "judge_level": Param(default=0.05, kind="float", low=1e-6, high=10.0,
                             help="the noise level whose flip rate is judged (added to the levels if absent)"),
    }
    thresholds = {
        "flip_rate_small_noise": Threshold(
            direction="above", warn=0.05, fail=0.15, low=0,
            help="share of predictions that flip under noise of judge_level x spread (regression: mean change / target spread)"),
    }
    practices = ("P3.3", "P1.6", "P7.2")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Hendrycks & Dietterich (2019), Benchmarking neural network robustness to common corruptions and perturbations, ICLR",
        "Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with CheckList, ACL",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        levels = params["levels"]
        if not levels or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in levels):
            raise ValueError(f"params.levels of RB001 must be a non-empty list of positive numbers; got {levels!r}.")
        judge_level = float(params["judge_level"])
        levels = sorted({float(v) for v in levels} | {judge_level})
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        numeric = [c for c in ctx.features if _is_numeric(s.X[c])]
        immutable = [c for c in numeric if not _mutable(ctx, c)]
        spreads = {c: _spread(ref[c]) for c in numeric if c not in immutable and c in ref.columns}
        constant = [c for c, v in spreads.items() if v <= 0]
        # A column whose middle half is one value (a spike at zero: capital gains) has no robust
        # spread; noise scaled by its standard deviation would move the spike to values the data
        # never holds, measuring the model off its data's support (as EX005 also leaves them out).
        tied = [c for c, v in spreads.items() if v > 0 and _tied(ref[c])]
        cols = [c for c, v in spreads.items() if v > 0 and c not in tied]
        if not cols:
            why = "; ".join(w for w in (f"{len(immutable)} declared immutable" if immutable else "",
                                        f"{len(tied)} with a zero interquartile range" if tied else "") if w)
            return _skip(
                "the model has no mutable numeric feature with a spread to add noise to"
                + (f" ({why})." if why else "."), s.record)
        rng = ctx.rng(self.id + ":noise")
        z = rng.standard_normal((len(s), len(cols)))
        originals = {c: _floats(s.X[c]) for c in cols}
        blocks = []
        for level in levels:
            block = s.X.copy()
            for j, c in enumerate(cols):
                low, high = _bounds(ctx, c)
                noisy = originals[c] + level * spreads[c] * z[:, j]
                block[c] = _like(_within(noisy, originals[c], low, high), s.X[c])
            blocks.append(block)
        outcomes = _call_blocks(ctx, blocks)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_score = _score(ctx, s.y, s.pred)
        rows, rates, scores = [], [], []
        judged = None
        for level, out in zip(levels, outcomes):
            changes = _changes(ctx, s.pred, out.pred, target_spread)
            score = _score(ctx, s.y, out.pred)
            rates.append(float(changes.mean()))
            scores.append(score)
            drop = None if score is None or base_score is None else base_score - score
            rows.append([level, rates[-1], score, drop])
            if level == judge_level:
                judged = _change_metric(ctx, changes, f"{_rate_word(ctx)} under noise of {judge_level:g} x each feature's spread")
        primary = primary_metric(ctx.task)
        pname = primary.replace("_", " ")
        metrics = {
            "flip_rate_small_noise": judged,
            "flip_rate_largest_noise": Metric(rates[-1], description=f"{_rate_word(ctx)} under noise of {levels[-1]:g} x spread"),
            f"baseline_{primary}": Metric(base_score, description=f"{pname} of the unperturbed sampled rows"),
            f"{primary}_drop_largest_noise": Metric(
                None if scores[-1] is None or base_score is None else base_score - scores[-1],
                description=f"{pname} lost under noise of {levels[-1]:g} x spread"),
        }
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        evidence = [
            Evidence(
                title="Predictions under noise",
                columns=["noise (x spread)", rate_col, pname, f"{pname} lost"],
                rows=rows,
                note=f"{len(s):,} sampled test rows; {wording.count(len(cols), 'numeric feature')} perturbed together; "
                     f"unperturbed {pname} {_fmt(base_score)}.",
            ),
            Evidence(
                title="Features perturbed",
                columns=["feature", f"spread ({ref_role})", "declared min", "declared max"],
                rows=[[c, spreads[c], _domain(ctx, c).get("min"), _domain(ctx, c).get("max")] for c in cols[:MAX_ROWS]],
                note=(f"Showing {MAX_ROWS} of {len(cols)}. " if len(cols) > MAX_ROWS else "")
                     + "Spread: IQR / 1.349. "
                     + (f"Left unchanged as declared immutable: {', '.join(immutable[:MAX_ROWS])}. " if immutable else "")
                     + (f"Constant in {ref_role}, left unchanged: {', '.join(constant[:MAX_ROWS])}. " if constant else "")
                     + (f"A zero interquartile range in {ref_role} (most values tied, e.g. a spike at zero), left "
                        f"unchanged since noise would move them off the data's support: {', '.join(tied[:MAX_ROWS])}. "
                        if tied else "")
                     + "Integer columns are rounded after the noise is added.",
            ),
        ]
        summary = (
            f"Gaussian noise of {judge_level:g} x each feature's spread on {wording.count(len(cols), 'numeric feature')}: "
            f"{_rate_text(ctx, judged.value)} ({len(s):,} sampled test rows). At {levels[-1]:g} x spread "
            f"{_rate_text(ctx, rates[-1])}"
            + (f" and {pname} goes from {base_score:.3f} to {scores[-1]:.3f}." if base_score is not None and scores[-1] is not None else ".")
        )
        few = _few_rows(len(s))
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics=metrics,
            evidence=evidence,
            figures=[_noise_figure(levels, rates, scores, rate_col, pname, judge_level)],
            recommendation=(
                "If small noise flips many predictions, regularise or smooth the model (shallower trees, larger leaves, "
                "more neighbours, weight decay, ensembles) or train with noise augmentation, and check the features "
                "for measurement noise."
            ),
            sample=s.record,
        )


def _noise_figure(levels: list[float], rates: list[float], scores: list[float | None], rate_label: str,
                  metric_label: str, judge_level: float):
    fig = new_figure(6.5, 3.4)
    ax = fig.add_subplot()
    ax.plot(levels, rates, "o-", color="#b03a2e", label=rate_label, markersize=4)
    ax.axvline(judge_level, color="#777777", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("noise standard deviation (x feature spread)")
    ax.set_ylabel(label(rate_label), color="#b03a2e")
    ax.set_ylim(bottom=0)
    ax.grid(color="#dddddd", linewidth=0.6)
    if any(v is not None for v in scores):
        ax2 = ax.twinx()
        ax2.plot(levels, [np.nan if v is None else v for v in scores], "s--", color="#3b5b92", label=metric_label, markersize=4)
        ax2.set_ylabel(label(metric_label), color="#3b5b92")
    return to_svg(fig, title="Noise sensitivity",
                  caption=f"{rate_label.capitalize()} (left axis) and {metric_label} (right axis) against the noise level; "
                          f"dotted: the judged level ({judge_level:g}).")
