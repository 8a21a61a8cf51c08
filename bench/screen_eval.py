"""Screening quality: recall and precision on a labelled evaluation set made from the real lists.

Usage::

    PYTHONPATH=src python bench/screen_eval.py [--positives 600] [--negatives 600] [--seed 0]
                                               [--data ../shared/data] [--out BENCHMARKS.md] [--dump FILE]

Loads the UN and OFAC lists of the shared data folder into a temporary store,
generates the labelled set with :mod:`tumen.screen.evalset` (seeded; the data is
never committed, ``--dump`` writes it as JSON lines for inspection), scores it with
tumen's matcher at the default threshold and with plain rapidfuzz
``token_sort_ratio`` at its best threshold (in the same run), prints the figures
and writes them as the "Screening quality" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tumen.config import load_settings  # noqa: E402
from tumen.screen.evalset import EvalResult, evaluate, evaluate_rapidfuzz, generate  # noqa: E402
from tumen.screen.lists import load_lists  # noqa: E402
from tumen.screen.match import get_index  # noqa: E402
from tumen.store import DuckDBStore  # noqa: E402

BEGIN, END = "<!-- screen-eval:begin -->", "<!-- screen-eval:end -->"


def write_section(out: Path, text: str, begin: str, end: str) -> None:
    """Replace (or append) the section between ``begin`` and ``end`` in ``out``."""
    old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    out.write_text(new, encoding="utf-8")


def _row(r: EvalResult) -> str:
    return (
        f"| {r.method} | {r.threshold:.2f} | {r.recall:.3f} | {r.precision:.3f} | {r.tp} | {r.fp} | "
        f"{r.fn} | {r.seconds:.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positives", type=int, default=600)
    ap.add_argument("--negatives", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--dump", type=Path, default=None)
    args = ap.parse_args()
    data = args.data if (args.data / "sanctions").is_dir() else Path("/work/shared/data")
    threshold = load_settings(environ={}).screen.threshold
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "lists.duckdb")
        t = time.perf_counter()
        load_lists(store, [data / "sanctions" / "un", data / "sanctions" / "ofac"])
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        index = get_index(store)
        index_s = time.perf_counter() - t
        queries = generate(index, args.positives, args.negatives, seed=args.seed)
        if args.dump:
            args.dump.write_text(
                "".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in queries)
            )
        ours = evaluate(index, queries, threshold=threshold)
        base = evaluate_rapidfuzz(index, queries)
        store.close()
    pos = sum(q.positive for q in queries)
    variants = sorted(set(ours.by_variant) | set(base.by_variant))
    lines = [
        "## Screening quality (`bench/screen_eval.py`)",
        "",
        f"Command: `PYTHONPATH=src python bench/screen_eval.py --positives {args.positives} "
        f"--negatives {args.negatives} --seed {args.seed}`  ",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{__import__('os').cpu_count()} cores. Lists: UN SC consolidated (2026-02-27) + OFAC SDN CSV "
        f"(2024-05-03 with ALT/ADD/COMMENTS of 2025-01-06): {len(index)} sanctioned parties, "
        f"{len(index.names)} names (load {load_s:.1f} s, index {index_s:.1f} s).",
        "",
        f"Labelled set: {len(queries)} queries generated from the real lists (seed {args.seed}): {pos} true "
        f"variants and {len(queries) - pos} hard negatives (`tumen.screen.evalset`; the generator is "
        "committed, the data is not). A positive counts as found when an expected entry scores at or above "
        "the threshold; precision = found / (found + negatives with any match + positives matching only "
        "wrong entries).",
        "",
        "| method | threshold | recall | precision | TP | FP | FN | seconds |",
        "|---|---|---|---|---|---|---|---|",
        _row(ours),
        _row(base) + " (best-F1 threshold on this set)",
        "",
        "Correct answers by variant (tumen / rapidfuzz):",
        "",
        "| variant | queries | tumen | rapidfuzz token_sort_ratio |",
        "|---|---|---|---|",
    ]
    for v in variants:
        a = ours.by_variant.get(v, (0, 0))
        b = base.by_variant.get(v, (0, 0))
        lines.append(f"| {v} | {a[1]} | {a[0]} | {b[0]} |")
    lines += [
        "",
        f"Target: recall ≥ 0.97 at precision ≥ 0.97 — "
        f"{'met' if ours.recall >= 0.97 and ours.precision >= 0.97 else 'NOT met'} "
        f"(recall {ours.recall:.3f}, precision {ours.precision:.3f}).",
    ]
    text = "\n".join(lines)
    print(text)
    write_section(args.out, text, BEGIN, END)


if __name__ == "__main__":
    main()
