"""Screening names given by a user: one ``--query`` or a JSON-lines ``--query-file``.

What ``tumen screen --query/--query-file`` does, without the terminal:

* :func:`open_index` — the screening index of the lists loaded in a store file, opened
  read-only; a missing store file is an error and is **never created** (screening
  names only reads);
* :func:`parse_query_lines` — JSON-lines queries checked line by line; a bad line is
  kept in place as an error naming the file and line (it never stops the run);
* :func:`screen_query_lines` — the output objects of the query-file contract, in input
  order: ``{"id", "matches": [...]}`` for a query, ``{"id": null, "line", "error",
  "matches": []}`` for a bad line.

Each match is :meth:`tumen.screen.match.Match.to_json` (with ``matched_name``: which of
the party's names matched).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tumen.config import ScreenSettings
from tumen.errors import StoreError
from tumen.screen.index import ScreenIndex
from tumen.screen.match import QUERY_TYPES, get_index, screen_many


@dataclass(frozen=True, slots=True)
class QueryLine:
    """One line of a query file: the query (a dict) or why the line was refused."""

    line: int
    query: dict[str, Any] | None
    error: str | None = None


def open_index(db: str | Path, as_of: date | None = None) -> ScreenIndex:
    """The screening index of the lists loaded in the store file ``db`` (opened read-only);
    ``as_of``: the lists as they stood on that date (UTC).

    Raises
    ------
    StoreError
        When ``db`` does not exist (it is not created) or holds no loaded list.
    """
    from tumen.store import DuckDBStore

    path = Path(str(db))
    if not path.exists():
        raise StoreError(
            f"{db}: no such store; load a sanctions list first (`tumen lists load PATH --db {db}`)"
        )
    with DuckDBStore(path, read_only=True) as store:
        if not store.table_exists("lists") or not store.scalar("SELECT count(*) FROM lists"):
            raise StoreError(
                f"{db}: no sanctions list is loaded; run `tumen lists load PATH` first"
            )
        if as_of is not None:
            from tumen.screen.lists.history import check_as_of

            check_as_of(store, as_of)
        return get_index(store, as_of=as_of)


def check_query(q: Any) -> dict[str, Any]:
    """``q`` if it is a valid query object, else ``ValueError`` saying what is wrong."""
    if not isinstance(q, dict) or not (q.get("name") or q.get("imo") or q.get("mmsi")):
        raise ValueError("needs at least a 'name'")
    if q.get("type") is not None and q["type"] not in QUERY_TYPES:
        raise ValueError(f"type {q['type']!r} is not vessel, company or person")
    for key in ("name", "flag", "callsign"):
        if q.get(key) is not None and not isinstance(q[key], str):
            raise ValueError(f"{key!r} must be a string, not {q[key]!r}")
    for key in ("imo", "mmsi"):
        if q.get(key) is not None and not isinstance(q[key], str | int):
            raise ValueError(f"{key!r} must be a number or a string, not {q[key]!r}")
    return q


def parse_query_lines(lines: Iterable[str], source: str) -> list[QueryLine]:
    """Parse JSON-lines queries (blank lines skipped); ``source`` names the file in errors."""
    out: list[QueryLine] = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(QueryLine(line_no, check_query(json.loads(line))))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            out.append(QueryLine(line_no, None, f"{source} line {line_no}: {exc}"))
    return out


def screen_query_lines(
    index: ScreenIndex, parsed: list[QueryLine], cfg: ScreenSettings
) -> Iterator[dict[str, Any]]:
    """The output object of every parsed line, in input order (see the module docstring)."""
    good = [p.query for p in parsed if p.query is not None]
    results = iter(
        screen_many(
            index, good, threshold=cfg.threshold, limit=cfg.max_candidates, workers=cfg.workers
        )
    )
    for p in parsed:
        if p.query is None:
            yield {"id": None, "line": p.line, "error": p.error, "matches": []}
        else:
            yield {"id": p.query.get("id"), "matches": [m.to_json() for m in next(results)]}
