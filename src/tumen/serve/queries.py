"""What the API reads from the store: pure functions of an open store and their parameters.

Every function takes a :class:`~tumen.store.backend.Backend` (opened read-only
by :class:`tumen.serve.db.StoreGate`) and returns JSON-ready dicts.  Every
value from a request reaches SQL as a bound parameter.  Times are UTC;
``lat``/``lon`` WGS84 degrees; GeoJSON coordinates are ``[lon, lat]``.
Positions may lack a position (``lat IS NULL``) and are then left out of
everything geometric.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from tumen.detect.events import EVENT_COLUMNS, event_records
from tumen.report import dossier as q
from tumen.report.maps import Track, split_points
from tumen.store import by_vessel

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

#: Sort keys of the events list: name → SQL expression (``-name`` sorts descending).
EVENT_SORTS = {
    "start": "start",
    "end": '"end"',
    "type": "type",
    "mmsi": "mmsi",
    "duration": 'epoch("end") - epoch(start)',
}


@dataclass(frozen=True)
class EventFilter:
    """The filters of ``/api/events`` (and of ``/api/export``).

    ``bbox`` is (west, south, east, north) in degrees; west > east crosses the
    antimeridian.  ``since``/``until`` keep events overlapping the interval (UTC),
    as ``tumen events`` does.  ``port`` matches ``port``, ``from_port`` or
    ``to_port`` (case-insensitive).
    """

    types: tuple[str, ...] = ()
    subtypes: tuple[str, ...] = ()
    mmsi: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    port: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition (``WHERE …`` or empty) over table ``events`` and its parameters."""
        cond: list[str] = []
        params: list[Any] = []
        if self.types:
            cond.append(f"type IN ({', '.join('?' for _ in self.types)})")
            params += list(self.types)
        if self.subtypes:
            cond.append(f"subtype IN ({', '.join('?' for _ in self.subtypes)})")
            params += list(self.subtypes)
        if self.mmsi is not None:
            cond.append("(mmsi = ? OR other_mmsi = ?)")
            params += [self.mmsi, self.mmsi]
        if self.since is not None:
            cond.append('"end" >= ?')
            params.append(self.since)
        if self.until is not None:
            cond.append("start <= ?")
            params.append(self.until)
        if self.bbox is not None:
            w, s, e, n = self.bbox
            cond.append("lat IS NOT NULL AND lat BETWEEN ? AND ?")
            params += [s, n]
            if w <= e:
                cond.append("lon BETWEEN ? AND ?")
            else:
                cond.append("(lon >= ? OR lon <= ?)")
            params += [w, e]
        if self.port:
            cond.append("(lower(port) = lower(?) OR lower(from_port) = lower(?) OR lower(to_port) = lower(?))")
            params += [self.port] * 3
        return ("WHERE " + " AND ".join(cond) if cond else ""), params


def _rows(store: Backend, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    return store.query(sql, list(params or [])).to_pylist()  # type: ignore[no-any-return]


def _scalar(store: Backend, sql: str, params: Sequence[Any] | None = None) -> Any:
    """First column of the first row (``None`` when there is no row)."""
    table = store.query(sql, list(params or []))
    return table.column(0)[0].as_py() if table.num_rows else None


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z``, as the events contract writes times."""
    from tumen.detect.events import iso_z

    return iso_z(value)


_LATEST_NAME_SQL = """
    SELECT mmsi, name FROM statics
    WHERE name IS NOT NULL AND name <> '' {cond}
    QUALIFY row_number() OVER (
        PARTITION BY mmsi ORDER BY coalesce(ts, TIMESTAMP '1970-01-01') DESC, static_id DESC) = 1
"""


def all_latest_names(store: Backend) -> dict[int, str]:
    """MMSI → latest non-empty name broadcast, for every MMSI of ``statics`` (one scan).

    The same answers as :func:`latest_names`; built once per state of the store by the server
    (:meth:`tumen.serve.db.StoreGate.memo`) so that a page of events costs no scan of ``statics``.
    """
    t = store.query(_LATEST_NAME_SQL.format(cond=""))
    return dict(zip(t.column("mmsi").to_pylist(), t.column("name").to_pylist(), strict=True))


def latest_names(
    store: Backend, mmsis: Sequence[int], known: dict[int, str] | None = None
) -> dict[str, str | None]:
    """MMSI (as a string key) → latest non-empty name broadcast, for the given MMSIs.

    The latest is the report with the latest ``ts`` (a report without a time counts as the
    oldest), then the largest ``static_id``.  ``known``: :func:`all_latest_names` of the same
    store, read instead of ``statics``.
    """
    ids = sorted({int(m) for m in mmsis if m is not None})
    if not ids:
        return {}
    if known is None:
        rows = _rows(store, _LATEST_NAME_SQL.format(cond="AND mmsi IN (SELECT unnest(?::BIGINT[]))"), [ids])
        known = {r["mmsi"]: r["name"] for r in rows}
    return {str(m): known.get(m) for m in ids}


@dataclass
class EventRows:
    """Every event in the contract's columns, in memory, in the events list's default order
    (``start, type, mmsi, event_id``), with the row of each event id and the rows of each MMSI
    (either vessel of an encounter): read once per state of the store file by the server, so that
    a page of events reads from the store only which events it lists (the wide columns —
    evidence, parameters — are most of a page query's cost)."""

    table: pa.Table
    row_of: dict[str, int]
    rows_of: dict[int, list[int]]

    @classmethod
    def from_store(cls, store: Backend) -> EventRows:
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        table = store.query(f"SELECT {cols} FROM events ORDER BY start, type, mmsi, event_id")
        rows_of: dict[int, list[int]] = {}
        for i, (m, o) in enumerate(zip(table.column("mmsi").to_pylist(),
                                       table.column("other_mmsi").to_pylist(), strict=True)):
            rows_of.setdefault(m, []).append(i)
            if o is not None and o != m:
                rows_of.setdefault(o, []).append(i)
        row_of = {e: i for i, e in enumerate(table.column("event_id").to_pylist())}
        return cls(table, row_of, rows_of)

    def records(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The events of ``rows`` (in that order) in contract form."""
        if not rows:
            return []
        return list(event_records(self.table.take(pa.array(rows, pa.int64()))))


def events(
    store: Backend,
    flt: EventFilter,
    *,
    limit: int,
    offset: int = 0,
    sort: str = "start",
    names: dict[int, str] | None = None,
    rows: EventRows | None = None,
) -> dict[str, Any]:
    """``{"events": [...], "total": N, "limit", "offset", "names"}``: events in the public contract form.

    Each event is an object of the ``tumen events --format jsonl`` contract
    (CONTRACTS.md).  ``names`` maps every MMSI in the page to its latest name (the argument
    ``names``: :func:`all_latest_names`, when the caller keeps it).  ``rows``: the
    :class:`EventRows` of the same store; the page's events are then taken from it (the same
    answer).
    """
    where, params = flt.where()
    desc = sort.startswith("-")
    key = EVENT_SORTS[sort.lstrip("-")]
    order = f"{key} {'DESC' if desc else 'ASC'}, start, type, mmsi, event_id"
    total = int(store.query(f"SELECT count(*) AS n FROM events {where}", params).column("n")[0].as_py())
    if rows is not None:
        ids = store.query(
            f"SELECT event_id FROM events {where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
        ).column("event_id").to_pylist()
        recs = rows.records([rows.row_of[e] for e in ids])
    else:
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        table = store.query(
            f"SELECT {cols} FROM events {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        recs = list(event_records(table))
    mmsis = [r["mmsi"] for r in recs] + [r["other_mmsi"] for r in recs if r["other_mmsi"]]
    return {
        "events": recs,
        "total": total,
        "limit": limit,
        "offset": offset,
        "names": latest_names(store, mmsis, names),
    }


def event_ids(store: Backend, flt: EventFilter) -> set[str]:
    """Ids of every event the filter keeps (for filtered exports)."""
    where, params = flt.where()
    return set(store.query(f"SELECT event_id FROM events {where}", params).column("event_id").to_pylist())


def event_exists(store: Backend, event_id: str) -> bool:
    return bool(_rows(store, "SELECT 1 AS x FROM events WHERE event_id = ?", [event_id]))


# --------------------------------------------------------------------------- vessels
def _listed_mmsis_sql() -> str:
    """MMSIs with a screening match (any role), including IMO-only matches resolved over statics."""
    return """
        SELECT mmsi FROM matches WHERE match AND mmsi IS NOT NULL
        UNION
        SELECT s.mmsi FROM matches m JOIN statics s ON s.imo = m.imo
        WHERE m.match AND m.mmsi IS NULL AND m.imo IS NOT NULL
    """


def vessels(
    store: Backend,
    *,
    q_text: str | None,
    listed: bool | None,
    min_score: float | None,
    limit: int,
    offset: int = 0,
) -> dict[str, Any]:
    """Vessels ranked by risk (table ``risk``), filtered.

    Returns
    -------
    dict
        ``vessels``: ``rank, mmsi, imo, name, flag, score`` (points), ``n_events``,
        ``listed`` (has a screening match), ``signals`` (``signal, title, points, count,
        notes, event_ids, entity_ids``); ``total``; ``ranked`` (false when ``tumen risk``
        has not run: the list is then empty).
    """
    if not store.table_exists("risk") or not _scalar(store, "SELECT count(*) FROM risk"):
        return {"vessels": [], "total": 0, "limit": limit, "offset": offset, "ranked": False}
    has_matches = store.table_exists("matches")
    listed_sql = (
        f"r.mmsi IN ({_listed_mmsis_sql()})" if has_matches else "false"
    )
    cond: list[str] = []
    params: list[Any] = []
    if q_text:
        cond.append(
            "(r.name ILIKE ? OR CAST(r.mmsi AS VARCHAR) LIKE ? OR CAST(r.imo AS VARCHAR) LIKE ?)"
        )
        like = "%" + q_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like, like]
    if listed is not None:
        cond.append(listed_sql if listed else f"NOT ({listed_sql})")
    if min_score is not None:
        cond.append("r.score >= ?")
        params.append(min_score)
    where = "WHERE " + " AND ".join(cond) if cond else ""
    total = _scalar(store, f"SELECT count(*) FROM risk r {where}", params)
    rows = _rows(
        store,
        f"""SELECT r.rank, r.mmsi, r.imo, r.name, r.flag, r.score, r.n_events,
                   {listed_sql} AS listed, r.signals
            FROM risk r {where} ORDER BY r.rank, r.mmsi LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    )
    for r in rows:
        r["signals"] = json.loads(r["signals"] or "[]")
    return {"vessels": rows, "total": int(total or 0), "limit": limit, "offset": offset, "ranked": True}


def vessel_known(store: Backend, mmsi: int) -> bool:
    """Whether the store has heard ``mmsi`` (a position, a static report or an event)."""
    return bool(q.resolve_vessels(store, [mmsi])) if len(str(mmsi)) != 7 else False


def _jsonish(value: Any) -> Any:
    if isinstance(value, str):
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(value)
    return value


@dataclass
class VesselBook:
    """What a vessel page reads from the store, for every vessel at once: built in a few queries
    once per state of the store file (see :meth:`StoreGate.version`), then read per vessel
    without a query (a page otherwise costs about ten queries, 40–60 ms of CPU at 10 M positions,
    most of it DuckDB's fixed cost per query).

    Holds the identity runs of every MMSI (:func:`tumen.report.dossier.identities`, the same
    query as :func:`tumen.report.dossier.identity` per MMSI), the ``risk`` rows, the events
    (:class:`EventRows`), the
    ``segments`` summary per MMSI, and which MMSIs and IMOs have a screening match row.  Each
    method answers as the per-vessel query would (fresh objects: callers may change them).
    """

    identities: dict[int, dict[str, Any]]
    risk: dict[int, dict[str, Any]] | None
    events: EventRows
    positions: dict[int, dict[str, Any]]
    match_mmsis: set[int] | None
    match_imos: set[int]
    statics_mmsis: set[int]

    @classmethod
    def from_store(cls, store: Backend, events: EventRows | None = None) -> VesselBook:
        """The book of ``store``; ``events``: its :class:`EventRows` when the caller keeps them."""
        identities = q.identities(store)
        risk: dict[int, dict[str, Any]] | None = None
        if store.table_exists("risk"):
            risk = {}
            for r in _rows(store, "SELECT mmsi, rank, score, n_events, signals FROM risk"):
                risk.setdefault(r.pop("mmsi"), r)
        positions: dict[int, dict[str, Any]] = {}
        if store.table_exists("segments"):
            for r in _rows(store, 'SELECT mmsi, sum(n_positions) AS n, min(start) AS first, max("end") AS last '
                                  "FROM segments GROUP BY mmsi"):
                positions[r.pop("mmsi")] = r
        match_mmsis, match_imos = None, set()
        if store.table_exists("matches"):
            match_mmsis = set()
            for r in _rows(store, "SELECT DISTINCT mmsi, imo FROM matches"):
                if r["mmsi"] is not None:
                    match_mmsis.add(r["mmsi"])
                elif r["imo"] is not None:
                    match_imos.add(r["imo"])
        statics = set(store.query("SELECT DISTINCT mmsi FROM statics").column(0).to_pylist())
        return cls(identities, risk, events or EventRows.from_store(store), positions, match_mmsis, match_imos,
                   statics)

    def identity(self, mmsi: int) -> dict[str, Any]:
        """:func:`tumen.report.dossier.identity`."""
        found = self.identities.get(mmsi)
        if found is None:
            return {"mmsi": mmsi, "imo": None, "name": None, "callsign": None, "ship_type": None,
                    "flag": None, "history": []}
        return {**found, "history": [dict(h) for h in found["history"]]}

    def known(self, mmsi: int) -> bool:
        """The MMSI has a static report or an event (``False``: look in ``positions``)."""
        return mmsi in self.statics_mmsis or mmsi in self.events.rows_of

    def vessel_events(self, mmsi: int, limit: int) -> list[dict[str, Any]]:
        """The MMSI's events (either vessel of an encounter) in contract form, as :func:`events`
        with ``EventFilter(mmsi=mmsi)`` and the default sort gives them (at most ``limit``)."""
        return self.events.records(self.events.rows_of.get(mmsi, [])[:limit])


def vessel(
    store: Backend,
    mmsi: int,
    names: dict[int, str] | None = None,
    covered: int | None = None,
    book: VesselBook | None = None,
) -> dict[str, Any]:
    """One vessel: identity and its history, risk, matches, ownership paths and events.

    Returns
    -------
    dict
        ``mmsi``; ``identity`` (latest ``imo, name, callsign, ship_type, ship_type_name,
        flag``; ``mid`` country of the MMSI); ``identity_history`` (runs of one identity:
        ``name, imo, callsign, ship_type, flag, first_seen, last_seen, reports``);
        ``risk`` (``rank, score`` and ``signals`` with ``points``; null when not ranked);
        ``matches`` (screening rows: ``role, entity_id, caption, schema, score, match,
        features, datasets, programs, designation, path``); ``ownership_paths`` (the
        ``path`` of each match reached through an owner, manager or other link);
        ``events`` (contract form) and ``names`` (MMSI → latest name); ``positions``
        (count, ``first``/``last`` time).  ``names``: as for :func:`events`; ``covered``: as
        for :func:`track`; ``book``: :class:`VesselBook` of the same store, read instead of
        querying it (the same answer).
    """
    ident = book.identity(mmsi) if book is not None else q.identity(store, mmsi)
    history = ident.pop("history")
    for h in history:
        h["first_seen"], h["last_seen"] = iso(h["first_seen"]), iso(h["last_seen"])
    mid = q.mid_country(mmsi)
    ident["ship_type_name"] = q.ship_type_name(ident.get("ship_type"))
    ident["mid"] = {"code": mmsi // 1_000_000, "iso": mid[0] if mid else None, "country": mid[1] if mid else None}
    risk = None
    if book is not None:
        found = book.risk.get(mmsi) if book.risk is not None else None
        risk = dict(found) if found is not None else None
    elif store.table_exists("risk"):
        rows = _rows(store, "SELECT rank, score, n_events, signals FROM risk WHERE mmsi = ?", [mmsi])
        risk = rows[0] if rows else None
    if risk is not None:
        risk["signals"] = json.loads(risk["signals"] or "[]")
    imos = [h["imo"] for h in history if h.get("imo")]
    matches = []
    listed = book is None or (
        book.match_mmsis is not None and (mmsi in book.match_mmsis or any(int(i) in book.match_imos for i in imos))
    )
    for m in q.matches_for(store, mmsi, imos) if listed else []:
        row = {
            k: _jsonish(m.get(k))
            for k in (
                "role", "entity_id", "list_id", "caption", "schema", "score", "match", "features",
                "datasets", "programs", "designation", "path", "name", "imo", "callsign",
            )
        }
        row["screened_at"] = iso(m.get("screened_at"))
        matches.append(row)
    paths = [
        {"role": m["role"], "entity_id": m["entity_id"], "caption": m["caption"], "path": m["path"]}
        for m in matches
        if m.get("path")
    ]
    if book is not None:
        recs = book.vessel_events(mmsi, VESSEL_EVENTS)
        evs = {"events": recs, "names": latest_names(
            store, [r["mmsi"] for r in recs] + [r["other_mmsi"] for r in recs if r["other_mmsi"]], names)}
    else:
        evs = events(store, EventFilter(mmsi=mmsi), limit=VESSEL_EVENTS, names=names)
    seg = book.positions.get(mmsi) if book is not None else None
    pos = dict(seg) if seg is not None and seg["n"] else position_summary(store, mmsi, covered)
    return {
        "mmsi": mmsi,
        "identity": ident,
        "identity_history": history,
        "risk": risk,
        "matches": matches,
        "ownership_paths": paths,
        "events": evs["events"],
        "names": evs["names"],
        "positions": {"count": pos["n"], "first": iso(pos["first"]), "last": iso(pos["last"])},
    }


#: events listed on a vessel page, at most (count)
VESSEL_EVENTS = 100_000


def position_summary(store: Backend, mmsi: int, covered: int | None = None) -> dict[str, Any]:
    """``n`` positions, ``first`` and ``last`` time (UTC) of a vessel.

    Read from ``segments`` (written by ``tumen detect``: a few rows per vessel) when it covers
    the vessel, else counted in ``positions`` (through ``positions_by_vessel`` when ``covered``
    is given, see :func:`track`; else a scan of the whole table).
    """
    if store.table_exists("segments"):
        seg = _rows(
            store,
            'SELECT sum(n_positions) AS n, min(start) AS first, max("end") AS last FROM segments WHERE mmsi = ?',
            [mmsi],
        )[0]
        if seg["n"]:
            return seg
    source, times = by_vessel.positions_sql(covered, "mmsi = ? AND lat IS NOT NULL")
    return _rows(store, f"SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM {source} AS p", [mmsi] * times)[0]


# --------------------------------------------------------------------------- tracks
#: metres per degree of latitude (mean, WGS84) — for the local projection used to simplify
M_PER_DEG = 111_195.0


def _simplify(lat: np.ndarray, lon: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Indices of the points Douglas–Peucker keeps at ``tolerance_m`` metres (shapely/GEOS).

    The points are projected to a local equirectangular plane (x scaled by
    cos(mean latitude)), accurate to a few per cent over a sea the size of the
    Sea of Japan; the point's index rides along as the Z coordinate, which GEOS
    keeps, so the kept points are returned exactly as stored.
    """
    import shapely

    if len(lat) <= 2 or tolerance_m <= 0:
        return np.arange(len(lat))
    k = np.cos(np.radians(float(np.mean(lat))))
    x = np.unwrap(np.radians(lon)) * (180 / np.pi) * M_PER_DEG * k
    y = lat * M_PER_DEG
    line = shapely.linestrings(x, y, np.arange(len(lat), dtype=float))
    # plain Douglas–Peucker: a track that crosses itself (a vessel going to and fro) cannot be
    # simplified at all when topology must be preserved
    simple = shapely.simplify(line, tolerance_m, preserve_topology=False)
    kept = shapely.get_coordinates(simple, include_z=True)[:, 2]
    return np.unique(kept.astype(np.int64))


def track(
    store: Backend,
    settings: Settings,
    mmsi: int,
    *,
    since: datetime | None,
    until: datetime | None,
    simplify_m: float | None,
    covered: int | None = None,
) -> dict[str, Any]:
    """The vessel's track as a GeoJSON Feature, broken at gaps and simplified.

    The line breaks where the vessel was silent for at least
    ``detect.gaps.min_gap_h`` hours or where a leg is impossible (faster than
    ``detect.segments.max_speed_kn``), as on the report's maps: one piece is a
    ``LineString``, several a ``MultiLineString``.  Each piece is simplified with
    Douglas–Peucker at ``simplify_m`` metres; when ``simplify_m`` is not given,
    tracks of more than ``serve.track_max_points`` fixes are simplified at a
    tolerance of 1/2000 of the track's extent (about one pixel of a map that shows
    it whole), shorter ones are not.  ``properties``: ``mmsi``, ``n_positions``
    (fixes in the window), ``n_points`` (vertices sent), ``simplify_m`` (the
    tolerance used, metres), ``start``/``end`` (UTC) and ``parts`` (``start``,
    ``end``, ``n_positions`` of each piece).

    ``covered``: :func:`tumen.store.by_vessel.coverage` of the store (read the fixes from the
    table clustered by vessel, same answer); ``None`` reads ``positions`` (a full scan).
    """
    cond = "mmsi = ? AND ts IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL"
    params: list[Any] = [mmsi]
    if since is not None:
        cond += " AND ts >= ?"
        params.append(since)
    if until is not None:
        cond += " AND ts <= ?"
        params.append(until)
    source, times = by_vessel.positions_sql(covered, cond)
    t = store.query(f"SELECT ts, lat, lon FROM {source} AS p ORDER BY ts, pos_id", params * times)
    tr = Track(
        ts=t.column("ts").to_numpy().astype("datetime64[ms]"),
        lat=t.column("lat").to_numpy(),
        lon=t.column("lon").to_numpy(),
    )
    n = len(tr)
    props: dict[str, Any] = {"mmsi": mmsi, "n_positions": n, "n_points": 0, "simplify_m": None,
                             "start": None, "end": None, "parts": []}
    if n == 0:
        return {"type": "Feature", "geometry": None, "properties": props}
    tol = simplify_m
    if tol is None:
        if n > settings.serve.track_max_points:
            span_deg = max(float(np.ptp(tr.lat)), float(np.ptp(tr.lon)) * np.cos(np.radians(float(np.mean(tr.lat)))))
            tol = span_deg * M_PER_DEG / 2000
        else:
            tol = 0.0
    cuts = split_points(tr, settings.detect.gaps.min_gap_h * 3600, settings.detect.segments.max_speed_kn)
    lines: list[list[list[float]]] = []
    parts = []
    for piece in np.split(np.arange(n), cuts):
        keep = piece[_simplify(tr.lat[piece], tr.lon[piece], tol)]
        parts.append({
            "start": iso(tr.ts[piece[0]].astype("datetime64[s]").item()),
            "end": iso(tr.ts[piece[-1]].astype("datetime64[s]").item()),
            "n_positions": len(piece),
        })
        coords = np.column_stack([np.round(tr.lon[keep], 6), np.round(tr.lat[keep], 6)]).tolist()
        if len(coords) == 1:  # a lone fix: a degenerate segment keeps GeoJSON valid
            coords = coords * 2
        lines.append(coords)
    props.update(
        n_points=sum(len(c) for c in lines),
        simplify_m=round(float(tol), 3),
        start=iso(tr.ts[0].astype("datetime64[s]").item()),
        end=iso(tr.ts[-1].astype("datetime64[s]").item()),
        parts=parts,
    )
    geometry = (
        {"type": "LineString", "coordinates": lines[0]}
        if len(lines) == 1
        else {"type": "MultiLineString", "coordinates": lines}
    )
    return {"type": "Feature", "geometry": geometry, "properties": props}


# --------------------------------------------------------------------------- search
def _distinct_keys(keys: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct non-empty keys (in order of first appearance) and, per key, its index among
    them (-1 for an empty key)."""
    first: dict[str, int] = {}
    inv = np.fromiter((first.setdefault(k, len(first)) if k else -1 for k in keys), np.int64, count=len(keys))
    return list(first), inv


#: ``last_seen`` of an identity never heard with a time, as an int64 (older than any time; one
#: above the minimum so that it can be negated)
_NEVER = np.iinfo(np.int64).min + 1


@dataclass
class VesselDirectory:
    """Every identity heard (distinct MMSI, name, IMO, call sign of ``statics``) and every ranked
    vessel's rank and score (table ``risk``), held in memory for search: built once per state of
    the store file (see :meth:`StoreGate.version`).

    The search keys (upper-cased, spaces removed) are kept once per distinct key: a name is
    compared once however many identities carry it.
    """

    mmsi: np.ndarray
    imo: np.ndarray
    name: list[str | None]
    callsign: list[str | None]
    last_seen: list[datetime | None]
    reports: np.ndarray
    name_key: list[str]
    call_key: list[str]
    mmsi_text: np.ndarray
    imo_text: np.ndarray
    #: distinct non-empty name keys; per identity the index of its name key there (-1: none)
    names: list[str]
    name_of: np.ndarray
    #: the distinct name keys joined by newlines (a key has no whitespace) and where each starts
    names_blob: str
    names_start: np.ndarray
    calls: list[str]
    call_of: np.ndarray
    #: ``last_seen`` as int64 microseconds (:data:`_NEVER` when unknown), for choosing per MMSI
    seen_us: np.ndarray
    #: MMSI → (rank, score) of table ``risk``; ``None`` when the store has no ``risk`` table
    ranks: dict[int, tuple[Any, Any]] | None

    @classmethod
    def from_store(cls, store: Backend) -> VesselDirectory:
        t = store.query(
            """SELECT mmsi, name, imo, callsign, max(ts) AS last_seen, count(*) AS reports
               FROM statics GROUP BY mmsi, name, imo, callsign ORDER BY mmsi"""
        )
        names = t.column("name").to_pylist()
        calls = t.column("callsign").to_pylist()
        mmsi = t.column("mmsi").to_numpy()
        imo = np.array([0 if v is None else v for v in t.column("imo").to_pylist()], dtype=np.int64)
        name_key = ["".join(n.upper().split()) if n else "" for n in names]
        call_key = ["".join(c.upper().split()) if c else "" for c in calls]
        uniq_names, name_of = _distinct_keys(name_key)
        uniq_calls, call_of = _distinct_keys(call_key)
        starts = np.cumsum([0] + [len(k) + 1 for k in uniq_names[:-1]]) if uniq_names else np.zeros(0)
        seen = t.column("last_seen").cast("timestamp[us]").to_numpy(zero_copy_only=False)
        seen_us = np.where(np.isnat(seen), _NEVER, seen.astype("datetime64[us]").astype(np.int64))
        ranks = None
        if store.table_exists("risk"):
            r = store.query("SELECT mmsi, rank, score FROM risk").to_pylist()
            ranks = {row["mmsi"]: (row["rank"], row["score"]) for row in r}
        return cls(
            mmsi=mmsi,
            imo=imo,
            name=names,
            callsign=calls,
            last_seen=t.column("last_seen").to_pylist(),
            reports=t.column("reports").to_numpy(),
            name_key=name_key,
            call_key=call_key,
            mmsi_text=mmsi.astype(str),
            imo_text=np.where(imo > 0, imo.astype(str), ""),
            names=uniq_names,
            name_of=name_of,
            names_blob="\n".join(uniq_names),
            names_start=np.asarray(starts, dtype=np.int64),
            calls=uniq_calls,
            call_of=call_of,
            seen_us=seen_us,
            ranks=ranks,
        )

    def names_containing(self, needle: str) -> np.ndarray:
        """Per distinct name key: whether it contains ``needle`` (no whitespace in it)."""
        out = np.zeros(len(self.names), bool)
        blob, starts = self.names_blob, self.names_start
        at = blob.find(needle)
        while at >= 0:
            k = int(np.searchsorted(starts, at, side="right")) - 1
            out[k] = True
            nxt = int(starts[k + 1]) if k + 1 < len(starts) else len(blob)
            at = blob.find(needle, nxt)
        return out


def _key_scores(needle: str, keys: list[str], of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Jaro–Winkler similarity of ``needle`` to each distinct key (float32, as rapidfuzz's
    ``cdist`` gives it; below 0.79 given as 0: only scores from 0.8 on are kept), and per identity
    its key's score (0 without a key)."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    if not keys:
        return np.zeros(0), np.zeros(len(of))
    u = process.cdist(
        [needle], keys, scorer=JaroWinkler.normalized_similarity, dtype=np.float32, score_cutoff=0.79
    )[0].astype(float)
    return u, np.where(of >= 0, u[np.maximum(of, 0)], 0.0)


def search_vessels(
    store: Backend, text: str, limit: int, directory: VesselDirectory | None = None
) -> list[dict[str, Any]]:
    """Vessels heard whose name, MMSI, IMO or call sign resembles ``text``, best first.

    Digits match an MMSI or IMO by prefix (score 1); names and call signs are compared with
    the Jaro–Winkler similarity (0–1, rapidfuzz; upper-cased, spaces removed) so that a
    misspelt name still finds its vessel; a name containing the text scores at least 0.9.
    Identities scoring at least 0.8 are kept, the best per MMSI (then the latest heard, then the
    first in MMSI order).  ``score`` is that similarity, ``matched`` the field that gave it.
    """
    d = directory or VesselDirectory.from_store(store)
    needle = "".join(text.upper().split())
    n = len(d.mmsi)
    rows: list[dict[str, Any]] = []
    if n and needle:
        _, s_name = _key_scores(needle, d.names, d.name_of)
        contains = d.names_containing(needle)
        inside = (d.name_of >= 0) & contains[np.maximum(d.name_of, 0)] if len(contains) else np.zeros(n, bool)
        s_name = np.where(inside, np.maximum(s_name, 0.9), s_name)
        _, s_call = _key_scores(needle, d.calls, d.call_of)
        if needle.isdigit():
            s_mmsi = np.char.startswith(d.mmsi_text, needle).astype(float)
            s_imo = (np.char.startswith(d.imo_text, needle) & (d.imo_text != "")).astype(float)
        else:
            s_mmsi = s_imo = np.zeros(n)
        scores = np.vstack([s_mmsi, s_imo, s_name, s_call])  # ties: the first field wins
        best = scores.max(axis=0)
        cand = np.nonzero(best >= 0.8)[0]
        if len(cand):
            # per MMSI its best identity, then the latest heard, then the first in directory order
            order = np.lexsort((cand, -d.seen_us[cand], -best[cand], d.mmsi[cand]))
            ranked = cand[order]
            m_sorted = d.mmsi[ranked]
            first = np.ones(len(ranked), bool)
            first[1:] = m_sorted[1:] != m_sorted[:-1]
            chosen = ranked[first]
            top = chosen[np.lexsort((d.mmsi[chosen], -best[chosen]))][:limit]
            field = np.array(["mmsi", "imo", "name", "callsign"])[scores[:, top].argmax(axis=0)]
            for i, f in zip(top.tolist(), field.tolist(), strict=True):
                rows.append({
                    "mmsi": int(d.mmsi[i]), "name": d.name[i], "imo": int(d.imo[i]) or None,
                    "callsign": d.callsign[i], "last_seen": d.last_seen[i], "reports": int(d.reports[i]),
                    "score": float(best[i]), "matched": str(f),
                })
    if needle.isdigit() and len(needle) == 9 and not any(r["mmsi"] == int(needle) for r in rows):
        # an MMSI heard without a static report
        seen_ids = q.resolve_vessels(store, [int(needle)])
        rows += [{"mmsi": m, "name": None, "imo": None, "callsign": None, "last_seen": None,
                  "reports": 0, "score": 1.0, "matched": "mmsi"} for m in seen_ids]
    ranks: dict[int, tuple[Any, Any]] = {}
    if rows and directory is not None and d.ranks is not None:
        ranks = d.ranks
    elif rows and store.table_exists("risk"):
        for r in _rows(store, "SELECT mmsi, rank, score FROM risk WHERE mmsi IN (SELECT unnest(?::BIGINT[]))",
                       [[r["mmsi"] for r in rows]]):
            ranks[r["mmsi"]] = (r["rank"], r["score"])
    for r in rows:
        r["last_seen"] = iso(r["last_seen"])
        r["score"] = round(float(r["score"]), 4)
        risk = ranks.get(r["mmsi"])
        r["risk_rank"] = risk[0] if risk else None
        r["risk_score"] = risk[1] if risk else None
    return rows


# --------------------------------------------------------------------------- provenance
_SHA_CACHE: dict[tuple[str, int, int], str] = {}
_SHA_LOCK = threading.Lock()
#: files larger than this are not re-hashed on request (bytes)
SHA_MAX_BYTES = 512 * 1024 * 1024


def _file_sha256(path: Path) -> str | None:
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _SHA_LOCK:
        if key in _SHA_CACHE:
            return _SHA_CACHE[key]
    if st.st_size > SHA_MAX_BYTES:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _SHA_LOCK:
        _SHA_CACHE[key] = digest
    return digest


def read_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    """The 1-based lines ``wanted`` of a text file (plain or gzip), decoded UTF-8 with replacement."""
    out: dict[int, str] = {}
    if not wanted:
        return out
    last = max(wanted)
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):
            if i in wanted:
                out[i] = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
            if i >= last:
                break
    return out


def provenance(store: Backend, event_id: str, max_lines: int) -> dict[str, Any]:
    """The raw lines an event rests on, read back from its source files.

    Returns
    -------
    dict
        ``event_id`` and ``sources``: per file ``source_id, path, sha256`` (as
        ingested), ``ranges`` ([first, last] 1-based inclusive), ``n_lines``,
        ``available`` (the file is there and readable), ``sha256_now`` (of the file
        as it is now, null when unavailable or too large to hash on request),
        ``unchanged`` (``sha256_now == sha256``, null when not known), ``error``
        (why the lines could not be read), ``lines`` (``line``, ``text``) — at most
        ``max_lines`` over all files — and ``truncated``.
    """
    prov = q.provenance(store, [event_id]).get(event_id, [])
    budget = max_lines
    sources = []
    for p in prov:
        ranges = [list(r) for r in p["ranges"]]
        wanted: list[int] = []
        for a, b in p["ranges"]:
            for line in range(a, b + 1):
                if len(wanted) >= budget:
                    break
                wanted.append(line)
        entry: dict[str, Any] = {
            "source_id": p["source_id"],
            "path": p["path"],
            "sha256": p["sha256"],
            "ranges": ranges,
            "n_lines": int(p["n_lines"]),
            "available": False,
            "sha256_now": None,
            "unchanged": None,
            "error": None,
            "lines": [],
            "truncated": len(wanted) < int(p["n_lines"]),
        }
        path = Path(p["path"]) if p["path"] else None
        if path is None or not path.is_file():
            entry["error"] = "the source file is no longer at this path"
        elif not os.access(path, os.R_OK):
            entry["error"] = "the source file is not readable"
        else:
            try:
                got = read_lines(path, set(wanted))
                entry["available"] = True
                entry["sha256_now"] = _file_sha256(path)
                if entry["sha256_now"] is not None and p["sha256"]:
                    entry["unchanged"] = entry["sha256_now"] == p["sha256"]
                entry["lines"] = [{"line": i, "text": got.get(i)} for i in wanted]
                if any(got.get(i) is None for i in wanted):
                    entry["error"] = "the file is shorter than the cited lines (changed since ingest?)"
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                entry["available"] = False
                entry["error"] = f"cannot read the source file: {exc}"
        budget -= len(wanted)
        sources.append(entry)
    return {"event_id": event_id, "sources": sources}


# --------------------------------------------------------------------------- alerts
#: Columns of table ``alerts`` written by ``tumen watch``.
ALERT_COLUMNS = ("seq", "alert_id", "rule", "raised_at", "is_update", "mmsi", "event_id", "body")


def alert_record(row: dict[str, Any]) -> dict[str, Any]:
    """An ``alerts`` row as JSON: its columns, ``raised_at`` ISO-8601 Z, ``body`` decoded."""
    out = {k: row.get(k) for k in ALERT_COLUMNS}
    out["raised_at"] = iso(row.get("raised_at"))
    out["body"] = _jsonish(row.get("body"))
    return out


def alerts(
    store: Backend, *, since: datetime | None, after_seq: int | None, limit: int
) -> dict[str, Any]:
    """Alerts written by ``tumen watch``, oldest first; empty when watch has not run on the store.

    ``since`` keeps alerts raised at or after it (UTC); ``after_seq`` those with a
    larger ``seq``.  ``last_seq`` is the largest ``seq`` in the table (0 when none).
    """
    if not store.table_exists("alerts"):
        return {"alerts": [], "total": 0, "last_seq": 0}
    cond: list[str] = []
    params: list[Any] = []
    if since is not None:
        cond.append("raised_at >= ?")
        params.append(since)
    if after_seq is not None:
        cond.append("seq > ?")
        params.append(after_seq)
    where = "WHERE " + " AND ".join(cond) if cond else ""
    total = int(_scalar(store, f"SELECT count(*) FROM alerts {where}", params) or 0)
    cols = ", ".join(ALERT_COLUMNS)
    rows = _rows(store, f"SELECT {cols} FROM alerts {where} ORDER BY seq LIMIT ?", [*params, limit])
    last = int(_scalar(store, "SELECT coalesce(max(seq), 0) FROM alerts") or 0)
    return {"alerts": [alert_record(r) for r in rows], "total": total, "last_seq": last}


def alerts_after(store: Backend, seq: int, limit: int) -> list[dict[str, Any]]:
    """Alerts with ``seq`` greater than ``seq`` (for the stream), oldest first."""
    if not store.table_exists("alerts"):
        return []
    cols = ", ".join(ALERT_COLUMNS)
    return [alert_record(r) for r in _rows(store, f"SELECT {cols} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit])]


def last_alert_seq(store: Backend) -> int:
    if not store.table_exists("alerts"):
        return 0
    return int(_scalar(store, "SELECT coalesce(max(seq), 0) FROM alerts") or 0)
