"""Benchmark: the same detectors on DuckDB and on Apache Spark (issue 14).

    python bench/engines.py                          # 1 M and 10 M positions (+ --sizes 50e6)
    python bench/engines.py --sizes 1e6 --cores 1 2  # Spark on 1 and 2 cores, same data
    python bench/engines.py --identical              # simulator seeds 1-5: same events on both
    python bench/engines.py --materialise            # checkpoint vs cache vs parquet, small data

Each measurement runs in its own process (so each peak RSS is its own):

``gen``      a store of N synthetic positions from ``bench/detect.py``'s generator (planted events);
``duckdb``   ``tumen.detect.run_detectors`` on it: wall and CPU time, positions/s, peak RSS;
``spark``    the Parquet layout export (timed apart), then detection on Spark ``local[C]`` over the
             layout (``tumen.engines.detect_parquet``): wall time, positions/s, peak RSS of the Python
             driver and of the JVM (VmHWM read from /proc before the session stops);
then the two engines' events are compared (event ids, times to the second, evidence row ids) and a
power law ``time = c · size^a`` is fitted per engine (``a`` = 1: linear growth).

Spark's start-up (JVM, session) is included in its wall time and also reported alone: on one small
machine it dominates at small sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _bench_detect() -> Any:
    spec = importlib.util.spec_from_file_location("bench_detect", ROOT / "bench" / "detect.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def jvm_rss_mb(session: Any) -> float:
    """Peak resident memory (VmHWM) of the Spark JVM this process started, MiB."""
    try:
        pid = session.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (AttributeError, OSError):
        pass
    return float("nan")


def jvm_cpu_s(session: Any) -> float:
    """CPU seconds (user + system) the Spark JVM has used so far."""
    try:
        pid = session.sparkContext._gateway.proc.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, IndexError):
        return float("nan")


def events_digest(rows: list[dict[str, Any]]) -> tuple[str, int, list[tuple[Any, ...]]]:
    """SHA-256 of what both engines must agree on (see tests/engines.py ``comparable``)."""
    out = []
    for e in rows:
        ev = json.loads(e["evidence"])
        out.append(
            (
                e["event_id"],
                e["type"],
                e["subtype"],
                e["mmsi"],
                e["other_mmsi"],
                str(e["start"])[:19],
                str(e["end"])[:19],
                tuple(ev.get("position_ids") or ()),
                tuple(ev.get("static_ids") or ()),
            )
        )
    out.sort()
    return hashlib.sha256(repr(out).encode()).hexdigest(), len(out), out


# ----------------------------------------------------------------------------- phases
def phase_gen(db: str, positions: int) -> dict[str, Any]:
    bd = _bench_detect()
    t0 = time.perf_counter()
    info = bd.generate(Path(db), positions, max(100, positions // 500))
    return {"seconds": time.perf_counter() - t0, "vessels": info.get("vessels")}


def phase_duckdb(db: str, threads: int) -> dict[str, Any]:
    from tumen.config import load_settings
    from tumen.detect import run_detectors
    from tumen.store import DuckDBStore

    settings = load_settings(environ={})
    with DuckDBStore(db, threads=threads, memory_limit="4GB") as store:
        c0, t0 = cpu_seconds(), time.perf_counter()
        rep = run_detectors(store, settings, full=True)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        rows = store.query(
            'SELECT event_id, type, subtype, mmsi, other_mmsi, start, "end", evidence FROM events'
        ).to_pylist()
    digest, n, _ = events_digest(rows)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "positions": rep.positions,
        "events": n,
        "digest": digest,
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_spark(db: str, cores: int, scratch: str) -> dict[str, Any]:
    import pyarrow.dataset as ds

    from tumen.config import SparkSettings, load_settings
    from tumen.engines import detect_parquet
    from tumen.export.layout import write_layout
    from tumen.store import DuckDBStore
    from tumen.store.spark import spark_session

    layout = Path(scratch) / "layout"
    t0 = time.perf_counter()
    with DuckDBStore(db, read_only=True) as store:
        write_layout(store, layout)
    export_s = time.perf_counter() - t0
    settings = load_settings(environ={})
    sp = SparkSettings(
        master=f"local[{cores}]", shuffle_partitions=max(2, 2 * cores), driver_memory="6g"
    )
    settings = settings.model_copy(update={"spark": sp})
    t0 = time.perf_counter()
    session = spark_session(sp)
    start_s = time.perf_counter() - t0
    c0, j0 = cpu_seconds(), jvm_cpu_s(session)
    t1 = time.perf_counter()
    out = Path(scratch) / "events.parquet"
    rep, n = detect_parquet(layout, out, settings, session=session)
    wall = time.perf_counter() - t1
    cpu = (cpu_seconds() - c0) + (jvm_cpu_s(session) - j0)
    jvm = jvm_rss_mb(session)
    session.stop()
    rows = ds.dataset(out).to_table().to_pylist()
    digest, n2, _ = events_digest(rows)
    return {
        "wall_s": wall,
        "start_s": start_s,
        "export_s": export_s,
        "cpu_s": cpu,
        "positions": rep.positions,
        "events": n2,
        "digest": digest,
        "peak_rss_mb": peak_rss_mb(),
        "jvm_peak_rss_mb": jvm,
    }


def phase_identical(seed: int, scratch: str) -> dict[str, Any]:
    """Simulator scenario ``seed`` (24 h, 30 vessels): events on DuckDB and on Spark."""
    import pyarrow.dataset as ds

    from tumen.config import SparkSettings, load_settings
    from tumen.detect import run_detectors
    from tumen.engines import detect_parquet
    from tumen.export.layout import write_layout
    from tumen.ingest.pipeline import ingest_paths
    from tumen.sim import simulate
    from tumen.store import DuckDBStore

    sim = Path(scratch) / f"sim{seed}"
    simulate(sim, seed=seed, hours=24, vessels=30, fmt="nmea")
    settings = load_settings(environ={}).model_copy(
        update={"spark": SparkSettings(master="local[2]", shuffle_partitions=2)}
    )
    db = Path(scratch) / f"sim{seed}.duckdb"
    with DuckDBStore(db) as store:
        ingest_paths(store, [sim / "ais.nmea"], settings)
        run_detectors(store, settings, ports=sim / "ports.csv", full=True)
        rows = store.query(
            'SELECT event_id, type, subtype, mmsi, other_mmsi, start, "end", evidence FROM events'
        ).to_pylist()
        write_layout(store, Path(scratch) / f"lay{seed}")
    d_duck, n_duck, duck = events_digest(rows)
    t0 = time.perf_counter()
    detect_parquet(
        Path(scratch) / f"lay{seed}",
        Path(scratch) / f"ev{seed}.parquet",
        settings,
        ports=sim / "ports.csv",
    )
    wall = time.perf_counter() - t0
    d_spark, n_spark, spark = events_digest(
        ds.dataset(Path(scratch) / f"ev{seed}.parquet").to_table().to_pylist()
    )
    diff = sorted(set(duck) ^ set(spark))[:5]
    return {
        "seed": seed,
        "duckdb_events": n_duck,
        "spark_events": n_spark,
        "identical": d_duck == d_spark,
        "spark_wall_s": wall,
        "first_differences": [repr(x) for x in diff],
    }


def phase_materialise(rounds: int) -> dict[str, Any]:
    """Each strategy: ``rounds`` × (materialise a group-by, copy-on-write INSERT, DELETE)."""
    import pyarrow as pa

    from tumen.config import SparkSettings
    from tumen.store.spark import MATERIALISE, SparkBackend, spark_session

    session = spark_session(SparkSettings(master="local[2]", shuffle_partitions=2))
    n = 200_000
    data = pa.table({"mmsi": [i % 500 for i in range(n)], "v": [float(i) for i in range(n)]})
    out = {}
    for how in MATERIALISE:
        b = SparkBackend(session, materialise_by=how, owns_session=False)
        b.materialise("src", data)
        t0 = time.perf_counter()
        for _ in range(rounds):
            b.materialise("x", "SELECT mmsi, count(*) AS n, sum(v) AS s FROM src GROUP BY mmsi")
            b.execute("INSERT INTO x SELECT mmsi, n + 1, s FROM x WHERE mmsi < 100")
            b.execute("DELETE FROM x WHERE n > 400")
        out[how] = time.perf_counter() - t0
        b.close()
    session.stop()
    return {"rounds": rounds, "seconds": out}


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


def power_exponent(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6, 10e6], help="positions per run")
    ap.add_argument("--cores", nargs="+", type=int, default=[2], help="Spark local[N] core counts")
    ap.add_argument("--identical", action="store_true", help="simulator seeds 1-5 on both engines")
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--materialise", action="store_true", help="time the materialise strategies")
    ap.add_argument("--scratch", type=Path, default=None, help="work folder (default: temporary)")
    args = ap.parse_args(argv)
    if args.phase:
        name, *rest = args.phase
        fn = {
            "gen": lambda: phase_gen(rest[0], int(float(rest[1]))),
            "duckdb": lambda: phase_duckdb(rest[0], int(rest[1])),
            "spark": lambda: phase_spark(rest[0], int(rest[1]), rest[2]),
            "identical": lambda: phase_identical(int(rest[0]), rest[1]),
            "materialise": lambda: phase_materialise(int(rest[0])),
        }[name]
        print(json.dumps(fn()))
        return 0
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="tumen-bench-engines-"))
    results: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    if args.materialise:
        results["materialise"] = run_phase(["materialise", "10"])
        print(json.dumps(results["materialise"]), file=sys.stderr)
    if args.identical:
        results["identical"] = []
        for seed in args.seeds:
            r = run_phase(["identical", str(seed), str(scratch)])
            results["identical"].append(r)
            print(json.dumps(r), file=sys.stderr)
    if not (args.materialise or args.identical):
        runs = []
        for size in args.sizes:
            db = scratch / f"bench-{int(size)}.duckdb"
            if not db.exists():
                run_phase(["gen", str(db), str(size)])
            duck = run_phase(["duckdb", str(db), "2"])
            print(f"{int(size):>11,} duckdb {json.dumps(duck)}", file=sys.stderr)
            for cores in args.cores:
                work = scratch / f"spark-{int(size)}-{cores}"
                work.mkdir(exist_ok=True)
                sp = run_phase(["spark", str(db), str(cores), str(work)])
                sp["identical"] = sp["digest"] == duck["digest"]
                print(f"{int(size):>11,} spark local[{cores}] {json.dumps(sp)}", file=sys.stderr)
                runs.append({"size": size, "cores": cores, "duckdb": duck, "spark": sp})
        results["runs"] = runs
        two = [r for r in runs if r["cores"] == max(args.cores)]
        results["exponent_duckdb"] = power_exponent(
            [r["size"] for r in two], [r["duckdb"]["wall_s"] for r in two]
        )
        results["exponent_spark"] = power_exponent(
            [r["size"] for r in two], [r["spark"]["wall_s"] for r in two]
        )
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
