"""Exports for the tools analysts use: FtM (Aleph), GeoJSON, KML (Google Earth), CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from followthemoney import EntityProxy, model
from lxml import etree
from shapely.geometry import shape

from scenario_store import ANGARA, BELLA, KUMUNSAN, build_scenario_store
from tumen.config import load_settings
from tumen.export.evidence_csv import EVENT_COLUMNS, write_csv
from tumen.export.ftm import vessel_id, write_ftm
from tumen.export.geojson import write_geojson
from tumen.export.kml import KML_NS, write_kml


@pytest.fixture()
def scenario(store, tmp_path: Path):
    build_scenario_store(store, tmp_path / "raw")
    return store


@pytest.fixture()
def settings():
    return load_settings(environ={})


def _event_ids(store) -> set[str]:
    return set(store.query("select event_id from events").column("event_id").to_pylist())


def test_ftm_round_trips_through_followthemoney(scenario, settings, tmp_path: Path) -> None:
    out = tmp_path / "findings.ftm.json"
    n = write_ftm(scenario, out, settings)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) > 0
    ours = [json.loads(line) for line in lines]

    # followthemoney's own validator re-parses and re-cleans every value: nothing may change
    ftm = Path(sys.executable).with_name("ftm")
    cleaned = tmp_path / "validated.ftm.json"
    subprocess.run([str(ftm), "validate", "-i", str(out), "-o", str(cleaned)], check=True)
    theirs = [json.loads(line) for line in cleaned.read_text(encoding="utf-8").splitlines()]
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs, strict=True):
        assert a["id"] == b["id"] and a["schema"] == b["schema"]
        assert {k: sorted(v) for k, v in a["properties"].items()} == {
            k: sorted(v) for k, v in b["properties"].items()
        }

    # each entity passes its schema's validation and every reference resolves inside the file (Aleph needs it)
    ids = {e["id"] for e in ours}
    assert len(ids) == len(ours)
    for data in ours:
        proxy = EntityProxy.from_dict(data)
        assert proxy.schema.validate(data) is None
        for prop, value in proxy.itervalues():
            if prop.type.name == "entity":
                assert value in ids, (data["id"], prop.name, value)

    by_schema: dict[str, list[dict]] = {}
    for e in ours:
        by_schema.setdefault(e["schema"], []).append(e)
    angara = next(e for e in by_schema["Vessel"] if e["id"] == vessel_id(ANGARA))
    assert angara["properties"]["name"] == ["LAZURIT"] and angara["properties"]["previousName"] == [
        "ANGARA"
    ]
    assert angara["properties"]["imoNumber"] == ["IMO9179842"] and angara["properties"]["mmsi"] == [
        str(ANGARA)
    ]
    trip = by_schema["Trip"][0]
    assert trip["properties"]["vehicle"] == [vessel_id(ANGARA)]
    # every event is exported, with its provenance in the notes
    record_ids = {e["properties"]["recordId"][0] for e in by_schema["Event"] + by_schema["Trip"]}
    assert record_ids == _event_ids(scenario)
    assert all("sha256" in e["properties"]["notes"][0] for e in by_schema["Event"])
    # the encounter is tied to both vessels
    enc = next(
        e for e in by_schema["Event"] if e["properties"]["summary"][0].startswith("Encounter")
    )
    subjects = {
        link["properties"]["subject"][0]
        for link in by_schema["UnknownLink"]
        if link["properties"]["object"] == [enc["id"]]
    }
    assert subjects == {vessel_id(KUMUNSAN), vessel_id(BELLA)}
    # screening matches become links to the listed entity; risk is a Risk entity
    roles = {
        link["properties"]["role"][0]
        for link in by_schema["UnknownLink"]
        if link["properties"]["subject"] == [vessel_id(ANGARA)]
    }
    assert {"sanctions match: vessel", "sanctions match: owner"} <= roles
    risk = next(e for e in by_schema["Risk"] if e["properties"]["entity"] == [vessel_id(ANGARA)])
    assert "Voyage between North Korea and Russia" in risk["properties"]["reason"][0]
    assert model.get("Risk") is not None


def test_listed_entities_come_from_the_loaded_lists(scenario, settings, tmp_path: Path) -> None:
    """When table `entities` holds the listed party, the export carries it and its Sanction."""
    import pyarrow as pa

    scenario.execute(
        """CREATE TABLE IF NOT EXISTS entities (entity_id VARCHAR, list_id VARCHAR, schema VARCHAR, caption VARCHAR,
           datasets VARCHAR, programs VARCHAR, target BOOLEAN, entity VARCHAR)"""
    )
    vessel = {
        "id": "ofac-angara",
        "schema": "Vessel",
        "properties": {"name": ["ANGARA"], "imoNumber": ["IMO9179842"]},
    }
    sanction = {
        "id": "ofac-angara-sanction",
        "schema": "Sanction",
        "properties": {
            "entity": ["ofac-angara"],
            "program": ["RUSSIA-EO14024"],
            "authority": ["OFAC"],
        },
    }
    scenario.append(
        "entities",
        pa.Table.from_pylist(
            [
                {
                    "entity_id": e["id"],
                    "list_id": "us_ofac_sdn",
                    "schema": e["schema"],
                    "caption": "ANGARA",
                    "datasets": "[]",
                    "programs": "[]",
                    "target": e["schema"] == "Vessel",
                    "entity": json.dumps(e),
                }
                for e in (vessel, sanction)
            ]
        ),
    )
    out = tmp_path / "f.json"
    write_ftm(scenario, out, settings, vessels=[ANGARA])
    ents = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert (
        ents["ofac-angara"]["schema"] == "Vessel"
        and ents["ofac-angara-sanction"]["schema"] == "Sanction"
    )
    # only ANGARA's findings
    vessels = {
        e["id"] for e in ents.values() if e["schema"] == "Vessel" and e["id"].startswith("tumen-")
    }
    assert vessels == {vessel_id(ANGARA)}


def test_geojson_features_are_valid_geometries(scenario, settings, tmp_path: Path) -> None:
    out = tmp_path / "findings.geojson"
    n = write_geojson(scenario, out, settings)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == n
    kinds: dict[str, list[dict]] = {}
    for feat in doc["features"]:
        kinds.setdefault(feat["properties"]["kind"], []).append(feat)
        if feat["geometry"] is not None:
            geom = shape(feat["geometry"])
            assert geom.is_valid and not geom.is_empty
            minx, miny, maxx, maxy = geom.bounds
            assert (
                120 < minx <= maxx < 140 and 35 < miny <= maxy < 45
            )  # [lon, lat] order, in the scenario's sea
    assert {f["properties"]["event_id"] for f in kinds["event"]} == _event_ids(scenario)
    gap = next(f for f in kinds["event"] if f["properties"]["type"] == "gap")
    assert gap["geometry"]["type"] == "LineString"
    assert gap["properties"]["start"].endswith("Z") and gap["properties"]["provenance"][0]["sha256"]
    voyage = next(f for f in kinds["event"] if f["properties"]["type"] == "voyage")
    assert (
        voyage["properties"]["from_port"] == "Rajin" and voyage["geometry"]["type"] == "LineString"
    )
    tracks = {f["properties"]["mmsi"]: f for f in kinds["track"]}
    assert set(tracks) == {ANGARA, KUMUNSAN, BELLA, 636000001}  # vessels with a risk signal
    assert len(tracks[ANGARA]["geometry"]["coordinates"]) == 2  # broken at the 13-hour gap
    assert len(kinds["port"]) == 17


def test_kml_parses_with_standard_parsers(scenario, settings, tmp_path: Path) -> None:
    out = tmp_path / "findings.kml"
    n = write_kml(scenario, out, settings)
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{{{KML_NS}}}kml"
    placemarks = root.findall(f".//{{{KML_NS}}}Placemark")
    assert len(placemarks) == n
    event_ids = {
        d.findtext(f"{{{KML_NS}}}value")
        for d in root.iterfind(f".//{{{KML_NS}}}Data[@name='event_id']")
    }
    # every event with a place is a placemark (identity events without a position are not drawn)
    assert event_ids >= _event_ids(scenario) - {
        r["event_id"]
        for r in scenario.query("select event_id from events where lat is null").to_pylist()
    }
    # fastkml validates against the OGC KML 2.2 schema while parsing
    from fastkml import kml

    doc = kml.KML.parse(str(out))
    folders = list(doc.features[0].features)
    assert folders[0].name == "Watched ports" and len(folders[0].features) == 17
    assert folders[1].name.startswith("1. LAZURIT")
    times = [pm.times for pm in folders[1].features if pm.times is not None]
    assert times


def test_csv_events_with_provenance_and_risk(scenario, settings, tmp_path: Path) -> None:
    buf = io.StringIO()
    n = write_csv(scenario, buf, settings)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert n == len(rows) == len(_event_ids(scenario))
    assert tuple(rows[0]) == EVENT_COLUMNS
    gap = next(r for r in rows if r["type"] == "gap")
    assert (
        gap["source_sha256"]
        and gap["source_lines"]
        and json.loads(gap["evidence"])["detector"] == "gaps"
    )
    out = tmp_path / "risk.csv"
    write_csv(scenario, out, settings, table="risk")
    risk = list(csv.DictReader(out.open(encoding="utf-8")))
    assert risk[0]["mmsi"] == str(ANGARA) and "Rajin → Dunai" in risk[0]["explanation"]


@pytest.mark.parametrize(
    "fmt, name, table",
    [
        ("ftm", "f.ftm.json", None),
        ("geojson", "f.geojson", "events"),
        ("kml", "f.kml", None),
        ("csv-evidence", "e.csv", "events"),
    ],
)
def test_tumen_export_findings_formats(
    cli, scenario, tmp_path: Path, fmt: str, name: str, table: str | None
) -> None:
    path = scenario.path
    scenario.close()
    out = tmp_path / name
    args = [
        "export",
        *([table] if table else []),
        "--out",
        out,
        "--format",
        fmt,
        "--db",
        path,
        "--json",
    ]
    code, stdout, err = cli(*args)
    assert code == 0, err
    obj = json.loads(stdout)
    assert obj["format"] == fmt and obj["rows"] > 0 and out.stat().st_size > 0
    # the store was opened read-only and never ranked: nothing was written to it
    from tumen.store import DuckDBStore

    with DuckDBStore(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM risk") == 0


def test_tumen_export_suffix_and_scope(cli, scenario, tmp_path: Path) -> None:
    path = scenario.path
    scenario.close()
    code, stdout, err = cli("export", "--out", tmp_path / "x.geojson", "--db", path, "--json")
    assert code == 0 and json.loads(stdout)["format"] == "geojson"
    code, stdout, err = cli("export", "positions", "--out", tmp_path / "x.kml", "--db", path)
    assert code == 2 and "writes findings" in err
    code, stdout, err = cli("export", "--out", tmp_path / "x.parquet", "--db", path)
    assert code == 2 and "give the table" in err


@pytest.mark.parametrize("name", ['=HYPERLINK("http://127.0.0.1/x","click")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(scenario, settings, name: str) -> None:
    """A vessel name comes over the air from anyone: in the CSV it must stay text, not a formula."""
    scenario.execute("UPDATE statics SET name = ? WHERE mmsi = ?", [name, ANGARA])
    buf = io.StringIO()
    write_csv(scenario, buf, settings)
    rows = [r for r in csv.DictReader(io.StringIO(buf.getvalue())) if r["mmsi"] == str(ANGARA)]
    assert rows and {r["name"] for r in rows} == {"'" + name}
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
    buf = io.StringIO()
    write_csv(scenario, buf, settings, table="risk")
    risk = next(r for r in csv.DictReader(io.StringIO(buf.getvalue())) if r["mmsi"] == str(ANGARA))
    assert risk["name"] == "'" + name
    assert float(risk["score"]) > 0  # numbers are left as numbers
