"""The SHAP attributions the explainability checks share: shap imported without its numba
compilation, the explainer chosen for the model (shap's exact TreeExplainer on a tree model
it supports, with its additivity checked; otherwise the model-agnostic Permutation explainer
through the adapter), categorical columns coded for shap and decoded back, and the
importance and bootstrap read from the values.

Tree models are found two ways. A scikit-learn tree model (:data:`TREE_MODELS`), alone or
after a column-wise encoding, is read from the adapter's ``estimator``. Any other adapter
offers one through a ``tree_model()`` method (duck-typed: the adapter's module is never
imported here), which returns None or an object with ``model`` (what
``shap.TreeExplainer`` is given), ``inputs(X)`` (raw rows as its ``shap_values`` takes
them), ``raw_output(X)`` (the model's own output on the scale explained, shape (rows,
outputs), for the additivity check), ``units`` and ``description``. The XGBoost, LightGBM
and CatBoost adapters do (``auditor/contract/adapters_boosting.py``): shap hands those
models to the libraries' own exact TreeSHAP, categorical splits included.

The values are memoised on the ``AuditContext`` (see ``checks/explainability/__init__.py``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import FAMILY, _sample

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.contract.context import AuditContext
    from auditor.toolkit.encoded import EncodedView

TREE_MODELS = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingRegressor", "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
    "IsolationForest",
)


def _shap():
    """The shap module, imported with its numba kernels left as plain Python.

    shap decorates its masking kernels with numba's ``@njit`` at import; compiling them
    costs several seconds of every audit process (numba caches nothing for them), while
    the kernels themselves, on the family's small samples, run in milliseconds as Python.
    So when this process has not imported shap yet, numba's ``DISABLE_JIT`` switch is set
    for the duration of shap's import only: shap's kernels stay Python, numba code that is
    decorated later (the user's, say) is compiled as usual. The plotting colours'
    PendingDeprecationWarnings on import say nothing about the audit and are silenced, as is
    tqdm's note, in a notebook without ipywidgets, that it cannot draw a progress widget.
    """
    import sys
    import warnings

    if "shap" in sys.modules:
        return sys.modules["shap"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.filterwarnings("ignore", message="IProgress not found")
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
    import warnings

    with warnings.catch_warnings():  # shap 0.51 says so on every LightGBM binary call; the shape is handled below
        warnings.filterwarnings("ignore", message="LightGBM binary classifier with TreeExplainer shap values output",
                                category=UserWarning)
        values = explainer.shap_values(X, check_additivity=False)
    values = np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values, dtype=float)
    return values[:, :, None] if values.ndim == 2 else values


def adapter_tree_model(ctx: AuditContext, X: pd.DataFrame) -> Any:
    """The adapter's own description of its tree model for TreeExplainer (see the module docstring),
    or None when it offers none, declines, or cannot convert the probe rows ``X``."""
    hook = getattr(ctx.model, "tree_model", None) if ctx.model is not None and ctx.model.can_call else None
    if not callable(hook):
        return None
    try:
        tree = hook()
        if tree is not None:
            tree.inputs(X)  # rows the model cannot take send the family down the model-agnostic path
    except Exception:  # noqa: BLE001 - the model-agnostic path explains it and reports its errors
        return None
    return tree


def _tree_problem(explainer, est, X, raw_output=None) -> str | None:
    """Why shap's TreeExplainer must not explain ``est`` (None when it may), judged on probe rows ``X``.

    shap reads a fitted forest's structure itself, so a split it does not understand
    gives attributions that look plausible and are wrong; its own additivity check
    compares them with its reading of the trees, which shares the mistake. So: a
    histogram gradient-boosting model with native categorical splits (bitsets, which
    TreeExplainer does not follow) is declined outright, and for any model the
    attributions of the probe rows plus the expected value must add up to the model's
    own output (its ``decision_function``, ``predict_proba`` or ``predict``, whichever
    TreeExplainer explains; or ``raw_output``, the output an adapter's :func:`adapter_tree_model`
    says is explained, when given).
    """
    categorical = getattr(est, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        return "the model splits natively on categorical features, which TreeExplainer does not follow"
    values = _tree_shap(explainer, X)
    total = values.sum(axis=1) + np.ravel(explainer.expected_value)[None, :]
    if raw_output is not None:
        out = np.asarray(raw_output, dtype=float).reshape(len(total), -1)
        if out.shape == total.shape and np.allclose(total, out, rtol=1e-5, atol=1e-5):
            return None
        return "its attributions did not add up to the model's output on probe rows"
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
        #: the adapter's own tree model (see :func:`adapter_tree_model`), when it offers one
        self.hook = adapter_tree_model(ctx, probe)
        if self.hook is not None:
            est, self.view = self.hook.model, None
        else:
            est, self.view = _tree_estimator(ctx, probe)
        if est is not None:
            shap = _shap()

            try:
                explainer = shap.TreeExplainer(est)
                if self.hook is not None:
                    problem = _tree_problem(explainer, est, self.hook.inputs(probe), raw_output=self.hook.raw_output(probe))
                else:
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
        if self.method == "tree" and self.hook is not None:
            return f"shap TreeExplainer (path-dependent; {self.hook.description}) on the model's own output scale ({self.units})"
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
        if self.method == "tree" and self.hook is not None:
            return self.hook.units
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
        if self.hook is not None:
            values = _tree_shap(explainer, self.hook.inputs(X))
        else:
            values = _tree_shap(explainer, X if self.view is None else self.view.encode(X))
        if self.ctx.task == "binary" and values.shape[2] == 2:
            pos = self.ctx.positive_index
            values = values[:, :, pos:pos + 1]
        elif self.ctx.task == "binary" and self.ctx.positive_index == 0:
            # one output: the second class's log-odds, which the first class's attributions negate
            values = -values
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
