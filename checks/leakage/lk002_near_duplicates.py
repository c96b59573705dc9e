"""LK002: test rows that are near-copies of training rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_attribute, lazy_module

from ._common import (
    MAX_EXAMPLES,
    MISSING_LABEL,
    _as_float,
    _as_text,
    _common_features,
    _empty,
    _is_datetime,
    _rate,
    _skip,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
stats = lazy_module("scipy.stats")
NearestNeighbors = lazy_attribute("sklearn.neighbors", "NearestNeighbors")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Nearest-neighbour distances are computed with the dot-product expansion, which leaves
# round-off of about 1e-8 on exact copies; distances are rounded to this many decimals
# (in scaled units) so that exact copies tie at zero as they should.
DISTANCE_DECIMALS = 6
# Scaled feature values are clipped so that squared distances cannot overflow.
CLIP = 1e6
# The constant that turns an interquartile range into a standard deviation for normal data.
IQR_TO_SD = 1.349


# -- LK002 ---------------------------------------------------------------------------
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
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "Kapoor & Narayanan, Leakage and the reproducibility crisis in machine-learning-based science, Patterns 4(9), 2023",
        "https://scikit-learn.org/stable/modules/generated/sklearn.neighbors.NearestNeighbors.html",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.binomtest.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
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
                "binomial_p_value": Metric(
                    p_value, description="one-sided binomial test: are test rows over-represented among the rows within τ?", p_value=True
                ),
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
