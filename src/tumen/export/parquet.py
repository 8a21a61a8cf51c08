"""Parquet export: any store table, streamed batch by batch (bounded memory).

Times stay UTC (timestamp[us] without zone, as stored); Parquet keeps every column's type.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tumen.export import register
from tumen.store.backend import Backend

BATCH_ROWS = 500_000


@register(
    "parquet", suffixes=(".parquet", ".pq"), description="Apache Parquet (zstd), every column typed"
)
def write_parquet(store: Backend, table: str, out: Path, settings: object = None) -> int:
    """Write ``table`` to ``out`` as Parquet; returns the rows written."""
    n = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in store.query_batches(f'SELECT * FROM "{table}"', batch_rows=BATCH_ROWS):
            if writer is None:
                writer = pq.ParquetWriter(out, batch.schema, compression="zstd")
            writer.write_batch(batch)
            n += batch.num_rows
        if writer is None:  # empty table: still write its schema
            empty = store.query(f'SELECT * FROM "{table}" LIMIT 0')
            pq.write_table(empty, out, compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    return n
