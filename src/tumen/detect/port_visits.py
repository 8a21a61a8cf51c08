"""Port visits: a vessel inside a watched port's circle.

Definition
----------
A *port visit* is a maximal run of consecutive fixes of one ``track`` segment that all lie in the
same watched port (:mod:`tumen.detect.ports`: within ``radius_km × radius_scale`` km of the port's
position; overlapping circles resolved to the nearest port).  ``start`` is the time of the first
fix inside, ``end`` of the last fix inside (UTC); the visit is reported when it lasts at least
``min_duration_min`` minutes.  A silence inside the port — however long — does not split the visit;
a fix outside the circle (or inside another port's) does.

Source: after Global Fishing Watch's port visits, built from port entry (within 3 km of an
anchorage) and exit events (https://globalfishingwatch.github.io/GFW_technical_documentation/
Anchorages-and-voyages.html); tumen uses a single radius per watched port instead of GFW's
anchorage points with 3/4 km hysteresis, because it watches a fixed list of ports.

Evidence: the first and last fix inside (``position_ids``), ``n_positions`` (fixes in the visit),
``duration_h`` (hours), ``country`` of the port and its position ``port_lat``/``port_lon``.
"""

from __future__ import annotations

from tumen.config import PortVisitParams
from tumen.detect.events import id_list_sql
from tumen.store.backend import Backend

NAME = "port_visits"
EVENT_TYPE = "port_visit"


def detect_port_visits(store: Backend, params: PortVisitParams) -> None:
    """Write ``_ev_port_visits`` from ``_legs`` (fixes where a port visit starts or ends)."""
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_port_visits AS
        WITH m AS (
            SELECT *, min(CASE WHEN pv_end THEN k END) OVER (
                       PARTITION BY mmsi, seg ORDER BY k ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
                   ) AS end_k
            FROM _legs WHERE pv_start OR pv_end
        )
        SELECT 'port_visit' AS type, CAST(NULL AS VARCHAR) AS subtype, s.mmsi,
               CAST(NULL AS BIGINT) AS other_mmsi, s.ts AS start, e.ts AS "end",
               s.lat, s.lon, s.port, CAST(NULL AS VARCHAR) AS from_port, CAST(NULL AS VARCHAR) AS to_port,
               {id_list_sql("s.pos_id", "e.pos_id")} AS position_ids,
               CAST(e.rn - s.rn + 1 AS BIGINT) AS n_positions,
               CAST(NULL AS BIGINT[]) AS static_ids,
               json_object('duration_h', (e.t - s.t) / 3600.0, 'country', p.country,
                           'port_lat', p.lat, 'port_lon', p.lon) AS measures,
               CAST(s.seg AS VARCHAR) AS id_key,
               s.seg, s.pos_id AS first_pos, e.pos_id AS last_pos, e.lat AS end_lat, e.lon AS end_lon,
               s.t AS t_start, e.t AS t_end, p.country
        FROM m s
        JOIN _legs e ON e.mmsi = s.mmsi AND e.seg = s.seg AND e.k = s.end_k
        JOIN _ports p ON p.name = s.port
        WHERE s.pv_start AND e.port = s.port AND e.t - s.t >= {params.min_duration_min * 60.0}
        """
    )
