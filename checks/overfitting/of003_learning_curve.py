"""OF003 learning-curve: training and validation score against training-set size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import primary_metric
from auditor.toolkit.figures import label, new_figure, to_svg
from auditor.util import wording
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

SCORING = {"balanced_accuracy": "balanced_accuracy", "r2": "r2"}


def _holdout_splitter(ctx: AuditContext, repeats: int, seed: int):
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    cls = StratifiedShuffleSplit if ctx.is_classification else ShuffleSplit
    return cls(n_splits=repeats, test_size=0.2, random_state=seed % (2**31))


class LearningCurve(Check):
    """Learning curve: training and validation score against training-set size

    What it checks:
        Refits clones of the model on growing shares of the training data and scores
        each on a held-out 20% of it (sklearn.model_selection.learning_curve with a
        stratified shuffle split, repeated ``repeats`` times), and draws the training
        and validation scores (primary metric) against training-set size.
        Judged: the gap between training and validation score at the largest size
        (warn above 0.05, fail above 0.10) and how much that gap widened from the
        smallest size (warn above 0.02, fail above 0.05; a negative gap at the smallest
        size, which is sampling noise, counts as 0). The curve's largest size is 80% of
        the rows sampled (``max_rows``); where that is less than the real training set
        the model usually overfits less there, so the summary says how much of the
        training set the curve reached, and OF001 judges the model as actually trained.
        Opt-in: it refits the model once per size and repeat; select OF003 in the policy
        to run it.

    Why it matters:
        A gap that stays wide as data grows is overfitting that more data will not cure
        soon; a gap that widens means capacity grows faster than the data can support.
        A curve still rising says more data would help.

    How to fix:
        Regularise or simplify when the gap stays wide; gather more data when the
        validation curve is still rising.

    References:
        Perlich, Provost & Simonoff (2003), Tree induction vs. logistic regression: a
        learning-curve analysis, JMLR.
        scikit-learn user guide, Validation curves: plotting scores to evaluate models.
    """

    id = "OF003"
    name = "learning-curve"
    area = "overfitting"
    severity = "medium"
    opt_in = True
    needs = frozenset({"train", "refit"})
    params = {
        "repeats": Param(default=1, kind="int", help="random 80/20 splits per training size (more gives error bands)", low=1, high=10),
        "sizes": Param(default=5, kind="int", help="number of training sizes, spaced from 10% to 100%", low=3, high=20),
        "max_rows": Param(default=50000, kind="int", help="training rows used at most (a seeded sample above)", low=100),
    }
    thresholds = {
        "final_gap": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                               help="train minus validation score at the largest size"),
        "gap_widening": Threshold(direction="above", warn=0.02, fail=0.05, low=0, high=1,
                                  help="final gap minus the gap at the smallest size"),
    }
    practices = ("P3.3", "P4.5", "P7.1")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.3", "nist_ai_rmf:MEASURE 2.5",
        "iso_42001:A.6.2.4",
    )
    references = (
        "Perlich, Provost & Simonoff (2003), Tree induction vs. logistic regression: a learning-curve analysis, JMLR",
        "https://scikit-learn.org/stable/modules/learning_curve.html",
    )

    def run(self, ctx, params):
        from sklearn.model_selection import learning_curve

        seed = ctx.seed_for(self.id)
        X, y, sample = ctx.labelled_sample("train", params["max_rows"], check_id=self.id)
        primary = primary_metric(ctx.task)
        sizes, train_scores, val_scores = learning_curve(
            ctx.model.unfitted_clone(), X, y, train_sizes=np.linspace(0.1, 1.0, params["sizes"]),
            cv=_holdout_splitter(ctx, params["repeats"], seed), scoring=SCORING[primary], n_jobs=1,
            shuffle=True, random_state=seed % (2**31), error_score="raise",
        )
        tr, va = train_scores.mean(axis=1), val_scores.mean(axis=1)
        gaps = tr - va
        fig = new_figure(6.5, 3.4)
        ax = fig.add_subplot()
        for scores, name, colour in ((train_scores, "training", "#3b5b92"), (val_scores, "validation", "#c0652b")):
            mean, sd = scores.mean(axis=1), scores.std(axis=1)
            ax.plot(sizes, mean, "o-", color=colour, label=name, markersize=4)
            ax.fill_between(sizes, mean - sd, mean + sd, color=colour, alpha=0.15, linewidth=0)
        ax.set_xlabel("training rows")
        ax.set_ylabel(label(wording.metric_label(primary)))
        ax.legend(loc="lower right")
        ax.grid(color="#dddddd", linewidth=0.6)
        return Findings(
            summary=(
                f"From {sizes[0]} to {sizes[-1]} training rows the train-validation gap in "
                f"{wording.metric_label(primary)} goes from {gaps[0]:.3f} to {gaps[-1]:.3f}; the validation score "
                f"goes from {va[0]:.3f} to {va[-1]:.3f}. The largest size is "
                f"{sizes[-1] / max(len(ctx.frame('train')), 1):.0%} of the {len(ctx.frame('train')):,} training rows."
            ),
            metrics={
                "final_gap": Metric(float(gaps[-1]), description="train minus validation score at the largest size"),
                "gap_widening": Metric(float(gaps[-1] - max(gaps[0], 0.0)),
                                       description="final gap minus the gap at the smallest size (a negative gap counts as 0)"),
                "validation_gain": Metric(float(va[-1] - va[-2]), description="validation score gained by the last size step"),
            },
            evidence=[Evidence(
                title="Learning curve",
                columns=["training rows", "train score", "validation score", "gap"],
                rows=[[int(s), float(a), float(b), float(a - b)] for s, a, b in zip(sizes, tr, va)],
                note=f"Each size scored on a held-out 20% of the sampled training rows; {wording.count(params['repeats'], 'split')}, seed {seed}.",
            )],
            figures=[to_svg(fig, title="Learning curve", caption="Score against training rows" + (
                "; bands: ±1 standard deviation over the repeated splits." if params["repeats"] > 1 else "."))],
            recommendation=(
                "A wide gap that persists calls for regularisation; a validation curve still rising at the "
                "largest size says more data would help."
            ),
            sample=sample,
        )
