"""FollowTheMoney entity files (OpenSanctions ``entities.ftm.json`` exports, the demo list).

One JSON object per line: ``{"id", "schema", "properties": {prop: [values]}, ...}``
plus, in OpenSanctions exports, ``caption``, ``datasets``, ``referents``,
``first_seen``, ``last_seen``, ``last_change`` and ``target``
(https://www.opensanctions.org/docs/bulk/json/).  ``first_seen`` is kept as the
entity's first-listed date (:mod:`tumen.screen.lists.history`).

Sanctioned parties are those a ``Sanction`` entity points at (``entity``), or
marked ``"target": true``, or carrying the topic ``sanction``.  Links come from
``Ownership`` (asset → owner), ``Directorship`` (organization → director),
``UnknownLink`` (subject → object) and the ``owner`` / ``operator`` properties of
vessels.  The list identity is the file name without extensions and dates
(``tumen_demo.ftm.json`` → ``tumen_demo``); the list date is the latest
``last_seen`` of its entities (the day of the export's crawl: it moves forward
with every export, also one that only removes entities), else their latest
``last_change``, else a date in the file name, else the file's modification date.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.proxy import EntityProxy

from tumen.errors import ListError
from tumen.screen.lists.base import (
    Link,
    ParsedList,
    date_from_filename,
    date_from_mtime,
    decode_text,
    list_stem,
    read_bytes,
    sha256_bytes,
)

LINK_SCHEMATA = {
    "Ownership": ("asset", "owner", "owner"),
    "Directorship": ("organization", "director", "director"),
    "UnknownLink": ("subject", "object", "linked"),
}


def parse(path: Path, list_id: str | None = None) -> ParsedList:
    """Read a FollowTheMoney JSON-lines file.

    Raises
    ------
    ListError
        On a line that is not JSON, an entity without ``id`` or with an unknown
        schema (naming the line), or an empty file.
    """
    raw = read_bytes(path)
    text = decode_text(raw, path, ("utf-8-sig",))
    entities: list[EntityProxy] = []
    extra: dict[str, dict[str, Any]] = {}
    last_dates: dict[str, list[str]] = {"last_seen": [], "last_change": []}
    datasets: Counter[str] = Counter()
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ListError(
                f"not a JSON object ({exc.msg}); the file is truncated or not FtM JSON lines",
                path,
                line_no,
            ) from None
        if not isinstance(data, dict) or not data.get("id") or not data.get("schema"):
            raise ListError("an FtM entity needs 'id' and 'schema'", path, line_no)
        if model.get(data["schema"]) is None:
            raise ListError(f"unknown FtM schema {data['schema']!r}", path, line_no)
        try:
            proxy = model.get_proxy(
                {
                    "id": data["id"],
                    "schema": data["schema"],
                    "properties": data.get("properties", {}),
                },
                cleaned=False,
            )
        except (InvalidData, TypeError, AttributeError) as exc:
            raise ListError(f"entity {data['id']!r} is invalid ({exc})", path, line_no) from None
        entities.append(proxy)
        extra[str(proxy.id)] = {
            "datasets": data.get("datasets") or [],
            "target": data.get("target"),
            "line": line_no,
            "first_seen": data.get("first_seen"),
        }
        datasets.update(data.get("datasets") or [])
        for key, found in last_dates.items():
            if data.get(key):
                found.append(str(data[key])[:10])
    if not entities:
        raise ListError("no entities in the file; not a FollowTheMoney JSON-lines list", path)
    lid = list_id or list_stem(path)
    sanctioned = {str(v) for e in entities if e.schema.name == "Sanction" for v in e.get("entity")}
    links: list[Link] = []
    counts: Counter[str] = Counter()
    for e in entities:
        counts[e.schema.name] += 1
        if e.id in sanctioned or extra[str(e.id)].get("target") is True:
            e.add("topics", "sanction")
        if e.schema.name in LINK_SCHEMATA:
            src_prop, dst_prop, default_role = LINK_SCHEMATA[e.schema.name]
            role = (e.first("role") or default_role).strip()
            statement = e.first("description", quiet=True) or e.first("summary", quiet=True)
            for sid in e.get(src_prop):
                for tid in e.get(dst_prop):
                    text = statement or f"{e.schema.name} {role!r}: {tid} → {sid}"
                    ref = f"line {extra[str(e.id)]['line']} ({e.id})"
                    links.append(Link(sid, tid, _role(role, default_role), e.id, ref, text))
        if e.schema.is_a("Vessel"):
            for prop in ("owner", "operator"):
                for tid in e.get(prop):
                    links.append(
                        Link(str(e.id), tid, prop, None, f"entity {e.id}", f"Vessel.{prop} = {tid}")
                    )
    seen = [d for d in last_dates["last_seen"] if len(d) == 10]
    dates = seen or [d for d in last_dates["last_change"] if len(d) == 10]
    list_date = (
        date.fromisoformat(max(dates))
        if dates
        else (date_from_filename(path) or date_from_mtime(path))
    )
    sha = sha256_bytes(path.read_bytes())
    out = ParsedList(
        list_id=lid,
        title=f"FollowTheMoney entities: {path.name}",
        format="ftm",
        path=path,
        sha256=sha,
        list_date=list_date,
        entities=entities,
        links=links,
        files=[{"path": str(path), "sha256": sha, "role": "ftm", "rows": len(entities)}],
        counts=dict(counts),
    )
    out.counts["datasets"] = dict(datasets)
    out.counts["_first_seen_by_entity"] = {
        k: str(v["first_seen"])[:10] for k, v in extra.items() if v.get("first_seen")
    }
    out.counts["_datasets_by_entity"] = {
        k: v["datasets"] for k, v in extra.items() if v["datasets"]
    }
    return out


def _role(text: str, default: str) -> str:
    """Normalise a role text to owner / manager / operator / director / linked."""
    low = text.lower()
    if "manag" in low:
        return "manager"
    if "operat" in low:
        return "operator"
    if "owner" in low or "sharehold" in low or "parent" in low:
        return "owner"
    if "director" in low or "chair" in low or "ceo" in low or "president" in low:
        return "director"
    return default
