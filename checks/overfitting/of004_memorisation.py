"""OF004 memorisation: near-perfect training performance that the test set does not share."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Findings, Metric
from auditor.toolkit.evaluation import model_outputs
from auditor.toolkit.stats import bootstrap_batch_size
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


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
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.6.2.4")
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
