"""The report as PDF: the same HTML, laid out for A4 paper by WeasyPrint.

WeasyPrint (https://weasyprint.org) renders HTML and CSS Paged Media
(``@page`` margins, page counters, page breaks) to PDF.  The report embeds every
image as a ``data:`` URI; the URL fetcher below refuses anything else, so
making the PDF never touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tumen.errors import BackendUnavailable


def _offline_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and refuses every other URL."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint >= 66
        return urls.URLFetcher(allowed_protocols={"data"})

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # older WeasyPrint: a plain function
        if not url.startswith("data:"):
            raise ValueError(f"the report may not fetch {url!r}: everything must be embedded")
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def write_pdf(html: str, path: str | Path) -> Path:
    """Render ``html`` (a self-contained report) to the PDF file ``path``.

    Raises
    ------
    BackendUnavailable
        WeasyPrint or its system libraries (Pango) are missing.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango/cairo libraries missing
        raise BackendUnavailable(
            f"WeasyPrint cannot load ({exc}); install it with its system libraries "
            "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0) or set report.pdf = false"
        ) from None
    out = Path(path)
    HTML(string=html, url_fetcher=_offline_fetcher(), base_url=None).write_pdf(out)
    return out
