"""``ingest_paths``: files → store, one transaction per file, every line accounted for.

For each input file (see :mod:`tumen.ingest.files` for formats):

1. If a source with the same size is already stored, hash the file first: same SHA-256
   → nothing is read again; every line counts as a duplicate.
2. Otherwise, inside one transaction: read the file in batches of ``ingest.batch_lines``
   lines (bounded memory), prepare each batch (parse, decode, build rows; see
   :mod:`tumen.ingest.batch`) while the previous one is committed (dedupe, append), then
   record the file in ``sources`` with its SHA-256 and line counts, and commit.

Bad input as a whole (missing file, PDF, binary, unknown CSV layout) is refused before
anything is written.  A bad line never stops the run: it is quarantined.  A file found to be
damaged only while it is read (a ``.gz`` cut short or corrupt midway,
:class:`~tumen.ingest.files.DamagedInput`) has its transaction rolled back -- none of its
lines is stored or counted, not even those read before the damage -- and is listed in
``report.skipped`` with the reason; the run goes on with the next file.  An empty file is
ingested (it has no lines) and gets a warning.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from tumen.config import IngestSettings, Settings
from tumen.errors import InputError
from tumen.ingest import csv as csvmod
from tumen.ingest.batch import Context, Prepared, commit, fold_repeats, prepare_nmea
from tumen.ingest.dedupe import KEYS_TABLE, SeenKeys
from tumen.ingest.files import (
    NMEA,
    DamagedInput,
    InputFile,
    LineReader,
    SkippedFile,
    count_lines,
    resolve_inputs,
)
from tumen.ingest.scan import NO_TIME
from tumen.ingest.workers import ParsingProcess, read_and_parse
from tumen.provenance import sha256_file, tumen_version, utc_now
from tumen.store.backend import Backend

#: ``on_progress(lines_done, lines_total_estimate)`` -- the estimate grows as files are read
ProgressCallback = Callable[[int, int | None], None]


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    sha256: str
    source_id: int | None
    lines: int
    stored: int
    duplicates: int
    quarantined: int
    already_ingested: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: duplicates folded into a stored row of this file (untimed identical payloads; ``repeats``)
    repeats_folded: int = 0
    #: things worth a look that are no error (e.g. an empty file)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "source_id": self.source_id,
            "lines": self.lines,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "already_ingested": self.already_ingested,
            "rows": dict(self.rows),
            "reasons": dict(self.reasons),
            "repeats_folded": self.repeats_folded,
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class IngestReport:
    """Totals over all files (``lines == stored + duplicates + quarantined``) and per-file detail."""

    files: list[FileReport] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def repeats_folded(self) -> int:
        """Duplicates that are untimed copies of a row stored from the same file (its ``repeats``)."""
        return sum(f.repeats_folded for f in self.files)

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [{"path": f.path, "warning": w} for f in self.files for w in f.warnings]

    @property
    def rows(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.rows)
        return {k: total.get(k, 0) for k in ("positions", "statics", "messages")}

    @property
    def reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.reasons)
        return dict(total.most_common())

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: integer totals ``lines``, ``stored``, ``duplicates``,
        ``quarantined``, then ``rows`` (per table), ``reasons``, ``repeats_folded`` (of the
        duplicates, those folded into a stored row's ``repeats``), ``files`` (per file),
        ``skipped`` (path, reason), ``warnings`` (path, warning)."""
        return {
            "lines": self.lines,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "rows": self.rows,
            "reasons": self.reasons,
            "repeats_folded": self.repeats_folded,
            "files": [f.to_json() for f in self.files],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "lines_per_s": round(self.lines / self.seconds) if self.seconds > 0 else None,
        }


class _Progress:
    def __init__(self, total_bytes: int, callback: ProgressCallback | None):
        self.total_bytes = max(total_bytes, 1)
        self.callback = callback
        self.lines_before = 0
        self.bytes_before = 0

    def update(self, lines_in_file: int, bytes_in_file: int, *, done: bool = False) -> None:
        if self.callback is None:
            return
        lines = self.lines_before + lines_in_file
        seen = self.bytes_before + bytes_in_file
        estimate = int(lines * self.total_bytes / seen) if seen else None
        if done and seen >= self.total_bytes:
            estimate = lines
        self.callback(lines, max(estimate, lines) if estimate is not None else None)

    def file_done(self, lines: int, size: int) -> None:
        self.lines_before += lines
        self.bytes_before += size


def _next_id(store: Backend, table: str, column: str) -> int:
    got = store.query(f"SELECT coalesce(max({column}), 0) AS m FROM {table}")
    return int(got.column("m")[0].as_py()) + 1


def _already(store: Backend, f: InputFile) -> tuple[str | None, int | None]:
    same = store.query("SELECT source_id, sha256 FROM sources WHERE size_bytes = ?", [f.size_bytes])
    if same.num_rows == 0:
        return None, None
    sha = sha256_file(f.path)
    for sid, digest in zip(
        same.column("source_id").to_pylist(), same.column("sha256").to_pylist(), strict=True
    ):
        if digest == sha:
            return sha, int(sid)
    return sha, None


def _batches(
    f: InputFile, reader: LineReader, ing: IngestSettings, columns: dict[str, str] | None
) -> Iterator[Callable[[], Prepared]]:
    """Read and parse batches (on the reading thread); yield, per batch, the function that
    finishes preparing it (decode, build rows; run on the committing thread)."""
    window_us = int(round(ing.dedupe_window_s * 1_000_000))
    if f.format == NMEA:
        for batch, pb in read_and_parse(reader, ing.tz, ing.fragment_gap_lines):
            yield partial(prepare_nmea, batch, pb, window_us)
        return
    layout = csvmod.CsvLayout.of(f.format, f.header or "", columns, f.path)
    state = csvmod.CsvState(layout, ing.tz)
    for batch in reader:
        yield partial(_given, csvmod.prepare_csv(batch, state, window_us))


def _given(prepared: Prepared) -> Prepared:
    return prepared


def _ingest_file(
    store: Backend,
    f: InputFile,
    settings: Settings,
    columns: dict[str, str] | None,
    progress: _Progress,
) -> FileReport:
    ing = settings.ingest
    t0 = time.perf_counter()
    sha, existing = _already(store, f)
    if existing is not None:
        n = count_lines(f.path)
        progress.update(n, f.size_bytes)
        return FileReport(
            str(f.path),
            f.format,
            sha or "",
            existing,
            n,
            0,
            n,
            0,
            already_ingested=True,
            seconds=time.perf_counter() - t0,
        )
    window_us = int(round(ing.dedupe_window_s * 1_000_000))
    with store.transaction():
        source_id = _next_id(store, "sources", "source_id")
        before = store.query(
            f"SELECT min(ts_us) AS a, max(ts_us) AS b FROM {KEYS_TABLE} WHERE ts_us <> ?",
            [int(NO_TIME)],
        ).to_pylist()[0]
        untimed = store.query(
            f"SELECT 1 AS x FROM {KEYS_TABLE} WHERE ts_us = ? LIMIT 1", [int(NO_TIME)]
        )
        ctx = Context(
            store=store,
            source_id=source_id,
            window_us=window_us,
            next_pos_id=_next_id(store, "positions", "pos_id"),
            next_static_id=_next_id(store, "statics", "static_id"),
            next_msg_id=_next_id(store, "messages", "msg_id"),
            seen=SeenKeys(
                window_us,
                None if before["a"] is None else (int(before["a"]), int(before["b"])),
                untimed.num_rows > 0,
            ),
        )
        if f.format == NMEA and _parse_in_child(f, ing):
            digest = _run_with_child(ctx, f, ing, window_us, progress)
        else:
            reader = LineReader(f.path, ing.batch_lines)
            try:
                _run_batches(
                    ctx,
                    _batches(f, reader, ing, columns),
                    lambda: progress.update(ctx.lines, reader.bytes_read),
                )
                digest = reader.sha256()
            finally:
                reader.close()
        fold_repeats(ctx)
        if f.format != NMEA:
            csvmod.count_static_reports(store, source_id)
        dup_of = store.query("SELECT source_id FROM sources WHERE sha256 = ?", [digest])
        if dup_of.num_rows:  # same bytes under another size? impossible; another writer raced us
            raise InputError("was ingested by another process meanwhile; run again", f.path)
        params: dict[str, object] = {
            "tz": ing.tz,
            "dedupe_window_s": ing.dedupe_window_s,
            "fragment_gap_lines": ing.fragment_gap_lines,
        }
        if columns:
            params["columns"] = columns
        store.append(
            "sources",
            pa.table(
                {
                    "source_id": pa.array([source_id], pa.int32()),
                    "path": [str(f.path)],
                    "sha256": [digest],
                    "size_bytes": pa.array([f.size_bytes], pa.int64()),
                    "format": [f.format],
                    "ingested_at": pa.array([utc_now()], pa.timestamp("us")),
                    "tumen_version": [tumen_version()],
                    "lines": pa.array([ctx.lines], pa.int64()),
                    "stored": pa.array([ctx.stored], pa.int64()),
                    "duplicates": pa.array([ctx.duplicates], pa.int64()),
                    "quarantined": pa.array([ctx.quarantined], pa.int64()),
                    "params": [json.dumps(params, sort_keys=True)],
                }
            ),
        )
    return FileReport(
        path=str(f.path),
        format=f.format,
        sha256=digest,
        source_id=source_id,
        lines=ctx.lines,
        stored=ctx.stored,
        duplicates=ctx.duplicates,
        quarantined=ctx.quarantined,
        rows={k: ctx.rows.get(k, 0) for k in ("positions", "statics", "messages")},
        reasons=dict(ctx.reasons.most_common()),
        seconds=time.perf_counter() - t0,
        repeats_folded=ctx.repeats_folded,
        warnings=[EMPTY_FILE] if ctx.lines == 0 else [],
    )


#: the warning an empty input file gets
EMPTY_FILE = "empty file: no lines to ingest"


#: files at least this large (on disk) are read and parsed in a child process (bytes)
CHILD_MIN_BYTES = 32 << 20
CHILD_MIN_BYTES_GZ = 8 << 20


def _parse_in_child(f: InputFile, ing: IngestSettings) -> bool:
    """Whether to read and parse ``f`` in a child process (see :mod:`tumen.ingest.workers`)."""
    if ing.workers != -1:
        return ing.workers == 1
    big = CHILD_MIN_BYTES_GZ if f.path.suffix.lower() == ".gz" else CHILD_MIN_BYTES
    return (os.cpu_count() or 1) > 1 and f.size_bytes >= big


def _run_with_child(
    ctx: Context, f: InputFile, ing: IngestSettings, window_us: int, progress: _Progress
) -> str:
    """Stage A in a child process, stage B (decode, dedupe, append) here; returns the SHA-256."""
    child = ParsingProcess(f.path, ing.batch_lines, ing.tz, ing.fragment_gap_lines, window_us)
    try:
        for prepared in child:
            commit(ctx, prepared)
            progress.update(ctx.lines, child.bytes_read)
    finally:
        child.close()
    assert child.sha256 is not None
    return child.sha256


def _run_batches(
    ctx: Context, preparers: Iterator[Callable[[], Prepared]], tick: Callable[[], None]
) -> None:
    """Read and parse batch k+1 on a worker thread while batch k is decoded and committed here.

    numpy and DuckDB release the GIL in their loops, so the two threads share two cores
    (the file's SHA-256 is computed on a third, see :class:`tumen.ingest.files.LineReader`).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tumen-read") as pool:
        fut: Future[Callable[[], Prepared] | None] = pool.submit(next, preparers, None)
        while True:
            finish = fut.result()
            if finish is None:
                break
            fut = pool.submit(next, preparers, None)
            commit(ctx, finish())
            tick()


def check_inputs(
    paths: Sequence[str | Path],
    columns: str | dict[str, str] | None = None,
    *,
    fmt: str | None = None,
) -> tuple[list[InputFile], list[SkippedFile], dict[str, str] | None]:
    """Resolve and recognise every input before anything is written.

    Returns (files to ingest, files skipped inside directories, parsed ``--columns``).

    Raises
    ------
    InputError
        A named file is missing, a PDF, binary, not AIS data, or a CSV whose layout is
        unknown (or whose ``--columns`` do not match its header).
    """
    mapping = csvmod.parse_columns(columns)
    if fmt == NMEA:
        # the caller knows: no sniffing (a spool file holding only junk lines is still NMEA input)
        named = [Path(p).resolve() for p in paths]
        return [InputFile(p, NMEA, p.stat().st_size) for p in named], [], mapping
    files, skipped = resolve_inputs(list(paths), custom_columns=mapping is not None)
    for f in files:
        if f.format != NMEA:
            csvmod.CsvLayout.of(f.format, f.header or "", mapping, f.path)
    return files, skipped, mapping


def ingest_paths(
    store: Backend,
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    columns: str | dict[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
    fmt: str | None = None,
) -> IngestReport:
    """Ingest AIS files (NMEA 0183 or CSV; ``.gz``; directories) into ``store``.

    Parameters
    ----------
    store:
        The store (a :class:`tumen.store.DuckDBStore`).
    paths:
        Files or directories.  Every named file must be readable AIS data; files inside a
        directory that are not are skipped (listed in ``report.skipped``).
    settings:
        ``settings.ingest`` gives batch size (lines), time zone of logger prefixes,
        dedupe window (s) and the multi-part fragment gap (lines).
    columns:
        For CSV files of no known layout: ``"mmsi=COL,ts=COL,lat=COL,lon=COL,..."`` or a dict.
    on_progress:
        Called after each batch with (lines done, estimated total lines).
    fmt:
        ``"nmea"``: every path is an NMEA file, read without sniffing its format (used by
        ``tumen watch`` for its spool files, which may hold only damaged lines).

    Returns
    -------
    IngestReport
        ``lines``, ``stored``, ``duplicates``, ``quarantined`` (totals; they add up) and
        ``files`` (per file).

    Raises
    ------
    InputError
        A named file is missing, a PDF, binary, or a CSV of unknown layout -- before any
        file is ingested.

    Examples
    --------
    >>> from tumen.config import Settings
    >>> from tumen.store import DuckDBStore
    >>> report = ingest_paths(DuckDBStore(":memory:"), ["capture.nmea.gz"], Settings())  # doctest: +SKIP
    >>> report.lines == report.stored + report.duplicates + report.quarantined  # doctest: +SKIP
    True
    """
    t0 = time.perf_counter()
    files, skipped, mapping = check_inputs(paths, columns, fmt=fmt)
    report = IngestReport(skipped=skipped)
    progress = _Progress(sum(f.size_bytes for f in files), on_progress)
    with store.bulk_appends():
        for f in files:
            try:
                fr = _ingest_file(store, f, settings, mapping, progress)
            except DamagedInput as exc:  # rolled back: skipped like an unreadable file
                report.skipped.append(SkippedFile(f.path, exc.reason))
                progress.file_done(0, f.size_bytes)
                continue
            report.files.append(fr)
            progress.file_done(fr.lines, f.size_bytes)
            progress.update(0, 0, done=True)
    report.seconds = time.perf_counter() - t0
    return report
