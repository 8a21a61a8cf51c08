"""The fast per-vessel paths give the answers of the direct queries (issue 13, performance).

* tracks read from ``positions_by_vessel`` (positions clustered by MMSI, written by ``tumen
  detect``) plus the positions a writer appended since, against a scan of ``positions``;
* the latest names kept per store state, against the query per page;
* exports whose filters are applied in the events query, against the full export filtered
  afterwards (what ``/api/export`` did before).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from serve_helpers import BASE, build_store

from scenario_store import ANGARA, BELLA
from tumen.config import load_settings
from tumen.serve import create_app, queries
from tumen.store import DuckDBStore, by_vessel

SETTINGS = load_settings(environ={})


@pytest.fixture(scope="module")
def clustered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario store with ``positions_by_vessel`` built (as ``tumen detect`` leaves it)."""
    db, _ = build_store(tmp_path_factory.mktemp("by-vessel"))
    with DuckDBStore(db) as store:
        assert by_vessel.refresh(store)["mode"] == "full"
    return db


@pytest.fixture()
def copy(clustered: Path, tmp_path: Path) -> Path:
    out = tmp_path / "store.duckdb"
    shutil.copy(clustered, out)
    return out


def _windows(store: DuckDBStore, mmsi: int) -> list[tuple[datetime | None, datetime | None, float | None]]:
    t0, t1 = store.query("SELECT min(ts), max(ts) FROM positions WHERE mmsi = ?", [mmsi]).to_pylist()[0].values()
    mid = t0 + (t1 - t0) / 2
    return [(None, None, None), (None, None, 0.0), (None, None, 500.0), (mid, None, None), (None, mid, None),
            (t0, mid, 50.0), (t1 + timedelta(days=1), None, None)]


def _same_tracks(store: DuckDBStore, covered: int | None) -> int:
    """Assert every vessel's track (several windows and tolerances) is the direct scan's; count them."""
    mmsis = store.query("SELECT DISTINCT mmsi FROM positions ORDER BY mmsi").column(0).to_pylist()
    n = 0
    for m in mmsis:
        for since, until, tol in _windows(store, m):
            kw = {"since": since, "until": until, "simplify_m": tol}
            assert queries.track(store, SETTINGS, m, covered=covered, **kw) == queries.track(store, SETTINGS, m, **kw)
            n += 1
    return n


def test_refresh_covers_every_position_and_tracks_are_the_direct_scan(clustered: Path) -> None:
    with DuckDBStore(clustered, read_only=True) as store:
        covered = by_vessel.coverage(store)
        assert covered == store.scalar("SELECT max(pos_id) FROM positions")
        assert store.scalar(f"SELECT count(*) FROM {by_vessel.TABLE}") == store.scalar("SELECT count(*) FROM positions")
        # clustered: sorted by (mmsi, ts, pos_id) in storage order
        keys = store.query(f"SELECT mmsi, ts, pos_id FROM {by_vessel.TABLE}").to_pylist()
        assert keys == sorted(keys, key=lambda r: (r["mmsi"], r["ts"] or datetime.min, r["pos_id"]))
        assert _same_tracks(store, covered) > 20


def _append_positions(db: Path, mmsi: int, n: int, start: datetime, lat: float = 42.0) -> None:
    with DuckDBStore(db) as store:
        first = int(store.scalar("SELECT max(pos_id) FROM positions")) + 1
        store.append("positions", pa.table({
            "pos_id": list(range(first, first + n)),
            "mmsi": [mmsi] * n,
            "ts": [start + timedelta(minutes=7 * i) for i in range(n)],
            "lat": [lat + 0.01 * i for i in range(n)],
            "lon": [131.0 + 0.01 * i for i in range(n)],
            "source_id": pa.array([1] * n, pa.int32()),
            "line_no": [1] * n,
            "line_first": [1] * n,
        }))


def test_positions_a_writer_appends_later_are_read_from_positions(copy: Path) -> None:
    """Rows ingested after the table was built: same answers, before and after the next refresh."""
    with DuckDBStore(copy, read_only=True) as store:
        before = queries.track(store, SETTINGS, BELLA, since=None, until=None, simplify_m=0, covered=by_vessel.coverage(store))
    _append_positions(copy, BELLA, 40, datetime(2024, 1, 20))  # an existing vessel, later
    _append_positions(copy, 273000123, 15, datetime(2024, 1, 21))  # a vessel never seen
    with DuckDBStore(copy, read_only=True) as store:
        covered = by_vessel.coverage(store)
        assert covered is not None and covered < store.scalar("SELECT max(pos_id) FROM positions")
        after = queries.track(store, SETTINGS, BELLA, since=None, until=None, simplify_m=0, covered=covered)
        assert after["properties"]["n_positions"] == before["properties"]["n_positions"] + 40
        new = queries.track(store, SETTINGS, 273000123, since=None, until=None, simplify_m=0, covered=covered)
        assert new["properties"]["n_positions"] == 15
        _same_tracks(store, covered)
    with DuckDBStore(copy) as store:
        assert by_vessel.refresh(store) == {"mode": "append", "rows": 55}
        assert by_vessel.refresh(store)["mode"] == "unchanged"
        covered = by_vessel.coverage(store)
        assert covered == store.scalar("SELECT max(pos_id) FROM positions")
        _same_tracks(store, covered)


def test_a_table_whose_positions_changed_below_the_mark_is_not_trusted(copy: Path) -> None:
    with DuckDBStore(copy) as store:
        store.execute("DELETE FROM positions WHERE mmsi = ? AND pos_id % 3 = 0", [ANGARA])
        assert by_vessel.coverage(store) is None
        # the fallback (a scan of positions) is what the server then reads; refresh rebuilds
        assert by_vessel.refresh(store)["mode"] == "full"
        covered = by_vessel.coverage(store)
        assert covered is not None
        _same_tracks(store, covered)


def test_a_store_never_detected_reads_positions(tmp_path: Path) -> None:
    db, _ = build_store(tmp_path / "s")
    with DuckDBStore(db, read_only=True) as store:
        assert by_vessel.coverage(store) is None


def test_the_server_reads_the_tail_a_writer_appended(copy: Path) -> None:
    """Through the API: the track and the 404 check see positions added after the table was built."""
    app = create_app(copy, SETTINGS)
    with TestClient(app, base_url=BASE) as c:
        n0 = c.get(f"/api/vessels/{BELLA}/track", params={"simplify_m": 0}).json()["properties"]["n_positions"]
        assert c.get("/api/vessels/273000456/track").status_code == 404
        app.state.gate.close()
        time.sleep(0.3)  # the linger timer
        _append_positions(copy, BELLA, 12, datetime(2024, 1, 22))
        _append_positions(copy, 273000456, 9, datetime(2024, 1, 22))
        got = c.get(f"/api/vessels/{BELLA}/track", params={"simplify_m": 0}).json()
        assert got["properties"]["n_positions"] == n0 + 12
        with DuckDBStore(copy, read_only=True) as store:
            assert got == queries.track(store, SETTINGS, BELLA, since=None, until=None, simplify_m=0)
        assert c.get("/api/vessels/273000456/track").json()["properties"]["n_positions"] == 9


def test_latest_names_kept_per_state_are_the_per_page_query(copy: Path) -> None:
    with DuckDBStore(copy) as store:
        # two names heard at the same time, and names without a time: the order is defined
        store.append("statics", pa.table({
            "static_id": [880_001, 880_002, 880_003, 880_004],
            "mmsi": [BELLA, BELLA, 273000789, 273000789],
            "ts": [datetime(2030, 1, 1), datetime(2030, 1, 1), None, None],
            "name": ["TIE ONE", "TIE TWO", "NO TIME A", "NO TIME B"],
            "source_id": pa.array([1] * 4, pa.int32()), "line_no": [1] * 4, "line_first": [1] * 4,
        }))
        mmsis = store.query("SELECT DISTINCT mmsi FROM statics UNION SELECT DISTINCT mmsi FROM positions").column(0).to_pylist()
        known = queries.all_latest_names(store)
        assert queries.latest_names(store, mmsis, known) == queries.latest_names(store, mmsis)
        assert queries.latest_names(store, [BELLA, 273000789])[str(BELLA)] == "TIE TWO"
        assert queries.latest_names(store, [273000789])["273000789"] == "NO TIME B"


def _old_export(store: DuckDBStore, fmt: str, flt: queries.EventFilter, mmsi: int | None) -> str:
    """What /api/export answered before the filters went into the query: the full export, then the
    events the filter does not keep removed."""
    from lxml import etree

    from tumen.export import findings as F
    from tumen.export.evidence_csv import EVENT_COLUMNS, event_rows
    from tumen.export.ftm import entities
    from tumen.export.geojson import features
    from tumen.export.kml import build_kml

    vessels = [mmsi] if mmsi is not None else None
    keep = queries.event_ids(store, flt)
    if fmt == "geojson":
        # an imagery cue belongs to its event (tumen.observe.cues): it goes when the event goes
        feats = [f for f in features(store, SETTINGS, vessels=vessels)
                 if (f["properties"]["kind"] != "event" or f.get("id") in keep)
                 and (f["properties"]["kind"] != "cue" or f["properties"]["event_id"] in keep)]
        return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, default=str) + "\n"
    if fmt == "kml":
        root = build_kml(store, SETTINGS, vessels=vessels)
        for pm in list(root.iter("{*}Placemark")):
            pid = pm.get("id") or ""
            if pid.startswith("event-") and pid[len("event-"):] not in keep:
                pm.getparent().remove(pm)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
    if fmt == "csv":
        rows = [r for r in event_rows(store, SETTINGS, vessels=vessels) if r["event_id"] in keep]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(EVENT_COLUMNS), extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    found = F.collect(store, SETTINGS, vessels=vessels)
    found.events = [e for e in found.events if e["event_id"] in keep]
    return "".join(json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
                   for p in entities(store, SETTINGS, findings=found))


FILTERS = [
    ({"type": "gap"}, queries.EventFilter(types=("gap",))),
    ({"type": "encounter", "mmsi": BELLA}, queries.EventFilter(types=("encounter",), mmsi=BELLA)),
    ({"port": "Dunai"}, queries.EventFilter(port="Dunai")),
    ({"since": "2024-01-03T00:00:00Z", "until": "2024-01-05T00:00:00Z"},
     queries.EventFilter(since=datetime(2024, 1, 3), until=datetime(2024, 1, 5))),
    ({"bbox": "129,40,135,44"}, queries.EventFilter(bbox=(129.0, 40.0, 135.0, 44.0))),
    ({"type": "voyage", "bbox": "0,0,1,1"}, queries.EventFilter(types=("voyage",), bbox=(0.0, 0.0, 1.0, 1.0))),
]


@pytest.mark.parametrize("fmt", ["geojson", "kml", "csv", "ftm"])
def test_filtered_exports_are_the_full_export_filtered(clustered: Path, fmt: str) -> None:
    app = create_app(clustered, SETTINGS)
    with TestClient(app, base_url=BASE) as c, DuckDBStore(clustered, read_only=True) as store:
        for params, flt in FILTERS:
            got = c.get("/api/export", params={"format": fmt, **params})
            assert got.status_code == 200, (params, got.text[:200])
            assert got.text == _old_export(store, fmt, flt, params.get("mmsi")), (fmt, params)


def test_kept_answers_are_the_computed_ones_until_a_writer_commits(copy: Path) -> None:
    urls = [f"/api/vessels/{BELLA}", f"/api/vessels/{BELLA}/track", "/api/events?type=gap",
            f"/api/events?mmsi={ANGARA}", "/api/search?q=BELA"]
    fresh = create_app(copy, load_settings(environ={"TUMEN_SERVE__ANSWERS_KEPT": "0"}))
    kept = create_app(copy, SETTINGS)
    with TestClient(fresh, base_url=BASE) as f, TestClient(kept, base_url=BASE) as k:
        for _ in range(2):
            for u in urls:
                assert k.get(u).json() == f.get(u).json(), u
        assert kept.state.gate.answer_hits == len(urls) and fresh.state.gate.answer_hits == 0
        for app in (fresh, kept):
            app.state.gate.close()
        time.sleep(0.3)  # the linger timer
        _append_positions(copy, BELLA, 5, datetime(2024, 1, 23))
        got = k.get(f"/api/vessels/{BELLA}/track").json()
        assert got == f.get(f"/api/vessels/{BELLA}/track").json()
        assert got["properties"]["end"].startswith("2024-01-23")


def test_position_counts_without_segments_are_the_direct_count(copy: Path) -> None:
    """A vessel that ``segments`` does not cover (heard after the last detect) is counted the same."""
    _append_positions(copy, 273000321, 11, datetime(2024, 1, 24))
    with DuckDBStore(copy, read_only=True) as store:
        covered = by_vessel.coverage(store)
        for m in store.query("SELECT DISTINCT mmsi FROM positions").column(0).to_pylist():
            assert queries.position_summary(store, m, covered) == queries.position_summary(store, m)
        assert queries.position_summary(store, 273000321, covered)["n"] == 11


def test_detect_leaves_the_table_covering_every_position(tmp_path: Path) -> None:
    from tumen.detect import run_detectors

    db, _ = build_store(tmp_path / "s")
    with DuckDBStore(db) as store:
        assert by_vessel.coverage(store) is None
        report = run_detectors(store, SETTINGS, full=True)
        assert "vessel index" in report.timings
        assert by_vessel.coverage(store) == store.scalar("SELECT max(pos_id) FROM positions")
        _same_tracks(store, by_vessel.coverage(store))


def test_without_the_index_detect_leaves_none_and_serve_scans(tmp_path: Path) -> None:
    from tumen.detect import run_detectors

    db, _ = build_store(tmp_path / "s")
    with DuckDBStore(db) as store:
        report = run_detectors(store, load_settings(environ={"TUMEN_SERVE__VESSEL_INDEX": "false"}), full=True)
        assert "vessel index" not in report.timings
        assert by_vessel.coverage(store) is None


def test_a_track_over_the_keep_limit_is_answered_but_not_kept(clustered: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tumen.serve import api

    app = create_app(clustered, SETTINGS)
    url, params = f"/api/vessels/{BELLA}/track", {"simplify_m": 0}
    with TestClient(app, base_url=BASE) as c:
        n = len(json.dumps(c.get(url, params={"simplify_m": 5}).json()))  # another key: kept apart
        assert n > 0 and app.state.gate.answer_hits == 0
        monkeypatch.setattr(api, "KEEP_TRACK_POINTS", 2)
        first = c.get(url, params=params).json()
        assert first["properties"]["n_points"] > 2
        assert c.get(url, params=params).json() == first
        assert app.state.gate.answer_hits == 0  # answered twice, kept never
        monkeypatch.setattr(api, "KEEP_TRACK_POINTS", first["properties"]["n_points"])
        c.get(url, params=params)
        assert c.get(url, params=params).json() == first
        assert app.state.gate.answer_hits == 1
