"""Screening quality: recall, precision and speed on labelled sets made from the real lists,
for tumen's matcher and, in the same run on the same sets, plain rapidfuzz and nomenklatura's
``logic-v1`` and ``logic-v2`` matchers (what yente serves).

Usage::

    PYTHONPATH=src python bench/screen_eval.py [--positives 600] [--negatives 600]
        [--user-positives 200] [--user-negatives 200] [--seed 0] [--block 20]
        [--data ../shared/data] [--out BENCHMARKS.md] [--dump FILE]

Loads the UN and OFAC lists of the shared data folder into a temporary store and
generates two labelled sets with :mod:`tumen.screen.evalset` (seeded; the data is never
committed, ``--dump`` writes it as JSON lines for inspection):

* **labelled**: :func:`~tumen.screen.evalset.generate` (typos, spacing, legal forms,
  transliterations, hard negatives);
* **user-written**: :func:`~tumen.screen.evalset.generate_user_written` (hull-number
  markers, abbreviated company words, a place in parentheses with "Limited", word
  order, Korean romanisation, and near misses written the same way).

Methods, each at its documented default threshold (0.7; rapidfuzz at its best-F1
threshold on the set):

* ``tumen screen_query`` — retrieval and scoring of :mod:`tumen.screen.match`;
* ``rapidfuzz token_sort_ratio`` — plain brute force over every list name of the type;
* ``nomenklatura logic-v1`` / ``logic-v2`` — ``get_algorithm(name).compare(query, candidate,
  ScoringConfig.defaults())`` on FtM entities (the query an entity of the query's schema
  with the name; the candidates the listed entities as loaded).  Candidate retrieval
  for them is a brute-force **blocking** independent of tumen's index: rapidfuzz
  ``token_set_ratio`` of the ASCII-transliterated query (``rigour.text.translit.ascii_text``)
  against every listed name of the query's type, the entities of the ``--block`` best
  names compared.  Seconds include the blocking.

Needs nomenklatura (the ``test`` extra).  Prints the figures and writes them as the
"Screening quality" section of ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tumen.config import load_settings  # noqa: E402
from tumen.screen.evalset import (  # noqa: E402
    EvalResult,
    Query,
    _tally,
    evaluate,
    evaluate_rapidfuzz,
    generate,
    generate_user_written,
)
from tumen.screen.index import ScreenIndex  # noqa: E402
from tumen.screen.lists import load_lists  # noqa: E402
from tumen.screen.match import get_index  # noqa: E402
from tumen.store import DuckDBStore  # noqa: E402

BEGIN, END = "<!-- screen-eval:begin -->", "<!-- screen-eval:end -->"
#: FtM schema of the query entity for each query type.
QUERY_SCHEMA = {"vessel": "Vessel", "company": "Company", "person": "Person"}


def write_section(out: Path, text: str, begin: str, end: str) -> None:
    """Replace (or append) the section between ``begin`` and ``end`` in ``out``."""
    old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    out.write_text(new, encoding="utf-8")


class Nomenklatura:
    """nomenklatura matchers over the listed entities, with a rapidfuzz blocking."""

    def __init__(self, store: DuckDBStore, index: ScreenIndex, block: int) -> None:
        from followthemoney import model
        from rigour.text.translit import ascii_text

        self.ascii = ascii_text
        self.block = block
        rows = store.query("SELECT entity FROM entities WHERE target").to_pylist()
        self.proxies = {}
        for r in rows:
            ent = json.loads(r["entity"])
            self.proxies.setdefault(ent["id"], model.get_proxy(ent))
        self.choices: dict[str, tuple[list[str], list[str]]] = {}
        from rapidfuzz import utils

        for kind in QUERY_SCHEMA:
            seen: set[tuple[str, str]] = set()
            names, ids = [], []
            for nm in index.names:
                e = index.entries[nm.entry]
                listed = nm.listed or nm.form.original
                if e.kind != kind or (e.entity_id, listed) in seen:
                    continue
                seen.add((e.entity_id, listed))
                names.append(utils.default_process(ascii_text(listed)))
                ids.append(e.entity_id)
            self.choices[kind] = (names, ids)

    def candidates(self, q: Query) -> list[str]:
        from rapidfuzz import fuzz, process, utils

        names, ids = self.choices[q.type]
        hits = process.extract(
            utils.default_process(self.ascii(q.name)),
            names,
            scorer=fuzz.token_set_ratio,
            processor=None,
            limit=self.block,
        )
        out: list[str] = []
        for _, _, k in hits:
            if ids[k] not in out:
                out.append(ids[k])
        return out

    def evaluate(self, name: str, queries: list[Query], threshold: float = 0.7) -> EvalResult:
        from followthemoney import model
        from nomenklatura.matching import ScoringConfig, get_algorithm

        algorithm = get_algorithm(name)
        assert algorithm is not None, name
        config = ScoringConfig.defaults()
        t0, c0 = time.perf_counter(), time.process_time()
        outcomes = []
        for q in queries:
            query = model.make_entity(QUERY_SCHEMA[q.type])
            query.id = q.qid
            query.add("name", q.name)
            hits = []
            for eid in self.candidates(q):
                cand = self.proxies[eid]
                if not query.schema.can_match(cand.schema):
                    continue
                if algorithm.compare(query, cand, config).score >= threshold:
                    hits.append(eid)
            outcomes.append((bool(hits), any(h in q.expected for h in hits)))
        r = _tally(f"nomenklatura {name}", threshold, queries, outcomes, time.perf_counter() - t0)
        r.cpu_seconds = time.process_time() - c0  # type: ignore[attr-defined]
        return r


def timed(fn: Callable[[], EvalResult]) -> EvalResult:
    """Run ``fn`` with cold query caches and attach its CPU seconds (``process_time``)."""
    from tumen.screen.match import token_similarity
    from tumen.screen.names import normalise

    normalise.cache_clear()  # the generators normalised the query texts
    token_similarity.cache_clear()
    c0 = time.process_time()
    r = fn()
    r.cpu_seconds = time.process_time() - c0  # type: ignore[attr-defined]
    return r


def table(results: list[EvalResult], n: int) -> list[str]:
    lines = [
        "| method | threshold | recall | precision | TP | FP | FN | wall s | CPU s | queries/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cpu = getattr(r, "cpu_seconds", r.seconds)
        lines.append(
            f"| {r.method} | {r.threshold:.2f} | {r.recall:.3f} | {r.precision:.3f} | {r.tp} | "
            f"{r.fp} | {r.fn} | {r.seconds:.1f} | {cpu:.1f} | {n / max(r.seconds, 1e-9):,.0f} |"
        )
    return lines


def by_variant(results: list[EvalResult]) -> list[str]:
    variants = sorted({v for r in results for v in r.by_variant})
    head = "| variant | queries | " + " | ".join(r.method for r in results) + " |"
    lines = [head, "|---|---|" + "---|" * len(results)]
    for v in variants:
        total = max(r.by_variant.get(v, (0, 0))[1] for r in results)
        cells = " | ".join(str(r.by_variant.get(v, (0, 0))[0]) for r in results)
        lines.append(f"| {v} | {total} | {cells} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--positives", type=int, default=600)
    ap.add_argument("--negatives", type=int, default=600)
    ap.add_argument("--user-positives", type=int, default=200)
    ap.add_argument("--user-negatives", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--block", type=int, default=20, help="names kept by the blocking")
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--dump", type=Path, default=None)
    args = ap.parse_args()
    data = args.data if (args.data / "sanctions").is_dir() else Path("/work/shared/data")
    threshold = load_settings(environ={}).screen.threshold
    sets: dict[str, list[Query]] = {}
    results: dict[str, list[EvalResult]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "lists.duckdb")
        t = time.perf_counter()
        load_lists(store, [data / "sanctions" / "un", data / "sanctions" / "ofac"])
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        index = get_index(store)
        index_s = time.perf_counter() - t
        sets["labelled"] = generate(index, args.positives, args.negatives, seed=args.seed)
        sets["user-written"] = generate_user_written(
            index, args.user_positives, args.user_negatives, seed=args.seed
        )
        if args.dump:
            args.dump.write_text(
                "".join(
                    json.dumps({"set": name, **q.to_json()}, ensure_ascii=False) + "\n"
                    for name, qs in sets.items()
                    for q in qs
                )
            )
        nk = Nomenklatura(store, index, args.block)
        for name, qs in sets.items():
            results[name] = [
                timed(lambda qs=qs: evaluate(index, qs, threshold=threshold)),
                timed(lambda qs=qs: evaluate_rapidfuzz(index, qs)),
                nk.evaluate("logic-v1", qs, threshold),
                nk.evaluate("logic-v2", qs, threshold),
            ]
        store.close()
    from importlib.metadata import version

    lines = [
        "## Screening quality (`bench/screen_eval.py`)",
        "",
        f"Command: `PYTHONPATH=src python bench/screen_eval.py --positives {args.positives} "
        f"--negatives {args.negatives} --user-positives {args.user_positives} "
        f"--user-negatives {args.user_negatives} --seed {args.seed} --block {args.block}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; nomenklatura {version('nomenklatura')}, "
        f"followthemoney {version('followthemoney')}, rigour {version('rigour')}, "
        f"rapidfuzz {version('rapidfuzz')}. "
        f"Lists: UN SC consolidated (2026-02-27) + OFAC SDN CSV (2024-05-03 with ALT/ADD/COMMENTS "
        f"of 2025-01-06): {len(index)} sanctioned parties, {len(index.names)} names "
        f"(load {load_s:.1f} s, index {index_s:.1f} s).",
        "",
        "Sets (generated from the real lists by `tumen.screen.evalset`, seeded; the generators are "
        "committed, the data is not): **labelled** — `generate` (true variants and hard negatives); "
        "**user-written** — `generate_user_written` (hull-number markers, abbreviated company words, "
        'a place in parentheses with "Limited", word order, Korean romanisation, and near misses '
        "written the same way). A positive counts as found when an expected entry scores at or above "
        "the threshold; precision = found / (found + negatives with any match + positives matching "
        "only wrong entries).",
        "",
        "Methods: tumen `screen_query` (its own retrieval); rapidfuzz `token_sort_ratio` brute force "
        "over every name of the type, at its best-F1 threshold on the set; nomenklatura `logic-v1` and "
        "`logic-v2` (`get_algorithm(name).compare(query_entity, listed_entity, "
        "ScoringConfig.defaults())`, threshold 0.7 as yente) on the entities of a brute-force "
        f"blocking: rapidfuzz `token_set_ratio` of the ASCII-transliterated query against every "
        f"listed name of the type, the entities of the {args.block} best names compared (wall and "
        "CPU time include the blocking). Same process, same sets, one after another.",
    ]
    for name, qs in sets.items():
        pos = sum(q.positive for q in qs)
        lines += [
            "",
            f"### {name} set: {len(qs)} queries ({pos} positives, {len(qs) - pos} negatives)",
            "",
            *table(results[name], len(qs)),
            "",
            "Correct answers by variant:",
            "",
            *by_variant(results[name]),
        ]
        ours = results[name][0]
        for other in results[name][1:]:
            o_cpu = getattr(other, "cpu_seconds", other.seconds)
            lines.append("")
            lines.append(
                f"Ratio {other.method} / tumen: wall {other.seconds / max(ours.seconds, 1e-9):.1f}×, "
                f"CPU {o_cpu / max(getattr(ours, 'cpu_seconds', ours.seconds), 1e-9):.1f}×."
            )
    lab = results["labelled"][0]
    lines += [
        "",
        f"Target (labelled set): recall ≥ 0.97 at precision ≥ 0.97 — "
        f"{'met' if lab.recall >= 0.97 and lab.precision >= 0.97 else 'NOT met'} "
        f"(recall {lab.recall:.3f}, precision {lab.precision:.3f}).",
    ]
    text = "\n".join(lines)
    print(text)
    write_section(args.out, text, BEGIN, END)


if __name__ == "__main__":
    main()
