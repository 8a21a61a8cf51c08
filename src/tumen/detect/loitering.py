"""Loitering: one vessel drifting or stopped at sea for hours.

Definition
----------
*Loitering* is a maximal run of consecutive legs of one ``track`` segment (:mod:`tumen.detect.legs`)
each of which is

- slow: both fixes under ``max_speed_kn`` knots (reported SOG, or implied speed where SOG is not
  available) and, for legs of ten minutes or more, an implied speed under it too;
- at sea: both fixes at least ``min_port_distance_km`` km from every watched port's position;
- shorter than ``max_silence_h`` hours (a longer silence ends the run; by default this is the gap
  threshold, so a loitering never spans a reported gap);

lasting at least ``min_duration_h`` hours from its first fix (``start``) to its last (``end``), UTC.
``lat``/``lon`` is the first fix.

Source: after Global Fishing Watch's loitering events — a single vessel at an average speed under
2 knots for hours away from shore and anchorages (https://globalfishingwatch.org/faqs/
what-is-a-loitering-event/; ``pipe-events`` ``loitering-events.sql.j2``).  GFW uses the mean speed of
the run; tumen requires every leg to be slow, which is stricter for a vessel that briefly moves.

Evidence: first and last fix (``position_ids``), ``n_positions``, ``duration_h``, ``displacement_km``
(first to last fix) and ``net_speed_kn`` (displacement / duration).
"""

from __future__ import annotations

from tumen.config import LoiteringParams
from tumen.detect.events import id_list_sql
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m

NAME = "loitering"
EVENT_TYPE = "loitering"


def detect_loitering(store: Backend, params: LoiteringParams) -> None:
    """Write ``_ev_loitering`` from ``_legs`` (fixes where a loitering run starts or ends)."""
    disp = haversine_m("s.p_lat", "s.p_lon", "e.lat", "e.lon")
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_loitering AS
        WITH m AS (
            SELECT *, min(CASE WHEN lo_end THEN k END) OVER (
                       PARTITION BY mmsi, seg ORDER BY k ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
                   ) AS end_k
            FROM _legs WHERE lo_start OR lo_end
        )
        SELECT 'loitering' AS type, CAST(NULL AS VARCHAR) AS subtype, s.mmsi,
               CAST(NULL AS BIGINT) AS other_mmsi, s.p_ts AS start, e.ts AS "end",
               s.p_lat AS lat, s.p_lon AS lon, CAST(NULL AS VARCHAR) AS port,
               CAST(NULL AS VARCHAR) AS from_port, CAST(NULL AS VARCHAR) AS to_port,
               {id_list_sql("s.p_pos", "e.pos_id")} AS position_ids,
               CAST(e.rn - s.rn + 2 AS BIGINT) AS n_positions, CAST(NULL AS BIGINT[]) AS static_ids,
               json_object('duration_h', (e.t - s.p_t) / 3600.0, 'displacement_km', {disp} / 1000.0,
                           'net_speed_kn', {disp} / greatest(e.t - s.p_t, 1.0) / {KN_MS}) AS measures,
               CAST(s.seg AS VARCHAR) AS id_key
        FROM m s JOIN _legs e ON e.mmsi = s.mmsi AND e.seg = s.seg AND e.k = s.end_k
        WHERE s.lo_start AND e.t - s.p_t >= {params.min_duration_h * 3600.0}
        """
    )
