"""The watchlist: a TOML (or YAML) file of ``[[rules]]``, and the test of one event against a rule.

A rule fires when *all* the conditions it gives hold (an absent key is no condition)::

    [[rules]]
    name = "listed vessel meets another at sea"   # required, unique: part of every alert id
    event = "encounter"          # an event type of the events contract, or "*" (default "*")
    subtype = "identity_change"  # identity subtypes (CONTRACTS.md)
    listed = true                # the vessel or its partner matches a loaded sanctions list
    mmsi = [445123000]           # the vessel or its partner has one of these MMSIs
    imo = [9307839]              # ... broadcast one of these IMO numbers
    vessel_name = ["ANGARA"]     # ... broadcast one of these names (case and spaces ignored)
    ports = ["Rajin", "Dunai"]   # the event involves one of these watched ports (see below)
    area = "corridor.geojson"    # the event lies in this GeoJSON polygon (path relative to the file)
    on = "enter"                 # instead: alert when a vessel enters / leaves ("both") the area,
                                 # or, without area, the watched ports of ``ports`` (tumen.watch.areas)
    min_score = 20.0             # the vessel's (or partner's) risk score, points (tumen.risk)
    cooldown_h = 24.0            # after an alert, no new one of this rule for the vessel for 24 h

*Involving a port*: the event's ``port``, ``from_port`` or ``to_port``, a gap's ``start_port`` /
``end_port`` or one of its ``dark_port_candidates``.  *In the area*: the event's position, or
either end of a gap.  Port names compare case-insensitively.

*Crossing rules* (``on`` given) alert on area crossings (:mod:`tumen.watch.areas`), not on the
detectors' events: they take ``area`` or ``ports`` (the area watched), and may add the vessel
conditions ``listed``, ``mmsi``, ``imo``, ``vessel_name``, ``min_score``, ``cooldown_h``; an
``event`` other than ``"*"`` or a ``subtype`` is an error.

Errors name the file and the key: ``rules.toml: rules[2] ("dark near Rajin"): key 'event':
"gapp" is not an event type; use one of ...``.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tumen.detect.events import EVENT_TYPES, IDENTITY_SUBTYPES
from tumen.errors import InputError

#: Values of ``on``: which crossings of its area a rule alerts on.
CROSSINGS = ("enter", "leave", "both")

#: Keys a rule may carry (``name`` required).
RULE_KEYS = (
    "name",
    "event",
    "subtype",
    "listed",
    "mmsi",
    "imo",
    "vessel_name",
    "ports",
    "area",
    "on",
    "min_score",
    "cooldown_h",
)


def normalise_name(name: str | None) -> str:
    """Upper case, runs of spaces and punctuation as one space (``"Kum Un-San 3"`` → ``"KUM UN SAN 3"``)."""
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", (name or "").upper()).split())


@dataclass(frozen=True)
class Rule:
    """One rule of the watchlist (see the module docstring for the meaning of each field)."""

    name: str
    event: str = "*"
    subtype: str | None = None
    listed: bool | None = None
    mmsi: frozenset[int] = frozenset()
    imo: frozenset[int] = frozenset()
    vessel_name: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    area: Any = None  # a shapely (Multi)Polygon, prepared
    area_path: str | None = None
    min_score: float | None = None
    cooldown_h: float | None = None
    on: str | None = None  # "enter" | "leave" | "both": a crossing rule

    def to_json(self) -> dict[str, Any]:
        """The rule as given (for the alert's provenance and ``--json``)."""
        out: dict[str, Any] = {"name": self.name, "event": self.event}
        if self.subtype is not None:
            out["subtype"] = self.subtype
        if self.listed is not None:
            out["listed"] = self.listed
        for key in ("mmsi", "imo", "vessel_name", "ports"):
            values = getattr(self, key)
            if values:
                out[key] = sorted(values)
        if self.area_path is not None:
            out["area"] = self.area_path
        if self.on is not None:
            out["on"] = self.on
        if self.min_score is not None:
            out["min_score"] = self.min_score
        if self.cooldown_h is not None:
            out["cooldown_h"] = self.cooldown_h
        return out


def _err(path: Path, where: str, key: str | None, msg: str) -> InputError:
    at = f"{where}: key '{key}': " if key else f"{where}: "
    return InputError(at + msg, path)


def _ints(path: Path, where: str, key: str, value: Any) -> frozenset[int]:
    items = value if isinstance(value, list) else [value]
    out = set()
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | str) or not str(v).strip().isdigit():
            raise _err(
                path,
                where,
                key,
                f"{v!r} is not a number; give a list of integers, e.g. [273111110]",
            )
        out.add(int(v))
    return frozenset(out)


def _strings(path: Path, where: str, key: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise _err(path, where, key, 'give a list of non-empty strings, e.g. ["Rajin"]')
    return [v.strip() for v in items]


def _number(path: Path, where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _err(path, where, key, f"{value!r} is not a non-negative number")
    return float(value)


def load_area(path: Path, rules_file: Path, where: str) -> Any:
    """A GeoJSON Polygon / MultiPolygon (geometry, Feature or FeatureCollection) as one prepared shapely geometry."""
    from shapely import prepare
    from shapely.geometry import shape
    from shapely.ops import unary_union

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _err(
            rules_file, where, "area", f"{path}: cannot be read ({exc.strerror or exc})"
        ) from None
    except json.JSONDecodeError as exc:
        raise _err(
            rules_file, where, "area", f"{path}: not JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in doc.get("features") or []]
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        geoms = [doc.get("geometry")]
    else:
        geoms = [doc]
    shapes = []
    for g in geoms:
        if not isinstance(g, dict) or g.get("type") not in ("Polygon", "MultiPolygon"):
            raise _err(
                rules_file,
                where,
                "area",
                f"{path}: give GeoJSON Polygon or MultiPolygon geometries (lon, lat)",
            )
        try:
            shapes.append(shape(g))
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise _err(rules_file, where, "area", f"{path}: invalid polygon ({exc})") from None
    geom = unary_union(shapes)
    prepare(geom)
    return geom


def parse_rules(doc: Any, path: Path) -> list[Rule]:
    """Validate a parsed rules document (``{"rules": [...]}``) and build the rules."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise InputError("give at least one [[rules]] table with a name", path)
    extra = set(doc) - {"rules"}
    if extra:
        raise InputError(
            f"key '{sorted(extra)[0]}': unknown top-level key; only [[rules]] tables", path
        )
    rules: list[Rule] = []
    names: set[str] = set()
    for i, raw in enumerate(doc["rules"]):
        where = f"rules[{i + 1}]"
        if not isinstance(raw, dict):
            raise _err(path, where, None, "each rule is a table ([[rules]])")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _err(path, where, "name", "required: a non-empty string naming the rule")
        where = f'{where} ("{name}")'
        if name in names:
            raise _err(path, where, "name", "two rules have this name; names must be unique")
        names.add(name)
        unknown = [k for k in raw if k not in RULE_KEYS]
        if unknown:
            raise _err(path, where, unknown[0], f"unknown key; use {', '.join(RULE_KEYS)}")
        kw: dict[str, Any] = {"name": name}
        if "event" in raw:
            ev = raw["event"]
            if ev != "*" and ev not in EVENT_TYPES:
                raise _err(
                    path,
                    where,
                    "event",
                    f'"{ev}" is not an event type; use "*" or one of {", ".join(EVENT_TYPES)}',
                )
            kw["event"] = ev
        if "subtype" in raw:
            sub = raw["subtype"]
            if sub not in IDENTITY_SUBTYPES:
                raise _err(
                    path,
                    where,
                    "subtype",
                    f'"{sub}" is not a subtype; use one of {", ".join(IDENTITY_SUBTYPES)}',
                )
            if kw.get("event", "*") not in ("*", "identity"):
                raise _err(path, where, "subtype", 'subtypes belong to event = "identity"')
            kw["subtype"] = sub
        if "listed" in raw:
            if not isinstance(raw["listed"], bool):
                raise _err(path, where, "listed", "give true or false")
            kw["listed"] = raw["listed"]
        for key in ("mmsi", "imo"):
            if key in raw:
                kw[key] = _ints(path, where, key, raw[key])
        if "vessel_name" in raw:
            kw["vessel_name"] = frozenset(
                normalise_name(v) for v in _strings(path, where, "vessel_name", raw["vessel_name"])
            )
        if "ports" in raw:
            kw["ports"] = frozenset(v.lower() for v in _strings(path, where, "ports", raw["ports"]))
        if "area" in raw:
            if not isinstance(raw["area"], str) or not raw["area"].strip():
                raise _err(path, where, "area", "give the path of a GeoJSON polygon file")
            area_path = (path.parent / raw["area"]).resolve()
            kw["area"] = load_area(area_path, path, where)
            kw["area_path"] = raw["area"]
        for key in ("min_score", "cooldown_h"):
            if key in raw:
                kw[key] = _number(path, where, key, raw[key])
        if "on" in raw:
            if raw["on"] not in CROSSINGS:
                raise _err(path, where, "on", f"{raw['on']!r}: use one of {', '.join(CROSSINGS)}")
            if "area" not in raw and "ports" not in raw:
                raise _err(
                    path, where, "on", "give the area watched: area (a GeoJSON file) or ports"
                )
            if "area" in raw and "ports" in raw:
                raise _err(path, where, "on", "give area or ports, not both")
            if kw.get("event", "*") != "*" or "subtype" in raw:
                raise _err(
                    path, where, "on", "a crossing rule alerts on crossings: drop event/subtype"
                )
            kw["on"] = raw["on"]
        rules.append(Rule(**kw))
    return rules


def load_rules(path: str | Path) -> list[Rule]:
    """Read and validate a rules file (``.toml``; ``.yaml``/``.yml`` when PyYAML is installed).

    Raises
    ------
    InputError
        One line naming the file, the rule and the key at fault.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc}); check the path", p) from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InputError(
                "YAML rules need PyYAML (pip install pyyaml); or write TOML", p
            ) from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML ({str(exc).splitlines()[0]})", p) from None
    else:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not valid TOML ({exc})", p) from None
    return parse_rules(doc, p)


@dataclass
class Facts:
    """What the rules test about the vessels of one event (filled by :mod:`tumen.watch.alerts`)."""

    listed: set[int]
    imos: dict[int, set[int]]
    names: dict[int, set[str]]
    scores: dict[int, float] | None  # None: not computed (no rule asks)


def event_ports(event: dict[str, Any]) -> set[str]:
    """Lower-case names of the watched ports an event involves."""
    out = {str(event[k]).lower() for k in ("port", "from_port", "to_port") if event.get(k)}
    ev = event.get("evidence") or {}
    for k in ("start_port", "end_port"):
        if ev.get(k):
            out.add(str(ev[k]).lower())
    for c in ev.get("dark_port_candidates") or []:
        if isinstance(c, dict) and c.get("port"):
            out.add(str(c["port"]).lower())
    return out


def event_points(event: dict[str, Any]) -> list[tuple[float, float]]:
    """(lon, lat) points of an event: its position and, for gaps, both ends."""
    pts = []
    if event.get("lat") is not None and event.get("lon") is not None:
        pts.append((float(event["lon"]), float(event["lat"])))
    ev = event.get("evidence") or {}
    for a, b in (("start_lon", "start_lat"), ("end_lon", "end_lat")):
        if ev.get(a) is not None and ev.get(b) is not None:
            pts.append((float(ev[a]), float(ev[b])))
    return pts


def matches(rule: Rule, event: dict[str, Any], facts: Facts) -> bool:
    """Whether every condition of ``rule`` holds for ``event`` (a contract event object).

    A crossing rule (``on``) matches only the crossings of its own area (``type = "area"``, found
    by :func:`tumen.watch.areas.crossings` for it), on its vessel conditions; other rules never
    match a crossing.
    """
    if (rule.on is not None) != (event["type"] == "area"):
        return False
    if rule.on is None:
        if not _event_conditions(rule, event):
            return False
    elif rule.on not in ("both", event.get("subtype")):
        return False
    return _vessel_conditions(rule, event, facts)


def _event_conditions(rule: Rule, event: dict[str, Any]) -> bool:
    if rule.event != "*" and event["type"] != rule.event:
        return False
    if rule.subtype is not None and event.get("subtype") != rule.subtype:
        return False
    if rule.ports and not rule.ports & event_ports(event):
        return False
    if rule.area is not None:
        from shapely.geometry import Point

        if not any(rule.area.covers(Point(x, y)) for x, y in event_points(event)):
            return False
    return True


def _vessel_conditions(rule: Rule, event: dict[str, Any], facts: Facts) -> bool:
    vessels = [m for m in (event.get("mmsi"), event.get("other_mmsi")) if m is not None]
    if rule.listed is not None and any(m in facts.listed for m in vessels) != rule.listed:
        return False
    if rule.mmsi and not rule.mmsi.intersection(vessels):
        return False
    if rule.imo and not any(rule.imo & facts.imos.get(m, set()) for m in vessels):
        return False
    if rule.vessel_name and not any(rule.vessel_name & facts.names.get(m, set()) for m in vessels):
        return False
    if rule.min_score is not None:
        scores = facts.scores or {}
        if max((scores.get(m, 0.0) for m in vessels), default=0.0) < rule.min_score:
            return False
    return True
