"""The observations ledger: sightings of vessels from outside AIS, kept in table ``observations``.

An *observation* is one sighting of one vessel at one time and place, from a source other than its
own transmitter: a satellite image of a ship at a Rajin pier, rail cars at Tumangang, a port-state
control report, a photograph.  The UN Panel of Experts sets such sightings against the AIS record
(S/2019/171 §§ 30–40, S/2024/215 annexes); :mod:`tumen.observe.corroborate` does the same here.

What is stored (one row per observation, columns in ``store/schema.sql``, section observe):

- the vessel as given and what it resolved to (:func:`resolve_vessel`): an MMSI of 9 digits that
  the store has heard, an IMO number of 7 digits with a valid check digit (``IMO`` prefix allowed),
  or a name broadcast in the statics.  An IMO or a name broadcast by several MMSIs resolves to the
  one whose static report lies nearest in time to the observation;
- time (UTC; an offset is converted, a time without one *is* UTC) and place: ``--lat/--lon``, or
  ``--port NAME`` (a watched port of the ports file detection used, by name, alias or UN/LOCODE,
  case-insensitive) which stands for the port's position with its radius as uncertainty.  A
  position inside a watched port's circle (``radius_km × detect.port_visits.radius_scale``) names
  that port;
- the identity the observation states: ``seen_name`` and ``seen_imo``, the name and IMO number the
  source shows the vessel under (hull markings in an image, the entry of a port report), as given
  with ``--seen-name``/``--seen-imo``; when not given, the vessel as given stands for it if it is a
  name or an IMO number (an MMSI states no name).  A seen IMO is 7 digits but its check digit is not
  required: a false IMO painted on a hull is itself evidence.  Corroboration sets them against
  the vessel's ``identity_change`` events;
- ``kind`` (imagery | rail | port_report | photo | other), ``source`` (URL or citation),
  ``note``, ``confidence`` (low | medium | high);
- an attachment (an image, a PDF) by **path and SHA-256**: the file is not copied into the store
  (images are large, and the store stays a database of evidence *about* files, like ``sources``);
  the digest proves later that the file shown is the file that was cited;
- who added it (``--added-by``, else ``TUMEN_USER``, else the operating-system user) and when (UTC).

Observations are never changed once added; a repeat of an existing one (same vessel, time, place,
kind, source and note) is counted as a duplicate and not stored again.

Examples
--------
>>> KINDS
('imagery', 'rail', 'port_report', 'photo', 'other')
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from tumen.errors import InputError
from tumen.identifiers import imo_ship_valid
from tumen.provenance import sha256_file, tumen_version, utc_now
from tumen.times import parse_utc
from tumen.tracks.geo import haversine_km_np

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

#: What kind of sighting an observation is.
KINDS = ("imagery", "rail", "port_report", "photo", "other")
#: Confidence words and the value each gives a risk signal (0–1).
CONFIDENCE = {"low": 1.0 / 3.0, "medium": 2.0 / 3.0, "high": 1.0}
#: Columns of an import file (CSV header or JSON keys); ``vessel``, ``time``, ``kind``, ``source``
#: and either ``lat``+``lon`` or ``port`` are required.
IMPORT_COLUMNS = (
    "vessel",
    "time",
    "lat",
    "lon",
    "port",
    "kind",
    "source",
    "note",
    "confidence",
    "attachment",
    "uncertainty_km",
    "seen_name",
    "seen_imo",
)

#: Columns of table ``observations`` in order.
OBSERVATIONS_SCHEMA = pa.schema(
    [
        ("obs_id", pa.int64()),
        ("vessel", pa.string()),
        ("mmsi", pa.int64()),
        ("imo", pa.int64()),
        ("name", pa.string()),
        ("ts", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("port", pa.string()),
        ("uncertainty_km", pa.float64()),
        ("kind", pa.string()),
        ("source", pa.string()),
        ("note", pa.string()),
        ("confidence", pa.string()),
        ("attachment", pa.string()),
        ("attachment_sha256", pa.string()),
        ("attachment_bytes", pa.int64()),
        ("added_by", pa.string()),
        ("added_at", pa.timestamp("us")),
        ("origin", pa.string()),
        ("tumen_version", pa.string()),
        ("seen_name", pa.string()),
        ("seen_imo", pa.int64()),
    ]
)

#: the fields that make two observations the same (a repeat is a duplicate)
_SAME = ("mmsi", "ts", "lat", "lon", "kind", "source", "note")


@dataclass
class ObservationInput:
    """One observation as a user gives it (strings as typed; checked by :func:`prepare`)."""

    vessel: str
    time: str
    kind: str
    source: str
    lat: float | str | None = None
    lon: float | str | None = None
    port: str | None = None
    note: str | None = None
    confidence: str | None = None
    attachment: str | None = None
    uncertainty_km: float | str | None = None
    seen_name: str | None = None
    seen_imo: int | str | None = None


@dataclass
class ImportReport:
    """What ``tumen observe import`` did with a file: every data row is stored, a duplicate, or
    rejected with its line and reason (``rows == stored + duplicates + rejected``)."""

    path: str
    format: str
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    obs_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejections": self.rejected,
            "obs_ids": self.obs_ids,
        }


def default_user() -> str:
    """Who is adding observations: ``TUMEN_USER``, else the operating-system user, else ``unknown``."""
    env = os.environ.get("TUMEN_USER", "").strip()
    if env:
        return env
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):  # no user name in the environment or passwd
        return "unknown"


# --------------------------------------------------------------------------- resolution
def vessel_given_as(text: str) -> tuple[str, int | str]:
    """How ``text`` names a vessel: ``("mmsi", 9-digit int)``, ``("imo", 7-digit int; an ``IMO``
    prefix allowed)`` or ``("name", the text stripped)``; no check against the store.

    >>> vessel_given_as("IMO 9179842"), vessel_given_as(" Lady R ")
    (('imo', 9179842), ('name', 'Lady R'))
    """
    value = str(text).strip()
    digits = re.sub(r"^IMO\s*", "", value, flags=re.I)
    if re.fullmatch(r"\d{9}", value):
        return "mmsi", int(value)
    if re.fullmatch(r"\d{7}", digits):
        return "imo", int(digits)
    return "name", value


def resolve_vessel(store: Backend, text: str, at: datetime) -> tuple[int, int | None, str | None]:
    """``(mmsi, imo, name)`` of the vessel ``text`` names (see the module docstring).

    Raises
    ------
    InputError
        Saying why, when ``text`` names no vessel the store has heard.
    """
    value = str(text).strip()
    given, number = vessel_given_as(value)
    if given == "mmsi":
        mmsi = int(number)
        heard = store.query(
            "SELECT 1 AS x FROM statics WHERE mmsi = ? UNION ALL "
            "SELECT 1 FROM positions WHERE mmsi = ? LIMIT 1",
            [mmsi, mmsi],
        ).num_rows
        if not heard:
            raise InputError(
                f"MMSI {mmsi} has not been heard in this store; give an MMSI, IMO or name it has "
                "seen (see `tumen risk`)"
            )
        return mmsi, *_latest_identity(store, mmsi)
    if given == "imo":
        imo = int(number)
        if not imo_ship_valid(imo):
            raise InputError(f"IMO {imo} has a wrong check digit; give a valid IMO number")
        rows = _nearest(store, "imo = ?", [imo], at)
        if not rows:
            raise InputError(f"no vessel in the store broadcast IMO {imo}; give its MMSI instead")
        mmsi = int(rows[0]["mmsi"])
        return mmsi, imo, _latest_identity(store, mmsi)[1]
    if not value:
        raise InputError("the vessel is empty; give an MMSI (9 digits), IMO (7 digits) or name")
    rows = _nearest(store, "upper(trim(name)) = upper(?)", [value], at)
    if not rows:
        raise InputError(
            f"no vessel in the store broadcast the name {value!r}; give its MMSI or IMO instead"
        )
    mmsi = int(rows[0]["mmsi"])
    return mmsi, *_latest_identity(store, mmsi)


def _nearest(store: Backend, where: str, params: list[Any], at: datetime) -> list[dict[str, Any]]:
    """MMSIs of the statics matching ``where``, the one reported nearest in time to ``at`` first."""
    return store.query(  # type: ignore[no-any-return]
        f"""SELECT mmsi, min(abs(epoch(coalesce(ts, ?)) - epoch(CAST(? AS TIMESTAMP)))) AS dt
            FROM statics WHERE {where} GROUP BY mmsi ORDER BY dt, mmsi""",
        [at, at, *params],
    ).to_pylist()


def _latest_identity(store: Backend, mmsi: int) -> tuple[int | None, str | None]:
    rows = store.query(
        """SELECT arg_max(imo, coalesce(ts, TIMESTAMP '1970-01-01')) FILTER (WHERE imo IS NOT NULL AND imo > 0) AS imo,
                  arg_max(name, coalesce(ts, TIMESTAMP '1970-01-01')) FILTER (WHERE name IS NOT NULL AND name <> '') AS name
           FROM statics WHERE mmsi = ?""",
        [mmsi],
    ).to_pylist()
    if not rows:
        return None, None
    imo = rows[0]["imo"]
    return (int(imo) if imo is not None else None), rows[0]["name"]


def resolve_port(ports: pa.Table, name: str) -> dict[str, Any]:
    """The watched port ``name`` names (by name, an alias or its UN/LOCODE; case-insensitive).

    Raises
    ------
    InputError
        When no watched port has that name; the message lists them.
    """
    key = name.strip().casefold()
    rows = ports.to_pylist()
    for row in rows:
        names = [row["name"], row.get("locode") or ""]
        names += [a for a in (row.get("aliases") or "").split(";") if a]
        if key in {n.strip().casefold() for n in names if n}:
            return row  # type: ignore[no-any-return]
    listed = ", ".join(r["name"] for r in rows)
    raise InputError(f"{name!r} is not a watched port; give one of: {listed}")


def port_at(ports: pa.Table, lat: float, lon: float, radius_scale: float) -> str | None:
    """The watched port whose circle (``radius_km × radius_scale``) holds the point (nearest first)."""
    if ports.num_rows == 0:
        return None
    d = haversine_km_np(lat, lon, ports.column("lat").to_numpy(), ports.column("lon").to_numpy())
    inside = d <= ports.column("radius_km").to_numpy() * radius_scale
    if not inside.any():
        return None
    idx = int(np.argmin(np.where(inside, d, np.inf)))
    return str(ports.column("name")[idx].as_py())


# --------------------------------------------------------------------------- checking
def _float(value: Any, what: str, lo: float, hi: float, unit: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} {value!r} is not a number; give {unit}") from None
    if math.isnan(number) or not lo <= number <= hi:
        raise InputError(f"{what} {number} is out of range [{lo:g}, {hi:g}]; give {unit}")
    return number


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def prepare(
    store: Backend,
    ports: pa.Table,
    inp: ObservationInput,
    settings: Settings,
    *,
    added_by: str,
    origin: str = "cli",
    base_dir: Path | None = None,
) -> dict[str, Any]:
    """Check one observation and resolve its vessel and place; returns the row to store (no ``obs_id``).

    ``base_dir``: relative attachment paths are taken from there (the import file's folder).

    Raises
    ------
    InputError
        One line saying what is wrong and what to give instead.
    """
    if _blank(inp.time):
        raise InputError("the time is missing; give an ISO-8601 UTC time, e.g. 2024-01-10T06:00Z")
    try:
        ts = parse_utc(str(inp.time))
    except ValueError:
        raise InputError(
            f"time {inp.time!r} is not ISO-8601; give e.g. 2024-01-10T06:00Z"
        ) from None
    kind = (inp.kind or "").strip()
    if kind not in KINDS:
        raise InputError(f"kind {inp.kind!r} is not one of {', '.join(KINDS)}")
    source = (inp.source or "").strip()
    if not source:
        raise InputError("the source is missing; give a URL or a citation")
    confidence = (inp.confidence or "medium").strip().lower()
    if confidence not in CONFIDENCE:
        raise InputError(f"confidence {inp.confidence!r} is not one of low, medium, high")
    has_pos = not _blank(inp.lat) or not _blank(inp.lon)
    has_port = not _blank(inp.port)
    if has_pos and has_port:
        raise InputError("give either lat and lon, or a port, not both")
    scale = settings.detect.port_visits.radius_scale
    port_name: str | None
    if has_port:
        port = resolve_port(ports, str(inp.port))
        lat, lon, port_name = float(port["lat"]), float(port["lon"]), str(port["name"])
        uncertainty = float(port["radius_km"]) * scale
    elif has_pos:
        if _blank(inp.lat) or _blank(inp.lon):
            raise InputError("give both lat and lon (WGS84 degrees)")
        lat = _float(inp.lat, "lat", -90.0, 90.0, "degrees, e.g. 42.24")
        lon = _float(inp.lon, "lon", -180.0, 180.0, "degrees, e.g. 130.30")
        port_name = port_at(ports, lat, lon, scale)
        uncertainty = settings.observe.position_uncertainty_km
    else:
        raise InputError("the place is missing; give lat and lon, or a watched port")
    if not _blank(inp.uncertainty_km):
        uncertainty = _float(inp.uncertainty_km, "uncertainty_km", 0.0, 500.0, "kilometres")
    mmsi, imo, name = resolve_vessel(store, str(inp.vessel or ""), ts)
    attachment = digest = None
    size = None
    if not _blank(inp.attachment):
        path = Path(str(inp.attachment)).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise InputError(f"attachment {inp.attachment!r} is not a readable file")
        attachment, digest, size = str(path.resolve()), sha256_file(path), path.stat().st_size
    note = None if _blank(inp.note) else str(inp.note)
    seen_name, seen_imo = _seen_identity(inp)
    return {
        "vessel": str(inp.vessel).strip(),
        "mmsi": mmsi,
        "imo": imo,
        "name": name,
        "ts": ts,
        "lat": lat,
        "lon": lon,
        "port": port_name,
        "uncertainty_km": uncertainty,
        "kind": kind,
        "source": source,
        "note": note,
        "confidence": confidence,
        "attachment": attachment,
        "attachment_sha256": digest,
        "attachment_bytes": size,
        "added_by": added_by,
        "added_at": utc_now(),
        "origin": origin,
        "tumen_version": tumen_version(),
        "seen_name": seen_name,
        "seen_imo": seen_imo,
    }


def _seen_identity(inp: ObservationInput) -> tuple[str | None, int | None]:
    """``(seen_name, seen_imo)`` the observation states (see the module docstring)."""
    seen_name = None if _blank(inp.seen_name) else " ".join(str(inp.seen_name).split())
    seen_imo: int | None = None
    if not _blank(inp.seen_imo):
        text = re.sub(r"^IMO\s*", "", str(inp.seen_imo).strip(), flags=re.I)
        if not re.fullmatch(r"\d{7}", text):
            raise InputError(f"seen IMO {inp.seen_imo!r} is not 7 digits; give e.g. 9179842")
        seen_imo = int(text)
    given, value = vessel_given_as(str(inp.vessel or ""))
    if given == "name" and seen_name is None and value:
        seen_name = str(value)
    if given == "imo" and seen_imo is None:
        seen_imo = int(value)
    return seen_name, seen_imo


# --------------------------------------------------------------------------- storing
def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(round(row[k], 7) if isinstance(row[k], float) else row[k] for k in _SAME)


def store_observations(store: Backend, rows: list[dict[str, Any]]) -> tuple[list[int], int]:
    """Append ``rows`` (from :func:`prepare`) to table ``observations`` in one transaction.

    Returns the ``obs_id`` given to each stored row (in order) and the number of duplicates
    (rows repeating an observation already stored, or one earlier in ``rows``) left out.
    """
    with store.transaction():
        existing = {
            _key(r) for r in store.query(f"SELECT {', '.join(_SAME)} FROM observations").to_pylist()
        }
        first = (
            int(
                store.query("SELECT coalesce(max(obs_id), 0) AS n FROM observations")
                .column("n")[0]
                .as_py()
            )
            + 1
        )
        fresh: list[dict[str, Any]] = []
        dups = 0
        for row in rows:
            k = _key(row)
            if k in existing:
                dups += 1
                continue
            existing.add(k)
            fresh.append(dict(row, obs_id=first + len(fresh)))
        if fresh:
            table = pa.Table.from_pylist(fresh, schema=OBSERVATIONS_SCHEMA)
            store.append("observations", table)
    return [r["obs_id"] for r in fresh], dups


def add_observation(
    store: Backend,
    ports: pa.Table,
    inp: ObservationInput,
    settings: Settings,
    *,
    added_by: str | None = None,
) -> dict[str, Any]:
    """Check, resolve and store one observation; returns it as :func:`list_observations` does
    (``duplicate`` true, and the stored one's ``obs_id``, when it was already there)."""
    row = prepare(store, ports, inp, settings, added_by=added_by or default_user())
    ids, dups = store_observations(store, [row])
    if dups:
        found = [o for o in list_observations(store) if _key(o) == _key(row)]
        return dict(found[0], duplicate=True)
    (obs,) = [o for o in list_observations(store) if o["obs_id"] == ids[0]]
    return dict(obs, duplicate=False)


def _records(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any] | str]]]:
    """``(format, iterator of (line, record or the reason it is unreadable))`` of an import file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file; give a .csv or .jsonl file of observations", path) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file; give a .csv or .jsonl file", path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path) from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):

        def jsonl() -> Iterator[tuple[int, dict[str, Any] | str]]:
            for line_no, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield line_no, f"not JSON ({exc.msg} at column {exc.colno})"
                    continue
                yield line_no, obj if isinstance(obj, dict) else "not a JSON object"

        return "jsonl", jsonl()
    if suffix != ".csv":
        raise InputError("unknown file type; give a .csv or .jsonl file of observations", path)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in ("vessel", "time", "kind", "source") if c not in header]
    if missing:
        raise InputError(
            f"header lacks {', '.join(missing)}; the first line must name the columns "
            f"({', '.join(IMPORT_COLUMNS)})",
            path,
            1,
        )

    def rows() -> Iterator[tuple[int, dict[str, Any] | str]]:
        start = reader.line_num + 1
        try:
            for raw in reader:
                # a record starts on the line after the previous one ended (quoted fields may span lines)
                line_no, start = start, reader.line_num + 1
                if not any(v.strip() for v in raw):
                    continue
                if len(raw) > len(header):
                    yield line_no, f"{len(raw) - len(header)} more fields than the header names"
                    continue
                yield line_no, dict(zip(header, raw, strict=False))
        except csv.Error as exc:
            yield start, f"not CSV ({exc})"

    return "csv", rows()


def import_observations(
    store: Backend,
    ports: pa.Table,
    path: str | Path,
    settings: Settings,
    *,
    added_by: str | None = None,
) -> ImportReport:
    """Store every good row of a CSV or JSON-lines file; reject the others with line and reason.

    The file's columns (CSV header) or keys (JSON) are :data:`IMPORT_COLUMNS`.  A row is stored,
    counted as a duplicate of a stored observation, or rejected (``rejections``: ``line``,
    ``reason``); nothing raises for a bad row.  Blank lines are not rows.
    """
    p = Path(path)
    fmt, records = _records(p)
    report = ImportReport(path=str(p.resolve()), format=fmt)
    who = added_by or default_user()
    good: list[dict[str, Any]] = []
    for line_no, rec in records:
        report.rows += 1
        if isinstance(rec, str):
            report.rejected.append({"line": line_no, "reason": rec})
            continue
        unknown = sorted(set(rec) - set(IMPORT_COLUMNS))
        if unknown:
            report.rejected.append(
                {
                    "line": line_no,
                    "reason": f"unknown field {unknown[0]!r}; use {', '.join(IMPORT_COLUMNS)}",
                }
            )
            continue
        try:
            inp = ObservationInput(**{k: rec.get(k) for k in IMPORT_COLUMNS})  # type: ignore[arg-type]
            good.append(
                prepare(
                    store,
                    ports,
                    inp,
                    settings,
                    added_by=who,
                    origin=f"{p.name} line {line_no}",
                    base_dir=p.resolve().parent,
                )
            )
        except InputError as exc:
            report.rejected.append({"line": line_no, "reason": exc.reason})
    ids, dups = store_observations(store, good)
    report.stored, report.duplicates, report.obs_ids = len(ids), dups, ids
    return report


# --------------------------------------------------------------------------- reading
def list_observations(
    store: Backend,
    mmsi: int | None = None,
    obs_ids: list[int] | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The stored observations (of one MMSI, or the given ids; observed at or after ``since`` and
    at or before ``until``, naive UTC), in time order, as dicts of the table's columns."""
    where: list[str] = []
    params: list[Any] = []
    if mmsi is not None:
        where.append("mmsi = ?")
        params.append(int(mmsi))
    if since is not None:
        where.append("ts >= ?")
        params.append(since)
    if until is not None:
        where.append("ts <= ?")
        params.append(until)
    if obs_ids is not None:
        where.append("list_contains(?, obs_id)")
        params.append([int(i) for i in obs_ids])
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return store.query(  # type: ignore[no-any-return]
        f"SELECT * FROM observations {clause} ORDER BY ts, obs_id", params
    ).to_pylist()


def observation_json(obs: Mapping[str, Any]) -> dict[str, Any]:
    """An observation as JSON (times ISO-8601 UTC with ``Z``), the keys of ``tumen observe list --json``."""
    out = {k: obs.get(k) for k in OBSERVATIONS_SCHEMA.names}
    for k in ("ts", "added_at"):
        v = out.get(k)
        out[k] = v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v
    return out
