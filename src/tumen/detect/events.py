"""Events: the common shape of every detector's output, how it is stored, and how it is printed.

Each detector writes a temporary table (``_ev_<detector>``) with the columns of
:data:`DETECTOR_COLUMNS`.  :func:`stage_events` turns them into rows of the ``events`` table
(``store/schema.sql``) by adding

- ``event_id``: deterministic — the first 20 hex digits of the MD5 of type, subtype, vessels, start
  (µs), detector and ports, so the same data and parameters give the same ids in every run;
- ``detector``, ``params`` (JSON of the detector's settings), ``tumen_version``, ``detected_at`` (UTC);
- ``evidence``: a JSON object with ``detector``, ``params``, ``position_ids`` (ids of ``positions``
  rows; for long events only the key fixes, with ``n_positions`` the count of fixes the event spans),
  ``static_ids`` where static reports are the evidence, then the detector's measures.

The public JSON-lines form (``tumen events --format jsonl``, see CONTRACTS.md) is produced by
:func:`event_records` / :func:`to_jsonl`; times are ISO-8601 UTC with ``Z``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from tumen.store.backend import Backend
from tumen.store.dialect import DUCKDB, Dialect

#: Columns every ``_ev_*`` table has (extra columns are ignored).
DETECTOR_COLUMNS = (
    "type",
    "subtype",
    "mmsi",
    "other_mmsi",
    "start",
    "end",
    "lat",
    "lon",
    "port",
    "from_port",
    "to_port",
    "position_ids",
    "n_positions",
    "static_ids",
    "measures",
    "id_key",
)

#: Keys of an event in the public JSON-lines contract (``tumen events --format jsonl``,
#: the simulator's ``truth.jsonl``), in order; ``evidence`` follows them.
CONTRACT_KEYS = (
    "event_id",
    "type",
    "subtype",
    "mmsi",
    "other_mmsi",
    "start",
    "end",
    "lat",
    "lon",
    "port",
    "from_port",
    "to_port",
)

#: Columns of the ``events`` table, in order.
EVENT_COLUMNS = (
    *CONTRACT_KEYS,
    "detector",
    "params",
    "evidence",
    "tumen_version",
    "detected_at",
)

#: Event types and identity subtypes of the public contract.
EVENT_TYPES = ("port_visit", "voyage", "gap", "encounter", "loitering", "identity")
IDENTITY_SUBTYPES = (
    "mmsi_conflict",
    "position_jump",
    "identity_change",
    "invalid_imo",
    "flag_mismatch",
    "dprk_mid",
)


def event_id_sql(alias: str, detector: str, dialect: Dialect = DUCKDB) -> str:
    """SQL expression of the deterministic event id of row ``alias`` of an ``_ev_*`` table.

    The same text in every engine (MD5 of the ``|``-joined decimal texts), so the ids do not
    depend on the engine that found the event.
    """
    a = f"{alias}." if alias else ""
    s = dialect.varchar
    return (
        "left(md5(concat_ws('|', "
        f"{a}type, coalesce({a}subtype, ''), CAST({a}mmsi AS {s}), "
        f"coalesce(CAST({a}other_mmsi AS {s}), ''), CAST({dialect.epoch_us(f'{a}start')} AS {s}), "
        f"'{detector}', coalesce({a}port, ''), coalesce({a}from_port, ''), coalesce({a}to_port, ''), "
        f"coalesce({a}id_key, ''))), 20)"
    )


def stage_events(store: Backend, detector: str, params_json: str, version: str) -> int:
    """Append the rows of ``_ev_{detector}`` to the staging table ``_events_new``; returns the count.

    ``params_json`` is stored as given in ``params``; the evidence cites it re-serialised compactly
    (the same JSON value).
    """
    d = store.dialect
    evidence = d.evidence("?", "?", "e.position_ids", "e.n_positions", "e.static_ids", "e.measures")
    compact = json.dumps(json.loads(params_json), separators=(",", ":"), sort_keys=True)
    store.materialise(
        "_events_new",
        f"""
        SELECT {event_id_sql("e", detector, d)} AS event_id, e.type, e.subtype,
               CAST(e.mmsi AS BIGINT) AS mmsi, CAST(e.other_mmsi AS BIGINT) AS other_mmsi,
               e.start, e."end",
               CAST(e.lat AS DOUBLE) AS lat, CAST(e.lon AS DOUBLE) AS lon, e.port, e.from_port, e.to_port,
               ? AS detector, ? AS params, {evidence} AS evidence,
               ? AS tumen_version, CAST(? AS TIMESTAMP) AS detected_at
        FROM _ev_{detector} e
        """,
        [detector, params_json, detector, compact, version, _now()],
        append=True,
    )
    return int(store.query(f"SELECT count(*) AS n FROM _ev_{detector}").column("n")[0].as_py())


def create_staging(store: Backend) -> None:
    """(Re)create the empty staging table ``_events_new`` with the columns of ``events``."""
    cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    store.materialise("_events_new", f"SELECT {cols} FROM events LIMIT 0")


def _now() -> datetime:
    from tumen.provenance import utc_now

    return utc_now()


# ----------------------------------------------------------------------------- reading and printing
def query_events(
    store: Backend,
    *,
    types: Sequence[str] = (),
    mmsi: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """Events ordered by start, type and MMSI, filtered.

    ``mmsi`` matches either vessel of an encounter; ``since``/``until`` (UTC) keep the events that
    overlap the interval (``end >= since`` and ``start <= until``).
    """
    where: list[str] = []
    params: list[Any] = []
    if types:
        where.append(f"type IN ({', '.join('?' for _ in types)})")
        params.extend(types)
    if mmsi is not None:
        where.append("(mmsi = ? OR other_mmsi = ?)")
        params.extend([mmsi, mmsi])
    if since is not None:
        where.append('"end" >= ?')
        params.append(since)
    if until is not None:
        where.append("start <= ?")
        params.append(until)
    cond = f"WHERE {' AND '.join(where)}" if where else ""
    cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    return store.query(
        f"SELECT {cols} FROM events {cond} ORDER BY start, type, mmsi, other_mmsi NULLS FIRST, event_id",
        params,
    )


def iso_z(value: datetime | None) -> str | None:
    """A naive UTC datetime as ISO-8601 with ``Z`` (seconds, or milliseconds when present)."""
    if value is None:
        return None
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_records(table: pa.Table) -> Iterator[dict[str, Any]]:
    """The public JSON-lines objects of the rows of an events table (see CONTRACTS.md)."""
    keys = [c for c in EVENT_COLUMNS if c not in ("params", "detected_at")]
    for row in table.to_pylist():
        rec = {k: row[k] for k in keys}
        rec["start"], rec["end"] = iso_z(row["start"]), iso_z(row["end"])
        rec["evidence"] = json.loads(row["evidence"])
        yield rec


def to_jsonl(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line (UTF-8, no trailing spaces)."""
    for rec in records:
        yield json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"


#: Columns of the CSV form: the event columns people read, ``evidence`` as JSON text.
CSV_COLUMNS = tuple(c for c in EVENT_COLUMNS if c not in ("params", "tumen_version", "detected_at"))


def to_csv(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV with a header; ``evidence`` as compact JSON text; times ISO-8601 UTC with ``Z``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    for rec in records:
        buf.seek(0)
        buf.truncate()
        row = dict(rec, evidence=json.dumps(rec["evidence"], separators=(",", ":")))
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        yield buf.getvalue()


def _geometry(rec: dict[str, Any]) -> dict[str, Any] | None:
    ev = rec["evidence"]
    if rec["type"] == "gap" and ev.get("start_lat") is not None:
        return {
            "type": "LineString",
            "coordinates": [[ev["start_lon"], ev["start_lat"]], [ev["end_lon"], ev["end_lat"]]],
        }
    if rec["lat"] is None or rec["lon"] is None:
        return None
    return {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]}


def to_geojson(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A GeoJSON FeatureCollection (RFC 7946): points at the event position, gaps as lines.

    Written as a stream, one feature per line, so large exports need no memory.
    """
    yield '{"type":"FeatureCollection","features":[\n'
    first = True
    for rec in records:
        feature = {
            "type": "Feature",
            "id": rec["event_id"],
            "geometry": _geometry(rec),
            "properties": rec,
        }
        yield ("" if first else ",\n") + json.dumps(
            feature, ensure_ascii=False, separators=(",", ":")
        )
        first = False
    yield "\n]}\n"
