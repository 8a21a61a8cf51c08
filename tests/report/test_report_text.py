"""What the report and `tumen risk` say, in words and numbers a person checks against each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from scenario_store import ANGARA, BELLA, build_scenario_store
from tumen.config import load_settings
from tumen.report import write_report
from tumen.report.dossier import format_ranges
from tumen.report.html import fmt_measures
from tumen.store import DuckDBStore


def test_line_numbers_have_no_thousands_separators() -> None:
    """ "2 lines: 56, 7,904" read as three lines; line numbers are written plainly, ranges with a dash."""
    assert format_ranges([(56, 56), (7904, 7904)]) == "56, 7904"
    assert format_ranges([(1200, 1250), (10356, 10356)]) == "1200–1250, 10356"
    assert format_ranges([(1, 1), (3, 3), (5, 5)], limit=2) == "1, 3, … (+1 more)"


def test_measures_read_as_words_with_units() -> None:
    words = dict(
        fmt_measures(
            {
                "kp_ru": True,
                "min_distance_m": 192.9,
                "implied_speed_kn": 0.68,
                "duration_h": 4.4,
                "top_speed_source": "observed",
                "dark_port_candidates": [{"port": "Wonsan", "country": "KP", "detour_km": 356.2}],
                "changes": [{"field": "name", "old": "MAIA-1", "new": "MAYA"}],
            }
        )
    )
    assert words["between North Korea and Russia"] == "yes"
    assert words["closest approach"] == "193 m"
    assert words["implied speed"] == "0.68 kn"
    assert words["top speed from"] == "observed"
    assert words["could have called at"] == "Wonsan (detour 356 km)"
    assert words["changed"] == "name MAIA-1 → MAYA"
    assert "duration" not in words  # the event table has its own column for it
    assert not any("_" in k for k in words)


@pytest.fixture(scope="module")
def scenario_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    store = DuckDBStore(folder / "s.duckdb")
    build_scenario_store(store, folder / "raw")
    settings = load_settings(overrides={"report.pdf": False}, environ={})
    out = write_report(store, folder / "r", settings)
    risk = {r["mmsi"]: r for r in store.query("SELECT mmsi, n_events, score FROM risk").to_pylist()}
    store.close()
    doc = lxml_html.fromstring(Path(out["html"]).read_text(encoding="utf-8"))
    return {"doc": doc, "risk": risk, "db": folder / "s.duckdb"}


def test_ranked_and_with_signals_are_one_definition_in_cli_and_report(cli, scenario_report) -> None:
    code, out, err = cli("risk", "--db", scenario_report["db"], "--json")
    assert code == 0, err
    obj = json.loads(out)
    code, _out, err = cli("risk", "--db", scenario_report["db"])
    assert code == 0
    said = re.search(r"(\d+) vessels ranked, (\d+) with at least one risk signal", err)
    assert said, err
    assert (int(said.group(1)), int(said.group(2))) == (obj["n_vessels"], obj["n_with_signals"])
    assert obj["n_with_signals"] < obj["n_vessels"]  # the scenario has a vessel without signals
    text = " ".join(scenario_report["doc"].text_content().split())
    assert (
        f"{obj['n_with_signals']} vessels with at least one risk signal, of {obj['n_vessels']} ranked"
        in text
    )


def test_dossier_event_count_and_risk_n_events_say_what_they_count(scenario_report) -> None:
    doc = scenario_report["doc"]
    for mmsi in (ANGARA, BELLA):
        (article,) = doc.xpath(f"//article[@data-mmsi='{mmsi}']")
        rows = article.xpath(".//table[contains(@class, 'dossier-events')]//tr[@data-event-id]")
        head = " ".join(
            article.xpath(".//div[contains(@class, 'dossier-head')]")[0].text_content().split()
        )
        n_events = scenario_report["risk"][mmsi]["n_events"]
        assert (
            f"{len(rows)} event{'s' if len(rows) != 1 else ''}, {n_events} of them behind the risk score"
            in head
        )


def test_csp_names_each_inline_block_and_tiles_only_when_asked() -> None:
    import base64
    import hashlib

    from tumen.report.html import TILE_ORIGIN, page_assets

    for interactive, tiles in ((False, False), (True, False), (True, True)):
        assets = page_assets(interactive, tiles)
        csp = assets["csp"]
        assert "unsafe-inline" not in csp and "default-src 'none'" in csp
        for block in assets["styles"] + assets["scripts"]:
            digest = base64.b64encode(hashlib.sha256(str(block).encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp
        assert (TILE_ORIGIN in csp) == tiles
        assert len(assets["scripts"]) == (2 if interactive else 0)
        if not interactive:
            assert "script-src 'none'" in csp
