"""Decoding against other decoders' test data: per corpus, what tumen stores and how it agrees.

For each peer corpus of ``tests/ingest/peer_corpora`` (gpsd, libais, pyais; see its README)
prints the messages the peer decodes, how many tumen stored, counted as duplicates (untimed
copies folded into a row's ``repeats``) or quarantined (by reason), the fields compared and
the fields that differ from the peer's expected values.

    python bench/decoders.py            # a Markdown table on stdout
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ingest" / "peer_corpora"))

from peers import CORPORA, compare  # noqa: E402


def main() -> None:
    print(
        "| corpus | lines | messages the peer decodes | stored | duplicates | quarantined (reason) "
        "| stored with nonstandard_length | fields compared | field mismatches |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    total_mismatches = 0
    t0 = time.perf_counter()
    for corpus in CORPORA:
        c = compare(corpus)
        q = ", ".join(f"{n} {r}" for r, n in c.quarantined.most_common()) or "0"
        print(
            f"| {corpus} | {c.lines} | {c.messages} | {c.stored} | {c.duplicates} | {q} "
            f"| {c.nonstandard} | {c.fields_compared} | {len(c.mismatches)} |"
        )
        total_mismatches += len(c.mismatches)
        for m in c.mismatches:
            print(f"<!-- {m} -->")
    print(f"\n({time.perf_counter() - t0:.1f} s; {total_mismatches} mismatches in all)")


if __name__ == "__main__":
    main()
