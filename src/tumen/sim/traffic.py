"""Background traffic of the Sea of Japan / East Sea: cargo ships, tankers, fishing boats.

* **Merchant ships** (class A, types 1 and 3): general cargo, bulk, Ro-Ro, container
  ships and tankers trading with the Russian Far East ports (Vladivostok, Vostochny,
  Nakhodka, …) from Korea, Japan and the straits, a few trading with North Korean
  ports; 10–19 kn at sea, a stay of 8–60 h in port (at anchor then alongside).
* **Fishing boats** (class A or B): Russian boats out of Primorye ports for trips of
  one to three days, Chinese boats working off the North Korean coast and Korean,
  Japanese and Chinese squid jiggers on the Yamato Rise; they steam at 7–10 kn,
  trawl at 3–4.5 kn and drift at 0.2–0.8 kn through the night (squid jigging), which
  is loitering by the definition tumen uses.
* Drifting vessels keep ≥ ``SLOW_SEPARATION_KM`` apart unless a scenario puts them
  together on purpose, so the only encounters are the planted ones.

Every vessel's plan starts before the scenario (up to 2 days) so that the first hour
already shows ships in port and at sea.  Times: seconds since the scenario start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tumen.sim.geo import KMH_PER_KN, haversine_km, offset_km
from tumen.sim.motion import NAV_ANCHOR, NAV_FISHING, NAV_MOORED, NAV_UNDERWAY, Leg, sail
from tumen.sim.places import Port, World
from tumen.sim.routes import RouteError, Terminal
from tumen.sim.vessels import SHIP_TYPES, Identity, IdentityFactory, Vessel

#: Least distance between two vessels slow at the same time, unless planted (km).
SLOW_SEPARATION_KM = 3.0
#: Least distance of any slow activity at sea from a watched port's position (km).
SLOW_PORT_CLEARANCE_KM = 22.0
HOUR = 3600.0

#: Port weights of the trade with Russian Far East ports.
RU_PORTS = {
    "Vladivostok": 4.0,
    "Vostochny": 3.0,
    "Nakhodka": 3.0,
    "Bolshoy Kamen": 1.0,
    "Slavyanka": 0.5,
    "Posyet": 1.0,
    "Zarubino": 1.0,
    "Dunai": 0.3,
}
KP_PORTS = {"Rajin": 1.0, "Chongjin": 0.8, "Hungnam": 0.3, "Wonsan": 0.3, "Kimchaek": 0.2}
OUTSIDE = {
    "Busan": 4.0,
    "Ulsan": 1.0,
    "Pohang": 1.0,
    "Donghae": 1.0,
    "Sokcho": 0.4,
    "Niigata": 1.5,
    "Toyama": 1.0,
    "Tsuruga": 0.5,
    "Maizuru": 0.5,
    "Akita": 0.5,
    "Otaru": 1.0,
    "Wakkanai": 0.5,
    "gate:Korea Strait": 4.0,
    "gate:Tsushima Strait": 2.0,
    "gate:Tsugaru Strait": 3.0,
    "gate:La Perouse Strait": 1.5,
    "gate:Tatar Strait": 1.0,
}


def _pick(rng: np.random.Generator, weights: dict[str, float], exclude: str | None = None) -> str:
    names = [k for k in weights if k != exclude]
    w = np.array([weights[k] for k in names])
    return names[int(rng.choice(len(names), p=w / w.sum()))]


@dataclass
class SlowRegistry:
    """Where and when vessels are slow at sea, to keep them apart (10-minute samples)."""

    cell_deg: float = 0.2
    cells: dict[
        tuple[int, int],
        list[tuple[int, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]],
    ] = field(default_factory=lambda: defaultdict(list))

    @staticmethod
    def _track(leg: Leg) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        from tumen.sim.motion import sample_leg

        t = np.arange(leg.t0, leg.t1 + 1.0, 600.0)
        lat, lon, *_ = sample_leg(leg, t, None)
        return t, lat, lon

    def _keys(self, lat: float, lon: float) -> list[tuple[int, int]]:
        i, j = int(np.floor(lat / self.cell_deg)), int(np.floor(lon / self.cell_deg))
        return [(i + a, j + b) for a in (-1, 0, 1) for b in (-1, 0, 1)]

    def clear(self, leg: Leg, group: int = -1, min_km: float = SLOW_SEPARATION_KM) -> bool:
        """Whether ``leg`` keeps ``min_km`` from every registered slow leg (other than ``group``)."""
        t, lat, lon = self._track(leg)
        for key in self._keys(float(lat[0]), float(lon[0])):
            for owner, t2, lat2, lon2 in self.cells.get(key, []):
                if owner == group or t2[0] > t[-1] or t2[-1] < t[0]:
                    continue
                common = np.intersect1d(np.round(t / 600.0), np.round(t2 / 600.0))
                if not len(common):
                    continue
                a = np.interp(common * 600.0, t, lat), np.interp(common * 600.0, t, lon)
                b = np.interp(common * 600.0, t2, lat2), np.interp(common * 600.0, t2, lon2)
                if float(haversine_km(a[0], a[1], b[0], b[1]).min()) < min_km:
                    return False
        return True

    def add(self, leg: Leg, group: int) -> None:
        """Register a slow leg of ``group`` (a vessel or a planted pair)."""
        t, lat, lon = self._track(leg)
        i, j = int(np.floor(lat[0] / self.cell_deg)), int(np.floor(lon[0] / self.cell_deg))
        self.cells[(i, j)].append((group, t, lat, lon))


@dataclass
class Context:
    """Everything a scenario or the background needs while the fleet is built."""

    world: World
    rng: np.random.Generator
    factory: IdentityFactory
    hours: float
    slow: SlowRegistry = field(default_factory=SlowRegistry)
    vessels: list[Vessel] = field(default_factory=list)
    designed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def t_end(self) -> float:
        """Scenario end (s since start)."""
        return self.hours * HOUR

    def new_vessel(
        self,
        role: str,
        flag: str,
        kind: str = "cargo",
        cls: str = "A",
        *,
        name: str | None = None,
        imo: int | None = None,
        valid_imo: bool = True,
    ) -> Vessel:
        """A vessel with a fresh identity (or the given name and IMO)."""
        rng = self.rng
        fishing = kind == "fishing"
        length = int(rng.integers(20, 60)) if fishing else int(rng.integers(80, 200))
        beam = max(5, int(length * rng.uniform(0.13, 0.17)))
        bow = int(length * rng.uniform(0.6, 0.85))
        identity = Identity(
            name=name or self.factory.name(flag, fishing=fishing),
            callsign=self.factory.callsign(flag),
            imo=(
                imo
                if imo is not None
                else (None if cls == "B" else self.factory.imo(valid=valid_imo))
            ),
            ship_type=SHIP_TYPES[kind],
            length_m=length,
            beam_m=beam,
            draught_m=round(float(rng.uniform(3.0, 5.0) if fishing else rng.uniform(5.5, 11.0)), 1),
        )
        identity_dims = (bow, length - bow, beam // 2, beam - beam // 2)
        msg_type = 18 if cls == "B" else (3 if rng.random() < 0.1 else 1)
        v = Vessel(
            idx=len(self.vessels),
            mmsi=self.factory.mmsi(flag),
            cls=cls,
            msg_type=msg_type,
            flag=flag,
            identity=identity,
            role=role,
        )
        v.notes["dims"] = identity_dims
        self.vessels.append(v)
        return v

    def slow_point(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        t0: float,
        hours: float,
        speed_kn: float,
        *,
        group: int,
        tries: int = 60,
    ) -> Leg | None:
        """A drift leg near (lat, lon) that stays at sea, clear of ports and of other slow vessels."""
        router = self.world.router
        for _ in range(tries):
            ang, r = self.rng.uniform(0, 2 * np.pi), radius_km * np.sqrt(self.rng.random())
            la, lo = offset_km(lat, lon, r * np.cos(ang), r * np.sin(ang))
            course = float(self.rng.uniform(0, 360))
            leg = Leg(
                t0, t0 + hours * HOUR, "drift", np.array([[float(la), float(lo)]]), speed_kn, course
            )
            _, track_lat, track_lon = SlowRegistry._track(leg)
            if not router.at_sea(track_lat, track_lon).all():
                continue
            if self.world.min_port_distance_km(track_lat, track_lon).min() < SLOW_PORT_CLEARANCE_KM:
                continue
            if not self.slow.clear(leg, group):
                continue
            return leg
        return None


class Itinerary:
    """Builds a vessel's legs one after another (times in s since the scenario start)."""

    def __init__(self, ctx: Context, vessel: Vessel, t: float, at: Terminal) -> None:
        self.ctx = ctx
        self.v = vessel
        self.t = t
        self.at = at

    @property
    def router(self) -> Any:
        return self.ctx.world.router

    def stay(
        self,
        hours: float,
        port: Port | None,
        nav: int = NAV_MOORED,
        offset_m: tuple[float, float] = (0.0, 0.0),
    ) -> Leg:
        """Stay at the current point (moored or at anchor)."""
        lat, lon = offset_km(self.at.lat, self.at.lon, offset_m[0] / 1000.0, offset_m[1] / 1000.0)
        leg = Leg(
            self.t,
            self.t + hours * HOUR,
            "stay",
            np.array([[float(lat), float(lon)]]),
            0.0,
            float(self.ctx.rng.uniform(0, 360)),
            nav,
            port.name if port else None,
        )
        self.v.legs.append(leg)
        self.t = leg.t1
        return leg

    def sail_to(self, target: Terminal, speed_kn: float, nav: int = NAV_UNDERWAY) -> Leg:
        """Sail the sea route from the current point to ``target``."""
        path = self.router.route(self.at, target)
        leg = sail(self.t, path, speed_kn, nav)
        self.v.legs.append(leg)
        self.t = leg.t1
        self.at = target
        return leg

    def sail_straight(
        self, lat: float, lon: float, speed_kn: float, nav: int = NAV_UNDERWAY
    ) -> Leg:
        """Sail a straight line (the caller checked it is clear) to a sea point."""
        path = np.array([[self.at.lat, self.at.lon], [lat, lon]])
        leg = sail(self.t, path, speed_kn, nav)
        self.v.legs.append(leg)
        self.t = leg.t1
        self.at = self.router.point(lat, lon)
        return leg

    def drift(self, leg: Leg) -> Leg:
        """Append a prepared drift leg (starting now) and move to where it ends."""
        self.v.legs.append(leg)
        self.t = leg.t1
        lat, lon = leg.end_point
        self.at = self.router.point(lat, lon)
        return leg

    def go_to_point(self, lat: float, lon: float, speed_kn: float) -> Leg:
        """Sail to a sea point by the best sea route."""
        return self.sail_to(self.router.point(lat, lon), speed_kn)


# --------------------------------------------------------------------------- merchants
def _place(world: World, name: str, rng: np.random.Generator) -> tuple[Terminal, Port | None]:
    if name.startswith("gate:"):
        return world.gates[name[5:]], None
    port = world.port(name)
    return port.berths[int(rng.integers(len(port.berths)))], port


def _port_stay_hours(rng: np.random.Generator, port: Port | None) -> float:
    if port is None:
        return 0.0
    if port.watched and port.country == "KP":
        return float(rng.uniform(12, 60))
    if port.watched:
        return float(rng.uniform(10, 48))
    return float(rng.uniform(8, 36))


def merchant(ctx: Context, trade: str = "RU") -> Vessel:
    """A merchant ship trading with Russian (``RU``) or North Korean (``KP``) ports."""
    rng, world = ctx.rng, ctx.world
    kind = "tanker" if rng.random() < 0.3 else "cargo"
    if trade == "KP":
        flag = str(
            rng.choice(["CN", "SL", "TG", "MN", "KP", "HK"], p=[0.35, 0.15, 0.15, 0.1, 0.15, 0.1])
        )
    else:
        flag = str(
            rng.choice(
                ["RU", "PA", "KR", "JP", "CN", "LR", "MH", "HK"],
                p=[0.35, 0.15, 0.12, 0.08, 0.12, 0.06, 0.06, 0.06],
            )
        )
    v = ctx.new_vessel(f"background:{kind}", flag, kind)
    fast = kind == "cargo" and rng.random() < 0.2  # container ships and Ro-Ros
    speed = float(rng.uniform(14.5, 19.0) if fast else rng.uniform(10.0, 14.0))
    home = {
        k: w for k, w in (KP_PORTS if trade == "KP" else RU_PORTS).items() if world.has_berths(k)
    }
    outside = {k: w for k, w in OUTSIDE.items() if k.startswith("gate:") or world.has_berths(k)}
    if trade == "KP":
        outside = {
            **{
                k: w
                for k, w in outside.items()
                if k in ("gate:Korea Strait", "gate:Tsushima Strait")
            },
            "Vladivostok": 1.0,
            "Nakhodka": 0.5,
        }
    # start somewhere on the trade loop, before the scenario begins
    at_home = rng.random() < 0.45
    current = _pick(rng, home if at_home else outside)
    t = -float(rng.uniform(0.0, 48.0)) * HOUR
    term, port = _place(world, current, rng)
    it = Itinerary(ctx, v, t, term)
    if port is not None:
        it.stay(_port_stay_hours(rng, port), port)
    else:
        it.stay(0.01, None, NAV_UNDERWAY)  # entering through a strait
    while it.t < ctx.t_end:
        here_home = current in home
        if here_home:
            nxt = (
                _pick(rng, home, exclude=current)
                if rng.random() < 0.25
                else _pick(rng, outside, exclude=current)
            )
        else:
            nxt = _pick(rng, home, exclude=current)
        term, port = _place(world, nxt, rng)
        it.sail_to(term, speed * float(rng.uniform(0.95, 1.05)))
        current = nxt
        if port is None:  # left the Sea of Japan
            break
        if port.watched and rng.random() < 0.3 and len(port.berths) > 1:
            anchorage = port.berths[int(rng.integers(len(port.berths)))]
            if anchorage is not term:
                it.at = term
                it.stay(float(rng.uniform(2, 10)), port, NAV_ANCHOR)
        it.stay(_port_stay_hours(rng, port), port, NAV_MOORED)
    return v


# --------------------------------------------------------------------------- fishing
def fishing_boat(ctx: Context) -> Vessel:
    """A fishing boat: Russian coastal, Chinese off North Korea, or a Yamato Rise squid jigger."""
    rng, world = ctx.rng, ctx.world
    fleet = str(rng.choice(["RU", "CN", "YAMATO"], p=[0.45, 0.3, 0.25]))
    grounds = [
        g
        for g in world.grounds
        if (fleet == "YAMATO" and g.name.startswith("Yamato"))
        or (fleet != "YAMATO" and fleet in g.flags and not g.name.startswith("Yamato"))
    ]
    ground = grounds[int(rng.integers(len(grounds)))]
    flag = fleet if fleet != "YAMATO" else str(rng.choice(["KR", "JP", "CN"]))
    cls = (
        "B"
        if (fleet == "RU" and rng.random() < 0.6) or (fleet == "CN" and rng.random() < 0.4)
        else "A"
    )
    v = ctx.new_vessel("background:fishing", flag, "fishing", cls)
    steam = float(rng.uniform(7.0, 10.0))
    if fleet == "RU":
        homes = [
            p
            for p in ("Nakhodka", "Vladivostok", "Zarubino", "Posyet", "Slavyanka")
            if world.has_berths(p)
        ]
        home = world.port(homes[int(rng.integers(len(homes)))])
        t = -float(rng.uniform(0, 36)) * HOUR
        it = Itinerary(ctx, v, t, home.berths[int(rng.integers(len(home.berths)))])
        if rng.random() < 0.5:
            it.stay(float(rng.uniform(4, 30)), home)
        while it.t < ctx.t_end:
            _fish_trip(ctx, it, ground, steam, float(rng.uniform(24, 72)))
            berth = home.berths[int(rng.integers(len(home.berths)))]
            it.sail_to(berth, steam)
            it.stay(float(rng.uniform(10, 36)), home)
    else:
        # at sea the whole time: arrived on the ground before the scenario
        t = -float(rng.uniform(2, 24)) * HOUR
        la, lo = offset_km(ground.lat, ground.lon, *(rng.uniform(-0.5, 0.5, 2) * ground.radius_km))
        start = (
            world.router.terminal(float(la), float(lo))
            if world.router.at_sea(np.array([la]), np.array([lo]))[0]
            else world.router.terminal(ground.lat, ground.lon)
        )
        it = Itinerary(ctx, v, t, start)
        it.stay(0.01, None, NAV_FISHING)
        _fish_trip(ctx, it, ground, steam, ctx.t_end / HOUR - t / HOUR + 1.0)
    return v


def _fish_trip(ctx: Context, it: Itinerary, ground: Any, steam_kn: float, hours: float) -> None:
    """Steam to the ground, then trawl by day and drift by night until ``hours`` are spent."""
    rng, router = ctx.rng, ctx.world.router
    t_stop = it.t + hours * HOUR
    first = True
    while it.t < t_stop and it.t < ctx.t_end:
        # a spot on the ground
        for _ in range(20):
            ang, r = rng.uniform(0, 2 * np.pi), ground.radius_km * np.sqrt(rng.random())
            la, lo = offset_km(ground.lat, ground.lon, r * np.cos(ang), r * np.sin(ang))
            if router.at_sea(np.array([la]), np.array([lo]))[0]:
                break
        else:
            return
        try:
            if first:
                it.go_to_point(float(la), float(lo), steam_kn)
                first = False
            elif router.clear(it.at.lat, it.at.lon, float(la), float(lo)):
                it.sail_straight(float(la), float(lo), steam_kn)
            else:
                it.go_to_point(float(la), float(lo), steam_kn)
        except RouteError:
            return
        hour_utc = (it.t / HOUR) % 24.0
        night = 9.0 <= hour_utc <= 12.0  # local dusk (UTC+9/+10)
        if night and rng.random() < 0.85:
            drift = ctx.slow_point(
                it.at.lat,
                it.at.lon,
                2.0,
                it.t,
                float(rng.uniform(6.0, 10.0)),
                float(rng.uniform(0.2, 0.8)),
                group=it.v.idx,
                tries=12,
            )
            d_lat, d_lon = (
                (float(drift.path[0, 0]), float(drift.path[0, 1]))
                if drift is not None
                else (0.0, 0.0)
            )
            if drift is not None and router.clear(it.at.lat, it.at.lon, d_lat, d_lon):
                drift.nav_status = NAV_FISHING
                # from where the boat is: a short approach at trawling speed
                it.sail_straight(d_lat, d_lon, 4.0, NAV_FISHING)
                drift.t0, drift.t1 = it.t, it.t + (drift.t1 - drift.t0)
                if ctx.slow.clear(drift, it.v.idx):
                    ctx.slow.add(drift, it.v.idx)
                    it.drift(drift)
                    continue
        # trawl a straight line for 2–5 h at 3–4.5 kn
        speed = float(rng.uniform(3.0, 4.5))
        km = speed * KMH_PER_KN * float(rng.uniform(2.0, 5.0))
        for _ in range(8):
            course = rng.uniform(0, 2 * np.pi)
            la2, lo2 = offset_km(it.at.lat, it.at.lon, km * np.cos(course), km * np.sin(course))
            if (
                router.clear(it.at.lat, it.at.lon, float(la2), float(lo2))
                and ctx.world.min_port_distance_km(np.array([la2]), np.array([lo2]))[0]
                > SLOW_PORT_CLEARANCE_KM
            ):
                it.sail_straight(float(la2), float(lo2), speed, NAV_FISHING)
                break
        else:
            it.stay(0.01, None, NAV_FISHING)
