"""Calibration maths: bins as scikit-learn's ``calibration_curve`` draws them, the
expected calibration error, the outcome a probability is about, and the Brier score.
Read by the calibration checks and by FR004 (calibration within groups)."""

from __future__ import annotations

from typing import Literal

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

Binning = Literal["uniform", "quantile"]


def bin_edges(prob: np.ndarray, *, bins: int, strategy: Binning) -> np.ndarray:
    """Bin edges as ``sklearn.calibration.calibration_curve`` draws them."""
    if strategy == "quantile":
        return np.percentile(prob, np.linspace(0, 100, bins + 1))
    return np.linspace(0.0, 1.0, bins + 1)


def calibration_bins(outcome: np.ndarray, prob: np.ndarray, *, bins: int = 10, strategy: Binning = "uniform"):
    """Per-bin rows, summed predicted probability and summed outcome.

    Rows are assigned to bins exactly as ``calibration_curve`` assigns them (a value on an
    inner edge falls in the lower bin), so the non-empty bins' ratios are its curve.
    Returns ``(edges, count, prob_sum, outcome_sum)``.
    """
    prob = np.asarray(prob, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    edges = bin_edges(prob, bins=bins, strategy=strategy)
    ids = np.searchsorted(edges[1:-1], prob)
    count = np.bincount(ids, minlength=bins)
    return edges, count, np.bincount(ids, weights=prob, minlength=bins), np.bincount(ids, weights=outcome, minlength=bins)


def expected_calibration_error(outcome: np.ndarray, prob: np.ndarray, *, bins: int = 10,
                               strategy: Binning = "uniform") -> float:
    """ECE: the row-weighted mean, over bins, of |observed frequency - mean predicted probability|.

    ``outcome`` is 0/1 (the positive class, or "the top label is right"); ``prob`` is the
    probability given to that outcome. Equals sum over bins of |outcomes - probabilities| / n.
    """
    _, count, p_sum, y_sum = calibration_bins(outcome, prob, bins=bins, strategy=strategy)
    return float(np.abs(y_sum - p_sum).sum() / max(count.sum(), 1))


def calibration_target(y: np.ndarray, scores: np.ndarray, task: str, positive: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The 0/1 outcome and the probability the model gave it.

    Binary: is the row positive, and the positive-class probability. Multiclass: is the
    top label right, and its probability (top-label confidence).
    """
    if task == "binary":
        return (y == positive).astype(float), np.asarray(scores, dtype=float), "positive-class probability"
    proba = np.asarray(scores, dtype=float)
    return (np.argmax(proba, axis=1) == y).astype(float), proba.max(axis=1), "top-label confidence"


def brier_score(y: np.ndarray, scores: np.ndarray, task: str, positive: int | None, k: int) -> tuple[float, float]:
    """Brier score (scikit-learn's: binary in [0, 1], multiclass the summed one-hot error in [0, 2])
    and the same score of always predicting the test rows' class shares."""
    from sklearn.metrics import brier_score_loss

    if task == "binary":
        target = (y == positive).astype(int)
        rate = target.mean()
        return float(brier_score_loss(target, scores, pos_label=1)), float(rate * (1 - rate))
    shares = np.bincount(y, minlength=k) / len(y)
    return float(brier_score_loss(y, scores, labels=list(range(k)))), float(1 - np.sum(shares**2))
