"""Designation timing and `tumen risk --as-of` (issue 15) on the hand-built scenario store.

ANGARA (scenario_store) is designated mid-scenario by a small list: its events before
the date are a pre-designation pattern, those after a sanctions breach.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from scenario_store import ANGARA, build_scenario_store
from tumen.config import load_settings
from tumen.risk.timing import designation_timing, timing_counts
from tumen.screen import screen_store
from tumen.screen.lists import load_lists

LISTED = date(2024, 1, 11)


@pytest.fixture()
def designated(store, tmp_path: Path):
    build_scenario_store(store, tmp_path / "raw")
    folder = tmp_path / "lists"
    folder.mkdir()
    path = folder / "watch_2024-01-13.csv"
    path.write_text(
        "name,imo,flag,listed_on,reference,authority,program\n"
        f"ANGARA,9179842,RU,{LISTED},37059,US Treasury Office of Foreign Assets Control (OFAC),RUSSIA-EO14024\n",
        encoding="utf-8",
    )
    load_lists(store, [path])
    screen_store(store, load_settings(environ={}))
    return store


def test_events_before_and_after_the_designation(designated) -> None:
    found = designation_timing(designated, [ANGARA])[ANGARA]
    mine = [f for f in found if f["list_id"] == "watch" and f["role"] == "vessel"]
    assert mine, "ANGARA's events get a designation timing"
    for f in mine:
        start = datetime.fromisoformat(f["start"].rstrip("Z"))
        expected = "in_force" if start.date() >= LISTED else "pre_designation"
        assert f["status"] == expected, f
        assert f["listed_since"] == LISTED.isoformat() and f["listed_since_source"] == "list"
    counts = timing_counts(mine)
    assert counts["in_force"] and counts["pre_designation"]
    voyage = next(f for f in mine if f["type"] == "voyage")
    assert re.fullmatch(
        r"voyage Rajin → Dunai on \d{4}-\d\d-\d\d; vessel listed by OFAC "
        r"(since|only from) 2024-01-11 — (sanctions breach|pre-designation pattern)",
        voyage["sentence"],
    ), voyage["sentence"]


def test_risk_as_of_uses_only_what_was_known(designated, cli) -> None:
    db = designated.path
    ranked_before = designated.scalar("SELECT count(*) FROM risk")
    designated.close()

    def angara(as_of: str | None) -> dict:
        args = ["risk", "--db", db, "--json", "--top", "10"] + (["--as-of", as_of] if as_of else [])
        code, out, err = cli(*args)
        assert code == 0, err
        data = json.loads(out)
        return data, next(v for v in data["vessels"] if v["mmsi"] == ANGARA)

    data, early = angara("2024-01-10T12:00")
    assert data["as_of"] == "2024-01-10T12:00:00Z"
    assert "sanctioned_vessel" not in {s["signal"] for s in early["signals"]}
    assert all(f["status"] != "in_force" for f in early["designation_timing"])
    data, late = angara("2024-01-13T23:00")
    assert "sanctioned_vessel" in {s["signal"] for s in late["signals"]}
    assert late["n_events"] > early["n_events"]
    _, now = angara(None)
    assert now["designation_timing_counts"]["in_force"] > 0
    code, _, err = cli("risk", "--db", db, "--as-of", "the 5th")
    assert code == 2 and "--as-of" in err and len(err.strip().splitlines()) == 1
    from tumen.store import DuckDBStore

    with DuckDBStore(db, read_only=True) as store:  # --as-of never replaces table risk
        assert store.scalar("SELECT count(*) FROM risk") >= ranked_before
