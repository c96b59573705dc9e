"""RB005 monotonic-constraints: monotonic relations declared in the policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings
from auditor.toolkit.stats import encode_labels
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    NO_ROWS,
    _bounds,
    _call_blocks,
    _draw_sample,
    _few_rows,
    _floats,
    _like,
    _mutable,
    _Outcome,
    _proportion,
    _reference,
    _skip,
    _spread,
    _target_spread,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class MonotonicConstraints(Check):
    """Monotonic relations declared in the policy

    What it checks:
        For each feature the policy declares ``monotonic: increasing`` (or
        ``decreasing``), moves it on every sampled test row through a grid of steps
        around its value (``steps`` each way of ``step`` x the feature's spread; IQR /
        1.349 or the standard deviation), clipped to the declared ``min`` / ``max``, and
        follows the model's output along the grid: the positive-class probability
        (binary; the predicted label as 0/1 without probabilities) or the prediction in
        units of the target's spread (regression). A row violates the declaration
        when the output moves the wrong way between two neighbouring steps by more than
        ``tolerance`` (default 0.01). Judged: the share of rows that violate any
        declared relation, with a Wilson interval: warn above 0, fail above 0.01. A
        model built to be monotonic (linear models with the right sign, gradient
        boosting with ``monotonic_cst``) reads 0. Features also declared immutable are
        not moved. Skipped when nothing is declared; binary and regression tasks only
        (for several classes "the positive class" is undefined).

    Why it matters:
        Domain knowledge and regulation often fix a direction: more income should not
        lower a credit score, more severe symptoms should not lower a risk estimate.
        A model that violates such a relation for some applicants treats them
        unreasonably and cannot be explained or defended.

    How to fix:
        Enforce the constraint in training (HistGradientBoosting ``monotonic_cst``,
        LightGBM / XGBoost ``monotone_constraints``, lattice models, sign-constrained
        linear models), or remove the interactions that break it; check the declared
        direction is right.

    References:
        Gupta et al. (2016), Monotonic calibrated interpolated look-up tables, JMLR.
        Wang & Gupta (2020), Deontological ethics by monotonicity shape constraints,
        AISTATS.
        scikit-learn user guide, Monotonic constraints (HistGradientBoosting).
    """

    id = "RB005"
    name = "monotonic-constraints"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "model"})
    tasks = frozenset({"binary", "regression"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "steps": Param(default=5, kind="int", low=1, high=100, help="grid steps each way from a row's value"),
        "step": Param(default=0.5, kind="float", low=1e-6, high=100.0, help="size of a step, in multiples of the feature's spread"),
        "tolerance": Param(default=0.01, kind="float", low=0.0, high=1.0,
                           help="largest wrong-way move ignored: a probability (binary) or a share of the target's spread (regression)"),
    }
    thresholds = {
        "monotonicity_violation_rate": Threshold(direction="above", warn=0.0, fail=0.01, low=0, high=1,
                                                 help="share of rows whose output moves against a declared monotonic relation"),
    }
    practices = ("P8.3", "P8.4", "P5.1")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Gupta et al. (2016), Monotonic calibrated interpolated look-up tables, JMLR",
        "Wang & Gupta (2020), Deontological ethics by monotonicity shape constraints, AISTATS",
        "https://scikit-learn.org/stable/modules/ensemble.html#monotonic-constraints",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        declared = {c: d["monotonic"] for c, d in ctx.feature_domains.items() if (d or {}).get("monotonic") and c in ctx.features}
        if not declared:
            return Findings(status="skipped", summary=(
                "Skipped: the policy declares no monotonic feature (features: {col: {monotonic: increasing}})."))
        s = _draw_sample(ctx, self.id, params["max_rows"])
        _, ref = _reference(ctx)
        not_moved = {c: "declared immutable" for c in declared if not _mutable(ctx, c)}
        not_moved.update({c: "not numeric" for c in declared if c not in not_moved and not _is_numeric(s.X[c])})
        spreads = {c: _spread(ref[c]) if c in ref.columns else 0.0 for c in declared if c not in not_moved}
        not_moved.update({c: "constant" for c, v in spreads.items() if v <= 0})
        cols = [c for c in declared if c not in not_moved]
        if not cols:
            return _skip("no feature declared monotonic can be moved ("
                         + "; ".join(f"{c}: {why}" for c, why in not_moved.items()) + ").", s.record)
        n, steps = len(s), int(params["steps"])
        offsets = np.arange(-steps, steps + 1) * float(params["step"])
        use_proba = ctx.task == "binary" and ctx.model.has_proba
        blocks = []
        for c in cols:
            low, high = _bounds(ctx, c)
            x = _floats(s.X[c])
            grid = x[None, :] + offsets[:, None] * spreads[c]  # (grid point, row)
            grid = np.clip(grid, low, high)
            blocks.append(pd.concat([s.X.assign(**{c: _like(grid[g], s.X[c])}) for g in range(len(offsets))],
                                    ignore_index=True))
        outcomes = _call_blocks(ctx, blocks, proba=use_proba)
        tolerance = float(params["tolerance"])
        unit = 1.0 if ctx.task == "binary" else _target_spread(ctx, s.pred)
        violated = np.zeros(n, dtype=bool)
        rows = []
        for c, out in zip(cols, outcomes):
            curve = self._output(ctx, out, use_proba).reshape(len(offsets), n) / unit
            missing = np.isnan(_floats(s.X[c]))
            diffs = np.diff(curve, axis=0)
            wrong = -diffs if declared[c] == "increasing" else diffs
            worst = np.where(np.isnan(wrong), -np.inf, wrong).max(axis=0)  # largest wrong-way move per row
            bad = (worst > tolerance) & ~missing
            violated |= bad
            rows.append([c, declared[c], int((~missing).sum()), float(bad.mean()),
                         float(max(worst[~missing].max(), 0.0)) + 0.0 if (~missing).any() else None])
        rows.sort(key=lambda r: -r[3])
        metric = _proportion(violated, "share of rows whose output moves against a declared monotonic relation")
        output = ("positive-class probability" if use_proba else "predicted label (0/1)") if ctx.task == "binary" \
            else "prediction (in target spreads)"
        few = _few_rows(n)
        summary = (
            f"Moving {wording.count(len(cols), 'feature')} declared monotonic through {len(offsets)} steps of "
            f"{params['step']:g} x spread: the {output} moves the wrong way by more than {tolerance:g} on "
            f"{wording.share(metric.value)} of {n:,} sampled test rows"
            + (f" (worst: {rows[0][0]!r}, {wording.share(rows[0][3])})." if rows[0][3] > 0 else ".")
            + (f" Not moved: {'; '.join(f'{c} ({why})' for c, why in not_moved.items())}." if not_moved else "")
        )
        return Findings(
            summary=(f"Inconclusive: {few}. " if few else "") + summary,
            status="inconclusive" if few else None,
            metrics={"monotonicity_violation_rate": metric},
            evidence=[Evidence(
                title="Declared monotonic relations",
                columns=["feature", "declared", "rows checked", "share of rows violating", "largest wrong-way move"],
                rows=rows[:MAX_ROWS],
                note=f"Output: {output}; grid offsets {offsets[0]:g} to {offsets[-1]:g} x spread, clipped to declared bounds; "
                     f"tolerance {tolerance:g}. Rows where the feature is missing are not checked.",
            )],
            recommendation=(
                "Enforce the declared direction in training (HistGradientBoosting monotonic_cst, LightGBM/XGBoost "
                "monotone_constraints, lattice or sign-constrained linear models) and confirm the declared direction."
            ),
            sample=s.record,
        )

    @staticmethod
    def _output(ctx: AuditContext, out: _Outcome, use_proba: bool) -> np.ndarray:
        if ctx.task == "binary":
            classes = list(ctx.classes or [])
            if use_proba and ctx.positive_label in classes:
                return out.proba[:, classes.index(ctx.positive_label)].astype(float)
            return (encode_labels(out.pred, classes) == classes.index(ctx.positive_label)).astype(float)
        return np.asarray(out.pred, dtype=float)
