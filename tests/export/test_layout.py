"""The Parquet layout (`tumen export --format parquet --partition-by day`) and `tumen events import`.

Engine-free: written and read back with DuckDB and pyarrow (the Spark side is tests/store/test_spark.py).
"""

from __future__ import annotations

import json
import re

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from builders import detect, statics, track, write
from tumen.engines import import_events, read_events
from tumen.errors import InputError, OutputError
from tumen.export.layout import write_layout
from tumen.store import DuckDBStore

SEA = (41.0, 134.5)


def _two_days(store: DuckDBStore) -> None:
    write(
        store,
        track(273456780).at("2024-01-10T22:00Z", *SEA).stay("4h", every="30min"),
        track(273456781, cls="B").at("2024-01-11T10:00Z", *SEA).stay("1h", every="20min"),
        statics(273456780, "2024-01-10T22:00Z", name="ANGARA", imo=9179842),
    )
    # a report heard without a receive time: kept in the layout (Hive's null partition)
    store.execute(
        "INSERT INTO positions SELECT pos_id + 1000, mmsi, NULL, lat, lon, sog_kn, cog_deg, heading_deg, "
        "nav_status, msg_type, class, station, source_id, line_no, line_first, accuracy, utc_second, "
        "nonstandard_length, repeats FROM positions WHERE pos_id = (SELECT min(pos_id) FROM positions)"
    )


def test_layout_partitions_by_utc_day_and_keeps_every_row_and_column(store, tmp_path):
    _two_days(store)
    counts = write_layout(store, tmp_path / "lay")
    positions = store.query("SELECT * FROM positions ORDER BY pos_id")
    assert counts["positions"] == positions.num_rows
    days = sorted(p.name for p in (tmp_path / "lay" / "positions").iterdir())
    assert days == ["day=2024-01-10", "day=2024-01-11", "day=__HIVE_DEFAULT_PARTITION__"]
    back = (
        ds.dataset(tmp_path / "lay" / "positions", format="parquet", partitioning="hive")
        .to_table()
        .drop_columns(["day"])
        .sort_by("pos_id")
    )
    assert back.column_names == positions.column_names  # provenance columns included
    assert back.column("ts").to_pylist() == positions.column("ts").to_pylist()
    assert back.column("line_no").equals(positions.column("line_no"))
    assert back.column("class").to_pylist() == positions.column("class").to_pylist()
    src = pq.read_table(tmp_path / "lay" / "sources").to_pylist()
    assert [s["sha256"] for s in src] == store.query("SELECT sha256 FROM sources").column(
        0
    ).to_pylist()
    manifest = json.loads((tmp_path / "lay" / "_tumen_layout.json").read_text())
    assert manifest["tables"] == counts and manifest["partition_by"] == "day"


def test_layout_refuses_a_folder_that_is_not_empty_and_unknown_partitions(store, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OutputError, match="not an empty folder"):
        write_layout(store, tmp_path / "full")
    with pytest.raises(InputError, match="cannot partition by 'month'"):
        write_layout(store, tmp_path / "new", partition_by="month")


def test_export_cli_partition_by_day(cli, store, tmp_path):
    _two_days(store)
    store.close()
    db = str(tmp_path / "test.duckdb")
    code, out, err = cli(
        "export",
        "--db",
        db,
        "--format",
        "parquet",
        "--partition-by",
        "day",
        "--out",
        str(tmp_path / "lay"),
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["rows"]["statics"] == 1
    code, _, err = cli(
        "export",
        "--db",
        db,
        "--format",
        "csv",
        "--partition-by",
        "day",
        "--out",
        str(tmp_path / "lay2"),
    )
    assert (
        code != 0 and "--partition-by writes Parquet" in err and len(err.strip().splitlines()) == 1
    )


def _detected(store: DuckDBStore) -> list[dict]:
    write(store, track(273456780).at("2024-01-10T00:00Z", *SEA).stay("1h").silence("7h").fix(*SEA))
    events = detect(store)
    assert events, "the input must give at least one event"
    return events


def test_events_import_round_trip_and_clears_the_incremental_state(store, tmp_path):
    events = _detected(store)
    store.export_parquet("events", tmp_path / "events.parquet")
    before = store.query("SELECT * FROM events ORDER BY event_id")
    store.execute("DELETE FROM events")
    summary = import_events(store, tmp_path / "events.parquet")
    assert summary["events"] == len(events)
    assert store.query("SELECT * FROM events ORDER BY event_id").equals(before)
    assert store.scalar("SELECT count(*) FROM meta WHERE key = 'detect.state'") == 0


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        ("SELECT * EXCLUDE (evidence) FROM events", "lacks column(s) evidence"),
        ("SELECT * REPLACE ('x' AS mmsi) FROM events", "does not have the events contract's type"),
        ("SELECT * FROM events UNION ALL SELECT * FROM events", "an event_id repeats"),
        ("SELECT * REPLACE (NULL AS detector) FROM events", "column detector is null"),
    ],
)
def test_events_import_refuses_what_breaks_the_contract(cli, store, tmp_path, mangle, message):
    _detected(store)
    bad = tmp_path / "bad.parquet"
    store.export_parquet(mangle, bad)
    with pytest.raises(InputError, match=re.escape(message)):
        read_events(bad)
    db = store.path
    store.close()
    code, _, err = cli("events", "import", str(bad), "--db", db)
    assert code != 0
    assert err.strip().count("\n") == 0 and str(bad) in err and message in err


def test_events_import_refuses_a_file_that_is_not_parquet(cli, tmp_path):
    junk = tmp_path / "events.parquet"
    junk.write_text("not parquet\n")
    code, _, err = cli("events", "import", str(junk), "--db", str(tmp_path / "s.duckdb"))
    assert code != 0 and "not readable as Parquet" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--engine", "duckdb", "--events-out", "e.parquet"], "need --engine spark"),
        (["--engine", "spark", "--parquet", "lay"], "--parquet needs --events-out"),
    ],
)
def test_detect_engine_flags_that_do_not_go_together(cli, tmp_path, flags, message):
    code, _, err = cli("detect", "--db", str(tmp_path / "s.duckdb"), *flags)
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1
