"""The Parquet layout: what detection reads, as Hive-style day partitions (for Spark and friends).

``tumen export --format parquet --partition-by day --out DIR`` writes::

    DIR/positions/day=2024-03-01/part-0.parquet     every positions row, partitioned by UTC day of ts
    DIR/positions/day=__HIVE_DEFAULT_PARTITION__/…  rows without a time (kept: nothing is lost)
    DIR/statics/day=…/part-0.parquet                every statics row, likewise
    DIR/sources/part-0.parquet                      the ingested files: path, SHA-256, size, format
    DIR/_tumen_layout.json                          what was written: tables, rows, store, version

Every column of the store is kept, provenance included (``source_id``, ``line_no``,
``line_first`` → ``sources.path`` / ``sha256``), so events detected from the layout anywhere
(``tumen detect --engine spark --parquet DIR``) still cite file, SHA-256 and line.  Times are UTC
``timestamp[us]`` without zone, as stored; ``day`` is the UTC calendar day (``YYYY-MM-DD``).

The rows are streamed from the store in Arrow batches (bounded memory).  Spark, DuckDB
(``read_parquet('DIR/positions/*/*.parquet', hive_partitioning = true)``), polars and pyarrow read
the layout as it is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from tumen.errors import InputError, OutputError
from tumen.provenance import tumen_version, utc_now
from tumen.store.backend import Backend

#: table → its time column (partitioned by that column's UTC day; ``None``: not partitioned)
LAYOUT: dict[str, str | None] = {"positions": "ts", "statics": "ts", "sources": None}
PARTITIONS = ("day",)
MANIFEST = "_tumen_layout.json"
BATCH_ROWS = 500_000


def write_layout(
    store: Backend,
    out: str | Path,
    *,
    partition_by: str = "day",
    tables: tuple[str, ...] | None = None,
) -> dict[str, int]:
    """Write the Parquet layout of ``store`` to the folder ``out``; returns rows written per table.

    ``out`` must not exist or be an empty folder (an earlier layout there is refused rather than
    mixed with the new one).  The layout appears under a temporary name and is renamed when
    complete.

    Raises
    ------
    InputError
        An unknown ``partition_by`` or table.
    OutputError
        ``out`` is a file or a folder that is not empty.
    """
    if partition_by not in PARTITIONS:
        raise InputError(
            f"cannot partition by {partition_by!r}; choose one of: {', '.join(PARTITIONS)}"
        )
    chosen = tables or tuple(LAYOUT)
    unknown = [t for t in chosen if t not in LAYOUT]
    if unknown:
        raise InputError(
            f"no partitioned layout for {', '.join(unknown)}; choose among {', '.join(LAYOUT)} "
            "(or leave the table out for all of them)"
        )
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(
            "exists and is not an empty folder; --partition-by writes a folder, give a new one", out
        )
    if not out.parent.exists():
        raise InputError(
            f"folder {out.parent} does not exist; create it or choose another --out", out
        )
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    counts: dict[str, int] = {}
    try:
        for table in chosen:
            counts[table] = _write_table(store, table, LAYOUT[table], partial / table)
        manifest: dict[str, Any] = {
            "layout": "tumen-parquet-1",
            "partition_by": partition_by,
            "tables": counts,
            "store": str(getattr(store, "path", "")),
            "tumen_version": tumen_version(),
            "written_at": utc_now().isoformat() + "Z",
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return counts


def _write_table(store: Backend, table: str, time_col: str | None, folder: Path) -> int:
    if time_col is None:
        sql = f'SELECT * FROM "{table}"'
    else:
        sql = f'SELECT *, CAST(CAST("{time_col}" AS DATE) AS VARCHAR) AS day FROM "{table}"'
    schema = store.query(sql + " LIMIT 0").schema
    schema = _plain_schema(schema)
    n = 0

    def batches() -> Any:
        nonlocal n
        for batch in store.query_batches(sql, batch_rows=BATCH_ROWS):
            n += batch.num_rows
            yield from pa.Table.from_batches([batch]).cast(schema).to_batches()

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    partitioning = (
        ds.partitioning(pa.schema([("day", pa.string())]), flavor="hive") if time_col else None
    )
    ds.write_dataset(
        reader,
        folder,
        format="parquet",
        partitioning=partitioning,
        basename_template="part-{i}.parquet",
        existing_data_behavior="error",
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        max_rows_per_group=BATCH_ROWS,
    )
    if n == 0 and not any(folder.rglob("*.parquet")):
        folder.mkdir(parents=True, exist_ok=True)  # keep the columns: one empty file
        import pyarrow.parquet as pq

        empty = schema.empty_table()
        pq.write_table(
            empty.drop_columns(["day"]) if time_col else empty, folder / "part-0.parquet"
        )
    return n


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """Dictionary columns (DuckDB ENUMs such as ``positions.class``) as plain strings."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in schema
        ]
    )
