"""The detectors on every real capture in ../shared/data/ais: plausible, traceable, deterministic.

None of the captures covers Korea or the Russian Far East, so a ports file with three places the
captures do cover is used: the Seine at Vernon and a lock downstream (receiver of the Vernon logs)
and Pointe-à-Pitre harbour (CaribeWave 2017 receiver).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tumen.config import load_settings
from tumen.detect import run_detectors
from tumen.detect.events import event_records, query_events
from tumen.ingest import ingest_paths
from tumen.store import DuckDBStore

PORTS = """name,country,lat,lon,radius_km,source
Vernon,FR,49.094,1.488,1.5,Seine quays at Vernon (moored barges in the capture)
Garenne,FR,49.168,1.392,1.5,Seine lock of Notre-Dame-de-la-Garenne
Pointe-a-Pitre,GP,16.233,-61.542,2.0,harbour of Pointe-a-Pitre
"""


@pytest.fixture(scope="module")
def real(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("real")
    ports = tmp / "ports.csv"
    ports.write_text(PORTS)
    store = DuckDBStore(tmp / "real.duckdb")
    settings = load_settings(environ={})
    files = sorted((shared_data / "ais" / "nmea").iterdir()) + sorted(
        (shared_data / "ais" / "csv").iterdir()
    )
    ingest_paths(store, files, settings)
    report = run_detectors(store, settings, ports=ports)
    events = list(event_records(query_events(store)))
    yield store, report, events, ports, settings
    store.close()


def test_every_detector_finds_something_plausible(real):
    _, report, events, _, _ = real
    assert report.mode == "full" and report.positions > 200_000
    types = {e["type"] for e in events}
    # every encounter in these captures is in a harbour (see the last test): none with these ports
    assert {
        "port_visit",
        "voyage",
        "gap",
        "loitering",
        "identity",
    } <= types and "encounter" not in types


def test_no_event_rests_on_a_missing_or_quarantined_row(real):
    store, _, events, _, _ = real
    pos_ids = sorted({i for e in events for i in e["evidence"]["position_ids"]})
    st_ids = sorted({i for e in events for i in e["evidence"].get("static_ids", [])})
    assert pos_ids
    rows = store.query(
        """
        SELECT p.pos_id, s.sha256, q.reason
        FROM unnest(?::BIGINT[]) AS x(id)
        LEFT JOIN positions p ON p.pos_id = x.id
        LEFT JOIN sources s ON s.source_id = p.source_id
        LEFT JOIN quarantine q ON q.source_id = p.source_id AND q.line_no = p.line_no
        """,
        [pos_ids],
    ).to_pylist()
    assert all(r["pos_id"] is not None and r["sha256"] for r in rows)  # each traces to a file
    assert all(r["reason"] is None for r in rows)
    found = store.query(
        "SELECT count(*) AS n FROM statics WHERE static_id IN (SELECT unnest(?::BIGINT[]))",
        [st_ids],
    )
    assert found.column("n")[0].as_py() == len(st_ids)


def test_events_are_well_formed(real):
    _, _, events, _, _ = real
    for e in events:
        ev = e["evidence"]
        assert e["start"] <= e["end"]
        assert ev["detector"] == e["detector"] and isinstance(ev["params"], dict)
        if e["type"] == "encounter":
            assert e["other_mmsi"] is not None and e["other_mmsi"] != e["mmsi"]
            assert ev["min_distance_m"] <= 500 and ev["duration_h"] >= 2
        else:
            assert e["other_mmsi"] is None
        if e["type"] == "gap":
            assert (
                ev["duration_h"] >= 6
                and ev["implied_speed_kn"] <= 50 + 0.5 * 3600 / 1852 / ev["duration_h"]
            )
        if e["type"] == "loitering":
            assert ev["duration_h"] >= 4
        if e["type"] == "port_visit":
            assert e["port"] in {"Vernon", "Garenne", "Pointe-a-Pitre"} and ev["duration_h"] >= 0.5


def test_no_voyage_without_its_two_visits(real):
    _, _, events, _, _ = real
    visits = {e["event_id"]: e for e in events if e["type"] == "port_visit"}
    voyages = [e for e in events if e["type"] == "voyage"]
    assert voyages
    for v in voyages:
        a, b = visits[v["evidence"]["from_visit_id"]], visits[v["evidence"]["to_visit_id"]]
        assert (a["mmsi"], b["mmsi"]) == (v["mmsi"], v["mmsi"])
        assert (a["port"], b["port"]) == (v["from_port"], v["to_port"]) and a["port"] != b["port"]
        assert (a["end"], b["start"]) == (v["start"], v["end"])


def test_a_second_run_changes_nothing(real):
    store, _, events, ports, settings = real
    assert run_detectors(store, settings, ports=ports).mode == "unchanged"
    run_detectors(store, settings, ports=ports, full=True)
    again = list(event_records(query_events(store)))
    assert json.dumps(again, sort_keys=True) == json.dumps(events, sort_keys=True)


def test_encounters_happen_only_in_the_harbours(real):
    """With the bundled (Korean / Russian) ports, barges moored side by side at Vernon and ships in
    Pointe-a-Pitre harbour are encounters; they all lie within 10 km of the ports above."""
    from builders import distance_m

    store, _, _, ports, settings = real
    run_detectors(store, settings, full=True)
    encounters = list(event_records(query_events(store, types=["encounter"])))
    assert encounters
    harbours = [(49.094, 1.488), (49.168, 1.392), (16.233, -61.542)]
    for e in encounters:
        assert e["mmsi"] < e["other_mmsi"]
        assert min(distance_m(e["lat"], e["lon"], *h) for h in harbours) < 10_000
    run_detectors(store, settings, ports=ports, full=True)
