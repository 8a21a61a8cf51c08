"""A vessel's timeline: one lane per kind of event, over the period it was watched.

Lanes (top to bottom): AIS reception (when the vessel was heard), port visits,
voyages, AIS gaps, encounters, loitering, identity events, observations (tumen.observe:
sightings from outside AIS, marked ``O<id>``).  Interval events are
bars, events shorter than the drawing resolution are diamonds; each carries
its number in the dossier's event table.  Times are UTC.  Output is SVG text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tumen.report.maps import RC, TRACK, TYPE_COLOURS  # noqa: E402


def _num(value: datetime) -> float:
    """matplotlib's date number (days) of a UTC datetime."""
    return float(mdates.date2num(value))  # type: ignore[no-untyped-call]


LANES = (
    ("ais", "AIS heard"),
    ("port_visit", "Port visits"),
    ("voyage", "Voyages"),
    ("gap", "AIS gaps"),
    ("encounter", "Encounters"),
    ("loitering", "Loitering"),
    ("identity", "Identity"),
    ("observation", "Observations"),
)


@dataclass
class TimelineEvent:
    """An event on the timeline (UTC times)."""

    number: int
    type: str
    start: datetime
    end: datetime
    label: str = ""
    #: what the mark reads instead of the number (observations: ``O3``)
    mark: str = ""


def reception_intervals(ts: np.ndarray, max_silence_s: float) -> list[tuple[datetime, datetime]]:
    """Intervals during which fixes came no more than ``max_silence_s`` seconds apart."""
    if len(ts) == 0:
        return []
    t = ts.astype("datetime64[ms]")
    gaps = np.nonzero(np.diff(t).astype(np.float64) / 1000.0 > max_silence_s)[0]
    starts = np.concatenate([[0], gaps + 1])
    ends = np.concatenate([gaps, [len(t) - 1]])
    return [
        (t[a].astype(datetime), t[b].astype(datetime)) for a, b in zip(starts, ends, strict=True)
    ]


def vessel_timeline(
    events: Sequence[TimelineEvent],
    period: tuple[datetime, datetime],
    reception: Sequence[tuple[datetime, datetime]] = (),
    *,
    width_in: float = 7.0,
) -> str:
    """Draw the timeline; returns SVG text.

    Parameters
    ----------
    events:
        The vessel's events, numbered as in its dossier.
    period:
        (first, last) time shown, UTC.
    reception:
        Intervals when the vessel was heard (see :func:`reception_intervals`).
    """
    lanes = [lane for lane in LANES if lane[0] == "ais" or any(e.type == lane[0] for e in events)]
    index = {key: len(lanes) - 1 - i for i, (key, _t) in enumerate(lanes)}
    t0, t1 = period
    if t1 <= t0:
        t1 = t0 + timedelta(hours=1)
    span = t1 - t0
    min_bar = span / 250
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width_in, 0.42 * len(lanes) + 0.75))
        ax = fig.add_axes(
            (0.14, 0.75 / (0.42 * len(lanes) + 0.75), 0.84, 1 - 0.9 / (0.42 * len(lanes) + 0.75))
        )
        for y in range(len(lanes)):
            ax.axhline(y, color="#e6e6e6", lw=6, zorder=0, solid_capstyle="butt")
        y = index["ais"]
        for a, b in reception:
            ax.barh(
                y,
                _num(b) - _num(a) or 1e-4,
                left=_num(a),
                height=0.36,
                color=TRACK,
                alpha=0.55,
                zorder=2,
            )
        for ev in sorted(events, key=lambda e: e.start):
            lane = index.get(ev.type)
            if lane is None:
                continue
            y = lane
            colour = TYPE_COLOURS.get(ev.type, "#444444")
            start, end = max(ev.start, t0), min(ev.end, t1)
            if end - start >= min_bar:
                left = _num(start)
                width = _num(end) - left
                ax.barh(
                    y,
                    width,
                    left=left,
                    height=0.56,
                    color=colour,
                    alpha=0.9 if ev.type != "gap" else 0.35,
                    hatch="////" if ev.type == "gap" else None,
                    edgecolor=colour,
                    lw=0.6,
                    zorder=3,
                )
                x = left + width / 2
                inside = width >= (_num(t1) - _num(t0)) / 40
            else:
                x = _num(start)
                inside = False
                ax.plot(x, y, marker="D", ms=6, color=colour, mec="white", mew=0.6, zorder=4)
            ax.annotate(
                ev.mark or str(ev.number),
                (x, y),
                xytext=(0, 0) if inside else (0, 6),
                textcoords="offset points",
                ha="center",
                va="center" if inside else "bottom",
                fontsize=6.5,
                fontweight="bold",
                color=("#7a2412" if ev.type == "gap" else "white") if inside else colour,
                zorder=5,
            )
        ax.set_yticks(range(len(lanes)))
        ax.set_yticklabels([title for _k, title in reversed(lanes)], fontsize=7)
        ax.set_ylim(-0.6, len(lanes) - 0.4)
        ax.set_xlim(_num(t0), _num(t1))
        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))  # type: ignore[no-untyped-call]
        ax.tick_params(axis="x", labelsize=6.5, length=2)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="x", color="#dddddd", lw=0.5, zorder=0)
        years = sorted({t0.year, t1.year})
        ax.set_xlabel(
            f"UTC, {'–'.join(map(str, years))}", fontsize=6.5, color="#666666", loc="right"
        )
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()
