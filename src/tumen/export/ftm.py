"""Findings as FollowTheMoney entities (JSON lines), loadable into Aleph.

FollowTheMoney (FtM, https://followthemoney.tech) is the data model of Aleph
and OpenSanctions.  The export maps tumen's findings onto it:

- each vessel seen → ``Vessel`` (name, previous names, IMO, MMSI, call sign,
  flag, type); the id is derived from the MMSI (``tumen-vessel-<mmsi>``);
- each voyage → ``Trip`` (``vehicle`` = the vessel, ``startLocation`` /
  ``endLocation`` = ``Address`` entities of the watched ports);
- each other event → ``Event`` (dates, place, summary, provenance in ``notes``),
  tied to its vessel(s) by ``UnknownLink`` (``subject`` = vessel, ``object`` =
  event, ``role`` = the event type), since FtM's ``Event.involved`` only takes
  legal entities;
- each screening match → the listed entity as loaded from the list (and its
  ``Sanction`` entities), tied to the vessel by ``UnknownLink`` whose ``role``
  says how (``sanctions match: vessel``, ``…: owner``) and whose ``description``
  gives the score and features;
- each vessel's risk → ``Risk`` (``entity`` = the vessel, ``reason`` = the
  signals with their points);
- each observation (:mod:`tumen.observe`) → ``Event`` (date, place, the source as ``publisher``
  and, for a URL, ``sourceUrl``; who added it in ``notes``), tied to the vessel by ``UnknownLink``
  (role ``observed (<kind>)``), and one ``Note`` on the vessel (``entity``) per thing it confirms or
  contradicts, with the explanation as ``description``.

Every value goes through FtM's own cleaning (``EntityProxy.add``), and every
entity is validated with ``Schema.validate`` before it is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from followthemoney import EntityProxy, model

from tumen.export import register
from tumen.export.findings import (
    Findings,
    check_findings_table,
    collect,
    open_output,
    provenance_text,
)
from tumen.report.html import event_title, event_what, fmt_value

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

PREFIX = "tumen"


def _entity(schema: str, *key: Any) -> EntityProxy:
    proxy = model.make_entity(schema)
    proxy.id = f"{PREFIX}-{schema.lower()}-" + "-".join(str(k) for k in key)
    return proxy


def vessel_id(mmsi: int) -> str:
    """The FtM id of the vessel that transmits as ``mmsi``."""
    return f"{PREFIX}-vessel-{int(mmsi)}"


def _vessel(row: dict[str, Any], history: list[dict[str, Any]]) -> EntityProxy:
    from tumen.report.dossier import mid_country, ship_type_name

    v = _entity("Vessel", row["mmsi"])
    v.add("mmsi", str(row["mmsi"]))
    names = [h["name"] for h in history if h.get("name")]
    current = row.get("name") or (names[-1] if names else None)
    v.add("name", current or f"MMSI {row['mmsi']}")
    v.add("previousName", [n for n in dict.fromkeys(names) if n != current])
    v.add("imoNumber", [f"IMO{h['imo']}" for h in history if h.get("imo")], quiet=True)
    v.add("callSign", [h["callsign"] for h in history if h.get("callsign")])
    flags = [h["flag"] for h in history if h.get("flag")]
    mid = mid_country(row["mmsi"])
    v.add("flag", flags[-1] if flags else (mid[0] if mid else None), quiet=True)
    v.add(
        "pastFlags",
        [fl for fl in dict.fromkeys(flags) if fl != (flags[-1] if flags else None)],
        quiet=True,
    )
    types = [ship_type_name(h["ship_type"]) for h in history if h.get("ship_type") is not None]
    v.add("type", types[-1] if types else None)
    v.add("publisher", "tumen")
    if history:
        v.add(
            "description",
            f"Identity as broadcast on AIS from {history[0]['first_seen']} to {history[-1]['last_seen']} UTC.",
        )
    return v


def _port_address(name: str, ports: Sequence[Any]) -> EntityProxy:
    a = _entity("Address", name.lower().replace(" ", "-"))
    a.add("full", name)
    port = next((p for p in ports if p.name == name), None)
    if port is not None:
        a.add("country", port.country, quiet=True)
        a.add("latitude", str(port.lat))
        a.add("longitude", str(port.lon))
    return a


def _event_entities(
    ev: dict[str, Any], ports: Sequence[Any], addresses: dict[str, EntityProxy]
) -> list[EntityProxy]:
    out: list[EntityProxy] = []
    measures = "; ".join(f"{k}: {fmt_value(v)}" for k, v in ev.get("measures", {}).items())
    summary = f"{event_title(ev)}: {event_what(ev)}" + (f" ({measures})" if measures else "")
    notes = (
        f"Detector {ev['detector']} {json.dumps(ev.get('params'), sort_keys=True)}; tumen {ev['tumen_version']}. "
        f"Evidence: {provenance_text(ev.get('provenance', [])) or 'no stored rows cited'}."
    )
    if ev["type"] == "voyage":
        e = _entity("Trip", ev["event_id"])
        e.add("vehicle", vessel_id(ev["mmsi"]))
        for prop, port in (
            ("startLocation", ev.get("from_port")),
            ("endLocation", ev.get("to_port")),
        ):
            if port:
                if port not in addresses:
                    addresses[port] = _port_address(port, ports)
                e.add(prop, addresses[port].id)
    else:
        e = _entity("Event", ev["event_id"])
    e.add(
        "name",
        f"{event_title(ev)} — {ev.get('name') or ev['mmsi']} — {ev['start']:%Y-%m-%d %H:%M} UTC",
    )
    e.add("startDate", ev["start"].strftime("%Y-%m-%dT%H:%M:%S"))
    e.add("endDate", ev["end"].strftime("%Y-%m-%dT%H:%M:%S"))
    e.add("summary", summary)
    e.add("notes", notes)
    e.add("recordId", ev["event_id"])
    e.add("publisher", "tumen")
    place = ev.get("port") or (
        f"{ev['lat']:.5f}, {ev['lon']:.5f}" if ev.get("lat") is not None else None
    )
    if e.schema.name == "Event":
        e.add("location", place)
    port_names = [p for p in (ev.get("port"), ev.get("from_port"), ev.get("to_port")) if p]
    for name in port_names:
        port = next((p for p in ports if p.name == name), None)
        if port is not None:
            e.add("country", port.country, quiet=True)
    out.append(e)
    for mmsi in (ev["mmsi"], ev.get("other_mmsi")):
        if mmsi is None or (ev["type"] == "voyage" and mmsi == ev["mmsi"]):
            continue
        link = _entity("UnknownLink", ev["event_id"], mmsi)
        link.add("subject", vessel_id(mmsi))
        link.add("object", e.id)
        link.add("role", ev["type"] + (f" ({ev['subtype']})" if ev.get("subtype") else ""))
        link.add("startDate", ev["start"].strftime("%Y-%m-%dT%H:%M:%S"))
        link.add("endDate", ev["end"].strftime("%Y-%m-%dT%H:%M:%S"))
        out.append(link)
    return out


def observation_id(obs_id: int) -> str:
    """The FtM id of an observation (tumen.observe)."""
    return f"{PREFIX}-observation-{int(obs_id)}"


def _observation_entities(
    obs: dict[str, Any], corrs: Sequence[dict[str, Any]]
) -> list[EntityProxy]:
    """An observation as an FtM ``Event`` (when, where, the source in ``publisher``/``sourceUrl``),
    tied to its vessel by an ``UnknownLink`` (role ``observed``), and a ``Note`` on the vessel for
    each thing it confirms or contradicts (the explanation, citing the event)."""
    out: list[EntityProxy] = []
    when = obs["ts"].strftime("%Y-%m-%dT%H:%M:%S")
    e = model.make_entity("Event")
    e.id = observation_id(obs["obs_id"])
    e.add(
        "name",
        f"Observation {obs['obs_id']} ({obs['kind']}) — {obs.get('name') or obs['mmsi']} — {when} UTC",
    )
    e.add("date", when)
    e.add(
        "location",
        (f"{obs['port']} " if obs.get("port") else "") + f"({obs['lat']:.5f}, {obs['lon']:.5f})",
    )
    e.add(
        "summary",
        f"{obs['kind']} observation, confidence {obs['confidence']}: {obs.get('note') or ''}".strip(),
    )
    e.add("publisher", obs["source"])
    if str(obs["source"]).startswith(("http://", "https://")):
        e.add("sourceUrl", obs["source"], quiet=True)
    notes = f"Added by {obs['added_by']} on {obs['added_at']:%Y-%m-%d %H:%M} UTC ({obs['origin']})."
    if obs.get("attachment"):
        notes += f" Attachment {obs['attachment']} (sha256 {obs['attachment_sha256']})."
    e.add("notes", notes)
    e.add("recordId", str(obs["obs_id"]))
    out.append(e)
    link = _entity("UnknownLink", "observed", obs["obs_id"], obs["mmsi"])
    link.add("subject", vessel_id(obs["mmsi"]))
    link.add("object", e.id)
    link.add("role", f"observed ({obs['kind']})")
    link.add("date", when)
    out.append(link)
    for c in corrs:
        note = _entity("Note", "observation", obs["obs_id"], c["outcome"], c["event_id"] or "track")
        note.add("entity", vessel_id(obs["mmsi"]))
        note.add(
            "name",
            f"Observation {obs['obs_id']} {c['outcome']} "
            + (f"event {c['event_id']}" if c["event_id"] else "the AIS track"),
        )
        note.add("description", c["explanation"])
        note.add("publisher", "tumen observe")
        out.append(note)
    return out


def _listed_entities(store: Backend, entity_ids: set[str]) -> list[dict[str, Any]]:
    """The matched list entities and the Sanction entities that name them (from table ``entities``)."""
    if not entity_ids or not store.table_exists("entities"):
        return []
    ids = ", ".join("'" + i.replace("'", "''") + "'" for i in sorted(entity_ids))
    rows = (
        store.query(
            f"""SELECT DISTINCT entity FROM entities
            WHERE entity_id IN ({ids})
               OR (schema = 'Sanction' AND list_has_any(
                       CAST(json_extract(entity, '$.properties.entity') AS VARCHAR[]), [{ids}]))"""
        )
        .column("entity")
        .to_pylist()
    )
    return [json.loads(r) for r in rows]


def entities(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    findings: Findings | None = None,
) -> Iterator[EntityProxy]:
    """Every FtM entity of the export, each validated with its schema.

    Yields
    ------
    followthemoney.EntityProxy
        Vessels, trips, events, addresses, links, listed entities and risks.
    """
    from tumen.report.dossier import identity, matches_for

    f = findings or collect(store, settings, vessels=vessels)
    seen_vessels: set[int] = set()
    listed: set[str] = set()
    out: list[EntityProxy] = []
    for row in f.vessels:
        ident = identity(store, row["mmsi"])
        out.append(_vessel(row, ident["history"]))
        seen_vessels.add(row["mmsi"])
        if row["score"] > 0:
            risk = _entity("Risk", row["mmsi"])
            risk.add("entity", vessel_id(row["mmsi"]))
            risk.add(
                "reason",
                f"tumen risk score {row['score']:.1f} (rank {row['rank']}): "
                + "; ".join(
                    f"{s['title']} {s['points']:.1f} pts ({'; '.join(s['notes'][:3])})"
                    for s in row["signals"]
                ),
            )
            risk.add("summary", f"risk score {row['score']:.1f}, rank {row['rank']}")
            risk.add("status", "tumen risk ranking")
            risk.add("publisher", "tumen")
            out.append(risk)
        imos = [h["imo"] for h in ident["history"] if h.get("imo")]
        for m in matches_for(store, row["mmsi"], imos):
            if not m.get("match"):
                continue
            listed.add(m["entity_id"])
            link = _entity(
                "UnknownLink", "match", row["mmsi"], m["entity_id"], m.get("role") or "vessel"
            )
            link.add("subject", vessel_id(row["mmsi"]))
            link.add("object", m["entity_id"])
            link.add("role", f"sanctions match: {m.get('role') or 'vessel'}")
            feats = m.get("features")
            link.add(
                "description",
                f"score {m['score']:.2f}; features {json.dumps(feats, ensure_ascii=False, sort_keys=True) if feats else '–'}; "
                f"path {json.dumps(m.get('path'), ensure_ascii=False) if m.get('path') else '–'}",
            )
            link.add("publisher", "tumen screening")
            out.append(link)
    addresses: dict[str, EntityProxy] = {}
    for ev in f.events:
        for mmsi in (ev["mmsi"], ev.get("other_mmsi")):
            if mmsi is not None and mmsi not in seen_vessels:
                out.append(_vessel({"mmsi": mmsi, "name": None}, identity(store, mmsi)["history"]))
                seen_vessels.add(mmsi)
        out.extend(_event_entities(ev, f.ports, addresses))
    out.extend(addresses.values())
    for obs in f.observations:
        if obs["mmsi"] not in seen_vessels:
            out.append(
                _vessel(
                    {"mmsi": obs["mmsi"], "name": None}, identity(store, obs["mmsi"])["history"]
                )
            )
            seen_vessels.add(obs["mmsi"])
        out.extend(
            _observation_entities(
                obs, [c for c in f.corroborations if c["obs_id"] == obs["obs_id"]]
            )
        )
    listed_found = set()
    for data in _listed_entities(store, listed):
        proxy = EntityProxy.from_dict(data, cleaned=False)
        listed_found.add(proxy.id)
        out.append(proxy)
    for missing in sorted(listed - listed_found):
        # the list entity is not in the store (lists not loaded here): keep the link, name the target
        stub = model.make_entity("LegalEntity")
        stub.id = missing
        stub.add("name", missing)
        stub.add("notes", "listed entity not found in the store's lists at export time")
        out.append(stub)
    for proxy in out:
        proxy.schema.validate(proxy.to_dict())  # type: ignore[arg-type]  # raises InvalidData
        yield proxy


def write_ftm(
    store: Backend,
    out: str | Path | TextIO,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
) -> int:
    """Write the findings as FtM JSON lines to ``out`` (a path, or ``-`` / a text stream); returns the entity count.

    Load into Aleph with ``alephclient write-entities -i FILE -f COLLECTION``.
    """
    n = 0
    with open_output(out) as fh:
        for proxy in entities(store, settings, vessels=vessels):
            fh.write(json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


@register(
    "ftm",
    suffixes=(".ftm.json", ".ftm.jsonl", ".ftm"),
    description="FollowTheMoney entities (JSON lines) of vessels, events, matches and risk, for Aleph",
    any_table=False,
)
def _export_ftm(store: Backend, table: str, out: Path, settings: Settings) -> int:
    check_findings_table(table, "ftm")
    return write_ftm(store, out, settings)
