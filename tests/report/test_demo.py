"""`tumen demo`: the README's first command, end to end (simulate → ingest → detect → screen → risk → report)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tumen.demo import find_shared_sanctions
from tumen.store import DuckDBStore

pytestmark = pytest.mark.slow

#: IMO numbers of the real designations the simulator's shuttle and DPRK vessels carry (CONTRACTS.md)
DESIGNATED_IMOS = {9179842, 9161003, 9358010, 9743033, 8705539, 7937317}
#: The demo runs with a ``--config`` that moves the simulated period (default 2024-03-04).
DEMO_START = "2024-05-06T00:00:00Z"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, shared_data):
    """One demo run with the real lists of the shared data folder (as CI and a checkout have them)."""
    import contextlib
    import io
    import os

    from tumen.cli import app
    from tumen.cli.common import run_app

    out_dir = tmp_path_factory.mktemp("demo")
    config = out_dir.parent / "demo-config.toml"
    config.write_text(f'[sim]\nstart = "{DEMO_START}"\n')
    old = os.environ.get("TUMEN_SHARED_DATA")
    os.environ["TUMEN_SHARED_DATA"] = str(shared_data)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_app(
                app, ["demo", "--out", str(out_dir), "--config", str(config), "--json", "-q"]
            )
    finally:
        if old is None:
            os.environ.pop("TUMEN_SHARED_DATA", None)
        else:
            os.environ["TUMEN_SHARED_DATA"] = old
    assert code == 0, err.getvalue()
    return out_dir, json.loads(out.getvalue())


def test_demo_writes_the_report_and_says_where(demo) -> None:
    out_dir, result = demo
    html, pdf = Path(result["report"]["html"]), Path(result["report"]["pdf"])
    assert html.parent == out_dir / "report" and html.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    steps = result["steps"]
    assert list(steps) == [
        "simulate",
        "ingest",
        "detect",
        "lists",
        "screen",
        "observe",
        "risk",
        "report",
        "evaluate",
    ]
    ing = steps["ingest"]
    assert ing["lines"] == ing["stored"] + ing["duplicates"] + ing["quarantined"] > 0
    # the bundled demo list and the real lists were loaded
    loaded = {
        entry.get("list_id") for entry in steps["lists"]["lists"] if entry.get("status") == "loaded"
    }
    assert "tumen_demo" in loaded and {"us_ofac_sdn", "un_sc"} <= loaded
    # the detections are trustworthy on the scenario
    assert steps["evaluate"]["overall"]["f1"] >= 0.98


def test_demo_ranks_the_designated_shuttles_first(demo) -> None:
    out_dir, result = demo
    with DuckDBStore(out_dir / "tumen.duckdb", read_only=True) as store:
        top = store.query(
            "SELECT mmsi, imo, name, score FROM risk ORDER BY rank LIMIT 6"
        ).to_pylist()
        event_ids = set(store.query("SELECT event_id FROM events").column("event_id").to_pylist())
        nk_ru = store.scalar(
            "SELECT count(*) FROM risk, unnest(json_extract_string(signals, '$[*].signal')) AS t(s)"
            " WHERE s = 'nk_ru_voyage'"
        )
    assert sum(1 for r in top if r["imo"] in DESIGNATED_IMOS) >= 4, top
    assert nk_ru >= 3
    # every event of the store is in the report
    doc = lxml_html.fromstring(Path(result["report"]["html"]).read_text(encoding="utf-8"))
    listed = set(doc.xpath("//table[contains(@class, 'events-annex')]//tr/@data-event-id"))
    assert listed == event_ids
    assert len(doc.xpath("//article[contains(@class, 'dossier')]")) == 10
    assert re.search(r"ANGARA|LADY R|SPARTA IV|KUM UN SAN 3", doc.text_content())


def test_demo_report_shows_a_mid_period_designation(demo) -> None:
    from tumen.sim.designations import read_designations

    out_dir, result = demo
    (sim_list,) = (out_dir / "sim").glob("sim_designations_*.csv")
    truth = read_designations(sim_list)
    start = datetime.fromisoformat(DEMO_START.rstrip("Z")).date()
    assert truth and all(d["listed_on"] > start for d in truth)
    doc = lxml_html.fromstring(Path(result["report"]["html"]).read_text(encoding="utf-8"))
    shown = set()
    for article in doc.xpath("//article[contains(@class, 'dossier')]"):
        for row in article.xpath(".//table[contains(@class, 'designation-timing')]//tr[td]"):
            text = row.text_content()
            for d in truth:
                if f"listed by SIM only from {d['listed_on']}" in text:
                    assert "pre-designation pattern" in text
                    shown.add(("before", d["mmsi"]))
                if f"listed by SIM since {d['listed_on']}" in text:
                    assert "sanctions breach" in text
                    shown.add(("after", d["mmsi"]))
    # one designated vessel at least is seen on both sides of its designation
    assert {m for k, m in shown if k == "before"} & {m for k, m in shown if k == "after"}, shown
    # the list versions kept are in the annex
    assert doc.xpath(
        "//table[contains(@class, 'list-versions')]//code[text()='us_ofac_sdn@2024-04-04']"
    )


def test_find_shared_sanctions(tmp_path: Path, monkeypatch, shared_data) -> None:
    monkeypatch.setenv("TUMEN_SHARED_DATA", str(shared_data))
    assert find_shared_sanctions() == shared_data / "sanctions"
    monkeypatch.setenv("TUMEN_SHARED_DATA", str(tmp_path))
    assert find_shared_sanctions() is None
    monkeypatch.delenv("TUMEN_SHARED_DATA")
    (tmp_path / "a" / "shared" / "data" / "sanctions").mkdir(parents=True)
    (tmp_path / "a" / "repo").mkdir()
    assert (
        find_shared_sanctions(tmp_path / "a" / "repo")
        == tmp_path / "a" / "shared" / "data" / "sanctions"
    )


def test_demo_simulates_with_the_given_config(demo) -> None:
    """`--config` reaches the simulator too: the scenario starts at the configured `sim.start`."""
    out_dir, _ = demo
    truth = [json.loads(line) for line in (out_dir / "sim" / "truth.jsonl").open()]
    assert truth and min(t["start"] for t in truth) >= DEMO_START
    with DuckDBStore(out_dir / "tumen.duckdb", read_only=True) as store:
        first = store.scalar("SELECT strftime(min(ts), '%Y-%m-%dT%H:%M:%SZ') FROM positions")
    assert first >= DEMO_START and first < "2024-05-07"


def test_demo_observation_confirms_the_planted_dark_port_call(demo) -> None:
    """The demo's imagery observation, placed with the simulator's truth, confirms the planted
    dark port call, and the report says so beside the event."""
    out_dir, result = demo
    confirmed = result["steps"]["observe"]["confirmed"]
    assert result["steps"]["observe"]["observations"] >= 2 and confirmed
    planted = [
        json.loads(line)
        for line in (out_dir / "sim" / "truth.jsonl").read_text().splitlines()
        if "dark port call" in line
    ]
    with DuckDBStore(out_dir / "tumen.duckdb", read_only=True) as store:
        gap = store.query(
            'SELECT mmsi, start, "end" FROM events WHERE event_id = ?', [confirmed[0]]
        ).to_pylist()[0]
    assert gap["mmsi"] in {p["mmsi"] for p in planted}
    doc = lxml_html.fromstring(Path(result["report"]["html"]).read_text(encoding="utf-8"))
    row = doc.xpath(f"//tr[@data-event-id='{confirmed[0]}' and contains(@class, 'event-row')]")
    assert row and "Confirmed" in row[0].text_content()
    assert doc.xpath("//tr[contains(@class, 'observation-row')]")
    assert doc.xpath("//tr[contains(@class, 'cue-row')]")


def test_demo_observation_contradicts_the_planted_renaming(demo) -> None:
    """The demo's photo of a renamed vessel whose hull still reads the old name contradicts the
    identity change detected from its static reports, and the report says so beside the event."""
    out_dir, result = demo
    identity = result["steps"]["observe"]["identity"]
    assert [outcome for _, outcome in identity] == ["contradicts"]
    ((event_id, _),) = identity
    renamed = {
        json.loads(line)["mmsi"]
        for line in (out_dir / "sim" / "truth.jsonl").read_text().splitlines()
        if '"identity_change"' in line
    }
    with DuckDBStore(out_dir / "tumen.duckdb", read_only=True) as store:
        (ev,) = store.query(
            "SELECT mmsi, subtype FROM events WHERE event_id = ?", [event_id]
        ).to_pylist()
    assert ev["subtype"] == "identity_change" and ev["mmsi"] in renamed
    doc = lxml_html.fromstring(Path(result["report"]["html"]).read_text(encoding="utf-8"))
    row = doc.xpath(f"//tr[@data-event-id='{event_id}' and contains(@class, 'event-row')]")
    assert row and "Contradicted" in row[0].text_content()
    assert "the old name" in row[0].text_content()
