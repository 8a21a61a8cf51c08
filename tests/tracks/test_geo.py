"""Geometry SQL: distances, interpolation across 180°, and the neighbour-cell guarantee."""

from __future__ import annotations

import math

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import distance_m
from tumen.tracks.geo import cell_count_sql, cell_x_sql, cell_y_sql, haversine_m, interp_lon

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
