"""Loitering: one vessel drifting or stopped at sea for hours.

Definition
----------
*Loitering* is a maximal run of consecutive legs of one ``track`` segment (:mod:`tumen.detect.legs`)
each of which is

- slow: both fixes under ``max_speed_kn`` knots (reported SOG, or implied speed where SOG is not
  available) and, for legs of ten minutes or more, an implied speed under it too;
- at sea: both fixes at least ``min_port_distance_km`` km from every watched port's position and
  inside no watched port's circle (which a ``--ports`` file may draw wider than that distance);
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
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m, ts_sql

NAME = "loitering"
EVENT_TYPE = "loitering"


def detect_loitering(store: Backend, params: LoiteringParams) -> None:
    """Write ``_ev_loitering`` from the ``lo_leg`` legs of ``_legs`` (runs of consecutive legs)."""
    d = store.dialect
    s = d.varchar
    disp = haversine_m("lat0", "lon0", "lat1", "lon1")
    measures = d.json_object(
        ("duration_h", "(t1 - t0) / 3600.0"),
        ("displacement_km", f"{disp} / 1000.0"),
        ("net_speed_kn", f"{disp} / greatest(t1 - t0, 1.0) / {KN_MS}"),
    )
    store.materialise(
        "_ev_loitering",
        f"""
        WITH l AS (
            SELECT *, rn - row_number() OVER (PARTITION BY mmsi, seg ORDER BY rn) AS run
            FROM _legs WHERE lo_leg
        ), r AS (
            SELECT mmsi, seg, min(p_t) AS t0, max(t) AS t1, min(rn) AS rn0, max(rn) AS rn1,
                   min_by(p_pos, rn) AS pos0, max_by(pos_id, rn) AS pos1,
                   min_by(p_lat, rn) AS lat0, min_by(p_lon, rn) AS lon0,
                   max_by(lat, rn) AS lat1, max_by(lon, rn) AS lon1
            FROM l GROUP BY mmsi, seg, run
        )
        SELECT 'loitering' AS type, CAST(NULL AS {s}) AS subtype, mmsi,
               CAST(NULL AS BIGINT) AS other_mmsi, {ts_sql("t0", d)} AS start, {ts_sql("t1", d)} AS "end",
               lat0 AS lat, lon0 AS lon, CAST(NULL AS {s}) AS port,
               CAST(NULL AS {s}) AS from_port, CAST(NULL AS {s}) AS to_port,
               {d.id_list("pos0", "pos1")} AS position_ids,
               CAST(rn1 - rn0 + 2 AS BIGINT) AS n_positions, {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(seg AS {s}) AS id_key
        FROM r
        WHERE t1 - t0 >= {params.min_duration_h * 3600.0}
        """,
    )
