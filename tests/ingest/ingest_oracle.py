"""An independent reading of the real captures, with pyais as the decoder (the test oracle).

Deliberately simple and separate from ``tumen.ingest``: sentences are found with a regular
expression, parsed and checked by pyais, and multi-part messages are assembled the way the
data README describes (by talker, fragment count, sequence id and channel; fragment 1
restarts a message).  ``#`` comment lines are skipped.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from functools import reduce
from operator import xor
from pathlib import Path

from pyais import decode
from pyais.messages import AISSentence, NMEASentenceFactory


def _find_shared_data() -> Path | None:
    env = os.environ.get("TUMEN_SHARED_DATA")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "ais").is_dir():
            return parent / "shared" / "data"
    return None


#: ../shared/data (as tests/conftest.py finds it), for parametrising over the captures
SHARED_DATA = _find_shared_data()

SENTENCE = re.compile(rb"![A-Z0-9-]{2}VD[MO],[^*\\!]*\*[0-9A-Fa-f]{2}")


def read_lines(path: Path) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


@dataclass
class OracleMessage:
    last_line: int  # 1-based line of the last fragment
    lines: list[int]
    sentences: list[bytes]
    payload: str
    fill: int
    fields: dict[str, object] | None  # pyais asdict(enum_as_int=True), None if pyais failed
    error: str | None


def messages(path: Path) -> list[OracleMessage]:
    """Every AIS message pyais can be handed from ``path`` (with its decode or its error)."""
    out: list[OracleMessage] = []
    pending: dict[tuple[str, int, int | None, str], list[tuple[int, AISSentence]]] = {}
    for no, line in enumerate(read_lines(path), start=1):
        if b"!" not in line or line.lstrip().startswith(b"#"):
            continue
        for m in SENTENCE.finditer(line):
            raw = m.group(0)
            try:
                s = NMEASentenceFactory.produce(raw)
            except Exception:  # noqa: BLE001 - the oracle records what pyais refuses
                continue
            if not isinstance(s, AISSentence) or s.checksum != reduce(xor, raw[1:-3], 0):
                continue
            if s.frag_cnt == 1:
                parts = [(no, s)]
            else:
                key = (s.talker_id, s.frag_cnt, s.seq_id, s.channel)
                if s.frag_num == 1:
                    pending[key] = [(no, s)]
                    continue
                held = pending.get(key)
                if not held or len(held) != s.frag_num - 1:
                    pending.pop(key, None)
                    continue
                held.append((no, s))
                if s.frag_num < s.frag_cnt:
                    continue
                parts = pending.pop(key)
            raws = [p.raw for _, p in parts]
            payload = b"".join(p.payload for _, p in parts).decode("ascii")
            fields, error = None, None
            try:
                msg = parts[0][1].decode() if len(parts) == 1 else decode(*raws)
                fields = msg.asdict(enum_as_int=True)
            except Exception as exc:  # noqa: BLE001
                error = type(exc).__name__
            out.append(
                OracleMessage(
                    last_line=parts[-1][0],
                    lines=sorted({n for n, _ in parts}),
                    sentences=raws,
                    payload=payload,
                    fill=parts[-1][1].fill_bits,
                    fields=fields,
                    error=error,
                )
            )
    return out


def readme_table(data_dir: Path) -> dict[str, dict[str, str]]:
    """The summary table of ``ais/README.md``: file name → column → text."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in (data_dir / "ais" / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None if rows else header
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(cells[0]) <= set("-: "):
            continue
        name = cells[0].strip("`* ")
        if name.startswith("nmea/"):
            rows[name.removeprefix("nmea/")] = dict(zip(header, cells, strict=True))
    return rows
