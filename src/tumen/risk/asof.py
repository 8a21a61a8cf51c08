"""Rank as of a past date: only the data and the lists known then (``tumen risk --as-of``).

Inside :func:`as_of_view` the store's ``positions``, ``statics``, ``events`` and
``matches`` are shadowed by temporary views holding what was known at ``as_of``
(UTC):

* positions and static reports received at or before ``as_of`` (untimed rows are kept);
* events that **ended** at or before ``as_of`` (a voyage still under way is not yet known);
* list matches whose designation was in force on that day
  (:func:`tumen.screen.lists.history.designation_status` is ``in_force``): a vessel
  designated later, or a party delisted earlier, does not count.

The matches were screened against the lists' newest versions; an entry delisted
before the newest version was loaded is therefore absent from them (screen with
``tumen screen --as-of`` to use the older lists themselves).  Every reader of the store
works unchanged inside the block, e.g. :func:`tumen.risk.rank_vessels` with
``write=False``.  Temporary views are a DuckDB feature (the names resolve to the
temporary schema first); the block removes them on exit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tumen.risk.timing import as_day
from tumen.screen.lists.history import designation_periods, designation_status
from tumen.store.backend import Backend

SHADOWED = ("positions", "statics", "events", "matches")


def matches_in_force(store: Backend, as_of: datetime) -> list[tuple[str, str]]:
    """(list_id, entity_id) of the matched entries whose designation was in force at ``as_of``."""
    if not store.table_exists("matches"):
        return []
    rows = store.query(
        "SELECT DISTINCT list_id, entity_id, designation FROM matches WHERE match"
    ).to_pylist()
    periods = designation_periods(store, [(r["list_id"], r["entity_id"]) for r in rows])
    keep: list[tuple[str, str]] = []
    for r in rows:
        key = (r["list_id"], r["entity_id"])
        p = periods.get(key)
        if p is None:  # no history for this list: the designation's own date, if any
            des = json.loads(r["designation"] or "[]") or []
            dates = [as_day(d.get("listing_date")) for d in des]
            known = [d for d in dates if d is not None]
            if known and min(known) <= as_of.date():
                keep.append(key)
        elif designation_status(p, as_of) == "in_force":
            keep.append(key)
    return keep


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def as_of_view(store: Backend, as_of: datetime) -> Iterator[dict[str, Any]]:
    """Shadow the store's tables with what was known at ``as_of`` (see the module docstring).

    Yields a summary: ``as_of`` (ISO, UTC) and ``matches_in_force`` (entries kept).
    """
    catalog = store.query("SELECT current_database() AS c").column("c")[0].as_py()
    ts = f"TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}'"
    main = f'"{catalog}".main'
    keep = matches_in_force(store, as_of)
    keys = ", ".join(_lit(f"{a}\x1f{b}") for a, b in keep) or "NULL"
    views = {
        "positions": f"SELECT * FROM {main}.positions WHERE ts IS NULL OR ts <= {ts}",
        "statics": f"SELECT * FROM {main}.statics WHERE ts IS NULL OR ts <= {ts}",
        "events": f'SELECT * FROM {main}.events WHERE "end" <= {ts}',
    }
    if store.table_exists("matches"):
        views["matches"] = (
            f"SELECT * FROM {main}.matches WHERE NOT match "
            f"OR (list_id || chr(31) || entity_id) IN ({keys})"
        )
    made: list[str] = []
    try:
        for name, sql in views.items():
            store.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            made.append(name)
        yield {"as_of": as_of.isoformat() + "Z", "matches_in_force": len(keep)}
    finally:
        for name in made:
            store.execute(f"DROP VIEW IF EXISTS temp.main.{name}")


__all__ = ["as_of_view", "matches_in_force"]
