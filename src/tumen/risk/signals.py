"""Risk signals: what makes a vessel worth an analyst's time, each defined once.

A *signal* is one indicator of sanctions evasion between North Korea and Russia,
computed by one SQL query over the store's ``events`` and ``matches`` tables.
Every query returns the same columns, one row per occurrence::

    mmsi       BIGINT   the vessel (as transmitted) the occurrence counts for
    event_id   VARCHAR  the event it rests on (NULL for a list match)
    entity_id  VARCHAR  the listed entity it rests on (NULL for an event)
    value      DOUBLE   1.0 for an event, the match score (0–1) for a list match
    note       VARCHAR  a short human explanation ("Rajin → Dunai", "owner: M LEASING LLC")

:func:`tumen.risk.rank.rank_vessels` turns these rows into points with the
weights of :mod:`tumen.risk.weights`.  The indicators follow the UN Panel of
Experts on DPRK (S/2019/171 §§ 24–60, S/2024/215) and the US advisory
"Sanctions Risks Related to North Korea's Shipping Practices" (OFAC, State,
USCG, 2019-03-21; "North Korea Ship-to-Ship Transfers", 2020-05-14): voyages and
calls to North Korean ports, AIS disabling near them, ship-to-ship transfers,
and identity manipulation (MMSI sharing, spoofing, renaming, false IMO numbers
and flags).

Definitions (distances are great-circle, km, on the sphere of :mod:`tumen.tracks.geo`):

``sanctioned_vessel``
    A designation of the vessel: ``matches`` rows with ``role = 'vessel'`` and
    ``match`` true, counted once per designation (authority and reference, e.g.
    OFAC 37095) however many lists carry it.  Rows keyed only by IMO are attached
    to every MMSI that broadcast that IMO.
``sanctioned_party``
    A designation of a party reached through the ownership graph: ``matches`` rows
    with another role (owner, manager, operator, linked), counted once per
    designation like ``sanctioned_vessel``.
``sanctioned_partner``
    An ``encounter`` whose other vessel has a ``sanctioned_vessel`` match.
``encounter``
    Any ``encounter`` event (both vessels get it).
``encounter_dprk_partner``
    An ``encounter`` whose other vessel transmits with North Korea's MID
    (``mmsi // 1 000 000 = detect.identity.dprk_mid``) or declares flag ``KP``.
``nk_ru_voyage``
    A ``voyage`` whose two ports are a North Korean (``KP``) and a Russian
    (``RU``) watched port, in either direction.
``dprk_port_visit``
    A ``port_visit`` at a North Korean watched port.
``dark_near_port``
    A ``gap`` whose last fix before or first fix after lies within
    ``radius_km + risk.near_port_km`` of a watched port.
``dark_shuttle_route``
    A ``gap`` whose two end fixes both lie within ``risk.corridor_km`` of the
    straight line between one North Korean and one Russian watched port, or
    whose ``evidence.dark_port_candidates`` names a North Korean port (the
    vessel could have called there while dark).
``loitering``
    Any ``loitering`` event.
``observed_dprk_port``
    An observation (:mod:`tumen.observe.ledger`) at a North Korean watched port; value the
    observation's confidence (low 1/3, medium 2/3, high 1), one occurrence per observation.
``observation_confirms_dark_call``
    An observation confirming a dark port call of a ``gap`` (:mod:`tumen.observe.corroborate`,
    outcome ``confirms``); value its confidence.
``observation_contradicts_ais``
    An observation the vessel's AIS contradicts (outcome ``contradicts``: a spoofed position, a
    shared MMSI or a false identity); value its confidence.
``mmsi_conflict``, ``position_jump``, ``identity_change``, ``invalid_imo``, ``flag_mismatch``, ``dprk_mid``
    An ``identity`` event of that subtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from tumen.detect.ports import Port, load_ports, ports_cte, ports_detection_used
from tumen.store.backend import Backend
from tumen.store.dialect import DUCKDB, Dialect
from tumen.tracks.geo import M_PER_DEG, haversine_m

#: Kilometres per degree of latitude on tumen's one sphere (used for short corridor distances).
KM_PER_DEG_LAT = M_PER_DEG / 1000.0


@dataclass(frozen=True)
class SignalContext:
    """What a signal query may depend on besides the store.

    Attributes
    ----------
    ports:
        The watched ports in use (the same file the detectors used).
    near_port_km:
        ``risk.near_port_km`` (km).
    corridor_km:
        ``risk.corridor_km`` (km).
    dprk_mid:
        ``detect.identity.dprk_mid`` (North Korea's Maritime Identification Digits, 445).
    has_matches:
        Whether the store has a ``matches`` table (screening has run).
    dialect:
        The SQL dialect of the store (``store.dialect``) the queries are spelt in.
    """

    ports: Sequence[Port]
    near_port_km: float = 10.0
    corridor_km: float = 30.0
    dprk_mid: int = 445
    has_matches: bool = False
    corroboration_sql: str | None = None
    """The query of :func:`tumen.observe.corroborate.corroboration_sql` (``None``: no observations)."""
    dialect: Dialect = DUCKDB


@dataclass(frozen=True)
class Signal:
    """One risk signal: its name (= its weight's name), a title, and its query."""

    name: str
    title: str
    query: Callable[[SignalContext], str | None]
    """Builds the SQL; ``None`` when the store cannot have this signal (e.g. no matches table)."""


# --------------------------------------------------------------------------- SQL helpers
def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _km_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """SQL expression: great-circle distance in km (:func:`tumen.tracks.geo.haversine_m` / 1000)."""
    return f"({haversine_m(lat1, lon1, lat2, lon2)} / 1000.0)"


def _route_legs_cte() -> str:
    """``legs(event_id, mmsi, route, da, db)``: km from each gap's last fix (``da``) and first fix
    (``db``) to the segment of each KP–RU route (needs CTEs ``gap_ends`` and ``routes``).

    A local flat projection per pair (x = lon × km/° × cos(mid-latitude of the route), y = lat ×
    km/°); the point's projection onto the segment is clamped to its ends.  Computed in stages
    (projection, position along the segment, distance), each value once: written inline, the
    expression repeats the projection dozens of times, which costs Spark seconds of planning.
    """
    k = KM_PER_DEG_LAT

    def along(px: str, py: str) -> str:
        return (
            f"greatest(0.0, least(1.0, (({px} - ax) * dx + ({py} - ay) * dy) "
            "/ nullif(dx * dx + dy * dy, 0)))"
        )

    def dist(px: str, py: str, t: str) -> str:
        return f"sqrt(power({px} - (ax + {t} * dx), 2) + power({py} - (ay + {t} * dy), 2))"

    return f"""
pairs AS (
    SELECT g.event_id, g.mmsi, r.a_name || '–' || r.b_name AS route,
           g.a_lat AS pa_lat, g.a_lon AS pa_lon, g.b_lat AS pb_lat, g.b_lon AS pb_lon,
           r.a_lat, r.a_lon, r.b_lat, r.b_lon,
           ({k} * cos(radians((r.a_lat + r.b_lat) / 2))) AS kx
    FROM gap_ends g CROSS JOIN routes r
),
flat AS (
    SELECT event_id, mmsi, route,
           (a_lon * kx) AS ax, (a_lat * {k}) AS ay,
           ((b_lon * kx) - (a_lon * kx)) AS dx, ((b_lat * {k}) - (a_lat * {k})) AS dy,
           (pa_lon * kx) AS pax, (pa_lat * {k}) AS pay, (pb_lon * kx) AS pbx, (pb_lat * {k}) AS pby
    FROM pairs
),
along AS (
    SELECT event_id, mmsi, route, ax, ay, dx, dy, pax, pay, pbx, pby,
           {along("pax", "pay")} AS ta, {along("pbx", "pby")} AS tb
    FROM flat
),
legs AS (
    SELECT event_id, mmsi, route,
           {dist("pax", "pay", "ta")} AS da, {dist("pbx", "pby", "tb")} AS db
    FROM along
)"""


#: Matches (``match`` true) keyed by designation: one row per (vessel, role, designation).
#: A designation is an authority's reference number (OFAC ent_num ``37095``, UN ``KPi.001``),
#: taken from the match's ``designation`` JSON; a match without one stands for itself
#: (``entity <entity_id>``).  The same designation reached through two lists (the demo
#: list citing an OFAC entry, and OFAC's own list) is then one row, whose ``entity_ids``
#: and ``lists`` name both.  Rows keyed only by IMO are attached to every MMSI that
#: broadcast that IMO.
def designations_cte(d: Dialect = DUCKDB) -> str:
    """The ``matched``, ``keyed`` and ``designations`` CTEs (see above) in dialect ``d``."""
    refs = d.array_filter(
        d.array_transform(
            f"coalesce({d.json_records('m.designation', ('reference', 'authority', 'list'))}, "
            f"{d.empty_array(d.struct_type([('reference', 'VARCHAR'), ('authority', 'VARCHAR'), ('list', 'VARCHAR')]))})",
            "x",
            "CASE WHEN nullif(x.reference, '') IS NOT NULL "
            "THEN coalesce(x.authority, x.list, '') || ' #' || x.reference END",
        ),
        "k",
        "k IS NOT NULL",
    )
    keys = (
        f"CASE WHEN {d.array_size('refs')} = 0 THEN {d.array(chr(39) + 'entity ' + chr(39) + ' || entity_id')} "
        f"ELSE {d.array_distinct('refs')} END"
    )
    return f"""
matched AS (
    SELECT coalesce(m.mmsi, s.mmsi) AS mmsi, m.role, m.entity_id, m.score, m.caption,
           coalesce({d.json_text("m.datasets", "$[0]")}, '') AS list_id,
           {refs} AS refs
    FROM matches m
    LEFT JOIN (SELECT DISTINCT imo, mmsi FROM statics WHERE imo IS NOT NULL) s
           ON m.mmsi IS NULL AND m.imo = s.imo
    WHERE m.match AND coalesce(m.mmsi, s.mmsi) IS NOT NULL
),
keyed AS (
    SELECT mmsi, role, entity_id, score, caption, list_id,
           {d.explode(keys)} AS designation
    FROM matched
),
designations AS (
    SELECT mmsi, (role = 'vessel') AS is_vessel, designation,
           min(entity_id) AS entity_id, max(score) AS score, max(caption) AS caption,
           {d.string_agg("role", ", ", distinct=True)} AS roles,
           count(DISTINCT entity_id) AS n_entries,
           {d.string_agg("nullif(list_id, '')", ", ", distinct=True)} AS lists
    FROM keyed GROUP BY mmsi, (role = 'vessel'), designation
)"""


#: The designation CTEs in DuckDB's spelling (kept for readers of the SQL).
DESIGNATIONS_CTE = designations_cte(DUCKDB)

#: SQL: how a designation row is cited in a signal's note (reference, and the lists when more than one entry carries it)
_DESIGNATION_NOTE = (
    "CASE WHEN designation LIKE 'entity %' THEN '' ELSE ' (' || regexp_extract(designation, '#(.*)$', 1) "
    "|| CASE WHEN n_entries > 1 THEN ', on ' || coalesce(lists, '') ELSE '' END || ')' END"
)

ENCOUNTER_SIDES_CTE = """
enc AS (
    SELECT event_id, mmsi, other_mmsi AS partner FROM events
    WHERE type = 'encounter' AND other_mmsi IS NOT NULL
    UNION ALL
    SELECT event_id, other_mmsi AS mmsi, mmsi AS partner FROM events
    WHERE type = 'encounter' AND other_mmsi IS NOT NULL
)"""

_COLUMNS = "CAST({mmsi} AS BIGINT) AS mmsi, CAST({event_id} AS {s}) AS event_id, CAST({entity_id} AS {s}) AS entity_id, CAST({value} AS DOUBLE) AS value, CAST({note} AS {s}) AS note"


def _cols(
    mmsi: str, event_id: str, entity_id: str, value: str, note: str, d: Dialect = DUCKDB
) -> str:
    return _COLUMNS.format(
        mmsi=mmsi, event_id=event_id, entity_id=entity_id, value=value, note=note, s=d.varchar
    )


# --------------------------------------------------------------------------- the signals
def _sanctioned_vessel(ctx: SignalContext) -> str | None:
    if not ctx.has_matches:
        return None
    d = ctx.dialect
    return f"""WITH {designations_cte(d)}
SELECT {_cols("mmsi", "NULL", "entity_id", "score", "'listed vessel: ' || caption || " + _DESIGNATION_NOTE, d)}
FROM designations WHERE is_vessel"""


def _sanctioned_party(ctx: SignalContext) -> str | None:
    if not ctx.has_matches:
        return None
    d = ctx.dialect
    return f"""WITH {designations_cte(d)}
SELECT {_cols("mmsi", "NULL", "entity_id", "score", "roles || ': ' || caption || " + _DESIGNATION_NOTE, d)}
FROM designations WHERE NOT is_vessel"""


def _sanctioned_partner(ctx: SignalContext) -> str | None:
    if not ctx.has_matches:
        return None
    d = ctx.dialect
    return f"""WITH {designations_cte(d)}, {ENCOUNTER_SIDES_CTE},
listed AS (SELECT mmsi, max(score) AS score, max(caption) AS caption FROM designations WHERE is_vessel GROUP BY mmsi)
SELECT {_cols("enc.mmsi", "enc.event_id", "NULL", "listed.score", f"'met listed vessel ' || listed.caption || ' (MMSI ' || CAST(enc.partner AS {d.varchar}) || ')'", d)}
FROM enc JOIN listed ON listed.mmsi = enc.partner"""


def _encounter(ctx: SignalContext) -> str:
    return f"""WITH {ENCOUNTER_SIDES_CTE}
SELECT {_cols("mmsi", "event_id", "NULL", "1.0", f"'met MMSI ' || CAST(partner AS {ctx.dialect.varchar})", ctx.dialect)}
FROM enc"""


def _encounter_dprk_partner(ctx: SignalContext) -> str:
    d = ctx.dialect
    return f"""WITH {ENCOUNTER_SIDES_CTE},
kp AS (SELECT DISTINCT mmsi FROM statics WHERE upper(flag) = 'KP')
SELECT {_cols("enc.mmsi", "enc.event_id", "NULL", "1.0", f"'met DPRK vessel MMSI ' || CAST(enc.partner AS {d.varchar})", d)}
FROM enc
WHERE {d.int_div("enc.partner", "1000000")} = {int(ctx.dprk_mid)} OR enc.partner IN (SELECT mmsi FROM kp)"""


def _nk_ru_voyage(ctx: SignalContext) -> str:
    return f"""WITH ports AS ({ports_cte(ctx.ports, ctx.dialect)})
SELECT {_cols("e.mmsi", "e.event_id", "NULL", "1.0", "e.from_port || ' → ' || e.to_port", ctx.dialect)}
FROM events e
JOIN ports pf ON pf.name = e.from_port
JOIN ports pt ON pt.name = e.to_port
WHERE e.type = 'voyage'
  AND ((pf.country = 'KP' AND pt.country = 'RU') OR (pf.country = 'RU' AND pt.country = 'KP'))"""


def _dprk_port_visit(ctx: SignalContext) -> str:
    return f"""WITH ports AS ({ports_cte(ctx.ports, ctx.dialect)})
SELECT {_cols("e.mmsi", "e.event_id", "NULL", "1.0", "'called at ' || e.port", ctx.dialect)}
FROM events e JOIN ports p ON p.name = e.port
WHERE e.type = 'port_visit' AND p.country = 'KP'"""


def _gap_ends_cte(d: Dialect = DUCKDB) -> str:
    """``gap_ends(event_id, mmsi, a_lat, a_lon, b_lat, b_lon, candidates)``: each gap's last and first fix."""
    return f"""
gap_ends AS (
    SELECT e.event_id, e.mmsi,
           avg(pa.lat) AS a_lat, avg(pa.lon) AS a_lon,
           avg(pb.lat) AS b_lat, avg(pb.lon) AS b_lon,
           max({d.json_fragment("e.evidence", "$.dark_port_candidates")}) AS candidates
    FROM events e
    JOIN positions pa ON pa.mmsi = e.mmsi AND pa.ts = e.start
    JOIN positions pb ON pb.mmsi = e.mmsi AND pb.ts = e."end"
    WHERE e.type = 'gap'
    GROUP BY e.event_id, e.mmsi
)"""


def _dark_near_port(ctx: SignalContext) -> str:
    da = _km_sql("g.a_lat", "g.a_lon", "p.lat", "p.lon")
    db = _km_sql("g.b_lat", "g.b_lon", "p.lat", "p.lon")
    d = ctx.dialect
    return f"""WITH ports AS ({ports_cte(ctx.ports, d)}), {_gap_ends_cte(d)},
near AS (
    SELECT g.event_id, g.mmsi,
           {d.string_agg("p.name", ", ", distinct=True)} AS names
    FROM gap_ends g CROSS JOIN ports p
    WHERE {da} <= p.radius_km + {float(ctx.near_port_km)!r}
       OR {db} <= p.radius_km + {float(ctx.near_port_km)!r}
    GROUP BY g.event_id, g.mmsi
)
SELECT {_cols("mmsi", "event_id", "NULL", "1.0", "'went dark near ' || names", d)}
FROM near"""


def _dark_shuttle_route(ctx: SignalContext) -> str:
    d = ctx.dialect
    return f"""WITH ports AS ({ports_cte(ctx.ports, d)}), {_gap_ends_cte(d)},
routes AS (
    SELECT a.name AS a_name, a.lat AS a_lat, a.lon AS a_lon,
           b.name AS b_name, b.lat AS b_lat, b.lon AS b_lon
    FROM ports a CROSS JOIN ports b
    WHERE a.country = 'KP' AND b.country = 'RU'
), {_route_legs_cte()},
on_route AS (
    SELECT event_id, mmsi, min_by(route, da + db) AS why
    FROM legs
    WHERE da <= {float(ctx.corridor_km)!r} AND db <= {float(ctx.corridor_km)!r}
    GROUP BY event_id, mmsi
),
dark_call AS (
    SELECT g.event_id, g.mmsi, min(p.name) AS why
    FROM gap_ends g JOIN ports p
      ON p.country = 'KP' AND g.candidates IS NOT NULL
     AND contains(g.candidates, '"' || p.name || '"')
    GROUP BY g.event_id, g.mmsi
),
hits AS (
    SELECT event_id, mmsi, 'dark on the ' || why || ' shuttle route' AS why FROM on_route
    UNION ALL
    SELECT event_id, mmsi, 'could have called at ' || why || ' while dark' AS why FROM dark_call
)
SELECT {_cols("mmsi", "event_id", "NULL", "1.0", d.string_agg("why", "; "), d)}
FROM hits GROUP BY mmsi, event_id"""


#: SQL: an observation's confidence as a signal value (see tumen.observe.ledger.CONFIDENCE); in
#: DOUBLE on every engine (Spark divides literals like 2.0 / 3.0 as decimals, to 6 places)
_CONFIDENCE_VALUE = (
    "CASE o.confidence WHEN 'high' THEN CAST(1 AS DOUBLE) WHEN 'medium' THEN CAST(2 AS DOUBLE) / 3 "
    "ELSE CAST(1 AS DOUBLE) / 3 END"
)


def _observed_dprk_port(ctx: SignalContext) -> str | None:
    if ctx.corroboration_sql is None:
        return None
    note = (
        f"'seen at ' || o.port || ' on ' || substr({ctx.dialect.iso_seconds('o.ts')}, 1, 10) "
        f"|| ' (' || o.kind || ', observation ' || CAST(o.obs_id AS {ctx.dialect.varchar}) || ')'"
    )
    return f"""WITH ports AS ({ports_cte(ctx.ports, ctx.dialect)})
SELECT {_cols("o.mmsi", "NULL", f"'observation ' || CAST(o.obs_id AS {ctx.dialect.varchar})", _CONFIDENCE_VALUE, note, ctx.dialect)}
FROM observations o JOIN ports p ON p.name = o.port
WHERE p.country = 'KP'"""


def _corroborated(
    outcome: str, note: str, where: str = ""
) -> Callable[[SignalContext], str | None]:
    """The signal of the corroborations with ``outcome``; ``note``: SQL with ``{varchar}`` for the
    dialect's text type."""

    def query(ctx: SignalContext) -> str | None:
        if ctx.corroboration_sql is None:
            return None
        text = note.format(varchar=ctx.dialect.varchar)
        return f"""WITH c AS ({ctx.corroboration_sql})
SELECT {_cols("c.mmsi", "c.event_id", f"'observation ' || CAST(c.obs_id AS {ctx.dialect.varchar})", _CONFIDENCE_VALUE, text, ctx.dialect)}
FROM c JOIN observations o ON o.obs_id = c.obs_id
WHERE c.outcome = {_sql_str(outcome)}{where}"""

    return query


def _events_of(type_: str, note: str) -> Callable[[SignalContext], str]:
    def query(ctx: SignalContext) -> str:
        return f"""SELECT {_cols("mmsi", "event_id", "NULL", "1.0", note, ctx.dialect)}
FROM events WHERE type = {_sql_str(type_)}"""

    return query


def _identity(subtype: str, note: str) -> Callable[[SignalContext], str]:
    def query(ctx: SignalContext) -> str:
        return f"""SELECT {_cols("mmsi", "event_id", "NULL", "1.0", _sql_str(note), ctx.dialect)}
FROM events WHERE type = 'identity' AND subtype = {_sql_str(subtype)}"""

    return query


#: Every risk signal, strongest evidence first.  Each name is a field of
#: :class:`tumen.risk.weights.RiskWeights`.
SIGNALS: tuple[Signal, ...] = (
    Signal("sanctioned_vessel", "Listed vessel", _sanctioned_vessel),
    Signal("sanctioned_party", "Listed owner, manager or operator", _sanctioned_party),
    Signal("sanctioned_partner", "Met a listed vessel", _sanctioned_partner),
    Signal("nk_ru_voyage", "Voyage between North Korea and Russia", _nk_ru_voyage),
    Signal("dprk_port_visit", "Call at a North Korean port", _dprk_port_visit),
    Signal("dark_shuttle_route", "Dark on a shuttle route", _dark_shuttle_route),
    Signal("dark_near_port", "Dark near a watched port", _dark_near_port),
    Signal(
        "observation_confirms_dark_call",
        "Dark port call confirmed by an observation",
        _corroborated(
            "confirms",
            "'dark call at ' || c.port || ' confirmed by observation ' || CAST(c.obs_id AS {varchar}) "
            "|| ' (' || o.kind || ')'",
            " AND c.port IS NOT NULL",  # a dark port call, not a confirmed identity change
        ),
    ),
    Signal("observed_dprk_port", "Seen at a North Korean port", _observed_dprk_port),
    Signal(
        "observation_contradicts_ais",
        "AIS contradicted by an observation",
        _corroborated(
            "contradicts",
            "'observation ' || CAST(c.obs_id AS {varchar}) || ' (' || o.kind || ') contradicts '"
            " || CASE WHEN c.event_id IS NULL THEN 'the AIS track' ELSE 'event ' || c.event_id END",
        ),
    ),
    Signal("encounter_dprk_partner", "Met a DPRK vessel at sea", _encounter_dprk_partner),
    Signal("encounter", "Ship-to-ship encounter", _encounter),
    Signal("loitering", "Loitering at sea", _events_of("loitering", "'loitered'")),
    Signal("dprk_mid", "Transmits with DPRK MID 445", _identity("dprk_mid", "DPRK MID 445")),
    Signal(
        "mmsi_conflict",
        "MMSI used from two places at once",
        _identity("mmsi_conflict", "MMSI conflict"),
    ),
    Signal(
        "identity_change",
        "Changed name, IMO or call sign",
        _identity("identity_change", "identity change"),
    ),
    Signal("invalid_imo", "Invalid IMO number", _identity("invalid_imo", "IMO check digit wrong")),
    Signal("flag_mismatch", "MID disagrees with flag", _identity("flag_mismatch", "flag mismatch")),
    Signal("position_jump", "Spoofed position jump", _identity("position_jump", "position jump")),
)

SIGNAL_TITLES: dict[str, str] = {s.name: s.title for s in SIGNALS}


def signal_queries(ctx: SignalContext) -> list[tuple[str, str]]:
    """``(signal name, SQL)`` for every signal the store can have."""
    out: list[tuple[str, str]] = []
    for signal in SIGNALS:
        sql = signal.query(ctx)
        if sql is not None:
            out.append((signal.name, sql))
    return out


def union_query(ctx: SignalContext, names: Sequence[str] | None = None) -> str:
    """One SQL query returning every signal occurrence with a ``signal`` column added."""
    parts = [
        f"SELECT {_sql_str(name)} AS signal, * FROM ({sql}) AS q_{i}"
        for i, (name, sql) in enumerate(signal_queries(ctx))
        if names is None or name in names
    ]
    return "\nUNION ALL\n".join(parts)


def watched_ports(table: pa.Table) -> list[Port]:
    """:class:`Port` records from a ports table of :func:`tumen.detect.ports.load_ports`."""
    return [
        Port(r["name"], r["country"] or "", r["lat"], r["lon"], r["radius_km"])
        for r in table.select(["name", "country", "lat", "lon", "radius_km"]).to_pylist()
    ]


def load_watched_ports(path: str | Path | None = None) -> list[Port]:
    """The watched ports of a ports CSV (``None``: the bundled file), read by the one loader
    :func:`tumen.detect.ports.load_ports` (same checks, UTF-8 BOM allowed)."""
    return watched_ports(load_ports(path))


def ports_for_findings(store: Backend, requested: str | Path | None = None) -> list[Port]:
    """The watched ports the store's events were detected with (see
    :func:`tumen.detect.ports.ports_detection_used`): what risk, report and export use."""
    return watched_ports(ports_detection_used(store, requested))
