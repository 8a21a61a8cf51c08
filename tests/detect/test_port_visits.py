"""Port visits: ≥ 30 min of consecutive fixes inside one port's radius; silences do not split."""

from __future__ import annotations

from builders import detect, of, offset, track, write

MMSI = 273456780
PORT = ("Alpha", "RU", 42.0, 131.0, 3.0)


def visits(store, ports):
    return of(detect(store, ports=ports), "port_visit")


def test_just_over_and_just_under_thirty_minutes(store, ports_csv):
    ports = ports_csv([PORT])
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", 42.0, 131.0).stay("31min", every="1min"),
        track(MMSI + 1).at("2024-01-10T10:00Z", 42.001, 131.0).stay("29min", every="1min"),
    )
    got = visits(store, ports)
    assert [(v["mmsi"], v["port"], v["start"], v["end"]) for v in got] == [
        (MMSI, "Alpha", "2024-01-10T10:00:00Z", "2024-01-10T10:31:00Z")
    ]
    assert got[0]["evidence"]["n_positions"] == 32
    assert got[0]["evidence"]["position_ids"][0] != got[0]["evidence"]["position_ids"][-1]


def test_radius_edge_inside_and_outside(store, ports_csv):
    ports = ports_csv([PORT])
    inside = offset(42.0, 131.0, north_m=2990)
    outside = offset(42.0, 131.0, north_m=3010)
    write(
        store,
        track(MMSI).at("2024-01-10T10:00Z", *inside).stay("1h"),
        track(MMSI + 1).at("2024-01-10T10:00Z", *outside).stay("1h"),
    )
    assert [v["mmsi"] for v in visits(store, ports)] == [MMSI]


def test_a_silence_inside_the_port_does_not_split_the_visit(store, ports_csv):
    ports = ports_csv([PORT])
    t = (
        track(MMSI)
        .at("2024-01-10T10:00Z", 42.0, 131.0)
        .stay("20min")
        .silence("10h")
        .fix(42.001, 131.0)
        .stay("20min")
    )
    write(store, t)
    got = visits(store, ports)
    assert [(v["start"], v["end"]) for v in got] == [
        ("2024-01-10T10:00:00Z", "2024-01-10T20:40:00Z")
    ]


def test_leaving_the_radius_splits_the_visit(store, ports_csv):
    ports = ports_csv([PORT])
    t = track(MMSI).at("2024-01-10T10:00Z", 42.0, 131.0).stay("1h")
    t.after("10min", 42.1, 131.0).after("10min", 42.0, 131.0).stay("1h")
    write(store, t)
    got = visits(store, ports)
    assert [(v["start"], v["end"]) for v in got] == [
        ("2024-01-10T10:00:00Z", "2024-01-10T11:00:00Z"),
        ("2024-01-10T11:20:00Z", "2024-01-10T12:20:00Z"),
    ]


def test_overlapping_radii_go_to_the_nearest_port(store, ports_csv):
    # Two circles of 5 km whose centres are 6 km apart overlap in a 4 km band.
    b_lat, b_lon = offset(42.0, 131.0, east_m=6000)
    ports = ports_csv([("Alpha", "RU", 42.0, 131.0, 5.0), ("Bravo", "KP", b_lat, b_lon, 5.0)])
    near_a = offset(42.0, 131.0, east_m=2500)  # inside both, nearer Alpha
    near_b = offset(42.0, 131.0, east_m=3500)  # inside both, nearer Bravo
    t = track(MMSI).at("2024-01-10T10:00Z", *near_a).stay("1h").after("10min", *near_b).stay("1h")
    write(store, t)
    got = visits(store, ports)
    assert [(v["port"], v["start"], v["end"]) for v in got] == [
        ("Alpha", "2024-01-10T10:00:00Z", "2024-01-10T11:00:00Z"),
        ("Bravo", "2024-01-10T11:10:00Z", "2024-01-10T12:10:00Z"),
    ]
    assert got[0]["evidence"]["country"] == "RU" and got[1]["evidence"]["country"] == "KP"


def test_a_port_on_the_180th_meridian(store, ports_csv):
    ports = ports_csv([("Dateline", "RU", 65.0, 180.0, 4.0)])
    t = (
        track(MMSI)
        .at("2024-01-10T10:00Z", 65.0, 179.98)
        .stay("20min")
        .after("10min", 65.0, -179.98)
        .stay("30min")
    )
    write(store, t)
    got = visits(store, ports)
    assert [(v["port"], v["start"], v["end"]) for v in got] == [
        ("Dateline", "2024-01-10T10:00:00Z", "2024-01-10T11:00:00Z")
    ]


def test_class_b_and_missing_sog_still_visit(store, ports_csv):
    ports = ports_csv([PORT])
    t = (
        track(MMSI, cls="B")
        .at("2024-01-10T10:00Z", 42.0, 131.0, sog=None)
        .stay("45min", every="3min")
    )
    write(store, t)
    assert [v["mmsi"] for v in visits(store, ports)] == [MMSI]


def test_bundled_ports_are_used_by_default(store):
    from tumen.detect.ports import load_ports

    rajin = next(p for p in load_ports().to_pylist() if p["name"] == "Rajin")
    write(store, track(MMSI).at("2024-01-10T10:00Z", rajin["lat"], rajin["lon"]).stay("2h"))
    got = of(detect(store), "port_visit")
    assert [(v["port"], v["evidence"]["country"]) for v in got] == [("Rajin", "KP")]
