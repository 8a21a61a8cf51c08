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
from tumen.detect.events import DETECTOR_COLUMNS
from tumen.identifiers import imo_check_sql as imo_check_sql
from tumen.identifiers import imo_valid_sql as imo_valid_sql
from tumen.store.backend import Backend
from tumen.store.dialect import DUCKDB, Dialect
from tumen.tracks.geo import KN_MS, haversine_m, ts_sql

NAME = "identity"
EVENT_TYPE = "identity"


def _nulls(d: Dialect) -> str:
    """The NULL ``port``, ``from_port`` and ``to_port`` of an identity event."""
    s = d.varchar
    return (
        f"CAST(NULL AS {s}) AS port, CAST(NULL AS {s}) AS from_port, CAST(NULL AS {s}) AS to_port"
    )


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


def mid_sql(mmsi: str, dialect: Dialect = DUCKDB) -> str:
    """SQL expression: the MID of an MMSI (ITU-R M.585 Annex 1 formats), or NULL.

    Ship stations ``MIDXXXXXX``; group ``0MIDXXXXX``; coast ``00MIDXXXX``; handheld ``8MIDXXXXX``;
    SAR aircraft ``111MIDXXX``; craft associated with a parent ship ``98MIDXXXX``; AtoN ``99MIDXXXX``.
    """

    def div(n: int) -> str:
        return dialect.int_div(mmsi, str(n))

    return f"""(CASE
        WHEN {mmsi} BETWEEN 200000000 AND 799999999 THEN {div(1000000)}
        WHEN {mmsi} BETWEEN 800000000 AND 899999999 THEN {div(100000)} % 1000
        WHEN {mmsi} BETWEEN 980000000 AND 999999999 THEN {div(10000)} % 1000
        WHEN {mmsi} BETWEEN 111000000 AND 111999999 THEN {div(1000)} % 1000
        WHEN {mmsi} BETWEEN 10000000 AND 99999999 THEN {div(100000)}
        WHEN {mmsi} BETWEEN 100000 AND 9999999 THEN {div(10000)}
        END)"""


def static_text_sql(col: str, dialect: Dialect = DUCKDB) -> str:
    """SQL expression: a name or call sign as identity events compare it — ``@`` (AIS padding) as a
    space, runs of white space as one space, trimmed, upper-cased; empty → NULL.

    >>> static_text_sql("name")  # doctest: +ELLIPSIS
    "nullif(upper(trim(regexp_replace(replace(name, '@', ' '), ...)), '')"
    """
    spaces = dialect.regexp_replace_all(f"replace({col}, '@', ' ')", r"\s+", " ")
    return f"nullif(upper(trim({spaces})), '')"


def clean_statics_sql(
    segments: SegmentParams, scope_table: str | None, dialect: Dialect = DUCKDB
) -> str:
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
        return static_text_sql(col, dialect)

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
    parts = ("conflict", "jump", "change", "imo", "flag", "dprk")
    columns = [f'"{c}"' for c in DETECTOR_COLUMNS]
    store.materialise(
        "_ev_identity",
        store.dialect.union_all_by_name([f"_ev_id_{p}" for p in parts], columns),
    )


def _mmsi_conflicts(store: Backend, params: IdentityParams) -> None:
    d = store.dialect
    dist = haversine_m("p_lat", "p_lon", "lat_start", "lon_start")
    switch = d.struct(
        ("d", dist),
        ("dt", "t_start - p_t"),
        ("p_pos", "p_pos"),
        ("pos", "pos_start"),
        ("lat", "p_lat"),
        ("lon", "p_lon"),
    )
    measures = d.json_object(
        ("distance_km", "far.d / 1000.0"),
        ("implied_speed_kn", f"far.d / greatest(far.dt, 1.0) / {KN_MS}"),
        ("switches", "switches"),
        ("segments", d.json_value("segs")),
        ("duration_h", "(t1 - t0) / 3600.0"),
    )
    store.materialise(
        "_ev_id_conflict",
        f"""
        WITH r AS (
            SELECT r.mmsi, r.seg, r.rn_start, r.t_start, r.pos_start, r.lat_start, r.lon_start,
                   lag(r.seg) OVER w AS p_seg, lag(r.t_end) OVER w AS p_t, lag(r.lat_end) OVER w AS p_lat,
                   lag(r.lon_end) OVER w AS p_lon, lag(r.pos_end) OVER w AS p_pos
            FROM _runs r JOIN _segments s ON s.mmsi = r.mmsi AND s.seg = r.seg AND s.kind = 'track'
            WINDOW w AS (PARTITION BY r.mmsi ORDER BY r.rn_start)
        ), sw AS (
            SELECT mmsi, least(seg, p_seg) AS sa, greatest(seg, p_seg) AS sb,
                   {switch} AS x
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
                   max_by(far, far.d) AS far,
                   {d.sorted_distinct(d.flatten(d.collect_list(d.array("sa", "sb"))))} AS segs
            FROM grp GROUP BY mmsi, g
        )
        SELECT 'identity' AS type, 'mmsi_conflict' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               {ts_sql("t0", d)} AS start, {ts_sql("t1", d)} AS "end",
               far.lat AS lat, far.lon AS lon, {_nulls(d)},
               {d.id_list("far.p_pos", "far.pos")} AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(NULL AS {d.varchar}) AS id_key
        FROM m
        """,
    )


def _position_jumps(store: Backend) -> None:
    d = store.dialect
    out = haversine_m("pr.lat_end", "pr.lon_end", "s.lat", "s.lon")
    measures = d.json_object(
        ("distance_km", f"{out} / 1000.0"),
        ("implied_speed_kn", f"{out} / greatest(s.t_start - pr.t_end, 1.0) / {KN_MS}"),
        ("duration_h", "(s.t_end - s.t_start) / 3600.0"),
        ("return_lat", "nx.lat_start"),
        ("return_lon", "nx.lon_start"),
    )
    ids = d.id_list("pr.pos_end", "s.first_pos_id", "s.last_pos_id", "nx.pos_start")
    store.materialise(
        "_ev_id_jump",
        f"""
        SELECT 'identity' AS type, 'position_jump' AS subtype, s.mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               s.start, s."end", s.lat, s.lon, {_nulls(d)},
               {ids} AS position_ids,
               s.n_positions, {d.null_array("BIGINT")} AS static_ids,
               {measures} AS measures,
               CAST(NULL AS {d.varchar}) AS id_key
        FROM _segments s
        JOIN _runs pr ON pr.mmsi = s.mmsi AND pr.rn_end = s.rn_min - 1
        JOIN _runs nx ON nx.mmsi = s.mmsi AND nx.rn_start = s.rn_max + 1
        WHERE s.kind = 'jump'
        """,
    )


def _static_identity(
    store: Backend, params: IdentityParams, segments: SegmentParams, scope_table: str | None
) -> None:
    d = store.dialect
    s = d.varchar
    statics = clean_statics_sql(segments, scope_table, d)
    store.materialise("_statics_c", statics)
    n = params.min_static_reports
    change = d.struct(
        ("field", "field"),
        ("old", "old"),
        ("new", "value"),
        ("old_last_seen", d.iso_seconds("old_ts")),
        ("new_first_seen", d.iso_seconds("ts")),
        ("old_static_id", "old_id"),
        ("new_static_id", "static_id"),
    )
    order = "old_ts, ts, field"
    change_measures = d.json_object(
        ("changes", d.json_value(d.collect_list(change, order))),
        ("fields", d.json_value(d.sorted_distinct(d.collect_list("field")))),
    )
    # the static reports cited, ascending (DuckDB's list_distinct kept no order of its own)
    change_ids = d.sorted_distinct(d.flatten(d.collect_list(d.array("old_id", "static_id"), order)))
    store.materialise(
        "_ev_id_change",
        f"""
        WITH v AS (
            SELECT static_id, mmsi, ts, n_reports, 'name' AS field, name AS value FROM _statics_c WHERE name IS NOT NULL
            UNION ALL
            SELECT static_id, mmsi, ts, n_reports, 'imo', CAST(imo AS {
            s
        }) FROM _statics_c WHERE imo IS NOT NULL
            UNION ALL
            SELECT static_id, mmsi, ts, n_reports, 'callsign', callsign FROM _statics_c WHERE callsign IS NOT NULL
        ), sup AS (
            SELECT v.* FROM v
            JOIN (SELECT mmsi, field, value FROM v GROUP BY mmsi, field, value HAVING sum(n_reports) >= {
            n
        }) k
              ON k.mmsi = v.mmsi AND k.field = v.field AND k.value = v.value
        ), seq AS (
            SELECT *, lag(value) OVER w AS old, lag(ts) OVER w AS old_ts, lag(static_id) OVER w AS old_id
            FROM sup WINDOW w AS (PARTITION BY mmsi, field ORDER BY ts, value, static_id)
        ), ch AS (
            {
            d.first_per(
                "SELECT * FROM seq WHERE old IS NOT NULL AND old <> value",
                [
                    "static_id",
                    "mmsi",
                    "ts",
                    "n_reports",
                    "field",
                    "value",
                    "old",
                    "old_ts",
                    "old_id",
                ],
                "mmsi, field, old, value",
                "ts, old_ts",
            )
        }
        ), c1 AS (
            SELECT *, max(ts) OVER (PARTITION BY mmsi ORDER BY old_ts, ts, field
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_ts
            FROM ch
        ), c2 AS (
            SELECT *, sum(CASE WHEN prev_ts IS NULL
                                 OR {d.epoch_s("old_ts")} > {d.epoch_s("prev_ts")} + {
            params.change_merge_h * 3600.0
        }
                               THEN 1 ELSE 0 END)
                      OVER (PARTITION BY mmsi ORDER BY old_ts, ts, field) AS g
            FROM c1
        )
        SELECT 'identity' AS type, 'identity_change' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               min(old_ts) AS start, max(ts) AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon,
               {_nulls(d)}, {
            d.empty_array("BIGINT")
        } AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {change_ids} AS static_ids,
               {change_measures} AS measures,
               CAST(NULL AS {s}) AS id_key
        FROM c2 GROUP BY mmsi, g
        """,
    )
    imo_measures = d.json_object(
        ("imo", "imo"),
        ("n_reports", "n"),
        (
            "reason",
            "CASE WHEN imo BETWEEN 1000000 AND 9999999 THEN 'check digit' ELSE 'not seven digits' END",
        ),
        (
            "expected_check_digit",
            f"CASE WHEN imo BETWEEN 1000000 AND 9999999 THEN {imo_check_sql('imo')} END",
        ),
    )
    store.materialise(
        "_ev_id_imo",
        f"""
        WITH i AS (
            SELECT mmsi, imo, sum(n_reports) AS n, min(ts) AS t0, max(ts) AS t1,
                   min_by(static_id, ts) AS first_id, max_by(static_id, ts) AS last_id
            FROM _statics_c WHERE imo IS NOT NULL GROUP BY mmsi, imo HAVING sum(n_reports) >= {n}
        )
        SELECT 'identity' AS type, 'invalid_imo' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               t0 AS start, t1 AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, {_nulls(d)},
               {d.empty_array("BIGINT")} AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {d.id_list("first_id", "last_id")} AS static_ids,
               {imo_measures} AS measures,
               CAST(imo AS {s}) AS id_key
        FROM i WHERE NOT {imo_valid_sql("imo")}
        """,
    )
    mids = load_mids()
    store.materialise(
        "_mids",
        pa.table(
            {
                "mid": pa.array(mids.column("mid").to_pylist(), pa.int32()),
                **{
                    c: pa.array(mids.column(c).to_pylist(), pa.string())
                    for c in ("iso2", "parent_iso2", "country")
                },
            }
        ),
    )
    flag_measures = d.json_object(
        ("declared_flag", "flag"),
        ("mid", mid_sql("mmsi", d)),
        ("mid_flag", "iso2"),
        ("mid_country", "country"),
        ("n_reports", "n"),
    )
    store.materialise(
        "_ev_id_flag",
        f"""
        WITH f AS (
            SELECT s.mmsi, s.flag, m.iso2, m.country, sum(s.n_reports) AS n, min(s.ts) AS t0, max(s.ts) AS t1,
                   min_by(s.static_id, s.ts) AS first_id, max_by(s.static_id, s.ts) AS last_id
            FROM _statics_c s JOIN _mids m ON m.mid = {mid_sql("s.mmsi", d)}
            WHERE s.flag IS NOT NULL AND s.flag <> m.iso2 AND s.flag <> coalesce(m.parent_iso2, m.iso2)
            GROUP BY s.mmsi, s.flag, m.iso2, m.country
        )
        SELECT 'identity' AS type, 'flag_mismatch' AS subtype, mmsi, CAST(NULL AS BIGINT) AS other_mmsi,
               t0 AS start, t1 AS "end", CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, {_nulls(d)},
               {d.empty_array("BIGINT")} AS position_ids, CAST(NULL AS BIGINT) AS n_positions,
               {d.id_list("first_id", "last_id")} AS static_ids,
               {flag_measures} AS measures,
               flag AS id_key
        FROM f
        """,
    )


def _dprk_mid(store: Backend, params: IdentityParams, scope_table: str | None) -> None:
    lo, hi = params.dprk_mid * 1_000_000, params.dprk_mid * 1_000_000 + 999_999
    d = store.dialect
    scope = f"AND mmsi IN (SELECT mmsi FROM {scope_table})" if scope_table else ""
    measures = d.json_object(
        ("mid", str(params.dprk_mid)), ("n_static_reports", "coalesce(s.n, 0)")
    )
    store.materialise(
        "_ev_id_dprk",
        f"""
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
               p.lat, p.lon, {_nulls(d)},
               {d.id_list("p.first_pos", "p.last_pos")} AS position_ids, p.n AS n_positions,
               CASE WHEN s.mmsi IS NOT NULL THEN {d.id_list("s.first_id", "s.last_id")} END AS static_ids,
               {measures} AS measures,
               CAST(NULL AS {d.varchar}) AS id_key
        FROM p FULL JOIN s ON s.mmsi = p.mmsi
        WHERE coalesce(p.n, 0) + coalesce(s.n, 0) >= {params.dprk_min_reports}
        """,
    )
