"""Encounters: two vessels side by side, slow, at sea, for hours — the ship-to-ship transfer signal.

Definition
----------
Each vessel's slow legs at sea (:mod:`tumen.detect.legs`: ``enc_leg`` — both fixes under
``max_speed_kn`` knots, at least ``min_port_distance_km`` km from every watched port's position and
inside no port's circle, and at most
``max_interp_gap_min`` minutes apart) are resampled on a fixed UTC grid of ``step_min`` minutes: at
each grid time ``s`` with ``a.t ≤ s < b.t`` on a leg ``a → b`` the position is interpolated linearly
(the short way across the 180° meridian).

Two **distinct** MMSIs are *paired* at a grid time when their resampled positions are at most
``max_distance_m`` metres apart (great circle).  An *encounter* is a run of consecutive grid times at
which the pair is paired.  Its ``start`` is the later of the start of each vessel's run of slow legs
there and the time the pair came within ``max_distance_m``: where both vessels have a resampled
position one step before the first paired grid time (farther apart then), the time at which their
distance, interpolated linearly between those two grid times, reaches ``max_distance_m``, else one
step before the first paired grid time.  Its ``end`` is found the same way after the last paired
grid time.  So when a vessel arrives or leaves (speeds up, enters port, stops reporting) the interval
is as precise as its fixes, and when two slow vessels drift together or apart it is as precise as
the interpolation (never longer than the time they were within ``max_distance_m``, the distance being
convex in time between two grid times).  It is reported when ``end − start`` is at least
``min_duration_h`` hours.  One event per pair: ``mmsi`` is the smaller MMSI, ``other_mmsi`` the larger;
``lat``/``lon`` is the first vessel's position at the closest approach.

Not quadratic: resampled positions are bucketed by grid time and by a latitude/longitude cell of at
least ``max_distance_m`` a side (:mod:`tumen.tracks.geo`), and each position is compared only with
those of its own and the eight neighbouring cells at the same time (hash join).

Source: Global Fishing Watch's encounters — two vessels within 500 m for at least 2 hours at a
median speed under 2 knots, at least 10 km from a coastal anchorage
(https://globalfishingwatch.github.io/GFW_technical_documentation/Encounters.html,
https://globalfishingwatch.org/faqs/what-is-a-vessel-encounter/).  GFW's median-speed rule is
replaced by "every leg slow", which also rejects ships passing fast within 500 m.

Evidence: for each vessel the fixes bracketing the first and last paired times (``position_ids``),
``n_steps``, ``duration_h``, ``min_distance_m``, ``mean_distance_m``, ``step_min``.
"""

from __future__ import annotations

import math

from tumen.config import EncounterParams
from tumen.store.backend import Backend
from tumen.tracks.geo import (
    cell_lon_deg_sql,
    cell_y_sql,
    haversine_m,
    interp_lon,
    ts_sql,
)

NAME = "encounters"
EVENT_TYPE = "encounter"

#: Columns of the persistent ``encounter_steps`` table (store/schema.sql).
STEP_COLUMNS = "mmsi, seg, step_t, lat, lon, a_pos, b_pos, c0_t, c1_t"


def step_seconds(params: EncounterParams) -> int:
    """The grid step in whole seconds (at least 1)."""
    return max(1, round(params.step_min * 60.0))


def build_steps(store: Backend, params: EncounterParams) -> int:
    """Resample the ``enc_leg`` legs of ``_legs`` on the grid into ``_enc_steps``; returns the count.

    Each leg is at most ``max_interp_gap_min`` long, so it holds at most ``ceil(gap / step) + 1``
    grid times: a join with that many offsets (no per-row table function) generates them.
    """
    d = store.dialect
    step = step_seconds(params)
    frac = "((l.step_t - l.p_t) / (l.t - l.p_t))"
    offsets = math.ceil(params.max_interp_gap_min * 60.0 / step) + 1
    store.materialise(
        "_enc_steps",
        f"""
        WITH e AS (
            SELECT mmsi, seg, t, lat, lon, pos_id, p_t, p_lat, p_lon, p_pos,
                   CAST(ceil(p_t / {step}) AS BIGINT) * {step} AS first_step,
                   rn - row_number() OVER (PARTITION BY mmsi, seg ORDER BY rn) AS chain
            FROM _legs WHERE enc_leg AND t > p_t
        ), c AS (
            SELECT mmsi, seg, chain, min(p_t) AS c0_t, max(t) AS c1_t FROM e GROUP BY mmsi, seg, chain
        ), s AS (
            SELECT e.*, e.first_step + o.i * {step} AS step_t
            FROM e, {d.range_table(0, offsets, "o", "i")}
            WHERE e.first_step + o.i * {step} < e.t
        )
        SELECT l.mmsi, l.seg, l.step_t,
               l.p_lat + {frac} * (l.lat - l.p_lat) AS lat,
               {interp_lon("l.p_lon", "l.lon", frac)} AS lon,
               l.p_pos AS a_pos, l.pos_id AS b_pos, c.c0_t, c.c1_t
        FROM s l JOIN c ON c.mmsi = l.mmsi AND c.seg = l.seg AND c.chain = l.chain
        """,
    )
    return int(store.query("SELECT count(*) AS n FROM _enc_steps").column("n")[0].as_py())


def detect_encounters(
    store: Backend, params: EncounterParams, *, scope_table: str | None = None
) -> None:
    """Write ``_ev_encounters`` by pairing resampled positions.

    Pairs are drawn from ``_enc_steps`` (this run) plus, in an incremental run, the stored
    ``encounter_steps`` of the vessels outside ``scope_table``; only pairs with at least one vessel in
    scope are reported (the others are unchanged since the last run).
    """
    d = store.dialect
    step = step_seconds(params)
    size = params.max_distance_m
    if scope_table:
        points = (
            f"SELECT {STEP_COLUMNS} FROM _enc_steps UNION ALL "
            f"SELECT {STEP_COLUMNS} FROM encounter_steps WHERE mmsi NOT IN (SELECT mmsi FROM {scope_table})"
        )
        in_scope = f"AND (a.mmsi IN (SELECT mmsi FROM {scope_table}) OR b.mmsi IN (SELECT mmsi FROM {scope_table}))"
    else:
        points, in_scope = f"SELECT {STEP_COLUMNS} FROM _enc_steps", ""
    s = d.varchar
    measures = d.json_object(
        ("duration_h", "(t1 - t0) / 3600.0"),
        ("n_steps", "n_steps"),
        ("min_distance_m", "min_d"),
        ("mean_distance_m", "mean_d"),
        ("step_min", str(step / 60.0)),
    )
    iy = cell_y_sql("lat", size)
    dist = haversine_m("a.lat", "a.lon", "b.lat", "b.lon")
    store.materialise(
        "_pts",
        f"""
        WITH q AS (
            SELECT {d.row_id()} AS id, q.*, {iy} AS iy FROM ({points}) q
        ), bands AS (
            SELECT iy, {cell_lon_deg_sql("iy", size)} AS w FROM (SELECT DISTINCT iy FROM q) b
        )
        SELECT q.*, CAST(floor((q.lon + 180.0) / b.w) AS BIGINT)
                    % greatest(1, CAST(floor(360.0 / b.w) AS BIGINT)) AS ix
        FROM q JOIN bands b ON b.iy = q.iy
        """,
    )
    hit = d.struct(
        ("d", dist),
        ("lat", "a.lat"),
        ("lon", "a.lon"),
        ("ac0", "a.c0_t"),
        ("ac1", "a.c1_t"),
        ("aa_pos", "a.a_pos"),
        ("ab_pos", "a.b_pos"),
        ("bc0", "b.c0_t"),
        ("bc1", "b.c1_t"),
        ("ba_pos", "b.a_pos"),
        ("bb_pos", "b.b_pos"),
    )
    store.materialise(
        "_enc_runs",
        f"""
        WITH nb0 AS (
            SELECT p.id, p.mmsi, p.step_t, p.iy + dy.dy AS j, p.lon
            FROM _pts p, (VALUES (-1), (0), (1)) dy(dy)
        ), bands AS (
            SELECT j, {cell_lon_deg_sql("j", size)} AS w FROM (SELECT DISTINCT j FROM nb0) b
        ), nb AS (
            SELECT nb0.id, nb0.mmsi, nb0.step_t, nb0.j, greatest(1, CAST(floor(360.0 / b.w) AS BIGINT)) AS n,
                   CAST(floor((nb0.lon + 180.0) / b.w) AS BIGINT) AS x
            FROM nb0 JOIN bands b ON b.j = nb0.j
        ), nbx AS (
            SELECT nb.id, nb.mmsi, nb.step_t, nb.j, (((nb.x % nb.n) + dx.dx) % nb.n + nb.n) % nb.n AS ix
            FROM nb, (VALUES (-1), (0), (1)) dx(dx)
        ), cand AS (
            SELECT DISTINCT a.id AS ida, b.id AS idb
            FROM _pts a JOIN nbx b ON b.step_t = a.step_t AND b.j = a.iy AND b.ix = a.ix
            WHERE a.mmsi < b.mmsi
        ), hit AS (
            SELECT a.mmsi, b.mmsi AS other_mmsi, a.step_t,
                   min_by({hit}, {dist}) AS h
            FROM cand JOIN _pts a ON a.id = cand.ida JOIN _pts b ON b.id = cand.idb
            WHERE {dist} <= {size} {in_scope}
            GROUP BY a.mmsi, b.mmsi, a.step_t
        ), runs AS (
            SELECT *, {d.int_div("step_t", str(step))} - row_number() OVER (
                       PARTITION BY mmsi, other_mmsi ORDER BY step_t) AS grp
            FROM hit
        ), ev AS (
            SELECT mmsi, other_mmsi, count(*) AS n_steps,
                   min(step_t) AS first_step, max(step_t) AS last_step,
                   min_by(h, step_t) AS f, max_by(h, step_t) AS l, min_by(h, h.d) AS c,
                   min(h.d) AS min_d, avg(h.d) AS mean_d
            FROM runs GROUP BY mmsi, other_mmsi, grp
        )
        -- t1 - t0 is at most (last_step + step) - (first_step - step): shorter runs cannot qualify
        SELECT * FROM ev WHERE last_step - first_step + 2 * {step} >= {params.min_duration_h * 3600.0}
        """,
    )
    # the runs are few and materialised: the lookups below join them to _pts, not _pts to them
    store.materialise(
        "_ev_encounters",
        f"""
        WITH keys AS (
            SELECT mmsi, other_mmsi, first_step, 0 AS side, first_step - {step} AS s FROM _enc_runs
            UNION ALL
            SELECT mmsi, other_mmsi, first_step, 1 AS side, last_step + {step} AS s FROM _enc_runs
        ), beyond AS (
            SELECT k.mmsi, k.other_mmsi, k.first_step, k.side, min({dist}) AS d
            FROM keys k
            JOIN _pts a ON a.mmsi = k.mmsi AND a.step_t = k.s
            JOIN _pts b ON b.mmsi = k.other_mmsi AND b.step_t = k.s
            GROUP BY k.mmsi, k.other_mmsi, k.first_step, k.side
        ), se AS (
            SELECT ev.*,
                   greatest(CASE WHEN bp.d > {size}
                                 THEN ev.first_step - {step} * ({size} - ev.f.d) / (bp.d - ev.f.d)
                                 ELSE ev.first_step - {step} END, ev.f.ac0, ev.f.bc0) AS t0,
                   least(CASE WHEN bn.d > {size}
                              THEN ev.last_step + {step} * ({size} - ev.l.d) / (bn.d - ev.l.d)
                              ELSE ev.last_step + {step} END, ev.l.ac1, ev.l.bc1) AS t1
            FROM _enc_runs ev
            LEFT JOIN beyond bp ON bp.mmsi = ev.mmsi AND bp.other_mmsi = ev.other_mmsi
                               AND bp.first_step = ev.first_step AND bp.side = 0
            LEFT JOIN beyond bn ON bn.mmsi = ev.mmsi AND bn.other_mmsi = ev.other_mmsi
                               AND bn.first_step = ev.first_step AND bn.side = 1
        )
        SELECT 'encounter' AS type, CAST(NULL AS {s}) AS subtype, mmsi, other_mmsi,
               {ts_sql("t0", d)} AS start, {ts_sql("t1", d)} AS "end",
               c.lat AS lat, c.lon AS lon, CAST(NULL AS {s}) AS port,
               CAST(NULL AS {s}) AS from_port, CAST(NULL AS {s}) AS to_port,
               {d.id_list("f.aa_pos", "f.ba_pos", "l.ab_pos", "l.bb_pos")} AS position_ids,
               CAST(NULL AS BIGINT) AS n_positions, {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(NULL AS {s}) AS id_key
        FROM se
        WHERE t1 - t0 >= {params.min_duration_h * 3600.0}
        """,
    )
    store.execute(d.drop_temp("_enc_runs"))
