"""The PDF report: the HTML report laid out for A4 by WeasyPrint.

WeasyPrint is imported here, inside the function, because it is slow to import and
most runs never draw a PDF. The fetcher it is given only resolves ``data:`` URLs, so
a figure in a hand-edited report.json cannot make the renderer read local files or
reach the network.
"""

from __future__ import annotations

import logging
from typing import Any

from auditor.render.html import _render

_NOISY_LOGGERS = ("weasyprint", "fontTools")


def render_pdf(report: dict[str, Any]) -> bytes:
    """The HTML report as PDF bytes (A4, page numbers, the title in the running header)."""
    html = _render(report, media="print")
    previous = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=["data"])
        document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
        return document.write_pdf()
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
