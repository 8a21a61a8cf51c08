"""AIS gaps: a vessel silent for hours — and where it could have gone meanwhile.

Definition
----------
A *gap* is a leg of a ``track`` segment (two consecutive fixes, :mod:`tumen.tracks.segments`) that
lasts at least ``min_gap_h`` hours and in which the vessel was not heard at all for that long: a
position report without a position (lat 91 / lon 181 "not available", stored with ``lat``/``lon``
NULL) proves the transmitter was on, so the silence is the longest stretch between the two fixes
and such reports of the MMSI (a vessel transmitting without a position is not dark).  ``start`` is the last fix before the silence, ``end`` the first
fix after it (UTC); ``lat``/``lon`` is where the vessel went dark.  A silence at the end of the data
(no fix after it) is not a gap: its end is unknown.  Because legs never join two segments, a second
transmitter on the same MMSI or a spoofed position cannot open or close a gap.

Measures: the positions at both ends, ``distance_km`` (great circle) and ``implied_speed_kn``
across the silence, the watched port each end lies in (``start_port``/``end_port``, or null), and
``dark_port_candidates``: every watched port the vessel could have called at while dark — reachable
from the last fix and back to the next fix at the vessel's top speed with at least
``min_port_stay_h`` hours in port:

    (d(last fix, port circle) + d(port circle, next fix)) / top speed + min stay ≤ gap duration

where ``d`` is the great-circle distance to the edge of the port's circle (0 inside it; the circle
of the port visits, ``radius_km × port_visits.radius_scale``).  The top
speed is the ``top_speed_quantile`` quantile of the vessel's reported SOG (capped at
``segments.max_speed_kn``) when it has at least ``min_speed_reports`` reports above 1 knot, else
``default_top_speed_kn``.  This is the "dark port call" of the 2023–24 Rajin–Dunai shuttles.

Source: after Global Fishing Watch's AIS gap / disabling events (gaps of 6 h and more between
consecutive positions of a segment; https://globalfishingwatch.github.io/GFW_technical_documentation/
Gaps.html).  GFW also filters on satellite reception quality and distance from shore to call a gap
*intentional*; tumen reports every gap and leaves that judgement to the analyst (``distance_km`` and
the in-port flags help).
"""

from __future__ import annotations

from tumen.config import GapParams, SegmentParams
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m, ts_sql
from tumen.tracks.positions import clean_positions_sql

NAME = "gaps"
EVENT_TYPE = "gap"


def detect_gaps(
    store: Backend,
    params: GapParams,
    segments: SegmentParams,
    *,
    scope_table: str | None = None,
    radius_scale: float = 1.0,
) -> None:
    """Write ``_ev_gaps`` from the ``is_gap`` legs of ``_legs``.

    ``radius_scale`` is ``port_visits.radius_scale``: the port circles are those of the port visits.
    """
    d = store.dialect
    s = d.varchar
    clean = clean_positions_sql(segments, scope_table, dialect=d)
    d_out = haversine_m("g.p_lat", "g.p_lon", "p.lat", "p.lon")
    d_back = haversine_m("p.lat", "p.lon", "g.lat", "g.lon")
    r = f"(p.radius_m * {float(radius_scale)})"
    detour = f"(greatest(0.0, {d_out} - {r}) + greatest(0.0, {d_back} - {r}))"
    across = haversine_m("p_lat", "p_lon", "lat", "lon")
    port = d.struct(
        ("port", "p.name"),
        ("country", "p.country"),
        ("detour_km", f"round({detour} / 1000.0, 3)"),
        ("max_stay_h", f"round((g.dt - {detour} / (g.v_kn * {KN_MS})) / 3600.0, 3)"),
    )
    port_type = d.struct_type(
        [
            ("port", "VARCHAR"),
            ("country", "VARCHAR"),
            ("detour_km", "DOUBLE"),
            ("max_stay_h", "DOUBLE"),
        ]
    )
    measures = d.json_object(
        ("duration_h", "g.dt / 3600.0"),
        ("distance_km", f"{across} / 1000.0"),
        ("implied_speed_kn", f"{across} / greatest(g.dt, 1.0) / {KN_MS}"),
        ("start_lat", "g.p_lat"),
        ("start_lon", "g.p_lon"),
        ("end_lat", "g.lat"),
        ("end_lon", "g.lon"),
        ("start_port", "g.p_port"),
        ("end_port", "g.port"),
        ("starts_in_port", "g.p_port IS NOT NULL"),
        ("ends_in_port", "g.port IS NOT NULL"),
        ("top_speed_kn", "g.v_kn"),
        ("top_speed_source", "CASE WHEN g.v_observed THEN 'observed' ELSE 'default' END"),
        ("dark_port_candidates", d.json_value(f"coalesce(cand.ports, {d.empty_array(port_type)})")),
    )
    heard_t = d.epoch_s("p.ts")
    store.materialise(
        "_ev_gaps",
        f"""
        WITH g1 AS (SELECT * FROM _legs WHERE is_gap),
        heard AS (  -- reports without a position inside the leg: the vessel was not silent then
            SELECT g1.mmsi, g1.k, {heard_t} AS h
            FROM g1 JOIN positions p
              ON p.mmsi = g1.mmsi AND (p.lat IS NULL OR p.lon IS NULL) AND p.ts IS NOT NULL
             AND {heard_t} > g1.p_t AND {heard_t} < g1.t
        ), silence AS (
            SELECT mmsi, k, max(nx - h) AS longest_s
            FROM (SELECT mmsi, k, h, lead(h) OVER (PARTITION BY mmsi, k ORDER BY h) AS nx
                  FROM (SELECT mmsi, k, h FROM heard
                        UNION ALL SELECT mmsi, k, p_t FROM g1 WHERE (mmsi, k) IN (SELECT mmsi, k FROM heard)
                        UNION ALL SELECT mmsi, k, t FROM g1 WHERE (mmsi, k) IN (SELECT mmsi, k FROM heard)) hh
                 ) hn
            GROUP BY mmsi, k
        ), g0 AS (
            SELECT g1.* FROM g1 LEFT JOIN silence s ON s.mmsi = g1.mmsi AND s.k = g1.k
            WHERE s.longest_s IS NULL OR s.longest_s >= {params.min_gap_h * 3600.0}
        ),
        top AS (
            SELECT mmsi, {d.quantile("CAST(sog_kn AS DOUBLE)", params.top_speed_quantile)} AS top_kn,
                   count(*) FILTER (WHERE sog_kn > 1.0) AS n_moving
            FROM ({clean}) c
            WHERE mmsi IN (SELECT mmsi FROM g0) AND sog_kn IS NOT NULL AND sog_kn <= {segments.max_speed_kn}
            GROUP BY mmsi
        ), g AS (
            SELECT g0.*,
                   CASE WHEN top.n_moving >= {params.min_speed_reports} AND top.top_kn > 0
                        THEN top.top_kn ELSE {params.default_top_speed_kn} END AS v_kn,
                   (top.n_moving >= {params.min_speed_reports} AND top.top_kn > 0) AS v_observed,
                   t - p_t AS dt
            FROM g0 LEFT JOIN top ON top.mmsi = g0.mmsi
        ), cand AS (
            SELECT g.mmsi, g.k,
                   {d.collect_list(port, f"{detour}, p.name")} AS ports
            FROM g JOIN _ports p
              ON {detour} / (g.v_kn * {KN_MS}) + {params.min_port_stay_h * 3600.0} <= g.dt
            GROUP BY g.mmsi, g.k
        )
        SELECT 'gap' AS type, CAST(NULL AS {s}) AS subtype, g.mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               {ts_sql("g.p_t", d)} AS start, {ts_sql("g.t", d)} AS "end", g.p_lat AS lat, g.p_lon AS lon,
               CAST(NULL AS {s}) AS port, CAST(NULL AS {s}) AS from_port, CAST(NULL AS {s}) AS to_port,
               {d.id_list("g.p_pos", "g.pos_id")} AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(g.seg AS {s}) AS id_key
        FROM g LEFT JOIN cand ON cand.mmsi = g.mmsi AND cand.k = g.k
        """,
    )
