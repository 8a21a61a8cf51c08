"""Shared fixtures: the real data in ../shared/data, fresh stores, and the CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tumen.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path | None:
    env = os.environ.get("TUMEN_SHARED_DATA")
    if env:
        return Path(env)
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent / "shared" / "data"
        if (candidate / "ais").is_dir():
            return candidate
    return None


SHARED_DATA = _find_shared_data()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real captures and lists (``../shared/data``; override with TUMEN_SHARED_DATA).

    Never copied into the repository.  Missing data is a failure, not a skip.
    """
    if SHARED_DATA is None or not SHARED_DATA.is_dir():
        pytest.fail("../shared/data not found: set TUMEN_SHARED_DATA to the shared data folder")
    return SHARED_DATA


@pytest.fixture()
def store(tmp_path: Path) -> DuckDBStore:
    """An empty store in a temporary file."""
    s = DuckDBStore(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture()
def cli():
    """Run the tumen CLI in-process: ``cli("ingest", path, "--json")`` → (exit code, stdout, stderr)."""
    from clirun import run_cli

    return run_cli
