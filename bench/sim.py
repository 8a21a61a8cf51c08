"""Benchmark: detection quality on simulated scenarios with ground truth (issue 5's bar).

    python bench/sim.py                                 # 5 seeds × (3 d / 150 vessels, 7 d / 2000 vessels)
    python bench/sim.py --sizes small --seeds 1 2       # a quick look
    python bench/sim.py --markdown                      # and rewrite our section of BENCHMARKS.md

For every size and seed: ``tumen.sim.simulate`` writes the NMEA feed and its truth,
``tumen.ingest.ingest_paths`` stores it, ``tumen.detect.run_detectors`` finds the events
and ``tumen.sim.evaluate.evaluate`` scores them — the same calls as ``tumen simulate``,
``tumen ingest``, ``tumen detect`` and ``tumen evaluate``.  Reports the F1 of every event
type, the look-alikes reported, and the time, volume and peak memory of each step
(wall-clock; the machine may be shared, so the seconds are an upper bound).

Bar (issue 5): F1 ≥ 0.98 for every event type on every seed and size, no look-alike reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tumen.config import Settings  # noqa: E402
from tumen.detect import run_detectors  # noqa: E402
from tumen.ingest import ingest_paths  # noqa: E402
from tumen.sim import simulate  # noqa: E402
from tumen.sim.evaluate import TYPES, evaluate  # noqa: E402
from tumen.store import DuckDBStore  # noqa: E402

SIZES = {"small": (72, 150), "big": (168, 2000)}
BAR = 0.98


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(size: str, seed: int, work: Path) -> dict[str, Any]:
    """Simulate, ingest, detect and evaluate one scenario; the figures as a dict."""
    hours, vessels = SIZES[size]
    settings = Settings()
    out = work / f"{size}-{seed}"
    t = time.perf_counter()
    sim = simulate(out / "sim", seed=seed, hours=hours, vessels=vessels, settings=settings)
    t_sim = time.perf_counter() - t
    mb = sum(p.stat().st_size for p in sim.paths) / 1e6
    with DuckDBStore(out / "tumen.duckdb") as store:
        t = time.perf_counter()
        ingested = ingest_paths(store, sim.paths, settings)
        t_ingest = time.perf_counter() - t
        t = time.perf_counter()
        run_detectors(store, settings, ports=sim.ports)
        t_detect = time.perf_counter() - t
        result = evaluate(store, sim.truth, settings)
        positions = int(store.scalar("SELECT count(*) FROM positions"))
    shutil.rmtree(out, ignore_errors=True)
    return {
        "size": size,
        "seed": seed,
        "hours": hours,
        "vessels": sim.vessels,
        "lines": sim.lines,
        "mb": round(mb, 1),
        "positions": positions,
        "truth": result["counts"]["truth"],
        "negatives": result["counts"]["negatives"],
        "f1": {k: result["by_type"][k]["f1"] for k in TYPES},
        "tp_fp_fn": {k: [result["by_type"][k][x] for x in ("tp", "fp", "fn")] for k in TYPES},
        "overall_f1": result["overall"]["f1"],
        "negatives_hit": len(result["negatives_hit"]),
        "missed": result["missed"][:10],
        "spurious": result["spurious"][:10],
        "timing": result.get("timing", {}),
        "seconds": {
            "simulate": round(t_sim, 1),
            "ingest": round(t_ingest, 1),
            "detect": round(t_detect, 1),
        },
        "ingest": {
            k: getattr(ingested, k) for k in ("lines", "stored", "duplicates", "quarantined")
        },
        "peak_rss_mb": round(_rss_mb()),
    }


def markdown(rows: list[dict[str, Any]], argv: list[str]) -> str:
    """Our section of BENCHMARKS.md."""
    cmd = "PYTHONPATH=src python bench/sim.py " + " ".join(argv)
    lines = [
        "## Detection quality on simulated scenarios (`bench/sim.py`)",
        "",
        f"Command: `{cmd.strip()}`  ",
        f"Machine: {platform.machine()}, CPython {platform.python_version()}, 2 cores (shared; seconds are wall-clock "
        "upper bounds).  Pipeline per scenario: `simulate` (NMEA with tag blocks) → `ingest_paths` → "
        "`run_detectors` → `evaluate`, default settings.",
        "",
        "Sizes: small = 3 days, 150 vessels; big = 7 days, 2 000 vessels.  F1 per event type "
        "(tp/fp/fn in the JSON printed by the script); *neg hit* = look-alikes reported (must be 0).",
        "",
        "| size | seed | lines | MB | truth events | "
        + " | ".join(TYPES)
        + " | neg hit | simulate s | ingest s | detect s |",
        "|---|---|---:|---:|---:|" + "---:|" * len(TYPES) + "---:|---:|---:|---:|",
    ]
    for r in rows:
        f1 = " | ".join(f"{r['f1'][k]:.4f}" for k in TYPES)
        s = r["seconds"]
        lines.append(
            f"| {r['size']} | {r['seed']} | {r['lines']:,} | {r['mb']:.0f} | {r['truth']:,} | {f1} | {r['negatives_hit']} | "
            f"{s['simulate']:.0f} | {s['ingest']:.0f} | {s['detect']:.0f} |"
        )
    lines += [
        "",
        "Events in the truth per run (mean; planted and incidental) and look-alikes:",
        "",
        "| size | runs | " + " | ".join(TYPES) + " | look-alikes | peak RSS MB |",
        "|---|---:|" + "---:|" * len(TYPES) + "---:|---:|",
    ]
    for size in sorted({r["size"] for r in rows}, key=list(SIZES).index):
        group = [r for r in rows if r["size"] == size]
        means = " | ".join(
            f"{sum(r['tp_fp_fn'][k][0] + r['tp_fp_fn'][k][2] for r in group) / len(group):,.0f}"
            for k in TYPES
        )
        negs = sum(r["negatives"] for r in group) / len(group)
        rss = max(r["peak_rss_mb"] for r in group)
        lines.append(f"| {size} | {len(group)} | {means} | {negs:.0f} | {rss:,} |")
    worst = {k: min(r["f1"][k] for r in rows) for k in TYPES}
    met = all(v >= BAR for v in worst.values()) and all(r["negatives_hit"] == 0 for r in rows)
    lines += [
        "",
        "Lowest F1 over all runs: " + ", ".join(f"{k} {v:.4f}" for k, v in worst.items()) + ".  ",
        f"Bar (F1 ≥ {BAR} for every type on every run, no look-alike reported): **{'met' if met else 'NOT met'}**.",
        "",
        "Volume of one big scenario (7 days, 2 000 vessels): see the *lines* and *MB* columns; the simulator's "
        "own time is the *simulate* column (fleet planning, transmission, reception, noise, encoding and truth).",
    ]
    return "\n".join(lines)


def update_benchmarks(section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    start, end = "<!-- bench:sim:start -->", "<!-- bench:sim:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="seeds (default 1..5)"
    )
    ap.add_argument(
        "--sizes", nargs="+", choices=sorted(SIZES), default=["small", "big"], help="scenario sizes"
    )
    ap.add_argument(
        "--markdown", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md"
    )
    ap.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temporary one)"
    )
    ap.add_argument(
        "--from-json", type=Path, default=None, help="rebuild the section from a run's JSON lines"
    )
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="tumen-bench-sim-"))
    rows = []
    if args.from_json:  # the figures of an earlier run, printed one JSON object per line
        rows = [json.loads(x) for x in args.from_json.read_text().splitlines() if x.startswith("{")]
        argv = ["--seeds", *sorted({str(r["seed"]) for r in rows}), "--sizes"]
        argv += sorted({r["size"] for r in rows}, key=list(SIZES).index)
    for size in [] if args.from_json else args.sizes:
        for seed in args.seeds:
            row = run_one(size, seed, work)
            rows.append(row)
            print(json.dumps(row), flush=True)
    section = markdown(rows, [a for a in argv if a != "--markdown"] + ["--markdown"])
    print(section)
    if args.markdown:
        update_benchmarks(section)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    ok = all(min(r["f1"].values()) >= BAR and r["negatives_hit"] == 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
