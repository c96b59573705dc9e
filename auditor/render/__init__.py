"""Renderers: every format is drawn from the JSON-ready report dict, nothing else.

``render(report, fmt)`` returns one format; ``write_reports(report, out_dir, formats)``
renders every requested format first and only then writes the files, each atomically,
so a renderer's error leaves the output folder as it was.

The renderer modules (and Jinja2, WeasyPrint) are imported only when a format is
drawn: importing this package must stay cheap because the CLI imports it for
``FORMATS``. The small presentation helpers the renderers share live in ``auditor.render.common``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditor.render.common import (  # noqa: F401  (the shared helpers, re-exported for callers)
    STATUS_LABELS,
    area_label,
    blocking_ids,
    checks_by_area,
    dataset_paths,
    format_cell,
    format_number,
    is_percent_name,
    is_waived,
    ordered_areas,
    sample_text,
    skip_reason,
    waiver_text,
)

FORMATS: tuple[str, ...] = ("html", "pdf", "json", "junit", "sarif", "md")

FILENAMES: dict[str, str] = {
    "json": "report.json",
    "html": "report.html",
    "pdf": "report.pdf",
    "junit": "junit.xml",
    "sarif": "report.sarif",
    "md": "summary.md",
}

UNKNOWN_FORMAT = "The 'fmt' parameter of render must be one of {formats}. Got {got!r} instead."


def render(report: dict[str, Any], fmt: str) -> str | bytes:
    """Draw ``report`` in format ``fmt`` (one of ``FORMATS``); PDF is bytes, the rest text."""
    if fmt == "json":
        return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "html":
        from auditor.render.html import render_html

        return render_html(report)
    if fmt == "pdf":
        from auditor.render.pdf import render_pdf

        return render_pdf(report)
    if fmt == "junit":
        from auditor.render.junit import render_junit

        return render_junit(report)
    if fmt == "sarif":
        from auditor.render.sarif import render_sarif

        return render_sarif(report)
    if fmt == "md":
        from auditor.render.markdown import render_markdown

        return render_markdown(report)
    raise ValueError(UNKNOWN_FORMAT.format(formats=list(FORMATS), got=fmt))


def write_reports(report: dict[str, Any], out_dir: str | Path, formats: Iterable[str]) -> dict[str, Path]:
    """Render each of ``formats`` and write it into ``out_dir`` under ``FILENAMES[fmt]``.

    Every format is rendered before any file is written: if one renderer fails,
    nothing in ``out_dir`` changes. Returns ``{fmt: path}`` in the order asked.
    """
    from auditor.util.fileio import ensure_writable_dir, write_atomic

    wanted = list(dict.fromkeys(formats))
    for fmt in wanted:
        if fmt not in FORMATS:
            raise ValueError(UNKNOWN_FORMAT.format(formats=list(FORMATS), got=fmt))
    rendered = {fmt: render(report, fmt) for fmt in wanted}
    folder = ensure_writable_dir(out_dir)
    written: dict[str, Path] = {}
    for fmt, payload in rendered.items():
        path = folder / FILENAMES[fmt]
        write_atomic(path, payload)
        written[fmt] = path
    return written
