"""What each vessel transmits: position reports at ITU-R M.1371 rates, static reports.

Report intervals follow ITU-R M.1371-5, Annex 1, Table 1 (class A) and Table 2
(class B "CS"): class A every 10 s at 0–14 kn, 6 s at 14–23 kn, 2 s above 23 kn
(3⅓ s and 2 s while changing course, which the feed's down-sampling below makes
irrelevant), 3 min when at anchor or moored and not moving faster than 3 kn; class B every 30 s
above 2 kn and every 3 min at 2 kn or less; static and voyage data (type 5 for
class A, type 24 parts A and B for class B) every 6 min.

The receivers' aggregated feed does not pass on every slot: it forwards at most one
position report per vessel per ``feed_interval_s`` and one static report per vessel
per ``static_interval_s`` (as public aggregators down-sample), the first one heard in
each window — here its time is the window start plus a jitter shorter than the ITU
interval.  Dark periods (transponder off), MMSIs used by an impostor and spoofed
position jumps are applied here.

Times are seconds since the scenario start; ``ts`` columns are Unix seconds (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tumen.sim.geo import offset_km
from tumen.sim.motion import NAV_UNDEFINED, Leg, sample_leg
from tumen.sim.vessels import Vessel

#: ITU-R M.1371 static report interval (s).
STATIC_INTERVAL_ITU_S = 360.0


def itu_interval_s(cls: str, leg: Leg) -> float:
    """ITU-R M.1371 reporting interval (s) of a vessel of class ``cls`` during ``leg``."""
    speed = leg.speed_kn
    if cls == "B":
        return 180.0 if leg.kind == "stay" or speed <= 2.0 else 30.0
    if leg.kind == "stay":
        return 180.0
    if speed > 23.0:
        return 2.0
    if speed > 14.0:
        return 6.0
    return 10.0


@dataclass
class Reports:
    """Position reports of one or many vessels (one row per transmitted report)."""

    t: NDArray[np.int64]  # Unix seconds, UTC
    vessel: NDArray[np.int32]
    mmsi: NDArray[np.int64]
    msg_type: NDArray[np.int8]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    sog: NDArray[np.float64]
    cog: NDArray[np.float64]
    heading: NDArray[np.float64]
    nav: NDArray[np.int8]
    spoofed: NDArray[np.bool_]

    @classmethod
    def concat(cls, parts: list[Reports]) -> Reports:
        """Stack reports (an empty list gives empty arrays)."""
        names = list(cls.__dataclass_fields__)
        if not parts:
            return cls(**{n: np.zeros(0) for n in names})  # type: ignore[arg-type]
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})

    def take(self, idx: NDArray[np.intp]) -> Reports:
        """Rows ``idx``."""
        return Reports(**{n: getattr(self, n)[idx] for n in self.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.t)


@dataclass
class StaticReports:
    """Static reports: ``part`` is 5, 240 (type 24 A) or 241 (type 24 B)."""

    t: NDArray[np.int64]
    vessel: NDArray[np.int32]
    mmsi: NDArray[np.int64]
    part: NDArray[np.int16]
    name: list[str]
    destination: list[str]
    eta: list[tuple[int, int, int, int]]  # month, day, hour, minute (UTC)

    def __len__(self) -> int:
        return len(self.t)


def _in_windows(t: NDArray[np.float64], windows: list[tuple[float, float]]) -> NDArray[np.bool_]:
    out = np.zeros(t.shape, dtype=bool)
    for a, b in windows:
        out |= (t >= a) & (t < b)
    return out


def report_times(
    v: Vessel, t_end: float, feed_interval_s: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Times (s since start) of the position reports the feed passes on, and their leg index."""
    times: list[NDArray[np.float64]] = []
    legs: list[NDArray[np.intp]] = []
    next_t = float(rng.uniform(0.0, feed_interval_s))
    for k, leg in enumerate(v.legs):
        lo, hi = max(leg.t0, 0.0), min(leg.t1, t_end)
        if hi <= lo:
            continue
        itu = itu_interval_s(v.cls, leg)
        window = max(itu, feed_interval_s)
        start = max(lo, next_t)
        grid = np.arange(start, hi, window)
        if not len(grid):
            continue
        next_t = float(grid[-1] + window)
        t = grid + rng.uniform(0.0, min(itu, window / 4.0), len(grid))
        t = t[t < hi]
        times.append(t)
        legs.append(np.full(len(t), k, dtype=np.intp))
    if not times:
        return np.zeros(0), np.zeros(0, dtype=np.intp)
    t_all, leg_all = np.concatenate(times), np.concatenate(legs)
    keep = ~_in_windows(t_all, v.dark)
    return t_all[keep], leg_all[keep]


def vessel_reports(
    v: Vessel, t0_unix: int, t_end: float, feed_interval_s: float, rng: np.random.Generator
) -> Reports:
    """Every position report vessel ``v`` gets into the feed before reception losses."""
    t, leg_idx = report_times(v, t_end, feed_interval_s, rng)
    n = len(t)
    lat, lon, sog, cog, heading = (np.zeros(n) for _ in range(5))
    nav = np.zeros(n, dtype=np.int8)
    for k in np.unique(leg_idx):
        sel = leg_idx == k
        leg = v.legs[int(k)]
        lat[sel], lon[sel], sog[sel], cog[sel], heading[sel] = sample_leg(leg, t[sel], rng)
        nav[sel] = leg.nav_status
    mmsi = np.full(n, v.mmsi, dtype=np.int64)
    for a, b, other in v.mmsi_windows:
        mmsi[(t >= a) & (t < b)] = other
    spoofed = np.zeros(n, dtype=bool)
    for a, b, north, east in v.jumps:
        sel = (t >= a) & (t < b)
        lat[sel], lon[sel] = offset_km(lat[sel], lon[sel], north, east)
        spoofed |= sel
    ts = t0_unix + np.floor(t).astype(np.int64)
    keep = np.concatenate([[True], np.diff(ts) > 0]) if n else np.zeros(0, dtype=bool)
    return Reports(
        t=ts[keep],
        vessel=np.full(int(keep.sum()), v.idx, dtype=np.int32),
        mmsi=mmsi[keep],
        msg_type=np.full(int(keep.sum()), v.msg_type, dtype=np.int8),
        lat=lat[keep],
        lon=lon[keep],
        sog=np.clip(sog[keep], 0.0, 102.2),
        cog=cog[keep] % 360.0,
        heading=heading[keep] % 360.0,
        nav=nav[keep] if v.cls == "A" else np.full(int(keep.sum()), NAV_UNDEFINED, dtype=np.int8),
        spoofed=spoofed[keep],
    )


def vessel_statics(
    v: Vessel, t0_unix: int, t_end: float, static_interval_s: float, rng: np.random.Generator
) -> tuple[StaticReports, NDArray[np.float64], NDArray[np.float64]]:
    """Static reports of ``v`` passed on by the feed, and the vessel's position at each."""
    interval = max(STATIC_INTERVAL_ITU_S, static_interval_s)
    t = np.arange(float(rng.uniform(0.0, interval)), t_end, interval)
    t = t[~_in_windows(t, v.dark)]
    # not while an impostor window or the plan does not cover the time
    for a, b, _other in v.mmsi_windows:
        t = t[~((t >= a) & (t < b))]
    if v.legs:
        t = t[(t >= v.legs[0].t0) & (t < v.legs[-1].t1)]
    if not v.send_statics:
        t = t[:0]
    lat, lon = np.zeros(len(t)), np.zeros(len(t))
    leg_t0 = np.array([leg.t0 for leg in v.legs])
    leg_idx = np.searchsorted(leg_t0, t, side="right") - 1
    # destination and ETA of each leg: the next stay at a named port
    leg_dest: list[tuple[str, tuple[int, int, int, int]]] = []
    upcoming: tuple[str, tuple[int, int, int, int]] = ("", (0, 0, 24, 60))
    for leg in reversed(v.legs):
        if leg.kind == "stay" and leg.port:
            stamp = np.datetime64(int(t0_unix + leg.t0), "s").astype(object)
            upcoming = (leg.port.upper()[:20], (stamp.month, stamp.day, stamp.hour, stamp.minute))
        leg_dest.append(upcoming)
    leg_dest.reverse()
    for k in np.unique(leg_idx):
        sel = leg_idx == k
        lat[sel], lon[sel], *_ = sample_leg(v.legs[int(k)], t[sel], None)
    names = [v.name_at(float(when)) for when in t] if v.renames else [v.identity.name] * len(t)
    dests = [leg_dest[int(k)][0] for k in leg_idx]
    etas = [leg_dest[int(k)][1] for k in leg_idx]
    ts = t0_unix + np.floor(t).astype(np.int64)
    if v.cls == "A":
        parts = np.full(len(t), 5, dtype=np.int16)
        out = StaticReports(
            ts,
            np.full(len(t), v.idx, dtype=np.int32),
            np.full(len(t), v.mmsi, dtype=np.int64),
            parts,
            names,
            dests,
            etas,
        )
        return out, lat, lon
    # class B: part A then part B a few seconds later
    ts2 = np.concatenate([ts, ts + 7])
    parts = np.concatenate(
        [np.full(len(t), 240, dtype=np.int16), np.full(len(t), 241, dtype=np.int16)]
    )
    order = np.argsort(ts2, kind="stable")
    out = StaticReports(
        ts2[order],
        np.full(2 * len(t), v.idx, dtype=np.int32),
        np.full(2 * len(t), v.mmsi, dtype=np.int64),
        parts[order],
        [(names + names)[i] for i in order],
        [(dests + dests)[i] for i in order],
        [(etas + etas)[i] for i in order],
    )
    return out, np.concatenate([lat, lat])[order], np.concatenate([lon, lon])[order]
