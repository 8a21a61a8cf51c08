"""Reports: one self-contained HTML file and the same as PDF, with maps and timelines.

- :mod:`tumen.report.dossier`: what the report says, read from the store.
- :mod:`tumen.report.maps`, :mod:`tumen.report.timeline`: the figures (SVG), over
  coastlines from :mod:`tumen.report.coast`.
- :mod:`tumen.report.html`: :func:`write_report` and the Jinja2 templates in ``templates/``.
- :mod:`tumen.report.pdf`: the PDF through WeasyPrint.
"""

from __future__ import annotations

from tumen.report.html import write_report

__all__ = ["write_report"]
