"""Findings as CSV for spreadsheets: events with their provenance, or the risk ranking.

``events`` (default): one row per event with the JSON-lines contract's fields
(times ISO-8601 UTC with ``Z``), the vessel's name, the detector, its
parameters and the evidence (JSON text), and the provenance (``source_files``,
``source_sha256``, ``source_lines``: ``;``-separated per file, line ranges
``a-b`` separated by ``,``).  ``risk``: the ranking, one row per vessel, with
the signals as JSON text and a readable ``explanation``.  ``observations``: one row per
observation (:mod:`tumen.observe`) with what it confirms and contradicts.

Text cells are made safe for spreadsheets (:func:`spreadsheet_safe`): a vessel name is sent over
the air by anyone, and ``=HYPERLINK(...)`` in a CSV opened in Excel or LibreOffice is a formula.
"""

from __future__ import annotations

import csv as _csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tumen.export import register
from tumen.export.findings import (
    EVENT_KEYS,
    Findings,
    check_findings_table,
    collect,
    iso_z,
    open_output,
)

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

EVENT_COLUMNS = (
    *EVENT_KEYS,
    "name",
    "partner_name",
    "detector",
    "params",
    "evidence",
    "tumen_version",
    "source_files",
    "source_sha256",
    "source_lines",
)
RISK_COLUMNS = (
    "rank",
    "mmsi",
    "imo",
    "name",
    "flag",
    "score",
    "n_events",
    "explanation",
    "signals",
)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Source: OWASP, CSV Injection (https://owasp.org/www-community/attacks/CSV_Injection): prefix
    cells that begin with ``=``, ``+``, ``-``, ``@``, tab or carriage return with a single quote,
    which spreadsheets show as text and do not evaluate.  Numbers (a negative longitude) are not
    text and are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: spreadsheet_safe(v) for k, v in row.items()}


def _ranges(ranges: Sequence[tuple[int, int]]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def event_rows(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    findings: Findings | None = None,
) -> list[dict[str, Any]]:
    """The events as flat CSV rows (see the module docstring); ``findings``: already collected
    (:func:`~tumen.export.findings.collect` with the same ``vessels``)."""
    rows = []
    for ev in (findings or collect(store, settings, vessels=vessels)).events:
        row: dict[str, Any] = {k: ev.get(k) for k in EVENT_KEYS}
        row["start"], row["end"] = iso_z(ev["start"]), iso_z(ev["end"])
        row["name"], row["partner_name"] = ev.get("name"), ev.get("partner_name")
        row["detector"], row["tumen_version"] = ev["detector"], ev["tumen_version"]
        row["params"] = json.dumps(ev.get("params"), sort_keys=True)
        row["evidence"] = json.dumps(ev.get("evidence"), sort_keys=True)
        prov = ev.get("provenance", [])
        row["source_files"] = ";".join(p["path"] or "" for p in prov)
        row["source_sha256"] = ";".join(p["sha256"] or "" for p in prov)
        row["source_lines"] = ";".join(_ranges(p["ranges"]) for p in prov)
        rows.append(_safe_row(row))
    return rows


def risk_rows(
    store: Backend, settings: Settings, *, vessels: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The ranking as flat CSV rows."""
    rows = []
    for v in collect(store, settings, vessels=vessels).vessels:
        row = {k: v.get(k) for k in RISK_COLUMNS if k not in ("explanation", "signals")}
        row["explanation"] = "; ".join(
            f"{s['title']} {s['points']:.1f} ({', '.join(s['notes'][:3])})" for s in v["signals"]
        )
        row["signals"] = json.dumps(v["signals"], ensure_ascii=False)
        rows.append(_safe_row(row))
    return rows


OBSERVATION_COLUMNS = (
    "obs_id",
    "time",
    "mmsi",
    "imo",
    "name",
    "vessel",
    "seen_name",
    "seen_imo",
    "lat",
    "lon",
    "port",
    "uncertainty_km",
    "kind",
    "confidence",
    "source",
    "note",
    "attachment",
    "attachment_sha256",
    "added_by",
    "added_at",
    "confirms",
    "contradicts",
    "explanation",
)


def observation_rows(
    store: Backend, settings: Settings, *, vessels: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The observations as flat CSV rows: their columns, the events each ``confirms`` and
    ``contradicts`` (``;``-separated ids, ``track`` for the AIS track itself) and the explanations."""
    f = collect(store, settings, vessels=vessels)
    rows = []
    for o in f.observations:
        shows = [c for c in f.corroborations if c["obs_id"] == o["obs_id"]]
        row = {k: o.get(k) for k in OBSERVATION_COLUMNS if k in o}
        row["time"], row["added_at"] = iso_z(o["ts"]), iso_z(o["added_at"])
        for outcome in ("confirms", "contradicts"):
            row[outcome] = ";".join(
                c["event_id"] or "track" for c in shows if c["outcome"] == outcome
            )
        row["explanation"] = " | ".join(c["explanation"] for c in shows)
        rows.append(_safe_row(row))
    return rows


def write_csv(
    store: Backend,
    out: str | Path | TextIO,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    table: str = "events",
) -> int:
    """Write ``table`` (``events`` or ``risk``) as CSV to ``out`` (path, ``-`` or a stream); returns the row count."""
    columns: tuple[str, ...]
    if table == "events":
        columns, rows = EVENT_COLUMNS, event_rows(store, settings, vessels=vessels)
    elif table == "risk":
        columns, rows = RISK_COLUMNS, risk_rows(store, settings, vessels=vessels)
    elif table == "observations":
        columns, rows = OBSERVATION_COLUMNS, observation_rows(store, settings, vessels=vessels)
    else:
        from tumen.errors import InputError

        raise InputError(
            f"CSV export of {table!r} is not a findings table; give events or risk (or use --format parquet)"
        )
    with open_output(out, newline="") as fh:
        writer = _csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


@register(
    "csv-evidence",
    suffixes=(".evidence.csv",),
    description="events with provenance columns (files, SHA-256, lines), or the risk ranking explained",
    any_table=False,
)
def _export_evidence_csv(store: Backend, table: str, out: Path, settings: Settings) -> int:
    scope = check_findings_table(table, "csv-evidence", ("events", "risk", "observations"))
    return write_csv(store, out, settings, table=scope)
