"""The JSON API over a real store built from the simulated scenario: every filter, every error status."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_helpers import BASE, add_alerts

from scenario_store import ANGARA, BELLA, KUMUNSAN, PACIFIC, SEAHORSE
from tumen.config import load_settings
from tumen.detect.events import CONTRACT_KEYS, event_records, query_events
from tumen.serve import create_app
from tumen.store import DuckDBStore


@pytest.fixture(scope="module")
def client(scenario_db):
    app = create_app(scenario_db[0], load_settings(environ={}))
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def scenario(scenario_db):
    return scenario_db[1]


@pytest.fixture(scope="module")
def all_events(scenario_db):
    """The events as `tumen events --format jsonl` gives them (with ``corroboration``)."""
    from tumen.observe.corroborate import attach, corroborations

    with DuckDBStore(scenario_db[0], read_only=True) as store:
        records = list(event_records(query_events(store)))
        attach(records, corroborations(store, load_settings(environ={})))
        return records


def ids(resp) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {e["event_id"] for e in resp.json()["events"]}


def test_events_are_the_contract_and_total_counts_all(client, all_events) -> None:
    r = client.get("/api/events", params={"limit": 3})
    body = r.json()
    assert body["total"] == len(all_events) and len(body["events"]) == 3
    assert body["events"] == all_events[:3]  # same objects as `tumen events --format jsonl`
    assert list(body["events"][0])[: len(CONTRACT_KEYS)] == list(CONTRACT_KEYS)
    assert body["names"][str(ANGARA)] == "LAZURIT"


@pytest.mark.parametrize(
    "params, keep",
    [
        ({"type": "gap"}, lambda e: e["type"] == "gap"),
        ({"type": "gap,port_visit"}, lambda e: e["type"] in ("gap", "port_visit")),
        ({"subtype": "dprk_mid"}, lambda e: e["subtype"] == "dprk_mid"),
        ({"mmsi": BELLA}, lambda e: BELLA in (e["mmsi"], e["other_mmsi"])),
        ({"since": "2024-01-11T06:00Z"}, lambda e: e["end"] >= "2024-01-11T06:00:00Z"),
        ({"until": "2024-01-10T07:00:00+00:00"}, lambda e: e["start"] <= "2024-01-10T07:00:00Z"),
        ({"since": "2024-01-11T09:00+09:00"}, lambda e: e["end"] >= "2024-01-11T00:00:00Z"),
        (
            {"bbox": "130,42,131,43"},
            lambda e: e["lat"] is not None and 42 <= e["lat"] <= 43 and 130 <= e["lon"] <= 131,
        ),
        ({"port": "rajin"}, lambda e: "Rajin" in (e["port"], e["from_port"], e["to_port"])),
    ],
)
def test_each_event_filter_keeps_exactly_what_it_says(client, all_events, params, keep) -> None:
    expected = {e["event_id"] for e in all_events if keep(e)}
    assert expected and expected != {e["event_id"] for e in all_events}
    assert ids(client.get("/api/events", params={**params, "limit": 1000})) == expected
    assert client.get("/api/events", params=params).json()["total"] == len(expected)


def test_bbox_across_the_antimeridian_keeps_both_sides(client) -> None:
    assert ids(client.get("/api/events", params={"bbox": "179,-10,-179,10"})) == set()
    assert client.get("/api/events", params={"bbox": "131,41,-170,43"}).json()["total"] > 0


def test_paging_and_sorting(client, all_events) -> None:
    first = client.get("/api/events", params={"limit": 4, "offset": 0}).json()["events"]
    second = client.get("/api/events", params={"limit": 4, "offset": 4}).json()["events"]
    assert [e["event_id"] for e in first + second] == [e["event_id"] for e in all_events[:8]]
    longest = client.get("/api/events", params={"sort": "-duration", "limit": 1}).json()["events"][0]
    from datetime import datetime

    def dur(e):
        f = "%Y-%m-%dT%H:%M:%SZ"
        return datetime.strptime(e["end"], f) - datetime.strptime(e["start"], f)

    assert dur(longest) == max(dur(e) for e in all_events)
    by_mmsi = client.get("/api/events", params={"sort": "-mmsi", "limit": 1000}).json()["events"]
    assert [e["mmsi"] for e in by_mmsi] == sorted((e["mmsi"] for e in all_events), reverse=True)


def test_a_huge_limit_is_capped(client) -> None:
    body = client.get("/api/events", params={"limit": 10**9}).json()
    assert body["limit"] == load_settings(environ={}).serve.max_limit


@pytest.mark.parametrize(
    "path, params, param",
    [
        ("/api/events", {"limit": 0}, "limit"),
        ("/api/events", {"limit": "ten"}, "limit"),
        ("/api/events", {"offset": -1}, "offset"),
        ("/api/events", {"type": "party"}, "type"),
        ("/api/events", {"subtype": "spoofing"}, "subtype"),
        ("/api/events", {"mmsi": "12x"}, "mmsi"),
        ("/api/events", {"mmsi": 10**10}, "mmsi"),
        ("/api/events", {"since": "yesterday"}, "since"),
        ("/api/events", {"until": "2024-13-01"}, "until"),
        ("/api/events", {"since": "2024-01-12", "until": "2024-01-11"}, "since"),
        ("/api/events", {"bbox": "1,2,3"}, "bbox"),
        ("/api/events", {"bbox": "0,50,10,40"}, "bbox"),
        ("/api/events", {"bbox": "0,0,200,10"}, "bbox"),
        ("/api/events", {"sort": "name; drop table events"}, "sort"),
        ("/api/vessels", {"min_score": -1}, "min_score"),
        ("/api/vessels", {"listed": "maybe"}, "listed"),
        ("/api/vessels", {"limit": -5}, "limit"),
        (f"/api/vessels/{ANGARA}/track", {"simplify_m": -1}, "simplify_m"),
        (f"/api/vessels/{ANGARA}/track", {"since": "soon"}, "since"),
        ("/api/vessels/not-a-number", {}, "mmsi"),
        ("/api/search", {}, "q"),
        ("/api/search", {"q": "   "}, "q"),
        ("/api/search", {"q": "x" * 201}, "q"),
        ("/api/alerts", {"since": "later"}, "since"),
        ("/api/export", {"format": "pdf"}, "format"),
        ("/api/export", {}, "format"),
        ("/api/export", {"format": "csv", "type": "party"}, "type"),
        ("/api/coast", {"bbox": "x"}, "bbox"),
        ("/api/events/bad id!/provenance", {}, "event_id"),
    ],
)
def test_bad_parameters_get_one_json_422_naming_the_parameter(client, path, params, param) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["status"] == 422 and body["param"] == param
    assert isinstance(body["error"], str) and body["error"].startswith(param)


def test_unknown_things_are_404_as_json(client) -> None:
    for path in (
        "/api/vessels/123456789",
        "/api/vessels/123456789/track",
        "/api/events/0123456789abcdef/provenance",
        "/api/no-such-endpoint",
        "/vessels/123456789/dossier.html",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["status"] == 404 and r.json()["error"]


def test_the_server_is_read_only(client) -> None:
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client, method)("/api/events")
        assert r.status_code == 405 and r.json()["status"] == 405


def test_vessels_are_ranked_and_filtered(client, scenario_db) -> None:
    body = client.get("/api/vessels").json()
    assert body["ranked"] and body["total"] == 5
    ranks = [v["rank"] for v in body["vessels"]]
    assert ranks == sorted(ranks) and body["vessels"][0]["mmsi"] == ANGARA
    top = body["vessels"][0]
    assert top["score"] == pytest.approx(sum(s["points"] for s in top["signals"]))
    listed = {v["mmsi"] for v in client.get("/api/vessels", params={"listed": "true"}).json()["vessels"]}
    unlisted = {v["mmsi"] for v in client.get("/api/vessels", params={"listed": "false"}).json()["vessels"]}
    with DuckDBStore(scenario_db[0], read_only=True) as store:
        matched = set(store.query("SELECT DISTINCT mmsi FROM matches WHERE match").column("mmsi").to_pylist())
    assert listed == matched and unlisted == {ANGARA, BELLA, KUMUNSAN, PACIFIC, SEAHORSE} - matched
    strong = client.get("/api/vessels", params={"min_score": 50}).json()["vessels"]
    assert strong and all(v["score"] >= 50 for v in strong)
    assert [v["mmsi"] for v in client.get("/api/vessels", params={"q": "kum un"}).json()["vessels"]] == [KUMUNSAN]
    assert [v["mmsi"] for v in client.get("/api/vessels", params={"q": "9743033"}).json()["vessels"]] == [BELLA]
    assert len(client.get("/api/vessels", params={"limit": 2}).json()["vessels"]) == 2


def test_vessel_detail_explains_itself(client, scenario) -> None:
    v = client.get(f"/api/vessels/{ANGARA}").json()
    assert [h["name"] for h in v["identity_history"]] == ["ANGARA", "LAZURIT"]
    assert v["identity"]["name"] == "LAZURIT" and v["identity"]["mid"]["iso"] == "RU"
    assert v["risk"]["rank"] == 1
    assert v["risk"]["score"] == pytest.approx(sum(s["points"] for s in v["risk"]["signals"]))
    roles = {m["role"]: m for m in v["matches"]}
    assert roles["vessel"]["features"]["imo_exact"] == 1.0
    assert roles["owner"]["caption"] == "M LEASING LLC"
    assert v["ownership_paths"][0]["path"][0]["to"] == "ofac-m-leasing"
    assert {e["event_id"] for e in v["events"]} >= {scenario.events["angara_gap"], scenario.events["angara_voyage"]}
    assert v["positions"]["count"] > 0 and v["positions"]["first"].endswith("Z")


def test_track_breaks_at_the_gap_and_simplifies(client) -> None:
    full = client.get(f"/api/vessels/{ANGARA}/track", params={"simplify_m": 0}).json()
    assert full["geometry"]["type"] == "MultiLineString"
    parts = full["properties"]["parts"]
    assert len(parts) == 2 and parts[0]["end"] == "2024-01-10T08:00:00Z" and parts[1]["start"] == "2024-01-10T21:00:00Z"
    assert full["properties"]["n_points"] == full["properties"]["n_positions"]
    coarse = client.get(f"/api/vessels/{ANGARA}/track", params={"simplify_m": 2000}).json()
    assert coarse["properties"]["n_points"] < full["properties"]["n_points"] / 5
    # simplification keeps stored fixes: every kept vertex is one of the full track's
    full_pts = {tuple(p) for line in full["geometry"]["coordinates"] for p in line}
    assert {tuple(p) for line in coarse["geometry"]["coordinates"] for p in line} <= full_pts
    after = client.get(f"/api/vessels/{ANGARA}/track", params={"since": "2024-01-11", "until": "2024-01-11T12:00Z"}).json()
    assert after["geometry"]["type"] == "LineString"
    assert after["properties"]["start"] >= "2024-01-11T00:00:00Z" and after["properties"]["end"] <= "2024-01-11T12:00:00Z"
    none = client.get(f"/api/vessels/{ANGARA}/track", params={"since": "2030-01-01"}).json()
    assert none["geometry"] is None and none["properties"]["n_positions"] == 0


def test_search_finds_a_misspelt_vessel_and_the_listed_party(client) -> None:
    body = client.get("/api/search", params={"q": "ANGRA"}).json()
    assert body["vessels"][0]["mmsi"] == ANGARA and body["vessels"][0]["matched"] == "name"
    assert any(p["caption"] == "ANGARA" for p in body["parties"])
    assert client.get("/api/search", params={"q": "lazurit"}).json()["vessels"][0]["mmsi"] == ANGARA
    assert client.get("/api/search", params={"q": "2731111"}).json()["vessels"][0]["mmsi"] == ANGARA
    by_imo = client.get("/api/search", params={"q": "9743033"}).json()
    assert by_imo["vessels"][0]["mmsi"] == BELLA and by_imo["vessels"][0]["matched"] == "imo"
    assert client.get("/api/search", params={"q": "UBAB2"}).json()["vessels"][0]["mmsi"] == BELLA
    assert client.get("/api/search", params={"q": "QQQQQQQQ"}).json()["vessels"] == []


def test_provenance_reads_the_raw_lines_back(client, scenario) -> None:
    body = client.get(f"/api/events/{scenario.events['angara_gap']}/provenance").json()
    (src,) = body["sources"]
    assert src["path"] == str(scenario.source_path) and src["sha256"] == scenario.sha256
    assert src["available"] and src["unchanged"] is True and src["error"] is None
    file_lines = scenario.source_path.read_text(encoding="utf-8").splitlines()
    assert src["lines"] and all(ln["text"] == file_lines[ln["line"] - 1] for ln in src["lines"])
    assert [ln["line"] for ln in src["lines"]] == [n for a, b in src["ranges"] for n in range(a, b + 1)]
    assert all(str(ANGARA) in ln["text"] for ln in src["lines"])


def test_provenance_of_a_gzipped_moved_or_changed_source(tmp_path: Path) -> None:
    from serve_helpers import build_store

    db, scenario = build_store(tmp_path / "s")
    eid = scenario.events["angara_rajin"]
    original = scenario.source_path.read_bytes()
    lines = original.decode().splitlines()
    gz = scenario.source_path.with_suffix(".nmea.gz")
    gz.write_bytes(gzip.compress(original))
    with DuckDBStore(db) as store:
        store.execute("UPDATE sources SET path = ?", [str(gz)])
    app = create_app(db, load_settings(environ={}))
    with TestClient(app, base_url=BASE) as c:
        (src,) = c.get(f"/api/events/{eid}/provenance").json()["sources"]
        assert src["available"] and src["lines"]
        assert all(ln["text"] == lines[ln["line"] - 1] for ln in src["lines"])
        assert src["unchanged"] is False  # the stored hash is of the plain file
        gz.unlink()
        (src,) = c.get(f"/api/events/{eid}/provenance").json()["sources"]
        assert not src["available"] and src["lines"] == [] and "no longer" in src["error"]
        gz.write_bytes(b"\x1f\x8bnot really gzip")
        (src,) = c.get(f"/api/events/{eid}/provenance").json()["sources"]
        assert not src["available"] and "cannot read" in src["error"]


def test_alerts_empty_without_watch_then_listed_and_filtered(tmp_path: Path) -> None:
    from serve_helpers import build_store

    db, _ = build_store(tmp_path / "s")
    app = create_app(db, load_settings(environ={}))
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/api/alerts").json() == {"alerts": [], "total": 0, "last_seq": 0}
        add_alerts(db, 1, 5)
        body = c.get("/api/alerts").json()
        assert [a["seq"] for a in body["alerts"]] == [1, 2, 3, 4, 5] and body["last_seq"] == 5
        assert body["alerts"][0]["body"]["summary"] == "alert 1" and body["alerts"][0]["raised_at"] == "2024-01-11T01:00:00Z"
        assert [a["seq"] for a in c.get("/api/alerts", params={"after_seq": 3}).json()["alerts"]] == [4, 5]
        assert [a["seq"] for a in c.get("/api/alerts", params={"since": "2024-01-11T04:00Z"}).json()["alerts"]] == [4, 5]
        assert len(c.get("/api/alerts", params={"limit": 2}).json()["alerts"]) == 2


def test_exports_are_the_cli_exports_filtered(client, scenario) -> None:
    gj = client.get("/api/export", params={"format": "geojson"})
    assert gj.status_code == 200 and "attachment" in gj.headers["content-disposition"]
    kinds = [f["properties"]["kind"] for f in gj.json()["features"]]
    assert {"track", "event", "port"} <= set(kinds)
    only_gaps = client.get("/api/export", params={"format": "geojson", "type": "gap"}).json()
    assert {f["id"] for f in only_gaps["features"] if f["properties"]["kind"] == "event"} == {scenario.events["angara_gap"]}
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export", params={"format": "csv", "mmsi": BELLA}).text)))
    assert rows and all(BELLA in (int(r["mmsi"]), int(r["other_mmsi"] or 0)) for r in rows)
    assert all(r["source_sha256"] for r in rows)
    kml = client.get("/api/export", params={"format": "kml", "port": "Dunai"}).text
    assert kml.startswith("<?xml") and f"event-{scenario.events['angara_dunai']}" in kml
    assert f"event-{scenario.events['encounter']}" not in kml
    ftm = [json.loads(line) for line in client.get("/api/export", params={"format": "ftm", "type": "encounter"}).text.splitlines()]
    assert any(e["schema"] == "Vessel" for e in ftm)
    event_schemas = {e["schema"] for e in ftm if e["schema"] in ("Event", "Trip")}
    assert event_schemas == {"Event"}


def test_coast_and_ports_come_from_the_bundled_data(client) -> None:
    coast = client.get("/api/coast", params={"bbox": "129,40,135,44"}).json()
    kinds = {f["properties"]["kind"] for f in coast["features"]}
    assert kinds == {"land", "border"}
    ports = {f["properties"]["name"] for f in client.get("/api/ports").json()["features"]}
    assert {"Rajin", "Dunai"} <= ports


def test_every_response_carries_a_strict_csp(client) -> None:
    for path in ("/", "/api/events", "/vessels/273111110", "/docs", "/api/vessels/1"):
        csp = client.get(path).headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "default-src 'none'" in csp


def test_openapi_lists_the_contract_paths(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/events", "/api/vessels", "/api/vessels/{mmsi}", "/api/vessels/{mmsi}/track", "/api/search",
        "/api/events/{event_id}/provenance", "/api/alerts", "/api/alerts/stream", "/api/export", "/healthz",
    ):
        assert p in paths
    params = {x["name"] for x in paths["/api/events"]["get"]["parameters"]}
    assert {"type", "subtype", "mmsi", "since", "until", "bbox", "port", "limit", "offset"} <= params


def test_requests_addressed_to_another_host_are_refused_without_a_token(scenario_db) -> None:
    app = create_app(scenario_db[0], load_settings(environ={}))
    with TestClient(app, base_url="http://evil.example:8000") as c:
        assert c.get("/api/events").status_code == 400


def test_token_401_without_200_with_and_a_cookie_for_browsers(scenario_db) -> None:
    app = create_app(scenario_db[0], load_settings(environ={}), token="s3cret-token")
    with TestClient(app, base_url="http://tumen.internal:8000") as c:
        r = c.get("/api/events")
        assert r.status_code == 401 and r.json()["status"] == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert c.get("/api/events", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/events", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
        assert c.get("/api/events", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert c.get("/healthz").status_code == 200  # no data, no token needed
        r = c.get("/map?token=s3cret-token", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/map" and "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/api/events").status_code == 200  # the cookie now carries it


def test_token_from_the_environment(scenario_db) -> None:
    app = create_app(scenario_db[0], load_settings(environ={"TUMEN_SERVE__TOKEN": "from-env"}))
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/api/vessels").status_code == 401
        assert c.get("/api/vessels", headers={"Authorization": "Bearer from-env"}).status_code == 200


def test_dossier_downloads_the_report_for_the_vessel(client) -> None:
    r = client.get(f"/vessels/{ANGARA}/dossier.html")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "LAZURIT" in r.text and f"v{ANGARA}" in r.text
    assert client.get(f"/vessels/{ANGARA}/dossier.doc").status_code == 404


def test_unranked_store_lists_no_vessels_and_refuses_a_dossier(tmp_path: Path) -> None:
    from scenario_store import build_scenario_store

    db = tmp_path / "unranked.duckdb"
    with DuckDBStore(db) as store:
        build_scenario_store(store, tmp_path / "raw")
    app = create_app(db, load_settings(environ={}))
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/api/vessels").json()["ranked"] is False
        assert c.get(f"/api/vessels/{ANGARA}").json()["risk"] is None
        assert c.get(f"/vessels/{ANGARA}/dossier.html").status_code == 409


def test_search_sees_a_vessel_a_writer_added_after_the_first_search(tmp_path: Path) -> None:
    """The in-memory directory of identities is rebuilt when the store file changes."""
    import time

    import pyarrow as pa
    from serve_helpers import build_store

    db, _ = build_store(tmp_path / "s")
    app = create_app(db, load_settings(environ={}))
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/api/search", params={"q": "NORTHERN LIGHT"}).json()["vessels"] == []
        app.state.gate.close()
        time.sleep(0.3)  # let the linger timer pass
        with DuckDBStore(db) as store:
            store.append("statics", pa.table({
                "static_id": [777_777], "mmsi": [273777777], "name": ["NORTHERN LIGHT"],
                "source_id": pa.array([1], pa.int32()), "line_no": [1], "line_first": [1],
            }))
        found = c.get("/api/search", params={"q": "NOTHERN LIGHT"}).json()["vessels"]
        assert [v["mmsi"] for v in found] == [273777777]
