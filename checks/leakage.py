"""Leakage checks (area ``leakage``, IDs LK001-LK007).

Each check measures one way in which the data used to evaluate a model can know
something it should not: rows shared with training (exactly or nearly), a feature that
is the target in disguise, identifier-like columns, groups or time periods that straddle
the split, and a label distribution that differs between the splits. They return
metrics and small evidence tables; the engine judges the metrics against the thresholds
declared on each class, and nothing here compares a metric with a level.

Every check is vectorised; the heavier ones (LK002, LK003, LK004) work on seeded
samples of a declared size and record them in ``sample``. The mathematics is
scikit-learn's (``NearestNeighbors``, decision trees, ``roc_auc_score``, ``r2_score``),
SciPy's (``binomtest``, ``spearmanr``, ``chi2_contingency``, ``ks_2samp``) and pandas'
(``hash_pandas_object``); this module is glue.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from auditor import wording
from auditor.check import Check, Param, Threshold
from auditor.columns import is_numeric as _is_numeric
from auditor.context import combine_samples
from auditor.figures import bar_chart
from auditor.lazy import lazy_attribute, lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.stats import batched_metric, bootstrap_ci, encode_labels
from auditor.wording import cell as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
special = lazy_module("scipy.special")
stats = lazy_module("scipy.stats")
r2_score = lazy_attribute("sklearn.metrics", "r2_score")
roc_auc_score = lazy_attribute("sklearn.metrics", "roc_auc_score")
NearestNeighbors = lazy_attribute("sklearn.neighbors", "NearestNeighbors")
DecisionTreeClassifier = lazy_attribute("sklearn.tree", "DecisionTreeClassifier")
DecisionTreeRegressor = lazy_attribute("sklearn.tree", "DecisionTreeRegressor")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = 20
MAX_TEXT = 40
MAX_EXAMPLES = 5
EXAMPLE_COLUMNS = 6
MISSING_LABEL = "<missing>"
# Roles compared with train, in report order.
OTHER_ROLES: tuple[str, ...] = ("validation", "test", "current")
# Nearest-neighbour distances are computed with the dot-product expansion, which leaves
# round-off of about 1e-8 on exact copies; distances are rounded to this many decimals
# (in scaled units) so that exact copies tie at zero as they should.
DISTANCE_DECIMALS = 6
# Scaled feature values are clipped so that squared distances cannot overflow.
CLIP = 1e6
# The constant that turns an interquartile range into a standard deviation for normal data.
IQR_TO_SD = 1.349


# -- shared helpers ------------------------------------------------------------------
def _rate(value: float) -> float:
    return round(float(value), 6)


def _difference_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval of the difference of two proportions k1/n1 - k2/n2 (Newcombe's hybrid score method).

    Built from each proportion's Wilson interval (``scipy.stats.binomtest(...).proportion_ci``).
    """
    p1, p2 = k1 / n1, k2 / n2
    ci1 = stats.binomtest(k1, n1).proportion_ci(method="wilson")
    ci2 = stats.binomtest(k2, n2).proportion_ci(method="wilson")
    low = p1 - p2 - np.sqrt((p1 - ci1.low) ** 2 + (ci2.high - p2) ** 2)
    high = p1 - p2 + np.sqrt((ci1.high - p1) ** 2 + (p2 - ci2.low) ** 2)
    return float(low), float(high)


def _skip(reason: str) -> Findings:
    return Findings(summary=f"Skipped: {reason}", status="skipped")


def _empty(ctx: "AuditContext", roles: tuple[str, ...] = ("train", "test")) -> Findings | None:
    """A skipped result when a required dataset has no rows (the loader normally refuses them)."""
    for role in roles:
        if ctx.has(role) and len(ctx.frame(role)) == 0:
            return _skip(f"the {role} data has no rows.")
    return None


def _common_features(ctx: "AuditContext", *roles: str) -> list[str]:
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


def _comparable(series: list[pd.Series]) -> list[pd.Series]:
    """The same column from several datasets in one representation, so equal values hash equal.

    Numbers become float64 in all of them (an int 1 in train equals a float 1.0 in test);
    anything else, or a column whose kind differs between datasets, becomes text.
    """
    if all(_is_numeric(s) or ptypes.is_bool_dtype(s.dtype) for s in series):
        return [pd.Series(s.to_numpy(dtype="float64", na_value=np.nan)) for s in series]
    return [_as_text(s).reset_index(drop=True) for s in series]


def _row_hashes(frames: list[pd.DataFrame], cols: list[str]) -> list[np.ndarray]:
    """A 64-bit hash of each row over ``cols`` (pandas.util.hash_pandas_object), comparable across frames."""
    parts: list[dict[int, pd.Series]] = [{} for _ in frames]
    for i, col in enumerate(cols):
        for part, values in zip(parts, _comparable([f[col] for f in frames])):
            part[i] = values
    return [pd.util.hash_pandas_object(pd.DataFrame(p), index=False).to_numpy() for p in parts]


def _match_positions(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query hash, the position of the first reference row with that hash (-1 when none)."""
    first = ~pd.Series(reference).duplicated(keep="first").to_numpy()
    positions = np.flatnonzero(first)
    found = pd.Index(reference[first]).get_indexer(query)
    return np.where(found >= 0, positions[np.maximum(found, 0)], -1)


# -- labels ----------------------------------------------------------------------------
def _classes(ctx: "AuditContext", *ys: pd.Series) -> list[Any]:
    if ctx.classes:
        return list(ctx.classes)
    values = pd.concat([y.dropna() for y in ys], ignore_index=True).unique()
    try:
        return sorted(values.tolist())
    except TypeError:  # mixed label types: order by their text
        return sorted(values.tolist(), key=str)


def _positive(ctx: "AuditContext", classes: list[Any]) -> Any:
    return ctx.positive_label if ctx.positive_label is not None else classes[-1]


def _encoded_target(ctx: "AuditContext", y_train: pd.Series, y_test: pd.Series) -> tuple[np.ndarray, np.ndarray, str, int]:
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


def _target_problem(ctx: "AuditContext", t_train: np.ndarray, t_test: np.ndarray) -> str | None:
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


def _target_ordered_codes(train: pd.Series, test: pd.Series, t_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A categorical feature as the rank of each level's mean target in train; unseen levels NaN.

    Missing values are a level of their own. Ordering levels by their target mean lets a
    tree on one ordinal column split them as well as any grouping of levels (exactly so for
    binary and regression targets).
    """
    tr = _as_text(train).fillna(MISSING_LABEL).to_numpy(dtype=object)
    te = _as_text(test).fillna(MISSING_LABEL).to_numpy(dtype=object)
    labelled = ~np.isnan(t_train)
    means = pd.Series(t_train[labelled]).groupby(tr[labelled]).mean()
    order = means.rank(method="first")
    mapping = pd.Series(order.to_numpy(), index=order.index)
    return (
        pd.Series(tr).map(mapping).to_numpy(dtype="float64", na_value=np.nan),
        pd.Series(te).map(mapping).to_numpy(dtype="float64", na_value=np.nan),
    )


def _score_name(task: str) -> str:
    return {"binary": "ROC AUC", "multiclass": "macro one-vs-rest ROC AUC", "regression": "R²"}[task]


def _model_test_score(ctx: "AuditContext", t_test_full: np.ndarray) -> float | None:
    """The model's own score on all labelled test rows, for comparison; None when unavailable."""
    if ctx.model is None:
        return None
    try:
        labelled = ~np.isnan(t_test_full)
        if ctx.task == "regression":
            pred = np.asarray(ctx.predictions("test"), dtype="float64")
            return float(r2_score(t_test_full[labelled], pred[labelled]))
        if ctx.task == "binary":
            score = ctx.scores("test")
            if score is None:
                classes = _classes(ctx, ctx.y("train"), ctx.y("test"))
                pred = encode_labels(np.asarray(ctx.predictions("test"), dtype=object), classes)
                score = (pred == classes.index(_positive(ctx, classes))).astype(float)
            return float(roc_auc_score(t_test_full[labelled] == 1, np.asarray(score, dtype=float)[labelled]))
        proba = ctx.probabilities("test")
        if proba is None:
            return None
        return _single_feature_score(t_test_full[labelled].astype(np.int64), proba[labelled], "multiclass")
    except Exception:  # the model is optional here: its failure is other checks' finding
        return None


# -- LK001 ---------------------------------------------------------------------------
class RowOverlap(Check):
    """Test rows that exactly repeat a training row

    What it checks:
        Every row's model inputs are hashed (``pandas.util.hash_pandas_object``; numbers
        compared as float64, anything else as text, missing values equal to each other)
        and each test row is looked up among the training rows. The metric
        ``test_overlap_rate`` is the share of test rows whose inputs equal those of some
        training row; it warns above 0.01 and fails above 0.05. ``current_overlap_rate``
        is the same for the current (production) sample, when given, with the same
        thresholds. The share with the target included as well
        (``test_overlap_rate_with_target``) and the share of training rows that repeat
        another training row (``train_internal_overlap_rate``, the rate to expect by
        chance when the inputs take few distinct values) are reported, not judged.

    Why it matters:
        A test row that the model saw in training measures memory, not generalisation:
        the test score is optimistic by an amount that grows with the share of copies.
        Copies usually come from duplicated records, several rows per entity, or
        augmentation applied before the split.

    How to fix:
        Deduplicate before splitting, or split by entity (a group key) so that copies of
        one record cannot land on both sides; then re-evaluate on the cleaned test set.
        Where the inputs are few discrete values and repeats are genuine (compare with
        ``train_internal_overlap_rate``), raise the thresholds in the policy and say why.

    References:
        P4.2, P1.4 and P1.7 of the practices; Kaufman et al., "Leakage in data mining:
        formulation, detection, and avoidance", ACM TKDD 6(4), 2012; pandas
        ``hash_pandas_object``.
    """

    id = "LK001"
    name = "row-overlap"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test"})
    thresholds = {
        "test_overlap_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of test rows whose inputs equal a training row's",
        ),
        "current_overlap_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of current rows whose inputs equal a training row's",
        ),
    }
    practices = ("P4.2", "P1.4", "P1.7")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "https://pandas.pydata.org/docs/reference/api/pandas.util.hash_pandas_object.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        train = ctx.frame("train")
        roles = [r for r in OTHER_ROLES if ctx.has(r) and len(ctx.frame(r))]
        if not _common_features(ctx, "train", "test"):
            return _skip("train and test share no model input column.")
        metrics: dict[str, Metric] = {}
        rows, examples = [], []
        example_cols: list[str] = []
        internal = None
        for role in roles:
            other = ctx.frame(role)
            cols = _common_features(ctx, "train", role)
            if not cols:
                continue
            h_train, h_other = _row_hashes([train, other], cols)
            if internal is None and role == "test":
                internal = float(pd.Series(h_train).duplicated(keep=False).mean())
            match = _match_positions(h_train, h_other)
            matched = match >= 0
            rate = float(matched.mean())
            with_target: float | None = None
            if ctx.target in train.columns and ctx.has_labels(role):
                th_train, th_other = _row_hashes([train, other], cols + [ctx.target])
                with_target = float(np.isin(th_other, th_train).mean())
            rows.append([role, "train", len(other), int(matched.sum()), _rate(rate),
                         _rate(with_target) if with_target is not None else "no labels"])
            if role in ("test", "current"):
                metrics[f"{role}_overlap_rate"] = Metric(
                    rate, description=f"share of {role} rows whose inputs equal a training row's"
                )
            if role == "test" and with_target is not None:
                metrics["test_overlap_rate_with_target"] = Metric(
                    with_target, description="share of test rows equal to a training row, target included"
                )
            if matched.any() and len(examples) < MAX_EXAMPLES:
                shown = cols[:EXAMPLE_COLUMNS]
                example_cols = example_cols or shown
                if shown == example_cols:
                    positions = np.flatnonzero(matched)[: MAX_EXAMPLES - len(examples)]
                    values = other.iloc[positions][shown]
                    for pos, row in zip(positions, values.itertuples(index=False, name=None)):
                        examples.append([role, int(pos), int(match[pos]), *[_text(v) for v in row]])
        metrics["train_internal_overlap_rate"] = Metric(
            internal if internal is not None else 0.0,
            description="share of training rows whose inputs equal another training row's (chance level)",
        )
        evidence = [Evidence(
            title="Rows whose inputs equal a training row, per pair of datasets",
            columns=["dataset", "compared with", "rows", "matching rows", "rate", "rate with target"],
            rows=rows,
            note=f"{_rate(metrics['train_internal_overlap_rate'].value)} of training rows repeat another training row.",
        )]
        if examples:
            evidence.append(Evidence(
                title="Examples of rows that repeat a training row",
                columns=["dataset", "row", "train row", *example_cols],
                rows=examples,
                note="Rows are 0-based positions in each file; only the first columns are shown.",
            ))
        test_row = next(r for r in rows if r[0] == "test")
        summary = (
            f"Hashed the model inputs of {', '.join(r[0] for r in rows)} and looked them up in train: "
            f"{test_row[3]} of {test_row[2]} test rows ({wording.share(test_row[4])}) repeat a training row exactly"
            + (
                f", {wording.share(metrics['current_overlap_rate'].value)} of current rows do"
                if "current_overlap_rate" in metrics else ""
            )
            + "."
        )
        any_match = any(r[3] for r in rows)
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Deduplicate before splitting, or split by a group key so that copies of a record cannot land "
                "on both sides; re-evaluate on test rows that do not repeat training rows."
                if any_match
                else "Nothing to remove; keep deduplicating before the split."
            ),
        )


# -- LK002 ---------------------------------------------------------------------------
def _embedding(fit: pd.DataFrame, frames: list[pd.DataFrame], cols: list[str], max_levels: int) -> list[np.ndarray]:
    """Scaled features for distances, fitted on ``fit`` and applied to each frame.

    Numeric and datetime columns: (x - median) / (IQR / 1.349), falling back to the
    standard deviation and then to 1 when the spread is zero; missing values become the
    median (0). Other columns: one-hot of the ``max_levels`` most frequent training levels
    (missing is a level), scaled by 1/sqrt(2) so that two rows differing in one category
    are one unit apart, like one standard deviation of a numeric column; rarer levels share
    the all-zero code.
    """
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for col in cols:
        ref = fit[col]
        if _is_numeric(ref) or _is_datetime(ref):
            x_ref = _as_float(ref)
            finite = x_ref[np.isfinite(x_ref)]
            if len(finite) == 0:
                continue
            center = float(np.median(finite))
            q1, q3 = np.percentile(finite, [25, 75])
            spread = (q3 - q1) / IQR_TO_SD
            if not spread > 0:
                spread = float(np.std(finite))
            if not spread > 0:
                spread = 1.0
            for block, frame in zip(blocks, frames):
                s = frame[col]
                x = _as_float(s) if (_is_numeric(s) or _is_datetime(s)) else pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                z = np.clip((x - center) / spread, -CLIP, CLIP)
                block.append(np.nan_to_num(z, nan=0.0).reshape(-1, 1))
        else:
            levels = _as_text(ref).fillna(MISSING_LABEL).value_counts().index[:max_levels]
            if len(levels) < 2:
                continue
            for block, frame in zip(blocks, frames):
                codes = pd.Index(levels).get_indexer(_as_text(frame[col]).fillna(MISSING_LABEL))
                onehot = np.zeros((len(codes), len(levels)))
                known = codes >= 0
                onehot[np.flatnonzero(known), codes[known]] = 1.0 / np.sqrt(2.0)
                block.append(onehot)
    return [np.hstack(b) if b else np.zeros((len(f), 0)) for b, f in zip(blocks, frames)]


class NearDuplicates(Check):
    """Test rows that are near-copies of training rows

    What it checks:
        Whether test rows lie closer to training rows than fresh rows from the same
        distribution would. Features are scaled (numeric: robust z-score with the
        training median and IQR; categorical: one-hot of the ``max_levels`` most frequent
        levels, a category mismatch counting one unit; missing values imputed). A seeded
        reference sample R of at most ``reference_rows`` training rows is indexed with
        ``sklearn.neighbors.NearestNeighbors``. A control sample B of at most
        ``probe_rows`` rows of R gives the distances of genuinely independent rows: each
        B row's distance to its nearest *other* row of R (leave-one-out, so R stays whole
        and no test row's source is set aside). A probe of at most ``probe_rows`` test
        rows gives each one's distance to its nearest row of R. τ is the ``quantile``
        (1%) quantile of the control distances; the metric ``near_duplicate_excess`` is
        the share of test rows within τ minus the share of control rows within τ, with a
        95% interval (Newcombe's method from Wilson intervals; an interval that contains
        the fail level, as with few test rows, reads inconclusive). It warns above 0.02
        and fails above 0.05. The two raw rates, τ and a one-sided binomial test
        (``scipy.stats.binomtest``: are test rows more than their share of the probed
        rows within τ?) are reported, not judged. Test rows copied from training rows
        outside R are missed, so with more than ``reference_rows`` training rows the
        excess reads low by the factor ``reference_rows`` / training rows.

    Why it matters:
        Exact-match checks miss copies that went through rounding, re-encoding, a
        resampling step (SMOTE, augmentation) or a slightly different export. Such
        near-copies leak training rows into the test set just as surely, and inflate the
        test score the same way.

    How to fix:
        Look at the nearest pairs in the evidence. Find the step that made near-copies
        (augmentation or oversampling before the split, several records per entity,
        overlapping time windows), move it after the split or split by entity, and
        re-evaluate.

    References:
        P4.2 and P1.7 of the practices; Kapoor & Narayanan, "Leakage and the
        reproducibility crisis in machine-learning-based science", Patterns 4(9), 2023;
        scikit-learn ``NearestNeighbors``; SciPy ``binomtest``.
    """

    id = "LK002"
    name = "near-duplicates"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test"})
    params = {
        "reference_rows": Param(default=100_000, kind="int", low=100, high=10_000_000, help="training rows indexed for the neighbour search"),
        "probe_rows": Param(default=1_000, kind="int", low=50, high=1_000_000, help="control (train) rows and test rows probed, each"),
        "quantile": Param(default=0.01, kind="float", low=0.001, high=0.2, help="quantile of the control distances that sets τ"),
        "max_levels": Param(default=20, kind="int", low=2, high=1000, help="most frequent levels one-hot encoded per categorical feature"),
    }
    thresholds = {
        "near_duplicate_excess": Threshold(
            direction="above", warn=0.02, fail=0.05, low=-1, high=1,
            help="share of test rows within τ of a training row minus the same share for held-out training rows",
        )
    }
    practices = ("P4.2", "P1.7")
    references = (
        "Kapoor & Narayanan, Leakage and the reproducibility crisis in machine-learning-based science, Patterns 4(9), 2023",
        "https://scikit-learn.org/stable/modules/generated/sklearn.neighbors.NearestNeighbors.html",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.binomtest.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        cols = _common_features(ctx, "train", "test")
        if not cols:
            return _skip("train and test share no model input column.")
        seed = ctx.seed_for(self.id)
        rng = ctx.rng(self.id)
        train, test = ctx.frame("train"), ctx.frame("test")
        ref_idx, ref_rec = ctx.sample_index("train", int(params["reference_rows"]), check_id=self.id)
        probe_idx, probe_rec = ctx.sample_index("test", int(params["probe_rows"]), check_id=self.id)
        control = np.sort(rng.permutation(len(ref_idx))[: min(int(params["probe_rows"]), len(ref_idx))])
        sample = combine_samples({"train": ref_rec, "test": probe_rec}, seed)
        if len(ref_idx) < 3:
            return Findings(
                summary=f"Could not measure near-duplicates: the training data has {len(ref_idx)} rows, at least 3 are needed.",
                metrics={"near_duplicate_excess": Metric(None, description="test rows within τ minus control rows within τ")},
                sample=sample,
            )
        reference = train.iloc[ref_idx]
        emb_ref, emb_test = _embedding(reference, [reference, test.iloc[probe_idx]], cols, int(params["max_levels"]))
        if emb_ref.shape[1] == 0:
            emb_ref, emb_test = np.zeros((len(ref_idx), 1)), np.zeros((len(probe_idx), 1))
        index = NearestNeighbors(n_neighbors=2).fit(emb_ref)
        d_control = np.round(index.kneighbors(emb_ref[control], n_neighbors=2)[0][:, 1], DISTANCE_DECIMALS)
        d_test_all, nearest = index.kneighbors(emb_test, n_neighbors=1)
        d_test = np.round(d_test_all[:, 0], DISTANCE_DECIMALS)
        tau = float(np.quantile(d_control, float(params["quantile"])))
        k_control, k_test = int((d_control <= tau).sum()), int((d_test <= tau).sum())
        rate_control, rate_test = k_control / len(d_control), k_test / len(d_test)
        excess = rate_test - rate_control
        low, high = _difference_interval(k_test, len(d_test), k_control, len(d_control))
        # τ is itself estimated from the controls, so the test count is compared with the
        # controls' count rather than with a fixed rate: among all rows within τ, test rows
        # should make up their share of the probes (the conditional test of two rates).
        within = k_test + k_control
        p_value = (
            float(stats.binomtest(k_test, within, len(d_test) / (len(d_test) + len(d_control)), alternative="greater").pvalue)
            if within
            else 1.0
        )
        closest = np.argsort(d_test, kind="stable")[:MAX_EXAMPLES]
        evidence = [
            Evidence(
                title="Rows within τ of their nearest training row",
                columns=["probe", "rows", "within τ", "rate"],
                rows=[
                    ["training control (held out of its own neighbours)", len(d_control), k_control, _rate(rate_control)],
                    ["test", len(d_test), k_test, _rate(rate_test)],
                ],
                note=(
                    f"τ = {tau:.6g} scaled units, the {float(params['quantile']):g} quantile of the control distances; "
                    f"{len(ref_idx)} training rows indexed."
                ),
            ),
            Evidence(
                title="Test rows closest to a training row",
                columns=["test row", "nearest train row", "distance"],
                rows=[[int(probe_idx[i]), int(ref_idx[nearest[i, 0]]), float(d_test[i])] for i in closest],
                note="Rows are 0-based positions in each file; distance in scaled units (one unit ≈ one standard deviation or one category mismatch).",
            ),
        ]
        coverage = len(ref_idx) / len(train)
        summary = (
            f"Compared nearest-neighbour distances to {len(ref_idx)} training rows"
            + (f" ({coverage:.0%} of them)" if coverage < 1 else "")
            + f": {wording.share(rate_test)} of {len(d_test)} "
            f"test rows lie within τ = {tau:.3g} (the {float(params['quantile']):g} quantile of held-out training "
            f"rows' distances) against {wording.share(rate_control)} of {len(d_control)} training controls, an excess of "
            f"{excess:+.2%} (one-sided binomial p = {p_value:.2g})."
        )
        return Findings(
            summary=summary,
            metrics={
                "near_duplicate_excess": Metric(
                    excess, low, high, description="test rows within τ minus control rows within τ (95% Newcombe interval)"
                ),
                "test_near_duplicate_rate": Metric(rate_test, description="share of probed test rows within τ of a training row"),
                "control_near_duplicate_rate": Metric(rate_control, description="share of training controls within τ of another training row"),
                "distance_threshold": Metric(tau, description="τ in scaled units"),
                "reference_coverage": Metric(
                    coverage, description="share of training rows indexed; copies of the others are not detected"
                ),
                "binomial_p_value": Metric(p_value, description="one-sided binomial test: are test rows over-represented among the rows within τ?", p_value=True),
            },
            evidence=evidence,
            recommendation=(
                "Inspect the closest pairs; move augmentation or oversampling after the split, or split by entity, "
                "and re-evaluate on test rows that are not near-copies of training rows."
                if excess > 0
                else "Nothing to remove; test rows are no closer to training rows than held-out training rows are."
            ),
            sample=sample,
        )


# -- LK003 ---------------------------------------------------------------------------
class TargetLeakage(Check):
    """Single features that predict the target almost perfectly

    What it checks:
        For each model input, a shallow tree (``DecisionTreeClassifier`` or
        ``DecisionTreeRegressor``, depth ``max_depth``, at least ``min_samples_leaf``
        rows per leaf; regression on a complete numeric feature also fits an isotonic
        regression and keeps whichever of the two fits train better) is fitted on that feature alone, on a seeded sample of at most
        ``max_rows`` training rows, and scored on at most ``max_rows`` test rows: ROC AUC
        of the positive class for binary tasks, macro one-vs-rest ROC AUC for multiclass,
        R² for regression. Categorical features enter as the rank of each level's mean
        target in train (multiclass: mean class code); levels unseen in train and
        missing numbers are left missing for the tree to route. The metric
        ``max_single_feature_score`` is the highest score over the features; it warns
        above 0.95 and fails above 0.99. R² lives on the same scale (1 is a perfect fit,
        0 or below is no signal), so the same levels apply. The levels sit high because
        real data have honest single predictors near 0.95 (a tumour's radius for its
        malignancy: 0.957 on scikit-learn's breast cancer data, which the old levels of
        0.90 and 0.97 left undecided and so blocking at this severity); a feature that is
        the label in disguise scores near 1. The absolute Spearman
        correlation of each numeric feature with the target on train (binary: 1 for the
        positive label; not for multiclass) and the model's own test score, when the
        model's outputs are available, are reported for comparison.

    Why it matters:
        A feature that alone predicts the label almost perfectly is usually the label in
        disguise: recorded after the outcome (a refund date for fraud, a discharge code
        for a diagnosis), derived from it, or filled in by the same process. The model
        looks excellent in evaluation and fails in production, where the feature is not
        yet known when the prediction is made.

    How to fix:
        For each named feature, establish when its value becomes known relative to the
        moment of prediction. Drop features only known afterwards or derived from the
        target; rebuild any that were computed with the labels (target encodings fitted
        on all rows) inside cross-validation folds, then retrain and re-evaluate.

    References:
        P4.2 and P1.7 of the practices; Kaufman et al., "Leakage in data mining:
        formulation, detection, and avoidance", ACM TKDD 6(4), 2012; Kapoor & Narayanan,
        Patterns 4(9), 2023; scikit-learn ``DecisionTreeClassifier``, ``roc_auc_score``.
    """

    id = "LK003"
    name = "target-leakage"
    area = "leakage"
    severity = "critical"
    needs = frozenset({"train", "test"})
    params = {
        "max_rows": Param(default=20_000, kind="int", low=100, high=10_000_000, help="training rows and test rows used, each"),
        "max_depth": Param(default=4, kind="int", low=1, high=20, help="depth of each single-feature tree"),
        "min_samples_leaf": Param(default=20, kind="int", low=1, high=100_000, help="fewest training rows per leaf"),
        "n_resamples": Param(default=200, kind="int", low=0, high=10_000, help="bootstrap resamples for the best feature's interval (0: none)"),
    }
    thresholds = {
        "max_single_feature_score": Threshold(
            direction="above", warn=0.95, fail=0.99, low=0, high=1,
            help="best test ROC AUC (classification) or R² (regression) of a one-feature tree",
        )
    }
    practices = ("P4.2", "P1.7")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "Kapoor & Narayanan, Leakage and the reproducibility crisis in machine-learning-based science, Patterns 4(9), 2023",
        "https://scikit-learn.org/stable/modules/tree.html#missing-values-support",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        if not (ctx.has_labels("train") and ctx.has_labels("test")):
            return _skip("the training or test data has no target values.")
        cols = _common_features(ctx, "train", "test")
        if not cols:
            return _skip("train and test share no model input column.")
        seed = ctx.seed_for(self.id)
        tr_idx, tr_rec = ctx.sample_index("train", int(params["max_rows"]), check_id=self.id)
        te_idx, te_rec = ctx.sample_index("test", int(params["max_rows"]), check_id=self.id)
        sample = combine_samples({"train": tr_rec, "test": te_rec}, seed)
        train, test = ctx.frame("train").iloc[tr_idx], ctx.frame("test").iloc[te_idx]
        t_train_full, t_test_full, encoding, n_classes = _encoded_target(ctx, ctx.y("train"), ctx.y("test"))
        t_train, t_test = t_train_full[tr_idx], t_test_full[te_idx]
        if (problem := _target_problem(ctx, t_train, t_test)) is not None:
            return Findings(summary=f"Skipped: {problem}", status="skipped", sample=sample)

        encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        kinds: dict[str, str] = {}
        rhos: dict[str, float | None] = {}
        for col in cols:
            a, b = train[col], test[col]
            if (_is_numeric(a) or _is_datetime(a)) and (_is_numeric(b) or _is_datetime(b)):
                kinds[col] = "numeric"
                encoded[col] = (_as_float(a), _as_float(b))
                x, ok = encoded[col][0], ~np.isnan(encoded[col][0]) & ~np.isnan(t_train)
                rhos[col] = (
                    abs(float(stats.spearmanr(x[ok], t_train[ok]).statistic))
                    if ctx.task != "multiclass" and ok.sum() > 2 and np.ptp(x[ok]) > 0 and np.ptp(t_train[ok]) > 0
                    else None
                )
            else:
                kinds[col] = "categorical"
                encoded[col] = _target_ordered_codes(a, b, t_train)
                rhos[col] = None
        y_test, outputs = _single_feature_outputs(
            encoded, t_train, t_test, task=ctx.task, n_classes=n_classes, max_depth=int(params["max_depth"]),
            min_samples_leaf=int(params["min_samples_leaf"]), random_state=seed,
        )
        scores = _single_feature_scores(y_test, outputs, ctx.task)
        ranked = sorted((c for c in cols if scores[c] is not None), key=lambda c: -scores[c])
        best = scores[ranked[0]] if ranked else None
        low = high = None
        if ranked and int(params["n_resamples"]):
            task = ctx.task

            def best_score(y, out):
                return _single_feature_score(y, out, task)

            # the same score on every resample at once where it has a batched form
            # (binary: the AUC of code 1; regression: R²)
            best_score.batched = (None if task == "multiclass" else  # type: ignore[attr-defined]
                                  batched_metric("roc_auc" if task == "binary" else "r2", task=task, positive_label=1))
            _, low, high = bootstrap_ci(
                best_score, y_test, outputs[ranked[0]],
                n_resamples=int(params["n_resamples"]), random_state=seed,
            )
        model_score = _model_test_score(ctx, t_test_full)
        score_name = _score_name(ctx.task)

        rows = [
            [c, kinds[c], round(scores[c], 4), round(rhos[c], 4) if rhos[c] is not None else "—"]
            for c in ranked[:MAX_ROWS]
        ]
        unscored = [c for c in cols if scores[c] is None]
        notes = [f"Single-feature tree (depth {params['max_depth']}) fitted on train, scored on test; target encoded as {encoding}."]
        if unscored:
            notes.append(f"{len(unscored)} features are empty in train and were not scored.")
        if len(ranked) > MAX_ROWS:
            notes.append(f"{len(ranked) - MAX_ROWS} weaker features not shown.")
        evidence = [Evidence(
            title=f"Strongest single features (test {score_name})",
            columns=["feature", "kind", f"test {score_name}", "|Spearman| with target (train)"],
            rows=rows,
            note=" ".join(notes),
        )]
        if model_score is not None:
            evidence.append(Evidence(
                title="The model's own test score, for comparison",
                columns=["model", f"test {score_name}"],
                rows=[["full model, all inputs", round(model_score, 4)]],
                note="A single feature scoring close to or above the full model carries most of what the model knows.",
            ))
        figures = [bar_chart(
            "Single-feature test scores",
            ranked[:12],
            {f"test {score_name}": [max(0.0, scores[c]) for c in ranked[:12]]},
            f"test {score_name} of a one-feature tree",
            "Each bar is a shallow tree fitted on one feature alone; a bar near 1 is a feature that predicts the target by itself.",
        )] if ranked else []
        top = ", ".join(f"{c!r} ({scores[c]:.3f})" for c in ranked[:3])
        summary = (
            f"Fitted a one-feature tree per input on {len(tr_idx)} training rows and scored it on {len(te_idx)} test "
            f"rows: the strongest single features by test {score_name} are {top}"
            + (f", against {model_score:.3f} for the full model." if model_score is not None else ".")
            if ranked
            else f"Could not score any of {len(cols)} features: every one is empty in the training sample."
        )
        metrics = {
            "max_single_feature_score": Metric(
                best, low, high, description=f"best test {score_name} of a one-feature tree (95% bootstrap interval over test rows)"
            ),
            "features_scored": Metric(len(ranked), description="features with a single-feature score"),
        }
        if model_score is not None:
            metrics["model_test_score"] = Metric(model_score, description=f"the model's own test {score_name}")
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=figures,
            recommendation=(
                f"Establish when {ranked[0]!r} becomes known relative to the prediction; drop it if it is recorded "
                "after the outcome or derived from the target, and rebuild target-derived encodings inside CV folds."
                if ranked
                else "Nothing to check."
            ),
            sample=sample,
        )


# -- LK004 ---------------------------------------------------------------------------
def _integer_or_text(s: pd.Series) -> bool:
    """Whether a column can be an identifier: integer values or text (continuous numbers are naturally unique)."""
    if ptypes.is_bool_dtype(s.dtype):
        return False
    if _is_datetime(s):
        return True
    if _is_numeric(s):
        x = _as_float(s)
        x = x[~np.isnan(x)]
        return bool(len(x)) and bool(np.all(np.floor(x) == x))
    return True


def _order_values(s: pd.Series) -> np.ndarray:
    """A column's values as numbers that sort like them (text: lexicographic codes); NaN for missing."""
    if _is_numeric(s) or _is_datetime(s):
        return _as_float(s)
    codes = pd.factorize(_as_text(s), sort=True)[0].astype("float64")
    codes[codes < 0] = np.nan
    return codes


def _percentile_rank(s: pd.Series) -> np.ndarray:
    """Each value's percentile rank within its own dataset (how an identifier's position reads)."""
    return pd.Series(_order_values(s)).rank(pct=True).to_numpy(dtype="float64", na_value=np.nan)


class IdLikeColumns(Check):
    """Identifier-like features that carry signal about the target

    What it checks:
        Model inputs of the training data that look like identifiers: unique per row
        (distinct values / rows ≥ ``unique_ratio``, 0.95, counted only for integer, text
        or date columns, since continuous measurements are naturally unique) or monotonic
        in row order (|Spearman| between the value and the row position ≥
        ``monotonic_rho``, 0.99, on a seeded sample of at most ``max_rows`` rows; text in
        lexicographic order). The declared ``id_column`` is not a model input and is not
        looked at. For each such column, its signal about the target is the test score of
        the same one-feature tree as LK003, fitted on the column's percentile rank within
        its own dataset (so that a row number or an ordered ID carries its position).
        ``id_like_columns_with_signal`` counts the identifier-like columns whose score
        reaches ``min_auc`` (0.75 ROC AUC, classification) or ``min_r2`` (0.05 R²,
        regression); any fails. ``id_like_columns`` counts them all (reported).

    Why it matters:
        An identifier should carry no information about the outcome. When it does, the
        rows were ordered or numbered by something related to the target (records sorted
        by outcome, IDs issued in time order while the base rate drifted), and the model
        can learn the bookkeeping instead of the phenomenon; the signal vanishes in
        production.

    How to fix:
        Drop identifier columns from the model inputs (declare them with
        ``--id-column``). If a row number or an ordered ID predicts the target, find out
        why the rows are ordered by outcome, shuffle before splitting, and check whether
        a time trend calls for a chronological split (LK006).

    References:
        P4.2 and P1.5 of the practices; Kaufman et al., "Leakage in data mining:
        formulation, detection, and avoidance", ACM TKDD 6(4), 2012; SciPy ``spearmanr``.
    """

    id = "LK004"
    name = "id-like-columns"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test"})
    params = {
        "unique_ratio": Param(default=0.95, kind="float", low=0.5, high=1.0, help="distinct values per row from which an integer or text column is identifier-like"),
        "monotonic_rho": Param(default=0.99, kind="float", low=0.5, high=1.0, help="|Spearman| with the row position from which a column is identifier-like"),
        "min_auc": Param(default=0.75, kind="float", low=0.5, high=1.0, help="single-feature ROC AUC from which an identifier carries signal (classification)"),
        "min_r2": Param(default=0.05, kind="float", low=0.0, high=1.0, help="single-feature R² from which an identifier carries signal (regression)"),
        "max_rows": Param(default=20_000, kind="int", low=100, high=10_000_000, help="training rows and test rows used, each"),
        "max_depth": Param(default=4, kind="int", low=1, high=20, help="depth of each single-feature tree"),
        "min_samples_leaf": Param(default=20, kind="int", low=1, high=100_000, help="fewest training rows per leaf"),
        "min_rows": Param(default=50, kind="int", low=3, high=1_000_000, help="fewest training rows with which uniqueness and order mean anything"),
    }
    thresholds = {
        "id_like_columns_with_signal": Threshold(
            direction="above", fail=0, low=0,
            help="identifier-like features whose single-feature test score reaches min_auc / min_r2",
        )
    }
    practices = ("P4.2", "P1.5")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.spearmanr.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        train_full = ctx.frame("train")
        if len(train_full) < int(params["min_rows"]):
            return _skip(
                f"the training data has {wording.count(len(train_full), 'row')}; with fewer than {params['min_rows']} every "
                "column looks unique and ordered."
            )
        cols = [c for c in _common_features(ctx, "train", "test") if c != ctx.id_column]
        seed = ctx.seed_for(self.id)
        tr_idx, tr_rec = ctx.sample_index("train", int(params["max_rows"]), check_id=self.id)
        te_idx, te_rec = ctx.sample_index("test", int(params["max_rows"]), check_id=self.id)
        sample = combine_samples({"train": tr_rec, "test": te_rec}, seed)
        train, test = train_full.iloc[tr_idx], ctx.frame("test").iloc[te_idx]
        n_rows = len(train_full)
        found: dict[str, dict[str, Any]] = {}
        for col in cols:
            s = train_full[col]
            ratio = s.nunique(dropna=True) / n_rows
            values = _order_values(train[col])
            ok = ~np.isnan(values)
            rho = (
                abs(float(stats.spearmanr(values[ok], tr_idx[ok]).statistic))
                if ok.sum() > 2 and np.ptp(values[ok]) > 0
                else 0.0
            )
            reasons = []
            if _integer_or_text(s) and ratio >= float(params["unique_ratio"]):
                reasons.append("unique per row")
            if rho >= float(params["monotonic_rho"]):
                reasons.append("monotonic in row order")
            if reasons:
                found[col] = {"ratio": ratio, "rho": rho, "reason": " and ".join(reasons)}

        scores: dict[str, float | None] = {c: None for c in found}
        problem = None
        if found:
            if not (ctx.has_labels("train") and ctx.has_labels("test")):
                problem = "the training or test data has no target values"
            else:
                t_train_full, t_test_full, _, n_classes = _encoded_target(ctx, ctx.y("train"), ctx.y("test"))
                t_train, t_test = t_train_full[tr_idx], t_test_full[te_idx]
                problem = _target_problem(ctx, t_train, t_test)
                if problem is None:
                    y_test, outputs = _single_feature_outputs(
                        {c: (_percentile_rank(train[c]), _percentile_rank(test[c])) for c in found},
                        t_train, t_test, task=ctx.task, n_classes=n_classes, max_depth=int(params["max_depth"]),
                        min_samples_leaf=int(params["min_samples_leaf"]), random_state=seed,
                    )
                    scores = _single_feature_scores(y_test, outputs, ctx.task)
        cut = float(params["min_r2"]) if ctx.task == "regression" else float(params["min_auc"])
        with_signal = [c for c in found if scores[c] is not None and scores[c] >= cut]
        score_name = _score_name(ctx.task)
        count: int | None = len(with_signal)
        if found and problem is not None:
            count = None
        ordered = sorted(found, key=lambda c: -(scores[c] if scores[c] is not None else -np.inf))
        evidence = [Evidence(
            title="Identifier-like features (train)",
            columns=["feature", "why", "distinct per row", "|Spearman| with row position", f"test {score_name} of its rank"],
            rows=[
                [c, found[c]["reason"], _rate(found[c]["ratio"]), round(found[c]["rho"], 4),
                 round(scores[c], 4) if scores[c] is not None else "—"]
                for c in ordered[:MAX_ROWS]
            ],
            note=(f"Signal from {score_name} ≥ {cut:g}." + (f" {len(found) - MAX_ROWS} more not shown." if len(found) > MAX_ROWS else "")),
        )] if found else []
        if not found:
            summary = f"Looked for identifier-like features among {len(cols)} model inputs; found none."
        elif problem is not None:
            summary = (
                f"Found {wording.count(len(found), 'identifier-like feature')} ({', '.join(repr(c) for c in ordered[:3])}) but "
                f"could not measure their signal: {problem.rstrip('.')}."
            )
        else:
            summary = (
                f"Found {wording.count(len(found), 'identifier-like feature')} among {len(cols)} model inputs; "
                f"{len(with_signal)} of them carry signal about the target ({score_name} ≥ {cut:g})"
                + (f": {', '.join(repr(c) for c in with_signal[:5])}." if with_signal else ".")
            )
        return Findings(
            summary=summary,
            metrics={
                "id_like_columns_with_signal": Metric(count, description=f"identifier-like features with test {score_name} ≥ {cut:g}"),
                "id_like_columns": Metric(len(found), description="identifier-like features (unique per row or monotonic in row order)"),
            },
            evidence=evidence,
            recommendation=(
                "Drop identifier columns from the model inputs (declare them with --id-column); where one predicts the "
                "target, find out why rows are ordered by outcome and shuffle or split chronologically."
                if found
                else "Nothing to drop."
            ),
            sample=sample,
        )


# -- LK005 ---------------------------------------------------------------------------
def _group_keys(train: pd.Series, other: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Group values of two datasets in one representation (int and float compare as numbers)."""
    if _is_numeric(train) and _is_numeric(other) and train.dtype != other.dtype:
        return pd.Series(_as_float(train)), pd.Series(_as_float(other))
    if (_is_numeric(train) or _is_numeric(other)) and not (_is_numeric(train) and _is_numeric(other)):
        return _as_text(train).reset_index(drop=True), _as_text(other).reset_index(drop=True)
    return train.reset_index(drop=True), other.reset_index(drop=True)


class GroupOverlap(Check):
    """Groups that appear in both training and test data

    What it checks:
        The declared group column (``--group-column``: a patient, customer, device or
        session) in train and test. The metric ``test_group_overlap_rate`` is the share
        of test rows whose group also appears in train; any fails (above 0.0). The share
        of distinct test groups seen in train (``test_group_overlap_share``), the number of
        shared groups and, when a current sample is given, the share of its rows in a
        training group (``current_group_overlap_rate``, expected in production) are
        reported. Missing group values never count as shared.

    Why it matters:
        Rows of one group are not independent: they share the person, the device, the
        measurement conditions. When a group straddles the split, the model is tested on
        people it has already seen and the score overstates how it does on new ones,
        often by a wide margin.

    How to fix:
        Split by group: ``sklearn.model_selection.GroupShuffleSplit`` or ``GroupKFold``
        (``StratifiedGroupKFold`` to keep classes balanced), then re-evaluate on test
        groups that training never saw.

    References:
        P4.2, P1.7 and P4.1 of the practices; scikit-learn user guide, "Cross-validation
        iterators for grouped data"; Roberts et al., "Cross-validation strategies for data
        with temporal, spatial, hierarchical, or phylogenetic structure", Ecography 40(8), 2017.
    """

    id = "LK005"
    name = "group-overlap"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test", "group"})
    thresholds = {
        "test_group_overlap_rate": Threshold(
            direction="above", fail=0.0, low=0, high=1,
            help="share of test rows whose group also appears in train",
        )
    }
    practices = ("P4.2", "P1.7", "P4.1")
    references = (
        "https://scikit-learn.org/stable/modules/cross_validation.html#group-cv",
        "Roberts et al., Cross-validation strategies for data with temporal, spatial, hierarchical, or phylogenetic structure, Ecography 40(8), 2017",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        group = ctx.group_column
        if not group:
            return _skip("no group column was declared (--group-column).")
        for role in ("train", "test"):
            if group not in ctx.frame(role).columns:
                return _skip(f"the group column {group!r} is not in the {role} data.")
        train_groups = ctx.frame("train")[group]
        metrics: dict[str, Metric] = {}
        rows = []
        shared_table: list[list[Any]] = []
        for role in [r for r in OTHER_ROLES if ctx.has(r) and group in ctx.frame(r).columns]:
            g_train, g_other = _group_keys(train_groups, ctx.frame(role)[group])
            known = g_train.dropna().unique()
            present = g_other.notna().to_numpy()
            shared_rows = g_other.isin(known).to_numpy() & present
            n = len(g_other)
            rate = float(shared_rows.sum() / n) if n else 0.0
            other_groups = g_other.dropna().unique()
            shared_groups = int(pd.Series(other_groups).isin(known).sum())
            share = shared_groups / len(other_groups) if len(other_groups) else 0.0
            rows.append([role, n, int((~present).sum()), len(other_groups), shared_groups, _rate(share), int(shared_rows.sum()), _rate(rate)])
            if role in ("test", "current"):
                metrics[f"{role}_group_overlap_rate"] = Metric(rate, description=f"share of {role} rows whose group appears in train")
            if role == "test":
                metrics["test_group_overlap_share"] = Metric(share, description="share of distinct test groups that appear in train")
                metrics["shared_groups"] = Metric(shared_groups, description="groups present in both train and test")
                if shared_groups:
                    test_counts = g_other[shared_rows].value_counts()
                    train_counts = g_train.value_counts()
                    shared_table = [
                        [_text(g), int(train_counts.get(g, 0)), int(k)] for g, k in test_counts.head(10).items()
                    ]
        evidence = [Evidence(
            title=f"Groups of {group!r} shared with train, per dataset",
            columns=["dataset", "rows", "rows without a group", "groups", "groups also in train", "share of groups", "rows in shared groups", "share of rows"],
            rows=rows,
        )]
        if shared_table:
            evidence.append(Evidence(
                title="Groups present in both train and test (largest in test first)",
                columns=["group", "train rows", "test rows"],
                rows=shared_table,
                note=(f"{metrics['shared_groups'].value - len(shared_table)} more shared groups not shown."
                      if metrics["shared_groups"].value > len(shared_table) else ""),
            ))
        test_row = next(r for r in rows if r[0] == "test")
        summary = (
            f"Compared the groups of {group!r}: {test_row[4]} of {test_row[3]} test groups also appear in train, "
            f"holding {wording.share(test_row[7])} of test rows"
            + (f"; {wording.share(metrics['current_group_overlap_rate'].value)} of current rows belong to a training group."
               if "current_group_overlap_rate" in metrics else ".")
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Split by group (GroupShuffleSplit, GroupKFold or StratifiedGroupKFold) so that no group is on both "
                "sides, and re-evaluate on unseen groups."
                if test_row[4]
                else "Nothing to change; keep splitting by group."
            ),
        )


# -- LK006 ---------------------------------------------------------------------------
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:[ T].*)?$"


def _day_first(values: pd.Series) -> bool | None:
    """For dates written as numbers with the year last (31/12/2024 or 12/31/2024): which part is
    the day. False when they are not written that way; None when nothing tells the orders apart."""
    parts = values.astype(str).str.extract(_NUMERIC_DATE).dropna().astype(int)
    if parts.empty or len(parts) < 0.5 * len(values):
        return False
    if (parts[0] > 12).any():
        return True
    if (parts[1] > 12).any():
        return False
    return None


def _parse_time(s: pd.Series, min_parsed: float) -> tuple[np.ndarray | None, str, str]:
    """A time column as float (seconds since the epoch for dates), its kind, and a reason when it fails."""
    present = s.notna().to_numpy()
    n_present = int(present.sum())
    if n_present == 0:
        return None, "", "it holds no values"
    if ptypes.is_bool_dtype(s.dtype):
        return None, "", "it is boolean"
    if _is_numeric(s):
        return _as_float(s), "number", ""
    if _is_datetime(s):
        return _as_float(s), "date", ""
    numbers = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if np.isfinite(numbers[present]).all():
        return numbers, "number", ""
    x = None
    dayfirst = _day_first(s[present])
    if dayfirst is None:
        return None, "", "its dates could be day-first or month-first (no day above 12 tells them apart); write them as YYYY-MM-DD"
    for fmt in (None, "mixed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(s, errors="coerce", utc=True, format=fmt, dayfirst=dayfirst)
            except (TypeError, ValueError, OverflowError):
                continue
        x = _as_float(parsed)
        if np.isfinite(x[present]).mean() >= min_parsed:
            return x, "date", ""
    share = float(np.isfinite(x[present]).mean()) if x is not None else 0.0
    bad = s[present & ~np.isfinite(x)].iloc[0] if x is not None and (present & ~np.isfinite(x)).any() else s[present].iloc[0]
    return None, "", f"only {share:.0%} of its values parse as dates or numbers (for example {_text(bad)!r})"


def _time_text(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return MISSING_LABEL
    if kind == "date":
        return pd.Timestamp(round(value * 1e6), unit="us", tz="UTC").strftime("%Y-%m-%d %H:%M:%S")
    return f"{value:.6g}"


class TemporalLeakage(Check):
    """Test rows that are older than training rows

    What it checks:
        The declared time column (``--time-column``), parsed with ``pandas.to_datetime``
        (or read as numbers when it is numeric, such as an epoch or a period index). The
        metric ``lookahead_rate`` is the share of timed test rows strictly earlier than the
        latest training time: the model was trained on the future of those rows. It warns
        above 0.0 and fails above 0.01. The share of test rows inside the training time
        range (``train_test_time_overlap``), the time ranges of each dataset and, when a
        current sample is given, its rows earlier than the latest training and test
        times are reported. A column that does not parse (fewer than ``min_parsed`` of its
        values) is skipped with the reason.

    Why it matters:
        In production a model predicts the future from the past. A random split of
        time-ordered data lets it learn from later rows (trends, seasonal effects,
        outcomes of the same events) and evaluates it on earlier ones, which overstates
        how it will do when the future is genuinely unseen.

    How to fix:
        Split chronologically: train on rows before a cut-off date and test on rows after
        it (``sklearn.model_selection.TimeSeriesSplit`` for cross-validation), leaving a
        gap as long as the prediction horizon when features aggregate over time.

    References:
        P4.2, P1.7 and P4.1 of the practices; scikit-learn ``TimeSeriesSplit``; Bergmeir &
        Benítez, "On the use of cross-validation for time series predictor evaluation",
        Information Sciences 191, 2012.
    """

    id = "LK006"
    name = "temporal-leakage"
    area = "leakage"
    severity = "high"
    needs = frozenset({"train", "test", "time"})
    params = {
        "min_parsed": Param(default=0.95, kind="float", low=0.5, high=1.0, help="share of non-missing values that must parse as times"),
    }
    thresholds = {
        "lookahead_rate": Threshold(
            direction="above", warn=0.0, fail=0.01, low=0, high=1,
            help="share of test rows strictly earlier than the latest training time",
        )
    }
    practices = ("P4.2", "P1.7", "P4.1")
    references = (
        "https://scikit-learn.org/stable/modules/cross_validation.html#time-series-split",
        "Bergmeir & Benítez, On the use of cross-validation for time series predictor evaluation, Information Sciences 191, 2012",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        col = ctx.time_column
        if not col:
            return _skip("no time column was declared (--time-column).")
        roles = [r for r in ("train", "validation", "test", "current") if ctx.has(r)]
        times: dict[str, np.ndarray] = {}
        kinds: dict[str, str] = {}
        for role in roles:
            if col not in ctx.frame(role).columns:
                if role in ("train", "test"):
                    return _skip(f"the time column {col!r} is not in the {role} data.")
                continue
            x, kind, reason = _parse_time(ctx.frame(role)[col], float(params["min_parsed"]))
            if x is None:
                if role in ("train", "test"):
                    return _skip(f"the time column {col!r} cannot be read as times in the {role} data: {reason}.")
                continue
            times[role], kinds[role] = x, kind
        if kinds["train"] != kinds["test"]:
            return _skip(f"the time column {col!r} holds {kinds['train']}s in train but {kinds['test']}s in test.")
        kind = kinds["train"]
        t_train = times["train"][np.isfinite(times["train"])]
        t_test_all = times["test"]
        t_test = t_test_all[np.isfinite(t_test_all)]
        if len(t_train) == 0:
            return _skip(f"the time column {col!r} has no finite values in the training data.")
        if len(t_test) == 0:
            return _skip(f"the time column {col!r} has no values in the test data.")
        lo, hi = float(t_train.min()), float(t_train.max())
        lookahead = float((t_test < hi).mean())
        inside = float(((t_test >= lo) & (t_test <= hi)).mean())
        metrics = {
            "lookahead_rate": Metric(lookahead, description="share of test rows strictly earlier than the latest training time"),
            "train_test_time_overlap": Metric(inside, description="share of test rows inside the training time range"),
        }
        ranges = []
        for role in [r for r in roles if r in times and kinds[r] == kind]:
            x = times[role]
            ok = x[np.isfinite(x)]
            ranges.append([role, len(x), int(len(x) - len(ok)),
                           _time_text(float(ok.min()), kind) if len(ok) else MISSING_LABEL,
                           _time_text(float(ok.max()), kind) if len(ok) else MISSING_LABEL])
        test_hi = float(t_test.max())
        order_rows = [["test", len(t_test), _rate(lookahead), _rate(inside), "—"]]
        if "current" in times and kinds["current"] == kind:
            t_cur = times["current"][np.isfinite(times["current"])]
            if len(t_cur):
                cur_look = float((t_cur < hi).mean())
                cur_before_test = float((t_cur < test_hi).mean())
                metrics["current_lookahead_rate"] = Metric(cur_look, description="share of current rows earlier than the latest training time")
                metrics["current_before_test_rate"] = Metric(cur_before_test, description="share of current rows earlier than the latest test time")
                order_rows.append(["current", len(t_cur), _rate(cur_look), _rate(float(((t_cur >= lo) & (t_cur <= hi)).mean())), _rate(cur_before_test)])
        evidence = [
            Evidence(
                title=f"Time ranges of {col!r}",
                columns=["dataset", "rows", "rows without a time", "earliest", "latest"],
                rows=ranges,
                note="Dates are shown in UTC." if kind == "date" else "",
            ),
            Evidence(
                title="Rows earlier than the latest training time",
                columns=["dataset", "rows with a time", "earlier than latest train time", "inside train range", "earlier than latest test time"],
                rows=order_rows,
            ),
        ]
        summary = (
            f"Compared the times in {col!r}: {wording.share(lookahead)} of test rows are earlier than the latest training time "
            f"({_time_text(hi, kind)}) and {wording.share(inside)} fall inside the training range"
            + ("; a random rather than chronological split of time-ordered data gives such a rate." if lookahead > 0 else
               "; the test period starts after the training period ends.")
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            recommendation=(
                "Split chronologically: train before a cut-off time and test after it (TimeSeriesSplit for "
                "cross-validation), with a gap as long as the prediction horizon."
                if lookahead > 0
                else "Nothing to change; keep splitting chronologically."
            ),
        )


# -- LK007 ---------------------------------------------------------------------------
def _label_keys(train: pd.Series, test: pd.Series) -> tuple[pd.Series, pd.Series]:
    if _is_numeric(train) and _is_numeric(test):
        return pd.Series(_as_float(train)).dropna(), pd.Series(_as_float(test)).dropna()
    return _as_text(train).dropna(), _as_text(test).dropna()


class LabelDistributionMismatch(Check):
    """Label distribution that differs between train and test beyond sampling noise

    What it checks:
        Classification: the total variation distance (TVD, half the sum of absolute
        differences of class shares) between train and test, and the distance that
        sampling noise alone produces: ``n_null`` pairs of samples of the same sizes are
        drawn from the pooled class shares (``numpy.random.Generator.multinomial``) and
        the ``null_quantile`` (95%) quantile of their TVD is the noise level. The metric
        ``excess_label_distance`` = max(0, TVD − noise level); it warns above 0.02 and
        fails above 0.05. The raw TVD and the chi-squared test of the class-by-dataset
        table (``scipy.stats.chi2_contingency``) are reported. Regression: the
        two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``) minus its
        critical value at ``ks_alpha`` (5%), c(α)·sqrt((n+m)/(n·m)) with c from
        ``scipy.special.kolmogi``, is the same metric. Skipped when either dataset has
        no labels.

    Why it matters:
        A test set whose class mix (or target distribution) differs from training was
        not drawn the same way: a non-stratified split of a small data set, a filter
        applied to one side, or data from another period. Its scores then describe
        another population, and thresholds tuned on one side are miscalibrated on the
        other.

    How to fix:
        Split with stratification by class (``train_test_split(..., stratify=y)``,
        ``StratifiedKFold``), or, when the difference is real (a later period),
        evaluate on data that matches production and recalibrate.

    References:
        P4.1 and P1.7 of the practices; SciPy ``chi2_contingency`` and ``ks_2samp``;
        Moreno-Torres et al., "A unifying view on dataset shift in classification",
        Pattern Recognition 45(1), 2012.
    """

    id = "LK007"
    name = "label-distribution-mismatch"
    area = "leakage"
    severity = "medium"
    needs = frozenset({"train", "test"})
    params = {
        "n_null": Param(default=500, kind="int", low=50, high=100_000, help="samples drawn for the sampling-noise distribution of the TVD"),
        "null_quantile": Param(default=0.95, kind="float", low=0.5, high=0.999, help="quantile of the noise distribution taken as the noise level"),
        "ks_alpha": Param(default=0.05, kind="float", low=0.001, high=0.5, help="significance level of the KS critical value (regression)"),
    }
    thresholds = {
        "excess_label_distance": Threshold(
            direction="above", warn=0.02, fail=0.05, low=0, high=1,
            help="label distance between train and test beyond the sampling-noise level",
        )
    }
    practices = ("P4.1", "P1.7")
    references = (
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.chi2_contingency.html",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html",
        "Moreno-Torres et al., A unifying view on dataset shift in classification, Pattern Recognition 45(1), 2012",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        if not ctx.has_labels("train"):
            return _skip("the training data has no target values.")
        if not ctx.has_labels("test"):
            return _skip("the test data has no target values.")
        if ctx.task == "regression":
            return self._regression(ctx, params)
        return self._classification(ctx, params)

    def _classification(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        y_train, y_test = _label_keys(ctx.y("train"), ctx.y("test"))
        c_train, c_test = y_train.value_counts(), y_test.value_counts()
        labels = list(dict.fromkeys([*c_train.index, *c_test.index]))
        a = c_train.reindex(labels, fill_value=0).to_numpy(dtype="float64")
        b = c_test.reindex(labels, fill_value=0).to_numpy(dtype="float64")
        n_a, n_b = int(a.sum()), int(b.sum())
        p_a, p_b = a / n_a, b / n_b
        tvd = 0.5 * float(np.abs(p_a - p_b).sum())
        pooled = (a + b) / (n_a + n_b)
        rng = ctx.rng(self.id)
        n_null = int(params["n_null"])
        null_a = rng.multinomial(n_a, pooled, size=n_null) / n_a
        null_b = rng.multinomial(n_b, pooled, size=n_null) / n_b
        null = 0.5 * np.abs(null_a - null_b).sum(axis=1)
        noise = float(np.quantile(null, float(params["null_quantile"])))
        excess = max(0.0, tvd - noise)
        p_value = None
        if len(labels) > 1:
            p_value = float(stats.chi2_contingency(np.vstack([a, b])).pvalue)
        order = np.argsort(-np.abs(p_a - p_b), kind="stable")[:MAX_ROWS]
        rows = [[_text(labels[i]), int(a[i]), _rate(p_a[i]), int(b[i]), _rate(p_b[i]), _rate(p_b[i] - p_a[i])] for i in order]
        summary = (
            f"Compared class shares over {len(labels)} classes: the total variation distance between train "
            f"({n_a} rows) and test ({n_b} rows) is {tvd:.3f}, against {noise:.3f} from sampling noise alone "
            f"({float(params['null_quantile']):.0%} level), an excess of {excess:.3f}"
            + (f" (chi-squared p = {p_value:.2g})." if p_value is not None else ".")
        )
        return Findings(
            summary=summary,
            metrics={
                "excess_label_distance": Metric(excess, description="TVD of class shares beyond the sampling-noise level"),
                "label_tvd": Metric(tvd, description="total variation distance between train and test class shares"),
                "noise_level": Metric(noise, description="TVD that sampling noise alone reaches at the chosen quantile"),
                "chi2_p_value": Metric(p_value, description="chi-squared test of the class-by-dataset table", p_value=True),
            },
            evidence=[Evidence(
                title="Class shares in train and test (largest differences first)",
                columns=["class", "train rows", "train share", "test rows", "test share", "test − train"],
                rows=rows,
                note=f"Noise level from {n_null} multinomial draws of both sample sizes from the pooled shares.",
            )],
            recommendation=(
                "Split with stratification by class (stratify=y, StratifiedKFold); if the difference is real, "
                "evaluate on data that matches production and recalibrate."
                if excess > 0
                else "Nothing to change; the class mix matches within sampling noise."
            ),
        )

    def _regression(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        a = pd.to_numeric(ctx.y("train"), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        b = pd.to_numeric(ctx.y("test"), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) == 0 or len(b) == 0:
            return _skip("the target has no numeric values in train or test.")
        res = stats.ks_2samp(a, b)
        d, p_value = float(res.statistic), float(res.pvalue)
        n, m = len(a), len(b)
        critical = float(special.kolmogi(float(params["ks_alpha"])) * np.sqrt((n + m) / (n * m)))
        excess = max(0.0, d - critical)
        qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
        qa, qb = np.quantile(a, qs), np.quantile(b, qs)
        summary = (
            f"Compared the target distributions: the Kolmogorov-Smirnov statistic between train ({n} rows) and test "
            f"({m} rows) is {d:.3f}, against a critical value of {critical:.3f} at α = {float(params['ks_alpha']):g}, "
            f"an excess of {excess:.3f} (p = {p_value:.2g})."
        )
        return Findings(
            summary=summary,
            metrics={
                "excess_label_distance": Metric(excess, description="KS statistic beyond its critical value"),
                "ks_statistic": Metric(d, description="two-sample Kolmogorov-Smirnov statistic"),
                "ks_critical_value": Metric(critical, description="asymptotic critical value of the KS statistic"),
                "ks_p_value": Metric(p_value, description="p-value of the two-sample KS test", p_value=True),
            },
            evidence=[Evidence(
                title="Target quantiles in train and test",
                columns=["quantile", "train", "test"],
                rows=[[f"{q:.0%}", float(x), float(y)] for q, x, y in zip(qs, qa, qb)],
            )],
            recommendation=(
                "Stratify the split on binned target values, or, if the difference is real, evaluate on data that "
                "matches production."
                if excess > 0
                else "Nothing to change; the target distribution matches within sampling noise."
            ),
        )


CHECKS: tuple[type[Check], ...] = (
    RowOverlap,
    NearDuplicates,
    TargetLeakage,
    IdLikeColumns,
    GroupOverlap,
    TemporalLeakage,
    LabelDistributionMismatch,
)
