"""CONTRACTS.md stays true: every key the commands emit is named there, every flag it names exists,
and its table section is the one generated from store/schema.sql."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from builders import statics, track, write
from tumen.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = (ROOT / "CONTRACTS.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the ``## title`` section (up to the next ``## ``)."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", CONTRACTS, re.M | re.S)
    assert m, f"CONTRACTS.md has no section '## {title}'"
    return m.group(1)


def named(text: str) -> set[str]:
    """Everything written in backticks in ``text``."""
    return set(re.findall(r"`([^`\n]+)`", text))


def keys(obj: Any, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every dict key in ``obj`` (through lists), not descending into the values of ``skip`` keys
    (maps whose keys are data: tables, reasons, event types, settings)."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k)
            if k not in skip:
                out |= keys(v, skip)
    elif isinstance(obj, list):
        for v in obj:
            out |= keys(v, skip)
    return out


def undocumented(emitted: set[str], title: str) -> list[str]:
    return sorted(emitted - named(section(title)))


# --------------------------------------------------------------------------- tables
def test_the_table_section_is_generated_from_the_schema() -> None:
    from tumen.store.docs import BEGIN, END, tables_markdown

    start, stop = CONTRACTS.index(BEGIN), CONTRACTS.index(END) + len(END)
    assert CONTRACTS[start:stop] == tables_markdown(), (
        "CONTRACTS.md's tables are out of date: run `python -m tumen.store.docs --update CONTRACTS.md`"
    )


def test_the_schema_parser_sees_every_table_and_column(tmp_path: Path) -> None:
    from tumen.store.docs import parse_schema

    parsed = {t.name: [c.name for c in t.columns] for t in parse_schema()}
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        rows = store.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).to_pylist()
    real: dict[str, list[str]] = {}
    for r in rows:
        real.setdefault(r["table_name"], []).append(r["column_name"])
    assert parsed == real


# --------------------------------------------------------------------------- command line
def test_every_command_is_listed_and_every_flag_named_exists() -> None:
    from tumen.cli.reference import all_commands

    text = section("Command line")
    parts = re.split(r"^### `(tumen[^`]*)`\n", text, flags=re.M)
    listed = dict(zip(parts[1::2], parts[2::2], strict=True))
    commands = dict(all_commands())
    assert set(listed) == set(commands)
    for path, body in listed.items():
        opts = {o for p in commands[path].params for o in (*p.opts, *p.secondary_opts)}
        for flag in re.findall(r"--[a-z][a-z-]*", body):
            assert flag in opts, f"CONTRACTS.md names {flag} for {path}, which has no such flag"
    # the common flags the section's introduction promises
    for path, command in commands.items():
        opts = {o for p in command.params for o in p.opts}
        assert "--config" in opts, path
        if path not in ("tumen simulate", "tumen demo"):
            assert {"--db", "--json"} <= opts or path == "tumen lists update" and "--db" in opts


def test_every_exit_code_is_listed() -> None:
    import tumen.errors as errors

    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.TumenError)
    }
    assert {str(c) for c in codes | {0, 130}} <= named(section("Exit codes"))


# --------------------------------------------------------------------------- what commands emit
MMSI, OTHER = 273456780, 273000111


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store where every event type and most identity subtypes occur."""
    from tumen.detect.ports import load_ports

    ports = {p["name"]: p for p in load_ports().to_pylist()}
    path = tmp_path_factory.mktemp("contracts") / "t.duckdb"
    r, d = ports["Rajin"], ports["Dunai"]
    shuttle = track(MMSI).at("2024-01-10T00:00Z", r["lat"], r["lon"]).stay("3h")
    shuttle.silence("20h").fix(d["lat"], d["lon"]).stay("3h")
    jumper = track(MMSI + 5).at("2024-01-10T00:00Z", 40.0, 134.0, sog=10).stay("2h")
    jumper.after("10min", 44.0, 136.0).every("10min", 5).after("10min", 40.0, 134.0).stay("2h")
    with DuckDBStore(path) as store:
        write(
            store,
            shuttle,
            jumper,
            track(OTHER).at("2024-01-12T00:00Z", 41.0, 134.5, sog=0.5).stay("5h"),
            track(OTHER + 1).at("2024-01-12T00:00Z", 41.001, 134.5, sog=0.5).stay("5h"),
            statics(445000001, "2024-01-12T00:00Z", name="KUM UN SAN 3", imo=8705539).every(
                "6min", 2
            ),
            statics(MMSI, "2024-01-10T00:00Z", name="ANGARA", imo=9179842, flag="PA").every(
                "6min", 3
            ),
            statics(MMSI, "2024-01-11T00:00Z", name="LAZURIT", imo=9179842, flag="PA").every(
                "6min", 3
            ),
            statics(OTHER, "2024-01-12T00:00Z", name="SEA HORSE", imo=9179843).every("6min", 3),
        )
    return path


@pytest.fixture(scope="module")
def outputs(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What detect, events, risk and screen print on that store (run once)."""
    from clirun import run_cli as cli

    out: dict[str, Any] = {}
    for name, args in (
        ("detect", ("detect", "--db", store_path, "--json")),
        ("events", ("events", "--db", store_path, "--format", "jsonl")),
        ("risk", ("risk", "--db", store_path, "--json")),
    ):
        code, text, err = cli(*args)
        assert code == 0, err
        out[name] = [json.loads(line) for line in text.splitlines() if line.strip()]
    from tumen.screen import demo_list_path

    code, _, err = cli("lists", "load", demo_list_path(), "--db", store_path, "--json")
    assert code == 0, err
    code, text, err = cli("screen", "--db", store_path, "--json")
    assert code == 0, err
    out["screen"] = json.loads(text)
    queries = tmp_path_factory.mktemp("q") / "q.jsonl"
    queries.write_text(
        json.dumps(
            {
                "id": "q1",
                "name": "ANGARA",
                "type": "vessel",
                "imo": "9179842",
                "mmsi": 273456780,
                "flag": "RU",
                "callsign": "UBCI5",
            }
        )
        + "\n{not json}\n"
    )
    code, text, err = cli(
        "screen", "--db", store_path, "--query-file", queries, "--format", "jsonl"
    )
    assert code == 0, err
    out["query_file"] = [json.loads(line) for line in text.splitlines()]
    code, text, err = cli("screen", "--db", store_path, "--query", "LADY R", "--json")
    assert code == 0, err
    out["query"] = json.loads(text)
    return out


def test_ingest_json_keys_are_documented(cli, tmp_path: Path) -> None:
    nmea = tmp_path / "a.nmea"
    nmea.write_text(
        "!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C\n"
        "!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*00\n"
    )
    code, out, err = cli("ingest", nmea, "--db", tmp_path / "i.duckdb", "--json")
    assert code == 0, err
    obj = json.loads(out)
    assert obj["lines"] == obj["stored"] + obj["duplicates"] + obj["quarantined"] == 2
    emitted = keys(obj, frozenset({"rows", "reasons"})) | set(obj["rows"])
    assert not undocumented(emitted, "`tumen ingest --json`")


def test_detect_json_keys_are_documented(outputs: dict[str, Any]) -> None:
    (obj,) = outputs["detect"]
    emitted = keys(obj, frozenset({"events", "events_total", "timings"})) | set(obj["segments"])
    assert not undocumented(emitted, "`tumen detect --json`")


def test_event_keys_are_documented_per_type(outputs: dict[str, Any]) -> None:
    events = outputs["events"]
    types = {(e["type"], e["subtype"]) for e in events}
    # the store exercises every type and the identity subtypes it plants
    assert {t for t, _ in types} == {
        "port_visit",
        "voyage",
        "gap",
        "encounter",
        "loitering",
        "identity",
    }
    assert {s for _, s in types} >= {"dprk_mid", "invalid_imo", "identity_change", "position_jump"}
    text = section("Events (JSON lines)")
    common = {"detector", "params", "position_ids", "n_positions", "static_ids"}
    assert common <= named(text)
    for e in events:
        assert not sorted(set(e) - named(text)), e
        label = f"`{e['type']}`" if e["type"] != "identity" else f"`identity` / `{e['subtype']}`"
        bullet = re.search(rf"^- {re.escape(label)}:(.*?)(?=^- |\n\n)", text, re.M | re.S)
        assert bullet, f"no bullet for {label}"
        measures = keys(e["evidence"], frozenset({"params"})) - common
        assert not sorted(measures - named(bullet.group(1))), (label, measures)


def test_risk_json_keys_are_documented(outputs: dict[str, Any]) -> None:
    (obj,) = outputs["risk"]
    assert obj["vessels"] and obj["vessels"][0]["signals"]
    assert not undocumented(keys(obj), "`tumen risk --json`")


def test_screening_keys_are_documented(outputs: dict[str, Any]) -> None:
    skip = frozenset({"features", "params"})
    emitted = keys(outputs["screen"], skip) | keys(outputs["query"], skip)
    good, bad = outputs["query_file"]
    assert good["id"] == "q1" and good["matches"] and good["matches"][0]["caption"] == "ANGARA"
    assert bad["line"] == 2 and bad["error"] and bad["matches"] == []
    emitted |= keys(good, skip) | keys(bad, skip)
    assert not undocumented(emitted, "Screening")


def test_truth_jsonl_keys_are_documented(tmp_path: Path) -> None:
    from tumen.sim.truth import write_truth

    path = tmp_path / "truth.jsonl"
    event = {"type": "gap", "mmsi": 1, "start": 0.0, "end": 3600.0, "lat": 1.0, "lon": 2.0}
    write_truth(path, [dict(event, evidence={}, negative=True, note="a look-alike")])
    (row,) = [json.loads(line) for line in path.read_text().splitlines()]
    text = section("truth.jsonl")
    assert not sorted(set(row) - named(text) - named(section("Events (JSON lines)")))
    assert {"negative", "note", "evidence"} <= named(text)


def test_the_real_vessels_are_those_the_simulator_and_demo_list_use() -> None:
    from tumen.sim.scenarios import NAMED

    text = section("Real vessels and parties")
    rows = dict(re.findall(r"^\| ([A-Z][A-Z0-9 -]+?) \| `(\d{7})` \|", text, re.M))
    assert {name: int(imo) for name, imo in rows.items()} == {n: v[0] for n, v in NAMED.items()}
    demo = [
        json.loads(line)
        for line in (ROOT / "src/tumen/screen/data/tumen_demo.ftm.json").read_text().splitlines()
    ]
    vessels = {e["properties"]["name"][0] for e in demo if e["schema"] == "Vessel"}
    companies = {e["properties"]["name"][0] for e in demo if e["schema"] == "Company"}
    assert vessels == set(rows) and all(c in text for c in companies)


def test_observe_and_cue_json_keys_are_documented(
    store_path: Path, tmp_path: Path, outputs: dict[str, Any]
) -> None:
    """`tumen observe add/list/import --json` and `tumen cue --json` emit only keys CONTRACTS.md names."""
    import shutil

    from clirun import run_cli as cli

    db = tmp_path / "o.duckdb"
    shutil.copy(store_path, db)
    gap = next(e for e in outputs["events"] if e["type"] == "gap")
    flags = ("--vessel", "ANGARA", "--port", "Rajin", "--kind", "imagery", "--source", "s")
    from datetime import datetime, timedelta

    inside = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=1)
    code, out, err = cli(
        "observe", "add", "--db", db, "--json", "--time", f"{inside:%Y-%m-%dT%H:%M}Z", *flags
    )
    assert code == 0, err
    emitted = keys(json.loads(out))
    code, out, err = cli("observe", "list", "--db", db, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["observations"][0]["corroboration"], "the observation should confirm the gap"
    emitted |= keys(listed)
    assert not undocumented(emitted, "Command line")
    bad = tmp_path / "o.jsonl"
    bad.write_text("{}\n")
    code, out, err = cli("observe", "import", bad, "--db", db, "--json")
    assert code == 0, err
    assert not undocumented(keys(json.loads(out)), "Command line")
    code, out, err = cli("cue", "--all", "--db", db, "--json")
    assert code == 0, err
    cues = json.loads(out)
    assert cues["total"] > 0
    # the request bodies are the STAC API's, not tumen's keys
    assert not undocumented(keys(cues, frozenset({"body", "aoi"})), "Command line")
    (ev,) = [
        e
        for e in map(json.loads, cli("events", "--db", db, "--format", "jsonl")[1].splitlines())
        if e["event_id"] == gap["event_id"]
    ]
    assert ev["corroboration"] and not undocumented(
        keys(ev["corroboration"]), "Events (JSON lines)"
    )
