"""Statistics of paired model comparison: is the candidate (B) better than the baseline (A)?

Every function compares two models on the *same* rows (or the same resampling splits)
and reports the candidate minus the baseline (B - A) in the metric's units. They are
pure: keyword-only arguments, a seed where anything is random, no I/O, and results as
plain data (:class:`TestResult` or a dict of JSON-ready values).

Where a library computes the thing, it does: statsmodels' ``mcnemar`` and Wilson
intervals, SciPy's ``bootstrap``, ``permutation_test``, ``friedmanchisquare``,
``studentized_range`` and ``t``, scikit-learn's splitters, ``cross_validate`` and
scorers. Hand-written, each with its paper cited, are only the pieces none of them has:
DeLong's variance of correlated AUCs, Newcombe's interval for paired proportions, the
5x2cv and corrected resampled t statistics, and Nemenyi's critical difference.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
stats = lazy_module("scipy.stats")


CIMethod = Literal["percentile", "basic", "BCa"]

MSG_CONFIDENCE = "The 'confidence' parameter of {func} must be a number in (0, 1). Got {got!r} instead."
MSG_LENGTHS = "The {names} parameters of {func} must have the same number of rows. Got {lengths} instead."
MSG_EMPTY = "The 'y_true' parameter of {func} must have at least {minimum} rows. Got {got} instead."
MSG_BINARY = (
    "The 'y_true' parameter of delong_test must be binary (0/1 or bool) with at least two rows "
    "of each class. Got {got} instead."
)
MSG_SCORES = "The '{name}' parameter of delong_test must be finite numbers. Got {got} instead."
MSG_EXACT = "The 'exact' parameter of mcnemar_test must be True, False or None. Got {got!r} instead."
MSG_METHOD = "The 'method' parameter of paired_bootstrap_test must be one of {allowed}. Got {got!r} instead."
MSG_N_RESAMPLES = "The 'n_resamples' parameter of {func} must be an integer >= 1. Got {got!r} instead."
MSG_METRIC_UNDEFINED = "The metric is undefined on the full data ({reason}); {func} cannot compare the models."
MSG_ALL_RESAMPLES_UNDEFINED = (
    "The metric was undefined on all {n} bootstrap resamples (for example one class only); "
    "paired_bootstrap_test has no distribution to use."
)
MSG_SCORES_SHAPE = (
    "The 'scores' parameter of friedman_nemenyi must be a finite 2-D array (n_blocks >= 2, "
    "k_models >= 3) with one column per name. Got shape {shape} for {k} names instead."
)
MSG_NAMES_UNIQUE = "The 'names' parameter of friedman_nemenyi must hold unique names. Got {got} instead."
MSG_ALPHA = "The 'alpha' parameter of friedman_nemenyi must be a number in (0, 1). Got {got!r} instead."
MSG_MARGIN = "The 'margin' parameter of non_inferiority must be a finite number >= 0. Got {got!r} instead."
MSG_INTERVAL = (
    "The 'ci_low' and 'ci_high' parameters of non_inferiority must be finite with ci_low <= ci_high. "
    "Got ci_low={low!r}, ci_high={high!r} instead."
)


@dataclass(frozen=True)
class TestResult:
    """One paired comparison: the test, its p-value and the estimate of B - A with its interval."""

    __test__ = False  # not a pytest test class, despite the name

    test: str
    statistic: float | None
    p_value: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_confidence(confidence: float, func: str) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(MSG_CONFIDENCE.format(func=func, got=confidence))
    return float(confidence)


def _check_rows(func: str, minimum: int = 1, **arrays: Any) -> list[np.ndarray]:
    values = [np.asarray(a) for a in arrays.values()]
    lengths = [len(v) if v.ndim else 0 for v in values]
    if len(set(lengths)) != 1:
        names = ", ".join(f"'{k}'" for k in arrays)
        raise ValueError(MSG_LENGTHS.format(names=names, func=func, lengths=lengths))
    if lengths[0] < minimum:
        raise ValueError(MSG_EMPTY.format(func=func, minimum=minimum, got=lengths[0]))
    return values


def _check_n_resamples(n_resamples: int, func: str) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(MSG_N_RESAMPLES.format(func=func, got=n_resamples))
    return int(n_resamples)


def _float_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------
# McNemar
# ---------------------------------------------------------------------------


def _newcombe_paired_interval(
    both: int, b_only: int, a_only: int, neither: int, *, confidence: float
) -> tuple[float, float]:
    """Newcombe's square-and-add (hybrid score) interval for p_B - p_A on paired data.

    Newcombe, R. G. (1998). Improved confidence intervals for the difference between
    binomial proportions based on paired data. Statistics in Medicine 17, 2635-2650,
    method 10: Wilson intervals for the two marginal proportions combined through the
    estimated correlation phi, with phi's numerator ``ad - bc`` shrunk by ``n/2`` when
    positive (as in Fagerland, Lydersen & Laake (2017), Statistical Analysis of
    Contingency Tables, ch. 8, and Altman et al. (2000), Statistics with Confidence).
    The table is rows B correct / wrong by columns A correct / wrong.
    """
    from statsmodels.stats.proportion import proportion_confint

    n = both + b_only + a_only + neither
    b_right, a_right = both + b_only, both + a_only
    p_b, p_a = b_right / n, a_right / n
    l_b, u_b = proportion_confint(b_right, n, alpha=1 - confidence, method="wilson")
    l_a, u_a = proportion_confint(a_right, n, alpha=1 - confidence, method="wilson")
    margins = b_right * (n - b_right) * a_right * (n - a_right)
    phi = 0.0
    if margins > 0:
        cross = both * neither - b_only * a_only
        if cross > n / 2:
            phi = (cross - n / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    d = p_b - p_a
    low = d - math.sqrt(max((p_b - l_b) ** 2 + (u_a - p_a) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a), 0.0))
    high = d + math.sqrt(max((u_b - p_b) ** 2 + (p_a - l_a) ** 2 - 2 * phi * (u_b - p_b) * (p_a - l_a), 0.0))
    return max(low, -1.0), min(high, 1.0)


def mcnemar_test(*, y_true, pred_a, pred_b, confidence: float = 0.95, exact: bool | None = None) -> TestResult:
    """McNemar's test on the 2x2 table of (A correct?, B correct?) over the same rows.

    The p-value is statsmodels' ``mcnemar``: the exact binomial test on the discordant
    pairs when there are fewer than 25 of them (``exact=None``; ``True``/``False``
    forces one), else chi-square with continuity correction ``(|b01 - b10| - 1)^2 /
    (b01 + b10)`` on 1 df. ``statistic`` is that chi-square, or for the exact test
    statsmodels' ``min(b01, b10)``. With no discordant pair the test is exact (p = 1).

    ``estimate`` is accuracy_B - accuracy_A = (b01 - b10) / n, with Newcombe's (1998)
    paired square-and-add interval (method 10; see ``_newcombe_paired_interval``).
    ``b01`` counts rows A got wrong and B got right; ``b10`` the reverse.
    """
    func = "mcnemar_test"
    confidence = _check_confidence(confidence, func)
    if exact not in (None, True, False):
        raise ValueError(MSG_EXACT.format(got=exact))
    y, a, b = _check_rows(func, y_true=y_true, pred_a=pred_a, pred_b=pred_b)
    a_ok, b_ok = a == y, b == y
    both = int(np.sum(a_ok & b_ok))
    b10 = int(np.sum(a_ok & ~b_ok))
    b01 = int(np.sum(~a_ok & b_ok))
    neither = int(np.sum(~a_ok & ~b_ok))
    n = len(y)
    discordant = b01 + b10
    use_exact = discordant < 25 if exact is None else bool(exact)
    if discordant == 0:
        use_exact = True

    from statsmodels.stats.contingency_tables import mcnemar

    res = mcnemar([[both, b10], [b01, neither]], exact=use_exact, correction=True)
    low, high = _newcombe_paired_interval(both, b01, b10, neither, confidence=confidence)
    return TestResult(
        test="McNemar",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        estimate=(b01 - b10) / n,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        details={
            "b01": b01,
            "b10": b10,
            "both_correct": both,
            "both_wrong": neither,
            "n": n,
            "accuracy_a": (both + b10) / n,
            "accuracy_b": (both + b01) / n,
            "method": "exact binomial" if use_exact else "chi-square with continuity correction",
            "interval": "Newcombe (1998) paired square-and-add (method 10)",
        },
    )


# ---------------------------------------------------------------------------
# DeLong
# ---------------------------------------------------------------------------


def _delong_auc_covariance(positives: np.ndarray, negatives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of k scorers and DeLong's covariance matrix of them, by midranks.

    DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44, 837-845: the AUC is the mean
    of the structural components V10 (share of negatives each positive outranks, ties
    counting 1/2) and its covariance is S10/m + S01/n. Sun & Xu (2014), IEEE Signal
    Processing Letters 21, 1389-1393, compute the components from midranks in
    O(N log N): V10 = (rank among all - rank among positives) / n, and
    V01 = 1 - (rank among all - rank among negatives) / m.

    ``positives`` is (k, m) and ``negatives`` (k, n); returns (aucs (k,), cov (k, k)).
    """
    m, n = positives.shape[1], negatives.shape[1]
    ranks_pos = stats.rankdata(positives, axis=1)
    ranks_neg = stats.rankdata(negatives, axis=1)
    ranks_all = stats.rankdata(np.hstack([positives, negatives]), axis=1)
    v10 = (ranks_all[:, :m] - ranks_pos) / n
    v01 = 1.0 - (ranks_all[:, m:] - ranks_neg) / m
    aucs = v10.mean(axis=1)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, cov


def delong_test(*, y_true, score_a, score_b, confidence: float = 0.95) -> TestResult:
    """DeLong's test for two correlated ROC AUCs on the same rows (binary ``y_true``).

    DeLong, DeLong & Clarke-Pearson (1988) with Sun & Xu's (2014) midrank algorithm
    (see ``_delong_auc_covariance``). Scores: higher means positive class. ``statistic``
    is z = (AUC_B - AUC_A) / sqrt(var_A + var_B - 2 cov_AB); the p-value is two-sided
    normal; the interval is estimate +/- z_(1+confidence)/2 * se. Needs two rows of each
    class (the variance divides by m - 1 and n - 1). Identical rankings give z = 0,
    p = 1; a zero variance with a nonzero difference gives statistic and p-value None.
    """
    func = "delong_test"
    confidence = _check_confidence(confidence, func)
    y, a, b = _check_rows(func, y_true=y_true, score_a=score_a, score_b=score_b)
    classes = set(np.unique(y).tolist())
    if not classes <= {0, 1}:  # True/False compare equal to 1/0; "1" and 2 do not
        raise ValueError(MSG_BINARY.format(got=f"values {sorted(map(str, classes))}"))
    y = y.astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        raise ValueError(MSG_BINARY.format(got=f"{m} positive and {n} negative rows"))
    scores = []
    for name, s in (("score_a", a), ("score_b", b)):
        if s.dtype.kind not in "biuf":
            raise ValueError(MSG_SCORES.format(name=name, got=f"dtype {s.dtype}"))
        if not np.all(np.isfinite(s.astype(float))):
            raise ValueError(MSG_SCORES.format(name=name, got="non-finite values"))
        scores.append(s.astype(float))
    scores_arr = np.vstack(scores)
    aucs, cov = _delong_auc_covariance(scores_arr[:, y], scores_arr[:, ~y])
    diff = float(aucs[1] - aucs[0])
    var = max(float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]), 0.0)
    se = math.sqrt(var)
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    details: dict[str, Any] = {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "var_a": float(cov[0, 0]),
        "var_b": float(cov[1, 1]),
        "cov_ab": float(cov[0, 1]),
        "standard_error": se,
        "n_positive": m,
        "n_negative": n,
    }
    if se > 0:
        z = diff / se
        p = float(2 * stats.norm.sf(abs(z)))
    elif diff == 0:
        z, p = 0.0, 1.0
    else:
        z, p = None, None
        details["note"] = "zero variance of the AUC difference"
    return TestResult(
        test="DeLong",
        statistic=z,
        p_value=p,
        estimate=diff,
        ci_low=diff - z_crit * se,
        ci_high=diff + z_crit * se,
        confidence=confidence,
        details=details,
    )


# ---------------------------------------------------------------------------
# resampling tests on any metric
# ---------------------------------------------------------------------------


def _metric_difference(metric: Callable, y: np.ndarray, out_a: np.ndarray, out_b: np.ndarray, func: str) -> float:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(metric(y, out_b)) - float(metric(y, out_a))
    except ValueError as exc:
        raise ValueError(MSG_METRIC_UNDEFINED.format(reason=exc, func=func)) from exc
    if not math.isfinite(value):
        raise ValueError(MSG_METRIC_UNDEFINED.format(reason="it is not finite", func=func))
    return value


def paired_bootstrap_test(
    *,
    metric: Callable[[Any, Any], float],
    y_true,
    out_a,
    out_b,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
    method: CIMethod = "percentile",
) -> TestResult:
    """Paired bootstrap of metric(B) - metric(A): the same resampled rows for both models.

    The interval is ``scipy.stats.bootstrap`` over row indices (``paired=True``) with
    ``method`` ("percentile" by default, "basic" or "BCa"). The two-sided p-value tests
    a zero difference with the bootstrap distribution shifted to the null (Efron &
    Tibshirani 1993, sec. 16.4; Hall & Wilson 1991):
    p = (1 + #{|d*_b - d| >= |d|}) / (1 + B), where d is the observed difference, d*_b
    the resampled ones and B the resamples where the metric is defined; it is 1 when
    d = 0 and never 0. ``statistic`` is d. Resamples on which the metric is undefined
    (it raises ValueError or returns NaN, for example one class only) are dropped and
    counted in ``details["n_undefined"]``; the interval is computed from the rest.
    ``out_a``/``out_b`` may be labels, scores or (n, k) probabilities.
    """
    func = "paired_bootstrap_test"
    confidence = _check_confidence(confidence, func)
    n_resamples = _check_n_resamples(n_resamples, func)
    methods = {"percentile": "percentile", "basic": "basic", "bca": "BCa"}
    if not isinstance(method, str) or method.lower() not in methods:
        raise ValueError(MSG_METHOD.format(allowed=sorted(methods.values()), got=method))
    y, a, b = _check_rows(func, minimum=2, y_true=y_true, out_a=out_a, out_b=out_b)
    observed = _metric_difference(metric, y, a, b, func)

    def statistic(idx):
        idx = idx.astype(int)
        try:
            value = float(metric(y[idx], b[idx])) - float(metric(y[idx], a[idx]))
        except ValueError:
            return np.nan
        return value if math.isfinite(value) else np.nan

    import sklearn

    # Inputs were validated once above; skipping scikit-learn's per-call validation
    # makes the resamples several times cheaper. Warnings about undefined metrics on
    # single resamples are the NaNs counted below.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = np.arange(len(y))
        kwargs = {
            "vectorized": False,
            "paired": True,
            "confidence_level": confidence,
            "method": methods[method.lower()],
        }
        res = stats.bootstrap(
            (index,), statistic, n_resamples=n_resamples, random_state=np.random.default_rng(random_state), **kwargs
        )
        distribution = np.asarray(res.bootstrap_distribution, dtype=float)
        valid = distribution[np.isfinite(distribution)]
        if valid.size == 0:
            raise ValueError(MSG_ALL_RESAMPLES_UNDEFINED.format(n=n_resamples))
        if valid.size < distribution.size:
            # Recompute the interval from the defined resamples only (scipy reuses a
            # given distribution when n_resamples is 0).
            res = stats.bootstrap(
                (index,), statistic, n_resamples=0, bootstrap_result=_Distribution(valid), **kwargs
            )
    p_value = (1 + int(np.sum(np.abs(valid - observed) >= abs(observed)))) / (1 + valid.size)
    low, high = _float_or_none(res.confidence_interval.low), _float_or_none(res.confidence_interval.high)
    details: dict[str, Any] = {
        "n": len(y),
        "n_resamples": n_resamples,
        "n_undefined": int(distribution.size - valid.size),
        "standard_error": float(np.std(valid, ddof=1)) if valid.size > 1 else None,
        "method": methods[method.lower()],
        "p_value_method": "shifted-null bootstrap, two-sided: (1 + #{|d* - d| >= |d|}) / (1 + B)",
    }
    if low is None or high is None:
        low = high = None
        details["interval_note"] = "the bootstrap interval could not be computed (degenerate distribution)"
    return TestResult(
        test="paired bootstrap",
        statistic=observed,
        p_value=float(p_value),
        estimate=observed,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        details=details,
    )


@dataclass
class _Distribution:
    """Stands in for a ``BootstrapResult`` when handing scipy a filtered distribution."""

    bootstrap_distribution: np.ndarray


def paired_permutation_test(
    *,
    metric: Callable[[Any, Any], float],
    y_true,
    out_a,
    out_b,
    n_resamples: int = 1000,
    random_state: int = 0,
) -> TestResult:
    """Paired permutation test of metric(B) - metric(A) = 0, two-sided.

    ``scipy.stats.permutation_test`` with ``permutation_type="samples"``: under the null
    the two models' outputs are exchangeable row by row, so each permutation swaps A's
    and B's output on a random subset of rows (the labels stay put). The test runs on
    row indices into the stacked outputs, so labels, scores and (n, k) probabilities
    all work; SciPy enumerates all 2^n swaps exactly when 2^n <= ``n_resamples``.
    ``statistic`` and ``estimate`` are the observed difference. There is no interval
    (``ci_low``/``ci_high`` None; ``confidence`` is recorded as 0.95 only to fill the field).
    """
    func = "paired_permutation_test"
    n_resamples = _check_n_resamples(n_resamples, func)
    y, a, b = _check_rows(func, minimum=2, y_true=y_true, out_a=out_a, out_b=out_b)
    observed = _metric_difference(metric, y, a, b, func)
    stacked = np.concatenate([a, b])
    n = len(y)

    def statistic(idx_a, idx_b):
        return float(metric(y, stacked[idx_b.astype(int)])) - float(metric(y, stacked[idx_a.astype(int)]))

    import sklearn

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.permutation_test(
            (np.arange(n), np.arange(n) + n),
            statistic,
            permutation_type="samples",
            vectorized=False,
            n_resamples=n_resamples,
            alternative="two-sided",
            random_state=np.random.default_rng(random_state),
        )
    null = np.asarray(res.null_distribution, dtype=float)
    return TestResult(
        test="paired permutation",
        statistic=observed,
        p_value=float(res.pvalue),
        estimate=observed,
        ci_low=None,
        ci_high=None,
        confidence=0.95,
        details={
            "n": n,
            "n_resamples": int(null.size),
            "exact": bool(2**n <= n_resamples) if n < 63 else False,
        },
    )


# ---------------------------------------------------------------------------
# t tests over resampled training runs
# ---------------------------------------------------------------------------


def friedman_nemenyi(*, scores, names, alpha: float = 0.05, higher_is_better: bool = True) -> dict[str, Any]:
    """Friedman test over k >= 3 models and Nemenyi's critical difference of average ranks.

    Demšar, J. (2006). Statistical comparisons of classifiers over multiple data sets.
    JMLR 7, 1-30. ``scores`` is (n_blocks, k_models): one metric value per block (CV
    fold or disjoint test chunk) and model. The Friedman statistic and p-value are
    ``scipy.stats.friedmanchisquare`` (tie-corrected chi-square). Ranks are
    ``scipy.stats.rankdata`` within each block, 1 = best, ties averaged. Nemenyi:
    CD = q_alpha * sqrt(k (k + 1) / (6 N)) with q_alpha the studentized range quantile
    ``studentized_range.ppf(1 - alpha, k, inf) / sqrt(2)``; two models differ when
    their average ranks differ by more than CD.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(MSG_ALPHA.format(got=alpha))
    names = [str(n) for n in names]
    table = np.asarray(scores, dtype=float)
    well_formed = table.ndim == 2 and table.shape[0] >= 2 and table.shape[1] >= 3 and table.shape[1] == len(names)
    if not well_formed or not np.all(np.isfinite(table)):
        raise ValueError(MSG_SCORES_SHAPE.format(shape=table.shape, k=len(names)))
    if len(set(names)) != len(names):
        raise ValueError(MSG_NAMES_UNIQUE.format(got=names))
    n_blocks, k = table.shape
    friedman = stats.friedmanchisquare(*table.T)
    ranks = stats.rankdata(-table if higher_is_better else table, axis=1)
    average = ranks.mean(axis=0)
    q_alpha = float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    cd = q_alpha * math.sqrt(k * (k + 1) / (6 * n_blocks))
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            gap = float(abs(average[i] - average[j]))
            pairs.append({"a": names[i], "b": names[j], "rank_difference": gap, "significant": gap > cd})
    statistic = _float_or_none(friedman.statistic)
    return {
        "statistic": statistic,
        "p_value": _float_or_none(friedman.pvalue) if statistic is not None else 1.0,
        "average_ranks": {name: float(r) for name, r in zip(names, average)},
        "critical_difference": cd,
        "q_alpha": q_alpha,
        "alpha": float(alpha),
        "n_blocks": n_blocks,
        "pairs": pairs,
    }


def non_inferiority(*, estimate, ci_low, ci_high, margin, higher_is_better: bool = True) -> dict[str, Any]:
    """Is the candidate B non-inferior to the baseline A within ``margin``?

    The interval is of B - A in the metric's units, as every test here reports it.
    Higher-is-better metrics: B is non-inferior when ci_low > -margin (the whole
    interval lies above -margin). Lower-is-better metrics (losses, errors): when
    ci_high < +margin. A bound exactly at the margin is not enough.

    The caller chooses the interval's level: a one-sided non-inferiority test at level
    alpha uses the two-sided (1 - 2 alpha) interval, so pass, e.g., the 90% interval
    (``confidence=0.90``) for a one-sided test at alpha = 0.05; a 95% interval gives a
    one-sided test at 0.025 (the usual regulatory convention).
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin) or margin < 0:
        raise ValueError(MSG_MARGIN.format(got=margin))
    finite = all(
        isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and math.isfinite(v) for v in (ci_low, ci_high)
    )
    if not finite or ci_low > ci_high:
        raise ValueError(MSG_INTERVAL.format(low=ci_low, high=ci_high))
    margin = float(margin)
    if higher_is_better:
        bound = float(ci_low)
        ok = bound > -margin
        rule = f"lower bound {bound:.6g} of B - A {'>' if ok else '<='} -margin {-margin:.6g}"
    else:
        bound = float(ci_high)
        ok = bound < margin
        rule = f"upper bound {bound:.6g} of B - A {'<' if ok else '>='} +margin {margin:.6g}"
    est = "" if estimate is None else f" (estimate {float(estimate):.6g})"
    return {"non_inferior": bool(ok), "margin": margin, "bound": bound, "decided_by": rule + est}
