"""Time `tumen demo` step by step (the README's first command; the bar is under two minutes here).

    PYTHONPATH=src python bench/demo.py [--runs 2] [--out BENCHMARKS.md] [--no-markdown]

Runs the whole chain (simulate a 3-day, 150-vessel scenario → ingest → detect → load the
bundled demo list and the real lists of ../shared/data → screen → rank → report, HTML and
PDF → evaluate) in a temporary folder, prints the seconds of each step (best of ``--runs``)
and writes them as the "The demo" section of BENCHMARKS.md.  There is no "obvious
alternative" to a pipeline; the figures say where its time goes, so the report (WeasyPrint)
and list loading, the two largest parts, can be compared run to run.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tumen.config import load_settings  # noqa: E402
from tumen.demo import find_shared_sanctions, run_demo  # noqa: E402

BEGIN, END = "<!-- demo:begin -->", "<!-- demo:end -->"


def write_section(out: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of ``out``."""
    old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{text.rstrip()}\n{END}"
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + block + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    out.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="runs; the best time of each step is kept")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--no-markdown", action="store_true", help="print only")
    args = ap.parse_args()

    settings = load_settings(environ={})
    best: dict[str, float] = {}
    totals: list[float] = []
    facts: dict[str, object] = {}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            result = run_demo(Path(tmp) / "demo", settings)
            steps = result.steps
            for name, step in steps.items():
                best[name] = min(best.get(name, float("inf")), float(step["seconds"]))
            totals.append(sum(float(s["seconds"]) for s in steps.values()))
            facts = {
                "lines": steps["ingest"].get("lines"),
                "events": steps["report"].get("events"),
                "dossiers": len(steps["report"].get("vessels", [])),
                "real_lists": steps["lists"].get("real_lists"),
                "html_bytes": Path(result.report["html"]).stat().st_size,
                "pdf_bytes": Path(result.report["pdf"]).stat().st_size
                if result.report.get("pdf")
                else 0,
                "f1": (steps.get("evaluate", {}).get("overall") or {}).get("f1"),
            }
        print(
            f"run {run + 1}: {totals[-1]:.1f} s  "
            + "  ".join(f"{k} {float(v['seconds']):.1f}" for k, v in steps.items())
        )

    lines = [
        "## The demo (`bench/demo.py`)",
        "",
        f"Command: `PYTHONPATH=src python bench/demo.py --runs {args.runs}`  ",
        f"Machine: {platform.machine()}, CPython {platform.python_version()}, "
        f"{__import__('os').cpu_count()} cores. Scenario: 72 h, 150 vessels, seed 0 "
        f"({facts.get('lines')} AIS lines); lists: bundled demo list"
        + (
            " + the real UN/OFAC/OpenSanctions files"
            if facts.get("real_lists")
            else " only (no shared data found)"
        )
        + ".",
        "",
        "| step | seconds (best of runs) |",
        "|---|---|",
        *[f"| {name} | {sec:.1f} |" for name, sec in best.items()],
        f"| **total** | **{min(totals):.1f}** (runs: {', '.join(f'{t:.1f}' for t in totals)}) |",
        "",
        f"Report: {facts.get('dossiers')} dossiers, {facts.get('events')} events in the annex; "
        f"HTML {int(facts.get('html_bytes') or 0) / 1e6:.1f} MB (self-contained), PDF {int(facts.get('pdf_bytes') or 0) / 1e6:.1f} MB. "
        f"Detections vs. truth: F1 {facts.get('f1')}.",
        "",
        "Bar: the demo finishes in under two minutes on this 2-core machine — "
        + ("met." if min(totals) < 120 else "NOT met."),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_markdown:
        write_section(args.out, text)
    if find_shared_sanctions() is None:
        print(
            "note: no shared data found; set TUMEN_SHARED_DATA to time the real lists too",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
