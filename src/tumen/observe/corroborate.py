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

from tumen.detect.ports import Port, ports_cte
from tumen.store.dialect import DUCKDB, Dialect
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
    :class:`tumen.detect.ports.Port`)."""
    return pa.Table.from_pylist(
        [{k: getattr(p, k) for k in PORTS_SCHEMA.names} for p in ports], schema=PORTS_SCHEMA
    )


def ports_values_sql(ports: pa.Table, dialect: Dialect = DUCKDB) -> str:
    """``SELECT name, country, lat, lon, radius_km`` of the watched ports, as literal VALUES
    (:func:`tumen.detect.ports.ports_cte`, the one spelling of a ports CTE)."""
    rows = ports.select(["name", "country", "lat", "lon", "radius_km"]).to_pylist()
    return ports_cte([Port(**{**r, "country": r["country"] or ""}) for r in rows], dialect)


def _km(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return f"({haversine_m(lat1, lon1, lat2, lon2)} / 1000.0)"


#: the fields of one change of an ``identity_change`` event's ``evidence.changes``
_CHANGE_FIELDS = ("field", "old", "new", "old_last_seen", "new_first_seen")

#: the columns :func:`identity_sql` gives, in order
IDENTITY_COLUMNS = (
    "obs_id", "mmsi", "event_id", "outcome", "field", "seen", "old_value", "new_value",
    "old_last_seen", "new_first_seen",
)  # fmt: skip

#: the columns :func:`corroboration_sql` gives, in order
COLUMNS = (
    "obs_id", "mmsi", "event_id", "outcome", "port", "distance_km", "detour_km", "need_h",
    "dark_h", "top_kn", "to_km", "from_km", "to_h", "from_h", "dt_h", "reach_km", "fix_ts",
    "fix_lat", "fix_lon", "field", "seen", "old_value", "new_value", "old_last_seen",
    "new_first_seen",
)  # fmt: skip


def identity_sql(obs: str = "observations", dialect: Dialect = DUCKDB) -> str:
    """The identity-change part of :func:`corroboration_sql`: one row per (observation, event).

    Columns: ``obs_id, mmsi, event_id, outcome, field`` (``name`` or ``imo``), ``seen`` (the value
    the observation states, normalised), ``old_value``, ``new_value``, ``old_last_seen``,
    ``new_first_seen`` (see the module docstring).  ``obs``: the table or query of the observations
    (columns ``obs_id, mmsi, ts, seen_name, seen_imo``).  Spelt in ``dialect`` (DuckDB or Spark).
    """
    from tumen.detect.identity import static_text_sql

    d = dialect
    changes = d.json_records(d.json_fragment("e.evidence", "$.changes"), _CHANGE_FIELDS)
    by_rank = ", ".join(
        f"min_by({c}, judged_rank) AS {c}"
        for c in IDENTITY_COLUMNS
        if c not in ("obs_id", "mmsi", "event_id")
    )
    return f"""
WITH idc AS (
    SELECT event_id, mmsi, c.field AS field, c.old AS old_value, c.new AS new_value,
           CAST(c.old_last_seen AS TIMESTAMP) AS old_last_seen,
           CAST(c.new_first_seen AS TIMESTAMP) AS new_first_seen
    FROM (SELECT e.event_id, e.mmsi, {d.explode(changes)} AS c
          FROM events e WHERE e.type = 'identity' AND e.subtype = 'identity_change') x
),
bounded AS (
    SELECT *, lag(new_first_seen) OVER w AS prev_new, lead(old_last_seen) OVER w AS next_old
    FROM idc WINDOW w AS (PARTITION BY mmsi, field ORDER BY old_last_seen, new_first_seen, event_id)
),
seen AS (
    SELECT obs_id, mmsi, ts, 'name' AS field, {static_text_sql("seen_name", d)} AS seen
    FROM {obs} WHERE seen_name IS NOT NULL
    UNION ALL
    SELECT obs_id, mmsi, ts, 'imo' AS field, CAST(seen_imo AS {d.varchar}) AS seen
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
SELECT obs_id, mmsi, event_id, {by_rank}
FROM (SELECT *, CASE outcome WHEN 'contradicts' THEN 0 WHEN 'confirms' THEN 2 ELSE 4 END
                + CASE field WHEN 'name' THEN 0 ELSE 1 END AS judged_rank
      FROM judged WHERE outcome IS NOT NULL) r
GROUP BY obs_id, mmsi, event_id
"""


def corroboration_sql(
    ports: pa.Table,
    radius_scale: float,
    max_speed_kn: float,
    window_h: float,
    *,
    identity: bool = True,
    dialect: Dialect = DUCKDB,
) -> str:
    """The query behind :func:`corroborations`: one row per (observation, event, outcome).

    Columns (:data:`COLUMNS`): ``obs_id, mmsi, event_id`` (null: the AIS track itself),
    ``outcome``, ``port``, ``distance_km`` (observation to the port / the AIS fix), ``dt_h`` (hours
    between observation and fix), ``reach_km`` (what the vessel could cover in ``dt_h`` plus the
    uncertainty), ``detour_km``, ``need_h``, ``dark_h``, ``to_km``, ``from_km``, ``to_h``,
    ``from_h`` (gaps: the detour through the observation, the hours it needs at ``top_kn``, the
    hours dark; the distances from the last fix and to the next one, and the hours between them
    and the observation), ``top_kn``, ``fix_ts``, ``fix_lat``, ``fix_lon``; identity changes
    (:func:`identity_sql`): ``field``, ``seen``, ``old_value``, ``new_value``, ``old_last_seen``,
    ``new_first_seen`` (null on the other rows).

    ``identity``: include the identity-change rows (false for a store whose ``observations``
    table predates columns ``seen_name``/``seen_imo`` and is opened read-only).  ``dialect``: the
    engine's spelling (:mod:`tumen.store.dialect`; ``tumen risk --engine spark`` runs it on Spark).
    """
    d = dialect
    s = d.varchar
    d_port = _km("o.lat", "o.lon", "p.lat", "p.lon")
    d_fix = _km("o.lat", "o.lon", "q.lat", "q.lon")
    d_a = _km("i.a_lat", "i.a_lon", "i.lat", "i.lon")
    d_b = _km("i.lat", "i.lon", "i.b_lat", "i.b_lon")
    kmh = float(max_speed_kn) * KM_PER_NMI
    win_us = round(float(window_h) * 3600.0 * 1e6)

    def num(path: str) -> str:
        return f"CAST({d.json_text('evidence', path)} AS DOUBLE)"

    def hours(a: str, b: str) -> str:
        return f"({d.epoch_s(b)} - {d.epoch_s(a)}) / 3600.0"

    def nulls(cols: str, type_: str) -> str:
        return ", ".join(f"CAST(NULL AS {type_}) AS {c}" for c in cols.split())

    cands = d.json_records("i.cands", ("port", "detour_km"))
    parts = ["confirms", "gap_outcomes", "ais_outcomes"]
    identity_cte = ""
    if identity:
        identity_cte = f""",
identity_outcomes AS ({identity_sql(dialect=d)})"""
        parts.append("identity_outcomes")

    def padded(name: str, has: tuple[str, ...]) -> str:
        """``name`` with every column of :data:`COLUMNS` (those it lacks as typed NULLs)."""
        types = {
            "event_id": s, "outcome": s, "port": s, "field": s, "seen": s, "old_value": s,
            "new_value": s, "fix_ts": "TIMESTAMP", "old_last_seen": "TIMESTAMP",
            "new_first_seen": "TIMESTAMP",
        }  # fmt: skip
        cols = [
            c if c in has else f"CAST(NULL AS {types.get(c, 'DOUBLE')}) AS {c}" for c in COLUMNS
        ]
        return f"(SELECT {', '.join(cols)} FROM {name}) AS {name}_all"

    return f"""
WITH ports AS ({ports_values_sql(ports, d)}),
obs AS (SELECT obs_id, mmsi, ts, lat, lon, uncertainty_km FROM observations),
gaps AS (
    SELECT event_id, mmsi, start, "end",
           {num("$.start_lat")} AS a_lat, {num("$.start_lon")} AS a_lon,
           {num("$.end_lat")} AS b_lat, {num("$.end_lon")} AS b_lon,
           {num("$.top_speed_kn")} AS top_kn,
           {d.json_fragment("evidence", "$.dark_port_candidates")} AS cands
    FROM events WHERE type = 'gap'
),
in_gap AS (
    SELECT o.obs_id, o.mmsi, o.ts, o.lat, o.lon, o.uncertainty_km, g.event_id, g.start, g."end",
           g.a_lat, g.a_lon, g.b_lat, g.b_lon, g.top_kn, g.cands
    FROM obs o JOIN gaps g ON g.mmsi = o.mmsi AND o.ts > g.start AND o.ts < g."end"
),
cand AS (
    SELECT obs_id, event_id, item.port AS port, CAST(item.detour_km AS DOUBLE) AS detour_km
    FROM (SELECT i.obs_id, i.event_id, {d.explode(cands)} AS item FROM in_gap i) x
),
confirms AS (
    SELECT o.obs_id, o.mmsi, c.event_id, 'confirms' AS outcome, c.port,
           {d_port} AS distance_km, c.detour_km,
           {hours("i.start", 'i."end"')} AS dark_h, i.top_kn
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
           {hours("i.start", "i.ts")} AS to_h,
           {hours("i.ts", 'i."end"')} AS from_h,
           {hours("i.start", 'i."end"')} AS dark_h, i.top_kn
    FROM in_gap i
    WHERE i.a_lat IS NOT NULL AND i.b_lat IS NOT NULL AND i.top_kn > 0
      AND NOT EXISTS (SELECT 1 FROM confirms k
                      WHERE k.obs_id = i.obs_id AND k.event_id = i.event_id)
),
gap_outcomes AS (
    SELECT obs_id, mmsi, event_id,
           CASE WHEN to_km / (top_kn * {KM_PER_NMI}) > to_h OR from_km / (top_kn * {KM_PER_NMI}) > from_h
                THEN 'contradicts' ELSE 'consistent' END AS outcome,
           to_km + from_km AS detour_km, (to_km + from_km) / (top_kn * {KM_PER_NMI}) AS need_h,
           dark_h, top_kn, to_km, from_km, to_h, from_h
    FROM gap_place
),
fixes AS (
    SELECT o.obs_id, o.mmsi, q.ts AS fix_ts, q.lat AS fix_lat, q.lon AS fix_lon,
           {d_fix} AS distance_km,
           abs({d.epoch_s("q.ts")} - {d.epoch_s("o.ts")}) / 3600.0 AS dt_h,
           abs({d.epoch_s("q.ts")} - {d.epoch_s("o.ts")}) / 3600.0 * {kmh!r} + o.uncertainty_km AS reach_km
    FROM obs o JOIN positions q
      ON q.mmsi = o.mmsi AND q.ts IS NOT NULL AND q.lat IS NOT NULL AND q.lon IS NOT NULL
     AND {d.epoch_us("q.ts")} BETWEEN {d.epoch_us("o.ts")} - {win_us} AND {d.epoch_us("o.ts")} + {win_us}
),
worst AS (
    SELECT obs_id, mmsi,
           max_by(fix_ts, distance_km - reach_km) AS fix_ts,
           max_by(fix_lat, distance_km - reach_km) AS fix_lat,
           max_by(fix_lon, distance_km - reach_km) AS fix_lon,
           max_by(distance_km, distance_km - reach_km) AS distance_km,
           max_by(dt_h, distance_km - reach_km) AS dt_h,
           max_by(reach_km, distance_km - reach_km) AS reach_km
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
    SELECT w.obs_id, w.mmsi, s.event_id, 'contradicts' AS outcome,
           w.distance_km, w.dt_h, w.reach_km, w.fix_ts, w.fix_lat, w.fix_lon
    FROM worst w LEFT JOIN spoof s ON s.obs_id = w.obs_id
){identity_cte}
SELECT {", ".join(COLUMNS)}
FROM ({" UNION ALL ".join(f"SELECT * FROM {padded(name, _HAS[name])}" for name in parts)}) AS outcomes
ORDER BY obs_id, outcome, event_id NULLS LAST
"""


#: the columns of :data:`COLUMNS` each part of :func:`corroboration_sql` computes
_HAS: dict[str, tuple[str, ...]] = {
    "confirms": (
        "obs_id", "mmsi", "event_id", "outcome", "port", "distance_km", "detour_km", "dark_h",
        "top_kn",
    ),
    "gap_outcomes": (
        "obs_id", "mmsi", "event_id", "outcome", "detour_km", "need_h", "dark_h", "top_kn",
        "to_km", "from_km", "to_h", "from_h",
    ),
    "ais_outcomes": (
        "obs_id", "mmsi", "event_id", "outcome", "distance_km", "dt_h", "reach_km", "fix_ts",
        "fix_lat", "fix_lon",
    ),
    "identity_outcomes": IDENTITY_COLUMNS,
}  # fmt: skip


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
