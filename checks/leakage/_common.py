"""What the leakage checks share: reading columns, encoding the target, single-feature models.

The guards and small helpers every leakage check uses, and the one-feature trees and their
scores that LK003 (target leakage) and LK004 (identifier-like columns) both fit.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from auditor.contract.results import MAX_EVIDENCE_ROWS, Findings
from auditor.contract.results import skipped as _skip  # noqa: F401  (the family's name for it)
from auditor.toolkit.stats import encode_labels
from auditor.util.lazy import lazy_attribute, lazy_module
from auditor.util.wording import cell as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
r2_score = lazy_attribute("sklearn.metrics", "r2_score")
roc_auc_score = lazy_attribute("sklearn.metrics", "roc_auc_score")
DecisionTreeClassifier = lazy_attribute("sklearn.tree", "DecisionTreeClassifier")
DecisionTreeRegressor = lazy_attribute("sklearn.tree", "DecisionTreeRegressor")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = MAX_EVIDENCE_ROWS
MAX_TEXT = 40
MAX_EXAMPLES = 5
MISSING_LABEL = "<missing>"
# Roles compared with train, in report order.
OTHER_ROLES: tuple[str, ...] = ("validation", "test", "current")


# -- shared helpers ------------------------------------------------------------------
def _rate(value: float) -> float:
    return round(float(value), 6)




def _empty(ctx: AuditContext, roles: tuple[str, ...] = ("train", "test")) -> Findings | None:
    """A skipped result when a required dataset has no rows (the loader normally refuses them)."""
    for role in roles:
        if ctx.has(role) and len(ctx.frame(role)) == 0:
            return _skip(f"the {role} data has no rows.")
    return None


def _common_features(ctx: AuditContext, *roles: str) -> list[str]:
    """The model's input columns present in every given role, in model order."""
    present = [set(ctx.frame(r).columns) for r in roles]
    return [c for c in ctx.features if all(c in p for p in present)]


def _is_datetime(s: pd.Series) -> bool:
    return ptypes.is_datetime64_any_dtype(s.dtype)


def _as_float(s: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes in seconds), infinities as NaN."""
    if _is_datetime(s):
        parsed = pd.to_datetime(s, utc=True)
        x = ((parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)
    else:
        x = s.to_numpy(dtype="float64", na_value=np.nan)
    x = x.copy()
    x[~np.isfinite(x)] = np.nan
    return x


def _as_text(s: pd.Series) -> pd.Series:
    """A column as strings, missing values kept missing."""
    return s.astype(str)


# -- labels ----------------------------------------------------------------------------
def _classes(ctx: AuditContext, *ys: pd.Series) -> list[Any]:
    if ctx.classes:
        return list(ctx.classes)
    values = pd.concat([y.dropna() for y in ys], ignore_index=True).unique()
    try:
        return sorted(values.tolist())
    except TypeError:  # mixed label types: order by their text
        return sorted(values.tolist(), key=str)


def _positive(ctx: AuditContext, classes: list[Any]) -> Any:
    return ctx.positive_label if ctx.positive_label is not None else classes[-1]


def _encoded_target(ctx: AuditContext, y_train: pd.Series, y_test: pd.Series) -> tuple[np.ndarray, np.ndarray, str, int]:
    """Targets as numbers: binary 1.0 for the positive label, multiclass class codes, regression values.

    Rows without a usable label are NaN. Also returned: what the encoding is, and the
    number of classes (0 for regression).
    """
    if ctx.task == "regression":
        def to_num(y: pd.Series) -> np.ndarray:
            return pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)

        return to_num(y_train), to_num(y_test), "value", 0
    classes = _classes(ctx, y_train, y_test)

    def codes(y: pd.Series) -> np.ndarray:
        c = encode_labels(y.to_numpy(dtype=object), classes).astype("float64")
        c[(c < 0) | y.isna().to_numpy()] = np.nan
        return c

    ct, cs = codes(y_train), codes(y_test)
    if ctx.task == "binary":
        pos = float(classes.index(_positive(ctx, classes))) if _positive(ctx, classes) in classes else np.nan
        ct = np.where(np.isnan(ct), np.nan, (ct == pos).astype("float64"))
        cs = np.where(np.isnan(cs), np.nan, (cs == pos).astype("float64"))
        return ct, cs, f"1 for {_text(_positive(ctx, classes))}", 2
    return ct, cs, "class code", len(classes)


def _target_problem(ctx: AuditContext, t_train: np.ndarray, t_test: np.ndarray) -> str | None:
    """Why a single-feature score cannot be measured on these labels (None when it can)."""
    ok_train, ok_test = t_train[~np.isnan(t_train)], t_test[~np.isnan(t_test)]
    if len(ok_train) < 2:
        return "the training data has fewer than two labelled rows."
    if len(ok_test) < 2:
        return "the test data has fewer than two labelled rows."
    if ctx.task != "regression":
        if len(np.unique(ok_train)) < 2:
            return "the training labels have a single class."
        if len(np.unique(ok_test)) < 2:
            return "the test labels have a single class, so ROC AUC is undefined."
    return None


# -- single-feature models (shared by LK003 and LK004) --------------------------------
def _single_feature_outputs(
    columns: dict[str, tuple[np.ndarray, np.ndarray]],
    t_train: np.ndarray,
    t_test: np.ndarray,
    *,
    task: str,
    n_classes: int,
    max_depth: int,
    min_samples_leaf: int,
    random_state: int,
) -> tuple[np.ndarray, dict[str, np.ndarray | None]]:
    """The labelled test targets and, per feature, a shallow tree's test outputs from that feature alone.

    ``columns`` maps a name to its (train, test) float arrays, NaN for missing (scikit-learn
    trees route missing values). Outputs: regression, predicted values; binary, the
    probability of the positive label (code 1); multiclass, an (n, n_classes) probability
    matrix. ``None`` where the feature is empty in train.
    """
    keep_tr, keep_te = ~np.isnan(t_train), ~np.isnan(t_test)
    y_tr, y_te = t_train[keep_tr], t_test[keep_te]
    if task != "regression":
        y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
    outputs: dict[str, np.ndarray | None] = {}
    for name, (x_train, x_test) in columns.items():
        x_tr, x_te = x_train[keep_tr].reshape(-1, 1), x_test[keep_te].reshape(-1, 1)
        if not np.isfinite(x_tr).any():
            outputs[name] = None
            continue
        if task == "regression":
            tree = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=random_state)
            outputs[name] = tree.fit(x_tr, y_tr).predict(x_te)
            if np.isfinite(x_tr).all() and np.isfinite(x_te).all():
                # A shallow tree is a step function: an exact copy of the target reads R² 0.99, not 1.
                # An isotonic fit catches any monotone copy at full resolution; the one that fits
                # train better (never chosen on test) gives the outputs.
                from sklearn.isotonic import IsotonicRegression
                from sklearn.metrics import r2_score

                with warnings.catch_warnings():  # "auto" warns when the direction is unclear: no copy then
                    warnings.simplefilter("ignore", UserWarning)
                    iso = IsotonicRegression(increasing="auto", out_of_bounds="clip").fit(x_tr.ravel(), y_tr)
                if r2_score(y_tr, iso.predict(x_tr.ravel())) > r2_score(y_tr, tree.predict(x_tr)):
                    outputs[name] = iso.predict(x_te.ravel())
            continue
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=random_state)
        proba = tree.fit(x_tr, y_tr).predict_proba(x_te)
        full = np.zeros((len(x_te), max(n_classes, 2)))
        full[:, tree.classes_] = proba
        outputs[name] = full[:, 1] if task == "binary" else full
    return y_te, outputs


def _single_feature_score(y: np.ndarray, out: np.ndarray, task: str) -> float:
    """R² (regression), ROC AUC of code 1 (binary) or macro one-vs-rest ROC AUC over the classes present (multiclass)."""
    if task == "regression":
        return float(r2_score(y, out))
    if task == "binary":
        return float(roc_auc_score(y == 1, out))
    aucs = [roc_auc_score(y == c, out[:, c]) for c in np.unique(y) if not (y == c).all()]
    if not aucs:
        raise ValueError("one class only")
    return float(np.mean(aucs))


def _single_feature_scores(y: np.ndarray, outputs: dict[str, np.ndarray | None], task: str) -> dict[str, float | None]:
    return {name: (_single_feature_score(y, out, task) if out is not None else None) for name, out in outputs.items()}


def _score_name(task: str) -> str:
    return {"binary": "ROC AUC", "multiclass": "macro one-vs-rest ROC AUC", "regression": "R²"}[task]
