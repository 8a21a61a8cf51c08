"""Ingest time of the same files by two tumen source trees, best of 3 runs in one process.

Run it once per tree (alternating) and compare, e.g. before and after a change::

    git archive BASE src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src python bench/ingest_compare.py FILE...   # before
    PYTHONPATH=src python bench/ingest_compare.py FILE...            # after

Prints the tree, the best wall time (s), its CPU time (s, all threads of the process) and
the line counts.  ``ingest.workers = 0``: everything in this process.
"""

import sys
import tempfile
import time
from pathlib import Path

import tumen
from tumen.config import load_settings
from tumen.ingest import ingest_paths
from tumen.store import DuckDBStore

paths = sys.argv[1:]
best = None
for _run in range(3):
    with tempfile.TemporaryDirectory() as d:
        store = DuckDBStore(Path(d) / "t.duckdb")
        t0 = time.perf_counter()
        c0 = time.process_time()
        r = ingest_paths(store, paths, load_settings(overrides={"ingest.workers": 0}, environ={}))
        w = time.perf_counter() - t0
        c = time.process_time() - c0
        store.close()
    if best is None or w < best[0]:
        best = (w, c, r.lines, r.stored, r.duplicates, r.quarantined)
assert best is not None
wall, cpu, lines, stored, dup, quarantined = best
print(
    tumen.__file__.split("/src/")[0],
    f"wall {wall:.3f} cpu {cpu:.3f} lines {lines} stored {stored} dup {dup} q {quarantined}",
)
