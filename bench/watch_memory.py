"""Peak memory of a detection run over a whole store, with and without a DuckDB memory limit.

    python bench/watch_memory.py STORE.duckdb --limits none 1GiB 512MiB

The worst batch ``tumen watch`` can meet is one that touches every vessel: its incremental
detection is then a full run over the whole history.  For each limit, a copy of STORE is
opened as watch opens it (``DuckDBStore(path, memory_limit=...)``, :class:`tumen.watch.loop.Watcher`)
and ``run_detectors(full=True)`` runs in a fresh child process; reported: the child's peak
resident set (``ru_maxrss``), wall and CPU (user+system, DuckDB's threads included), and the
events written (the same count whatever the limit).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(db: Path, limit: str | None, ports: Path | None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from tumen.config import load_settings
    from tumen.detect import run_detectors
    from tumen.store.duckdb import DuckDBStore

    settings = load_settings(environ={})
    w, c = time.perf_counter(), time.process_time()
    with DuckDBStore(db, memory_limit=limit) as store:
        rep = run_detectors(store, settings, ports=ports, full=True)
        positions = store.scalar("SELECT count(*) FROM positions")
    print(
        json.dumps(
            {
                "memory_limit": limit,
                "positions": positions,
                "vessels": rep.vessels,
                "events": sum(rep.events.values()),
                "wall_s": round(time.perf_counter() - w, 1),
                "cpu_s": round(time.process_time() - c, 1),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--limits", nargs="+", default=["none", "1GiB"])
    ap.add_argument("--ports", type=Path, default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        limit = None if args.limits[0] == "none" else args.limits[0]
        child(args.store, limit, args.ports)
        return
    with tempfile.TemporaryDirectory(prefix="tumen-watch-memory-") as tmp:
        for limit in args.limits:
            copy = Path(tmp) / "t.duckdb"
            shutil.copy(args.store, copy)
            cmd = [sys.executable, __file__, str(copy), "--child", "--limits", limit]
            cmd += ["--ports", str(args.ports)] if args.ports else []
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            print(out.strip(), flush=True)
            copy.unlink()


if __name__ == "__main__":
    main()
