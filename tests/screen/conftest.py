"""Fixtures for screening tests: the real lists loaded once per session (read-only copy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tumen.screen.lists import load_lists
from tumen.screen.match import get_index
from tumen.store import DuckDBStore


@pytest.fixture(scope="session")
def lists_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with the real UN + OFAC lists (and the FtM sample) loaded; copy before writing."""
    path = tmp_path_factory.mktemp("lists") / "lists.duckdb"
    with DuckDBStore(path) as store:
        load_lists(store, [shared_data / "sanctions"])
    return path


@pytest.fixture(scope="session")
def real_index(lists_db: Path):
    """The screening index of the real lists."""
    with DuckDBStore(lists_db, read_only=True) as store:
        return get_index(store)


@pytest.fixture()
def lists_store(lists_db: Path, tmp_path: Path):
    """A writable copy of the store with the real lists."""
    copy = tmp_path / "lists.duckdb"
    shutil.copy(lists_db, copy)
    store = DuckDBStore(copy)
    yield store
    store.close()
