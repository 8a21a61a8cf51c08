"""One detector test suite, two engines (the ibis model: ``ibis/backends/tests``).

Every detector test builds its input in a DuckDB store (``builders.write``) and reads the events
with ``builders.detect``.  The detector tests named in :data:`SPARK_CASES` run a second time on
Apache Spark (``local[2]``, one SparkSession per test session): the same store is exported as the
Parquet layout, the same detector definitions run on Spark, and the events are imported back into
the store, so the same assertions check the same expected events.

The Spark half is small and sharp (one boundary case per detector; a Spark run costs about a
minute): :data:`SPARK_CASES` is the one list.  What Spark cannot do yet is declared in ONE place,
:data:`KNOWN_GAPS` (stage → reason): the Spark cases are then marked ``xfail(strict=True)`` with
those reasons, so a fixed gap shows as a failing XPASS until its entry is removed.  Nothing is
skipped silently: pyspark or Java missing is a test failure naming what to install.

Select the Spark half with ``pytest -m spark``; leave it out with ``-m 'not spark'``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tumen.errors import StoreError

ENGINES = ("duckdb", "spark")

#: Detector tests that also run on Spark, as ``file stem::test function`` (every parameter set of
#: a parametrised test).  One sharp case per detector (thresholds just under and just over in one
#: store where the test has both): each Spark run costs about a minute on 2 cores (JVM jobs per
#: statement), so the Spark half stays within the suite's time budget.
SPARK_CASES: frozenset[str] = frozenset(
    {
        "test_port_visits::test_just_over_and_just_under_thirty_minutes",
        "test_voyages::test_rajin_to_dunai_with_a_dark_transit",
        "test_gaps::test_just_over_and_just_under_six_hours",
        "test_loitering::test_a_gap_ends_the_loitering",
        "test_encounters::test_side_by_side_for_two_and_a_half_hours",
        "test_identity::test_invalid_and_valid_imo",
    }
)

#: Spark's known gaps: pipeline stage (``ports``, ``legs``, a detector name, ``write``) → why it
#: does not run on Spark yet.  Every stage runs in every detection, so any entry here marks all
#: the Spark cases ``xfail(strict=True, raises=StoreError)``; empty this dict as the gaps close.
KNOWN_GAPS: dict[str, str] = {}

#: The stages a Spark run goes through (keys of KNOWN_GAPS).
STAGES = (
    "ports",
    "legs",
    "port_visits",
    "voyages",
    "gaps",
    "loitering",
    "encounters",
    "identity",
    "write",
)

_STATE: dict[str, Any] = {"engine": "duckdb", "session": None}


def spark_case(nodeid_path: str, function: str) -> bool:
    """Whether the test ``function`` of file ``nodeid_path`` is in :data:`SPARK_CASES`."""
    return f"{Path(nodeid_path).stem}::{function}" in SPARK_CASES


def engine_params(selected: bool) -> list[Any]:
    """``pytest.param`` per engine for a test (Spark only when ``selected``), gaps as xfail."""
    params: list[Any] = [pytest.param("duckdb", id="duckdb")]
    if selected:
        params.append(pytest.param("spark", id="spark", marks=spark_marks()))
    return params


def spark_marks() -> list[Any]:
    """The marks of a test that runs detection on Spark: ``spark``, and ``xfail(strict=True)``
    naming the :data:`KNOWN_GAPS` while there are any."""
    marks: list[Any] = [pytest.mark.spark]
    if KNOWN_GAPS:
        reason = "; ".join(f"{stage}: {why}" for stage, why in sorted(KNOWN_GAPS.items()))
        marks.append(pytest.mark.xfail(strict=True, raises=StoreError, reason=reason))
    return marks


def comparable(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What two engines must agree on, per event: id, type, vessels, times to the second, place,
    and the evidence's row ids (positions and statics), sorted by event id."""
    out = []
    for e in events:
        ev = e["evidence"]
        out.append(
            (
                e["event_id"],
                e["type"],
                e["subtype"],
                e["mmsi"],
                e["other_mmsi"],
                e["start"][:19],
                e["end"][:19],
                e["port"],
                e["from_port"],
                e["to_port"],
                tuple(ev.get("position_ids") or ()),
                tuple(ev.get("static_ids") or ()),
            )
        )
    return sorted(out)


def comparable_ranking(risk: Any) -> list[dict[str, Any]]:
    """What two engines must agree on in a ranking (table ``risk`` as Arrow): every column but
    ``ranked_at``, row by row in rank order, ``signals`` and ``weights`` parsed from JSON."""
    import json

    rows = []
    for row in risk.sort_by("rank").to_pylist():
        row.pop("ranked_at")
        row["signals"] = json.loads(row["signals"])
        row["weights"] = json.loads(row["weights"])
        rows.append(row)
    return rows


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


def duckdb_only_constructs(sql: str) -> list[str]:
    """Each :data:`DUCKDB_ONLY` construct in ``sql`` outside string literals (a JSON path such as
    ``'$[0]'`` is not a list literal), with its surroundings."""
    code = re.sub(r"'(?:[^']|'')*'", lambda m: "'" + " " * (len(m.group(0)) - 2) + "'", sql)
    return [
        f"{what}: …{sql[max(0, m.start() - 40) : m.end() + 20]}…"
        for what, pattern in DUCKDB_ONLY.items()
        for m in re.finditer(pattern, code)
    ]


def use(engine: str, session: Any = None) -> None:
    """Make :func:`run_detect` (``builders.detect``) run on ``engine`` until the next call."""
    _STATE["engine"] = engine
    _STATE["session"] = session


def current() -> str:
    return str(_STATE["engine"])


def run_detect(store: Any, settings: Any, ports: Any = None, full: bool = False) -> None:
    """Run the detectors on the current engine; the events end in ``store`` either way."""
    if _STATE["engine"] == "spark":
        from tumen.engines import detect_on_spark

        detect_on_spark(store, settings, ports=ports, session=_STATE["session"])
        return
    from tumen.detect import run_detectors

    run_detectors(store, settings, ports=ports, full=full)


def start_spark() -> Any:
    """The test session's SparkSession (``local[2]``, 2 shuffle partitions).

    pyspark or Java missing fails the test with what to install (CI installs both with
    ``scripts/setup.sh test``); it never skips.
    """
    from tumen.config import SparkSettings
    from tumen.errors import BackendUnavailable
    from tumen.store.spark import spark_session

    try:
        return spark_session(
            SparkSettings(master="local[2]", shuffle_partitions=2, driver_memory="1g")
        )
    except BackendUnavailable as exc:
        pytest.fail(f"the Spark half of the tests cannot run: {exc}", pytrace=False)
