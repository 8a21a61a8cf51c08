"""What a report says, read from the store: the period, the ranking, and one dossier per vessel.

Pure reads (SQL over the store, results as plain dicts and numpy arrays);
rendering lives in :mod:`tumen.report.html`.  Times are UTC.

Provenance of an event: the rows it rests on (``evidence.position_ids`` and
``evidence.static_ids``) → their ``source_id`` and line range
(``line_first``–``line_no``) → the file's path and SHA-256 in ``sources``.
Consecutive lines are merged into ranges by a gaps-and-islands query.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tumen.report.maps import Track

if TYPE_CHECKING:
    from tumen.store.backend import Backend

#: evidence keys that are bookkeeping, not measures
_NOT_MEASURES = {"detector", "params", "position_ids", "static_ids", "n_positions", "country"}
#: evidence key endings that repeat what the event's own columns say (its places and row ids)
_NOT_MEASURE_SUFFIXES = ("_lat", "_lon", "_id", "_ids", "_country")


def is_measure(key: str) -> bool:
    """Whether an evidence entry is a measure worth showing (not an id, a coordinate or bookkeeping)."""
    return key not in _NOT_MEASURES and not key.endswith(_NOT_MEASURE_SUFFIXES)


def _rows(store: Backend, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    return store.query(sql, params).to_pylist()  # type: ignore[no-any-return]


def _in_list(values: Iterable[Any]) -> str:
    vals = list(values)
    if not vals:
        return "(NULL)"
    if all(isinstance(v, int) for v in vals):
        return "(" + ", ".join(str(int(v)) for v in vals) + ")"
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in vals) + ")"


# --------------------------------------------------------------------------- period
def period_summary(store: Backend) -> dict[str, Any]:
    """Counts and time span of what the store holds.

    Returns
    -------
    dict
        ``start``/``end`` (first and last position, UTC), ``positions``,
        ``vessels`` (distinct MMSIs heard), ``statics``, ``quarantined``, ``lines``
        (input lines read), ``sources`` (files), ``events_by_type`` (type →
        count), ``events``, ``matches`` (rows with ``match``) and ``listed_vessels``.
    """
    row = _rows(
        store,
        """SELECT min(ts) AS start, max(ts) AS "end", count(*) AS positions,
                  count(DISTINCT mmsi) AS vessels FROM positions""",
    )[0]
    row["statics"] = store.query("SELECT count(*) AS n FROM statics").column("n")[0].as_py()
    row["quarantined"] = store.query("SELECT count(*) AS n FROM quarantine").column("n")[0].as_py()
    src = _rows(store, "SELECT count(*) AS n, sum(lines) AS lines FROM sources")[0]
    row["sources"], row["lines"] = src["n"], src["lines"] or 0
    by_type = _rows(store, "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC")
    row["events_by_type"] = {r["type"]: r["n"] for r in by_type}
    row["events"] = sum(row["events_by_type"].values())
    row["matches"] = 0
    row["listed_vessels"] = 0
    if store.table_exists("matches"):
        m = _rows(
            store,
            """SELECT count(*) FILTER (WHERE match) AS matches,
                      count(DISTINCT mmsi) FILTER (WHERE match AND role = 'vessel') AS listed_vessels
               FROM matches""",
        )[0]
        row.update(m)
    if row["start"] is None:
        ev = _rows(store, 'SELECT min(start) AS start, max("end") AS "end" FROM events')[0]
        row["start"], row["end"] = ev["start"], ev["end"]
    return row


def sources(store: Backend) -> list[dict[str, Any]]:
    """Every ingested file: ``source_id, path, sha256, size_bytes, format, ingested_at, tumen_version`` and counts."""
    return _rows(store, "SELECT * FROM sources ORDER BY source_id")


def lists_loaded(store: Backend) -> list[dict[str, Any]]:
    """The sanctions lists loaded into the store (table ``lists`` of screening), as its rows."""
    if not store.table_exists("lists"):
        return []
    return _rows(store, "SELECT * FROM lists")


# --------------------------------------------------------------------------- vessels
def ranking(store: Backend) -> list[dict[str, Any]]:
    """Table ``risk`` in rank order, ``signals`` decoded."""
    if not store.table_exists("risk"):
        return []
    rows = _rows(store, "SELECT * FROM risk ORDER BY rank")
    for r in rows:
        r["signals"] = json.loads(r["signals"] or "[]")
    return rows


def resolve_vessels(store: Backend, ids: Sequence[int]) -> list[int]:
    """MMSIs for the given identifiers: a 9-digit number is an MMSI, a 7-digit one an IMO.

    An IMO resolves to every MMSI that broadcast it.  Unknown identifiers are dropped.
    """
    out: list[int] = []
    for ident in ids:
        ident = int(ident)
        if len(str(ident)) == 7:
            found = _rows(
                store, "SELECT DISTINCT mmsi FROM statics WHERE imo = ? ORDER BY mmsi", [ident]
            )
            out += [r["mmsi"] for r in found]
        else:
            seen = _rows(
                store,
                """SELECT 1 AS x FROM positions WHERE mmsi = ? UNION ALL SELECT 1 FROM statics WHERE mmsi = ?
                   UNION ALL SELECT 1 FROM events WHERE mmsi = ? OR other_mmsi = ? LIMIT 1""",
                [ident, ident, ident, ident],
            )
            if seen:
                out.append(ident)
    return list(dict.fromkeys(out))


def _carried(col: str) -> str:
    """SQL: ``col`` of the latest report that has it, else of the next one (windows ``upto``, ``from_here``)."""
    return (
        f"coalesce(last_value({col} IGNORE NULLS) OVER upto, "
        f"first_value({col} IGNORE NULLS) OVER from_here)"
    )


#: The identity runs of the vessels whose static reports ``{where}`` keeps (see :func:`identity`),
#: one row per run, in order of MMSI then time; every window is per MMSI, so that one vessel's
#: runs are the same whether it is read alone or with every other.
_IDENTITY_SQL = f"""
    WITH s0 AS (
        SELECT mmsi, ts, static_id, part, name, imo, callsign, ship_type, flag, destination
        FROM statics
        WHERE {{where}} (name IS NOT NULL OR imo IS NOT NULL OR callsign IS NOT NULL)
    ),
    f AS (
        SELECT mmsi, ts, static_id, flag, destination,
               CASE WHEN part = '24B' THEN {_carried("name")} ELSE name END AS name,
               CASE WHEN part IN ('24A', '24B') THEN {_carried("imo")} ELSE imo END AS imo,
               CASE WHEN part = '24A' THEN {_carried("callsign")} ELSE callsign END AS callsign,
               CASE WHEN part = '24A' THEN {_carried("ship_type")} ELSE ship_type END AS ship_type
        FROM s0
        WINDOW upto AS (PARTITION BY mmsi ORDER BY ts, static_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               from_here AS (PARTITION BY mmsi ORDER BY ts, static_id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
    ),
    s AS (
        SELECT *,
               coalesce(name, '') || '|' || coalesce(CAST(imo AS VARCHAR), '') || '|' ||
               coalesce(callsign, '') || '|' || coalesce(CAST(ship_type AS VARCHAR), '') || '|' ||
               coalesce(flag, '') AS k
        FROM f
    ),
    runs AS (
        SELECT *, sum(CASE WHEN k = prev THEN 0 ELSE 1 END) OVER (PARTITION BY mmsi ORDER BY ts, k) AS run
        FROM (SELECT *, lag(k) OVER (PARTITION BY mmsi ORDER BY ts, k) AS prev FROM s)
    )
    SELECT mmsi, any_value(name) AS name, any_value(imo) AS imo, any_value(callsign) AS callsign,
           any_value(ship_type) AS ship_type, any_value(flag) AS flag,
           min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS reports,
           string_agg(DISTINCT destination, ', ') AS destinations
    FROM runs GROUP BY mmsi, run ORDER BY mmsi, min(ts) NULLS FIRST, run
"""


def _identity_of(mmsi: int, history: list[dict[str, Any]]) -> dict[str, Any]:
    latest: dict[str, Any] = {
        "mmsi": mmsi,
        "imo": None,
        "name": None,
        "callsign": None,
        "ship_type": None,
        "flag": None,
    }
    for run in history:
        for key in ("imo", "name", "callsign", "ship_type", "flag"):
            if run[key] not in (None, "", 0):
                latest[key] = run[key]
    latest["history"] = history
    return latest


def identity(store: Backend, mmsi: int) -> dict[str, Any]:
    """The vessel's latest declared identity and its history.

    A class B type 24 report carries half an identity: part A the name, part B the
    call sign and ship type (neither the IMO).  The fields a part does not carry are
    taken from the vessel's latest report that has them (else its next), so that the
    two parts of one identity form one run instead of alternating runs.

    Returns
    -------
    dict
        ``mmsi``, latest ``imo``, ``name``, ``callsign``, ``ship_type``, ``flag``
        (declared), and ``history``: runs of identical (name, IMO, call sign,
        ship type, flag) in time order, each with ``first_seen``, ``last_seen``
        (UTC) and ``reports`` (count of static reports).
    """
    history = _rows(store, _IDENTITY_SQL.format(where="mmsi = ? AND"), [mmsi])
    for run in history:
        del run["mmsi"]
    return _identity_of(mmsi, history)


def identities(store: Backend) -> dict[int, dict[str, Any]]:
    """:func:`identity` of every MMSI with a static report, in one query (MMSI → identity).

    For readers that answer many vessels from one state of the store (``tumen serve``); the
    same answers as :func:`identity` vessel by vessel.  An MMSI without a static report that
    names it is absent (its :func:`identity` has an empty history).
    """
    t = store.query(_IDENTITY_SQL.format(where=""))
    cols = [c for c in t.column_names if c != "mmsi"]
    values = [t.column(c).to_pylist() for c in cols]
    out: dict[int, list[dict[str, Any]]] = {}
    for i, m in enumerate(t.column("mmsi").to_pylist()):
        out.setdefault(m, []).append({c: v[i] for c, v in zip(cols, values, strict=True)})
    return {m: _identity_of(m, h) for m, h in out.items()}


def matches_for(store: Backend, mmsi: int, imos: Sequence[int]) -> list[dict[str, Any]]:
    """Screening results for the vessel (by MMSI, or by an IMO it broadcast), best first.

    Each row is a ``matches`` row with ``features``, ``datasets``, ``programs`` and
    ``path`` decoded from JSON.
    """
    if not store.table_exists("matches"):
        return []
    rows = _rows(
        store,
        f"""SELECT * FROM matches
            WHERE mmsi = ? OR (mmsi IS NULL AND imo IN {_in_list(int(i) for i in imos if i)})
            ORDER BY match DESC, (role = 'vessel') DESC, score DESC, role""",
        [mmsi],
    )
    seen: set[tuple[Any, Any]] = set()
    out = []
    for r in rows:
        key = (r.get("entity_id"), r.get("role"))
        if key in seen:
            continue
        seen.add(key)
        for col in ("features", "datasets", "programs", "path", "designation"):
            if isinstance(r.get(col), str):
                with contextlib.suppress(json.JSONDecodeError):
                    r[col] = json.loads(r[col])
        out.append(r)
    return out


def track(
    store: Backend, mmsi: int, max_points: int, window: tuple[datetime, datetime] | None = None
) -> Track:
    """The vessel's fixes in time order, thinned evenly to at most ``max_points`` (first and last kept)."""
    # reports "position not available" (lat/lon NULL) have no place on a track
    where = "mmsi = ? AND ts IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL"
    params: list[Any] = [mmsi]
    if window is not None:
        where += " AND ts BETWEEN ? AND ?"
        params += [window[0], window[1]]
    n = (
        store.query(f"SELECT count(*) AS n FROM positions WHERE {where}", params)
        .column("n")[0]
        .as_py()
    )
    step = max(1, -(-n // max_points))
    t = store.query(
        f"""SELECT ts, lat, lon FROM (
                SELECT ts, lat, lon, row_number() OVER (ORDER BY ts, pos_id) - 1 AS i
                FROM positions WHERE {where})
            WHERE i % {step} = 0 OR i = {n - 1} ORDER BY ts""",
        params,
    )
    return Track(
        ts=t.column("ts").to_numpy().astype("datetime64[ms]"),
        lat=t.column("lat").to_numpy(),
        lon=t.column("lon").to_numpy(),
    )


# --------------------------------------------------------------------------- events
def events_for(
    store: Backend,
    mmsi: int | None = None,
    limit: int | None = None,
    events_where: tuple[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Events of one vessel (as either side), or of the whole store, in time order.

    Each row has the ``events`` columns plus ``evidence``/``params`` decoded,
    ``measures`` (evidence entries other than ids, detector and params),
    ``partner_name`` (latest name of ``other_mmsi``) and ``name`` (of ``mmsi``).
    ``events_where``: a ``WHERE …`` clause over table ``events`` and its parameters (e.g.
    :meth:`tumen.serve.queries.EventFilter.where`), applied in the query.
    """
    where = "" if mmsi is None else f"WHERE e.mmsi = {int(mmsi)} OR e.other_mmsi = {int(mmsi)}"
    lim = "" if limit is None else f"LIMIT {int(limit)}"
    pre, params = events_where if events_where is not None else ("", [])
    rows = _rows(
        store,
        f"""
        WITH names AS (
            SELECT mmsi, arg_max(name, coalesce(ts, TIMESTAMP '1970-01-01')) AS name
            FROM statics WHERE name IS NOT NULL AND name <> '' GROUP BY mmsi
        )
        SELECT e.*, n1.name AS name, n2.name AS partner_name
        FROM (SELECT * FROM events {pre}) e
        LEFT JOIN names n1 ON n1.mmsi = e.mmsi
        LEFT JOIN names n2 ON n2.mmsi = e.other_mmsi
        {where}
        ORDER BY e.start, e.type, e.event_id
        {lim}
        """,
        list(params),
    )
    for r in rows:
        for col in ("evidence", "params"):
            try:
                r[col] = json.loads(r[col]) if isinstance(r[col], str) else (r[col] or {})
            except json.JSONDecodeError:
                r[col] = {"raw": r[col]}
        ev = r["evidence"] if isinstance(r["evidence"], dict) else {}
        r["measures"] = {k: v for k, v in ev.items() if is_measure(k)}
        r["n_rows"] = len(ev.get("position_ids") or []) + len(ev.get("static_ids") or [])
    return rows


def provenance(store: Backend, event_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """For each event, the files and line ranges of the rows it rests on.

    Returns
    -------
    dict
        event_id → list of ``{"source_id", "path", "sha256", "ranges": [(first, last), …],
        "n_lines"}``, one per source file, ranges in line order (1-based, inclusive).
    """
    if not event_ids:
        return {}
    rows = _rows(
        store,
        f"""
        WITH ev AS (SELECT event_id, evidence FROM events WHERE event_id IN {_in_list(event_ids)}),
        pids AS (
            SELECT event_id, unnest(CAST(json_extract(evidence, '$.position_ids') AS BIGINT[])) AS id FROM ev
        ),
        sids AS (
            SELECT event_id, unnest(CAST(json_extract(evidence, '$.static_ids') AS BIGINT[])) AS id FROM ev
        ),
        cited AS (
            SELECT p.event_id, q.source_id, q.line_first, q.line_no
            FROM pids p JOIN positions q ON q.pos_id = p.id
            UNION ALL
            SELECT s.event_id, t.source_id, t.line_first, t.line_no
            FROM sids s JOIN statics t ON t.static_id = s.id
        ),
        lines AS (
            SELECT DISTINCT event_id, source_id, unnest(range(line_first, line_no + 1)) AS line FROM cited
        ),
        islands AS (
            SELECT event_id, source_id, line,
                   line - row_number() OVER (PARTITION BY event_id, source_id ORDER BY line) AS grp
            FROM lines
        ),
        ranges AS (
            SELECT event_id, source_id, min(line) AS first, max(line) AS last
            FROM islands GROUP BY event_id, source_id, grp
        )
        SELECT r.event_id, r.source_id, s.path, s.sha256,
               list([r.first, r.last] ORDER BY r.first) AS ranges,
               sum(r.last - r.first + 1) AS n_lines
        FROM ranges r LEFT JOIN sources s ON s.source_id = r.source_id
        GROUP BY r.event_id, r.source_id, s.path, s.sha256
        ORDER BY r.event_id, r.source_id
        """,
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        r["ranges"] = [tuple(x) for x in r["ranges"]]
        out.setdefault(r["event_id"], []).append(r)
    return out


def gap_ends(
    store: Backend, event_ids: Sequence[str]
) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """For gap events: ((lat, lon) of the last fix before, (lat, lon) of the first fix after)."""
    if not event_ids:
        return {}
    rows = _rows(
        store,
        f"""SELECT e.event_id, avg(a.lat) AS a_lat, avg(a.lon) AS a_lon, avg(b.lat) AS b_lat, avg(b.lon) AS b_lon
            FROM events e
            JOIN positions a ON a.mmsi = e.mmsi AND a.ts = e.start
            JOIN positions b ON b.mmsi = e.mmsi AND b.ts = e."end"
            WHERE e.event_id IN {_in_list(event_ids)} GROUP BY e.event_id""",
    )
    return {r["event_id"]: ((r["a_lat"], r["a_lon"]), (r["b_lat"], r["b_lon"])) for r in rows}


def format_ranges(ranges: Sequence[tuple[int, int]], limit: int | None = None) -> str:
    """``[(3, 5), (9, 9), (7904, 7904)]`` → ``"3–5, 9, 7904"`` (at most ``limit`` ranges, then ``…``).

    Line numbers are written without thousands separators: in a comma-separated list,
    ``7,904`` would read as the two lines 7 and 904.
    """
    shown = list(ranges) if limit is None else list(ranges)[:limit]
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in shown)
    if limit is not None and len(ranges) > limit:
        text += f", … (+{len(ranges) - limit} more)"
    return text


def mid_country(mmsi: int) -> tuple[str, str] | None:
    """(ISO alpha-2, country) of an MMSI's Maritime Identification Digits (ITU-R M.585), per pyais's table."""
    from pyais.constants import COUNTRY_MAPPING

    mid = int(mmsi) // 1_000_000
    found = COUNTRY_MAPPING.get(mid)
    return (str(found[0]), str(found[1])) if found else None


def ship_type_name(code: int | None) -> str | None:
    """ITU-R M.1371 ship-and-cargo type code → a readable name (pyais's ShipType)."""
    if code is None:
        return None
    from pyais.constants import ShipType

    try:
        name = ShipType(int(code)).name
    except ValueError:
        return str(code)
    words = name.replace("_", " ").replace("HazardousCategory", "hazardous cat.")
    return (
        "".join(
            " " + c if c.isupper() and i and words[i - 1].islower() else c
            for i, c in enumerate(words)
        ).strip()
        + f" ({code})"
    )


def track_window(events: Sequence[dict[str, Any]]) -> tuple[datetime, datetime] | None:
    """(earliest start, latest end) of the given events, or None."""
    if not events:
        return None
    return min(e["start"] for e in events), max(e["end"] for e in events)


def as_numpy_ts(values: Sequence[datetime]) -> np.ndarray:
    return np.array(values, dtype="datetime64[ms]")
