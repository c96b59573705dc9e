"""Explainability checks (area ``explainability``, IDs EX001-EX006).

Can the model's explanations be trusted? Each check measures one way an explanation
can mislead: importance that hangs on one feature, rankings that reshuffle with the
resample or the seed, two methods that name different features, correlated features
that trade importance between them, attributions that jump under tiny input changes,
and features that matter only on the rows the model was trained on.

Two importance methods are computed once per audit and shared by the checks through
``AuditContext.memo`` (keyed by the method, the role, the sample's size and seed and
the parameters that change the value):

* permutation importance on the raw input columns, categorical ones included: the drop
  of the model's score (ROC AUC for binary models with probabilities, balanced accuracy
  for other classifiers, R² for regression) when a column is shuffled. It is measured as
  ``sklearn.inspection.permutation_importance`` measures it, but with the shuffled copies
  of each column sent to the model in one stacked call (see ``_permuted_outputs``; the
  tests compare the two);
* SHAP values (the ``shap`` library): ``TreeExplainer`` when the model is itself a tree
  model shap supports, fitted on the raw numeric columns; otherwise the model-agnostic
  Permutation explainer over the raw input columns, through the model adapter only, with
  a background sample of training rows as the masker. Categorical columns are handed to
  shap as integer codes and decoded back to their values before the model is called, so
  every column is explained, whatever its type.

Every check works on a seeded sample of the test rows (``rows``, shared by the family
and recorded in each result's ``sample``); SHAP explains a smaller sample
(``shap_rows``) against ``background`` training rows. Heavy libraries are imported
inside the functions that use them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor import wording
from auditor.adapters import model_raised
from auditor.check import Check, Param, Threshold
from auditor.results import Evidence, Findings, Metric

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.context import AuditContext
    from auditor.encoded import EncodedView

#: The family's shared sample is drawn with this key, so that every EX check sees the same rows.
FAMILY = "EX"
#: Evidence tables and figures show at most this many features.
MAX_SHOWN = 15
TREE_MODELS = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingRegressor", "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
    "IsolationForest",
)

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
def _sample(ctx: "AuditContext", role: str, rows: int):
    """Inputs, integer-coded labels and the ``sample`` record of the family's seeded sample of a role."""

    def compute():
        from auditor.stats import encode_labels

        X, y, record = ctx.labelled_sample(role, rows, check_id=FAMILY)
        record = dict(record, rows_used=len(X))
        y = encode_labels(y.to_numpy(), ctx.classes) if ctx.is_classification else y.to_numpy(dtype=float)
        return X.reset_index(drop=True), y, record

    return ctx.memo(("explainability", "sample", role, rows), compute)


def _score_name(ctx: "AuditContext") -> str:
    if ctx.task == "regression":
        return "r2"
    return "roc_auc" if ctx.task == "binary" and ctx.model.has_proba else "balanced_accuracy"


def _sample_problem(ctx: "AuditContext", role: str, y: np.ndarray) -> str | None:
    if len(y) < 20:
        return f"only {len(y)} labelled {role} rows: too few to measure importance"
    if ctx.is_classification and len(np.unique(y)) < 2:
        return f"the sampled {role} rows hold a single class, so the model's score (and any drop in it) is undefined"
    return None


#: Rows per model call when permuted copies of the sample are stacked (bounds memory).
STACK_ROWS = 200_000


def _outputs(ctx: "AuditContext", X: "pd.DataFrame | np.ndarray", view: "EncodedView | None" = None) -> np.ndarray:
    """What the family's score is computed from: the positive-class probability (ROC AUC),
    integer-coded predicted classes (balanced accuracy) or predicted values (R²); of the
    model on the frame ``X``, or, given the model's column-wise ``view``, of its final
    estimator on the encoded matrix ``X``."""
    from auditor.stats import encode_labels

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


def _reference_outputs(ctx: "AuditContext", role: str, rows: int) -> np.ndarray:
    """``_outputs`` on the family's unshuffled sample, read from the predictions the context
    already holds for the whole dataset (its one prediction pass) instead of calling the model."""

    def compute():
        from auditor.stats import encode_labels

        idx, _ = ctx.sample_index(role, rows, check_id=FAMILY)
        rows_kept = idx[~ctx.y(role).iloc[idx].isna().to_numpy()]  # as labelled_sample keeps them, in order
        name = _score_name(ctx)
        if name == "r2":
            return np.asarray(ctx.predictions(role), dtype=float)[rows_kept]
        if name == "roc_auc":
            return np.asarray(ctx.probabilities(role), dtype=float)[rows_kept, ctx.positive_index]
        return encode_labels(np.asarray(ctx.predictions(role))[rows_kept], ctx.classes).astype(float)

    return ctx.memo(("explainability", "reference outputs", role, rows), compute)


def _score(ctx: "AuditContext", y: np.ndarray, out: np.ndarray) -> float:
    return float(_scores(ctx, y, out[None, :])[0])


def _scores(ctx: "AuditContext", y: np.ndarray, outs: np.ndarray) -> np.ndarray:
    """The family's score of each row of ``outs`` (shape (k, rows)) against ``y`` (shape (rows,)
    or (k, rows)), in one array operation (:func:`auditor.stats.batched_metric`, equal to
    scikit-learn's metric)."""
    from auditor.stats import batched_metric

    name = _score_name(ctx)
    task = "regression" if name == "r2" else ("binary" if name == "roc_auc" else ctx.task)
    # y is integer-coded by class index, so the positive class's code is its index: with the
    # positive label at classes[0] (a minority class sorted first) "1" would score the other class.
    score = batched_metric(name, task=task, positive_label=ctx.positive_index if name == "roc_auc" else 1)
    if name == "balanced_accuracy":
        outs = outs.astype(int)
    return np.asarray(score(np.broadcast_to(y, outs.shape), outs), dtype=float)


def _permuted_outputs(ctx: "AuditContext", X: "pd.DataFrame", *, shuffles: int, seed: int,
                      keep: list[np.ndarray] | None = None):
    """For each input column in turn: (column index, the model's outputs on ``shuffles`` copies
    of ``X`` with that column shuffled, shape (shuffles, rows)).

    This is permutation importance's measurement (scikit-learn's ``permutation_importance``
    shuffles a column and scores the model, once per column and shuffle). Here the shuffled
    copies of a column are stacked and sent to the model together, at most ``STACK_ROWS``
    rows a call: a pipeline pays a fixed cost per call that, over hundreds of small calls,
    outweighs the prediction itself. When the model is a column-wise encoding followed by
    an estimator (:mod:`auditor.encoded`), the sample is encoded once and the column's
    encoded columns are shuffled instead: the same inputs reach the estimator, without
    encoding every copy again. The outputs, not only the scores, are kept so the bootstrap
    resamples of EX002 can be scored without calling the model again.

    ``keep[s]`` (sorted row positions), when given, limits copy ``s`` to the rows whose
    outputs are read (a bootstrap resample's); the other outputs are NaN. The column is
    still shuffled over the whole sample, so the kept outputs are the same either way.
    """
    import pandas as pd

    from auditor.encoded import encoded_view

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


def permutation(ctx: "AuditContext", role: str, *, rows: int, repeats: int) -> dict[str, Any]:
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


def stability_runs(ctx: "AuditContext", *, rows: int, repeats: int, runs: int) -> np.ndarray:
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


def _shap():
    """The shap module, imported with its numba kernels left as plain Python.

    shap decorates its masking kernels with numba's ``@njit`` at import; compiling them
    costs several seconds of every audit process (numba caches nothing for them), while
    the kernels themselves, on the family's small samples, run in milliseconds as Python.
    So when this process has not imported shap yet, numba's ``DISABLE_JIT`` switch is set
    for the duration of shap's import only: shap's kernels stay Python, numba code that is
    decorated later (the user's, say) is compiled as usual. The plotting colours'
    PendingDeprecationWarnings on import say nothing about the audit and are silenced.
    """
    import sys
    import warnings

    if "shap" in sys.modules:
        return sys.modules["shap"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            from numba.core import config as numba_config
        except ImportError:  # pragma: no cover - shap requires numba
            import shap

            return shap
        previous = numba_config.DISABLE_JIT
        numba_config.DISABLE_JIT = True
        try:
            import shap
        finally:
            numba_config.DISABLE_JIT = previous
    return shap


@contextmanager
def _numpy_global_rng():
    """shap's Permutation explainer seeds NumPy's global generator; leave it as it was found."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


class _Codec:
    """Input columns as a float matrix for shap, and back: categorical values become integer codes."""

    def __init__(self, ctx: "AuditContext", frames: list["pd.DataFrame"]):
        from auditor.columns import is_numeric

        self.columns = list(ctx.features)
        first = frames[0]
        self.dtypes = {c: first[c].dtype for c in self.columns}
        self.numeric = {c: is_numeric(first[c]) for c in self.columns}
        self.levels: dict[str, list[Any]] = {c: [] for c in self.columns if not self.numeric[c]}
        self.codes: dict[str, dict[Any, int]] = {c: {} for c in self.levels}
        for frame in frames:
            self.encode(frame)

    @staticmethod
    def _key(value: Any) -> Any:
        import pandas as pd

        return ("<missing>",) if value is None or (not isinstance(value, str) and pd.isna(value)) else value

    def encode(self, frame: "pd.DataFrame") -> np.ndarray:
        out = np.empty((len(frame), len(self.columns)), dtype=float)
        for j, col in enumerate(self.columns):
            values = frame[col]
            if self.numeric[col]:
                out[:, j] = values.to_numpy(dtype=float, na_value=np.nan)
                continue
            codes, levels = self.codes[col], self.levels[col]
            for i, value in enumerate(values.tolist()):
                key = self._key(value)
                if key not in codes:
                    codes[key] = len(levels)
                    levels.append(value)
                out[i, j] = codes[key]
        return out

    def decode(self, matrix: np.ndarray) -> "pd.DataFrame":
        import pandas as pd

        data = {}
        for j, col in enumerate(self.columns):
            if self.numeric[col]:
                values = matrix[:, j]
                series = pd.Series(values)
                if np.issubdtype(self.dtypes[col], np.integer) and not np.all(np.mod(values, 1) == 0):
                    data[col] = series  # perturbed values between the integers stay as they are
                    continue
            else:
                levels = np.empty(len(self.levels[col]), dtype=object)
                levels[:] = self.levels[col]
                series = pd.Series(levels[np.rint(matrix[:, j]).astype(int)])
            try:
                series = series.astype(self.dtypes[col])
            except (TypeError, ValueError):  # an integer column with a missing value stays float
                pass
            data[col] = series
        return pd.DataFrame(data)


def _tree_estimator(ctx: "AuditContext", X: "pd.DataFrame") -> tuple[Any, "EncodedView | None"]:
    """The underlying tree model when shap's TreeExplainer can explain it, and the view it
    explains through; (None, None) when it cannot.

    Either the model sees the input columns as they are (a bare estimator, or a pipeline
    whose earlier steps are all 'passthrough', on numeric columns): the view is None; or
    the model is a column-wise encoding followed by a tree model (:mod:`auditor.encoded`):
    the tree model is explained on the encoded columns and each input column's
    attribution is the sum over its encoded columns. Any other pipeline transforms its
    inputs into a space the attributions could not be mapped back from, so it takes the
    model-agnostic path.
    """
    from auditor.columns import is_numeric
    from auditor.encoded import encoded_view

    def is_tree(est) -> bool:
        return est is not None and type(est).__name__ in TREE_MODELS and type(est).__module__.split(".")[0] == "sklearn"

    est = getattr(ctx.model, "estimator", None)
    steps = getattr(est, "steps", None)
    if steps is None or all(step in (None, "passthrough") for _, step in steps[:-1]):
        est = steps[-1][1] if steps is not None else est
        if is_tree(est) and all(is_numeric(X[c]) for c in X.columns):
            return est, None
        return None, None
    view = encoded_view(ctx)
    if view is not None and is_tree(view.final):
        return view.final, view
    return None, None


def _tree_shap(explainer, X) -> np.ndarray:
    """TreeExplainer's attributions of the rows of ``X`` as (rows, features, outputs), whatever
    shape shap returns them in (a list per class, or one array with or without a class axis)."""
    values = explainer.shap_values(X, check_additivity=False)
    values = np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values, dtype=float)
    return values[:, :, None] if values.ndim == 2 else values


def _tree_problem(explainer, est, X) -> str | None:
    """Why shap's TreeExplainer must not explain ``est`` (None when it may), judged on probe rows ``X``.

    shap reads a fitted forest's structure itself, so a split it does not understand
    gives attributions that look plausible and are wrong; its own additivity check
    compares them with its reading of the trees, which shares the mistake. So: a
    histogram gradient-boosting model with native categorical splits (bitsets, which
    TreeExplainer does not follow) is declined outright, and for any model the
    attributions of the probe rows plus the expected value must add up to the model's
    own output (its ``decision_function``, ``predict_proba`` or ``predict``, whichever
    TreeExplainer explains).
    """
    categorical = getattr(est, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        return "the model splits natively on categorical features, which TreeExplainer does not follow"
    values = _tree_shap(explainer, X)
    total = values.sum(axis=1) + np.ravel(explainer.expected_value)[None, :]
    for method in ("decision_function", "predict_proba", "predict"):
        try:
            out = np.asarray(getattr(est, method)(X), dtype=float).reshape(len(total), -1)
        except Exception:  # noqa: BLE001 - a method the model lacks, or one that does not apply
            continue
        if out.shape == total.shape and np.allclose(total, out, rtol=1e-5, atol=1e-5):
            return None
    return "its attributions did not add up to the model's output on probe rows"


class Attributions:
    """Per-row SHAP attributions of the audited model, by one of two explainers.

    ``explain(X, seeds)`` returns an array of shape (rows, features, outputs): one output
    for regression and binary models, one per class for multiclass probabilities.
    """

    def __init__(self, ctx: "AuditContext", *, background: int):
        self.ctx = ctx
        source = "train" if ctx.has("train") else "test"
        idx, self.background_record = ctx.sample_index(source, background, check_id=FAMILY + "-background")
        self.background = ctx.X(source).iloc[idx].reset_index(drop=True)
        self.source = source
        self.tree = None
        self.declined = ""
        probe = ctx.X("test").head(5)
        est, self.view = _tree_estimator(ctx, probe)
        if est is not None:
            shap = _shap()

            try:
                explainer = shap.TreeExplainer(est)
                problem = _tree_problem(explainer, est, probe if self.view is None else self.view.encode(probe))
                if problem:
                    self.declined = f" (not shap's TreeExplainer: {problem})"
                else:
                    self.tree = explainer
            except Exception as exc:  # an unsupported variant: the model-agnostic path explains it
                self.declined = f" (shap's TreeExplainer declined the model: {type(exc).__name__})"
        self.method = "tree" if self.tree is not None else "permutation"
        self.estimator = est if self.tree is not None else None
        self.codec = None if self.tree is not None else _Codec(ctx, [self.background])

    @property
    def description(self) -> str:
        if self.method == "tree" and self.view is not None:
            return f"shap TreeExplainer (path-dependent) on the model's own output scale: {self.view.describe()}"
        if self.method == "tree":
            return "shap TreeExplainer (path-dependent) on the model's own output scale"
        bg = self.background_record
        return (f"shap Permutation explainer over the raw input columns, masked with {bg['rows_used']} {self.source} rows "
                f"(seed {bg['seed']}); categorical columns coded as integers and decoded before each model call"
                f"{self.declined}")

    @property
    def units(self) -> str:
        if self.method == "tree":  # TreeExplainer explains the trees' own (raw) output
            if self.ctx.task == "regression":
                return "prediction units"
            if "GradientBoosting" in type(self.estimator).__name__:
                return "log-odds" if self.ctx.task == "binary" else "logits"
            return "probability"
        if self.ctx.task == "regression":
            return "prediction units"
        if self.ctx.model.has_proba:
            return "probability"
        return "predicted-class indicator"

    def _tree_values(self, explainer, X: "pd.DataFrame") -> np.ndarray:
        values = _tree_shap(explainer, X if self.view is None else self.view.encode(X))
        if self.ctx.task == "binary" and values.shape[2] == 2:
            pos = self.ctx.positive_index
            values = values[:, :, pos:pos + 1]
        if self.view is not None:  # each input column: the sum over the encoded columns it feeds
            groups = [self.view.groups[str(c)] for c in X.columns]
            values = np.stack([values[:, cols, :].sum(axis=1) for cols in groups], axis=1)
        return values

    def _output(self, matrix: np.ndarray) -> np.ndarray:
        ctx = self.ctx
        frame = self.codec.decode(matrix)
        if ctx.task == "regression":
            return np.asarray(ctx.call_model(frame), dtype=float)
        if ctx.model.has_proba:
            proba = np.asarray(ctx.call_model(frame, proba=True), dtype=float)
            return proba[:, ctx.positive_index] if ctx.task == "binary" else proba
        pred = np.asarray(ctx.call_model(frame))
        if ctx.task == "binary":
            return (pred == ctx.positive_label).astype(float)
        return np.column_stack([(pred == c).astype(float) for c in ctx.classes])

    def explain(self, X: "pd.DataFrame", seeds: np.ndarray) -> np.ndarray:
        """Attributions of each row of ``X``; row i's explainer draws its permutations from ``seeds[i]``,
        so the same seed on two nearby rows compares the rows, not the explainer's randomness."""
        if self.tree is not None:
            return self._tree_values(self.tree, X)
        shap = _shap()

        masker = shap.maskers.Independent(self.codec.encode(self.background), max_samples=len(self.background))
        matrix = self.codec.encode(X)
        evals = 2 * matrix.shape[1] + 1  # one permutation per row, walked forwards and backwards (antithetic)
        out = []
        with _numpy_global_rng():
            for i in range(len(matrix)):
                explainer = shap.explainers.Permutation(self._output, masker, seed=int(seeds[i]) % (2**31))
                # every masked evaluation of the row in one model call (shap's default is 10 a call)
                values = np.asarray(explainer(matrix[i:i + 1], max_evals=evals, batch_size=evals, silent=True).values,
                                    dtype=float)
                out.append(values.reshape(matrix.shape[1], -1))
        return np.stack(out)


def attributions(ctx: "AuditContext", *, background: int) -> Attributions:
    return ctx.memo(("explainability", "explainer", background), lambda: Attributions(ctx, background=background))


def shap_values(ctx: "AuditContext", *, shap_rows: int, rows: int, background: int) -> dict[str, Any]:
    """SHAP attributions of the first ``shap_rows`` rows of the family's test sample (itself in random order)."""

    def compute():
        X, _, _ = _sample(ctx, "test", rows)
        n = min(shap_rows, len(X))
        pick = np.sort(np.random.default_rng(ctx.seed_for(FAMILY) + 7).choice(len(X), size=n, replace=False))
        explainer = attributions(ctx, background=background)
        seeds = ctx.seed_for(FAMILY) + 1000 + pick
        values = explainer.explain(X.iloc[pick].reset_index(drop=True), seeds)
        return {"values": values, "rows": pick, "method": explainer.method, "description": explainer.description,
                "units": explainer.units}

    return ctx.memo(("explainability", "shap", shap_rows, rows, background), compute)


def shap_importance(values: np.ndarray) -> np.ndarray:
    """Mean |SHAP| per feature, summed over outputs."""
    return np.abs(values).mean(axis=0).sum(axis=-1)


def shap_bootstrap(values: np.ndarray, *, resamples: int, seed: int) -> np.ndarray:
    """Mean |SHAP| per feature on bootstrap resamples of the explained rows: (resamples, features)."""
    per_row = np.abs(values).sum(axis=-1)
    rng = np.random.default_rng(seed)
    return np.stack([per_row[rng.integers(0, len(per_row), len(per_row))].mean(axis=0) for _ in range(resamples)])


def correlated_groups(ctx: "AuditContext", *, rows: int, min_corr: float) -> dict[str, Any]:
    """Numeric features clustered on |Spearman correlation| (average linkage), cut at ``min_corr``."""

    def compute():
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        from auditor.columns import is_numeric

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


def group_of(groups: list[dict[str, Any]], feature: str) -> list[str] | None:
    return next((g["features"] for g in groups if feature in g["features"]), None)


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


def _model_problem(ctx: "AuditContext", role: str = "test") -> str | None:
    if not ctx.has_labels(role):
        return f"the {role} data has no labels, so the model's score (and its drop) cannot be measured"
    return None


def _skip(problem: str, status: str = "skipped") -> Findings:
    return Findings(status=status, summary=f"{status.capitalize()}: {problem}.")


def _test_sample(ctx: "AuditContext", params: dict[str, Any]) -> tuple[Findings | None, np.ndarray, dict[str, Any]]:
    """The family's labelled test sample, or the result to return instead when importance cannot be measured:
    ``skipped`` without labels, ``inconclusive`` on too few rows or a single class."""
    problem = _model_problem(ctx)
    if problem:
        return _skip(problem), np.empty(0), {}
    _, y, sample = _sample(ctx, "test", params["rows"])
    problem = _sample_problem(ctx, "test", y)
    return (_skip(problem, "inconclusive") if problem else None), y, sample


def _native_importances(ctx: "AuditContext") -> tuple[list[str], np.ndarray, str] | None:
    """The model's own importances (feature_importances_ or |coef_|), with their feature names."""
    est = getattr(ctx.model, "estimator", None)
    steps = getattr(est, "steps", None)
    final = steps[-1][1] if steps else est
    if final is None:
        return None
    if hasattr(final, "feature_importances_"):
        values, what = np.asarray(final.feature_importances_, dtype=float), "feature_importances_"
    elif hasattr(final, "coef_"):
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=float))
        values, what = np.abs(coef).sum(axis=0), "|coef_| (on the model's own input scale)"
    else:
        return None
    names: list[str] | None = None
    if steps and len(steps) > 1:
        try:
            names = [str(n) for n in est[:-1].get_feature_names_out()]
        except Exception:
            names = None
    elif len(values) == len(ctx.features):
        names = list(ctx.features)
    if names is None or len(names) != len(values):
        names = [f"input {i}" for i in range(len(values))]
    return names, values, what


def _importance_figure(features, perm, perm_low, perm_high, shap_imp, shap_low, shap_high, *, score, units, caption):
    from auditor.figures import importance_panels

    order = [int(i) for i in np.argsort(-perm, kind="stable")][:MAX_SHOWN]
    panels = [
        {"name": "Permutation importance", "xlabel": f"drop in {wording.metric_label(score)}",
         "values": [perm[i] for i in order], "low": [perm_low[i] for i in order], "high": [perm_high[i] for i in order]},
    ]
    if shap_imp is not None:
        panels.append({"name": "SHAP", "xlabel": f"mean |SHAP| ({units})", "values": [shap_imp[i] for i in order],
                       "low": [shap_low[i] for i in order], "high": [shap_high[i] for i in order]})
    return importance_panels("Global feature importance", [features[i] for i in order], panels, caption=caption)


# -- the checks -------------------------------------------------------------------------------
class GlobalImportance(Check):
    """Global feature importance, two ways

    What it checks:
        Which inputs the model relies on, measured two ways on a seeded sample of the test
        rows (``rows``): permutation importance of each input column (as scikit-learn's
        permutation_importance measures it: the drop of ROC AUC for binary models with
        probabilities, of balanced accuracy for other classifiers, of R² for regression,
        when the column is shuffled, ``repeats`` times; a column's shuffled copies go to
        the model together, and for a pipeline that encodes each column on its own the
        sample is encoded once and the column's encoded columns are shuffled, which feeds
        the final estimator the same inputs) and the mean absolute SHAP value on
        ``shap_rows`` rows: shap's TreeExplainer for a tree model, on the raw columns or
        through such a column-wise encoding (each input's attributions summed over its
        encoded columns), provided its attributions add up to the model's output on probe
        rows; otherwise the model-agnostic Permutation explainer over the raw input
        columns against ``background`` training rows. The model's own importances
        (``feature_importances_`` or ``coef_``) are listed where it has them, in its own
        feature space. Each importance carries a 95% interval: permutation importance over
        ``runs`` bootstrap resamples of the test sample, SHAP over bootstrap resamples of
        the explained rows.

        The judged metric is ``top_feature_share``, the top feature's share of the summed
        positive permutation importance (interval over the resamples): warn above 0.75,
        fail above 0.90.

    Why it matters:
        A reviewer reads an importance chart as what the model has learned. When one input
        carries nearly all of the model's performance, the model is a one-feature rule: a
        shortcut, a leaked label, or a proxy that will stop working when that input changes
        meaning. Two methods side by side, with their uncertainty, keep a single method's
        quirks from being read as fact.

    How to fix:
        Find out why one feature dominates: check it for leakage (is it known at prediction
        time?), for a proxy of the target or of a sensitive attribute, and for a data error.
        If it is legitimate, document the dependence and monitor that input closely.

    References:
        Breiman (2001), Random forests, Machine Learning 45 (permutation importance).
        Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS.
        Molnar, Interpretable Machine Learning, chapters on permutation feature importance
        and SHAP.
        scikit-learn user guide, Permutation feature importance.
    """

    id = "EX001"
    name = "global-importance"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "runs": RUNS, "shap_rows": SHAP_ROWS, "background": BACKGROUND}
    thresholds = {
        "top_feature_share": Threshold(direction="above", warn=0.75, fail=0.90, low=0, high=1,
                                       help="the top feature's share of the summed positive permutation importance"),
    }
    practices = ("P5.1", "P5.3", "P5.4")
    references = (
        "Breiman (2001), Random forests, Machine Learning 45",
        "Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx, params):
        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features, score = list(ctx.features), _score_name(ctx)
        ref = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])
        runs = stability_runs(ctx, rows=params["rows"], repeats=params["repeats"], runs=params["runs"])
        perm = ref["mean"]
        # Normal intervals around the estimate with the bootstrap runs' standard error: percentiles
        # of a handful of resamples are no 95% interval, and they need not even contain the estimate.
        spread = 1.96 * runs.std(axis=0, ddof=1)
        low, high = perm - spread, perm + spread
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        imp_shap = shap_importance(sv["values"])
        boot = shap_bootstrap(sv["values"], resamples=200, seed=ctx.seed_for(self.id))
        s_low, s_high = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)

        def top_share(values: np.ndarray) -> float | None:
            positive = np.clip(values, 0, None)
            return float(positive.max() / positive.sum()) if positive.sum() > 0 else None

        share = top_share(perm)
        run_shares = [s for s in (top_share(r) for r in runs) if s is not None]
        share_low = share_high = None
        if share is not None and len(run_shares) >= 3:
            share_spread = 1.96 * float(np.std(run_shares, ddof=1))
            share_low, share_high = max(0.0, share - share_spread), min(1.0, share + share_spread)
        order = [int(i) for i in np.argsort(-perm, kind="stable")]
        above_zero = int(np.sum(low > 0))
        metrics = {
            "top_feature_share": Metric(share, None if share_low is None else float(share_low),
                                        None if share_high is None else float(share_high),
                                        description="top feature's share of the summed positive permutation importance"),
            "baseline_score": Metric(ref["baseline"], description=f"the model's {wording.metric_label(score)} on the sample"),
            "features_above_zero": Metric(above_zero, description="features whose permutation-importance interval lies above zero"),
        }
        shap_order = [int(i) for i in np.argsort(-imp_shap, kind="stable")]
        top = features[order[0]]
        if share is None:
            summary = (f"No input column lowers the model's {wording.metric_label(score)} when shuffled on "
                       f"{len(y)} test rows: the model's performance does not rest on any single input.")
        else:
            summary = (f"On {len(y)} test rows the model relies most on {top}: shuffling it lowers "
                       f"{wording.metric_label(score)} by {perm[order[0]]:.3f}, {wording.share(share)} of the summed "
                       f"permutation importance. SHAP ({sv['method']} explainer, {len(sv['rows'])} rows) ranks "
                       f"{_names(features, shap_order[:3])} first; "
                       f"{wording.count(above_zero, 'feature')} {'has' if above_zero == 1 else 'have'} an importance interval above zero.")
        rows = []
        shap_rank = {f: r + 1 for r, f in enumerate(shap_order)}
        for rank, i in enumerate(order[:MAX_SHOWN], start=1):
            rows.append([rank, features[i], perm[i], f"{low[i]:.4f} to {high[i]:.4f}", imp_shap[i],
                         f"{s_low[i]:.4f} to {s_high[i]:.4f}", shap_rank[i]])
        evidence = [Evidence(
            title="Importance by feature",
            columns=["rank", "feature", f"permutation ({wording.metric_label(score)} drop)", "95% interval",
                     f"mean |SHAP| ({sv['units']})", "95% interval", "SHAP rank"],
            rows=rows,
            note=(f"Permutation importance: {params['repeats']} shuffles per column; 95% intervals: the estimate ± 1.96 "
                  f"standard errors from {params['runs']} bootstrap resamples of the test sample. SHAP: {sv['description']}."),
        )]
        native = _native_importances(ctx)
        if native is not None:
            names, values, what = native
            best = np.argsort(-values, kind="stable")[:MAX_SHOWN]
            evidence.append(Evidence(
                title="The model's own importances", columns=["feature (model's space)", what],
                rows=[[wording.shorten(names[i]), float(values[i])] for i in best],
                note="In the model's own feature space (after its preprocessing); not comparable with the raw-column "
                     "importances above where a pipeline transforms the inputs.",
            ))
        figure = _importance_figure(features, perm, low, high, imp_shap, s_low, s_high, score=score, units=sv["units"],
                                    caption=("Left: drop in the model's score when a column is shuffled (dot: all test "
                                             "sample rows; bar: ± 1.96 bootstrap standard errors). Right: mean "
                                             "absolute SHAP value with a 95% bootstrap interval over the explained rows. "
                                             "Features in order of permutation importance."))
        return Findings(
            summary=summary, metrics=metrics, evidence=evidence, figures=[figure], sample=sample,
            recommendation=(f"If {top} carries nearly all of the importance, check it for leakage and for a proxy of the "
                            "target before trusting the model; otherwise read the ranking together with its intervals."),
        )


def tie_groups(reference: np.ndarray, runs: np.ndarray, idx: list[int], *, margin: float) -> list[list[int]]:
    """The features ``idx`` (in the reference's order, most important first) coarsened into tie groups.

    Two features are equally important, as far as the data shows, when the 95% interval of
    the difference of their importances lies within ``margin`` times the larger importance
    (an equivalence test, two one-sided tests at 2.5%): the reference difference ± 1.96
    standard deviations of that difference over the ``runs`` (bootstrap resamples, so the
    standard deviation is the difference's standard error). A group is grown down the
    reference order while the next feature is equally important as every member
    (complete linkage), so no group chains a large gap out of small steps. Failing to
    resolve an order is not enough: two features whose difference is merely too noisy to
    sign are not shown to be equal, and their swaps still count as disagreement.
    """
    def equal(a: int, b: int) -> bool:
        half = 1.96 * float(np.std(runs[:, a] - runs[:, b], ddof=1)) if len(runs) > 1 else math.inf
        larger = max(float(reference[a]), float(reference[b]))
        return larger > 0 and abs(float(reference[a] - reference[b])) + half <= margin * larger

    groups: list[list[int]] = []
    for i in idx:
        if groups and all(equal(j, i) for j in groups[-1]):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _coarsened(runs: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Each run's importances of the grouped features (in the groups' order), every member of a
    tie group given its group's mean in that run: the ranks coarsened into tie groups."""
    columns = [np.repeat(runs[:, g].mean(axis=1, keepdims=True), len(g), axis=1) for g in groups]
    return np.concatenate(columns, axis=1)


def _kendall_pairs(runs: np.ndarray, groups: list[list[int]]) -> list[float]:
    """Kendall's tau-b between every two runs on the ranks coarsened into ``groups``: a pair of features
    in one tie group is tied in every run and never counts as disagreement; a pair from different groups
    is concordant or discordant as the two runs order it. With a single group nothing is left to
    disagree about (tau 1)."""
    from scipy.stats import kendalltau

    if len(groups) < 2:
        return [1.0] * (len(runs) * (len(runs) - 1) // 2)
    values = _coarsened(runs, groups)
    taus = []
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            tau = kendalltau(values[a], values[b], variant="b").statistic
            taus.append(0.0 if tau is None or math.isnan(tau) else float(tau))
    return taus


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = most important."""
    from scipy.stats import rankdata

    return rankdata(-values, method="min")


class ImportanceStability(Check):
    """Stability of feature importance across resamples and seeds

    What it checks:
        Whether the ranking of the leading features survives a resample. Permutation
        importance is recomputed on ``runs`` bootstrap resamples of the test sample, each
        with its own shuffling seed. The top features are the reference ranking's first
        ``top_k`` with at least ``min_share`` of the top feature's importance. Measured:
        ``rank_agreement``, the mean Kendall's tau-b between every two runs over the top
        features, on ranks coarsened into tie groups (judged: warn below 0.8, fail below
        0.6; needs two top features). A tie the data shows is not instability: two top
        features form a tie group when the 95% interval of the difference of their
        importances (the reference difference ± 1.96 standard deviations of that
        difference over the runs) lies within ``tie_margin`` times the larger importance,
        every two members of a group being tied so (an equivalence test); each run ranks
        the groups by their members' mean importance, so swaps inside a group never count
        as disagreement, and with one group only there is nothing to disagree about (tau
        1). Features whose difference is merely too noisy to sign are not shown to be equal:
        their swaps still count. With ``tie_margin`` 0 no two features tie and the metric
        is the plain mean Kendall's tau;
        ``rank_resolution``, the share of adjacent pairs of top features whose order is
        resolved: every run orders the pair as the reference does and the reference
        difference exceeds two standard errors of the shuffles, or the pair is shown
        equal (one tie group), which the data resolve as well (judged: warn below 0.8);
        ``correlated_ties``, how many of the tied pairs are strongly correlated features
        (|Spearman| at least ``min_corr``, the groups of EX004): near-copies that tie
        leave their order to chance by construction (judged: fail above 0);
        ``top_k_overlap``, the mean Jaccard overlap between each run's top set and the
        reference's (judged: warn below 0.8, fail below 0.6); and ``sign_stability``, the
        smallest share of runs in which a top feature keeps an importance above zero
        (warn below 0.8). SHAP's ranking on bootstrap resamples of the explained rows is
        reported too. Strongly correlated features (see EX004) among the unstable ones are
        named as the likely cause.

    Why it matters:
        An explanation that changes with the resample or the seed misleads everyone who
        reads it: the second feature today is the fourth tomorrow, and decisions (which
        input to monitor, which to drop, what to tell a regulator) follow the noise.

    How to fix:
        When near-copies trade places, group them (report and permute them together) or
        keep one. Otherwise explain on more rows (``rows``), and report ranks only where
        the intervals separate them.

    References:
        Molnar et al. (2022), General pitfalls of model-agnostic interpretation methods,
        xxAI workshop, LNAI 13200.
        Strobl et al. (2008), Conditional variable importance for random forests, BMC
        Bioinformatics 9.
        Schuirmann (1987), A comparison of the two one-sided tests procedure and the power
        approach for assessing the equivalence of average bioavailability, Journal of
        Pharmacokinetics and Biopharmaceutics 15 (the equivalence test behind the tie groups).
        scipy.stats.kendalltau.
    """

    id = "EX002"
    name = "importance-stability"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "runs": RUNS, "top_k": TOP_K, "min_share": MIN_SHARE,
              "shap_rows": SHAP_ROWS, "background": BACKGROUND, "min_corr": MIN_CORR,
              "tie_margin": Param(default=0.3, kind="float", low=0.0, high=1.0,
                                  help="two top features tie when the 95% interval of their importance difference lies "
                                       "within this fraction of the larger importance (0: no ties)")}
    thresholds = {
        "rank_agreement": Threshold(direction="below", warn=0.8, fail=0.6, low=-1, high=1,
                                    help="mean Kendall's tau-b between resampled runs over the top features, tie groups coarsened"),
        "top_k_overlap": Threshold(direction="below", warn=0.8, fail=0.6, low=0, high=1,
                                   help="mean Jaccard overlap of each run's top features with the reference's"),
        "rank_resolution": Threshold(direction="below", warn=0.8, low=0, high=1,
                                     help="share of adjacent top-feature pairs whose order every resample keeps, by more than the shuffles' noise"),
        "correlated_ties": Threshold(direction="above", fail=0, low=0,
                                     help="adjacent top-feature pairs that tie and are strongly correlated with each other (near-copies)"),
        "sign_stability": Threshold(direction="below", warn=0.8, low=0, high=1,
                                    help="smallest share of runs in which a top feature's importance stays above zero"),
    }
    practices = ("P5.3", "P5.4")
    references = (
        "Molnar et al. (2022), General pitfalls of model-agnostic interpretation methods, LNAI 13200",
        "Strobl et al. (2008), Conditional variable importance for random forests, BMC Bioinformatics 9",
        ("Schuirmann (1987), A comparison of the two one-sided tests procedure and the power approach for assessing "
         "the equivalence of average bioavailability, J. Pharmacokinetics and Biopharmaceutics 15"),
    )

    def run(self, ctx, params):
        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features = list(ctx.features)
        ref = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"]
        runs = stability_runs(ctx, rows=params["rows"], repeats=params["repeats"], runs=params["runs"])
        top = top_features(ref, features, top_k=params["top_k"], min_share=params["min_share"])
        if not top:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: no feature lowers the model's score when shuffled, so there is no "
                                    "ranking whose stability could be measured.")
        k = len(top)
        overlaps, kept = [], np.zeros(len(features))
        for r in runs:
            run_top = top_features(r, features, top_k=k, min_share=0.0)[:k]
            overlaps.append(len(set(run_top) & set(top)) / len(set(run_top) | set(top)))
            kept += r > 0
        sign = float(min(kept[i] for i in top) / len(runs))
        ranks = np.stack([_ranks(r) for r in runs])
        ref_ranks = _ranks(ref)
        # An adjacent pair of top features is resolved when every run orders it as the reference does and
        # the reference difference exceeds two standard errors of the shuffles: otherwise the two tie.
        reference = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])
        se = reference["std"] / math.sqrt(params["repeats"])
        tied = [(a, b) for a, b in zip(top, top[1:])
                if not (np.all(runs[:, a] > runs[:, b]) and ref[a] - ref[b] > 2 * math.hypot(se[a], se[b]))]
        ties = tie_groups(ref, runs, top, margin=params["tie_margin"])
        # A pair shown equal (one tie group) is resolved too: the data settle that they matter alike.
        group_of_feature = {i: g for g, members in enumerate(ties) for i in members}
        unresolved = [(a, b) for a, b in tied if group_of_feature.get(a) != group_of_feature.get(b)]
        metrics = {
            "top_k_overlap": Metric(float(np.mean(overlaps)), description=f"mean Jaccard overlap of each run's top {k} with the reference's"),
            "rank_resolution": Metric(1 - len(unresolved) / (k - 1) if k >= 2 else None,
                                      description="share of adjacent top-feature pairs whose order the data resolve, or "
                                                  "that the data show to be equally important"),
            "sign_stability": Metric(sign, description="smallest share of runs in which a top feature's importance is above zero"),
        }
        equal = [g for g in ties if len(g) > 1]
        taus = _kendall_pairs(runs, ties) if k >= 2 else []
        if taus:
            metrics["rank_agreement"] = Metric(float(np.mean(taus)), description=(
                f"mean Kendall's tau-b between runs over the top {k} features, features tied within "
                f"{wording.share(params['tie_margin'])} of each other coarsened into one rank"))
            metrics["rank_agreement_min"] = Metric(float(np.min(taus)), description="smallest Kendall's tau-b between two runs")
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        boot = shap_bootstrap(sv["values"], resamples=params["runs"], seed=ctx.seed_for(self.id))
        imp_shap = shap_importance(sv["values"])
        shap_top = top_features(imp_shap, features, top_k=params["top_k"], min_share=params["min_share"])
        if len(shap_top) >= 2:
            shap_ties = tie_groups(imp_shap, boot, shap_top, margin=params["tie_margin"])
            metrics["shap_rank_agreement"] = Metric(float(np.mean(_kendall_pairs(boot, shap_ties))),
                                                    description="mean Kendall's tau-b of SHAP's top features between bootstrap resamples "
                                                                "of the explained rows, tie groups coarsened")
        unstable = [i for i in top if ranks[:, i].max() != ranks[:, i].min() or any(i in pair for pair in tied)]
        groups = correlated_groups(ctx, rows=params["rows"], min_corr=params["min_corr"])["groups"]
        # Near-copies tie because the model spreads one signal over them: their order is chance by
        # construction. Two uncorrelated features that tie merely matter about equally (a warning).
        metrics["correlated_ties"] = Metric(
            sum(1 for a, b in tied if (g := group_of(groups, features[a])) and features[b] in g),
            description=f"adjacent top-feature pairs that tie and correlate at |Spearman| >= {params['min_corr']}")
        involved = []
        for i in unstable:
            g = group_of(groups, features[i])
            if g and g not in involved:
                involved.append(g)
        tau_text = f"mean Kendall's tau {metrics['rank_agreement'].value:.2f}, " if taus else ""
        summary = (f"Over {len(runs)} bootstrap resamples of {len(y)} test rows, each with its own seed, the top "
                   f"{wording.count(k, 'feature')} ({_names(features, top)}) agree with {tau_text}"
                   f"top-{k} overlap {metrics['top_k_overlap'].value:.2f}; "
                   f"{wording.count(len(tied), 'adjacent pair')} of them tie.")
        if equal:
            summary += (" Equally important within the resamples' noise (the 95% interval of their difference lies within "
                        f"{wording.share(params['tie_margin'])} of the larger importance), so their order is not counted as "
                        "disagreement: " + "; ".join("{" + _names(features, g) + "}" for g in equal) + ".")
        if unstable:
            summary += (f" {wording.count(len(unstable), 'top feature')} change rank between runs or tie within the "
                        f"shuffles' noise: {_names(features, unstable)}.")
        if involved:
            summary += " Strongly correlated features among them (importance moves between near-copies): " + "; ".join(
                "{" + ", ".join(g) + "}" for g in involved) + "."
        rows = []
        shown = top + [i for i in np.argsort(-ref, kind="stable") if i not in top][: max(0, MAX_SHOWN - k)]
        for i in shown:
            g = group_of(groups, features[i])
            tie = next((t for t in equal if i in t), [])
            rows.append([features[i], int(ref_ranks[i]), f"{int(ranks[:, i].min())}-{int(ranks[:, i].max())}",
                         float(np.mean([i in top_features(r, features, top_k=k, min_share=0.0) for r in runs])),
                         float(np.mean(runs[:, i] > 0)), ", ".join(x for x in g if x != features[i]) if g else "",
                         _names(features, [j for j in tie if j != i])])
        from auditor.figures import interval_chart

        figure = interval_chart(
            "Rank of each feature across resamples",
            [(features[i], float(np.median(ranks[:, i])), float(ranks[:, i].min()), float(ranks[:, i].max())) for i in shown[:MAX_SHOWN]],
            "rank (1 = most important)",
            f"Dot: median rank over {len(runs)} bootstrap resamples with their own seeds; bar: lowest to highest rank. "
            "A long bar means the feature's place in the ranking is not determined by the data.",
        )
        recommendation = "The ranking is stable enough to read." if not unstable else (
            "Do not read an order into features whose rank moves. " + (
                "Group the correlated features (" + "; ".join(", ".join(g) for g in involved) + ") and report their joint "
                "importance, or keep one of each group and refit." if involved else
                "Explain on more rows (rows), or report features whose intervals overlap as tied."))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=[figure], recommendation=recommendation,
            evidence=[Evidence(
                title="Rank of each feature across resamples",
                columns=["feature", "reference rank", "rank range", f"share of runs in top {k}", "share of runs above zero",
                         "strongly correlated with", "equally important as (tie group)"],
                rows=rows,
                note=f"Permutation importance, {params['repeats']} shuffles per column per run; top features: reference top "
                     f"{params['top_k']} with at least {wording.share(params['min_share'])} of the top importance.",
            )],
        )


class MethodAgreement(Check):
    """Agreement between permutation importance and SHAP

    What it checks:
        Whether the two importance methods name the same leading features. Each method's
        importances are turned into shares of its total (permutation importance clipped at
        zero). Judged: ``top_k_overlap``, the Jaccard overlap of the two methods' top k
        features, where k is the smaller of the two methods' counts of top features (at
        most ``top_k``, each with at least ``min_share`` of its method's top importance):
        warn below 0.6, fail below 0.34; and ``max_share_gap``, the largest difference
        between the two shares of one feature: warn above 0.25, fail above 0.4. The
        Spearman correlation of the two rankings over all features is reported.

    Why it matters:
        The methods answer different questions: SHAP how much the model's output moves with
        a feature, permutation importance how much its performance depends on it. A feature
        that moves the output a lot but carries no information about the target (a noise
        input the model reacts to, a shortcut that fails on the test rows) shows up only in
        SHAP; disagreement is a finding, not a rounding error, and one method alone would
        hide it.

    How to fix:
        Look at the features involved. A feature with high SHAP and no permutation
        importance is one the model reacts to without benefit: constrain or remove it and
        refit. A feature with permutation importance and little SHAP often has correlated
        partners sharing its credit (see EX004).

    References:
        Lundberg & Lee (2017), A unified approach to interpreting model predictions, NeurIPS.
        Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful, JMLR 20.
        Krishna et al. (2022), The disagreement problem in explainable machine learning,
        arXiv:2202.01602.
    """

    id = "EX003"
    name = "explanation-method-agreement"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "shap_rows": SHAP_ROWS, "background": BACKGROUND, "top_k": TOP_K,
              "min_share": MIN_SHARE}
    thresholds = {
        "top_k_overlap": Threshold(direction="below", warn=0.6, fail=0.34, low=0, high=1,
                                   help="Jaccard overlap of the top features named by permutation importance and by SHAP"),
        "max_share_gap": Threshold(direction="above", warn=0.25, fail=0.4, low=0, high=1,
                                   help="largest difference between a feature's share of importance under the two methods"),
    }
    practices = ("P5.2", "P5.4")
    references = (
        "Lundberg & Lee (2017), NeurIPS",
        "Krishna et al. (2022), The disagreement problem in explainable machine learning, arXiv:2202.01602",
    )

    def run(self, ctx, params):
        from scipy.stats import spearmanr

        stop, y, sample = _test_sample(ctx, params)
        if stop:
            return stop
        features = list(ctx.features)
        perm = np.clip(permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"], 0, None)
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        shap_imp = shap_importance(sv["values"])
        if perm.sum() <= 0 or shap_imp.sum() <= 0:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: one of the methods finds no importance at all, so there is nothing to compare.")
        p_share, s_share = perm / perm.sum(), shap_imp / shap_imp.sum()
        p_top = top_features(perm, features, top_k=params["top_k"], min_share=params["min_share"])
        s_top = top_features(shap_imp, features, top_k=params["top_k"], min_share=params["min_share"])
        # Compare sets of one size: the number of features both methods count among the top ones, so that
        # a feature just above the cut for one method and just below it for the other is not a disagreement.
        k = max(1, min(len(p_top), len(s_top)))
        p_top = [int(i) for i in np.argsort(-perm, kind="stable")[:k]]
        s_top = [int(i) for i in np.argsort(-shap_imp, kind="stable")[:k]]
        overlap = len(set(p_top) & set(s_top)) / len(set(p_top) | set(s_top))
        gap = np.abs(p_share - s_share)
        worst = int(np.argmax(gap))
        rho = spearmanr(perm, shap_imp).statistic if len(features) > 2 else None
        metrics = {
            "top_k_overlap": Metric(overlap, description=f"Jaccard overlap of the two methods' top {k} features"),
            "max_share_gap": Metric(float(gap[worst]), description=f"largest share difference (feature {features[worst]})"),
            "rank_correlation": Metric(None if rho is None or math.isnan(rho) else float(rho),
                                       description="Spearman correlation of the two methods' importances over all features"),
        }
        only_p = [i for i in p_top if i not in s_top]
        only_s = [i for i in s_top if i not in p_top]
        summary = (f"Permutation importance names {_names(features, p_top)}; SHAP ({sv['method']} explainer) names "
                   f"{_names(features, s_top)}: overlap {overlap:.2f}. The largest disagreement is {features[worst]} "
                   f"({wording.share(p_share[worst])} of permutation importance, {wording.share(s_share[worst])} of SHAP).")
        if only_s:
            them = "it" if len(only_s) == 1 else "them"
            summary += (f" Only SHAP ranks {_names(features, only_s)} at the top: the model's output moves with {them} "
                        f"more than its score depends on {them}.")
        if only_p:
            summary += f" Only permutation importance ranks {_names(features, only_p)} at the top."
        order = [int(i) for i in np.argsort(-np.maximum(p_share, s_share), kind="stable")][:MAX_SHOWN]
        from auditor.figures import paired_dot_chart

        figure = paired_dot_chart(
            "Share of importance by method",
            [(features[i], float(p_share[i]), float(s_share[i])) for i in order],
            ("permutation", "SHAP"), "share of the method's total importance",
            "Each feature's share of the total importance under permutation importance (circles) and mean |SHAP| "
            "(squares); a long line is a disagreement between the methods.",
        )
        involved = sorted(set(only_p + only_s + ([worst] if gap[worst] > self.thresholds["max_share_gap"].warn else [])))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=[figure],
            evidence=[Evidence(
                title="Importance shares by method",
                columns=["feature", "permutation share", "SHAP share", "difference", "top by permutation", "top by SHAP"],
                rows=[[features[i], float(p_share[i]), float(s_share[i]), float(s_share[i] - p_share[i]),
                       "yes" if i in p_top else "", "yes" if i in s_top else ""] for i in order],
                note=f"Permutation importance on {len(y)} test rows; SHAP on {len(sv['rows'])} rows ({sv['description']}).",
            )],
            recommendation=("The methods agree." if not involved else
                            f"Look at {_names(features, involved)}: a feature with high SHAP and little permutation importance "
                            "moves the output without helping the score (constrain or remove it); one with the reverse often "
                            "shares its credit with correlated features (EX004)."),
        )


class CorrelatedFeatureGroups(Check):
    """Correlated feature groups that make importance unstable

    What it checks:
        Groups of strongly correlated numeric input features: hierarchical clustering
        (scipy.cluster.hierarchy, average linkage) on the distance 1 - |Spearman
        correlation| over the test sample, cut at ``min_corr``. The judged metric
        ``correlated_importance_share`` is the share of the model's total mean |SHAP| carried
        by features that sit in such a group: warn above 0.10, fail above 0.25. Each group
        is listed with its smallest pairwise |correlation| and its importance under both
        methods. Categorical columns have no rank order and are not clustered (they are
        named in the result).

    Why it matters:
        Near-copies of a feature share its importance in ways that change with the seed
        and the resample: permutation importance understates each (the model still sees
        the copy), SHAP splits the credit arbitrarily. The group is the likely reason an
        importance ranking moves (EX002), and reading any one member's importance alone is
        misleading.

    How to fix:
        Group the correlated features: report (and, for permutation importance, shuffle)
        them together, or keep one of each group and refit. Combine them into one feature
        where they measure the same thing.

    References:
        Strobl et al. (2008), Conditional variable importance for random forests, BMC
        Bioinformatics 9.
        Hooker, Mentch & Zhou (2021), Unrestricted permutation forces extrapolation,
        Statistics and Computing 31.
        scikit-learn example, Permutation importance with multicollinear or correlated
        features.
    """

    id = "EX004"
    name = "correlated-feature-groups"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "low"
    needs = frozenset({"test", "model"})
    params = {"rows": ROWS, "repeats": REPEATS, "shap_rows": SHAP_ROWS, "background": BACKGROUND, "min_corr": MIN_CORR}
    thresholds = {
        "correlated_importance_share": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=1,
                                                 help="share of total mean |SHAP| carried by features in a correlated group"),
    }
    practices = ("P1.6", "P5.4")
    references = (
        "Strobl et al. (2008), BMC Bioinformatics 9",
        "Hooker, Mentch & Zhou (2021), Statistics and Computing 31",
        "https://scikit-learn.org/stable/auto_examples/inspection/plot_permutation_importance_multicollinear.html",
    )

    def run(self, ctx, params):
        X, _, sample = _sample(ctx, "test", params["rows"]) if ctx.has_labels("test") else (None, None, None)
        if X is None:
            return _skip(_model_problem(ctx))
        features = list(ctx.features)
        found = correlated_groups(ctx, rows=params["rows"], min_corr=params["min_corr"])
        if len(found["numeric"]) < 2:
            return Findings(status="skipped", sample=sample,
                            summary="Skipped: fewer than two numeric input columns, so no correlated group can form.")
        sv = shap_values(ctx, shap_rows=params["shap_rows"], rows=params["rows"], background=params["background"])
        shap_imp = shap_importance(sv["values"])
        perm = permutation(ctx, "test", rows=params["rows"], repeats=params["repeats"])["mean"]
        total = shap_imp.sum()
        in_group = [features.index(f) for g in found["groups"] for f in g["features"]]
        share = float(shap_imp[in_group].sum() / total) if total > 0 else 0.0
        metrics = {
            "correlated_importance_share": Metric(share, description="share of total mean |SHAP| in correlated groups"),
            "groups": Metric(len(found["groups"]), description=f"groups of numeric features with |Spearman| of about {params['min_corr']} or more"),
        }
        rows = []
        for g in sorted(found["groups"], key=lambda g: -sum(shap_imp[features.index(f)] for f in g["features"])):
            idx = [features.index(f) for f in g["features"]]
            rows.append([", ".join(wording.shorten(f) for f in g["features"]), len(idx), g["min_abs_corr"],
                         float(shap_imp[idx].sum() / total) if total > 0 else 0.0, float(perm[idx].sum())])
        if found["groups"]:
            summary = (f"{wording.count(len(found['groups']), 'group')} of strongly correlated features "
                       f"(|Spearman| ≥ {params['min_corr']}): " + "; ".join("{" + r[0] + "}" for r in rows) +
                       f". They carry {wording.share(share)} of the model's SHAP importance; importance moves between "
                       "the members of a group from resample to resample, so no member's importance can be read alone.")
        else:
            summary = (f"No two of the {len(found['numeric'])} numeric features are correlated at |Spearman| ≥ "
                       f"{params['min_corr']}: among them, correlation does not explain away any importance.")
        if found["skipped"]:
            summary += (f" Not clustered (not numeric, or constant), so redundancy among them is not assessed here "
                        f"(DQ011 measures associations between categorical features): "
                        f"{', '.join(wording.shorten(c) for c in found['skipped'][:8])}.")
        figures = []
        if found["linkage"] is not None:
            from auditor.figures import dendrogram_chart

            figures.append(dendrogram_chart(
                "Feature clusters by rank correlation", found["linkage"], found["numeric"], cut=1 - params["min_corr"],
                xlabel="1 - |Spearman correlation|",
                caption=(f"Average-linkage clustering of the numeric features on 1 - |Spearman correlation| over {sample['rows_used']} "
                         f"test rows; features joined between the dashed line and the labels (|correlation| ≥ {params['min_corr']}) form a group."),
            ))
        return Findings(
            summary=summary, metrics=metrics, sample=sample, figures=figures,
            evidence=[Evidence(title="Correlated groups",
                               columns=["features", "size", "smallest |Spearman|", "share of SHAP importance", "summed permutation importance"],
                               rows=rows)] if rows else [],
            recommendation=("No action needed." if not rows else
                            "Group each set of correlated features (report their joint importance, or keep one member and "
                            "refit); do not rank the members against each other."),
        )


class LocalStability(Check):
    """Local stability of single-row explanations

    What it checks:
        For ``local_rows`` test rows, how much the row's SHAP attributions change when its
        numeric inputs move a little: each row gets ``perturbations`` copies with Gaussian
        noise of ``scale`` robust standard deviations (the training rows' interquartile
        range / 1.349) on every numeric feature (immutable features, and features whose
        middle half is a single value such as a spike at zero, untouched; declared bounds
        respected). The local Lipschitz
        estimate of a row is the largest ``||attribution change|| / ||input change||`` over
        its copies, with the input change in standard deviations and the attribution
        change relative to the mean attribution norm of the sampled rows; the row and its
        copies are explained with the same explainer seed, so the explainer's own
        randomness does not count. Judged: ``unstable_row_share``, the share of rows whose
        estimate exceeds ``max_lipschitz``: warn above 0.10, fail above 0.25. The least
        stable rows are listed.

    Why it matters:
        A single-row explanation is what a customer, a case worker or an auditor sees ("you
        were declined because of X"). If a change far below measurement error rewrites
        that explanation, it explains the model's jitter, not the decision, and two nearly
        identical people get different reasons.

    How to fix:
        Smooth the model (stronger regularisation, monotonic or smoothness constraints,
        fewer and larger leaves, ensembling); explain with a larger background and more
        permutations; and do not show single-row explanations for rows listed here.

    References:
        Alvarez-Melis & Jaakkola (2018), On the robustness of interpretability methods,
        ICML workshop on human interpretability, arXiv:1806.08049.
        Ghorbani, Abid & Zou (2019), Interpretation of neural networks is fragile, AAAI.
    """

    id = "EX005"
    name = "local-explanation-stability"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "low"
    needs = frozenset({"test", "model"})
    params = {
        "local_rows": Param(default=20, kind="int", low=5, high=10_000, help="test rows whose explanations are perturbed"),
        "perturbations": Param(default=4, kind="int", low=1, high=100, help="perturbed copies per row"),
        "scale": Param(default=0.05, kind="float", low=0.001, high=1.0, help="noise, in robust standard deviations (IQR / 1.349) of each numeric feature"),
        "max_lipschitz": Param(default=5.0, kind="float", low=0.1, high=1000.0,
                               help="relative local Lipschitz estimate above which a row's explanation counts as unstable"),
        "rows": ROWS, "background": BACKGROUND,
    }
    thresholds = {
        "unstable_row_share": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=1,
                                        help="share of rows whose attributions change much more than their inputs"),
    }
    practices = ("P5.2", "P5.4")
    references = (
        "Alvarez-Melis & Jaakkola (2018), On the robustness of interpretability methods, arXiv:1806.08049",
        "Ghorbani, Abid & Zou (2019), Interpretation of neural networks is fragile, AAAI",
    )

    def run(self, ctx, params):
        from auditor.columns import is_numeric

        test = ctx.X("test")
        if len(test) == 0:
            return _skip("the test data has no rows")
        domains = ctx.feature_domains or {}
        from scipy.stats import iqr

        spread_source = ctx.X("train") if ctx.has("train") else test
        candidates = [c for c in ctx.features if is_numeric(test[c]) and not (domains.get(c) or {}).get("immutable")]
        # The spread is the IQR scaled to a normal's sd: a column whose middle half is one value (a spike
        # at zero, such as capital gains) has none, and noise on it would leave the data's support.
        spreads = {c: float(iqr(spread_source[c].to_numpy(dtype=float, na_value=np.nan), scale="normal", nan_policy="omit"))
                   for c in candidates}
        numeric = [c for c in candidates if np.isfinite(spreads[c]) and spreads[c] > 0]
        spiky = [c for c in candidates if c not in numeric]
        if not numeric:
            return _skip("no mutable numeric input with a spread to perturb"
                         + (f" ({', '.join(spiky[:5])} have a zero interquartile range)" if spiky else ""))
        idx, sample = ctx.sample_index("test", params["local_rows"], check_id=self.id)
        rows = test.iloc[idx].reset_index(drop=True)
        sd = np.array([spreads[c] for c in numeric])
        rng = ctx.rng(self.id)
        j = params["perturbations"]
        copies = rows.loc[rows.index.repeat(j)].reset_index(drop=True)
        noise = rng.normal(0.0, params["scale"], size=(len(copies), len(numeric)))
        for k, col in enumerate(numeric):
            values = copies[col].to_numpy(dtype=float, na_value=np.nan) + noise[:, k] * sd[k]
            dom = domains.get(col) or {}
            values = np.clip(values, dom.get("min", -np.inf), dom.get("max", np.inf))
            copies[col] = values  # floats even for an integer column: a tiny step must survive
        explainer = attributions(ctx, background=params["background"])
        seeds = ctx.seed_for(self.id) + np.arange(len(rows))
        phi = explainer.explain(rows, seeds).reshape(len(rows), -1)
        phi_copies = explainer.explain(copies, np.repeat(seeds, j)).reshape(len(rows), j, -1)
        scale = float(np.mean(np.linalg.norm(phi, axis=1)))
        if not scale > 0:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: every sampled row's attributions are zero, so their change cannot be scaled.")
        base = rows[numeric].to_numpy(dtype=float, na_value=np.nan)
        moved = copies[numeric].to_numpy(dtype=float, na_value=np.nan).reshape(len(rows), j, -1)
        step = np.linalg.norm(np.nan_to_num((moved - base[:, None, :]) / sd), axis=2)
        change = np.linalg.norm(phi_copies - phi[:, None, :], axis=2) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(step > 0, change / step, 0.0)
        lipschitz = ratio.max(axis=1)
        unstable = lipschitz > params["max_lipschitz"]
        share = float(unstable.mean())
        metrics = {
            "unstable_row_share": Metric(share, description=f"share of rows with a local Lipschitz estimate above {params['max_lipschitz']}"),
            "median_lipschitz": Metric(float(np.median(lipschitz)), description="median relative local Lipschitz estimate"),
            "max_lipschitz": Metric(float(lipschitz.max()), description="largest relative local Lipschitz estimate"),
        }
        worst = np.argsort(-lipschitz, kind="stable")[:10]
        features = list(ctx.features)
        flat_names = [f for f in features for _ in range(phi.shape[1] // len(features))]
        table = []
        for w in worst:
            delta = np.abs(phi_copies[w] - phi[w]).max(axis=0)
            table.append([int(idx[w]), float(lipschitz[w]), float(change[w].max()), flat_names[int(np.argmax(delta))],
                          "yes" if unstable[w] else ""])
        summary = (f"Of {len(rows)} test rows, {wording.count(int(unstable.sum()), 'row')} "
                   f"({wording.share(share)}) {'has' if int(unstable.sum()) == 1 else 'have'} explanations that change more than {params['max_lipschitz']} times as much "
                   f"as their inputs (noise of {params['scale']} robust standard deviations, {j} copies per row); the median "
                   f"local Lipschitz estimate is {np.median(lipschitz):.2f}, the largest {lipschitz.max():.2f}.")
        if spiky:
            summary += (f" Not perturbed (a zero interquartile range: noise would leave the data's support): "
                        f"{', '.join(wording.shorten(c) for c in spiky[:8])}.")
        return Findings(
            summary=summary, metrics=metrics, sample=sample,
            evidence=[Evidence(
                title="Least stable explanations",
                columns=["test row", "local Lipschitz", "largest relative attribution change", "feature that moved most", "unstable"],
                rows=table,
                note=(f"Attributions: {explainer.description}. Input change in robust standard deviations "
                      f"(IQR / 1.349) of the {'training' if ctx.has('train') else 'test'} data; attribution change relative to the mean attribution "
                      f"norm ({scale:.4g} {explainer.units})."),
            )],
            recommendation=("Single-row explanations are stable under small input changes." if not unstable.any() else
                            "Do not show single-row explanations for the rows listed; smooth the model (regularisation, "
                            "monotonic constraints, larger leaves) and check again."),
        )


def score_gap(ctx: "AuditContext", *, rows: int, n_resamples: int, confidence: float = 0.95,
              seed: int) -> tuple[float, float | None, float | None]:
    """The family's score on its training sample minus that on its test sample, with a percentile
    bootstrap interval (``scipy.stats.bootstrap``, the two samples resampled independently).

    The interval is ``None`` where resamples leave the score undefined (a resample with one
    class has no ROC AUC)."""
    from scipy import stats

    from auditor.stats import bootstrap_batch_size

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
    references = (
        "Molnar, Interpretable Machine Learning, permutation feature importance: training or test data",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx, params):
        from auditor.context import combine_samples

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
        from auditor.figures import paired_dot_chart

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


CHECKS = (GlobalImportance, ImportanceStability, MethodAgreement, CorrelatedFeatureGroups, LocalStability, TrainTestImportance)
