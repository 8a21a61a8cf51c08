"""Ingest a peer corpus of this folder and compare tumen's stored rows with the peer's values.

Used by ``tests/ingest/test_ingest_peers.py`` and ``bench/decoders.py``.  See README.md for
where each corpus comes from and build.py for how the expected values were written.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tumen.config import load_settings
from tumen.ingest import ingest_paths
from tumen.ingest.decode import clean_sixbit_text
from tumen.store import DuckDBStore

HERE = Path(__file__).resolve().parent
CORPORA = ("gpsd_sample", "gpsd_unpack_sixbit", "libais_typeexamples", "pyais_test_decode")

#: absolute tolerance per corpus for floats: gpsd prints 6 (position) or 1 (speed, course)
#: decimals, libais computes in float32, pyais rounds as tumen does
TOLERANCE = {"gpsd": 1.5e-6, "libais": 2e-5, "pyais": 0.0}
TEXT = {"name", "callsign", "destination"}
#: columns stored as REAL (float32): the peer's value is compared as float32 too
REAL = {"sog_kn", "cog_deg", "draught_m"}


@dataclass
class Comparison:
    """Outcome of one corpus: counts by message and the fields that differ."""

    corpus: str
    messages: int = 0  # messages the peer decodes
    stored: int = 0  # ... that have their tumen row
    duplicates: int = 0  # ... counted as a duplicate of an identical earlier message
    quarantined: Counter[str] = field(default_factory=Counter)  # ... by reason
    fields_compared: int = 0
    nonstandard: int = 0  # stored rows flagged nonstandard_length
    mismatches: list[str] = field(default_factory=list)
    #: per quarantined message: (expected entry, reason, detail, raw line)
    refused: list[tuple[dict[str, Any], str, str | None, str]] = field(default_factory=list)
    repeats: int = 0  # sum of the stored rows' ``repeats``
    lines: int = 0
    report: dict[str, Any] = field(default_factory=dict)


def expected(corpus: str) -> list[dict[str, Any]]:
    path = HERE / f"{corpus}.expected.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _same(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=max(tol, 1e-9)) or (
            tol > 0 and math.isclose(float(a), float(b), rel_tol=2e-7)
        )
    return bool(a == b)


def compare(corpus: str, workdir: Path | None = None) -> Comparison:
    """Ingest ``<corpus>.nmea`` into a new store and compare it with ``<corpus>.expected.jsonl``."""
    tol = TOLERANCE[corpus.split("_")[0]]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = DuckDBStore(Path(tmp) / "peer.duckdb")
        report = ingest_paths(store, [HERE / f"{corpus}.nmea"], load_settings(environ={}))
        rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for table in ("positions", "statics", "messages"):
            for r in store.query(f"SELECT * FROM {table}").to_pylist():
                rows.setdefault((table, int(r["line_no"])), []).append(r)
        quarantine = {
            int(r["line_no"]): r
            for r in store.query("SELECT line_no, reason, detail, raw FROM quarantine").to_pylist()
        }
        repeats = store.scalar(
            "SELECT coalesce(sum(repeats), 0) FROM (SELECT repeats FROM positions WHERE msg_type <> 19"
            " UNION ALL SELECT repeats FROM statics UNION ALL SELECT repeats FROM messages)"
        )
        store.close()
    out = Comparison(corpus, lines=report.lines, report=report.to_json(), repeats=int(repeats))
    seen_msgs: set[tuple[int, int]] = set()
    for exp in expected(corpus):
        line, t = exp["line"], exp["type"]
        first = (line, t) not in seen_msgs
        seen_msgs.add((line, t))
        if first:
            out.messages += 1
        got = [
            r
            for r in rows.get((exp["table"], line), [])
            if r["mmsi"] == exp["mmsi"] and (exp["part"] is None or r.get("part") == exp["part"])
        ]
        if not got:
            if first:
                if line in quarantine:
                    q = quarantine[line]
                    out.quarantined[q["reason"]] += 1
                    out.refused.append((exp, q["reason"], q["detail"], q["raw"]))
                else:
                    out.duplicates += 1
            continue
        row = got[0]
        if first:
            out.stored += 1
            out.nonstandard += bool(row.get("nonstandard_length"))
        for name, want in exp["fields"].items():
            if name in TEXT:
                want = clean_sixbit_text(want)
            elif name in REAL and want is not None:
                want = float(np.float32(want))  # the column is REAL (float32)
            out.fields_compared += 1
            if not _same(row[name], want, exp["tol"].get(name, tol)):
                out.mismatches.append(
                    f"{corpus} line {line} type {t} {name}: tumen {row[name]!r}, peer {want!r}"
                )
    return out
