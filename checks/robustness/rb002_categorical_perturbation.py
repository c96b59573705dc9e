"""RB002 categorical-perturbation: sensitivity of predictions to a swapped categorical value."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import primary_metric
from auditor.util import wording
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    NO_ROWS,
    _call_blocks,
    _change_metric,
    _changes,
    _draw_sample,
    _few_rows,
    _mutable,
    _rate_text,
    _rate_word,
    _reference,
    _replace_cells,
    _score,
    _skip,
    _target_spread,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")


def _is_categorical(s: pd.Series) -> bool:
    """Categories to swap: string, object, category or bool columns (not numbers, dates or durations)."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_bool_dtype(dtype):
        return True
    return not (ptypes.is_numeric_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype))


# Rejection rounds before the rows still holding their own value are drawn exactly.
SWAP_ROUNDS = 20


def _swap_categories(values: np.ndarray, categories: np.ndarray, freq: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each observed value replaced by a different category, drawn by the reference frequencies.

    Draws by inverse CDF and redraws the rows that drew their own value (cheap even with
    many categories); the few left after ``SWAP_ROUNDS`` rounds (a dominant category) are
    drawn from the frequencies without their own value. Returns the new values and a
    mask of the rows that changed (missing values are kept).
    """
    out = values.copy()
    observed = ~pd.isna(values)
    codes = pd.Index(categories).get_indexer(pd.Index(values[observed]))
    cdf = np.cumsum(freq, dtype=float)
    cdf /= cdf[-1]

    def draw(size: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(categories) - 1)

    new = draw(codes.size)
    pending = np.flatnonzero(new == codes)
    for _ in range(SWAP_ROUNDS):
        if pending.size == 0:
            break
        new[pending] = draw(pending.size)
        pending = pending[new[pending] == codes[pending]]
    for code in np.unique(codes[pending]):
        rows = pending[codes[pending] == code]
        p = freq.astype(float)
        p[code] = 0.0
        new[rows] = rng.choice(len(categories), size=rows.size, p=p / p.sum())
    out[observed] = categories[new]
    return out, observed


class CategoricalPerturbation(Check):
    """Sensitivity of predictions to a swapped categorical value

    What it checks:
        For each mutable categorical feature (string, category or boolean columns) with
        at least two levels, replaces every sampled test row's value by another
        category seen in the training data, drawn by the training frequencies
        (seeded), and measures the flip rate: the share of rows whose predicted label
        changes (regression: the mean absolute change in units of the target's
        spread), together with the primary metric's drop. All such features are also
        swapped at once (reported, not judged). Judged: the largest per-feature flip
        rate, with a Wilson interval: warn above 0.15, fail above 0.30. A feature with
        a modest, real effect flips a few per cent of the rows (only those near the
        decision boundary); above 15% the model's decision hinges on that one value
        for a large share of cases, and above 30% a single mis-recorded category
        changes the outcome of nearly a third of them. Features with one level are
        skipped; with no categorical feature the check passes with 0 and says so.

    Why it matters:
        Categories are often recorded by hand or mapped between systems, and a wrong
        value is a routine data error. A model whose decisions swing with one such
        value is fragile, and when the metric barely drops while many predictions flip,
        its reliance on the feature is arbitrary rather than learnt signal.

    How to fix:
        Look at the feature's per-category effect (partial dependence); merge rare
        categories, use target encoding with smoothing or a regularised one-hot
        encoding, and regularise the model; check the feature is not a proxy for an
        identifier.

    References:
        Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful:
        learning a variable's importance by studying an entire class of prediction
        models simultaneously (model reliance), JMLR.
        Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with
        CheckList, ACL.
    """

    id = "RB002"
    name = "categorical-perturbation"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
    }
    thresholds = {
        "max_categorical_flip_rate": Threshold(
            direction="above", warn=0.15, fail=0.30, low=0,
            help="the largest share of predictions that flip when one categorical feature's value is swapped"),
    }
    practices = ("P1.5", "P3.3", "P5.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Fisher, Rudin & Dominici (2019), All models are wrong, but many are useful, JMLR",
        "Ribeiro et al. (2020), Beyond accuracy: behavioral testing of NLP models with CheckList, ACL",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        categorical = [c for c in ctx.features if _is_categorical(s.X[c])]
        immutable = [c for c in categorical if not _mutable(ctx, c)]
        levels: dict[str, pd.Series] = {}
        one_level = []
        for c in categorical:
            if c in immutable or c not in ref.columns:
                continue
            counts = ref[c].value_counts(dropna=True, sort=False)
            counts = counts[counts > 0]
            if len(counts) < 2:
                one_level.append(c)
            else:
                levels[c] = counts
        notes = []
        if immutable:
            notes.append(f"declared immutable: {', '.join(immutable[:MAX_ROWS])}")
        if one_level:
            notes.append(f"one level only: {', '.join(one_level[:MAX_ROWS])}")
        if not levels:
            return Findings(
                summary="The model has no mutable categorical feature with two or more levels, so nothing was swapped: "
                        "the flip rate is 0" + (f" ({'; '.join(notes)})." if notes else "."),
                metrics={"max_categorical_flip_rate": Metric(0.0, description="no categorical feature to swap")},
                sample=s.record,
            )
        rng = ctx.rng(self.id + ":swap")
        cols = list(levels)
        swapped, changed = {}, {}
        for c in cols:
            cats = levels[c].index.to_numpy(dtype=object)
            values, mask = _swap_categories(s.X[c].to_numpy(dtype=object), cats, levels[c].to_numpy(), rng)
            swapped[c], changed[c] = _replace_cells(s.X[c], mask, values[mask]), mask
        blocks = [s.X.assign(**{c: swapped[c]}) for c in cols] + [s.X.assign(**swapped)]
        outcomes = _call_blocks(ctx, blocks)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_score = _score(ctx, s.y, s.pred)
        per_feature: dict[str, Metric] = {}
        rows = []
        for c, out in zip(cols, outcomes):
            changes = _changes(ctx, s.pred, out.pred, target_spread)[changed[c]]
            per_feature[c] = _change_metric(ctx, changes, f"{_rate_word(ctx)} when {c!r} is swapped")
            score = _score(ctx, s.y, out.pred)
            rows.append([c, len(levels[c]), int(changed[c].sum()), per_feature[c].value,
                         None if score is None or base_score is None else base_score - score])
        any_changed = np.logical_or.reduce([changed[c] for c in cols])
        overall = float(_changes(ctx, s.pred, outcomes[-1].pred, target_spread)[any_changed].mean()) if any_changed.any() else 0.0
        worst = max(cols, key=lambda c: (per_feature[c].value if per_feature[c].value is not None else -1.0))
        rows.sort(key=lambda r: -(r[3] if r[3] is not None else -1.0))
        pname = primary_metric(ctx.task).replace("_", " ")
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        judged = per_feature[worst]
        judged.description = f"largest {_rate_word(ctx)} over the categorical features (at {worst!r})"
        few = _few_rows(len(s))
        summary = (
            f"Swapping one categorical value for another seen in {ref_role}: the most sensitive feature is {worst!r}, where "
            f"{_rate_text(ctx, judged.value)} ({wording.count(len(cols), 'categorical feature')} tested on "
            f"{len(s):,} sampled test rows); swapping all of them at once, {_rate_text(ctx, overall)}."
            + (f" Not swapped: {'; '.join(notes)}." if notes else "")
        )
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics={
                "max_categorical_flip_rate": judged,
                "overall_categorical_flip_rate": Metric(overall, description=f"{_rate_word(ctx)} with every categorical feature swapped at once"),
            },
            evidence=[Evidence(
                title="Predictions with a swapped category",
                columns=["feature", f"levels ({ref_role})", "rows swapped", rate_col, f"{pname} lost"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing the {MAX_ROWS} most sensitive of {len(rows)}. " if len(rows) > MAX_ROWS else "")
                     + f"Each observed value replaced by a different {ref_role} category drawn by its {ref_role} frequency; "
                     "missing values kept.",
            )],
            recommendation=(
                f"If one category flips many predictions, inspect {worst!r}'s per-category effect; merge rare categories, "
                "regularise its encoding (smoothed target encoding, penalised one-hot) or the model, and make sure the "
                "feature is not a proxy for an identifier."
            ),
            sample=s.record,
        )
