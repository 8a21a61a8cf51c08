"""The SQL every detector emits, per engine, matches the committed snapshots (issue 14).

A change to a detector's SQL or to a dialect shows as a diff of
``tests/detect/sql_snapshots/<engine>/*.sql`` in review.  Regenerate with
``python -m tumen.detect.snapshots --update`` and read the diff.
"""

from __future__ import annotations

import re

import pytest

from tumen.detect import snapshots

#: DuckDB-only spellings that must not reach Spark (issue 14's list, as regular expressions).
DUCKDB_ONLY = {
    "CREATE OR REPLACE TEMP TABLE": r"CREATE OR REPLACE TEMP",
    ":: casts": r"::",
    "json_object": r"\bjson_object\(",
    "json_merge_patch": r"\bjson_merge_patch\(",
    "struct_pack": r"\bstruct_pack\(",
    "list literal": r"\[\]|\[[\w.]+(, [\w.]+)*\]",
    "epoch_*": r"\bepoch(_ms|_us)?\(",
    "make_timestamp": r"\bmake_timestamp\(",
    "QUALIFY": r"\bQUALIFY\b",
    "UNION ALL BY NAME": r"\bBY NAME\b",
    "EXCLUDE": r"\bEXCLUDE\b",
    "range() table": r"\brange\(\d+, \d+\) \w+\(",
    "// division": r"//",
    "quantile_cont": r"\bquantile_cont\(",
    "unordered row_number": r"row_number\(\) OVER \(\)",
    "hash()": r"\bhash\(",
    "list()": r"\blist\(",
    "strftime": r"\bstrftime\(",
}


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
        for what, pattern in DUCKDB_ONLY.items():
            for m in re.finditer(pattern, text):
                found.append(f"{name}: {what}: …{text[max(0, m.start() - 40) : m.end() + 20]}…")
    assert not found, "\n".join(found)


def test_duckdb_sql_is_what_duckdb_ran(captured: dict[str, dict[str, str]]) -> None:
    # the DuckDB snapshot is recorded from a real run, so it holds DuckDB's own spellings
    text = "\n".join(captured["duckdb"].values())
    assert "CREATE OR REPLACE TEMP" not in text  # materialise is recorded by name, not as DDL
    assert "struct_pack(" in text and "json_object(" in text and "quantile_cont(" in text
