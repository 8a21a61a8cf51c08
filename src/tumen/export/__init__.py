"""Export store tables to files: a small registry of formats.

A format is a name, the file suffixes it owns, a one-line description and a writer
``writer(store, table, out, settings) -> rows written``.  ``tumen export TABLE --out FILE
[--format NAME]`` picks the format by name, else by the suffix of FILE.

Built in: ``parquet`` (:mod:`tumen.export.parquet`) and ``csv`` (:mod:`tumen.export.tablecsv`)
write any store table, streaming it in Arrow batches (bounded memory).  Other parts of tumen
add formats with the decorator::

    from tumen.export import register

    @register("geojson", suffixes=(".geojson",), description="tracks and events as GeoJSON",
              any_table=False)
    def _geojson(store, table, out, settings):
        return write_geojson(store, out, settings)

and list their module in :data:`FORMAT_MODULES` so that it is registered.  A format with
``any_table=False`` decides itself what ``table`` means (e.g. ``events``); for the others
``tumen export`` first checks that the table exists.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tumen.errors import InputError, OutputError
from tumen.store.backend import Backend

if TYPE_CHECKING:
    from tumen.config import Settings

#: writer(store, table, out path, settings) -> number of rows (or records) written
Writer = Callable[[Backend, str, Path, "Settings"], int]

#: modules that register formats when imported (add yours here)
FORMAT_MODULES: tuple[str, ...] = (
    "tumen.export.parquet",
    "tumen.export.tablecsv",
    "tumen.export.ftm",
    "tumen.export.geojson",
    "tumen.export.kml",
    "tumen.export.evidence_csv",
)


@dataclass(frozen=True)
class ExportFormat:
    """One export format."""

    name: str
    suffixes: tuple[str, ...]
    description: str
    writer: Writer
    any_table: bool = True


_FORMATS: dict[str, ExportFormat] = {}


def register(
    name: str, *, suffixes: tuple[str, ...], description: str, any_table: bool = True
) -> Callable[[Writer], Writer]:
    """Register a writer function as export format ``name`` (decorator)."""

    def deco(fn: Writer) -> Writer:
        _FORMATS[name] = ExportFormat(
            name, tuple(s.lower() for s in suffixes), description, fn, any_table
        )
        return fn

    return deco


def formats() -> dict[str, ExportFormat]:
    """Every registered format, by name."""
    for module in FORMAT_MODULES:
        importlib.import_module(module)
    return dict(_FORMATS)


def format_for(out: Path, name: str | None = None) -> ExportFormat:
    """The format called ``name``, or the one owning ``out``'s suffix (default parquet)."""
    known = formats()
    if name is not None:
        if name not in known:
            raise InputError(
                f"unknown export format {name!r}; choose one of: {', '.join(sorted(known))}"
            )
        return known[name]
    suffix = "".join(out.suffixes[-2:]).lower() if out.suffixes else ""
    for fmt in known.values():
        if any(suffix.endswith(s) for s in fmt.suffixes):
            return fmt
    return known["parquet"]


def export_table(
    store: Backend,
    table: str | None,
    out: str | Path,
    fmt: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Write ``table`` of ``store`` to ``out`` in format ``fmt`` (or the one ``out``'s suffix names).

    Returns the number of rows written.  A regular file is written under a temporary
    name in the same folder and renamed when complete, so a failure (a full disk,
    Ctrl-C) leaves no partial file; ``-`` and special files (a pipe) are written directly.

    Raises
    ------
    InputError
        The table does not exist, or the format is unknown.
    OutputError
        ``out`` is a folder.
    """
    out = Path(out)
    chosen = format_for(out, fmt)
    if chosen.any_table and table is None:
        raise InputError(
            f"give the table to export as {chosen.name}, e.g. `tumen export events --out FILE`"
        )
    if chosen.any_table and not store.table_exists(str(table)):
        names = store.query("SELECT table_name FROM information_schema.tables ORDER BY table_name")
        listed = ", ".join(names.column("table_name").to_pylist())
        raise InputError(f"no table {table!r} in the store; export one of: {listed}")
    if out.is_dir():
        raise OutputError(
            "is a folder; --out names the file to write, e.g. "
            f"{out / ('export' + (chosen.suffixes[0] if chosen.suffixes else ''))}",
            out,
        )
    if out.parent and not out.parent.exists():
        raise InputError(
            f"folder {out.parent} does not exist; create it or choose another --out", out
        )
    if settings is None:
        from tumen.config import Settings as _Settings

        settings = _Settings()
    if str(out) == "-" or (out.exists() and not out.is_file()):
        return chosen.writer(store, table or "findings", out, settings)
    partial = out.with_name(f".{out.name}.partial")
    try:
        n = chosen.writer(store, table or "findings", partial, settings)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return n


__all__ = ["ExportFormat", "FORMAT_MODULES", "export_table", "format_for", "formats", "register"]
