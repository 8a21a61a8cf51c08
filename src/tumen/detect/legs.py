"""Legs: every fix beside its neighbours, in one window pass shared by segmentation and detectors.

A *leg* joins a fix to its parent, the fix before it in its segment (:mod:`tumen.tracks.segments`).
For each leg this pass decides, once, what the detectors ask of it:

- ``is_gap``: the leg lasts at least ``gaps.min_gap_h`` hours (a silence);
- ``enc_leg``: the vessel could take part in an encounter along it — both fixes at least
  ``encounters.min_port_distance_km`` from every port, the leg at most ``encounters.max_interp_gap_min``
  long, and the vessel slow (see :func:`slow_sql`) below ``encounters.max_speed_kn``;
- ``lo_leg``: the same for loitering (``loitering.*``; the leg shorter than ``loitering.max_silence_h``);
- ``port``: the watched port each fix near a port is in (:mod:`tumen.detect.ports`), or NULL.

A leg is *slow* below ``v`` knots when (:func:`slow_sql`), over ten minutes or more, both its implied
speed and the reported speeds at its ends are, and over less, either of them is (so one corrupt
SOG value does not break a run of fixes that did not move).

How it runs: **one** window pass over all clean positions, ordered by MMSI and time, computes both
the segmentation marks (breaks and run ends, :func:`tumen.tracks.segments.marks_sql`) and the leg
flags above, taking the previous fix as the parent.  It carries only a cheap "near a port" flag (one
equality join on a 0.1° cell); exact port distances are computed afterwards for the few rows kept.  That is exact for every MMSI whose positions
form a single run (the vast majority); the few MMSIs with several runs (spoofed jumps, two
transmitters, glitches) are segmented from the marks and then run through a second window pass of
their own, partitioned by segment.  Only the rows some detector needs are kept.

Table written: ``_legs`` with ``mmsi, seg, rn, k, t, lat, lon, sog_kn, pos_id, port``, the parent
``p_t, p_lat, p_lon, p_pos, p_port`` and the flags ``is_gap, enc_leg, lo_leg``; it holds every leg
with a flag set and every fix near a port (``port`` is set on those inside one).  ``rn`` numbers the
fixes of a segment from 1 in time order, so consecutive fixes have consecutive ``rn``.

Memory: pass 1 runs over the vessels in chunks (``mmsi % n``) of about ``detect.chunk_positions``
positions each, so the window's sort never holds more than one chunk, whatever the size of the store.
"""

from __future__ import annotations

from collections.abc import Callable

from tumen.config import DetectSettings
from tumen.detect.ports import near_join_sql, port_features_sql
from tumen.store.backend import Backend
from tumen.tracks.geo import KN_MS, haversine_m
from tumen.tracks.positions import clean_positions_sql
from tumen.tracks.segments import SegmentStats, segments_from_marks, track_runs_sql

#: Legs shorter than this are not judged by their implied speed (seconds).
MIN_IMPLIED_DT_S = 600.0

#: Columns of the rows kept by the window passes.
PASS_COLUMNS = (
    "mmsi, seg, rn, k, t, lat, lon, sog_kn, pos_id, p_t, p_lat, p_lon, p_pos, near, p_near, "
    "is_gap, slow_e, slow_l"
)


def slow_sql(a: str, b: str, speed_kn: float, dist: str | None = None) -> str:
    """SQL condition: the leg from fix ``{a}`` to fix ``{b}`` is slower than ``speed_kn`` knots.

    - A leg of ten minutes or more is slow when its implied speed (distance / time) *and* the
      speed at both ends (reported SOG, or the implied speed where SOG is not available) are: a
      vessel that reports 0 kn but moved is not slow, nor one that reports 4 kn across a long
      silence at whose ends it happens to be close to where it started.
    - A shorter leg is slow when the SOG at both ends is, *or* its implied speed is: one corrupt SOG
      value does not interrupt a vessel that has not moved, and position noise over a few seconds
      does not make a slow vessel fast.

    ``dist`` names a column holding the leg's length in metres (else it is computed).
    """
    dist = dist or haversine_m(f"{a}lat", f"{a}lon", f"{b}lat", f"{b}lon")
    dt = f"({b}t - {a}t)"
    implied = f"({dist} / greatest({dt}, 1.0) / {KN_MS})"
    ends = f"(coalesce({a}sog_kn, {implied}) < {speed_kn} AND coalesce({b}sog_kn, {implied}) < {speed_kn})"
    return (
        f"(CASE WHEN {dt} < {MIN_IMPLIED_DT_S} THEN ({ends} OR {implied} < {speed_kn}) "
        f"ELSE ({ends} AND {implied} < {speed_kn}) END)"
    )


def _window_sql(source: str, partition: str, settings: DetectSettings) -> str:
    """The window over ``source`` (clean fixes with a ``near`` flag) giving each its previous fix,
    the segmentation marks and the leg flags; a SELECT with the columns of :data:`PASS_COLUMNS`
    plus ``brk``, ``last`` and ``p_k``.

    The previous fix travels as one struct (one window expression instead of seven), and the
    leg's length is computed once.  A leg exists only between fixes that continue each other
    (``NOT brk``): within a segment whose runs fork, two consecutive fixes may not.
    """
    enc, loi, gap, seg = settings.encounters, settings.loitering, settings.gaps, settings.segments
    dist = haversine_m("p_lat", "p_lon", "lat", "lon")
    return f"""
        WITH w AS (
            SELECT f.*,
                   row_number() OVER w AS rn,
                   lag(struct_pack(t := t, lat := lat, lon := lon, sog_kn := sog_kn, pos_id := pos_id,
                                   k := k, near := near)) OVER w AS p,
                   lead(t) OVER w AS n_t
            FROM ({source}) f
            WINDOW w AS (PARTITION BY {partition} ORDER BY k)
        ), v AS (
            SELECT w.* EXCLUDE (p), p.t AS p_t, p.lat AS p_lat, p.lon AS p_lon, p.sog_kn AS p_sog_kn,
                   p.pos_id AS p_pos, p.k AS p_k, p.near AS p_near
            FROM w
        ), d AS (
            SELECT *, {dist} AS leg_m FROM v
        ), b AS (
            SELECT *, (p_t IS NULL OR leg_m > {seg.noise_m} + {seg.max_speed_kn * KN_MS} * abs(t - p_t)) AS brk
            FROM d
        )
        SELECT *,
               n_t IS NULL AS last,
               (NOT brk AND t - p_t >= {gap.min_gap_h * 3600.0}) AS is_gap,
               (NOT brk AND t - p_t <= {enc.max_interp_gap_min * 60.0}
                AND {slow_sql("p_", "", enc.max_speed_kn, "leg_m")}) AS slow_e,
               (NOT brk AND t - p_t < {loi.max_silence_h * 3600.0}
                AND {slow_sql("p_", "", loi.max_speed_kn, "leg_m")}) AS slow_l
        FROM b"""


def _fixes_sql(
    settings: DetectSettings, scope_table: str | None, chunk: tuple[int, int] | None
) -> str:
    clean = clean_positions_sql(settings.segments, scope_table, chunk)
    return f"""
        SELECT c.mmsi, c.k, c.t, c.lat, c.lon, c.sog_kn, c.pos_id, (nk.cy IS NOT NULL) AS near
        FROM ({clean}) c {near_join_sql("nk", "c.lat", "c.lon")}"""


def chunk_count(store: Backend, settings: DetectSettings, scope_table: str | None) -> int:
    """How many MMSI chunks keep each window pass near ``chunk_positions`` rows."""
    where = f"WHERE mmsi IN (SELECT mmsi FROM {scope_table})" if scope_table else ""
    n = int(store.query(f"SELECT count(*) AS n FROM positions {where}").column("n")[0].as_py())
    return max(1, -(-n // settings.chunk_positions))


def build_legs(
    store: Backend,
    settings: DetectSettings,
    *,
    scope_table: str | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> tuple[SegmentStats, int]:
    """Segment the tracks and write ``_legs``; returns the segmentation stats and the leg rows kept.

    Needs the port tables of :func:`tumen.detect.ports.register_ports`; writes ``_marks``,
    ``_runs``, ``_segments`` (see :mod:`tumen.tracks.segments`) and ``_legs``.
    """
    seg = settings.segments
    keep = "brk OR last OR is_gap OR slow_e OR slow_l OR near OR coalesce(p_near, false)"
    pass1 = PASS_COLUMNS.replace("seg,", "CAST(NULL AS BIGINT) AS seg,") + ", brk, last, p_k"
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE _pass (
            mmsi BIGINT, seg BIGINT, rn BIGINT, k BIGINT, t DOUBLE, lat DOUBLE, lon DOUBLE, sog_kn REAL,
            pos_id BIGINT, p_t DOUBLE, p_lat DOUBLE, p_lon DOUBLE, p_pos BIGINT, near BOOLEAN,
            p_near BOOLEAN, is_gap BOOLEAN, slow_e BOOLEAN, slow_l BOOLEAN, brk BOOLEAN, last BOOLEAN,
            p_k BIGINT
        )
        """
    )
    # Pass 1, chunk by chunk of vessels: every clean fix with the previous one as its parent.
    n = chunk_count(store, settings, scope_table)
    for i in range(n):
        fixes = _fixes_sql(settings, scope_table, (i, n))
        store.execute(
            f"""
            INSERT INTO _pass
            SELECT {pass1} FROM ({_window_sql(fixes, "mmsi", settings)}) x
            WHERE {keep}
            """
        )
        if on_chunk:
            on_chunk(i + 1, n)
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE _marks AS
        SELECT mmsi, k, any_value(t) AS t, any_value(lat) AS lat, any_value(lon) AS lon,
               any_value(pos_id) AS pos_id, any_value(rn) AS rn, bool_or(brk) AS brk, bool_or(run_end) AS run_end
        FROM (
            SELECT mmsi, k, t, lat, lon, pos_id, rn, TRUE AS brk, FALSE AS run_end FROM _pass WHERE brk
            UNION ALL
            SELECT mmsi, p_k, p_t, p_lat, p_lon, p_pos, rn - 1, FALSE, TRUE FROM _pass WHERE brk AND p_t IS NOT NULL
            UNION ALL
            SELECT mmsi, k, t, lat, lon, pos_id, rn, FALSE, TRUE FROM _pass WHERE last
        ) m
        GROUP BY mmsi, k
        """
    )
    stats = segments_from_marks(store, seg, settings.identity)
    # MMSIs made of one run that is a track: pass 1 is exact for them.
    store.execute(
        """
        CREATE OR REPLACE TEMP TABLE _simple AS
        SELECT r.mmsi, any_value(r.seg) AS seg
        FROM _runs r JOIN _segments s ON s.mmsi = r.mmsi AND s.seg = r.seg
        GROUP BY r.mmsi HAVING count(*) = 1 AND bool_and(s.kind = 'track')
        """
    )
    cols = ", ".join(
        f"p.{c.strip()}" if c.strip() != "seg" else "s.seg" for c in PASS_COLUMNS.split(",")
    )
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _legs0 AS
        SELECT {cols} FROM _pass p JOIN _simple s ON s.mmsi = p.mmsi
        WHERE p.is_gap OR p.slow_e OR p.slow_l OR p.near OR coalesce(p.p_near, false)
        """
    )
    store.execute("DROP TABLE _pass")
    # Pass 2: the other MMSIs, their fixes given their segment, ordered within the segment.
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _complex AS "
        "SELECT DISTINCT mmsi FROM _runs WHERE mmsi NOT IN (SELECT mmsi FROM _simple)"
    )
    complex_fixes = f"""
        SELECT f.*, r.seg FROM ({_fixes_sql(settings, "_complex", None)}) f
        JOIN ({track_runs_sql()}) r
          ON r.mmsi = f.mmsi AND r.day = CAST(floor(f.t / 86400) AS BIGINT) AND f.k BETWEEN r.run_k AND r.k_end"""
    store.execute(
        f"""
        INSERT INTO _legs0
        SELECT {PASS_COLUMNS} FROM ({_window_sql(complex_fixes, "mmsi, seg", settings)}) x
        WHERE is_gap OR slow_e OR slow_l OR near OR coalesce(p_near, false)
        """
    )
    _add_port_features(store, settings)
    return stats, int(store.query("SELECT count(*) AS n FROM _legs").column("n")[0].as_py())


def _add_port_features(store: Backend, settings: DetectSettings) -> None:
    """Exact port membership and distance for the fixes near a port; final leg flags in ``_legs``."""
    enc_far = settings.encounters.min_port_distance_km * 1000.0
    lo_far = settings.loitering.min_port_distance_km * 1000.0
    points = """
        SELECT struct_pack(mmsi := mmsi, seg := seg, rn := rn, prev := FALSE) AS id, lat, lon
        FROM _legs0 WHERE near
        UNION ALL
        SELECT struct_pack(mmsi := mmsi, seg := seg, rn := rn - 1, prev := TRUE), p_lat, p_lon
        FROM _legs0 WHERE p_near AND p_t IS NOT NULL"""
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _fixports AS "
        "SELECT DISTINCT id.mmsi AS mmsi, id.seg AS seg, id.rn AS rn, port, port_dist FROM ("
        + port_features_sql(points, settings.port_visits.radius_scale)
        + ") f"
    )

    def far(col: str, metres: float) -> str:
        return f"({col} IS NULL OR {col} >= {metres})"

    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _legs AS
        SELECT l.mmsi, l.seg, l.rn, l.k, l.t, l.lat, l.lon, l.sog_kn, l.pos_id,
               a.port, l.p_t, l.p_lat, l.p_lon, l.p_pos, b.port AS p_port,
               l.is_gap,
               l.slow_e AND {far("a.port_dist", enc_far)} AND {far("b.port_dist", enc_far)} AS enc_leg,
               l.slow_l AND {far("a.port_dist", lo_far)} AND {far("b.port_dist", lo_far)} AS lo_leg
        FROM _legs0 l
        LEFT JOIN _fixports a ON a.mmsi = l.mmsi AND a.seg = l.seg AND a.rn = l.rn
        LEFT JOIN _fixports b ON b.mmsi = l.mmsi AND b.seg = l.seg AND b.rn = l.rn - 1
        """
    )
