"""Corroboration: what each observation says about the events detected from AIS.

A step of its own over tables ``observations``, ``events`` and ``positions`` (one SQL query, no
table written): the detectors are not changed, and the answer is always that of the current
events and observations.  Three outcomes, each with the figures behind it:

``confirms``
    The observation lies at a watched port (within the port's circle, ``radius_km ×
    detect.port_visits.radius_scale``, plus the observation's ``uncertainty_km``) strictly inside
    an AIS gap of the same vessel, and that port is one of the gap's ``dark_port_candidates``
    (:mod:`tumen.detect.gaps`): the dark port call the gap allowed is confirmed ("confirmed by
    observation 3: imagery, <source>").

``contradicts``
    Either (a) an AIS fix of the vessel within ``observe.window_h`` hours of the observation lies
    farther from it than the vessel could sail in the time between them at ``observe.max_speed_kn``
    (plus the observation's uncertainty): one of the two places is false — a spoofed position
    (the event is the ``position_jump`` or ``mmsi_conflict`` whose time span holds that fix, if
    any, else the AIS track itself, event null), or the identity claim (the MMSI broadcasting this
    name or IMO is not the ship observed); or (b) the observation lies inside an AIS gap at a
    place the vessel could not have reached from the last fix before the gap by the time of the
    observation, or could not have left in time to reach the first fix after it, at the gap's top
    speed (``evidence.top_speed_kn``; less the observation's uncertainty).

``consistent``
    Inside an AIS gap, not at a candidate port, but reachable: it places the dark vessel there.

The same three outcomes for an ``identity_change`` event (:mod:`tumen.detect.identity`: the name
or IMO number in the static reports of an MMSI changed from ``old`` to ``new``, last report of the
old value at ``old_last_seen``, first of the new at ``new_first_seen``) and an observation of that
MMSI stating an identity (``seen_name`` / ``seen_imo``, :mod:`tumen.observe.ledger`; names compared
as identity events compare them, :func:`tumen.detect.identity.static_text_sql`) equal to the old or
the new value, at a time after the field's previous change and before its next one:

- at or after ``new_first_seen``: the new value ``confirms`` the change (the ship bears the name
  its AIS took); the old value ``contradicts`` it (the ship still bears the old one: the AIS
  broadcasts an identity the ship does not bear, or the observation is of another vessel of that
  name);
- at or before ``old_last_seen``: the new value ``contradicts`` it (the ship bore the new identity
  while its AIS still broadcast the old one); the old value tells nothing the AIS did not and is
  not attached;
- in between: either value is ``consistent`` (it dates the change).

When an observation states both a name and an IMO that bear on one event, ``contradicts`` wins over
``confirms`` over ``consistent``; the columns ``field``, ``seen``, ``old_value``, ``new_value``,
``old_last_seen``, ``new_first_seen`` are those of the deciding field.

Distances are great-circle (:mod:`tumen.tracks.geo`), km; times UTC; speeds knots.
Source: the Panel of Experts' method of setting sightings against AIS (S/2019/171 §§ 30–40;
S/2024/215, annex on the Rajin–Dunai shuttles).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tumen.tracks.geo import haversine_m

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

KM_PER_NMI = 1.852
OUTCOMES = ("confirms", "contradicts", "consistent")


#: columns of a watched-ports table as the corroboration query reads it
PORTS_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("country", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("radius_km", pa.float64()),
    ]
)


def ports_table(ports: Sequence[Any]) -> pa.Table:
    """A ports table from records with attributes ``name, country, lat, lon, radius_km`` (e.g.
    :class:`tumen.risk.signals.Port`, which later layers hold)."""
    return pa.Table.from_pylist(
        [{k: getattr(p, k) for k in PORTS_SCHEMA.names} for p in ports], schema=PORTS_SCHEMA
    )


def _q(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def ports_values_sql(ports: pa.Table) -> str:
    """``SELECT name, country, lat, lon, radius_km`` of the watched ports, as literal VALUES."""
    rows = ports.select(["name", "country", "lat", "lon", "radius_km"]).to_pylist()
    if not rows:
        return (
            "SELECT CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS country, CAST(NULL AS DOUBLE) AS lat, "
            "CAST(NULL AS DOUBLE) AS lon, CAST(NULL AS DOUBLE) AS radius_km WHERE false"
        )
    values = ", ".join(
        f"({_q(r['name'])}, {_q(r['country'] or '')}, {float(r['lat'])!r}, {float(r['lon'])!r}, {float(r['radius_km'])!r})"
        for r in rows
    )
    return f"SELECT * FROM (VALUES {values}) AS t(name, country, lat, lon, radius_km)"


def _km(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return f"({haversine_m(lat1, lon1, lat2, lon2)} / 1000.0)"


def identity_sql(obs: str = "observations") -> str:
    """The identity-change part of :func:`corroboration_sql`: one row per (observation, event).

    Columns: ``obs_id, mmsi, event_id, outcome, field`` (``name`` or ``imo``), ``seen`` (the value
    the observation states, normalised), ``old_value``, ``new_value``, ``old_last_seen``,
    ``new_first_seen`` (see the module docstring).  ``obs``: the table or query of the observations
    (columns ``obs_id, mmsi, ts, seen_name, seen_imo``).
    """
    from tumen.detect.identity import static_text_sql

    return f"""
WITH idc AS (
    SELECT e.event_id, e.mmsi,
           json_extract_string(c.c, '$.field') AS field,
           json_extract_string(c.c, '$.old') AS old_value,
           json_extract_string(c.c, '$.new') AS new_value,
           CAST(json_extract_string(c.c, '$.old_last_seen') AS TIMESTAMP) AS old_last_seen,
           CAST(json_extract_string(c.c, '$.new_first_seen') AS TIMESTAMP) AS new_first_seen
    FROM events e,
         unnest(coalesce(CAST(json_extract(e.evidence, '$.changes') AS JSON[]), [])) AS c(c)
    WHERE e.type = 'identity' AND e.subtype = 'identity_change'
),
bounded AS (
    SELECT *, lag(new_first_seen) OVER w AS prev_new, lead(old_last_seen) OVER w AS next_old
    FROM idc WINDOW w AS (PARTITION BY mmsi, field ORDER BY old_last_seen, new_first_seen, event_id)
),
seen AS (
    SELECT obs_id, mmsi, ts, 'name' AS field, {static_text_sql("seen_name")} AS seen
    FROM {obs} WHERE seen_name IS NOT NULL
    UNION ALL
    SELECT obs_id, mmsi, ts, 'imo' AS field, CAST(seen_imo AS VARCHAR) AS seen
    FROM {obs} WHERE seen_imo IS NOT NULL
),
judged AS (
    SELECT s.obs_id, s.mmsi, b.event_id, b.field, s.seen, b.old_value, b.new_value,
           b.old_last_seen, b.new_first_seen,
           CASE WHEN s.ts >= b.new_first_seen
                THEN CASE WHEN s.seen = b.new_value THEN 'confirms' ELSE 'contradicts' END
                WHEN s.ts <= b.old_last_seen
                THEN CASE WHEN s.seen = b.new_value THEN 'contradicts' END
                ELSE 'consistent' END AS outcome
    FROM seen s JOIN bounded b
      ON b.mmsi = s.mmsi AND b.field = s.field AND s.seen IN (b.old_value, b.new_value)
     AND (b.prev_new IS NULL OR s.ts > b.prev_new) AND (b.next_old IS NULL OR s.ts < b.next_old)
)
SELECT obs_id, mmsi, event_id,
       arg_min(outcome, rank) AS outcome, arg_min(field, rank) AS field, arg_min(seen, rank) AS seen,
       arg_min(old_value, rank) AS old_value, arg_min(new_value, rank) AS new_value,
       arg_min(old_last_seen, rank) AS old_last_seen, arg_min(new_first_seen, rank) AS new_first_seen
FROM (SELECT *, CASE outcome WHEN 'contradicts' THEN 0 WHEN 'confirms' THEN 2 ELSE 4 END
                + CASE field WHEN 'name' THEN 0 ELSE 1 END AS rank
      FROM judged WHERE outcome IS NOT NULL)
GROUP BY obs_id, mmsi, event_id
"""


def corroboration_sql(
    ports: pa.Table,
    radius_scale: float,
    max_speed_kn: float,
    window_h: float,
    *,
    identity: bool = True,
) -> str:
    """The query behind :func:`corroborations`: one row per (observation, event, outcome).

    Columns: ``obs_id, mmsi, event_id`` (null: the AIS track itself), ``outcome``, ``port``,
    ``distance_km`` (observation to the port / the AIS fix), ``dt_h`` (hours between observation
    and fix), ``reach_km`` (what the vessel could cover in ``dt_h`` plus the uncertainty),
    ``detour_km``, ``need_h``, ``dark_h``, ``to_km``, ``from_km``, ``to_h``, ``from_h`` (gaps: the
    detour through the observation, the hours it needs at ``top_kn``, the hours dark; the distances
    from the last fix and to the next one, and the hours between them and the observation), ``top_kn``, ``fix_ts``, ``fix_lat``, ``fix_lon``;
    identity changes (:func:`identity_sql`): ``field``, ``seen``, ``old_value``, ``new_value``,
    ``old_last_seen``, ``new_first_seen`` (null on the other rows).

    ``identity``: include the identity-change rows (false for a store whose ``observations``
    table predates columns ``seen_name``/``seen_imo`` and is opened read-only).
    """
    d_port = _km("o.lat", "o.lon", "p.lat", "p.lon")
    d_fix = _km("o.lat", "o.lon", "q.lat", "q.lon")
    d_a = _km("i.a_lat", "i.a_lon", "i.lat", "i.lon")
    d_b = _km("i.lat", "i.lon", "i.b_lat", "i.b_lon")
    kmh = float(max_speed_kn) * KM_PER_NMI
    win_s = float(window_h) * 3600.0
    null_cols = (
        "CAST(NULL AS DOUBLE) AS dt_h, CAST(NULL AS DOUBLE) AS reach_km, "
        "CAST(NULL AS TIMESTAMP) AS fix_ts, CAST(NULL AS DOUBLE) AS fix_lat, CAST(NULL AS DOUBLE) AS fix_lon"
    )
    id_cols = (
        "CAST(NULL AS VARCHAR) AS field, CAST(NULL AS VARCHAR) AS seen, "
        "CAST(NULL AS VARCHAR) AS old_value, CAST(NULL AS VARCHAR) AS new_value, "
        "CAST(NULL AS TIMESTAMP) AS old_last_seen, CAST(NULL AS TIMESTAMP) AS new_first_seen"
    )
    id_part = (
        f"""
      UNION ALL BY NAME SELECT *, CAST(NULL AS VARCHAR) AS port FROM ({identity_sql()}) AS ids"""
        if identity
        else ""
    )
    return f"""
WITH ports AS ({ports_values_sql(ports)}),
obs AS (SELECT obs_id, mmsi, ts, lat, lon, uncertainty_km FROM observations),
gaps AS (
    SELECT event_id, mmsi, start, "end",
           CAST(json_extract(evidence, '$.start_lat') AS DOUBLE) AS a_lat,
           CAST(json_extract(evidence, '$.start_lon') AS DOUBLE) AS a_lon,
           CAST(json_extract(evidence, '$.end_lat') AS DOUBLE) AS b_lat,
           CAST(json_extract(evidence, '$.end_lon') AS DOUBLE) AS b_lon,
           CAST(json_extract(evidence, '$.top_speed_kn') AS DOUBLE) AS top_kn,
           coalesce(CAST(json_extract(evidence, '$.dark_port_candidates') AS JSON[]), []) AS cands
    FROM events WHERE type = 'gap'
),
in_gap AS (
    SELECT o.obs_id, o.mmsi, o.ts, o.lat, o.lon, o.uncertainty_km, g.event_id, g.start, g."end",
           g.a_lat, g.a_lon, g.b_lat, g.b_lon, g.top_kn, g.cands
    FROM obs o JOIN gaps g ON g.mmsi = o.mmsi AND o.ts > g.start AND o.ts < g."end"
),
cand AS (
    SELECT i.obs_id, i.event_id,
           coalesce(json_extract_string(c.c, '$.port'), json_extract_string(c.c, '$')) AS port,
           CAST(json_extract(c.c, '$.detour_km') AS DOUBLE) AS detour_km
    FROM in_gap i, unnest(i.cands) AS c(c)
),
confirms AS (
    SELECT o.obs_id, o.mmsi, c.event_id, 'confirms' AS outcome, c.port,
           {d_port} AS distance_km, c.detour_km,
           CAST(NULL AS DOUBLE) AS need_h,
           (epoch(i."end") - epoch(i.start)) / 3600.0 AS dark_h, i.top_kn, {null_cols}
    FROM cand c
    JOIN in_gap i ON i.obs_id = c.obs_id AND i.event_id = c.event_id
    JOIN obs o ON o.obs_id = c.obs_id
    JOIN ports p ON p.name = c.port
    WHERE {d_port} <= p.radius_km * {float(radius_scale)!r} + o.uncertainty_km
),
gap_place AS (
    SELECT i.obs_id, i.mmsi, i.event_id,
           greatest(0.0, {d_a} - i.uncertainty_km) AS to_km,
           greatest(0.0, {d_b} - i.uncertainty_km) AS from_km,
           (epoch(i.ts) - epoch(i.start)) / 3600.0 AS to_h,
           (epoch(i."end") - epoch(i.ts)) / 3600.0 AS from_h,
           (epoch(i."end") - epoch(i.start)) / 3600.0 AS dark_h, i.top_kn
    FROM in_gap i
    WHERE i.a_lat IS NOT NULL AND i.b_lat IS NOT NULL AND i.top_kn > 0
      AND (i.obs_id, i.event_id) NOT IN (SELECT obs_id, event_id FROM confirms)
),
gap_outcomes AS (
    SELECT obs_id, mmsi, event_id,
           CASE WHEN to_km / (top_kn * {KM_PER_NMI}) > to_h OR from_km / (top_kn * {KM_PER_NMI}) > from_h
                THEN 'contradicts' ELSE 'consistent' END AS outcome,
           CAST(NULL AS VARCHAR) AS port, CAST(NULL AS DOUBLE) AS distance_km,
           to_km + from_km AS detour_km, (to_km + from_km) / (top_kn * {KM_PER_NMI}) AS need_h,
           dark_h, top_kn, to_km, from_km, to_h, from_h, {null_cols}
    FROM gap_place
),
fixes AS (
    SELECT o.obs_id, o.mmsi, q.ts AS fix_ts, q.lat AS fix_lat, q.lon AS fix_lon,
           {d_fix} AS distance_km,
           abs(epoch(q.ts) - epoch(o.ts)) / 3600.0 AS dt_h,
           abs(epoch(q.ts) - epoch(o.ts)) / 3600.0 * {kmh!r} + o.uncertainty_km AS reach_km
    FROM obs o JOIN positions q
      ON q.mmsi = o.mmsi AND q.ts IS NOT NULL AND q.lat IS NOT NULL AND q.lon IS NOT NULL
     AND q.ts BETWEEN o.ts - to_microseconds(CAST({win_s * 1e6!r} AS BIGINT))
                  AND o.ts + to_microseconds(CAST({win_s * 1e6!r} AS BIGINT))
),
worst AS (
    SELECT obs_id, mmsi,
           arg_max(fix_ts, distance_km - reach_km) AS fix_ts,
           arg_max(fix_lat, distance_km - reach_km) AS fix_lat,
           arg_max(fix_lon, distance_km - reach_km) AS fix_lon,
           arg_max(distance_km, distance_km - reach_km) AS distance_km,
           arg_max(dt_h, distance_km - reach_km) AS dt_h,
           arg_max(reach_km, distance_km - reach_km) AS reach_km
    FROM fixes WHERE distance_km > reach_km
    GROUP BY obs_id, mmsi
),
spoof AS (
    SELECT w.obs_id, e.event_id
    FROM worst w JOIN events e
      ON e.mmsi = w.mmsi AND e.type = 'identity' AND e.subtype IN ('position_jump', 'mmsi_conflict')
     AND w.fix_ts BETWEEN e.start AND e."end"
),
ais_outcomes AS (
    SELECT w.obs_id, w.mmsi, s.event_id, 'contradicts' AS outcome, CAST(NULL AS VARCHAR) AS port,
           w.distance_km, CAST(NULL AS DOUBLE) AS detour_km, CAST(NULL AS DOUBLE) AS need_h,
           CAST(NULL AS DOUBLE) AS dark_h, CAST(NULL AS DOUBLE) AS top_kn,
           w.dt_h, w.reach_km, w.fix_ts, w.fix_lat, w.fix_lon
    FROM worst w LEFT JOIN spoof s ON s.obs_id = w.obs_id
)
SELECT obs_id, mmsi, event_id, outcome, port, distance_km, detour_km, need_h, dark_h, top_kn,
       to_km, from_km, to_h, from_h, dt_h, reach_km, fix_ts, fix_lat, fix_lon,
       field, seen, old_value, new_value, old_last_seen, new_first_seen
FROM (SELECT *, {id_cols} FROM confirms UNION ALL BY NAME SELECT * FROM gap_outcomes
      UNION ALL BY NAME SELECT * FROM ais_outcomes{id_part})
ORDER BY obs_id, outcome, event_id NULLS LAST
"""


def _fmt_ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else "?"


def explain(c: dict[str, Any], obs: dict[str, Any]) -> str:
    """One sentence saying what the observation shows about the event, with the figures."""
    who = f"observation {obs['obs_id']}: {obs['kind']}, {obs['source']}"
    at = f"{obs['lat']:.4f}, {obs['lon']:.4f}" + (f" ({obs['port']})" if obs.get("port") else "")
    if c.get("field"):
        return _explain_identity(c, obs, who, at)
    if c["outcome"] == "confirms":
        return (
            f"dark port call at {c['port']} confirmed by {who}: the vessel was seen at {c['port']} on "
            f"{_fmt_ts(obs['ts'])}, {c['distance_km']:.1f} km from the port, while its AIS was silent "
            f"for {c['dark_h']:.1f} h; the gap allowed a call there (detour {c['detour_km']:.0f} km)"
        )
    if c["fix_ts"] is not None:
        what = (
            "the AIS position is false (spoofed or another transmitter on this MMSI)"
            if c["event_id"]
            else "either the AIS position is false, or the ship observed is not the one this MMSI "
            "claims to be"
        )
        return (
            f"contradicted by {who}: seen at {at} on {_fmt_ts(obs['ts'])}, {c['distance_km']:.1f} km "
            f"from the AIS fix of {_fmt_ts(c['fix_ts'])} ({c['dt_h'] * 60:.0f} min apart), farther than "
            f"the {c['reach_km']:.1f} km it could cover in that time at the assumed top speed: {what}"
        )
    if c["outcome"] == "contradicts":
        return (
            f"contradicted by {who}: seen at {at} on {_fmt_ts(obs['ts'])} during the gap, "
            f"{c['to_km']:.0f} km from where the vessel went dark {c['to_h']:.1f} h before and "
            f"{c['from_km']:.0f} km from where it reappeared {c['from_h']:.1f} h after; at its top speed "
            f"of {c['top_kn']:.1f} kn it could not have been there: the ship observed is not the one "
            "that went dark (a false identity), or the observation is misattributed"
        )
    return (
        f"located by {who}: seen at {at} on {_fmt_ts(obs['ts'])} while its AIS was silent; reachable "
        f"within the gap ({c['detour_km']:.0f} km detour, {c['need_h']:.1f} h of {c['dark_h']:.1f} h "
        "at its top speed)"
    )


def _explain_identity(c: dict[str, Any], obs: dict[str, Any], who: str, at: str) -> str:
    what = "name" if c["field"] == "name" else "IMO number"
    old, new, seen = c["old_value"], c["new_value"], c["seen"]
    change = (
        f"its AIS changed {what} from {old} to {new} (last {old} {_fmt_ts(c['old_last_seen'])}, "
        f"first {new} {_fmt_ts(c['new_first_seen'])})"
    )
    seen_at = f"seen at {at} on {_fmt_ts(obs['ts'])} as {seen}"
    if c["outcome"] == "confirms":
        return f"{what} change confirmed by {who}: {seen_at}, the new {what}, after {change}"
    if c["outcome"] == "contradicts" and seen == old:
        return (
            f"contradicted by {who}: {seen_at}, the old {what}, after {change}: the ship does not "
            f"bear the identity its AIS broadcasts, or the observation is of another vessel {seen}"
        )
    if c["outcome"] == "contradicts":
        return (
            f"contradicted by {who}: {seen_at}, the new {what}, before {change}: the ship bore the "
            f"new identity while its AIS still broadcast the old one, or the observation is of "
            f"another vessel {seen}"
        )
    state = ("already" if seen == new else "not yet") + (
        " renamed" if c["field"] == "name" else " changed"
    )
    return (
        f"dated by {who}: {seen_at}, between the last AIS report of {what} {old} and the first of "
        f"{new} ({_fmt_ts(c['old_last_seen'])} – {_fmt_ts(c['new_first_seen'])}): {state} then"
    )


def states_identity(store: Backend) -> bool:
    """Whether table ``observations`` has columns ``seen_name`` and ``seen_imo`` (a store written
    before them is upgraded on its next write, not when opened read-only): the ``identity``
    argument of :func:`corroboration_sql`."""
    columns = store.query("SELECT * FROM observations LIMIT 0").column_names
    return "seen_name" in columns and "seen_imo" in columns


def corroborations(
    store: Backend, settings: Settings, ports: pa.Table | None = None
) -> list[dict[str, Any]]:
    """Every corroboration in the store: the rows of :func:`corroboration_sql` plus the
    observation's ``kind``, ``source``, ``confidence``, ``obs_ts`` and an ``explanation``.

    ``ports``: the watched ports (default: those detection used,
    :func:`tumen.detect.ports.ports_detection_used`).
    """
    if not store.table_exists("observations"):
        return []
    n = store.query("SELECT count(*) AS n FROM observations").column("n")[0].as_py()
    if not n:
        return []
    if ports is None:
        from tumen.detect.ports import ports_detection_used

        ports = ports_detection_used(store, settings.ports)
    params = settings.observe
    rows = store.query(
        corroboration_sql(
            ports,
            settings.detect.port_visits.radius_scale,
            params.max_speed_kn,
            params.window_h,
            identity=states_identity(store),
        )
    ).to_pylist()
    if not rows:
        return []
    obs = {
        o["obs_id"]: o
        for o in store.query(
            "SELECT * FROM observations WHERE list_contains(?, obs_id)",
            [sorted({r["obs_id"] for r in rows})],
        ).to_pylist()
    }
    out = []
    for r in rows:
        o = obs[r["obs_id"]]
        out.append(
            {
                **r,
                "kind": o["kind"],
                "source": o["source"],
                "confidence": o["confidence"],
                "obs_ts": o["ts"],
                "explanation": explain(r, o),
            }
        )
    return out


def by_event(corrs: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Corroborations grouped by ``event_id`` (those about the AIS track itself under ``""``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for c in corrs:
        out.setdefault(c["event_id"] or "", []).append(c)
    return out


def event_json(c: dict[str, Any]) -> dict[str, Any]:
    """A corroboration as the ``corroboration`` list of an event's JSON carries it."""
    return {
        "obs_id": c["obs_id"],
        "outcome": c["outcome"],
        "kind": c["kind"],
        "source": c["source"],
        "confidence": c["confidence"],
        "port": c["port"],
        "explanation": c["explanation"],
    }


def attach(records: Sequence[dict[str, Any]], corrs: Sequence[dict[str, Any]]) -> None:
    """Add key ``corroboration`` (a list, empty when none) to each event record, in place."""
    grouped = by_event(corrs)
    for rec in records:
        rec["corroboration"] = [event_json(c) for c in grouped.get(rec["event_id"], [])]
