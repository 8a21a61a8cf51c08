"""Benchmark: the risk ranking on DuckDB and on Apache Spark (issue 14), same store, same answer.

    python bench/risk_engines.py                    # 1 M synthetic positions, Spark local[2]
    python bench/risk_engines.py --sizes 1e5 1e6 --cores 2

Each measurement runs in its own process (bench/engines.py's helpers; each peak RSS its own):

``prep``    a store of N synthetic positions (``bench/detect.py``'s generator: planted gaps,
            encounters, port calls, identity fraud …) and DuckDB detection on it, so the ranking
            has events to score (no sanctions lists are loaded: the list-match signals are covered
            by ``tests/risk/test_risk_engines.py``);
``duckdb``  ``tumen.risk.rank_vessels`` on the store (``write=False``): wall and CPU time;
``spark``   the export the Spark path needs (layout, events with their ports, matches), timed
            apart; the session start, timed apart; then ``tumen.engines.rank_parquet`` on Spark
            ``local[C]``: wall time, CPU time of the Python driver and the JVM together.

Both rankings are reduced to a SHA-256 of every column but ``ranked_at`` (signals and weights
parsed), which must be equal.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _bench(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ranking_digest(table: Any) -> tuple[str, int, int]:
    """SHA-256 of what both engines must agree on (tests/engines.py ``comparable_ranking``),
    the number of vessels ranked and of vessels with signals."""
    rows = []
    for row in table.sort_by("rank").to_pylist():
        row.pop("ranked_at")
        row["signals"] = json.loads(row["signals"])
        row["weights"] = json.loads(row["weights"])
        rows.append(row)
    text = json.dumps(rows, sort_keys=True, default=str)
    return (
        hashlib.sha256(text.encode()).hexdigest(),
        len(rows),
        sum(1 for r in rows if r["score"] > 0),
    )


def phase_prep(db: str, positions: int) -> dict[str, Any]:
    from tumen.config import load_settings
    from tumen.detect import run_detectors
    from tumen.store import DuckDBStore

    t0 = time.perf_counter()
    _bench("detect").generate(Path(db), positions, max(100, positions // 500))
    with DuckDBStore(db, memory_limit="4GB") as store:
        rep = run_detectors(store, load_settings(environ={}), full=True)
    return {"seconds": time.perf_counter() - t0, "events": sum(rep.events.values())}


def phase_duckdb(db: str) -> dict[str, Any]:
    from tumen.config import load_settings
    from tumen.risk import rank_vessels
    from tumen.store import DuckDBStore

    eng = _bench("engines")
    settings = load_settings(environ={})
    with DuckDBStore(db, read_only=True, memory_limit="4GB") as store:
        c0, t0 = eng.cpu_seconds(), time.perf_counter()
        table = rank_vessels(store, settings, write=False)
        wall, cpu = time.perf_counter() - t0, eng.cpu_seconds() - c0
        events = store.query("SELECT count(*) AS n FROM events").column("n")[0].as_py()
    digest, n, with_signals = ranking_digest(table)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "vessels": n,
        "with_signals": with_signals,
        "events": events,
        "digest": digest,
        "peak_rss_mb": eng.peak_rss_mb(),
    }


def phase_spark(db: str, cores: int, scratch: str) -> dict[str, Any]:
    from tumen.config import SparkSettings, load_settings
    from tumen.engines import rank_parquet, write_events_parquet
    from tumen.export.layout import write_layout
    from tumen.export.parquet import write_parquet
    from tumen.store import DuckDBStore
    from tumen.store.spark import spark_session

    eng = _bench("engines")
    folder = Path(scratch)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    with DuckDBStore(db, read_only=True) as store:
        write_layout(store, folder / "layout")
        write_events_parquet(store, folder / "events.parquet")
        write_parquet(store, "matches", folder / "matches.parquet")
    export_s = time.perf_counter() - t0
    settings = load_settings(environ={})
    sp = SparkSettings(
        master=f"local[{cores}]", shuffle_partitions=max(2, 2 * cores), driver_memory="6g"
    )
    settings = settings.model_copy(update={"spark": sp})
    t0 = time.perf_counter()
    session = spark_session(sp)
    start_s = time.perf_counter() - t0
    c0, j0 = eng.cpu_seconds(), eng.jvm_cpu_s(session)
    t1 = time.perf_counter()
    table = rank_parquet(
        folder / "layout",
        folder / "events.parquet",
        settings,
        matches=folder / "matches.parquet",
        risk_out=folder / "risk",
        session=session,
    )
    wall = time.perf_counter() - t1
    cpu = (eng.cpu_seconds() - c0) + (eng.jvm_cpu_s(session) - j0)
    jvm = eng.jvm_rss_mb(session)
    session.stop()
    digest, n, with_signals = ranking_digest(table)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "start_s": start_s,
        "export_s": export_s,
        "vessels": n,
        "with_signals": with_signals,
        "digest": digest,
        "peak_rss_mb": eng.peak_rss_mb(),
        "jvm_peak_rss_mb": jvm,
    }


def run_phase(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--phase", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"phase {args[0]} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6], help="positions (default 1e6)")
    ap.add_argument("--cores", type=int, default=2, help="Spark local[C] (default 2)")
    ap.add_argument("--scratch", type=Path, default=None, help="working folder (default: temp)")
    ap.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.phase:
        name, *rest = a.phase
        if name == "prep":
            out = phase_prep(rest[0], int(rest[1]))
        elif name == "duckdb":
            out = phase_duckdb(rest[0])
        else:
            out = phase_spark(rest[0], int(rest[1]), rest[2])
        print(json.dumps(out))
        return 0
    scratch = a.scratch or Path(tempfile.mkdtemp(prefix="tumen-bench-risk-"))
    scratch.mkdir(parents=True, exist_ok=True)
    results = []
    for size in a.sizes:
        n = int(size)
        db = scratch / f"risk-{n}.duckdb"
        if not db.exists():
            prep = run_phase(["prep", str(db), str(n)])
            print(
                f"{n:,} positions: store and DuckDB detection in {prep['seconds']:.1f} s, "
                f"{prep['events']:,} events",
                file=sys.stderr,
            )
        duck = run_phase(["duckdb", str(db)])
        spark_dir = scratch / f"spark-{n}-{a.cores}"
        spark = run_phase(["spark", str(db), str(a.cores), str(spark_dir)])
        row = {
            "positions": n,
            "cores": a.cores,
            "duckdb": duck,
            "spark": spark,
            "identical": duck["digest"] == spark["digest"],
            "wall_ratio": spark["wall_s"] / duck["wall_s"],
            "cpu_ratio": spark["cpu_s"] / duck["cpu_s"],
        }
        results.append(row)
        print(
            f"{n:,} positions, {duck['events']:,} events, {duck['vessels']:,} vessels "
            f"({duck['with_signals']:,} with signals): DuckDB {duck['wall_s']:.2f} s wall / "
            f"{duck['cpu_s']:.2f} s CPU; Spark local[{a.cores}] {spark['wall_s']:.1f} s wall / "
            f"{spark['cpu_s']:.1f} s CPU (+ session start {spark['start_s']:.1f} s, export "
            f"{spark['export_s']:.1f} s); identical: {row['identical']}",
            file=sys.stderr,
        )
    print(json.dumps(results, indent=2))
    return 0 if all(r["identical"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
