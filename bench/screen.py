"""Screening speed: name queries per second against the full lists, and screening a store.

Usage::

    PYTHONPATH=src python bench/screen.py [--queries 6000] [--identities 20000] [--seed 0]
                                          [--data ../shared/data] [--out BENCHMARKS.md]

1. Loads the UN and OFAC lists of the shared data folder into a temporary store and
   builds the screening index.
2. **Name queries**: the queries of a seeded evaluation set (:mod:`tumen.screen.evalset`,
   half true variants, half hard negatives; caches cleared first, so every query is new)
   screened one by one with their type, without a type (all three kinds), and through
   :func:`tumen.screen.match.screen_many` with 2 worker processes; beside them, in the same
   process, plain rapidfuzz ``process.extractOne`` (``token_sort_ratio``) over every list
   name of the query's type — the obvious alternative.
3. **Store screening**: a store with ``--identities`` vessel identities in ``statics``
   (listed vessels under their names, renamed or misspelt, with and without IMO numbers,
   and unlisted real-looking names) screened by :func:`tumen.screen.screen_store`
   (vessels and ownership paths, writing ``matches``); beside it rapidfuzz ``cdist`` of all
   identity names against all listed vessel names (``token_sort_ratio``, all cores).

Both wall-clock and CPU seconds are printed: on a shared machine the CPU time of the
process is the steadier figure.  Results are written as the "Screening speed" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import pyarrow as pa  # noqa: E402
from screen_eval import write_section  # noqa: E402

from tumen.config import load_settings  # noqa: E402
from tumen.screen import match as match_mod  # noqa: E402
from tumen.screen import screen_store  # noqa: E402
from tumen.screen.evalset import generate  # noqa: E402
from tumen.screen.lists import load_lists  # noqa: E402
from tumen.screen.match import get_index, screen_many, screen_query  # noqa: E402
from tumen.screen.names import normalise  # noqa: E402
from tumen.store import DuckDBStore  # noqa: E402

BEGIN, END = "<!-- screen-speed:begin -->", "<!-- screen-speed:end -->"


def clear_caches() -> None:
    for f in (match_mod.token_similarity, match_mod._parts, normalise):
        f.cache_clear()


class Timer:
    def __enter__(self) -> Timer:
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def identities(index, n: int, seed: int) -> list[dict]:
    """``n`` vessel identities: ~5 % listed vessels (name + IMO, renamed with IMO, name only,
    misspelt), the rest unlisted names built from the words of listed vessel names."""
    rng = random.Random(seed)
    vessels = [e for e in index.entries if e.kind == "vessel"]
    words = sorted(
        {
            t
            for nm in index.names
            if index.entries[nm.entry].kind == "vessel"
            for t in nm.form.tokens
            if not t.isdigit()
        }
    )
    rows = []
    for i in range(n):
        mmsi = 200_000_000 + i
        r = rng.random()
        if r < 0.05:
            e = rng.choice(vessels)
            imo = int(next(iter(e.imos))) if e.imos else None
            kind = rng.choice(["listed", "renamed", "no_imo", "typo"])
            name = e.caption
            if kind == "renamed":
                name = f"{rng.choice(words)} {rng.randint(1, 99)}"
            elif kind == "no_imo":
                imo = None
            elif kind == "typo" and len(name) > 4:
                k = rng.randrange(1, len(name) - 1)
                name = name[:k] + name[k + 1 :]
            rows.append((mmsi, imo, name))
        else:
            name = " ".join(rng.sample(words, rng.choice([1, 2, 2, 3])))
            if rng.random() < 0.4:
                name += f" {rng.randint(1, 30)}"
            rows.append((mmsi, None, name))
    return [
        {
            "static_id": i + 1,
            "mmsi": m,
            "imo": imo,
            "name": name,
            "source_id": 1,
            "line_no": i + 1,
            "line_first": i + 1,
        }
        for i, (m, imo, name) in enumerate(rows)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=6000)
    ap.add_argument("--identities", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args()
    data = args.data if (args.data / "sanctions").is_dir() else Path("/work/shared/data")
    from rapidfuzz import fuzz, process, utils

    settings = load_settings(environ={})
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "bench.duckdb")
        with Timer() as t_load:
            load_lists(store, [data / "sanctions" / "un", data / "sanctions" / "ofac"])
        with Timer() as t_index:
            index = get_index(store)
        queries = [
            q.to_json()
            for q in generate(index, args.queries // 2, args.queries // 2, seed=args.seed)
        ]
        n = len(queries)
        clear_caches()
        with Timer() as t_typed:
            for q in queries:
                screen_query(index, q["name"], type=q["type"])
        clear_caches()
        with Timer() as t_untyped:
            for q in queries:
                screen_query(index, q["name"])
        clear_caches()
        with Timer() as t_many:
            screen_many(index, queries, workers=2)
        untyped = [{k: v for k, v in q.items() if k != "type"} for q in queries]
        clear_caches()
        with Timer() as t_many_untyped:
            screen_many(index, untyped, workers=2)
        by_kind = {}
        for kind in ("vessel", "company", "person"):
            by_kind[kind] = [
                nm.form.original for nm in index.names if index.entries[nm.entry].kind == kind
            ]
        sample = queries[: min(600, n)]
        with Timer() as t_rf:
            for q in sample:
                process.extractOne(
                    q["name"],
                    by_kind[q["type"]],
                    scorer=fuzz.token_sort_ratio,
                    processor=utils.default_process,
                )
        # ---------------------------------------------------------------- store screening
        rows = identities(index, args.identities, args.seed)
        store.append("statics", pa.Table.from_pylist(rows))
        clear_caches()
        with Timer() as t_store:
            report = screen_store(store, settings)
        names = [r["name"] for r in rows]
        vessel_names = by_kind["vessel"]
        with Timer() as t_cdist:
            process.cdist(
                names,
                vessel_names,
                scorer=fuzz.token_sort_ratio,
                processor=utils.default_process,
                score_cutoff=85,
                workers=-1,
                dtype="uint8",
            )
        store.close()

    def qps(t: Timer, k: int) -> str:
        return f"{k / t.wall:,.0f} / {k / t.cpu:,.0f}"

    lines = [
        "## Screening speed (`bench/screen.py`)",
        "",
        f"Command: `PYTHONPATH=src python bench/screen.py --queries {args.queries} --identities "
        f"{args.identities} --seed {args.seed}`  ",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end of the run (figures are "
        "wall-clock / CPU-time of this process; on a busy machine the CPU figure is the steadier one).",
        f"Lists: UN SC consolidated + OFAC SDN (with ALT/ADD/COMMENTS): {len(index)} sanctioned parties, "
        f"{len(index.names)} names; loading {t_load.wall:.1f} s, index {t_index.wall:.1f} s.",
        "",
        "| workload | queries | queries/s (wall / CPU) |",
        "|---|---|---|",
        f"| tumen `screen_query`, with the query's type, one process | {n} | {qps(t_typed, n)} |",
        f"| tumen `screen_query`, no type (vessels, companies and people), one process | {n} | "
        f"{qps(t_untyped, n)} |",
        f"| tumen `screen_many`, with type, 2 worker processes | {n} | {n / t_many.wall:,.0f} (wall) |",
        f"| tumen `screen_many`, no type, 2 worker processes | {n} | {n / t_many_untyped.wall:,.0f} (wall) |",
        f"| rapidfuzz `extractOne` token_sort_ratio over all names of the type | {len(sample)} | "
        f"{qps(t_rf, len(sample))} |",
        "",
        f"Ratio (one process, CPU): tumen is {(n / t_typed.cpu) / (len(sample) / t_rf.cpu):,.0f}× the plain "
        "rapidfuzz scan (which also finds far fewer true variants: see Screening quality).",
        "",
        f"Store screening: {report.identities} vessel identities in `statics` → `screen_store` "
        f"(vessel matches and ownership paths, `matches` written): **{t_store.wall:.1f} s** wall "
        f"({report.identities / t_store.wall:,.0f} identities/s; {report.matches} matches, "
        f"{report.vessel_matches} vessels, {report.party_matches} linked parties). Beside it, rapidfuzz "
        f"`cdist` of the {len(names)} names against the {len(vessel_names)} listed vessel names "
        f"(token_sort_ratio, all cores, names only, no identifiers or paths): {t_cdist.wall:.1f} s.",
        "",
        f"Targets: ≥ 2 000 name queries/s — "
        f"{'met' if max(n / t_typed.wall, n / t_many.wall) >= 2000 else 'NOT met'} with the type "
        f"(one process {n / t_typed.wall:,.0f}, 2 workers {n / t_many.wall:,.0f}), "
        f"{'met' if max(n / t_untyped.wall, n / t_many_untyped.wall) >= 2000 else 'NOT met'} without "
        f"(one process {n / t_untyped.wall:,.0f}, 2 workers {n / t_many_untyped.wall:,.0f}); "
        f"20 000 identities < 30 s — {'met' if t_store.wall < 30 else 'NOT met'} ({t_store.wall:.1f} s).",
    ]
    text = "\n".join(lines)
    print(text)
    write_section(args.out, text, BEGIN, END)


if __name__ == "__main__":
    main()
