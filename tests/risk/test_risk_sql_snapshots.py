"""The SQL the risk ranking emits, per engine, matches the committed snapshots (issue 14).

A change to a signal's SQL or to a dialect shows as a diff of
``tests/risk/sql_snapshots/<engine>/risk.sql`` in review.  Regenerate with
``python -m tumen.risk.snapshots --update`` and read the diff.
"""

from __future__ import annotations

import pytest

from engines import duckdb_only_constructs
from tumen.risk import snapshots
from tumen.risk.signals import SIGNALS


@pytest.fixture(scope="module")
def captured() -> dict[str, str]:
    return snapshots.capture()


def test_risk_snapshots_are_up_to_date(captured: dict[str, str]) -> None:
    assert set(captured) == {"duckdb", "spark"}
    differ = [
        engine
        for engine, text in captured.items()
        if not (snapshots.SNAPSHOT_DIR / engine / snapshots.FILE).is_file()
        or (snapshots.SNAPSHOT_DIR / engine / snapshots.FILE).read_text(encoding="utf-8") != text
    ]
    assert not differ, (
        f"risk SQL drifted for {differ}; review, then python -m tumen.risk.snapshots --update"
    )


def test_every_signal_is_in_the_snapshot(captured: dict[str, str]) -> None:
    # the tiny store holds one observation, so the observation signals are queried too
    for text in captured.values():
        for signal in SIGNALS:
            assert f"'{signal.name}' AS signal" in text, signal.name


def test_spark_risk_sql_has_no_duckdb_only_construct(captured: dict[str, str]) -> None:
    found = duckdb_only_constructs(captured["spark"])
    assert not found, "\n".join(found)
    # and the check sees them in DuckDB's spelling
    assert duckdb_only_constructs(captured["duckdb"])
