"""The DuckDB store: schema, Arrow in/out, transactions and Parquet export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tumen.errors import StoreError
from tumen.store import Backend, DuckDBStore


def _positions(n: int, start_id: int = 1) -> pa.Table:
    return pa.table(
        {
            "pos_id": list(range(start_id, start_id + n)),
            "mmsi": [273456780] * n,
            "ts": [datetime(2024, 1, 10, 10, i) for i in range(n)],
            "lat": [42.24] * n,
            "lon": [130.30] * n,
            "source_id": [1] * n,
            "line_no": list(range(1, n + 1)),
            "line_first": list(range(1, n + 1)),
        }
    )


def test_store_implements_backend(store: DuckDBStore) -> None:
    assert isinstance(store, Backend)
    for table in ("sources", "positions", "statics", "quarantine", "events"):
        assert store.table_exists(table)


def test_append_and_query_roundtrip(store: DuckDBStore) -> None:
    store.append("positions", _positions(5))
    got = store.query("select pos_id, mmsi, lat from positions order by pos_id")
    assert got.column("pos_id").to_pylist() == [1, 2, 3, 4, 5]
    assert set(got.column("mmsi").to_pylist()) == {273456780}


def test_transaction_rolls_back_on_error(store: DuckDBStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.append("positions", _positions(3))
        raise RuntimeError("boom")
    assert store.scalar("select count(*) from positions") == 0


def test_export_parquet(store: DuckDBStore, tmp_path: Path) -> None:
    store.append("positions", _positions(4))
    out = tmp_path / "positions.parquet"
    assert store.export_parquet("positions", out) == 4
    assert pq.read_table(out).num_rows == 4


def test_read_only_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        DuckDBStore(tmp_path / "absent.duckdb", read_only=True)
