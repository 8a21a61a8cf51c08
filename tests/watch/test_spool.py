"""Batch boundaries never split a multi-part message; spool files are what was read."""

from __future__ import annotations

from pathlib import Path

from watch_helpers import rules_of

from tumen.config import Settings
from tumen.ingest import ingest_paths
from tumen.store import DuckDBStore
from tumen.watch.feeds import ReplayFeed, line_time
from tumen.watch.spool import ready_lines

ONE = b"\\s:A,c:1709510496*00\\!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
PART1 = b"\\g:1-2-3296,s:RUNAK1,c:1709510496*32\\!AIVDM,2,1,1,A,545A`oP2:MFiDT<CT00p4@E`P@4000000000001@;hj9:4iUACmSlm3hj3V@,0*30"
PART2 = b"\\g:2-2-3296,s:RUNAK1,c:1709510496*31\\!AIVDM,2,2,1,A,00000000000,2*25"


def test_ready_lines_holds_back_an_unfinished_message() -> None:
    assert ready_lines([ONE, ONE]) == 2
    assert ready_lines([ONE, PART1]) == 1  # fragment 1 of 2 waits for the next batch
    assert ready_lines([ONE, PART1, PART2]) == 3
    assert ready_lines([ONE, PART1, b"garbage"]) == 1
    assert ready_lines([PART1]) == 0


def test_line_time_reads_tag_blocks_and_logger_prefixes() -> None:
    assert line_time(ONE) == 1709510496.0
    assert line_time(b"1709510496.5,!AIVDM,1,1,,A,x,0*00") == 1709510496.5
    assert line_time(b"2024-03-04 00:01:36Z, !AIVDM,1,1,,A,x,0*00") == 1709510496.0
    assert line_time(b"!AIVDM,1,1,,A,x,0*00") is None


def test_cut_inside_multipart_messages_loses_none(day, watch, tmp_path: Path) -> None:
    lines = day.nmea.read_bytes().splitlines()[:60]
    parts = [i for i, x in enumerate(lines) if b",2,1," in x]
    assert parts  # the sample has two-part messages
    src = tmp_path / "head.nmea"
    src.write_bytes(b"\n".join(lines) + b"\n")
    size = parts[0] + 1  # the first batch ends on a first fragment
    rules = rules_of('[[rules]]\nname = "x"\nevent = "voyage"\n', tmp_path)
    run = watch([ReplayFeed(src, speed=0)], rules, until_end=True, batch_lines=size)
    run.thread.join(timeout=120)
    report = run.stop()
    whole = ingest_paths(DuckDBStore(":memory:"), [src], Settings())
    assert report.batches >= 60 // size
    assert (report.lines, report.stored, report.duplicates, report.quarantined) == (
        whole.lines,
        whole.stored,
        whole.duplicates,
        whole.quarantined,
    )
    with DuckDBStore(tmp_path / "t.duckdb", read_only=True) as store:
        reasons = store.con.execute(
            "SELECT count(*) FROM quarantine WHERE reason = 'incomplete multi-part'"
        ).fetchone()[0]
        files = [
            Path(p)
            for (p,) in store.con.execute("SELECT path FROM sources ORDER BY source_id").fetchall()
        ]
    assert reasons == whole.reasons.get("incomplete multi-part", 0)
    assert b"".join(f.read_bytes() for f in files).splitlines() == lines
