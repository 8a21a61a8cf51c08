"""Observations in the web workspace's API: ``corroboration`` on /api/events exactly as `tumen
events` gives it, and /api/observations (the map's observations layer).

The store (tests/builders.py, then `tumen detect`): SHUTTLE calls at Rajin, goes dark for 20 h and
reappears at Dunai; an observation at Rajin in the dark time confirms the dark port call, one
of OTHER far from its AIS fixes contradicts its track.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serve_helpers import BASE

from builders import statics, track, write
from tumen.config import load_settings
from tumen.serve import create_app
from tumen.store import DuckDBStore

SHUTTLE, OTHER = 273456780, 273456785
HOSTILE = "<img src=x onerror=alert(1)></script><!--<script>"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clirun import run_cli
    from tumen.detect.ports import load_ports

    ports = {p["name"]: p for p in load_ports().to_pylist()}
    r, d = ports["Rajin"], ports["Dunai"]
    shuttle = track(SHUTTLE).at("2024-01-10T00:00Z", r["lat"], r["lon"]).stay("3h")
    shuttle.silence("20h").fix(d["lat"], d["lon"]).stay("3h")
    other = track(OTHER).at("2024-01-12T00:00Z", 40.0, 134.0, sog=0).stay("4h")
    path = tmp_path_factory.mktemp("serve-obs") / "o.duckdb"
    with DuckDBStore(path) as store:
        write(
            store,
            shuttle,
            other,
            statics(SHUTTLE, "2024-01-10T00:00Z", name="ANGARA").every("6min", 3),
            statics(OTHER, "2024-01-12T00:00Z", name=HOSTILE).every("6min", 3),
        )
    code, _, err = run_cli("detect", "--db", path, "--json")
    assert code == 0, err
    code, out, err = run_cli("events", "--db", path, "--json", "--type", "gap")
    assert code == 0, err
    (gap,) = json.loads(out)["events"]
    mid = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=8)
    for vessel, when, place in (
        (str(SHUTTLE), f"{mid:%Y-%m-%dT%H:%M}Z", ("--port", "Rajin")),
        (str(OTHER), "2024-01-12T02:00Z", ("--lat", "41.0", "--lon", "134.0")),
    ):
        code, _, err = run_cli(
            "observe", "add", "--db", path, "--vessel", vessel, "--time", when, *place,
            "--kind", "imagery", "--source", HOSTILE, "--note", HOSTILE,
        )  # fmt: skip
        assert code == 0, err
    return path


@pytest.fixture(scope="module")
def client(db: Path):
    with TestClient(create_app(db, load_settings(environ={})), base_url=BASE) as c:
        yield c


def _cli_events(db: Path) -> dict[str, dict[str, Any]]:
    from clirun import run_cli

    code, out, err = run_cli("events", "--db", db, "--json")
    assert code == 0, err
    return {e["event_id"]: e for e in json.loads(out)["events"]}


def test_api_events_carry_the_cli_corroboration(client, db: Path) -> None:
    cli = _cli_events(db)
    r = client.get("/api/events", params={"limit": 1000})
    assert r.status_code == 200, r.text
    api = {e["event_id"]: e for e in r.json()["events"]}
    assert api == cli  # every key, corroboration included, as `tumen events --json`
    shown = [c for e in api.values() for c in e["corroboration"]]
    assert [c["outcome"] for c in shown] == ["confirms"]
    (gap,) = [e for e in api.values() if e["corroboration"]]
    assert gap["type"] == "gap" and gap["corroboration"][0]["port"] == "Rajin"
    assert gap["corroboration"][0]["source"] == HOSTILE  # data, as stored
    # a filtered page carries it too
    r = client.get("/api/events", params={"type": "gap", "mmsi": SHUTTLE})
    assert [e["corroboration"] for e in r.json()["events"]] == [gap["corroboration"]]


def test_api_observations_for_the_map(client, db: Path) -> None:
    body = client.get("/api/observations").json()
    assert body["total"] == 2 and [o["mmsi"] for o in body["observations"]] == [SHUTTLE, OTHER]
    first, second = body["observations"]
    assert first["note"] == HOSTILE and first["port"] == "Rajin"
    assert [c["outcome"] for c in first["corroboration"]] == ["confirms"]
    # OTHER seen 110 km from where its AIS put it: the AIS track itself is contradicted
    assert [(c["event_id"], c["outcome"]) for c in second["corroboration"]] == [
        (None, "contradicts")
    ]
    # the same objects as the vessel's own list
    own = client.get(f"/api/vessels/{SHUTTLE}/observations").json()["observations"]
    assert own == [first]
    # filters
    assert [
        o["mmsi"]
        for o in client.get("/api/observations", params={"mmsi": OTHER}).json()["observations"]
    ] == [OTHER]
    later = client.get("/api/observations", params={"since": "2024-01-11T12:00Z"}).json()
    assert later["total"] == 1 and later["observations"][0]["mmsi"] == OTHER
    earlier = client.get("/api/observations", params={"until": "2024-01-11T12:00+00:00"}).json()
    assert [o["mmsi"] for o in earlier["observations"]] == [SHUTTLE]
    paged = client.get("/api/observations", params={"limit": 1, "offset": 1}).json()
    assert paged["total"] == 2 and paged["observations"] == [second]
    r = client.get("/api/observations", params={"since": "yesterday"})
    assert r.status_code == 422 and r.json()["param"] == "since"
    r = client.get("/api/observations", params={"since": "2024-02-01", "until": "2024-01-01"})
    assert r.status_code == 422


def test_no_observations_table_is_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "bare.duckdb"
    with DuckDBStore(path) as store:
        store.execute("DROP TABLE observations")
    with TestClient(create_app(path, load_settings(environ={})), base_url=BASE) as c:
        assert c.get("/api/observations").json()["observations"] == []
        assert c.get("/api/events").json()["events"] == []
