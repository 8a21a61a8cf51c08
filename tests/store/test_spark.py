"""The Spark backend (tumen.store.spark): the Backend protocol on a SparkSession, the Parquet
layout as its input, events written back with their provenance.

One SparkSession (local[2]) for the test session (the `spark` fixture of tests/conftest.py).
"""

from __future__ import annotations

import ast
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

import engines
from builders import statics, track, write
from tumen.engines import import_events
from tumen.errors import BackendUnavailable, InputError, StoreError
from tumen.export.layout import write_layout
from tumen.store.spark import SparkBackend, check_java

SEA = (41.0, 134.5)
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture()
def layout(store, tmp_path):
    write(
        store,
        track(273456780).at("2024-01-10T22:00Z", *SEA).stay("4h", every="30min"),
        track(445123000).at("2024-01-11T01:00Z", 41.1, 134.6).stay("1h", every="20min"),
        statics(273456780, "2024-01-10T22:00Z", name="ANGARA", imo=9179842),
    )
    write_layout(store, tmp_path / "lay")
    return tmp_path / "lay"


@pytest.fixture()
def backend(spark, layout):
    b = SparkBackend.from_layout(layout, session=spark)
    yield b
    b.close()


@pytest.mark.spark
def test_the_layout_reads_back_as_the_stores_tables(store, backend):
    for table, key in (("positions", "pos_id"), ("statics", "static_id"), ("sources", "source_id")):
        mine = store.query(f"SELECT * FROM {table} ORDER BY {key}")
        theirs = backend.query(f"SELECT * FROM {table} ORDER BY {key}")
        assert theirs.column_names == mine.column_names
        for name in mine.column_names:  # values, naive UTC timestamps included
            assert theirs.column(name).to_pylist() == mine.column(name).to_pylist(), (table, name)


@pytest.mark.spark
def test_materialise_computes_now_so_a_table_can_be_rebuilt_from_itself(backend):
    backend.materialise("_t", "SELECT mmsi, count(*) AS n FROM positions GROUP BY mmsi")
    first = backend.query("SELECT mmsi, n FROM _t ORDER BY mmsi").to_pylist()
    for _ in range(3):  # pointer-jumping style: each round reads the table it replaces
        backend.materialise("_t", "SELECT mmsi, n * 2 AS n FROM _t")
    assert backend.query("SELECT mmsi, n FROM _t ORDER BY mmsi").to_pylist() == [
        {"mmsi": r["mmsi"], "n": r["n"] * 8} for r in first
    ]
    backend.materialise("_t", pa.table({"mmsi": [1], "n": [5]}), append=True)
    assert backend.query("SELECT count(*) AS c FROM _t").column("c")[0].as_py() == len(first) + 1


@pytest.mark.spark
def test_statements_on_tables_are_carried_out_copy_on_write(backend):
    backend.execute("CREATE OR REPLACE TEMP TABLE _s (k VARCHAR, t TIMESTAMP, v DOUBLE)")
    backend.execute(
        "INSERT INTO _s VALUES (?, ?, ?), (?, ?, ?)",
        ["a", datetime(2024, 1, 10, 6), 1.5, "b", datetime(2024, 1, 11), 2.5],
    )
    backend.execute("INSERT INTO _s (v, k) SELECT 9.0, 'c'")
    backend.execute("DELETE FROM _s WHERE t < ?", [datetime(2024, 1, 10, 12)])
    rows = backend.query("SELECT k, t, v FROM _s ORDER BY k").to_pylist()
    assert rows == [
        {"k": "b", "t": datetime(2024, 1, 11), "v": 2.5},
        {"k": "c", "t": None, "v": 9.0},
    ]
    backend.execute("DROP TABLE IF EXISTS _s")
    assert not backend.table_exists("_s")
    with pytest.raises(StoreError, match=r"^spark: .*_nowhere"):
        backend.query("SELECT * FROM _nowhere")


@pytest.mark.spark
def test_events_written_on_spark_keep_their_provenance_and_import_back(store, backend, tmp_path):
    pos = store.query(
        "SELECT p.pos_id, p.line_no, s.sha256, s.path FROM positions p JOIN sources s USING (source_id) "
        "ORDER BY pos_id LIMIT 2"
    ).to_pylist()
    event = {
        "event_id": "e1",
        "type": "loitering",
        "subtype": None,
        "mmsi": 273456780,
        "other_mmsi": None,
        "start": datetime(2024, 1, 10, 22),
        "end": datetime(2024, 1, 11, 2),
        "lat": SEA[0],
        "lon": SEA[1],
        "port": None,
        "from_port": None,
        "to_port": None,
        "detector": "loitering",
        "params": "{}",
        "evidence": json.dumps(
            {"detector": "loitering", "position_ids": [p["pos_id"] for p in pos]}
        ),
        "tumen_version": "test",
        "detected_at": datetime(2024, 2, 1),
    }
    backend.materialise("events", pa.Table.from_pylist([event], schema=engines_schema()))
    n = backend.write_events(tmp_path / "events.parquet")
    assert n == 1
    summary = import_events(store, tmp_path / "events.parquet")
    assert summary["checked_positions"] == 2
    assert store.query("SELECT * FROM events").to_pylist() == [event]
    prov = json.loads(
        pa.dataset.dataset(tmp_path / "events.parquet").to_table().column("provenance")[0].as_py()
    )
    assert [row[0] for row in prov["positions"]] == [p["pos_id"] for p in pos]
    assert [row[3] for row in prov["positions"]] == [p["line_no"] for p in pos]
    (src,) = prov["sources"].values()
    assert src["sha256"] == pos[0]["sha256"] and src["path"] == pos[0]["path"]
    # a store whose position is another line of the file: refused, in one line
    store.execute(
        "UPDATE positions SET line_no = line_no + 100 WHERE pos_id = ?", [pos[0]["pos_id"]]
    )
    with pytest.raises(InputError, match=f"cites position {pos[0]['pos_id']}"):
        import_events(store, tmp_path / "events.parquet")


def engines_schema() -> pa.Schema:
    from tumen.engines import EVENTS_SCHEMA

    return EVENTS_SCHEMA


def test_missing_java_is_one_line_saying_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(BackendUnavailable, match="default-jre-headless"):
        check_java()


def test_every_spark_case_and_known_gap_names_something_real():
    """A renamed test or stage must not drop out of the Spark half silently."""
    for case in engines.SPARK_CASES:
        stem, func = case.split("::")
        tree = ast.parse((TESTS / "detect" / f"{stem}.py").read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert func in names, case
    assert set(engines.KNOWN_GAPS) <= set(engines.STAGES)


def test_the_jvms_incubator_notice_is_dropped_and_every_other_line_kept():
    import io

    from tumen.store.spark import forward_jvm_stderr

    jvm = io.BytesIO(
        b"WARNING: Using incubator modules: jdk.incubator.vector\n"
        b"ERROR Executor: Exception in task 0.0\n"
        b"WARNING: something else the user should see\n"
    )
    kept: list[bytes] = []
    forward_jvm_stderr(jvm, kept.append)
    assert kept == [
        b"ERROR Executor: Exception in task 0.0\n",
        b"WARNING: something else the user should see\n",
    ]


@pytest.mark.spark
def test_the_session_jvms_stderr_passes_through_the_filter(spark, capfd):
    """What the running JVM prints on stderr reaches ours, without the incubator notice."""
    import time

    err = spark.sparkContext._jvm.System.err
    err.println("WARNING: Using incubator modules: jdk.incubator.vector")
    err.println("tumen-test: a line the user should see")
    err.flush()
    seen = ""
    deadline = time.monotonic() + 10
    while "tumen-test" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
        seen += capfd.readouterr().err
    assert "tumen-test: a line the user should see" in seen
    assert "incubator" not in seen


@pytest.mark.spark
def test_a_parquet_input_lacking_a_column_is_refused_in_one_line(backend, store, tmp_path):
    import pyarrow.parquet as pq

    bad = tmp_path / "events.parquet"
    pq.write_table(store.query("SELECT * EXCLUDE (evidence) FROM events"), bad)
    with pytest.raises(InputError, match="lacks column\\(s\\) evidence") as info:
        backend.register_parquet("events", bad)
    assert str(bad) in str(info.value)
