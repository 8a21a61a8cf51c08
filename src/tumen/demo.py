"""The one-command demo: simulate → ingest → detect → screen → rank → report.

Runs the whole chain on embedded defaults, on a machine without any feed:

1. simulate a 3-day scenario of the sea between North Korea and Russia
   (:func:`tumen.sim.simulate`: background traffic plus shuttles, dark port
   calls, ship-to-ship meetings, identity fraud, with ground truth);
2. ingest the simulated AIS (:func:`tumen.ingest.ingest_paths`);
3. run every detector (:func:`tumen.detect.run_detectors`) with the
   scenario's ports file;
4. load the bundled demo list (:func:`tumen.screen.demo_list_path`, public
   designations in the project's own words), the simulator's mid-period
   designations (:mod:`tumen.sim.designations`: the report says which events came
   before and which after them) and, when present, the real lists of the shared
   data folder (every version kept); screen every identity (:func:`tumen.screen.screen_store`);
5. add a couple of observations from outside AIS (:func:`add_demo_observations`): satellite
   imagery confirming the planted dark port call, placed with the simulator's truth, a port
   report of a vessel at a North Korean port, and a photo of the renamed vessel still bearing its
   old name (contradicting the identity change); then rank the vessels
   (:func:`tumen.risk.rank_vessels`);
6. write the report (:func:`tumen.report.write_report`);
7. score the detections against the simulator's truth
   (:func:`tumen.sim.evaluate.evaluate`), so the demo also says how far to trust them.

Everything lands in one folder: ``sim/`` (the simulated input), ``tumen.duckdb``
(the store) and ``report/`` (``report.html``, ``report.pdf``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tumen.config import Settings

#: the scenario the README's first command runs
DEMO_HOURS = 72
DEMO_VESSELS = 150
DEMO_SEED = 0


def find_shared_sanctions(start: Path | None = None) -> Path | None:
    """The real sanctions lists folder, if this machine has one.

    ``$TUMEN_SHARED_DATA/sanctions`` when the variable is set, else the first
    ``shared/data/sanctions`` folder found walking up from ``start`` (default
    the working directory) and from the installed package (the layout of a
    checkout next to ``../shared``, as in tests/conftest.py).
    """
    env = os.environ.get("TUMEN_SHARED_DATA")
    if env:
        candidate = Path(env) / "sanctions"
        return candidate if candidate.is_dir() else None
    bases = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve()]
    for base in bases:
        for parent in [base, *base.parents]:
            candidate = parent / "shared" / "data" / "sanctions"
            if candidate.is_dir():
                return candidate
    return None


@dataclass
class DemoResult:
    """What the demo did and where it put it."""

    out_dir: Path
    db: Path
    report: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    """step name → {"seconds": float, **figures}"""

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "db": str(self.db),
            "report": self.report,
            "steps": self.steps,
        }


def run_demo(
    out_dir: str | Path,
    settings: Settings,
    *,
    seed: int = DEMO_SEED,
    hours: int = DEMO_HOURS,
    vessels: int = DEMO_VESSELS,
    real_lists: bool = True,
    db: str | Path | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    """Run the whole chain into ``out_dir`` (replacing an earlier demo there).

    Parameters
    ----------
    out_dir:
        Folder for ``sim/``, ``tumen.duckdb`` and ``report/``.
    settings:
        Effective settings; the demo sets ``db`` and ``ports`` itself.
    seed, hours, vessels:
        Scenario of the simulator (hours of traffic, number of vessels).
    db:
        The store to create (replaced if it exists); default ``out_dir/tumen.duckdb``.
    real_lists:
        Also screen against the real lists when :func:`find_shared_sanctions` finds them.
    on_step:
        Called as ``on_step(description, step, n_steps)`` before each step (1-based).
    """
    from tumen.detect import run_detectors
    from tumen.ingest import ingest_paths
    from tumen.report import write_report
    from tumen.risk import rank_vessels
    from tumen.risk.rank import ranking_counts
    from tumen.screen import demo_list_path, screen_store
    from tumen.screen.lists import load_lists
    from tumen.sim import simulate
    from tumen.store import DuckDBStore

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim_dir, report_dir = out / "sim", out / "report"
    db = Path(db) if db is not None else out / "tumen.duckdb"
    for old in (sim_dir, report_dir):
        if old.exists():
            shutil.rmtree(old)
    for old in (db, db.with_suffix(".duckdb.wal")):
        old.unlink(missing_ok=True)

    steps: dict[str, dict[str, Any]] = {}
    lists_dir = find_shared_sanctions() if real_lists else None
    plan = [
        "simulate",
        "ingest",
        "detect",
        "lists",
        "screen",
        "observe",
        "risk",
        "report",
        "evaluate",
    ]

    def step(name: str, description: str) -> float:
        if on_step is not None:
            on_step(description, plan.index(name) + 1, len(plan))
        return time.perf_counter()

    t = step("simulate", f"simulating {hours} h of traffic, {vessels} vessels")
    sim = simulate(sim_dir, seed=seed, hours=hours, vessels=vessels, settings=settings)
    inputs = [Path(p) for p in _sim_inputs(sim)]
    steps["simulate"] = {"seconds": time.perf_counter() - t, "files": [str(p) for p in inputs]}

    ports = Path(sim.ports) if getattr(sim, "ports", None) else None
    settings = settings.model_copy(update={"db": db, "ports": ports})
    with DuckDBStore(db) as store:
        t = step("ingest", "ingesting the simulated AIS")
        ingest = ingest_paths(store, inputs, settings)
        steps["ingest"] = {"seconds": time.perf_counter() - t, **_figures(ingest)}

        t = step(
            "detect", "detecting port visits, voyages, gaps, encounters, loitering, identity fraud"
        )
        detected = run_detectors(store, settings, ports=ports)
        steps["detect"] = {"seconds": time.perf_counter() - t, **_figures(detected)}

        t = step("lists", "loading sanctions lists")
        # the simulator's mid-period designations are a list of their own (sim_designations)
        sim_list = [sim.designations] if sim.designations is not None else []
        paths = [demo_list_path(), *sim_list] + ([lists_dir] if lists_dir else [])
        loaded = load_lists(store, paths)
        steps["lists"] = {
            "seconds": time.perf_counter() - t,
            "lists": loaded,
            "real_lists": str(lists_dir) if lists_dir else None,
        }

        t = step("screen", "screening every vessel identity")
        screened = screen_store(store, settings)
        steps["screen"] = {"seconds": time.perf_counter() - t, **_figures(screened)}

        if getattr(sim, "truth", None):
            t = step("observe", "adding observations from outside AIS")
            steps["observe"] = {
                "seconds": 0.0,
                **add_demo_observations(store, Path(sim.truth), settings),
            }
            steps["observe"]["seconds"] = time.perf_counter() - t

        t = step("risk", "ranking vessels by risk")
        ranked = rank_vessels(store, settings)
        scores = ranked.column("score").to_pylist()
        steps["risk"] = {
            "seconds": time.perf_counter() - t,
            "vessels": ranking_counts(scores)["n_vessels"],
            "with_signals": ranking_counts(scores)["n_with_signals"],
            "top": [
                {k: r[k] for k in ("rank", "mmsi", "name", "score")}
                for r in ranked.slice(0, 5).to_pylist()
            ],
        }

        t = step("report", "writing the report (HTML and PDF)")
        report = write_report(store, report_dir, settings)
        steps["report"] = {"seconds": time.perf_counter() - t, **report}

        truth = getattr(sim, "truth", None)
        if truth:
            from tumen.sim.evaluate import evaluate

            t = step("evaluate", "scoring the detections against the simulator's truth")
            scores_obj = evaluate(store, Path(truth), settings)
            steps["evaluate"] = {
                "seconds": time.perf_counter() - t,
                "overall": scores_obj.get("overall"),
            }
    return DemoResult(out_dir=out, db=db, report=report, steps=steps)


def _sim_inputs(sim: Any) -> list[str]:
    """The AIS files a SimResult names: its NMEA and/or CSV file (not truth.jsonl or ports.csv)."""
    return [str(p) for p in (sim.nmea, sim.csv) if p is not None]


def _figures(report: Any) -> dict[str, Any]:
    """A step report's figures (its ``to_json()`` when it has one)."""
    if hasattr(report, "to_json"):
        data = report.to_json()
        return {k: v for k, v in data.items() if isinstance(v, int | float | str | dict | list)}
    return {}


def add_demo_observations(store: Any, truth: Path, settings: Settings) -> dict[str, Any]:
    """Add the demo's observations, placed with the simulator's truth (``truth.jsonl``).

    - For each planted dark port call (a truth gap whose note names the port, "dark port call at
      Rajin"): a satellite image of the vessel at that port at the middle of the gap.  The
      shuttle sails the same route out and back at one speed, so the middle of its dark time is
      in the middle of its stay in port: the observation confirms the gap's candidate.
    - A port report of the first truth port visit at a North Korean port (the vessel seen in
      port, as port-state control reports it), in the middle of the visit.
    - For the first planted renaming (a truth ``identity_change``, "renamed OLD → NEW"): a photo
      of the vessel a day after its AIS first broadcast the new name, at its AIS position then,
      whose hull still reads the old name: it contradicts the identity change (the AIS name is
      not the one the ship bears).

    Returns ``{"observations": n, "confirmed": [event ids], "identity": [(event id, outcome)],
    "obs_ids": [...]}``.
    """
    import re
    from datetime import UTC, datetime

    from tumen.detect.ports import ports_detection_used
    from tumen.observe.corroborate import corroborations
    from tumen.observe.ledger import ObservationInput, prepare, store_observations
    from tumen.sim.truth import read_truth

    ports = ports_detection_used(store, settings.ports)
    kp = {r["name"] for r in ports.to_pylist() if r["country"] == "KP"}
    names = {r["name"] for r in ports.to_pylist()}
    rows: list[dict[str, Any]] = []
    events = read_truth(truth)

    def when(t: float) -> str:
        return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    for e in events:
        m = re.search(r"dark port call at ([^()]+?) \(", e.get("note") or "")
        if e["type"] != "gap" or e.get("negative") or not m or m.group(1) not in names:
            continue
        mid = e["start"] + (e["end"] - e["start"]) / 2
        rows.append(
            prepare(
                store,
                ports,
                ObservationInput(
                    vessel=str(e["mmsi"]),
                    time=when(mid),
                    port=m.group(1),
                    kind="imagery",
                    source="Sentinel-2 L2A scene over the port (simulated for the demo)",
                    note="a ship of the vessel's length and colours at the coal pier",
                    confidence="high",
                ),
                settings,
                added_by="tumen demo",
                origin="demo",
            )
        )
    visits = [
        e
        for e in events
        if e["type"] == "port_visit" and e.get("port") in kp and not e.get("negative")
    ]
    if visits:
        v = visits[0]
        rows.append(
            prepare(
                store,
                ports,
                ObservationInput(
                    vessel=str(v["mmsi"]),
                    time=when(v["start"] + (v["end"] - v["start"]) / 2),
                    port=v["port"],
                    kind="port_report",
                    source="port-state report (simulated for the demo)",
                    note="vessel reported alongside",
                    confidence="medium",
                ),
                settings,
                added_by="tumen demo",
                origin="demo",
            )
        )
    renames = [
        (e, m)
        for e in events
        if e.get("subtype") == "identity_change" and not e.get("negative")
        for m in [re.search(r"renamed (.+) → (.+)$", e.get("note") or "")]
        if m
    ]
    if renames:
        e, m = renames[0]
        # a day after the first static report with the new name, where its AIS puts it
        seen = store.query(
            """WITH first_new AS (
                   SELECT min(ts) AS t FROM statics WHERE mmsi = ? AND upper(trim(name)) = upper(?))
               SELECT p.ts, p.lat, p.lon FROM positions p, first_new f
               WHERE p.mmsi = ? AND p.lat IS NOT NULL AND p.ts >= f.t + INTERVAL 1 DAY
               ORDER BY p.ts LIMIT 1""",
            [e["mmsi"], m.group(2), e["mmsi"]],
        ).to_pylist()
        if seen:
            rows.append(
                prepare(
                    store,
                    ports,
                    ObservationInput(
                        vessel=str(e["mmsi"]),
                        time=seen[0]["ts"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                        lat=seen[0]["lat"],
                        lon=seen[0]["lon"],
                        kind="photo",
                        source="photograph from a passing ship (simulated for the demo)",
                        note="the hull still reads the old name",
                        confidence="medium",
                        seen_name=m.group(1),
                    ),
                    settings,
                    added_by="tumen demo",
                    origin="demo",
                )
            )
    ids, _dups = store_observations(store, rows)
    corrs = corroborations(store, settings, ports)
    confirmed = sorted({c["event_id"] for c in corrs if c["outcome"] == "confirms" and c["port"]})
    identity = sorted({(c["event_id"], c["outcome"]) for c in corrs if c["field"]})
    return {"observations": len(ids), "obs_ids": ids, "confirmed": confirmed, "identity": identity}
