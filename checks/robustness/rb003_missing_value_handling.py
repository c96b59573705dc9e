"""RB003 missing-value-handling: handling of missing values at prediction time."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import primary_metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    NO_ROWS,
    _bounds,
    _call_blocks,
    _change_metric,
    _changes,
    _draw_sample,
    _few_rows,
    _fmt,
    _invalid,
    _mean,
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


def _names(cols: list[str], limit: int = 5, *, last: str = ", ") -> str:
    """Column names for a sentence: 'a, b, c' (or 'a, b or c' with ``last=" or "``), at most ``limit``."""
    if len(cols) > limit:
        return ", ".join(cols[:limit]) + "..."
    return cols[0] if len(cols) == 1 else ", ".join(cols[:-1]) + last + cols[-1]


def _draw_from(ref: pd.Series, size: int, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """``size`` values drawn with replacement from the reference column's observed values
    (numbers only from inside the declared ``[low, high]``)."""
    observed = ref.dropna()
    if _is_numeric(observed) and (np.isfinite(low) or np.isfinite(high)):
        observed = observed[(observed >= low) & (observed <= high)]
    values = observed.to_numpy(dtype=object)
    if values.size == 0:
        return np.full(size, np.nan, dtype=object)
    return values[rng.integers(0, values.size, size=size)]


class MissingValueHandling(Check):
    """Handling of missing values at prediction time

    What it checks:
        Sets a share (``missing_rate``, default 0.1) of a seeded sample of test rows to
        missing, one mutable feature at a time and then in all mutable features at once
        (each value independently), and calls the model. A feature "breaks" the model
        when its missing values make it return invalid output (NaN or infinite
        predictions, labels outside its classes, probabilities outside [0, 1] or not
        summing to 1), a silent failure that always counts, or make it raise, which
        counts where the feature has missing values in the data given (training,
        validation, test or current): there missing values are known to occur and the
        model was not built for them. A raise on a feature that is complete in every
        dataset is reported with its message but not judged, since a model that refuses
        a missing value loudly is a defensible contract for complete data
        (``raise_counts_for: all_features`` judges it too). Judged: the number of
        features that break (fail above 0). For the rows given missing values the check
        also measures how many predictions flip (regression: the mean change in units
        of the target's spread) and the primary metric's drop. Since a value that goes
        missing takes its information with it, the flip rate also reflects how much
        the model relies on the features; the judged figure subtracts a reference:
        the flip rate when the same cells are instead filled with values drawn at
        random from the training data (an uninformed but plausible guess, within any
        declared bounds). Judged: that excess, ``joint_missing_excess_flip_rate``, for
        all features missing at once (over the features that do not raise), with an
        interval: warn above 0.05, fail above 0.10. Mean or median imputation and
        native missing-value support (gradient-boosted trees) read at or below 0;
        filling with a value the model never saw (0 for an income, -999) reads far
        above it.

    Why it matters:
        Production data has missing values the training data did not: a sensor drops
        out, a form field is left empty, an upstream join fails. A model that crashes on
        them stops scoring; one that silently turns them into extreme values gives
        confident, wrong answers. Missing values must be handled deliberately.

    How to fix:
        Put the imputation inside the model pipeline (scikit-learn's SimpleImputer,
        KNNImputer or IterativeImputer, with add_indicator=True where missingness
        carries information) or use a model with native missing-value support
        (HistGradientBoosting); never fill with a sentinel that the model reads as a
        real value.

    References:
        Little & Rubin (2019), Statistical Analysis with Missing Data, 3rd ed.
        Breck et al. (2017), The ML test score: a rubric for ML production readiness
        and technical debt reduction, IEEE Big Data.
        scikit-learn user guide, Imputation of missing values.
    """

    id = "RB003"
    name = "missing-value-handling"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "missing_rate": Param(default=0.1, kind="float", low=0.001, high=1.0,
                              help="share of the sampled rows (one feature at a time) or of the values (all at once) set missing"),
        "raise_counts_for": Param(default="features_seen_missing", kind="str",
                                  choices=("features_seen_missing", "all_features"),
                                  help="which features a raise on missing values counts against: those with missing "
                                       "values in the data given, or every feature"),
    }
    thresholds = {
        "features_that_break": Threshold(
            direction="above", fail=0, low=0,
            help="features whose missing values make the model return invalid output, or raise where the data have missing values"),
        "joint_missing_excess_flip_rate": Threshold(
            direction="above", warn=0.05, fail=0.10, low=-1, high=1,
            help="flip rate with values missing minus the flip rate with the same values drawn at random from the training data"),
    }
    practices = ("P1.2", "P6.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Little & Rubin (2019), Statistical Analysis with Missing Data, 3rd ed.",
        "Breck et al. (2017), The ML test score: a rubric for ML production readiness and technical debt reduction, IEEE Big Data",
        "https://scikit-learn.org/stable/modules/impute.html",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        cols = [c for c in ctx.features if _mutable(ctx, c)]
        immutable = [c for c in ctx.features if c not in cols]
        if not cols:
            return _skip("every feature is declared immutable: none may be set missing.", s.record)
        n, rate = len(s), float(params["missing_rate"])
        rng = ctx.rng(self.id + ":missing")
        proba = ctx.is_classification and ctx.model.has_proba
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)

        # One feature at a time: the same number of rows for each, chosen independently.
        k = min(n, max(1, round(rate * n)))
        chosen = {c: np.sort(rng.choice(n, size=k, replace=False)) for c in cols}
        blocks = []
        for c in cols:
            block = s.X.iloc[chosen[c]]
            blocks.append(block.assign(**{c: block[c].where(np.zeros(len(block), dtype=bool))}))
        outcomes = _call_blocks(ctx, blocks, proba=proba, attribute=True)
        seen_missing = {c for c in cols if any(c in f.columns and f[c].isna().any() for f in ctx.datasets.values())}
        judge_all = params["raise_counts_for"] == "all_features"
        broken: dict[str, str] = {}  # judged
        raised: dict[str, str] = {}  # every raise, judged or not
        rows = []
        for c, out in zip(cols, outcomes):
            reason = _invalid(ctx, out, k)
            if out.error is not None:
                raised[c] = out.error
            if reason and (out.error is None or judge_all or c in seen_missing):
                broken[c] = reason
                rows.append([c, k, "yes", None, reason])
            elif reason:
                rows.append([c, k, "raises (never missing in the data)", None, reason])
            else:
                rate_c = float(_changes(ctx, s.pred[chosen[c]], out.pred, target_spread).mean())
                rows.append([c, k, "no", rate_c, ""])

        # All features that return valid output, at once, each value missing independently,
        # against the same cells filled with random training values.
        usable = [c for c in cols if c not in broken and c not in raised]
        joint_reason, joint, excess, joint_score, affected = None, None, None, None, np.zeros(n, dtype=bool)
        base_score = _score(ctx, s.y, s.pred)
        if usable:
            mask = rng.random((n, len(usable))) < rate
            affected = mask.any(axis=1)
            if not affected.any():
                mask[rng.integers(n), rng.integers(len(usable))] = True
                affected = mask.any(axis=1)
            missing_X, guessed_X = s.X.copy(), s.X.copy()
            for j, c in enumerate(usable):
                m = mask[:, j]
                missing_X[c] = s.X[c].where(~m)
                if c in ref.columns:
                    guessed_X[c] = _replace_cells(s.X[c], m, _draw_from(ref[c], int(m.sum()), rng, *_bounds(ctx, c)))
            out_missing, out_guessed = _call_blocks(ctx, [missing_X.iloc[np.flatnonzero(affected)],
                                                          guessed_X.iloc[np.flatnonzero(affected)]],
                                                    proba=proba, attribute=True)
            joint_reason = _invalid(ctx, out_missing, int(affected.sum()))
            guess_reason = _invalid(ctx, out_guessed, int(affected.sum()))
            if joint_reason is None and guess_reason is not None:
                joint_reason = f"{guess_reason} when the same values were filled from {ref_role}"
            if joint_reason is None:
                base = s.pred[affected]
                flips = _changes(ctx, base, out_missing.pred, target_spread)
                guess_flips = _changes(ctx, base, out_guessed.pred, target_spread)
                joint = _change_metric(ctx, flips, f"{_rate_word(ctx)} of the rows given missing values (all features at once)")
                excess = _mean(flips - guess_flips, f"{_rate_word(ctx)} with values missing minus with the same "
                                                    f"values filled at random from {ref_role}")
                full = s.pred.copy() if ctx.is_classification else s.pred.astype(float)
                full[affected] = out_missing.pred
                joint_score = _score(ctx, s.y, full)

        pname = primary_metric(ctx.task).replace("_", " ")
        rows.sort(key=lambda r: (r[2] != "yes", r[2] == "no", -(r[3] if r[3] is not None else 0.0)))
        metrics = {
            "features_that_break": Metric(len(broken), description=(
                "features whose missing values make the model return invalid output, or raise"
                + ("" if judge_all else " where the data have missing values"))),
            "features_that_raise": Metric(len(raised), description="features whose missing values make the model raise (judged or not)"),
            # Not measured where the joint call failed (inconclusive); absent where no feature accepts missing values.
            **({"joint_missing_excess_flip_rate": excess if excess is not None else Metric(
                None, description=f"not measured: the model {joint_reason}")} if usable else {}),
            "joint_missing_flip_rate": joint if joint is not None else Metric(None, description="not measured"),
            f"{primary_metric(ctx.task)}_drop_joint_missing": Metric(
                None if joint_score is None or base_score is None else base_score - joint_score,
                description=f"{pname} lost with values missing in all features at once"),
        }
        unjudged = [c for c in raised if c not in broken]
        if unjudged:
            unjudged_text = (
                f"The model raises on a missing {_names(unjudged, last=' or ')} ({raised[unjudged[0]]}); no dataset given has missing "
                f"values in {'it' if len(unjudged) == 1 else 'them'}, so this is reported, not judged "
                "(raise_counts_for: all_features judges it).")
        if broken:
            first = next(iter(broken))
            head = (f"Missing values in {wording.count(len(broken), 'feature')} of {len(cols)} break the model "
                    f"({_names(list(broken))}); for {first!r} it {broken[first]}." + (f" {unjudged_text}" if unjudged else ""))
        elif unjudged:
            rest = len(cols) - len(unjudged)
            head = unjudged_text + (f" It returns valid predictions with missing values in the other "
                                    f"{wording.count(rest, 'feature')}." if rest else "")
        else:
            head = f"The model returns valid predictions with missing values in each of its {wording.count(len(cols), 'mutable feature')}."
        if joint is not None:
            tail = (f" With {wording.share(rate)} of the values missing in {'all' if len(usable) == len(cols) else 'the other'} "
                    f"{wording.count(len(usable), 'feature')} at once, {_rate_text(ctx, joint.value)} on the "
                    f"{int(affected.sum()):,} rows affected, {excess.value:+.3f} against filling the same values at random "
                    f"from {ref_role} ({n:,} sampled test rows).")
        elif usable:
            tail = f" With values missing in several features at once the model {joint_reason}."
        else:
            tail = ""
        few = _few_rows(n) if not broken else None
        rate_col = "flip rate" if ctx.is_classification else "mean change / target spread"
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + head + tail,
            status="inconclusive" if few else None,
            metrics=metrics,
            evidence=[Evidence(
                title="One feature missing at a time",
                columns=["feature", "rows set missing", "breaks the model", rate_col, "what happened"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing {MAX_ROWS} of {len(rows)}, breaking ones first. " if len(rows) > MAX_ROWS else "")
                     + (f"Never set missing (declared immutable): {', '.join(immutable[:MAX_ROWS])}. " if immutable else "")
                     + f"Unperturbed {pname} {_fmt(base_score)}; with all features missing at once {_fmt(joint_score)}.",
            )],
            recommendation=(
                "Handle missing values inside the model: an imputer in the pipeline (SimpleImputer, KNNImputer, "
                "IterativeImputer, with add_indicator=True where missingness is informative) or a model with native "
                "support such as HistGradientBoosting; never fill them with a sentinel the model reads as a real value."
            ),
            sample=s.record,
        )
