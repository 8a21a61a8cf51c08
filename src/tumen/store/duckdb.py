"""The embedded default store: one DuckDB file (``./tumen.duckdb``).

Everything DuckDB-specific lives in this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tumen.errors import DiskFull, Interrupted, StoreError, TumenError
from tumen.store.dialect import DUCKDB, Dialect

SCHEMA_VERSION = "1"

log = logging.getLogger(__name__)

#: DuckDB's words for "the disk is full" (ENOSPC), in any error class it raises
_NO_SPACE = "No space left on device"
_QUOTED_PATH = re.compile(r'file "([^"]+)"')


def _path_in(message: str, default: str) -> str:
    """The file a DuckDB error message names (``… file "PATH" …``), else ``default``."""
    m = _QUOTED_PATH.search(message)
    return m.group(1) if m else default


def open_error(path: str, exc: Exception, *, read_only: bool) -> TumenError:
    """What went wrong opening the store at ``path``, as one line saying what to do.

    Tells apart, from DuckDB's message: a lock held by another process, permission
    denied (or a read-only file system), a file that is not a DuckDB database, a folder,
    a missing parent folder, a full disk.  Anything else keeps DuckDB's own words.
    """
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = re.search(r"\(PID (\d+)\)", text)
        who = f"process {pid.group(1)}" if pid else "another process"
        return StoreError(
            f"{path}: the store is in use by {who} (another tumen command writing to it?); "
            "wait for it to finish, or stop it, and run again"
        )
    if "Permission denied" in text or "Read-only file system" in text:
        what = "read" if read_only else "write to"
        why = "the file system is read-only" if "Read-only" in text else "permission denied"
        return StoreError(
            f"{path}: cannot {what} the store ({why}); make the file and its folder "
            f"{'readable' if read_only else 'writable'} for you, or copy the store to a folder "
            "you can write and give --db COPY"
        )
    if "not a valid DuckDB database" in text:
        return StoreError(
            f"{path}: not a DuckDB database (the file holds something else); give --db a "
            "tumen store, or a new file name to start one"
        )
    if "Is a directory" in text:
        return StoreError(f"{path}: is a folder; give --db a file name, e.g. {path}/tumen.duckdb")
    if "No such file or directory" in text:
        return StoreError(
            f"{path}: folder {Path(path).parent} does not exist; create it or choose another --db"
        )
    if _NO_SPACE in text:
        return DiskFull(f"no space left on device writing {path}; free some space and run again")
    return StoreError(f"{path}: cannot open the store ({text})")


def translate_error(exc: BaseException) -> TumenError | None:
    """The tumen error a DuckDB error stands for, or ``None`` if it is no known condition.

    ``No space left on device`` (in whatever DuckDB error class) becomes
    :class:`~tumen.errors.DiskFull`; DuckDB's answer to Ctrl-C during a query
    (``RuntimeError: Query interrupted``, or :class:`duckdb.InterruptException`) becomes
    :class:`~tumen.errors.Interrupted`; permission denied while writing becomes a
    :class:`~tumen.errors.StoreError`.
    """
    text = str(exc)
    if isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "Query interrupted" in text
    ):
        return Interrupted("interrupted")
    if not isinstance(exc, duckdb.Error):
        return None
    if _NO_SPACE in text:
        return DiskFull(f"no space left on device writing {_path_in(text, 'the store')}")
    if "Permission denied" in text or "Read-only file system" in text:
        return StoreError(
            f"{_path_in(text, 'the store')}: cannot write (permission denied); make the store's "
            "file and folder writable for you, or copy it to a folder you can write and give --db"
        )
    return None


def schema_sql() -> str:
    """The DDL of every core table (``store/schema.sql``)."""
    return resources.files("tumen.store").joinpath("schema.sql").read_text(encoding="utf-8")


class DuckDBStore:
    """A tumen store in a DuckDB file (or in memory with ``":memory:"``).

    Parameters
    ----------
    path:
        The database file; created with the full schema if it does not exist.
    read_only:
        Open without write access (several readers may share a file); the file must exist.
    create:
        Create the file when it does not exist (``False``: a missing file is a
        :class:`~tumen.errors.StoreError`, for commands that read what ingest wrote).
    memory_limit:
        DuckDB memory limit, e.g. ``"1GB"``; spills to disk beyond it.
    threads:
        Worker threads; ``None`` lets DuckDB use every core.

    Examples
    --------
    >>> store = DuckDBStore(":memory:")
    >>> store.query("select count(*) as n from positions").column("n").to_pylist()
    [0]
    """

    #: DuckDB's SQL spellings (:mod:`tumen.store.dialect`).
    dialect: Dialect = DUCKDB

    def __init__(
        self,
        path: str | Path = "tumen.duckdb",
        *,
        read_only: bool = False,
        create: bool = True,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = str(path)
        if (read_only or not create) and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreError(f"{self.path}: no such store; run `tumen ingest` first, or give --db")
        config: dict[str, Any] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        existed = self.path == ":memory:" or Path(self.path).exists()
        try:
            self.con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise open_error(self.path, exc, read_only=read_only) from None
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            try:
                self.con.execute(schema_sql())
                self.con.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
                )
            except duckdb.Error as exc:
                self.con.close()
                raise open_error(self.path, exc, read_only=read_only) from None
        log.info(
            "store %s opened %s%s",
            self.path,
            "read-only" if read_only else "for writing",
            "" if existed else " (new)",
        )
        self._in_tx = False

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection, path: str | Path) -> DuckDBStore:
        """A store over an open connection (e.g. a cursor of a shared read-only connection).

        The caller owns ``con``'s database; :meth:`close` closes only ``con``.
        """
        store = cls.__new__(cls)
        store.path = str(path)
        store.con = con
        store.con.execute("SET TimeZone = 'UTC'")
        store._in_tx = False
        return store

    # -- Backend protocol ---------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        result = self.con.execute(sql, params or [])
        if hasattr(result, "to_arrow_table"):  # duckdb >= 1.4
            return result.to_arrow_table()
        return result.fetch_arrow_table()

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, batch_rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        result = self.con.execute(sql, params or [])
        if hasattr(result, "to_arrow_reader"):  # duckdb >= 1.4
            reader = result.to_arrow_reader(batch_rows)
        else:
            reader = result.fetch_record_batch(batch_rows)
        yield from reader

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params or [])

    def materialise(
        self,
        name: str,
        query: str | pa.Table,
        params: Sequence[Any] | None = None,
        *,
        append: bool = False,
    ) -> None:
        """``CREATE OR REPLACE TEMP TABLE name AS query`` (``append``: ``INSERT INTO name query``);
        an Arrow table is copied in (see :meth:`tumen.store.backend.Backend.materialise`)."""
        if isinstance(query, pa.Table):
            reader = pa.RecordBatchReader.from_batches(query.schema, query.to_batches())
            self.con.register("_tumen_materialise", reader)
            try:
                self.materialise(name, "SELECT * FROM _tumen_materialise", append=append)
            finally:
                self.con.unregister("_tumen_materialise")
            return
        if append:
            self.con.execute(f"INSERT INTO {name} {query}", params or [])
        else:
            self.con.execute(self.dialect.temp_table(name, query), params or [])

    def append(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        # Handed over as a stream: DuckDB then copies the rows.  A registered Table would be
        # scanned zero-copy and kept alive until the transaction ends (unbounded memory when
        # a long transaction appends batch after batch, as ingest does).
        reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
        self.con.register("_tumen_append", reader)
        try:
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            self.con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM _tumen_append')
        finally:
            self.con.unregister("_tumen_append")

    def replace(self, table: str, data: pa.Table) -> None:
        with self.transaction():
            self.con.execute(f'DELETE FROM "{table}"')
            self.append(table, data)

    def table_exists(self, table: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        return bool(row and row[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:  # nested: the outer block decides
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._stop_running_query()
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._in_tx = False

    @contextmanager
    def bulk_appends(self) -> Iterator[None]:
        """While ingest appends, DuckDB works with one thread and at most 128 MiB of cache.

        The second core is busy reading the next batch; DuckDB's own worker threads would only
        compete with it (measured: half the CPU per appended row with one thread).  The cache
        limit keeps the process's memory bounded however large the file (written blocks are
        on disk and can be dropped).  Both settings are restored afterwards.
        """
        threads = self.scalar("SELECT current_setting('threads')")
        limit = self.scalar("SELECT current_setting('memory_limit')")
        self.execute("SET threads = 1")
        self.execute("SET memory_limit = '128MiB'")
        try:
            yield
        finally:
            self.execute(f"SET threads = {int(threads)}")
            self.execute(f"SET memory_limit = '{limit}'")

    def close(self) -> None:
        self.con.close()

    # -- conveniences ------------------------------------------------------
    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """First column of the first row (``None`` if no row)."""
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    def export_parquet(self, table_or_sql: str, out: str | Path) -> int:
        """Write a table (or a SELECT) to a Parquet file; returns the row count."""
        src = (
            table_or_sql
            if table_or_sql.lstrip().lower().startswith("select")
            else f'SELECT * FROM "{table_or_sql}"'
        )
        self.con.execute(f"COPY ({src}) TO '{Path(out).as_posix()}' (FORMAT PARQUET)")
        return int(self.scalar(f"SELECT count(*) FROM ({src})"))

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self._stop_running_query()
        self.close()

    def _stop_running_query(self) -> None:
        """Stop what DuckDB may still be running after an exception (e.g. Ctrl-C).

        When Ctrl-C interrupts a query, DuckDB's Python client raises at once, but its
        worker threads can go on with the query; the next statement (``ROLLBACK``) or
        ``close()`` then waits for them to finish, which for a long query looks like a
        hang.  :meth:`duckdb.DuckDBPyConnection.interrupt` stops them first.
        """
        self.con.interrupt()
