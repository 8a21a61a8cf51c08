"""Odd payloads and files seen in the wild (issue 11): each case fails without its fix.

Payloads are made with pyais' encoder and then lengthened or cut bit by bit, so the
expected values are pyais' (the oracle), not hand-written.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest
from ingest_helpers import POS, STATIC, ingest_text, sentences, tag, with_checksum
from pyais import decode

from tumen.config import load_settings
from tumen.ingest import ingest_paths
from tumen.ingest.decode import clean_sixbit_text
from tumen.store import DuckDBStore

ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
TYPE27 = {"type": 27, "mmsi": 273456780, "lat": 42.25, "lon": 130.3, "speed": 12, "course": 45}
TYPE21 = {"type": 21, "mmsi": 992731001, "name": "RAJIN N BUOY", "lat": 42.2, "lon": 130.3}
TYPE24A = {"type": 24, "mmsi": 273456780, "partno": 0, "shipname": "ANGARA"}


def _bits(payload: str, fill: int) -> str:
    bits = "".join(f"{ARMOUR.index(c):06b}" for c in payload)
    return bits[: len(bits) - fill]


def resized(data: dict[str, object], nbits: int) -> str:
    """One sentence carrying ``data`` cut or zero-padded to ``nbits`` bits."""
    fields = [x.split("*")[0].split(",") for x in sentences(data)]
    bits = _bits("".join(f[5] for f in fields), int(fields[-1][6]))
    bits = (bits + "0" * nbits)[:nbits]
    fill = -len(bits) % 6
    bits += "0" * fill
    payload = "".join(ARMOUR[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))
    return with_checksum(f"!AIVDM,1,1,,A,{payload},{fill}")


@pytest.mark.parametrize(
    ("data", "nbits", "table"),
    [
        (TYPE27, 168, "positions"),  # the "more common" form gpsd describes
        (POS, 163, "positions"),  # every navigation field inside
        (dict(POS, type=3), 150, "positions"),
        (TYPE24A, 164, "statics"),  # the name ends at bit 160
        (TYPE21, 268, "positions"),  # only trailing flags missing
        (dict(STATIC), 420, "statics"),  # destination cut to whole characters
        (POS, 204, "positions"),  # bits after the last field are ignored
        ({"type": 7, "mmsi": 273456780, "mmsi1": 273456781}, 124, "messages"),  # gpsd decodes it
    ],
)
def test_nonstandard_lengths_are_decoded_and_flagged(
    tmp_path: Path, data: dict[str, object], nbits: int, table: str
) -> None:
    line = resized(data, nbits)
    want = decode(line).asdict()
    report, store = ingest_text(tmp_path, line + "\n")
    assert (report.stored, report.quarantined) == (1, 0), store.query(
        "SELECT * FROM quarantine"
    ).to_pylist()
    row = store.query(f"SELECT * FROM {table}").to_pylist()[0]
    assert row["mmsi"] == want["mmsi"] and row["nonstandard_length"] is True
    if table == "positions":
        assert (row["lat"], row["lon"]) == (want["lat"], want["lon"])
    elif table == "messages":
        assert row["msg_type"] == want["msg_type"]
    else:
        assert row["name"] == clean_sixbit_text(want["shipname"])


@pytest.mark.parametrize(("data", "nbits"), [(POS, 168), (TYPE27, 96), (TYPE24A, 160)])
def test_standard_lengths_are_not_flagged(
    tmp_path: Path, data: dict[str, object], nbits: int
) -> None:
    _, store = ingest_text(tmp_path, resized(data, nbits) + "\n")
    got = store.query(
        "SELECT nonstandard_length FROM positions UNION ALL SELECT nonstandard_length FROM statics"
    ).column(0)
    assert got.to_pylist() == [False]


@pytest.mark.parametrize(
    ("data", "nbits"),
    [(POS, 142), (TYPE27, 93), (TYPE24A, 159), (POS, 1010), (TYPE27, 1014)],
)
def test_a_cut_needed_field_or_an_overlong_payload_is_quarantined(
    tmp_path: Path, data: dict[str, object], nbits: int
) -> None:
    report, store = ingest_text(tmp_path, resized(data, nbits) + "\n")
    assert (report.stored, report.quarantined) == (0, 1)
    row = store.query("SELECT reason, detail FROM quarantine").to_pylist()[0]
    assert row["reason"] == "undecodable payload" and f"got {nbits}" in row["detail"]


def test_at_padding_is_cleaned(tmp_path: Path) -> None:
    """Names seen in the real captures: '@' is the padding character of six-bit text."""
    data = dict(STATIC, shipname="HHLA 3@@@@@@@@@B", callsign="@@J130B", destination="@" * 20)
    line = sentences(data)
    assert decode(*line).asdict()["shipname"] == "HHLA 3@@@@@@@@@B"  # pyais keeps the padding
    _, store = ingest_text(tmp_path, "\n".join(line) + "\n")
    row = store.query("SELECT name, callsign, destination FROM statics").to_pylist()[0]
    assert row == {"name": "HHLA 3 B", "callsign": "J130B", "destination": None}


def test_position_not_available_is_stored_without_position(tmp_path: Path) -> None:
    line = sentences(dict(POS, lat=91, lon=181, speed=3.4, status=5))[0]
    report, store = ingest_text(tmp_path, tag(c=1704880800) + line + "\n")
    assert (report.stored, report.quarantined) == (1, 0)
    row = store.query("SELECT * FROM positions").to_pylist()[0]
    assert (row["mmsi"], row["lat"], row["lon"]) == (POS["mmsi"], None, None)
    assert row["sog_kn"] == pytest.approx(3.4) and row["nav_status"] == 5 and row["ts"] is not None


def test_untimed_repeats_are_folded_and_counted(tmp_path: Path) -> None:
    a = sentences(POS)[0]
    b = sentences(dict(POS, second=31))[0]
    text = "\n".join([a, b, a, a, b, a]) + "\n"
    report, store = ingest_text(tmp_path, text, ingest__batch_lines=2)
    assert (report.lines, report.stored, report.duplicates) == (6, 2, 4)
    rows = store.query("SELECT line_no, repeats FROM positions ORDER BY line_no").to_pylist()
    assert rows == [{"line_no": 1, "repeats": 3}, {"line_no": 2, "repeats": 1}]
    assert report.repeats_folded == 4 and report.to_json()["repeats_folded"] == 4
    # copies of a row stored from an earlier file stay plain duplicates
    again, _ = ingest_text(tmp_path, a + "\n" + a + "\n", name="second.nmea", store=store)
    assert (again.duplicates, again.repeats_folded) == (2, 0)
    assert store.scalar("SELECT repeats FROM positions WHERE line_no = 1") == 3


@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"\n"])
def test_line_ends(tmp_path: Path, end: bytes) -> None:
    lines = [sentences(dict(POS, mmsi=273000000 + i))[0].encode() for i in range(5)]
    text = end.join([*lines[:2], b"", *lines[2:]]) + end  # a blank line 3
    report, store = ingest_text(tmp_path, text)
    assert (report.lines, report.stored, report.quarantined) == (6, 5, 1)
    got = store.query("SELECT mmsi, line_no FROM positions ORDER BY line_no").to_pylist()
    assert [(r["mmsi"] - 273000000, r["line_no"]) for r in got] == [
        (0, 1), (1, 2), (2, 4), (3, 5), (4, 6)
    ]  # fmt: skip
    assert store.scalar("SELECT line_no FROM quarantine") == 3


def test_a_lone_cr_between_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tumen.ingest.files as files

    monkeypatch.setattr(files, "READ_BYTES", 7)  # chunks end on '\r' again and again
    lines = [sentences(dict(POS, mmsi=273000000 + i))[0].encode() for i in range(4)]
    text = b"\r".join(lines[:2]) + b"\r\n" + b"\r".join(lines[2:]) + b"\r"
    report, _ = ingest_text(tmp_path, text)
    assert (report.lines, report.stored) == (4, 4)
    assert files.count_lines(tmp_path / "capture.nmea") == 4


def test_utf8_bom_before_the_first_line(tmp_path: Path) -> None:
    from datetime import datetime

    from ingest_helpers import pghp

    t = datetime(2024, 1, 10, 8, 0, 0)
    text = "\ufeff" + pghp(t) + "\n" + sentences(POS)[0] + "\n"
    report, store = ingest_text(tmp_path, text.encode("utf-8"))
    assert (report.lines, report.stored, report.quarantined) == (2, 2, 0)
    assert store.scalar("SELECT ts FROM positions") == t


NOAA_HEADER = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo"
NOAA_ROW = "273456780,2024-01-10T00:00:00,42.25,130.3,12.3,45.6,44,ANGARA,IMO9179842,UBCD7,70,0,120,20,6.5,70"


def test_columns_win_over_a_recognised_noaa_layout(tmp_path: Path) -> None:
    path = tmp_path / "noaa.csv"
    path.write_text(NOAA_HEADER + "\n" + NOAA_ROW + "\n")
    store = DuckDBStore(tmp_path / "t.duckdb")
    settings = load_settings(environ={})
    # the user's mapping reads speed from the COG column and no static columns
    report = ingest_paths(
        store, [path], settings, columns="mmsi=MMSI,ts=BaseDateTime,lat=LAT,lon=LON,sog=COG"
    )
    assert report.files[0].format == "custom_csv"
    row = store.query("SELECT lat, lon, sog_kn, heading_deg FROM positions").to_pylist()[0]
    assert row == {"lat": 42.25, "lon": 130.3, "sog_kn": pytest.approx(45.6), "heading_deg": None}
    assert store.scalar("SELECT count(*) FROM statics") == 0


def test_columns_naming_a_missing_column_of_a_noaa_file_are_refused(tmp_path: Path) -> None:
    from tumen.errors import InputError

    path = tmp_path / "noaa.csv"
    path.write_text(NOAA_HEADER + "\n" + NOAA_ROW + "\n")
    with pytest.raises(InputError, match="not in the header"):
        ingest_paths(
            DuckDBStore(":memory:"),
            [path],
            load_settings(environ={}),
            columns="mmsi=MMSI,ts=Time,lat=LAT,lon=LON",
        )


def test_a_damaged_gz_in_a_directory_is_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    d = tmp_path / "captures"
    d.mkdir()
    good = "\n".join(sentences(dict(POS, mmsi=273000000 + i))[0] for i in range(3)) + "\n"
    (d / "a.nmea").write_text(good)
    # large enough that the damage lies past what sniffing reads (64 KiB)
    body = "".join(
        sentences(dict(POS, mmsi=273100000 + i % 1000, second=i % 60))[0] + "\n"
        for i in range(6000)
    )
    blob = gzip.compress(body.encode(), compresslevel=0)
    (d / "b.nmea.gz").write_bytes(blob[: len(blob) // 2])
    (d / "c.nmea").write_text(
        "\n".join(sentences(dict(POS, mmsi=273200000 + i))[0] for i in range(3)) + "\n"
    )
    store = DuckDBStore(tmp_path / "t.duckdb")
    report = ingest_paths(store, [d], load_settings(environ={}))
    assert [Path(f.path).name for f in report.files] == ["a.nmea", "c.nmea"]
    assert [(s.path.name, "damaged" in s.reason) for s in report.skipped] == [("b.nmea.gz", True)]
    # none of the damaged file's lines is stored or counted (its transaction rolled back)
    assert store.scalar("SELECT count(*) FROM positions") == report.stored == 6
    assert store.scalar("SELECT count(*) FROM sources") == 2
    assert json.loads(json.dumps(report.to_json()))["skipped"][0]["path"].endswith("b.nmea.gz")


def test_an_empty_file_gets_a_warning(tmp_path: Path) -> None:
    report, _ = ingest_text(tmp_path, b"", name="empty.nmea")
    assert report.files[0].lines == 0
    assert report.files[0].warnings == ["empty file: no lines to ingest"]
    assert report.to_json()["warnings"] == [
        {
            "path": str((tmp_path / "empty.nmea").resolve()),
            "warning": "empty file: no lines to ingest",
        }
    ]


def test_ingest_asks_any_backend_for_bulk_appends(tmp_path: Path) -> None:
    """The pipeline sees only the Backend protocol (no isinstance check on DuckDBStore)."""

    class Recording:
        def __init__(self, inner: DuckDBStore):
            self.inner = inner
            self.bulk = 0

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def bulk_appends(self):  # type: ignore[no-untyped-def]
            self.bulk += 1
            return self.inner.bulk_appends()

    store = Recording(DuckDBStore(tmp_path / "t.duckdb"))
    path = tmp_path / "a.nmea"
    path.write_text(sentences(POS)[0] + "\n")
    report = ingest_paths(store, [path], load_settings(environ={}))  # type: ignore[arg-type]
    assert report.stored == 1 and store.bulk == 1


INGEST = Path(__file__).resolve().parents[2] / "src" / "tumen" / "ingest"


def test_ingest_modules_import_one_way() -> None:
    """No import loop among tumen.ingest's modules (top level or inside functions)."""
    graph: dict[str, set[str]] = {}
    for path in INGEST.glob("*.py"):
        mod = path.stem
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("tumen.ingest."):
                    deps.add(node.module.split(".")[2])
                elif node.module == "tumen.ingest":
                    deps.update(a.name for a in node.names)
        graph[mod] = deps - {mod}
    graph["__init__"] = set()  # the package's lazy entry point
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        if state.get(m) == 1:
            pytest.fail("import loop: " + " -> ".join([*stack, m]))
        if state.get(m) == 2 or m not in graph:
            return
        state[m] = 1
        for d in sorted(graph[m]):
            visit(d, [*stack, m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])
    assert "csv" not in graph["files"] and "files" in graph["csv"]


def test_a_long_payload_next_to_short_ones_at_the_end_of_a_batch(tmp_path: Path) -> None:
    """Decoding reads every payload of a type as wide as the longest: not past the buffer."""
    long = resized(POS, 1008)  # 168 characters, decoded (bits after the last field ignored)
    lines = [long] + [sentences(dict(POS, mmsi=273000000 + i))[0] for i in range(3)]
    report, store = ingest_text(tmp_path, "\n".join(lines))  # no newline after the last line
    assert (report.stored, report.quarantined) == (4, 0)
    assert store.scalar("SELECT count(*) FROM positions WHERE nonstandard_length") == 1


def test_a_store_written_before_the_new_columns_opens_and_takes_them(tmp_path: Path) -> None:
    """Stores made by earlier versions lack ``nonstandard_length`` / ``repeats`` and have
    ``lat``/``lon`` NOT NULL: opening one for writing upgrades it in place."""
    import duckdb

    path = tmp_path / "old.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    for table in ("positions", "statics", "messages"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN nonstandard_length")
        con.execute(f"ALTER TABLE {table} DROP COLUMN repeats")
    con.execute("ALTER TABLE positions ALTER COLUMN lat SET NOT NULL")
    con.execute("ALTER TABLE positions ALTER COLUMN lon SET NOT NULL")
    con.close()
    text = sentences(dict(POS, lat=91, lon=181))[0] + "\n" + resized(TYPE27, 168) + "\n"
    report, store = ingest_text(tmp_path, text, store=DuckDBStore(path))
    assert (report.stored, report.quarantined) == (2, 0)
    got = store.query("SELECT lat, nonstandard_length FROM positions ORDER BY line_no").to_pylist()
    assert got == [
        {"lat": None, "nonstandard_length": False},
        {"lat": 42.25, "nonstandard_length": True},
    ]


def test_a_batch_can_be_parsed_from_a_list_of_lines() -> None:
    """For feeds (``tumen.watch``): lines in memory parse as a file's batch does."""
    from tumen.ingest.batch import prepare_nmea
    from tumen.ingest.files import LineBatch
    from tumen.ingest.nmea import parse_batch

    two = sentences(STATIC)
    lines = [sentences(POS)[0], "junk", two[0], two[1], "caf\u00e9"]
    batch = LineBatch.of_lines(lines)
    pb = parse_batch(batch, tz="UTC", fragment_gap=100)
    assert pb.n_lines == 5 and batch.raw_line(4) == "caf\u00e9"
    prepared = prepare_nmea(batch, pb, window_us=60_000_000)
    assert prepared.q_index.tolist() == [1, 4]  # the junk lines
    assert sorted(prepared.mmsi.tolist()) == [POS["mmsi"], STATIC["mmsi"]]
    # not final: a message waiting for its second fragment leaves its line undecided
    waiting = LineBatch.of_lines(lines[:3], final=False)
    assert parse_batch(waiting, tz="UTC", fragment_gap=100).n_lines == 2
