"""The raw-line spool: every micro-batch of a feed is written to a file before it is ingested.

Layout (``watch.spool_dir``, default ``spool/`` next to the store)::

    spool/<feed key>/journal.nmea                      network / stdin lines as received
    spool/<feed key>/<YYYYmmddTHHMMSSZ>-<offset>.nmea  one file per micro-batch

Each batch file is ingested by :func:`tumen.ingest.ingest_paths` like any capture, so every
stored row cites the batch file, its SHA-256 and its line numbers (``sources``).  The name
holds the time of the batch's first line (its data time when it has one, else its receipt)
and the feed position it starts at, so that a resumed or repeated replay writes the same files.

A multi-part message whose last fragment has not arrived yet when a batch is cut is held back
for the next batch (:func:`ready_lines`), so that a batch boundary never splits one.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_FRAG = re.compile(rb"[!$][A-Z]{2}VD[MO],(\d),(\d),(\d?),")


def _fragment(line: bytes) -> tuple[int, int, bytes] | None:
    m = _FRAG.search(line)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), m.group(3)


def ready_lines(lines: list[bytes], lookback: int = 20) -> int:
    """How many lines of ``lines`` can be ingested now: all but an unfinished multi-part tail.

    When the last sentence of the batch is fragment ``k < n`` of a message, the lines from its
    first fragment (searched at most ``lookback`` lines back) to the end are held back.
    """
    n_lines = len(lines)
    for i in range(n_lines - 1, max(-1, n_lines - 1 - lookback), -1):
        frag = _fragment(lines[i])
        if frag is None:
            continue
        count, k, seq = frag
        if count <= 1 or k >= count:
            return n_lines
        # find fragment 1 of this message
        for j in range(i, max(-1, i - lookback), -1):
            f = _fragment(lines[j])
            if f is not None and f[0] == count and f[2] == seq and f[1] == 1:
                # include a tag-block header line right before it
                return (
                    j - 1
                    if j > 0 and lines[j - 1].startswith(b"\\") and b"!" not in lines[j - 1]
                    else j
                )
        return i - (k - 1) if i - (k - 1) >= 0 else 0
    return n_lines


def batch_name(first_time: float, start_position: Any) -> str:
    """File name of a batch: its first line's time (UTC) and the feed position it starts at."""
    stamp = datetime.fromtimestamp(first_time, UTC).strftime("%Y%m%dT%H%M%SZ")
    if isinstance(start_position, list | tuple):
        pos = "-".join(str(int(p)) for p in start_position)
    else:
        pos = str(int(start_position or 0))
    return f"{stamp}-{pos}.nmea"


def write_batch(folder: Path, name: str, lines: list[bytes]) -> Path:
    """Write the lines (``\\n`` ends) to ``folder/name`` and flush them to disk; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with open(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path
