"""`tumen evaluate`: one-to-one matching by type, vessels, ports/subtype and time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from tumen.config import EvaluateParams
from tumen.sim.evaluate import TYPES, evaluate, score
from tumen.sim.truth import iso, write_truth

H = 3600
T0 = 1_709_510_400  # 2024-03-04T00:00:00Z


def ev(kind: str, mmsi: int, start_h: float, end_h: float, **extra) -> dict:
    row = {
        "type": kind,
        "subtype": None,
        "mmsi": mmsi,
        "other_mmsi": None,
        "start": int(T0 + start_h * H),
        "end": int(T0 + end_h * H),
        "port": None,
        "from_port": None,
        "to_port": None,
        "lat": None,
        "lon": None,
        "evidence": {},
    }
    row.update(extra)
    return row


P = EvaluateParams()


def test_exact_and_tolerated_matches_count_as_true_positives() -> None:
    truth = [ev("port_visit", 1, 10, 20, port="Rajin"), ev("gap", 2, 5, 12)]
    found = [
        ev("port_visit", 1, 10.3, 19.5, port="Rajin"),
        ev("gap", 2, 12.5, 13),
    ]  # gap 0.5 h after: within 1 h
    result = score(truth, found, P)
    assert result["by_type"]["port_visit"] == {
        "tp": 1,
        "fp": 0,
        "fn": 0,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }
    assert result["by_type"]["gap"]["tp"] == 1
    assert result["overall"]["f1"] == 1.0 and not result["missed"] and not result["spurious"]


def test_wrong_port_vessel_or_time_do_not_match() -> None:
    truth = [
        ev("port_visit", 1, 10, 20, port="Rajin"),
        ev("gap", 2, 5, 12),
        ev("voyage", 3, 0, 9, from_port="Rajin", to_port="Dunai"),
    ]
    found = [
        ev("port_visit", 1, 10, 20, port="Dunai"),
        ev("gap", 9, 5, 12),
        ev("gap", 2, 13.5, 20),
        ev("voyage", 3, 0, 9, from_port="Dunai", to_port="Rajin"),
    ]
    result = score(truth, found, P)
    assert result["overall"] == {
        "tp": 0,
        "fp": 4,
        "fn": 3,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }
    assert {e["type"] for e in result["missed"]} == {"port_visit", "gap", "voyage"}
    assert result["missed"][0]["start"].endswith("Z")


def test_matching_is_one_to_one_and_picks_the_best_overlap() -> None:
    truth = [ev("loitering", 5, 10, 16)]
    found = [ev("loitering", 5, 9, 11), ev("loitering", 5, 10, 16)]
    result = score(truth, found, P)
    assert result["by_type"]["loitering"] == {
        "tp": 1,
        "fp": 1,
        "fn": 0,
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.6667,
    }
    assert result["spurious"][0]["end"] == iso(T0 + 11 * H)  # the short one is the extra


def test_encounters_match_as_unordered_pairs() -> None:
    truth = [ev("encounter", 100, 1, 4, other_mmsi=200)]
    assert score(truth, [ev("encounter", 200, 1, 4, other_mmsi=100)], P)["overall"]["tp"] == 1
    assert score(truth, [ev("encounter", 100, 1, 4, other_mmsi=300)], P)["overall"]["tp"] == 0


def test_identity_subtypes_and_timeless_ones() -> None:
    truth = [
        ev("identity", 7, 0, 72, subtype="dprk_mid"),
        ev("identity", 8, 30, 30, subtype="identity_change"),
        ev("identity", 9, 20, 21, subtype="position_jump"),
    ]
    found = [
        ev("identity", 7, 70, 71, subtype="dprk_mid"),  # any time
        ev("identity", 8, 40, 40, subtype="identity_change"),  # 10 h off: beyond 2 h
        ev("identity", 9, 20, 21, subtype="mmsi_conflict"),
    ]  # wrong subtype
    result = score(truth, found, P)
    assert result["by_subtype"]["dprk_mid"]["tp"] == 1
    assert result["by_subtype"]["identity_change"] == {
        "tp": 0,
        "fp": 1,
        "fn": 1,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }
    assert result["by_type"]["identity"]["tp"] == 1 and result["by_type"]["identity"]["fn"] == 2


def test_reported_look_alikes_are_negatives_hit() -> None:
    truth = [
        ev("encounter", 1, 10, 13, other_mmsi=2, negative=True, note="slow pair"),
        ev("gap", 3, 0, 8),
    ]
    found = [ev("encounter", 2, 10.5, 12, other_mmsi=1), ev("gap", 3, 0, 8)]
    result = score(truth, found, P)
    assert result["by_type"]["encounter"] == {
        "tp": 0,
        "fp": 1,
        "fn": 0,
        "precision": 0.0,
        "recall": 1.0,
        "f1": 0.0,
    }
    assert (
        len(result["negatives_hit"]) == 1
        and result["negatives_hit"][0]["negative"]["note"] == "slow pair"
    )
    assert result["counts"] == {"truth": 1, "negatives": 1, "detected": 2}
    assert list(result["by_type"]) == list(TYPES)


def _events_table(rows: list[dict]) -> pa.Table:
    ts = lambda s: datetime.fromtimestamp(s, UTC).replace(tzinfo=None)  # noqa: E731
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "type": [r["type"] for r in rows],
            "subtype": pa.array([r["subtype"] for r in rows], pa.string()),
            "mmsi": [r["mmsi"] for r in rows],
            "other_mmsi": pa.array([r["other_mmsi"] for r in rows], pa.int64()),
            "start": [ts(r["start"]) for r in rows],
            "end": [ts(r["end"]) for r in rows],
            "port": pa.array([r["port"] for r in rows], pa.string()),
            "from_port": pa.array([r["from_port"] for r in rows], pa.string()),
            "to_port": pa.array([r["to_port"] for r in rows], pa.string()),
            "detector": ["test"] * len(rows),
            "params": ["{}"] * len(rows),
            "evidence": ["{}"] * len(rows),
            "tumen_version": ["test"] * len(rows),
            "detected_at": [ts(T0)] * len(rows),
        }
    )


def test_evaluate_reads_the_store_and_the_cli_prints_the_json_object(
    store, tmp_path: Path, cli
) -> None:
    truth = [
        ev("port_visit", 1, 10, 20, port="Rajin"),
        ev("voyage", 1, 20, 30, from_port="Rajin", to_port="Dunai"),
        ev("port_visit", 1, 30, 40, port="Dunai"),
        ev("gap", 1, 21, 29),
        ev("encounter", 4, 50, 53, other_mmsi=5, negative=True, note="fast crossing"),
    ]
    path = tmp_path / "truth.jsonl"
    write_truth(path, truth)
    store.append(
        "events",
        _events_table([truth[0], truth[1], truth[3], ev("encounter", 5, 50, 50.2, other_mmsi=4)]),
    )
    result = evaluate(store, path)
    assert result["by_type"]["port_visit"] == {
        "tp": 1,
        "fp": 0,
        "fn": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
    }
    assert result["by_type"]["voyage"]["tp"] == 1 and result["by_type"]["gap"]["f1"] == 1.0
    assert len(result["negatives_hit"]) == 1 and len(result["missed"]) == 1
    store.close()
    code, out, _err = cli("evaluate", "--truth", path, "--db", store.path, "--json")
    assert code == 0
    obj = json.loads(out)
    assert set(obj) >= {"by_type", "overall", "missed", "spurious", "negatives_hit"}
    assert obj["overall"] == result["overall"]
    code, out, _err = cli("evaluate", "--truth", path, "--db", store.path)
    assert code == 0 and "port_visit" in out and "look-alikes reported" in out


def test_a_bad_truth_line_is_a_clear_error(store, tmp_path: Path, cli) -> None:
    path = tmp_path / "truth.jsonl"
    path.write_text(
        '{"type": "gap", "mmsi": 1, "start": "2024-03-04T00:00:00Z", "end": "2024-03-04T07:00:00Z"}\nnot json\n'
    )
    store.close()
    code, _out, err = cli("evaluate", "--truth", path, "--db", store.path)
    assert code == 2 and "line 2" in err


def test_truth_times_without_a_zone_are_utc_whatever_the_machine_zone(
    tmp_path: Path, monkeypatch
) -> None:
    """The contract's times are UTC: '2024-03-04T00:00:00' is T0 on a machine in Vladivostok too."""
    import time

    from tumen.sim.truth import read_truth

    path = tmp_path / "truth.jsonl"
    path.write_text(
        '{"type": "gap", "mmsi": 1, "start": "2024-03-04T00:00:00", "end": "2024-03-04T07:00:00Z"}\n'
    )
    monkeypatch.setenv("TZ", "Asia/Vladivostok")
    time.tzset()
    try:
        (row,) = read_truth(path)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert (row["start"], row["end"]) == (T0, T0 + 7 * H)


def test_timing_leaves_out_every_timeless_subtype() -> None:
    """A flag mismatch matched 40 h off is not a timing error of the identity detector."""
    truth = [
        ev("identity", 7, 0, 72, subtype="flag_mismatch"),
        ev("identity", 8, 30, 30, subtype="identity_change"),
    ]
    found = [
        ev("identity", 7, 40, 41, subtype="flag_mismatch"),
        ev("identity", 8, 30.5, 30.5, subtype="identity_change"),
    ]
    result = score(truth, found, P)
    assert result["overall"]["tp"] == 2
    assert result["timing"]["identity"]["start_offset_min_max"] == 30.0
    assert result["timing"]["identity"]["end_offset_min_max"] == 30.0
