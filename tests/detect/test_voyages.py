"""Voyages: consecutive visits at two different watched ports, dark or not."""

from __future__ import annotations

import pytest

from builders import detect, of, track, write
from tumen.detect.ports import load_ports

MMSI = 273456780
PORTS = {p["name"]: p for p in load_ports().to_pylist()}


def at(name: str) -> tuple[float, float]:
    return PORTS[name]["lat"], PORTS[name]["lon"]


def test_rajin_to_dunai_with_a_dark_transit(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *at("Rajin")).stay("3h")
    t.silence("20h").fix(*at("Dunai")).stay("3h")
    write(store, t)
    events = detect(store)
    (voyage,) = of(events, "voyage")
    assert (voyage["from_port"], voyage["to_port"]) == ("Rajin", "Dunai")
    assert (voyage["start"], voyage["end"]) == ("2024-01-10T03:00:00Z", "2024-01-10T23:00:00Z")
    ev = voyage["evidence"]
    assert ev["kp_ru"] is True and ev["from_country"] == "KP" and ev["to_country"] == "RU"
    assert ev["distance_km"] == pytest.approx(180, abs=15)
    # no voyage without its two visits
    visits = {v["event_id"]: v for v in of(events, "port_visit")}
    assert visits[ev["from_visit_id"]]["end"] == voyage["start"]
    assert visits[ev["to_visit_id"]]["start"] == voyage["end"]
    # the silence is also a gap that could have hidden a port call
    (gap,) = of(events, "gap")
    assert gap["evidence"]["start_port"] == "Rajin" and gap["evidence"]["end_port"] == "Dunai"


def test_two_visits_to_the_same_port_are_no_voyage(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *at("Vostochny")).stay("1h")
    t.to(42.5, 133.3, over="2h").stay("1h").to(*at("Vostochny"), over="2h").stay("1h")
    write(store, t)
    events = detect(store)
    assert len(of(events, "port_visit")) == 2 and of(events, "voyage") == []


def test_a_voyage_needs_consecutive_visits(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *at("Vladivostok")).stay("1h")
    t.to(*at("Nakhodka"), over="8h").stay("1h").to(*at("Vostochny"), over="1h").stay("1h")
    write(store, t)
    got = [(v["from_port"], v["to_port"]) for v in of(detect(store), "voyage")]
    assert got == [("Vladivostok", "Nakhodka"), ("Nakhodka", "Vostochny")]


def test_two_transmitters_visiting_two_ports_at_once_make_no_voyage(store):
    a = track(MMSI).at("2024-01-10T00:00Z", *at("Rajin")).stay("4h", every="5min")
    b = track(MMSI).at("2024-01-10T00:02Z", *at("Vladivostok")).stay("4h", every="7min")
    write(store, a, b)
    events = detect(store)
    assert sorted(v["port"] for v in of(events, "port_visit")) == ["Rajin", "Vladivostok"]
    assert of(events, "voyage") == []
    assert len(of(events, "identity", "mmsi_conflict")) == 1
