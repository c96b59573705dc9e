"""What the explainability checks share: the family's seeded sample and score, permutation
importance (once, and on bootstrap resamples), the SHAP attributions and their explainer,
the correlated groups, the family's parameters, and the small helpers their results use.

Each shared computation is memoised on the ``AuditContext`` (see the family's docstring
in ``checks/explainability/__init__.py``), so the checks that read it compute it once.
"""

from __future__ import annotations

from contextlib import contextmanager
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

    def __init__(self, ctx: AuditContext, frames: list[pd.DataFrame]):
        from auditor.util.columns import is_numeric

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

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
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

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
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


def _tree_estimator(ctx: AuditContext, X: pd.DataFrame) -> tuple[Any, EncodedView | None]:
    """The underlying tree model when shap's TreeExplainer can explain it, and the view it
    explains through; (None, None) when it cannot.

    Either the model sees the input columns as they are (a bare estimator, or a pipeline
    whose earlier steps are all 'passthrough', on numeric columns): the view is None; or
    the model is a column-wise encoding followed by a tree model (:mod:`auditor.toolkit.encoded`):
    the tree model is explained on the encoded columns and each input column's
    attribution is the sum over its encoded columns. Any other pipeline transforms its
    inputs into a space the attributions could not be mapped back from, so it takes the
    model-agnostic path.
    """
    from auditor.toolkit.encoded import encoded_view
    from auditor.util.columns import is_numeric

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

    def __init__(self, ctx: AuditContext, *, background: int):
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

    def _tree_values(self, explainer, X: pd.DataFrame) -> np.ndarray:
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

    def explain(self, X: pd.DataFrame, seeds: np.ndarray) -> np.ndarray:
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


def attributions(ctx: AuditContext, *, background: int) -> Attributions:
    return ctx.memo(("explainability", "explainer", background), lambda: Attributions(ctx, background=background))


def shap_values(ctx: AuditContext, *, shap_rows: int, rows: int, background: int) -> dict[str, Any]:
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
