"""Watched ports: loading the ports file and placing it in the store for the detectors.

The bundled list (``tumen/data/ports.csv``, documented in ``tumen/data/PORTS.md``) holds the North
Korean and Russian Far East ports of the issue; ``--ports FILE.csv`` replaces it with any CSV whose
header has at least ``name,country,lat,lon,radius_km`` (other columns are kept but unused).

``tumen detect`` records the ports it used in the store (``meta`` key :data:`PORTS_META_KEY`:
path, SHA-256 and the rows); ``tumen risk``, ``report`` and ``export`` read that record
(:func:`ports_detection_used`) rather than the settings, so their findings rest on the same ports
as the events, and refuse with one line when asked for a different file.

A fix is *in* a port when its great-circle distance to the port's position is at most
``radius_km × detect.port_visits.radius_scale``; where circles overlap, the port with the nearest
position wins.  A fix's *distance from port* is its distance to the nearest port position
(used by the encounter and loitering "at least 10 km from every watched port" rules).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pyarrow as pa

from tumen.errors import InputError
from tumen.provenance import sha256_file
from tumen.store.backend import Backend
from tumen.store.dialect import DUCKDB, Dialect
from tumen.tracks.geo import M_PER_DEG, haversine_m

REQUIRED = ("name", "country", "lat", "lon", "radius_km")
#: ``meta`` key holding the ports the last ``tumen detect`` used: JSON ``{path, sha256, ports}``.
PORTS_META_KEY = "detect.ports"
#: Size of the cells of the port look-up grid (degrees of latitude and of longitude).
CELL_DEG = 0.1


@dataclass(frozen=True)
class Port:
    """A watched port as the later layers (risk signals, corroboration, reports) need it
    (degrees WGS84, km)."""

    name: str
    country: str
    lat: float
    lon: float
    radius_km: float


def ports_cte(ports: Sequence[Port], dialect: Dialect = DUCKDB) -> str:
    """A ``ports(name, country, lat, lon, radius_km)`` CTE body from literal VALUES."""
    if not ports:
        s = dialect.varchar
        return (
            f"SELECT CAST(NULL AS {s}) AS name, CAST(NULL AS {s}) AS country, "
            "CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, CAST(NULL AS DOUBLE) AS radius_km "
            "WHERE false"
        )
    rows = ", ".join(
        f"({dialect.string_literal(p.name)}, {dialect.string_literal(p.country.upper())}, "
        f"CAST({float(p.lat)!r} AS DOUBLE), CAST({float(p.lon)!r} AS DOUBLE), "
        f"CAST({float(p.radius_km)!r} AS DOUBLE))"
        for p in ports
    )
    return f"SELECT * FROM (VALUES {rows}) AS t(name, country, lat, lon, radius_km)"


def bundled_ports_path() -> Path:
    """Path of the ports file shipped with tumen."""
    return Path(str(resources.files("tumen.data").joinpath("ports.csv")))


def load_ports(path: str | Path | None = None) -> pa.Table:
    """Read and check a ports CSV; returns an Arrow table.

    Columns: ``name`` (str), ``country`` (ISO 3166 alpha-2), ``lat``/``lon`` (WGS84 degrees),
    ``radius_km`` (km, > 0), then ``locode``, ``aliases``, ``source`` when present (else null).

    Raises
    ------
    InputError
        Naming the file and line, when the file is missing or cannot be read (a directory, no
        permission), lacks a required column, or a value is not a number in range, or a name repeats.

    Examples
    --------
    >>> ports = load_ports()
    >>> "Rajin" in ports.column("name").to_pylist()
    True
    """
    p = Path(path) if path is not None else bundled_ports_path()
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(
            "no such ports file; give a CSV with name,country,lat,lon,radius_km", p
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            "not a UTF-8 text file; give a CSV with name,country,lat,lon,radius_km", p
        ) from None
    except OSError as exc:  # a directory, no permission, an I/O error
        raise InputError(
            f"cannot read the ports file ({exc.strerror or exc}); "
            "give a CSV with name,country,lat,lon,radius_km",
            p,
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"header lacks {', '.join(missing)}; the first line must name at least "
            "name,country,lat,lon,radius_km",
            p,
            1,
        )
    rows: dict[str, list[object]] = {c: [] for c in (*REQUIRED, "locode", "aliases", "source")}
    seen: set[str] = set()
    for line_no, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(rec.values()):
            continue
        name = rec.get("name", "")
        if not name:
            raise InputError("empty port name; give each port a name", p, line_no)
        if name in seen:
            raise InputError(f'port "{name}" appears twice; names must be unique', p, line_no)
        seen.add(name)
        values = {}
        for col, lo, hi, unit in (
            ("lat", -90.0, 90.0, "degrees, e.g. 42.24"),
            ("lon", -180.0, 180.0, "degrees, e.g. 130.30"),
            ("radius_km", 1e-6, 500.0, "kilometres, e.g. 5.0"),
        ):
            try:
                value = float(rec.get(col, ""))
            except ValueError:
                raise InputError(
                    f'{col} "{rec.get(col, "")}" is not a number; give {unit}', p, line_no
                ) from None
            if not (lo <= value <= hi) or math.isnan(value):
                raise InputError(
                    f"{col} {value} is out of range [{lo:g}, {hi:g}]; give {unit}", p, line_no
                )
            values[col] = value
        rows["name"].append(name)
        rows["country"].append(rec.get("country", "").upper() or None)
        rows["lat"].append(values["lat"])
        rows["lon"].append(values["lon"])
        rows["radius_km"].append(values["radius_km"])
        for extra in ("locode", "aliases", "source"):
            rows[extra].append(rec.get(extra) or None)
    if not rows["name"]:
        raise InputError("no ports in the file; give at least one row after the header", p)
    return pa.table(rows, schema=PORTS_SCHEMA)


#: Columns of the table :func:`load_ports` returns.
PORTS_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("country", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("radius_km", pa.float64()),
        ("locode", pa.string()),
        ("aliases", pa.string()),
        ("source", pa.string()),
    ]
)


def ports_record(path: str | Path, ports: pa.Table) -> dict[str, object]:
    """What ``tumen detect`` stores under :data:`PORTS_META_KEY`: the file's path, SHA-256 and rows."""
    return {"path": str(path), "sha256": sha256_file(path), "ports": ports.to_pylist()}


def _recorded(store: Backend) -> dict[str, object] | None:
    """The ports record of the last detection, or (stores detected before it was kept) the
    ``{path, sha256}`` the events' parameters cite; ``None`` when nothing was detected."""
    rows = store.query("SELECT value FROM meta WHERE key = ?", [PORTS_META_KEY]).to_pylist()
    if rows:
        rec = json.loads(rows[0]["value"])
        return rec if isinstance(rec, dict) else None
    d = store.dialect
    path, sha = d.json_text("params", "$.ports.path"), d.json_text("params", "$.ports.sha256")
    refs = store.query(
        f"""
        SELECT DISTINCT {path} AS path, {sha} AS sha256
        FROM events WHERE {sha} IS NOT NULL
        """
    ).to_pylist()
    if len(refs) > 1:
        raise InputError(
            "the events were detected with different ports files; run `tumen detect --full` "
            "with the one you want"
        )
    return dict(refs[0]) if refs else None


def ports_detection_used(store: Backend, requested: str | Path | None = None) -> pa.Table:
    """The watched ports the store's events were detected with (an Arrow table as :func:`load_ports`).

    Parameters
    ----------
    store:
        A store ``tumen detect`` has run on (otherwise ``requested`` or the bundled file is read).
    requested:
        A ports CSV the user named (``--ports`` or ``ports`` in the settings).  It must be the file
        detection used (same SHA-256); ``None`` means "whatever detection used".

    Raises
    ------
    InputError
        One line, when ``requested`` differs from the file detection used, or when detection's file
        has since changed or vanished and the store holds no copy of its rows.
    """
    rec = _recorded(store)
    if rec is None:
        return load_ports(requested)
    used, digest = str(rec.get("path")), str(rec.get("sha256"))
    if requested is not None:
        try:
            same = sha256_file(requested) == digest
        except OSError:
            load_ports(requested)  # raises the one-line "cannot read" error
            raise
        if not same:
            raise InputError(
                f"not the ports file the events were detected with ({used}, SHA-256 {digest[:12]}…); "
                f"run `tumen detect --ports {requested}` first, or leave --ports out",
                requested,
            )
    if isinstance(rec.get("ports"), list):
        return pa.Table.from_pylist(rec["ports"], schema=PORTS_SCHEMA)
    path = Path(used)
    if not path.is_file():
        raise InputError(
            "the ports file the events were detected with is gone; restore it, or run "
            "`tumen detect --full --ports FILE` again",
            path,
        )
    if sha256_file(path) != digest:
        raise InputError(
            f"the ports file changed since the events were detected (SHA-256 was {digest[:12]}…); "
            "restore it, or run `tumen detect --full` again",
            path,
        )
    return load_ports(path)


def register_ports(store: Backend, ports: pa.Table, reach_km: float) -> None:
    """Create the temporary tables ``_ports``, ``_port_cells`` and ``_port_keys`` used by the detectors.

    ``_port_cells`` has one row per cell of a 0.1° × 0.1° grid (``cy = floor(lat × 10)``,
    ``cx = floor((lon + 180) × 10) mod 3600``) and port whose position lies within ``reach_km`` of
    some point of the cell, so a fix needs one equality join to find the ports it may be in or near;
    ``_port_keys`` lists those cells once.  ``reach_km`` must cover every radius and every
    "distance from port" rule.
    """
    d = store.dialect
    table = pa.table(
        {
            "idx": pa.array(range(ports.num_rows), pa.int32()),
            "name": pa.array(ports.column("name").to_pylist(), pa.string()),
            "country": pa.array(ports.column("country").to_pylist(), pa.string()),
            "lat": pa.array(ports.column("lat").to_pylist(), pa.float64()),
            "lon": pa.array(ports.column("lon").to_pylist(), pa.float64()),
            "radius_m": pa.array(
                [r * 1000.0 for r in ports.column("radius_km").to_pylist()], pa.float64()
            ),
        }
    )
    store.materialise("_ports", table)
    reach_m = reach_km * 1000.0 + 1.0
    dlat = reach_m / M_PER_DEG
    n = round(1 / CELL_DEG)
    cy = d.explode_range(
        f"CAST(floor((lat - {dlat}) * {n}) AS BIGINT)",
        f"CAST(floor((lat + {dlat}) * {n}) AS BIGINT) + 1",
    )
    cx = d.explode_range(
        f"CAST(floor((lon + 180 - dlon) * {n}) AS BIGINT)",
        f"CAST(floor((lon + 180 + dlon) * {n}) AS BIGINT) + 1",
    )
    store.materialise(
        "_port_cells",
        f"""
        WITH p AS (
            SELECT idx, lat, lon,
                   least(180.0, {reach_m} / ({M_PER_DEG} * greatest(0.01,
                       cos(radians(least(89.0, abs(lat) + {dlat})))))) AS dlon
            FROM _ports
        ), py AS (
            SELECT idx, lon, dlon, {cy} AS cy FROM p
        ), pxy AS (
            SELECT idx, cy, {cx} AS cx FROM py
        )
        SELECT DISTINCT cy, ((cx % {360 * n}) + {360 * n}) % {360 * n} AS cx, idx
        FROM pxy
        """,
    )
    store.materialise("_port_keys", "SELECT DISTINCT cy, cx FROM _port_cells")


def cell_keys_sql(lat: str, lon: str) -> tuple[str, str]:
    """SQL expressions ``(cy, cx)`` of the port look-up cell of a point."""
    n = round(1 / CELL_DEG)
    return (
        f"CAST(floor(({lat}) * {n}) AS BIGINT)",
        f"(CAST(floor((({lon}) + 180) * {n}) AS BIGINT) % {360 * n})",
    )


def near_join_sql(alias: str, lat: str, lon: str) -> str:
    """LEFT JOIN clause marking points whose cell holds some port (``{alias}.cy IS NOT NULL``).

    Points outside every such cell are farther than the look-up reach from every port.
    """
    cy, cx = cell_keys_sql(lat, lon)
    return f"LEFT JOIN _port_keys {alias} ON {alias}.cy = {cy} AND {alias}.cx = {cx}"


def port_features_sql(points: str, radius_scale: float) -> str:
    """SELECT giving, for each point of ``points`` (columns ``id, lat, lon``), the watched port it is
    in (``port``, NULL if none; the nearest containing port where circles overlap) and the distance
    in metres to the nearest port position (``port_dist``, NULL when none is within reach)."""
    cy, cx = cell_keys_sql("pt.lat", "pt.lon")
    d = haversine_m("pt.lat", "pt.lon", "q.lat", "q.lon")
    return f"""
        SELECT id, min(d) AS port_dist,
               min_by(name, d) FILTER (WHERE d <= radius_m * {radius_scale}) AS port
        FROM (
            SELECT pt.id, q.name, q.radius_m, {d} AS d
            FROM ({points}) pt
            JOIN _port_cells pc ON pc.cy = {cy} AND pc.cx = {cx}
            JOIN _ports q ON q.idx = pc.idx
        ) c
        GROUP BY id"""
