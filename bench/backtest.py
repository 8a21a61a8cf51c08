"""Back-test: were vessels designated after a date already ranked high before it?

Vendors claim their risk scores flag vessels before they are designated (Windward:
">99% flagged before designation"); nobody outside can check.  With list history
(`tumen lists`) and `tumen risk --as-of` tumen can:

1. **Simulator scenarios** (several seeds): about half of the planted evaders are
   designated on a day inside the period (:mod:`tumen.sim.designations`, the truth is
   the list it writes).  For each designation day D the vessels are ranked with only
   the data and lists known one second before D (:func:`tumen.risk.asof.as_of_view`:
   positions up to then, events ended by then, designations in force then), and we
   count how many of the vessels designated on or after D are in the top N.  The
   baseline is the count a random order would give on average (k * N / vessels ranked).
2. **The two OFAC SDN versions** of the shared data (2024-04-04, 2024-05-03): the vessel
   entries added between them are the "designated after" set; the shared real AIS
   captures are ingested, screened against both versions and ranked as of one second
   before 2024-05-03.  The captures (2010-2023, none near Korea) hold none of these
   vessels, so this part reports how many could be ranked at all.

Usage::

    PYTHONPATH=src python bench/backtest.py --seeds 0 1 2 --hours 120 --vessels 150 \
        --out /tmp/backtest --markdown notes.md

Prints one JSON object (and writes the markdown table when asked).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TOP_N = (5, 10, 20, 50)


def _store_for_seed(
    out: Path, seed: int, hours: int, vessels: int
) -> tuple[Path, list[dict[str, Any]], Any]:
    from tumen.config import Settings
    from tumen.detect import run_detectors
    from tumen.ingest import ingest_paths
    from tumen.screen import demo_list_path, screen_store
    from tumen.screen.lists import load_lists
    from tumen.sim import simulate
    from tumen.sim.designations import read_designations
    from tumen.store import DuckDBStore

    folder = out / f"seed{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    settings = Settings()
    sim = simulate(folder / "sim", seed=seed, hours=hours, vessels=vessels, settings=settings)
    db = folder / "tumen.duckdb"
    settings = settings.model_copy(update={"db": db, "ports": Path(sim.ports)})
    with DuckDBStore(db) as store:
        ingest_paths(store, [str(p) for p in sim.paths], settings)
        run_detectors(store, settings, ports=Path(sim.ports))
        lists = [demo_list_path()] + ([Path(sim.designations)] if sim.designations else [])
        load_lists(store, lists)
        screen_store(store, settings)
    designated = read_designations(sim.designations) if sim.designations else []
    return db, designated, settings


def rank_as_of(db: Path, settings: Any, when: datetime) -> list[int]:
    """MMSIs best first, ranked with what was known at ``when`` (UTC)."""
    from tumen.risk import rank_vessels
    from tumen.risk.asof import as_of_view
    from tumen.store import DuckDBStore

    with DuckDBStore(db) as store, as_of_view(store, when):
        table = rank_vessels(store, settings, write=False)
    return [int(m) for m in table.column("mmsi").to_pylist()]


def hits(ranked: list[int], targets: set[int], ns: tuple[int, ...] = TOP_N) -> dict[str, Any]:
    """Targets in the top N of ``ranked`` for each N, the random baseline and each target's rank."""
    pos = {m: i + 1 for i, m in enumerate(ranked)}
    out: dict[str, Any] = {
        "designated_after": len(targets),
        "ranked": len(ranked),
        "in_data": sum(1 for t in targets if t in pos),
        "ranks": sorted(pos.get(t, 0) for t in targets),
    }
    for n in ns:
        out[f"top{n}"] = sum(1 for t in targets if 0 < pos.get(t, 0) <= n)
        out[f"random{n}"] = round(len(targets) * min(n, len(ranked)) / max(1, len(ranked)), 2)
    return out


def simulator_backtest(
    out: Path, seeds: list[int], hours: int, vessels: int
) -> list[dict[str, Any]]:
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        db, designated, settings = _store_for_seed(out, seed, hours, vessels)
        built = time.perf_counter() - t0
        for day in sorted({d["listed_on"] for d in designated}):
            when = datetime(day.year, day.month, day.day) - timedelta(seconds=1)
            targets = {d["mmsi"] for d in designated if d["listed_on"] >= day}
            t1 = time.perf_counter()
            ranked = rank_as_of(db, settings, when)
            rows.append(
                {
                    "scenario": f"seed {seed}, {hours} h, {vessels} vessels",
                    "as_of": when.isoformat() + "Z",
                    "designation_day": day.isoformat(),
                    **hits(ranked, targets),
                    "build_s": round(built, 1),
                    "rank_s": round(time.perf_counter() - t1, 2),
                }
            )
    return rows


def ofac_backtest(out: Path, shared: Path) -> dict[str, Any]:
    from tumen.config import Settings
    from tumen.detect import run_detectors
    from tumen.ingest import ingest_paths
    from tumen.screen import screen_store
    from tumen.screen.lists import load_lists
    from tumen.screen.lists.history import diff_versions, list_versions
    from tumen.store import DuckDBStore

    folder = out / "ofac"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = folder / "tumen.duckdb"
    settings = Settings().model_copy(update={"db": db})
    ais = sorted(p for p in (shared / "ais").rglob("*") if p.is_file() and p.name != "README.md")
    ofac = [
        shared / "sanctions/ofac/sdn_2024-04-04.csv.gz",
        shared / "sanctions/ofac/sdn_2024-05-03.csv.gz",
    ]
    with DuckDBStore(db) as store:
        ingest_paths(store, [str(p) for p in ais], settings)
        run_detectors(store, settings)
        load_lists(store, ofac)
        screen_store(store, settings)
        old, new = list_versions(store, "us_ofac_sdn")
        diff = diff_versions(store, old, new)
        added = {e["entity_id"] for e in diff["added"] if e["schema"] == "Vessel"}
        matched = {
            int(r["mmsi"])
            for r in store.query(
                "SELECT DISTINCT mmsi FROM matches WHERE match AND role = 'vessel' AND mmsi IS NOT NULL "
                "AND list_id = 'us_ofac_sdn' AND entity_id IN (SELECT unnest(?))",
                [sorted(added)],
            ).to_pylist()
        }
        vessels_in_ais = store.scalar("SELECT count(DISTINCT mmsi) FROM positions")
    when = datetime(2024, 5, 3) - timedelta(seconds=1)
    ranked = rank_as_of(db, settings, when)
    return {
        "old": old["version_id"],
        "new": new["version_id"],
        "vessel_entries_added": len(added),
        "vessels_in_ais": vessels_in_ais,
        "added_vessels_broadcasting": len(matched),
        **{k: v for k, v in hits(ranked, matched).items() if k != "designated_after"},
    }


def markdown(sim_rows: list[dict[str, Any]], ofac: dict[str, Any] | None, cmd: str) -> str:
    lines = [
        "### Back-test: vessels designated after a date, ranked before it (issue 15)",
        "",
        "What: for each designation day D, `tumen risk --as-of` (D minus one second: positions up to then, "
        "events ended by then, designations in force then) ranks every vessel; we count how many of the "
        "vessels designated on or after D are in the top N. Random: the count a random order gives on average.",
        "",
        f"Command: `{cmd}`",
        "",
        "Machine: 2-core AMD EPYC, 24 GiB, CPython 3.11.",
        "",
        "| scenario | as of (UTC) | designated after | vessels ranked | "
        + " | ".join(f"top {n} (random)" for n in TOP_N)
        + " | their ranks (0: not heard by then) |",
        "|---|---|---:|---:|" + "---:|" * len(TOP_N) + "---|",
    ]
    for r in sim_rows:
        lines.append(
            f"| {r['scenario']} | {r['as_of'][:19].replace('T', ' ')} | {r['designated_after']} | {r['ranked']} | "
            + " | ".join(f"{r[f'top{n}']} ({r[f'random{n}']})" for n in TOP_N)
            + f" | {', '.join(map(str, r['ranks']))} |"
        )
    tot = {n: sum(r[f"top{n}"] for r in sim_rows) for n in TOP_N}
    k = sum(r["designated_after"] for r in sim_rows)
    lines.append(
        f"| **all** | | {k} | | "
        + " | ".join(f"**{tot[n]}** ({sum(r[f'random{n}'] for r in sim_rows):.1f})" for n in TOP_N)
        + " | |"
    )
    if ofac is not None:
        lines += [
            "",
            f"OFAC SDN {ofac['old']} → {ofac['new']}: {ofac['vessel_entries_added']} vessel entries added; "
            f"the shared real AIS captures ({ofac['vessels_in_ais']} MMSIs, 2010-2023, none near Korea) "
            f"match {ofac['added_vessels_broadcasting']} of them (screening matches, not necessarily the same "
            f"ships), ranked {', '.join(map(str, ofac['ranks'])) or '-'} of {ofac['ranked']} one second before "
            "2024-05-03: "
            + ", ".join(f"top {n}: {ofac[f'top{n}']}" for n in TOP_N)
            + ". A real back-test needs AIS of the designated vessels before their designation.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--hours", type=int, default=120)
    ap.add_argument("--vessels", type=int, default=150)
    ap.add_argument("--out", type=Path, default=Path("/tmp/tumen-backtest"))
    ap.add_argument(
        "--shared", type=Path, default=None, help="shared data folder (ais/, sanctions/)"
    )
    ap.add_argument("--no-ofac", action="store_true")
    ap.add_argument("--markdown", type=Path, default=None)
    ap.add_argument("--from-json", type=Path, default=None, help="re-render a saved result")
    args = ap.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        text = markdown(saved["simulator"], saved["ofac"], saved.get("command", ""))
        (args.markdown.write_text(text, encoding="utf-8") if args.markdown else print(text))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    shared = args.shared or (
        Path(os.environ["TUMEN_SHARED_DATA"]) if "TUMEN_SHARED_DATA" in os.environ else None
    )
    if shared is None:
        here = Path(__file__).resolve()
        shared = next(
            (p / "shared" / "data" for p in here.parents if (p / "shared" / "data").is_dir()), None
        )
    t0 = time.perf_counter()
    sim_rows = simulator_backtest(args.out, args.seeds, args.hours, args.vessels)
    ofac = None if args.no_ofac or shared is None else ofac_backtest(args.out, shared)
    cmd = "PYTHONPATH=src python bench/backtest.py " + " ".join(argv or sys.argv[1:])
    result = {
        "simulator": sim_rows,
        "ofac": ofac,
        "seconds": round(time.perf_counter() - t0, 1),
        "command": cmd,
    }
    print(json.dumps(result, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(markdown(sim_rows, ofac, cmd), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
