"""`tumen risk --engine spark`: the same ranking as DuckDB; `tumen risk import`.

The Spark case ranks a screened simulator store (seed 1, 48 h, 30 vessels; the demo list and the
simulator's designations loaded and screened, so the sanctions signals count too; observations of
every corroboration outcome added, so the observation signals count too) on both
engines and compares every column of table ``risk`` but ``ranked_at``: the ranking, the scores
and every signal with its points, events, entities and notes (tests/engines.py
``comparable_ranking``).  The Spark ranking goes through the Parquet written with ``--risk-out``
and ``tumen risk import``, as a cluster user's would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engines
from tumen.config import Settings
from tumen.detect import run_detectors
from tumen.engines import rank_on_spark
from tumen.ingest import ingest_paths
from tumen.risk import rank_vessels
from tumen.screen import demo_list_path, screen_store
from tumen.screen.lists import load_lists
from tumen.sim import simulate
from tumen.store import DuckDBStore


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    """A simulator store (seed 1) detected and screened on DuckDB, with observations."""
    folder = tmp_path_factory.mktemp("risk-engines")
    sim = simulate(folder / "sim", seed=1, hours=48, vessels=30, fmt="nmea")
    db = folder / "sim.duckdb"
    settings = Settings().model_copy(update={"db": db, "ports": Path(sim.ports)})
    with DuckDBStore(db) as store:
        ingest_paths(store, [str(p) for p in sim.paths], settings)
        run_detectors(store, settings, ports=Path(sim.ports), full=True)
        load_lists(
            store, [demo_list_path()] + ([Path(sim.designations)] if sim.designations else [])
        )
        screen_store(store, settings)
        _observe(store, settings, Path(sim.truth))
    return db, settings


def _observe(store: DuckDBStore, settings: Settings, truth: Path) -> None:
    """Observations of every corroboration outcome: the demo's (a planted dark port call seen at
    its port, a North Korean port visit reported, a renamed hull still bearing its old name), then
    for three gaps one at the middle of the line between the gap's ends (consistent) and one 8°
    north of where the vessel went dark (contradicts), and two ships seen 3° from their AIS fix
    (contradict the AIS track)."""
    from tumen.demo import add_demo_observations
    from tumen.detect.ports import ports_detection_used
    from tumen.observe.ledger import ObservationInput, prepare, store_observations

    add_demo_observations(store, truth, settings)
    ports = ports_detection_used(store, settings.ports)

    def seen(mmsi: int, ts: object, lat: float, lon: float) -> dict[str, object]:
        at = ObservationInput(
            vessel=str(mmsi),
            time=ts.strftime("%Y-%m-%dT%H:%M:%SZ"),  # type: ignore[attr-defined]
            lat=lat,
            lon=lon,
            kind="imagery",
            source="test",
            confidence="low",
        )
        return prepare(store, ports, at, settings, added_by="test", origin="test")

    rows = []
    gaps = store.query(
        "SELECT mmsi, start, \"end\", evidence FROM events WHERE type = 'gap' ORDER BY event_id LIMIT 3"
    ).to_pylist()
    for g in gaps:
        ev = json.loads(g["evidence"])
        mid = g["start"] + (g["end"] - g["start"]) / 2
        a, b = (ev["start_lat"], ev["start_lon"]), (ev["end_lat"], ev["end_lon"])
        rows.append(seen(g["mmsi"], mid, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
        rows.append(seen(g["mmsi"], mid, a[0] + 8.0, a[1]))
    fixes = store.query(
        "SELECT mmsi, ts, lat, lon FROM positions WHERE lat IS NOT NULL ORDER BY pos_id LIMIT 2 OFFSET 1000"
    ).to_pylist()
    rows += [seen(f["mmsi"], f["ts"], f["lat"] + 3.0, f["lon"]) for f in fixes]
    store_observations(store, rows)


@pytest.mark.slow
@pytest.mark.parametrize(
    "_engine_marks", [pytest.param(None, marks=engines.spark_marks(), id="spark")]
)
def test_spark_ranks_like_duckdb(screened, spark, tmp_path, cli, _engine_marks) -> None:
    db, settings = screened
    with DuckDBStore(db) as store:
        on_duckdb = engines.comparable_ranking(rank_vessels(store, settings, write=False))
        signals = {s["signal"] for r in on_duckdb for s in r["signals"]}
        # the comparison covers list matches and events alike
        assert {"sanctioned_vessel", "encounter"} <= signals, signals
        # and the observation signals (tumen.observe.corroborate, run on Spark in the same SQL)
        assert {
            "observation_confirms_dark_call",
            "observation_contradicts_ais",
            "observed_dprk_port",
        } <= signals, signals
        out = tmp_path / "risk-out"
        on_spark = rank_on_spark(store, settings, risk_out=out, session=spark)
    assert engines.comparable_ranking(on_spark) == on_duckdb
    # what a cluster user loads: the --risk-out Parquet, imported into the store
    code, stdout, err = cli("risk", "import", str(out), "--db", str(db), "--json")
    assert code == 0, err
    assert json.loads(stdout)["vessels"] == len(on_duckdb)
    with DuckDBStore(db) as store:
        imported = store.query("SELECT * FROM risk")
    assert engines.comparable_ranking(imported) == on_duckdb


def test_risk_import_replaces_the_ranking_and_refuses_a_bad_file(screened, tmp_path, cli) -> None:
    db, settings = screened
    with DuckDBStore(db) as store:
        ranking = rank_vessels(store, settings, write=False)
    top = ranking.slice(0, 3)
    good = tmp_path / "top3.parquet"
    pq.write_table(top, good)
    code, stdout, err = cli("risk", "import", str(good), "--db", str(db), "--json")
    assert code == 0, err
    assert json.loads(stdout) | {"path": None, "db": None} == {
        "path": None,
        "db": None,
        "vessels": 3,
        "with_signals": sum(1 for s in top.column("score").to_pylist() if s > 0),
    }
    with DuckDBStore(db) as store:
        assert store.query("SELECT mmsi FROM risk ORDER BY rank").column("mmsi").to_pylist() == (
            top.column("mmsi").to_pylist()
        )
    # a ranking with a rank missing (2 of 1..3 dropped) is refused in one line; the store keeps its ranking
    gap = tmp_path / "gap.parquet"
    pq.write_table(pa.concat_tables([top.slice(0, 1), top.slice(2, 1)]), gap)
    code, _, err = cli("risk", "import", str(gap), "--db", str(db))
    assert code != 0 and "ranks are not 1, 2" in err and str(gap) in err and "Traceback" not in err
    lacking = tmp_path / "lacking.parquet"
    pq.write_table(top.drop_columns(["signals"]), lacking)
    code, _, err = cli("risk", "import", str(lacking), "--db", str(db))
    assert code != 0 and "lacks column(s) signals" in err
    with DuckDBStore(db) as store:
        assert store.query("SELECT count(*) AS n FROM risk").column("n")[0].as_py() == 3


def test_spark_flags_need_engine_spark_and_parquet_needs_its_inputs(screened, cli) -> None:
    db, _ = screened
    code, _, err = cli("risk", "--db", str(db), "--risk-out", "x")
    assert code == 3 and "--risk-out need(s) --engine spark" in err
    code, _, err = cli("risk", "--db", str(db), "--engine", "spark", "--parquet", "layout")
    assert code == 3 and "--parquet needs --events" in err
    code, _, err = cli("risk", "--db", str(db), "--engine", "spark", "--events", "ev")
    assert code == 3 and "go with --parquet" in err
    code, _, err = cli("risk", "--db", str(db), "--engine", "spark", "--observations", "obs")
    assert code == 3 and "go with --parquet" in err
    code, _, err = cli("risk", "--db", str(db), "--observations", "obs")
    assert code == 3 and "--observations need(s) --engine spark" in err


def test_cluster_inputs_are_checked_before_spark_starts(screened, cli, tmp_path) -> None:
    db, _ = screened
    (tmp_path / "events").mkdir()
    args = ["risk", "--engine", "spark", "--risk-out", str(tmp_path / "risk")]
    code, _, err = cli(
        *args, "--parquet", str(tmp_path / "nolayout"), "--events", str(tmp_path / "events")
    )
    assert code == 2 and "not a tumen Parquet layout" in err and "nolayout" in err
    code, _, err = cli(*args, "--parquet", str(tmp_path), "--events", str(tmp_path / "typo"))
    assert code == 2 and "no such file or folder (the events Parquet)" in err and "typo" in err
    code, _, err = cli(
        *args,
        "--parquet",
        str(tmp_path),
        "--events",
        str(tmp_path / "events"),
        "--observations",
        str(tmp_path / "obs-typo"),
    )
    assert code == 2 and "no such file or folder (the observations Parquet)" in err


def test_duplicate_occurrences_keep_the_same_note_in_any_row_order() -> None:
    """An entity listed under two designations gives two occurrences that differ in the note only;
    the one kept must not depend on the order the engine returned the rows in (Spark returned
    them the other way round from DuckDB on simulator seed 1)."""
    import polars as pl

    from tumen.risk.rank import distinct_occurrences

    rows = pl.DataFrame(
        {
            "signal": ["sanctioned_party", "sanctioned_party", "encounter"],
            "mmsi": [445535075, 445535075, 445535075],
            "event_id": [None, None, "e1"],
            "entity_id": ["tumen-demo-omm", "tumen-demo-omm", None],
            "value": [1.0, 1.0, 1.0],
            "note": ["manager: OMM (KPe.020)", "manager: OMM (17068)", "met MMSI 357124540"],
        }
    )
    kept = [distinct_occurrences(rows.reverse() if flip else rows) for flip in (False, True)]
    assert kept[0].to_dicts() == kept[1].to_dicts()
    assert kept[0].get_column("note").to_list() == ["met MMSI 357124540", "manager: OMM (17068)"]


def test_as_of_exports_only_what_was_known_then(screened, tmp_path) -> None:
    """`tumen risk --engine spark --as-of T` exports inside the as-of view: the events Parquet
    Spark ranks holds the events ended by T, the layout the positions received by T."""
    from datetime import timedelta

    import pyarrow.dataset as ds

    from tumen.engines import write_events_parquet
    from tumen.export.layout import write_layout
    from tumen.risk.asof import as_of_view

    db, _ = screened
    with DuckDBStore(db) as store:
        ends = store.query('SELECT min("end") AS a, max("end") AS b FROM events').to_pylist()[0]
        when = ends["a"] + (ends["b"] - ends["a"]) / 2
        when = when.replace(microsecond=0) + timedelta(seconds=1)
        known = store.query('SELECT count(*) AS n FROM events WHERE "end" <= ?', [when])
        received = store.query(
            "SELECT count(*) AS n FROM positions WHERE ts IS NULL OR ts <= ?", [when]
        )
        total = store.query("SELECT count(*) AS n FROM events").column("n")[0].as_py()
        with as_of_view(store, when):
            write_events_parquet(store, tmp_path / "events.parquet")
            write_layout(store, tmp_path / "layout")
    exported = ds.dataset(tmp_path / "events.parquet").to_table()
    assert 0 < exported.num_rows == known.column("n")[0].as_py() < total
    positions = ds.dataset(tmp_path / "layout" / "positions", partitioning="hive").count_rows()
    assert positions == received.column("n")[0].as_py()
