"""Damaged copies of real captures, arbitrary input (hypothesis), batch boundaries and duplicates.

Whatever the input, ingest must not raise, every line must end in exactly one of stored /
duplicate / quarantined (with a reason from the documented vocabulary), and the result must
not depend on where the batches happen to be cut.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import POS, STATIC, balanced, ingest_text, sentences, tag
from ingest_oracle import read_lines

from tumen.config import load_settings
from tumen.ingest import ingest_paths
from tumen.ingest.quarantine import REASONS
from tumen.store import DuckDBStore

#: small captures covering tag blocks, $PGHP, trailers, multi-part and junk
SOURCES = [
    "dma_aislib_commentblocks.nmea",
    "dma_ssc_219165000.nmea",
    "gfw_bad-type5.nmea",
    "gfw_ee-multiline.nmea",
    "gfw_multi-part.nmea",
    "gfw_spire-test.nmea",
    "gpsd_sample.aivdm",
    "libais_tagblock.nmea",
    "aisdb_tagblock_20211101.nm4",
]


def _check(store: DuckDBStore, report) -> None:  # type: ignore[no-untyped-def]
    assert balanced(report)
    q = store.query("SELECT line_no, reason FROM quarantine").to_pylist()
    assert len(q) == report.quarantined == len({(r["line_no"]) for r in q})
    assert {r["reason"] for r in q} <= set(REASONS)
    assert all(1 <= r["line_no"] <= report.lines for r in q)


def _capture_lines(shared_data: Path) -> list[bytes]:
    lines: list[bytes] = []
    for name in SOURCES:
        lines += read_lines(shared_data / "ais" / "nmea" / name)
    return lines


def _damage(lines: list[bytes], how: str, rng: random.Random) -> list[bytes]:
    out = list(lines)
    if how == "truncated":
        for i in rng.sample(range(len(out)), len(out) // 5):
            out[i] = out[i][: rng.randrange(len(out[i]) + 1)]
    elif how == "flipped bits":
        for i in rng.sample(range(len(out)), len(out) // 5):
            b = bytearray(out[i] or b" ")
            j = rng.randrange(len(b))
            b[j] ^= 1 << rng.randrange(8)
            out[i] = bytes(b).replace(b"\n", b" ")
    elif how == "shuffled":
        rng.shuffle(out)
    elif how == "interleaved duplicates":
        # copies of whole messages: lines holding one single-sentence message with its own time
        whole = [
            x
            for x in out
            if x.startswith(b"\\") and b"c:" in x and x.count(b"!") == 1 and b",1,1," in x
        ]

        def header(
            x: bytes,
        ) -> bool:  # a copy put right after a header would take it from its sentence
            return x.startswith(b"$PGHP") or (x.startswith(b"\\") and x.rstrip().endswith(b"\\"))

        for x in rng.sample(whole, len(whole) // 4):
            at = rng.randrange(1, len(out))
            while header(out[at - 1]):
                at += 1
            out.insert(at, x)
    elif how == "binary junk":
        for _ in range(len(out) // 10):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120))).replace(
                b"\n", b""
            )
            out.insert(rng.randrange(len(out)), junk)
    return out


@pytest.mark.parametrize(
    "how", ["truncated", "flipped bits", "shuffled", "interleaved duplicates", "binary junk"]
)
def test_damaged_copies_account_for_every_line(shared_data: Path, tmp_path: Path, how: str) -> None:
    lines = _capture_lines(shared_data)
    text = b"\n".join(_damage(lines, how, random.Random(zlib.crc32(how.encode())))) + b"\n"
    report, store = ingest_text(tmp_path, text, ingest__batch_lines=97)
    _check(store, report)
    assert report.lines == len(text.splitlines())  # \n, \r\n and a lone \r end a line
    original, store0 = ingest_text(
        tmp_path, b"\n".join(lines) + b"\n", name="original.nmea", store=DuckDBStore(":memory:")
    )
    if how == "interleaved duplicates":
        # copies add no rows: each is a duplicate (or quarantined again, as its original)
        copies = report.lines - original.lines
        assert copies > 0 and report.rows == original.rows and report.stored == original.stored
        assert (
            report.duplicates + report.quarantined
            == original.duplicates + original.quarantined + copies
        )
    if how in ("truncated", "flipped bits", "binary junk"):
        assert report.stored <= original.stored + original.duplicates


def test_batch_boundaries_do_not_change_the_result(shared_data: Path, tmp_path: Path) -> None:
    text = b"\n".join(_capture_lines(shared_data)) + b"\n"
    results = []
    for batch_lines, workers in ((5, 0), (41, 0), (200_000, 0), (97, 1)):
        # workers=1: read and parsed in a child process (tumen.ingest.workers)
        report, store = ingest_text(
            tmp_path,
            text,
            name=f"b{batch_lines}.nmea",
            store=DuckDBStore(":memory:"),
            ingest__batch_lines=batch_lines,
            ingest__workers=workers,
        )
        _check(store, report)
        tables = {
            t: sorted(
                (
                    tuple(v for k, v in r.items() if k not in ("pos_id", "static_id", "msg_id"))
                    for r in store.query(f"SELECT * EXCLUDE (source_id) FROM {t}").to_pylist()
                ),
                key=repr,
            )
            for t in ("positions", "statics", "messages", "quarantine")
        }
        results.append(
            ((report.lines, report.stored, report.duplicates, report.quarantined), tables)
        )
    assert results[0] == results[1] == results[2] == results[3]


ais_like = st.one_of(
    st.sampled_from(
        sentences(POS) + sentences(STATIC, seq=2) + [tag(c=1704880890, s="x") + sentences(POS)[0]]
    ),
    st.sampled_from(
        [
            "\\s:AISD*3F\\",
            "$PGHP,1,2024,1,10,10,1,30,0,219,,2190067,1,00*00",
            "# comment",
            "",
            "!",
            "*",
            "\\",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=90),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(ais_like, min_size=1, max_size=3).map("".join), min_size=1, max_size=12),
    st.data(),
)
def test_any_text_is_stored_or_quarantined_never_raises(
    tmp_path: Path, lines: list[str], data: st.DataObject
) -> None:
    # keep the file recognisable as NMEA so that it is read line by line
    lines = [sentences(POS)[0], *lines]
    cut = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    text = "\n".join(lines).encode("utf-8", errors="surrogatepass") + b"\n"
    path = tmp_path / f"h{abs(hash(text))}.nmea"
    path.write_bytes(text)
    store = DuckDBStore(":memory:")
    report = ingest_paths(
        store, [path], load_settings(overrides={"ingest.batch_lines": cut + 1}, environ={})
    )
    _check(store, report)
    assert report.lines == len(text.splitlines())  # \n, \r\n and a lone \r end a line


def test_same_message_heard_by_two_stations(tmp_path: Path) -> None:
    s = sentences(POS)[0]
    t0 = 1704880890
    text = "\n".join(
        [
            tag(s="station-a", c=t0) + s,
            tag(s="station-b", c=t0 + 4) + s,  # another receiver, 4 s later: duplicate
            tag(s="station-b", c=t0 + 600) + s,  # the same bits 10 minutes later: a new report
        ]
    )
    report, store = ingest_text(tmp_path, text + "\n")
    assert (report.stored, report.duplicates) == (2, 1)
    assert store.query("SELECT station FROM positions ORDER BY ts").column(
        "station"
    ).to_pylist() == ["station-a", "station-b"]
    # a second file with the first line's message, 30 s later: duplicate across files
    report, store = ingest_text(
        tmp_path, tag(s="station-c", c=t0 + 30) + s + "\n", name="other.nmea", store=store
    )
    assert (report.stored, report.duplicates) == (0, 1)
    # 15 s after the last copy (itself a duplicate, at t0 + 30): a new report with a 10 s window
    report, store = ingest_text(
        tmp_path,
        tag(s="station-d", c=t0 + 45) + s + "\n",
        name="third.nmea",
        store=store,
        ingest__dedupe_window_s=10,
    )
    assert report.stored == 1


def test_messages_without_time(tmp_path: Path) -> None:
    a, b = sentences(POS)[0], sentences(dict(POS, second=31))[0]
    report, store = ingest_text(tmp_path, f"{a}\n{b}\n{a}\n")
    assert (report.stored, report.duplicates) == (2, 1)
    assert (
        store.query("SELECT count(*) AS n FROM positions WHERE ts IS NULL").column("n")[0].as_py()
        == 2
    )
    # a timed copy of an untimed message is not a duplicate of it
    report, store = ingest_text(
        tmp_path, tag(c=1704880890) + a + "\n", name="timed.nmea", store=store
    )
    assert report.stored == 1


def test_ids_are_unique_over_the_store(shared_data: Path, tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "t.duckdb")
    settings_ = load_settings(environ={})
    for name in ("gfw_mixed_types.nmea", "libais_test.aivdm", "signalk_nais400_merrimac.log"):
        ingest_paths(store, [shared_data / "ais" / "nmea" / name], settings_)
    for table, col in (("positions", "pos_id"), ("statics", "static_id"), ("messages", "msg_id")):
        n, distinct = (
            store.query(f"SELECT count(*) AS n, count(DISTINCT {col}) AS d FROM {table}")
            .to_pylist()[0]
            .values()
        )
        assert n == distinct > 0


@pytest.mark.parametrize("workers", [0, 1])
def test_truncated_gzip_is_skipped_and_writes_nothing(
    shared_data: Path, tmp_path: Path, workers: int
) -> None:
    import gzip

    raw = (shared_data / "ais" / "nmea" / "dma_aislib_stream_20100611.nmea").read_bytes()
    path = tmp_path / "cut.nmea.gz"
    path.write_bytes(gzip.compress(raw)[:-500])
    store = DuckDBStore(tmp_path / "t.duckdb")
    settings_ = load_settings(
        overrides={"ingest.workers": workers, "ingest.batch_lines": 1000}, environ={}
    )
    report = ingest_paths(store, [path], settings_)
    assert report.files == [] and [s.path for s in report.skipped] == [path.resolve()]
    assert "damaged" in report.skipped[0].reason
    assert store.scalar("SELECT count(*) FROM positions") == 0
    assert store.scalar("SELECT count(*) FROM sources") == 0


#: field values seen in (or near) real NOAA / DMA CSV rows, and junk
csv_field = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "91",
            "181",
            "511",
            "102.3",
            "360.0",
            "367752440",
            "IMO9307839",
            "2023-01-11T00:00:00",
            "31/12/2023 23:59:59",
            "A",
            "B",
            "Class A",
            "Unknown",
            "moored",
            "nan",
            "inf",
            "1e308",
            '"',
            '"a,b"',
        ]
    ),  # fmt: skip
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=12),
)
NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(csv_field, min_size=1, max_size=19).map(",".join), max_size=10))
def test_any_csv_row_is_stored_or_quarantined_never_raises(tmp_path: Path, rows: list[str]) -> None:
    text = "\n".join([NOAA_HEADER, *rows]).encode("utf-8", errors="surrogatepass") + b"\n"
    path = tmp_path / f"c{abs(hash(text))}.csv"
    path.write_bytes(text)
    store = DuckDBStore(":memory:")
    report = ingest_paths(store, [path], load_settings(environ={}))
    _check(store, report)
    assert report.lines == len(rows) + 1
