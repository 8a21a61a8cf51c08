"""Encounters: two distinct vessels ≤ 500 m apart for ≥ 2 h, both < 2 kn, ≥ 10 km from every port."""

from __future__ import annotations

import math

import pytest

from builders import detect, duration, of, offset, track, write
from tumen.detect.ports import load_ports
from tumen.tracks.geo import KN_MS

A, B = 273456780, 445123456
SEA = (41.0, 134.5)


def encounters(store, **kw):
    return of(detect(store, **kw), "encounter")


def pair(
    store,
    *,
    apart_m=300.0,
    hours="2h30min",
    sog=0.5,
    start="2024-01-10T10:00Z",
    where=SEA,
    b_cls="A",
    every="5min",
    drift_kn=0.0,
):
    """Two vessels ``apart_m`` apart for ``hours``, drifting north together at ``drift_kn``."""
    b_pos = offset(*where, east_m=apart_m)
    north = 1852 * drift_kn * duration(hours).total_seconds() / 3600
    tracks = []
    for mmsi, pos, cls in ((A, where, "A"), (B, b_pos, b_cls)):
        t = track(mmsi, cls=cls).at(start, *pos, sog=sog)
        if drift_kn:
            t.to(*offset(*pos, north_m=north), over=hours, every=every, sog=sog)
        else:
            t.stay(hours, every=every)
        tracks.append(t)
    write(store, *tracks)


def test_side_by_side_for_two_and_a_half_hours(store):
    pair(store)
    (e,) = encounters(store)
    assert (e["mmsi"], e["other_mmsi"]) == (A, B)  # one event per pair, smaller MMSI first
    assert (e["start"], e["end"]) == ("2024-01-10T10:00:00Z", "2024-01-10T12:30:00Z")
    ev = e["evidence"]
    assert ev["min_distance_m"] == pytest.approx(300, abs=1)
    assert ev["duration_h"] == pytest.approx(2.5)
    assert len(ev["position_ids"]) == 4


@pytest.mark.parametrize(("apart_m", "found"), [(490.0, 1), (510.0, 0)])
def test_distance_just_under_and_over_500_m(store, apart_m, found):
    pair(store, apart_m=apart_m)
    assert len(encounters(store)) == found


@pytest.mark.parametrize(("hours", "found"), [("2h5min", 1), ("1h55min", 0)])
def test_duration_just_over_and_under_two_hours(store, hours, found):
    pair(store, hours=hours)
    assert len(encounters(store)) == found


@pytest.mark.parametrize(("knots", "found"), [(1.9, 1), (2.1, 0)])
def test_speed_just_under_and_over_two_knots(store, knots, found):
    pair(store, sog=knots, drift_kn=knots, hours="3h")
    assert len(encounters(store)) == found


@pytest.mark.parametrize(("within_min", "found"), [(110, False), (118, False), (125, True)])
def test_slow_drift_past_a_moored_ship_counts_only_the_time_within_500_m(store, within_min, found):
    # B drifts slowly (< 0.3 kn) along a line 100 m from A: within 500 m of A for `within_min`
    # minutes.  Counting a whole step before the first and after the last paired grid time made
    # 110 min (and anything from 100 min up) a 2 h encounter.
    half = math.sqrt(500.0**2 - 100.0**2)
    v = 2 * half / (within_min * 60.0)  # m/s
    east = v * 3 * 3600
    write(
        store,
        track(A).at("2024-01-10T00:00Z", *SEA, sog=0.1).stay("6h", every="5min"),
        track(B)
        .at("2024-01-10T00:00Z", *offset(*SEA, north_m=100, east_m=east), sog=v / KN_MS)
        .to(*offset(*SEA, north_m=100, east_m=-east), over="6h", every="5min", sog=v / KN_MS),
    )
    got = encounters(store)
    assert len(got) == int(found)
    if found:
        assert got[0]["evidence"]["duration_h"] * 60 == pytest.approx(within_min, abs=1.0)


def test_ships_crossing_fast_within_500_m_are_no_encounter(store):
    write(
        store,
        track(A)
        .at("2024-01-10T10:00Z", 41.0, 134.0, sog=12)
        .to(41.0, 135.0, over="4h", every="2min"),
        track(B)
        .at("2024-01-10T10:00Z", 41.002, 134.0, sog=12)
        .to(41.002, 135.0, over="4h", every="2min"),
    )
    assert encounters(store) == []


def test_a_slow_pair_1_5_km_apart_is_no_encounter(store):
    pair(store, apart_m=1500.0, hours="6h")
    assert encounters(store) == []


def test_ships_moored_side_by_side_in_port_are_no_encounter(store):
    dunai = next(p for p in load_ports().to_pylist() if p["name"] == "Dunai")
    pair(store, where=(dunai["lat"], dunai["lon"]), hours="6h")
    events = detect(store)
    assert of(events, "encounter") == [] and len(of(events, "port_visit")) == 2


@pytest.mark.parametrize(("km", "found"), [(10.3, 1), (9.7, 0)])
def test_ten_km_from_every_port(store, ports_csv, km, found):
    ports = ports_csv([("Alpha", "RU", SEA[0], SEA[1], 2.0)])
    where = offset(*SEA, north_m=km * 1000)
    pair(store, where=where, apart_m=100.0)
    assert len(of(detect(store, ports=ports), "encounter")) == found


def test_inside_a_port_circle_wider_than_ten_km_is_no_encounter(store, ports_csv):
    # 15 km from the position of a port whose circle is 20 km wide: moored in port, not at sea
    ports = ports_csv([("Wide", "RU", SEA[0], SEA[1], 20.0)])
    pair(store, where=offset(*SEA, north_m=15_000), apart_m=100.0)
    events = detect(store, ports=ports)
    assert of(events, "encounter") == [] and len(of(events, "port_visit")) == 2


def test_across_the_180th_meridian(store):
    write(
        store,
        track(A).at("2024-01-10T10:00Z", 60.0, 179.999, sog=0.3).stay("3h"),
        track(B).at("2024-01-10T10:00Z", 60.0, -179.999, sog=0.3).stay("3h"),
    )
    (e,) = encounters(store)
    assert e["evidence"]["min_distance_m"] == pytest.approx(111.5, abs=1)


def test_class_b_and_missing_sog(store):
    pair(store, b_cls="B", sog=None, every="3min")
    assert len(encounters(store)) == 1


def test_one_mmsi_never_meets_itself(store):
    # two transmitters with one MMSI drifting side by side (and another vessel far away)
    write(
        store,
        track(A).at("2024-01-10T10:00Z", *SEA, sog=0.5).stay("3h"),
        track(A).at("2024-01-10T10:01Z", *offset(*SEA, east_m=100), sog=0.5).stay("3h"),
    )
    assert encounters(store) == []


def test_sparse_reports_are_interpolated_but_long_silences_are_not(store):
    # fixes every 40 min are interpolated on the 10-min grid; every 70 min they are not
    pair(store, hours="3h", every="40min")
    assert len(encounters(store)) == 1


def test_no_interpolation_across_silences_longer_than_an_hour(store):
    pair(store, hours="4h", every="70min")
    assert encounters(store) == []


def test_an_encounter_with_a_vessel_that_keeps_loitering(store):
    write(
        store,
        track(A).at("2024-01-10T06:00Z", *SEA, sog=0.2).stay("10h"),
        track(B)
        .at("2024-01-10T09:00Z", 40.7, 134.5, sog=12)
        .to(*offset(*SEA, east_m=200), over="2h", sog=12)
        .stay("3h", sog=0.4)
        .to(41.3, 134.5, over="2h", sog=12),
    )
    events = detect(store)
    (e,) = of(events, "encounter")
    # B reports 12 kn on arrival (11:00): slow from its next fix (10-min legs go by reported speed too)
    assert (e["start"], e["end"]) == ("2024-01-10T11:10:00Z", "2024-01-10T14:00:00Z")
    assert [x["mmsi"] for x in of(events, "loitering")] == [A]
