"""Findings as KML 2.2 for Google Earth: a folder per vessel with its track and events, and the watched ports.

Each vessel's folder holds its track (``LineString`` pieces, broken at silences
and impossible legs, each with its ``TimeSpan`` so Google Earth's time slider
works), its AIS gaps (a line from the last fix before to the first fix after),
its voyages (port → port) and its other events as placemarks whose
``TimeSpan`` is the event's start and end (UTC) and whose balloon gives what,
when, the measures and the provenance; ``ExtendedData`` carries ``event_id`` and
``type``.  Colours follow the report's.

A folder *Observations* holds the sightings from outside AIS (:mod:`tumen.observe`) of the
vessels exported: one point placemark each at the observed position, with its ``TimeStamp``, a
balloon giving the vessel, the identity seen, the source, note, confidence, who added it and the
attachment's SHA-256, and what it confirms or contradicts (the corroborations' explanations);
``ExtendedData`` carries ``obs_id``, ``mmsi``, ``kind`` and ``outcomes``.

Google Earth shows a ``description`` as HTML: every text in one (names from AIS
and lists, port names, an observation's source and note) is HTML-escaped before lxml escapes it
again as XML;
``name`` elements are plain text.

Written with lxml in the element order of the OGC KML 2.2 schema, so the file
validates (fastkml checks it against the XSD); simplekml writes styles ahead
of ``name``, which the schema does not allow.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from lxml import etree
from lxml.builder import ElementMaker

from tumen.export import register
from tumen.export.findings import Findings, check_findings_table, collect, iso_z, provenance_text
from tumen.report import dossier as q
from tumen.report.html import event_name, event_title, event_what, fmt_value
from tumen.report.maps import COUNTRY_COLOURS, TRACK, TYPE_COLOURS, split_points

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

KML_NS = "http://www.opengis.net/kml/2.2"
K = ElementMaker(namespace=KML_NS, nsmap={None: KML_NS})


def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """'#rrggbb' → KML's ``aabbggrr``."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{b}{g}{r}"


def _coords(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{lon:.6f},{lat:.6f}" for lon, lat in points)


def _styles() -> list[etree._Element]:
    out = [
        K.Style(K.LineStyle(K.color(kml_colour(TRACK)), K.width("2")), id="track"),
    ]
    for type_, colour in TYPE_COLOURS.items():
        out.append(
            K.Style(
                K.IconStyle(K.color(kml_colour(colour)), K.scale("1.0")),
                K.LineStyle(K.color(kml_colour(colour)), K.width("3")),
                id=f"event-{type_}",
            )
        )
    for country, colour in COUNTRY_COLOURS.items():
        out.append(
            K.Style(K.IconStyle(K.color(kml_colour(colour)), K.scale("0.8")), id=f"port-{country}")
        )
    out.append(
        K.Style(K.IconStyle(K.color(kml_colour("#333333")), K.scale("0.8")), id="port-other")
    )
    return out


def _time_span(begin: str | None, end: str | None) -> etree._Element:
    return K.TimeSpan(K.begin(begin or ""), K.end(end or ""))


def _balloon(ev: dict[str, Any]) -> str:
    rows = [
        ("Event", ev["event_id"]),
        ("Type", event_title(ev)),
        ("What", event_what(ev)),
        ("Vessel", f"{ev.get('name') or ''} (MMSI {ev['mmsi']})"),
        ("Start (UTC)", iso_z(ev["start"])),
        ("End (UTC)", iso_z(ev["end"])),
    ]
    rows += [(k, fmt_value(v)) for k, v in ev.get("measures", {}).items()]
    rows += [
        ("Detector", f"{ev['detector']} {ev.get('params')}"),
        ("Provenance", provenance_text(ev.get("provenance", [])) or "no stored rows cited"),
        ("tumen", ev.get("tumen_version")),
    ]
    cells = "".join(
        f"<tr><th align='left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _observation_balloon(obs: dict[str, Any], shows: Sequence[dict[str, Any]]) -> str:
    seen = "; ".join(
        x
        for x in (
            obs.get("seen_name") and f"name {obs['seen_name']}",
            obs.get("seen_imo") and f"IMO {obs['seen_imo']}",
        )
        if x
    )
    rows: list[tuple[str, Any]] = [
        ("Observation", f"O{obs['obs_id']} ({obs['kind']})"),
        (
            "Vessel",
            f"{obs.get('name') or obs['vessel']} (MMSI {obs['mmsi']}; given as {obs['vessel']})",
        ),
        ("Identity seen", seen or "–"),
        ("Time (UTC)", iso_z(obs["ts"])),
        (
            "Place",
            (f"{obs['port']}, " if obs.get("port") else "")
            + f"{obs['lat']:.5f}, {obs['lon']:.5f} ± {obs['uncertainty_km']:.1f} km",
        ),
        ("Source", obs["source"]),
        ("Note", obs.get("note") or "–"),
        ("Confidence", obs["confidence"]),
        ("Added", f"{obs['added_by']}, {iso_z(obs['added_at'])} ({obs['origin']})"),
    ]
    if obs.get("attachment"):
        rows.append(("Attachment", f"{obs['attachment']} sha256 {obs['attachment_sha256']}"))
    rows += [(c["outcome"], c["explanation"]) for c in shows]
    cells = "".join(
        f"<tr><th align='left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _observation_placemark(obs: dict[str, Any], shows: Sequence[dict[str, Any]]) -> etree._Element:
    outcomes = ";".join(sorted({c["outcome"] for c in shows}))
    return K.Placemark(
        K.name(f"O{obs['obs_id']} {obs['kind']}: {obs.get('name') or obs['vessel']}"),
        K.description(_observation_balloon(obs, shows)),
        K.TimeStamp(K.when(iso_z(obs["ts"]) or "")),
        K.styleUrl("#event-observation"),
        K.ExtendedData(
            K.Data(K.value(str(obs["obs_id"])), name="obs_id"),
            K.Data(K.value(str(obs["mmsi"])), name="mmsi"),
            K.Data(K.value(obs["kind"]), name="kind"),
            K.Data(K.value(outcomes), name="outcomes"),
        ),
        K.Point(K.coordinates(_coords([(obs["lon"], obs["lat"])]))),
        id=f"observation-{obs['obs_id']}",
    )


def _event_placemark(
    ev: dict[str, Any], gaps: dict[str, Any], port_at: dict[str, Any]
) -> etree._Element | None:
    if ev["type"] == "gap" and ev["event_id"] in gaps:
        (a_lat, a_lon), (b_lat, b_lon) = gaps[ev["event_id"]]
        geometry = K.LineString(
            K.tessellate("1"), K.coordinates(_coords([(a_lon, a_lat), (b_lon, b_lat)]))
        )
    elif ev["type"] == "voyage" and ev.get("from_port") in port_at and ev.get("to_port") in port_at:
        a, b = port_at[ev["from_port"]], port_at[ev["to_port"]]
        geometry = K.LineString(
            K.tessellate("1"), K.coordinates(_coords([(a.lon, a.lat), (b.lon, b.lat)]))
        )
    elif ev.get("lat") is not None and ev.get("lon") is not None:
        geometry = K.Point(K.coordinates(_coords([(ev["lon"], ev["lat"])])))
    else:
        return None
    return K.Placemark(
        K.name(event_name(ev)),
        K.description(_balloon(ev)),
        _time_span(iso_z(ev["start"]), iso_z(ev["end"])),
        K.styleUrl(f"#event-{ev['type']}"),
        K.ExtendedData(
            K.Data(K.value(ev["event_id"]), name="event_id"),
            K.Data(K.value(ev["type"]), name="type"),
            K.Data(K.value(str(ev["mmsi"])), name="mmsi"),
        ),
        geometry,
        id=f"event-{ev['event_id']}",
    )


def build_kml(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    findings: Findings | None = None,
) -> etree._Element:
    """The KML document of the findings (see the module docstring); ``findings``: already
    collected (:func:`~tumen.export.findings.collect` with the same ``vessels``)."""
    f = findings or collect(store, settings, vessels=vessels)
    port_at = {p.name: p for p in f.ports}
    gaps = q.gap_ends(store, [e["event_id"] for e in f.events if e["type"] == "gap"])
    events_by_vessel: dict[int, list[dict[str, Any]]] = {}
    for ev in f.events:
        events_by_vessel.setdefault(ev["mmsi"], []).append(ev)

    ports = K.Folder(K.name("Watched ports"))
    for p in f.ports:
        ports.append(
            K.Placemark(
                K.name(p.name),
                K.description(html.escape(f"{p.name} ({p.country}), radius {p.radius_km} km")),
                K.styleUrl(f"#port-{p.country if p.country in COUNTRY_COLOURS else 'other'}"),
                K.Point(K.coordinates(_coords([(p.lon, p.lat)]))),
            )
        )
    folders = []
    for v in f.vessels:
        with_events = v["mmsi"] in (events_by_vessel if f.event_vessels is None else f.event_vessels)
        if not (vessels or v["score"] > 0 or with_events):
            continue
        folder = K.Folder(
            K.name(f"{v['rank']}. {v['name'] or 'MMSI ' + str(v['mmsi'])} ({v['mmsi']})"),
            K.description(
                html.escape(
                    f"risk score {v['score']:.1f}; IMO {v['imo'] or '–'}; "
                    + "; ".join(f"{s['title']} {s['points']:.1f}" for s in v["signals"])
                )
            ),
        )
        tr = q.track(store, v["mmsi"], settings.report.max_track_points)
        if len(tr) >= 2:
            cuts = split_points(
                tr, settings.detect.gaps.min_gap_h * 3600, settings.detect.segments.max_speed_kn
            )
            for i, part in enumerate(np.split(np.arange(len(tr)), cuts)):
                if len(part) < 2:
                    continue
                folder.append(
                    K.Placemark(
                        K.name(f"track {i + 1}"),
                        _time_span(
                            iso_z(tr.ts[part[0]].astype("datetime64[s]").item()),
                            iso_z(tr.ts[part[-1]].astype("datetime64[s]").item()),
                        ),
                        K.styleUrl("#track"),
                        K.LineString(
                            K.tessellate("1"),
                            K.coordinates(
                                _coords(
                                    list(
                                        zip(
                                            tr.lon[part].tolist(),
                                            tr.lat[part].tolist(),
                                            strict=True,
                                        )
                                    )
                                )
                            ),
                        ),
                    )
                )
        for ev in events_by_vessel.get(v["mmsi"], []):
            pm = _event_placemark(ev, gaps, port_at)
            if pm is not None:
                folder.append(pm)
        folders.append(folder)
    if f.observations:
        observed = K.Folder(K.name("Observations"))
        for obs in f.observations:
            shows = [c for c in f.corroborations if c["obs_id"] == obs["obs_id"]]
            observed.append(_observation_placemark(obs, shows))
        folders.append(observed)
    return K.kml(K.Document(K.name("tumen findings"), K.open("1"), *_styles(), ports, *folders))


def write_kml(
    store: Backend, out: str | Path, settings: Settings, *, vessels: Sequence[int] | None = None
) -> int:
    """Write the KML file ``out``; returns the number of placemarks."""
    root = build_kml(store, settings, vessels=vessels)
    Path(out).write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
    return len(root.findall(f".//{{{KML_NS}}}Placemark"))


@register(
    "kml",
    suffixes=(".kml",),
    description="Google Earth: a folder per vessel with its track and events, the observations, "
    "and the watched ports",
    any_table=False,
)
def _export_kml(store: Backend, table: str, out: Path, settings: Settings) -> int:
    check_findings_table(table, "kml")
    return write_kml(store, out, settings)
