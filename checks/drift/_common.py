"""What the drift checks share: reading columns, comparing two distributions, drawing them.

The distances and tests between a reference and a current sample (PSI, Jensen-Shannon,
KS with the Wasserstein distance, chi-squared over pooled levels) that DR001, DR003 and
DR004 apply, the figure DR001 and DR003 draw, and the guards and records every drift
check uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor.contract.context import combine_samples
from auditor.contract.results import MAX_EVIDENCE_ROWS, Figure
from auditor.contract.results import skipped as _skip  # noqa: F401  (the family's name for it)
from auditor.toolkit.figures import label, new_figure, to_svg
from auditor.util.lazy import lazy_attribute, lazy_module
from auditor.util.wording import shorten as _text

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")
stats = lazy_module("scipy.stats")
jensenshannon = lazy_attribute("scipy.spatial.distance", "jensenshannon")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

#: The message of the RuntimeError raised when the alibi backend is selected but not installed.
ALIBI_MISSING = "the alibi backend needs `pip install auditor[alibi]`"
REFERENCE_ROLES: tuple[str, ...] = ("train", "test")
BACKENDS: tuple[str, ...] = ("scipy", "alibi")
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
MAX_ROWS = MAX_EVIDENCE_ROWS
MAX_TEXT = 40
FIGURE_LEVELS = 8
HIST_BINS = 30
REFERENCE_COLOUR = "#3b5b92"
CURRENT_COLOUR = "#c0652b"


# -- shared helpers ------------------------------------------------------------------


def _roles_problem(ctx: AuditContext, reference: str) -> str | None:
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


def _full_sample(ctx: AuditContext, roles: tuple[str, ...], check_id: str) -> dict[str, Any]:
    """The ``sample`` record of a check that reads every row of the given roles."""
    seed = ctx.seed_for(check_id)
    records = {
        role: {"role": role, "rows_used": len(ctx.frame(role)), "rows_available": ctx.rows_available(role), "seed": seed}
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


# -- model outputs (DR003, DR004) -----------------------------------------------------
def _output_problem(ctx: AuditContext, role: str) -> str | None:
    """Why the model's outputs for a role are not available without calling a model (None when they are)."""
    model = ctx.model
    if model is None or model.can_call:
        return None
    col = getattr(model, "prediction_column", None)
    if col not in ctx.frame(role).columns:
        return f"predictions-only mode: the {role} data has no predictions column {col!r}."
    return None
