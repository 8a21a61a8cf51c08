"""Reports saying "position not available" (stored with lat/lon NULL) stay out of geometry."""

from __future__ import annotations

from builders import detect, of, track, write
from tumen.report.dossier import track as dossier_track

SEA = (41.0, 134.5)


def _unlocated(store, mmsi: int, ts: str) -> None:
    store.execute(
        "INSERT INTO positions (pos_id, mmsi, ts, lat, lon, sog_kn, source_id, line_no, line_first)"
        " SELECT coalesce(max(pos_id), 0) + 1, ?, CAST(? AS TIMESTAMP), NULL, NULL, 0.0, 1, 1, 1"
        " FROM positions",
        [mmsi, ts],
    )


def test_dprk_mid_event_is_placed_at_the_last_located_fix(store):
    write(store, track(445123456).at("2024-01-10T00:00Z", *SEA).stay("1h"))
    _unlocated(store, 445123456, "2024-01-10 02:00:00")  # heard last, without position
    (e,) = [e for e in of(detect(store), "identity", "dprk_mid") if e["mmsi"] == 445123456]
    assert (e["lat"], e["lon"]) == SEA
    assert e["end"] == "2024-01-10T02:00:00Z"  # heard until then


def test_the_dossier_track_leaves_unlocated_reports_out(store):
    write(store, track(273456780).at("2024-01-10T00:00Z", *SEA).stay("1h"))
    _unlocated(store, 273456780, "2024-01-10 00:30:00")
    t = dossier_track(store, 273456780, max_points=100)
    assert len(t.lat) == 7 and not any(x != x for x in t.lat.tolist() + t.lon.tolist())
