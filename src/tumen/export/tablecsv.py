"""CSV export of any store table: a header row, UTF-8, times as ISO 8601 UTC (format ``csv``).

The findings CSV (events and risk with provenance columns) is :mod:`tumen.export.evidence_csv`
(format ``csv-evidence``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv

from tumen.export import register
from tumen.store.backend import Backend

BATCH_ROWS = 500_000


@register("csv", suffixes=(".csv",), description="comma-separated values with a header row")
def write_table_csv(store: Backend, table: str, out: Path, settings: object = None) -> int:
    """Write ``table`` to ``out`` as CSV; returns the rows written."""
    n = 0
    writer: pacsv.CSVWriter | None = None
    try:
        for batch in store.query_batches(f'SELECT * FROM "{table}"', batch_rows=BATCH_ROWS):
            if writer is None:
                writer = pacsv.CSVWriter(out, batch.schema)
            writer.write_batch(batch)
            n += batch.num_rows
        if writer is None:
            empty = store.query(f'SELECT * FROM "{table}" LIMIT 0')
            pacsv.write_csv(empty, out)
    finally:
        if writer is not None:
            writer.close()
    return n
