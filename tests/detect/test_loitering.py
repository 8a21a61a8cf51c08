"""Loitering: one vessel < 2 kn for ≥ 4 h, ≥ 10 km from every watched port."""

from __future__ import annotations

import pytest

from builders import detect, of, offset, track, write

MMSI = 273456780
SEA = (41.0, 134.5)


def loitering(store, **kw):
    return of(detect(store, **kw), "loitering")


@pytest.mark.parametrize(("hours", "found"), [("4h5min", 1), ("3h55min", 0)])
def test_duration_just_over_and_under_four_hours(store, hours, found):
    write(store, track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=0.8).stay(hours, every="5min"))
    got = loitering(store)
    assert len(got) == found
    if found:
        assert (got[0]["start"], got[0]["end"]) == ("2024-01-10T10:00:00Z", "2024-01-10T14:05:00Z")
        assert got[0]["evidence"]["n_positions"] == 50


@pytest.mark.parametrize(("knots", "found"), [(1.95, 1), (2.05, 0)])
def test_speed_just_under_and_over_two_knots(store, knots, found):
    drift_to = offset(*SEA, north_m=1852 * knots * 5)
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=knots).to(*drift_to, over="5h", sog=knots),
    )
    assert len(loitering(store)) == found


def test_one_corrupt_speed_report_does_not_interrupt(store):
    t = track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=0.3).stay("2h", every="3min")
    t.after("3min", sog=64.3).after("3min", sog=0.3).stay(
        "3h", every="3min"
    )  # one bit error in SOG
    write(store, t)
    (got,) = loitering(store)
    assert (got["start"], got["end"]) == ("2024-01-10T10:00:00Z", "2024-01-10T15:06:00Z")


def test_reported_fast_but_not_moving_between_frequent_reports_is_loitering(store):
    # SOG over the threshold while the position does not change between 5-min reports
    write(store, track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=2.5).stay("5h", every="5min"))
    assert len(loitering(store)) == 1


def test_a_fast_vessel_back_where_it_was_after_a_silence_is_not_loitering(store):
    # 4 kn reported at both ends of 4 h silences; the net displacement is small
    t = track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=4.0).after("4h", sog=4.0).after("4h", sog=4.0)
    write(store, t)
    assert loitering(store) == []


def test_drifting_at_one_knot_is_loitering_and_steaming_is_not(store):
    drift_to = offset(*SEA, north_m=1852 * 5)  # 5 nmi in 5 h
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=1.0).to(*drift_to, over="5h", sog=1.0),
        track(MMSI + 1)
        .at("2024-01-10T10:00Z", 40.0, 134.5, sog=8)
        .to(40.5, 134.5, over="5h", sog=8),
    )
    (got,) = loitering(store)
    assert got["mmsi"] == MMSI
    assert got["evidence"]["net_speed_kn"] == pytest.approx(1.0, rel=0.01)


def test_reported_zero_knots_while_moving_is_not_loitering(store):
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *SEA, sog=0.0).to(41.5, 134.5, over="5h", sog=0.0),
    )
    assert loitering(store) == []


def test_near_a_port_is_not_loitering(store, ports_csv):
    ports = ports_csv([("Alpha", "RU", SEA[0], SEA[1], 3.0)])
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *offset(*SEA, north_m=9_500), sog=0.3).stay("5h"),
        track(MMSI + 1).at("2024-01-10T10:00Z", *offset(*SEA, north_m=10_500), sog=0.3).stay("5h"),
    )
    assert [x["mmsi"] for x in of(detect(store, ports=ports), "loitering")] == [MMSI + 1]


def test_inside_a_port_circle_wider_than_ten_km_is_not_loitering(store, ports_csv):
    # a --ports file may draw a circle wider than the 10 km rule: a fix 15 km from the position of a
    # 20 km port is in the port (a port visit), not at sea; it was reported as loitering too
    ports = ports_csv([("Wide", "RU", SEA[0], SEA[1], 20.0)])
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *offset(*SEA, north_m=15_000), sog=0.3).stay("5h"),
        track(MMSI + 1).at("2024-01-10T10:00Z", *offset(*SEA, north_m=25_000), sog=0.3).stay("5h"),
    )
    events = detect(store, ports=ports)
    assert [(x["mmsi"], x["port"]) for x in of(events, "port_visit")] == [(MMSI, "Wide")]
    assert [x["mmsi"] for x in of(events, "loitering")] == [MMSI + 1]


def test_a_short_silence_does_not_split_but_a_gap_does(store):
    t = (
        track(MMSI)
        .at("2024-01-10T00:00Z", *SEA, sog=0.5)
        .stay("3h")
        .silence("2h")
        .fix(*SEA)
        .stay("3h")
    )
    write(store, t)
    (got,) = loitering(store)
    assert (got["start"], got["end"]) == ("2024-01-10T00:00:00Z", "2024-01-10T08:00:00Z")


def test_a_gap_ends_the_loitering(store):
    t = (
        track(MMSI)
        .at("2024-01-10T00:00Z", *SEA, sog=0.5)
        .stay("3h")
        .silence("7h")
        .fix(*SEA)
        .stay("3h")
    )
    write(store, t)
    events = detect(store)
    assert of(events, "loitering") == [] and len(of(events, "gap")) == 1


def test_class_b_without_sog(store):
    write(
        store, track(MMSI, cls="B").at("2024-01-10T00:00Z", *SEA, sog=None).stay("5h", every="3min")
    )
    assert len(loitering(store)) == 1
