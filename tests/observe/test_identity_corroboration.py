"""Observations set against ``identity_change`` events (tumen.observe.corroborate).

The store (tests/builders.py, then `tumen detect`): RENAMED lies at anchor off Vladivostok and
broadcasts OLD STAR / IMO 9350006 on 10 January, then NEW STAR / IMO 9361110 from 11 January 00:00
(one identity_change event, name and IMO); LOOKALIKE, far away, broadcasts NEW STAR all along
(another ship of the same name).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from builders import statics, track, write
from tumen.store import DuckDBStore

RENAMED, LOOKALIKE = 273456791, 273456792
OLD_IMO, NEW_IMO = 9350006, 9361110
AT = ("42.90", "132.10")  # where RENAMED's AIS puts it all along


@pytest.fixture()
def db(tmp_path: Path, cli) -> Path:
    renamed = track(RENAMED).at("2024-01-10T00:00Z", 42.9, 132.1, sog=0).stay("48h", every="30min")
    lookalike = track(LOOKALIKE).at("2024-01-09T00:00Z", 35.0, 129.5, sog=0)
    lookalike.stay("72h", every="30min")
    path = tmp_path / "id.duckdb"
    with DuckDBStore(path) as store:
        write(
            store,
            renamed,
            lookalike,
            statics(RENAMED, "2024-01-10T00:00Z", name="OLD STAR", imo=OLD_IMO).every("6min", 3),
            statics(RENAMED, "2024-01-11T00:00Z", name="NEW STAR", imo=NEW_IMO).every("6min", 3),
            statics(LOOKALIKE, "2024-01-09T00:00Z", name="NEW STAR", imo=9123453).every("1h", 3),
        )
    code, _, err = cli("detect", "--db", path, "--json")
    assert code == 0, err
    return path


def _change(cli, db: Path) -> dict[str, Any]:
    code, out, err = cli("events", "--db", db, "--json", "--type", "identity")
    assert code == 0, err
    (ev,) = [
        e
        for e in json.loads(out)["events"]
        if e["mmsi"] == RENAMED and e["subtype"] == "identity_change"
    ]
    return ev  # type: ignore[no-any-return]


def _add(cli, db: Path, vessel: str, time: str, *flags: str) -> dict[str, Any]:
    code, out, err = cli(
        "observe", "add", "--db", db, "--json", "--vessel", vessel, "--time", time,
        "--lat", AT[0], "--lon", AT[1], "--kind", "port_report", "--source", "PSC 2024/7", *flags,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _on_change(obs: dict[str, Any], event_id: str) -> list[dict[str, Any]]:
    return [c for c in obs["corroboration"] if c["event_id"] == event_id]


def test_the_new_name_after_the_change_confirms_it(cli, db: Path) -> None:
    ev = _change(cli, db)
    assert {c["field"] for c in ev["evidence"]["changes"]} == {"name", "imo"}
    assert ev["corroboration"] == []
    # by MMSI, with the name read off the hull (spacing and case as typed)
    obs = _add(cli, db, str(RENAMED), "2024-01-11T06:00Z", "--seen-name", " new   star ")
    assert obs["seen_name"] == "new star" and obs["seen_imo"] is None
    (c,) = obs["corroboration"]
    assert c["event_id"] == ev["event_id"] and c["outcome"] == "confirms"
    ev = _change(cli, db)
    (c,) = ev["corroboration"]
    assert c["obs_id"] == obs["obs_id"] and c["outcome"] == "confirms" and c["port"] is None
    assert c["explanation"].startswith("name change confirmed by observation 1: port_report")
    assert "from OLD STAR to NEW STAR" in c["explanation"]
    # the same by IMO (--vessel as an IMO states it)
    by_imo = _add(cli, db, f"IMO {NEW_IMO}", "2024-01-11T07:00Z")
    assert by_imo["mmsi"] == RENAMED and by_imo["seen_imo"] == NEW_IMO
    assert [c["outcome"] for c in _on_change(by_imo, ev["event_id"])] == ["confirms"]
    # a confirmed identity change is no confirmed dark port call in risk
    code, out, err = cli("risk", "--db", db, "--json")
    assert code == 0, err
    (v,) = [v for v in json.loads(out)["vessels"] if v["mmsi"] == RENAMED]
    assert "observation_confirms_dark_call" not in {s["signal"] for s in v["signals"]}


def test_the_old_name_after_or_the_new_one_before_contradicts_it(cli, db: Path) -> None:
    ev = _change(cli, db)
    # the old name, read after the AIS took the new one (the vessel given by its old name)
    late = _add(cli, db, "OLD STAR", "2024-01-11T06:00Z")
    assert late["mmsi"] == RENAMED and late["seen_name"] == "OLD STAR"
    (c,) = _on_change(late, ev["event_id"])
    assert c["outcome"] == "contradicts"
    assert "the old name" in c["explanation"] and "does not bear" in c["explanation"]
    # the new IMO, seen while the AIS still broadcast the old one
    early = _add(cli, db, str(RENAMED), "2024-01-10T00:10Z", "--seen-imo", str(NEW_IMO))
    (c,) = _on_change(early, ev["event_id"])
    assert c["outcome"] == "contradicts" and "the new IMO number, before" in c["explanation"]
    # old name but new IMO after the change: the contradiction wins
    mixed = _add(
        cli, db, str(RENAMED), "2024-01-11T08:00Z", "--seen-name", "OLD STAR", "--seen-imo",
        str(NEW_IMO),
    )  # fmt: skip
    assert [c["outcome"] for c in _on_change(mixed, ev["event_id"])] == ["contradicts"]
    ev = _change(cli, db)
    assert sorted(c["obs_id"] for c in ev["corroboration"] if c["outcome"] == "contradicts") == [
        late["obs_id"],
        early["obs_id"],
        mixed["obs_id"],
    ]
    # risk counts it as an observation contradicting AIS, citing the event
    code, out, err = cli("risk", "--db", db, "--json")
    assert code == 0, err
    (v,) = [v for v in json.loads(out)["vessels"] if v["mmsi"] == RENAMED]
    sig = {s["signal"]: s for s in v["signals"]}
    assert ev["event_id"] in sig["observation_contradicts_ais"]["event_ids"]


def test_between_the_reports_it_dates_the_change(cli, db: Path) -> None:
    ev = _change(cli, db)
    mid = _add(cli, db, str(RENAMED), "2024-01-10T12:00Z", "--seen-name", "NEW STAR")
    (c,) = _on_change(mid, ev["event_id"])
    assert c["outcome"] == "consistent" and "already renamed then" in c["explanation"]


def test_look_alikes_stay_unattached(cli, db: Path) -> None:
    # another ship of the same name, before RENAMED took it: resolves to LOOKALIKE
    other = _add(cli, db, "NEW STAR", "2024-01-09T06:00Z", "--lat", "35.0", "--lon", "129.5")
    assert other["mmsi"] == LOOKALIKE and other["corroboration"] == []
    # RENAMED under its old name before the change: what its AIS said anyway
    same = _add(cli, db, str(RENAMED), "2024-01-10T00:05Z", "--seen-name", "OLD STAR")
    assert same["corroboration"] == []
    # a name close to, but not, the new one; and an MMSI alone, which states no identity
    near = _add(cli, db, str(RENAMED), "2024-01-11T06:00Z", "--seen-name", "NEW STAR 2")
    bare = _add(cli, db, str(RENAMED), "2024-01-11T09:00Z")
    assert near["corroboration"] == [] and bare["corroboration"] == []
    assert bare["seen_name"] is None and bare["seen_imo"] is None
    assert _change(cli, db)["corroboration"] == []


def test_a_change_back_is_judged_against_the_change_in_force(cli, tmp_path: Path) -> None:
    """OLD → NEW on the 11th, back to OLD on the 13th: OLD seen on the 14th confirms the change
    back and says nothing about the first one."""
    path = tmp_path / "back.duckdb"
    with DuckDBStore(path) as store:
        write(
            store,
            track(RENAMED).at("2024-01-10T00:00Z", 42.9, 132.1, sog=0).stay("5d", every="1h"),
            statics(RENAMED, "2024-01-10T00:00Z", name="OLD STAR").every("6min", 3),
            statics(RENAMED, "2024-01-11T00:00Z", name="NEW STAR").every("6h", 3),
            statics(RENAMED, "2024-01-13T00:00Z", name="OLD STAR").every("6min", 3),
        )
    code, _, err = cli("detect", "--db", path, "--json")
    assert code == 0, err
    code, out, _ = cli("events", "--db", path, "--json", "--type", "identity")
    changes = sorted(
        (e for e in json.loads(out)["events"] if e["subtype"] == "identity_change"),
        key=lambda e: e["start"],
    )
    assert len(changes) == 2
    obs = _add(cli, path, "OLD STAR", "2024-01-14T00:00Z")
    assert [(c["event_id"], c["outcome"]) for c in obs["corroboration"]] == [
        (changes[1]["event_id"], "confirms")
    ]


def test_import_takes_the_seen_identity_and_checks_it(cli, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "seen.csv"
    path.write_text(
        "vessel,time,lat,lon,kind,source,seen_name,seen_imo\n"
        f"{RENAMED},2024-01-11T06:00Z,{AT[0]},{AT[1]},imagery,scene 1,OLD STAR,\n"
        f"{RENAMED},2024-01-11T07:00Z,{AT[0]},{AT[1]},imagery,scene 2,,IMO {NEW_IMO}\n"
        f"{RENAMED},2024-01-11T08:00Z,{AT[0]},{AT[1]},imagery,scene 3,,93610\n",
        encoding="utf-8",
    )
    code, out, err = cli("observe", "import", path, "--db", db, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["stored"] == 2 and report["rejections"] == [
        {"line": 4, "reason": "seen IMO '93610' is not 7 digits; give e.g. 9179842"}
    ]
    ev = _change(cli, db)
    assert sorted(c["outcome"] for c in ev["corroboration"]) == ["confirms", "contradicts"]
    code, out, _ = cli("observe", "list", "--db", db, "--json")
    seen = [(o["seen_name"], o["seen_imo"]) for o in json.loads(out)["observations"]]
    assert seen == [("OLD STAR", None), (None, NEW_IMO)]
    # and the evidence CSV carries them, with what each contradicts or confirms
    code, _, err = cli(
        "export",
        "observations",
        "--db",
        db,
        "--format",
        "csv-evidence",
        "--out",
        tmp_path / "o.csv",
    )
    assert code == 0, err
    with open(tmp_path / "o.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["seen_name"], r["seen_imo"]) for r in rows] == [("OLD STAR", ""), ("", str(NEW_IMO))]
    assert [r["contradicts"] for r in rows] == [ev["event_id"], ""]
    assert [r["confirms"] for r in rows] == ["", ev["event_id"]]


def test_a_store_from_before_the_seen_columns_still_reads(cli, db: Path, tmp_path: Path) -> None:
    """An observations table without seen_name/seen_imo, read read-only: no identity rows, no error."""
    _add(cli, db, "OLD STAR", "2024-01-11T06:00Z")
    with DuckDBStore(db) as store:
        store.execute("ALTER TABLE observations DROP COLUMN seen_name")
        store.execute("ALTER TABLE observations DROP COLUMN seen_imo")
    ev = _change(cli, db)
    assert ev["corroboration"] == []
    # an export ranks the unranked store in memory, read-only: the risk query must not need them
    code, _, err = cli(
        "export", "findings", "--db", db, "--format", "geojson", "--out", tmp_path / "f.geojson"
    )
    assert code == 0, err
    feats = json.loads((tmp_path / "f.geojson").read_text())["features"]
    assert [
        f["properties"]["obs_id"] for f in feats if f["properties"]["kind"] == "observation"
    ] == [1]
