"""Planted behaviour with exact ground truth, and look-alikes that must not be reported.

What is planted (``reps`` copies of most, scaled with the scenario's size):

* **Shuttles** between Rajin and Dunai / Vostochny (the 2023–24 pattern; vessels
  ANGARA, LADY R, MAIA-1, SPARTA IV of CONTRACTS.md): ANGARA makes a *dark port call*
  at Rajin (transponder off from 1.5 h out of Dunai until 1.5 h before it is back);
  LADY R switches off for each transit but shows its port stays; MAIA-1 sails in the
  open and is renamed MAYA half-way; SPARTA IV goes silent for 2.5–4 h mid-transit
  (a silence under the 6 h gap threshold: a look-alike).
* **KUM UN SAN 3** (DPRK MID 445) sails Rajin → Vladivostok and back.
* **Ship-to-ship meetings**: a DPRK-linked vessel (first CHONG CHON GANG) and a tanker
  drift together 80–300 m apart at 0.2–0.8 kn for 2.5–3.2 h, ≥ 22 km from any
  watched port (encounter: ≥ 2 h within 500 m under 2 kn ≥ 10 km from ports).
* **Lone loitering**: a vessel drifts 5–9 h at sea.
* **Long silences** (8–20 h) on voyages between Russian and North Korean ports, and
  **short silences** (2.5–4 h) on Russian coastal voyages (look-alikes).
* **One MMSI, two ships**: an impostor off the Tumen estuary transmits the MMSI of a
  Russian ship sailing up the Primorye coast, 7–10 h, ≥ 200 km apart.
* **Position jump**: a vessel's reports are displaced 40–110 km for one hour.
* **Identity**: a renamed vessel, an IMO number with a wrong check digit, DPRK MIDs.
* **Look-alikes**: two ships crossing at 10–14 kn 100–300 m apart; a slow pair
  1.4–1.6 km apart for 2.5–3.2 h; two ships moored side by side (40 m) in port.

Each planted fact is recorded as a *designed* event (times in s since the start):
identity events go into the truth as such; movement events (port visits, voyages,
gaps, encounters, loitering) are derived from the delivered fixes by
:mod:`tumen.sim.truth`, and the designed records let tests check they were.
Look-alikes are recorded with ``negative=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tumen.sim.geo import KMH_PER_KN, haversine_km, offset_km
from tumen.sim.motion import NAV_RESTRICTED, Leg, sample_leg
from tumen.sim.routes import RouteError, Terminal, route_length_km
from tumen.sim.traffic import HOUR, SLOW_PORT_CLEARANCE_KM, Context, Itinerary
from tumen.sim.vessels import Vessel

#: Real vessels of CONTRACTS.md: name, IMO, kind, flag.
NAMED = {
    "ANGARA": (9179842, "cargo", "RU"),
    "LADY R": (9161003, "cargo", "RU"),
    "MAIA-1": (9358010, "cargo", "RU"),
    "SPARTA IV": (9743033, "cargo", "RU"),
    "KUM UN SAN 3": (8705539, "cargo", "KP"),
    "CHONG CHON GANG": (7937317, "cargo", "KP"),
}
#: The new name MAIA-1 takes half-way (invented).
MAIA_NEW_NAME = "MAYA"
RU_MAIN = ("Vladivostok", "Nakhodka", "Vostochny")
KP_EAST = ("Rajin", "Chongjin")


def _design(
    ctx: Context, kind: str, v: Vessel | int, start: float, end: float, note: str, **extra: Any
) -> None:
    mmsi = v.mmsi if isinstance(v, Vessel) else v
    record = {
        "type": kind,
        "subtype": None,
        "mmsi": mmsi,
        "other_mmsi": None,
        "start": start,
        "end": end,
        "port": None,
        "from_port": None,
        "to_port": None,
        "negative": False,
        "note": note,
    }
    record.update(extra)
    ctx.designed.append(record)


def _berth(ctx: Context, name: str) -> Terminal:
    port = ctx.world.port(name)
    return port.berths[int(ctx.rng.integers(len(port.berths)))]


def _named(ctx: Context, name: str, role: str) -> Vessel:
    imo, kind, flag = NAMED[name]
    return ctx.new_vessel(role, flag, kind, name=name, imo=imo)


def _arrive(
    ctx: Context, v: Vessel, origin: str, target: Terminal, arrive: float, speed: float
) -> Itinerary:
    """Plan: moored at ``origin``, then sail to ``target`` arriving at ``arrive`` (s)."""
    start = _berth(ctx, origin)
    path = ctx.world.router.route(start, target)
    hours = float(route_length_km(path)[-1]) / (speed * KMH_PER_KN)
    depart = arrive - hours * HOUR
    stay = float(ctx.rng.uniform(8.0, 30.0))
    it = Itinerary(ctx, v, depart - stay * HOUR, start)
    it.stay(stay, ctx.world.port(origin))
    it.sail_to(target, speed)
    it.t = arrive  # rounding
    return it


def _finish(ctx: Context, it: Itinerary, port: str, speed: float) -> None:
    """Sail to ``port`` and stay there past the end of the scenario."""
    it.sail_to(_berth(ctx, port), speed)
    it.stay(max(12.0, (ctx.t_end - it.t) / HOUR + 6.0), ctx.world.port(port))


def _when(ctx: Context, need_h: float, lo_h: float = 8.0, margin_h: float = 10.0) -> float | None:
    """A start time (s) leaving ``need_h`` hours of room, or None if the scenario is too short."""
    hi = ctx.hours - margin_h - need_h
    if hi <= lo_h:
        return None
    return float(ctx.rng.uniform(lo_h, hi)) * HOUR


def coverage_points(
    ctx: Context, count: int, max_station_km: float = 55.0
) -> list[tuple[float, float]]:
    """Sea points in the feed area, ≥ 22 km from ports and ≤ ``max_station_km`` from a coastal receiver."""
    world, rng = ctx.world, ctx.rng
    stations = [s for s in world.stations if s.range_km > 0]
    out: list[tuple[float, float]] = []
    for _ in range(count * 400):
        if len(out) >= count:
            break
        lat, lon = float(rng.uniform(41.7, 44.6)), float(rng.uniform(130.4, 136.6))
        if not world.router.at_sea(np.array([lat]), np.array([lon]))[0]:
            continue
        if (
            world.min_port_distance_km(np.array([lat]), np.array([lon]))[0]
            < SLOW_PORT_CLEARANCE_KM + 6.0
        ):
            continue
        if min(float(haversine_km(lat, lon, s.lat, s.lon)) for s in stations) > max_station_km:
            continue
        if any(
            float(haversine_km(lat, lon, g.lat, g.lon)) < g.radius_km + 8.0 for g in world.grounds
        ):
            continue
        try:
            world.router.terminal(lat, lon)
        except RouteError:
            continue
        out.append((lat, lon))
    return out


# --------------------------------------------------------------------------- shuttles
def shuttle(ctx: Context, v: Vessel, ru_port: str, mode: str, speed: float) -> None:
    """Rajin ↔ ``ru_port`` shuttle; ``mode``: open | dark_transit | dark_call | silence."""
    rng = ctx.rng
    home = _berth(ctx, ru_port)
    it = Itinerary(ctx, v, -float(rng.uniform(4.0, 12.0)) * HOUR, home)
    it.stay((float(rng.uniform(2.0, 8.0)) * HOUR - it.t) / HOUR, ctx.world.port(ru_port))
    silenced = False
    while it.t < ctx.t_end:
        out = it.sail_to(_berth(ctx, "Rajin"), speed)
        if mode == "dark_transit":
            v.dark.append((out.t0 + 1.5 * HOUR, out.t1 - 1.5 * HOUR))
        if mode == "silence" and not silenced and out.t1 - out.t0 > 8.0 * HOUR:
            length = float(rng.uniform(2.5, 4.0)) * HOUR
            a = out.t0 + float(rng.uniform(2.0 * HOUR, out.t1 - out.t0 - 2.0 * HOUR - length))
            v.dark.append((a, a + length))
            _design(
                ctx, "gap", v, a, a + length, "short silence under the 6 h threshold", negative=True
            )
            silenced = True
        it.stay(float(rng.uniform(10.0, 16.0)), ctx.world.port("Rajin"))
        back = it.sail_to(_berth(ctx, ru_port), speed)
        if mode == "dark_transit":
            v.dark.append((back.t0 + 1.5 * HOUR, back.t1 - 1.5 * HOUR))
        if mode == "dark_call":
            v.dark.append((out.t0 + 1.5 * HOUR, back.t1 - 1.5 * HOUR))
            _design(
                ctx,
                "gap",
                v,
                out.t0 + 1.5 * HOUR,
                back.t1 - 1.5 * HOUR,
                "dark port call at Rajin (transponder off)",
                dark_port="Rajin",
            )
        it.stay(float(rng.uniform(8.0, 16.0)), ctx.world.port(ru_port))
    v.notes["shuttle"] = (ru_port, mode)


def plant_shuttles(ctx: Context, reps: int) -> None:
    """The four Russian shuttles of CONTRACTS.md (plus invented ones when ``reps`` > 1)."""
    rng = ctx.rng
    plans = [
        ("ANGARA", "Dunai", "dark_call"),
        ("LADY R", "Vostochny", "dark_transit"),
        ("MAIA-1", "Dunai", "open"),
        ("SPARTA IV", "Vostochny", "silence"),
    ]
    for name, port, mode in plans:
        v = _named(ctx, name, "shuttle")
        shuttle(ctx, v, port, mode, float(rng.uniform(10.0, 12.0)))
        if name == "MAIA-1":
            rename(ctx, v, MAIA_NEW_NAME)
    for k in range(2 * (reps - 1)):
        _, port, mode = plans[k % 4]
        v = ctx.new_vessel("shuttle", "RU", "cargo")
        shuttle(ctx, v, port, mode, float(rng.uniform(10.0, 12.0)))


def plant_dprk_trader(ctx: Context, v: Vessel, speed: float) -> None:
    """Rajin → Vladivostok → Rajin, transponder on (KUM UN SAN 3)."""
    rng = ctx.rng
    it = Itinerary(ctx, v, -float(rng.uniform(4.0, 20.0)) * HOUR, _berth(ctx, "Rajin"))
    it.stay((float(rng.uniform(3.0, 12.0)) * HOUR - it.t) / HOUR, ctx.world.port("Rajin"))
    while it.t < ctx.t_end:
        it.sail_to(_berth(ctx, "Vladivostok"), speed)
        it.stay(float(rng.uniform(12.0, 24.0)), ctx.world.port("Vladivostok"))
        it.sail_to(_berth(ctx, "Rajin"), speed)
        it.stay(float(rng.uniform(12.0, 30.0)), ctx.world.port("Rajin"))


# --------------------------------------------------------------------------- slow things at sea
def _slow_pair(
    ctx: Context,
    a: Vessel,
    b: Vessel,
    point: tuple[float, float],
    t_a: float,
    t_b: float,
    t_e: float,
    sep_km: tuple[float, float],
    origins: tuple[str, str],
    ends: tuple[str, str],
    group: int,
) -> tuple[float, float] | None:
    """Two vessels drifting side by side; returns (start, end) of their time together."""
    rng = ctx.rng
    speed = float(rng.uniform(0.2, 0.8))
    leg_a = ctx.slow_point(point[0], point[1], 3.0, t_a, (t_e - t_a) / HOUR, speed, group=group)
    if leg_a is None:
        return None
    leg_a.nav_status = NAV_RESTRICTED
    lat_b, lon_b, *_ = sample_leg(leg_a, np.array([t_b]), None)
    ang = float(rng.uniform(0, 2 * np.pi))
    sep = float(rng.uniform(*sep_km))
    b_lat, b_lon = offset_km(lat_b[0], lon_b[0], sep * np.cos(ang), sep * np.sin(ang))
    leg_b = Leg(
        t_b,
        t_e,
        "drift",
        np.array([[float(b_lat), float(b_lon)]]),
        speed,
        leg_a.course_deg,
        NAV_RESTRICTED,
    )
    _, tr_lat, tr_lon = ctx.slow._track(leg_b)
    if not ctx.world.router.at_sea(tr_lat, tr_lon).all() or not ctx.slow.clear(leg_b, group):
        return None
    if ctx.world.min_port_distance_km(tr_lat, tr_lon).min() < SLOW_PORT_CLEARANCE_KM:
        return None
    ctx.slow.add(leg_a, group)
    ctx.slow.add(leg_b, group)
    for v, leg, origin, end in ((a, leg_a, origins[0], ends[0]), (b, leg_b, origins[1], ends[1])):
        start = ctx.world.router.terminal(float(leg.path[0, 0]), float(leg.path[0, 1]))
        it = _arrive(ctx, v, origin, start, leg.t0, float(rng.uniform(9.0, 12.0)))
        it.drift(leg)
        _finish(ctx, it, end, float(rng.uniform(9.0, 12.0)))
    return t_b, t_e


def plant_meetings(ctx: Context, reps: int, points: list[tuple[float, float]]) -> None:
    """Ship-to-ship meetings (encounters), the first with CHONG CHON GANG."""
    rng = ctx.rng
    for k in range(2 * reps):
        t0 = _when(ctx, 4.0)
        if t0 is None or not points:
            return
        if k == 0:
            a = _named(ctx, "CHONG CHON GANG", "sts")
            _design(
                ctx,
                "identity",
                a,
                0.0,
                ctx.t_end,
                "North Korean MMSI (MID 445)",
                subtype="dprk_mid",
            )
        else:
            a = ctx.new_vessel("sts", str(rng.choice(["KP", "CN", "SL"])), "cargo")
        b = ctx.new_vessel("sts", str(rng.choice(["RU", "PA", "TG", "MN"])), "tanker")
        duration = float(rng.uniform(2.5, 3.2)) * HOUR
        t_a = t0 - float(rng.uniform(0.0, 0.3)) * HOUR
        got = None
        while points and got is None:
            got = _slow_pair(
                ctx,
                a,
                b,
                points.pop(),
                t_a,
                t0,
                t0 + duration,
                (0.08, 0.3),
                (str(rng.choice(KP_EAST)), str(rng.choice(RU_MAIN))),
                (str(rng.choice(KP_EAST)), str(rng.choice(RU_MAIN))),
                group=-(100 + k),
            )
        if got is None:
            return
        _design(
            ctx, "encounter", a, got[0], got[1], "ship-to-ship meeting at sea", other_mmsi=b.mmsi
        )


def plant_slow_pairs(ctx: Context, reps: int, points: list[tuple[float, float]]) -> None:
    """Look-alike: two vessels slow 1.4–1.6 km apart (too far for an encounter)."""
    rng = ctx.rng
    for k in range(reps):
        t0 = _when(ctx, 4.0)
        if t0 is None or not points:
            return
        a = ctx.new_vessel("slow_pair", str(rng.choice(["RU", "PA", "CN"])), "cargo")
        b = ctx.new_vessel("slow_pair", str(rng.choice(["RU", "PA", "CN"])), "tanker")
        duration = float(rng.uniform(2.5, 3.2)) * HOUR
        got = None
        while points and got is None:
            got = _slow_pair(
                ctx,
                a,
                b,
                points.pop(),
                t0,
                t0,
                t0 + duration,
                (1.4, 1.6),
                (str(rng.choice(RU_MAIN)), str(rng.choice(RU_MAIN))),
                (str(rng.choice(RU_MAIN)), str(rng.choice(RU_MAIN))),
                group=-(300 + k),
            )
        if got is None:
            return
        _design(
            ctx,
            "encounter",
            a,
            got[0],
            got[1],
            "slow pair 1.5 km apart (not an encounter)",
            other_mmsi=b.mmsi,
            negative=True,
        )


def plant_loiterers(ctx: Context, reps: int, points: list[tuple[float, float]]) -> None:
    """A vessel alone, drifting 5–9 h at sea."""
    rng = ctx.rng
    for k in range(2 * reps):
        hours = float(rng.uniform(5.0, 9.0))
        t0 = _when(ctx, hours)
        if t0 is None:
            return
        v = ctx.new_vessel("loiter", str(rng.choice(["RU", "SL", "TG", "KH", "PA"])), "tanker")
        leg = None
        while points and leg is None:
            lat, lon = points.pop()
            leg = ctx.slow_point(
                lat, lon, 3.0, t0, hours, float(rng.uniform(0.2, 0.8)), group=-(500 + k)
            )
        if leg is None:
            return
        ctx.slow.add(leg, -(500 + k))
        start = ctx.world.router.terminal(float(leg.path[0, 0]), float(leg.path[0, 1]))
        it = _arrive(ctx, v, str(rng.choice(RU_MAIN)), start, t0, float(rng.uniform(10.0, 13.0)))
        it.drift(leg)
        _finish(ctx, it, str(rng.choice(RU_MAIN)), float(rng.uniform(10.0, 13.0)))
        _design(ctx, "loitering", v, leg.t0, leg.t1, "lone loitering at sea")


# --------------------------------------------------------------------------- silences
def _voyage(ctx: Context, v: Vessel, origin: str, dest: str, depart: float, speed: float) -> Leg:
    start = _berth(ctx, origin)
    stay = float(ctx.rng.uniform(8.0, 24.0))
    it = Itinerary(ctx, v, depart - stay * HOUR, start)
    it.stay(stay, ctx.world.port(origin))
    leg = it.sail_to(_berth(ctx, dest), speed)
    it.stay(max(12.0, (ctx.t_end - it.t) / HOUR + 6.0), ctx.world.port(dest))
    return leg


def plant_silences(ctx: Context, reps: int) -> None:
    """Long silences (gaps, 8–20 h) and short ones (2.5–4 h, look-alikes)."""
    rng = ctx.rng
    router = ctx.world.router
    pairs = [(a, b) for a in RU_MAIN for b in ("Wonsan", "Hungnam", "Kimchaek")] + [
        (b, a) for a in RU_MAIN for b in ("Wonsan", "Hungnam", "Kimchaek")
    ]
    for _k in range(2 * reps):
        origin, dest = pairs[int(rng.integers(len(pairs)))]
        speed = float(rng.uniform(10.0, 12.0))
        hours = float(route_length_km(router.route(_berth(ctx, origin), _berth(ctx, dest)))[-1]) / (
            speed * KMH_PER_KN
        )
        dark = float(rng.uniform(8.0, min(20.0, hours - 5.0)))
        depart = _when(ctx, hours, lo_h=2.0, margin_h=4.0)
        if depart is None or hours < 13.0:
            continue
        v = ctx.new_vessel("dark_voyage", str(rng.choice(["CN", "SL", "TG", "MN", "KH"])), "cargo")
        leg = _voyage(ctx, v, origin, dest, depart, speed)
        a = leg.t0 + float(rng.uniform(2.5 * HOUR, leg.t1 - leg.t0 - 2.5 * HOUR - dark * HOUR))
        v.dark.append((a, a + dark * HOUR))
        _design(ctx, "gap", v, a, a + dark * HOUR, "transponder off at sea")
    coastal = [
        ("Vladivostok", "Vostochny"),
        ("Vostochny", "Vladivostok"),
        ("Nakhodka", "Posyet"),
        ("Posyet", "Nakhodka"),
        ("Vladivostok", "Nakhodka"),
        ("Zarubino", "Vostochny"),
    ]
    for _k in range(2 * reps):
        origin, dest = coastal[int(rng.integers(len(coastal)))]
        if not (ctx.world.has_berths(origin) and ctx.world.has_berths(dest)):
            continue
        speed = float(rng.uniform(9.0, 11.0))
        depart = _when(ctx, 10.0, lo_h=2.0, margin_h=4.0)
        if depart is None:
            continue
        v = ctx.new_vessel("short_silence", str(rng.choice(["RU", "PA", "KR"])), "cargo")
        leg = _voyage(ctx, v, origin, dest, depart, speed)
        silence = float(rng.uniform(2.5, 4.0)) * HOUR
        room = leg.t1 - leg.t0 - 3.0 * HOUR - silence
        if room <= 0:
            continue
        a = leg.t0 + 1.5 * HOUR + float(rng.uniform(0.0, room))
        v.dark.append((a, a + silence))
        _design(
            ctx, "gap", v, a, a + silence, "short silence under the 6 h threshold", negative=True
        )


# --------------------------------------------------------------------------- identity
def rename(ctx: Context, v: Vessel, new_name: str | None = None) -> None:
    """Rename ``v`` half-way through the scenario (identity_change)."""
    when = float(ctx.rng.uniform(0.35, 0.65)) * ctx.t_end
    new = new_name or ctx.factory.name(v.flag)
    v.renames.append((when, new))
    _design(
        ctx,
        "identity",
        v,
        when,
        when,
        f"renamed {v.identity.name} → {new}",
        subtype="identity_change",
    )


def plant_identity(ctx: Context, reps: int, trader: Any) -> None:
    """Renamed vessels (besides MAIA-1) and IMO numbers with a wrong check digit."""
    from tumen.sim.traffic import merchant

    for k in range(reps):
        if k:
            v = merchant(ctx, "RU")
            v.role = "renamed"
            rename(ctx, v)
        w = trader(ctx, "KP" if k % 2 == 0 else "RU", valid_imo=False)
        w.role = "invalid_imo"
        _design(
            ctx,
            "identity",
            w,
            0.0,
            ctx.t_end,
            f"IMO {w.identity.imo} has a wrong check digit",
            subtype="invalid_imo",
        )


def plant_conflicts(ctx: Context, reps: int) -> None:
    """One MMSI transmitted by two ships ≥ 200 km apart for 7–10 h."""
    rng, world = ctx.rng, ctx.world
    for _k in range(reps):
        window = float(rng.uniform(7.0, 10.0))
        t0 = _when(ctx, window + 4.0)
        if t0 is None:
            return
        victim = ctx.new_vessel("conflict_victim", "RU", "cargo")
        impostor = ctx.new_vessel("impostor", str(rng.choice(["KP", "CN"])), "cargo")
        # the victim sails from Vostochny up the Primorye coast towards the Tatar Strait
        speed = float(rng.uniform(11.0, 13.0))
        depart = t0 - 2.5 * HOUR
        stay = float(rng.uniform(8.0, 24.0))
        it = Itinerary(ctx, victim, depart - stay * HOUR, _berth(ctx, "Vostochny"))
        it.stay(stay, world.port("Vostochny"))
        leg = it.sail_to(world.gates["Tatar Strait"], speed)
        # the impostor: Rajin → off the Tumen estuary → slowly offshore and back → Chongjin
        router = world.router
        legs_at = [(42.0, 130.85), (41.55, 130.9), (41.75, 130.3)]
        if not all(router.at_sea(np.array([la]), np.array([lo]))[0] for la, lo in legs_at):
            continue
        it2 = _arrive(
            ctx,
            impostor,
            "Rajin",
            router.terminal(*legs_at[0]),
            t0 - 1.0 * HOUR,
            float(rng.uniform(8.0, 10.0)),
        )
        slow = float(rng.uniform(5.0, 7.0))
        it2.sail_to(router.terminal(*legs_at[1]), slow)
        loop = it2.sail_to(router.terminal(*legs_at[2]), slow)
        _finish(ctx, it2, "Chongjin", slow)
        a, b = t0, min(t0 + window * HOUR, loop.t1, leg.t1 - 0.5 * HOUR)
        if b - a < 6.0 * HOUR:
            continue
        impostor.mmsi_windows.append((a, b, victim.mmsi))
        _design(
            ctx,
            "identity",
            victim,
            a,
            b,
            f"MMSI also transmitted by {impostor.identity.name} ({impostor.mmsi})",
            subtype="mmsi_conflict",
            impostor_mmsi=impostor.mmsi,
        )


def plant_jumps(ctx: Context, reps: int) -> None:
    """A vessel whose reported position jumps 40–110 km away for one hour."""
    rng, world = ctx.rng, ctx.world
    for k in range(reps):
        t0 = _when(ctx, 3.0)
        if t0 is None:
            return
        v = ctx.new_vessel("position_jump", str(rng.choice(["RU", "PA", "HK"])), "cargo")
        origin, dest = ("Vladivostok", "Vostochny") if k % 2 == 0 else ("Vostochny", "Vladivostok")
        speed = float(rng.uniform(9.0, 11.0))
        leg = _voyage(ctx, v, origin, dest, t0 - 2.0 * HOUR, speed)
        mid = leg.t0 + (leg.t1 - leg.t0) / 2
        a, b = mid - 0.5 * HOUR, mid + 0.5 * HOUR
        t = np.arange(a, b, 60.0)
        lat, lon, *_ = sample_leg(leg, t, None)
        for _try in range(300):
            dist = float(rng.uniform(40.0, 110.0))
            ang = float(rng.uniform(0, 2 * np.pi))
            jl, jo = offset_km(lat, lon, dist * np.cos(ang), dist * np.sin(ang))
            near = np.zeros(len(jl), dtype=bool)
            for st in world.stations:
                if st.range_km > 0:
                    near |= haversine_km(jl, jo, st.lat, st.lon) < 75.0
            if (
                world.router.at_sea(jl, jo).all()
                and world.min_port_distance_km(jl, jo).min() > 30.0
                and near.all()
                and (jl > 41.0).all()
                and (jl < 45.0).all()
            ):
                v.jumps.append((a, b, dist * np.cos(ang), dist * np.sin(ang)))
                _design(
                    ctx,
                    "identity",
                    v,
                    a,
                    b,
                    f"reported position jumps {dist:.0f} km for one hour",
                    subtype="position_jump",
                )
                break


# --------------------------------------------------------------------------- look-alikes
def plant_crossings(ctx: Context, reps: int, points: list[tuple[float, float]]) -> None:
    """Look-alike: two ships crossing 100–300 m apart at 10–14 kn."""
    rng, world = ctx.rng, ctx.world
    router = world.router
    for _k in range(reps):
        t_c = _when(ctx, 2.0)
        if t_c is None:
            return
        for _try in range(40):
            if not points:
                return
            lat, lon = points.pop()
            c1 = float(rng.uniform(0, 360))
            c2 = c1 + float(rng.uniform(60, 120))
            cpa = float(rng.uniform(0.1, 0.3))
            ends: list[tuple[tuple[float, float], tuple[float, float]]] = []
            ok = True
            for course, shift in ((c1, 0.0), (c2, cpa)):
                r = np.radians(course)
                plat, plon = offset_km(
                    lat, lon, shift * np.cos(r + np.pi / 2), shift * np.sin(r + np.pi / 2)
                )
                a_lat, a_lon = offset_km(plat, plon, -20.0 * np.cos(r), -20.0 * np.sin(r))
                b_lat, b_lon = offset_km(plat, plon, 20.0 * np.cos(r), 20.0 * np.sin(r))
                a = (float(a_lat), float(a_lon))
                b = (float(b_lat), float(b_lon))
                if not router.clear(a[0], a[1], b[0], b[1]):
                    ok = False
                    break
                try:
                    router.terminal(float(a[0]), float(a[1]))
                    router.terminal(float(b[0]), float(b[1]))
                except RouteError:
                    ok = False
                    break
                ends.append((a, b))
            if ok:
                break
        else:
            return
        pair = []
        for a, b in ends:
            v = ctx.new_vessel("crossing", str(rng.choice(["RU", "PA", "KR", "CN"])), "cargo")
            speed = float(rng.uniform(10.0, 14.0))
            it = _arrive(
                ctx,
                v,
                str(rng.choice(RU_MAIN)),
                router.terminal(*a),
                t_c - 20.0 / (speed * KMH_PER_KN) * HOUR,
                speed,
            )
            it.sail_straight(b[0], b[1], speed)
            _finish(ctx, it, str(rng.choice(RU_MAIN)), speed)
            pair.append(v)
        _design(
            ctx,
            "encounter",
            pair[0],
            t_c - 0.25 * HOUR,
            t_c + 0.25 * HOUR,
            "fast crossing 100–300 m apart (not an encounter)",
            other_mmsi=pair[1].mmsi,
            negative=True,
        )


def plant_moored_pairs(ctx: Context, reps: int) -> None:
    """Look-alike: two ships moored side by side (40 m) in a watched port."""
    rng, world = ctx.rng, ctx.world
    for _k in range(reps):
        t0 = _when(ctx, 12.0)
        if t0 is None:
            return
        port_name = str(rng.choice(["Vladivostok", "Nakhodka", "Vostochny"]))
        port = world.port(port_name)
        berth = port.berths[int(rng.integers(len(port.berths)))]
        overlap = float(rng.uniform(8.0, 11.0)) * HOUR
        vessels = []
        for j in range(2):
            v = ctx.new_vessel("moored_pair", str(rng.choice(["RU", "PA", "KR"])), "cargo")
            speed = float(rng.uniform(10.0, 13.0))
            arrive = t0 - (float(rng.uniform(1.0, 4.0)) * HOUR if j == 0 else 0.0)
            origin = str(rng.choice([p for p in RU_MAIN if p != port_name]))
            it = _arrive(ctx, v, origin, berth, arrive, speed)
            it.stay(
                (t0 + overlap - it.t) / HOUR + (float(rng.uniform(1.0, 4.0)) if j == 0 else 0.0),
                port,
                offset_m=(0.0, 40.0 * j),
            )
            _finish(ctx, it, str(rng.choice([p for p in RU_MAIN if p != port_name])), speed)
            vessels.append(v)
        _design(
            ctx,
            "encounter",
            vessels[0],
            t0,
            t0 + overlap,
            f"moored side by side in {port_name} (not an encounter)",
            other_mmsi=vessels[1].mmsi,
            negative=True,
        )


def plant_all(ctx: Context, reps: int) -> None:
    """Every planted behaviour and look-alike, ``reps`` times where it repeats."""
    from tumen.sim.traffic import merchant

    rng = ctx.rng
    plant_shuttles(ctx, reps)
    kus = _named(ctx, "KUM UN SAN 3", "dprk_trader")
    plant_dprk_trader(ctx, kus, float(rng.uniform(9.0, 11.0)))
    _design(ctx, "identity", kus, 0.0, ctx.t_end, "North Korean MMSI (MID 445)", subtype="dprk_mid")
    points = coverage_points(ctx, 12 * reps + 10)
    rng.shuffle(points)
    plant_meetings(ctx, reps, points)
    plant_slow_pairs(ctx, reps, points)
    plant_loiterers(ctx, reps, points)
    plant_crossings(ctx, reps, points)
    plant_moored_pairs(ctx, reps)
    plant_silences(ctx, reps)
    plant_conflicts(ctx, reps)
    plant_jumps(ctx, reps)

    def trader(c: Context, trade: str, valid_imo: bool = True) -> Vessel:
        v = merchant(c, trade)
        if not valid_imo:
            v.identity.imo = c.factory.imo(valid=False)
        return v

    plant_identity(ctx, reps, trader)
