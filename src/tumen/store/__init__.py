"""The store: a Backend protocol and its embedded DuckDB implementation."""

from tumen.store.backend import Backend
from tumen.store.duckdb import DuckDBStore

__all__ = ["Backend", "DuckDBStore", "open_store"]


def open_store(path: str = "tumen.duckdb", *, read_only: bool = False) -> DuckDBStore:
    """Open (creating if needed) the store at ``path``."""
    return DuckDBStore(path, read_only=read_only)
