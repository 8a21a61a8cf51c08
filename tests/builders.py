"""Tiny hand-made tracks for tests, written straight into a store.

One fluent builder, shared by the whole test suite::

    from builders import track, statics, write

    t = (
        track(273456780)
        .at("2024-01-10T10:00Z", 42.24, 130.30, sog=0.2)   # a first fix
        .every("10min", n=6)                                # six more, same place, every 10 minutes
        .to(42.60, 131.00, over="4h", every="10min")       # sail there in 4 h, a fix every 10 min
        .silence("7h")                                      # nothing for 7 hours
        .fix(42.88, 132.34, sog=0.1)                        # one fix where the clock now is
        .stay("2h", every="5min")                           # stay put for 2 h, a fix every 5 min
    )
    write(store, t, statics(273456780, "2024-01-10T10:00Z", name="ANGARA", imo=9179842))

Times are UTC (``Z`` or no zone); durations are ``"30s"``, ``"10min"``, ``"2h"``, ``"1d"`` or a
:class:`~datetime.timedelta`; positions are WGS84 degrees; speeds knots.  ``sog`` defaults to the
speed implied by the movement (``to``) or to 0.1 kn (``at``/``stay``); pass ``sog=None`` explicitly
for "not available".  :func:`write` gives each row a ``pos_id``/``static_id`` after the store's
largest, a ``sources`` row and line numbers, exactly as ingest would, optionally in shuffled order.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from tumen.store.backend import Backend
from tumen.tracks.geo import EARTH_RADIUS_M, haversine_km_np

_UNSET: Any = object()
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(min|sec|s|m|h|d)")
_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}


def when(value: str | datetime) -> datetime:
    """A UTC time as a naive datetime (``"2024-01-10T10:00Z"``, ``"2024-01-10 10:00"``)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = value.strip().replace("Z", "").replace("z", "")
    return datetime.fromisoformat(text)


def duration(value: str | timedelta | float) -> timedelta:
    """``"10min"``, ``"2h"``, ``"90s"``, ``"1.5d"``, ``"6h1min"``, a timedelta, or seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    parts = _DURATION.findall(value)
    if not parts or _DURATION.sub("", value).strip():
        raise ValueError(f"duration {value!r}: use e.g. '30s', '10min', '2h', '1d', '6h1min'")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (:func:`tumen.tracks.geo.haversine_km_np`)."""
    return float(haversine_km_np(lat1, lon1, lat2, lon2)) * 1000.0


def offset(
    lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0
) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` metres east of (lat, lon)."""
    dlat = north_m / (EARTH_RADIUS_M * math.pi / 180)
    dlon = east_m / (EARTH_RADIUS_M * math.pi / 180 * math.cos(math.radians(lat)))
    new_lon = (lon + dlon + 540) % 360 - 180
    return lat + dlat, new_lon


@dataclass
class Track:
    """Fixes of one MMSI, added with a moving clock (see the module docstring)."""

    mmsi: int
    cls: str = "A"
    rows: list[dict[str, Any]] = field(default_factory=list)
    clock: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    sog: float | None = 0.1

    # -- adding fixes ------------------------------------------------------------------------
    def at(
        self, t: str | datetime, lat: float, lon: float, *, sog: float | None = _UNSET, **extra: Any
    ) -> Track:
        """Set the clock to ``t`` and add a fix there."""
        self.clock = when(t)
        return self.fix(lat, lon, sog=sog, **extra)

    def fix(self, lat: float, lon: float, *, sog: float | None = _UNSET, **extra: Any) -> Track:
        """Add a fix at the current clock."""
        assert self.clock is not None, "start with .at(time, lat, lon)"
        if sog is not _UNSET:
            self.sog = sog
        self.lat, self.lon = lat, (lon + 540) % 360 - 180 if lon != 180 else lon
        row = {"mmsi": self.mmsi, "ts": self.clock, "lat": lat, "lon": self.lon, "sog_kn": self.sog}
        row.update(extra)
        self.rows.append(row)
        return self

    def after(
        self,
        gap: str | timedelta | float,
        lat: float | None = None,
        lon: float | None = None,
        *,
        sog: float | None = _UNSET,
        **extra: Any,
    ) -> Track:
        """Advance the clock by ``gap`` and add a fix (at the same place unless given)."""
        self._advance(gap)
        return self.fix(
            self.lat if lat is None else lat, self.lon if lon is None else lon, sog=sog, **extra
        )

    def every(
        self, interval: str | timedelta | float, n: int, *, sog: float | None = _UNSET
    ) -> Track:
        """Add ``n`` more fixes at the current place, one every ``interval``."""
        for _ in range(n):
            self.after(interval, sog=sog)
        return self

    def stay(
        self,
        for_: str | timedelta | float,
        *,
        every: str | timedelta | float = "10min",
        sog: float | None = _UNSET,
    ) -> Track:
        """Stay at the current place for ``for_``, with a fix every ``every`` (last one at the end)."""
        n = int(round(duration(for_) / duration(every)))
        return self.every(every, n, sog=sog)

    def to(
        self,
        lat: float,
        lon: float,
        *,
        over: str | timedelta | float | None = None,
        speed_kn: float | None = None,
        every: str | timedelta | float = "10min",
        sog: float | None = _UNSET,
    ) -> Track:
        """Sail in a straight line (great circle, short way round) to (lat, lon).

        Give ``over`` (how long it takes) or ``speed_kn``; fixes every ``every``, the last one at
        the destination.  ``sog`` defaults to the implied speed.
        """
        assert self.lat is not None and self.lon is not None
        dist = distance_m(self.lat, self.lon, lat, lon)
        if over is None:
            assert speed_kn, "give over= or speed_kn="
            total = timedelta(seconds=dist / (speed_kn * 1852 / 3600))
        else:
            total = duration(over)
        steps = max(1, int(round(total / duration(every))))
        implied = dist / max(total.total_seconds(), 1e-9) * 3600 / 1852
        lat0, lon0 = self.lat, self.lon
        dlon = (lon - lon0 + 540) % 360 - 180
        for i in range(1, steps + 1):
            f = i / steps
            self._advance(total / steps)
            self.fix(
                lat0 + f * (lat - lat0), lon0 + f * dlon, sog=implied if sog is _UNSET else sog
            )
        return self

    def silence(self, for_: str | timedelta | float) -> Track:
        """Advance the clock without any fix."""
        self._advance(for_)
        return self

    def _advance(self, gap: str | timedelta | float) -> None:
        assert self.clock is not None, "start with .at(time, lat, lon)"
        self.clock = self.clock + duration(gap)

    # -- views -------------------------------------------------------------------------------
    @property
    def last(self) -> dict[str, Any]:
        return self.rows[-1]

    def __len__(self) -> int:
        return len(self.rows)


def track(mmsi: int, *, cls: str = "A") -> Track:
    """A new, empty track for ``mmsi`` (``cls`` 'A' or 'B' transponder)."""
    return Track(mmsi, cls=cls)


@dataclass
class Statics:
    """Static reports of one MMSI (rows of ``statics``)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def report(self, mmsi: int, t: str | datetime, **fields: Any) -> Statics:
        self.rows.append({"mmsi": mmsi, "ts": when(t), **fields})
        return self

    def every(self, interval: str | timedelta, n: int) -> Statics:
        """Repeat the last report ``n`` more times, ``interval`` apart."""
        last = self.rows[-1]
        for i in range(1, n + 1):
            self.rows.append(dict(last, ts=last["ts"] + duration(interval) * i))
        return self


def statics(mmsi: int, t: str | datetime, **fields: Any) -> Statics:
    """A static report (name, imo, callsign, ship_type, flag, destination, ...)."""
    return Statics().report(mmsi, t, **fields)


_POS_COLS = [
    ("pos_id", pa.int64()),
    ("mmsi", pa.int64()),
    ("ts", pa.timestamp("us")),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("sog_kn", pa.float32()),
    ("cog_deg", pa.float32()),
    ("heading_deg", pa.int16()),
    ("nav_status", pa.int8()),
    ("msg_type", pa.int8()),
    ("class", pa.string()),
    ("station", pa.string()),
    ("source_id", pa.int32()),
    ("line_no", pa.int64()),
    ("line_first", pa.int64()),
]
_STATIC_COLS = [
    ("static_id", pa.int64()),
    ("mmsi", pa.int64()),
    ("ts", pa.timestamp("us")),
    ("imo", pa.int64()),
    ("name", pa.string()),
    ("callsign", pa.string()),
    ("ship_type", pa.int16()),
    ("destination", pa.string()),
    ("flag", pa.string()),
    ("msg_type", pa.int8()),
    ("source_id", pa.int32()),
    ("line_no", pa.int64()),
    ("line_first", pa.int64()),
]


def write(
    store: Backend,
    *items: Track | Statics,
    shuffle: int | None = None,
    path: str = "builder://tests",
) -> dict[str, list[int]]:
    """Insert the fixes and static reports of ``items`` into ``store`` as one new source.

    ``shuffle`` (a seed) inserts the rows in a random order — as out-of-order input would arrive.
    Returns the ids given: ``{"pos_id": [...], "static_id": [...]}`` in the order of ``items``' rows.
    """
    pos_rows: list[dict[str, Any]] = []
    st_rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Track):
            for r in item.rows:
                msg = 18 if item.cls == "B" else 1
                pos_rows.append(
                    {
                        "msg_type": msg,
                        "class": item.cls,
                        "nav_status": None if item.cls == "B" else 0,
                        **r,
                    }
                )
        else:
            st_rows.extend(dict(r) for r in item.rows)
    order_p, order_s = list(range(len(pos_rows))), list(range(len(st_rows)))
    if shuffle is not None:
        rng = random.Random(shuffle)
        rng.shuffle(order_p)
        rng.shuffle(order_s)
    q = store.query(
        "SELECT (SELECT coalesce(max(pos_id), 0) FROM positions) AS p, "
        "(SELECT coalesce(max(static_id), 0) FROM statics) AS s, "
        "(SELECT coalesce(max(source_id), 0) FROM sources) AS src"
    ).to_pylist()[0]
    source_id = int(q["src"]) + 1
    digest = hashlib.sha256(repr((path, source_id, pos_rows, st_rows)).encode()).hexdigest()
    store.execute(
        "INSERT INTO sources (source_id, path, sha256, size_bytes, format, ingested_at, tumen_version, lines, "
        "stored, duplicates, quarantined) VALUES (?, ?, ?, 0, 'custom_csv', now()::TIMESTAMP, 'tests', ?, ?, 0, 0)",
        [source_id, path, digest, len(pos_rows) + len(st_rows), len(pos_rows) + len(st_rows)],
    )
    ids: dict[str, list[int]] = {"pos_id": [0] * len(pos_rows), "static_id": [0] * len(st_rows)}
    line = 0
    if pos_rows:
        cols: dict[str, list[Any]] = {name: [] for name, _ in _POS_COLS}
        for rank, i in enumerate(order_p):
            line += 1
            r = pos_rows[i]
            ids["pos_id"][i] = int(q["p"]) + rank + 1
            values = {
                "pos_id": ids["pos_id"][i],
                "source_id": source_id,
                "line_no": line,
                "line_first": line,
                **r,
            }
            for name, _ in _POS_COLS:
                cols[name].append(values.get(name))
        store.append("positions", pa.table(cols, schema=pa.schema(_POS_COLS)))
    if st_rows:
        cols = {name: [] for name, _ in _STATIC_COLS}
        for rank, i in enumerate(order_s):
            line += 1
            r = st_rows[i]
            ids["static_id"][i] = int(q["s"]) + rank + 1
            values = {
                "static_id": ids["static_id"][i],
                "source_id": source_id,
                "line_no": line,
                "line_first": line,
                "msg_type": 5,
                **r,
            }
            for name, _ in _STATIC_COLS:
                cols[name].append(values.get(name))
        store.append("statics", pa.table(cols, schema=pa.schema(_STATIC_COLS)))
    return ids


# ----------------------------------------------------------------------------- running the detectors
def detect(
    store: Backend, ports: Any = None, full: bool = False, **dotted: Any
) -> list[dict[str, Any]]:
    """Run every detector on ``store`` and return all events as public JSON-lines records.

    Settings are the defaults with ``dotted`` overrides, e.g.
    ``detect(store, **{"detect.gaps.min_gap_h": 3})``.
    """
    import engines
    from tumen.config import load_settings
    from tumen.detect.events import event_records, query_events

    # on the engine of the test (tests/engines.py): DuckDB, or Spark with the events imported back
    engines.run_detect(store, load_settings(overrides=dotted, environ={}), ports=ports, full=full)
    return list(event_records(query_events(store)))


def of(
    events: list[dict[str, Any]], etype: str, subtype: str | None = None
) -> list[dict[str, Any]]:
    """The events of one type (and subtype)."""
    return [
        e for e in events if e["type"] == etype and (subtype is None or e["subtype"] == subtype)
    ]


def event_key(e: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies an event independently of row ids."""
    return (
        e["type"],
        e["subtype"],
        e["mmsi"],
        e["other_mmsi"],
        e["start"],
        e["end"],
        e["port"],
        e["from_port"],
        e["to_port"],
    )
