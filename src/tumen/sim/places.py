"""The simulated world: ports, straits, fishing grounds and AIS receiving stations.

* **Watched ports** come from the ports file in use (default the bundled
  ``tumen/data/ports.csv``); the other ports (Korean, Japanese) and the straits are
  where background traffic comes from and goes to.  Coordinates of those are the
  public positions of the harbours (UN/LOCODE and the ``searoute`` package's port
  list), rounded to 0.01 degree.
* **Berths**: vessels moor at sea cells of the land mask inside 55 % of a watched
  port's radius, so a stay is well inside the radius and never flickers across it.
* **Receiving stations**: terrestrial AIS receivers on the Russian, Korean and
  Japanese coasts (typical VHF ranges of 40–60 nmi for class A; class B, with 2 W
  instead of 12.5 W, is heard at 60 % of that range) and a satellite feed that hears
  any vessel with a small probability per report.  North Korea's coast has no
  receiver: only the satellite and the Russian station at Posyet see it.
* **Feed area**: the receivers' feed is an area-of-interest extract (the north-west
  Sea of Japan / East Sea, from the DPRK–ROK border at 38.6°N to Primorye); reports
  from outside it are not delivered, as when an analyst downloads a box.

Units: degrees, kilometres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tumen.detect.ports import bundled_ports_path as bundled_ports_path
from tumen.detect.ports import load_ports
from tumen.errors import InputError
from tumen.sim.geo import REGION, haversine_km, land_mask
from tumen.sim.routes import Circle, RouteError, SeaRouter, Terminal

#: Margin added to a watched port's radius for through-traffic (km).
PORT_MARGIN_KM = 1.5


@dataclass
class Port:
    """A port vessels call at (watched or not) with its berths."""

    name: str
    country: str
    lat: float
    lon: float
    radius_km: float
    watched: bool
    index: int = -1  # index among the watched ports (no-go circle), -1 if not watched
    berths: list[Terminal] = field(default_factory=list)


@dataclass(frozen=True)
class Station:
    """An AIS receiver: ``range_km`` for class A (0 = satellite: everywhere)."""

    name: str
    lat: float
    lon: float
    range_km: float


@dataclass(frozen=True)
class Ground:
    """A fishing ground: a disc of sea (degrees, km) and whose boats fish it."""

    name: str
    lat: float
    lon: float
    radius_km: float
    flags: tuple[str, ...]


#: Ports outside the watched list (name, country, lat, lon).
OTHER_PORTS = (
    ("Busan", "KR", 35.09, 129.06),
    ("Ulsan", "KR", 35.50, 129.39),
    ("Pohang", "KR", 36.03, 129.40),
    ("Donghae", "KR", 37.49, 129.14),
    ("Sokcho", "KR", 38.21, 128.60),
    ("Niigata", "JP", 37.95, 139.06),
    ("Toyama", "JP", 36.77, 137.22),
    ("Tsuruga", "JP", 35.66, 136.07),
    ("Maizuru", "JP", 35.48, 135.39),
    ("Sakaiminato", "JP", 35.55, 133.24),
    ("Akita", "JP", 39.76, 140.06),
    ("Otaru", "JP", 43.20, 141.00),
    ("Wakkanai", "JP", 45.41, 141.68),
)

#: Where traffic enters or leaves the Sea of Japan (name, lat, lon).
GATES = (
    ("Korea Strait", 34.55, 129.25),
    ("Tsushima Strait", 34.05, 130.05),
    ("Tsugaru Strait", 41.45, 139.90),
    ("La Perouse Strait", 45.75, 141.85),
    ("Tatar Strait", 47.20, 140.60),
)

#: Fishing grounds inside the feed area (all ≥ 25 km from every bundled watched port).
GROUNDS = (
    Ground("Peter the Great Gulf (outer)", 42.33, 131.70, 14.0, ("RU",)),
    Ground("Askold", 42.55, 132.60, 9.0, ("RU",)),
    Ground("Olga offshore", 43.40, 135.50, 25.0, ("RU",)),
    Ground("Primorye north", 44.35, 136.70, 25.0, ("RU",)),
    Ground("East of Chongjin", 41.10, 130.60, 35.0, ("CN",)),
    Ground("Off Kimchaek", 40.30, 130.30, 35.0, ("CN",)),
    Ground("Yamato Rise (north)", 40.10, 134.40, 45.0, ("KR", "JP", "CN")),
)

#: Terrestrial receivers (name padded to 6 characters) and the satellite feed.
STATIONS = (
    Station("RUVVO1", 43.08, 131.90, 90.0),
    Station("RUNAK1", 42.77, 132.90, 90.0),
    Station("RUPOS1", 42.60, 130.85, 90.0),
    Station("RUOLG1", 43.73, 135.30, 80.0),
    Station("RUPLS1", 44.73, 136.35, 80.0),
    Station("KRSOK1", 38.20, 128.60, 90.0),
    Station("KRULL1", 37.48, 130.90, 110.0),
    Station("JPSDO1", 38.08, 138.45, 90.0),
    Station("JPOGA1", 39.90, 139.75, 90.0),
    Station("JPOKU1", 42.15, 139.47, 90.0),
    Station("SATAIS", 0.0, 0.0, 0.0),
)


def read_watched_ports(path: str | Path | None = None) -> list[Port]:
    """The watched ports of a ports file (``None``: the bundled one), read by tumen's one loader
    :func:`tumen.detect.ports.load_ports` (same checks as ``tumen detect --ports``).

    Raises
    ------
    InputError
        Missing columns or a value that is not a number in range, naming the file and line.
    """
    return [
        Port(r["name"], r["country"] or "", r["lat"], r["lon"], r["radius_km"], True, index=i)
        for i, r in enumerate(load_ports(path).to_pylist())
    ]


class World:
    """Ports with berths, straits, grounds, stations and the sea router of one ports file."""

    def __init__(self, watched: list[Port]) -> None:
        self.watched = watched
        self.circles = [Circle(p.lat, p.lon, p.radius_km, PORT_MARGIN_KM) for p in watched]
        self.router = SeaRouter(self.circles)
        self.mask = land_mask()
        lat_min, lat_max, lon_min, lon_max = REGION
        self.other = [
            Port(name, country, lat, lon, 3.0, False)
            for name, country, lat, lon in OTHER_PORTS
            if lat_min < lat < lat_max and lon_min < lon < lon_max
        ]
        for port in [*self.watched, *self.other]:
            port.berths = self._berths(port)
        self.gates: dict[str, Terminal] = {}
        for name, lat, lon in GATES:
            self.gates[name] = self.router.terminal(lat, lon)
        self.stations = STATIONS
        self.grounds = GROUNDS

    def port(self, name: str) -> Port:
        """A watched or other port by name."""
        for port in [*self.watched, *self.other]:
            if port.name == name:
                return port
        raise KeyError(name)

    def has_berths(self, name: str) -> bool:
        """Whether vessels can call at the named port (it has reachable berths)."""
        try:
            return bool(self.port(name).berths)
        except KeyError:
            return False

    def _berths(self, port: Port, wanted: int = 6) -> list[Terminal]:
        """Berths: sea cells well inside the radius, else (a harbour narrower than the
        1 km mask) any cells within 55 % of the radius of a watched port."""
        m = self.mask
        allow = frozenset([port.index]) if port.watched else frozenset()
        for share, sea_only in ((0.55, True), (0.8, True), (0.55, False)):
            if not sea_only and not port.watched:
                break
            reach = port.radius_km * share
            r, c = (int(v) for v in m.index(port.lat, port.lon))
            w = int(reach / 0.9) + 2
            rs = np.arange(r - w, r + w + 1) - m.row0
            cs = np.arange(c - w, c + w + 1) - m.col0
            rs = rs[(rs >= 0) & (rs < m.sea.shape[0])]
            cs = cs[(cs >= 0) & (cs < m.sea.shape[1])]
            rr, cc = np.meshgrid(rs, cs, indexing="ij")
            sea = m.sea[rr, cc] if sea_only else np.ones(rr.shape, dtype=bool)
            lat, lon = m.cell_center(rr[sea], cc[sea])
            d = haversine_km(port.lat, port.lon, lat, lon)
            keep = d <= reach
            lat, lon, d = lat[keep], lon[keep], d[keep]
            if not len(lat):
                continue
            order = np.argsort(d, kind="stable")
            picks = order[:: max(1, len(order) // wanted)][:wanted]
            berths: list[Terminal] = []
            for i in picks:
                try:
                    berths.append(self.router.terminal(float(lat[i]), float(lon[i]), allow))
                except RouteError:
                    continue
            if berths:
                return berths
        return []

    def min_port_distance_km(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Distance (km) from each point to the nearest watched port's position."""
        lat_a, lon_a = np.atleast_1d(lat), np.atleast_1d(lon)
        out = np.full(lat_a.shape, np.inf)
        for p in self.watched:
            out = np.minimum(out, haversine_km(lat_a, lon_a, p.lat, p.lon))
        return out


@cache
def _world_for(path: str, text: str) -> World:
    return World(read_watched_ports(path))


def world(ports: str | Path | None = None) -> World:
    """The world of a ports file (built once per process and file content)."""
    path = Path(ports) if ports is not None else bundled_ports_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read the ports file ({exc.strerror}); give a CSV file", path
        ) from None
    return _world_for(str(path), text)
