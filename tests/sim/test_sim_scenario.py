"""A whole small scenario: determinism, the files, and a truth that agrees with the AIS."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pyais import decode
from pyais.exceptions import AISBaseException
from pyais.messages import NMEAMessage

from tumen.sim import simulate
from tumen.sim.geo import haversine_km
from tumen.sim.motion import sample_leg
from tumen.sim.pipeline import build_fleet
from tumen.sim.places import read_watched_ports, world
from tumen.sim.truth import overlaps, read_truth

CONTRACT_KEYS = [
    "event_id",
    "type",
    "subtype",
    "mmsi",
    "other_mmsi",
    "start",
    "end",
    "lat",
    "lon",
    "port",
    "from_port",
    "to_port",
    "evidence",
]
ARMOUR = set("0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw")
SUBTYPES = {
    None,
    "mmsi_conflict",
    "position_jump",
    "identity_change",
    "invalid_imo",
    "flag_mismatch",
    "dprk_mid",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sim")
    result = simulate(out, seed=3, hours=72, vessels=150, fmt="both")
    return result


@pytest.fixture(scope="module")
def decoded(small) -> dict[int, list[tuple[int, float, float, float]]]:
    """Clean position reports of the NMEA file, decoded by pyais: mmsi → [(ts, lat, lon, sog)]."""
    fixes: dict[int, set[tuple[int, float, float, float]]] = defaultdict(set)
    for raw in Path(small.nmea).read_text(encoding="ascii", errors="replace").splitlines():
        parts = raw.split("\\")
        if len(parts) != 3 or not parts[2].startswith("!AIVDM,1,1"):
            continue
        try:
            msg = NMEAMessage(parts[2].encode())
        except AISBaseException:
            continue
        payload = msg.payload.decode()
        if not msg.is_valid or len(payload) != 28 or not set(payload) <= ARMOUR:
            continue
        d = decode(parts[2]).asdict()
        if d["msg_type"] not in (1, 3, 18) or d["lat"] == 91.0:
            continue
        ts = int(parts[1].split("c:")[1].split("*")[0])
        fixes[d["mmsi"]].add((ts, d["lat"], d["lon"], d["speed"]))
    return {m: sorted(v) for m, v in fixes.items()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", seed=11, hours=30, vessels=40, fmt="both")
    b = simulate(tmp_path / "b", seed=11, hours=30, vessels=40, fmt="both")
    c = simulate(tmp_path / "c", seed=12, hours=30, vessels=40, fmt="nmea")
    for name in ("ais.nmea", "ais.csv", "truth.jsonl", "ports.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a.nmea.read_bytes() != c.nmea.read_bytes()
    assert a.lines == b.lines > 1000


def test_files_follow_their_formats(small) -> None:
    lines = Path(small.nmea).read_bytes().splitlines()
    assert len(lines) == small.lines
    tagged = [ln for ln in lines if ln.startswith(b"\\s:") or ln.startswith(b"\\g:")]
    assert len(tagged) > 0.99 * len(lines)  # junk is rare
    stations = {re.search(rb"s:([A-Z0-9]+)", ln).group(1) for ln in tagged[:5000]}
    assert (
        stations
        <= {
            b"RUVVO1",
            b"RUNAK1",
            b"RUPOS1",
            b"RUOLG1",
            b"RUPLS1",
            b"KRSOK1",
            b"KRULL1",
            b"JPSDO1",
            b"JPOGA1",
            b"JPOKU1",
            b"SATAIS",
        }
        and len(stations) >= 3
    )
    with open(small.csv, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        first = next(reader)
    assert header == [
        "MMSI",
        "BaseDateTime",
        "LAT",
        "LON",
        "SOG",
        "COG",
        "Heading",
        "VesselName",
        "IMO",
        "CallSign",
        "VesselType",
        "Status",
        "Length",
        "Width",
        "Draft",
        "Cargo",
        "TransceiverClass",
    ]
    assert first[1].count("T") == 1 and first[-1] in ("A", "B")
    assert [p.name for p in read_watched_ports(small.ports)] == [
        p.name for p in read_watched_ports(None)
    ]


def test_noise_is_what_ingest_must_quarantine_or_dedupe(small) -> None:
    bad_checksum = not_available = duplicates = 0
    seen: set[bytes] = set()
    for raw in Path(small.nmea).read_bytes().splitlines():
        parts = raw.split(b"\\")
        if len(parts) != 3:
            continue
        try:
            msg = NMEAMessage(parts[2])
        except AISBaseException:
            continue
        if not msg.is_valid:
            bad_checksum += 1
            continue
        if msg.payload in seen:
            duplicates += 1
        seen.add(msg.payload)
        if (
            msg.payload.startswith((b"1", b"3", b"B"))
            and len(msg.payload) == 28
            and set(msg.payload.decode()) <= ARMOUR
        ):
            not_available += decode(parts[2]).asdict()["lat"] == 91.0
    n = small.lines
    assert 0.0005 * n < bad_checksum < 0.01 * n
    assert 0.0002 * n < not_available < 0.005 * n
    assert duplicates > 0.05 * n  # two stations hear the same report


def test_truth_lines_follow_the_event_contract(small) -> None:
    ports = {p.name for p in read_watched_ports(small.ports)}
    rows = [json.loads(line) for line in Path(small.truth).read_text().splitlines()]
    assert rows
    for row in rows:
        assert list(row)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
        assert row["type"] in {"port_visit", "voyage", "gap", "encounter", "loitering", "identity"}
        assert row["subtype"] in SUBTYPES and (row["subtype"] is None) == (
            row["type"] != "identity"
        )
        assert row["start"].endswith("Z") and row["start"] <= row["end"]
        assert row.get("negative", False) in (True, False) and row["note"]
        if row["type"] == "port_visit":
            assert row["port"] in ports
        if row["type"] == "voyage":
            assert (
                row["from_port"] in ports
                and row["to_port"] in ports
                and row["from_port"] != row["to_port"]
            )
        if row["type"] == "encounter":
            assert row["other_mmsi"] and row["other_mmsi"] != row["mmsi"]
    kinds = {(r["type"], r["subtype"]) for r in rows if not r.get("negative")}
    for wanted in [
        ("port_visit", None),
        ("voyage", None),
        ("gap", None),
        ("encounter", None),
        ("loitering", None),
        ("identity", "mmsi_conflict"),
        ("identity", "position_jump"),
        ("identity", "identity_change"),
        ("identity", "invalid_imo"),
        ("identity", "dprk_mid"),
    ]:
        assert wanted in kinds
    negatives = [r for r in rows if r.get("negative")]
    assert {r["type"] for r in negatives} == {"gap", "encounter"} and len(negatives) >= 5


def test_truth_agrees_with_the_decoded_ais(small, decoded) -> None:
    """Each movement event rests on fixes that the NMEA file really carries."""
    ports = {p.name: p for p in read_watched_ports(small.ports)}
    truth = [e for e in read_truth(small.truth) if not e.get("negative")]
    for e in truth:
        fx = decoded.get(e["mmsi"], [])
        ts = np.array([f[0] for f in fx])
        at = {f[0]: f for f in fx}
        if e["type"] == "gap":
            assert e["start"] in at and e["end"] in at
            inside = (ts > e["start"]) & (ts < e["end"])
            assert not inside.any(), e
            assert e["end"] - e["start"] >= 6 * 3600
        elif e["type"] == "port_visit":
            p = ports[e["port"]]
            for t in (e["start"], e["end"]):
                _, lat, lon, _ = at[t]
                assert haversine_km(lat, lon, p.lat, p.lon) <= p.radius_km
            assert e["end"] - e["start"] >= 30 * 60
        elif e["type"] == "loitering":
            assert at[e["start"]][3] < 2.0 and at[e["end"]][3] < 2.0
            assert e["end"] - e["start"] >= 4 * 3600
        elif e["type"] == "voyage":
            visits = [v for v in truth if v["type"] == "port_visit" and v["mmsi"] == e["mmsi"]]
            assert any(v["end"] == e["start"] and v["port"] == e["from_port"] for v in visits)
            assert any(v["start"] == e["end"] and v["port"] == e["to_port"] for v in visits)


def test_every_planted_behaviour_is_in_the_truth_and_no_look_alike_is() -> None:
    ctx = build_fleet(3, 72, 150, None)
    assert len(ctx.vessels) == 150
    assert {
        "shuttle",
        "sts",
        "loiter",
        "dark_voyage",
        "short_silence",
        "conflict_victim",
        "impostor",
        "position_jump",
        "moored_pair",
        "crossing",
        "slow_pair",
    } <= {v.role for v in ctx.vessels}


def test_planted_events_are_derived(small) -> None:
    truth = read_truth(small.truth)
    positives = [e for e in truth if not e.get("negative")]
    planted = [e for e in positives if e["note"].startswith("planted")]
    kinds = {(e["type"], e.get("subtype")) for e in planted}
    assert {
        ("encounter", None),
        ("loitering", None),
        ("gap", None),
        ("identity", "identity_change"),
        ("identity", "mmsi_conflict"),
        ("identity", "position_jump"),
        ("identity", "invalid_imo"),
    } <= kinds
    # no look-alike is also a positive of the same type and vessels at the same time
    for neg in (e for e in truth if e.get("negative")):
        pair = {neg["mmsi"], neg.get("other_mmsi")} - {None}
        assert not any(
            p["type"] == neg["type"]
            and {p["mmsi"], p.get("other_mmsi")} - {None} == pair
            and overlaps(p, neg)
            for p in positives
        )


def test_simulated_positions_stay_at_sea() -> None:
    """Every vessel's true track (5-minute samples) is at sea outside the harbours it calls at."""
    ctx = build_fleet(5, 48, 80, None)
    w = world()
    from global_land_mask import globe

    harbours = [(p.lat, p.lon, p.radius_km + 0.5) for p in [*w.watched, *w.other]]
    checked = 0
    for v in ctx.vessels:
        for leg in v.legs:
            t = np.arange(max(leg.t0, -48 * 3600.0), leg.t1, 300.0)
            if not len(t):
                continue
            lat, lon, *_ = sample_leg(leg, t, None)
            off = np.ones(len(t), dtype=bool)
            for plat, plon, r in harbours:
                off &= haversine_km(lat, lon, plat, plon) > r
            assert globe.is_ocean(lat[off], lon[off]).all(), (v.role, leg.kind)
            checked += int(off.sum())
    assert checked > 20_000


def test_cli_simulate_prints_its_files_and_refuses_a_ports_file_without_the_scenario_ports(
    tmp_path: Path, cli
) -> None:
    code, out, _err = cli(
        "simulate", "--out", tmp_path / "s", "--hours", "24", "--vessels", "30", "--json"
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["vessels"] >= 25 and summary["lines"] > 0 and Path(summary["truth"]).exists()
    assert set(summary["truth_events"]) <= {
        "port_visit",
        "voyage",
        "gap",
        "encounter",
        "loitering",
        "identity",
    }
    ports = tmp_path / "ports.csv"
    ports.write_text("name,country,lat,lon,radius_km\nVladivostok,RU,43.116667,131.883333,5.0\n")
    code, _out, err = cli("simulate", "--out", tmp_path / "t", "--ports", ports)
    assert code == 2 and "Rajin" in err


def test_the_simulator_reads_ports_with_the_one_loader(tmp_path) -> None:
    # it had its own reader, which took a UTF-8 BOM into the first column's name and let a
    # latitude of 95° through
    from tumen.errors import InputError

    text = "name,country,lat,lon,radius_km\nRajin,KP,42.2333,130.3,4\n"
    plain, bom, bad = tmp_path / "plain.csv", tmp_path / "bom.csv", tmp_path / "bad.csv"
    plain.write_text(text, encoding="utf-8")
    bom.write_text(text, encoding="utf-8-sig")
    bad.write_text(text.replace("42.2333", "95"), encoding="utf-8")
    got = read_watched_ports(bom)
    assert [(p.name, p.country, p.lat, p.radius_km) for p in got] == [
        (p.name, p.country, p.lat, p.radius_km) for p in read_watched_ports(plain)
    ] == [("Rajin", "KP", 42.2333, 4.0)]
    with pytest.raises(InputError, match="line 2: lat 95.0 is out of range"):
        read_watched_ports(bad)
