"""Live inputs of ``tumen watch``: one iterator of lines per source (after pyais ``stream.py``).

Every feed runs a reader thread and hands the loop *items* ``(line, position, received, ts)``:

``line``      the raw bytes, without the line end;
``position``  where to resume *after* this line (JSON-able; checkpointed with the rows that
              hold the line, in the same transaction, see :mod:`tumen.watch.loop`);
``received``  wall-clock receipt, seconds since 1970 UTC;
``ts``        the line's data time (seconds since 1970 UTC) when the feed needs it (replay), else None.

Feeds:

:class:`ReplayFeed`   ``--replay FILE --speed X``: a recorded file at X times real time, by the
                      receive times of its lines (tag block ``c:`` or logger prefix); position = byte offset.
:class:`FollowFeed`   ``--follow FILE``: tail a growing log, across rotation (a new file at the
                      path) and truncation; position = (inode, byte offset).
:class:`JournalFeed`  network and stdin sources (``--tcp``, ``--udp``, ``--listen-tcp``, ``-``):
                      a receiver thread appends every line to a journal file on disk (the spool)
                      *before* handing it on, so a line read is never lost; position = journal offset.

Unlike pyais' ``stream.py``, nothing is skipped: every line read becomes an item (a bad line is
quarantined by ingest, with its reason).
"""

from __future__ import annotations

import abc
import collections
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tumen.errors import InputError

#: (line, position after it, wall receipt s, data time s or None)
Item = tuple[bytes, Any, float, float | None]

#: items held in memory per feed before its reader waits (file feeds) or spills to disk (network)
MEMORY_LINES = 200_000

_TAG_TIME = re.compile(rb"^\\[^\\]*?\bc:(\d{9,13})")


def line_time(line: bytes, tz: str = "UTC") -> float | None:
    """Receive time of an NMEA line (seconds since 1970 UTC): its tag block ``c:`` or its logger prefix.

    The same sources, in the same order, as ingest (:mod:`tumen.ingest.nmea`), less the rare
    trailing epoch field; None when the line carries no time.
    """
    m = _TAG_TIME.match(line)
    if m:
        digits = m.group(1)
        v = int(digits)
        return v / 1000.0 if len(digits) >= 12 else float(v)
    bang = line.find(b"!")
    if bang > 0 and not line.startswith(b"\\"):
        from tumen.ingest.nmea import prefix_time

        us, _bad = prefix_time(line[:bang], tz)
        if us is not None:
            return us / 1e6
    return None


class Feed(abc.ABC):
    """Base of every feed: a deque filled by a reader thread, drained by :meth:`poll`."""

    kind = "feed"

    def __init__(self, key: str, address: str) -> None:
        self.key = key  # file-system safe, unique per source
        self.address = address
        self._items: collections.deque[Item] = collections.deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wake: threading.Event | None = None  # set when items arrive (the loop waits on it)
        self.finished = False  # no more lines will come (replay / stdin at EOF)
        self.notices: collections.deque[str] = collections.deque()  # stderr messages for the loop
        self.received = 0

    # -- reader side ------------------------------------------------------------
    def _push(self, item: Item, *, wait: bool = True) -> None:
        with self._room:
            while wait and len(self._items) >= MEMORY_LINES and not self._stop.is_set():
                self._room.wait(0.5)
            self._items.append(item)
            self.received += 1
        if self.wake is not None:
            self.wake.set()

    def _say(self, text: str) -> None:
        self.notices.append(text)
        if self.wake is not None:
            self.wake.set()

    @abc.abstractmethod
    def _run(self) -> None:
        """Read the source until stopped, handing each line to :meth:`record` (the feed's thread)."""

    # -- loop side --------------------------------------------------------------
    def start(self, position: Any, wake: threading.Event) -> None:
        """Start reading after ``position`` (None: from the beginning)."""
        self.wake = wake
        self._position = position
        self._thread = threading.Thread(
            target=self._guard, name=f"tumen-watch-{self.key}", daemon=True
        )
        self._thread.start()

    def _guard(self) -> None:
        try:
            self._run()
        except OSError as exc:
            self._say(f"{self.address}: {exc.strerror or exc}; this feed stopped")
            self.finished = True
            if self.wake is not None:
                self.wake.set()

    def pending(self) -> int:
        return len(self._items)

    def poll(self, limit: int) -> list[Item]:
        """Take up to ``limit`` items (never blocks)."""
        out: list[Item] = []
        with self._room:
            while self._items and len(out) < limit:
                out.append(self._items.popleft())
            self._room.notify_all()
        return out

    def drained(self) -> bool:
        """No item waits and none will come."""
        return self.finished and not self._items

    def stop(self) -> None:
        self._stop.set()
        with self._room:
            self._room.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "feed"


class ReplayFeed(Feed):
    """A recorded NMEA file fed at ``speed`` times real time by its lines' receive times.

    ``speed`` 0 feeds as fast as the store takes it.  Lines without a time follow the previous
    line at once.  ``.gz`` files are read decompressed (a resumed replay then re-reads up to
    its offset).
    """

    kind = "replay"

    def __init__(self, path: Path, speed: float, tz: str = "UTC") -> None:
        if not path.is_file():
            raise InputError("no such file; check the path", path)
        super().__init__(f"replay-{_slug(path.name)}", str(path.resolve()))
        self.path = path
        self.speed = speed
        self.tz = tz

    def _run(self) -> None:
        from tumen.ingest.files import open_bytes

        offset = int(self._position or 0)
        with open_bytes(self.path) as fh:
            if offset:
                _skip(fh, offset)
            t0: float | None = None
            w0 = time.monotonic()
            last_ts: float | None = None
            for raw in iter(fh.readline, b""):
                if self._stop.is_set():
                    return
                offset += len(raw)
                line = raw.rstrip(b"\r\n")
                ts = line_time(line, self.tz)
                if ts is None:
                    ts = last_ts
                last_ts = ts
                if ts is not None and self.speed > 0:
                    if t0 is None:
                        t0, w0 = ts, time.monotonic()
                    delay = w0 + (ts - t0) / self.speed - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                self._push((line, offset, time.time(), ts))
        self.finished = True
        if self.wake is not None:
            self.wake.set()


def _skip(fh: IO[bytes], n: int) -> None:
    try:
        fh.seek(n)
    except (OSError, ValueError):  # pragma: no cover - gzip seeks forward by reading
        while n > 0:
            chunk = fh.read(min(n, 1 << 20))
            if not chunk:
                break
            n -= len(chunk)


class FollowFeed(Feed):
    """Tail a growing file (``tail -F``): new lines as they are written, across rotation.

    Rotation: when the path names a new file (another inode), the rest of the old file is read,
    then the new one from its start.  Truncation (``copytruncate``): read again from the start.
    A resumed watch continues at the checkpointed offset when the path still names the same
    inode; otherwise it starts the file now at the path from its beginning (lines written to
    the old file after the checkpoint, while watch was stopped, are then not read).
    """

    kind = "follow"
    #: how often the end of the file is looked at again (seconds; files have no push signal)
    POLL_S = 0.1

    def __init__(self, path: Path) -> None:
        super().__init__(f"follow-{_slug(path.name)}", str(path.resolve()))
        self.path = path

    def _open(self, saved: Any) -> tuple[IO[bytes], int, int] | None:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open while tailing
        except FileNotFoundError:
            return None
        ino = os.fstat(fh.fileno()).st_ino
        offset = 0
        if isinstance(saved, list | tuple) and len(saved) == 2 and saved[0] == ino:
            offset = int(saved[1])
            if offset > os.fstat(fh.fileno()).st_size:
                offset = 0
            fh.seek(offset)
        return fh, ino, offset

    def _run(self) -> None:
        opened = None
        while opened is None:
            opened = self._open(self._position)
            if opened is None and self._stop.wait(self.POLL_S):
                return
        fh, ino, offset = opened
        partial = b""
        try:
            while not self._stop.is_set():
                raw = fh.readline()
                if raw:
                    if not raw.endswith(b"\n"):
                        partial += raw  # the writer is mid-line: wait for the rest
                        offset += len(raw)
                        continue
                    offset += len(raw)
                    self._push(((partial + raw).rstrip(b"\r\n"), [ino, offset], time.time(), None))
                    partial = b""
                    continue
                try:
                    st = os.stat(self.path)
                except FileNotFoundError:
                    st = None
                if st is not None and st.st_ino != ino:  # rotated: old file read to its end
                    if partial:
                        self._push((partial.rstrip(b"\r\n"), [ino, offset], time.time(), None))
                        partial = b""
                    fh.close()
                    fh = open(self.path, "rb")  # noqa: SIM115 - kept open while tailing
                    ino, offset = os.fstat(fh.fileno()).st_ino, 0
                    self._say(f"{self.address}: rotated; reading the new file")
                    continue
                if st is not None and st.st_size < offset:  # truncated in place
                    fh.seek(0)
                    offset, partial = 0, b""
                    self._say(f"{self.address}: truncated; reading from its start")
                    continue
                self._stop.wait(self.POLL_S)
        finally:
            fh.close()


class JournalFeed(Feed):
    """A network or stdin source: every line received is appended to a journal file first.

    The journal (``<spool>/<key>/journal.nmea``) holds the lines as received; bare sentences
    (starting with ``!``) get the receive time as a logger prefix (``1709510448.123,!AIVDM...``)
    so that ingest can time them.  Position = the journal offset after the line; on restart the
    journal's lines after the checkpoint are read first.  When the loop falls behind by more
    than :data:`MEMORY_LINES` lines, new lines stay only in the journal and are read back from
    it (backpressure: buffered on disk, never dropped).
    """

    kind = "journal"

    def __init__(
        self, key: str, address: str, spool: Path, receiver: Callable[[JournalFeed], None]
    ) -> None:
        super().__init__(key, address)
        self.dir = spool / key
        self.journal = self.dir / "journal.nmea"
        self._receiver = receiver
        self._size = 0
        self._spill_from: int | None = None
        self._jh: IO[bytes] | None = None

    def start(self, position: Any, wake: threading.Event) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        size = self.journal.stat().st_size if self.journal.exists() else 0
        offset = int(position or 0)
        if offset >= size and size:  # everything consumed: start an empty journal
            with open(self.journal, "wb"):
                pass
            size = 0
        if offset > size:  # truncated after a full consumption, before the checkpoint said so
            offset = 0
        self._size = size
        self._jh = open(self.journal, "ab")  # noqa: SIM115 - closed in stop()
        if offset < size:
            self._spill_from = offset  # read the journal's tail first
        super().start(position, wake)
        if self._spill_from is not None:
            wake.set()

    def _run(self) -> None:
        self._receiver(self)

    def record(self, line: bytes, received: float | None = None) -> None:
        """Called by the receiver for every line: journal it, then hand it on."""
        now = time.time() if received is None else received
        if line.startswith(b"!"):
            line = b"%.3f," % now + line
        assert self._jh is not None
        with self._room:
            self._jh.write(line + b"\n")
            self._jh.flush()
            self._size += len(line) + 1
            self.received += 1
            if self._spill_from is None and len(self._items) >= MEMORY_LINES:
                self._spill_from = self._size - len(line) - 1
            if self._spill_from is None:
                self._items.append((line, self._size, now, None))
        if self.wake is not None:
            self.wake.set()

    def pending(self) -> int:
        with self._room:
            spilled = 0 if self._spill_from is None else 1
            return len(self._items) + spilled

    def lag_bytes(self) -> int:
        with self._room:
            return 0 if self._spill_from is None else self._size - self._spill_from

    def poll(self, limit: int) -> list[Item]:
        out = super().poll(limit)
        if len(out) >= limit:
            return out
        with self._room:
            start = self._spill_from
            end = self._size
        if start is None:
            return out
        with open(self.journal, "rb") as fh:
            fh.seek(start)
            pos = start
            while len(out) < limit and pos < end:
                raw = fh.readline()
                if not raw.endswith(b"\n"):
                    break
                pos += len(raw)
                out.append((raw.rstrip(b"\r\n"), pos, time.time(), None))
        with self._room:
            self._spill_from = None if pos >= self._size else pos
        return out

    def drained(self) -> bool:
        return self.finished and not self._items and self._spill_from is None

    def stop(self) -> None:
        super().stop()
        if self._jh is not None:
            with self._room:
                self._jh.close()
            self._jh = None


def _lines_of(buffer: bytearray) -> list[bytes]:
    """Cut the complete lines off the front of ``buffer`` (CR, LF or CRLF ends; blank lines dropped)."""
    out = []
    while True:
        i = buffer.find(b"\n")
        if i < 0:
            break
        line = bytes(buffer[:i]).rstrip(b"\r")
        del buffer[: i + 1]
        out.append(line)
    return out


def _pump(feed: JournalFeed, sock: socket.socket) -> str | None:
    """Record the lines a stream socket delivers until it closes or ``feed`` stops; close it.

    A last line cut by the drop is kept (ingest quarantines it if damaged).  Returns the
    error that ended the connection, or None when the peer closed it or the feed stopped.
    """
    buf = bytearray()
    reason = None
    sock.settimeout(0.5)
    try:
        while not feed._stop.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                reason = exc.strerror or str(exc)
                break
            if not chunk:
                break
            buf += chunk
            for line in _lines_of(buf):
                feed.record(line)
    finally:
        sock.close()
    if buf:
        feed.record(bytes(buf).rstrip(b"\r"))
    return reason


def _host_port(text: str, flag: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InputError(f"{flag} {text!r}: give HOST:PORT, e.g. 127.0.0.1:10110")
    return host.strip("[]"), int(port)


def tcp_feed(text: str, spool: Path, reconnect_max_s: float) -> JournalFeed:
    """``--tcp HOST:PORT``: connect to an NMEA server; reconnect with doubling back-off when it drops."""
    host, port = _host_port(text, "--tcp")

    def receive(feed: JournalFeed) -> None:
        delay = 0.5
        while not feed._stop.is_set():
            try:
                sock = socket.create_connection((host, port), timeout=10)
            except OSError as exc:
                feed._say(
                    f"tcp {host}:{port}: cannot connect ({exc.strerror or exc}); retrying in {delay:g} s"
                )
                if feed._stop.wait(delay):
                    return
                delay = min(delay * 2, reconnect_max_s)
                continue
            feed._say(f"tcp {host}:{port}: connected")
            delay = 0.5
            reason = _pump(feed, sock) or "closed by the server"
            if feed._stop.is_set():
                return
            feed._say(
                f"tcp {host}:{port}: connection dropped ({reason}); reconnecting in {delay:g} s"
            )
            if feed._stop.wait(delay):
                return
            delay = min(delay * 2, reconnect_max_s)

    return JournalFeed(f"tcp-{_slug(host)}-{port}", f"tcp://{host}:{port}", spool, receive)


def udp_feed(text: str, spool: Path) -> JournalFeed:
    """``--udp HOST:PORT``: listen for datagrams (one or more lines each)."""
    host, port = _host_port(text, "--udp")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"--udp {text}: cannot listen ({exc.strerror or exc})") from None
    sock.settimeout(0.5)

    def receive(feed: JournalFeed) -> None:
        try:
            while not feed._stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                buf = bytearray(data)
                if not buf.endswith(b"\n"):
                    buf += b"\n"
                for line in _lines_of(buf):
                    feed.record(line)
        finally:
            sock.close()

    feed = JournalFeed(f"udp-{_slug(host)}-{port}", f"udp://{host}:{port}", spool, receive)
    feed.bound = sock.getsockname()  # type: ignore[attr-defined]
    return feed


def listen_tcp_feed(text: str, spool: Path) -> JournalFeed:
    """``--listen-tcp HOST:PORT``: accept feeders (any number) that send lines."""
    host, port = _host_port(text, "--listen-tcp")
    server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((host, port))
        server.listen(16)
    except OSError as exc:
        server.close()
        raise InputError(f"--listen-tcp {text}: cannot listen ({exc.strerror or exc})") from None
    server.settimeout(0.5)

    def serve(feed: JournalFeed, conn: socket.socket, peer: Any) -> None:
        _pump(feed, conn)
        feed._say(f"listen-tcp {host}:{port}: feeder {peer[0]}:{peer[1]} disconnected")

    def receive(feed: JournalFeed) -> None:
        threads = []
        try:
            while not feed._stop.is_set():
                try:
                    conn, peer = server.accept()
                except TimeoutError:
                    continue
                feed._say(f"listen-tcp {host}:{port}: feeder {peer[0]}:{peer[1]} connected")
                t = threading.Thread(target=serve, args=(feed, conn, peer), daemon=True)
                t.start()
                threads.append(t)
        finally:
            server.close()
            for t in threads:
                t.join(timeout=2)

    feed = JournalFeed(
        f"listen-{_slug(host)}-{port}", f"listen-tcp://{host}:{port}", spool, receive
    )
    feed.bound = server.getsockname()  # type: ignore[attr-defined]
    return feed


def stdin_feed(spool: Path) -> JournalFeed:
    """``-``: lines on standard input; the feed ends at end of input."""

    def receive(feed: JournalFeed) -> None:
        for raw in iter(sys.stdin.buffer.readline, b""):
            feed.record(raw.rstrip(b"\r\n"))
            if feed._stop.is_set():
                return
        feed.finished = True
        if feed.wake is not None:
            feed.wake.set()

    return JournalFeed("stdin", "stdin", spool, receive)
