"""What the finding exporters (FtM, GeoJSON, KML, CSV) share: which vessels, their events, tracks and provenance.

Every exporter writes the same findings — vessels (identity, risk), their
events (the JSON-lines contract of ``tumen events`` plus provenance) and,
where the format can draw them, their tracks — so an analyst sees the same
thing in Aleph, QGIS and Google Earth as in the report.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tumen.detect.events import CONTRACT_KEYS
from tumen.report import dossier as q

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

#: keys of an event in the public JSON-lines contract, in order
EVENT_KEYS = CONTRACT_KEYS


@contextmanager
def open_output(out: str | Path | TextIO, newline: str | None = None) -> Iterator[TextIO]:
    """A text stream for ``out``: a path (opened for writing, UTF-8), ``-`` (stdout) or an open stream."""
    if isinstance(out, str | Path) and str(out) != "-":
        with open(out, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
    elif isinstance(out, str | Path):
        yield sys.stdout
    else:
        yield out


#: what ``tumen export TABLE`` may name for the findings formats (all mean: every finding)
FINDINGS_TABLES = ("findings", "events", "risk")


def check_findings_table(
    table: str | None, fmt: str, allowed: Sequence[str] = FINDINGS_TABLES
) -> str:
    """The scope ``tumen export TABLE --format fmt`` asks for; raises InputError for a raw table."""
    from tumen.errors import InputError

    scope = table or allowed[0]
    if scope not in allowed:
        raise InputError(
            f"format {fmt} writes findings, not table {table!r}: give {' or '.join(allowed)} "
            "(or use --format parquet / csv for raw tables)"
        )
    return scope


def iso_z(value: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z`` (the events contract's time format)."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance_text(prov: Sequence[dict[str, Any]]) -> str:
    """``file (sha256 …) lines a–b, c`` for each source file cited."""
    return "; ".join(
        f"{p['path']} (sha256 {p['sha256']}) lines {q.format_ranges(p['ranges'])}" for p in prov
    )


@dataclass
class Findings:
    """The vessels, events and provenance an export writes."""

    vessels: list[dict[str, Any]]
    """Rows of table ``risk`` (all vessels, or the selected ones), ``signals`` decoded, plus ``history``."""
    events: list[dict[str, Any]]
    """Events (see :func:`tumen.report.dossier.events_for`) with ``provenance`` attached."""
    ports: list[Any]
    observations: list[dict[str, Any]] = field(default_factory=list)
    """Rows of table ``observations`` of the vessels exported (:mod:`tumen.observe.ledger`)."""
    corroborations: list[dict[str, Any]] = field(default_factory=list)
    """What they confirm or contradict (:func:`tumen.observe.corroborate.corroborations`)."""
    event_vessels: set[int] | None = None
    """MMSIs (``mmsi`` side) with an event before ``events_where`` filtered them; ``None``: those of ``events``."""


def collect(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    events_where: tuple[str, Sequence[Any]] | None = None,
) -> Findings:
    """Read the findings to export (ranks first when table ``risk`` is empty).

    Parameters
    ----------
    vessels:
        MMSIs or IMO numbers; ``None`` exports every vessel the store has seen
        and every event.
    events_where:
        Keep only the events this ``WHERE …`` clause over table ``events`` keeps (with its
        parameters; ``tumen serve``'s export filters): applied in the query, so provenance is
        read only for the events kept.  Vessels and tracks are not filtered by it.
    """
    from tumen.risk.signals import ports_for_findings

    ranking = q.ranking(store)
    if not ranking:  # not ranked yet: rank in memory (the store may be read-only)
        import json

        from tumen.risk.rank import rank_vessels

        ranking = rank_vessels(store, settings, write=False).to_pylist()
        for r in ranking:
            r["signals"] = json.loads(r["signals"])
    chosen: set[int] | None = None
    if vessels:
        chosen = set(q.resolve_vessels(store, vessels))
    rows = [r for r in ranking if chosen is None or r["mmsi"] in chosen]
    event_vessels: set[int] | None = None
    if events_where is not None:
        event_vessels = {
            m for m in store.query("SELECT DISTINCT mmsi FROM events").column(0).to_pylist()
            if chosen is None or m in chosen
        }
    events = [
        e
        for e in q.events_for(store, events_where=events_where)
        if chosen is None
        or e["mmsi"] in chosen
        or (e["other_mmsi"] is not None and e["other_mmsi"] in chosen)
    ]
    prov = q.provenance(store, [e["event_id"] for e in events])
    for e in events:
        e["provenance"] = prov.get(e["event_id"], [])
    ports = ports_for_findings(store, settings.ports)
    observations, corrs = _observed(store, settings, ports, chosen)
    return Findings(
        vessels=rows,
        events=events,
        ports=ports,
        observations=observations,
        corroborations=corrs,
        event_vessels=event_vessels,
    )


def _observed(
    store: Backend, settings: Settings, ports: Sequence[Any], chosen: set[int] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The observations of the chosen vessels (all when ``None``) and their corroborations."""
    if not store.table_exists("observations"):
        return [], []
    from tumen.observe.corroborate import corroborations, ports_table
    from tumen.observe.ledger import list_observations

    obs = [o for o in list_observations(store) if chosen is None or o["mmsi"] in chosen]
    if not obs:
        return [], []
    table = ports_table(ports)
    corrs = [
        c for c in corroborations(store, settings, table) if chosen is None or c["mmsi"] in chosen
    ]
    return obs, corrs


def event_record(ev: dict[str, Any]) -> dict[str, Any]:
    """An event as in the JSON-lines contract (times ISO-8601 ``Z``) plus detector, evidence and provenance."""
    out: dict[str, Any] = {}
    for key in EVENT_KEYS:
        value = ev.get(key)
        out[key] = iso_z(value) if key in ("start", "end") else value
    out["name"] = ev.get("name")
    out["partner_name"] = ev.get("partner_name")
    out["detector"] = ev.get("detector")
    out["params"] = ev.get("params")
    out["evidence"] = ev.get("evidence")
    out["tumen_version"] = ev.get("tumen_version")
    out["provenance"] = [
        {"path": p["path"], "sha256": p["sha256"], "lines": [list(r) for r in p["ranges"]]}
        for p in ev.get("provenance", [])
    ]
    return out
