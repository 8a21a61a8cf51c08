"""Segmentation: impossible legs split tracks; spoofed jumps and second transmitters are isolated.

These run the segmentation production runs: the detectors' window pass
(:func:`tumen.detect.legs.build_legs`) with :func:`tumen.tracks.segments.segments_from_marks`.
"""

from __future__ import annotations

from builders import offset, track, write
from tumen.config import load_settings
from tumen.detect.legs import build_legs
from tumen.detect.ports import load_ports, register_ports

MMSI = 273456780
SETTINGS = load_settings(environ={}).detect


def segments(store, settings=SETTINGS):
    register_ports(store, load_ports(), reach_km=10.0)
    stats, _ = build_legs(store, settings)
    rows = store.query(
        'SELECT mmsi, seg, kind, n_positions, start, "end" FROM _segments ORDER BY mmsi, start'
    ).to_pylist()
    return stats, rows


def test_one_track_is_one_segment(store):
    write(store, track(MMSI).at("2024-01-10T00:00Z", 40.0, 140.0).to(40.5, 140.5, over="6h"))
    stats, rows = segments(store)
    assert [(r["kind"], r["n_positions"]) for r in rows] == [("track", 37)]
    assert stats.runs == 1 and stats.rounds == 0


def test_speed_just_under_and_over_the_limit(store):
    # 10 minutes apart: 50 kn = 15.43 km; the 500 m noise allowance comes on top.
    lat, lon = 40.0, 140.0
    under = offset(lat, lon, north_m=50 * 1852 / 6 + 400)  # 50 kn + 400 m: continues
    over = offset(lat, lon, north_m=50 * 1852 / 6 + 700)  # 50 kn + 700 m: breaks
    write(
        store,
        track(MMSI).at("2024-01-10T00:00Z", lat, lon).after("10min", *under).after("10min", *under),
        track(MMSI + 1)
        .at("2024-01-10T00:00Z", lat, lon)
        .after("10min", *over)
        .after("10min", *over),
    )
    _, rows = segments(store)
    by = {m: [r for r in rows if r["mmsi"] == m] for m in (MMSI, MMSI + 1)}
    assert [r["n_positions"] for r in by[MMSI]] == [3]
    assert [(r["kind"], r["n_positions"]) for r in by[MMSI + 1]] == [("noise", 1), ("noise", 2)]


def test_spoofed_excursion_is_a_jump_and_the_track_continues(store):
    t = track(MMSI).at("2024-01-10T00:00Z", 40.0, 140.0, sog=10).to(40.3, 140.0, over="3h")
    t.silence("10min")
    for _ in range(6):  # one hour 300 km away
        t.fix(43.0, 140.0).silence("10min")
    t.fix(40.31, 140.0).to(40.6, 140.0, over="3h")
    write(store, t)
    _, rows = segments(store)
    kinds = sorted((r["kind"], r["n_positions"]) for r in rows)
    assert kinds == [("jump", 6), ("track", 38)]


def test_two_transmitters_on_one_mmsi_are_two_tracks(store):
    a = (
        track(MMSI)
        .at("2024-01-10T00:00Z", 40.0, 140.0, sog=10)
        .to(40.5, 140.0, over="4h", every="5min")
    )
    b = (
        track(MMSI)
        .at("2024-01-10T00:02Z", 35.0, 130.0, sog=8)
        .to(35.3, 130.0, over="4h", every="7min")
    )
    write(store, a, b)
    stats, rows = segments(store)
    assert sorted((r["kind"], r["n_positions"]) for r in rows) == sorted(
        [("track", len(a)), ("track", len(b))]
    )
    assert stats.runs > 10  # the transmitters alternate; every switch is a run


def test_out_of_order_input_gives_the_same_segments(store, tmp_path):
    from tumen.store import DuckDBStore

    t = track(MMSI).at("2024-01-10T00:00Z", 40.0, 140.0, sog=10).to(40.5, 140.0, over="4h")
    t.after("10min", 44.0, 140.0).every("10min", 3).after("10min", 40.55, 140.0).every("10min", 3)
    write(store, t)
    shuffled = DuckDBStore(tmp_path / "shuffled.duckdb")
    write(shuffled, t, shuffle=7)
    _, a = segments(store)
    _, b = segments(shuffled)
    shuffled.close()
    assert [(r["seg"], r["kind"], r["n_positions"]) for r in a] == [
        (r["seg"], r["kind"], r["n_positions"]) for r in b
    ]


def test_crossing_the_180th_meridian_is_not_a_jump(store):
    t = track(MMSI).at("2024-01-10T00:00Z", 52.0, 179.8, sog=12).to(52.0, -179.8, over="2h")
    write(store, t)
    _, rows = segments(store)
    assert [(r["kind"], r["n_positions"]) for r in rows] == [("track", 13)]


def test_rows_without_time_null_island_and_base_stations_are_ignored(store):
    t = track(MMSI).at("2024-01-10T00:00Z", 40.0, 140.0).stay("1h")
    t.rows.append(dict(t.rows[-1], ts=None, lat=41.0))  # no receive time
    t.rows.append(dict(t.rows[-1], ts=t.clock, lat=0.0, lon=0.0))  # null island
    base = track(2734567).at("2024-01-10T00:00Z", 43.1, 131.9).stay("1h")  # 00MID coast station
    aton = track(992731234).at("2024-01-10T00:00Z", 43.1, 131.9).stay("1h")
    for r in aton.rows:
        r["msg_type"] = 21
    write(store, t, base, aton)
    _, rows = segments(store)
    assert [(r["mmsi"], r["n_positions"]) for r in rows] == [(MMSI, 7)]


def test_a_second_transmitter_heard_every_two_hours_keeps_its_own_track(store):
    # The look-back first searches the last hour, then the rest of the 6 h window: b's fixes find
    # their parent (b's previous fix, 2 h back) only in the second step, a's in the first.
    a = (
        track(MMSI)
        .at("2024-01-10T00:00Z", 40.0, 140.0, sog=10)
        .to(40.9, 140.0, over="10h", every="10min")
    )
    b = (
        track(MMSI)
        .at("2024-01-10T00:05Z", 35.0, 130.0, sog=8)
        .to(35.7, 130.0, over="10h", every="2h")
    )
    write(store, a, b)
    stats, rows = segments(store)
    assert sorted((r["kind"], r["n_positions"]) for r in rows) == sorted(
        [("track", len(a)), ("track", len(b))]
    )
    # b's six fixes are runs of one; the five heard while a reports cut a into six runs
    assert stats.runs == 12 and stats.rounds > 0


def test_a_break_beyond_the_look_back_starts_a_new_segment(store):
    # 7 h of silence (lookback_h = 6) after which the vessel reappears far away: no parent.
    t = track(MMSI).at("2024-01-10T00:00Z", 40.0, 140.0, sog=10).to(40.5, 140.0, over="4h")
    t.silence("7h")
    t.fix(45.0, 150.0).every("10min", 5)
    write(store, t)
    _, rows = segments(store)
    assert sorted((r["kind"], r["n_positions"]) for r in rows) == [("track", 6), ("track", 25)]
