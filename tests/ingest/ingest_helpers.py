"""Builders for hand-made NMEA lines (pyais' encoder makes the payloads) and a one-call ingest."""

from __future__ import annotations

from datetime import datetime
from functools import reduce
from operator import xor
from pathlib import Path
from typing import Any

from pyais import encode_dict

from tumen.config import load_settings
from tumen.ingest import IngestReport, ingest_paths
from tumen.store import DuckDBStore

#: a class A position report used throughout: MMSI 273456780 (Russia) off Rajin
POS = {
    "type": 1,
    "mmsi": 273456780,
    "status": 0,
    "lat": 42.25,
    "lon": 130.3,
    "speed": 12.3,
    "course": 45.6,
    "heading": 44,
    "second": 30,
}
STATIC = {
    "type": 5,
    "mmsi": 273456780,
    "imo": 9179842,
    "shipname": "ANGARA",
    "callsign": "UBCD7",
    "ship_type": 70,
    "to_bow": 100,
    "to_stern": 20,
    "to_port": 10,
    "to_starboard": 10,
    "draught": 6.5,
    "destination": "RAJIN",
    "month": 1,
    "day": 10,
    "hour": 10,
    "minute": 30,
}


def checksum(body: str) -> str:
    """NMEA checksum of the text between the leading '!'/'$'/'\\' and '*'."""
    return f"{reduce(xor, body.encode(), 0):02X}"


def sentences(
    data: dict[str, Any],
    *,
    talker: str = "AI",
    vdo: bool = False,
    channel: str = "A",
    seq: int | None = None,
) -> list[str]:
    """NMEA sentence(s) carrying ``data`` (pyais' encoder)."""
    return encode_dict(
        data,
        talker_id=talker,
        sentence_type="VDO" if vdo else "VDM",
        radio_channel=channel,
        seq_id=seq,
    )


def tag(**fields: object) -> str:
    """A tag block ``\\k:v,...*hh\\`` (keys in the order given)."""
    body = ",".join(f"{k}:{v}" for k, v in fields.items())
    return f"\\{body}*{checksum(body)}\\"


def pghp(t: datetime, station: str = "2190067") -> str:
    """A Gatehouse $PGHP header line for time ``t`` (UTC)."""
    body = f"PGHP,1,{t.year},{t.month},{t.day},{t.hour},{t.minute},{t.second},{t.microsecond // 1000},219,,{station},1,00"
    return f"${body}*{checksum(body)}"


def with_checksum(sentence_without_star: str) -> str:
    """Append ``*hh`` to a sentence written without its checksum."""
    return f"{sentence_without_star}*{checksum(sentence_without_star[1:])}"


def ingest_text(
    tmp_path: Path,
    text: str | bytes,
    *,
    name: str = "capture.nmea",
    store: DuckDBStore | None = None,
    **overrides: Any,
) -> tuple[IngestReport, DuckDBStore]:
    """Write ``text`` to a file and ingest it (settings overridden by dotted keys, e.g. ``ingest__tz``)."""
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    settings = load_settings(
        overrides={k.replace("__", "."): v for k, v in overrides.items()}, environ={}
    )
    store = store or DuckDBStore(tmp_path / "t.duckdb")
    return ingest_paths(store, [path], settings), store


def balanced(report: IngestReport) -> bool:
    """The accounting invariant, per file and in total."""
    return report.lines == report.stored + report.duplicates + report.quarantined and all(
        f.lines == f.stored + f.duplicates + f.quarantined for f in report.files
    )
