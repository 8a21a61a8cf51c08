"""Profile: where one ``tumen watch`` micro-batch spends its wall and CPU seconds.

    python bench/watch_profile.py --work /tmp/wperf/prof              # 3 batches of 20 000 lines at 80 %
    python bench/watch_profile.py --work /tmp/wperf/prof --top 30 --batches 5

The simulated feed of ``bench/watch.py`` (``tumen.sim.simulate`` seed 11, 72 h, 1 000 vessels)
is cut in two: the first ``--warm`` share is committed by :class:`tumen.watch.loop.Watcher`
in batches of ``--warm-batch`` lines (once per ``--work``: the store is then copied), then
``--batches`` batches of ``--batch-lines`` lines each go through ``Watcher._commit`` — exactly
the path of a live batch: open, ingest, detect, screen, alerts, commit, close — with the rules
of ``bench/watch.py``.

Reported per batch: wall and CPU (the process's user+system time, DuckDB's threads included)
of each step of ``report.timings``; the detector steps of ``DetectReport.timings``; and, over
all measured batches, the statements (``execute``/``query``/``scalar``/``materialise``/
``append`` of the store) with the most wall time, each with the module and line that issued it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from tumen.config import load_settings  # noqa: E402
from tumen.store.duckdb import DuckDBStore  # noqa: E402
from tumen.watch.feeds import ReplayFeed, line_time  # noqa: E402
from tumen.watch.loop import Outputs, Watcher  # noqa: E402
from tumen.watch.rules import load_rules  # noqa: E402

STATS: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
ON = [False]


def _site() -> str:
    for fr in reversed(traceback.extract_stack(limit=12)[:-2]):
        if "store/duckdb.py" not in fr.filename:
            return f"{Path(fr.filename).parent.name}/{Path(fr.filename).name}:{fr.lineno}"
    return "?"


def _wrap(name: str) -> None:
    orig = getattr(DuckDBStore, name)

    def timed(self: DuckDBStore, *args: Any, **kw: Any) -> Any:
        if not ON[0]:
            return orig(self, *args, **kw)
        w, c = time.perf_counter(), time.process_time()
        try:
            return orig(self, *args, **kw)
        finally:
            sql = args[0] if args and isinstance(args[0], str) else name
            if name in ("materialise", "append"):
                sql = f"{name} {args[0]}"
            s = STATS[(" ".join(str(sql).split())[:110], _site())]
            s[0] += time.perf_counter() - w
            s[1] += time.process_time() - c
            s[2] += 1

    setattr(DuckDBStore, name, timed)


def _items(lines: list[bytes], start: int, stop: int, offset: int) -> tuple[list[Any], int]:
    out = []
    last = None
    for line in lines[start:stop]:
        offset += len(line) + 1
        ts = line_time(line)
        last = ts if ts is not None else last
        out.append((line, offset, time.time(), last))
    return out, offset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--sim", type=Path, default=None, help="folder with ais.nmea and ports.csv")
    ap.add_argument("--warm", type=float, default=0.8, help="share of the feed committed first")
    ap.add_argument("--warm-batch", type=int, default=200_000)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--batch-lines", type=int, default=20_000)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    from watch import RULES

    sim = args.sim or (args.work / "sim")
    if not (sim / "ais.nmea").exists():
        from tumen.config import Settings
        from tumen.sim import simulate

        simulate(sim, seed=11, hours=72, vessels=1000, fmt="nmea", settings=Settings())
    lines = (sim / "ais.nmea").read_bytes().splitlines()
    feed_path = sim / "ais.nmea"
    settings = load_settings(environ={})
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "rules.toml").write_text(RULES)
    rules = load_rules(args.work / "rules.toml")
    n0 = int(len(lines) * args.warm)
    base = args.work / f"base-{n0}.duckdb"

    def watcher(db: Path) -> Watcher:
        feed = ReplayFeed(feed_path, 0)
        outs = Outputs(args.work / "alerts.jsonl", False, None, settings, lambda s: None)
        w = Watcher(db, settings, [feed], rules, outs, ports=sim / "ports.csv", say=lambda s: None)
        w._startup()
        return w

    offset = 0
    if not base.exists():
        shutil.rmtree(args.work / "spool", ignore_errors=True)
        w = watcher(base)
        t = time.perf_counter()
        for i in range(0, n0, args.warm_batch):
            items, offset = _items(lines, i, min(n0, i + args.warm_batch), offset)
            w._commit({w.feeds[0].key: items})
        print(f"warm-up: {n0:,} lines in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    offset = sum(len(x) + 1 for x in lines[:n0])
    db = args.work / "t.duckdb"
    shutil.copy(base, db)
    for f in ("t.duckdb.wal",):
        (args.work / f).unlink(missing_ok=True)
    w = watcher(db)
    import tumen.detect as det_pkg

    orig_run = det_pkg.run_detectors
    det_timings: list[dict[str, float]] = []

    def run_detectors(*a: Any, **kw: Any) -> Any:
        rep = orig_run(*a, **kw)
        det_timings.append(dict(rep.timings, vessels=rep.vessels, positions=rep.positions))
        return rep

    det_pkg.run_detectors = run_detectors
    for name in ("execute", "query", "scalar", "materialise", "append"):
        _wrap(name)
    per_batch = []
    for b in range(args.batches):
        i = n0 + b * args.batch_lines
        items, offset = _items(lines, i, i + args.batch_lines, offset)
        w.report.timings.clear()
        ON[0] = True
        wall, cpu = time.perf_counter(), time.process_time()
        alerts = w._commit({w.feeds[0].key: items})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        ON[0] = False
        per_batch.append(
            {
                "batch": b,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "alerts": len(alerts),
                "steps_wall_s": {k: round(v, 2) for k, v in w.report.timings.items()},
                "detect_steps_wall_s": {k: round(v, 2) for k, v in det_timings[-1].items()},
            }
        )
        print(json.dumps(per_batch[-1]), flush=True)
    tot_w = sum(s[0] for s in STATS.values())
    tot_c = sum(s[1] for s in STATS.values())
    print(
        f"\nstatements over {args.batches} batches: {tot_w:.1f} s wall, {tot_c:.1f} s CPU, "
        f"{sum(int(s[2]) for s in STATS.values())} calls; top {args.top} by wall:"
    )
    for (sql, site), (ws, cs, n) in sorted(STATS.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{ws:7.2f} s wall {cs:7.2f} s CPU {int(n):4d}x  {site:32s} {sql}")


if __name__ == "__main__":
    main()
