"""Routes stay at sea, by the land mask of global-land-mask."""

from __future__ import annotations

import numpy as np
import pytest
from global_land_mask import globe

from tumen.sim.geo import REGION, haversine_km, land_mask, segment_samples
from tumen.sim.places import world
from tumen.sim.routes import RouteError


def test_cropped_mask_equals_global_land_mask() -> None:
    rng = np.random.default_rng(0)
    lat = rng.uniform(REGION[0], REGION[1], 50_000)
    lon = rng.uniform(REGION[2], REGION[3], 50_000)
    assert np.array_equal(land_mask().is_sea(lat, lon), globe.is_ocean(lat, lon))


def _off_port(w, lat, lon, ends) -> np.ndarray:
    """Points outside the harbour (radius + 0.5 km) of the ports a route starts or ends in."""
    ok = np.ones(lat.shape, dtype=bool)
    for port in [*w.watched, *w.other]:
        if any(
            haversine_km(port.lat, port.lon, e.lat, e.lon) <= port.radius_km + 1.0 for e in ends
        ):
            ok &= haversine_km(lat, lon, port.lat, port.lon) > port.radius_km + 0.5
    return ok


def test_every_route_between_ports_and_straits_is_at_sea() -> None:
    w = world()
    places = [p.berths[0] for p in [*w.watched, *w.other] if p.berths] + list(w.gates.values())
    assert len(places) >= 25
    checked = 0
    for i, a in enumerate(places):
        for b in places[i + 1 :: 3]:
            pts = w.router.route(a, b)
            lat, lon = segment_samples(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1], 0.25)
            outside = _off_port(w, lat, lon, (a, b))
            assert globe.is_ocean(lat[outside], lon[outside]).all(), (a, b)
            # through-traffic keeps out of every other watched port's radius
            for port in w.watched:
                if port.index in a.allow | b.allow:
                    continue
                assert haversine_km(lat, lon, port.lat, port.lon).min() > port.radius_km
            checked += 1
    assert checked > 100


def test_rajin_to_dunai_goes_round_the_coast() -> None:
    w = world()
    pts = w.router.route(w.port("Rajin").berths[0], w.port("Dunai").berths[0])
    km = haversine_km(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]).sum()
    direct = haversine_km(
        w.port("Rajin").lat, w.port("Rajin").lon, w.port("Dunai").lat, w.port("Dunai").lon
    )
    assert direct < km < 1.5 * direct


def test_a_point_inland_has_no_sea_route() -> None:
    with pytest.raises(RouteError):
        world().router.terminal(43.8, 131.9)  # Ussuriysk, 60 km inland
