"""Where detection runs: DuckDB (the store itself) or Apache Spark (a Parquet layout, any cluster).

``tumen detect --engine spark`` on a ``--db`` store:

1. exports the store's positions, statics and sources as the Parquet layout
   (:func:`tumen.export.layout.write_layout`, Hive-style day partitions, provenance columns kept);
2. runs :func:`tumen.detect.pipeline.run_detectors` — the same detector definitions — on a
   :class:`~tumen.store.spark.SparkBackend` over that layout;
3. writes the events as Parquet (:meth:`~tumen.store.spark.SparkBackend.write_events`: the events
   table's columns, ``provenance`` and ``ports``);
4. imports them into the store (:func:`import_events`), as ``tumen events import`` does.

On a cluster only steps 2–3 run (:func:`detect_parquet`; ``tumen detect --engine spark --parquet DIR
--events-out OUT``, e.g. under ``spark-submit``); ``tumen events import OUT`` then loads the events
into a local store for screening, risk and reports.  See ``docs/scale.md``.

``tumen risk --engine spark`` ranks the vessels on Spark the same way (:func:`rank_parquet` over the
layout, the events Parquet and a ``matches`` Parquet; :func:`rank_on_spark` for a ``--db`` store),
and ``tumen risk import RISK`` loads a ranking written as Parquet into a local store
(:func:`import_risk`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from tumen.config import Settings
from tumen.detect.events import EVENT_COLUMNS
from tumen.detect.pipeline import STATE_KEY, DetectReport, ProgressFn, run_detectors
from tumen.detect.ports import PORTS_META_KEY
from tumen.errors import InputError
from tumen.risk.rank import RISK_SCHEMA
from tumen.store.backend import Backend

ENGINES = ("duckdb", "spark")

#: Arrow types of the events contract (``events`` in ``store/schema.sql``); ``tumen events
#: import`` casts to these and refuses a file that lacks a column or whose values do not cast.
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("subtype", pa.string()),
        ("mmsi", pa.int64()),
        ("other_mmsi", pa.int64()),
        ("start", pa.timestamp("us")),
        ("end", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("port", pa.string()),
        ("from_port", pa.string()),
        ("to_port", pa.string()),
        ("detector", pa.string()),
        ("params", pa.string()),
        ("evidence", pa.string()),
        ("tumen_version", pa.string()),
        ("detected_at", pa.timestamp("us")),
    ]
)
#: Columns that may not be null (``NOT NULL`` in ``store/schema.sql``).
REQUIRED = (
    "event_id",
    "type",
    "mmsi",
    "start",
    "end",
    "detector",
    "params",
    "evidence",
    "tumen_version",
    "detected_at",
)
assert tuple(EVENTS_SCHEMA.names) == EVENT_COLUMNS


def detect_parquet(
    layout: str | Path,
    events_out: str | Path,
    settings: Settings,
    *,
    master: str | None = None,
    ports: str | Path | None = None,
    on_progress: ProgressFn | None = None,
    session: Any = None,
) -> tuple[DetectReport, int]:
    """Run every detector on Spark over the Parquet layout ``layout`` and write the events to
    ``events_out`` (Parquet; any path or URL Spark writes).  Returns the run's report and the
    number of events written."""
    from tumen.store.spark import SparkBackend

    backend = SparkBackend.from_layout(
        layout, settings=settings.spark, master=master, session=session
    )
    try:
        report = run_detectors(backend, settings, ports=ports, on_progress=on_progress, full=True)
        n = backend.write_events(events_out)
    finally:
        backend.close()
    return report, n


def detect_on_spark(
    store: Backend,
    settings: Settings,
    *,
    master: str | None = None,
    ports: str | Path | None = None,
    on_progress: ProgressFn | None = None,
    events_out: str | Path | None = None,
    session: Any = None,
) -> DetectReport:
    """``tumen detect --engine spark`` on a store: export, detect on Spark, import the events back.

    The layout and (unless ``events_out`` is given) the events Parquet are written under
    ``settings.spark.scratch`` or a temporary folder removed afterwards.
    """
    from tumen.export.layout import write_layout

    scratch_root = settings.spark.scratch
    tmp = Path(tempfile.mkdtemp(prefix="tumen-spark-", dir=scratch_root))
    try:
        layout = tmp / "layout"
        write_layout(store, layout)
        if on_progress:
            on_progress("export parquet", 0, 0)
        out = Path(events_out) if events_out else tmp / "events.parquet"
        report, _ = detect_parquet(
            layout,
            out,
            settings,
            master=master,
            ports=ports,
            on_progress=on_progress,
            session=session,
        )
        summary = import_events(store, out)
        report.events_total = summary["by_type"]
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_parquet_input(p: Path, what: str) -> pa.Table:
    """The Parquet file or folder ``p`` as one Arrow table; a missing or unreadable input is an
    :class:`InputError` naming the file and saying what to give instead (``what``)."""
    if not p.exists():
        raise InputError(f"no such file or folder; give {what}", p)
    try:
        return ds.dataset(str(p), format="parquet", exclude_invalid_files=False).to_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not readable as Parquet ({str(exc).splitlines()[0]})", p) from None


def read_events(path: str | Path) -> tuple[pa.Table, pa.Table | None]:
    """The events of a Parquet file or folder (Spark's part files) checked against the contract.

    Returns the events cast to :data:`EVENTS_SCHEMA` and the extra columns (``provenance``,
    ``ports``) when present.

    Raises
    ------
    InputError
        One line naming the file: it cannot be read as Parquet, lacks a column of the events
        contract, a value does not cast to the contract's type, a required value is null, or an
        event id repeats.
    """
    p = Path(path)
    data = _read_parquet_input(
        p, "the events Parquet written by `tumen detect --engine spark --events-out`"
    )
    missing = [c for c in EVENT_COLUMNS if c not in data.column_names]
    if missing:
        raise InputError(
            f"not an events file: lacks column(s) {', '.join(missing)} of the events contract "
            "(CONTRACTS.md)",
            p,
        )
    try:
        events = _naive_times(data.select(list(EVENT_COLUMNS))).cast(EVENTS_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(
            f"a column does not have the events contract's type ({str(exc).splitlines()[0]})", p
        ) from None
    for col in REQUIRED:
        nulls = events.column(col).null_count
        if nulls:
            raise InputError(f"column {col} is null in {nulls} row(s); every event needs one", p)
    ids = events.column("event_id")
    if len(pa.compute.unique(ids)) != events.num_rows:
        raise InputError("an event_id repeats; each event must appear once", p)
    extra_cols = [c for c in ("provenance", "ports") if c in data.column_names]
    return events, (data.select(extra_cols) if extra_cols else None)


def import_events(store: Backend, path: str | Path) -> dict[str, Any]:
    """Replace the store's events with those of the Parquet ``path`` (all or nothing).

    Checks, when the file carries ``provenance`` and the store holds positions, that every cited
    position is the store's row of the same file (SHA-256) and line: events of other data are
    refused.  Records the ports the events were detected with (``ports`` column) and clears the
    incremental-detection state, so a later ``tumen detect`` recomputes everything.

    Returns ``{"events": N, "by_type": {...}, "checked_positions": N}``.
    """
    events, extra = read_events(path)
    checked = 0
    ports_json: str | None = None
    if extra is not None and "ports" in extra.column_names:
        values = [v for v in pa.compute.unique(extra.column("ports")).to_pylist() if v]
        ports_json = values[0] if values else None
    has_positions = bool(store.query("SELECT count(*) AS n FROM positions").column("n")[0].as_py())
    if extra is not None and "provenance" in extra.column_names and has_positions:
        checked = _check_provenance(store, Path(path), events, extra.column("provenance"))
    with store.transaction():
        store.execute("DELETE FROM events")
        store.append("events", events)
        store.execute("DELETE FROM meta WHERE key IN (?, ?)", [STATE_KEY, PORTS_META_KEY])
        if ports_json:
            store.execute("INSERT INTO meta VALUES (?, ?)", [PORTS_META_KEY, ports_json])
    by_type: dict[str, int] = {}
    for t in events.column("type").to_pylist():
        by_type[t] = by_type.get(t, 0) + 1
    return {
        "events": events.num_rows,
        "by_type": dict(sorted(by_type.items())),
        "checked_positions": checked,
    }


def _check_provenance(store: Backend, path: Path, events: pa.Table, prov: pa.ChunkedArray) -> int:
    """Every cited position is the store's: same id, file SHA-256 and line; returns rows checked."""
    pos_id: list[int] = []
    sha: list[str] = []
    line: list[int] = []
    event: list[str] = []
    for eid, text in zip(events.column("event_id").to_pylist(), prov.to_pylist(), strict=True):
        if not text:
            continue
        rec = json.loads(text)
        sources = rec.get("sources") or {}
        for pid, sid, _first, line_no in rec.get("positions") or []:
            src = sources.get(str(sid)) or {}
            pos_id.append(int(pid))
            sha.append(str(src.get("sha256", "")))
            line.append(int(line_no))
            event.append(eid)
    if not pos_id:
        return 0
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _import_prov (event_id VARCHAR, pos_id BIGINT, sha256 VARCHAR, line_no BIGINT)"
    )
    store.append(
        "_import_prov",
        pa.table({"event_id": event, "pos_id": pos_id, "sha256": sha, "line_no": line}),
    )
    bad = store.query(
        """
        SELECT i.event_id, i.pos_id, i.sha256, i.line_no, p.line_no AS store_line, s.sha256 AS store_sha
        FROM _import_prov i
        LEFT JOIN positions p ON p.pos_id = i.pos_id
        LEFT JOIN sources s ON s.source_id = p.source_id
        WHERE p.pos_id IS NULL OR s.sha256 IS DISTINCT FROM i.sha256 OR p.line_no <> i.line_no
        LIMIT 1
        """
    ).to_pylist()
    store.execute("DROP TABLE IF EXISTS _import_prov")
    if bad:
        b = bad[0]
        where = (
            "is not in this store"
            if b["store_line"] is None
            else f"is line {b['store_line']} of SHA-256 {str(b['store_sha'])[:12]}… here"
        )
        raise InputError(
            f"event {b['event_id']} cites position {b['pos_id']} (line {b['line_no']} of SHA-256 "
            f"{b['sha256'][:12]}…), which {where}; import into the store the layout was exported "
            "from, or into an empty store",
            path,
        )
    return len(pos_id)


# --------------------------------------------------------------------------- risk on Spark
def rank_parquet(
    layout: str | Path,
    events: str | Path,
    settings: Settings,
    *,
    matches: str | Path | None = None,
    observations: str | Path | None = None,
    risk_out: str | Path | None = None,
    master: str | None = None,
    ports: str | Path | None = None,
    session: Any = None,
) -> pa.Table:
    """Rank every vessel on Spark: :func:`tumen.risk.rank_vessels`, the same signal definitions,
    over the Parquet layout ``layout`` (positions, statics), the ``events`` Parquet (written by
    ``tumen detect --engine spark --events-out``, or ``tumen export events``) and, when given, the
    ``matches`` Parquet (``tumen export matches --out matches.parquet`` after ``tumen screen``)
    and the ``observations`` Parquet (``tumen export observations --out observations.parquet``:
    the observation signals, :mod:`tumen.observe.corroborate`, in the same SQL as on DuckDB).

    The watched ports are those the events were detected with: the ``ports`` column of the events
    file (the store's ``detect.ports`` record, as ``--events-out`` writes it); ``ports`` names a CSV
    that must be that file.  Writes the ranking (table ``risk``'s columns) as Parquet at ``risk_out`` when
    given (any path or URL Spark writes) and returns it.

    The signal queries and the vessels query run on Spark; the per-vessel scoring of the signal
    occurrences (one row per event or list match, small) runs on the driver, as on DuckDB.
    """
    from tumen.risk import rank_vessels
    from tumen.store.spark import SparkBackend

    for given, what in ((events, "events"), (matches, "matches"), (observations, "observations")):
        # local inputs are checked before Spark starts (seconds) rather than after
        if given is not None and "://" not in str(given) and not Path(given).exists():
            raise InputError(f"no such file or folder (the {what} Parquet)", Path(given))
    if "://" not in str(layout) and not (Path(layout) / "positions").is_dir():
        raise InputError(
            "not a tumen Parquet layout (no positions/ folder); write one with "
            "`tumen export --format parquet --partition-by day --out DIR`",
            Path(layout),
        )
    backend = SparkBackend.from_layout(
        layout, settings=settings.spark, master=master, session=session
    )
    try:
        columns = backend.register_parquet("events", events)
        record = None
        if "ports" in columns:
            row = backend.spark.read.parquet(str(events)).agg({"ports": "max"}).first()
            record = row[0] if row is not None else None
        if record:
            backend.execute("INSERT INTO meta VALUES (?, ?)", [PORTS_META_KEY, record])
        if matches is not None:
            backend.register_parquet("matches", matches)
        if observations is not None:
            backend.register_parquet("observations", observations)
        table = rank_vessels(backend, settings, ports=ports, write=False)
        if risk_out is not None:
            backend.write_table(table, risk_out)
    finally:
        backend.close()
    return table


def rank_on_spark(
    store: Backend,
    settings: Settings,
    *,
    master: str | None = None,
    ports: str | Path | None = None,
    risk_out: str | Path | None = None,
    session: Any = None,
) -> pa.Table:
    """``tumen risk --engine spark`` on a store: export, rank on Spark, return the ranking.

    Exports the store's layout (positions, statics, sources), its ``events`` (with the ``ports``
    column, as ``tumen detect --engine spark --events-out`` writes them) and ``matches`` (as
    ``tumen export matches`` writes them) and ``observations`` under ``settings.spark.scratch`` or
    a temporary folder removed afterwards, then runs :func:`rank_parquet`: the path a cluster run
    takes.  Works inside :func:`tumen.risk.asof.as_of_view` (the export then holds what was known
    at that time).  The caller writes table ``risk`` (``store.replace("risk", table)``) if it
    wants to.
    """
    from tumen.export.layout import write_layout
    from tumen.export.parquet import write_parquet

    tmp = Path(tempfile.mkdtemp(prefix="tumen-spark-risk-", dir=settings.spark.scratch))
    try:
        layout = tmp / "layout"
        write_layout(store, layout)
        events = tmp / "events.parquet"
        write_events_parquet(store, events)
        matches = None
        if store.table_exists("matches"):
            matches = tmp / "matches.parquet"
            write_parquet(store, "matches", matches, settings)
        observations = None
        if store.table_exists("observations"):
            observations = tmp / "observations.parquet"
            write_parquet(store, "observations", observations, settings)
        return rank_parquet(
            layout,
            events,
            settings,
            matches=matches,
            observations=observations,
            risk_out=risk_out,
            master=master,
            ports=ports,
            session=session,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_events_parquet(store: Backend, out: Path) -> int:
    """The store's events as Parquet with the ``ports`` column (the ``detect.ports`` record), as
    ``tumen detect --engine spark --events-out`` writes them; streamed in batches."""
    import pyarrow.parquet as pq

    sql = (
        "SELECT e.*, (SELECT max(value) FROM meta WHERE key = ?) AS ports "
        "FROM events e ORDER BY e.event_id"
    )
    schema = store.query(sql + " LIMIT 0", [PORTS_META_KEY]).schema
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in store.query_batches(sql, [PORTS_META_KEY], batch_rows=500_000):
            writer.write_batch(batch)
            n += batch.num_rows
    return n


def read_risk(path: str | Path) -> pa.Table:
    """The ranking of a Parquet file or folder (``tumen risk --risk-out``) checked against table
    ``risk``'s contract, cast to :data:`~tumen.risk.rank.RISK_SCHEMA` and sorted by rank.

    Raises
    ------
    InputError
        One line naming the file: not readable as Parquet, a column missing or of another type, a
        required value null, an MMSI twice, or ranks that are not 1…N.
    """
    p = Path(path)
    data = _read_parquet_input(p, "the ranking written by `tumen risk --engine spark --risk-out`")
    missing = [c for c in RISK_SCHEMA.names if c not in data.column_names]
    if missing:
        raise InputError(
            f"not a risk ranking: lacks column(s) {', '.join(missing)} of table risk (CONTRACTS.md)",
            p,
        )
    try:
        risk = _naive_times(data.select(RISK_SCHEMA.names)).cast(RISK_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(
            f"a column does not have table risk's type ({str(exc).splitlines()[0]})", p
        ) from None
    for col in (
        "mmsi",
        "score",
        "rank",
        "signals",
        "n_events",
        "weights",
        "tumen_version",
        "ranked_at",
    ):
        nulls = risk.column(col).null_count
        if nulls:
            raise InputError(
                f"column {col} is null in {nulls} row(s); every ranked vessel needs one", p
            )
    if len(pa.compute.unique(risk.column("mmsi"))) != risk.num_rows:
        raise InputError("an MMSI repeats; each vessel is ranked once", p)
    risk = risk.sort_by("rank")
    if risk.column("rank").to_pylist() != list(range(1, risk.num_rows + 1)):
        raise InputError("the ranks are not 1, 2, …, N (one per vessel)", p)
    return risk


def import_risk(store: Backend, path: str | Path) -> dict[str, Any]:
    """Replace the store's table ``risk`` with the ranking of the Parquet ``path`` (all or nothing).

    Returns ``{"vessels": N, "with_signals": N}``.
    """
    from tumen.risk.rank import ranking_counts

    risk = read_risk(path)
    with store.transaction():
        store.replace("risk", risk)
    counts = ranking_counts(risk.column("score").to_pylist())
    return {"vessels": counts["n_vessels"], "with_signals": counts["n_with_signals"]}


def _naive_times(table: pa.Table) -> pa.Table:
    """Timestamps with a zone as UTC timestamps without zone (the contracts')."""
    if not any(pa.types.is_timestamp(f.type) and f.type.tz for f in table.schema):
        return table
    return table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.timestamp("us"))
                if pa.types.is_timestamp(f.type) and f.type.tz
                else f
                for f in table.schema
            ]
        )
    )
