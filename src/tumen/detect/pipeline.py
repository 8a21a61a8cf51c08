"""``run_detectors``: positions → segments → legs → events, fully or incrementally.

A run:

1. loads the watched ports and puts them in the store (:mod:`tumen.detect.ports`);
2. decides its *scope*.  The store remembers (``meta`` key ``detect.state``) the largest
   ``pos_id``/``static_id`` and row counts it saw, and a fingerprint of the tumen version, the detector
   settings and the ports.  If the fingerprint is unchanged and rows were only added, only the MMSIs
   with new positions or static reports are recomputed (all their events are replaced; encounters
   with any of them too); otherwise — or with ``full=True`` — everything is;
3. segments the tracks (:mod:`tumen.tracks.segments`) within the one window pass over the
   positions that every detector shares (:mod:`tumen.detect.legs`);
4. runs every detector of :mod:`tumen.detect.registry` in order;
5. replaces, in one transaction, the events (and the derived ``segments`` and ``encounter_steps``
   rows) of the vessels in scope, and records the new state.

An incremental run gives exactly the events a full run would (tested), because every detector's
result for a vessel depends only on that vessel's rows — and, for encounters, the other vessel's
resampled positions, which are kept in ``encounter_steps``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tumen.config import DetectSettings, Settings
from tumen.detect import encounters as enc_mod
from tumen.detect.events import EVENT_COLUMNS, create_staging, stage_events
from tumen.detect.legs import build_legs
from tumen.detect.ports import (
    PORTS_META_KEY,
    bundled_ports_path,
    load_ports,
    ports_record,
    register_ports,
)
from tumen.detect.registry import DETECTORS, Detector
from tumen.provenance import tumen_version
from tumen.store.backend import Backend

STATE_KEY = "detect.state"
SCOPE_TABLE = "_scope"

#: Progress callback: (step name, steps done, steps in all).
ProgressFn = Callable[[str, int, int], None]


@dataclass
class Context:
    """What a detector needs: the store, its settings, the scope of the run."""

    store: Backend
    settings: DetectSettings
    scope_table: str | None


@dataclass
class DetectReport:
    """Summary of one ``tumen detect`` run.

    ``mode`` is ``full``, ``incremental`` or ``unchanged`` (nothing new since the last run);
    ``positions`` the clean positions segmented, ``vessels`` the MMSIs recomputed; ``events`` the
    events written by this run per type, ``events_total`` those in the store afterwards.
    """

    mode: str
    positions: int = 0
    vessels: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    legs: int = 0
    encounter_steps: int = 0
    events: dict[str, int] = field(default_factory=dict)
    events_total: dict[str, int] = field(default_factory=dict)
    ports: str = ""
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Stable-keyed dict for ``--json``."""
        return {
            "mode": self.mode,
            "positions": self.positions,
            "vessels": self.vessels,
            "segments": dict(self.segments),
            "legs": self.legs,
            "encounter_steps": self.encounter_steps,
            "events": dict(self.events),
            "events_total": dict(self.events_total),
            "ports": self.ports,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def detector_params(det: Detector, settings: DetectSettings, ports_ref: dict[str, str]) -> str:
    """JSON of the parameters a detector's events cite: its own section, segmentation and ports."""
    own = getattr(settings, det.settings_key).model_dump(mode="json")
    own["segments"] = settings.segments.model_dump(mode="json")
    if det.name != "identity":
        own["ports"] = ports_ref
        own["port_radius_scale"] = settings.port_visits.radius_scale
    return json.dumps(own, sort_keys=True)


def _fingerprint(settings: DetectSettings, ports: pa.Table) -> str:
    blob = json.dumps(
        {
            "version": tumen_version(),
            "detect": settings.model_dump(mode="json", exclude={"memory_limit", "chunk_positions"}),
            "ports": ports.to_pylist(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _scalar(store: Backend, sql: str, params: list[Any] | None = None) -> Any:
    table = store.query(sql, params)
    return table.column(0)[0].as_py() if table.num_rows else None


def _store_state(store: Backend) -> dict[str, int]:
    row = store.query(
        """
        SELECT (SELECT coalesce(max(pos_id), -1) FROM positions) AS pos_max,
               (SELECT count(*) FROM positions) AS pos_count,
               (SELECT coalesce(max(static_id), -1) FROM statics) AS st_max,
               (SELECT count(*) FROM statics) AS st_count
        """
    ).to_pylist()[0]
    return {k: int(v) for k, v in row.items()}


def _plan_scope(store: Backend, fingerprint: str, full: bool) -> str:
    """Decide full / incremental / unchanged; for incremental fill ``_scope``."""
    raw = _scalar(store, "SELECT value FROM meta WHERE key = ?", [STATE_KEY])
    if full or not raw:
        return "full"
    try:
        old = json.loads(raw)
    except json.JSONDecodeError:
        return "full"
    if old.get("fingerprint") != fingerprint:
        return "full"
    kept = store.query(
        """
        SELECT (SELECT count(*) FROM positions WHERE pos_id <= ?) AS p,
               (SELECT count(*) FROM statics WHERE static_id <= ?) AS s
        """,
        [old.get("pos_max", -1), old.get("st_max", -1)],
    ).to_pylist()[0]
    if kept["p"] != old.get("pos_count") or kept["s"] != old.get("st_count"):
        return "full"  # rows were removed or inserted below the mark: start again
    store.materialise(
        SCOPE_TABLE,
        """
        SELECT DISTINCT mmsi FROM positions WHERE pos_id > ?
        UNION SELECT DISTINCT mmsi FROM statics WHERE static_id > ?
        """,
        [old["pos_max"], old["st_max"]],
    )
    n = _scalar(store, f"SELECT count(*) FROM {SCOPE_TABLE}")
    return "incremental" if n else "unchanged"


def run_detectors(
    store: Backend,
    settings: Settings,
    *,
    ports: str | Path | None = None,
    on_progress: ProgressFn | None = None,
    full: bool = False,
) -> DetectReport:
    """Run every registered detector over the store and write the ``events`` table.

    Parameters
    ----------
    store:
        The store (positions and statics ingested).
    settings:
        Effective settings; ``settings.detect`` holds every threshold.
    ports:
        A ports CSV replacing the bundled list (``None``: ``settings.ports`` or the bundled file).
    on_progress:
        Called as ``on_progress(step, done, total)`` after each step.
    full:
        Recompute everything even if an incremental run would do.

    Returns
    -------
    DetectReport
    """
    t_start = time.perf_counter()
    d = settings.detect
    ports_path = Path(ports) if ports is not None else (settings.ports or bundled_ports_path())
    port_table = load_ports(ports_path)
    record = ports_record(ports_path, port_table)
    ports_ref = {"path": str(record["path"]), "sha256": str(record["sha256"])}
    fingerprint = _fingerprint(d, port_table)
    state = _store_state(store)
    mode = _plan_scope(store, fingerprint, full)
    report = DetectReport(mode=mode, ports=str(ports_path))
    steps = ["ports", "segments and legs", "encounter steps", *[x.name for x in DETECTORS], "write"]
    # positions_by_vessel is a layout of the local DuckDB store, for tumen serve's per-vessel reads;
    # an engine that writes its events elsewhere (Spark: Parquet) has no use for it.
    vessel_index = settings.serve.vessel_index and store.dialect.name == "duckdb"
    steps += ["vessel index"] if vessel_index else []
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def done(step: str) -> None:
        now = time.perf_counter()
        timings[step] = now - clock[0]
        clock[0] = now
        if on_progress:
            on_progress(step, len(timings), len(steps))

    if mode == "unchanged":
        report.events_total = _totals(store)
        report.seconds = time.perf_counter() - t_start
        return report
    scope = SCOPE_TABLE if mode == "incremental" else None
    reach = max(
        float(max(port_table.column("radius_km").to_pylist())) * d.port_visits.radius_scale,
        d.encounters.min_port_distance_km,
        d.loitering.min_port_distance_km,
    )
    register_ports(store, port_table, reach)
    done("ports")
    seg, report.legs = build_legs(store, d, scope_table=scope)
    report.positions = seg.positions
    report.segments = {"track": seg.track, "noise": seg.noise, "jump": seg.jump}
    report.vessels = int(_scalar(store, "SELECT count(DISTINCT mmsi) FROM _segments") or 0)
    done("segments and legs")
    report.encounter_steps = enc_mod.build_steps(store, d.encounters)
    done("encounter steps")
    ctx = Context(store, d, scope)
    create_staging(store)
    version = tumen_version()
    for det in DETECTORS:
        det.run(ctx)
        n = stage_events(store, det.name, detector_params(det, d, ports_ref), version)
        report.events[det.event_type] = report.events.get(det.event_type, 0) + n
        done(det.name)
    _write(store, scope, state, fingerprint, record)
    done("write")
    if vessel_index:
        # the positions clustered by vessel, for per-vessel reads (tumen serve): not a detector input
        from tumen.store import by_vessel

        by_vessel.refresh(store)
        done("vessel index")
    report.events_total = _totals(store)
    report.timings = timings
    report.seconds = time.perf_counter() - t_start
    return report


def _write(
    store: Backend,
    scope: str | None,
    state: dict[str, int],
    fingerprint: str,
    ports: dict[str, object],
) -> None:
    """Replace the events and derived rows of the vessels in scope, and record the state and the
    ports used (:data:`~tumen.detect.ports.PORTS_META_KEY`), atomically."""
    if scope:
        in_scope = f"mmsi IN (SELECT mmsi FROM {scope})"
        ev_where = f"WHERE {in_scope} OR other_mmsi IN (SELECT mmsi FROM {scope})"
        where = f"WHERE {in_scope}"
    else:
        ev_where = where = ""
    with store.transaction():
        store.execute(f"DELETE FROM events {ev_where}")
        cols = [f'"{c}"' for c in EVENT_COLUMNS]
        store.execute(
            "INSERT INTO events "
            + store.dialect.first_per(
                "SELECT * FROM _events_new", cols, "event_id", "start, evidence"
            )
        )
        store.execute(f"DELETE FROM segments {where}")
        store.execute(
            """
            INSERT INTO segments
            SELECT mmsi, seg, kind, start, "end", n_positions, n_runs, first_pos_id, last_pos_id, lat, lon
            FROM _segments
            """
        )
        store.execute(f"DELETE FROM encounter_steps {where}")
        store.execute(
            f"INSERT INTO encounter_steps ({enc_mod.STEP_COLUMNS}) SELECT {enc_mod.STEP_COLUMNS} FROM _enc_steps"
        )
        store.execute("DELETE FROM meta WHERE key IN (?, ?)", [STATE_KEY, PORTS_META_KEY])
        store.execute(
            "INSERT INTO meta VALUES (?, ?), (?, ?)",
            [
                STATE_KEY,
                json.dumps({"fingerprint": fingerprint, **state}, sort_keys=True),
                PORTS_META_KEY,
                json.dumps(ports, sort_keys=True),
            ],
        )


def _totals(store: Backend) -> dict[str, int]:
    rows = store.query(
        "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type"
    ).to_pylist()
    return {r["type"]: int(r["n"]) for r in rows}
