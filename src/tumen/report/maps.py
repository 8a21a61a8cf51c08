"""Static maps for the report: a vessel's track with its events, and an overview.

Drawn with matplotlib on an equirectangular projection whose aspect is
corrected by cos(latitude) at the map's centre (true shape at these scales),
over GSHHS coastlines and borders (:mod:`tumen.report.coast`).  The output is
SVG text, embedded in the HTML and the PDF as a ``data:`` URI: no tile server,
no download.

What a vessel map shows (the legend repeats it):

- the track as a solid line, broken where the vessel was silent or where two
  fixes imply an impossible speed;
- each AIS gap as a dashed line from the last fix before to the first fix after;
- port visits (squares at the port), encounters (stars, with the other
  vessel's track nearby in grey), loitering (rings), identity events (crosses);
- each marker carries the event's number in the dossier's event table;
- the watched ports (North Korean in red, Russian in blue).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from tumen.detect.ports import Port  # noqa: E402
from tumen.report.coast import choose_resolution, shapes  # noqa: E402

#: colours per event type, shared by maps, timeline and the HTML
TYPE_COLOURS = {
    "port_visit": "#2a9d8f",
    "voyage": "#264653",
    "gap": "#e76f51",
    "encounter": "#c1121f",
    "loitering": "#e9a23b",
    "identity": "#7b2cbf",
    "observation": "#b5179e",
}
COUNTRY_COLOURS = {"KP": "#b5172b", "RU": "#1f4e9c"}
#: identity subtypes that happen at a place (the others concern the whole transmitter)
POSITIONAL_SUBTYPES = {"position_jump", "mmsi_conflict"}
SEA = "#e8f0f6"
LAND = "#efebe2"
COAST = "#9a8f78"
TRACK = "#1d3557"

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "svg.fonttype": "path",
    "svg.hashsalt": "tumen",
    "axes.linewidth": 0.6,
}


@dataclass
class Track:
    """A vessel's fixes in time order: ``ts`` (datetime64, UTC), ``lat``/``lon`` (degrees)."""

    ts: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class MapEvent:
    """An event as the map draws it."""

    number: int
    type: str
    subtype: str | None
    lat: float | None
    lon: float | None
    label: str = ""
    #: for gaps: ((lat, lon) of the last fix before, (lat, lon) of the first fix after)
    ends: tuple[tuple[float, float], tuple[float, float]] | None = None
    partner: Track | None = None


@dataclass
class MapObservation:
    """An observation (tumen.observe) as the map draws it: a cross labelled ``O<id>``."""

    label: str
    lat: float
    lon: float
    popup: str = ""


@dataclass
class MapSpec:
    """Everything one vessel map needs."""

    track: Track
    events: list[MapEvent] = field(default_factory=list)
    observations: list[MapObservation] = field(default_factory=list)
    ports: Sequence[Port] = ()
    max_gap_s: float = 6 * 3600.0
    max_speed_kn: float = 50.0
    resolution: str = "auto"


def split_points(track: Track, max_gap_s: float, max_speed_kn: float) -> np.ndarray:
    """Indices where the track line must break: a silence ≥ ``max_gap_s`` or an impossible leg."""
    if len(track) < 2:
        return np.array([], dtype=int)
    dt = np.diff(track.ts).astype("timedelta64[ms]").astype(np.float64) / 1000.0
    dlat = np.radians(np.diff(track.lat))
    dlon = np.radians(np.diff(track.lon))
    a = (
        np.sin(dlat / 2) ** 2
        + np.cos(np.radians(track.lat[:-1]))
        * np.cos(np.radians(track.lat[1:]))
        * np.sin(dlon / 2) ** 2
    )
    dist_nmi = 2 * 3440.065 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    speed = np.where(dt > 0, dist_nmi / np.maximum(dt, 1e-9) * 3600.0, np.inf)
    bad = (dt >= max_gap_s) | ((speed > max_speed_kn) & (dist_nmi > 0.5))
    return np.nonzero(bad)[0] + 1


def _extent(
    lats: np.ndarray, lons: np.ndarray, aspect: float, min_span: float = 0.5
) -> tuple[float, float, float, float]:
    """(west, east, south, north) around the points, padded, shaped to ``aspect`` = width/height of the axes."""
    lats = lats[np.isfinite(lats)]
    lons = lons[np.isfinite(lons)]
    if len(lats) == 0:
        return (129.0, 134.0, 39.0, 44.0)
    s, n = float(lats.min()), float(lats.max())
    w, e = float(lons.min()), float(lons.max())
    lat0 = (s + n) / 2
    k = max(math.cos(math.radians(lat0)), 0.1)
    height = max(n - s, min_span) * 1.25
    width_deg = max((e - w), min_span / k) * 1.25
    # make width (in ground units) / height == aspect
    if width_deg * k / height < aspect:
        width_deg = height * aspect / k
    else:
        height = width_deg * k / aspect
    cx, cy = (w + e) / 2, lat0
    return (cx - width_deg / 2, cx + width_deg / 2, cy - height / 2, cy + height / 2)


#: axes rectangle in figure fractions (left, bottom, width, height); the legend goes below
AXES_RECT = (0.08, 0.13, 0.9, 0.85)


def _degree_formatter(decimals: int, east: bool) -> Any:
    def fmt(value: float, _pos: int) -> str:
        hemi = ("E" if value >= 0 else "W") if east else ("N" if value >= 0 else "S")
        if east and value > 180:
            value, hemi = value - 360, "W"
        return f"{abs(value):.{decimals}f}°{hemi}"

    return fmt


def _legend_below(fig: Figure, handles: list[Line2D]) -> None:
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 5),
        fontsize=6.5,
        frameon=False,
        bbox_to_anchor=(0.53, 0.0),
        handlelength=2.2,
        columnspacing=1.4,
    )


def _base(
    fig: Figure,
    extent: tuple[float, float, float, float],
    ports: Sequence[Port],
    resolution: str,
    label_ports: set[str] | None = None,
) -> Any:
    """Sea, land, borders, graticule and the watched ports' markers (their names: :func:`place_labels`)."""
    ax = fig.add_axes(AXES_RECT)
    w, e, s, n = extent
    ax.set_facecolor(SEA)
    res = choose_resolution(extent, resolution)
    for shape in shapes((round(w, 4), round(e, 4), round(s, 4), round(n, 4)), res):
        if shape.level == 0:
            ax.plot(
                shape.xy[:, 0], shape.xy[:, 1], color="#8c8c8c", lw=0.6, ls=(0, (4, 2)), zorder=2
            )
        else:
            colour = LAND if shape.level % 2 == 1 else SEA
            ax.fill(
                shape.xy[:, 0], shape.xy[:, 1], facecolor=colour, edgecolor=COAST, lw=0.5, zorder=1
            )
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(1 / max(math.cos(math.radians((s + n) / 2)), 0.1))
    ax.grid(color="white", lw=0.6, zorder=0.5)
    ax.tick_params(labelsize=7, length=2, colors="#555555")
    for axis, (lo, hi), east in ((ax.xaxis, (w, e), True), (ax.yaxis, (s, n), False)):
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
        ticks = axis.get_major_locator().tick_values(lo, hi)
        step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
        decimals = 0 if step >= 1 else (1 if step >= 0.1 else 2)
        if decimals < 2 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
            decimals += 1
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_degree_formatter(decimals, east)))
    for spine in ax.spines.values():
        spine.set_color("#8a8a8a")
    for port in ports:
        if w <= port.lon <= e and s <= port.lat <= n:
            colour = COUNTRY_COLOURS.get(port.country.upper(), "#333333")
            ax.plot(
                port.lon, port.lat, marker="s", ms=3.5, color=colour, mec="white", mew=0.5, zorder=6
            )
    return ax


def _markers(ax: Any) -> list[Any]:
    """The single-point markers drawn so far (ports, events, fixes): labels should not cover them."""
    return [
        line
        for line in ax.lines
        if len(line.get_xdata()) == 1 and line.get_marker() not in (None, "None", "")
    ]


def _port_labels(
    ports: Sequence[Port],
    extent: tuple[float, float, float, float],
    label_ports: set[str] | None = None,
) -> list[Label]:
    """The watched ports inside ``extent`` to name (all, or those in ``label_ports``), as labels to place."""
    w, e, s, n = extent
    return [
        Label(
            p.name,
            (p.lon, p.lat),
            colour=COUNTRY_COLOURS.get(p.country.upper(), "#333333"),
            fontsize=6.0,
            box={"boxstyle": "round,pad=0.1", "fc": (1, 1, 1, 0.7), "ec": "none"},
        )
        for p in ports
        if w <= p.lon <= e and s <= p.lat <= n and (label_ports is None or p.name in label_ports)
    ]


@dataclass
class Label:
    """A text to place next to the point ``xy`` (data coordinates)."""

    text: str
    xy: tuple[float, float]
    colour: str = "#333333"
    fontsize: float = 6.5
    bold: bool = False
    box: dict[str, Any] | None = None
    #: offsets (points) to try first, else :data:`CANDIDATE_OFFSETS`
    offsets: Sequence[tuple[float, float]] = ()


#: where a label may go around its point (points: right, left, above, below, the diagonals),
#: nearest first; then the same farther out, with a leader line
CANDIDATE_OFFSETS: tuple[tuple[float, float], ...] = (
    (5, 2),
    (5, -7),
    (-5, 2),
    (-5, -7),
    (0, 6),
    (0, -11),
    (7, 7),
    (-7, 7),
    (7, -13),
    (-7, -13),
)
FAR = 3.2  # leader lines: candidates scaled by this, twice and three times this


def place_labels(
    fig: Figure, ax: Any, labels: Sequence[Label], avoid: Sequence[Any] = ()
) -> list[Any]:
    """Place each label (in order: the first get the best places) where it overlaps nothing placed before.

    A greedy placement: for each label, the first offset around its point whose text box
    (in display units, as drawn) overlaps no label already placed, no marker in ``avoid``
    and stays inside the axes; when none is free near the point, the same offsets farther
    out (four rings) with a thin leader line; when none of those is free either, the one that overlaps
    least.  Returns the annotations, in the order of ``labels``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.apply_aspect()  # the axes take their final shape only when drawn: measure in that shape
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    for artist in avoid:
        placed.append(artist.get_window_extent(renderer).expanded(1.05, 1.05))
    out = []
    for label in labels:
        near = list(label.offsets) + [o for o in CANDIDATE_OFFSETS if o not in label.offsets]
        tries = [(o, False) for o in near] + [
            ((x * k, y * k), True)
            for k in (FAR, 2 * FAR, 3 * FAR, 4 * FAR)
            for x, y in CANDIDATE_OFFSETS + ((12, 0), (-12, 0), (0, 12), (0, -12))
        ]
        best = None
        for offset, leader in tries:
            ann = ax.annotate(
                label.text,
                label.xy,
                xytext=offset,
                textcoords="offset points",
                fontsize=label.fontsize,
                fontweight="bold" if label.bold else "normal",
                color=label.colour,
                zorder=10,
                ha="left" if offset[0] >= 0 else "right",
                bbox=label.box,
                arrowprops={
                    "arrowstyle": "-",
                    "color": "#777777",
                    "lw": 0.5,
                    "shrinkA": 0,
                    "shrinkB": 2,
                }
                if leader
                else None,
            )
            # the text only, not its leader line, with a margin for the box around it
            ann.update_positions(renderer)  # resolve "offset points" before measuring
            box = Text.get_window_extent(ann, renderer).padded(2.0 * fig.dpi / 72)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            overlap = sum(
                max(0.0, min(box.x1, b.x1) - max(box.x0, b.x0))
                * max(0.0, min(box.y1, b.y1) - max(box.y0, b.y0))
                for b in placed
            )
            cost = overlap + (0.0 if inside else 1e6)
            if cost == 0:
                if best is not None:
                    best[1].remove()
                best = (0.0, ann, box)
                break
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box)
            else:
                ann.remove()
        assert best is not None
        placed.append(Bbox(best[2].get_points()))
        out.append(best[1])
    return out


def _aspect(width_in: float, height_in: float) -> float:
    return (width_in * AXES_RECT[2]) / (height_in * AXES_RECT[3])


def _scale_bar(ax: Any, extent: tuple[float, float, float, float]) -> None:
    w, e, s, n = extent
    lat0 = (s + n) / 2
    km_per_deg = 111.32 * math.cos(math.radians(lat0))
    width_km = (e - w) * km_per_deg
    nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    length = max(v for v in nice if v <= max(width_km / 5, 1))
    x0 = w + (e - w) * 0.04
    y0 = s + (n - s) * 0.05
    ax.plot(
        [x0, x0 + length / km_per_deg],
        [y0, y0],
        color="#333333",
        lw=2,
        solid_capstyle="butt",
        zorder=9,
    )
    ax.annotate(
        f"{length:g} km",
        (x0, y0),
        xytext=(0, 4),
        textcoords="offset points",
        fontsize=6.5,
        zorder=9,
    )


def _badge(text: str, xy: tuple[float, float], colour: str, offset: tuple[float, float]) -> Label:
    """White numbers in a coloured disc (a rounded box for several numbers) next to ``xy``."""
    shape = "circle,pad=0.2" if len(text) <= 2 else "round,pad=0.25"
    return Label(
        text,
        xy,
        colour="white",
        fontsize=7,
        bold=True,
        box={"boxstyle": shape, "fc": colour, "ec": "white", "lw": 0.6},
        offsets=(offset,),
    )


def _group_labels(
    labels: Sequence[tuple[float, float, int, str]], extent: tuple[float, float, float, float]
) -> list[tuple[tuple[float, float], list[int], str]]:
    """Merge event numbers whose markers fall within 2 % of the map's width of each other.

    Repeated calls at one port, or several gaps on one route, then read ``1, 4, 10``
    instead of badges drawn on top of each other.  The group keeps the first
    event's position and colour.
    """
    w, e, s, n = extent
    tol_x, tol_y = (e - w) * 0.02, (n - s) * 0.02
    groups: list[tuple[tuple[float, float], list[int], str]] = []
    for x, y, number, colour in sorted(labels, key=lambda item: item[2]):
        for (gx, gy), numbers, _c in groups:
            if abs(gx - x) <= tol_x and abs(gy - y) <= tol_y:
                numbers.append(number)
                break
        else:
            groups.append(((x, y), [number], colour))
    return groups


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def vessel_map(spec: MapSpec, *, width_in: float = 7.0, height_in: float = 5.0) -> str:
    """Draw one vessel's track and events; returns SVG text.

    Parameters
    ----------
    spec:
        The track (time-ordered fixes), its events (numbered as in the dossier),
        the watched ports, the silence (s) and speed (knots) at which the track
        line breaks, and the GSHHS resolution (``auto`` picks by extent).
    """
    tr = spec.track
    lats = [tr.lat]
    lons = [tr.lon]
    for ev in spec.events:
        if ev.lat is not None and ev.lon is not None:
            lats.append(np.array([ev.lat]))
            lons.append(np.array([ev.lon]))
        if ev.ends:
            lats.append(np.array([ev.ends[0][0], ev.ends[1][0]]))
            lons.append(np.array([ev.ends[0][1], ev.ends[1][1]]))
        if ev.partner is not None:
            lats.append(ev.partner.lat)
            lons.append(ev.partner.lon)
    for ob in spec.observations:
        lats.append(np.array([ob.lat]))
        lons.append(np.array([ob.lon]))
    extent = _extent(
        np.concatenate(lats), np.concatenate(lons), aspect=_aspect(width_in, height_in)
    )
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width_in, height_in))
        ax = _base(fig, extent, spec.ports, spec.resolution)
        # the track, broken at silences and impossible legs
        cuts = split_points(tr, spec.max_gap_s, spec.max_speed_kn)
        for part in np.split(np.arange(len(tr)), cuts):
            if len(part) >= 2:
                ax.plot(
                    tr.lon[part],
                    tr.lat[part],
                    color=TRACK,
                    lw=1.1,
                    alpha=0.9,
                    zorder=4,
                    solid_joinstyle="round",
                )
            elif len(part) == 1:
                ax.plot(tr.lon[part], tr.lat[part], "o", color=TRACK, ms=1.5, zorder=4)
        if len(tr):
            ax.plot(tr.lon[0], tr.lat[0], "o", ms=5, mfc="white", mec=TRACK, mew=1.2, zorder=7)
            ax.plot(tr.lon[-1], tr.lat[-1], "o", ms=5, color=TRACK, zorder=7)
        labels: list[tuple[float, float, int, str]] = []
        for ev in spec.events:
            colour = TYPE_COLOURS.get(ev.type, "#444444")
            if ev.partner is not None and len(ev.partner):
                ax.plot(
                    ev.partner.lon,
                    ev.partner.lat,
                    color="#6c757d",
                    lw=0.9,
                    ls="-",
                    alpha=0.8,
                    zorder=3,
                )
            if ev.type == "gap" and ev.ends:
                (a_lat, a_lon), (b_lat, b_lon) = ev.ends
                ax.plot(
                    [a_lon, b_lon], [a_lat, b_lat], color=colour, lw=1.4, ls=(0, (4, 2.5)), zorder=5
                )
                ax.plot([a_lon, b_lon], [a_lat, b_lat], "o", ms=3, color=colour, zorder=5)
                x, y = (a_lon + b_lon) / 2, (a_lat + b_lat) / 2
            elif (
                ev.type == "voyage"
                or ev.lat is None
                or ev.lon is None
                or ev.type == "identity"
                and ev.subtype not in POSITIONAL_SUBTYPES
            ):
                continue
            else:
                x, y = ev.lon, ev.lat
                marker = {
                    "port_visit": "s",
                    "encounter": "*",
                    "loitering": "o",
                    "identity": "X",
                }.get(ev.type, "D")
                size = {"encounter": 13, "port_visit": 7, "loitering": 11}.get(ev.type, 7)
                face = "none" if ev.type == "loitering" else colour
                ax.plot(
                    x,
                    y,
                    marker=marker,
                    ms=size,
                    mfc=face,
                    mec=colour if face == "none" else "white",
                    mew=1.4 if face == "none" else 0.6,
                    zorder=8,
                )
            labels.append((x, y, ev.number, colour))
        badges = [
            _badge(", ".join(map(str, numbers)), (x, y), colour, (6, -9))
            for (x, y), numbers, colour in _group_labels(labels, extent)
        ]
        for ob in spec.observations:
            colour = TYPE_COLOURS["observation"]
            ax.plot(ob.lon, ob.lat, marker="P", ms=9, color=colour, mec="white", mew=0.6, zorder=9)
            badges.append(_badge(ob.label, (ob.lon, ob.lat), colour, (-8, 9)))
        place_labels(fig, ax, badges + _port_labels(spec.ports, extent), _markers(ax))
        _scale_bar(ax, extent)
        present = {
            ev.type
            for ev in spec.events
            if ev.type != "identity" or ev.subtype in POSITIONAL_SUBTYPES
        }
        handles = [
            Line2D([], [], color=TRACK, lw=1.2, label="AIS track"),
            Line2D([], [], ls="none", marker="o", mfc="white", mec=TRACK, label="first fix"),
            Line2D([], [], ls="none", marker="o", color=TRACK, label="last fix"),
        ]
        legend_items = [
            (
                "gap",
                Line2D(
                    [],
                    [],
                    color=TYPE_COLOURS["gap"],
                    lw=1.4,
                    ls=(0, (4, 2.5)),
                    label="AIS gap (dark)",
                ),
            ),
            (
                "port_visit",
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="s",
                    color=TYPE_COLOURS["port_visit"],
                    label="port visit",
                ),
            ),
            (
                "encounter",
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="*",
                    ms=9,
                    color=TYPE_COLOURS["encounter"],
                    label="encounter",
                ),
            ),
            (
                "loitering",
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="o",
                    ms=8,
                    mfc="none",
                    mec=TYPE_COLOURS["loitering"],
                    mew=1.4,
                    label="loitering",
                ),
            ),
            (
                "identity",
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="X",
                    color=TYPE_COLOURS["identity"],
                    label="identity event",
                ),
            ),
        ]
        handles += [h for t, h in legend_items if t in present]
        if spec.observations:
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="P",
                    color=TYPE_COLOURS["observation"],
                    label="observation",
                )
            )
        if any(ev.partner is not None for ev in spec.events):
            handles.append(Line2D([], [], color="#6c757d", lw=0.9, label="other vessel"))
        _legend_below(fig, handles)
        return _svg(fig)


def overview_map(
    tracks: Sequence[tuple[str, Track]],
    ports: Sequence[Port],
    *,
    resolution: str = "auto",
    label_ports: set[str] | None = None,
    width_in: float = 7.0,
    height_in: float = 5.6,
) -> str:
    """All the given vessels' tracks on one map, each labelled at its last fix; returns SVG text.

    Parameters
    ----------
    tracks:
        ``(label, track)`` pairs, e.g. ``("1", track)`` for the top-ranked vessel.
    label_ports:
        Names of the ports to name on the map; ``None`` (the report's choice): all, each
        placed where it overlaps no other label.
    """
    # frame the vessels and every watched port, so that each port can be named
    lats = [t.lat for _l, t in tracks if len(t)] + [np.array([p.lat for p in ports])]
    lons = [t.lon for _l, t in tracks if len(t)] + [np.array([p.lon for p in ports])]
    extent = _extent(
        np.concatenate(lats),
        np.concatenate(lons),
        aspect=_aspect(width_in, height_in),
        min_span=1.0,
    )
    palette = [
        "#1d3557",
        "#c1121f",
        "#2a9d8f",
        "#e76f51",
        "#7b2cbf",
        "#e9a23b",
        "#457b9d",
        "#6a994e",
        "#bc4749",
        "#3a0ca3",
    ]
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width_in, height_in))
        ax = _base(fig, extent, ports, resolution)
        handles = []
        badges = []
        for i, (label, tr) in enumerate(tracks):
            if not len(tr):
                continue
            colour = palette[i % len(palette)]
            cuts = split_points(tr, 6 * 3600.0, 50.0)
            for part in np.split(np.arange(len(tr)), cuts):
                if len(part) >= 2:
                    ax.plot(tr.lon[part], tr.lat[part], color=colour, lw=1.0, alpha=0.85, zorder=4)
            # the last fix, drawn above every track: each vessel's end is visible
            ax.plot(tr.lon[-1], tr.lat[-1], "o", ms=4, color=colour, mec="white", mew=0.6, zorder=9)
            badges.append(_badge(label.split(" ")[0], (tr.lon[-1], tr.lat[-1]), colour, (-13, -11)))
            handles.append(Line2D([], [], color=colour, lw=1.5, label=label))
        # vessels first (the top-ranked gets the best place), then every port
        place_labels(fig, ax, badges + _port_labels(ports, extent, label_ports), _markers(ax))
        _scale_bar(ax, extent)
        if handles:
            _legend_below(fig, handles)
        return _svg(fig)


def _latlon(lat: np.ndarray, lon: np.ndarray) -> list[list[float]]:
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(lat, lon, strict=True)]


def interactive_layers(
    spec: MapSpec, *, width_in: float = 7.0, height_in: float = 5.0
) -> dict[str, Any]:
    """The same map as :func:`vessel_map`, as data for the report's optional Leaflet map.

    Returns
    -------
    dict
        JSON-ready: ``bounds`` [[south, west], [north, east]], ``land`` and ``borders``
        (GSHHS, [lat, lon] rings and lines), ``track`` (pieces), ``partners``, ``gaps``
        (``from``, ``to``, ``label``), ``events`` (``lat``, ``lon``, ``type``, ``colour``,
        ``label``, ``popup``) and ``ports``; colours as in the static map.
    """
    tr = spec.track
    lats = [tr.lat] + [np.array([ev.lat]) for ev in spec.events if ev.lat is not None]
    lons = [tr.lon] + [np.array([ev.lon]) for ev in spec.events if ev.lon is not None]
    lats += [np.array([ob.lat]) for ob in spec.observations]
    lons += [np.array([ob.lon]) for ob in spec.observations]
    extent = _extent(
        np.concatenate(lats), np.concatenate(lons), aspect=_aspect(width_in, height_in)
    )
    w, e, s, n = extent
    # coastline for twice the view, so that zooming out a little does not show its edge
    cw, ce = w - (e - w) / 2, e + (e - w) / 2
    cs, cn = max(s - (n - s) / 2, -89.0), min(n + (n - s) / 2, 89.0)
    res = choose_resolution(extent, spec.resolution)
    land, borders = [], []
    for shape in shapes((round(cw, 4), round(ce, 4), round(cs, 4), round(cn, 4)), res):
        ring = _latlon(shape.xy[:, 1], shape.xy[:, 0])
        if shape.level == 0:
            borders.append(ring)
        elif shape.level % 2 == 1:
            land.append(ring)
    cuts = split_points(tr, spec.max_gap_s, spec.max_speed_kn)
    pieces = [
        _latlon(tr.lat[p], tr.lon[p]) for p in np.split(np.arange(len(tr)), cuts) if len(p) >= 2
    ]
    events, gaps, partners = [], [], []
    for ev in spec.events:
        colour = TYPE_COLOURS.get(ev.type, "#444444")
        if ev.partner is not None and len(ev.partner):
            partners.append(_latlon(ev.partner.lat, ev.partner.lon))
        if ev.type == "gap" and ev.ends:
            gaps.append(
                {
                    "from": list(ev.ends[0]),
                    "to": list(ev.ends[1]),
                    "label": str(ev.number),
                    "popup": ev.label,
                }
            )
        elif ev.lat is not None and ev.lon is not None and ev.type != "voyage":
            if ev.type == "identity" and ev.subtype not in POSITIONAL_SUBTYPES:
                continue
            events.append(
                {
                    "lat": ev.lat,
                    "lon": ev.lon,
                    "type": ev.type,
                    "colour": colour,
                    "label": str(ev.number),
                    "popup": ev.label,
                }
            )
    for ob in spec.observations:
        events.append(
            {
                "lat": ob.lat,
                "lon": ob.lon,
                "type": "observation",
                "colour": TYPE_COLOURS["observation"],
                "label": ob.label,
                "popup": ob.popup,
            }
        )
    return {
        "bounds": [[s, w], [n, e]],
        "land": land,
        "borders": borders,
        "track": pieces,
        "partners": partners,
        "gaps": gaps,
        "events": events,
        "ports": [
            {
                "name": p.name,
                "lat": p.lat,
                "lon": p.lon,
                "colour": COUNTRY_COLOURS.get(p.country.upper(), "#333333"),
            }
            for p in spec.ports
            if w <= p.lon <= e and s <= p.lat <= n
        ],
        "colours": {
            "track": TRACK,
            "gap": TYPE_COLOURS["gap"],
            "land": LAND,
            "coast": COAST,
            "sea": SEA,
        },
    }
