"""Track cleaning: which stored positions the detectors use, and in what order.

A *clean position* is a row of ``positions`` that

- has a receive time (``ts IS NOT NULL``; ingest keeps time-less rows, the detectors cannot use them);
- has a usable fix: latitude in [-90, 90], longitude in [-180, 180] and not exactly (0, 0), the
  "null island" a GPS without a fix often reports ('position not available' 91/181 is already
  quarantined by ingest);
- comes from a vessel (:attr:`~tumen.config.SegmentParams.vessels_only`): an MMSI of a ship station,
  ``200000000``–``799999999`` (ITU-R M.585, Annex 1), and a position message of a ship
  (types 1, 2, 3, 18, 19, 27, or a CSV row), so base stations (type 4), SAR aircraft (type 9)
  and aids to navigation (type 21) never take part in an encounter or a port visit.

Its speed over ground ``sog_kn`` is kept in knots; 102.3 ("not available") and negative values
become NULL, as Global Fishing Watch's ``pipe-segment`` nulls invalid values but keeps the row.

Each clean position gets an ordering key ``k`` (BIGINT): the time in milliseconds, shifted left
21 bits, plus a 21-bit deterministic mix of the report's content — its latitude and longitude in
micro-degrees and its speed in tenths of a knot, by integer arithmetic only
(:meth:`tumen.store.dialect.Dialect.order_key`), so DuckDB and Spark give every report the same key.
Ordering by ``k`` sorts by time and breaks ties between reports of the same millisecond by their
content, never by the order in which the lines were ingested, so the detectors give the same answer
whatever the input order.  (One integer key also sorts about 1.7× faster than ``ORDER BY ts, pos_id``.)
Until issue 14 the tie-break was DuckDB's ``hash(lat, lon, sog_kn)``, whose values no other engine
reproduces; keys — and so the ``seg`` numbers and the ids of the events that cite them — changed then.
"""

from __future__ import annotations

from tumen.config import SegmentParams
from tumen.store.dialect import DUCKDB, TIE_BITS, Dialect

__all__ = ["TIE_BITS", "VESSEL_MSG_TYPES", "clean_positions_sql"]

#: Message types that carry a vessel's own position (NULL = a CSV row).
VESSEL_MSG_TYPES = (1, 2, 3, 18, 19, 27)


def clean_positions_sql(
    params: SegmentParams,
    scope_table: str | None = None,
    chunk: tuple[int, int] | None = None,
    *,
    dialect: Dialect = DUCKDB,
) -> str:
    """SELECT of the clean positions with columns ``pos_id, mmsi, ts, t, lat, lon, sog_kn, k``.

    ``t`` is the time as seconds since 1970 (DOUBLE), ``k`` the ordering key.

    Parameters
    ----------
    params:
        Segmentation settings (``vessels_only``).
    scope_table:
        If given, a table with a column ``mmsi``: only those vessels are read
        (incremental runs).
    chunk:
        ``(i, n)``: only the MMSIs with ``mmsi % n = i`` (the detectors process vessels in chunks
        so that memory does not grow with the data).
    dialect:
        The engine's SQL spellings (``store.dialect``).
    """
    d = dialect
    where = [
        "ts IS NOT NULL",
        "lat BETWEEN -90 AND 90",
        "lon BETWEEN -180 AND 180",
        "NOT (lat = 0 AND lon = 0)",
    ]
    if params.vessels_only:
        types = ", ".join(str(t) for t in VESSEL_MSG_TYPES)
        where.append("mmsi BETWEEN 200000000 AND 799999999")
        where.append(f"(msg_type IS NULL OR msg_type IN ({types}))")
    if scope_table:
        where.append(f"mmsi IN (SELECT mmsi FROM {scope_table})")
    if chunk is not None and chunk[1] > 1:
        where.append(f"mmsi % {int(chunk[1])} = {int(chunk[0])}")
    return f"""
    SELECT pos_id, mmsi, ts, {d.epoch_s("ts")} AS t, lat, lon,
           CASE WHEN sog_kn < 0 OR sog_kn >= 102.2 THEN NULL ELSE sog_kn END AS sog_kn,
           {d.order_key("ts", "lat", "lon", "sog_kn")} AS k
    FROM positions
    WHERE {" AND ".join(where)}
    """
