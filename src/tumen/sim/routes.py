"""Sea routes that stay at sea, planned on the land mask.

Why not ``searoute``: its maritime network is coarse in the Sea of Japan (Rajin →
Dunai comes back as two vertices snapped 40 km away from both ports), so routes
here are planned on the 1 km land mask of :mod:`tumen.sim.geo` instead:

1. a *roadmap* of open-water nodes every ``node_step_deg`` degrees (a node is kept
   when the ``clearance_cells`` mask cells around it are all sea), joined to their
   16 neighbours (king and knight moves) when the straight segment between them is
   at sea at every ``sample_km``;
2. a *terminal* (a berth, an anchorage, a fishing ground, a meeting point) is joined
   to the roadmap by a straight clear segment when one exists, else by a shortest
   path on the 1 km grid around it (harbours in narrow bays);
3. a route is the shortest roadmap path between two terminals (Dijkstra, SciPy),
   pulled taut: each vertex is joined to the farthest later vertex it can see.

Watched ports are *no-go circles* (their radius plus ``port_margin_km``) for every
route that does not start or end in them, so through-traffic never makes a port
visit the truth does not expect.  A test checks every route at sea at 250 m spacing.

Units: degrees (WGS84), kilometres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from tumen.sim.geo import REGION, LandMask, haversine_km, land_mask, segment_samples

_OFFSETS = ((0, 1), (1, -2), (1, -1), (1, 0), (1, 1), (1, 2), (2, -1), (2, 1))


@dataclass(frozen=True)
class Circle:
    """A watched port seen by the router (degrees, km).

    Routes that do not call at the port keep out of ``radius_km + margin_km``; routes
    that do may cross mask-land cells within ``radius_km`` (harbours are narrower
    than the 1 km mask can show).
    """

    lat: float
    lon: float
    radius_km: float
    margin_km: float = 1.5


@dataclass
class Terminal:
    """A point routes start or end at, with its links to the roadmap.

    ``links`` holds ``(node, polyline from the point to the node (n×2 lat/lon), km)``.
    ``allow`` names the no-go circles (indices) this terminal may lie in.
    """

    lat: float
    lon: float
    allow: frozenset[int]
    links: list[tuple[int, NDArray[np.float64], float]] | None = None


class RouteError(RuntimeError):
    """No sea route exists between two points (one of them is land-locked)."""


class SeaRouter:
    """Plan routes at sea between any two sea points of :data:`tumen.sim.geo.REGION`.

    Parameters
    ----------
    circles:
        No-go circles (watched ports), indexed by position.
    node_step_deg:
        Roadmap spacing (degrees of latitude and longitude).
    clearance_cells:
        A roadmap node needs this many 1/120° cells of sea all around it.
    sample_km:
        Spacing at which segments are checked against the mask (km).
    """

    def __init__(
        self,
        circles: Sequence[Circle],
        *,
        mask: LandMask | None = None,
        node_step_deg: float = 0.1,
        clearance_cells: int = 2,
        sample_km: float = 0.25,
    ) -> None:
        self.mask = mask or land_mask()
        self.circles = list(circles)
        self.sample_km = sample_km
        self._c_lat = np.array([c.lat for c in self.circles], dtype=float)
        self._c_lon = np.array([c.lon for c in self.circles], dtype=float)
        self._c_r = np.array([c.radius_km for c in self.circles], dtype=float)
        self._c_m = np.array([c.margin_km for c in self.circles], dtype=float)
        self._rasterise_circles()
        self._build_roadmap(node_step_deg, clearance_cells)
        self._rows: dict[int, tuple[NDArray[np.float64], NDArray[np.int32]]] = {}
        self._routes: dict[tuple[float, float, float, float], NDArray[np.float64]] = {}

    # ------------------------------------------------------------------ checks
    def _rasterise_circles(self) -> None:
        """Per mask cell: the no-go circle it touches and the harbour it lies in (−1: none).

        A cell is *no-go* for port k when its centre is within ``radius + margin + 0.6``
        km (so every point of it is outside ``radius + margin − 0.05``), and *harbour*
        of port k when its centre is within ``radius − 0.6`` km (so all of it is within
        the radius).
        """
        shape = self.mask.sea.shape
        self._nogo = np.full(shape, -1, dtype=np.int16)
        self._harbour = np.full(shape, -1, dtype=np.int16)
        for k, circle in enumerate(self.circles):
            r, c = (int(v) for v in self.mask.index(circle.lat, circle.lon))
            w = int((circle.radius_km + circle.margin_km + 1.0) / 0.6) + 2
            rs = np.arange(
                max(0, r - self.mask.row0 - w), min(shape[0], r - self.mask.row0 + w + 1)
            )
            cs = np.arange(
                max(0, c - self.mask.col0 - w), min(shape[1], c - self.mask.col0 + w + 1)
            )
            rr, cc = np.meshgrid(rs, cs, indexing="ij")
            clat, clon = self.mask.cell_center(rr, cc)
            d = haversine_km(clat, clon, circle.lat, circle.lon)
            nogo = d <= circle.radius_km + circle.margin_km + 0.6
            self._nogo[rr[nogo], cc[nogo]] = k
            harbour = d <= circle.radius_km - 0.6
            self._harbour[rr[harbour], cc[harbour]] = k

    def at_sea(
        self,
        lat: NDArray[np.float64],
        lon: NDArray[np.float64],
        allow: frozenset[int] = frozenset(),
        *,
        strict: bool = False,
    ) -> NDArray[np.bool_]:
        """Whether ships may be at each point (element-wise).

        A point qualifies when it is in a sea cell (``strict``: a sea cell with sea
        all around it) outside the no-go circles of the watched ports not in ``allow``,
        or in the harbour (the cells well within the radius) of a port in ``allow``,
        the port being called at, whose quays the 1 km mask cannot resolve.
        """
        rows, cols = self.mask.index(lat, lon)
        r, c = (rows - self.mask.row0).ravel(), (cols - self.mask.col0).ravel()
        shape = self.mask.sea.shape
        inside = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
        r, c = np.where(inside, r, 0), np.where(inside, c, 0)
        ok = (self._sea_all_round if strict else self.mask.sea)[r, c] & inside
        nogo = self._nogo[r, c]
        blocked = nogo >= 0
        harbour = np.zeros(len(r), dtype=bool)
        if allow:
            harb = self._harbour[r, c]
            for k in allow:
                blocked &= nogo != k
                harbour |= harb == k
        out: NDArray[np.bool_] = ((ok & ~blocked) | (harbour & inside)).reshape(np.shape(lat))
        return out

    def clear(
        self,
        lat1: float,
        lon1: float,
        lat2: float,
        lon2: float,
        allow: frozenset[int] = frozenset(),
    ) -> bool:
        """Whether the straight segment between two points stays at sea.

        Samples every ``sample_km`` must lie in sea cells with sea all around them, so
        no land corner can hide between two samples (or within a port called at).
        """
        la, lo = segment_samples(lat1, lon1, lat2, lon2, self.sample_km)
        return bool(self.at_sea(la, lo, allow, strict=True).all())

    def _clear_many(
        self,
        lat1: float,
        lon1: float,
        lat2: NDArray[np.float64],
        lon2: NDArray[np.float64],
        allow: frozenset[int],
    ) -> NDArray[np.bool_]:
        n = len(lat2)
        la, lo = segment_samples(np.full(n, lat1), np.full(n, lon1), lat2, lon2, self.sample_km)
        out: NDArray[np.bool_] = np.asarray(self.at_sea(la, lo, allow, strict=True).all(axis=1))
        return out

    # ----------------------------------------------------------------- roadmap
    def _build_roadmap(self, step: float, clearance: int) -> None:
        sea = self.mask.sea
        land = (~sea).astype(np.int32)
        # segments are checked on a mask eroded by one cell: samples closer than a cell
        # whose cells have only sea around them cannot hide a land corner between them
        p1 = np.pad(np.pad(land, 1, constant_values=1).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        self._sea_all_round = (p1[3:, 3:] - p1[:-3, 3:] - p1[3:, :-3] + p1[:-3, :-3]) == 0
        k = 2 * clearance + 1
        padded = np.pad(land, clearance, constant_values=1)
        csum = padded.cumsum(0).cumsum(1)
        csum = np.pad(csum, ((1, 0), (1, 0)))
        box = csum[k:, k:] - csum[:-k, k:] - csum[k:, :-k] + csum[:-k, :-k]
        open_water = box == 0
        lat_min, lat_max, lon_min, lon_max = REGION
        glat = np.arange(lat_min + step / 2, lat_max, step)
        glon = np.arange(lon_min + step / 2, lon_max, step)
        self._grid_shape = (len(glat), len(glon))
        gla, glo = np.meshgrid(glat, glon, indexing="ij")
        rows, cols = self.mask.index(gla, glo)
        ok = open_water[rows - self.mask.row0, cols - self.mask.col0]
        ok &= self.at_sea(gla, glo)

        node_of = np.full(self._grid_shape, -1, dtype=np.int64)
        node_of[ok] = np.arange(int(ok.sum()))
        self.node_lat = gla[ok]
        self.node_lon = glo[ok]
        src: list[NDArray[np.int64]] = []
        dst: list[NDArray[np.int64]] = []
        wgt: list[NDArray[np.float64]] = []
        for di, dj in _OFFSETS:
            a = node_of[
                max(0, -di) : self._grid_shape[0] - max(0, di),
                max(0, -dj) : self._grid_shape[1] - max(0, dj),
            ]
            b = node_of[
                max(0, di) : self._grid_shape[0] + min(0, di) or None,
                max(0, dj) : self._grid_shape[1] + min(0, dj) or None,
            ]
            both = (a >= 0) & (b >= 0)
            na, nb = a[both], b[both]
            la, lo = segment_samples(
                self.node_lat[na], self.node_lon[na], self.node_lat[nb], self.node_lon[nb], 0.25
            )
            good = self.at_sea(la, lo, strict=True).all(axis=1)
            na, nb = na[good], nb[good]
            src.append(na)
            dst.append(nb)
            wgt.append(
                haversine_km(
                    self.node_lat[na], self.node_lon[na], self.node_lat[nb], self.node_lon[nb]
                )
            )
        s, d, w = np.concatenate(src), np.concatenate(dst), np.concatenate(wgt)
        n = len(self.node_lat)
        self.graph: csr_matrix = coo_matrix(
            (np.concatenate([w, w]), (np.concatenate([s, d]), np.concatenate([d, s]))), shape=(n, n)
        ).tocsr()

    # --------------------------------------------------------------- terminals
    def point(self, lat: float, lon: float, allow: frozenset[int] = frozenset()) -> Terminal:
        """A terminal whose links to the roadmap are found when first needed."""
        return Terminal(float(lat), float(lon), allow, None)

    def terminal(self, lat: float, lon: float, allow: frozenset[int] = frozenset()) -> Terminal:
        """Link a sea point to the roadmap now.

        Raises
        ------
        RouteError
            The point is land, or no sea path joins it to open water within ~70 km.
        """
        term = Terminal(float(lat), float(lon), allow, None)
        self._link(term)
        return term

    def _link(self, term: Terminal) -> list[tuple[int, NDArray[np.float64], float]]:
        if term.links is not None:
            return term.links
        lat, lon, allow = term.lat, term.lon, term.allow
        links: list[tuple[int, NDArray[np.float64], float]] = []
        box = np.flatnonzero(
            (np.abs(self.node_lat - lat) < 0.3) & (np.abs(self.node_lon - lon) < 0.4)
        )
        d = haversine_km(lat, lon, self.node_lat[box], self.node_lon[box])
        order = np.argsort(d, kind="stable")[:16]
        near, dist = box[order], d[order]
        near, dist = near[dist < 30.0], dist[dist < 30.0]
        if len(near):
            ok = self._clear_many(lat, lon, self.node_lat[near], self.node_lon[near], allow)
            for node, km in list(zip(near[ok], dist[ok], strict=True))[:3]:
                poly = np.array([[lat, lon], [self.node_lat[node], self.node_lon[node]]])
                links.append((int(node), poly, float(km)))
        if not links:
            for half_width in (36, 84):
                link = self._local_link(lat, lon, allow, half_width)
                if link is not None:
                    links.append(link)
                    break
        if not links:
            raise RouteError(f"({lat:.4f}, {lon:.4f}) is not joined to open water by sea")
        term.links = links
        return links

    def _local_link(
        self, lat: float, lon: float, allow: frozenset[int], w: int
    ) -> tuple[int, NDArray[np.float64], float] | None:
        """Shortest 8-connected path on the 1 km grid from the point to a roadmap node."""
        m = self.mask
        r0, c0 = (int(v) for v in m.index(lat, lon))
        r0 -= m.row0
        c0 -= m.col0
        rs = np.arange(max(0, r0 - w), min(m.sea.shape[0], r0 + w + 1))
        cs = np.arange(max(0, c0 - w), min(m.sea.shape[1], c0 + w + 1))
        rr, cc = np.meshgrid(rs, cs, indexing="ij")
        clat, clon = m.cell_center(rr, cc)
        ok = self.at_sea(clat, clon, allow)
        ir, ic = r0 - rs[0], c0 - cs[0]
        ok[ir, ic] = True  # the terminal itself
        shape = ok.shape
        idx = np.arange(ok.size).reshape(shape)
        src, dst, wgt = [], [], []
        for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a = idx[: shape[0] - di, max(0, -dj) : shape[1] - max(0, dj)]
            b = idx[di:, max(0, dj) : shape[1] + min(0, dj) or None]
            good = ok.ravel()[a] & ok.ravel()[b]
            na, nb = a[good], b[good]
            src.append(na)
            dst.append(nb)
            wgt.append(
                haversine_km(clat.ravel()[na], clon.ravel()[na], clat.ravel()[nb], clon.ravel()[nb])
            )
        s, d, wt = np.concatenate(src), np.concatenate(dst), np.concatenate(wgt)
        g = coo_matrix(
            (np.concatenate([wt, wt]), (np.concatenate([s, d]), np.concatenate([d, s]))),
            shape=(ok.size, ok.size),
        ).tocsr()
        dist, pred = dijkstra(g, indices=int(idx[ir, ic]), return_predecessors=True)
        # roadmap nodes inside the window
        nrow, ncol = m.index(self.node_lat, self.node_lon)
        nr, nc = nrow - m.row0 - rs[0], ncol - m.col0 - cs[0]
        inside = (nr >= 0) & (nr < shape[0]) & (nc >= 0) & (nc < shape[1])
        nodes = np.flatnonzero(inside)
        if not len(nodes):
            return None
        cell = idx[nr[nodes], nc[nodes]]
        reach = np.isfinite(dist[cell])
        if not reach.any():
            return None
        best = int(np.argmin(np.where(reach, dist[cell], np.inf)))
        node, target = int(nodes[best]), int(cell[best])
        path = [target]
        while path[-1] != idx[ir, ic]:
            path.append(int(pred[path[-1]]))
        path.reverse()
        pts = np.column_stack([clat.ravel()[path], clon.ravel()[path]])
        pts[0] = (lat, lon)
        pts = np.vstack([pts, [[self.node_lat[node], self.node_lon[node]]]])
        pts = self.pull_taut(pts, allow)
        return node, pts, float(dist[target])

    # ------------------------------------------------------------------ routes
    def pull_taut(
        self, pts: NDArray[np.float64], allow: frozenset[int], reach: int = 12
    ) -> NDArray[np.float64]:
        """Drop vertices a straight clear segment can skip.

        Greedy: from each kept vertex, jump to the farthest of the next ``reach``
        vertices that it sees (the bound keeps the check cheap on long routes).
        """
        out = [0]
        i, n = 0, len(pts)
        while i < n - 1:
            later = np.arange(i + 1, min(n, i + 1 + reach))
            ok = self._clear_many(pts[i, 0], pts[i, 1], pts[later, 0], pts[later, 1], allow)
            ok[0] = True  # consecutive vertices are joined by construction
            i = int(later[np.flatnonzero(ok)[-1]])
            out.append(i)
        return pts[out]

    def _row(self, node: int) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        if node not in self._rows:
            dist, pred = dijkstra(self.graph, indices=node, return_predecessors=True)
            self._rows[node] = (dist, pred)
        return self._rows[node]

    def route(self, a: Terminal, b: Terminal) -> NDArray[np.float64]:
        """Vertices (n×2: lat, lon) of the shortest sea route from ``a`` to ``b``.

        Raises
        ------
        RouteError
            When the roadmap does not connect the two terminals.
        """
        key = (a.lat, a.lon, b.lat, b.lon)
        if key in self._routes:
            return self._routes[key]
        allow = a.allow | b.allow
        if self.clear(a.lat, a.lon, b.lat, b.lon, allow):
            pts = np.array([[a.lat, a.lon], [b.lat, b.lon]])
        else:
            best: tuple[float, int, int, int] | None = None
            a_links, b_links = self._link(a), self._link(b)
            for i, (na, _pa, ca) in enumerate(a_links):
                dist, _pred = self._row(na)
                for j, (nb, _pb, cb) in enumerate(b_links):
                    total = ca + float(dist[nb]) + cb
                    if np.isfinite(total) and (best is None or total < best[0]):
                        best = (total, i, j, nb)
            if best is None:
                raise RouteError(
                    f"no sea route from ({a.lat:.3f}, {a.lon:.3f}) to ({b.lat:.3f}, {b.lon:.3f})"
                )
            _, i, j, nb = best
            na, pa, _ = a_links[i]
            _, pb, _ = b_links[j]
            _dist, pred = self._row(na)
            chain = [nb]
            while chain[-1] != na:
                chain.append(int(pred[chain[-1]]))
            chain.reverse()
            mid = np.column_stack([self.node_lat[chain], self.node_lon[chain]])
            pts = np.vstack([pa[:-1], mid, pb[::-1][1:]])
            pts = self.pull_taut(pts, allow)
        self._routes[key] = pts
        return pts


def route_length_km(pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative distance (km) along a polyline, starting at 0."""
    if len(pts) < 2:
        return np.zeros(len(pts))
    legs = haversine_km(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    return np.concatenate([[0.0], np.cumsum(legs)])
