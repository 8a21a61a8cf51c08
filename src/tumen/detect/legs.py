"""Legs: every fix of a ``track`` segment beside its neighbours, in one window pass.

A *leg* joins two consecutive fixes of one segment (ordered by the key ``k`` of
:mod:`tumen.tracks.positions`).  For each leg this pass decides, once, what the detectors ask of it:

- ``is_gap``: the leg lasts at least ``gaps.min_gap_h`` hours (a silence);
- ``enc_leg``: the vessel could take part in an encounter along it — both fixes at least
  ``encounters.min_port_distance_km`` from every port, the leg at most ``encounters.max_interp_gap_min``
  long, and the vessel slow (see :func:`slow_sql`) below ``encounters.max_speed_kn``;
- ``lo_leg``: the same for loitering (``loitering.*``), with silences shorter than
  ``loitering.max_silence_h`` allowed inside;
- ``port``: the watched port the fix is in (:mod:`tumen.detect.ports`), or NULL.

and marks the fixes where a port visit or a loitering run starts or ends (state changes against
the previous / next fix of the segment).  Only those fixes and legs are kept (table ``_legs``), so
the detectors that follow work on small tables.

Speed of a fix: its reported SOG in knots, or, where the report has none, the implied speed of its
leg (distance / time).  A leg is *slow* below ``v`` knots when both fixes are and, for legs of ten
minutes or more, the implied speed is too (so a vessel that reports 0 kn but moved is not slow;
shorter legs are not judged by implied speed, which position noise dominates).

Table written: ``_legs`` with, per kept fix, ``mmsi, seg, rn, k, ts, t, lat, lon, sog_kn, pos_id,
port`` and the previous fix ``p_*`` (``p_ts, p_t, p_lat, p_lon, p_pos, p_port``) and the flags
``is_gap, enc_leg, lo_start, lo_end, pv_start, pv_end``.
"""

from __future__ import annotations

from tumen.config import DetectSettings
from tumen.detect.ports import port_lookup_sql
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m
from tumen.tracks.positions import clean_positions_sql
from tumen.tracks.segments import track_runs_sql

#: Legs shorter than this are not judged by their implied speed (seconds).
MIN_IMPLIED_DT_S = 600.0


def slow_sql(a: str, b: str, speed_kn: float) -> str:
    """SQL condition: the leg from fix ``{a}`` to fix ``{b}`` is slower than ``speed_kn`` knots."""
    dist = haversine_m(f"{a}lat", f"{a}lon", f"{b}lat", f"{b}lon")
    dt = f"({b}t - {a}t)"
    implied = f"({dist} / greatest({dt}, 1.0) / {KN_MS})"
    return (
        f"(coalesce({a}sog_kn, {implied}) < {speed_kn} AND coalesce({b}sog_kn, {implied}) < {speed_kn} "
        f"AND ({dt} < {MIN_IMPLIED_DT_S} OR {implied} < {speed_kn}))"
    )


def build_legs(store: Backend, settings: DetectSettings, *, scope_table: str | None = None) -> int:
    """Run the window pass over the track segments and write ``_legs``; returns its row count.

    Needs ``_runs``/``_segments`` (:func:`tumen.tracks.segments.build_segments`) and
    ``_port_cells`` (:func:`tumen.detect.ports.register_ports`).
    """
    enc, loi, gap = settings.encounters, settings.loitering, settings.gaps
    clean = clean_positions_sql(settings.segments, scope_table)
    join, port, dist = port_lookup_sql("c.lat", "c.lon", settings.port_visits.radius_scale)
    enc_far, lo_far = enc.min_port_distance_km * 1000.0, loi.min_port_distance_km * 1000.0

    def eligible(a: str, b: str, far: str, speed: float, max_dt_s: float, strict: bool) -> str:
        lt = "<" if strict else "<="
        return (
            f"({a}t IS NOT NULL AND {b}t IS NOT NULL AND ({b}t - {a}t) {lt} {max_dt_s} "
            f"AND {a}{far} AND {b}{far} AND {slow_sql(a, b, speed)})"
        )

    enc_args = ("far_e", enc.max_speed_kn, enc.max_interp_gap_min * 60.0, False)
    lo_args = ("far_l", loi.max_speed_kn, loi.max_silence_h * 3600.0, True)
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _legs AS
        WITH f AS (
            SELECT c.pos_id, c.mmsi, r.seg, c.k, c.ts, c.t, c.lat, c.lon, c.sog_kn,
                   {port} AS port,
                   ({dist}) AS port_dist_m
            FROM ({clean}) c
            JOIN ({track_runs_sql()}) r
              ON r.mmsi = c.mmsi AND r.day = CAST(floor(c.t / 86400) AS BIGINT)
             AND c.k BETWEEN r.run_k AND r.k_end
            {join}
        ), g AS (
            SELECT * EXCLUDE (port_dist_m),
                   (port_dist_m IS NULL OR port_dist_m >= {enc_far}) AS far_e,
                   (port_dist_m IS NULL OR port_dist_m >= {lo_far}) AS far_l
            FROM f
        ), w AS (
            SELECT g.*,
                   row_number() OVER w AS rn,
                   lag(ts) OVER w AS p_ts, lag(t) OVER w AS p_t, lag(lat) OVER w AS p_lat,
                   lag(lon) OVER w AS p_lon, lag(sog_kn) OVER w AS p_sog_kn, lag(pos_id) OVER w AS p_pos,
                   lag(port) OVER w AS p_port, lag(far_e) OVER w AS p_far_e, lag(far_l) OVER w AS p_far_l,
                   lag(t, 2) OVER w AS pp_t, lag(lat, 2) OVER w AS pp_lat, lag(lon, 2) OVER w AS pp_lon,
                   lag(sog_kn, 2) OVER w AS pp_sog_kn, lag(far_l, 2) OVER w AS pp_far_l,
                   lead(t) OVER w AS n_t, lead(lat) OVER w AS n_lat, lead(lon) OVER w AS n_lon,
                   lead(sog_kn) OVER w AS n_sog_kn, lead(port) OVER w AS n_port,
                   lead(far_l) OVER w AS n_far_l
            FROM g
            WINDOW w AS (PARTITION BY mmsi, seg ORDER BY k)
        ), x AS (
            SELECT *,
                   (p_t IS NOT NULL AND t - p_t >= {gap.min_gap_h * 3600.0}) AS is_gap,
                   {eligible("p_", "", *enc_args)} AS enc_leg,
                   {eligible("p_", "", *lo_args)} AS lo_leg,
                   {eligible("pp_", "p_", *lo_args)} AS lo_prev,
                   {eligible("", "n_", *lo_args)} AS lo_next,
                   (port IS NOT NULL AND p_port IS DISTINCT FROM port) AS pv_start,
                   (port IS NOT NULL AND n_port IS DISTINCT FROM port) AS pv_end
            FROM w
        )
        SELECT mmsi, seg, rn, k, ts, t, lat, lon, sog_kn, pos_id, port,
               p_ts, p_t, p_lat, p_lon, p_pos, p_port,
               is_gap, enc_leg,
               (lo_leg AND NOT coalesce(lo_prev, false)) AS lo_start,
               (lo_leg AND NOT coalesce(lo_next, false)) AS lo_end,
               pv_start, pv_end
        FROM x
        WHERE is_gap OR enc_leg OR (lo_leg AND NOT (coalesce(lo_prev, false) AND coalesce(lo_next, false)))
           OR pv_start OR pv_end
        """
    )
    return int(store.query("SELECT count(*) AS n FROM _legs").column("n")[0].as_py())
