"""Every detector threshold at its exact boundary: which side the boundary itself falls on.

The other tests put tracks just under and just over each threshold (a minute, a few metres);
these put them *on* it, so that ``>=`` written as ``>`` (or ``<`` as ``<=``) fails a test.
Times are whole seconds, so durations are exact; for distances the threshold is set to the
distance the detector's own SQL computes (:func:`tumen.tracks.geo.haversine_m`), bit for bit.

Boundaries, as the definitions say (docs/detectors.md):

- port visit: lasts *at least* ``min_duration_min``;
- gap: a silence of *at least* ``min_gap_h``;
- encounter: *at most* ``max_distance_m`` apart, *at least* ``min_duration_h``, both *slower than*
  ``max_speed_kn``, *at least* ``min_port_distance_km`` from every port;
- loitering: *slower than* ``max_speed_kn``, *at least* ``min_duration_h``, *at least*
  ``min_port_distance_km`` from every port;
- segmentation: a fix continues another when ``distance ≤ noise_m + max_speed_kn × Δt``;
- voyage: lasts *at most* ``max_duration_days``;
- position jump: spans *at most* ``jump_max_h``, with *at least* ``jump_min_positions`` fixes.
"""

from __future__ import annotations

import math

import duckdb
import pytest

from builders import detect, of, offset, track, write
from tumen.config import load_settings
from tumen.detect.legs import build_legs
from tumen.detect.ports import load_ports, register_ports
from tumen.tracks.geo import KN_MS, haversine_m

MMSI, OTHER = 273456780, 445123456
SEA = (41.0, 134.5)  # open sea, far from every bundled port; 134.5 is exact in binary
T0 = "2024-01-10T10:00Z"


def sql_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance exactly as the detectors' SQL computes it (metres)."""
    expr = haversine_m("a", "b", "c", "d")
    row = duckdb.execute(
        f"SELECT {expr} FROM (SELECT ?::DOUBLE a, ?::DOUBLE b, ?::DOUBLE c, ?::DOUBLE d)",
        [lat1, lon1, lat2, lon2],
    ).fetchone()
    assert row is not None
    return float(row[0])


def km_for(metres: float) -> float:
    """A distance in km whose ``km * 1000.0`` (as the detectors' SQL is written) is ``metres`` exactly."""
    km = metres / 1000.0
    for _ in range(64):
        if km * 1000.0 == metres:
            return km
        km = math.nextafter(km, math.inf if km * 1000.0 < metres else -math.inf)
    raise AssertionError(f"no km value gives exactly {metres!r} m")  # pragma: no cover


def below(x: float) -> float:
    """The largest float below ``x``: a threshold that ``x`` exceeds by one unit in the last place."""
    return math.nextafter(x, -math.inf)


# --------------------------------------------------------------------------- port visits
@pytest.mark.parametrize(("stay", "found"), [("30min", 1), ("29min", 0)])
def test_a_port_visit_of_exactly_the_minimum_duration_counts(store, ports_csv, stay, found):
    ports = ports_csv([("Alpha", "RU", 42.0, 131.0, 3.0)])
    write(store, track(MMSI).at(T0, 42.0, 131.0).stay(stay, every="1min"))
    got = of(detect(store, ports=ports), "port_visit")
    assert len(got) == found
    if found:
        assert got[0]["evidence"]["duration_h"] == 0.5


# --------------------------------------------------------------------------- gaps
def test_a_silence_of_exactly_the_minimum_is_a_gap(store):
    t = track(MMSI).at(T0, *SEA, sog=0.1).stay("1h").after("6h").stay("1h")
    u = track(MMSI + 1).at(T0, 41.5, 134.5, sog=0.1).stay("1h").after("5h59min59s").stay("1h")
    write(store, t, u)
    got = of(detect(store), "gap")
    assert [(g["mmsi"], g["evidence"]["duration_h"]) for g in got] == [(MMSI, 6.0)]


# --------------------------------------------------------------------------- encounters
def pair(store, *, north_m=300.0, hours="2h", sog=0.5, every="5min", where=SEA):
    """Two vessels at rest, B ``north_m`` north of A (same longitude), from T0 for ``hours``."""
    b = offset(*where, north_m=north_m)
    write(
        store,
        track(MMSI).at(T0, *where, sog=sog).stay(hours, every=every),
        track(OTHER).at(T0, *b, sog=sog).stay(hours, every=every),
    )
    return b


def test_an_encounter_of_exactly_the_minimum_duration_counts(store):
    pair(store, hours="2h")
    (e,) = of(detect(store), "encounter")
    assert e["evidence"]["duration_h"] == 2.0


@pytest.mark.parametrize(("exact", "found"), [(True, 1), (False, 0)])
def test_an_encounter_at_exactly_the_maximum_distance_counts(store, exact, found):
    b = pair(store, north_m=450.0, hours="2h30min")
    d = sql_m(*SEA, *b)  # at rest: the resampled positions are the fixes themselves
    limit = d if exact else below(d)
    got = of(detect(store, **{"detect.encounters.max_distance_m": limit}), "encounter")
    assert len(got) == found
    if found:
        assert got[0]["evidence"]["min_distance_m"] == d


def test_an_encounter_needs_both_slower_than_the_limit_not_at_it(store):
    # reports every 10 min: the reported speed decides (see tumen.detect.legs.slow_sql)
    pair(store, sog=2.0, every="10min", hours="3h")
    assert of(detect(store), "encounter") == []
    assert len(of(detect(store, **{"detect.encounters.max_speed_kn": 2.0001}), "encounter")) == 1


@pytest.mark.parametrize(("exact", "found"), [(True, 1), (False, 0)])
def test_an_encounter_exactly_at_the_minimum_port_distance_counts(store, tmp_path, exact, found):
    port = (40.9, 134.5)  # 11 km south of A (B is farther)
    ports = tmp_path / "ports.csv"
    ports.write_text(f"name,country,lat,lon,radius_km\nSouth,RU,{port[0]},{port[1]},2.0\n")
    pair(store, hours="2h30min")
    km = km_for(sql_m(*SEA, *port))
    limit = km if exact else math.nextafter(km, math.inf)
    got = of(
        detect(store, ports=ports, **{"detect.encounters.min_port_distance_km": limit}),
        "encounter",
    )
    assert len(got) == found


# --------------------------------------------------------------------------- loitering
def test_loitering_of_exactly_the_minimum_duration_counts(store):
    write(store, track(MMSI).at(T0, *SEA, sog=0.8).stay("4h", every="5min"))
    (lo,) = of(detect(store), "loitering")
    assert lo["evidence"]["duration_h"] == 4.0


def test_loitering_needs_slower_than_the_limit_not_at_it(store):
    write(store, track(MMSI).at(T0, *SEA, sog=2.0).stay("5h", every="10min"))
    assert of(detect(store), "loitering") == []
    assert len(of(detect(store, **{"detect.loitering.max_speed_kn": 2.0001}), "loitering")) == 1


@pytest.mark.parametrize(("exact", "found"), [(True, 1), (False, 0)])
def test_loitering_exactly_at_the_minimum_port_distance_counts(store, tmp_path, exact, found):
    port = (40.9, 134.5)
    ports = tmp_path / "ports.csv"
    ports.write_text(f"name,country,lat,lon,radius_km\nSouth,RU,{port[0]},{port[1]},2.0\n")
    write(store, track(MMSI).at(T0, *SEA, sog=0.8).stay("5h", every="10min"))
    km = km_for(sql_m(*SEA, *port))
    limit = km if exact else math.nextafter(km, math.inf)
    got = of(
        detect(store, ports=ports, **{"detect.loitering.min_port_distance_km": limit}),
        "loitering",
    )
    assert len(got) == found


# --------------------------------------------------------------------------- segmentation
def _noise_for(d: float, per_s_m: float, dt: float, exact: bool) -> float:
    """``noise_m`` with ``noise_m + per_s_m * dt`` (as the SQL adds them) ``== d`` exactly, or
    (``exact=False``) the largest one whose sum falls just short of ``d``."""
    noise = d - per_s_m * dt
    for _ in range(4096):
        total = noise + per_s_m * dt
        if exact and total == d:
            return noise
        if not exact and total < d:
            return noise
        noise = math.nextafter(noise, math.inf if total < d else -math.inf)
    raise AssertionError("no such noise_m")  # pragma: no cover


@pytest.mark.parametrize(
    ("exact", "kinds"), [(True, [("track", 3)]), (False, [("noise", 1), ("noise", 2)])]
)
def test_a_leg_at_exactly_the_speed_limit_continues_the_track(store, exact, kinds):
    settings = load_settings(environ={}).detect
    seg = settings.segments
    a = (40.0, 140.0)
    b = offset(*a, north_m=seg.max_speed_kn * 1852 / 6 + 300)  # 10 min at the limit, plus 300 m
    write(store, track(MMSI).at(T0, *a).after("10min", *b).after("10min", *b))
    d = sql_m(*a, *b)
    noise = _noise_for(d, seg.max_speed_kn * KN_MS, 600.0, exact)
    segments = seg.model_copy(update={"noise_m": noise})
    register_ports(store, load_ports(), reach_km=10.0)
    build_legs(store, settings.model_copy(update={"segments": segments}))
    rows = store.query("SELECT kind, n_positions FROM _segments ORDER BY seg").to_pylist()
    assert [(r["kind"], r["n_positions"]) for r in rows] == kinds


# --------------------------------------------------------------------------- voyages
@pytest.mark.parametrize(("silence", "found"), [("24h", 1), ("24h1s", 0)])
def test_a_voyage_of_exactly_the_maximum_duration_counts(store, silence, found):
    ports = {p["name"]: p for p in load_ports().to_pylist()}
    r, d = ports["Rajin"], ports["Dunai"]
    # the visit ends when the last fix in Rajin is seen; the next visit starts with the first in Dunai
    t = track(MMSI).at(T0, r["lat"], r["lon"]).stay("1h").silence(silence)
    t.fix(d["lat"], d["lon"]).stay("1h")
    write(store, t)
    got = of(detect(store, **{"detect.voyages.max_duration_days": 1.0}), "voyage")
    assert len(got) == found
    if found:
        assert got[0]["evidence"]["duration_h"] == 24.0


# --------------------------------------------------------------------------- position jumps
def test_a_position_jump_of_exactly_the_longest_duration_counts(store):
    t = track(MMSI).at(T0, *SEA, sog=10).stay("2h")
    t.after("10min", 44.0, 136.0).stay("3h").after("10min", *SEA).stay("2h")
    write(store, t)
    (j,) = of(detect(store), "identity", "position_jump")
    assert j["evidence"]["duration_h"] == 3.0


def test_a_position_jump_of_exactly_the_fewest_fixes_counts(store):
    t = track(MMSI).at(T0, *SEA, sog=10).stay("2h")
    t.after("10min", 44.0, 136.0).every("10min", 2).after("10min", *SEA).stay("2h")
    write(store, t)
    (j,) = of(detect(store), "identity", "position_jump")
    assert j["evidence"]["n_positions"] == 3


def test_the_boundaries_are_those_of_the_settings() -> None:
    # the tests above rely on these defaults; a changed default must be looked at here
    d = load_settings(environ={}).detect
    assert d.port_visits.min_duration_min == 30.0 and d.gaps.min_gap_h == 6.0
    assert (d.encounters.min_duration_h, d.encounters.max_speed_kn) == (2.0, 2.0)
    assert (d.loitering.min_duration_h, d.loitering.max_speed_kn) == (4.0, 2.0)
    assert (d.identity.jump_max_h, d.identity.jump_min_positions) == (3.0, 3)
    assert d.segments.min_segment_positions == 3
