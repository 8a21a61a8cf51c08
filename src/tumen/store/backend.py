"""The small interface every layer uses to reach the store.

Detectors, screening, risk and reports see only this protocol, never DuckDB
itself, so that the same definitions can later run on another engine (Spark).
A backend runs SQL and moves Apache Arrow tables in and out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class Backend(Protocol):
    """What tumen needs from a store.

    All times are UTC.  Table and column names are those of ``schema.sql``.
    """

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a read query and return the result as an Arrow table."""
        ...

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, batch_rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """Run a read query and stream the result in Arrow record batches (bounded memory)."""
        ...

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT … SELECT, DELETE)."""
        ...

    def append(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table to ``table`` (columns matched by name)."""
        ...

    def replace(self, table: str, data: pa.Table) -> None:
        """Replace the contents of ``table`` with ``data``."""
        ...

    def table_exists(self, table: str) -> bool:
        """Whether ``table`` exists."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing block: commits on success, rolls back on any exception."""
        ...

    def bulk_appends(self) -> AbstractContextManager[None]:
        """A block of many appends from one thread (ingest): the backend may trade its own
        parallelism and cache for bounded memory meanwhile; its settings are restored after."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
