"""Legs: every fix beside its neighbours, in one window pass shared by segmentation and detectors.

A *leg* joins a fix to its parent, the fix before it in its segment (:mod:`tumen.tracks.segments`).
For each leg this pass decides, once, what the detectors ask of it:

- ``is_gap``: the leg lasts at least ``gaps.min_gap_h`` hours (a silence);
- ``enc_leg``: the vessel could take part in an encounter along it — both fixes at least
  ``encounters.min_port_distance_km`` from every port and inside no port's circle, the leg at most ``encounters.max_interp_gap_min``
  long, and the vessel slow (see :func:`slow_sql`) below ``encounters.max_speed_kn``;
- ``lo_leg``: the same for loitering (``loitering.*``; the leg shorter than ``loitering.max_silence_h``);
- ``port``: the watched port each fix near a port is in (:mod:`tumen.detect.ports`), or NULL.

A leg is *slow* below ``v`` knots when (:func:`slow_sql`), over ten minutes or more, both its implied
speed and the reported speeds at its ends are, and over less, either of them is (so one corrupt
SOG value does not break a run of fixes that did not move).

How it runs: **one** window pass over all clean positions, ordered by MMSI and time, computes both
the segmentation marks (breaks and run ends, :func:`tumen.tracks.segments.continues_sql`) and the leg
flags above, taking the previous fix as the parent.  Each leg's length is computed once and the
break test once; a cheap necessary test (:func:`candidate_sql`: a break, a gap, a port nearby, or a
reported or implied speed under the slow threshold) drops the legs of vessels under way before the
exact slow-leg flags are evaluated.  The pass carries only a cheap "near a port" flag (one equality
join on a 0.1° cell); exact port membership and distances are computed afterwards, once per fix near
a port (``_fixports``, by ``pos_id``).  That is exact for every MMSI whose positions form a single run
(the vast majority); the few MMSIs with several runs (spoofed jumps, two transmitters, glitches) are
segmented from the marks and then run through a second window pass of their own, partitioned by
segment.  Only the rows some detector needs are kept.

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
from tumen.store.dialect import DUCKDB, Dialect
from tumen.tracks.geo import KN_MS, haversine_m
from tumen.tracks.positions import clean_positions_sql
from tumen.tracks.segments import (
    SegmentStats,
    continues_sql,
    segments_from_marks,
    track_runs_sql,
)

#: Legs shorter than this are not judged by their implied speed (seconds).
MIN_IMPLIED_DT_S = 600.0

#: Columns of the rows kept by the window passes (besides the segment ``seg``).
PASS_COLUMNS = (
    "mmsi, rn, k, t, lat, lon, sog_kn, pos_id, p_t, p_lat, p_lon, p_pos, near, p_near, "
    "is_gap, slow_e, slow_l"
)

#: The columns of ``_pass`` with their types (each chunk's rows cast alike).
_PASS_TYPED = (
    "CAST(mmsi AS BIGINT) AS mmsi, CAST(rn AS BIGINT) AS rn, k, t, lat, lon, "
    "CAST(sog_kn AS REAL) AS sog_kn, pos_id, p_t, p_lat, p_lon, p_pos, near, p_near, "
    "is_gap, slow_e, slow_l, brk, last, p_k"
)

#: Relative slack of :func:`candidate_sql`'s implied-speed bound (far above rounding error).
CANDIDATE_SLACK = 1e-6


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


def candidate_sql(settings: DetectSettings) -> str:
    """SQL condition over a row of the window pass: a cheap test that holds for every row any flag
    could keep (a break, a last fix, a gap, a fix near a port or after one, a slow leg).

    A leg can only be slow below ``v`` knots (:func:`slow_sql`) if its reported SOG is under ``v``
    or its implied speed is, and the implied speed ``leg_m / max(Δt, 1 s)`` is under ``v`` only if
    ``leg_m < v × (|Δt| + 1 s)`` (in m/s; with a relative slack far above rounding error).  Most
    rows — vessels under way — fail every part of it after a handful of comparisons, so the exact
    flags are evaluated only for the rows that pass.
    """
    enc, loi, gap = settings.encounters, settings.loitering, settings.gaps
    v = max(enc.max_speed_kn, loi.max_speed_kn)
    return (
        f"(brk OR n_t IS NULL OR near OR coalesce(p_near, false) "
        f"OR t - p_t >= {gap.min_gap_h * 3600.0} OR sog_kn < {v} "
        f"OR leg_m < {v * KN_MS * (1 + CANDIDATE_SLACK)} * (abs(t - p_t) + 1.0))"
    )


def _window_sql(source: str, partition: str, settings: DetectSettings, d: Dialect = DUCKDB) -> str:
    """The window over ``source`` (clean fixes with a ``near`` flag) giving each its previous fix,
    the segmentation marks and the leg flags; a SELECT with the columns of :data:`PASS_COLUMNS`
    plus ``brk``, ``last`` and ``p_k``, of the rows that pass :func:`candidate_sql`.

    The previous fix travels as one struct ``p`` (one window expression instead of seven), the leg's
    length is computed once, and the cheap candidate test runs before the exact flags.  A leg
    exists only between fixes that continue each other (``NOT brk``): within a segment whose runs
    fork, two consecutive fixes may not.
    """
    enc, loi, gap, seg = settings.encounters, settings.loitering, settings.gaps, settings.segments
    dist = haversine_m("p_lat", "p_lon", "lat", "lon")
    p = d.struct(*((c, c) for c in ("t", "lat", "lon", "sog_kn", "pos_id", "k", "near")))
    return f"""
        WITH w AS (
            SELECT f.*,
                   row_number() OVER w AS rn,
                   lag({p}) OVER w AS p,
                   lead(t) OVER w AS n_t
            FROM ({source}) f
            WINDOW w AS (PARTITION BY {partition} ORDER BY k)
        ), v AS (
            SELECT w.*, p.t AS p_t, p.lat AS p_lat, p.lon AS p_lon, p.sog_kn AS p_sog_kn,
                   p.pos_id AS p_pos, p.k AS p_k, p.near AS p_near
            FROM w
        ), d AS (
            SELECT *, {dist} AS leg_m FROM v
        ), b AS (
            SELECT *, (p_t IS NULL OR NOT {continues_sql("p_", "", seg, "leg_m")}) AS brk
            FROM d
        ), c AS (
            SELECT * FROM b WHERE {candidate_sql(settings)}
        )
        SELECT *,
               n_t IS NULL AS last,
               (NOT brk AND t - p_t >= {gap.min_gap_h * 3600.0}) AS is_gap,
               (NOT brk AND t - p_t <= {enc.max_interp_gap_min * 60.0}
                AND {slow_sql("p_", "", enc.max_speed_kn, "leg_m")}) AS slow_e,
               (NOT brk AND t - p_t < {loi.max_silence_h * 3600.0}
                AND {slow_sql("p_", "", loi.max_speed_kn, "leg_m")}) AS slow_l
        FROM c"""


def _fixes_sql(
    settings: DetectSettings,
    scope_table: str | None,
    chunk: tuple[int, int] | None,
    d: Dialect = DUCKDB,
) -> str:
    """Clean fixes with their ``near`` flag.  Ship MMSIs (``vessels_only``) fit a 32-bit integer,
    which the window passes sort about 15 % faster than a 64-bit one."""
    clean = clean_positions_sql(settings.segments, scope_table, chunk, dialect=d)
    mmsi = "CAST(c.mmsi AS INTEGER)" if settings.segments.vessels_only else "c.mmsi"
    return f"""
        SELECT {mmsi} AS mmsi, c.k, c.t, c.lat, c.lon, c.sog_kn, c.pos_id, (nk.cy IS NOT NULL) AS near
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
    ``_runs``, ``_segments`` (see :mod:`tumen.tracks.segments`), ``_fixports`` and ``_legs``.
    """
    seg = settings.segments
    d = store.dialect
    keep = "brk OR last OR is_gap OR slow_e OR slow_l OR near OR coalesce(p_near, false)"
    # Pass 1, chunk by chunk of vessels: every clean fix with the previous one as its parent.
    # (Spark runs one pass: it partitions and spills by itself.)
    n = chunk_count(store, settings, scope_table)
    if not d.chunked:
        n = 1
    for i in range(n):
        fixes = _fixes_sql(settings, scope_table, (i, n), d)
        store.materialise(
            "_pass",
            f"""
            SELECT {_PASS_TYPED} FROM ({_window_sql(fixes, "mmsi", settings, d)}) x
            WHERE {keep}
            """,
            append=i > 0,
        )
        if on_chunk:
            on_chunk(i + 1, n)
    store.materialise(
        "_marks",
        """
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
        """,
    )
    stats = segments_from_marks(store, seg, settings.identity)
    # Every fix near a port is in _pass (pass 1 keeps them all): its port and port distance.
    store.materialise(
        "_fixports",
        "SELECT id AS pos_id, port, port_dist FROM ("
        + port_features_sql(
            "SELECT pos_id AS id, lat, lon FROM _pass WHERE near",
            settings.port_visits.radius_scale,
        )
        + ") f",
    )
    # MMSIs made of one run that is a track: pass 1 is exact for them.
    store.materialise(
        "_simple",
        """
        SELECT r.mmsi, any_value(r.seg) AS seg
        FROM _runs r JOIN _segments s ON s.mmsi = r.mmsi AND s.seg = r.seg
        GROUP BY r.mmsi HAVING count(*) = 1 AND bool_and(s.kind = 'track')
        """,
    )
    legs = "is_gap OR slow_e OR slow_l OR near OR coalesce(p_near, false)"
    simple = f"SELECT p.*, s.seg FROM _pass p JOIN _simple s ON s.mmsi = p.mmsi WHERE {legs}"
    store.materialise("_legs", _legs_sql(simple, settings))
    store.execute(d.drop_temp("_pass"))
    # Pass 2: the other MMSIs, their fixes given their segment, ordered within the segment.
    store.materialise(
        "_complex", "SELECT DISTINCT mmsi FROM _runs WHERE mmsi NOT IN (SELECT mmsi FROM _simple)"
    )
    complex_fixes = f"""
        SELECT f.*, r.seg FROM ({_fixes_sql(settings, "_complex", None, d)}) f
        JOIN ({track_runs_sql(d)}) r
          ON r.mmsi = f.mmsi AND r.day = CAST(floor(f.t / 86400) AS BIGINT) AND f.k BETWEEN r.run_k AND r.k_end"""
    pass2 = f"""
        SELECT * FROM ({_window_sql(complex_fixes, "mmsi, seg", settings, d)}) x WHERE {legs}"""
    store.materialise("_legs", _legs_sql(pass2, settings), append=True)
    return stats, int(store.query("SELECT count(*) AS n FROM _legs").column("n")[0].as_py())


def _legs_sql(rows: str, settings: DetectSettings) -> str:
    """The ``_legs`` rows of ``rows`` (window-pass rows with their ``seg``): exact port membership
    and distance from ``_fixports`` for the fix and its parent, and the final leg flags."""
    enc_far = settings.encounters.min_port_distance_km * 1000.0
    lo_far = settings.loitering.min_port_distance_km * 1000.0

    def far(fix: str, metres: float) -> str:
        # at sea: far from every port position and inside no port's circle (a circle from a
        # --ports file may reach farther than the distance rule)
        return f"({fix}.port IS NULL AND ({fix}.port_dist IS NULL OR {fix}.port_dist >= {metres}))"

    return f"""
        SELECT l.mmsi, l.seg, l.rn, l.k, l.t, l.lat, l.lon, l.sog_kn, l.pos_id,
               a.port, l.p_t, l.p_lat, l.p_lon, l.p_pos, b.port AS p_port,
               l.is_gap,
               l.slow_e AND {far("a", enc_far)} AND {far("b", enc_far)} AS enc_leg,
               l.slow_l AND {far("a", lo_far)} AND {far("b", lo_far)} AS lo_leg
        FROM ({rows}) l
        LEFT JOIN _fixports a ON a.pos_id = CASE WHEN l.near THEN l.pos_id END
        LEFT JOIN _fixports b ON b.pos_id = CASE WHEN l.p_near THEN l.p_pos END
        """
