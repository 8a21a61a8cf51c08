"""Segmentation: split each MMSI's clean positions into physically possible tracks.

Definition (after Global Fishing Watch's segmenter, ``GlobalFishingWatch/pipe-segment`` and
``gpsdio-segment``, https://github.com/GlobalFishingWatch/pipe-segment):

1. Take the clean positions of one MMSI (:mod:`tumen.tracks.positions`) in time order.
2. A fix *continues* an earlier fix when the vessel could have sailed between them:
   ``distance ≤ noise_m + max_speed_kn × Δt`` (great-circle metres, 1 kn = 1852 m/h).
3. The *parent* of a fix is the fix just before it if it continues that one; otherwise the latest
   fix of the same MMSI in the preceding ``lookback_h`` hours that it continues and that is the last
   of its run of consecutive fixes (the end of some track at that moment — a fix that its own track
   has since moved on from cannot be resumed); otherwise it has none and starts a new segment.
4. A *segment* is a set of fixes joined by parent links.  Every leg (parent → fix) of a segment
   is therefore at most ``max_speed_kn`` (+ noise): no 2 000-knot legs.
5. Kinds of segment:

   - ``noise``: fewer than ``min_segment_positions`` fixes (a corrupt report, a lone spoofed fix);
   - ``jump``: a short excursion — at least ``identity.jump_min_positions`` fixes spanning at most
     ``identity.jump_max_h`` hours, with no other fix of the MMSI among them, preceded and followed by
     fixes of one and the same other (non-noise) segment, which it could not have reached
     (the vessel "was" far away and came back at an impossible speed: a spoofed or faulty position);
   - ``track``: everything else.  Only ``track`` segments feed the behaviour detectors.

Two transmitters sharing one MMSI yield two ``track`` segments whose fixes interleave in time
(an ``identity/mmsi_conflict``); a spoofed excursion yields a ``jump`` (``identity/position_jump``)
and the vessel's own track continues across it.  Because every detector works inside segments,
neither creates a fake gap, a fake encounter or an impossible voyage.

How it runs (set-based, one sort of the positions): the one window pass over the clean positions in
``(mmsi, k)`` order that every detector shares (:func:`tumen.detect.legs.build_legs`, the only
producer of ``_marks``) marks the fixes that do not continue their predecessor ("breaks",
:func:`continues_sql`) and those whose successor breaks ("run ends"); consecutive fixes between
them form *runs*.  Then, in :func:`segments_from_marks`, only the break fixes (few) look back
for a parent among the run ends (a join of two small tables, bucketed by time: first over the last
hour, then over the whole look-back for the breaks that found none there — the same
result as one search), run → parent-run links are resolved to a root by pointer jumping (a handful
of set-based rounds over the small table of links), and each segment is the set of runs sharing a
root.  No query ever loops over rows.

Tables written (temporary, in the store's session)::

    _runs      mmsi, run_k, k_end, rn_start, rn_end, t_start, t_end,
               pos_start, pos_end, lat_start, lon_start, lat_end, lon_end, seg
    _segments  mmsi, seg, kind, start, end, n_positions, n_runs, rn_min, rn_max,
               first_pos_id, last_pos_id, lat, lon

Times are UTC; ``t_*`` are seconds since 1970; ``seg`` is the ordering key ``k`` of the segment's
first fix (unique within its MMSI, the same whatever the input order).
"""

from __future__ import annotations

from dataclasses import dataclass

from tumen.config import IdentityParams, SegmentParams
from tumen.store.backend import Backend
from tumen.store.dialect import DUCKDB, TIE_BITS, Dialect
from tumen.tracks.geo import KN_MS, haversine_m, ts_sql

#: Upper bound on pointer-jumping rounds (2**40 runs in one chain; never reached).
MAX_ROUNDS = 40

#: The look-back first searches this many seconds back (see :func:`_link_breaks`).
NEAR_LOOKBACK_S = 3600.0


@dataclass(frozen=True)
class SegmentStats:
    """What segmentation found: counts of clean positions, runs and segments by kind."""

    positions: int
    runs: int
    segments: int
    track: int
    noise: int
    jump: int
    rounds: int


def continues_sql(a: str, b: str, params: SegmentParams, dist: str | None = None) -> str:
    """SQL condition: fix ``b`` (columns ``{b}t, {b}lat, {b}lon``) can continue fix ``a``.

    ``distance ≤ noise_m + max_speed_kn × |Δt|`` (metres; a leg at exactly the limit continues).
    ``dist`` names a column already holding the great-circle distance in metres (else computed).
    The breaks of the detectors' window pass (:func:`tumen.detect.legs.build_legs`) and the
    look-back for parents (:func:`segments_from_marks`) both use this one expression.
    """
    dist = dist or haversine_m(f"{a}lat", f"{a}lon", f"{b}lat", f"{b}lon")
    return f"({dist} <= {params.noise_m} + {params.max_speed_kn * KN_MS} * abs({b}t - {a}t))"


def segments_from_marks(
    store: Backend, params: SegmentParams, identity: IdentityParams
) -> SegmentStats:
    """From ``_marks`` (columns ``mmsi, k, t, lat, lon, pos_id, rn, brk, run_end``) build ``_runs``
    and ``_segments``; everything here works on the small tables of breaks and run ends."""
    # Runs: each break starts one, ending at the first run end at or after it.
    store.materialise(
        "_runs0",
        """
        WITH m AS (
            SELECT *, min(CASE WHEN run_end THEN rn END) OVER (
                       PARTITION BY mmsi ORDER BY rn ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
                   ) AS end_rn
            FROM _marks
        )
        SELECT s.mmsi, s.k AS run_k, e.k AS k_end, s.rn AS rn_start, e.rn AS rn_end,
               s.t AS t_start, e.t AS t_end, s.pos_id AS pos_start, e.pos_id AS pos_end,
               s.lat AS lat_start, s.lon AS lon_start, e.lat AS lat_end, e.lon AS lon_end
        FROM m s JOIN _marks e ON e.mmsi = s.mmsi AND e.rn = s.end_rn
        WHERE s.brk
        """,
    )
    # Look-back: a break fix links to the latest earlier run end (within lookback_h) it can continue.
    _link_breaks(store, params)
    rounds = _resolve_roots(store)
    _classify(store, params, identity)
    row = store.query(
        """
        SELECT (SELECT coalesce(sum(rn_end - rn_start + 1), 0) FROM _runs) AS positions,
               (SELECT count(*) FROM _runs) AS runs,
               count(*) AS segments,
               count(*) FILTER (WHERE kind = 'track') AS track,
               count(*) FILTER (WHERE kind = 'noise') AS noise,
               count(*) FILTER (WHERE kind = 'jump') AS jump
        FROM _segments
        """
    ).to_pylist()[0]
    return SegmentStats(rounds=rounds, **{k: int(v) for k, v in row.items()})


def _link_breaks(store: Backend, params: SegmentParams) -> None:
    """Write ``_links`` (``mmsi, child_k, parent_run_k``): each break fix (``rn > 1``) that
    continues some run end of its MMSI in the preceding ``lookback_h`` hours, with the run ending at
    the latest such run end.

    Break fixes and run ends meet in time buckets (an equality join).  The search runs in two
    steps: first among the run ends of the last :data:`NEAR_LOOKBACK_S` seconds only, in narrow
    buckets (a second transmitter's last fix, the track before a short excursion), then over the
    whole look-back for the breaks that found nothing.  Both steps take the largest ordering key
    ``k``, and the first step's run ends are exactly those with ``k`` within a fixed distance below
    the break's, so a parent found there is the latest of all: the result is that of one search.
    """
    d = store.dialect
    lookback_s = params.lookback_h * 3600.0
    near_s = min(NEAR_LOOKBACK_S, lookback_s)
    near_k = int(near_s * 1000) * TIE_BITS  # near_s in the units of k (ms × 2**21)
    link = continues_sql("c.", "b.", params)

    def parents(breaks: str, bucket: str, span: str) -> str:
        return f"""
            WITH b0 AS (
                SELECT mmsi, k, t, lat, lon, {bucket} AS bucket FROM ({breaks}) x
            ), b AS (
                SELECT mmsi, k, t, lat, lon, bucket FROM b0
                UNION ALL SELECT mmsi, k, t, lat, lon, bucket - 1 FROM b0
            ), c AS (
                SELECT mmsi, k, t, lat, lon, {bucket} AS bucket FROM _marks WHERE run_end
            )
            SELECT b.mmsi, b.k AS child_k, max(c.k) AS parent_k
            FROM b JOIN c ON c.mmsi = b.mmsi AND c.bucket = b.bucket
            WHERE c.k < b.k AND {span} AND c.t >= b.t - {lookback_s} AND {link}
            GROUP BY b.mmsi, b.k"""

    breaks = "SELECT mmsi, k, t, lat, lon FROM _marks WHERE brk AND rn > 1"
    store.materialise(
        "_parents", parents(breaks, d.int_div("k", str(near_k)), f"c.k >= b.k - {near_k}")
    )
    rest = """
        SELECT m.mmsi, m.k, m.t, m.lat, m.lon FROM _marks m
        LEFT JOIN _parents p ON p.mmsi = m.mmsi AND p.child_k = m.k
        WHERE m.brk AND m.rn > 1 AND p.child_k IS NULL"""
    store.materialise(
        "_parents", parents(rest, f"CAST(floor(t / {lookback_s}) AS BIGINT)", "TRUE"), append=True
    )
    store.materialise(
        "_links",
        """
        SELECT p.mmsi, p.child_k, r.run_k AS parent_run_k
        FROM _parents p JOIN _runs0 r ON r.mmsi = p.mmsi AND p.parent_k = r.k_end
        """,
    )


def _resolve_roots(store: Backend) -> int:
    """Pointer jumping: give each run (``_runs0``) the root of its chain of parent links as ``seg``,
    writing ``_runs``; returns the rounds taken.

    The jumping runs on the narrow table ``_up`` (``mmsi, run_k, seg``) of the runs that have a
    parent; each round replaces a run's ``seg`` by its parent's, halving every chain.
    """
    store.materialise("_up", "SELECT mmsi, child_k AS run_k, parent_run_k AS seg FROM _links")
    pending = """
        SELECT count(*) AS n FROM _up u JOIN _up p ON p.mmsi = u.mmsi AND p.run_k = u.seg"""
    rounds = 0
    while store.query(pending).column("n")[0].as_py():
        if rounds == MAX_ROUNDS:  # pragma: no cover - 2**40 runs
            raise RuntimeError("segmentation did not converge")
        rounds += 1
        store.materialise(
            "_up",
            """
            SELECT u.mmsi, u.run_k, coalesce(p.seg, u.seg) AS seg
            FROM _up u LEFT JOIN _up p ON p.mmsi = u.mmsi AND p.run_k = u.seg
            """,
        )
    store.materialise(
        "_runs",
        """
        SELECT r.*, coalesce(u.seg, r.run_k) AS seg
        FROM _runs0 r LEFT JOIN _up u ON u.mmsi = r.mmsi AND u.run_k = r.run_k
        """,
    )
    return rounds


def _classify(store: Backend, params: SegmentParams, identity: IdentityParams) -> None:
    """Build ``_segments`` from ``_runs`` and label each segment track, noise or jump."""
    d = store.dialect
    store.materialise(
        "_segments",
        f"""
        WITH s AS (
            SELECT mmsi, seg, {ts_sql("min(t_start)", d)} AS start, {ts_sql("max(t_end)", d)} AS "end",
                   min(t_start) AS t_start, max(t_end) AS t_end,
                   CAST(sum(rn_end - rn_start + 1) AS BIGINT) AS n_positions,
                   count(*) AS n_runs, min(rn_start) AS rn_min, max(rn_end) AS rn_max,
                   min_by(pos_start, run_k) AS first_pos_id, max_by(pos_end, k_end) AS last_pos_id,
                   min_by(lat_start, run_k) AS lat, min_by(lon_start, run_k) AS lon
            FROM _runs GROUP BY mmsi, seg
        ), j AS (
            SELECT s.mmsi, s.seg
            FROM s
            JOIN _runs pr ON pr.mmsi = s.mmsi AND pr.rn_end = s.rn_min - 1
            JOIN _runs nx ON nx.mmsi = s.mmsi AND nx.rn_start = s.rn_max + 1
            JOIN s host ON host.mmsi = s.mmsi AND host.seg = pr.seg
            WHERE pr.seg = nx.seg AND pr.seg <> s.seg
              AND s.rn_max - s.rn_min + 1 = s.n_positions
              AND s.n_positions >= {identity.jump_min_positions}
              AND s.t_end - s.t_start <= {identity.jump_max_h * 3600.0}
              AND host.n_positions >= {params.min_segment_positions}
        )
        SELECT s.*,
               CASE WHEN j.seg IS NOT NULL THEN 'jump'
                    WHEN s.n_positions < {params.min_segment_positions} THEN 'noise'
                    ELSE 'track' END AS kind
        FROM s LEFT JOIN j ON j.mmsi = s.mmsi AND j.seg = s.seg
        """,
    )


def track_runs_sql(dialect: Dialect = DUCKDB) -> str:
    """SELECT of the runs of ``track`` segments with one row per UTC day each run touches.

    Columns ``mmsi, seg, run_k, k_end, day``; used to give every clean fix its segment with an
    equality join on ``(mmsi, day)`` plus a range test on ``k`` (cheap even for MMSIs with
    thousands of interleaved runs).
    """
    days = dialect.explode_range(
        "CAST(floor(r.t_start / 86400) AS BIGINT)", "CAST(floor(r.t_end / 86400) AS BIGINT) + 1"
    )
    return f"""
    SELECT r.mmsi, r.seg, r.run_k, r.k_end, {days} AS day
    FROM _runs r
    JOIN _segments s ON s.mmsi = r.mmsi AND s.seg = r.seg AND s.kind = 'track'
    """
