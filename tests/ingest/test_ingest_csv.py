"""CSV layouts: NOAA MarineCadastre (real samples), DMA (written to its published layout), --columns."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from ingest_helpers import balanced, ingest_text

from tumen.config import Settings
from tumen.errors import InputError
from tumen.ingest import ingest_paths
from tumen.store import DuckDBStore

DMA_HEADER = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,"
    "Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,"
    "Data source type,A,B,C,D"
)
DMA_ROWS = [
    "10/01/2024 10:01:30,Class A,273456780,42.250000,130.300000,Under way using engine,0.0,12.3,45.6,44,"
    "IMO9179842,UBCD7,ANGARA,Cargo,,20,120,GPS,6.5,RAJIN,12/01/2024 06:00:00,AIS,100,20,10,10",
    "10/01/2024 10:04:30,Class A,273456780,42.260000,130.310000,Under way using engine,0.0,12.1,45.0,44,"
    "IMO9179842,UBCD7,ANGARA,Cargo,,20,120,GPS,6.5,RAJIN,12/01/2024 06:00:00,AIS,100,20,10,10",
    "10/01/2024 10:05:00,Class B,445123456,91.000000,181.000000,Unknown value,,,,,Unknown,,,Undefined,,,,,,,,AIS,,,,",
    "32/01/2024 10:05:00,Class A,273456780,42.27,130.32,Moored,,0,0,0,,,,,,,,,,,,AIS,,,,",
    "10/01/2024 10:06:00,Class A,27345678X,42.27,130.32,Moored,,0,0,0,,,,,,,,,,,,AIS,,,,",
    "10/01/2024 10:07:00,Class A,273456780",
    "10/01/2024 10:04:30,Class A,273456780,42.260000,130.310000,Under way using engine,0.0,12.1,45.0,44,"
    "IMO9179842,UBCD7,ANGARA,Cargo,,20,120,GPS,6.5,RAJIN,12/01/2024 06:00:00,AIS,100,20,10,10",
]


def _noaa(shared_data: Path, name: str) -> list[dict[str, str]]:
    with open(shared_data / "ais" / "csv" / name, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    "name", ["noaa_marinecadastre_2017_ten.csv", "noaa_marinecadastre_20230111_aisdb.csv"]
)
def test_noaa_layouts(shared_data: Path, tmp_path: Path, name: str) -> None:
    store = DuckDBStore(tmp_path / "t.duckdb")
    report = ingest_paths(store, [shared_data / "ais" / "csv" / name], Settings())
    expected = _noaa(shared_data, name)
    assert report.files[0].format == "noaa_csv"
    assert report.lines == len(expected) + 1 and balanced(report)
    assert store.query("SELECT reason FROM quarantine").column("reason").to_pylist() == [
        "csv header"
    ]
    rows = store.query("SELECT * FROM positions ORDER BY line_no").to_pylist()
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got["mmsi"] == int(want["MMSI"])
        assert got["ts"] == datetime.fromisoformat(want["BaseDateTime"])
        assert got["lat"] == float(want["LAT"]) and got["lon"] == float(want["LON"])
        sog = float(want["SOG"])
        assert got["sog_kn"] == (
            None if sog >= 102.25 else pytest.approx(sog)
        )  # 102.3 = not available
        if "TransceiverClass" in want:
            assert got["class"] == (want["TransceiverClass"] or None)
    statics = {r["mmsi"]: r for r in store.query("SELECT * FROM statics").to_pylist()}
    static_cols = ("VesselName", "IMO", "CallSign", "VesselType", "Length", "Width", "Draft")
    for want in expected:
        s = statics.get(int(want["MMSI"]))
        if s is None:  # no static column filled in: no statics row
            assert not any(
                want[c] and want[c] not in ("0", "0.0", "IMO0000000") for c in static_cols
            ), want
            continue
        assert s["name"] == (want["VesselName"] or None)
        imo = want["IMO"].removeprefix("IMO")
        assert s["imo"] == (int(imo) if imo and int(imo) > 0 else None)


def test_dma_layout(tmp_path: Path) -> None:
    report, store = ingest_text(
        tmp_path, "\n".join([DMA_HEADER, *DMA_ROWS]) + "\n", name="aisdk-2024-01-10.csv"
    )
    assert report.files[0].format == "dma_csv"
    assert (report.lines, report.stored, report.duplicates) == (8, 3, 1) and balanced(report)
    q = {
        r["line_no"]: r["reason"]
        for r in store.query("SELECT line_no, reason FROM quarantine").to_pylist()
    }
    assert q == {
        1: "csv header",
        5: "unparseable time",
        6: "invalid MMSI",
        7: "malformed row",
    }
    # line 4 (91 / 181, "not available") is stored: heard, without position
    unlocated = store.query("SELECT * FROM positions WHERE lat IS NULL").to_pylist()
    assert [(r["mmsi"], r["line_no"], r["lon"]) for r in unlocated] == [(445123456, 4, None)]
    rows = store.query("SELECT * FROM positions WHERE lat IS NOT NULL ORDER BY ts").to_pylist()
    assert [r["ts"] for r in rows] == [
        datetime(2024, 1, 10, 10, 1, 30),
        datetime(2024, 1, 10, 10, 4, 30),
    ]
    assert rows[0]["class"] == "A" and rows[0]["nav_status"] == 0 and rows[0]["heading_deg"] == 44
    s = store.query("SELECT * FROM statics").to_pylist()
    assert len(s) == 1  # the second row repeats the same static data
    assert (s[0]["imo"], s[0]["name"], s[0]["callsign"], s[0]["ship_type"]) == (
        9179842,
        "ANGARA",
        "UBCD7",
        70,
    )
    assert (s[0]["to_bow_m"], s[0]["length_m"], s[0]["draught_m"], s[0]["eta"]) == (
        100,
        120.0,
        6.5,
        "01-12T06:00",
    )


def test_custom_columns(tmp_path: Path) -> None:
    text = "ship,when,y,x,speed,name\n273456780,2024-01-10T10:01:30Z,42.25,130.3,12.3,ANGARA\n273456780,1704880950,42.26,130.31,12.1,\n"
    path = tmp_path / "export.csv"
    path.write_text(text)
    store = DuckDBStore(tmp_path / "t.duckdb")
    with pytest.raises(InputError, match="--columns"):
        ingest_paths(store, [path], Settings())
    report = ingest_paths(
        store, [path], Settings(), columns="mmsi=ship,ts=when,lat=y,lon=x,sog=speed,name=name"
    )
    assert report.files[0].format == "custom_csv" and report.stored == 2
    ts = store.query("SELECT ts FROM positions ORDER BY ts").column("ts").to_pylist()
    assert ts == [datetime(2024, 1, 10, 10, 1, 30), datetime(2024, 1, 10, 10, 2, 30)]
    assert store.query("SELECT name FROM statics").column("name").to_pylist() == ["ANGARA"]


def test_custom_columns_local_time_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text("mmsi,t,lat,lon\n273456780,2024-07-10 12:00:00,42.25,130.3\n")
    store = DuckDBStore(tmp_path / "t.duckdb")
    settings = Settings.model_validate({"ingest": {"tz": "Asia/Vladivostok"}})
    ingest_paths(
        store, [path], settings, columns={"mmsi": "mmsi", "ts": "t", "lat": "lat", "lon": "lon"}
    )
    assert store.query("SELECT ts FROM positions").column("ts").to_pylist() == [
        datetime(2024, 7, 10, 2, 0, 0)
    ]
    with pytest.raises(InputError, match="not in the header"):
        ingest_paths(store, [path], Settings(), columns="mmsi=mmsi,ts=time,lat=lat,lon=lon")
    with pytest.raises(InputError, match="required"):
        ingest_paths(store, [path], Settings(), columns="mmsi=mmsi,lat=lat,lon=lon")
    with pytest.raises(InputError, match="unknown field"):
        ingest_paths(store, [path], Settings(), columns="mmsi=mmsi,ts=t,lat=lat,lon=lon,colour=c")


def test_csv_statics_count_the_rows_they_stand_for(tmp_path: Path) -> None:
    """One statics row per change of the static columns; n_reports counts the rows it covers."""
    header = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo"
    names = ["ANGARA"] * 3 + ["HAI XIANG"] * 2 + ["ANGARA"]
    rows = [
        f"273456780,2024-01-10T10:0{i}:00,42.2{i},130.3{i},10.0,45.0,44,{name},IMO9179842,UBCD7,70,0,120,20,6.5,70"
        for i, name in enumerate(names)
    ]
    rows.insert(2, "273999999,2024-01-10T10:01:30,42.0,131.0,1.0,0.0,0,OTHER,,,,,,,,")
    path = tmp_path / "noaa.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    store = DuckDBStore(tmp_path / "t.duckdb")
    ingest_paths(store, [path], Settings())
    got = store.query(
        "SELECT name, n_reports FROM statics WHERE mmsi = 273456780 ORDER BY line_no"
    ).to_pylist()
    assert got == [
        {"name": "ANGARA", "n_reports": 3},
        {"name": "HAI XIANG", "n_reports": 2},
        {"name": "ANGARA", "n_reports": 1},
    ]
    assert store.scalar("SELECT n_reports FROM statics WHERE mmsi = 273999999") == 1


def test_dma_unknown_placeholders_are_no_values(tmp_path: Path) -> None:
    """DMA files write ``Unknown`` for a callsign, IMO or destination not (yet) received
    (rows as in aisdk-2025/2026 files): no statics row, no callsign 'Unknown' changing to
    the real one later (a false identity change)."""
    rows = [
        "01/09/2025 00:00:00,Class A,219024000,57.717413,10.586715,Engaged in fishing,0.0,0.0,4.8,309,"
        "Unknown,Unknown,,Undefined,,,,Undefined,,Unknown,,AIS,,,,",
        "01/09/2025 00:01:00,Class A,219024000,57.717500,10.586800,Engaged in fishing,0.0,0.0,4.8,309,"
        "Unknown,OXPU2,VIKING,Fishing,,6,18,GPS,2.7,HANSTHOLM,,AIS,5,13,3,3",
        "01/09/2025 00:02:00,Class A,219024000,57.717600,10.586900,Engaged in fishing,0.0,0.0,4.8,309,"
        "Unknown,OXPU2,VIKING,Fishing,,6,18,GPS,2.7,Unknown,,AIS,5,13,3,3",
    ]
    report, store = ingest_text(
        tmp_path, "\n".join([DMA_HEADER, *rows]) + "\n", name="aisdk-2025-09-01.csv"
    )
    assert report.stored == 3 and balanced(report)
    got = store.query(
        "SELECT line_no, imo, callsign, name, destination FROM statics ORDER BY line_no"
    ).to_pylist()
    assert got == [
        {
            "line_no": 3,
            "imo": None,
            "callsign": "OXPU2",
            "name": "VIKING",
            "destination": "HANSTHOLM",
        },
        {"line_no": 4, "imo": None, "callsign": "OXPU2", "name": "VIKING", "destination": None},
    ]


def test_csv_row_the_csv_reader_refuses_is_quarantined(shared_data: Path, tmp_path: Path) -> None:
    """A row holding a field over the csv module's 128 KiB limit (junk with no line end in a
    real file) is one quarantined line, not a traceback that stops the run.  (The limit is
    the module's default in ``tumen ingest``; importing followthemoney raises it to 30 MB.)"""
    old_limit = csv.field_size_limit(131072)
    try:
        _ingest_junk_row(shared_data, tmp_path)
    finally:
        csv.field_size_limit(old_limit)


def _ingest_junk_row(shared_data: Path, tmp_path: Path) -> None:
    lines = (shared_data / "ais" / "csv" / "noaa_marinecadastre_20230111_aisdb.csv").read_text()
    lines = lines.splitlines()[:6]
    junk = lines[1].replace("SAN JOSE", '"' + "X" * 200_000)
    path = tmp_path / "noaa.csv"
    path.write_text("\n".join([*lines[:3], junk, *lines[3:]]) + "\n")
    store = DuckDBStore(tmp_path / "t.duckdb")
    report = ingest_paths(store, [path], Settings())
    assert (report.lines, report.stored, report.quarantined) == (7, 5, 2) and balanced(report)
    got = store.query("SELECT line_no, reason, detail FROM quarantine ORDER BY line_no").to_pylist()
    assert [(r["line_no"], r["reason"]) for r in got] == [(1, "csv header"), (4, "malformed row")]
    assert "field larger than field limit" in got[1]["detail"]
    assert store.query("SELECT line_no FROM positions ORDER BY line_no").column(
        "line_no"
    ).to_pylist() == [2, 3, 5, 6, 7]
