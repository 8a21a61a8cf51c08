"""Static maps as a person reads them: every label legible (no two overlap), every watched port
named on the overview, each ranked vessel's end marked and numbered."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text

from tumen.report import maps
from tumen.report.maps import MapEvent, MapSpec, Track, overview_map, vessel_map
from tumen.risk.signals import load_watched_ports


def _capture(monkeypatch) -> list[Figure]:
    """The figures the map functions draw (they return SVG text; the test measures the figure)."""
    figures: list[Figure] = []
    real = maps._svg

    def keep(fig: Figure) -> str:
        figures.append(fig)
        return real(fig)

    monkeypatch.setattr(maps, "_svg", keep)
    return figures


def _text_boxes(fig: Figure) -> list[tuple[str, object]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    # the text itself (an annotation's own extent also spans its leader line)
    return [(t.get_text(), Text.get_window_extent(t, renderer)) for t in ax.texts if t.get_text()]


def _overlaps(boxes) -> list[tuple[str, str]]:
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1 :]:
            w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if w > 0.5 and h > 0.5:
                out.append((a, b))
    return out


def _track(points, t0=datetime(2024, 3, 4)) -> Track:
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    ts = np.array([np.datetime64(t0) + np.timedelta64(i, "h") for i in range(len(points))])
    return Track(ts=ts.astype("datetime64[ms]"), lat=lat, lon=lon)


def test_overview_names_every_watched_port_and_no_labels_collide(monkeypatch) -> None:
    figures = _capture(monkeypatch)
    ports = load_watched_ports()
    # ten shuttles ending at or near the crowded Russian ports (Nakhodka–Vostochny, Vladivostok–Bolshoy Kamen)
    ends = [
        (42.74, 133.05),
        (42.80, 132.88),
        (43.11, 131.88),
        (43.11, 132.35),
        (42.88, 132.34),
        (42.73, 133.04),
        (42.79, 132.87),
        (42.24, 130.30),
        (42.23, 130.31),
        (43.10, 131.90),
    ]
    tracks = [
        (f"{i + 1} VESSEL {i + 1}", _track([(42.23, 130.30), (42.5, 131.5), end]))
        for i, end in enumerate(ends)
    ]
    overview_map(tracks, ports, resolution="c")
    boxes = _text_boxes(figures[-1])
    names = {text for text, _b in boxes}
    assert {p.name for p in ports} <= names  # all 17 watched ports are named
    assert {str(i) for i in range(1, 11)} <= names  # every vessel's number is shown
    assert _overlaps(boxes) == []
    # every label lies inside the map
    frame = figures[-1].axes[0].get_window_extent()
    for text, b in boxes:
        if text.endswith(" km"):
            continue
        assert (
            frame.x0 - 1 <= b.x0
            and b.x1 <= frame.x1 + 1
            and frame.y0 - 1 <= b.y0
            and b.y1 <= frame.y1 + 1
        ), text


def test_vessel_map_event_numbers_and_port_names_do_not_collide(monkeypatch) -> None:
    figures = _capture(monkeypatch)
    ports = load_watched_ports()
    tr = _track(
        [
            (42.23, 130.30),
            (42.5, 131.5),
            (42.74, 133.05),
            (42.80, 132.88),
            (42.5, 131.5),
            (42.23, 130.30),
        ]
    )
    events = [
        MapEvent(1, "port_visit", None, 42.733333, 133.05),
        MapEvent(2, "port_visit", None, 42.8, 132.883333),
        MapEvent(3, "loitering", None, 42.76, 132.95),
        MapEvent(4, "port_visit", None, 42.2333, 130.3),
    ]
    vessel_map(MapSpec(track=tr, events=events, ports=ports, resolution="c"))
    boxes = _text_boxes(figures[-1])
    names = {text for text, _b in boxes}
    assert {"Nakhodka", "Vostochny", "Rajin"} <= names
    assert _overlaps(boxes) == []
