"""Ground truth: every event the detectors should report, from the simulated tracks.

The truth is derived from the *ground-truth fixes* — every position report the feed
delivered intact at least once (before noise; the values as the standard quantises
them; spoofed jump positions left out) — with the definitions of issue 4 and the
default parameters of :class:`tumen.config.DetectSettings`, so the F1 measures
detection, not a difference in what the data showed:

``port_visit``
    consecutive fixes of one vessel within a watched port's radius (haversine to the
    port position), first to last, lasting ≥ ``min_duration_min``; silence inside
    the port does not split it.
``voyage``
    between consecutive port visits of one vessel at two different watched ports:
    from the end of the first to the start of the next.
``gap``
    ≥ ``min_gap_h`` between consecutive fixes of one vessel (last fix before, first
    after); a silence at the end of the data is no gap.
``loitering``
    consecutive fixes under ``max_speed_kn`` at ≥ ``min_port_distance_km`` from
    every watched port, first to last, lasting ≥ ``min_duration_h``.
``encounter``
    two vessels with different MMSIs, tracks interpolated linearly at
    ``step_min`` steps (on the Unix-epoch grid, never across a silence over
    ``max_interp_gap_min``, only between fixes both under ``max_speed_kn``), within
    ``max_distance_m`` of each other and ≥ ``min_port_distance_km`` from every port
    at each step, for consecutive steps spanning ≥ ``min_duration_h``.
``identity``
    ``dprk_mid`` for every MMSI with MID 445 that was heard (first to last message);
    ``invalid_imo`` per MMSI and wrong IMO heard in static reports; ``identity_change``
    where the name, IMO or call sign of consecutive static reports of one MMSI differ
    (values seen in at least ``min_static_reports`` reports; changes within
    ``change_merge_h`` merged); ``mmsi_conflict`` and ``position_jump`` from the plan
    (first to last delivered report of the second transmitter, when the MMSI switches
    between the two at least ``conflict_min_switches`` times / of the displaced
    positions, when there are at least ``jump_min_positions``).

Loitering runs also end at a silence of ``max_silence_h`` (default the gap threshold):
a loitering never spans a gap.

A *vessel* here is one transmitter under one MMSI (an impostor's reports under a
stolen MMSI form their own track), which is what a correct segmenter recovers.
Look-alikes are added from the plan with ``"negative": true``.

Times are Unix seconds (UTC) inside, ISO 8601 with ``Z`` in the JSON lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tumen.config import DetectSettings
from tumen.detect.events import CONTRACT_KEYS
from tumen.identifiers import imo_ship_valid
from tumen.sim.geo import haversine_km
from tumen.sim.places import Port
from tumen.sim.vessels import mid_of
from tumen.times import parse_utc, unix_seconds


@dataclass
class Fixes:
    """Ground-truth fixes, sorted by (track, ts)."""

    track: NDArray[np.int64]  # one id per (vessel, mmsi)
    vessel: NDArray[np.int64]
    mmsi: NDArray[np.int64]
    ts: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    sog: NDArray[np.float64]

    @classmethod
    def build(
        cls,
        vessel: NDArray[np.integer],
        mmsi: NDArray[np.integer],
        ts: NDArray[np.integer],
        lat: NDArray[np.floating],
        lon: NDArray[np.floating],
        sog: NDArray[np.floating],
    ) -> Fixes:
        """Sort the fixes and number the tracks."""
        vessel_a: NDArray[np.int64] = np.asarray(vessel, dtype=np.int64)
        mmsi_a: NDArray[np.int64] = np.asarray(mmsi, dtype=np.int64)
        order = np.lexsort((np.asarray(ts), mmsi_a, vessel_a))
        v, m = vessel_a[order], mmsi_a[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (v[1:] != v[:-1]) | (m[1:] != m[:-1])
        return cls(
            np.cumsum(new) - 1,
            v,
            m,
            np.asarray(ts, dtype=np.int64)[order],
            np.asarray(lat, dtype=float)[order],
            np.asarray(lon, dtype=float)[order],
            np.asarray(sog, dtype=float)[order],
        )

    def __len__(self) -> int:
        return len(self.ts)


def iso(ts: float) -> str:
    """Unix seconds → ``2024-03-04T10:01:30Z``."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(kind: str, mmsi: int, start: float, end: float, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "subtype": None,
        "mmsi": int(mmsi),
        "other_mmsi": None,
        "start": int(start),
        "end": int(end),
        "lat": None,
        "lon": None,
        "port": None,
        "from_port": None,
        "to_port": None,
        "evidence": {},
    }
    out.update(extra)
    return out


def _runs(
    flag: NDArray[np.bool_], track: NDArray[np.int64], key: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """First and last index of each run of consecutive True rows within a track (same ``key``)."""
    if not len(flag):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    same = np.zeros(len(flag), dtype=bool)
    same[1:] = (track[1:] == track[:-1]) & flag[1:] & flag[:-1]
    if key is not None:
        same[1:] &= key[1:] == key[:-1]
    starts = np.flatnonzero(flag & ~same)
    ends_mask = np.zeros(len(flag), dtype=bool)
    ends_mask[:-1] = flag[:-1] & ~same[1:]
    ends_mask[-1] = flag[-1]
    ends = np.flatnonzero(ends_mask)
    return starts, ends


def port_index(f: Fixes, ports: Sequence[Port], radius_scale: float = 1.0) -> NDArray[np.int64]:
    """Index of the watched port whose radius each fix is in (nearest), −1 if none."""
    best = np.full(len(f), -1, dtype=np.int64)
    best_d = np.full(len(f), np.inf)
    for k, p in enumerate(ports):
        box = (np.abs(f.lat - p.lat) < 0.2) & (np.abs(f.lon - p.lon) < 0.3)
        idx = np.flatnonzero(box)
        if not len(idx):
            continue
        d = haversine_km(f.lat[idx], f.lon[idx], p.lat, p.lon)
        hit = (d <= p.radius_km * radius_scale) & (d < best_d[idx])
        best[idx[hit]] = k
        best_d[idx[hit]] = d[hit]
    return best


def port_distance(
    lat: NDArray[np.float64], lon: NDArray[np.float64], ports: Sequence[Port]
) -> NDArray[np.float64]:
    """Distance (km) to the nearest watched port position."""
    out = np.full(len(lat), np.inf)
    for p in ports:
        out = np.minimum(out, haversine_km(lat, lon, p.lat, p.lon))
    return out


def port_visits(f: Fixes, ports: Sequence[Port], params: DetectSettings) -> list[dict[str, Any]]:
    """Port visits (see the module docstring)."""
    pid = port_index(f, ports, params.port_visits.radius_scale)
    starts, ends = _runs(pid >= 0, f.track, pid)
    keep = (f.ts[ends] - f.ts[starts]) >= params.port_visits.min_duration_min * 60.0
    out = []
    for a, b in zip(starts[keep], ends[keep], strict=True):
        port = ports[int(pid[a])]
        out.append(
            _event(
                "port_visit",
                f.mmsi[a],
                f.ts[a],
                f.ts[b],
                lat=port.lat,
                lon=port.lon,
                port=port.name,
                evidence={
                    "n_fixes": int(b - a + 1),
                    "duration_h": round((f.ts[b] - f.ts[a]) / 3600.0, 3),
                },
                _track=int(f.track[a]),
            )
        )
    return out


def voyages(visits: list[dict[str, Any]], params: DetectSettings) -> list[dict[str, Any]]:
    """Voyages between consecutive visits of a vessel at two different ports."""
    out = []
    by_track: dict[int, list[dict[str, Any]]] = {}
    for v in visits:
        by_track.setdefault(v["_track"], []).append(v)
    for items in by_track.values():
        items.sort(key=lambda e: e["start"])
        for prev, nxt in zip(items, items[1:], strict=False):
            if prev["port"] == nxt["port"]:
                continue
            if nxt["start"] - prev["end"] > params.voyages.max_duration_days * 86400.0:
                continue
            out.append(
                _event(
                    "voyage",
                    prev["mmsi"],
                    prev["end"],
                    nxt["start"],
                    from_port=prev["port"],
                    to_port=nxt["port"],
                    evidence={"duration_h": round((nxt["start"] - prev["end"]) / 3600.0, 3)},
                )
            )
    return out


def gaps(f: Fixes, ports: Sequence[Port], params: DetectSettings) -> list[dict[str, Any]]:
    """Silences of at least ``min_gap_h`` between consecutive fixes of a vessel."""
    if len(f) < 2:
        return []
    same = f.track[1:] == f.track[:-1]
    dt = np.diff(f.ts)
    idx = np.flatnonzero(same & (dt >= params.gaps.min_gap_h * 3600.0))
    out = []
    for i in idx:
        j = i + 1
        km = float(haversine_km(f.lat[i], f.lon[i], f.lat[j], f.lon[j]))
        hours = (f.ts[j] - f.ts[i]) / 3600.0
        out.append(
            _event(
                "gap",
                f.mmsi[i],
                f.ts[i],
                f.ts[j],
                lat=float(f.lat[i]),
                lon=float(f.lon[i]),
                evidence={
                    "duration_h": round(hours, 3),
                    "distance_km": round(km, 3),
                    "implied_speed_kn": round(km / 1.852 / hours, 3),
                },
            )
        )
    return out


def loitering(f: Fixes, ports: Sequence[Port], params: DetectSettings) -> list[dict[str, Any]]:
    """Runs of slow fixes far from ports lasting at least ``min_duration_h``."""
    p = params.loitering
    slow = (f.sog < p.max_speed_kn) & (port_distance(f.lat, f.lon, ports) >= p.min_port_distance_km)
    # a silence of max_silence_h (default: the gap threshold) or more ends the run
    silence_s = p.max_silence_h * 3600.0
    run_id = np.zeros(len(f), dtype=np.int64)
    if len(f) > 1:
        run_id[1:] = np.cumsum(np.diff(f.ts) >= silence_s)
    starts, ends = _runs(slow, f.track, run_id)
    keep = (f.ts[ends] - f.ts[starts]) >= p.min_duration_h * 3600.0
    out = []
    for a, b in zip(starts[keep], ends[keep], strict=True):
        out.append(
            _event(
                "loitering",
                f.mmsi[a],
                f.ts[a],
                f.ts[b],
                lat=float(f.lat[a : b + 1].mean()),
                lon=float(f.lon[a : b + 1].mean()),
                evidence={
                    "n_fixes": int(b - a + 1),
                    "duration_h": round((f.ts[b] - f.ts[a]) / 3600.0, 3),
                },
            )
        )
    return out


def encounters(f: Fixes, ports: Sequence[Port], params: DetectSettings) -> list[dict[str, Any]]:
    """Pairs of vessels close together, both slow, far from ports, at consecutive steps."""
    p = params.encounters
    step = int(round(p.step_min * 60))
    # intervals between consecutive fixes of a track, both slow, short enough to interpolate
    if len(f) < 2:
        return []
    i = np.flatnonzero(
        (f.track[1:] == f.track[:-1])
        & (f.sog[1:] < p.max_speed_kn)
        & (f.sog[:-1] < p.max_speed_kn)
        & (np.diff(f.ts) <= p.max_interp_gap_min * 60.0)
    )
    t0, t1 = f.ts[i], f.ts[i + 1]
    g0 = -(-t0 // step) * step  # first grid time ≥ t0
    n = np.maximum(0, (t1 - g0) // step + 1)
    n = np.where(g0 <= t1, n, 0)
    rows = np.repeat(i, n)
    offs = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    g = np.repeat(g0, n) + offs * step
    # one sample per (track, grid time): a grid time on a fix is in two intervals
    frac = (g - f.ts[rows]) / np.maximum(1, f.ts[rows + 1] - f.ts[rows])
    lat = f.lat[rows] + (f.lat[rows + 1] - f.lat[rows]) * frac
    lon = f.lon[rows] + (f.lon[rows + 1] - f.lon[rows]) * frac
    trk = f.track[rows]
    order = np.lexsort((g, trk))
    trk, g, lat, lon, rows = trk[order], g[order], lat[order], lon[order], rows[order]
    uniq = np.ones(len(g), dtype=bool)
    uniq[1:] = (trk[1:] != trk[:-1]) | (g[1:] != g[:-1])
    trk, g, lat, lon, rows = trk[uniq], g[uniq], lat[uniq], lon[uniq], rows[uniq]
    far = port_distance(lat, lon, ports) >= p.min_port_distance_km
    trk, g, lat, lon, rows = trk[far], g[far], lat[far], lon[far], rows[far]
    mmsi = f.mmsi[rows]
    if not len(g):
        return []
    # spatial join per grid time on ~1.1 km cells with neighbours
    cell = 0.01
    ci = np.floor(lat / cell).astype(np.int64)
    cj = np.floor(lon / cell).astype(np.int64)
    key = (g // step) * 10**10 + (ci + 9000) * 10**5 + (cj + 20000)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    pairs_a: list[NDArray[np.intp]] = []
    pairs_b: list[NDArray[np.intp]] = []
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            target = key + di * 10**5 + dj
            lo = np.searchsorted(skey, target, side="left")
            hi = np.searchsorted(skey, target, side="right")
            cnt = hi - lo
            a = np.repeat(np.arange(len(key)), cnt)
            b = order[
                np.repeat(lo, cnt)
                + (np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt))
            ]
            keep = mmsi[a] < mmsi[b]
            pairs_a.append(a[keep])
            pairs_b.append(b[keep])
    a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
    d_m = haversine_km(lat[a], lon[a], lat[b], lon[b]) * 1000.0
    close = d_m <= p.max_distance_m
    a, b, d_m = a[close], b[close], d_m[close]
    if not len(a):
        return []
    # runs of consecutive grid steps per (track pair)
    order = np.lexsort((g[a], trk[b], trk[a]))
    a, b, d_m = a[order], b[order], d_m[order]
    cont = np.zeros(len(a), dtype=bool)
    cont[1:] = (
        (trk[a][1:] == trk[a][:-1]) & (trk[b][1:] == trk[b][:-1]) & (g[a][1:] - g[a][:-1] == step)
    )
    starts = np.flatnonzero(~cont)
    ends = np.concatenate([starts[1:] - 1, [len(a) - 1]])
    out = []
    for s, e in zip(starts, ends, strict=True):
        if g[a[e]] - g[a[s]] < p.min_duration_h * 3600.0:
            continue
        out.append(
            _event(
                "encounter",
                mmsi[a[s]],
                g[a[s]],
                g[a[e]],
                other_mmsi=int(mmsi[b[s]]),
                lat=float(lat[a[s] : a[s] + 1].mean()),
                lon=float(lon[a[s] : a[s] + 1].mean()),
                evidence={
                    "duration_h": round((g[a[e]] - g[a[s]]) / 3600.0, 3),
                    "min_distance_m": round(float(d_m[s : e + 1].min()), 1),
                },
            )
        )
    return out


def _norm(value: Any) -> Any:
    """Names and call signs upper-cased with runs of spaces collapsed; IMOs as they are."""
    return " ".join(value.upper().split()) if isinstance(value, str) else value


def identity_from_statics(
    mmsi: NDArray[np.int64],
    ts: NDArray[np.int64],
    name: Sequence[str | None],
    imo: Sequence[int | None],
    callsign: Sequence[str | None],
    *,
    min_reports: int = 2,
    merge_h: float = 1.0,
) -> list[dict[str, Any]]:
    """``invalid_imo`` and ``identity_change`` events from the delivered static reports.

    A name, IMO or call sign counts once one MMSI reported it in at least
    ``min_reports`` static reports (one report may carry a bit error).  A change is the
    last report with the old value (``start``) and the first with the new (``end``);
    changes of several fields whose new values appear within ``merge_h`` hours form
    one event.
    """
    out: list[dict[str, Any]] = []
    order = np.lexsort((ts, mmsi))
    by_mmsi: dict[int, list[int]] = {}
    for k in order:
        by_mmsi.setdefault(int(mmsi[k]), []).append(int(k))
    fields: tuple[tuple[str, Sequence[Any]], ...] = (
        ("name", name),
        ("imo", imo),
        ("callsign", callsign),
    )
    for m, rows in by_mmsi.items():
        imo_seen: dict[int, list[int]] = {}
        for k in rows:
            if imo[k]:
                imo_seen.setdefault(int(imo[k] or 0), []).append(int(ts[k]))
        for value, times in imo_seen.items():
            if len(times) >= min_reports and not imo_ship_valid(value):
                out.append(
                    _event(
                        "identity",
                        m,
                        min(times),
                        max(times),
                        subtype="invalid_imo",
                        evidence={"imo": value, "n_reports": len(times)},
                    )
                )
        changes: list[tuple[int, int, str, Any, Any]] = []  # (new ts, old ts, field, old, new)
        for field, values in fields:
            seq = [(int(ts[k]), _norm(values[k])) for k in rows if values[k] not in (None, "", 0)]
            counts: dict[Any, int] = {}
            for _t, v in seq:
                counts[v] = counts.get(v, 0) + 1
            seq = [(t, v) for t, v in seq if counts[v] >= min_reports]
            for (t0, v0), (t1, v1) in zip(seq, seq[1:], strict=False):
                if v1 != v0:
                    changes.append((t1, t0, field, v0, v1))
        changes.sort()
        group: list[tuple[int, int, str, Any, Any]] = []
        for change in [*changes, None]:
            if change is not None and (not group or change[0] - group[0][0] < merge_h * 3600.0):
                group.append(change)
                continue
            if group:
                out.append(
                    _event(
                        "identity",
                        m,
                        min(c[1] for c in group),
                        max(c[0] for c in group),
                        subtype="identity_change",
                        evidence={"changed": {c[2]: [c[3], c[4]] for c in group}},
                    )
                )
            group = [change] if change is not None else []
    return out


def dprk_mids(
    mmsi: NDArray[np.int64], ts: NDArray[np.int64], dprk_mid: int
) -> list[dict[str, Any]]:
    """One ``dprk_mid`` event per heard MMSI with MID ``dprk_mid``, first to last message."""
    out = []
    sel = (mmsi // 1_000_000) == dprk_mid
    for m in np.unique(mmsi[sel]):
        t = ts[mmsi == m]
        out.append(
            _event(
                "identity",
                int(m),
                int(t.min()),
                int(t.max()),
                subtype="dprk_mid",
                evidence={"mid": int(mid_of(int(m)))},
            )
        )
    return out


def overlaps(a: dict[str, Any], b: dict[str, Any], slack_s: float = 0.0) -> bool:
    """Whether two events with ``start``/``end`` (s) overlap, allowing ``slack_s``."""
    return bool(a["start"] <= b["end"] + slack_s and b["start"] <= a["end"] + slack_s)


def write_truth(path: Path, events: list[dict[str, Any]]) -> None:
    """Write events as JSON lines in the contract's key order (times ISO 8601 UTC)."""
    keys = (*CONTRACT_KEYS, "evidence")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for e in events:
            row: dict[str, Any] = {k: e.get(k) for k in keys}
            row["start"], row["end"] = iso(e["start"]), iso(e["end"])
            for k in ("lat", "lon"):
                if row[k] is not None:
                    row[k] = round(float(row[k]), 5)
            if e.get("negative"):
                row["negative"] = True
            if e.get("note"):
                row["note"] = e["note"]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_truth(path: str | Path) -> list[dict[str, Any]]:
    """Read a truth file (times back to Unix seconds); raises InputError on a bad line."""
    from tumen.errors import InputError

    out = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                row["start"] = _parse_ts(row["start"])
                row["end"] = _parse_ts(row["end"])
                row["type"], row["mmsi"] = str(row["type"]), int(row["mmsi"])
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"not a truth event ({exc}); each line must be one JSON event with "
                    "type, mmsi, start and end",
                    path,
                    line_no,
                ) from None
            out.append(row)
    return out


def _parse_ts(value: str) -> int:
    """ISO 8601 → Unix seconds; a time without a zone is UTC (the events contract), not local time."""
    return unix_seconds(parse_utc(value))
