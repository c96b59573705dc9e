"""Comparisons of two learning algorithms that refit them: Dietterich's 5x2cv paired t
test and Nadeau and Bengio's corrected resampled t test (scikit-learn clones fitted on
the training data's folds, scored with the same scorer). The paired tests of fitted
models on one test set are in ``auditor.toolkit.comparison_stats``."""

from __future__ import annotations

import math

from auditor.toolkit.comparison_stats import (
    TestResult,
    _check_confidence,
)
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
stats = lazy_module("scipy.stats")

MSG_N_REPEATS = "The 'n_repeats' parameter of corrected_resampled_ttest must be an integer >= 2. Got {got!r} instead."
MSG_TEST_SIZE = (
    "The 'test_size' parameter of corrected_resampled_ttest must be a fraction in (0, 1) "
    "or a row count >= 1. Got {got!r} instead."
)


def _paired_fold_scores(estimator_a, estimator_b, X, y, scoring, splits) -> tuple[np.ndarray, np.ndarray]:
    """Fit clones of both estimators on each split's training rows; score each on its test rows."""
    from sklearn.model_selection import cross_validate

    scores = [
        cross_validate(est, X, y, scoring=scoring, cv=splits, error_score="raise")["test_score"]
        for est in (estimator_a, estimator_b)
    ]
    return np.asarray(scores[0], dtype=float), np.asarray(scores[1], dtype=float)


def _stratify(estimator_a, estimator_b, y) -> bool:
    # As sklearn.model_selection.check_cv: stratify for classifiers on class labels.
    from sklearn.base import is_classifier
    from sklearn.utils.multiclass import type_of_target

    classifier = is_classifier(estimator_a) or is_classifier(estimator_b)
    return classifier and type_of_target(y) in ("binary", "multiclass")


def _scoring_name(scoring) -> str:
    return scoring if isinstance(scoring, str) else getattr(scoring, "__name__", None) or repr(scoring)


def _t_result(
    test: str, *, mean: float, scale: float, numerator: float, df: int, confidence: float, details: dict
) -> TestResult:
    """t = numerator / scale on df degrees of freedom; interval mean +/- t_crit * scale."""
    t_crit = float(stats.t.ppf(0.5 + confidence / 2, df))
    if scale > 0:
        t_stat: float | None = numerator / scale
        p: float | None = float(2 * stats.t.sf(abs(t_stat), df))
    elif numerator == 0:
        t_stat, p = 0.0, 1.0
    else:
        t_stat, p = None, None
        details["note"] = "zero variance of the score differences"
    return TestResult(
        test=test,
        statistic=t_stat,
        p_value=p,
        estimate=mean,
        ci_low=mean - t_crit * scale,
        ci_high=mean + t_crit * scale,
        confidence=confidence,
        details={**details, "df": df},
    )


def five_by_two_cv_ttest(
    *, estimator_a, estimator_b, X, y, scoring, random_state: int = 0, confidence: float = 0.95
) -> TestResult:
    """Dietterich's 5x2cv paired t test.

    Dietterich, T. G. (1998). Approximate statistical tests for comparing supervised
    classification learning algorithms. Neural Computation 10, 1895-1923. Five
    repetitions of 2-fold cross-validation (``RepeatedStratifiedKFold`` for classifiers,
    ``RepeatedKFold`` otherwise, seeded by ``random_state``); both estimators are cloned
    and refitted on the same folds (``cross_validate``). With p_i^(j) = score_B - score_A
    on fold j of repetition i, s_i^2 = sum_j (p_i^(j) - mean_i)^2 and
    t = p_1^(1) / sqrt(sum_i s_i^2 / 5) on 5 df.

    ``estimate`` is the mean of the 10 differences; the interval is estimate +/-
    t_(5) * sqrt(sum_i s_i^2 / 5), the t statistic's own scale. That scale is the spread
    of one fold's difference, so the interval is conservative for the mean, and it is not
    the inversion of the p-value (which uses p_1^(1) only). ``scoring`` is a scikit-learn
    scorer name or a callable ``scorer(estimator, X, y)``; higher scores are better.
    """
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    confidence = _check_confidence(confidence, "five_by_two_cv_ttest")
    splitter_cls = RepeatedStratifiedKFold if _stratify(estimator_a, estimator_b, y) else RepeatedKFold
    splitter = splitter_cls(n_splits=2, n_repeats=5, random_state=random_state)
    splits = list(splitter.split(X, y))
    scores_a, scores_b = _paired_fold_scores(estimator_a, estimator_b, X, y, scoring, splits)
    diffs = (scores_b - scores_a).reshape(5, 2)
    variances = ((diffs - diffs.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    scale = math.sqrt(variances.mean())
    return _t_result(
        "5x2cv paired t",
        mean=float(diffs.mean()),
        scale=scale,
        numerator=float(diffs[0, 0]),
        df=5,
        confidence=confidence,
        details={
            "differences": [float(d) for d in diffs.ravel()],
            "scores_a": [float(s) for s in scores_a],
            "scores_b": [float(s) for s in scores_b],
            "variances": [float(v) for v in variances],
            "scoring": _scoring_name(scoring),
            "splitter": splitter_cls.__name__,
        },
    )


def corrected_resampled_ttest(
    *,
    estimator_a,
    estimator_b,
    X,
    y,
    scoring,
    n_repeats: int = 10,
    test_size: float = 0.1,
    random_state: int = 0,
    confidence: float = 0.95,
) -> TestResult:
    """Nadeau & Bengio's corrected resampled t test.

    Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. Machine
    Learning 52, 239-281. Over J = ``n_repeats`` random train/test splits
    (``StratifiedShuffleSplit`` for classifiers, ``ShuffleSplit`` otherwise) with
    differences d_j = score_B - score_A: t = mean(d) / sqrt((1/J + n_test/n_train) *
    var(d)) on J - 1 df, var with ddof=1. The n_test/n_train term accounts for the
    overlap of training sets that the naive resampled t test ignores. ``estimate`` is
    mean(d) with the interval mean(d) +/- t_(J-1) * that corrected standard error.
    """
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    confidence = _check_confidence(confidence, "corrected_resampled_ttest")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)) or n_repeats < 2:
        raise ValueError(MSG_N_REPEATS.format(got=n_repeats))
    is_fraction = isinstance(test_size, float) and 0 < test_size < 1
    is_count = isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and test_size >= 1
    if not (is_fraction or is_count):
        raise ValueError(MSG_TEST_SIZE.format(got=test_size))
    splitter_cls = StratifiedShuffleSplit if _stratify(estimator_a, estimator_b, y) else ShuffleSplit
    splitter = splitter_cls(n_splits=int(n_repeats), test_size=test_size, random_state=random_state)
    splits = list(splitter.split(X, y))
    n_train, n_test = len(splits[0][0]), len(splits[0][1])
    scores_a, scores_b = _paired_fold_scores(estimator_a, estimator_b, X, y, scoring, splits)
    diffs = scores_b - scores_a
    j = len(diffs)
    scale = math.sqrt((1 / j + n_test / n_train) * float(np.var(diffs, ddof=1)))
    mean = float(diffs.mean())
    return _t_result(
        "corrected resampled t",
        mean=mean,
        scale=scale,
        numerator=mean,
        df=j - 1,
        confidence=confidence,
        details={
            "differences": [float(d) for d in diffs],
            "scores_a": [float(s) for s in scores_a],
            "scores_b": [float(s) for s in scores_b],
            "n_train": n_train,
            "n_test": n_test,
            "scoring": _scoring_name(scoring),
            "splitter": splitter_cls.__name__,
        },
    )


# ---------------------------------------------------------------------------
# several models over blocks, and the non-inferiority decision
# ---------------------------------------------------------------------------
