"""EX006 train-test-importance: importance on the training rows that does not carry over to test rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    FAMILY,
    MAX_SHOWN,
    MIN_SHARE,
    REPEATS,
    ROWS,
    _model_problem,
    _names,
    _reference_outputs,
    _sample,
    _sample_problem,
    _score,
    _score_name,
    _scores,
    _skip,
    permutation,
    top_features,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def score_gap(ctx: AuditContext, *, rows: int, n_resamples: int, confidence: float = 0.95,
              seed: int) -> tuple[float, float | None, float | None]:
    """The family's score on its training sample minus that on its test sample, with a percentile
    bootstrap interval (``scipy.stats.bootstrap``, the two samples resampled independently).

    The interval is ``None`` where resamples leave the score undefined (a resample with one
    class has no ROC AUC)."""
    from scipy import stats

    from auditor.toolkit.stats import bootstrap_batch_size

    _, y_tr, _ = _sample(ctx, "train", rows)
    _, y_te, _ = _sample(ctx, "test", rows)
    out_tr, out_te = _reference_outputs(ctx, "train", rows), _reference_outputs(ctx, "test", rows)
    gap = _score(ctx, y_tr, out_tr) - _score(ctx, y_te, out_te)

    def statistic(i_tr, i_te, axis=-1):
        one = np.ndim(i_tr) == 1
        i_tr, i_te = np.atleast_2d(i_tr).astype(int), np.atleast_2d(i_te).astype(int)
        values = _scores(ctx, y_tr[i_tr], out_tr[i_tr]) - _scores(ctx, y_te[i_te], out_te[i_te])
        return values[0] if one else values

    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap((np.arange(len(y_tr)), np.arange(len(y_te))), statistic, paired=False, vectorized=True,
                              n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                              batch=bootstrap_batch_size(max(len(y_tr), len(y_te)), n_resamples),
                              random_state=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return float(gap), None, None
    return float(gap), low, high


class TrainTestImportance(Check):
    """Importance on training rows against test rows

    What it checks:
        Permutation importance of every input on a seeded sample of the training rows and
        of the test rows (``rows`` each, same score, same shuffles). A feature the model
        leans on only for the rows it was trained on is a sign of memorisation. The judged
        metric ``train_only_share`` is the part of the training importance that does not
        carry over to the test rows, ``sum(max(0, train - test)) / sum(max(0, train))``:
        warn above 0.30, fail above 0.50. Features important on the training rows (at least
        ``min_share`` of the top) but with no importance on the test rows are listed as
        train-only.

        Memorisation buys a score on the training rows that new rows do not give back, so
        the claim needs a train/test performance gap. ``score_gap`` is the training score
        minus the test score with a 95% percentile bootstrap interval (``n_resamples``
        resamples of each sample, drawn independently). ``train_only_share`` is judged
        only when that interval lies above zero. When it does not (the model scores as
        well on the test rows as on its training rows, within their noise; or the score is
        at its maximum on both samples, where a shuffle's drop measures how far each
        sample's rows lie from a wrong prediction, not what the model learned), the
        same share is reported as ``importance_shift_share``, not judged, and the check
        passes: importance that differs between two samples the model does equally well on
        is sampling noise or a difference between the samples, not memorisation. Where
        the gap's interval cannot be computed the share is judged as it is.

    Why it matters:
        A model that memorised its training rows uses inputs in ways that hold only there
        (splitting on noise columns, on identifiers, on row-specific values). Its
        explanations on training data describe the memorisation, and any decision taken
        from them (which feature matters) is wrong for new data.

    How to fix:
        Regularise (shallower trees, larger leaves, weight decay, early stopping), drop the
        train-only features if they carry no real signal, and always explain a model on
        held-out rows.

    References:
        Molnar, Interpretable Machine Learning, "Should I compute importance on training or
        test data?".
        scikit-learn user guide, Permutation feature importance (importance on training vs
        held-out data).
    """

    id = "EX006"
    name = "train-test-importance"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"train", "test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "min_share": MIN_SHARE,
              "n_resamples": Param(default=200, kind="int", low=50, high=10_000,
                                   help="bootstrap resamples for the train-minus-test score gap's interval")}
    thresholds = {
        "train_only_share": Threshold(direction="above", warn=0.30, fail=0.50, low=0, high=1,
                                      help="share of the training permutation importance that does not carry over to test rows"),
    }
    practices = ("P4.4", "P5.3")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Molnar, Interpretable Machine Learning, permutation feature importance: training or test data",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx, params):
        from auditor.contract.context import combine_samples

        for role in ("train", "test"):
            problem = _model_problem(ctx, role)
            if problem:
                return _skip(problem)
        (_, y_train, s_train), (_, y_test, s_test) = _sample(ctx, "train", params["rows"]), _sample(ctx, "test", params["rows"])
        sample = combine_samples({"train": s_train, "test": s_test}, ctx.seed_for(FAMILY))
        for role, y in (("train", y_train), ("test", y_test)):
            problem = _sample_problem(ctx, role, y)
            if problem:
                return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        features, score = list(ctx.features), _score_name(ctx)
        tr = permutation(ctx, "train", rows=params["rows"], repeats=params["repeats"])
        te = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])
        train_pos = np.clip(tr["mean"], 0, None)
        if train_pos.sum() <= 0:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: no feature has importance on the training rows, so nothing can fail to carry over.")
        lost = np.clip(tr["mean"] - np.clip(te["mean"], 0, None), 0, None)
        share = float(lost.sum() / train_pos.sum())
        important = top_features(tr["mean"], features, top_k=len(features), min_share=params["min_share"])
        # "no importance on test": within two standard deviations of the shuffles of zero, or below a tenth of the train value
        train_only = [i for i in important if te["mean"][i] <= max(2 * te["std"][i], 0.1 * tr["mean"][i])]
        gap, gap_low, gap_high = score_gap(ctx, rows=params["rows"], n_resamples=params["n_resamples"],
                                           seed=ctx.seed_for(self.id))
        # Memorisation needs the training rows to score measurably better; without a gap it is not judged.
        judged = gap_low is None or gap_low > 0
        saturated = tr["baseline"] >= 1.0 and te["baseline"] >= 1.0  # ROC AUC, balanced accuracy and R² all top out at 1
        label = wording.metric_label(score)
        interval = "" if gap_low is None else f", 95% interval {gap_low:.3f} to {gap_high:.3f}"
        metrics = {
            ("train_only_share" if judged else "importance_shift_share"): Metric(
                share, description="share of training importance not seen on test rows" + (
                    "" if judged else " (not judged: the model scores no better on its training rows)")),
            "train_score": Metric(tr["baseline"], description=f"{label} on the training sample"),
            "test_score": Metric(te["baseline"], description=f"{label} on the test sample"),
            "score_gap": Metric(gap, gap_low, gap_high, description=f"training minus test {label} (bootstrap interval)"),
            "train_only_features": Metric(len(train_only) if judged else 0,
                                          description="features important on training rows only"),
        }
        summary = (f"{wording.share(share)} of the permutation importance measured on {len(y_train)} training rows does not "
                   f"carry over to {len(y_test)} test rows ({label} {tr['baseline']:.3f} on train, "
                   f"{te['baseline']:.3f} on test; gap {gap:.3f}{interval}).")
        if not judged:
            why = (f"{label} is at its maximum on both samples, so a shuffle's drop measures how far each sample's rows "
                   "lie from a wrong prediction rather than what the model learned" if saturated else
                   "the model scores no better on its training rows than on the test rows, within their noise")
            summary += (f" Not memorisation: {why}, so importance that differs between the two samples is sampling "
                        "noise or a difference between the samples (the share is reported, not judged).")
            train_only = []
        elif gap_low is None:
            summary += " The gap's interval could not be computed, so the share is judged without it."
        if train_only:
            summary += (f" Important on the training rows only: {_names(features, train_only)} (memorisation shows as "
                        "a large share of importance that does not carry over; the judged share is above).")
        order = [int(i) for i in np.argsort(-np.maximum(tr["mean"], te["mean"]), kind="stable")][:MAX_SHOWN]
        from auditor.toolkit.figures import paired_dot_chart

        figure = paired_dot_chart(
            "Permutation importance on training and test rows",
            [(features[i], float(tr["mean"][i]), float(te["mean"][i])) for i in order], ("train", "test"),
            f"drop in {wording.metric_label(score)} when the column is shuffled",
            "Circles: importance on the training sample; squares: on the test sample. A feature far to the right only on "
            "the training rows is one the model uses to memorise.",
        )
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=[figure],
            evidence=[Evidence(
                title="Importance on train and test",
                columns=["feature", "train importance", "test importance", "train - test", "train only"],
                rows=[[features[i], float(tr["mean"][i]), float(te["mean"][i]), float(tr["mean"][i] - te["mean"][i]),
                       "yes" if i in train_only else ""] for i in order],
                note=f"{params['repeats']} shuffles per column on each sample; same score on both.",
            )],
            recommendation=("Importance carries over from training to test rows." if share <= 0.3 and not train_only else
                            "No sign of memorisation: the model does as well on the test rows as on its training rows; "
                            "explain it on held-out rows." if not judged else
                            "Regularise the model and re-check; drop train-only features that carry no real signal; "
                            "explain the model on held-out rows only."),
        )
