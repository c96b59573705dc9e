"""Drift checks (area ``drift``, IDs DR001-DR004).

Has the population the model serves moved away from the one it was built and
evaluated on? Each check compares a reference dataset (the training data by default,
or the test data) with the ``current`` production sample: one input column at a time
(DR001), all inputs together (DR002), the model's outputs (DR003) and, where the
current sample is labelled, its labels and the model's performance on it (DR004).

A shift counts as drift only when it is both statistically significant and large
enough to matter: on a million rows a shift of a fiftieth of a standard deviation is
significant, and harmless. The mathematics is SciPy's (``ks_2samp``,
``chi2_contingency``, ``wasserstein_distance``, ``jensenshannon``, ``mannwhitneyu``,
``bootstrap``), statsmodels' (``multipletests``) and scikit-learn's
(``HistGradientBoostingClassifier``, ``permutation_importance``, ``rbf_kernel``); the
optional alibi-detect backend (``pip install auditor[alibi]``) runs DR001's univariate
tests and DR002's MMD test through alibi-detect instead. This module is glue: it
measures, and the engine judges the metrics against the thresholds on each class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor import wording
from auditor.check import Check, Param, Threshold
from auditor.context import combine_samples
from auditor.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.figures import bar_chart, interval_chart, label, new_figure, to_svg
from auditor.lazy import lazy_attribute, lazy_module
from auditor.results import Evidence, Figure, Findings, Metric
from auditor.wording import shorten as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
stats = lazy_module("scipy.stats")
jensenshannon = lazy_attribute("scipy.spatial.distance", "jensenshannon")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.context import AuditContext

#: The message of the RuntimeError raised when the alibi backend is selected but not installed.
ALIBI_MISSING = "the alibi backend needs `pip install auditor[alibi]`"
REFERENCE_ROLES: tuple[str, ...] = ("train", "test")
BACKENDS: tuple[str, ...] = ("scipy", "alibi")
CORRECTIONS: tuple[str, ...] = ("fdr_bh", "holm", "bonferroni")
# Shares below this are raised to it in the PSI, so that a bin empty on one side gives a
# large but finite term (a common convention; 1e-4 is one row in ten thousand).
PSI_EPSILON = 1e-4
MISSING_LABEL = "<missing>"
OTHER_LABEL = "<other>"
# Categories whose expected count in the smaller sample is below MIN_EXPECTED are pooled,
# and the pool itself is kept at MIN_POOL_EXPECTED or more (Cochran's rule for the
# chi-squared approximation: no expected count below 1, few below 5).
MIN_EXPECTED = 5.0
MIN_POOL_EXPECTED = 1.0
# Up to this many rows per sample the KS p-value is SciPy's exact one (ks_2samp's own
# cut-off); above it, the Kolmogorov limit distribution's.
EXACT_KS_ROWS = 10_000
# Evidence tables stay small: renderers show them whole.
MAX_ROWS = 20
MAX_TEXT = 40
FIGURE_COLUMNS = 4
FIGURE_LEVELS = 8
HIST_BINS = 30
REFERENCE_COLOUR = "#3b5b92"
CURRENT_COLOUR = "#c0652b"
# DR002 names a feature in its summary when its importance is at least this share of the top one's.
NAMED_IMPORTANCE = 0.1
# HistGradientBoosting's categorical features must have fewer than max_bins (255) levels.
MAX_DOMAIN_LEVELS = 250
# Robust z-scores for the MMD embedding are clipped so that one wild value cannot
# dominate the kernel's bandwidth.
CLIP = 1e3
IQR_TO_SD = 1.349


# -- shared helpers ------------------------------------------------------------------
def _skip(reason: str) -> Findings:
    return Findings(summary=f"Skipped: {reason}", status="skipped")


def _roles_problem(ctx: "AuditContext", reference: str) -> str | None:
    """Why the reference and current data cannot be compared (None when they can)."""
    if not ctx.has(reference):
        return f"no {reference} data was given to serve as the reference."
    if len(ctx.frame(reference)) == 0:
        return f"the {reference} data has no rows."
    if len(ctx.frame("current")) == 0:
        return "the current data has no rows."
    return None


def _sig(value: float | None, digits: int = 4) -> float | None:
    """A number rounded to a few significant digits for an evidence cell (None stays None)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def _is_numeric(s: pd.Series) -> bool:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_bool_dtype(dtype):
        return False
    return ptypes.is_numeric_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype)


def _kind(*series: pd.Series) -> str:
    """``numeric`` when the column is numeric (or datetime) in every dataset, else ``categorical``."""
    return "numeric" if all(_is_numeric(s) for s in series) else "categorical"


def _as_float(s: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes in seconds); missing and infinite values NaN."""
    if ptypes.is_datetime64_any_dtype(s.dtype):
        parsed = pd.to_datetime(s, utc=True)
        x = ((parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)
    else:
        x = s.to_numpy(dtype="float64", na_value=np.nan)
    x = np.array(x, dtype="float64", copy=True)
    x[~np.isfinite(x)] = np.nan
    return x


def _as_text(s: pd.Series) -> np.ndarray:
    """A column as strings, missing values as the level ``<missing>`` (pandas 2 spells them 'nan')."""
    text = s.astype(str).to_numpy(dtype=object)
    text[s.isna().to_numpy()] = MISSING_LABEL
    return text


def _full_sample(ctx: "AuditContext", roles: tuple[str, ...], check_id: str) -> dict[str, Any]:
    """The ``sample`` record of a check that reads every row of the given roles."""
    seed = ctx.seed_for(check_id)
    records = {
        role: {"role": role, "rows_used": len(ctx.frame(role)), "rows_available": len(ctx.frame(role)), "seed": seed}
        for role in roles
    }
    return combine_samples(records, seed)


def _alibi_cd():
    """``alibi_detect.cd``, imported only when the alibi backend is selected."""
    try:
        from alibi_detect import cd
    except ImportError as exc:
        raise RuntimeError(ALIBI_MISSING) from exc
    return cd


# -- distances between two distributions -------------------------------------------
def psi(reference_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two histograms over the same bins.

    PSI = Σ (c_i − r_i) · ln(c_i / r_i), where r_i and c_i are the reference and current
    shares of bin i, each raised to at least ``epsilon`` so that an empty bin gives a
    large but finite term.
    """
    r = np.maximum(np.asarray(reference_counts, dtype="float64") / max(np.sum(reference_counts), 1), epsilon)
    c = np.maximum(np.asarray(current_counts, dtype="float64") / max(np.sum(current_counts), 1), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so in [0, 1]) of two histograms over the same bins."""
    return float(jensenshannon(np.asarray(reference_counts, dtype="float64"), np.asarray(current_counts, dtype="float64"), base=2))


def ks_and_wasserstein(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Two-sample KS statistic, its two-sided p-value, and the 1-Wasserstein distance.

    Both distances come from one pass over the pooled sorted values (the computation of
    ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance``, shared). The
    p-value is ``ks_2samp``'s exact one up to ``EXACT_KS_ROWS`` rows per sample; above
    that it is the Kolmogorov limit distribution's (``scipy.stats.kstwobign``) at
    sqrt(nm/(n+m))·D, which differs from ks_2samp's finite-sample asymptotic by far less
    than any threshold cares about and stays fast when the p-value is tiny.
    """
    a, b = np.sort(np.asarray(a, dtype="float64")), np.sort(np.asarray(b, dtype="float64"))
    n, m = len(a), len(b)
    pooled = np.sort(np.concatenate([a, b]))
    gap = np.abs(np.searchsorted(a, pooled, side="right") / n - np.searchsorted(b, pooled, side="right") / m)
    d = float(gap.max())
    w = float(np.sum(gap[:-1] * np.diff(pooled)))
    if max(n, m) <= EXACT_KS_ROWS:
        p = float(stats.ks_2samp(a, b).pvalue)
    else:
        p = float(stats.kstwobign.sf(np.sqrt(n * m / (n + m)) * d))
    return d, min(max(p, 0.0), 1.0), w


def _chi2(table: np.ndarray) -> tuple[float, float]:
    """Chi-squared test of a 2 × k table of counts (``scipy.stats.chi2_contingency``); columns empty on both sides dropped."""
    table = np.asarray(table, dtype="float64")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    res = stats.chi2_contingency(table)
    return float(res.statistic), float(res.pvalue)


def _bin_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges from the reference's finite values.

    Quantile edges (deciles for ``bins=10``), deduplicated; a column with at most ``bins``
    distinct values gets one bin per value (edges at the midpoints), so that discrete
    columns are not lumped together by tied quantiles.
    """
    if len(reference) == 0:
        return np.empty(0)
    distinct = np.unique(reference)
    if len(distinct) <= bins:
        return (distinct[:-1] + distinct[1:]) / 2.0
    return np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def _bin_counts(finite: np.ndarray, missing: int, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (values equal to an edge go to the bin above it), with a last bin for missing values."""
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    return np.append(counts, missing).astype("float64")


def category_table(reference: np.ndarray, current: np.ndarray, *, max_levels: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Levels and their counts in both samples, rare levels pooled into ``<other>``.

    Kept: the ``max_levels`` most frequent levels overall whose expected count in the
    smaller sample is at least 5; the rest are pooled, and while the pool itself is
    expected less than once the least frequent kept level joins it (Cochran: no expected
    count below 1, few below 5). When fewer than two groups would remain, the most
    frequent level is compared with all the others.
    """
    ca = pd.Series(reference).value_counts(sort=False)
    cb = pd.Series(current).value_counts(sort=False)
    levels = ca.index.union(cb.index, sort=False)
    a = ca.reindex(levels, fill_value=0).to_numpy(dtype="float64")
    b = cb.reindex(levels, fill_value=0).to_numpy(dtype="float64")
    total = a + b
    order = np.lexsort((np.asarray([str(v) for v in levels]), -total))
    n, m = a.sum(), b.sum()
    small = min(n, m) / max(n + m, 1)
    keep = [i for rank, i in enumerate(order) if rank < max_levels and total[i] * small >= MIN_EXPECTED]
    rest = [i for i in order if i not in set(keep)]
    while rest and total[rest].sum() * small < MIN_POOL_EXPECTED and len(keep) > 1:
        rest.append(keep.pop())
    if len(keep) + (1 if rest else 0) < 2 and len(order) >= 2:
        keep, rest = [int(order[0])], [int(i) for i in order[1:]]
    names = [str(levels[i]) for i in keep]
    ra, rb = [a[i] for i in keep], [b[i] for i in keep]
    if rest:
        names.append(OTHER_LABEL if len(rest) > 1 else str(levels[rest[0]]))
        ra.append(a[rest].sum())
        rb.append(b[rest].sum())
    return names, np.asarray(ra, dtype="float64"), np.asarray(rb, dtype="float64")


@dataclass
class Comparison:
    """One distribution compared between the reference and the current sample."""

    name: str
    kind: str  # numeric | categorical
    test: str
    statistic: float | None
    p_value: float | None
    psi: float | None
    wasserstein: float | None
    js: float | None
    missing_reference: float
    missing_current: float
    rows_reference: int
    rows_current: int
    note: str = ""
    corrected: float | None = None
    drifted: bool = False
    bins: list[str] = field(default_factory=list)
    counts_reference: np.ndarray | None = None
    counts_current: np.ndarray | None = None


def compare_numeric(
    name: str, reference: np.ndarray, current: np.ndarray, *, bins: int, normalise: bool = True, ks=None
) -> Comparison:
    """KS test (with a missing-share test when values are missing), PSI, JS and Wasserstein.

    ``reference`` and ``current`` are float arrays with NaN for missing values.
    Missing values have a bin of their own in the PSI and JS. When either side has
    missing values the p-value is the Bonferroni combination (twice the smaller) of the
    KS test on the values and the chi-squared test of the missing-by-dataset table.
    The Wasserstein distance is divided by the reference's standard deviation when
    ``normalise`` (falling back to the pooled one, then to 1), so that a shift of the
    whole distribution by one standard deviation reads 1. ``ks`` replaces the KS test
    (the alibi backend): ``ks(a, b) -> (statistic, p_value)``.
    """
    fin_r, fin_c = reference[np.isfinite(reference)], current[np.isfinite(current)]
    miss_r, miss_c = len(reference) - len(fin_r), len(current) - len(fin_c)
    edges = _bin_edges(fin_r if len(fin_r) else fin_c, bins)
    counts_r, counts_c = _bin_counts(fin_r, miss_r, edges), _bin_counts(fin_c, miss_c, edges)
    labels = _bin_labels(edges) + [MISSING_LABEL]
    comparison = Comparison(
        name=name, kind="numeric", test="—", statistic=None, p_value=None, psi=None, wasserstein=None, js=None,
        missing_reference=miss_r / max(len(reference), 1), missing_current=miss_c / max(len(current), 1),
        rows_reference=len(reference), rows_current=len(current), bins=labels,
        counts_reference=counts_r, counts_current=counts_c,
    )
    if len(reference) == 0 or len(current) == 0:
        comparison.note = "no rows on one side"
        return comparison
    if len(fin_r) == 0 and len(fin_c) == 0:
        comparison.note = "missing in every row of both samples"
        return comparison
    comparison.psi, comparison.js = psi(counts_r, counts_c), js_distance(counts_r, counts_c)
    p_ks = None
    if len(fin_r) and len(fin_c):
        d, p_ks, w = ks_and_wasserstein(fin_r, fin_c)
        if ks is not None:
            d, p_ks = ks(fin_r, fin_c)
        if normalise:
            scale = float(np.std(fin_r))
            if not scale > 0:
                scale = float(np.std(np.concatenate([fin_r, fin_c])))
            w = w / scale if scale > 0 else w
        comparison.statistic, comparison.wasserstein, comparison.test = d, w, "KS"
    if miss_r + miss_c > 0:
        stat, p_missing = _chi2(np.array([[miss_r, len(fin_r)], [miss_c, len(fin_c)]]))
        if p_ks is None:
            comparison.test, comparison.statistic, comparison.p_value = "missing share (chi-squared)", stat, p_missing
            comparison.note = f"no values in the {'current' if len(fin_c) == 0 else 'reference'} sample"
        else:
            comparison.test, comparison.p_value = "KS + missing share", min(1.0, 2.0 * min(p_ks, p_missing))
    else:
        comparison.p_value = p_ks
    return comparison


def _bin_labels(edges: np.ndarray) -> list[str]:
    if len(edges) == 0:
        return ["all values"]
    bounds = [f"{e:.4g}" for e in edges]
    return [f"< {bounds[0]}"] + [f"[{lo}, {hi})" for lo, hi in zip(bounds[:-1], bounds[1:])] + [f"≥ {bounds[-1]}"]


def compare_categorical(name: str, reference: np.ndarray, current: np.ndarray, *, max_levels: int, chi2=None) -> Comparison:
    """Chi-squared test of the level-by-dataset counts (rare levels pooled), PSI and JS on the same levels.

    ``reference`` and ``current`` are text arrays with missing values as ``<missing>``
    (a level like any other). ``chi2`` replaces the test (the alibi backend):
    ``chi2(levels, reference_counts, current_counts) -> (statistic, p_value)``.
    """
    comparison = Comparison(
        name=name, kind="categorical", test="—", statistic=None, p_value=None, psi=None, wasserstein=None, js=None,
        missing_reference=float(np.mean(reference == MISSING_LABEL)) if len(reference) else 0.0,
        missing_current=float(np.mean(current == MISSING_LABEL)) if len(current) else 0.0,
        rows_reference=len(reference), rows_current=len(current),
    )
    if len(reference) == 0 or len(current) == 0:
        comparison.note = "no rows on one side"
        return comparison
    levels, a, b = category_table(reference, current, max_levels=max_levels)
    comparison.bins, comparison.counts_reference, comparison.counts_current = levels, a, b
    comparison.psi, comparison.js = psi(a, b), js_distance(a, b)
    comparison.statistic, comparison.p_value = chi2(levels, a, b) if chi2 is not None else _chi2(np.vstack([a, b]))
    comparison.test = "chi-squared"
    return comparison


def _compare_series(name: str, ref: pd.Series, cur: pd.Series, params: dict[str, Any], backend=None) -> Comparison:
    if _kind(ref, cur) == "numeric":
        return compare_numeric(name, _as_float(ref), _as_float(cur), bins=int(params["bins"]), ks=backend and backend.ks)
    return compare_categorical(
        name, _as_text(ref), _as_text(cur), max_levels=int(params["max_levels"]), chi2=backend and backend.chi2
    )


class _AlibiUnivariate:
    """DR001's univariate tests through alibi-detect (KSDrift, ChiSquareDrift), one column at a time."""

    def __init__(self, alpha: float):
        self.cd, self.alpha = _alibi_cd(), alpha

    def ks(self, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        detector = self.cd.KSDrift(a.reshape(-1, 1).astype("float32"), p_val=self.alpha)
        data = detector.predict(b.reshape(-1, 1).astype("float32"), drift_type="feature", return_p_val=True, return_distance=True)["data"]
        return float(np.ravel(data["distance"])[0]), float(np.ravel(data["p_val"])[0])

    def chi2(self, levels: list[str], a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        if len(levels) < 2:
            return 0.0, 1.0
        codes = np.arange(len(levels))
        x_ref = np.repeat(codes, a.astype(np.int64)).reshape(-1, 1)
        x_cur = np.repeat(codes, b.astype(np.int64)).reshape(-1, 1)
        detector = self.cd.ChiSquareDrift(x_ref, p_val=self.alpha, categories_per_feature={0: codes.tolist()})
        data = detector.predict(x_cur, drift_type="feature", return_p_val=True, return_distance=True)["data"]
        return float(np.ravel(data["distance"])[0]), float(np.ravel(data["p_val"])[0])


# -- figures ---------------------------------------------------------------------------
def _histogram(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Common edges over the pooled 0.5-99.5% range and both samples' densities."""
    fin_r, fin_c = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(fin_r) == 0 or len(fin_c) == 0:
        return None
    lo, hi = np.quantile(np.concatenate([fin_r, fin_c]), [0.005, 0.995])
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    # Values outside the range are left out rather than piled into the end bins.
    dens_r = np.histogram(fin_r, bins=edges)[0] / len(fin_r) / np.diff(edges)
    dens_c = np.histogram(fin_c, bins=edges)[0] / len(fin_c) / np.diff(edges)
    return edges, dens_r, dens_c


def _draw_comparison(ax, comparison: Comparison, values: tuple[np.ndarray, np.ndarray] | None, reference: str) -> None:
    """One panel: overlaid densities (numeric) or side-by-side level shares (categorical)."""
    hist = _histogram(*values) if values is not None and comparison.kind == "numeric" else None
    if hist is not None:
        edges, dens_r, dens_c = hist
        ax.stairs(dens_r, edges, fill=True, color=REFERENCE_COLOUR, alpha=0.3, label=reference)
        ax.stairs(dens_r, edges, color=REFERENCE_COLOUR, linewidth=1.2)
        ax.stairs(dens_c, edges, color=CURRENT_COLOUR, linewidth=1.6, label="current")
        ax.set_ylabel("density", fontsize=8)
    else:
        a, b = comparison.counts_reference, comparison.counts_current
        share_r, share_c = a / max(a.sum(), 1), b / max(b.sum(), 1)
        order = np.argsort(-np.abs(share_c - share_r), kind="stable")[:FIGURE_LEVELS]
        order = order[np.argsort(-(share_r[order] + share_c[order]), kind="stable")]
        pos = np.arange(len(order))
        ax.barh(pos - 0.2, share_r[order], height=0.4, color=REFERENCE_COLOUR, label=reference)
        ax.barh(pos + 0.2, share_c[order], height=0.4, color=CURRENT_COLOUR, label="current")
        ax.set_yticks(pos, labels=[label(comparison.bins[i], 18) for i in order], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("share of rows", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(axis="x" if hist is None else "y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    psi_text = f"PSI {comparison.psi:.2f}" if comparison.psi is not None else "PSI —"
    ax.set_title(label(f"{_text(comparison.name, 28)} ({psi_text}{', drifted' if comparison.drifted else ''})"), fontsize=9)


def _distribution_figure(
    comparisons: list[Comparison], values: dict[str, tuple[np.ndarray, np.ndarray]], reference: str, *, title: str, caption: str
) -> Figure:
    k = len(comparisons)
    ncols = 2 if k > 1 else 1
    nrows = math.ceil(k / ncols)
    height = 2.5 * nrows + 0.5
    fig = new_figure(7.2 if ncols == 2 else 5.0, height)
    # Fixed margins rather than a layout engine: a figure is drawn once, not re-laid out.
    fig.subplots_adjust(left=0.16 if ncols == 2 else 0.22, right=0.98, bottom=0.5 / height + 0.02, top=1 - 0.55 / height,
                        wspace=0.45, hspace=0.75)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, comparison in zip(axes.flat, comparisons):
        _draw_comparison(ax, comparison, values.get(comparison.name), reference)
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles[:2], labels[:2], loc="upper center", ncol=2, fontsize=8, frameon=False)
    return to_svg(fig, title=title, caption=caption)


# -- DR001 -----------------------------------------------------------------------------
class FeatureDrift(Check):
    """Input columns whose distribution moved between the reference and the current data

    What it checks:
        Each model input column present in both the reference data (``reference``:
        train by default, or test) and the current (production) sample is compared on
        all rows. Numeric and datetime columns: the two-sample Kolmogorov-Smirnov test
        (``scipy.stats.ks_2samp``; exact up to 10,000 rows per side, the Kolmogorov limit
        distribution above), combined by Bonferroni with a chi-squared test of the
        missing share when values are missing. Other columns: the chi-squared test of the
        level-by-dataset counts (``scipy.stats.chi2_contingency``; missing is a level;
        the ``max_levels`` most frequent levels kept, levels expected fewer than 5 times
        in the smaller sample pooled into ``<other>``). Effect sizes next to each test:
        the population stability index (PSI = Σ (c − r)·ln(c / r) over ``bins`` quantile
        bins of the reference plus a missing bin, or over the levels; shares floored at
        1e-4), the Wasserstein distance (``scipy.stats.wasserstein_distance``) divided by
        the reference's standard deviation so that it reads in standard deviations (a
        shift of the whole distribution by one sd reads 1), and the Jensen-Shannon
        distance (``scipy.spatial.distance.jensenshannon``, base 2, in [0, 1]) on the same
        bins. The p-values are corrected across the columns (``correction``: Benjamini-
        Hochberg by default, or Holm or Bonferroni; ``statsmodels`` ``multipletests``).
        A column is drifted when its corrected p-value is below ``alpha`` (0.05) AND its
        PSI is at least ``psi_threshold`` (0.2): significance alone is not enough, since
        on a million rows a harmless shift of 0.02 standard deviations has p ≈ 1e-29 (PSI
        ≈ 0.0004). PSI 0.2 is the conventional boundary of a significant population
        shift, between 0.1-0.25 "moderate" and above 0.25 "major" (Siddiqi 2006;
        Yurdakul 2018); over deciles of a normal column it is a mean shift of 0.46
        standard deviations, and a shift of one standard deviation reads 0.93. The metric ``drifted_share`` (drifted columns over columns compared)
        warns above 0 (any drifted column deserves a look) and fails above 0.2 (a fifth of
        the inputs moved: the model serves another population). With fewer than
        ``min_rows`` current rows it is not measured (inconclusive). Counts, the largest
        PSI and the smallest corrected p-value (a global test that no column moved, fed
        to the audit-wide correction but not judged) are reported. ``backend: alibi``
        runs the KS and chi-squared tests through alibi-detect's ``KSDrift`` and
        ``ChiSquareDrift`` (same levels, same fields); it needs
        ``pip install auditor[alibi]``.

    Why it matters:
        A model is only as good as the match between the data it learnt from and the
        data it meets. A feature whose distribution moved (a new upstream encoding, a
        unit change, a new customer segment, a sensor fault) puts the model where it has
        little or no training data, and its predictions there are extrapolations that no
        test score vouched for.

    How to fix:
        Read the drifted columns and their figures. A sudden shift in one column is
        usually a pipeline change (units, encodings, defaults for missing values): fix
        the pipeline. A gradual shift across columns is a changing population: retrain
        on recent data, re-evaluate on a recent holdout, and monitor these columns.

    References:
        P6.3, P4.7 and P7.1 of the practices; Rabanser, Günnemann & Lipton, "Failing
        loudly: an empirical study of methods for detecting dataset shift", NeurIPS 2019;
        Siddiqi, "Credit Risk Scorecards", Wiley 2006 (PSI); Yurdakul, "Statistical
        properties of the population stability index", PhD thesis, Western Michigan
        University 2018; Benjamini & Hochberg, JRSS B 57(1), 1995; SciPy ``ks_2samp``,
        ``chi2_contingency``, ``wasserstein_distance``, ``jensenshannon``.
    """

    id = "DR001"
    name = "feature-drift"
    area = "drift"
    severity = "high"
    needs = frozenset({"current"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset the current sample is compared with"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5, help="significance level of the corrected per-column p-values"),
        "correction": Param(default="fdr_bh", kind="str", choices=CORRECTIONS, help="multiple-testing correction across the columns (statsmodels multipletests)"),
        "psi_threshold": Param(default=0.2, kind="float", low=0.0, high=10.0, help="smallest PSI at which a significant shift counts as drift"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="quantile bins of the reference for the PSI and JS of numeric columns"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent levels kept per categorical column; the rest pooled"),
        "min_rows": Param(default=30, kind="int", low=1, high=1_000_000, help="current rows below which drift is not judged (inconclusive)"),
        "backend": Param(default="scipy", kind="str", choices=BACKENDS, help="'alibi' runs the univariate tests through alibi-detect (pip install auditor[alibi])"),
    }
    thresholds = {
        "drifted_share": Threshold(
            direction="above", warn=0.0, fail=0.2, low=0, high=1,
            help="share of compared input columns that drifted (significant and PSI at least psi_threshold)",
        )
    }
    practices = ("P6.3", "P4.7", "P7.1")
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Siddiqi, Credit Risk Scorecards, Wiley 2006 (population stability index)",
        "Yurdakul, Statistical properties of the population stability index, Western Michigan University 2018",
        "Benjamini & Hochberg, Controlling the false discovery rate, JRSS B 57(1), 1995",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html",
        "https://www.statsmodels.org/stable/generated/statsmodels.stats.multitest.multipletests.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        ref_frame, cur_frame = ctx.frame(reference), ctx.frame("current")
        cols = [c for c in ctx.features if c in ref_frame.columns and c in cur_frame.columns]
        absent = [c for c in ctx.features if c not in cols]
        if not cols:
            return _skip(f"the {reference} and current data share no model input column.")
        backend = _AlibiUnivariate(float(params["alpha"])) if params["backend"] == "alibi" else None
        comparisons = [_compare_series(c, ref_frame[c], cur_frame[c], params, backend) for c in cols]
        tested = [c for c in comparisons if c.p_value is not None]
        alpha, cutoff = float(params["alpha"]), float(params["psi_threshold"])
        if tested:
            from statsmodels.stats.multitest import multipletests

            corrected = multipletests([c.p_value for c in tested], method=params["correction"])[1]
            for c, q in zip(tested, corrected):
                c.corrected = float(q)
                c.drifted = bool(q < alpha and c.psi is not None and c.psi >= cutoff)
        drifted = [c for c in tested if c.drifted]
        n_current = len(cur_frame)
        enough = n_current >= int(params["min_rows"])
        share = len(drifted) / len(tested) if tested and enough else None
        ranked = sorted(comparisons, key=lambda c: (not c.drifted, -(c.psi if c.psi is not None else -1.0), c.name))
        rows = [
            [_text(c.name), c.test, _sig(c.statistic), _sig(c.p_value, 3), _sig(c.corrected, 3), _sig(c.psi),
             _sig(c.wasserstein), _sig(c.js), c.drifted]
            for c in ranked[:MAX_ROWS]
        ]
        notes = [
            f"Drifted: corrected p < {alpha:g} ({params['correction']} over {wording.count(len(tested), 'column')}) and PSI ≥ {cutoff:g}.",
            "Wasserstein in reference standard deviations; JS distance base 2.",
        ]
        untested = [c for c in comparisons if c.p_value is None]
        if untested:
            notes.append("Not tested: " + "; ".join(f"{_text(c.name)} ({c.note})" for c in untested[:5]) + ".")
        if absent:
            notes.append(f"Model inputs missing from the {reference} or current data: {', '.join(_text(c) for c in absent[:5])}.")
        if len(ranked) > MAX_ROWS:
            notes.append(f"{len(ranked) - MAX_ROWS} more columns with smaller shifts are not shown.")
        evidence = [Evidence(
            title=f"Input columns, current against {reference} (drifted first, then by PSI)",
            columns=["column", "test", "statistic", "p", "corrected p", "PSI", "Wasserstein (sd)", "JS distance", "drifted"],
            rows=rows,
            note=" ".join(notes),
        )]
        with_missing = [c for c in ranked if c.missing_reference > 0 or c.missing_current > 0][:MAX_ROWS]
        if with_missing:
            evidence.append(Evidence(
                title="Missing values in the compared columns",
                columns=["column", "missing in reference", "missing in current"],
                rows=[[_text(c.name), _sig(c.missing_reference, 3), _sig(c.missing_current, 3)] for c in with_missing],
                note="Missing values count as a level of categorical columns and as a bin of their own in the PSI and JS "
                     "of numeric ones, whose p-value then also tests the missing share.",
            ))
        figures = []
        shown = [c for c in ranked if c.psi is not None][:FIGURE_COLUMNS]
        if shown:
            values = {
                c.name: (_as_float(ref_frame[c.name]), _as_float(cur_frame[c.name])) for c in shown if c.kind == "numeric"
            }
            figures.append(_distribution_figure(
                shown, values, reference, title=f"Largest shifts, current against {reference}",
                caption="Densities of numeric columns (0.5-99.5% range) and shares of categorical levels (largest changes)"
                        f"; {wording.count(len(drifted), 'column')} drifted.",
            ))
        min_q = min((c.corrected for c in tested), default=None)
        top = ranked[0] if ranked else None
        if not enough:
            verdict = (f"only {wording.count(n_current, 'current row')}, fewer than the {int(params['min_rows'])} needed "
                       "to judge drift")
        elif drifted:
            verdict = (f"{wording.count(len(drifted), 'column')} of {len(tested)} drifted "
                       f"({wording.share(len(drifted) / len(tested))}): "
                       + ", ".join(f"{_text(c.name)} (PSI {c.psi:.2f})" for c in drifted[:5])
                       + (", …" if len(drifted) > 5 else ""))
        elif tested:
            verdict = (f"none of {wording.count(len(tested), 'column')} drifted; the largest shift is "
                       f"{_text(top.name)} (PSI {top.psi:.3f}, corrected p = {top.corrected:.2g})")
        else:
            verdict = "no column could be tested"
        summary = (
            f"Compared {wording.count(len(cols), 'input column')} of the current sample ({n_current:,} rows) with the "
            f"{reference} data ({len(ref_frame):,} rows): {verdict}."
        )
        return Findings(
            summary=summary,
            metrics={
                "drifted_share": Metric(share, description=f"share of compared columns drifted (corrected p < {alpha:g} and PSI ≥ {cutoff:g})"),
                "drifted_columns": Metric(len(drifted), description="number of drifted input columns"),
                "columns_compared": Metric(len(tested), description="number of input columns tested"),
                "max_psi": Metric(max((c.psi for c in tested if c.psi is not None), default=None), description="largest PSI over the columns"),
                "global_p_value": Metric(min_q, description=f"smallest {params['correction']}-corrected p-value: a global test that no column moved", p_value=True),
            },
            evidence=evidence,
            figures=figures,
            recommendation=(
                "Look at the drifted columns first: a sudden shift in one column is usually a pipeline change "
                "(units, encodings, defaults for missing values) to fix upstream; a gradual shift across columns is a "
                "changing population: retrain on recent data, re-evaluate on a recent holdout, and monitor these columns."
                if drifted
                else "Nothing to change; keep comparing production data with the training data on a schedule."
            ),
            sample=_full_sample(ctx, (reference, "current"), self.id),
        )


# -- DR002 -----------------------------------------------------------------------------
def _domain_matrix(ref: pd.DataFrame, cur: pd.DataFrame, cols: list[str], max_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference and current rows as float matrices for a tree model, and the categorical mask.

    Numeric and datetime columns as float (missing NaN, which histogram gradient boosting
    routes natively); other columns as codes of their most frequent levels over both
    samples (missing a level), rarer levels sharing one code.
    """
    xr, xc, categorical = [], [], []
    for col in cols:
        if _kind(ref[col], cur[col]) == "numeric":
            xr.append(_as_float(ref[col]))
            xc.append(_as_float(cur[col]))
            categorical.append(False)
            continue
        tr, tc = _as_text(ref[col]), _as_text(cur[col])
        levels = pd.Index(pd.Series(np.concatenate([tr, tc])).value_counts().index[: min(max_levels, MAX_DOMAIN_LEVELS)])
        for x, out in ((tr, xr), (tc, xc)):
            codes = levels.get_indexer(x).astype("float64")
            codes[codes < 0] = len(levels)
            out.append(codes)
        categorical.append(True)
    return np.column_stack(xr), np.column_stack(xc), np.asarray(categorical, dtype=bool)


def _embedding(ref: pd.DataFrame, cur: pd.DataFrame, cols: list[str], max_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows as points for the MMD kernel, scaled on the reference.

    Numeric: (x − median) / (IQR / 1.349), falling back to the standard deviation and
    then 1, clipped at ±1000, missing values at 0 with a missing-indicator column when
    any value is missing. Categorical: one-hot of the ``max_levels`` most frequent
    reference levels scaled by 1/√2, so that a category mismatch is one unit apart like
    one standard deviation.
    """
    br, bc = [], []
    for col in cols:
        if _kind(ref[col], cur[col]) == "numeric":
            r, c = _as_float(ref[col]), _as_float(cur[col])
            finite = r[np.isfinite(r)]
            center = float(np.median(finite)) if len(finite) else 0.0
            spread = float(np.subtract(*np.percentile(finite, [75, 25]))) / IQR_TO_SD if len(finite) else 0.0
            if not spread > 0:
                spread = float(np.std(finite)) if len(finite) else 0.0
            if not spread > 0:
                spread = 1.0
            for x, out in ((r, br), (c, bc)):
                out.append(np.nan_to_num(np.clip((x - center) / spread, -CLIP, CLIP), nan=0.0).reshape(-1, 1))
            if np.isnan(r).any() or np.isnan(c).any():
                br.append(np.isnan(r).astype("float64").reshape(-1, 1))
                bc.append(np.isnan(c).astype("float64").reshape(-1, 1))
            continue
        tr, tc = _as_text(ref[col]), _as_text(cur[col])
        levels = pd.Index(pd.Series(tr).value_counts().index[:max_levels])
        for x, out in ((tr, br), (tc, bc)):
            codes = levels.get_indexer(x)
            onehot = np.zeros((len(x), len(levels)))
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0 / np.sqrt(2.0)
            out.append(onehot)
    return np.hstack(br), np.hstack(bc)


def median_bandwidth(z: np.ndarray) -> float:
    """The median Euclidean distance between distinct rows of ``z`` (1 when all rows are equal)."""
    from sklearn.metrics.pairwise import euclidean_distances

    dist = euclidean_distances(z)
    upper = dist[np.triu_indices(len(z), k=1)]
    upper = upper[upper > 0]
    return float(np.median(upper)) if len(upper) else 1.0


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, *, n_permutations: int, random_state: int) -> tuple[float, float, float]:
    """Unbiased MMD² of two samples with an RBF kernel (median heuristic) and its permutation p-value.

    The bandwidth σ is the median Euclidean distance between distinct pooled points
    (Gretton et al. 2012), the kernel exp(−‖a − b‖² / (2σ²)) (``sklearn.metrics.pairwise.
    rbf_kernel``). The p-value is (1 + #{permuted MMD² ≥ observed}) / (1 + permutations),
    with all permutations evaluated at once from the kernel matrix. Returns
    ``(mmd2, p_value, sigma)``.
    """
    from sklearn.metrics.pairwise import rbf_kernel

    z = np.vstack([x, y])
    n, total = len(x), len(x) + len(y)
    sigma = median_bandwidth(z)
    kernel = rbf_kernel(z, gamma=1.0 / (2.0 * sigma**2))
    np.fill_diagonal(kernel, 0.0)
    rng = np.random.default_rng(random_state)
    labels = np.zeros((total, n_permutations + 1))
    labels[:n, 0] = 1.0
    for j in range(1, n_permutations + 1):
        labels[rng.permutation(total)[:n], j] = 1.0
    m = total - n
    grand = kernel.sum()
    k_a = kernel @ labels
    s_xx = np.einsum("ij,ij->j", labels, k_a)
    s_x_all = k_a.sum(axis=0)
    s_xy = s_x_all - s_xx
    s_yy = grand - 2.0 * s_x_all + s_xx
    mmd2 = s_xx / (n * (n - 1)) + s_yy / (m * (m - 1)) - 2.0 * s_xy / (n * m)
    p = (1.0 + np.sum(mmd2[1:] >= mmd2[0])) / (1.0 + n_permutations)
    return float(mmd2[0]), float(p), sigma


def _hanley_mcneil_variance(auc: float, n_pos: int, n_neg: int) -> float:
    """Variance of a ROC AUC estimate (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc**2 / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return max(float(var), 0.0)


def cross_validated_auc(scores: list[np.ndarray], labels: list[np.ndarray], *, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of the per-fold ROC AUCs, a conservative interval and a one-sided p-value that it exceeds 0.5.

    Each fold's held-out scores come from one model that never saw the fold's labels, so
    within a fold the one-sided Mann-Whitney test (AUC = U / (n·m)) is exact in level.
    The folds are not independent: their models share training rows, and on identical
    samples their z-scores correlate positively (about 0.2 in simulation), so treating
    them as independent (Stouffer) rejects too often, and so does one Mann-Whitney test
    of all out-of-fold scores pooled. The p-value is therefore that of the mean z-score,
    which is at most standard normal under the null whatever the correlation; the
    interval's half-width is the mean of the folds' Hanley-McNeil standard errors, an
    upper bound on the mean's. Returns ``(auc, low, high, p_value)``.
    """
    from sklearn.metrics import roc_auc_score

    aucs, errors, zs = [], [], []
    for s, y in zip(scores, labels):
        pos, neg = s[y == 1], s[y == 0]
        aucs.append(float(roc_auc_score(y, s)))
        errors.append(float(np.sqrt(_hanley_mcneil_variance(aucs[-1], len(pos), len(neg)))))
        p = float(stats.mannwhitneyu(pos, neg, alternative="greater").pvalue)
        zs.append(float(stats.norm.isf(min(max(p, 1e-300), 1.0 - 1e-15))))
    auc = float(np.mean(aucs))
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * float(np.mean(errors))
    p_value = float(stats.norm.sf(np.mean(zs)))
    return auc, max(0.0, auc - half), min(1.0, auc + half), p_value


class MultivariateDrift(Check):
    """Reference and current rows that a classifier can tell apart

    What it checks:
        Drift in the joint distribution of the inputs, which per-column tests miss when
        only the relations between columns change. (a) A domain classifier: on a
        balanced seeded sample of at most ``max_rows`` reference rows (``reference``:
        train by default) and as many current rows, a small
        ``HistGradientBoostingClassifier`` (``max_iter`` trees of at most 15 leaves;
        categorical columns as native categories) learns to tell current rows from
        reference rows, scored by stratified ``folds``-fold cross-validation. The metric
        ``domain_auc`` is the mean of the held-out folds' ROC AUCs, with a 95% interval
        whose half-width uses the mean of the folds' Hanley & McNeil standard errors (an
        upper bound, since the folds are correlated); 0.5 means the samples are
        indistinguishable. It warns above 0.6 and fails above 0.7 (a random current row
        then outscores a random reference row seven times in ten: "acceptable
        discrimination" on Hosmer & Lemeshow's scale); an interval containing 0.7 reads
        inconclusive. Its p-value is that of the mean of the folds' one-sided
        Mann-Whitney z-scores (AUC = U / (n·m); Mason & Graham 2002), valid whatever the
        folds' correlation; it is reported and fed to the audit-wide correction, not
        judged, since on large samples a negligible AUC of 0.51 is significant. (One
        Mann-Whitney test of all out-of-fold scores pooled, or Stouffer's combination of
        the folds, rejected identical samples at the 5% level in about 14% of simulated
        runs: the folds' models share training rows.) The inputs the
        classifier leans on are measured by ``sklearn.inspection.permutation_importance``
        (drop in ROC AUC, ``n_repeats`` shuffles) on the first held-out fold, and named
        in the summary when the AUC's p-value is below ``alpha``. (b) A kernel two-sample test:
        on at most ``mmd_rows`` rows per side, the unbiased squared maximum mean
        discrepancy with an RBF kernel (median heuristic bandwidth) on robustly scaled
        inputs (one-hot categories), with a permutation p-value over
        ``n_permutations`` relabellings; both reported, the p-value as a p-value. With
        fewer than ``min_rows`` current rows the AUC is not judged (inconclusive).
        ``backend: alibi`` runs the MMD test through alibi-detect's ``MMDDrift``
        (PyTorch backend) instead.

    Why it matters:
        A model can face new combinations of familiar values (young customers with high
        incomes, a sensor pair that used to move together) while every column on its
        own looks unchanged. If a classifier can tell production rows from training rows,
        the model is being used somewhere its training data did not cover, and the
        features it leans on say where.

    How to fix:
        Start with the features the domain classifier leans on: compare their joint
        distributions, and find the pipeline change or population change behind them.
        Retrain on data that covers the current population, or reweight the training
        rows by the domain classifier's odds (importance weighting) and re-evaluate.

    References:
        P6.3, P4.7 and P1.1 of the practices; Rabanser, Günnemann & Lipton, NeurIPS 2019
        (domain classifiers and MMD for dataset shift); Gretton et al., "A kernel
        two-sample test", JMLR 13, 2012; Hanley & McNeil, Radiology 143(1), 1982; Mason &
        Graham, "Areas beneath the ROC and ROC curves: statistical significance and
        interpretation", QJRMS 128, 2002; Hosmer & Lemeshow, Applied Logistic
        Regression, 2000; scikit-learn ``HistGradientBoostingClassifier``,
        ``permutation_importance``, ``rbf_kernel``.
    """

    id = "DR002"
    name = "multivariate-drift"
    area = "drift"
    severity = "medium"
    needs = frozenset({"current"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset the current sample is compared with"),
        "max_rows": Param(default=20_000, kind="int", low=50, high=10_000_000, help="rows per side for the domain classifier (balanced, seeded)"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5, help="significance level of the AUC below which the features the classifier leans on are named"),
        "folds": Param(default=5, kind="int", low=2, high=20, help="stratified cross-validation folds of the domain classifier"),
        "max_iter": Param(default=100, kind="int", low=10, high=1000, help="boosting iterations of the domain classifier"),
        "n_repeats": Param(default=5, kind="int", low=1, high=100, help="shuffles per feature in the permutation importance"),
        "mmd_rows": Param(default=1000, kind="int", low=20, high=10_000, help="rows per side for the MMD test"),
        "n_permutations": Param(default=500, kind="int", low=50, high=100_000, help="relabellings in the MMD permutation test"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent levels encoded per categorical column"),
        "min_rows": Param(default=30, kind="int", low=10, high=1_000_000, help="current rows below which the AUC is not judged (inconclusive)"),
        "backend": Param(default="scipy", kind="str", choices=BACKENDS, help="'alibi' runs the MMD test through alibi-detect (pip install auditor[alibi])"),
    }
    thresholds = {
        "domain_auc": Threshold(
            direction="above", warn=0.6, fail=0.7, low=0.5, high=1,
            help="cross-validated ROC AUC of a classifier telling current rows from reference rows",
        )
    }
    practices = ("P6.3", "P4.7", "P1.1")
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Gretton, Borgwardt, Rasch, Schölkopf & Smola, A kernel two-sample test, JMLR 13, 2012",
        "Hanley & McNeil, The meaning and use of the area under a ROC curve, Radiology 143(1), 1982",
        "Mason & Graham, Areas beneath the relative operating characteristics (ROC) and relative operating levels (ROL) curves: statistical significance and interpretation, QJRMS 128, 2002",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance
        from sklearn.model_selection import StratifiedKFold

        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        ref_frame, cur_frame = ctx.frame(reference), ctx.frame("current")
        cols = [c for c in ctx.features if c in ref_frame.columns and c in cur_frame.columns]
        if not cols:
            return _skip(f"the {reference} and current data share no model input column.")
        alibi = _alibi_cd() if params["backend"] == "alibi" else None
        seed = ctx.seed_for(self.id)
        per_side = min(int(params["max_rows"]), len(ref_frame), len(cur_frame))
        ref_idx, ref_rec = ctx.sample_index(reference, per_side, check_id=self.id)
        cur_idx, cur_rec = ctx.sample_index("current", per_side, check_id=self.id)
        sample = combine_samples({reference: ref_rec, "current": cur_rec}, seed)
        folds = int(params["folds"])
        if per_side < max(folds, 2):
            return Findings(
                summary=f"Could not train a domain classifier: {wording.count(per_side, 'row')} per side, at least {max(folds, 2)} are needed.",
                metrics={"domain_auc": Metric(None, description="cross-validated ROC AUC of current vs reference rows")},
                sample=sample,
            )
        ref_rows, cur_rows = ref_frame.iloc[ref_idx], cur_frame.iloc[cur_idx]
        x_ref, x_cur, categorical = _domain_matrix(ref_rows, cur_rows, cols, int(params["max_levels"]))
        X = np.vstack([x_ref, x_cur])
        y = np.r_[np.zeros(len(x_ref), dtype=int), np.ones(len(x_cur), dtype=int)]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed % (2**31))
        fold_scores, fold_labels = [], []
        importance_fold = None

        def classifier():
            return HistGradientBoostingClassifier(
                max_iter=int(params["max_iter"]), learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                early_stopping=False, categorical_features=categorical if categorical.any() else None,
                random_state=seed % (2**31),
            )

        for k, (fit_rows, held_out) in enumerate(splitter.split(X, y)):
            model = classifier().fit(X[fit_rows], y[fit_rows])
            fold_scores.append(model.predict_proba(X[held_out])[:, 1])
            fold_labels.append(y[held_out])
            if k == 0:
                importance_fold = (model, held_out)
        auc, low, high, auc_p = cross_validated_auc(fold_scores, fold_labels)
        model, held_out = importance_fold
        imp = permutation_importance(
            model, X[held_out], y[held_out], scoring="roc_auc", n_repeats=int(params["n_repeats"]),
            random_state=seed % (2**31), n_jobs=1,
        )
        order = np.argsort(-imp.importances_mean, kind="stable")
        leaning = [i for i in order if imp.importances_mean[i] > 0][:MAX_ROWS]

        mmd_rows = min(int(params["mmd_rows"]), per_side)
        rng = ctx.rng(self.id)
        pick_ref = np.sort(rng.permutation(len(ref_rows))[:mmd_rows])
        pick_cur = np.sort(rng.permutation(len(cur_rows))[:mmd_rows])
        z_ref, z_cur = _embedding(ref_rows.iloc[pick_ref], cur_rows.iloc[pick_cur], cols, int(params["max_levels"]))
        if alibi is not None:
            sigma = median_bandwidth(np.vstack([z_ref, z_cur]))
            mmd2, mmd_p = _alibi_mmd(alibi, z_ref, z_cur, sigma=sigma, n_permutations=int(params["n_permutations"]), seed=seed)
        elif mmd_rows >= 2:
            mmd2, mmd_p, sigma = mmd_permutation_test(z_ref, z_cur, n_permutations=int(params["n_permutations"]), random_state=seed)
        else:
            mmd2 = mmd_p = sigma = None

        enough = len(cur_frame) >= int(params["min_rows"])
        evidence = [
            Evidence(
                title="Domain classifier and kernel two-sample test",
                columns=["test", "rows per side", "statistic", "value", "95% interval", "p"],
                rows=[
                    ["domain classifier (cross-validated)", per_side, "ROC AUC", _sig(auc), f"{low:.3f}-{high:.3f}", _sig(auc_p, 3)],
                    ["MMD, RBF kernel" + (" (alibi-detect)" if alibi is not None else ""), mmd_rows, "MMD²", _sig(mmd2), None, _sig(mmd_p, 3)],
                ],
                note=(
                    f"{folds}-fold stratified cross-validation, HistGradientBoostingClassifier with {int(params['max_iter'])} "
                    f"iterations, seed {seed}; AUC: mean over the held-out folds, p from the mean of their one-sided "
                    f"Mann-Whitney z-scores; MMD p from "
                    f"{int(params['n_permutations'])} permutations"
                    + (f", bandwidth σ = {sigma:.3g} (median heuristic)." if sigma is not None else ".")
                ),
            ),
            Evidence(
                title="Features the domain classifier leans on (permutation importance)",
                columns=["feature", "drop in ROC AUC", "sd over shuffles"],
                rows=[[_text(cols[i]), _sig(imp.importances_mean[i]), _sig(imp.importances_std[i])] for i in leaning],
                note=f"On the first held-out fold ({len(held_out):,} rows), {int(params['n_repeats'])} shuffles per feature; "
                     "features whose shuffling costs nothing are left out.",
            ),
        ]
        figures = []
        if leaning:
            shown = leaning[:10]
            figures.append(bar_chart(
                "What tells current rows from reference rows",
                [cols[i] for i in shown], {"drop in ROC AUC": [float(imp.importances_mean[i]) for i in shown]},
                "drop in the domain classifier's ROC AUC when the feature is shuffled",
                "Permutation importance on a held-out fold; longer bars: features whose distribution or relations moved most.",
            ))
        # Importances of a classifier that cannot tell the samples apart are noise: name
        # features only when the AUC is significant, and only those carrying a real share of
        # the top feature's importance.
        strong = [i for i in leaning[:3] if imp.importances_mean[i] >= NAMED_IMPORTANCE * imp.importances_mean[leaning[0]]]
        named = ", ".join(_text(cols[i]) for i in strong) if auc_p < float(params["alpha"]) else ""
        summary = (
            f"A classifier telling {wording.count(per_side, 'current row')} from as many {reference} rows reaches a "
            f"cross-validated ROC AUC of {auc:.3f} [{low:.3f}, {high:.3f}] (Mann-Whitney p = {auc_p:.2g}; 0.5 means "
            "indistinguishable)"
            + (f", leaning most on {named}" if named else "")
            + (f"; the kernel test gives MMD² = {mmd2:.3g} (permutation p = {mmd_p:.2g}) on {mmd_rows:,} rows per side." if mmd2 is not None else ".")
            + ("" if enough else f" Only {wording.count(len(cur_frame), 'current row')}: too few to judge (at least {int(params['min_rows'])}).")
        )
        return Findings(
            summary=summary,
            metrics={
                "domain_auc": Metric(auc if enough else None, low if enough else None, high if enough else None,
                                     description="cross-validated ROC AUC of a classifier telling current rows from reference rows (95% Hanley-McNeil interval)"),
                "domain_auc_p_value": Metric(auc_p, description="one-sided test that the AUC exceeds 0.5 (mean of the folds' Mann-Whitney z-scores)", p_value=True),
                "mmd2": Metric(mmd2, description="unbiased squared MMD, RBF kernel with the median-heuristic bandwidth"),
                "mmd_p_value": Metric(mmd_p, description="permutation p-value of the MMD test", p_value=True),
            },
            evidence=evidence,
            figures=figures,
            recommendation=(
                f"Start with the features the classifier leans on ({named}): compare their joint distributions between "
                f"{reference} and current data and find the pipeline or population change behind them; retrain on data "
                "that covers the current population, or reweight training rows by the classifier's odds."
                if auc > 0.6 and named
                else "Nothing to change; the current rows are hard to tell from the reference rows."
            ),
            sample=sample,
        )


def _alibi_mmd(cd, x_ref: np.ndarray, x_cur: np.ndarray, *, sigma: float, n_permutations: int, seed: int) -> tuple[float, float]:
    """MMD² and permutation p-value from alibi-detect's MMDDrift (PyTorch backend, CPU).

    The Gaussian kernel's bandwidth is passed in, the same σ as the SciPy backend's, so
    that both report the same unbiased MMD² (alibi-detect's own median heuristic uses
    another convention); only the permutations differ.
    """
    try:
        import torch
    except ImportError as exc:
        raise RuntimeError(f"{ALIBI_MISSING}, and its MMD test needs PyTorch (`pip install torch`)") from exc
    torch.manual_seed(seed % (2**31))
    detector = cd.MMDDrift(
        x_ref.astype("float32"), backend="pytorch", p_val=0.05, sigma=np.array([sigma], dtype="float32"),
        configure_kernel_from_x_ref=False, n_permutations=n_permutations, device="cpu",
    )
    data = detector.predict(x_cur.astype("float32"), return_p_val=True, return_distance=True)["data"]
    return float(data["distance"]), float(data["p_val"])


# -- DR003 -----------------------------------------------------------------------------
def _output_problem(ctx: "AuditContext", role: str) -> str | None:
    """Why the model's outputs for a role are not available without calling a model (None when they are)."""
    model = ctx.model
    if model is None or model.can_call:
        return None
    col = getattr(model, "prediction_column", None)
    if col not in ctx.frame(role).columns:
        return f"predictions-only mode: the {role} data has no predictions column {col!r}."
    return None


def _has_scores(ctx: "AuditContext", roles: tuple[str, ...]) -> bool:
    model = ctx.model
    if ctx.task != "binary" or model is None or not model.has_proba:
        return False
    if model.can_call:
        return True
    col = getattr(model, "score_column", None)
    return all(col in ctx.frame(r).columns for r in roles)


def _outputs(ctx: "AuditContext", role: str, kind: str) -> np.ndarray:
    if kind == "score":
        return np.asarray(ctx.scores(role), dtype="float64")
    pred = ctx.predictions(role)
    if kind == "class":
        return _as_text(pd.Series(pred))
    return _as_float(pd.Series(pred))


class PredictionDrift(Check):
    """The model's outputs on current data differ from those on reference data

    What it checks:
        The distribution of the model's outputs on the current sample against the
        reference data (``reference``: test by default, since outputs on training rows
        are in-sample and an overfitted model's are sharper there than on any new
        data). Binary tasks with probabilities: the positive-class score, by the
        two-sample KS test, the PSI over ``bins`` quantile bins of the reference scores,
        the Wasserstein distance (in probability units) and the Jensen-Shannon distance.
        Multiclass tasks (and binary ones without probabilities): the predicted class
        shares, by the chi-squared test of the class-by-dataset counts, PSI and JS.
        Regression: the predicted values, by KS, PSI, JS and the Wasserstein distance in
        reference standard deviations. The same rule as DR001: the judged metric
        ``prediction_shift`` is the PSI when the test's p-value is below ``alpha``, and 0
        when the shift is not significant; it warns above 0.1 and fails above 0.2 (the
        conventional "moderate" and "significant" PSI levels). The raw PSI, the other
        distances and the p-value (fed to the audit-wide correction, not judged) are
        reported. With fewer than ``min_rows`` current rows it is not measured
        (inconclusive). In predictions-only mode the current data must carry the
        predictions column.

    Why it matters:
        A shift in what the model outputs is the first visible sign that it is used on
        another population or that an input broke, and it is measurable without labels.
        A binary model whose scores moved also moves its positive rate at a fixed
        decision threshold: more alerts, more refusals, other costs.

    How to fix:
        Find the inputs behind the shift with DR001 and DR002. If the population really
        changed, check the model on recent labelled data (DR004) and recalibrate or
        retrain; if an input broke, fix the pipeline.

    References:
        P6.3 and P4.7 of the practices; Rabanser, Günnemann & Lipton, NeurIPS 2019
        (black-box shift detection on model outputs); Lipton, Wang & Smola, "Detecting
        and correcting for label shift with black box predictors", ICML 2018; Siddiqi,
        Credit Risk Scorecards, 2006 (PSI); SciPy ``ks_2samp``, ``chi2_contingency``.
    """

    id = "DR003"
    name = "prediction-drift"
    area = "drift"
    severity = "high"
    needs = frozenset({"current", "predictions"})
    params = {
        "reference": Param(default="test", kind="str", choices=REFERENCE_ROLES, help="dataset whose model outputs the current ones are compared with"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5, help="significance level at which a shift counts"),
        "bins": Param(default=10, kind="int", low=2, high=100, help="quantile bins of the reference outputs for the PSI and JS"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent predicted classes kept; the rest pooled"),
        "min_rows": Param(default=30, kind="int", low=1, high=1_000_000, help="current rows below which drift is not judged (inconclusive)"),
    }
    thresholds = {
        "prediction_shift": Threshold(
            direction="above", warn=0.1, fail=0.2, low=0, high=10,
            help="PSI of the model's outputs, current against reference, counted when the shift is significant",
        )
    }
    practices = ("P6.3", "P4.7")
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Lipton, Wang & Smola, Detecting and correcting for label shift with black box predictors, ICML 2018",
        "Siddiqi, Credit Risk Scorecards, Wiley 2006 (population stability index)",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        for role in (reference, "current"):
            if (problem := _output_problem(ctx, role)) is not None:
                return _skip(problem)
        kind = "score" if _has_scores(ctx, (reference, "current")) else ("class" if ctx.is_classification else "value")
        out_ref, out_cur = _outputs(ctx, reference, kind), _outputs(ctx, "current", kind)
        name = {"score": "positive-class score", "class": "predicted class", "value": "predicted value"}[kind]
        if kind == "class":
            c = compare_categorical(name, out_ref, out_cur, max_levels=int(params["max_levels"]))
        else:
            c = compare_numeric(name, out_ref, out_cur, bins=int(params["bins"]), normalise=kind == "value")
        alpha = float(params["alpha"])
        enough = len(out_cur) >= int(params["min_rows"])
        significant = c.p_value is not None and c.p_value < alpha
        shift = (c.psi if significant else 0.0) if enough and c.psi is not None else None
        # The engine judges the size of a significant shift; the figure is not labelled "drifted".
        moved_significantly = bool(significant and shift)
        metrics = {
            "prediction_shift": Metric(shift, description=f"PSI of the {name} when the shift is significant (p < {alpha:g}), else 0"),
            "prediction_psi": Metric(c.psi, description=f"population stability index of the {name}, current against {reference}"),
            "prediction_js": Metric(c.js, description="Jensen-Shannon distance (base 2) of the binned outputs"),
            "test_statistic": Metric(c.statistic, description=f"{c.test} statistic"),
            "p_value": Metric(c.p_value, description=f"{c.test} test of the {name} distributions", p_value=True),
        }
        if kind != "class":
            metrics["prediction_wasserstein"] = Metric(
                c.wasserstein, description="Wasserstein distance of the outputs" + (" in reference standard deviations" if kind == "value" else " (probability units)")
            )
            fr, fc = out_ref[np.isfinite(out_ref)], out_cur[np.isfinite(out_cur)]
            mean_r = float(fr.mean()) if len(fr) else None
            mean_c = float(fc.mean()) if len(fc) else None
            qs = [0.05, 0.25, 0.5, 0.75, 0.95]
            qr = np.quantile(fr, qs) if len(fr) else [None] * len(qs)
            qc = np.quantile(fc, qs) if len(fc) else [None] * len(qs)
            evidence = Evidence(
                title=f"The {name} on {reference} and current data",
                columns=["statistic", reference, "current"],
                rows=[["mean", _sig(mean_r), _sig(mean_c)]] + [[f"{q:.0%} quantile", _sig(a), _sig(b)] for q, a, b in zip(qs, qr, qc)],
                note=f"{c.test}: statistic {_sig(c.statistic)}, p = {_sig(c.p_value, 3)}; PSI {_sig(c.psi)} over {int(params['bins'])} quantile bins of the {reference} outputs.",
            )
            if kind == "score":
                pred_r, pred_c = _as_text(pd.Series(ctx.predictions(reference))), _as_text(pd.Series(ctx.predictions("current")))
                positive = str(ctx.positive_label)
                rate_r, rate_c = float(np.mean(pred_r == positive)), float(np.mean(pred_c == positive))
                metrics["positive_rate_change"] = Metric(rate_c - rate_r, description="share of current rows predicted positive minus that share on the reference")
                evidence.rows.append(["predicted positive share", _sig(rate_r), _sig(rate_c)])
            moved = f"mean {mean_r:.3g} → {mean_c:.3g}" if mean_r is not None and mean_c is not None else ""
        else:
            share_r, share_c = c.counts_reference / c.counts_reference.sum(), c.counts_current / c.counts_current.sum()
            order = np.argsort(-np.abs(share_c - share_r), kind="stable")[:MAX_ROWS]
            evidence = Evidence(
                title=f"Predicted class shares on {reference} and current data (largest changes first)",
                columns=["class", f"{reference} share", "current share", "current − reference"],
                rows=[[_text(c.bins[i]), _sig(share_r[i]), _sig(share_c[i]), _sig(share_c[i] - share_r[i])] for i in order],
                note=f"{c.test}: statistic {_sig(c.statistic)}, p = {_sig(c.p_value, 3)}; Jensen-Shannon distance {_sig(c.js)}.",
            )
            top = order[0] if len(order) else None
            moved = f"largest change {c.bins[top]} {share_r[top]:.1%} → {share_c[top]:.1%}" if top is not None else ""
        values = {name: (out_ref, out_cur)} if kind != "class" else {}
        figure = _distribution_figure(
            [c], values, reference, title=f"The model's {name}, current against {reference}",
            caption="Density of the outputs (0.5-99.5% range)." if kind != "class" else "Shares of the predicted classes.",
        )
        if not enough:
            verdict = f"only {wording.count(len(out_cur), 'current row')}, fewer than the {int(params['min_rows'])} needed to judge drift."
        else:
            verdict = (
                f"PSI {c.psi:.3f}, {c.test} p = {c.p_value:.2g}"
                + (f" ({moved})" if moved else "")
                + (f": statistically significant at α = {alpha:g}." if significant else f": not significant at α = {alpha:g}.")
            ) if c.psi is not None and c.p_value is not None else "the outputs could not be compared."
        summary = f"Compared the model's {name} on {len(out_cur):,} current rows with {len(out_ref):,} {reference} rows: {verdict}"
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[evidence],
            figures=[figure],
            recommendation=(
                "Where the shift is large enough to matter (the judged PSI), find the inputs behind it (DR001, DR002); "
                "if the population changed, check the model on recent labelled data and recalibrate or retrain; if an "
                "input broke, fix the pipeline."
                if moved_significantly
                else "Nothing to change; keep comparing the model's outputs in production with those at evaluation."
            ),
            sample=_full_sample(ctx, (reference, "current"), self.id),
        )


# -- DR004 -----------------------------------------------------------------------------
def scores_and_drop(fn, a_y, a_out, b_y, b_out, *, n_resamples: int, confidence: float, seed: int) -> dict[str, tuple[float, float | None, float | None]]:
    """fn on two independent samples and their difference, each with a percentile bootstrap interval.

    One ``scipy.stats.bootstrap`` run resamples the two samples separately and evaluates
    all three statistics on the same resamples, so the three intervals agree with one
    another and cost two metric evaluations per resample. Intervals are None with fewer
    than 10 rows on a side or where resamples leave the metric undefined.
    """
    import sklearn

    a = float(fn(a_y, a_out))
    b = float(fn(b_y, b_out))
    out: dict[str, tuple[float, float | None, float | None]] = {"a": (a, None, None), "b": (b, None, None), "drop": (a - b, None, None)}
    if min(len(a_y), len(b_y)) < 10:
        return out

    def statistic(i_a, i_b):
        i_a, i_b = i_a.astype(int), i_b.astype(int)
        try:
            sa, sb = float(fn(a_y[i_a], a_out[i_a])), float(fn(b_y[i_b], b_out[i_b]))
        except ValueError:  # a resample with one class has no ROC AUC
            return np.array([np.nan, np.nan, np.nan])
        return np.array([sa, sb, sa - sb])

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        res = stats.bootstrap(
            (np.arange(len(a_y)), np.arange(len(b_y))), statistic, paired=False, vectorized=False,
            n_resamples=n_resamples, confidence_level=confidence, method="percentile",
            random_state=np.random.default_rng(seed),
        )
    for key, low, high in zip(("a", "b", "drop"), res.confidence_interval.low, res.confidence_interval.high):
        if np.isfinite(low) and np.isfinite(high):
            out[key] = (out[key][0], float(low), float(high))
    return out


class LabelDriftAndPerformance(Check):
    """Labels and model performance on labelled current data

    What it checks:
        Where the current sample carries the target: (a) the label distribution against
        the reference data (``reference``: train by default): for classification the
        total variation distance (half the sum of absolute differences of class shares)
        and the chi-squared test of the class-by-dataset counts
        (``scipy.stats.chi2_contingency``), for regression the two-sample KS test and the
        Wasserstein distance in reference standard deviations; reported, not judged
        (a change of class mix is prior shift, which the performance measures below
        weigh). (b) The model's primary metric (balanced accuracy, or R² for
        regression) on the current sample against the test data, on seeded samples of at
        most ``max_rows`` labelled rows each. The metric ``performance_drop`` = test score
        − current score, with a 95% percentile bootstrap interval resampling both
        samples independently (``scipy.stats.bootstrap``, ``n_resamples``); it warns
        above 0.02 and fails above 0.05, and an interval that contains 0.05 reads
        inconclusive. Each score's own interval (from the same resamples) and every task
        metric on both samples are reported. A current sample with fewer than 10
        labelled rows, or (classification) a single class, cannot estimate the metric:
        inconclusive. Note that R² also falls when the current targets vary less, with
        the same errors: read it with the RMSE next to it.

    Why it matters:
        Drift checks on inputs and outputs say the world moved; only labelled recent
        data says whether the model still works. A model that lost five points of
        balanced accuracy since its evaluation is no longer the model that was approved,
        whatever its inputs look like.

    How to fix:
        Retrain on recent labelled data and re-evaluate on a recent holdout; where the
        class mix changed, recalibrate the scores or re-tune the decision threshold for
        the new prior. Keep collecting labels from production for this comparison.

    References:
        P4.7, P6.3 and P7.1 of the practices; Moreno-Torres et al., "A unifying view on
        dataset shift in classification", Pattern Recognition 45(1), 2012; Lipton, Wang &
        Smola, ICML 2018 (label shift); Efron & Tibshirani, An Introduction to the
        Bootstrap, 1993; SciPy ``bootstrap``, ``chi2_contingency``, ``ks_2samp``.
    """

    id = "DR004"
    name = "label-drift-and-performance"
    area = "drift"
    severity = "high"
    needs = frozenset({"current", "current_labels", "predictions"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset whose labels the current labels are compared with"),
        "max_rows": Param(default=20_000, kind="int", low=100, high=10_000_000, help="labelled rows per dataset for the performance comparison (seeded sample)"),
        "n_resamples": Param(default=500, kind="int", low=50, high=100_000, help="bootstrap resamples of the interval of the drop"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
    }
    thresholds = {
        "performance_drop": Threshold(
            direction="above", warn=0.02, fail=0.05, low=-1, high=1,
            help="primary metric on test minus on current (balanced accuracy or R²)",
        )
    }
    practices = ("P4.7", "P6.3", "P7.1")
    references = (
        "Moreno-Torres et al., A unifying view on dataset shift in classification, Pattern Recognition 45(1), 2012",
        "Lipton, Wang & Smola, Detecting and correcting for label shift with black box predictors, ICML 2018",
        "Efron & Tibshirani, An Introduction to the Bootstrap, Chapman & Hall 1993",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.bootstrap.html",
    )

    def run(self, ctx: "AuditContext", params: dict[str, Any]) -> Findings:
        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        if not ctx.has("test") or not ctx.has_labels("test"):
            return _skip("the test data has no target values to compare the current performance with.")
        for role in ("test", "current"):
            if (problem := _output_problem(ctx, role)) is not None:
                return _skip(problem)
        seed = ctx.seed_for(self.id)
        confidence = float(params["confidence"])
        metrics: dict[str, Metric] = {}
        evidence: list[Evidence] = []
        label_text = self._label_drift(ctx, reference, metrics, evidence)

        idx_t, rec_t = ctx.sample_index("test", int(params["max_rows"]), check_id=self.id)
        idx_c, rec_c = ctx.sample_index("current", int(params["max_rows"]), check_id=self.id)
        sample = combine_samples({"test": rec_t, "current": rec_c}, seed)
        test, cur = model_outputs(ctx, "test", idx_t), model_outputs(ctx, "current", idx_c)
        primary = primary_metric(ctx.task)
        pretty = primary.replace("_", " ")
        description = f"{pretty} on test minus on current ({confidence:.0%} bootstrap interval)"
        problem = evaluation_problem(test) or evaluation_problem(cur)
        if problem is not None:
            metrics["performance_drop"] = Metric(None, description=description)
            return Findings(
                summary=f"Could not compare the model's performance: {problem}. {label_text}",
                metrics=metrics, evidence=evidence, sample=sample,
            )
        fn = test.scorer(primary)
        spec = next(s for s in test.specs() if s.name == primary)
        out_t, out_c = test.output_for(spec), cur.output_for(spec)
        n_res = int(params["n_resamples"])
        scored = scores_and_drop(fn, test.y, out_t, cur.y, out_c, n_resamples=n_res, confidence=confidence, seed=seed)
        (s_t, lo_t, hi_t), (s_c, lo_c, hi_c), (drop, low, high) = scored["a"], scored["b"], scored["drop"]
        metrics["performance_drop"] = Metric(drop, low, high, description=description)
        metrics["test_score"] = Metric(s_t, lo_t, hi_t, description=f"{pretty} on the test data")
        metrics["current_score"] = Metric(s_c, lo_c, hi_c, description=f"{pretty} on the current data")
        rows = []
        for s in test.specs():
            try:
                a, b = test.score(s.name), cur.score(s.name)
            except ValueError:  # undefined on one side (one class for ROC AUC)
                continue
            rows.append([s.name.replace("_", " "), _sig(a), _sig(b), _sig(a - b), "higher" if s.higher_is_better else "lower"])
        evidence.insert(0, Evidence(
            title="The model's scores on test and current data",
            columns=["metric", "test", "current", "test − current", "better when"],
            rows=rows,
            note=f"{len(test):,} labelled test rows and {len(cur):,} labelled current rows; primary metric {pretty}.",
        ))
        figure = interval_chart(
            f"{pretty.capitalize()} on test and current data",
            [("test", s_t, lo_t, hi_t), ("current", s_c, lo_c, hi_c)],
            pretty, f"Point estimates with {confidence:.0%} bootstrap intervals ({n_res} resamples).",
        )
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None else ""
        summary = (
            f"The model's {pretty} is {s_t:.3f} on {len(test):,} test rows and {s_c:.3f} on {len(cur):,} labelled current "
            f"rows: a drop of {drop:+.3f}{interval}. {label_text}"
        )
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=evidence,
            figures=[figure],
            recommendation=(
                "Retrain on recent labelled data and re-evaluate on a recent holdout; where the class mix changed, "
                "recalibrate the scores or re-tune the decision threshold for the new prior."
                if drop > 0.02 or (low is not None and low > 0)
                else "Nothing to change; keep collecting labels from production to repeat this comparison."
            ),
            sample=sample,
        )

    def _label_drift(self, ctx: "AuditContext", reference: str, metrics: dict[str, Metric], evidence: list[Evidence]) -> str:
        """Compare the reference and current labels; fill metrics and evidence; return a sentence."""
        y_ref, y_cur = ctx.y(reference), ctx.y("current")
        if y_ref is None or not y_ref.notna().any():
            return f"The {reference} data has no labels to compare the current labels with."
        y_ref, y_cur = y_ref.dropna(), y_cur.dropna()
        if ctx.task == "regression":
            c = compare_numeric("target", _as_float(y_ref), _as_float(y_cur), bins=10)
            metrics["label_ks_statistic"] = Metric(c.statistic, description=f"KS statistic of the target, current against {reference}")
            metrics["label_wasserstein"] = Metric(c.wasserstein, description="Wasserstein distance of the target in reference standard deviations")
            metrics["label_p_value"] = Metric(c.p_value, description="two-sample KS test of the target", p_value=True)
            qs = [0.05, 0.25, 0.5, 0.75, 0.95]
            fr, fc = _as_float(y_ref), _as_float(y_cur)
            fr, fc = fr[np.isfinite(fr)], fc[np.isfinite(fc)]
            if len(fr) and len(fc):
                evidence.append(Evidence(
                    title=f"Target quantiles on {reference} and current data",
                    columns=["quantile", reference, "current"],
                    rows=[[f"{q:.0%}", _sig(a), _sig(b)] for q, a, b in zip(qs, np.quantile(fr, qs), np.quantile(fc, qs))],
                ))
            if c.statistic is None:
                return "The target could not be compared."
            return f"The target's KS statistic against {reference} is {c.statistic:.3f} (p = {c.p_value:.2g})."
        ref_text, cur_text = _as_text(y_ref), _as_text(y_cur)
        classes = [str(v) for v in (ctx.classes or [])]
        seen = list(dict.fromkeys(classes + sorted(set(ref_text) | set(cur_text))))
        a = np.array([np.sum(ref_text == v) for v in seen], dtype="float64")
        b = np.array([np.sum(cur_text == v) for v in seen], dtype="float64")
        keep = (a + b) > 0
        seen, a, b = [s for s, k in zip(seen, keep) if k], a[keep], b[keep]
        share_a, share_b = a / a.sum(), b / b.sum()
        tvd = 0.5 * float(np.abs(share_a - share_b).sum())
        stat, p = _chi2(np.vstack([a, b]))
        metrics["label_tvd"] = Metric(tvd, description=f"total variation distance of the class shares, current against {reference}")
        metrics["label_p_value"] = Metric(p, description="chi-squared test of the class-by-dataset counts", p_value=True)
        order = np.argsort(-np.abs(share_b - share_a), kind="stable")[:MAX_ROWS]
        evidence.append(Evidence(
            title=f"Class shares on {reference} and current data (largest changes first)",
            columns=["class", f"{reference} share", "current share", "current − reference"],
            rows=[[_text(seen[i]), _sig(share_a[i]), _sig(share_b[i]), _sig(share_b[i] - share_a[i])] for i in order],
            note=f"Chi-squared {stat:.3g}, p = {p:.2g}.",
        ))
        return f"The class shares differ from {reference} by a total variation distance of {tvd:.3f} (chi-squared p = {p:.2g})."


CHECKS: tuple[type[Check], ...] = (FeatureDrift, MultivariateDrift, PredictionDrift, LabelDriftAndPerformance)
