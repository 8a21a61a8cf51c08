"""Geometry of the simulated sea: distances, and where the sea is.

The land mask is the GLOBE-derived 30 arc-second (≈ 1 km) mask shipped inside the
``global-land-mask`` package (Karin, T., *global-land-mask*, PyPI; data: NOAA
GLOBE Task Team, *The Global Land One-kilometer Base Elevation (GLOBE) Digital
Elevation Model*, 1999).  Only the rows and columns of the simulated region are read
from the package's compressed array (streamed, ≈ 0.7 s), never the whole 933 MB
global grid, and nothing is downloaded.  A cell is *sea* where that package's
``globe.is_ocean`` says so; :func:`land_mask` reproduces its indexing exactly (a test
checks the two agree).

Units: degrees (WGS84), kilometres, knots.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# The one sphere and distance of tumen (tumen.tracks.geo), under the names the simulator uses.
from tumen.tracks.geo import EARTH_RADIUS_KM
from tumen.tracks.geo import haversine_km_np as haversine_km

__all__ = [
    "EARTH_RADIUS_KM",
    "KMH_PER_KN",
    "REGION",
    "LandMask",
    "bearing_deg",
    "haversine_km",
    "land_mask",
    "offset_km",
    "segment_samples",
]

#: One knot in km/h (exact, 1 nautical mile = 1852 m).
KMH_PER_KN = 1.852

#: The region whose land mask is loaded (degrees): the whole Sea of Japan / East Sea
#: with its straits, so that routes to Korean, Japanese and Chinese ports stay at sea.
REGION = (33.0, 47.5, 127.0, 143.5)  # lat_min, lat_max, lon_min, lon_max

_MASK_ROWS, _MASK_COLS = 21600, 43200  # the package's global grid (1/120 degree)


def bearing_deg(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Initial great-circle bearing (degrees true, 0–360) from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.degrees(np.arctan2(x, y)) % 360.0)


def offset_km(
    lat: ArrayLike, lon: ArrayLike, north_km: ArrayLike, east_km: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move a point by small north/east offsets (km), local flat-Earth approximation."""
    lat_a = np.asarray(lat, dtype=float)
    dlat = np.degrees(np.asarray(north_km) / EARTH_RADIUS_KM)
    dlon = np.degrees(np.asarray(east_km) / (EARTH_RADIUS_KM * np.cos(np.radians(lat_a))))
    return lat_a + dlat, np.asarray(lon) + dlon


@dataclass(frozen=True)
class LandMask:
    """The sea/land grid of :data:`REGION` (True = sea), at 1/120 degree.

    Attributes
    ----------
    sea:
        Boolean array, row 0 = northernmost row (as in the package's global grid).
    row0, col0:
        Index of ``sea[0, 0]`` in the package's global grid.
    """

    sea: NDArray[np.bool_]
    row0: int
    col0: int
    lat0: float = 90.0
    dlat: float = -1.0 / 120.0
    lon0: float = -180.0
    dlon: float = 1.0 / 120.0

    def index(self, lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Global (row, col) of each point, exactly as ``global_land_mask.globe`` computes them."""
        lat_a = np.asarray(lat, dtype=float)
        lon_a = np.asarray(lon, dtype=float)
        rows = ((lat_a - self.lat0) / self.dlat).astype(np.intp)
        cols = ((lon_a - self.lon0) / self.dlon).astype(np.intp)
        return rows, cols

    def is_sea(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.bool_]:
        """Whether each point lies in a sea cell; points outside :data:`REGION` count as land."""
        rows, cols = self.index(lat, lon)
        r = rows - self.row0
        c = cols - self.col0
        inside = (r >= 0) & (r < self.sea.shape[0]) & (c >= 0) & (c < self.sea.shape[1])
        out = np.zeros(np.shape(r), dtype=bool)
        out[inside] = self.sea[r[inside], c[inside]]
        return out

    def cell_center(
        self, rows: ArrayLike, cols: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Latitude and longitude of the centre of local cells (rows/cols of :attr:`sea`)."""
        r = np.asarray(rows) + self.row0
        c = np.asarray(cols) + self.col0
        return self.lat0 + (r + 0.5) * self.dlat, self.lon0 + (c + 0.5) * self.dlon


def _mask_file() -> Path:
    spec = importlib_util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        from tumen.errors import BackendUnavailable

        raise BackendUnavailable(
            "the simulator needs the global-land-mask package; install it with "
            "`pip install global-land-mask`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "globe_combined_mask_compressed.npz"


@cache
def land_mask() -> LandMask:
    """The land mask of :data:`REGION`, read once per process from global-land-mask's data."""
    lat_min, lat_max, lon_min, lon_max = REGION
    with zipfile.ZipFile(_mask_file()) as archive:
        lats = _read_npy(archive, "lat.npy")
        lons = _read_npy(archive, "lon.npy")
        lat0, dlat = float(lats[0]), float(lats[1] - lats[0])
        lon0, dlon = float(lons[0]), float(lons[1] - lons[0])
        row0 = int((lat_max - lat0) / dlat)
        row1 = int((lat_min - lat0) / dlat) + 1
        col0 = int((lon_min - lon0) / dlon)
        col1 = int((lon_max - lon0) / dlon) + 1
        with archive.open("mask.npy") as fh:
            shape, fortran, dtype = _npy_header(fh)
            if shape != (_MASK_ROWS, _MASK_COLS) or fortran or dtype != np.dtype(bool):
                raise RuntimeError(f"unexpected global-land-mask layout {shape} {dtype}")
            skip = row0 * _MASK_COLS
            while skip:
                skip -= len(fh.read(min(skip, 1 << 24)))
            raw = fh.read((row1 - row0) * _MASK_COLS)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(row1 - row0, _MASK_COLS)
    sea = rows[:, col0:col1].astype(bool)
    return LandMask(sea=sea, row0=row0, col0=col0, lat0=lat0, dlat=dlat, lon0=lon0, dlon=dlon)


def _npy_header(fh: Any) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        header = np.lib.format.read_array_header_1_0(fh)
    else:
        header = np.lib.format.read_array_header_2_0(fh)
    shape, fortran, dtype = header
    return tuple(int(v) for v in shape), bool(fortran), np.dtype(dtype)


def _read_npy(archive: zipfile.ZipFile, name: str) -> NDArray[np.float64]:
    with archive.open(name) as fh:
        shape, _fortran, dtype = _npy_header(fh)
        data = fh.read(int(np.prod(shape)) * dtype.itemsize)
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(np.float64)


def segment_samples(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, step_km: float = 0.25
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_km`` along straight (lat/lon-linear) segments, ends included.

    Returns two arrays of shape ``(n_segments, n_samples)`` (the longest segment sets
    ``n_samples``; shorter ones are sampled more densely).
    """
    la1, lo1 = np.atleast_1d(lat1).astype(float), np.atleast_1d(lon1).astype(float)
    la2, lo2 = np.atleast_1d(lat2).astype(float), np.atleast_1d(lon2).astype(float)
    length = haversine_km(la1, lo1, la2, lo2)
    n = int(np.ceil(float(length.max(initial=0.0)) / step_km)) + 1
    f = np.linspace(0.0, 1.0, max(n, 2))
    return la1[:, None] + (la2 - la1)[:, None] * f, lo1[:, None] + (lo2 - lo1)[:, None] * f
