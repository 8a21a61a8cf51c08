"""``positions_by_vessel``: the positions' coordinates clustered by MMSI, for per-vessel reads.

``positions`` is stored in the order it was ingested (receive time), so the rows of one MMSI
are spread over every row group, and DuckDB has no index on ``mmsi``: reading one vessel's
track scans the whole table (about 50 ms of CPU at 10 M positions).  This table holds
``mmsi, ts, pos_id, lat, lon`` of every position, sorted by ``(mmsi, ts, pos_id)``; DuckDB
keeps a min/max (zonemap) of ``mmsi`` per row group, so a lookup by MMSI reads only the one or
two row groups that hold the vessel (about 2 ms for a 500-fix vessel at 10 M positions, 27 ms
for 100 000 fixes).

Measured alternatives (``/work`` notes, BENCHMARKS "Web workspace and API"): an ART index on
``positions(mmsi)`` answers a 500-fix vessel in 13 ms but makes appends 27 times slower
(1 M rows in 10 transactions: 2.6 s → 69 s) and checkpoints of micro-batches take seconds —
ingest and ``tumen watch`` would pay for every read.  This table is written by ``tumen detect``
instead (one sort of five columns: about 6 s of CPU at 10 M positions for a full build, the
rows added since the last run otherwise).

Staying correct while a writer appends: ingest numbers new positions from ``max(pos_id) + 1``
and never changes or removes stored ones, so the table covers exactly the positions with
``pos_id <= pos_max`` as recorded in ``meta`` (key :data:`META_KEY`, with the count of those
positions); readers take the rows with a larger ``pos_id`` from ``positions`` itself (a scan
that skips the old row groups by their ``pos_id`` zonemap).  :func:`coverage` checks the
recorded count before the table is trusted; when it does not hold (rows removed or inserted
below the mark), readers fall back to ``positions`` and the next ``tumen detect`` rebuilds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tumen.store.backend import Backend

#: The table (defined in ``store/schema.sql``).
TABLE = "positions_by_vessel"
#: ``meta`` key: JSON ``{"pos_max", "pos_count"}`` — the positions the table covers.
META_KEY = "positions_by_vessel"
#: Rebuild from scratch (instead of appending the new rows sorted) once the rows added since the
#: last build exceed this share of the rows covered: each appended run costs a lookup one more
#: row group.
REBUILD_SHARE = 0.25

_COLUMNS = "mmsi, ts, pos_id, lat, lon"


def _state(store: Backend) -> dict[str, int] | None:
    t = store.query("SELECT value FROM meta WHERE key = ?", [META_KEY])
    if not t.num_rows:
        return None
    try:
        raw = json.loads(t.column(0)[0].as_py())
        return {"pos_max": int(raw["pos_max"]), "pos_count": int(raw["pos_count"])}
    except (TypeError, ValueError, KeyError):
        return None


def _count_upto(store: Backend, pos_max: int) -> int:
    return int(store.query("SELECT count(*) FROM positions WHERE pos_id <= ?", [pos_max]).column(0)[0].as_py())


def coverage(store: Backend) -> int | None:
    """The largest ``pos_id`` the table covers, or ``None`` when it cannot be used.

    ``None`` when the table was never built, or when ``positions`` no longer holds exactly the
    rows it was built from (the count of positions up to the mark differs).  One scan of the
    ``pos_id`` column: call once per state of the store file, not per request.
    """
    if not store.table_exists(TABLE):
        return None
    state = _state(store)
    if state is None or _count_upto(store, state["pos_max"]) != state["pos_count"]:
        return None
    return state["pos_max"]


def refresh(store: Backend) -> dict[str, Any]:
    """Bring the table up to date with ``positions`` (a writable store); one transaction.

    Returns ``{"mode": "unchanged" | "append" | "full", "rows": rows written}``.
    """
    row = store.query("SELECT coalesce(max(pos_id), -1) AS m, count(*) AS n FROM positions").to_pylist()[0]
    pos_max, pos_count = int(row["m"]), int(row["n"])
    state = _state(store) if store.table_exists(TABLE) else None
    mode = "full"
    if state is not None and _count_upto(store, state["pos_max"]) == state["pos_count"]:
        added = pos_count - state["pos_count"]
        if added == 0:
            return {"mode": "unchanged", "rows": 0}
        if added <= REBUILD_SHARE * max(state["pos_count"], 1):
            mode = "append"
    with store.transaction():
        if mode == "full":
            # replaced, not emptied: deleted rows would keep their space in the file until a vacuum
            store.execute(
                f"CREATE OR REPLACE TABLE {TABLE} AS SELECT {_COLUMNS} FROM positions ORDER BY mmsi, ts, pos_id"
            )
            written = pos_count
        else:
            assert state is not None
            store.execute(
                f"INSERT INTO {TABLE} SELECT {_COLUMNS} FROM positions WHERE pos_id > ? ORDER BY mmsi, ts, pos_id",
                [state["pos_max"]],
            )
            written = pos_count - state["pos_count"]
        store.execute("DELETE FROM meta WHERE key = ?", [META_KEY])
        store.execute(
            "INSERT INTO meta VALUES (?, ?)",
            [META_KEY, json.dumps({"pos_max": pos_max, "pos_count": pos_count}, sort_keys=True)],
        )
    return {"mode": mode, "rows": written}


def positions_sql(covered: int | None, cond: str) -> tuple[str, int]:
    """SQL (a subquery) of the positions of one vessel with columns ``mmsi, ts, pos_id, lat, lon``.

    ``cond`` is a condition over those columns whose first parameter is the MMSI (``mmsi = ?
    AND …``); it appears once per branch, so the caller repeats its parameters the returned
    number of times.  ``covered`` is :func:`coverage`'s answer: ``None`` reads ``positions``.
    With a coverage, the answer is the same rows: the clustered table up to ``pos_max``, and
    ``positions`` beyond it.
    """
    if covered is None:
        return f"(SELECT {_COLUMNS} FROM positions WHERE {cond})", 1
    return (
        f"(SELECT {_COLUMNS} FROM {TABLE} WHERE {cond} UNION ALL "
        f"SELECT {_COLUMNS} FROM positions WHERE pos_id > {int(covered)} AND {cond})",
        2,
    )
