"""The SQL every detector emits, per engine, matches the committed snapshots (issue 14).

A change to a detector's SQL or to a dialect shows as a diff of
``tests/detect/sql_snapshots/<engine>/*.sql`` in review.  Regenerate with
``python -m tumen.detect.snapshots --update`` and read the diff.
"""

from __future__ import annotations

import pytest

from engines import duckdb_only_constructs
from tumen.detect import snapshots


@pytest.fixture(scope="module")
def captured() -> dict[str, dict[str, str]]:
    return snapshots.capture()


def test_snapshots_are_up_to_date(captured: dict[str, dict[str, str]]) -> None:
    differ = []
    for engine, files in captured.items():
        folder = snapshots.SNAPSHOT_DIR / engine
        assert folder.is_dir(), (
            f"no snapshots for {engine}: python -m tumen.detect.snapshots --update"
        )
        on_disk = {p.name for p in folder.glob("*.sql")}
        assert on_disk == set(files), (
            f"{engine}: files differ; python -m tumen.detect.snapshots --update"
        )
        differ += [
            f"{engine}/{name}"
            for name, text in files.items()
            if (folder / name).read_text(encoding="utf-8") != text
        ]
    assert not differ, (
        f"SQL drifted in {differ}; review, then python -m tumen.detect.snapshots --update"
    )


def test_every_step_is_captured_for_both_engines(captured: dict[str, dict[str, str]]) -> None:
    assert set(captured) == {"duckdb", "spark"}
    assert list(captured["duckdb"]) == list(captured["spark"])
    names = " ".join(captured["spark"])
    for step in ("ports", "segments_and_legs", "gaps", "encounters", "identity", "write"):
        assert step in names
    # the pointer-jumping round and the incremental scope were exercised
    legs = next(t for n, t in captured["spark"].items() if "segments_and_legs" in n)
    assert legs.count("-- materialise _up\n") == 2
    assert "_scope" in captured["spark"][next(iter(captured["spark"]))]


def test_spark_sql_has_no_duckdb_only_construct(captured: dict[str, dict[str, str]]) -> None:
    found = []
    for name, text in captured["spark"].items():
        # the write step's DELETE/INSERT into the store's own tables is the engines' business
        found += [f"{name}: {hit}" for hit in duckdb_only_constructs(text)]
    assert not found, "\n".join(found)


def test_duckdb_sql_is_what_duckdb_ran(captured: dict[str, dict[str, str]]) -> None:
    # the DuckDB snapshot is recorded from a real run, so it holds DuckDB's own spellings
    text = "\n".join(captured["duckdb"].values())
    assert "CREATE OR REPLACE TEMP" not in text  # materialise is recorded by name, not as DDL
    assert "struct_pack(" in text and "json_object(" in text and "json_merge_patch(" in text
