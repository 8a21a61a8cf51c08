"""Voyages: from one watched port to a different one.

Definition
----------
A *voyage* joins two consecutive port visits (:mod:`tumen.detect.port_visits`) of one MMSI, ordered
by start time, at two **different** watched ports — whether or not the vessel transmitted in between
(a dark transit is still a voyage).  ``from_port`` is the port of the first visit, ``to_port`` of the
second; ``start`` is the end of the first visit and ``end`` the start of the second (UTC).

It is reported when it lasts at most ``max_duration_days`` days and when it was physically possible:
the great-circle distance from the last fix of the first visit to the first fix of the second, at most
``segments.max_speed_kn`` knots (+ ``segments.noise_m``).  The speed rule keeps two transmitters that
share one MMSI from producing voyages between the ports each of them visits.

Source: Global Fishing Watch connects a vessel's port exit to its next port entry to form voyages
(https://globalfishingwatch.github.io/GFW_technical_documentation/Anchorages-and-voyages.html).

Evidence: the last fix of the first visit and the first fix of the second (``position_ids``),
``from_visit_id``/``to_visit_id`` (the two ``port_visit`` events), ``distance_km``, ``duration_h``,
``mean_speed_kn`` (distance / duration), the ports' countries and ``kp_ru`` (true when one end is a
North Korean and the other a Russian port — what analysts look at first).
"""

from __future__ import annotations

from tumen.config import SegmentParams, VoyageParams
from tumen.detect.events import event_id_sql
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m

NAME = "voyages"
EVENT_TYPE = "voyage"


def detect_voyages(store: Backend, params: VoyageParams, segments: SegmentParams) -> None:
    """Write ``_ev_voyages`` from ``_ev_port_visits``."""
    d = store.dialect
    s = d.varchar
    dist = haversine_m("a.end_lat", "a.end_lon", "b.lat", "b.lon")
    measures = d.json_object(
        ("from_visit_id", "from_visit"),
        ("to_visit_id", "to_visit"),
        ("distance_km", "dist_m / 1000.0"),
        ("duration_h", "dt / 3600.0"),
        ("mean_speed_kn", f"CASE WHEN dt > 0 THEN dist_m / dt / {KN_MS} END"),
        ("from_country", "from_country"),
        ("to_country", "to_country"),
        (
            "kp_ru",
            "(from_country = 'KP' AND to_country = 'RU') OR (from_country = 'RU' AND to_country = 'KP')",
        ),
    )
    store.materialise(
        "_ev_voyages",
        f"""
        WITH v AS (
            SELECT *, {event_id_sql("", "port_visits", d)} AS visit_id,
                   row_number() OVER (PARTITION BY mmsi ORDER BY t_start, t_end, port) AS i
            FROM _ev_port_visits
        ), pairs AS (
            SELECT a.mmsi, a.port AS from_port, b.port AS to_port, a."end" AS start, b.start AS "end",
                   a.end_lat, a.end_lon, a.last_pos, b.first_pos, a.visit_id AS from_visit,
                   b.visit_id AS to_visit, a.country AS from_country, b.country AS to_country,
                   b.t_start - a.t_end AS dt, {dist} AS dist_m
            FROM v a JOIN v b ON b.mmsi = a.mmsi AND b.i = a.i + 1
            WHERE a.port <> b.port
        )
        SELECT 'voyage' AS type, CAST(NULL AS {s}) AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               start, "end", end_lat AS lat, end_lon AS lon, CAST(NULL AS {s}) AS port,
               from_port, to_port, {d.id_list("last_pos", "first_pos")} AS position_ids,
               CAST(NULL AS BIGINT) AS n_positions, {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(NULL AS {s}) AS id_key
        FROM pairs
        WHERE dt >= 0 AND dt <= {params.max_duration_days * 86400.0}
          AND dist_m <= {segments.noise_m} + {segments.max_speed_kn * KN_MS} * dt
        """,
    )
