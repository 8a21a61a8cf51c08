"""Imagery cues: what an analyst needs to check a dark port call (or any event) in satellite images.

A *cue* names an area of interest, a time window, and the requests that find the Sentinel-1 and
Sentinel-2 scenes covering both — written, never sent (tumen makes no network request).

Area of interest
    For a dark-port-call candidate (a port in a gap's ``dark_port_candidates``,
    :mod:`tumen.detect.gaps`): a circle around the port's position of radius
    ``radius_km × detect.port_visits.radius_scale`` (the circle of the port visits, which holds
    its berths) plus ``observe.cue_margin_km``.  For any other event: a circle around the event's
    position of radius ``observe.position_uncertainty_km`` (how far an AIS position, or the
    place a vessel stopped reporting, may be from the ship) plus the margin; for a gap without
    candidates, around the midpoint of its two end fixes with half their distance added.  The
    circle is written as a 32-sided polygon (counter-clockwise, RFC 7946 § 3.1.6) and its
    bounding box ``[west, south, east, north]`` (WGS84 degrees, the STAC API and GeoJSON order).
    Areas crossing the 180° meridian are not split (none of the watched ports is near it).

Time window
    The event's start to end (for a gap: the time the vessel was dark), widened by
    ``observe.cue_pad_h`` on both sides; an RFC 3339 interval ``START/END`` in UTC (``Z``).

Requests
    STAC API item-search bodies (https://github.com/radiantearth/stac-api-spec, item-search,
    POST ``/search``) for two public catalogues:

    - Element 84 Earth Search v1 (``https://earth-search.aws.element84.com/v1/search``):
      collections ``sentinel-1-grd`` and ``sentinel-2-l2a``; cloud cover with the Query extension,
      ``{"query": {"eo:cloud_cover": {"lte": N}}}``;
    - Copernicus Data Space Ecosystem STAC (``https://stac.dataspace.copernicus.eu/v1/search``):
      collections ``sentinel-1-grd`` and ``sentinel-2-l2a``; cloud cover as a CQL2-JSON ``filter``
      (``{"op": "<=", "args": [{"property": "eo:cloud_cover"}, N]}``).

    Sentinel-1 (radar) sees through cloud and at night, so its request has no cloud filter.

Browser links
    Copernicus Browser (``https://browser.dataspace.copernicus.eu/``) with the parameters it
    writes into its own address: ``zoom``, ``lat``, ``lng``, ``datasetId`` (``S2_L2A_CDAS``,
    ``S1_CDAS_IW_VVVH``), ``fromTime``/``toTime`` (ISO 8601 with milliseconds and ``Z``),
    ``cloudCoverage`` and, for Sentinel-2, ``layerId=1_TRUE_COLOR``.

Examples
--------
>>> ring = circle_polygon(42.2333, 130.3, 5.0)["coordinates"][0]
>>> len(ring), ring[0] == ring[-1]
(33, True)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pyarrow as pa

from tumen.errors import InputError
from tumen.tracks.geo import M_PER_DEG, haversine_km_np

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

KM_PER_DEG = M_PER_DEG / 1000.0
#: the STAC catalogues a cue writes requests for: name → item-search URL
CATALOGUES = {
    "earth-search": "https://earth-search.aws.element84.com/v1/search",
    "cdse": "https://stac.dataspace.copernicus.eu/v1/search",
}
#: sensors: key → (title, STAC collection id, Copernicus Browser dataset id, layer id or None, optical)
SENSORS = {
    "s1": ("Sentinel-1 GRD", "sentinel-1-grd", "S1_CDAS_IW_VVVH", None, False),
    "s2": ("Sentinel-2 L2A", "sentinel-2-l2a", "S2_L2A_CDAS", "1_TRUE_COLOR", True),
}
BROWSER = "https://browser.dataspace.copernicus.eu/"
#: items asked for per request (the STAC ``limit``)
LIMIT = 100


def rfc3339(value: datetime) -> str:
    """A naive UTC datetime as RFC 3339 with ``Z`` (whole seconds)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def circle_polygon(lat: float, lon: float, radius_km: float, n: int = 32) -> dict[str, Any]:
    """A GeoJSON Polygon approximating the circle of ``radius_km`` around (lat, lon), counter-clockwise.

    Local flat approximation (degrees of longitude shrink with cos(lat)): within 0.1 % for the
    tens of kilometres of a cue.
    """
    dlat = radius_km / KM_PER_DEG
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    ring = []
    for k in range(n):
        a = 2 * math.pi * k / n
        ring.append([round(lon + dlon * math.cos(a), 6), round(lat + dlat * math.sin(a), 6)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def polygon_bbox(polygon: dict[str, Any]) -> list[float]:
    """``[west, south, east, north]`` of a Polygon (degrees)."""
    xs = [p[0] for p in polygon["coordinates"][0]]
    ys = [p[1] for p in polygon["coordinates"][0]]
    return [min(xs), min(ys), max(xs), max(ys)]


def _zoom(lat: float, radius_km: float) -> int:
    """A web-map zoom level showing a circle of ``radius_km`` on about 800 pixels."""
    metres = max(radius_km, 0.1) * 2000.0
    z = math.log2(156_543.03 * math.cos(math.radians(lat)) * 800.0 / metres)
    return max(5, min(16, int(z)))


def stac_requests(bbox: list[float], interval: str, max_cloud_pct: float) -> list[dict[str, Any]]:
    """The item-search requests (catalogue, URL, collection, sensor, body) of one cue."""
    out = []
    for catalogue, url in CATALOGUES.items():
        for key, (title, collection, _ds, _layer, optical) in SENSORS.items():
            body: dict[str, Any] = {
                "collections": [collection],
                "bbox": bbox,
                "datetime": interval,
                "limit": LIMIT,
            }
            if optical and catalogue == "earth-search":
                body["query"] = {"eo:cloud_cover": {"lte": max_cloud_pct}}
            elif optical:
                body["filter-lang"] = "cql2-json"
                body["filter"] = {
                    "op": "<=",
                    "args": [{"property": "eo:cloud_cover"}, max_cloud_pct],
                }
            out.append(
                {
                    "catalogue": catalogue,
                    "url": url,
                    "method": "POST",
                    "sensor": key,
                    "title": title,
                    "collection": collection,
                    "body": body,
                }
            )
    return out


def browser_links(
    lat: float, lon: float, radius_km: float, start: datetime, end: datetime, max_cloud_pct: float
) -> list[dict[str, str]]:
    """Copernicus Browser addresses showing the area in the window, one per sensor."""
    out = []
    for key, (title, _collection, dataset, layer, optical) in SENSORS.items():
        params: dict[str, Any] = {
            "zoom": _zoom(lat, radius_km),
            "lat": f"{lat:.5f}",
            "lng": f"{lon:.5f}",
            "themeId": "DEFAULT-THEME",
            "datasetId": dataset,
            "fromTime": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "toTime": end.strftime("%Y-%m-%dT%H:%M:%S.999Z"),
        }
        if layer:
            params["layerId"] = layer
        if optical:
            params["cloudCoverage"] = f"{max_cloud_pct:g}"
        out.append({"sensor": key, "title": title, "url": BROWSER + "?" + urlencode(params)})
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def make_cue(
    event: dict[str, Any],
    center: tuple[float, float],
    radius_km: float,
    settings: Settings,
    *,
    port: str | None = None,
    reason: str,
    uncertainty_km: float,
) -> dict[str, Any]:
    """One cue: area of interest, window, requests and links (see the module docstring)."""
    params = settings.observe
    pad = timedelta(hours=params.cue_pad_h)
    start, end = event["start"] - pad, event["end"] + pad
    lat, lon = center
    aoi = circle_polygon(lat, lon, radius_km)
    bbox = polygon_bbox(aoi)
    interval = f"{rfc3339(start)}/{rfc3339(end)}"
    return {
        "cue_id": f"{event['event_id']}-{_slug(port) if port else 'pos'}",
        "event_id": event["event_id"],
        "type": event["type"],
        "subtype": event.get("subtype"),
        "mmsi": event["mmsi"],
        "reason": reason,
        "port": port,
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "radius_km": round(radius_km, 3),
        "uncertainty_km": round(uncertainty_km, 3),
        "margin_km": params.cue_margin_km,
        "aoi": aoi,
        "bbox": bbox,
        "start": rfc3339(start),
        "end": rfc3339(end),
        "datetime": interval,
        "max_cloud_pct": params.cue_max_cloud_pct,
        "stac": stac_requests(bbox, interval, params.cue_max_cloud_pct),
        "browser": browser_links(lat, lon, radius_km, start, end, params.cue_max_cloud_pct),
    }


def cues_for_event(
    event: dict[str, Any], ports: pa.Table, settings: Settings, *, on_demand: bool = True
) -> list[dict[str, Any]]:
    """The cues of one event (a row of ``events`` with ``evidence`` decoded).

    A gap with dark-port-call candidates gets one cue per candidate port; otherwise (only when
    ``on_demand``) one cue around the event's position.

    Raises
    ------
    InputError
        When an event asked for has no position to look at.
    """
    params = settings.observe
    scale = settings.detect.port_visits.radius_scale
    ev = event.get("evidence") or {}
    by_name = {r["name"]: r for r in ports.to_pylist()}
    out = []
    if event["type"] == "gap":
        for cand in ev.get("dark_port_candidates") or []:
            info = cand if isinstance(cand, dict) else {"port": cand}
            p = by_name.get(info.get("port"))
            if p is None:
                continue
            r = float(p["radius_km"]) * scale
            out.append(
                make_cue(
                    event,
                    (float(p["lat"]), float(p["lon"])),
                    r + params.cue_margin_km,
                    settings,
                    port=str(p["name"]),
                    reason=f"dark port call candidate: {p['name']} (detour "
                    f"{float(info.get('detour_km') or 0):.0f} km, up to "
                    f"{float(info.get('max_stay_h') or 0):.1f} h in port)",
                    uncertainty_km=r,
                )
            )
    if out or not on_demand:
        return out
    unc = params.position_uncertainty_km
    if event["type"] == "gap" and ev.get("start_lat") is not None and ev.get("end_lat") is not None:
        a, b = (ev["start_lat"], ev["start_lon"]), (ev["end_lat"], ev["end_lon"])
        half = float(haversine_km_np(a[0], a[1], b[0], b[1])) / 2.0
        center = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)
        unc += half
        reason = "AIS gap: between where the vessel went dark and where it reappeared"
    elif event.get("lat") is not None and event.get("lon") is not None:
        center = (float(event["lat"]), float(event["lon"]))
        reason = f"{event['type']} event position"
    elif event.get("port") in by_name:
        p = by_name[event["port"]]
        center = (float(p["lat"]), float(p["lon"]))
        unc = float(p["radius_km"]) * scale
        reason = f"{event['type']} at {p['name']}"
    else:
        raise InputError(f"event {event['event_id']} has no position to cue imagery for")
    return [
        make_cue(
            event, center, unc + params.cue_margin_km, settings, reason=reason, uncertainty_km=unc
        )
    ]


def _events(store: Backend, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = store.query(
        f'SELECT event_id, type, subtype, mmsi, start, "end", lat, lon, port, evidence FROM events '
        f"WHERE {where} ORDER BY start, event_id",
        params,
    ).to_pylist()
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if isinstance(r["evidence"], str) else {}
    return rows


def cues(
    store: Backend,
    settings: Settings,
    *,
    event_ids: Sequence[str] | None = None,
    ports: pa.Table | None = None,
) -> list[dict[str, Any]]:
    """Cues for the given events (any type, on demand), or for every dark-port-call candidate.

    Raises
    ------
    InputError
        An event id that is not in the store, or an event without a position.
    """
    if ports is None:
        from tumen.detect.ports import ports_detection_used

        ports = ports_detection_used(store, settings.ports)
    if event_ids:
        rows = _events(store, "list_contains(?, event_id)", [list(event_ids)])
        missing = sorted(set(event_ids) - {r["event_id"] for r in rows})
        if missing:
            raise InputError(
                f"no event {missing[0]!r} in the store; see `tumen events` for the ids"
            )
        out = []
        for r in rows:
            out += cues_for_event(r, ports, settings, on_demand=True)
        return out
    rows = _events(
        store,
        "type = 'gap' AND json_array_length(json_extract(evidence, '$.dark_port_candidates')) > 0",
        [],
    )
    out = []
    for r in rows:
        out += cues_for_event(r, ports, settings, on_demand=False)
    return out


def cues_geojson(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The cues' areas of interest as a GeoJSON FeatureCollection (``properties.kind`` = ``cue``)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": c["cue_id"],
                "geometry": c["aoi"],
                "properties": {
                    "kind": "cue",
                    **{
                        k: c[k]
                        for k in (
                            "cue_id",
                            "event_id",
                            "mmsi",
                            "port",
                            "reason",
                            "start",
                            "end",
                            "datetime",
                            "radius_km",
                        )
                    },
                },
            }
            for c in items
        ],
    }


def write_cues(items: Sequence[dict[str, Any]], out_dir: str | Path) -> list[str]:
    """Write ``cues.json`` (every cue), ``cues.geojson`` (the areas) and, per cue, a folder with
    one request body per catalogue and sensor (``earth-search-s2.json`` …: POST it to the
    catalogue's ``/search``) and ``links.txt``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    (out / "cues.json").write_text(
        json.dumps({"cues": list(items), "total": len(items)}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    (out / "cues.geojson").write_text(
        json.dumps(cues_geojson(items), ensure_ascii=False) + "\n", encoding="utf-8"
    )
    written += [str(out / "cues.json"), str(out / "cues.geojson")]
    for c in items:
        folder = out / c["cue_id"]
        folder.mkdir(exist_ok=True)
        for req in c["stac"]:
            path = folder / f"{req['catalogue']}-{req['sensor']}.json"
            path.write_text(json.dumps(req["body"], indent=1) + "\n", encoding="utf-8")
            written.append(str(path))
        links = folder / "links.txt"
        links.write_text(
            "".join(f"{b['title']}: {b['url']}\n" for b in c["browser"])
            + "".join(
                f"POST {r['url']} < {r['catalogue']}-{r['sensor']}.json\n" for r in c["stac"]
            ),
            encoding="utf-8",
        )
        written.append(str(links))
    return written
