"""Overfitting checks (area ``overfitting``, IDs OF001-OF005).

Does the model's test score describe how it will behave on new data, or has it learnt
its training rows by heart? These checks compare training and held-out performance,
refit the model under cross-validation where it can be cloned, and read a deep
learning run's per-epoch losses for the early-stopping analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor import wording
from auditor.check import Check, Param, Threshold
from auditor.context import combine_samples
from auditor.evaluation import (
    Outputs,
    evaluation_problem,
    model_outputs,
    primary_metric,
)
from auditor.figures import label, new_figure, paired_dot_chart, to_svg
from auditor.lazy import lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.stats import (
    bootstrap_batch_size,
    bootstrap_ci,
    encode_labels,
    metric_function,
    sampling_sd,
    sd_ratio_interval,
)

np = lazy_module("numpy")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

SCORING = {"balanced_accuracy": "balanced_accuracy", "r2": "r2"}


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

    def statistic_batched(i_tr, i_te, axis=-1):  # many resamples at once (auditor.stats.batched_metric)
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


def _holdout_splitter(ctx: "AuditContext", repeats: int, seed: int):
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    cls = StratifiedShuffleSplit if ctx.is_classification else ShuffleSplit
    return cls(n_splits=repeats, test_size=0.2, random_state=seed % (2**31))


def _cv_splitter(ctx: "AuditContext", folds: int, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = StratifiedKFold if ctx.is_classification else KFold
    return cls(n_splits=folds, shuffle=True, random_state=seed % (2**31))


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


def _sampling_std(fn, y_true, y_pred, parts, *, stratified: bool, n_resamples: int, seed: int) -> float:
    """The standard deviation a fold score has from sampling alone: the root mean of each
    fold's bootstrap variance, its rows resampled at its size and its model held fixed.

    Each fold's own rows, not the pooled rows of all folds: in the pooled rows the very
    differences between the fold models would count as sampling noise (for a model right
    on one fold and wrong on another the ratio could never exceed the square root of the
    fold size). A fold whose bootstrap collapses (every row right: the score cannot move)
    takes instead the spread of the pooled out-of-fold rows at its size, since its score
    is not certain either.
    """
    variances = []
    for i, part in enumerate(parts):
        sd = sampling_sd(fn, y_true[part], y_pred[part], size=len(part), n_resamples=n_resamples,
                         random_state=seed + i, strata=y_true[part] if stratified else None)
        if not sd > 0:
            sd = sampling_sd(fn, y_true, y_pred, size=len(part), n_resamples=n_resamples,
                             random_state=seed + i, strata=y_true if stratified else None)
        variances.append(sd ** 2)
    return float(np.sqrt(np.mean(variances)))


def _difference_interval(signed: float, test_out, fn, *, fold_sd: float, folds: int, confidence: float,
                         n_resamples: int, seed: int) -> tuple[float | None, float | None]:
    """Interval of |test score - CV mean| from a normal interval on the signed difference."""
    from scipy.stats import norm

    _, low, high = bootstrap_ci(fn, test_out.y, test_out.pred, n_resamples=n_resamples, confidence=confidence,
                                random_state=seed)
    if low is None or high is None or not np.isfinite(fold_sd):
        return None, None
    z = float(norm.ppf(0.5 + confidence / 2))
    se = float(np.hypot((high - low) / (2 * z), fold_sd / np.sqrt(folds)))
    lo, hi = signed - z * se, signed + z * se
    if lo <= 0 <= hi:
        return 0.0, float(min(1.0, max(-lo, hi)))
    return float(min(abs(lo), abs(hi))), float(min(1.0, max(abs(lo), abs(hi))))


class CrossValidationStability(Check):
    """Cross-validation stability and agreement with the test score

    What it checks:
        Refits an unfitted clone of the model (sklearn.base.clone, same
        hyperparameters) in k-fold cross-validation on a seeded sample of the training
        data and scores each held-out fold with the primary metric (balanced accuracy,
        or R² for regression). Fold scores differ even for a perfectly stable model,
        because each is measured on a few rows: on 63-row folds of the diabetes data an
        R² swings by about 0.07 from sampling alone. So the spread is judged against
        that: ``sampling_std`` is the standard deviation a fold score has from sampling
        alone, its model held fixed: the root mean of each fold's bootstrap variance
        (its held-out rows and out-of-fold predictions resampled at the fold's size,
        within each class for classification, as the folds are stratified; a fold
        whose bootstrap collapses, every row right, takes the bootstrap of the pooled
        out-of-fold predictions at its size). The judged ``cv_std_ratio`` is the fold
        standard deviation over it, with a chi-square interval on k - 1 degrees of
        freedom: warn above 2, fail above 5 (fold scores that swing five times as much
        as sampling explains). With 5 folds that interval reaches from 0.6 to 2.9 times
        the ratio, so a stable model (ratio near 1; 98% of them under sampling noise
        alone) passes and only a clearly unstable one fails; more folds narrow it.
        Reported: ``cv_std``, the fold standard deviation itself, with its chi-square
        interval; ``sampling_std``. Also judged: the
        distance between the held-out test score and the cross-validated mean (warn
        above 0.05, fail above 0.10), with a normal interval on the signed difference
        whose standard error combines the test score's (bootstrap over test rows) and
        the CV mean's (fold standard deviation over the square root of the folds); the
        distance's interval is that interval's absolute values. On 133 test rows of the
        diabetes data a distance of 0.11 between R² 0.39 and 0.50 is within that noise.

    Why it matters:
        Fold scores that swing far more than their sampling noise mean the fitted model
        itself changes with the training rows, so a single split's score is luck. A
        test score far from the cross-validated estimate means the test set is not like
        the training data, or it was used for tuning, or one of them leaks.

    How to fix:
        Stabilise the model (regularisation, more data, ensembling, a fixed random
        state, training to convergence); check how the test set was drawn (stratified,
        same population and period); never tune on it.

    References:
        Kohavi (1995), A study of cross-validation and bootstrap for accuracy estimation
        and model selection, IJCAI.
        Bengio & Grandvalet (2004), No unbiased estimator of the variance of K-fold
        cross-validation, JMLR 5.
        scikit-learn user guide, Cross-validation: evaluating estimator performance.
    """

    id = "OF002"
    name = "cross-validation-stability"
    area = "overfitting"
    severity = "medium"
    needs = frozenset({"train", "test", "predictions", "refit"})
    params = {
        "folds": Param(default=5, kind="int", help="number of cross-validation folds", low=2, high=20),
        "max_rows": Param(default=10000, kind="int", help="training rows used at most (a seeded sample above)", low=50),
        "n_resamples": Param(default=500, kind="int", help="bootstrap resamples per fold for the sampling standard deviation", low=100, high=100000),
        "confidence": Param(default=0.95, kind="float", help="confidence level of the interval of cv_std_ratio", low=0.5, high=0.999),
    }
    thresholds = {
        "cv_std_ratio": Threshold(direction="above", warn=2.0, fail=5.0, low=0,
                                  help="standard deviation of the fold scores / the standard deviation sampling alone gives at the fold size"),
        "test_cv_difference": Threshold(direction="above", warn=0.05, fail=0.10, low=0, high=1,
                                        help="|test score - cross-validated mean|"),
    }
    practices = ("P4.5", "P4.4", "P2.3")
    references = (
        "Kohavi (1995), A study of cross-validation and bootstrap for accuracy estimation and model selection, IJCAI",
        "Bengio & Grandvalet (2004), No unbiased estimator of the variance of K-fold cross-validation, JMLR 5",
        "https://scikit-learn.org/stable/modules/cross_validation.html",
    )

    def run(self, ctx, params):
        from sklearn.model_selection import cross_val_predict

        seed = ctx.seed_for(self.id)
        X, y, sample = ctx.labelled_sample("train", params["max_rows"], check_id=self.id)
        primary = primary_metric(ctx.task)
        folds = params["folds"]
        if ctx.is_classification and y.value_counts().min() < folds:
            return Findings(
                status="inconclusive",
                summary=f"A class has fewer than {folds} training rows: {folds}-fold cross-validation cannot be stratified.",
            )
        splitter = _cv_splitter(ctx, folds, seed)
        # The out-of-fold predictions give both the fold scores (what cross_val_score with
        # this scoring returns) and the rows whose resampling gives the spread from sampling alone.
        oof = cross_val_predict(ctx.model.unfitted_clone(), X, y, cv=splitter, n_jobs=1)
        if ctx.is_classification:
            y_true, y_pred = encode_labels(y.to_numpy(), ctx.classes), encode_labels(oof, ctx.classes)
        else:
            y_true, y_pred = y.to_numpy(dtype=float), np.asarray(oof, dtype=float)
        fn = metric_function(primary, task=ctx.task)
        parts = [test for _, test in splitter.split(X, y)]
        scores = np.array([fn(y_true[p], y_pred[p]) for p in parts])
        test_out = model_outputs(ctx, "test")
        problem = evaluation_problem(test_out)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.")
        test_score = test_out.score(primary)
        mean, std = float(np.mean(scores)), float(np.std(scores, ddof=1))
        fold_rows = round(len(y_true) / folds)
        sampling = _sampling_std(fn, y_true, y_pred, parts, stratified=ctx.is_classification,
                                 n_resamples=params["n_resamples"], seed=seed)
        if std == 0:
            ratio, low, high = 0.0, 0.0, 0.0
        elif np.isfinite(sampling) and sampling > 0:
            ratio = std / sampling
            low, high = sd_ratio_interval(ratio, folds, confidence=params["confidence"])
        else:
            ratio = low = high = None
        std_low, std_high = sd_ratio_interval(std, folds, confidence=params["confidence"])
        diff = abs(test_score - mean)
        diff_low, diff_high = _difference_interval(
            test_score - mean, test_out, fn, fold_sd=std, folds=folds, confidence=params["confidence"],
            n_resamples=params["n_resamples"], seed=seed)
        name = wording.metric_label(primary)
        ratio_text = (f"{ratio:.2f} times the {sampling:.3f} that sampling alone gives on {fold_rows}-row folds"
                      if ratio is not None else "not comparable with sampling noise")
        return Findings(
            summary=(
                f"{folds}-fold cross-validation on {len(y)} training rows gives {name} {mean:.3f} "
                f"(fold standard deviation {std:.3f}, {ratio_text}); the held-out test score is {test_score:.3f}."
            ),
            metrics={
                "cv_mean": Metric(mean, description=f"mean {name} over the folds"),
                "cv_std": Metric(std, std_low, std_high,
                                 description=f"standard deviation of {name} over the folds (chi-square interval, {folds - 1} degrees of freedom)"),
                "sampling_std": Metric(sampling if np.isfinite(sampling) else None,
                                       description=f"standard deviation of {name} from sampling alone on {fold_rows}-row folds "
                                                   f"(each fold's rows bootstrapped, {params['n_resamples']} resamples)"),
                "cv_std_ratio": Metric(ratio, low, high,
                                       description=f"fold standard deviation / sampling standard deviation; {params['confidence']:.0%} "
                                                   f"chi-square interval on {folds - 1} degrees of freedom"),
                "test_score": Metric(test_score, description=f"{name} on the test rows"),
                "test_cv_difference": Metric(diff, diff_low, diff_high, description=(
                    f"absolute difference between the test score and the CV mean ({params['confidence']:.0%} normal interval: "
                    "the test score's bootstrap error and the CV mean's fold-to-fold error combined)")),
            },
            evidence=[Evidence(
                title="Fold scores",
                columns=["fold", name, "rows"],
                rows=[[i + 1, float(s), len(p)] for i, (s, p) in enumerate(zip(scores, parts))]
                     + [["test set", test_score, len(test_out)]],
                note=f"{'Stratified ' if ctx.is_classification else ''}{folds}-fold, shuffled with seed {seed}; "
                     "the model was cloned with its hyperparameters and refitted on each training fold. "
                     f"Sampling alone gives a fold score a standard deviation of {sampling:.3f} at {fold_rows} rows.",
            )],
            recommendation=(
                "Fold scores that swing far beyond their sampling noise call for a more stable model (regularisation, "
                "ensembling, training to convergence) or more data; a test score far from the cross-validated mean calls "
                "for a look at how the test set was drawn and whether it was used for tuning."
            ),
            sample=sample,
        )


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
                "gap_widening": Metric(float(gaps[-1] - max(gaps[0], 0.0)), description="final gap minus the gap at the smallest size (a negative gap counts as 0)"),
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


def _error_ratio_bootstrap(sq_train, sq_test, *, n_resamples: int, confidence: float, seed: int):
    """Interval of min(mean train squared error / mean test squared error, 1), from resampling
    the training and the test rows independently (scipy.stats.bootstrap, percentile)."""
    from scipy import stats

    def ratio(a, b, axis=-1):
        num, den = np.mean(a, axis=axis), np.mean(b, axis=axis)
        return np.where(den > 0, np.minimum(num / np.where(den > 0, den, 1.0), 1.0), 1.0)

    if min(len(sq_train), len(sq_test)) < 10:
        return None, None
    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap(
            (sq_train, sq_test), ratio, paired=False, vectorized=True, n_resamples=n_resamples,
            confidence_level=confidence, method="percentile",
            batch=bootstrap_batch_size(max(len(sq_train), len(sq_test)), n_resamples),
            random_state=np.random.default_rng(seed),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return (low, high) if np.isfinite(low) and np.isfinite(high) else (None, None)


class Memorisation(Check):
    """Memorisation: near-perfect training performance that the test set does not share

    What it checks:
        The ratio of the model's error on its training rows to its error on the test
        rows (classification: error rate; regression: mean squared error). A ratio near
        1 means the model does as well on new rows as on the ones it saw; near 0 means
        it reproduces its training labels, noise included, while erring on new rows.
        Warn below 0.5, fail below 0.2. When the test error is 0 (for regression: at the
        floating-point rounding level of the target's variance) there is nothing to
        memorise and the ratio is reported as 1. The ratio carries an interval
        (``confidence``, 95% by default), so that a ratio of a few errors is undecided
        rather than a fail: for classification from the two error counts
        (Clopper-Pearson intervals of each error rate at 97.5%, so that the pair holds
        with at least 95% confidence; 0 errors on the training rows against 1 in 45 on
        the test rows cannot tell memorisation from luck); for regression from a
        bootstrap that resamples the training and the test rows independently
        (percentile interval of the ratio of mean squared errors: a test error carried
        by a few large residuals on a small test set gets a wide interval). The
        bootstrap assumes no distribution for the residuals, unlike an F interval on
        the ratio of two variances, which holds only for normal ones.

    Why it matters:
        A fully grown tree or a network trained too long reproduces every training
        label, mistakes in the labels included; such a model's confidence on training
        data says nothing about new data, and its explanations describe noise.

    How to fix:
        Limit capacity (depth, leaves, epochs, weight decay, dropout), use early
        stopping on a validation set, or clean the noisy labels.

    References:
        Zhang et al. (2017), Understanding deep learning requires rethinking
        generalization, ICLR.
        Arpit et al. (2017), A closer look at memorization in deep networks, ICML.
    """

    id = "OF004"
    name = "memorisation"
    area = "overfitting"
    severity = "medium"
    needs = frozenset({"train", "test", "predictions", "train_predictions"})
    params = {
        "max_rows": Param(default=50000, kind="int", help="rows per dataset at most (a seeded sample above)", low=100),
        "n_resamples": Param(default=1000, kind="int", help="bootstrap resamples for the regression ratio's interval", low=50, high=100000),
        "confidence": Param(default=0.95, kind="float", help="confidence level of the ratio's interval", low=0.5, high=0.999),
    }
    thresholds = {
        "train_to_test_error_ratio": Threshold(direction="below", warn=0.5, fail=0.2, low=0, high=1,
                                               help="training error divided by test error"),
    }
    practices = ("P3.2", "P3.3")
    references = (
        "Zhang et al. (2017), Understanding deep learning requires rethinking generalization, ICLR",
        "Arpit et al. (2017), A closer look at memorization in deep networks, ICML",
    )

    def run(self, ctx, params):
        i_tr, s_tr = ctx.sample_index("train", params["max_rows"], check_id=self.id + ":train")
        i_te, s_te = ctx.sample_index("test", params["max_rows"], check_id=self.id + ":test")
        train, test = model_outputs(ctx, "train", i_tr), model_outputs(ctx, "test", i_te)
        seed = ctx.seed_for(self.id)
        if ctx.is_classification:
            kind = "error rate"
            err_tr, err_te = float(np.mean(train.y != train.pred)), float(np.mean(test.y != test.pred))
            negligible = err_te == 0
        else:
            kind = "mean squared error"
            sq_tr, sq_te = (train.y - train.pred) ** 2, (test.y - test.pred) ** 2
            err_tr, err_te = float(np.mean(sq_tr)), float(np.mean(sq_te))
            # A test error at the rounding level of the target's variance is no error at all.
            negligible = err_te <= np.finfo(float).eps * float(np.var(test.y)) if len(test) else True
        ratio = 1.0 if negligible else min(err_tr / err_te, 1.0)
        low = high = None
        how = ""
        if ctx.is_classification and len(train) and len(test):
            from statsmodels.stats.proportion import proportion_confint

            # Each rate at (1 + confidence) / 2, so that the pair holds with at least `confidence`.
            alpha = (1 - params["confidence"]) / 2
            k_tr, k_te = int(np.sum(train.y != train.pred)), int(np.sum(test.y != test.pred))
            tr_lo, tr_hi = proportion_confint(k_tr, len(train), alpha=alpha, method="beta")
            te_lo, te_hi = proportion_confint(k_te, len(test), alpha=alpha, method="beta")
            low = min(tr_lo / te_hi, 1.0) if te_hi > 0 else 1.0
            high = min(tr_hi / te_lo, 1.0) if te_lo > 0 else 1.0
            how = "; interval from both error counts (Clopper-Pearson)"
        elif not ctx.is_classification and not negligible:
            low, high = _error_ratio_bootstrap(sq_tr, sq_te, n_resamples=params["n_resamples"],
                                               confidence=params["confidence"], seed=seed)
            if low is not None:
                how = f"; {params['confidence']:.0%} bootstrap interval, training and test rows resampled independently"
        interval = f", {params['confidence']:.0%} interval {low:.2g} to {high:.2g}" if low is not None else ""
        return Findings(
            summary=(
                f"The model's {kind} is {err_tr:.4g} on {len(train)} training rows and {err_te:.4g} on {len(test)} "
                f"test rows (ratio {ratio:.2g}{interval})."
            ),
            metrics={
                "train_to_test_error_ratio": Metric(ratio, low, high, description=f"training {kind} / test {kind}, capped at 1" + how),
                "train_error": Metric(err_tr, description=f"{kind} on the training rows"),
                "test_error": Metric(err_te, description=f"{kind} on the test rows"),
            },
            recommendation=(
                "If the training error is near zero while the test error is not, limit the model's capacity or "
                "stop training earlier, and look for noisy labels."
            ),
            sample=combine_samples({"train": s_tr, "test": s_te}, seed),
        )


class TrainingHistory(Check):
    """Training history: validation loss rising while training loss falls

    What it checks:
        A run's per-epoch training and validation losses (``--history``). The best
        epoch is the one with the lowest validation loss. Judged: how far the final
        validation loss has risen above that minimum, relative to it (warn above 0.05,
        fail above 0.15). Also reported: epochs trained past the best, whether the
        training loss kept falling meanwhile (the signature of overfitting), and the
        epoch at which early stopping with the given patience would have stopped.

    Why it matters:
        Training past the validation minimum trades generalisation for fit to the
        training rows. Keeping the final weights instead of the best ones ships a
        worse model than the run produced.

    How to fix:
        Use early stopping on the validation loss with a patience, and restore the
        best weights; add regularisation (weight decay, dropout, augmentation).

    References:
        Prechelt (1998), Early stopping - but when?, Neural Networks: Tricks of the Trade.
        Goodfellow, Bengio & Courville (2016), Deep Learning, section 7.8.
    """

    id = "OF005"
    name = "training-history"
    area = "overfitting"
    severity = "medium"
    needs = frozenset({"history"})
    params = {
        "patience": Param(default=5, kind="int", help="epochs without improvement before early stopping", low=1, high=1000),
        "min_delta": Param(default=0.0, kind="float", help="smallest decrease of the validation loss that counts as improvement", low=0.0),
    }
    thresholds = {
        "val_loss_rise": Threshold(direction="above", warn=0.05, fail=0.15, low=0,
                                   help="(final validation loss - minimum) / minimum"),
    }
    practices = ("P3.2", "P3.3", "P4.4")
    references = (
        "Prechelt (1998), Early stopping - but when?, Neural Networks: Tricks of the Trade",
        "Goodfellow, Bengio & Courville (2016), Deep Learning, section 7.8",
    )

    def run(self, ctx, params):
        h = ctx.history
        epochs, train, val = h["epoch"].to_numpy(), h["train_loss"].to_numpy(float), h["val_loss"].to_numpy(float)
        best = int(np.argmin(val))
        rise = float((val[-1] - val[best]) / abs(val[best])) if val[best] != 0 else float(val[-1] - val[best])
        # Early stopping as Keras and PyTorch Lightning implement it: stop after `patience`
        # epochs without an improvement larger than min_delta.
        stop, best_so_far, wait = len(val) - 1, val[0], 0
        for i in range(1, len(val)):
            if val[i] < best_so_far - params["min_delta"]:
                best_so_far, wait = val[i], 0
            else:
                wait += 1
                if wait >= params["patience"]:
                    stop = i
                    break
        train_fell = bool(train[-1] < train[best])
        fig = new_figure(6.5, 3.4)
        ax = fig.add_subplot()
        ax.plot(epochs, train, color="#3b5b92", label="training loss")
        ax.plot(epochs, val, color="#c0652b", label="validation loss")
        ax.axvline(epochs[best], color="#2e7d4f", linestyle="--", linewidth=1, label=f"best epoch ({epochs[best]:g})")
        if stop < len(val) - 1:
            ax.axvline(epochs[stop], color="#777777", linestyle=":", linewidth=1,
                       label=f"early stop, patience {params['patience']} ({epochs[stop]:g})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(color="#dddddd", linewidth=0.6)
        past = len(val) - 1 - best
        early = (
            f"early stopping with patience {params['patience']} would have stopped at epoch {epochs[stop]:g}"
            if stop < len(val) - 1 else f"early stopping with patience {params['patience']} would not have stopped"
        )
        return Findings(
            summary=(
                f"The validation loss is lowest at epoch {epochs[best]:g} of {len(val)}; the run went on {past} epochs "
                f"and ended {rise:.1%} above that minimum while the training loss {'kept falling' if train_fell else 'did not fall'}; {early}."
            ),
            metrics={
                "val_loss_rise": Metric(rise, description="(final validation loss - minimum) / minimum"),
                "epochs_past_best": Metric(past, description="epochs trained after the best validation loss"),
                "best_epoch": Metric(float(epochs[best]), description="epoch with the lowest validation loss"),
                "early_stop_epoch": Metric(float(epochs[stop]), description=f"where early stopping (patience {params['patience']}) stops"),
            },
            evidence=[Evidence(
                title="Loss at key epochs",
                columns=["epoch", "role", "training loss", "validation loss"],
                rows=[[float(epochs[0]), "first", float(train[0]), float(val[0])],
                      [float(epochs[best]), "best validation", float(train[best]), float(val[best])],
                      [float(epochs[stop]), "early stop", float(train[stop]), float(val[stop])],
                      [float(epochs[-1]), "last", float(train[-1]), float(val[-1])]],
            )],
            figures=[to_svg(fig, title="Training history", caption="Per-epoch losses; dashed: best validation epoch; dotted: early stop.")],
            recommendation=(
                "Stop training on the validation loss with a patience and restore the best epoch's weights; "
                "if the validation loss rises early, add regularisation."
            ),
        )
