"""The ownership graph: who owns, manages, operates or is linked to whom, and the path
from a vessel to a sanctioned party.

Nodes are list entities (vessels, companies, people) plus one node ``imo:NNNNNNN``
per IMO ship number, joined to every vessel entity that carries it, so a vessel
seen in AIS reaches the list entries and the ownership-CSV rows of its hull.
Edges come from the store's ``links`` table (OFAC ``Linked To:`` remarks, FtM
``Ownership`` / ``Directorship`` / ``UnknownLink`` entities, ownership CSV rows),
each with its role and the place it is stated.  A party that is not itself on a
list (a company from an ownership CSV) is joined by a ``same_as`` edge to the list
entries its name matches (score ≥ ``screen.threshold``), with the matching features.

Edges are followed **upwards**, from the party that states a link to the party it
names: asset → owner, vessel → manager/operator, organisation → director, OFAC entry
→ the entry it is ``Linked To`` — so a vessel reaches its owner and its owner's owner,
but not the other ships of its owner (which would make every hub, such as a national
tanker company with a hundred ships, a neighbour of all of them).  ``same_as`` and
``same_imo`` edges join two nodes for the same thing, cost no hop and are followed both
ways; every other edge costs one hop.  :meth:`OwnershipGraph.paths_to_sanctioned` returns, for
each sanctioned party (a list entry with a designation that is not a vessel or an
aircraft) within ``max_hops``, the shortest path with each edge's source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import networkx as nx

from tumen.screen.lists.base import clean_imo, imo_ship_valid
from tumen.store.backend import Backend

FREE_EDGES = ("same_imo", "same_as")
PARTY_SCHEMATA = {"Person", "Organization", "Company", "LegalEntity", "PublicBody"}


@dataclass
class PathResult:
    """The shortest path from a start node to one sanctioned party."""

    target: str
    hops: int
    edges: list[dict[str, Any]]
    score: float  # the weakest same_as matching score on the path (1.0 if none)

    @property
    def role(self) -> str:
        """The role of the first edge that costs a hop (owner, manager, operator, linked, ...)."""
        for e in self.edges:
            if e["role"] not in FREE_EDGES:
                return str(e["role"])
        return "linked"


class OwnershipGraph:
    """A directed multigraph of links between list entities (see the module docstring)."""

    def __init__(self) -> None:
        self.g: nx.MultiDiGraph = nx.MultiDiGraph()

    def _same(self, u: str, v: str, **attrs: Any) -> None:
        """A free edge both ways (the same vessel / the same party)."""
        self.g.add_edge(u, v, **attrs)
        self.g.add_edge(v, u, **attrs)

    @classmethod
    def from_store(
        cls, store: Backend, *, index: Any = None, threshold: float = 0.7, as_of: Any = None
    ) -> OwnershipGraph:
        """Build the graph from ``entities`` and ``links``.

        Parameters
        ----------
        index:
            A :class:`~tumen.screen.index.ScreenIndex`; when given, parties that are not
            on a list are matched by name to list entries (``same_as`` edges).
        threshold:
            Matching score for a ``same_as`` edge.
        as_of:
            A :class:`datetime.date`: the lists and their links as they stood that day
            (:mod:`tumen.screen.lists.history`); ``None``: the newest versions.
        """
        ents_src, links_src = "entities", "links"
        if as_of is not None:
            from tumen.screen.lists.history import entities_as_of_sql, links_as_of_sql

            ents_src = f"({entities_as_of_sql(as_of)}) entities"
            links_src = f"({links_as_of_sql(as_of)}) links"
        graph = cls()
        g = graph.g
        ents = store.query(
            f"SELECT entity_id, list_id, schema, caption, target, programs, entity FROM {ents_src} "
            "WHERE schema NOT IN ('Sanction', 'Ownership', 'Directorship', 'UnknownLink')"
        ).to_pylist()
        linked = {
            r["source_id"]
            for r in store.query(f"SELECT DISTINCT source_id FROM {links_src}").to_pylist()
        }
        linked |= {
            r["target_id"]
            for r in store.query(f"SELECT DISTINCT target_id FROM {links_src}").to_pylist()
        }
        for r in ents:
            eid = r["entity_id"]
            if not r["target"] and eid not in linked:
                continue
            props = json.loads(r["entity"]).get("properties", {})
            g.add_node(
                eid,
                caption=r["caption"],
                schema=r["schema"],
                target=bool(r["target"]),
                list_id=r["list_id"],
                programs=json.loads(r["programs"] or "[]"),
            )
            if r["schema"] == "Vessel":
                for raw in props.get("imoNumber", []):
                    imo = clean_imo(raw)
                    if imo and imo_ship_valid(imo):
                        g.add_node(
                            f"imo:{imo}",
                            caption=f"IMO {imo}",
                            schema=None,
                            target=False,
                            list_id=None,
                            programs=[],
                        )
                        graph._same(
                            f"imo:{imo}",
                            eid,
                            role="same_imo",
                            weight=0,
                            source={"list": r["list_id"], "ref": f"{eid} imoNumber {imo}"},
                        )
            if index is not None and not r["target"] and r["schema"] in PARTY_SCHEMATA:
                graph._resolve(eid, r["caption"], r["schema"], index, threshold)
        for r in store.query(
            f"SELECT source_id, target_id, role, link_id, source FROM {links_src}"
        ).to_pylist():
            for node in (r["source_id"], r["target_id"]):
                if node not in g:
                    g.add_node(
                        node, caption=node, schema=None, target=False, list_id=None, programs=[]
                    )
            g.add_edge(
                r["source_id"],
                r["target_id"],
                role=r["role"],
                weight=1,
                link_id=r["link_id"],
                source=json.loads(r["source"]),
            )
        return graph

    def _resolve(self, eid: str, caption: str, schema: str, index: Any, threshold: float) -> None:
        from tumen.screen.match import screen_query

        kind = "person" if schema == "Person" else "company"
        for m in screen_query(index, caption, type=kind, threshold=threshold, limit=3):
            if m.match:
                self.g.add_node(
                    m.entry.entity_id,
                    caption=m.entry.caption,
                    schema=m.entry.schema,
                    target=True,
                    list_id=m.entry.list_id,
                    programs=m.entry.programs,
                )
                self._same(
                    eid,
                    m.entry.entity_id,
                    role="same_as",
                    weight=0,
                    score=m.score,
                    source={"matching": round(m.score, 4), "features": m.explanation},
                )

    def paths_to_sanctioned(self, start: str, max_hops: int = 2) -> list[PathResult]:
        """Shortest paths from ``start`` (an entity id or ``imo:NNNNNNN``) to sanctioned parties.

        Returns one :class:`PathResult` per sanctioned party within ``max_hops`` hops,
        nearest first; the start node itself is never a result.
        """
        g = self.g
        if start not in g:
            return []
        dist, paths = nx.single_source_dijkstra(g, start, cutoff=max_hops, weight=_weight)
        out: list[PathResult] = []
        for node, d in dist.items():
            data = g.nodes[node]
            if node == start or not data.get("target") or data.get("schema") not in PARTY_SCHEMATA:
                continue
            nodes = paths[node]
            edges = []
            score = 1.0
            for u, v in zip(nodes, nodes[1:], strict=False):
                attrs = min(g.get_edge_data(u, v).values(), key=lambda a: a["weight"])
                edges.append(
                    {
                        "from": u,
                        "from_caption": g.nodes[u].get("caption"),
                        "to": v,
                        "to_caption": g.nodes[v].get("caption"),
                        "role": attrs["role"],
                        "source": attrs.get("source"),
                    }
                )
                if attrs["role"] == "same_as":
                    score = min(score, float(attrs.get("score", 1.0)))
            if not any(e["role"] not in FREE_EDGES for e in edges):
                continue  # the same entity under another id, not a linked party
            out.append(PathResult(node, int(d), edges, score))
        out.sort(key=lambda p: (p.hops, -p.score, p.target))
        return out


def _weight(u: Any, v: Any, data: dict[Any, dict[str, Any]]) -> float:
    return float(min(a["weight"] for a in data.values()))
