"""Geometry SQL: distances, interpolation across 180°, and the neighbour-cell guarantee."""

from __future__ import annotations

import math

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import distance_m
from tumen.tracks.geo import (
    EARTH_RADIUS_M,
    M_PER_DEG,
    cell_count_sql,
    cell_x_sql,
    cell_y_sql,
    haversine_km_np,
    haversine_m,
    interp_lon,
)

CON = duckdb.connect()


def sql_scalar(expr: str, **cols: float) -> float:
    names = ", ".join(f"{v!r}::DOUBLE AS {k}" for k, v in cols.items())
    return CON.execute(f"SELECT {expr} FROM (SELECT {names})").fetchone()[0]


lat = st.floats(-85, 85)
lon = st.floats(-180, 179.999999)


@given(lat, lon, lat, lon)
@settings(max_examples=200, deadline=None)
def test_haversine_matches_python(a_lat, a_lon, b_lat, b_lon):
    got = sql_scalar(haversine_m("a", "b", "c", "d"), a=a_lat, b=a_lon, c=b_lat, d=b_lon)
    assert math.isclose(got, distance_m(a_lat, a_lon, b_lat, b_lon), rel_tol=1e-9, abs_tol=1e-6)


# (lat1, lon1, lat2, lon2, metres) on the sphere of radius 6 371 008.8 m (GRS 80 mean radius R1)
KNOWN = [
    (0.0, 0.0, 90.0, 0.0, 10_007_557.2),  # equator to pole: a quarter meridian, pi/2 * R
    (0.0, 0.0, 0.0, 180.0, 20_015_114.4),  # half the equator, pi * R
    (42.0, 130.0, 43.0, 130.0, 111_194.93),  # one degree of latitude
    (0.0, 179.5, 0.0, -179.5, 111_194.93),  # one degree of longitude on the equator, across 180°
    # one degree of longitude at 60°N: 2R asin(cos 60° sin 0.5°), 0.45 m shorter than the parallel
    (60.0, 10.0, 60.0, 11.0, 55_597.0),
]


@pytest.mark.parametrize(("a_lat", "a_lon", "b_lat", "b_lon", "metres"), KNOWN)
def test_known_distances_in_sql_and_numpy(a_lat, a_lon, b_lat, b_lon, metres):
    got_sql = sql_scalar(haversine_m("a", "b", "c", "d"), a=a_lat, b=a_lon, c=b_lat, d=b_lon)
    got_np = float(haversine_km_np(a_lat, a_lon, b_lat, b_lon)) * 1000.0
    assert got_sql == pytest.approx(metres, abs=1.0)
    assert got_np == pytest.approx(got_sql, rel=1e-12, abs=1e-6)


def test_one_radius_documented_with_its_source():
    import tumen.tracks.geo as geo

    # GRS 80: a = 6 378 137 m, b = 6 356 752.3141 m; R1 = (2a + b) / 3 (Moritz 2000)
    assert round((2 * 6_378_137.0 + 6_356_752.3141) / 3, 1) == EARTH_RADIUS_M
    assert pytest.approx(EARTH_RADIUS_M * math.pi / 180, abs=0.01) == M_PER_DEG
    assert "Moritz" in (geo.__doc__ or "")


def test_numpy_form_broadcasts_over_arrays():
    import numpy as np

    lat = np.array([42.0, 43.0, 44.0])
    got = haversine_km_np(lat, 130.0, 42.0, 130.0)
    assert got.shape == (3,) and got[0] == 0.0
    assert got[2] == pytest.approx(2 * M_PER_DEG / 1000.0, rel=1e-7)


def test_interpolation_goes_the_short_way_round_the_antimeridian():
    mid = sql_scalar(interp_lon("a", "b", "f"), a=179.5, b=-179.5, f=0.5)
    assert abs(abs(mid) - 180.0) < 1e-9
    quarter = sql_scalar(interp_lon("a", "b", "f"), a=179.5, b=-179.5, f=0.75)
    assert math.isclose(quarter, -179.75)


@given(
    lat,
    lon,
    st.floats(0, 499.9),
    st.floats(0, 2 * math.pi),
    st.sampled_from([100.0, 500.0, 2000.0]),
)
@settings(max_examples=300, deadline=None)
def test_points_closer_than_the_cell_size_are_in_neighbouring_cells(
    a_lat, a_lon, frac, bearing, size
):
    """The encounter search compares each point only with its own and the 8 neighbouring cells."""
    dist = frac / 500.0 * size
    north, east = dist * math.cos(bearing), dist * math.sin(bearing)
    b_lat = a_lat + north / 111_194.93
    b_lon = (a_lon + east / (111_194.93 * math.cos(math.radians(b_lat))) + 540) % 360 - 180
    if distance_m(a_lat, a_lon, b_lat, b_lon) > size:
        return
    ya = sql_scalar(cell_y_sql("x", size), x=a_lat)
    yb = sql_scalar(cell_y_sql("x", size), x=b_lat)
    assert abs(ya - yb) <= 1
    # b's cell in a's neighbouring band must be within one cell of a's position in that band
    xa = sql_scalar(cell_x_sql("x", "j", size), x=a_lon, j=yb)
    xb = sql_scalar(cell_x_sql("x", "j", size), x=b_lon, j=yb)
    n = sql_scalar(cell_count_sql("j", size), j=yb)
    assert min((xa - xb) % n, (xb - xa) % n) <= 1
