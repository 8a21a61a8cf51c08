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

from tumen.store.dialect import Dialect


@runtime_checkable
class Backend(Protocol):
    """What tumen needs from a store.

    All times are UTC.  Table and column names are those of ``schema.sql``.

    ``dialect`` (:class:`~tumen.store.dialect.Dialect`) spells the few SQL constructs that differ
    between engines; every statement the detectors run is built with it.
    """

    dialect: Dialect

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

    def materialise(
        self,
        name: str,
        query: str | pa.Table,
        params: Sequence[Any] | None = None,
        *,
        append: bool = False,
    ) -> None:
        """Compute ``query`` (a SELECT, or an Arrow table) NOW and make the result readable as the
        temporary table ``name`` for the rest of the session.

        Never a lazy view: ``query`` may read ``name`` itself (the pointer-jumping rounds replace a
        table by a query over it), and later statements see the rows as they were computed.
        ``append=True`` adds the rows to the table ``name`` made by an earlier call (same columns,
        in the same order).  DuckDB: ``CREATE OR REPLACE TEMP TABLE name AS query`` /
        ``INSERT INTO name query``; Spark: compute and checkpoint, then register a temporary view.
        """
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
