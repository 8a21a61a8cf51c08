"""The evidence report as one self-contained HTML file (and, through :mod:`tumen.report.pdf`, a PDF).

Self-contained means: CSS inline, maps and timelines embedded as ``data:`` URIs,
no script, no font or tile fetched from anywhere — the file opens offline and
makes no request.  Structure:

1. Summary of the period: what was read (files, lines, positions), what was
   found (events by type, list matches), the findings at a glance, an overview
   map and the top-risk vessels.
2. One dossier per selected vessel: identity history, risk signals with the
   events behind them, screening matches with their explanations, a map of the
   track, a timeline, and the table of its events, each with provenance.
3. Annexes: every event in the store with its provenance, the input files
   with their SHA-256, and the methods (signal definitions, weights, detector
   parameters).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from tumen.detect.ports import Port
from tumen.errors import InputError
from tumen.provenance import tumen_version, utc_now
from tumen.report import dossier as q
from tumen.report.maps import (
    COUNTRY_COLOURS,
    TYPE_COLOURS,
    MapEvent,
    MapObservation,
    MapSpec,
    interactive_layers,
    overview_map,
    vessel_map,
)
from tumen.report.timeline import TimelineEvent, reception_intervals, vessel_timeline
from tumen.risk.rank import has_signals, ranking_counts
from tumen.risk.signals import SIGNAL_TITLES, ports_for_findings
from tumen.risk.weights import RiskWeights

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

TYPE_TITLES = {
    "port_visit": "Port visit",
    "voyage": "Voyage",
    "gap": "AIS gap",
    "encounter": "Encounter",
    "loitering": "Loitering",
    "identity": "Identity",
}
SUBTYPE_TITLES = {
    "mmsi_conflict": "MMSI conflict",
    "position_jump": "position jump",
    "identity_change": "identity change",
    "invalid_imo": "invalid IMO",
    "flag_mismatch": "flag mismatch",
    "dprk_mid": "DPRK MID",
}


def svg_data_uri(svg: str) -> str:
    """``data:image/svg+xml;base64,…`` for an SVG document."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --------------------------------------------------------------------------- formatting
def fmt_ts(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return "–"
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "–"
    hours = (end - start).total_seconds() / 3600
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == []:
        return "none"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(fmt_value(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    if isinstance(value, dict):
        return "; ".join(f"{k} {fmt_value(v)}" for k, v in value.items())
    return str(value)


#: what each evidence measure is called in the report (a key absent here is written in words from its name)
MEASURE_TITLES = {
    "mean_distance_m": "mean distance",
    "min_distance_m": "closest approach",
    "n_steps": "time steps together",
    "step_min": "time step",
    "dark_port_candidates": "could have called at",
    "distance_km": "distance",
    "ends_in_port": "ends in a port",
    "starts_in_port": "starts in a port",
    "implied_speed_kn": "implied speed",
    "top_speed_kn": "top speed",
    "top_speed_source": "top speed from",
    "changes": "changed",
    "expected_check_digit": "expected check digit",
    "fields": "fields changed",
    "imo": "IMO",
    "mid": "MID",
    "n_reports": "reports",
    "n_static_reports": "static reports",
    "switches": "switches between places",
    "displacement_km": "net displacement",
    "net_speed_kn": "net speed",
    "kp_ru": "between North Korea and Russia",
    "mean_speed_kn": "mean speed",
}
#: measures the report leaves out: the duration has its own column, segment ids are bookkeeping
SKIPPED_MEASURES = {"duration_h", "segments"}
#: unit suffixes of evidence keys (see the naming rules: ``distance_km``, ``sog_kn`` …) and how they are written
UNIT_SUFFIXES = {
    "_km": "km",
    "_m": "m",
    "_kn": "kn",
    "_h": "h",
    "_min": "min",
    "_s": "s",
    "_nmi": "nmi",
}


def _measure_value(key: str, value: Any) -> str:
    if key == "dark_port_candidates" and isinstance(value, list):
        parts = []
        for c in value[:5]:
            if isinstance(c, dict):
                detour = c.get("detour_km")
                parts.append(
                    f"{c.get('port', '?')}"
                    + (f" (detour {fmt_value(float(detour))} km)" if detour is not None else "")
                )
            else:
                parts.append(fmt_value(c))
        return (", ".join(parts) or "none") + (" …" if len(value) > 5 else "")
    if key == "changes" and isinstance(value, list):
        return "; ".join(
            f"{c.get('field', '?')} {c.get('old') or '–'} → {c.get('new') or '–'}"
            if isinstance(c, dict)
            else fmt_value(c)
            for c in value[:5]
        ) + (" …" if len(value) > 5 else "")
    return fmt_value(value)


def fmt_measures(measures: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's measures as ``(words, value with unit)`` pairs: ``("closest approach", "193 m")``.

    Keys are named by :data:`MEASURE_TITLES`, else written in words from the key
    (``top_speed_kn`` → ``top speed``, unit ``kn``); booleans read yes/no.
    """
    out = []
    for key, value in measures.items():
        if key in SKIPPED_MEASURES:
            continue
        unit = next((u for suffix, u in UNIT_SUFFIXES.items() if key.endswith(suffix)), None)
        base = key
        if unit is not None:
            base = key[: key.rindex("_")]
        title = MEASURE_TITLES.get(key) or base.removeprefix("n_").replace("_", " ")
        text = _measure_value(key, value)
        if unit is not None and isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{text} {unit}"
        out.append((title, text))
    return out


def fmt_params(params: Any) -> str:
    """A detector's parameters in one short line: scalars as ``name value``; a file as its name and SHA-256 prefix.

    Nested groups other than files are named only (their values are in the report's methods annex).
    """
    if not isinstance(params, dict):
        return fmt_value(params)
    parts = []
    nested = []
    for key, value in params.items():
        if isinstance(value, dict) and ("path" in value or "sha256" in value):
            name = str(value.get("path") or "?").rsplit("/", 1)[-1]
            digest = str(value.get("sha256") or "")[:12]
            parts.append(f"{key} {name}" + (f" (sha256 {digest}…)" if digest else ""))
        elif isinstance(value, dict | list):
            nested.append(key)
        else:
            parts.append(f"{key} {fmt_value(value)}")
    if nested:
        parts.append("+ " + ", ".join(nested))
    return ", ".join(parts)


def fmt_features(features: Any) -> list[str]:
    """Screening features as readable phrases: each feature's ``detail`` (and score), else ``name value``."""
    if not isinstance(features, dict):
        return [fmt_value(features)]
    out = []
    for name, f in features.items():
        if isinstance(f, dict) and f.get("detail"):
            score = f.get("score")
            out.append(
                f"{f['detail']}" + (f" ({score:.2f})" if isinstance(score, int | float) else "")
            )
        else:
            out.append(f"{name} {fmt_value(f)}")
    return out


def fmt_source(source: Any) -> str:
    """Where an ownership edge is stated: list, reference or file."""
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError:
            return str(source)
    if isinstance(source, dict):
        parts = [source.get("list"), source.get("ref"), source.get("text")]
        return " · ".join(str(p) for p in parts if p)[:160] or fmt_value(source)
    return fmt_value(source)


def fmt_path(path: Any) -> Markup:
    """A file path that may break after each ``/`` (and nowhere else), HTML-escaped."""
    return Markup("/<wbr>").join(str(part) for part in str(path or "").split("/"))


def fmt_latlon(lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return ""
    return f"{abs(lat):.4f}°{'N' if lat >= 0 else 'S'} {abs(lon):.4f}°{'E' if lon >= 0 else 'W'}"


def vessel_label(name: str | None, mmsi: int | None) -> str:
    if mmsi is None:
        return name or "–"
    return f"{name} ({mmsi})" if name else f"MMSI {mmsi}"


def event_what(ev: dict[str, Any], viewpoint: int | None = None) -> str:
    """One line saying what the event is.

    ``viewpoint``: the MMSI whose dossier shows it; an encounter stored with that vessel as
    ``other_mmsi`` then names the vessel it met (``mmsi``), not the vessel itself.
    """
    t = ev["type"]
    if t == "port_visit":
        return f"at {ev.get('port') or '?'}"
    if t == "voyage":
        return f"{ev.get('from_port') or '?'} → {ev.get('to_port') or '?'}"
    if t == "encounter":
        if viewpoint is not None and viewpoint == ev.get("other_mmsi"):
            return "with " + vessel_label(ev.get("name"), ev.get("mmsi"))
        return "with " + vessel_label(ev.get("partner_name"), ev.get("other_mmsi"))
    if t == "gap":
        m = ev.get("measures", {})
        parts = []
        if "distance_km" in m:
            parts.append(f"{fmt_value(m['distance_km'])} km")
        if "implied_speed_kn" in m:
            parts.append(f"{fmt_value(m['implied_speed_kn'])} kn implied")
        return "dark" + (": " + ", ".join(parts) if parts else "")
    if t == "identity":
        return SUBTYPE_TITLES.get(ev.get("subtype") or "", ev.get("subtype") or "")
    return ""


def event_title(ev: dict[str, Any]) -> str:
    title = str(TYPE_TITLES.get(ev["type"], ev["type"]))
    if ev.get("subtype"):
        title += f" · {SUBTYPE_TITLES.get(ev['subtype'], ev['subtype'])}"
    return title


def event_name(ev: dict[str, Any], viewpoint: int | None = None) -> str:
    """Title and what, without repeating: ``Voyage: Rajin → Dunai``, ``Identity · DPRK MID``."""
    title, what = event_title(ev), event_what(ev, viewpoint)
    return f"{title}: {what}" if what and what not in title else title


def type_badge(type_: str) -> Markup:
    return Markup('<span class="badge t-{}">{}</span>').format(
        _css_class(type_), TYPE_TITLES.get(type_, type_)
    )


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tumen.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ts=fmt_ts,
        value=fmt_value,
        latlon=fmt_latlon,
        ranges=q.format_ranges,
        features=fmt_features,
        params=fmt_params,
        source=fmt_source,
        jsonc=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, default=str),
        measures=fmt_measures,
        path=fmt_path,
        cls=_css_class,
    )
    env.globals.update(
        duration=fmt_duration,
        what=event_what,
        event_title=event_title,
        badge=type_badge,
        vessel_label=vessel_label,
        type_colours=TYPE_COLOURS,
        country_colours=COUNTRY_COLOURS,
        type_titles=TYPE_TITLES,
        subtype_titles=SUBTYPE_TITLES,
        signal_titles=SIGNAL_TITLES,
    )
    return env


# --------------------------------------------------------------------------- building the context
def _select(
    store: Backend,
    settings: Settings,
    ranking: list[dict[str, Any]],
    vessels: Sequence[int] | None,
    top: int | None,
) -> list[int]:
    chosen: list[int] = []
    if vessels:
        for ident in vessels:
            found = q.resolve_vessels(store, [ident])
            if not found:
                raise InputError(
                    f"vessel {ident} is not in the store {getattr(store, 'path', '')}; give an MMSI (9 digits) "
                    "or IMO number (7 digits) that it has seen (see `tumen risk`)"
                )
            chosen += found
    if top is not None or not vessels:
        n = top if top is not None else settings.report.top_n
        chosen += [r["mmsi"] for r in ranking if has_signals(r["score"])][:n]
    return list(dict.fromkeys(chosen))


def _findings(ranking: list[dict[str, Any]]) -> list[str]:
    """Sentences for 'findings at a glance', from the signals of every ranked vessel."""
    count: dict[str, set[int]] = {}
    events: dict[str, set[str]] = {}
    for r in ranking:
        for s in r["signals"]:
            count.setdefault(s["signal"], set()).add(r["mmsi"])
            events.setdefault(s["signal"], set()).update(s["event_ids"])

    def n_v(sig: str) -> int:
        return len(count.get(sig, ()))

    def n_e(sig: str) -> int:
        return len(events.get(sig, ()))

    def plural(n: int, word: str) -> str:
        if n == 1:
            return f"{n} {word}"
        return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"

    def verb(n: int, singular: str, plural_form: str) -> str:
        return singular if n == 1 else plural_form

    out = []
    if n_v("sanctioned_vessel"):
        n = n_v("sanctioned_vessel")
        out.append(f"{plural(n, 'vessel')} {verb(n, 'matches', 'match')} a listed vessel.")
    if n_v("sanctioned_party"):
        n = n_v("sanctioned_party")
        out.append(
            f"{plural(n, 'vessel')} {verb(n, 'has', 'have')} a listed owner, manager or operator."
        )
    if n_e("nk_ru_voyage"):
        out.append(
            f"{plural(n_e('nk_ru_voyage'), 'voyage')} between North Korean and Russian ports, by {plural(n_v('nk_ru_voyage'), 'vessel')}."
        )
    if n_e("dprk_port_visit"):
        out.append(f"{plural(n_e('dprk_port_visit'), 'port call')} at North Korean ports.")
    dark = events.get("dark_shuttle_route", set()) | events.get("dark_near_port", set())
    if dark:
        out.append(f"{plural(len(dark), 'dark period')} near watched ports or on a shuttle route.")
    if n_e("encounter"):
        extra = ""
        if n_e("sanctioned_partner") or n_e("encounter_dprk_partner"):
            extra = f", {len(events.get('sanctioned_partner', set()) | events.get('encounter_dprk_partner', set()))} with a listed or DPRK vessel"
        out.append(f"{plural(n_e('encounter'), 'ship-to-ship encounter')} at sea{extra}.")
    ident = set().union(
        *(
            events.get(s, set())
            for s in (
                "mmsi_conflict",
                "position_jump",
                "identity_change",
                "invalid_imo",
                "flag_mismatch",
            )
        )
    )
    if ident:
        out.append(
            f"{plural(len(ident), 'identity anomaly')} (MMSI sharing, spoofed jumps, renaming, false IMO or flag)."
        )
    if n_e("observation_confirms_dark_call"):
        n = n_e("observation_confirms_dark_call")
        out.append(
            f"{plural(n, 'dark port call')} confirmed by an observation from outside AIS "
            f"(imagery, port reports, photos), by {plural(n_v('observation_confirms_dark_call'), 'vessel')}."
        )
    if n_v("observation_contradicts_ais"):
        n = n_v("observation_contradicts_ais")
        out.append(
            f"{plural(n, 'vessel')} seen where {verb(n, 'its', 'their')} AIS could not have been "
            "(spoofed positions or false identities)."
        )
    return out


def _dossier(
    store: Backend,
    settings: Settings,
    mmsi: int,
    risk_row: dict[str, Any] | None,
    ports: Sequence[Port],
    prov: dict[str, list[dict[str, Any]]],
    observed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ident = q.identity(store, mmsi)
    events = q.events_for(store, mmsi)
    for i, ev in enumerate(events, start=1):
        ev["number"] = i
        ev["provenance"] = prov.get(ev["event_id"], [])
    obs = _observations_for(store, settings, mmsi, events, observed or {})
    imos = [h["imo"] for h in ident["history"] if h.get("imo")]
    matches = q.matches_for(store, mmsi, imos)
    tr = q.track(store, mmsi, settings.report.max_track_points)
    gaps = q.gap_ends(store, [e["event_id"] for e in events if e["type"] == "gap"])

    map_events: list[MapEvent] = []
    for ev in events:
        partner = None
        if ev["type"] == "encounter":
            other = ev["other_mmsi"] if ev["mmsi"] == mmsi else ev["mmsi"]
            if other is not None:
                window = (ev["start"] - timedelta(hours=3), ev["end"] + timedelta(hours=3))
                partner = q.track(store, int(other), 400, window)
        lat, lon = ev.get("lat"), ev.get("lon")
        if ev["type"] == "port_visit" and ev.get("port"):
            port = next((p for p in ports if p.name == ev["port"]), None)
            if port is not None and lat is None:
                lat, lon = port.lat, port.lon
        map_events.append(
            MapEvent(
                number=ev["number"],
                type=ev["type"],
                subtype=ev.get("subtype"),
                lat=lat,
                lon=lon,
                ends=gaps.get(ev["event_id"]),
                partner=partner,
                label=f"{ev['number']}. {event_name(ev, mmsi)} — {fmt_ts(ev['start'])} to {fmt_ts(ev['end'])} UTC",
            )
        )
    map_obs = [
        MapObservation(
            label=f"O{o['obs_id']}",
            lat=o["lat"],
            lon=o["lon"],
            popup=f"O{o['obs_id']}. {o['kind']} {fmt_ts(o['ts'])} UTC: {o['source']}",
        )
        for o in obs["observations"]
    ]
    map_svg = None
    interactive = None
    if len(tr) or any(m.lat is not None for m in map_events) or map_obs:
        spec = MapSpec(
            track=tr,
            events=map_events,
            observations=map_obs,
            ports=ports,
            max_gap_s=settings.detect.gaps.min_gap_h * 3600,
            max_speed_kn=settings.detect.segments.max_speed_kn,
            resolution=settings.report.map_resolution,
        )
        map_svg = vessel_map(spec)
        if settings.report.interactive_map:
            layers = interactive_layers(spec)
            layers["tiles"] = settings.report.online_tiles
            interactive = json_for_script(layers)
    obs_times = [o["ts"] for o in obs["observations"]]
    starts = (
        [ev["start"] for ev in events]
        + ([tr.ts[0].astype(datetime)] if len(tr) else [])
        + obs_times
    )
    ends = (
        [ev["end"] for ev in events] + ([tr.ts[-1].astype(datetime)] if len(tr) else []) + obs_times
    )
    timeline_svg = None
    if starts:
        t0, t1 = min(starts), max(ends)
        pad = max((t1 - t0) * 0.02, timedelta(minutes=30))
        timeline_svg = vessel_timeline(
            [TimelineEvent(ev["number"], ev["type"], ev["start"], ev["end"]) for ev in events]
            + [
                TimelineEvent(o["obs_id"], "observation", o["ts"], o["ts"], mark=f"O{o['obs_id']}")
                for o in obs["observations"]
            ],
            (t0 - pad, t1 + pad),
            reception_intervals(tr.ts, settings.detect.gaps.min_gap_h * 3600 / 2)
            if len(tr)
            else [],
        )
    mid = q.mid_country(mmsi)
    event_number = {ev["event_id"]: ev["number"] for ev in events}
    signal_numbers = {
        sig["signal"]: sorted(event_number[e] for e in sig["event_ids"] if e in event_number)
        for sig in (risk_row or {}).get("signals", [])
    }
    timing = _designation_timing(store, mmsi, event_number)
    return {
        "designation_timing": timing,
        "mmsi": mmsi,
        "risk": risk_row or {"rank": None, "score": 0.0, "signals": [], "n_events": 0},
        "identity": ident,
        "ship_type": q.ship_type_name(ident.get("ship_type")),
        "mid": {"code": mmsi // 1_000_000, "iso": mid[0], "country": mid[1]}
        if mid
        else {"code": mmsi // 1_000_000, "iso": None, "country": None},
        "matches": [m for m in matches if m.get("match")],
        "near_misses": [m for m in matches if not m.get("match")][:5],
        "events": events,
        "event_number": event_number,
        "signal_numbers": signal_numbers,
        "map": svg_data_uri(map_svg) if map_svg else None,
        "interactive": interactive,
        "online_tiles": settings.report.online_tiles,
        "timeline": svg_data_uri(timeline_svg) if timeline_svg else None,
        "track_points": len(tr),
        "observations": obs["observations"],
        "cues": obs["cues"],
        "track_corroboration": obs["track"],
        "first_fix": tr.ts[0].astype(datetime) if len(tr) else None,
        "last_fix": tr.ts[-1].astype(datetime) if len(tr) else None,
    }


def _observed(store: Backend, settings: Settings, ports: Sequence[Port]) -> dict[str, Any]:
    """What every dossier needs of :mod:`tumen.observe`: the corroborations and the ports as a table."""
    from tumen.observe.corroborate import corroborations, ports_table

    table = ports_table(ports)
    return {"corrs": corroborations(store, settings, table), "ports": table}


def _observations_for(
    store: Backend,
    settings: Settings,
    mmsi: int,
    events: list[dict[str, Any]],
    observed: dict[str, Any],
) -> dict[str, Any]:
    """A dossier's observations (each with ``shows``: its corroborations), and on each event its
    ``corroboration`` and imagery ``cues`` (dark-port-call candidates); ``track``: what the
    observations say about the AIS track itself (no event)."""
    from tumen.observe.corroborate import by_event
    from tumen.observe.cues import cues_for_event
    from tumen.observe.ledger import list_observations

    corrs = [c for c in observed.get("corrs", []) if c["mmsi"] == mmsi]
    grouped = by_event(corrs)
    number = {ev["event_id"]: ev["number"] for ev in events}
    all_cues: list[dict[str, Any]] = []
    for ev in events:
        ev["corroboration"] = grouped.get(ev["event_id"], [])
        ev["cues"] = []
        if ev["type"] == "gap" and ev["mmsi"] == mmsi and "ports" in observed:
            ev["cues"] = cues_for_event(ev, observed["ports"], settings, on_demand=False)
            for cue in ev["cues"]:
                cue["number"] = ev["number"]
            all_cues += ev["cues"]
    rows = list_observations(store, mmsi) if store.table_exists("observations") else []
    for o in rows:
        o["shows"] = [
            dict(c, number=number.get(c["event_id"] or ""))
            for c in corrs
            if c["obs_id"] == o["obs_id"]
        ]
    return {"observations": rows, "cues": all_cues, "track": grouped.get("", [])}


#: Designation-timing rows shown per dossier (the determined ones first); the count says how many more.
TIMING_ROWS = 30


def _designation_timing(store: Backend, mmsi: int, event_number: dict[str, int]) -> dict[str, Any]:
    """The dossier's "designation in force?" table (:mod:`tumen.risk.timing`).

    ``rows``: findings with the event's ``number`` in the dossier, those whose status is
    known first, then in time order, at most :data:`TIMING_ROWS` (none when no status is
    known); ``counts`` by status; ``more``: the findings left out.
    """
    from tumen.risk.timing import designation_timing, timing_counts

    found = designation_timing(store, [mmsi]).get(mmsi, [])
    for f in found:
        f["number"] = event_number.get(f["event_id"])
    ordered = sorted(found, key=lambda f: (f["status"] == "undetermined", f["start"]))
    if all(f["status"] == "undetermined" for f in found):
        ordered = []  # nothing the data can tell: no table (the screening box names the lists)
    return {
        "rows": ordered[:TIMING_ROWS],
        "counts": timing_counts(found),
        "more": max(0, len(found) - TIMING_ROWS),
    }


def _detector_runs(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct (detector, parameters, tumen version) the events were detected with, as ``R1``, ``R2`` …

    Sets ``ev["run"]`` on each event; the report prints the parameters once per run (annex C)
    instead of on every event row.
    """
    runs: dict[str, dict[str, Any]] = {}
    counted: dict[str, set[str]] = {}
    for ev in events:
        key = json.dumps(
            [ev.get("detector"), ev.get("params"), ev.get("tumen_version")],
            sort_keys=True,
            default=str,
        )
        if key not in runs:
            runs[key] = {
                "id": f"R{len(runs) + 1}",
                "detector": ev.get("detector"),
                "params": ev.get("params"),
                "tumen_version": ev.get("tumen_version"),
            }
            counted[key] = set()
        counted[key].add(ev["event_id"])
        ev["run"] = runs[key]["id"]
    for key, run in runs.items():
        run["n_events"] = len(counted[key])
    return list(runs.values())


def build_context(
    store: Backend,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    """Everything the template shows, read from the store (ranks first if table ``risk`` is empty)."""
    ranking = q.ranking(store)
    if not ranking:
        from tumen.risk.rank import rank_vessels

        rank_vessels(store, settings)
        ranking = q.ranking(store)
    ports = ports_for_findings(store, settings.ports)
    period = q.period_summary(store)
    chosen = _select(store, settings, ranking, vessels, top)
    by_mmsi = {r["mmsi"]: r for r in ranking}

    all_events = q.events_for(store, limit=settings.report.annex_max_events)
    dossier_ids: set[str] = set()
    for mmsi in chosen:
        dossier_ids.update(
            store.query(
                f"SELECT event_id FROM events WHERE mmsi = {int(mmsi)} OR other_mmsi = {int(mmsi)}"
            )
            .column("event_id")
            .to_pylist()
        )
    prov = q.provenance(store, sorted(dossier_ids | {e["event_id"] for e in all_events}))
    for ev in all_events:
        ev["provenance"] = prov.get(ev["event_id"], [])
    observed = _observed(store, settings, ports)
    dossiers = [_dossier(store, settings, m, by_mmsi.get(m), ports, prov, observed) for m in chosen]
    for d in dossiers:
        d["anchor"] = f"v{d['mmsi']}"
    runs = _detector_runs([ev for d in dossiers for ev in d["events"]] + all_events)

    overview_tracks = []
    for d in dossiers[:10]:
        tr = q.track(store, d["mmsi"], 1500)
        label = f"{d['risk']['rank'] or '–'} {d['identity'].get('name') or d['mmsi']}"
        overview_tracks.append((label, tr))
    overview = (
        overview_map(
            overview_tracks,
            ports,
            resolution=settings.report.map_resolution,
        )
        if ports
        else None
    )

    ranked = [r for r in ranking if has_signals(r["score"])]
    counts = ranking_counts([r["score"] for r in ranking])
    top_table = ranked[: max(len(chosen), settings.report.top_n, 10)]
    weights = RiskWeights.model_fields
    dossier_mmsis = {d["mmsi"] for d in dossiers}
    return {
        "title": settings.report.title,
        "generated_at": utc_now(),
        "tumen_version": tumen_version(),
        "db": str(getattr(store, "path", "")),
        "period": period,
        "findings": _findings(ranking),
        "ranking": top_table,
        "n_vessels": counts["n_vessels"],
        "n_with_signals": counts["n_with_signals"],
        "dossier_mmsis": dossier_mmsis,
        "dossiers": dossiers,
        "overview": svg_data_uri(overview) if overview else None,
        "all_events": all_events,
        "runs": runs,
        "annex_truncated": max(0, period["events"] - len(all_events)),
        "annex_elsewhere": None,
        "sources": q.sources(store),
        "lists": q.lists_loaded(store),
        "list_versions": _list_versions(store),
        "ports": ports,
        "signals": [
            {
                "name": name,
                "title": SIGNAL_TITLES[name],
                "weight": settings.risk.weights.weight(name),
                "description": weights[name].description,
            }
            for name in SIGNAL_TITLES
        ],
        "risk_settings": settings.risk.model_dump(exclude={"weights"}),
        "assets": page_assets(settings.report.interactive_map, settings.report.online_tiles),
        "detect_settings": settings.detect.model_dump(),
        "screen_settings": settings.screen.model_dump(),
    }


def _list_versions(store: Backend) -> list[dict[str, Any]]:
    """Every kept version of the lists (:func:`tumen.screen.lists.history.list_versions`)."""
    from tumen.screen.lists.history import list_versions

    return list_versions(store)


def json_for_script(value: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``, read back with ``JSON.parse(el.textContent)``.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026``, so no
    string (an AIS name such as ``</script>`` or ``<!--<script>``) can close the element or
    open a comment in it; JSON.parse gives the characters back.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def _csp_hash(text: str) -> str:
    """A CSP source expression allowing exactly this inline ``<script>`` or ``<style>`` content."""
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def _css_class(name: str) -> str:
    """A CSS class name part from a type or country code (letters, digits, ``_`` and ``-`` only)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _stylesheet() -> str:
    """The report's stylesheet: style.css and the rules for colours and widths the data chooses.

    No element carries a ``style`` attribute (the Content-Security-Policy forbids inline
    styles): an event type's colour is class ``t-<type>``, a country's ``c-<ISO>``, a score
    bar's width ``w<percent>``.
    """
    base = (
        resources.files("tumen.report").joinpath("templates/style.css").read_text(encoding="utf-8")
    )
    rules = [f".t-{_css_class(t)} {{ background: {c}; }}" for t, c in TYPE_COLOURS.items()]
    rules += [f".c-{_css_class(k)} {{ color: {c}; }}" for k, c in COUNTRY_COLOURS.items()]
    rules += [f".scorebar span.w{i} {{ width: {i}%; }}" for i in range(101)]
    return (
        base
        + "\n/* generated: colours by event type and country, score bar widths */\n"
        + "\n".join(rules)
        + "\n"
    )


def page_assets(interactive: bool, online_tiles: bool) -> dict[str, Any]:
    """The inline stylesheets and scripts of the page, and the Content-Security-Policy that allows exactly them.

    The policy names each inline ``<style>`` and ``<script>`` by its SHA-256 (no
    ``'unsafe-inline'``): markup that a hostile name might smuggle into the page could
    neither run a script nor style it.  Leaflet 1.9.4 (BSD-2-Clause, vendored in
    ``report/static``) and the map script are added when ``interactive``; images may
    come from ``data:`` URIs only, plus OpenStreetMap's tile server when ``online_tiles``.
    """
    styles = [_stylesheet()]
    scripts: list[str] = []
    if interactive:
        static = resources.files("tumen.report").joinpath("static")
        styles.append(static.joinpath("leaflet.css").read_text(encoding="utf-8"))
        scripts.append(static.joinpath("leaflet.js").read_text(encoding="utf-8"))
        scripts.append(
            resources.files("tumen.report")
            .joinpath("templates/interactive.js")
            .read_text(encoding="utf-8")
        )
    for text in scripts:
        if "</script" in text.lower():
            raise ValueError("an inline script may not contain </script>")
    csp = ["default-src 'none'", "img-src data:" + (f" {TILE_ORIGIN}" if online_tiles else "")]
    csp.append("style-src " + " ".join(_csp_hash(t) for t in styles))
    csp.append("script-src " + (" ".join(_csp_hash(t) for t in scripts) if scripts else "'none'"))
    csp += ["base-uri 'none'", "form-action 'none'"]
    return {
        "styles": [Markup(t) for t in styles],
        "scripts": [Markup(t) for t in scripts],
        "csp": "; ".join(csp),
    }


#: where the zoomable map's background tiles come from when ``report.online_tiles`` is on
TILE_ORIGIN = "https://tile.openstreetmap.org"


def render_html(context: dict[str, Any]) -> str:
    """Render the report template with ``context`` (see :func:`build_context`)."""
    return _env().get_template("report.html.j2").render(**context)


def write_report(
    store: Backend,
    out_dir: str | Path,
    settings: Settings,
    *,
    vessels: Sequence[int] | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    """Write ``report.html`` (self-contained) and ``report.pdf`` into ``out_dir``.

    Parameters
    ----------
    store:
        A store with positions, statics, events and, when screened and ranked,
        ``matches`` and ``risk`` (ranked first if ``risk`` is empty).
    out_dir:
        Folder to write into (created).
    settings:
        ``settings.report`` (top_n, pdf, title, map resolution, …), ``settings.risk``,
        ``settings.ports``.
    vessels:
        MMSIs (9 digits) or IMO numbers (7 digits) to give a dossier.
    top:
        Also give a dossier to the N highest-scoring vessels (default
        ``report.top_n`` when no ``vessels`` are given).

    Returns
    -------
    dict
        ``{"html": path, "pdf": path or None, "vessels": [mmsi, …], "events": n}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = build_context(store, settings, vessels=vessels, top=top)
    html = render_html(context)
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if settings.report.pdf:
        from tumen.report.pdf import write_pdf

        n_pdf = settings.report.pdf_annex_max_events
        # paper has no zoomable map: no Leaflet, no scripts, no map data
        pdf_context = {
            **context,
            "assets": page_assets(False, False),
            "dossiers": [{**d, "interactive": None} for d in context["dossiers"]],
        }
        if len(context["all_events"]) > n_pdf:
            pdf_context.update(
                all_events=context["all_events"][:n_pdf],
                annex_truncated=context["annex_truncated"] + len(context["all_events"]) - n_pdf,
                annex_elsewhere="report.html",
            )
        pdf_html = render_html(pdf_context)
        pdf_path = write_pdf(pdf_html, out / "report.pdf")
    return {
        "html": str(html_path),
        "pdf": str(pdf_path) if pdf_path else None,
        "vessels": [d["mmsi"] for d in context["dossiers"]],
        "events": len(context["all_events"]),
    }
