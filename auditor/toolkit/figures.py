"""Figures as plain SVG text: deterministic, self-contained, no pyplot global state.

Checks draw with matplotlib's object API and hand the figure to :func:`to_svg`; the
result is a :class:`~auditor.contract.results.Figure` that any renderer can embed.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from auditor.contract.results import Figure
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

MAX_LABEL = 40


def label(value: Any, limit: int = MAX_LABEL) -> str:
    """A data value as a figure label: shortened, and never read as mathtext."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height))


def to_svg(fig, *, title: str, caption: str = "") -> Figure:
    """Serialise a matplotlib figure to SVG text that is identical from run to run."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "auditor", "svg.fonttype": "none"}), warnings.catch_warnings():
        # Glyphs the default font lacks (CJK column names) only affect layout estimates.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        # The tight bounding box from the artists' extents, as bbox_inches="tight" finds it,
        # but without the throwaway SVG drawing that option makes first (a fifth of the cost).
        tight = fig.get_tightbbox(FigureCanvasAgg(fig).get_renderer())
        fig.savefig(buf, format="svg", metadata={"Date": None},
                    bbox_inches=tight.padded(matplotlib.rcParams["savefig.pad_inches"]))
    return Figure(title=title, svg=buf.getvalue(), caption=caption)


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]], xlabel: str, caption: str) -> Figure:
    """A grouped horizontal bar chart, one bar group per label."""
    fig = new_figure(7.0, 0.32 * len(labels) * max(1, len(series)) ** 0.5 + 1.4)
    ax = fig.add_subplot()
    positions = np.arange(len(labels))
    height = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.barh(positions + i * height, values, height=height, label=label(name))
    ax.set_yticks(positions + height * (len(series) - 1) / 2, labels=[label(s) for s in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, max(1e-9, max((max(v) for v in series.values() if v), default=0)) * 1.1)
    if len(series) > 1:
        ax.legend(loc="lower right")
    return to_svg(fig, title=title, caption=caption)


def interval_chart(
    title: str,
    rows: list[tuple[str, float, float | None, float | None]],
    xlabel: str,
    caption: str,
    *,
    reference: float | None = None,
    reference_label: str = "",
) -> Figure:
    """Point estimates with their confidence intervals, one row per estimate; an optional
    vertical reference line (a margin, a threshold)."""
    fig = new_figure(7.0, 0.4 * len(rows) + 1.2)
    ax = fig.add_subplot()
    if reference is not None:
        ax.axvline(reference, color="#b03a2e", linestyle="--", linewidth=1, label=label(reference_label) or None)
        if reference_label:
            ax.legend(loc="lower right", fontsize=8, frameon=False)
    for i, (_name, est, low, high) in enumerate(rows):
        if low is not None and high is not None:
            ax.plot([low, high], [i, i], color="#3b5b92", linewidth=2.5, solid_capstyle="butt")
        ax.plot([est], [i], "o", color="#1d2b44", markersize=5)
    ax.set_yticks(range(len(rows)), labels=[label(r[0]) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return to_svg(fig, title=title, caption=caption)


def paired_dot_chart(title: str, rows: list[tuple[str, float, float]], names: tuple[str, str], xlabel: str, caption: str) -> Figure:
    """Two estimates per row (for example train and test), joined by a line."""
    fig = new_figure(6.5, 0.45 * len(rows) + 1.3)
    ax = fig.add_subplot()
    for i, (_, a, b) in enumerate(rows):
        ax.plot([a, b], [i, i], color="#b8c2d1", linewidth=2, zorder=1)
    ax.scatter([r[1] for r in rows], range(len(rows)), color="#3b5b92", label=names[0], zorder=2, s=28)
    ax.scatter([r[2] for r in rows], range(len(rows)), color="#c0652b", label=names[1], zorder=2, s=28, marker="s")
    ax.set_yticks(range(len(rows)), labels=[label(r[0]) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncol=2, bbox_to_anchor=(0, 1.0))
    return to_svg(fig, title=title, caption=caption)


def importance_panels(title: str, labels: list[str], panels: list[dict[str, Any]], *, caption: str) -> Figure:
    """Side-by-side panels sharing one row per label: in each, a point estimate with its interval.

    Each panel is ``{"name", "xlabel", "values", "low", "high"}`` (lists in ``labels``' order);
    used for feature importance measured several ways.
    """
    width = 3.6 * len(panels) + 1.6
    fig = new_figure(width, 0.32 * len(labels) + 1.5)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    positions = np.arange(len(labels))
    for ax, panel in zip(axes, panels):
        values = np.asarray(panel["values"], dtype=float)
        low = np.asarray(panel["low"], dtype=float)
        high = np.asarray(panel["high"], dtype=float)
        ax.hlines(positions, low, high, color="#3b5b92", linewidth=2.5)
        ax.plot(values, positions, "o", color="#1d2b44", markersize=4.5)
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.set_title(label(panel["name"]), fontsize=10)
        ax.set_xlabel(label(panel["xlabel"], 60), fontsize=9)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].set_yticks(positions, labels=[label(s) for s in labels])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return to_svg(fig, title=title, caption=caption)


def dendrogram_chart(title: str, linkage: np.ndarray, labels: list[str], *, cut: float, xlabel: str, caption: str) -> Figure:
    """A horizontal dendrogram (scipy.cluster.hierarchy) with a dashed line where clusters are cut."""
    from scipy.cluster.hierarchy import dendrogram

    fig = new_figure(6.5, 0.3 * len(labels) + 1.3)
    ax = fig.add_subplot()
    dendrogram(linkage, labels=[label(s) for s in labels], orientation="left", ax=ax,
               color_threshold=cut, above_threshold_color="#8a96a8", leaf_font_size=9)
    ax.axvline(cut, color="#b03a2e", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    return to_svg(fig, title=title, caption=caption)


def degradation_curve(
    title: str,
    budgets: list[float],
    series: dict[str, list[float | None]],
    xlabel: str,
    ylabel: str,
    caption: str,
    *,
    marker_at: float | None = None,
) -> Figure:
    """A score against growing perturbation budgets, one line per series (clean, attacks);
    an optional dotted vertical line at the judged budget."""
    fig = new_figure(6.5, 3.4)
    ax = fig.add_subplot()
    styles = ["o-", "s--", "^-.", "d:"]
    for i, (name, values) in enumerate(series.items()):
        ax.plot(budgets, [np.nan if v is None else v for v in values], styles[i % len(styles)],
                label=label(name), markersize=4)
    if marker_at is not None:
        ax.axvline(marker_at, color="#777777", linestyle=":", linewidth=1)
    ax.set_xlabel(label(xlabel, 60))
    ax.set_ylabel(label(ylabel, 60))
    ax.set_ylim(-0.02, 1.02)
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return to_svg(fig, title=title, caption=caption)
