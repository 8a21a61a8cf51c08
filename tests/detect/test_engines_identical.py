"""Identical answers: DuckDB and Spark give the same events on simulated traffic.

Same event ids, same times to the second, same evidence row ids (tests/engines.py `comparable`).
Seed 1 here (Spark costs about a minute on 2 cores); seeds 1-5 in `python bench/engines.py --identical`.
"""

from __future__ import annotations

import pytest

import engines
from tumen.config import load_settings
from tumen.detect import run_detectors
from tumen.detect.events import event_records, query_events
from tumen.engines import detect_on_spark
from tumen.sim import simulate
from tumen.store import DuckDBStore

SEEDS = (1,)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "_engine_marks", [pytest.param(None, marks=engines.spark_marks(), id="spark")]
)
def test_duckdb_and_spark_find_the_same_events(cli, spark, tmp_path, seed, _engine_marks):
    simulate(tmp_path / "sim", seed=seed, hours=24, vessels=30, fmt="nmea")
    db = tmp_path / "sim.duckdb"
    code, _, err = cli("ingest", str(tmp_path / "sim" / "ais.nmea"), "--db", str(db), "-q")
    assert code == 0, err
    settings = load_settings(environ={})
    ports = tmp_path / "sim" / "ports.csv"
    with DuckDBStore(db) as store:
        run_detectors(store, settings, ports=ports, full=True)
        on_duckdb = engines.comparable(list(event_records(query_events(store))))
        assert on_duckdb, "the scenario must give events to compare"
        detect_on_spark(store, settings, ports=ports, session=spark)
        on_spark = engines.comparable(list(event_records(query_events(store))))
    assert on_spark == on_duckdb
