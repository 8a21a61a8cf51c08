"""Sanctions screening of the vessels seen in AIS, their owners and managers.

Entry points (see CONTRACTS.md):

* :func:`tumen.screen.lists.load_lists` — load UN / OFAC / FollowTheMoney / CSV lists;
* :func:`screen_store` — screen every vessel identity in ``statics`` and write ``matches``;
* :func:`tumen.screen.match.screen_query` — screen one name (and identifiers);
* :func:`demo_list_path` — the bundled demo list (FtM JSON lines).

Data flow: ``statics`` (+ ``entities``/``links`` of the loaded lists) → ``matches``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from tumen.config import Settings
from tumen.errors import StoreError
from tumen.provenance import tumen_version, utc_now
from tumen.screen.index import ScreenIndex
from tumen.screen.lists.base import imo_ship_valid
from tumen.screen.match import Match, get_index, screen_many, screen_query
from tumen.screen.ownership import OwnershipGraph
from tumen.store.backend import Backend

DEMO_LIST = "tumen_demo.ftm.json"

#: Vessel identities of the store: distinct (mmsi, imo, name, callsign, flag) of ``statics``.
#: A type 24 part B (call sign, no name) or a type 5 without IMO borrows the value its
#: MMSI reports everywhere else when there is exactly one; identities left without a
#: name that repeat a named identity of the same MMSI are dropped.
IDENTITIES_SQL = """
WITH s AS (
    SELECT mmsi,
           CASE WHEN imo > 0 THEN imo END AS imo,
           NULLIF(trim(name), '') AS name,
           NULLIF(upper(trim(callsign)), '') AS callsign,
           NULLIF(lower(trim(flag)), '') AS flag,
           static_id
    FROM statics
),
per_mmsi AS (
    SELECT mmsi,
           CASE WHEN count(DISTINCT imo) = 1 THEN max(imo) END AS imo1,
           CASE WHEN count(DISTINCT callsign) = 1 THEN max(callsign) END AS cs1,
           CASE WHEN count(DISTINCT flag) = 1 THEN max(flag) END AS flag1
    FROM s GROUP BY mmsi
),
ids AS (
    SELECT s.mmsi, coalesce(s.imo, p.imo1) AS imo, s.name, coalesce(s.callsign, p.cs1) AS callsign,
           coalesce(s.flag, p.flag1) AS flag, list(s.static_id ORDER BY s.static_id) AS static_ids
    FROM s JOIN per_mmsi p USING (mmsi)
    GROUP BY ALL
)
SELECT a.mmsi, a.imo, a.name, a.callsign, a.flag, a.static_ids[1:20] AS static_ids, len(a.static_ids) AS n_statics
FROM ids a
WHERE a.name IS NOT NULL
   OR NOT EXISTS (SELECT 1 FROM ids b WHERE b.mmsi = a.mmsi AND b.name IS NOT NULL
                  AND b.imo IS NOT DISTINCT FROM a.imo AND b.callsign IS NOT DISTINCT FROM a.callsign)
ORDER BY a.mmsi, a.name NULLS LAST, a.imo
"""

MATCH_COLUMNS = (
    "mmsi",
    "imo",
    "name",
    "callsign",
    "flag",
    "role",
    "entity_id",
    "list_id",
    "caption",
    "schema",
    "score",
    "match",
    "features",
    "datasets",
    "programs",
    "designation",
    "path",
    "static_ids",
    "params",
    "tumen_version",
    "screened_at",
)


@dataclass
class ScreenReport:
    """What :func:`screen_store` did.

    ``identities`` vessel identities screened; ``candidates`` rows written to
    ``matches``; ``matches`` rows over the threshold, of which ``vessel_matches``
    are the vessel itself and ``party_matches`` owners/managers/linked parties;
    ``vessels_matched`` distinct MMSIs with any match; ``lists`` the loaded lists used.
    """

    identities: int = 0
    candidates: int = 0
    matches: int = 0
    vessel_matches: int = 0
    party_matches: int = 0
    vessels_matched: int = 0
    seconds: float = 0.0
    lists: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    as_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "identities": self.identities,
            "candidates": self.candidates,
            "matches": self.matches,
            "vessel_matches": self.vessel_matches,
            "party_matches": self.party_matches,
            "vessels_matched": self.vessels_matched,
            "seconds": round(self.seconds, 3),
            "lists": self.lists,
            "params": self.params,
        }


def demo_list_path() -> Path:
    """The bundled demo list: the vessels and companies of CONTRACTS.md as FtM JSON lines."""
    return Path(str(resources.files("tumen.screen").joinpath(f"data/{DEMO_LIST}")))


def demo_index() -> ScreenIndex:
    """A :class:`ScreenIndex` of the bundled demo list (no store needed)."""
    from tumen.screen.lists.ftm import parse

    parsed = parse(demo_list_path())
    targets = [e.to_dict() for e in parsed.entities if "sanction" in e.get("topics", quiet=True)]
    return ScreenIndex.from_entities(targets, list_id=parsed.list_id)


def _vessel_row(ident: dict[str, Any], m: Match, params: str, now: Any) -> dict[str, Any]:
    e = m.entry
    return {
        "mmsi": ident["mmsi"],
        "imo": ident["imo"],
        "name": ident["name"],
        "callsign": ident["callsign"],
        "flag": ident["flag"],
        "role": "vessel",
        "entity_id": e.entity_id,
        "list_id": e.list_id,
        "caption": e.caption,
        "schema": e.schema,
        "score": round(m.score, 4),
        "match": m.match,
        "features": json.dumps(m.features, ensure_ascii=False),
        "datasets": json.dumps(e.datasets),
        "programs": json.dumps(e.programs),
        "designation": json.dumps(e.designations, ensure_ascii=False),
        "path": None,
        "static_ids": json.dumps(ident["static_ids"]),
        "params": params,
        "tumen_version": tumen_version(),
        "screened_at": now,
    }


def screen_store(
    store: Backend,
    settings: Settings,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    as_of: date | None = None,
) -> ScreenReport:
    """Screen every vessel identity of ``statics`` and its owners/managers; write ``matches``.

    For each identity (distinct MMSI, IMO, name, call sign, flag; see
    :data:`IDENTITIES_SQL`) the vessel is screened against the listed vessels
    (role ``vessel``); then the ownership graph is searched from its IMO number and
    from the listed vessels it matches, and every sanctioned party within
    ``screen.max_hops`` hops is written with its path (role = the first edge's role:
    ``owner``, ``manager``, ``operator``, ``director``, ``linked``).  Candidates
    scoring below ``screen.min_score`` are not written.  ``matches`` is replaced.
    With ``as_of`` (a date, UTC) the lists are read as they stood that day
    (:mod:`tumen.screen.lists.history`); the report says so in ``as_of``.

    Raises
    ------
    StoreError
        When no list is loaded (run ``tumen lists load`` first).
    """
    t0 = time.perf_counter()
    cfg = settings.screen
    if not store.query("SELECT count(*) AS n FROM lists").column("n")[0].as_py():
        raise StoreError(
            "no sanctions list is loaded; run `tumen lists load PATH` (or the demo list) first"
        )
    if as_of is not None:
        from tumen.screen.lists.history import ensure_history

        ensure_history(store)
    index = get_index(store, as_of=as_of)
    graph = OwnershipGraph.from_store(store, index=index, threshold=cfg.threshold, as_of=as_of)
    params = json.dumps(
        cfg.model_dump(mode="json") | ({"as_of": as_of.isoformat()} if as_of else {}),
        sort_keys=True,
    )
    identities = store.query(IDENTITIES_SQL).to_pylist()
    now = utc_now()
    rows: list[dict[str, Any]] = []
    report = ScreenReport(
        identities=len(identities),
        params=cfg.model_dump(mode="json"),
        lists=[
            r["list_id"] for r in store.query("SELECT list_id FROM lists ORDER BY 1").to_pylist()
        ],
        as_of=as_of.isoformat() if as_of else None,
    )
    matched_mmsi: set[int] = set()
    queries = [
        {
            "name": i["name"],
            "type": "vessel",
            "imo": str(i["imo"]) if i["imo"] else None,
            "mmsi": i["mmsi"],
            "callsign": i["callsign"],
            "flag": i["flag"],
        }
        for i in identities
    ]
    results = screen_many(
        index,
        queries,
        threshold=cfg.threshold,
        limit=cfg.max_candidates,
        min_score=cfg.min_score,
        workers=cfg.workers,
    )
    for i, (ident, found) in enumerate(zip(identities, results, strict=True)):
        imo = str(ident["imo"]) if ident["imo"] else None
        starts: dict[str, float] = {}
        if imo and imo_ship_valid(imo):
            starts[f"imo:{imo}"] = 1.0
        for m in found:
            rows.append(_vessel_row(ident, m, params, now))
            if m.match:
                starts.setdefault(m.entry.entity_id, m.score)
        seen: set[str] = set()
        for start, start_score in starts.items():
            for p in graph.paths_to_sanctioned(start, cfg.max_hops):
                if p.target in seen:
                    continue
                seen.add(p.target)
                node = graph.g.nodes[p.target]
                entry = index.entries[index.by_id[p.target]] if p.target in index.by_id else None
                score = round(min(start_score, p.score), 4)
                features = {
                    "ownership_path": {
                        "score": score,
                        "weight": 1.0,
                        "hops": p.hops,
                        "detail": f"ownership_path {p.hops} hop(s): "
                        + " → ".join(
                            [str(p.edges[0]["from_caption"])]
                            + [f"[{e['role']}] {e['to_caption']}" for e in p.edges]
                        ),
                    }
                }
                if start_score < 1.0 or not start.startswith("imo:"):
                    features["vessel_match"] = {
                        "score": start_score,
                        "weight": 1.0,
                        "detail": f"vessel_match {start_score:.2f} {start}",
                    }
                rows.append(
                    {
                        "mmsi": ident["mmsi"],
                        "imo": ident["imo"],
                        "name": ident["name"],
                        "callsign": ident["callsign"],
                        "flag": ident["flag"],
                        "role": p.role,
                        "entity_id": p.target,
                        "list_id": node.get("list_id"),
                        "caption": node.get("caption"),
                        "schema": node.get("schema"),
                        "score": score,
                        "match": score >= cfg.threshold,
                        "features": json.dumps(features, ensure_ascii=False),
                        "datasets": json.dumps(entry.datasets if entry else [node.get("list_id")]),
                        "programs": json.dumps(node.get("programs") or []),
                        "designation": json.dumps(
                            entry.designations if entry else [], ensure_ascii=False
                        ),
                        "path": json.dumps(p.edges, ensure_ascii=False, default=str),
                        "static_ids": json.dumps(ident["static_ids"]),
                        "params": params,
                        "tumen_version": tumen_version(),
                        "screened_at": now,
                    }
                )
        if on_progress is not None:
            on_progress(i + 1, len(identities))
    for r in rows:
        if r["match"]:
            report.matches += 1
            matched_mmsi.add(r["mmsi"])
            if r["role"] == "vessel":
                report.vessel_matches += 1
            else:
                report.party_matches += 1
    report.candidates = len(rows)
    report.vessels_matched = len(matched_mmsi)
    table = (
        pa.Table.from_pylist(rows, schema=_MATCH_SCHEMA) if rows else _MATCH_SCHEMA.empty_table()
    )
    store.replace("matches", table)
    report.seconds = time.perf_counter() - t0
    return report


_MATCH_SCHEMA = pa.schema(
    [
        ("mmsi", pa.int64()),
        ("imo", pa.int64()),
        ("name", pa.string()),
        ("callsign", pa.string()),
        ("flag", pa.string()),
        ("role", pa.string()),
        ("entity_id", pa.string()),
        ("list_id", pa.string()),
        ("caption", pa.string()),
        ("schema", pa.string()),
        ("score", pa.float64()),
        ("match", pa.bool_()),
        ("features", pa.string()),
        ("datasets", pa.string()),
        ("programs", pa.string()),
        ("designation", pa.string()),
        ("path", pa.string()),
        ("static_ids", pa.string()),
        ("params", pa.string()),
        ("tumen_version", pa.string()),
        ("screened_at", pa.timestamp("us")),
    ]
)

__all__ = ["ScreenReport", "demo_index", "demo_list_path", "screen_query", "screen_store"]
