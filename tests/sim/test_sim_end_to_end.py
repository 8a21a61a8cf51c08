"""The bar of issue 5: simulate → ingest → detect → evaluate on the small scenario.

Every event type reaches F1 ≥ 0.98 with the default parameters and no look-alike is
reported.  The seed is fixed; ``bench/sim.py`` runs five seeds at both sizes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tumen.config import Settings
from tumen.detect import run_detectors
from tumen.ingest import ingest_paths
from tumen.sim import simulate
from tumen.sim.evaluate import TYPES, evaluate
from tumen.store import DuckDBStore


@pytest.mark.slow
def test_small_scenario_meets_the_bar(tmp_path: Path) -> None:
    settings = Settings()
    sim = simulate(tmp_path / "sim", seed=7, hours=72, vessels=150, fmt="nmea", settings=settings)
    with DuckDBStore(tmp_path / "tumen.duckdb") as store:
        ingested = ingest_paths(store, sim.paths, settings)
        # nothing lost: every line accounted for, every intact report stored once
        assert ingested.lines == sim.lines
        assert ingested.stored + ingested.duplicates + ingested.quarantined == ingested.lines
        assert ingested.duplicates > 0 and ingested.quarantined > 0
        assert store.scalar("SELECT count(*) FROM positions") == sim.reports_delivered
        run_detectors(store, settings, ports=sim.ports)
        result = evaluate(store, sim.truth, settings)
    for kind in TYPES:
        row = result["by_type"][kind]
        assert row["tp"] > 0, kind
        assert row["f1"] >= 0.98, (kind, row, result["missed"][:5], result["spurious"][:5])
    assert result["negatives_hit"] == []
    assert result["counts"]["negatives"] >= 5


@pytest.mark.slow
def test_small_scenario_as_marinecadastre_csv(tmp_path: Path) -> None:
    """The same traffic written as NOAA CSV: movement events as good as from NMEA.

    Identity events are left out here: CSV ingest keeps one ``statics`` row per change of
    the static columns while the identity detector needs a value in at least
    ``detect.identity.min_static_reports`` (2) reports, so a renaming or an invalid IMO
    seen only in CSV is not reported (a known gap between the two, reported to their owners).
    """
    settings = Settings()
    sim = simulate(tmp_path / "sim", seed=8, hours=48, vessels=100, fmt="csv", settings=settings)
    with DuckDBStore(tmp_path / "tumen.duckdb") as store:
        ingested = ingest_paths(store, sim.paths, settings)
        assert ingested.stored + ingested.duplicates + ingested.quarantined == ingested.lines
        assert store.scalar("SELECT count(*) FROM positions") == sim.reports_delivered
        run_detectors(store, settings, ports=sim.ports)
        result = evaluate(store, sim.truth, settings)
    for kind in ("port_visit", "voyage", "gap", "encounter", "loitering"):
        row = result["by_type"][kind]
        assert row["tp"] > 0 and row["f1"] >= 0.98, (kind, row)
    assert result["by_subtype"]["dprk_mid"]["f1"] == 1.0
    assert result["negatives_hit"] == []
