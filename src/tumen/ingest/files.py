"""Input files: finding them, recognising their format, and reading them in line batches.

Formats (the ``sources.format`` column):

``nmea``
    NMEA 0183 AIS sentences (``!AIVDM``/``!AIVDO`` with any talker), with or without
    tag blocks, ``$PGHP`` headers, logger prefixes and trailing fields.
``noaa_csv``
    NOAA MarineCadastre CSV (16 columns, 2015-2017; or 17 ending in ``TransceiverClass``).
``dma_csv``
    Danish Maritime Authority daily CSV (header ``# Timestamp,Type of mobile,MMSI,...``).
``custom_csv``
    Any other CSV, with ``--columns mmsi=...,ts=...,lat=...,lon=...``.

Files ending in ``.gz`` are decompressed on the fly.  A directory stands for every
file below it (sorted); files in it that are not AIS data are skipped and listed.

Lines end at ``\n``, ``\r\n`` or a lone ``\r`` (old Mac loggers), counted alike; a UTF-8
byte order mark before the first line is dropped.  The SHA-256 of a file is that of its
bytes as stored, whatever its line ends.
"""

from __future__ import annotations

import csv as _csv
import gzip
import hashlib
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np
import pyarrow as pa

from tumen.errors import InputError
from tumen.ingest.scan import I64, PAD, U8, spans_to_arrow

NMEA = "nmea"
NOAA_CSV = "noaa_csv"
DMA_CSV = "dma_csv"
CUSTOM_CSV = "custom_csv"

#: bytes read from the start of a file to recognise its format
SNIFF_BYTES = 1 << 16
#: a "line" longer than this (no newline in sight) is cut here and counted as one line
MAX_LINE_BYTES = 1 << 24
#: bytes read from disk at a time
READ_BYTES = 1 << 22

_WHAT_TO_DO = (
    "give NMEA 0183 AIS sentences (.nmea/.log/.txt, optionally .gz), a NOAA MarineCadastre "
    "or DMA CSV, or another CSV with --columns mmsi=...,ts=...,lat=...,lon=..."
)


@dataclass(frozen=True)
class InputFile:
    """One file to ingest."""

    path: Path
    format: str
    size_bytes: int
    #: CSV header line (column names) for CSV formats, else None
    header: str | None = None


@dataclass(frozen=True)
class SkippedFile:
    """A file not ingested: found in a directory and not AIS data, or damaged (see
    :class:`DamagedInput`)."""

    path: Path
    reason: str


class DamagedInput(InputError):
    """A file that cannot be read to its end (a damaged ``.gz``, a read error midway).

    Found only while reading it, after the files before it may have been committed: its
    own transaction is rolled back (none of its lines is stored or counted) and the run
    goes on; the file is listed in ``IngestReport.skipped`` with this reason.
    """


#: UTF-8 encoding of U+FEFF, the byte order mark some Windows tools write first
BOM = b"\xef\xbb\xbf"


class LineEnds:
    """Turns a stream's chunks into ``\n``-separated lines: a lone ``\r`` becomes ``\n``
    (``\r\n`` is left alone: the reader drops the ``\r``), and a leading BOM is dropped.
    A ``\r`` ending a chunk is held back until the next one shows whether ``\n`` follows."""

    def __init__(self) -> None:
        self.first = True
        self.held = b""

    def feed(self, chunk: bytes) -> bytes:
        """The normalised bytes of ``chunk``; ``b""`` (end of stream) flushes what was held."""
        if not chunk:
            out, self.held = self.held, b""
            return b"\n" if out else b""
        if self.first:
            self.first = False
            if chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]
        if self.held:
            chunk = self.held + chunk
            self.held = b""
        if chunk.endswith(b"\r"):
            self.held, chunk = b"\r", chunk[:-1]
        if b"\r" not in chunk:
            return chunk
        arr = np.frombuffer(chunk, dtype=np.uint8).copy()
        cr = arr == 13
        lone = cr.copy()
        lone[:-1] &= arr[1:] != 10
        if lone.any():
            arr[lone] = 10
            return arr.tobytes()
        return chunk


def open_bytes(path: Path) -> IO[bytes]:
    """Open a file for reading its (decompressed) bytes."""
    if path.suffix.lower() == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def _head(path: Path) -> bytes:
    try:
        with open_bytes(path) as fh:
            return fh.read(SNIFF_BYTES)
    except gzip.BadGzipFile:
        raise InputError(
            "ends in .gz but is not gzip-compressed; rename it or recompress it", path
        ) from None
    except EOFError:
        raise InputError("the gzip stream is truncated; recompress the file", path) from None
    except OSError as exc:
        raise InputError(
            f"cannot be read ({exc.strerror or exc}); check the path and permissions", path
        ) from None


def _first_text_line(text: str) -> str:  # (splitlines: \n, \r\n and \r all end a line)
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("\ufeff")
    return ""


def sniff(path: Path, *, custom_columns: bool = False) -> tuple[str, str | None]:
    """Recognise the format of ``path``: ``(format, csv header or None)``.

    Raises
    ------
    InputError
        The file is missing, a PDF, binary, or text of no known layout.
    """
    if not path.exists():
        raise InputError("no such file; check the path", path)
    if path.is_dir():
        raise InputError("is a directory (expected a file)", path)
    head = _head(path)
    if head.startswith(b"%PDF"):
        raise InputError(f"is a PDF document, not AIS data; {_WHAT_TO_DO}", path)
    if not head:
        return NMEA, None
    text = head.decode("utf-8", errors="replace")
    first = _first_text_line(text)
    layout = recognise_header(first)
    if layout is not None:
        # an explicit --columns mapping wins over the recognised layout
        return (CUSTOM_CSV if custom_columns else layout), first
    if "VDM," in text or "VDO," in text:
        return NMEA, None  # damaged lines inside are quarantined one by one
    # binary: NUL bytes or mostly control bytes in the first block
    sample = head[:8192]
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or ctrl > len(sample) // 10:
        raise InputError(f"is binary data, not text; {_WHAT_TO_DO}", path)
    if custom_columns and "," in first:
        return CUSTOM_CSV, first
    if "," in first and not first.startswith(("!", "$", "\\")):
        raise InputError(
            f"CSV with an unknown column layout (header: {first[:120]!r}); name the columns with "
            "--columns mmsi=COL,ts=COL,lat=COL,lon=COL",
            path,
        )
    raise InputError(
        f"holds no AIS sentences in its first {SNIFF_BYTES // 1024} KiB; {_WHAT_TO_DO}", path
    )


# ---- CSV layouts recognised by their header (read by tumen.ingest.csv) ----
NOAA_HEADER = [
    "mmsi", "basedatetime", "lat", "lon", "sog", "cog", "heading", "vesselname", "imo",
    "callsign", "vesseltype", "status", "length", "width", "draft", "cargo",
]  # fmt: skip
DMA_HEADER = [
    "timestamp", "type of mobile", "mmsi", "latitude", "longitude", "navigational status", "rot",
    "sog", "cog", "heading", "imo", "callsign", "name", "ship type", "cargo type", "width",
    "length", "type of position fixing device", "draught", "destination", "eta",
    "data source type", "a", "b", "c", "d",
]  # fmt: skip


def norm_column(name: str) -> str:
    """A column name as layouts compare it: unquoted, without a leading ``#``, lower case."""
    return name.strip().strip('"').lstrip("#").strip().lower()


def split_header(line: str) -> list[str]:
    """Column names of a header line."""
    return next(_csv.reader([line.lstrip("\ufeff")]), [])


def recognise_header(line: str) -> str | None:
    """The known CSV layout a header line announces (``noaa_csv``/``dma_csv``), or None."""
    cols = [norm_column(c) for c in split_header(line)]
    if cols[:16] == NOAA_HEADER and (len(cols) == 16 or cols[16:] == ["transceiverclass"]):
        return NOAA_CSV
    if cols[:5] == DMA_HEADER[:5] and line.lstrip().startswith("#"):
        return DMA_CSV
    return None


#: Files found in a directory that are documentation, not data, even when they quote sentences
#: (a capture's README often shows a few): skipped unless named on their own.
DOCUMENTATION_SUFFIXES = frozenset(
    {".md", ".rst", ".html", ".htm", ".pdf", ".json", ".yaml", ".yml", ".toml", ".py", ".ipynb"}
)
DOCUMENTATION_NAMES = ("README", "LICENSE", "LICENCE", "CHANGELOG", "NOTICE")
DOCUMENTATION_REASON = "documentation, not AIS data (name the file itself to ingest it)"


def _is_documentation(path: Path) -> bool:
    name = path.name.upper()
    return path.suffix.lower() in DOCUMENTATION_SUFFIXES or name.startswith(DOCUMENTATION_NAMES)


def resolve_inputs(
    paths: Sequence[str | Path], *, custom_columns: bool = False
) -> tuple[list[InputFile], list[SkippedFile]]:
    """Expand directories and recognise every file, before anything is written.

    A file named explicitly that cannot be ingested raises :class:`InputError`;
    a file found inside a directory that is not AIS data, or is documentation
    (:data:`DOCUMENTATION_SUFFIXES`, ``README*``, ``LICENSE*`` ...), is skipped and returned.
    """
    files: list[InputFile] = []
    skipped: list[SkippedFile] = []
    if not paths:
        raise InputError("no input files given; name at least one NMEA or CSV file or a directory")
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            for p in found:
                if _is_documentation(p):
                    skipped.append(SkippedFile(p.resolve(), DOCUMENTATION_REASON))
                    continue
                try:
                    fmt, header = sniff(p, custom_columns=custom_columns)
                except InputError as exc:
                    skipped.append(SkippedFile(p.resolve(), exc.reason))
                    continue
                files.append(InputFile(p.resolve(), fmt, p.stat().st_size, header))
            continue
        fmt, header = sniff(path, custom_columns=custom_columns)
        files.append(InputFile(path.resolve(), fmt, path.stat().st_size, header))
    return files, skipped


@dataclass
class LineBatch:
    """A run of whole lines of one file.

    Attributes
    ----------
    buf:
        The lines' bytes (newlines included) as a ``uint8`` array, bytes >= 0x80 replaced
        by 0x7F, followed by :data:`~tumen.ingest.scan.PAD` zeros.
    starts, ends:
        Offset of each line's first byte and one past its last (without ``\r\n``).
    first_line:
        1-based number of the batch's first line in the file.
    final:
        Whether this is the file's last batch.
    original:
        The bytes as read, kept only when ``buf`` had bytes replaced (else None).
    """

    buf: U8
    starts: I64
    ends: I64
    first_line: int
    final: bool
    original: bytes | None = None

    @classmethod
    def of_lines(
        cls, lines: Sequence[bytes | str], *, first_line: int = 1, final: bool = True
    ) -> LineBatch:
        """A batch of the given lines (without line ends), e.g. lines received from a feed.

        Parse it with :func:`tumen.ingest.nmea.parse_batch`; with ``final=False`` the lines
        of a message still waiting for fragments are left undecided (``n_lines``).
        """
        raw = [ln.encode("utf-8") if isinstance(ln, str) else bytes(ln) for ln in lines]
        data = b"\n".join(raw) + (b"\n" if raw else b"")
        buf = np.zeros(len(data) + PAD, dtype=np.uint8)
        buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        high = buf >= 0x80
        original = data if high.any() else None
        buf[high] = 0x7F
        lengths = np.array([len(r) + 1 for r in raw], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        ends = starts + lengths - 1
        return cls(buf, starts[: len(raw)], ends[: len(raw)], first_line, final, original)

    @property
    def n(self) -> int:
        return int(self.starts.size)

    @property
    def size(self) -> int:
        """Bytes in the batch."""
        return int(self.buf.size) - PAD

    def line_bytes(self, i: int) -> bytes:
        """Line ``i`` (0-based in the batch) as read, without its line end."""
        a, b = int(self.starts[i]), int(self.ends[i])
        return self.original[a:b] if self.original is not None else self.buf[a:b].tobytes()

    def raw_line(self, i: int) -> str:
        """Line ``i`` as text, undecodable bytes replaced."""
        return self.line_bytes(i).decode("utf-8", errors="replace")

    def raw_lines(self, idx: I64) -> pa.Array:
        """Lines ``idx`` as an Arrow string array (undecodable bytes replaced)."""
        if self.original is None:  # plain ASCII: slice the buffer, all at once
            return spans_to_arrow(self.buf, self.starts[idx], self.ends[idx])
        return pa.array([self.raw_line(i) for i in idx.tolist()], type=pa.string())

    def tail_bytes(self, i: int) -> bytes:
        """The bytes of lines ``i`` and after (to hand back to the reader)."""
        if i >= self.n:
            return b""
        a = int(self.starts[i])
        return self.original[a:] if self.original is not None else self.buf[a : self.size].tobytes()


class _CountingReader:
    """Wraps a binary file, counting the bytes read (for progress)."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, b: bytearray | memoryview) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.bytes_read += n
        return int(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()


class _Hasher(threading.Thread):
    """SHA-256 of a file's bytes as stored, computed on its own thread (hashlib releases the GIL)."""

    def __init__(self, path: Path):
        super().__init__(name="tumen-sha256", daemon=True)
        self.path = path
        self.digest: str | None = None
        self.error: OSError | None = None
        self.start()

    def run(self) -> None:
        sha = hashlib.sha256()
        try:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(READ_BYTES):
                    sha.update(chunk)
        except OSError as exc:  # pragma: no cover - the file vanished while being read
            self.error = exc
            return
        self.digest = sha.hexdigest()


class LineReader:
    """Read a file as :class:`LineBatch` es of at most ``batch_lines`` lines.

    Meanwhile a thread computes the SHA-256 of the file's bytes as stored on disk
    (compressed for ``.gz``); bytes consumed are counted (for progress).
    Lines handed back with :meth:`unread` come first in the next batch.
    """

    def __init__(self, path: Path, batch_lines: int):
        self.path = path
        self.batch_lines = max(1, int(batch_lines))
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._counting = _CountingReader(self._file)
        self._stream: IO[bytes] = (
            gzip.GzipFile(fileobj=self._counting, mode="rb")  # type: ignore[call-overload]
            if path.suffix.lower() == ".gz"
            else self._counting  # type: ignore[assignment]
        )
        self._hasher = _Hasher(path)
        self._pending = bytearray()
        self._nl = np.zeros(0, dtype=np.int64)  # newline offsets inside _pending
        self._next_line = 1
        self._eof = False
        self._extra = 0  # lines handed back: the next batch may be that much longer
        self._ends = LineEnds()

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk consumed so far."""
        return self._counting.bytes_read

    def sha256(self) -> str:
        """SHA-256 of the file's bytes as stored (waits for the hashing thread)."""
        self._hasher.join()
        if self._hasher.digest is None:
            raise DamagedInput(f"cannot be read ({self._hasher.error}); check the file", self.path)
        return self._hasher.digest

    def close(self) -> None:
        self._stream.close()
        self._file.close()

    def unread(self, data: bytes, n_lines: int) -> None:
        """Put the last ``n_lines`` lines (``data``) back in front of what is still unread."""
        if not data:
            return
        nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10).astype(np.int64)
        self._nl = np.concatenate([nl, self._nl + len(data)])
        self._pending[0:0] = data
        self._next_line -= n_lines
        self._extra = n_lines

    def _fill(self, want: int) -> None:
        while not self._eof and self._nl.size < want:
            try:
                raw = self._stream.read(READ_BYTES)
            except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as exc:
                raise DamagedInput(
                    f"cannot be read to the end ({exc or type(exc).__name__}); the file is "
                    "damaged: nothing of it was stored",
                    self.path,
                ) from None
            chunk = self._ends.feed(raw)
            if not raw:
                self._eof = True
                if not chunk:
                    break
            base = len(self._pending)
            self._pending += chunk
            new = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10).astype(np.int64) + base
            self._nl = np.concatenate([self._nl, new])
            if self._eof:
                break
            if self._nl.size == 0 and len(self._pending) > MAX_LINE_BYTES:
                # one endless "line": cut it into pieces of MAX_LINE_BYTES, each counted as a line
                self._pending[MAX_LINE_BYTES:MAX_LINE_BYTES] = b"\n"
                arr = np.frombuffer(self._pending, dtype=np.uint8)
                self._nl = np.flatnonzero(arr == 10).astype(np.int64)

    def __iter__(self) -> Iterator[LineBatch]:
        while True:
            want = self.batch_lines + self._extra
            self._extra = 0
            self._fill(want)
            if self._nl.size >= want:
                nl = self._nl[:want]
                cut = int(nl[-1]) + 1
                final = False
            elif self._eof:
                nl = self._nl
                cut = len(self._pending)
                final = True
            else:  # pragma: no cover - _fill reads until one of the two holds
                continue
            buf = np.zeros(cut + PAD, dtype=np.uint8)
            buf[:cut] = np.frombuffer(self._pending, dtype=np.uint8, count=cut)
            high = buf >= 0x80
            original = None
            if high.any():  # keep the bytes as read for the quarantine; parse a sanitised copy
                original = bytes(self._pending[:cut])
                buf[high] = 0x7F
            del self._pending[:cut]
            self._nl = self._nl[nl.size :] - cut
            starts = np.concatenate([[0], nl + 1]).astype(np.int64)
            ends = np.concatenate([nl, [cut]]).astype(np.int64)
            if starts[-1] >= cut:  # the batch ends with a newline: no partial last line
                starts, ends = starts[:-1], ends[:-1]
            # drop the CR of CRLF line ends
            cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
            ends = ends - cr
            batch = LineBatch(buf, starts, ends, self._next_line, final, original)
            self._next_line += batch.n
            yield batch
            if final:
                return


def count_lines(path: Path) -> int:
    """Number of lines in a file (a last line without line end counts), reading it once;
    line ends as :class:`LineReader` reads them (:class:`LineEnds`)."""
    n = 0
    last = b"\n"
    ends = LineEnds()
    with open_bytes(path) as fh:
        while True:
            raw = fh.read(READ_BYTES)
            chunk = ends.feed(raw)
            n += chunk.count(b"\n")
            if chunk:
                last = chunk[-1:]
            if not raw:
                break
    return n + (0 if last == b"\n" else 1)
