"""Observations ledger, corroboration and imagery cues, on a store the real detectors ran over.

The store (built with tests/builders.py, then `tumen detect`): ANGARA calls at Rajin, goes dark
for 20 h and reappears at Dunai (an AIS gap whose dark-port-call candidates include Rajin); a
second vessel's AIS jumps 450 km away for 40 minutes and back (a position_jump).
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from builders import statics, track, write
from tumen.store import DuckDBStore

SHUTTLE, JUMPER = 273456780, 273456785
HOSTILE = "<img src=x onerror=alert(1)></script><!--<script>"


@pytest.fixture()
def db(tmp_path: Path, cli) -> Path:
    from tumen.detect.ports import load_ports

    ports = {p["name"]: p for p in load_ports().to_pylist()}
    r, d = ports["Rajin"], ports["Dunai"]
    shuttle = track(SHUTTLE).at("2024-01-10T00:00Z", r["lat"], r["lon"]).stay("3h")
    shuttle.silence("20h").fix(d["lat"], d["lon"]).stay("3h")
    jumper = track(JUMPER).at("2024-01-10T00:00Z", 40.0, 134.0, sog=10).stay("2h")
    jumper.after("10min", 44.0, 136.0).every("10min", 3).after("10min", 40.0, 134.0).stay("2h")
    path = tmp_path / "t.duckdb"
    with DuckDBStore(path) as store:
        write(
            store,
            shuttle,
            jumper,
            statics(SHUTTLE, "2024-01-10T00:00Z", name="ANGARA", imo=9179842).every("6min", 3),
            statics(JUMPER, "2024-01-10T00:00Z", name=HOSTILE, imo=9161003).every("6min", 3),
        )
    code, _, err = cli("detect", "--db", path, "--json")
    assert code == 0, err
    return path


def _events(cli, db: Path, *flags: str) -> list[dict[str, Any]]:
    code, out, err = cli("events", "--db", db, "--format", "jsonl", *flags)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _gap(cli, db: Path) -> dict[str, Any]:
    (gap,) = _events(cli, db, "--type", "gap", "--mmsi", str(SHUTTLE))
    return gap


def _add(cli, db: Path, *flags: Any) -> dict[str, Any]:
    code, out, err = cli("observe", "add", "--db", db, "--json", *flags)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- corroboration
def test_an_observation_at_a_candidate_port_confirms_the_dark_port_call(cli, db: Path) -> None:
    gap = _gap(cli, db)
    assert "Rajin" in [c["port"] for c in gap["evidence"]["dark_port_candidates"]]
    assert gap["corroboration"] == []
    mid = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=8)
    obs = _add(
        cli,
        db,
        "--vessel",
        "9179842",
        "--time",
        f"{mid:%Y-%m-%dT%H:%M}Z",
        "--port",
        "najin",
        "--kind",
        "imagery",
        "--source",
        "https://example.org/scene",
        "--confidence",
        "high",
    )
    assert obs["mmsi"] == SHUTTLE and obs["port"] == "Rajin" and obs["name"] == "ANGARA"
    assert obs["added_by"] and obs["added_at"].endswith("Z")
    (c,) = obs["corroboration"]
    assert c["outcome"] == "confirms" and c["event_id"] == gap["event_id"] and c["port"] == "Rajin"
    gap = _gap(cli, db)
    (c,) = gap["corroboration"]
    assert c["obs_id"] == obs["obs_id"] and c["kind"] == "imagery"
    assert c["explanation"].startswith(
        "dark port call at Rajin confirmed by observation 1: imagery"
    )
    # the same observation again is a duplicate, not a second row
    again = _add(
        cli,
        db,
        "--vessel",
        "ANGARA",
        "--time",
        f"{mid:%Y-%m-%dT%H:%M}Z",
        "--port",
        "Rajin",
        "--kind",
        "imagery",
        "--source",
        "https://example.org/scene",
    )
    assert again["duplicate"] and again["obs_id"] == obs["obs_id"]
    # outside the dark window it confirms nothing
    after = datetime.fromisoformat(gap["end"][:-1]) + timedelta(hours=1)
    late = _add(
        cli,
        db,
        "--vessel",
        str(SHUTTLE),
        "--time",
        f"{after:%Y-%m-%dT%H:%M}Z",
        "--port",
        "Dunai",
        "--kind",
        "photo",
        "--source",
        "x",
    )
    assert all(c["outcome"] != "confirms" for c in late["corroboration"])


def test_an_observation_elsewhere_contradicts_the_jump(cli, db: Path) -> None:
    (jump,) = _events(cli, db, "--type", "identity", "--mmsi", str(JUMPER))
    assert jump["subtype"] == "position_jump"
    during = datetime.fromisoformat(jump["start"][:-1]) + timedelta(minutes=5)
    obs = _add(
        cli,
        db,
        "--vessel",
        str(JUMPER),
        "--time",
        f"{during:%Y-%m-%dT%H:%M}Z",
        "--lat",
        "40.0",
        "--lon",
        "134.0",
        "--kind",
        "imagery",
        "--source",
        "s",
    )
    found = [c for c in obs["corroboration"] if c["event_id"] == jump["event_id"]]
    assert found and found[0]["outcome"] == "contradicts"
    m = re.search(
        r"([\d.]+) km from the AIS fix .*\((\d+) min apart\).* the ([\d.]+) km",
        found[0]["explanation"],
    )
    assert m and float(m.group(1)) > 400 and float(m.group(3)) < float(m.group(1))
    (jump,) = _events(cli, db, "--type", "identity", "--mmsi", str(JUMPER))
    assert [c["outcome"] for c in jump["corroboration"]] == ["contradicts"]
    # where its AIS says it was, an observation contradicts nothing
    quiet = _add(
        cli,
        db,
        "--vessel",
        str(SHUTTLE),
        "--time",
        "2024-01-10T01:00Z",
        "--port",
        "Rajin",
        "--kind",
        "photo",
        "--source",
        "s",
    )
    assert quiet["corroboration"] == []


def test_an_unreachable_place_during_a_gap_contradicts_the_identity(cli, db: Path) -> None:
    gap = _gap(cli, db)
    t = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=1)
    obs = _add(
        cli,
        db,
        "--vessel",
        str(SHUTTLE),
        "--time",
        f"{t:%Y-%m-%dT%H:%M}Z",
        "--lat",
        "38.0",
        "--lon",
        "128.5",
        "--kind",
        "port_report",
        "--source",
        "s",
    )
    c = [c for c in obs["corroboration"] if c["event_id"] == gap["event_id"]]
    assert (
        c
        and c[0]["outcome"] == "contradicts"
        and "could not have been there" in c[0]["explanation"]
    )


# --------------------------------------------------------------------------- the ledger
def test_import_accounts_for_every_row(cli, db: Path, tmp_path: Path) -> None:
    attachment = tmp_path / "scene.png"
    attachment.write_bytes(b"\x89PNG fake image")
    path = tmp_path / "obs.csv"
    rows = [
        [
            "vessel",
            "time",
            "lat",
            "lon",
            "port",
            "kind",
            "source",
            "note",
            "confidence",
            "attachment",
        ],
        [
            "ANGARA",
            "2024-01-10T08:00Z",
            "",
            "",
            "Rajin",
            "imagery",
            "src 1",
            HOSTILE,
            "high",
            "scene.png",
        ],
        ["ANGARA", "yesterday", "", "", "Rajin", "imagery", "src", "", "", ""],  # line 3: bad time
        [
            "999999999",
            "2024-01-10T08:00Z",
            "",
            "",
            "Rajin",
            "imagery",
            "src",
            "",
            "",
            "",
        ],  # 4: unheard
        [
            "ANGARA",
            "2024-01-10T08:00Z",
            "",
            "",
            "Atlantis",
            "imagery",
            "src",
            "",
            "",
            "",
        ],  # 5: port
        [
            "ANGARA",
            "2024-01-10T08:00Z",
            "42",
            "130",
            "Rajin",
            "imagery",
            "src",
            "",
            "",
            "",
        ],  # 6: both
        ["ANGARA", "2024-01-10T08:00Z", "42", "", "", "imagery", "src", "", "", ""],  # 7: lat only
        ["ANGARA", "2024-01-10T08:00Z", "", "", "Rajin", "satellite", "src", "", "", ""],  # 8: kind
        [
            "9179843",
            "2024-01-10T08:00Z",
            "",
            "",
            "Rajin",
            "imagery",
            "src",
            "",
            "",
            "",
        ],  # 9: check digit
        [
            "ANGARA",
            "2024-01-10T09:00Z",
            "95",
            "130",
            "",
            "rail",
            "src",
            "",
            "",
            "",
        ],  # 10: lat range
        [
            "ANGARA",
            "2024-01-10T09:00Z",
            "42.9",
            "132.3",
            "",
            "rail",
            "src",
            "",
            "",
            "missing.png",
        ],  # 11
    ]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\nANGARA,2024-01-10T10:00Z,42.9,132.3,,rail,src 2,,low,,extra\n")  # line 13
    code, out, err = cli("observe", "import", path, "--db", db, "--json", "--added-by", "analyst")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["rows"] == rep["stored"] + rep["duplicates"] + rep["rejected"] == 11
    assert rep["stored"] == 1
    reasons = {r["line"]: r["reason"] for r in rep["rejections"]}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert "ISO-8601" in reasons[3] and "not been heard" in reasons[4]
    assert "not a watched port" in reasons[5] and "not both" in reasons[6]
    assert "check digit" in reasons[9] and "out of range" in reasons[10]
    assert "attachment" in reasons[11] and "more fields" in reasons[13]
    code, out, _ = cli("observe", "list", "--db", db, "--json")
    (obs,) = json.loads(out)["observations"]
    assert obs["note"] == HOSTILE and obs["added_by"] == "analyst"
    assert obs["origin"] == "obs.csv line 2"
    import hashlib

    assert obs["attachment_sha256"] == hashlib.sha256(attachment.read_bytes()).hexdigest()
    # the same file again: every good row is a duplicate, nothing is stored twice
    code, out, _ = cli("observe", "import", path, "--db", db, "--json")
    again = json.loads(out)
    assert (again["stored"], again["duplicates"], again["rejected"]) == (0, 1, 10)
    # JSON lines: a broken line is one rejection, not a traceback
    jl = tmp_path / "obs.jsonl"
    jl.write_text(
        json.dumps(
            {
                "vessel": "ANGARA",
                "time": "2024-01-10T11:00Z",
                "port": "Dunai",
                "kind": "port_report",
                "source": "PSC",
            }
        )
        + "\n{not json\n[1, 2]\n"
    )
    code, out, err = cli("observe", "import", jl, "--db", db, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert (rep["rows"], rep["stored"], rep["rejected"]) == (3, 1, 2)
    assert [r["line"] for r in rep["rejections"]] == [2, 3]


def test_bad_input_is_one_line_and_exit_2(cli, db: Path, tmp_path: Path) -> None:
    code, _, err = cli(
        "observe",
        "add",
        "--db",
        db,
        "--vessel",
        "NOBODY",
        "--time",
        "2024-01-10",
        "--port",
        "Rajin",
        "--kind",
        "photo",
        "--source",
        "s",
    )
    assert (
        code == 2
        and "NOBODY" in err
        and "Traceback" not in err
        and len(err.strip().splitlines()) == 1
    )
    code, _, err = cli("observe", "import", tmp_path / "absent.csv", "--db", db)
    assert code == 2 and "no such file" in err
    bad = tmp_path / "h.csv"
    bad.write_text("ship,when\nA,B\n")
    code, _, err = cli("observe", "import", bad, "--db", db)
    assert code == 2 and "line 1" in err and "header lacks" in err


# --------------------------------------------------------------------------- cues
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _signed_area(ring: list[list[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False)) / 2


def test_cues_for_every_dark_port_call_candidate(cli, db: Path, tmp_path: Path) -> None:
    from tumen.detect.ports import load_ports

    ports = {p["name"]: p for p in load_ports().to_pylist()}
    gap = _gap(cli, db)
    code, out, err = cli("cue", "--all", "--db", db, "--json", "--out", tmp_path / "cues")
    assert code == 0, err
    doc = json.loads(out)
    cands = [c["port"] for c in gap["evidence"]["dark_port_candidates"]]
    assert doc["total"] == len(cands) and [c["port"] for c in doc["cues"]] == cands
    for cue in doc["cues"]:
        p = ports[cue["port"]]
        w, s, e, n = cue["bbox"]
        assert w < p["lon"] < e and s < p["lat"] < n  # [west, south, east, north]
        ring = cue["aoi"]["coordinates"][0]
        assert ring[0] == ring[-1] and _signed_area(ring) > 0  # closed, counter-clockwise
        assert min(x for x, _ in ring) == w and max(y for _, y in ring) == n
        start, end = cue["datetime"].split("/")
        assert RFC3339.match(start) and RFC3339.match(end) and start < end
        assert (start, end) == (gap["start"], gap["end"])
        assert cue["radius_km"] == pytest.approx(p["radius_km"] + 2.0)
        bodies = {(r["catalogue"], r["sensor"]): r["body"] for r in cue["stac"]}
        assert set(bodies) == {(c, s) for c in ("earth-search", "cdse") for s in ("s1", "s2")}
        for (_catalogue, sensor), body in bodies.items():
            assert body["bbox"] == cue["bbox"] and body["datetime"] == cue["datetime"]
            assert body["collections"] == [{"s1": "sentinel-1-grd", "s2": "sentinel-2-l2a"}[sensor]]
            cloudy = "query" in body or "filter" in body
            assert cloudy == (sensor == "s2")
        assert bodies[("earth-search", "s2")]["query"] == {"eo:cloud_cover": {"lte": 30.0}}
        assert bodies[("cdse", "s2")]["filter"]["args"][0] == {"property": "eo:cloud_cover"}
        links = {b["sensor"]: b["url"] for b in cue["browser"]}
        assert "datasetId=S2_L2A_CDAS" in links["s2"] and "datasetId=S1_CDAS_IW_VVVH" in links["s1"]
        folder = tmp_path / "cues" / cue["cue_id"]
        assert json.loads((folder / "cdse-s2.json").read_text()) == bodies[("cdse", "s2")]
    geo = json.loads((tmp_path / "cues" / "cues.geojson").read_text())
    assert len(geo["features"]) == doc["total"]
    # on demand, any event: a port visit gets one cue around its position
    (visit, *_) = _events(cli, db, "--type", "port_visit")
    code, out, err = cli("cue", visit["event_id"], "--db", db, "--json")
    assert code == 0, err
    (cue,) = json.loads(out)["cues"]
    assert cue["event_id"] == visit["event_id"] and cue["port"] is None
    code, _, err = cli("cue", "nosuchevent", "--db", db)
    assert code == 2 and "nosuchevent" in err


# --------------------------------------------------------------------------- risk, report, exports, serve
def _confirmed_store(cli, db: Path) -> dict[str, Any]:
    gap = _gap(cli, db)
    mid = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=8)
    _add(
        cli,
        db,
        "--vessel",
        str(SHUTTLE),
        "--time",
        f"{mid:%Y-%m-%dT%H:%M}Z",
        "--port",
        "Rajin",
        "--kind",
        "imagery",
        "--source",
        HOSTILE,
        "--note",
        HOSTILE,
        "--confidence",
        "medium",
    )
    return gap


def test_risk_counts_the_observation_as_its_own_signal(cli, db: Path, tmp_path: Path) -> None:
    gap = _confirmed_store(cli, db)
    code, out, err = cli("risk", "--db", db, "--json")
    assert code == 0, err
    (v,) = [v for v in json.loads(out)["vessels"] if v["mmsi"] == SHUTTLE]
    sig = {s["signal"]: s for s in v["signals"]}
    conf = sig["observation_confirms_dark_call"]
    assert conf["event_ids"] == [gap["event_id"]] and conf["points"] == pytest.approx(
        25.0 * 2 / 3, abs=1e-3
    )
    assert sig["observed_dprk_port"]["entity_ids"] == ["observation 1"]
    # a weight of 0 switches it off
    toml = tmp_path / "w.toml"
    toml.write_text("[risk.weights]\nobservation_confirms_dark_call = 0\n")
    code, out, _ = cli("risk", "--db", db, "--json", "--config", toml)
    (v,) = [v for v in json.loads(out)["vessels"] if v["mmsi"] == SHUTTLE]
    assert "observation_confirms_dark_call" not in {s["signal"] for s in v["signals"]}


def test_report_shows_observations_and_cues_escaped(cli, db: Path, tmp_path: Path) -> None:
    gap = _confirmed_store(cli, db)
    code, _, err = cli(
        "report",
        "--db",
        db,
        "--out",
        tmp_path / "r",
        "--vessel",
        str(SHUTTLE),
        "--vessel",
        str(JUMPER),
        "--no-pdf",
    )
    assert code == 0, err
    text = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    assert not doc.xpath("//img[@onerror]") and not doc.xpath("//*[@onerror]")
    assert len(doc.xpath("//script[not(@type='application/json')]")) == len(
        re.findall(r"<script>", text)
    )
    (row,) = doc.xpath("//tr[contains(@class, 'observation-row')]")
    assert HOSTILE in row.text_content()
    (ev,) = doc.xpath(
        f"//tr[@data-event-id='{gap['event_id']}' and contains(@class, 'event-row')]"
    )[:1]
    assert "Confirmed" in ev.text_content() and "observation O1" in ev.text_content()
    cues = doc.xpath("//tr[contains(@class, 'cue-row')]")
    assert len(cues) == len(gap["evidence"]["dark_port_candidates"])
    for cue in cues:  # the addresses are text to copy: the report links nowhere outside itself
        assert "https://browser.dataspace.copernicus.eu/?" in cue.text_content()
    assert all(h.startswith("#") for h in doc.xpath("//a/@href"))
    # the hostile source is no link
    assert not [a for a in row.xpath(".//a") if "onerror" in (a.get("href") or "")]


def test_exports_carry_the_observation(cli, db: Path, tmp_path: Path) -> None:
    _confirmed_store(cli, db)
    code, _, err = cli(
        "export", "findings", "--db", db, "--format", "ftm", "--out", tmp_path / "f.ftm.json"
    )
    assert code == 0, err
    ents = [json.loads(line) for line in (tmp_path / "f.ftm.json").read_text().splitlines()]
    (obs,) = [e for e in ents if e["id"] == "tumen-observation-1"]
    assert obs["schema"] == "Event" and obs["properties"]["publisher"] == [HOSTILE]
    links = [
        e for e in ents if e["schema"] == "UnknownLink" and e["properties"]["object"] == [obs["id"]]
    ]
    assert links and links[0]["properties"]["subject"] == [f"tumen-vessel-{SHUTTLE}"]
    notes = [e for e in ents if e["schema"] == "Note"]
    assert notes and "confirmed by observation 1" in notes[0]["properties"]["description"][0]
    code, _, err = cli(
        "export", "findings", "--db", db, "--format", "geojson", "--out", tmp_path / "f.geojson"
    )
    assert code == 0, err
    feats = json.loads((tmp_path / "f.geojson").read_text())["features"]
    (o,) = [f for f in feats if f["properties"]["kind"] == "observation"]
    assert (
        o["geometry"]["type"] == "Point"
        and o["properties"]["corroboration"][0]["outcome"] == "confirms"
    )
    assert [
        f for f in feats if f["properties"]["kind"] == "cue" and f["geometry"]["type"] == "Polygon"
    ]
    code, _, err = cli(
        "export",
        "observations",
        "--db",
        db,
        "--format",
        "csv-evidence",
        "--out",
        tmp_path / "o.csv",
    )
    assert code == 0, err
    with open(tmp_path / "o.csv", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["note"] == HOSTILE and row["confirms"] and row["port"] == "Rajin"


def test_serve_vessel_json_has_the_observations(cli, db: Path) -> None:
    from fastapi.testclient import TestClient

    from tumen.config import load_settings
    from tumen.serve import create_app

    _confirmed_store(cli, db)
    app = create_app(db, load_settings(environ={}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = client.get(f"/api/vessels/{SHUTTLE}").json()
        (o,) = body["observations"]
        assert o["note"] == HOSTILE and o["corroboration"][0]["outcome"] == "confirms"
        assert client.get(f"/api/vessels/{SHUTTLE}/observations").json()["total"] == 1
        page = client.get(f"/vessels/{SHUTTLE}").text
    assert 'id="observations"' in page and "onerror" not in page


def test_a_shared_imo_resolves_to_the_mmsi_broadcasting_it_nearest_in_time(tmp_path: Path) -> None:
    """Two transmitters broadcast ANGARA's IMO a day apart (identity fraud): an observation goes to
    the one heard nearest its time, and a wrong check digit or an unknown name is refused."""
    from tumen.config import load_settings
    from tumen.detect.ports import load_ports
    from tumen.errors import InputError
    from tumen.observe.ledger import ObservationInput, prepare

    with DuckDBStore(tmp_path / "s.duckdb") as store:
        write(
            store,
            statics(SHUTTLE, "2024-01-10T00:00Z", name="ANGARA", imo=9179842),
            statics(JUMPER, "2024-01-11T00:00Z", name="ANGARA", imo=9179842),
        )
        settings = load_settings(environ={})

        def mmsi_at(vessel: str, time: str) -> int:
            inp = ObservationInput(vessel, time, "photo", "s", port="Rajin")
            return int(prepare(store, load_ports(), inp, settings, added_by="t")["mmsi"])

        assert mmsi_at("9179842", "2024-01-10T02:00Z") == SHUTTLE
        assert mmsi_at("IMO 9179842", "2024-01-11T03:00Z") == JUMPER
        assert mmsi_at("angara", "2024-01-11T03:00Z") == JUMPER
        assert mmsi_at(str(SHUTTLE), "2024-01-11T03:00Z") == SHUTTLE
        with pytest.raises(InputError, match="check digit"):
            mmsi_at("9179843", "2024-01-10T02:00Z")
        with pytest.raises(InputError, match="no vessel in the store broadcast the name"):
            mmsi_at("LAZURIT", "2024-01-10T02:00Z")
