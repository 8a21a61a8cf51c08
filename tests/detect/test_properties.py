"""Properties: the detectors ignore the order in which the input arrives.

(Repeated reports are not tested here: ingest removes them before they reach the store, and a
repeated fix does count as a fix, e.g. towards the three an excursion needs to be a jump.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import detect, event_key, statics, track, write
from tumen.store import DuckDBStore

SEA = (41.0, 134.5)

# A vessel's day as a list of moves: stay slow, sail, go silent, or jump far away and back.
step = st.one_of(
    st.tuples(st.just("stay"), st.integers(2, 30), st.sampled_from([0.2, 1.0, None])),
    st.tuples(st.just("sail"), st.integers(2, 20), st.floats(-0.2, 0.2)),
    st.tuples(st.just("silence"), st.integers(1, 9), st.just(0)),
    st.tuples(st.just("jump"), st.integers(1, 4), st.just(0)),
)


def build(mmsi: int, lat: float, lon: float, moves: list) -> object:
    t = track(mmsi).at("2024-01-10T00:00Z", lat, lon, sog=0.5)
    for kind, n, x in moves:
        if kind == "stay":
            t.every("10min", n, sog=x)
        elif kind == "sail":
            t.to(t.lat + x, t.lon + x / 2, over=f"{n * 10}min", every="10min")
        elif kind == "silence":
            t.silence(f"{n}h").fix(t.lat, t.lon)
        else:
            home = (t.lat, t.lon)
            for _ in range(n):
                t.after("10min", home[0] + 5, home[1])
            t.after("10min", *home)
    return t


scenario = st.lists(
    st.tuples(st.integers(0, 3), st.lists(step, min_size=1, max_size=6)), min_size=1, max_size=4
)


def run(tracks, *, shuffle=None) -> list:
    store = DuckDBStore(":memory:")
    items = list(tracks) + [
        statics(273000000, "2024-01-10T00:00Z", name="X", imo=9179843).every("6min", 2)
    ]
    write(store, *items, shuffle=shuffle)
    events = sorted(event_key(e) for e in detect(store))
    store.close()
    return events


@given(scenario, st.integers(0, 10_000))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_detectors_ignore_input_order(vessels, seed):
    tracks = [
        build(
            273000000 + i, SEA[0] + 0.001 * slot, SEA[1], moves
        )  # slots ~110 m apart: encounters happen
        for i, (slot, moves) in enumerate(vessels)
    ]
    assert run(tracks, shuffle=seed) == run(tracks)
