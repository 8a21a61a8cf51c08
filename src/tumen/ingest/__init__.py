"""Reading AIS data into the store: NMEA 0183 captures and CSV exports, nothing lost.

The entry point is :func:`ingest_paths`::

    from tumen.config import Settings
    from tumen.store import open_store
    from tumen.ingest import ingest_paths

    report = ingest_paths(open_store("tumen.duckdb"), ["capture.nmea.gz"], Settings())
    assert report.lines == report.stored + report.duplicates + report.quarantined

Modules, in the order data flows through them:

``files``       find, recognise (sniff) and read input files in line batches
``scan``        numpy kernels over byte buffers (find, count, parse digits, XOR checksums)
``tagblock``    NMEA 4.10 tag blocks (time ``c:``, station ``s:``, group ``g:``)
``nmea``        lines → sentences → assembled messages (vectorised; a slow path for odd lines)
``csv``         NOAA MarineCadastre, DMA and ``--columns`` CSV layouts
``decode``      vectorised AIS payload decoding (types 1-5, 9, 11, 18, 19, 21, 24, 27)
``records``     decoded fields → rows of ``positions``, ``statics``, ``messages``
``dedupe``      duplicate messages within a batch and against the store
``quarantine``  the vocabulary of quarantine reasons and the line-accounting rules
``batch``       prepare a batch, commit it (dedupe, append, count lines)
``pipeline``    ``ingest_paths``: one transaction per file, reports
``workers``     the reading process used for large files
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tumen.ingest.pipeline import FileReport, IngestReport, ingest_paths

__all__ = ["FileReport", "IngestReport", "ingest_paths"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that the reading process (tumen.ingest.workers) starts light
    if name in __all__:
        from tumen.ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'tumen.ingest' has no attribute {name!r}")
