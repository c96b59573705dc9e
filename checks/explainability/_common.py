"""What the explainability checks share: the family's seeded sample and score, permutation
importance (once, and on bootstrap resamples), the correlated groups, the family's
parameters, and the small helpers their results use. The SHAP attributions and their
explainer are in ``_shap.py``.

Each shared computation is memoised on the ``AuditContext`` (see the family's docstring
in ``checks/explainability/__init__.py``), so the checks that read it compute it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.contract.adapters import model_raised
from auditor.contract.check import Param
from auditor.contract.results import Findings
from auditor.util import wording

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.contract.context import AuditContext
    from auditor.toolkit.encoded import EncodedView

#: The family's shared sample is drawn with this key, so that every EX check sees the same rows.
FAMILY = "EX"
#: Evidence tables and figures show at most this many features.
MAX_SHOWN = 15

# Parameters the family shares: every check that reads a shared computation declares the
# parameters that computation depends on, so a policy can set them per check.
ROWS = Param(default=1000, kind="int", low=50, high=1_000_000,
             help="test rows sampled for permutation importance (seeded; shared by the family)")
REPEATS = Param(default=3, kind="int", low=1, high=50, help="shuffles of each column per permutation-importance run")
RUNS = Param(default=6, kind="int", low=3, high=100,
             help="bootstrap resamples of the test sample, each with its own shuffling seed")
SHAP_ROWS = Param(default=100, kind="int", low=20, high=100_000, help="test rows explained with SHAP")
BACKGROUND = Param(default=30, kind="int", low=5, high=5000, help="training rows the model-agnostic SHAP explainer masks with")
TOP_K = Param(default=5, kind="int", low=1, high=100, help="how many leading features count as the top features")
MIN_SHARE = Param(default=0.05, kind="float", low=0.0, high=1.0,
                  help="a feature counts among the top ones only with at least this share of the top feature's importance")
MIN_CORR = Param(default=0.8, kind="float", low=0.3, high=1.0,
                 help="|Spearman correlation| at which numeric features are grouped as near-copies")


# -- shared computations ------------------------------------------------------------------
def _sample(ctx: AuditContext, role: str, rows: int):
    """Inputs, integer-coded labels and the ``sample`` record of the family's seeded sample of a role."""

    def compute():
        from auditor.toolkit.stats import encode_labels

        X, y, record = ctx.labelled_sample(role, rows, check_id=FAMILY)
        record = dict(record, rows_used=len(X))
        y = encode_labels(y.to_numpy(), ctx.classes) if ctx.is_classification else y.to_numpy(dtype=float)
        return X.reset_index(drop=True), y, record

    return ctx.memo(("explainability", "sample", role, rows), compute)


def _score_name(ctx: AuditContext) -> str:
    if ctx.task == "regression":
        return "r2"
    return "roc_auc" if ctx.task == "binary" and ctx.model.has_proba else "balanced_accuracy"


def _sample_problem(ctx: AuditContext, role: str, y: np.ndarray) -> str | None:
    if len(y) < 20:
        return f"only {len(y)} labelled {role} rows: too few to measure importance"
    if ctx.is_classification and len(np.unique(y)) < 2:
        return f"the sampled {role} rows hold a single class, so the model's score (and any drop in it) is undefined"
    return None


#: Rows per model call when permuted copies of the sample are stacked (bounds memory).
STACK_ROWS = 200_000


def _outputs(ctx: AuditContext, X: pd.DataFrame | np.ndarray, view: EncodedView | None = None) -> np.ndarray:
    """What the family's score is computed from: the positive-class probability (ROC AUC),
    integer-coded predicted classes (balanced accuracy) or predicted values (R²); of the
    model on the frame ``X``, or, given the model's column-wise ``view``, of its final
    estimator on the encoded matrix ``X``."""
    from auditor.toolkit.stats import encode_labels

    def call(proba: bool = False):
        if view is None:
            return ctx.call_model(X, proba=proba)
        try:
            return view.predict_proba(X) if proba else view.predict(X)
        except Exception as exc:
            raise model_raised("new inputs", exc) from exc

    name = _score_name(ctx)
    if name == "r2":
        return np.asarray(call(), dtype=float)
    if name == "roc_auc":
        proba = np.asarray(call(proba=True), dtype=float)
        return proba[:, ctx.positive_index]
    return encode_labels(np.asarray(call()), ctx.classes).astype(float)


def _reference_outputs(ctx: AuditContext, role: str, rows: int) -> np.ndarray:
    """``_outputs`` on the family's unshuffled sample, read from the predictions the context
    already holds for the whole dataset (its one prediction pass) instead of calling the model."""

    def compute():
        from auditor.toolkit.stats import encode_labels

        idx, _ = ctx.sample_index(role, rows, check_id=FAMILY)
        rows_kept = idx[~ctx.y(role).iloc[idx].isna().to_numpy()]  # as labelled_sample keeps them, in order
        name = _score_name(ctx)
        if name == "r2":
            return np.asarray(ctx.predictions(role), dtype=float)[rows_kept]
        if name == "roc_auc":
            return np.asarray(ctx.probabilities(role), dtype=float)[rows_kept, ctx.positive_index]
        return encode_labels(np.asarray(ctx.predictions(role))[rows_kept], ctx.classes).astype(float)

    return ctx.memo(("explainability", "reference outputs", role, rows), compute)


def _score(ctx: AuditContext, y: np.ndarray, out: np.ndarray) -> float:
    return float(_scores(ctx, y, out[None, :])[0])


def _scores(ctx: AuditContext, y: np.ndarray, outs: np.ndarray) -> np.ndarray:
    """The family's score of each row of ``outs`` (shape (k, rows)) against ``y`` (shape (rows,)
    or (k, rows)), in one array operation (:func:`auditor.toolkit.stats.batched_metric`, equal to
    scikit-learn's metric)."""
    from auditor.toolkit.stats import batched_metric

    name = _score_name(ctx)
    task = "regression" if name == "r2" else ("binary" if name == "roc_auc" else ctx.task)
    # y is integer-coded by class index, so the positive class's code is its index: with the
    # positive label at classes[0] (a minority class sorted first) "1" would score the other class.
    score = batched_metric(name, task=task, positive_label=ctx.positive_index if name == "roc_auc" else 1)
    if name == "balanced_accuracy":
        outs = outs.astype(int)
    return np.asarray(score(np.broadcast_to(y, outs.shape), outs), dtype=float)


def _permuted_outputs(ctx: AuditContext, X: pd.DataFrame, *, shuffles: int, seed: int,
                      keep: list[np.ndarray] | None = None):
    """For each input column in turn: (column index, the model's outputs on ``shuffles`` copies
    of ``X`` with that column shuffled, shape (shuffles, rows)).

    This is permutation importance's measurement (scikit-learn's ``permutation_importance``
    shuffles a column and scores the model, once per column and shuffle). Here the shuffled
    copies of a column are stacked and sent to the model together, at most ``STACK_ROWS``
    rows a call: a pipeline pays a fixed cost per call that, over hundreds of small calls,
    outweighs the prediction itself. When the model is a column-wise encoding followed by
    an estimator (:mod:`auditor.toolkit.encoded`), the sample is encoded once and the column's
    encoded columns are shuffled instead: the same inputs reach the estimator, without
    encoding every copy again. The outputs, not only the scores, are kept so the bootstrap
    resamples of EX002 can be scored without calling the model again.

    ``keep[s]`` (sorted row positions), when given, limits copy ``s`` to the rows whose
    outputs are read (a bootstrap resample's); the other outputs are NaN. The column is
    still shuffled over the whole sample, so the kept outputs are the same either way.
    """
    import pandas as pd

    from auditor.toolkit.encoded import encoded_view

    view = encoded_view(ctx)
    encoded = view.encode(X) if view is not None else None
    rng = np.random.default_rng(seed)
    n = len(X)
    rows = keep if keep is not None else [np.arange(n)] * shuffles
    for j, column in enumerate(X.columns):
        orders = [rng.permutation(n) for _ in range(shuffles)]
        out = np.full((shuffles, n), np.nan)
        first = 0
        while first < shuffles:
            last, size = first + 1, len(rows[first])
            while last < shuffles and size + len(rows[last]) <= STACK_ROWS:
                size += len(rows[last])
                last += 1
            block = range(first, last)
            if view is not None:
                cols = view.groups[str(column)]
                stacked = np.concatenate([encoded[rows[s]] for s in block])
                stacked[:, cols] = np.concatenate([encoded[orders[s][rows[s]]][:, cols] for s in block])
                values = _outputs(ctx, stacked, view)
            else:
                stacked = pd.concat([X.iloc[rows[s]] for s in block], ignore_index=True)
                stacked[column] = pd.concat([X[column].iloc[orders[s][rows[s]]] for s in block], ignore_index=True)
                values = _outputs(ctx, stacked)
            start = 0
            for s in block:
                out[s, rows[s]] = values[start:start + len(rows[s])]
                start += len(rows[s])
            first = last
        yield j, out


def permutation(ctx: AuditContext, role: str, *, rows: int, repeats: int) -> dict[str, Any]:
    """Permutation importance of every input column on the family's sample of ``role``:
    the mean and standard deviation over ``repeats`` shuffles of the score's drop."""

    def compute():
        X, y, _ = _sample(ctx, role, rows)
        baseline = _score(ctx, y, _reference_outputs(ctx, role, rows))
        drops = np.empty((X.shape[1], repeats))
        for j, out in _permuted_outputs(ctx, X, shuffles=repeats, seed=ctx.seed_for(FAMILY)):
            drops[j] = baseline - _scores(ctx, y, out)
        return {"mean": drops.mean(axis=1), "std": drops.std(axis=1), "baseline": baseline}

    return ctx.memo(("explainability", "permutation", role, rows, repeats), compute)


def stability_runs(ctx: AuditContext, *, rows: int, repeats: int, runs: int) -> np.ndarray:
    """Permutation importance recomputed on ``runs`` bootstrap resamples of the test sample,
    each with its own shuffles: shape (runs, features).

    Every run draws its own ``repeats`` shuffles of each column (on the whole sample, so the
    model is called once for all runs) and its own bootstrap resample of the rows, and
    scores the resampled rows of those shuffled copies (only the distinct rows of a
    resample are sent to the model).
    """

    def compute():
        X, y, _ = _sample(ctx, "test", rows)
        base = ctx.seed_for(FAMILY)
        rng = np.random.default_rng(base + 1)
        resamples = []
        for _ in range(runs):
            idx = rng.integers(0, len(y), size=len(y))
            if ctx.is_classification and len(np.unique(y[idx])) < 2:
                idx = np.arange(len(y))  # a one-class resample has no score; keep the sample itself
            resamples.append(idx)
        reference = _reference_outputs(ctx, "test", rows)
        idx = np.stack(resamples)  # (runs, rows)
        baselines = _scores(ctx, y[idx], reference[idx])
        each = np.repeat(idx, repeats, axis=0)  # the resample of each shuffled copy, run by run
        keep = [np.unique(rows) for rows in each]  # a resample holds about 63% of the rows: only those are predicted
        out = np.empty((runs, X.shape[1]))
        for j, shuffled in _permuted_outputs(ctx, X, shuffles=repeats * runs, seed=base + 2, keep=keep):
            drops = np.repeat(baselines, repeats) - _scores(ctx, y[each], np.take_along_axis(shuffled, each, axis=1))
            out[:, j] = drops.reshape(runs, repeats).mean(axis=1)
        return out

    return ctx.memo(("explainability", "stability", rows, repeats, runs), compute)


def correlated_groups(ctx: AuditContext, *, rows: int, min_corr: float) -> dict[str, Any]:
    """Numeric features clustered on |Spearman correlation| (average linkage), cut at ``min_corr``."""

    def compute():
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        from auditor.util.columns import is_numeric

        X, _, _ = _sample(ctx, "test", rows)
        numeric = [c for c in ctx.features if is_numeric(X[c]) and X[c].nunique(dropna=True) > 1]
        skipped = [c for c in ctx.features if c not in numeric]
        if len(numeric) < 2:
            return {"numeric": numeric, "skipped": skipped, "groups": [], "linkage": None, "corr": None}
        corr = X[numeric].corr(method="spearman").to_numpy()
        corr = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(corr, 1.0)
        dist = np.clip(1.0 - np.abs(corr), 0.0, 1.0)
        dist = (dist + dist.T) / 2
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform(dist, checks=False), method="average")
        labels = fcluster(tree, t=1.0 - min_corr, criterion="distance")
        groups = []
        for lab in np.unique(labels):
            members = [i for i in range(len(numeric)) if labels[i] == lab]
            if len(members) > 1:
                sub = np.abs(corr[np.ix_(members, members)])
                groups.append({"features": [numeric[i] for i in members],
                               "min_abs_corr": float(sub[np.triu_indices(len(members), 1)].min())})
        return {"numeric": numeric, "skipped": skipped, "groups": groups, "linkage": tree, "corr": corr}

    return ctx.memo(("explainability", "groups", rows, min_corr), compute)


def top_features(importance: np.ndarray, features: list[str], *, top_k: int, min_share: float) -> list[int]:
    """Indices of the leading features: at most ``top_k``, each with importance above zero and at
    least ``min_share`` of the largest importance."""
    order = [int(i) for i in np.argsort(-importance, kind="stable")]
    best = importance[order[0]] if order else 0.0
    if not best > 0:
        return []
    return [i for i in order[:top_k] if importance[i] > 0 and importance[i] >= min_share * best]


def _names(features: list[str], idx) -> str:
    return ", ".join(wording.shorten(features[i]) for i in idx)


def _model_problem(ctx: AuditContext, role: str = "test") -> str | None:
    if not ctx.has_labels(role):
        return f"the {role} data has no labels, so the model's score (and its drop) cannot be measured"
    return None


def _skip(problem: str, status: str = "skipped") -> Findings:
    return Findings(status=status, summary=f"{status.capitalize()}: {problem}.")


def _test_sample(ctx: AuditContext, params: dict[str, Any]) -> tuple[Findings | None, np.ndarray, dict[str, Any]]:
    """The family's labelled test sample, or the result to return instead when importance cannot be measured:
    ``skipped`` without labels, ``inconclusive`` on too few rows or a single class."""
    problem = _model_problem(ctx)
    if problem:
        return _skip(problem), np.empty(0), {}
    _, y, sample = _sample(ctx, "test", params["rows"])
    problem = _sample_problem(ctx, "test", y)
    return (_skip(problem, "inconclusive") if problem else None), y, sample
