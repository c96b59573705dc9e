"""LK004: identifier-like features that carry signal about the target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    _as_float,
    _as_text,
    _common_features,
    _empty,
    _encoded_target,
    _is_datetime,
    _rate,
    _score_name,
    _single_feature_outputs,
    _single_feature_scores,
    _skip,
    _target_problem,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


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
        "unique_ratio": Param(default=0.95, kind="float", low=0.5, high=1.0,
                              help="distinct values per row from which an integer or text column is identifier-like"),
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
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "Kaufman, Rosset, Perlich & Stitelman, Leakage in data mining: formulation, detection, and avoidance, ACM TKDD 6(4), 2012",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.spearmanr.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
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
