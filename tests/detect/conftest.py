"""Fixtures for the detector tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture()
def ports_csv(tmp_path: Path) -> Callable[[list[tuple]], Path]:
    """Write a ports file: ``ports_csv([("A", "RU", 42.0, 131.0, 3.0), ...])`` → its path."""

    def _write(rows: list[tuple]) -> Path:
        path = tmp_path / "ports.csv"
        lines = ["name,country,lat,lon,radius_km"] + [",".join(str(x) for x in r) for r in rows]
        path.write_text("\n".join(lines) + "\n")
        return path

    return _write


@pytest.fixture(autouse=True)
def _each_engine(engine: str) -> str:
    """Every detector test asks for the ``engine`` fixture: the cases listed in
    ``tests/engines.py`` then run on DuckDB and on Spark (see tests/conftest.py)."""
    return engine
