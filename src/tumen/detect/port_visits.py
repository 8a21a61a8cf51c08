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
from tumen.store.backend import Backend
from tumen.tracks.geo import ts_sql

NAME = "port_visits"
EVENT_TYPE = "port_visit"


def detect_port_visits(store: Backend, params: PortVisitParams) -> None:
    """Write ``_ev_port_visits`` from the fixes of ``_legs`` that are inside a port."""
    d = store.dialect
    s = d.varchar
    measures = d.json_object(
        ("duration_h", "(r.t_end - r.t_start) / 3600.0"),
        ("country", "p.country"),
        ("port_lat", "p.lat"),
        ("port_lon", "p.lon"),
    )
    store.materialise(
        "_ev_port_visits",
        f"""
        WITH v AS (
            SELECT *, rn - row_number() OVER (PARTITION BY mmsi, seg, port ORDER BY rn) AS grp
            FROM _legs WHERE port IS NOT NULL
        ), r AS (
            SELECT mmsi, seg, port, min(t) AS t_start, max(t) AS t_end, count(*) AS n,
                   min_by(pos_id, rn) AS first_pos, max_by(pos_id, rn) AS last_pos,
                   min_by(lat, rn) AS lat, min_by(lon, rn) AS lon,
                   max_by(lat, rn) AS end_lat, max_by(lon, rn) AS end_lon
            FROM v GROUP BY mmsi, seg, port, grp
        )
        SELECT 'port_visit' AS type, CAST(NULL AS {s}) AS subtype, r.mmsi,
               CAST(NULL AS BIGINT) AS other_mmsi, {ts_sql("r.t_start", d)} AS start,
               {ts_sql("r.t_end", d)} AS "end",
               r.lat, r.lon, r.port, CAST(NULL AS {s}) AS from_port, CAST(NULL AS {s}) AS to_port,
               {d.id_list("r.first_pos", "r.last_pos")} AS position_ids,
               CAST(r.n AS BIGINT) AS n_positions, {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(r.seg AS {s}) AS id_key,
               r.seg, r.first_pos, r.last_pos, r.end_lat, r.end_lon, r.t_start, r.t_end, p.country
        FROM r JOIN _ports p ON p.name = r.port
        WHERE r.t_end - r.t_start >= {params.min_duration_min * 60.0}
        """,
    )
