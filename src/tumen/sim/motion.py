"""How a simulated vessel moves: a plan of legs, and its state at any time.

A plan is a list of :class:`Leg`, contiguous in time (seconds since the scenario
start, UTC).  Three kinds:

``sail``
    along a polyline (lat/lon vertices, straight between them) at constant speed;
``stay``
    moored or at anchor at a point (GPS scatter of a few metres, speed 0–0.1 kn);
``drift``
    slowly (under 2 kn) along a fixed course from a point — squid jigging at night,
    waiting for a ship-to-ship transfer, loitering.

Units: seconds, degrees, knots, kilometres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tumen.sim.geo import KMH_PER_KN, bearing_deg, offset_km
from tumen.sim.routes import route_length_km

#: ITU-R M.1371 navigational status codes used here.
NAV_UNDERWAY, NAV_ANCHOR, NAV_RESTRICTED, NAV_MOORED, NAV_FISHING, NAV_UNDEFINED = 0, 1, 3, 5, 7, 15


@dataclass
class Leg:
    """One piece of a vessel's plan.

    Attributes
    ----------
    t0, t1:
        Start and end (s since the scenario start).
    kind:
        ``"sail"``, ``"stay"`` or ``"drift"``.
    path:
        ``sail``: polyline vertices (n×2 lat/lon); ``stay``/``drift``: one row, the point.
    speed_kn:
        Speed over ground (knots): the sailing or drifting speed, 0 for a stay.
    course_deg:
        Drift course (degrees true); for a stay, the constant heading.
    nav_status:
        ITU-R M.1371 navigational status broadcast during the leg.
    port:
        Name of the port of a stay, if any (for the scenario's own bookkeeping).
    """

    t0: float
    t1: float
    kind: str
    path: NDArray[np.float64]
    speed_kn: float = 0.0
    course_deg: float = 0.0
    nav_status: int = NAV_UNDERWAY
    port: str | None = None
    cum_km: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if self.kind == "sail" and len(self.cum_km) != len(self.path):
            self.cum_km = route_length_km(self.path)

    @property
    def end_point(self) -> tuple[float, float]:
        """Where the leg ends (lat, lon)."""
        lat, lon, *_ = sample_leg(self, np.array([self.t1]), None)
        return float(lat[0]), float(lon[0])


def sail(
    t0: float, path: NDArray[np.float64], speed_kn: float, nav_status: int = NAV_UNDERWAY
) -> Leg:
    """A sailing leg starting at ``t0`` whose end time follows from length and speed."""
    cum = route_length_km(path)
    hours = float(cum[-1]) / (speed_kn * KMH_PER_KN) if len(cum) else 0.0
    return Leg(t0, t0 + hours * 3600.0, "sail", path, speed_kn, nav_status=nav_status, cum_km=cum)


def sample_leg(
    leg: Leg, t: NDArray[np.float64], rng: np.random.Generator | None
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """True position and motion at times ``t`` within the leg.

    Returns
    -------
    lat, lon, sog_kn, cog_deg, heading_deg
        With ``rng``, stays get a few metres of GPS scatter and drifts a little speed
        and course noise (speeds stay under 2 kn); without it, the exact values.
    """
    n = len(t)
    if leg.kind == "sail":
        s = np.clip((t - leg.t0) / 3600.0 * leg.speed_kn * KMH_PER_KN, 0.0, leg.cum_km[-1])
        lat = np.interp(s, leg.cum_km, leg.path[:, 0])
        lon = np.interp(s, leg.cum_km, leg.path[:, 1])
        seg = np.clip(np.searchsorted(leg.cum_km, s, side="right") - 1, 0, len(leg.path) - 2)
        cog = bearing_deg(
            leg.path[seg, 0], leg.path[seg, 1], leg.path[seg + 1, 0], leg.path[seg + 1, 1]
        )
        sog = np.full(n, leg.speed_kn)
        heading = cog.copy()
        if rng is not None:
            sog = sog + rng.normal(0.0, 0.15, n)
            cog = (cog + rng.normal(0.0, 1.0, n)) % 360.0
            heading = (heading + rng.normal(0.0, 2.0, n)) % 360.0
        return lat, lon, sog, cog, heading
    lat0, lon0 = float(leg.path[0, 0]), float(leg.path[0, 1])
    if leg.kind == "stay":
        north = east = np.zeros(n)
        sog = np.zeros(n)
        cog = np.zeros(n)
        if rng is not None:
            north, east = rng.normal(0.0, 0.003, n), rng.normal(0.0, 0.003, n)
            sog = np.abs(rng.normal(0.0, 0.04, n))
            cog = rng.uniform(0.0, 360.0, n)
        lat, lon = offset_km(lat0, lon0, north, east)
        return lat, lon, sog, cog, np.full(n, leg.course_deg % 360.0)
    # drift
    dist = (t - leg.t0) / 3600.0 * leg.speed_kn * KMH_PER_KN
    rad = np.radians(leg.course_deg)
    lat, lon = offset_km(lat0, lon0, dist * np.cos(rad), dist * np.sin(rad))
    sog = np.full(n, leg.speed_kn)
    cog = np.full(n, leg.course_deg % 360.0)
    if rng is not None:
        sog = np.clip(sog + rng.normal(0.0, 0.08, n), 0.0, 1.7)
        cog = (cog + rng.normal(0.0, 8.0, n)) % 360.0
    return lat, lon, sog, cog, cog.copy()
