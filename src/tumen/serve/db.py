"""Reading the store while another process writes it.

DuckDB lets one process hold a database file for writing, or any number of
processes hold it read-only — never both at once (a read-only open takes a
shared lock on the file, a writer an exclusive one).  ``tumen ingest`` and
``tumen watch`` write in short transactions and close the file between
micro-batches.  So the server holds the file only while it answers:

* the first request to arrive opens the file read-only; requests that arrive
  while it is open share that connection (each through its own cursor); when
  the last of them finishes, the file stays open ``linger_s`` (0.25 s) for the
  next request, then it is closed and a writer finds it free;
* a shared connection is not joined once it is ``hold_s`` (2 s) old: new
  requests wait until the ones in flight finish; the file is then closed for
  ``writer_gap_s`` (30 ms) and reopened, so that a writer retrying for the lock
  gets in under continuous load, and readers see what it committed (a read-only
  connection sees the file as it was when opened — while it is open no writer
  can change it);
* when the open fails because a writer holds the lock, it is retried with a
  short back-off for up to ``serve.lock_wait_s`` seconds; if the writer still
  holds it, the request ends with :class:`StoreBusy`, which the app answers
  with ``503 Service Unavailable``, a JSON error and ``Retry-After``.

Why not keep one connection open for the server's life: the writer could then
never open the file.  Why not open the file for every request: opening costs
15–25 ms on a 2-core machine (DuckDB starts a database instance), a fifth of
the latency budget of an API call; sharing it among requests in flight costs
nothing.  What is expensive to build from the store (the screening index) is
cached by the file's modification time and size (:meth:`StoreGate.version`).

Answers given again: an API answer that depends only on the store and the URL is
kept, serialised, for the state of the file it was read from (:meth:`StoreGate.keep_raw`),
and the same URL asked again in the same state is answered from memory before any
routing or validation (:class:`tumen.serve.app.Guard`, after the token and host
checks) — without opening the file, so a waiting writer is not held up by it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from tumen.errors import StoreError
from tumen.store import DuckDBStore

T = TypeVar("T")


class StoreBusy(StoreError):
    """A writer held the store longer than ``serve.lock_wait_s``; try again later."""

    def __init__(self, path: str, waited_s: float) -> None:
        self.waited_s = waited_s
        super().__init__(
            f"{path}: a writer (tumen ingest or watch) holds the store; waited {waited_s:.1f} s, "
            "try again in a moment"
        )


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


class ServedStore(DuckDBStore):
    """The store as a request sees it: :class:`DuckDBStore` over a cursor of the shared read-only
    connection, whose :meth:`table_exists` answers from the names of the file's tables, read once
    per state of the file (an ``information_schema`` query costs 2–3 ms of CPU, and a page asks it
    several times); a name not among them is looked up as before (e.g. a temporary table)."""

    tables: frozenset[str] = frozenset()

    def table_exists(self, table: str) -> bool:
        return table in self.tables or super().table_exists(table)


def _table_names(store: DuckDBStore) -> frozenset[str]:
    """Names of the tables and views of the store file (not temporary ones)."""
    rows = store.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def _size(value: Any) -> int:
    """Bytes of a kept answer when it is serialised (others are counted as nothing)."""
    return len(value) if isinstance(value, bytes | bytearray) else 0


class StoreGate:
    """Read-only access to one store file, held only while requests are in flight.

    Parameters
    ----------
    path:
        The DuckDB file (must exist).
    lock_wait_s:
        Longest wait for a writer to release the file (seconds); then :class:`StoreBusy`.
    hold_s:
        Age after which a shared connection takes no new requests: they wait until the
        requests in flight finish, the file is closed for ``writer_gap_s`` and reopened
        (seconds).
    linger_s:
        How long the file stays open after the last request finished, for the next one
        (a page fetches several endpoints in a row; opening costs 15–25 ms) (seconds).
    writer_gap_s:
        Pause between closing a connection that reached ``hold_s`` and reopening it, so
        that a writer retrying for the lock gets in (seconds).
    answers:
        Answers kept by :meth:`answer` (the most recently used; 0 keeps none) (count).

    Examples
    --------
    >>> gate = StoreGate("tumen.duckdb")                      # doctest: +SKIP
    >>> with gate.open() as store:                            # doctest: +SKIP
    ...     store.scalar("SELECT count(*) FROM events")
    """

    def __init__(
        self,
        path: str | Path,
        lock_wait_s: float = 2.0,
        hold_s: float = 2.0,
        linger_s: float = 0.25,
        writer_gap_s: float = 0.03,
        answers: int = 512,
    ) -> None:
        self.path = Path(path)
        self.lock_wait_s = lock_wait_s
        self.hold_s = hold_s
        self.linger_s = linger_s
        self.writer_gap_s = writer_gap_s
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no such store; run `tumen ingest` first, or give --db")
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._idle_since = 0.0
        self._users = 0
        self._draining = False
        self._gap_until = 0.0
        #: how many times the file was opened (for tests and the benchmark)
        self.opens = 0
        self._memo: dict[str, tuple[tuple[int, ...], Any]] = {}
        self._memo_lock = threading.Lock()
        self._uses: dict[str, tuple[tuple[int, ...], int]] = {}
        self.answers = answers
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        #: answers given from the cache / computed (for tests and the benchmark)
        self.answer_hits = 0
        self.answer_misses = 0
        self._raw: OrderedDict[tuple[str, bytes], tuple[tuple[int, ...], list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self._raw_bytes = 0
        self._answers_bytes = 0
        self._wal = Path(str(self.path) + ".wal")

    def memo(self, name: str, build: Callable[[DuckDBStore], T], store: DuckDBStore) -> T:
        """``build(store)``, computed once per state of the file (:meth:`version`) and kept.

        Call inside :meth:`open`: while the file is open no writer can change it, so the
        version read then is the state ``store`` sees.  Two requests may build at once after a
        change (both answers are the same); the last one is kept.
        """
        key = self.version()
        with self._memo_lock:
            hit = self._memo.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]  # type: ignore[no-any-return]
        value = build(store)
        with self._memo_lock:
            self._memo[name] = (key, value)
        return value

    def peek(self, name: str) -> Any:
        """What :meth:`memo` keeps under ``name`` for the current state of the file, else ``None``
        (builds nothing)."""
        key = self.version()
        with self._memo_lock:
            hit = self._memo.get(name)
        return hit[1] if hit is not None and hit[0] == key else None

    def memo_after(self, name: str, uses: int, build: Callable[[DuckDBStore], T], store: DuckDBStore) -> T | None:
        """:meth:`memo` once the current state of the file has been asked for ``name`` more than
        ``uses`` times, ``None`` before (the caller then reads what it needs itself).

        For what costs many requests' worth to build: a state that a writer replaces after a few
        requests (``tumen watch`` commits every few seconds) never pays for it.
        """
        key = self.version()
        with self._memo_lock:
            hit = self._memo.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]  # type: ignore[no-any-return]
            count = self._uses.get(name)
            n = count[1] + 1 if count is not None and count[0] == key else 1
            self._uses[name] = (key, n)
        if n <= uses:
            return None
        return self.memo(name, build, store)

    def answer(
        self, key: tuple[Any, ...], build: Callable[[], T], keep: Callable[[T], bool] | None = None
    ) -> T:
        """``build()`` — an API answer that depends only on the store and ``key`` (the endpoint and
        its parameters) — kept for the same state of the file (:meth:`version`), at most
        ``answers`` of them, the least recently used dropped first.

        Call inside :meth:`open`.  A writer's commit changes the version, so no answer outlives
        the state it was read from; the caller must not change what it gets (it is shared).
        ``keep(answer)`` false: the answer is not kept (e.g. too large to hold).
        """
        if self.answers <= 0:
            return build()
        full = (self.version(), *key)
        with self._memo_lock:
            if full in self._answers:
                self._answers.move_to_end(full)
                self.answer_hits += 1
                return self._answers[full]  # type: ignore[no-any-return]
        value = build()
        with self._memo_lock:
            self.answer_misses += 1
            if keep is not None and not keep(value):
                return value
            old = self._answers.pop(full, None)
            self._answers_bytes += _size(value) - _size(old)
            self._answers[full] = value
            while len(self._answers) > self.answers or self._answers_bytes > self.KEPT_MAX_BYTES:
                self._answers_bytes -= _size(self._answers.popitem(last=False)[1])
        return value

    def version(self) -> tuple[int, ...]:
        """(modification time in ns, size in bytes) of the file and of its write-ahead log
        (``FILE.wal``, 0 and 0 when there is none): changes when a writer committed (DuckDB
        commits to the log; the file changes at a checkpoint, e.g. when the writer closes)."""
        st = os.stat(self.path)
        try:
            wal = os.stat(self._wal)
        except FileNotFoundError:
            return st.st_mtime_ns, st.st_size, 0, 0
        return st.st_mtime_ns, st.st_size, wal.st_mtime_ns, wal.st_size

    #: serialised answers larger than this are not kept for :meth:`kept_raw` (bytes)
    RAW_MAX_BYTES = 4 * 1024 * 1024
    #: the answers kept by :meth:`answer` (serialised ones), and those kept by :meth:`keep_raw`,
    #: take at most this much memory each, the least recently used dropped first (bytes)
    KEPT_MAX_BYTES = 128 * 1024 * 1024

    def keep_raw(
        self, path: str, query: bytes, version: tuple[int, ...], headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        """Keep a ``200`` answer to ``GET path?query`` as sent (headers and body), read from the
        store in state ``version``; at most ``answers`` of them, the least recently used dropped."""
        if self.answers <= 0 or len(body) > self.RAW_MAX_BYTES:
            return
        with self._memo_lock:
            old = self._raw.pop((path, query), None)
            if old is not None:
                self._raw_bytes -= len(old[2])
            self._raw[(path, query)] = (version, headers, body)
            self._raw_bytes += len(body)
            while len(self._raw) > self.answers or self._raw_bytes > self.KEPT_MAX_BYTES:
                self._raw_bytes -= len(self._raw.popitem(last=False)[1][2])

    def kept_raw(self, path: str, query: bytes) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The answer kept by :meth:`keep_raw` for ``GET path?query``, if the file is still in the
        state it was read from (:meth:`version`), else ``None``."""
        if self.answers <= 0:
            return None
        key = (path, query)
        with self._memo_lock:
            hit = self._raw.get(key)
        if hit is None:
            return None
        if hit[0] != self.version():
            with self._memo_lock:
                if self._raw.get(key) is hit:
                    del self._raw[key]
                    self._raw_bytes -= len(hit[2])
            return None
        with self._memo_lock:
            self.answer_hits += 1
            if key in self._raw:
                self._raw.move_to_end(key)
        return hit[1], hit[2]

    def _connect(self) -> duckdb.DuckDBPyConnection:
        started = time.monotonic()
        delay = 0.005
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=True)
                self.opens += 1
                return con
            except duckdb.IOException as exc:
                if not _is_lock_conflict(exc):
                    raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
                waited = time.monotonic() - started
                if waited >= self.lock_wait_s:
                    raise StoreBusy(str(self.path), waited) from None
                time.sleep(min(delay, max(self.lock_wait_s - waited, 0.001)))
                delay = min(delay * 2, 0.1)

    def _close_locked(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._draining = False
        self._cond.notify_all()

    def _acquire(self) -> duckdb.DuckDBPyConnection:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._con is not None and not self._draining:
                    if now - self._opened < self.hold_s:
                        self._users += 1
                        return self._con.cursor()
                    if self._users == 0:  # old and idle: close now, then reopen after the gap
                        self._close_locked()
                        self._gap_until = now + self.writer_gap_s
                        continue
                    self._draining = True
                if self._con is None:
                    if now < self._gap_until:
                        self._cond.wait(self._gap_until - now)
                        continue
                    break
                # wait for the requests in flight (not a writer: this wait is not lock_wait_s)
                self._cond.wait(1.0)
            # nobody holds the file: open it (other requests wait on the condition meanwhile)
            con = self._connect()
            self._con, self._opened, self._users, self._draining = con, time.monotonic(), 1, False
            return con.cursor()

    def _release(self) -> None:
        with self._cond:
            self._users -= 1
            if self._users > 0 or self._con is None:
                return
            if self._draining:
                self._close_locked()
                self._gap_until = time.monotonic() + self.writer_gap_s
                return
            self._idle_since = time.monotonic()
            con = self._con
        timer = threading.Timer(self.linger_s, self._close_if_idle, args=(con,))
        timer.daemon = True
        timer.start()

    def _close_if_idle(self, con: duckdb.DuckDBPyConnection) -> None:
        with self._cond:
            if (
                self._con is con
                and self._users == 0
                and time.monotonic() - self._idle_since >= self.linger_s * 0.99
            ):
                self._close_locked()

    def close(self) -> None:
        """Close the file now (waits for nothing: call when no request is in flight)."""
        with self._cond:
            if self._users == 0:
                self._close_locked()

    @contextmanager
    def open(self) -> Iterator[DuckDBStore]:
        """The store, read-only, for the length of the ``with`` block.

        Raises
        ------
        StoreBusy
            A writer held the file for longer than ``lock_wait_s``.
        """
        cursor = self._acquire()
        try:
            store = cast(ServedStore, ServedStore.over(cursor, self.path))
            store.tables = self.memo("tables", _table_names, store)
            yield store
        finally:
            try:
                cursor.close()
            finally:
                self._release()
