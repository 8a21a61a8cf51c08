"""What a dossier reads from the store (tumen.report.dossier), on real captures."""

from __future__ import annotations

from pathlib import Path

from tumen.config import load_settings
from tumen.ingest.pipeline import ingest_paths
from tumen.report import dossier as q


def test_class_b_identity_is_one_run_not_alternating_parts(store, shared_data: Path) -> None:
    """A class B vessel sends its name (type 24 part A) and its call sign (part B) separately.

    POLEPOLE (MMSI 211602090) in the Signal K capture sent one of each: that is one identity,
    not a "history" of two (a name without call sign, then a call sign without name).
    """
    ingest_paths(
        store,
        [shared_data / "ais" / "nmea" / "signalk_nais400_merrimac.log"],
        load_settings(environ={}),
    )
    parts = store.query("SELECT part FROM statics WHERE mmsi = 211602090 ORDER BY ts")
    assert sorted(parts.column("part").to_pylist()) == ["24A", "24B"]

    ident = q.identity(store, 211602090)
    assert [(h["name"], h["callsign"], h["reports"]) for h in ident["history"]] == [
        ("POLEPOLE", "DG 7639", 2)
    ]
    assert ident["name"] == "POLEPOLE" and ident["callsign"] == "DG 7639"


def test_an_encounter_in_the_partners_dossier_names_the_other_vessel(tmp_path: Path) -> None:
    """The encounter is stored for KUMUNSAN with BELLA as other_mmsi; BELLA's dossier says whom BELLA met."""
    from lxml import html as lxml_html

    from scenario_store import BELLA, KUMUNSAN, build_scenario_store
    from tumen.report import write_report
    from tumen.report.html import event_what
    from tumen.store import DuckDBStore

    store = DuckDBStore(tmp_path / "s.duckdb")
    scenario = build_scenario_store(store, tmp_path / "raw")
    settings = load_settings(overrides={"report.pdf": False}, environ={})
    out = write_report(store, tmp_path / "r", settings, vessels=[BELLA, KUMUNSAN])
    store.close()
    doc = lxml_html.fromstring(Path(out["html"]).read_text(encoding="utf-8"))
    enc = scenario.events["encounter"]
    for me, other in ((BELLA, KUMUNSAN), (KUMUNSAN, BELLA)):
        (row,) = doc.xpath(
            f'//article[@data-mmsi="{me}"]//tr[@data-event-id="{enc}"]',
        )
        what = (row.xpath("./td")[3].text or "").strip()  # "What and where": its first line
        assert what.startswith("with ") and what.endswith(f"({other})"), (me, what)
    ev = {"type": "encounter", "mmsi": 1, "other_mmsi": 2, "name": "ONE", "partner_name": "TWO"}
    assert event_what(ev) == "with TWO (2)" == event_what(ev, 1)
    assert event_what(ev, 2) == "with ONE (1)"
