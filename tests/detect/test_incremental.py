"""Incremental runs recompute only the vessels with new data — and give what a full run gives."""

from __future__ import annotations

from pathlib import Path

from builders import detect, offset, statics, track, write
from tumen.config import load_settings
from tumen.detect import run_detectors
from tumen.store import DuckDBStore

SEA = (41.0, 134.5)
A, B, C, D, E, F = (273000001, 273000002, 273000003, 273000004, 273000005, 273000006)


def part1():
    return [
        track(A).at("2024-01-10T00:00Z", *SEA, sog=0.3).stay("8h"),
        track(B)
        .at("2024-01-10T00:00Z", 40.0, 134.5, sog=10)
        .to(*offset(*SEA, east_m=200), over="3h"),
        track(C).at("2024-01-10T00:00Z", 39.0, 134.0, sog=8).to(39.3, 134.0, over="3h"),
        track(D)
        .at("2024-01-10T00:00Z", 38.0, 134.0, sog=0.2)
        .stay("6h")
        .silence("7h")
        .fix(38.0, 134.0)
        .stay("1h"),
        statics(E, "2024-01-10T00:00Z", name="OLD NAME", imo=9179842).every("6min", 3),
    ]


def part2():
    b = track(B).at("2024-01-10T03:10Z", *offset(*SEA, east_m=200), sog=0.4).stay("4h")
    return [
        b,  # B stays beside A: an encounter that needs both parts
        track(C)
        .at("2024-01-10T11:00Z", 39.4, 134.0, sog=8)
        .to(39.6, 134.0, over="2h"),  # gap across parts
        statics(E, "2024-01-10T05:00Z", name="NEW NAME", imo=9179842).every("6min", 3),
        track(F).at("2024-01-10T00:00Z", 23.0, 134.0, sog=0.1).stay("5h"),
        track(445000009).at("2024-01-10T00:00Z", 22.0, 135.0, sog=9).to(22.5, 135.0, over="2h"),
    ]


def records(store):
    from tumen.detect.events import event_records, query_events

    return sorted((r for r in event_records(query_events(store))), key=lambda r: r["event_id"])


def test_incremental_equals_full(tmp_path: Path):
    inc = DuckDBStore(tmp_path / "inc.duckdb")
    write(inc, *part1())
    first = detect(inc)
    assert {e["type"] for e in first} >= {"loitering", "gap"}
    write(inc, *part2())
    settings = load_settings(environ={})
    rep = run_detectors(inc, settings)
    assert rep.mode == "incremental" and rep.vessels == 4  # B, C, F, 445000009 (E has only statics)

    full = DuckDBStore(tmp_path / "full.duckdb")
    write(full, *part1())
    write(full, *part2())
    run_detectors(full, settings)
    got, want = records(inc), records(full)
    assert [(e["type"], e["mmsi"], e["other_mmsi"], e["start"]) for e in got] == [
        (e["type"], e["mmsi"], e["other_mmsi"], e["start"]) for e in want
    ]
    assert got == want  # ids, times, evidence: everything
    types = {(e["type"], e["subtype"]) for e in got}
    assert {("encounter", None), ("identity", "identity_change"), ("identity", "dprk_mid")} <= types
    assert any(e["type"] == "gap" and e["mmsi"] == C for e in got)
    # the derived tables agree too
    for table in ("segments", "encounter_steps"):
        q = f"SELECT * FROM {table} ORDER BY ALL"
        assert inc.query(q).to_pylist() == full.query(q).to_pylist()
    inc.close()
    full.close()


def test_nothing_new_is_unchanged_and_new_settings_recompute(store):
    write(store, *part1())
    settings = load_settings(environ={})
    assert run_detectors(store, settings).mode == "full"
    assert run_detectors(store, settings).mode == "unchanged"
    other = load_settings(overrides={"detect.gaps.min_gap_h": 3.0}, environ={})
    assert run_detectors(store, other).mode == "full"
    assert run_detectors(store, settings, full=True).mode == "full"


def test_removed_rows_force_a_full_run(store):
    write(store, *part1())
    settings = load_settings(environ={})
    run_detectors(store, settings)
    store.execute("DELETE FROM positions WHERE mmsi = ?", [D])
    rep = run_detectors(store, settings)
    assert rep.mode == "full"
    assert all(e["mmsi"] != D for e in records(store))
