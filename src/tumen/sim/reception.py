"""Which receiving stations hear each report.

A terrestrial station at distance ``d`` hears a report with probability
``p_max · (1 − (d / R)²)`` for ``d < R`` (VHF reception falls off towards the radio
horizon); ``R`` is the station's class A range, 60 % of it for class B.  The
satellite feed hears any report with a small fixed probability.  A report heard by
no station is lost; one heard by two stations becomes two lines (the duplicates a
real merged feed carries).  Reports outside the feed area are never delivered.

Returns per report the stations that heard it, as ``(report index, station index)``
pairs — the lines of the feed before noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from tumen.sim.geo import haversine_km
from tumen.sim.places import Station

#: Share of the class A range at which class B (2 W) is heard.
CLASS_B_RANGE_SHARE = 0.6


def in_area(
    lat: NDArray[np.float64], lon: NDArray[np.float64], area: Sequence[float]
) -> NDArray[np.bool_]:
    """Whether points lie in the feed area ``(lat_min, lat_max, lon_min, lon_max)``."""
    lat_min, lat_max, lon_min, lon_max = area
    return (lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)


def receive(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    class_b: NDArray[np.bool_],
    stations: Sequence[Station],
    area: Sequence[float],
    rng: np.random.Generator,
    *,
    p_terrestrial: float,
    p_satellite_a: float,
    p_satellite_b: float,
) -> tuple[NDArray[np.int64], NDArray[np.int16]]:
    """Lines of the feed: ``(report index, station index)`` of every reception.

    Parameters
    ----------
    lat, lon:
        Reported positions (degrees).
    class_b:
        Whether each report comes from a class B transponder.
    stations:
        Receivers; ``range_km == 0`` is the satellite feed.
    area:
        Feed area (degrees).
    p_terrestrial:
        Probability that a station next to the vessel hears a report (0–1).
    p_satellite_a, p_satellite_b:
        Probability that the satellite feed hears a class A / class B report (0–1).
    """
    n = len(lat)
    inside = in_area(lat, lon, area)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int16]] = []
    for k, st in enumerate(stations):
        u = rng.random(n)
        if st.range_km <= 0:
            p = np.where(class_b, p_satellite_b, p_satellite_a)
        else:
            reach = np.where(class_b, st.range_km * CLASS_B_RANGE_SHARE, st.range_km)
            near = (np.abs(lat - st.lat) < reach.max() / 100.0) & inside
            p = np.zeros(n)
            if near.any():
                d = haversine_km(lat[near], lon[near], st.lat, st.lon)
                p[near] = np.where(
                    d < reach[near], p_terrestrial * (1.0 - (d / reach[near]) ** 2), 0.0
                )
        heard = np.flatnonzero((u < p) & inside)
        rows.append(heard.astype(np.int64))
        cols.append(np.full(len(heard), k, dtype=np.int16))
    return np.concatenate(rows), np.concatenate(cols)
