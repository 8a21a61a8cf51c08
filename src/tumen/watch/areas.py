"""Area crossings: a vessel entering or leaving a GeoJSON polygon or a watched port, batch by batch.

A rule with ``on = "enter" | "leave" | "both"`` watches an *area*: its ``area`` (a GeoJSON
polygon file) or, without one, its ``ports`` (the circles of those watched ports,
``radius_km × detect.port_visits.radius_scale``, as the port visits use).

Definition
----------
Take each vessel's clean positions (:mod:`tumen.tracks.positions`) in the order of their key
``k`` (time, ties broken by content).  A fix is *inside* when the area covers it (the polygon's
boundary counts as inside; for ports: within one of the rule's ports' circles).  A vessel
**enters** at a fix that is inside when the fix before it is not, and **leaves** at a fix that is
not inside when the fix before it is.  The first fix ever heard of a vessel enters nothing (what
was before is unknown).  Every clean fix counts, spoofed excursions too (a ``position_jump`` can
show as a leave and an enter).  The crossing is reported as an event object of the events contract with
``type = "area"``, ``subtype = "enter" | "leave"``, ``start`` the time of the fix before the
crossing (the last one on the other side), ``end`` the first fix on the new side, ``lat``/``lon``
that fix, ``port`` the port entered or left (port areas), and ``evidence``:
``{"detector": "watch.area", "area": <path or "ports">, "position_ids": [before, after],
"before": {"time", "lat", "lon"}}``.

How it runs (set-based): each batch looks only at the clean positions stored since the previous
batch (``pos_id`` above the mark kept in ``meta`` key ``watch.area_mark``, committed with the
batch), each paired with the fix before it — the latest earlier fix of the vessel, wherever it
is in the store, found with one ``arg_max`` per vessel plus the few older rows a late report
falls between.  A polygon is tested only on the pairs with a fix inside its bounding box (a
range test in SQL), then vectorised with :func:`shapely.intersects_xy` over numpy arrays; port
circles are tested in SQL (:func:`tumen.detect.ports.port_features_sql`).  So the same positions
give the same crossings whatever the batches: the alerts of a replay do not depend on where the
feed was cut, and the stable alert id (rule, ``area``, subtype, vessel, start) makes a repeated
crossing alert once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tumen.config import Settings
from tumen.detect.events import iso_z
from tumen.detect.ports import port_features_sql
from tumen.store.backend import Backend
from tumen.tracks.positions import clean_positions_sql
from tumen.watch.rules import Rule

MARK_KEY = "watch.area_mark"
PAIRS_TABLE = "_area_pairs"


def _one(store: Backend, sql: str, params: list[Any] | None = None) -> Any:
    table = store.query(sql, params)
    return table.column(0)[0].as_py() if table.num_rows else None


def area_rules(rules: list[Rule]) -> list[Rule]:
    """The rules that watch crossings (``on`` given)."""
    return [r for r in rules if r.on is not None]


def _pairs(store: Backend, settings: Settings, mark: int) -> int:
    """Write ``_area_pairs``: every clean fix stored after ``mark`` (and every older fix whose
    predecessor is one of them), with the fix before it; returns the row count."""
    clean = clean_positions_sql(settings.detect.segments)
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _area_new AS
        SELECT pos_id, mmsi, ts, lat, lon, k FROM ({clean}) c WHERE pos_id > ?
        """,
        [mark],
    )
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PAIRS_TABLE} AS
        WITH lo AS (SELECT mmsi, min(k) AS k0 FROM _area_new GROUP BY mmsi),
        old AS (
            SELECT c.pos_id, c.mmsi, c.ts, c.lat, c.lon, c.k, lo.k0
            FROM ({clean}) c JOIN lo USING (mmsi) WHERE c.pos_id <= ?
        ),
        before AS (  -- the latest older fix before each vessel's first new one
            SELECT mmsi, arg_max(pos_id, k) AS pos_id, arg_max(ts, k) AS ts,
                   arg_max(lat, k) AS lat, arg_max(lon, k) AS lon, max(k) AS k
            FROM old WHERE k < k0 GROUP BY mmsi
        ),
        ctx AS (
            SELECT pos_id, mmsi, ts, lat, lon, k, TRUE AS new FROM _area_new
            UNION ALL SELECT pos_id, mmsi, ts, lat, lon, k, FALSE FROM before
            UNION ALL SELECT pos_id, mmsi, ts, lat, lon, k, FALSE FROM old WHERE k >= k0
        ),
        w AS (
            SELECT *, lag(struct_pack(pos_id, ts, lat, lon, new)) OVER (PARTITION BY mmsi ORDER BY k) AS p
            FROM ctx
        )
        SELECT mmsi, pos_id, ts, lat, lon, p.pos_id AS p_pos, p.ts AS p_ts, p.lat AS p_lat,
               p.lon AS p_lon
        FROM w WHERE p IS NOT NULL AND (new OR p.new)
        """,
        [mark],
    )
    return int(_one(store, f"SELECT count(*) FROM {PAIRS_TABLE}"))


def _polygon_crossings(store: Backend, rule: Rule) -> list[dict[str, Any]]:
    import numpy as np
    import shapely

    x0, y0, x1, y1 = rule.area.bounds
    box = f"BETWEEN {y0} AND {y1}", f"BETWEEN {x0} AND {x1}"
    table = store.query(
        f"""
        SELECT mmsi, pos_id, ts, lat, lon, p_pos, p_ts, p_lat, p_lon FROM {PAIRS_TABLE}
        WHERE (lat {box[0]} AND lon {box[1]}) OR (p_lat {box[0]} AND p_lon {box[1]})
        ORDER BY mmsi, ts, pos_id
        """
    )
    if not table.num_rows:
        return []
    col = {
        c: table.column(c).to_numpy(zero_copy_only=False) for c in ("lat", "lon", "p_lat", "p_lon")
    }
    now = shapely.intersects_xy(rule.area, col["lon"], col["lat"])
    before = shapely.intersects_xy(rule.area, col["p_lon"], col["p_lat"])
    rows = table.to_pylist()
    out = []
    for i in np.flatnonzero(now != before):
        out.append(_event(rule, rows[int(i)], "enter" if now[i] else "leave", None))
    return out


def _port_crossings(store: Backend, rule: Rule, settings: Settings) -> list[dict[str, Any]]:
    scale = settings.detect.port_visits.radius_scale
    names = sorted(rule.ports)
    feats = port_features_sql(
        f"SELECT pos_id AS id, lat, lon FROM {PAIRS_TABLE} "
        f"UNION SELECT p_pos, p_lat, p_lon FROM {PAIRS_TABLE}",
        scale,
    )
    table = store.query(
        f"""
        WITH f AS (
            SELECT id, CASE WHEN lower(port) IN (SELECT unnest(?)) THEN port END AS port FROM ({feats}) x
        )
        SELECT a.mmsi, a.pos_id, a.ts, a.lat, a.lon, a.p_pos, a.p_ts, a.p_lat, a.p_lon,
               fa.port AS port, fb.port AS p_port
        FROM {PAIRS_TABLE} a
        LEFT JOIN f fa ON fa.id = a.pos_id
        LEFT JOIN f fb ON fb.id = a.p_pos
        WHERE fa.port IS DISTINCT FROM fb.port
        ORDER BY a.mmsi, a.ts, a.pos_id
        """,
        [names],
    )
    out = []
    for r in table.to_pylist():
        if r["p_port"] is not None:  # left a port (maybe straight into another one)
            out.append(_event(rule, r, "leave", r["p_port"]))
        if r["port"] is not None:
            out.append(_event(rule, r, "enter", r["port"]))
    return out


def _event(rule: Rule, r: dict[str, Any], crossing: str, port: str | None) -> dict[str, Any]:
    area = (rule.area_path or "") if rule.area is not None else "ports"
    start = iso_z(r["p_ts"])
    key = "|".join(
        ["area", area, crossing, str(r["mmsi"]), start or "", port or "", str(r["pos_id"])]
    )
    return {
        "event_id": hashlib.sha256(key.encode()).hexdigest()[:20],
        "type": "area",
        "subtype": crossing,
        "mmsi": int(r["mmsi"]),
        "other_mmsi": None,
        "start": start,
        "end": iso_z(r["ts"]),
        "lat": r["lat"],
        "lon": r["lon"],
        "port": port,
        "from_port": None,
        "to_port": None,
        "evidence": {
            "detector": "watch.area",
            "area": area,
            "position_ids": [int(r["p_pos"]), int(r["pos_id"])],
            "before": {"time": start, "lat": r["p_lat"], "lon": r["p_lon"]},
        },
    }


def crossings(
    store: Backend, rules: list[Rule], settings: Settings
) -> list[tuple[Rule, dict[str, Any]]]:
    """The crossings of the positions stored since the last call, per rule with ``on``; moves the
    mark (in the caller's transaction).  Needs the port tables of the detection run for port areas."""
    todo = area_rules(rules)
    if not todo:
        return []
    raw = _one(store, "SELECT value FROM meta WHERE key = ?", [MARK_KEY])
    mark = int(json.loads(raw)) if raw else -1
    top = int(_one(store, "SELECT coalesce(max(pos_id), -1) FROM positions"))
    out: list[tuple[Rule, dict[str, Any]]] = []
    if top > mark and _pairs(store, settings, mark):
        for rule in todo:
            found = (
                _polygon_crossings(store, rule)
                if rule.area is not None
                else _port_crossings(store, rule, settings)
            )
            out.extend((rule, e) for e in found if rule.on in ("both", e["subtype"]))
    store.execute("DELETE FROM meta WHERE key = ?", [MARK_KEY])
    store.execute("INSERT INTO meta VALUES (?, ?)", [MARK_KEY, json.dumps(max(top, mark))])
    return out
