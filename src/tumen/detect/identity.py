"""Identity fraud: who a transmitter claims to be, and whether that claim holds.

Every event has ``type = 'identity'`` and one of these ``subtype``\\ s:

``mmsi_conflict``
    One MMSI transmitted from two places at once: two ``track`` segments of the MMSI
    (:mod:`tumen.tracks.segments`) whose time spans overlap for at least ``conflict_min_h`` hours and
    between which the MMSI's reports switch at least ``conflict_min_switches`` times (so both were
    really on the air together; a single excursion switches twice).  Overlapping conflicts of one MMSI
    are merged; ``start``/``end`` is the overlap.  Evidence: the two fixes either side of the switch
    where the tracks were farthest apart (``position_ids``), ``distance_km`` and ``implied_speed_kn``
    between them, ``switches``, ``segments``.
``position_jump``
    A short excursion at an impossible speed that returns: a ``jump`` segment — at least
    ``jump_min_positions`` fixes spanning at most ``jump_max_h`` hours, unreachable from the vessel's
    own fix before it, with the vessel's track resuming after it.  ``start``/``end`` are the first and
    last fix of the excursion.  Evidence: the vessel's fix before, the excursion's first and last fix,
    the vessel's fix after (``position_ids``), ``distance_km`` and ``implied_speed_kn`` of the jump out.
``identity_change``
    The name, IMO number or call sign in the static reports of one MMSI changes.  Only values seen in
    at least ``min_static_reports`` reports count (a bit error in one report is not a renaming); names
    and call signs are compared upper-cased with spaces collapsed.  Changes of several fields less than
    ``change_merge_h`` hours apart form one event; a change back and forth again is reported once per
    direction.  ``start`` is the last report with the old value, ``end`` the first with the new.
``invalid_imo``
    An IMO number (reported in at least ``min_static_reports`` reports; 0 means "not available") that
    is not a valid IMO ship identification number: not seven digits, or a wrong check digit (the last
    digit equals the sum of the first six multiplied by 7, 6, 5, 4, 3, 2, modulo 10; IMO Resolution
    A.1117(30)).  One event per MMSI and IMO, from its first to its last report.
``flag_mismatch``
    The flag declared in the static data (ISO 3166 alpha-2, where the input carries one) differs from
    the flag implied by the MMSI's Maritime Identification Digits (``tumen/data/mid.csv``, the ITU MID
    table; a territory's MID also accepts its parent state).  One event per MMSI and declared flag.
``dprk_mid``
    A ship-station MMSI whose MID is ``dprk_mid`` (445, the Democratic People's Republic of Korea)
    with at least ``dprk_min_reports`` position and static reports (one corrupt MMSI is not a
    vessel), from its first to its last report.

Sources: ITU-R M.585 (MMSI format and MIDs) and the ITU MID table; IMO Resolution A.1117(30) (IMO
numbers); identity manipulation as documented by the UN Panel of Experts on the DPRK and by Global
Fishing Watch's vessel-identity work (https://globalfishingwatch.org/datasets-and-code/vessel-identity/).
"""

from __future__ import annotations

from importlib import resources

import pyarrow as pa
import pyarrow.csv as pacsv

from tumen.config import IdentityParams, SegmentParams
from tumen.detect.events import id_list_sql
from tumen.identifiers import imo_check_sql as imo_check_sql
from tumen.identifiers import imo_valid_sql as imo_valid_sql
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m, ts_sql

NAME = "identity"
EVENT_TYPE = "identity"

_NULLS = """CAST(NULL AS VARCHAR) AS port, CAST(NULL AS VARCHAR) AS from_port,
               CAST(NULL AS VARCHAR) AS to_port"""


def load_mids() -> pa.Table:
    """The bundled MID table: ``mid`` (int), ``iso2``, ``parent_iso2`` (or empty), ``country``."""
    path = resources.files("tumen.data").joinpath("mid.csv")
    with resources.as_file(path) as p:
        return pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                column_types={"mid": pa.int32(), "iso2": pa.string(), "parent_iso2": pa.string()},
                null_values=[""],  # not "NA": that is Namibia
                strings_can_be_null=True,
            ),
        )


def mid_sql(mmsi: str) -> str:
    """SQL expression: the MID of an MMSI (ITU-R M.585 Annex 1 formats), or NULL.

    Ship stations ``MIDXXXXXX``; group ``0MIDXXXXX``; coast ``00MIDXXXX``; handheld ``8MIDXXXXX``;
    SAR aircraft ``111MIDXXX``; craft associated with a parent ship ``98MIDXXXX``; AtoN ``99MIDXXXX``.
    """
    return f"""(CASE
        WHEN {mmsi} BETWEEN 200000000 AND 799999999 THEN {mmsi} // 1000000
        WHEN {mmsi} BETWEEN 800000000 AND 899999999 THEN ({mmsi} // 100000) % 1000
        WHEN {mmsi} BETWEEN 980000000 AND 999999999 THEN ({mmsi} // 10000) % 1000
        WHEN {mmsi} BETWEEN 111000000 AND 111999999 THEN ({mmsi} // 1000) % 1000
        WHEN {mmsi} BETWEEN 10000000 AND 99999999 THEN {mmsi} // 100000
        WHEN {mmsi} BETWEEN 100000 AND 9999999 THEN {mmsi} // 10000
        END)"""


def clean_statics_sql(segments: SegmentParams, scope_table: str | None) -> str:
    """Static reports with a time, normalised: ``static_id, mmsi, ts, n_reports, name, callsign, imo, flag``.

    ``n_reports`` is how many reports a row stands for (1 for an AIS static message; a CSV
    row stands for the MMSI's following rows with the same static values).
    """
    where = ["ts IS NOT NULL"]
    if segments.vessels_only:
        where.append("mmsi BETWEEN 200000000 AND 799999999")
    if scope_table:
        where.append(f"mmsi IN (SELECT mmsi FROM {scope_table})")

    def text(col: str) -> str:
        return (
            f"nullif(upper(trim(regexp_replace(replace({col}, '@', ' '), '\\s+', ' ', 'g'))), '')"
        )

    return f"""
    SELECT static_id, mmsi, ts, coalesce(n_reports, 1) AS n_reports,
           {text("name")} AS name, {text("callsign")} AS callsign,
           CASE WHEN imo > 0 THEN imo END AS imo,
           CASE WHEN length(trim(flag)) = 2 THEN upper(trim(flag)) END AS flag
    FROM statics WHERE {" AND ".join(where)}
    """


def detect_identity(
    store: Backend,
    params: IdentityParams,
    segments: SegmentParams,
    *,
    scope_table: str | None = None,
) -> None:
    """Write ``_ev_identity`` (all subtypes) from ``_runs``/``_segments``, statics and positions."""
    _mmsi_conflicts(store, params)
    _position_jumps(store)
    _static_identity(store, params, segments, scope_table)
    _dprk_mid(store, params, scope_table)
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ev_identity AS
        SELECT * FROM _ev_id_conflict UNION ALL BY NAME SELECT * FROM _ev_id_jump
        UNION ALL BY NAME SELECT * FROM _ev_id_change UNION ALL BY NAME SELECT * FROM _ev_id_imo
        UNION ALL BY NAME SELECT * FROM _ev_id_flag UNION ALL BY NAME SELECT * FROM _ev_id_dprk
        """
    )


def _mmsi_conflicts(store: Backend, params: IdentityParams) -> None:
    dist = haversine_m("p_lat", "p_lon", "lat_start", "lon_start")
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_conflict AS
        WITH r AS (
            SELECT r.mmsi, r.seg, r.rn_start, r.t_start, r.pos_start, r.lat_start, r.lon_start,
                   lag(r.seg) OVER w AS p_seg, lag(r.t_end) OVER w AS p_t, lag(r.lat_end) OVER w AS p_lat,
                   lag(r.lon_end) OVER w AS p_lon, lag(r.pos_end) OVER w AS p_pos
            FROM _runs r JOIN _segments s ON s.mmsi = r.mmsi AND s.seg = r.seg AND s.kind = 'track'
            WINDOW w AS (PARTITION BY r.mmsi ORDER BY r.rn_start)
        ), sw AS (
            SELECT mmsi, least(seg, p_seg) AS sa, greatest(seg, p_seg) AS sb,
                   struct_pack(d := {dist}, dt := t_start - p_t, p_pos := p_pos, pos := pos_start,
                               lat := p_lat, lon := p_lon) AS x
            FROM r WHERE p_seg IS NOT NULL AND p_seg <> seg
        ), pairs AS (
            SELECT mmsi, sa, sb, count(*) AS switches, max_by(x, x.d) AS far FROM sw GROUP BY mmsi, sa, sb
        ), ov AS (
            SELECT p.*, greatest(a.t_start, b.t_start) AS o0, least(a.t_end, b.t_end) AS o1
            FROM pairs p
            JOIN _segments a ON a.mmsi = p.mmsi AND a.seg = p.sa
            JOIN _segments b ON b.mmsi = p.mmsi AND b.seg = p.sb
            WHERE p.switches >= {params.conflict_min_switches}
        ), ok AS (
            SELECT *, max(o1) OVER (PARTITION BY mmsi ORDER BY o0, o1, sa, sb
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM ov WHERE o1 - o0 >= {params.conflict_min_h * 3600.0}
        ), grp AS (
            SELECT *, sum(CASE WHEN prev_end IS NULL OR o0 > prev_end THEN 1 ELSE 0 END)
                      OVER (PARTITION BY mmsi ORDER BY o0, o1, sa, sb) AS g
            FROM ok
        ), m AS (
            SELECT mmsi, g, min(o0) AS t0, max(o1) AS t1, sum(switches) AS switches,
                   max_by(far, far.d) AS far, list_sort(list_distinct(flatten(list([sa, sb])))) AS segs
            FROM grp GROUP BY mmsi, g
        )
        SELECT 'identity' AS type, 'mmsi_conflict' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               {ts_sql("t0")} AS start, {ts_sql("t1")} AS "end",
               far.lat AS lat, far.lon AS lon, {_NULLS},
               {id_list_sql("far.p_pos", "far.pos")} AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               CAST(NULL AS BIGINT[]) AS static_ids,
               json_object('distance_km', far.d / 1000.0,
                           'implied_speed_kn', far.d / greatest(far.dt, 1.0) / {KN_MS},
                           'switches', switches, 'segments', segs, 'duration_h', (t1 - t0) / 3600.0) AS measures,
               CAST(NULL AS VARCHAR) AS id_key
        FROM m
        """
    )


def _position_jumps(store: Backend) -> None:
    out = haversine_m("pr.lat_end", "pr.lon_end", "s.lat", "s.lon")
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_jump AS
        SELECT 'identity' AS type, 'position_jump' AS subtype, s.mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               s.start, s."end", s.lat, s.lon, {_NULLS},
               {id_list_sql("pr.pos_end", "s.first_pos_id", "s.last_pos_id", "nx.pos_start")} AS position_ids,
               s.n_positions, CAST(NULL AS BIGINT[]) AS static_ids,
               json_object('distance_km', {out} / 1000.0,
                           'implied_speed_kn', {out} / greatest(s.t_start - pr.t_end, 1.0) / {KN_MS},
                           'duration_h', (s.t_end - s.t_start) / 3600.0,
                           'return_lat', nx.lat_start, 'return_lon', nx.lon_start) AS measures,
               CAST(NULL AS VARCHAR) AS id_key
        FROM _segments s
        JOIN _runs pr ON pr.mmsi = s.mmsi AND pr.rn_end = s.rn_min - 1
        JOIN _runs nx ON nx.mmsi = s.mmsi AND nx.rn_start = s.rn_max + 1
        WHERE s.kind = 'jump'
        """
    )


def _static_identity(
    store: Backend, params: IdentityParams, segments: SegmentParams, scope_table: str | None
) -> None:
    statics = clean_statics_sql(segments, scope_table)
    store.execute(f"CREATE OR REPLACE TEMP TABLE _statics_c AS {statics}")
    n = params.min_static_reports
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_change AS
        WITH v AS (
            SELECT static_id, mmsi, ts, n_reports, 'name' AS field, name AS value FROM _statics_c WHERE name IS NOT NULL
            UNION ALL
            SELECT static_id, mmsi, ts, n_reports, 'imo', CAST(imo AS VARCHAR) FROM _statics_c WHERE imo IS NOT NULL
            UNION ALL
            SELECT static_id, mmsi, ts, n_reports, 'callsign', callsign FROM _statics_c WHERE callsign IS NOT NULL
        ), sup AS (
            SELECT v.* FROM v
            JOIN (SELECT mmsi, field, value FROM v GROUP BY mmsi, field, value HAVING sum(n_reports) >= {n}) k
              ON k.mmsi = v.mmsi AND k.field = v.field AND k.value = v.value
        ), seq AS (
            SELECT *, lag(value) OVER w AS old, lag(ts) OVER w AS old_ts, lag(static_id) OVER w AS old_id
            FROM sup WINDOW w AS (PARTITION BY mmsi, field ORDER BY ts, value, static_id)
        ), ch AS (
            SELECT * FROM seq WHERE old IS NOT NULL AND old <> value
            QUALIFY row_number() OVER (PARTITION BY mmsi, field, old, value ORDER BY ts, old_ts) = 1
        ), c1 AS (
            SELECT *, max(ts) OVER (PARTITION BY mmsi ORDER BY old_ts, ts, field
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_ts
            FROM ch
        ), c2 AS (
            SELECT *, sum(CASE WHEN prev_ts IS NULL
                                 OR epoch(old_ts) > epoch(prev_ts) + {params.change_merge_h * 3600.0}
                               THEN 1 ELSE 0 END)
                      OVER (PARTITION BY mmsi ORDER BY old_ts, ts, field) AS g
            FROM c1
        )
        SELECT 'identity' AS type, 'identity_change' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               min(old_ts) AS start, max(ts) AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon,
               {_NULLS}, []::BIGINT[] AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               list_distinct(flatten(list([old_id, static_id] ORDER BY old_ts, ts, field))) AS static_ids,
               json_object('changes', to_json(list(struct_pack(field := field, old := old, new := value,
                           old_last_seen := strftime(old_ts, '%Y-%m-%dT%H:%M:%SZ'),
                           new_first_seen := strftime(ts, '%Y-%m-%dT%H:%M:%SZ'),
                           old_static_id := old_id, new_static_id := static_id)
                           ORDER BY old_ts, ts, field)),
                           'fields', to_json(list_sort(list_distinct(list(field))))) AS measures,
               CAST(NULL AS VARCHAR) AS id_key
        FROM c2 GROUP BY mmsi, g
        """
    )
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_imo AS
        WITH i AS (
            SELECT mmsi, imo, sum(n_reports) AS n, min(ts) AS t0, max(ts) AS t1,
                   min_by(static_id, ts) AS first_id, max_by(static_id, ts) AS last_id
            FROM _statics_c WHERE imo IS NOT NULL GROUP BY mmsi, imo HAVING sum(n_reports) >= {n}
        )
        SELECT 'identity' AS type, 'invalid_imo' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               t0 AS start, t1 AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, {_NULLS},
               []::BIGINT[] AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {id_list_sql("first_id", "last_id")} AS static_ids,
               json_object('imo', imo, 'n_reports', n,
                           'reason', CASE WHEN imo BETWEEN 1000000 AND 9999999 THEN 'check digit'
                                          ELSE 'not seven digits' END,
                           'expected_check_digit', CASE WHEN imo BETWEEN 1000000 AND 9999999
                                                        THEN {imo_check_sql("imo")} END) AS measures,
               CAST(imo AS VARCHAR) AS id_key
        FROM i WHERE NOT {imo_valid_sql("imo")}
        """
    )
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _mids (mid INTEGER, iso2 VARCHAR, parent_iso2 VARCHAR, country VARCHAR)"
    )
    store.append("_mids", load_mids())
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_flag AS
        WITH f AS (
            SELECT s.mmsi, s.flag, m.iso2, m.country, sum(s.n_reports) AS n, min(s.ts) AS t0, max(s.ts) AS t1,
                   min_by(s.static_id, s.ts) AS first_id, max_by(s.static_id, s.ts) AS last_id
            FROM _statics_c s JOIN _mids m ON m.mid = {mid_sql("s.mmsi")}
            WHERE s.flag IS NOT NULL AND s.flag <> m.iso2 AND s.flag <> coalesce(m.parent_iso2, m.iso2)
            GROUP BY s.mmsi, s.flag, m.iso2, m.country
        )
        SELECT 'identity' AS type, 'flag_mismatch' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               t0 AS start, t1 AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, {_NULLS},
               []::BIGINT[] AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {id_list_sql("first_id", "last_id")} AS static_ids,
               json_object('declared_flag', flag, 'mid', {mid_sql("mmsi")}, 'mid_flag', iso2,
                           'mid_country', country, 'n_reports', n) AS measures,
               flag AS id_key
        FROM f
        """
    )


def _dprk_mid(store: Backend, params: IdentityParams, scope_table: str | None) -> None:
    lo, hi = params.dprk_mid * 1_000_000, params.dprk_mid * 1_000_000 + 999_999
    scope = f"AND mmsi IN (SELECT mmsi FROM {scope_table})" if scope_table else ""
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_id_dprk AS
        WITH p AS (
            SELECT mmsi, min(ts) AS t0, max(ts) AS t1, count(*) AS n,
                   min_by(pos_id, ts) AS first_pos, max_by(pos_id, ts) AS last_pos,
                   max_by(lat, ts) AS lat, max_by(lon, ts) AS lon
            FROM positions WHERE mmsi BETWEEN {lo} AND {hi} AND ts IS NOT NULL {scope}
            GROUP BY mmsi
        ), s AS (
            SELECT mmsi, min(ts) AS t0, max(ts) AS t1, count(*) AS n,
                   min_by(static_id, ts) AS first_id, max_by(static_id, ts) AS last_id
            FROM statics WHERE mmsi BETWEEN {lo} AND {hi} AND ts IS NOT NULL {scope}
            GROUP BY mmsi
        )
        SELECT 'identity' AS type, 'dprk_mid' AS subtype, coalesce(p.mmsi, s.mmsi) AS mmsi,
               CAST(NULL AS BIGINT) AS other_mmsi,
               least(coalesce(p.t0, s.t0), coalesce(s.t0, p.t0)) AS start,
               greatest(coalesce(p.t1, s.t1), coalesce(s.t1, p.t1)) AS "end",
               p.lat, p.lon, {_NULLS},
               {id_list_sql("p.first_pos", "p.last_pos")} AS position_ids, p.n AS n_positions,
               CASE WHEN s.mmsi IS NOT NULL THEN {id_list_sql("s.first_id", "s.last_id")} END AS static_ids,
               json_object('mid', {params.dprk_mid}, 'n_static_reports', coalesce(s.n, 0)) AS measures,
               CAST(NULL AS VARCHAR) AS id_key
        FROM p FULL JOIN s ON s.mmsi = p.mmsi
        WHERE coalesce(p.n, 0) + coalesce(s.n, 0) >= {params.dprk_min_reports}
        """
    )
