"""AIS gaps: ≥ 6 h of silence inside a track, with the dark port calls that fit in it."""

from __future__ import annotations

import pytest

from builders import detect, of, offset, track, write
from tumen.detect.ports import load_ports

MMSI = 273456780
PORTS = {p["name"]: p for p in load_ports().to_pylist()}
SEA = (41.0, 134.5)  # open sea, far from every watched port


def gaps(store, **kw):
    return of(detect(store, **kw), "gap")


def test_just_over_and_just_under_six_hours(store):
    write(
        store,
        track(MMSI)
        .at("2024-01-10T00:00Z", *SEA, sog=0.5)
        .stay("1h")
        .silence("6h1min")
        .fix(*SEA)
        .stay("1h"),
        track(MMSI + 1)
        .at("2024-01-10T00:00Z", 40.0, 134.5, sog=0.5)
        .stay("1h")
        .silence("5h59min")
        .fix(40.0, 134.5),
    )
    got = gaps(store)
    assert [(g["mmsi"], g["start"], g["end"]) for g in got] == [
        (MMSI, "2024-01-10T01:00:00Z", "2024-01-10T07:01:00Z")
    ]
    ev = got[0]["evidence"]
    assert ev["duration_h"] == pytest.approx(6 + 1 / 60)
    assert (
        len(ev["position_ids"]) == 2
        and ev["starts_in_port"] is False
        and ev["ends_in_port"] is False
    )


def test_a_silence_at_the_end_of_the_data_is_not_a_gap(store):
    write(store, track(MMSI).at("2024-01-10T00:00Z", *SEA).stay("2h"))
    # data of another vessel continues for a day: MMSI's silence has no end fix
    write(
        store,
        track(MMSI + 1).at("2024-01-10T00:00Z", 40.0, 134.0, sog=10).to(41.0, 134.0, over="24h"),
    )
    assert gaps(store) == []


def test_distance_and_implied_speed_across_the_gap(store):
    end = offset(*SEA, north_m=100_000)
    write(
        store,
        track(MMSI)
        .at("2024-01-10T00:00Z", *SEA, sog=10)
        .stay("1h")
        .silence("9h50min")
        .fix(*end)
        .stay("1h"),
    )
    (g,) = gaps(store)
    ev = g["evidence"]
    assert ev["distance_km"] == pytest.approx(100, rel=1e-3)
    assert ev["implied_speed_kn"] == pytest.approx(100_000 / 1852 / (9 + 50 / 60), rel=1e-3)
    assert (ev["start_lat"], ev["end_lat"]) == (pytest.approx(SEA[0]), pytest.approx(end[0]))


def test_dark_port_call_candidates(store):
    """A vessel goes dark off Rajin and reappears there 22 h later: Dunai (≈180 km) and back at 14 kn
    with 6 h in port fits; Vostochny (≈ 230 km) does not (2 × ~220 km / 14 kn + 6 h > 22 h)."""
    r = PORTS["Rajin"]
    off = offset(r["lat"], r["lon"], east_m=8000)  # just outside Rajin's circle
    write(
        store,
        track(MMSI)
        .at("2024-01-10T00:00Z", *off, sog=None)
        .stay("1h")
        .silence("22h")
        .fix(*off)
        .stay("1h"),
    )
    (g,) = gaps(store)
    names = [c["port"] for c in g["evidence"]["dark_port_candidates"]]
    assert "Rajin" in names and "Dunai" in names and "Vostochny" not in names
    assert g["evidence"]["top_speed_source"] == "default" and g["evidence"]["top_speed_kn"] == 14.0
    dunai = next(c for c in g["evidence"]["dark_port_candidates"] if c["port"] == "Dunai")
    assert dunai["country"] == "RU" and dunai["max_stay_h"] >= 6.0


def test_observed_top_speed_is_used_when_known(store):
    t = track(MMSI).at("2024-01-10T00:00Z", 39.0, 134.5, sog=6).to(40.0, 134.5, over="18h", sog=6)
    t.silence("8h").fix(40.1, 134.5, sog=6)
    write(store, t)
    (g,) = gaps(store)
    assert g["evidence"]["top_speed_source"] == "observed"
    assert g["evidence"]["top_speed_kn"] == pytest.approx(6.0)
    assert g["evidence"]["dark_port_candidates"] == []


def test_gap_ends_in_port(store):
    d = PORTS["Dunai"]
    write(
        store,
        track(MMSI)
        .at("2024-01-10T00:00Z", d["lat"] - 0.2, d["lon"])
        .stay("1h")
        .silence("7h")
        .fix(d["lat"], d["lon"])
        .stay("1h"),
    )
    (g,) = gaps(store)
    assert g["evidence"]["ends_in_port"] is True and g["evidence"]["end_port"] == "Dunai"
    assert g["evidence"]["starts_in_port"] is False


def test_dark_port_call_uses_the_port_visit_circle(store, ports_csv):
    # radius_scale 2 makes the 5 km circle 10 km wide: a vessel silent 9 km from the port's position
    # is in the port at both ends (detour 0), not 2 × 4 km outside the unscaled circle
    ports = ports_csv([("Home", "RU", SEA[0], SEA[1], 5.0)])
    here = offset(*SEA, north_m=9_000)
    write(store, track(MMSI).at("2024-01-10T00:00Z", *here).stay("1h").silence("7h").fix(*here))
    (g,) = gaps(store, ports=ports, **{"detect.port_visits.radius_scale": 2.0})
    ev = g["evidence"]
    assert ev["start_port"] == ev["end_port"] == "Home"
    assert [(c["port"], c["detour_km"]) for c in ev["dark_port_candidates"]] == [("Home", 0.0)]
    assert ev["dark_port_candidates"][0]["max_stay_h"] == pytest.approx(7.0, abs=1e-3)


def test_threshold_is_a_setting(store):
    write(store, track(MMSI).at("2024-01-10T00:00Z", *SEA).stay("1h").silence("4h").fix(*SEA))
    assert gaps(store) == []
    assert len(gaps(store, full=True, **{"detect.gaps.min_gap_h": 3.5})) == 1


def test_two_transmitters_make_no_fake_gap_and_no_fast_leg(store):
    # Transmitter A reports every 5 min all day; B (same MMSI, 900 km away) in two short bursts
    # between A's reports, 10 h apart.
    a = (
        track(MMSI)
        .at("2024-01-10T00:00Z", 40.0, 134.0, sog=10)
        .to(41.5, 134.0, over="24h", every="5min")
    )
    b = track(MMSI).at("2024-01-10T06:01Z", 35.0, 125.0, sog=0.1).every("1min", 3)
    b.silence("9h57min").fix(35.0, 125.0).every("1min", 3)
    write(store, a, b)
    events = detect(store)
    # B's bursts are too short and far apart to be resumed: no gap at all, and never one joining A and B
    assert of(events, "gap") == []
    assert len(of(events, "identity", "position_jump")) == 2


def test_spoofed_jump_makes_no_fast_gap(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=10).stay("2h")
    t.after("10min", 20.0, 120.0).every("10min", 5)  # an hour on the other side of the sea
    t.silence("7h").fix(*SEA).stay("1h")
    write(store, t)
    # The vessel's own track cannot be resumed across 8 h from the other side of the sea: the
    # silence is not reported rather than reported from the spoofed position at 2 000 knots.
    assert gaps(store) == []


def test_spoofed_jump_before_a_short_silence_is_skipped(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=10).stay("2h")
    t.after("10min", 20.0, 120.0).every("10min", 5)
    t.silence("3h").fix(*SEA).stay("1h")
    write(store, t)
    events = detect(store, **{"detect.gaps.min_gap_h": 3.0})
    (g,) = of(events, "gap")
    assert (g["start"], g["end"]) == ("2024-01-10T02:00:00Z", "2024-01-10T06:00:00Z")
    assert g["evidence"]["implied_speed_kn"] < 1
    assert len(of(events, "identity", "position_jump")) == 1


def _heard_without_position(store, mmsi: int, ts: str) -> None:
    """A report saying "position not available" (stored with lat/lon NULL, as ingest does)."""
    store.execute(
        "INSERT INTO positions (pos_id, mmsi, ts, lat, lon, sog_kn, nav_status, msg_type,"
        " source_id, line_no, line_first)"
        " SELECT coalesce(max(pos_id), 0) + 1, ?, CAST(? AS TIMESTAMP), NULL, NULL, 0.1, 0, 1, 1, 1, 1"
        " FROM positions",
        [mmsi, ts],
    )


def test_a_vessel_heard_without_position_is_not_dark(store):
    write(
        store,
        # 6 h 1 min between fixes, but heard (no position) 3 h in: two silences of ~3 h
        track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=0.5).stay("1h").silence("6h1min").fix(*SEA),
        # 13 h between fixes, heard 6 h 30 min in: the second silence (6 h 30 min) is a gap
        track(MMSI + 1)
        .at("2024-01-10T00:00Z", 40.0, 134.5, sog=0.5)
        .stay("1h")
        .silence("13h")
        .fix(40.0, 134.5),
        # the same 6 h 1 min silence, heard only outside it: still a gap
        track(MMSI + 2)
        .at("2024-01-10T00:00Z", 40.5, 134.5, sog=0.5)
        .stay("1h")
        .silence("6h1min")
        .fix(40.5, 134.5),
    )
    _heard_without_position(store, MMSI, "2024-01-10 04:00:00")
    _heard_without_position(store, MMSI + 1, "2024-01-10 07:30:00")
    _heard_without_position(store, MMSI + 2, "2024-01-10 07:30:00")
    got = gaps(store)
    assert sorted((g["mmsi"], g["start"], g["end"]) for g in got) == [
        (MMSI + 1, "2024-01-10T01:00:00Z", "2024-01-10T14:00:00Z"),
        (MMSI + 2, "2024-01-10T01:00:00Z", "2024-01-10T07:01:00Z"),
    ]
    # the report without position is in no event's geometry
    assert all(g["lat"] is not None and g["lon"] is not None for g in got)
