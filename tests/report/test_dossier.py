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
