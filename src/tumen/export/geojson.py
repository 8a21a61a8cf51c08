"""Findings as GeoJSON (RFC 7946): tracks, events and watched ports, for QGIS, kepler.gl or geojson.io.

A ``FeatureCollection`` whose features carry ``properties.kind``:

- ``track``: one ``MultiLineString`` per vessel (broken at silences of at
  least ``detect.gaps.min_gap_h`` and at impossible legs, thinned to
  ``report.max_track_points``), with its identity and risk score;
- ``event``: one feature per event — a ``Point`` at the event's position, a
  ``LineString`` for an AIS gap (last fix before → first fix after) and for a
  voyage (port → port) — with the event's JSON-lines fields, evidence and
  provenance;
- ``observation``: each observation (:mod:`tumen.observe`) of the vessels exported (``Point``),
  with its columns (its own kind as ``observation_kind``) and ``corroboration`` (what it confirms or contradicts);
- ``cue``: the imagery cue of each dark-port-call candidate (``Polygon``: the area of interest;
  time window and reason, :mod:`tumen.observe.cues`);
- ``port``: the watched ports (``Point``, with ``radius_km``).

Coordinates are [longitude, latitude] in WGS84 degrees, times ISO-8601 UTC.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from tumen.export import register
from tumen.export.findings import (
    Findings,
    check_findings_table,
    collect,
    event_record,
    iso_z,
    open_output,
)
from tumen.observe.corroborate import event_json, ports_table
from tumen.observe.cues import cues_for_event, cues_geojson
from tumen.observe.ledger import observation_json
from tumen.report import dossier as q
from tumen.report.maps import split_points

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend


def _r(x: float) -> float:
    return round(float(x), 6)


def features(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    tracks: bool = True,
    findings: Findings | None = None,
) -> list[dict[str, Any]]:
    """The GeoJSON features of the export (see the module docstring); ``findings``: already
    collected (:func:`~tumen.export.findings.collect` with the same ``vessels``)."""
    f = findings or collect(store, settings, vessels=vessels)
    port_at = {p.name: p for p in f.ports}
    out: list[dict[str, Any]] = []
    if tracks:
        track_vessels = f.vessels if vessels else [v for v in f.vessels if v["score"] > 0]
        for v in track_vessels:
            tr = q.track(store, v["mmsi"], settings.report.max_track_points)
            if len(tr) < 2:
                continue
            cuts = split_points(
                tr, settings.detect.gaps.min_gap_h * 3600, settings.detect.segments.max_speed_kn
            )
            lines = [
                [[_r(tr.lon[i]), _r(tr.lat[i])] for i in part]
                for part in np.split(np.arange(len(tr)), cuts)
                if len(part) >= 2
            ]
            if not lines:
                continue
            out.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                    "properties": {
                        "kind": "track",
                        "mmsi": v["mmsi"],
                        "imo": v["imo"],
                        "name": v["name"],
                        "risk_score": v["score"],
                        "risk_rank": v["rank"],
                        "start": iso_z(tr.ts[0].astype("datetime64[s]").item()),
                        "end": iso_z(tr.ts[-1].astype("datetime64[s]").item()),
                        "n_points": len(tr),
                    },
                }
            )
    gaps = q.gap_ends(store, [e["event_id"] for e in f.events if e["type"] == "gap"])
    for ev in f.events:
        geometry: dict[str, Any] | None = None
        if ev["type"] == "gap" and ev["event_id"] in gaps:
            (a_lat, a_lon), (b_lat, b_lon) = gaps[ev["event_id"]]
            geometry = {
                "type": "LineString",
                "coordinates": [[_r(a_lon), _r(a_lat)], [_r(b_lon), _r(b_lat)]],
            }
        elif (
            ev["type"] == "voyage"
            and ev.get("from_port") in port_at
            and ev.get("to_port") in port_at
        ):
            a, b = port_at[ev["from_port"]], port_at[ev["to_port"]]
            geometry = {
                "type": "LineString",
                "coordinates": [[_r(a.lon), _r(a.lat)], [_r(b.lon), _r(b.lat)]],
            }
        elif ev.get("lat") is not None and ev.get("lon") is not None:
            geometry = {"type": "Point", "coordinates": [_r(ev["lon"]), _r(ev["lat"])]}
        elif ev.get("port") in port_at:
            p = port_at[ev["port"]]
            geometry = {"type": "Point", "coordinates": [_r(p.lon), _r(p.lat)]}
        out.append(
            {
                "type": "Feature",
                "id": ev["event_id"],
                "geometry": geometry,
                "properties": {"kind": "event", **event_record(ev)},
            }
        )
    for obs in f.observations:
        shows = [c for c in f.corroborations if c["obs_id"] == obs["obs_id"]]
        out.append(
            {
                "type": "Feature",
                "id": f"observation-{obs['obs_id']}",
                "geometry": {"type": "Point", "coordinates": [_r(obs["lon"]), _r(obs["lat"])]},
                "properties": {
                    **observation_json(obs),
                    "kind": "observation",
                    "observation_kind": obs["kind"],
                    "corroboration": [event_json(c) | {"event_id": c["event_id"]} for c in shows],
                },
            }
        )
    for cue in cues_for_events(f.events, f.ports, settings):
        out.append({**cues_geojson([cue])["features"][0], "id": f"cue-{cue['cue_id']}"})
    for p in f.ports:
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [_r(p.lon), _r(p.lat)]},
                "properties": {
                    "kind": "port",
                    "name": p.name,
                    "country": p.country,
                    "radius_km": p.radius_km,
                },
            }
        )
    return out


def cues_for_events(
    events: Sequence[dict[str, Any]], ports: Sequence[Any], settings: Settings
) -> list[dict[str, Any]]:
    """The imagery cues of the dark-port-call candidates among ``events`` (:mod:`tumen.observe.cues`)."""
    table = ports_table(ports)
    out: list[dict[str, Any]] = []
    for ev in events:
        if ev["type"] == "gap":
            out += cues_for_event(ev, table, settings, on_demand=False)
    return out


def write_geojson(
    store: Backend,
    out: str | Path | TextIO,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
) -> int:
    """Write the FeatureCollection to ``out`` (a path, or ``-`` / a text stream); returns the feature count."""
    feats = features(store, settings, vessels=vessels)
    doc = {"type": "FeatureCollection", "features": feats}
    with open_output(out) as fh:
        fh.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    return len(feats)


@register(
    "geojson",
    suffixes=(".geojson",),
    description="tracks of vessels with risk signals, every event, and the watched ports (RFC 7946)",
    any_table=False,
)
def _export_geojson(store: Backend, table: str, out: Path, settings: Settings) -> int:
    check_findings_table(table, "geojson")
    return write_geojson(store, out, settings)
