"""Designation timing: was the vessel's (or its owner's) designation in force at each event?

For every event of a vessel that has a screening match (``matches`` with ``match``
true: the vessel itself, or an owner / manager / operator / linked party reached
through the ownership graph), the designation's period
(:func:`tumen.screen.lists.history.designation_periods`) is set against the event's
start time (UTC):

``in_force``
    the designation was in force: a **sanctions breach**;
``pre_designation``
    the event came before the designation: a **pre-designation pattern** (what a
    back-test looks for);
``after_delisting``
    the entry had been removed from a later version of the list;
``undetermined``
    the event came before the first loaded version holding the entry and the list
    gives no date of its own: the data cannot tell.

Each finding carries a sentence in the form the UN Panel of Experts writes, e.g.
``voyage Rajin → Dunai on 2023-09-12; vessel listed by OFAC since 2022-05-16``.
When a list was loaded without history (a read-only store from an earlier tumen),
the designation's own ``listing_date`` from ``matches.designation`` is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from tumen.screen.lists.history import STATUS_LABELS, designation_periods, designation_status
from tumen.store.backend import Backend

#: Event types whose timing is reported (identity findings are about the transmitter, not a deed).
TIMED_TYPES = ("voyage", "port_visit", "encounter", "gap", "loitering", "identity")


def authority_short(authority: str | None, fallback: str) -> str:
    """``'US Treasury Office of Foreign Assets Control (OFAC)'`` → ``'OFAC'``; else the text."""
    if not authority:
        return fallback
    m = re.search(r"\(([A-Z][A-Z0-9]{1,9})\)\s*$", authority)
    return m.group(1) if m else authority


def event_phrase(ev: dict[str, Any]) -> str:
    """A short account of an event: ``voyage Rajin → Dunai``, ``port call at Rajin``, ..."""
    kind = str(ev["type"])
    if kind == "voyage":
        return f"voyage {ev.get('from_port') or '?'} → {ev.get('to_port') or '?'}"
    if kind == "port_visit":
        return f"port call at {ev.get('port') or '?'}"
    if kind == "encounter":
        return "encounter at sea"
    if kind == "gap":
        return "AIS gap"
    if kind == "identity":
        return f"identity finding ({ev.get('subtype') or '?'})"
    return kind.replace("_", " ")


def as_day(value: Any) -> date | None:
    """A date, datetime or ISO (possibly partial) date text → a date (``None`` stays ``None``)."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    from tumen.screen.lists.history import first_day

    return first_day(str(value))


def sentence(ev: dict[str, Any], finding: dict[str, Any]) -> str:
    """The finding in words (see the module docstring)."""
    who = (
        "vessel"
        if finding["role"] == "vessel"
        else f"{finding['role']} {finding.get('caption') or finding['entity_id']}"
    )
    by = finding["authority"]
    since, status = finding["listed_since"], finding["status"]
    first_seen = finding["listed_since_source"] == "first_version_seen"
    start = ev["start"]
    head = f"{event_phrase(ev)} on {start:%Y-%m-%d}; {who}"
    if since is None:
        tail = f"on the {by} list; date of designation unknown"
    elif status == "in_force":
        tail = f"listed by {by} since {since}" + (
            " (first loaded version holding it)" if first_seen else ""
        )
    elif status == "pre_designation":
        tail = f"listed by {by} only from {since}"
    elif status == "after_delisting":
        tail = f"listed by {by} from {since}, delisted on {finding['delisted_on']}"
    else:
        tail = (
            f"on the {by} list at least since {since} (first loaded version); listed then: unknown"
        )
    return f"{head} {tail} — {STATUS_LABELS[status]}"


def _designations(store: Backend, mmsis: Sequence[int] | None) -> list[dict[str, Any]]:
    if not store.table_exists("matches"):
        return []
    where = ""
    if mmsis is not None:
        if not mmsis:
            return []
        where = f"AND mmsi IN ({', '.join(str(int(m)) for m in mmsis)})"
    rows = store.query(
        f"""SELECT DISTINCT mmsi, role, list_id, entity_id, caption, designation
            FROM matches WHERE match AND mmsi IS NOT NULL {where}
            ORDER BY mmsi, role, list_id, entity_id"""
    ).to_pylist()
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = (r["mmsi"], r["role"], r["list_id"], r["entity_id"])
        if key in out:
            continue
        des: list[dict[str, Any]] = []
        try:
            des = json.loads(r["designation"] or "[]") or []
        except json.JSONDecodeError:
            des = []
        own = [d for d in des if d.get("list") in (None, r["list_id"])] or des
        # the dated designation first: the period's list date comes from it
        own = sorted(
            own,
            key=lambda d: (
                as_day(d.get("listing_date")) is None,
                str(as_day(d.get("listing_date"))),
            ),
        )
        out[key] = {
            "mmsi": int(r["mmsi"]),
            "role": r["role"],
            "list_id": r["list_id"],
            "entity_id": r["entity_id"],
            "caption": r["caption"],
            "authority": authority_short(
                next((d.get("authority") for d in own if d.get("authority")), None),
                r["list_id"] or "the list",
            ),
            "reference": next((d.get("reference") for d in own if d.get("reference")), None),
            "listing_date": min(
                (x for x in (as_day(d.get("listing_date")) for d in own) if x is not None),
                default=None,
            ),
        }
    return list(out.values())


def designation_timing(
    store: Backend,
    mmsis: Sequence[int] | None = None,
    *,
    until: datetime | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """MMSI → one finding per (event, designation) of that vessel, in time order.

    Parameters
    ----------
    mmsis:
        The vessels (``None``: every vessel with a match).
    until:
        Only events that ended by this time (UTC), e.g. for ``tumen risk --as-of``.

    Returns
    -------
    dict
        Each finding: ``event_id``, ``type``, ``start`` (ISO, UTC), ``role`` (``vessel``
        or the party's role), ``entity_id``, ``list_id``, ``caption``, ``authority``,
        ``reference``, ``listed_since`` (ISO date or None), ``listed_since_source``
        (``list`` | ``first_version_seen``), ``delisted_on``, ``status``
        (``in_force`` | ``pre_designation`` | ``after_delisting`` | ``undetermined``),
        ``label`` (``sanctions breach``, ...) and ``sentence``.
    """
    des = _designations(store, mmsis)
    if not des:
        return {}
    periods = designation_periods(store, [(d["list_id"], d["entity_id"]) for d in des])
    by_mmsi: dict[int, list[dict[str, Any]]] = {}
    for d in des:
        p = periods.get((d["list_id"], d["entity_id"]))
        if p is None:  # no history for this list: the designation's own date, if any
            p = {
                "listed_since": d["listing_date"],
                "listed_since_source": "list" if d["listing_date"] else "first_version_seen",
                "delisted_on": None,
                "absent_on": None,
            }
        elif d["listing_date"] and p["listed_since_source"] != "list":
            p = p | {"listed_since": d["listing_date"], "listed_since_source": "list"}
        by_mmsi.setdefault(d["mmsi"], []).append(d | {"period": p})
    vessel_list = ", ".join(str(m) for m in sorted(by_mmsi))
    cond = f"AND \"end\" <= TIMESTAMP '{until:%Y-%m-%d %H:%M:%S}'" if until is not None else ""
    types = ", ".join(f"'{t}'" for t in TIMED_TYPES)
    events = store.query(
        f"""SELECT event_id, type, subtype, mmsi, other_mmsi, start, "end", port, from_port, to_port
            FROM events
            WHERE type IN ({types}) AND (mmsi IN ({vessel_list}) OR other_mmsi IN ({vessel_list})) {cond}
            ORDER BY start, event_id"""
    ).to_pylist()
    out: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        for m in {ev["mmsi"], ev["other_mmsi"]} & by_mmsi.keys():
            for d in by_mmsi[m]:
                p = d["period"]
                since = p["listed_since"]
                status = designation_status(p, ev["start"]) if since is not None else "undetermined"
                finding = {
                    "event_id": ev["event_id"],
                    "type": ev["type"],
                    "start": ev["start"].isoformat() + "Z",
                    "role": d["role"],
                    "entity_id": d["entity_id"],
                    "list_id": d["list_id"],
                    "caption": d["caption"],
                    "authority": d["authority"],
                    "reference": d["reference"],
                    "listed_since": since.isoformat() if since else None,
                    "listed_since_source": p["listed_since_source"],
                    "delisted_on": p["delisted_on"].isoformat() if p.get("delisted_on") else None,
                    "status": status,
                    "label": STATUS_LABELS[status],
                }
                finding["sentence"] = sentence(ev, finding)
                out.setdefault(m, []).append(finding)
    return out


def timing_counts(findings: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Findings by status (every status present, 0 when none)."""
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for f in findings:
        counts[f["status"]] += 1
    return counts


__all__ = ["TIMED_TYPES", "designation_timing", "event_phrase", "sentence", "timing_counts"]
