"""Test metrics from sums over rows, for an engine that cannot hold the rows (Spark).

:class:`OutputCells` is a reducer for ``ctx.stats.scored_sums``: it maps each labelled row to
the cells it adds to (its cell of the confusion matrix, its log-loss term, its bin of the
score histograms; for regression the sums of errors and of the target), so that the
metrics of :data:`auditor.toolkit.stats.CLASSIFICATION_METRICS` and ``REGRESSION_METRICS``
follow from the cell totals, and their Poisson-bootstrap intervals from the replicate
totals. Every metric but ROC AUC is exact; ROC AUC is computed from score histograms of
``bins`` equal-width bins on [0, 1] (ties inside a bin count one half), which puts it
within about 1/(2·bins) of the exact area (2,048 bins: 0.00025); the tests hold it to 0.002.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

#: Histogram bins of the positive-class score for ROC AUC.
DEFAULT_BINS = 2048
LOG_LOSS_EPS = 1e-15


@dataclass(frozen=True)
class OutputCells:
    """The cells whose totals give the test metrics (see the module docstring)."""

    task: str
    n_classes: int = 0
    #: Whether the model gives probabilities (log loss and ROC AUC are then summed).
    proba: bool = False
    positive: int | None = None
    bins: int = DEFAULT_BINS

    # -- layout -----------------------------------------------------------------------
    @property
    def classification(self) -> bool:
        return self.task != "regression"

    @property
    def auc_classes(self) -> list[int]:
        """The classes whose one-vs-rest ROC curves are histogrammed."""
        if not self.proba:
            return []
        return [int(self.positive)] if self.task == "binary" else list(range(self.n_classes))

    @property
    def size(self) -> int:
        if not self.classification:
            return 5  # rows, sum of squared errors, sum of absolute errors, sum of y, sum of y²
        k = self.n_classes
        return k * k + (1 if self.proba else 0) + 2 * self.bins * len(self.auc_classes)

    def __call__(self, y, pred, proba):
        """The (cell, value) contributions of a batch of labelled rows."""
        n = len(y)
        if not self.classification:
            e = y - pred
            cells = [np.full(n, i) for i in range(5)]
            values = [np.ones(n), e * e, np.abs(e), y, y * y]
            return self.size, list(zip(cells, values))
        k = self.n_classes
        known = (y >= 0) & (pred >= 0)
        # A label the model does not know, or a prediction outside the classes, is an error
        # that counts in no cell: the loaders refuse such targets before a check runs.
        out = [(np.where(known, y * k + pred, 0), known.astype(float))]
        offset = k * k
        if self.proba:
            p_true = np.clip(proba[np.arange(n), np.maximum(y, 0)], LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
            out.append((np.full(n, offset), np.where(y >= 0, -np.log(p_true), 0.0)))
            offset += 1
            for c in self.auc_classes:
                score = np.clip(proba[:, c], 0.0, 1.0)
                b = np.minimum((score * self.bins).astype(np.int64), self.bins - 1)
                is_c = (y == c).astype(np.int64)
                out.append((offset + is_c * self.bins + b, (y >= 0).astype(float)))
                offset += 2 * self.bins
        return self.size, out

    # -- metrics from totals ----------------------------------------------------------------
    def confusion(self, v) -> np.ndarray:
        k = self.n_classes
        return np.asarray(v[: k * k]).reshape(k, k)

    def supports(self, v) -> np.ndarray:
        return self.confusion(v).sum(axis=1)

    def metrics(self, v) -> dict[str, float]:
        """The metrics of one vector of cell totals (the whole data's, or a replicate's)."""
        v = np.asarray(v, dtype=float)
        if not self.classification:
            n, sse, sae, sy, syy = v
            if n <= 0:
                return {"rmse": np.nan, "mae": np.nan, "r2": np.nan}
            sst = syy - sy * sy / n
            return {"rmse": float(np.sqrt(sse / n)), "mae": float(sae / n), "r2": float(1 - sse / sst) if sst > 0 else np.nan}
        cm = self.confusion(v)
        n = cm.sum()
        support, predicted, correct = cm.sum(axis=1), cm.sum(axis=0), np.diag(cm)
        out: dict[str, float] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            out["accuracy"] = float(correct.sum() / n) if n else np.nan
            present = support > 0
            out["balanced_accuracy"] = float(np.mean(correct[present] / support[present])) if present.any() else np.nan
            f1 = np.where(support + predicted > 0, 2 * correct / (support + predicted), 0.0)
            if self.task == "binary":
                out["f1"] = float(f1[self.positive])
            else:
                # scikit-learn's macro F1 averages over the labels seen in the truth or the predictions
                seen = (support + predicted) > 0
                out["f1"] = float(np.mean(f1[seen])) if seen.any() else np.nan
        if self.proba:
            k = self.n_classes
            out["log_loss"] = float(v[k * k] / n) if n else np.nan
            offset = k * k + 1
            aucs = []
            for _ in self.auc_classes:
                neg = v[offset: offset + self.bins]
                pos = v[offset + self.bins: offset + 2 * self.bins]
                aucs.append(binned_auc(pos, neg))
                offset += 2 * self.bins
            valid = [a for a in aucs if not np.isnan(a)]
            out["roc_auc"] = float(np.mean(valid)) if valid and len(valid) == len(aucs) else np.nan
        return out


def binned_auc(pos, neg) -> float:
    """The area under the ROC curve from score histograms of the positives and negatives
    (the Mann-Whitney statistic, a tie inside a bin counting one half)."""
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos <= 0 or n_neg <= 0:
        return np.nan
    below = np.cumsum(neg) - neg  # negatives in lower bins
    return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))


def replicate_metrics(cells: OutputCells, replicates) -> dict[str, np.ndarray]:
    """Each metric over the replicate totals (shape (B, m)): one value per replicate."""
    rows = [cells.metrics(r) for r in np.asarray(replicates)]
    return {name: np.array([r[name] for r in rows]) for name in (rows[0] if rows else {})}
