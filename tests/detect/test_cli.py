"""`tumen detect` and `tumen events`: the commands, their formats and filters, their errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from builders import statics, track, write
from tumen.detect.ports import load_ports
from tumen.store import DuckDBStore

MMSI, OTHER = 273456780, 273000111
PORTS = {p["name"]: p for p in load_ports().to_pylist()}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """A store with a Rajin → Dunai shuttle (visits, voyage, gap), an encounter of two loitering
    vessels and a DPRK MMSI."""
    path = tmp_path / "t.duckdb"
    with DuckDBStore(path) as store:
        r, d = PORTS["Rajin"], PORTS["Dunai"]
        shuttle = track(MMSI).at("2024-01-10T00:00Z", r["lat"], r["lon"]).stay("3h")
        shuttle.silence("20h").fix(d["lat"], d["lon"]).stay("3h")
        write(
            store,
            shuttle,
            track(OTHER).at("2024-01-12T00:00Z", 41.0, 134.5, sog=0.5).stay("5h"),
            track(OTHER + 1).at("2024-01-12T00:00Z", 41.001, 134.5, sog=0.5).stay("5h"),
            statics(445000001, "2024-01-12T00:00Z", name="KUM UN SAN 3", imo=8705539).every(
                "6min", 2
            ),
        )
    return path


def test_detect_json_summary(cli, db):
    code, out, err = cli("detect", "--db", db, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["mode"] == "full" and rep["positions"] > 0
    assert rep["events"] == {
        "port_visit": 2,
        "voyage": 1,
        "gap": 1,
        "loitering": 2,
        "encounter": 1,
        "identity": 1,
    }
    code, out, _ = cli("detect", "--db", db, "--json")
    assert json.loads(out)["mode"] == "unchanged"


def test_detect_human_summary_goes_to_stderr(cli, db):
    code, out, err = cli("detect", "--db", db)
    assert code == 0 and out == "" and "positions/s" in err and "encounter" in err


def test_events_jsonl_is_the_public_contract(cli, db):
    cli("detect", "--db", db, "-q")
    code, out, err = cli("events", "--db", db, "--format", "jsonl")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 8
    keys = {
        "type",
        "subtype",
        "mmsi",
        "other_mmsi",
        "start",
        "end",
        "lat",
        "lon",
        "port",
        "from_port",
        "to_port",
        "evidence",
        "event_id",
    }
    for e in lines:
        assert keys <= set(e)
        assert ISO_Z.match(e["start"]) and ISO_Z.match(e["end"])
        assert {"detector", "params", "position_ids"} <= set(e["evidence"])
        assert e["type"] in {"port_visit", "voyage", "gap", "encounter", "loitering", "identity"}
    voyage = next(e for e in lines if e["type"] == "voyage")
    assert (voyage["from_port"], voyage["to_port"], voyage["mmsi"]) == ("Rajin", "Dunai", MMSI)
    visit = next(e for e in lines if e["type"] == "port_visit")
    assert visit["port"] == "Rajin" and visit["subtype"] is None and visit["other_mmsi"] is None
    enc = next(e for e in lines if e["type"] == "encounter")
    assert (enc["mmsi"], enc["other_mmsi"]) == (OTHER, OTHER + 1)
    dprk = next(e for e in lines if e["type"] == "identity")
    assert dprk["subtype"] == "dprk_mid" and dprk["evidence"]["static_ids"]
    # --json is one object holding the same events (the README's promise for --json)
    code, obj_out, err = cli("events", "--db", db, "--json")
    assert code == 0, err
    obj = json.loads(obj_out)  # one JSON document, not one per line
    assert obj == {"events": lines, "total": len(lines)}


def test_filters(cli, db):
    cli("detect", "--db", db, "-q")

    def n(*args):
        code, out, err = cli("events", "--db", db, "-f", "jsonl", *args)
        assert code == 0, err
        return [json.loads(line) for line in out.splitlines()]

    assert {e["type"] for e in n("--type", "port_visit", "--type", "voyage")} == {
        "port_visit",
        "voyage",
    }
    assert {e["mmsi"] for e in n("--mmsi", str(MMSI))} == {MMSI}
    assert sorted(e["type"] for e in n("--mmsi", str(OTHER + 1))) == [
        "encounter",
        "loitering",
    ]  # either vessel
    assert {e["mmsi"] for e in n("--since", "2024-01-11T12:00Z")} == {OTHER, OTHER + 1, 445000001}
    assert {e["type"] for e in n("--until", "2024-01-10T02:00Z")} == {"port_visit"}
    assert n("--since", "2024-01-13", "--until", "2024-01-14") == []


def test_csv_geojson_and_table(cli, db, tmp_path):
    cli("detect", "--db", db, "-q")
    code, out, _ = cli("events", "--db", db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 8 and json.loads(rows[0]["evidence"])["detector"]
    assert all(ISO_Z.match(r["start"]) for r in rows)
    code, out, _ = cli(
        "events", "--db", db, "--format", "geojson", "--type", "gap", "--type", "encounter"
    )
    fc = json.loads(out)
    assert fc["type"] == "FeatureCollection"
    geoms = sorted(f["geometry"]["type"] for f in fc["features"])
    assert geoms == ["LineString", "Point"]
    target = tmp_path / "events.geojson"
    code, _, err = cli("events", "--db", db, "--format", "geojson", "-o", target)
    assert (
        code == 0
        and len(json.loads(target.read_text())["features"]) == 8
        and "wrote 8 events" in err
    )
    code, out, _ = cli("events", "--db", db)
    assert code == 0 and "8 events" in out and "voyage" in out and "Rajin" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", "--type", "party"], "not an event type"),
        (["events", "--since", "yesterday"], "not an ISO-8601 time"),
    ],
)
def test_bad_flags_are_one_line_errors(cli, db, args, message):
    cli("detect", "--db", db, "-q")
    code, out, err = cli(*args, "--db", db)
    assert code != 0 and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["events"], ["detect"], ["screen"], ["risk"]])
def test_commands_that_read_a_store_refuse_a_missing_one(cli, tmp_path, command):
    missing = tmp_path / "missing.duckdb"
    code, _, err = cli(*command, "--db", missing)
    assert code == 4 and "no such store" in err and err.strip().count("\n") == 0
    assert not missing.exists()  # no empty store left behind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,lat,lon\nA,1,2\n", "header lacks country, radius_km"),
        (
            "name,country,lat,lon,radius_km\nA,RU,42,131,ten\n",
            'line 2: radius_km "ten" is not a number',
        ),
        ("name,country,lat,lon,radius_km\nA,RU,95,131,3\n", "line 2: lat 95.0 is out of range"),
        (
            "name,country,lat,lon,radius_km\nA,RU,42,131,3\nA,RU,43,131,3\n",
            'line 3: port "A" appears twice',
        ),
    ],
)
def test_bad_ports_file(cli, db, tmp_path, text, message):
    ports = tmp_path / "ports.csv"
    ports.write_text(text)
    code, _, err = cli("detect", "--db", db, "--ports", ports)
    assert code == 2 and message in err and str(ports) in err


def test_a_ports_file_replaces_the_bundled_list(cli, db, tmp_path):
    ports = tmp_path / "ports.csv"
    ports.write_text("name,country,lat,lon,radius_km,extra\nHome,RU,41.0,134.5,2.0,ignored\n")
    code, out, err = cli("detect", "--db", db, "--ports", ports, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert (
        rep["events"]["port_visit"] == 2
        and rep["events"]["voyage"] == 0
        and rep["events"]["encounter"] == 0
    )
    code, out, _ = cli("events", "--db", db, "--type", "port_visit", "-f", "jsonl")
    assert {json.loads(line)["port"] for line in out.splitlines()} == {"Home"}


def test_risk_report_and_export_use_the_ports_detection_used(cli, db, tmp_path):
    """`detect --ports X` then risk / report / export: they must rest on X, not on the bundled list."""
    ports = tmp_path / "ports.csv"
    # a North Korean port where the two loitering vessels lie (the bundled list has none there)
    ports.write_bytes("\ufeffname,country,lat,lon,radius_km\nHome,KP,41.0,134.5,2.0\n".encode())
    code, _, err = cli("detect", "--db", db, "--ports", ports)
    assert code == 0, err
    code, out, err = cli("risk", "--db", db, "--json")
    assert code == 0, err
    by_mmsi = {v["mmsi"]: v for v in json.loads(out)["vessels"]}
    signals = {s["signal"]: s for s in by_mmsi[OTHER]["signals"]}
    assert "dprk_port_visit" in signals and signals["dprk_port_visit"]["notes"] == ["called at Home"]

    # the store keeps the rows detection used: the file may go away
    ports.unlink()
    geo = tmp_path / "findings.geojson"
    code, _, err = cli("export", "--db", db, "--out", geo)
    assert code == 0, err
    features = json.loads(geo.read_text())["features"]
    assert {f["properties"]["name"] for f in features if f["properties"].get("kind") == "port"} == {
        "Home"
    }
    code, _, err = cli("report", "--db", db, "--out", tmp_path / "rep", "--no-pdf", "--top", "1")
    assert code == 0, err
    assert "Home" in (tmp_path / "rep" / "report.html").read_text()

    # naming another ports file than the one detection used is refused with one line
    other = tmp_path / "other.csv"
    other.write_text("name,country,lat,lon,radius_km\nElsewhere,RU,43.0,132.0,3.0\n")
    for command in ("risk", "report"):
        args = ["--out", tmp_path / "rep2"] if command == "report" else []
        code, _, err = cli(command, "--db", db, "--ports", other, "--quiet", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert str(other) in err and "not the ports file the events were detected with" in err


def test_a_store_without_the_ports_record_refuses_a_vanished_ports_file(cli, db, tmp_path):
    """Stores detected before the record was kept cite the file in the events: check it is unchanged."""
    ports = tmp_path / "ports.csv"
    ports.write_text("name,country,lat,lon,radius_km\nHome,KP,41.0,134.5,2.0\n")
    code, _, err = cli("detect", "--db", db, "--ports", ports)
    assert code == 0, err
    with DuckDBStore(db) as store:
        store.execute("DELETE FROM meta WHERE key = 'detect.ports'")
    code, out, err = cli("risk", "--db", db, "--json")
    assert code == 0, err  # the file is still there and unchanged: used
    assert any(
        s["signal"] == "dprk_port_visit"
        for v in json.loads(out)["vessels"]
        for s in v["signals"]
        if v["mmsi"] == OTHER
    )
    ports.write_text("name,country,lat,lon,radius_km\nHome,KP,41.0,134.6,2.0\n")
    code, _, err = cli("risk", "--db", db)
    assert code == 2 and "changed since the events were detected" in err and str(ports) in err
    ports.unlink()
    code, _, err = cli("risk", "--db", db)
    assert code == 2 and "is gone" in err and len(err.strip().splitlines()) == 1
