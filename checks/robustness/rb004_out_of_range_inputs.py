"""RB004 out-of-range-inputs: valid outputs for numeric inputs beyond the training range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module

from ._common import (
    MAX_ROWS,
    NO_ROWS,
    _bounds,
    _call_blocks,
    _draw_sample,
    _floats,
    _invalid,
    _like,
    _mutable,
    _reference,
    _skip,
    _spread,
    _target_spread,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class OutOfRangeInputs(Check):
    """Valid outputs for numeric inputs beyond the training range

    What it checks:
        For each mutable numeric feature, sets it on every sampled test row to a value
        beyond the range seen in training: ``max + beyond x spread`` and
        ``min - beyond x spread`` (``beyond`` default 3; the spread is IQR / 1.349, or
        the standard deviation where the IQR is 0), one feature and one side at a time.
        Where the policy declares a ``min`` or ``max`` for the feature, that side is
        tested at the declared bound instead, never beyond it. Integer columns get
        integer values. The model's outputs must stay valid: no exception, no NaN or
        infinite prediction, no label outside its classes, probabilities inside [0, 1]
        that sum to 1. Judged: the number of features for which an extreme input gives
        an invalid output or a raise (fail above 0); the message is kept. Reported, not
        judged: how the predicted class shares (regression: the mean prediction, in
        target spreads) shift at the extremes.

    Why it matters:
        Production inputs leave the training range: new populations, unit errors,
        upstream bugs. A model should still answer with something valid (and a
        monitoring system should flag the input); a probability of 1.3, a NaN or a crash
        propagates into decisions and downstream systems.

    How to fix:
        Validate and clip inputs to their declared domain before scoring; use model
        outputs that are valid by construction (a logistic or softmax link rather than a
        linear probability); guard numerically unstable transforms (log, exp, division)
        in custom code; monitor for out-of-range inputs.

    References:
        Breck et al. (2017), The ML test score: a rubric for ML production readiness
        and technical debt reduction, IEEE Big Data.
        Hendrycks & Gimpel (2017), A baseline for detecting misclassified and
        out-of-distribution examples in neural networks, ICLR.
    """

    id = "RB004"
    name = "out-of-range-inputs"
    area = "robustness"
    severity = "high"
    needs = frozenset({"test", "model"})
    params = {
        "max_rows": Param(default=2000, kind="int", help="test rows perturbed at most (a seeded sample above)", low=1),
        "beyond": Param(default=3.0, kind="float", low=0.0, high=1e6,
                        help="how far beyond the training range, in multiples of the feature's spread"),
    }
    thresholds = {
        "invalid_output_features": Threshold(direction="above", fail=0, low=0,
                                             help="features whose extreme values make the model raise or return invalid output"),
    }
    practices = ("P1.3", "P6.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Breck et al. (2017), The ML test score: a rubric for ML production readiness and technical debt reduction, IEEE Big Data",
        "Hendrycks & Gimpel (2017), A baseline for detecting misclassified and out-of-distribution examples in neural networks, ICLR",
    )

    def run(self, ctx, params):
        if len(ctx.frame("test")) == 0:
            return _skip(NO_ROWS)
        s = _draw_sample(ctx, self.id, params["max_rows"])
        ref_role, ref = _reference(ctx)
        numeric = [c for c in ctx.features if _is_numeric(s.X[c])]
        immutable = [c for c in numeric if not _mutable(ctx, c)]
        cases: list[tuple[str, str, float, str]] = []  # feature, side, value, how it was chosen
        for c in numeric:
            if c in immutable or c not in ref.columns:
                continue
            x = _floats(ref[c])
            x = x[~np.isnan(x)]
            if x.size == 0:
                continue
            spread = _spread(ref[c]) or max(abs(float(x.max())), 1.0)
            low, high = _bounds(ctx, c)
            step = float(params["beyond"]) * spread
            hi_value, hi_how = (high, "declared max") if np.isfinite(high) else (float(x.max()) + step, f"{ref_role} max + {params['beyond']:g} spread")
            lo_value, lo_how = (low, "declared min") if np.isfinite(low) else (float(x.min()) - step, f"{ref_role} min - {params['beyond']:g} spread")
            if ptypes.is_integer_dtype(s.X[c].dtype):
                hi_value, lo_value = float(np.ceil(hi_value)), float(np.floor(lo_value))
            cases.append((c, "high", hi_value, hi_how))
            cases.append((c, "low", lo_value, lo_how))
        if not cases:
            why = f" ({len(immutable)} declared immutable)" if immutable else ""
            return _skip(f"the model has no mutable numeric feature to push beyond its range{why}.", s.record)
        n = len(s)
        proba = ctx.is_classification and ctx.model.has_proba
        blocks = [s.X.assign(**{c: _like(np.full(n, value), s.X[c])}) for c, _, value, _ in cases]
        outcomes = _call_blocks(ctx, blocks, proba=proba, attribute=True)
        target_spread = 1.0 if ctx.is_classification else _target_spread(ctx, s.pred)
        base_shares = self._shares(ctx, s.pred)
        invalid: dict[str, str] = {}
        rows, shifts = [], []
        for (c, side, value, how), out in zip(cases, outcomes):
            reason = _invalid(ctx, out, n)
            shift, shown = None, None
            if reason:
                invalid.setdefault(c, f"at {c}={value:.6g} ({side}) the model {reason}")
            elif ctx.is_classification:
                shares = self._shares(ctx, out.pred)
                diff = {k: shares.get(k, 0.0) - base_shares.get(k, 0.0) for k in set(shares) | set(base_shares)}
                top = max(diff, key=lambda k: (abs(diff[k]), str(k)))
                shift, shown = abs(diff[top]), f"{top}: {base_shares.get(top, 0.0):.1%} -> {shares.get(top, 0.0):.1%}"
            else:
                new = float(np.mean(np.asarray(out.pred, dtype=float)))
                old = float(np.mean(np.asarray(s.pred, dtype=float)))
                shift, shown = abs(new - old) / target_spread, f"mean {old:.4g} -> {new:.4g}"
            if shift is not None:
                shifts.append(shift)
            rows.append([c, side, value, how, "no" if reason else "yes", shown or "", shift, reason or ""])
        rows.sort(key=lambda r: (r[4] != "no", -(r[6] if r[6] is not None else 0.0)))
        shift_col = "largest class-share change" if ctx.is_classification else "mean shift / target spread"
        tested = len({c for c, *_ in cases})
        if invalid:
            first = next(iter(invalid))
            head = (f"Extreme values of {wording.count(len(invalid), 'feature')} of {tested} give invalid output or a raise: "
                    f"{invalid[first]}.")
        else:
            bound = " (or to a declared bound)" if any(how.startswith("declared") for *_, how in cases) else ""
            head = (f"The model's outputs stay valid with each of {wording.count(tested, 'numeric feature')} pushed beyond "
                    f"its {ref_role} range{bound}.")
        tail = (f" At the extremes a predicted class's share changes by up to {100 * max(shifts):.1f} percentage points."
                if shifts and ctx.is_classification else
                f" The largest shift of the mean prediction at an extreme: {max(shifts):.3f} target spreads." if shifts else "")
        return Findings(
            summary=head + tail + f" ({n:,} sampled test rows.)",
            metrics={
                "invalid_output_features": Metric(len(invalid), description="features whose extreme values make the model raise or return invalid output"),
                "max_extreme_shift": Metric(max(shifts) if shifts else None, description=f"{shift_col} at an extreme input (not judged)"),
            },
            evidence=[Evidence(
                title="Predictions at extreme inputs",
                columns=["feature", "side", "value", "chosen as", "valid", "prediction shift", shift_col, "problem"],
                rows=rows[:MAX_ROWS],
                note=(f"Showing {MAX_ROWS} of {len(rows)}, invalid ones first. " if len(rows) > MAX_ROWS else "")
                     + "Each feature set to the value on every sampled row, one feature and side at a time"
                     + (f"; left unchanged as declared immutable: {', '.join(immutable[:MAX_ROWS])}." if immutable else "."),
            )],
            recommendation=(
                "Validate and clip inputs to their declared domain before scoring, use outputs valid by construction "
                "(logistic or softmax links), guard log/exp/division in custom code, and monitor out-of-range inputs."
            ),
            sample=s.record,
        )

    @staticmethod
    def _shares(ctx: AuditContext, pred: np.ndarray) -> dict[str, float]:
        values = pd.Series(np.asarray(pred, dtype=object)).map(str).value_counts(normalize=True, sort=False)
        return {str(k): float(v) for k, v in values.items()}
