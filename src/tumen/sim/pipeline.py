"""The simulation pipeline (``simulate``): build a scenario, transmit, receive, damage, write — and the truth.

The steps, each in its module:

1. the fleet — planted behaviour (:mod:`~tumen.sim.scenarios`) and background
   traffic (:mod:`~tumen.sim.traffic`) on sea routes (:mod:`~tumen.sim.routes`);
2. what every vessel transmits (:mod:`~tumen.sim.transmit`);
3. which stations hear it (:mod:`~tumen.sim.reception`);
4. the damage a real feed carries (:mod:`~tumen.sim.noise`);
5. NMEA with tag blocks and/or MarineCadastre CSV (:mod:`~tumen.sim.encode`);
6. the ground truth from the delivered fixes (:mod:`~tumen.sim.truth`).

Same seed and arguments, same bytes: every random draw comes from a
``numpy.random.SeedSequence`` of the seed (one stream per vessel for its reports).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tumen.config import Settings
from tumen.errors import InputError
from tumen.sim import noise as nz
from tumen.sim.designations import plan_designations, write_designations
from tumen.sim.encode import (
    decoded_lat_lon,
    position_lines,
    position_payloads,
    quantize,
    static_lines,
    static_payload,
)
from tumen.sim.places import bundled_ports_path, world
from tumen.sim.reception import receive
from tumen.sim.scenarios import NAMED, plant_all
from tumen.sim.traffic import Context, fishing_boat, merchant
from tumen.sim.transmit import Reports, StaticReports, vessel_reports, vessel_statics
from tumen.sim.truth import (
    Fixes,
    dprk_mids,
    encounters,
    gaps,
    identity_from_statics,
    loitering,
    overlaps,
    port_visits,
    voyages,
    write_truth,
)
from tumen.sim.vessels import IdentityFactory, Vessel
from tumen.times import parse_utc, unix_seconds

FORMATS = ("nmea", "csv", "both")
#: Ports a scenario needs (with berths) in the ports file.
REQUIRED_PORTS = ("Rajin", "Dunai", "Vostochny", "Vladivostok", "Nakhodka", "Chongjin")
CHUNK_LINES = 250_000

Progress = Callable[[str, int, int], None]


@dataclass
class SimResult:
    """What :func:`simulate` wrote and how much."""

    out_dir: Path
    nmea: Path | None
    csv: Path | None
    truth: Path
    ports: Path
    seed: int
    hours: float
    vessels: int
    lines: int = 0
    csv_rows: int = 0
    reports_delivered: int = 0
    #: intact reports saying "position not available" (ingest stores them with lat/lon NULL)
    reports_unlocated: int = 0
    truth_events: dict[str, int] = field(default_factory=dict)
    negatives: int = 0
    elapsed_s: float = 0.0
    #: the list of mid-period designations, also their truth (:mod:`tumen.sim.designations`)
    designations: Path | None = None
    n_designations: int = 0

    @property
    def paths(self) -> list[Path]:
        """The AIS files written (NMEA and/or CSV): what to ingest."""
        return [p for p in (self.nmea, self.csv) if p is not None]

    @property
    def files(self) -> list[Path]:
        """Every file written: the AIS files, ``truth.jsonl`` and ``ports.csv``."""
        return [*self.paths, self.truth, self.ports] + (
            [self.designations] if self.designations else []
        )

    def to_json(self) -> dict[str, Any]:
        """A summary with stable keys."""
        return {
            "out_dir": str(self.out_dir),
            "nmea": str(self.nmea) if self.nmea else None,
            "csv": str(self.csv) if self.csv else None,
            "truth": str(self.truth),
            "ports": str(self.ports),
            "seed": self.seed,
            "hours": self.hours,
            "vessels": self.vessels,
            "lines": self.lines,
            "csv_rows": self.csv_rows,
            "reports_delivered": self.reports_delivered,
            "reports_unlocated": self.reports_unlocated,
            "truth_events": dict(self.truth_events),
            "negatives": self.negatives,
            "elapsed_s": round(self.elapsed_s, 2),
            "designations": str(self.designations) if self.designations else None,
            "n_designations": self.n_designations,
        }


def _start_unix(text: str) -> int:
    try:
        return unix_seconds(parse_utc(text))
    except ValueError:
        raise InputError(
            f"sim.start {text!r} is not an ISO 8601 time; give e.g. 2024-03-04T00:00:00Z"
        ) from None


def build_fleet(seed: int, hours: float, vessels: int, ports: str | Path | None) -> Context:
    """Plant the scenario and fill the sea with background traffic up to ``vessels``."""
    w = world(ports)
    missing = [p for p in REQUIRED_PORTS if not w.has_berths(p)]
    if missing:
        raise InputError(
            f"the ports file lacks {', '.join(missing)} (or they have no berth at sea); "
            "the scenario needs them — give a ports file that includes the bundled ones",
            ports or bundled_ports_path(),
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    factory = IdentityFactory(rng, reserved_imos={imo for imo, _k, _f in NAMED.values()})
    ctx = Context(w, rng, factory, hours)
    reps = max(1, round(hours / 72.0)) * max(1, vessels // 400)
    plant_all(ctx, reps)
    for _ in range(max(0, vessels - len(ctx.vessels))):
        if rng.random() < 0.65:
            merchant(ctx, "KP" if rng.random() < 0.05 else "RU")
        else:
            fishing_boat(ctx)
    return ctx


def simulate(
    out_dir: str | Path,
    *,
    seed: int = 0,
    hours: float = 72,
    vessels: int = 150,
    fmt: str = "nmea",
    ports: str | Path | None = None,
    settings: Settings | None = None,
    on_progress: Progress | None = None,
) -> SimResult:
    """Simulate ``hours`` of AIS traffic of about ``vessels`` ships and write it with its truth.

    Parameters
    ----------
    out_dir:
        Folder to write ``ais.nmea`` and/or ``ais.csv``, ``truth.jsonl`` and ``ports.csv``
        (an ``ais.*`` file of the other format left by an earlier run is removed).
    seed:
        Random seed; the same seed and arguments give the same bytes.
    hours:
        Length of the simulated period (hours, from ``settings.sim.start``).
    vessels:
        Number of vessels (planted ones included; at least the ~25 planted are made).
    fmt:
        ``nmea`` (NMEA 0183 with NMEA 4.10 tag blocks), ``csv`` (NOAA MarineCadastre
        layout) or ``both``.
    ports:
        Watched-ports file (default: the bundled one); copied to ``ports.csv``.
    settings:
        Settings; ``settings.sim`` drives reception and noise, ``settings.detect``
        the definitions the truth follows.

    Examples
    --------
    >>> result = simulate("out", seed=1, hours=72, vessels=150)  # doctest: +SKIP
    >>> sorted(p.name for p in result.paths)  # doctest: +SKIP
    ['ais.nmea']
    """
    began = time.perf_counter()
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if hours <= 0 or vessels < 0:
        raise InputError("hours must be positive and vessels at least 0")
    settings = settings or Settings()
    cfg = settings.sim
    t0 = _start_unix(cfg.start)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # the folder describes one run: an AIS file of another format from an earlier run goes
    for stale, wanted in (("ais.nmea", ("nmea", "both")), ("ais.csv", ("csv", "both"))):
        if fmt not in wanted:
            (out / stale).unlink(missing_ok=True)
    step = on_progress or (lambda _stage, _done, _total: None)

    step("fleet", 0, 1)
    ctx = build_fleet(seed, hours, vessels, ports)
    step("fleet", 1, 1)
    fleet = ctx.vessels
    t_end = hours * 3600.0

    # 2. transmissions
    rep_parts: list[Reports] = []
    stat_parts: list[tuple[StaticReports, NDArray[np.float64], NDArray[np.float64]]] = []
    for k, v in enumerate(fleet):
        vr = np.random.default_rng(np.random.SeedSequence([seed, 1, v.idx]))
        rep_parts.append(vessel_reports(v, t0, t_end, cfg.reception.feed_interval_s, vr))
        stat_parts.append(vessel_statics(v, t0, t_end, cfg.reception.static_interval_s, vr))
        if k % 50 == 0:
            step("transmit", k, len(fleet))
    step("transmit", len(fleet), len(fleet))
    reports = Reports.concat(rep_parts)
    del rep_parts
    is_b = np.array([v.cls == "B" for v in fleet])

    # 3. reception
    rng_rx = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    rx = cfg.reception
    line_rep, line_st = _receive_chunked(
        reports.lat, reports.lon, is_b[reports.vessel], ctx, rng_rx, rx
    )
    s_ts = np.concatenate([p[0].t for p in stat_parts]) if stat_parts else np.zeros(0, np.int64)
    s_lat = np.concatenate([p[1] for p in stat_parts]) if stat_parts else np.zeros(0)
    s_lon = np.concatenate([p[2] for p in stat_parts]) if stat_parts else np.zeros(0)
    s_vessel = (
        np.concatenate([p[0].vessel for p in stat_parts]) if stat_parts else np.zeros(0, np.int32)
    )
    s_part = (
        np.concatenate([p[0].part for p in stat_parts]) if stat_parts else np.zeros(0, np.int16)
    )
    s_name = [n for p in stat_parts for n in p[0].name]
    s_dest = [d for p in stat_parts for d in p[0].destination]
    s_eta = [e for p in stat_parts for e in p[0].eta]
    sline_rep, sline_st = _receive_chunked(s_lat, s_lon, is_b[s_vessel], ctx, rng_rx, rx)

    # 4. noise
    rng_nz = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    nc = cfg.noise
    rates = {
        "bad_checksum": nc.bad_checksum,
        "bad_armour": nc.bad_armour,
        "bad_length": nc.bad_length,
        "truncated": nc.truncated,
    }
    # 'position not available' reports: extra reports next to delivered ones
    delivered = np.unique(line_rep)
    n_na = int(round(nc.not_available * len(delivered)))
    na_src = (
        np.sort(rng_nz.choice(delivered, n_na, replace=False)) if n_na else np.zeros(0, np.int64)
    )
    n_real = len(reports)
    if n_na:
        na = reports.take(na_src)
        na.t = na.t + rng_nz.integers(3, 30, n_na)
        na.lat[:] = 91.0
        na.lon[:] = 181.0
        na.sog[:] = np.nan
        na.cog[:] = np.nan
        na.heading[:] = np.nan
        na.spoofed[:] = False
        reports = Reports.concat([reports, na])
        first_station = np.zeros(n_real, dtype=np.int16)
        first_station[line_rep[::-1]] = line_st[::-1]
        line_rep = np.concatenate([line_rep, n_real + np.arange(n_na)])
        line_st = np.concatenate([line_st, first_station[na_src]])
    is_na = np.zeros(len(reports), dtype=bool)
    is_na[n_real:] = True
    codes = nz.corruption(len(line_rep), rng_nz, rates)
    intact = np.zeros(len(reports), dtype=bool)
    intact[line_rep[codes == nz.CLEAN]] = True
    unlocated = intact & is_na  # 'position not available' reports: stored without position
    intact &= ~is_na
    scodes = nz.corruption(len(sline_rep), rng_nz, rates)
    s_intact = np.zeros(len(s_ts), dtype=bool)
    s_intact[sline_rep[scodes == nz.CLEAN]] = True

    # 5. write
    result = SimResult(
        out, None, None, out / "truth.jsonl", out / "ports.csv", seed, hours, len(fleet)
    )
    result.reports_delivered = int(intact.sum())
    result.reports_unlocated = int(unlocated.sum())
    if fmt in ("nmea", "both"):
        result.nmea = out / "ais.nmea"
        result.lines = _write_nmea(
            result.nmea,
            reports,
            line_rep,
            line_st,
            codes,
            fleet,
            (s_ts, s_vessel, s_part, s_name, s_dest, s_eta, sline_rep, sline_st, scodes),
            ctx,
            rng_nz,
            nc.junk,
            nc.out_of_order,
            t0,
            t_end,
            step,
        )
    if fmt in ("csv", "both"):
        result.csv = out / "ais.csv"
        result.csv_rows = _write_csv(
            result.csv, reports, intact | is_na, fleet, rng_nz, nc.csv_duplicates, t0
        )

    # 6. truth
    step("truth", 0, 1)
    events = derive_truth(
        ctx, reports, intact, is_na, (s_ts, s_vessel, s_name, s_intact), settings, t0
    )
    write_truth(result.truth, events)
    shutil.copyfile(Path(ports) if ports is not None else bundled_ports_path(), result.ports)
    counts: dict[str, int] = {}
    for e in events:
        if not e.get("negative"):
            counts[e["type"]] = counts.get(e["type"], 0) + 1
    result.truth_events = dict(sorted(counts.items()))
    result.negatives = sum(1 for e in events if e.get("negative"))
    planned = plan_designations(fleet, seed, t0, hours, {imo for imo, _k, _f in NAMED.values()})
    last_day = datetime.fromtimestamp(t0 + hours * 3600.0 - 1, UTC).date()
    result.designations = write_designations(out, planned, last_day)
    result.n_designations = len(planned)
    result.elapsed_s = time.perf_counter() - began
    step("truth", 1, 1)
    return result


def _receive_chunked(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    class_b: NDArray[np.bool_],
    ctx: Context,
    rng: np.random.Generator,
    rx: Any,
) -> tuple[NDArray[np.int64], NDArray[np.int16]]:
    rows, cols = [], []
    for a in range(0, len(lat), 2_000_000):
        b = min(len(lat), a + 2_000_000)
        r, c = receive(
            lat[a:b],
            lon[a:b],
            class_b[a:b],
            ctx.world.stations,
            rx.area,
            rng,
            p_terrestrial=rx.p_terrestrial,
            p_satellite_a=rx.p_satellite_a,
            p_satellite_b=rx.p_satellite_b,
        )
        rows.append(r + a)
        cols.append(c)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int16)
    r, c = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((c, r))
    return r[order], c[order]


def _write_nmea(
    path: Path,
    reports: Reports,
    line_rep: NDArray[np.int64],
    line_st: NDArray[np.int16],
    codes: NDArray[np.int8],
    fleet: list[Vessel],
    statics: tuple[Any, ...],
    ctx: Context,
    rng: np.random.Generator,
    junk_rate: float,
    ooo_rate: float,
    t0: int,
    t_end: float,
    step: Progress,
) -> int:
    """Write every line in receive-time order; returns the number of lines."""
    s_ts, s_vessel, s_part, s_name, s_dest, s_eta, sline_rep, sline_st, scodes = statics
    names = [st.name for st in ctx.world.stations]
    station_bytes = np.array([list(n.encode("ascii")) for n in names], dtype=np.uint8)
    channel = np.where(rng.random(len(reports)) < 0.5, ord("A"), ord("B")).astype(np.uint8)
    n_pos, n_stat = len(line_rep), len(sline_rep)
    n_junk = int(round(junk_rate * (n_pos + n_stat)))
    junk_ts = t0 + rng.integers(0, max(1, int(t_end)), n_junk)
    kind = np.concatenate(
        [np.zeros(n_pos, np.int8), np.ones(n_stat, np.int8), np.full(n_junk, 2, np.int8)]
    )
    ref = np.concatenate([np.arange(n_pos), np.arange(n_stat), np.arange(n_junk)])
    ts = np.concatenate([reports.t[line_rep], s_ts[sline_rep], junk_ts]).astype(np.int64)
    key = ts * 1000 + rng.integers(0, 1000, len(ts))
    late = rng.random(len(ts)) < ooo_rate
    key[late] += rng.integers(1000, 20_000, int(late.sum()))
    order = np.lexsort((ref, kind, key))
    del key, late
    seq: int = 0
    n_lines = 0
    with open(path, "wb") as fh:
        for a in range(0, len(order), CHUNK_LINES):
            chunk = order[a : a + CHUNK_LINES]
            k, r = kind[chunk], ref[chunk]
            parts: list[bytes] = [b""] * len(chunk)
            pos = np.flatnonzero(k == 0)
            if len(pos):
                lr = line_rep[r[pos]]
                q = quantize(
                    reports.msg_type[lr],
                    reports.mmsi[lr],
                    reports.nav[lr],
                    reports.sog[lr],
                    reports.lat[lr],
                    reports.lon[lr],
                    reports.cog[lr],
                    reports.heading[lr],
                    reports.t[lr],
                )
                lines = position_lines(
                    position_payloads(q), channel[lr], station_bytes[line_st[r[pos]]], reports.t[lr]
                )
                c = codes[r[pos]]
                nz.damage_fixed(lines, c, rng)
                width = lines.shape[1]
                as_bytes = np.ascontiguousarray(lines).view(f"S{width}").ravel().tolist()
                for row in np.flatnonzero((c == nz.BAD_LENGTH) | (c == nz.TRUNCATED)).tolist():
                    as_bytes[row] = nz.damage_text(as_bytes[row], int(c[row]), rng)
                for row, j in enumerate(pos.tolist()):
                    parts[j] = as_bytes[row]
            for j in np.flatnonzero(k == 1).tolist():
                cp = int(r[j])
                sr = int(sline_rep[cp])
                v = fleet[int(s_vessel[sr])]
                ident = v.identity
                frags, fill = static_payload(
                    int(s_part[sr]),
                    v.mmsi,
                    s_name[sr],
                    ident.callsign,
                    int(ident.imo or 0),
                    ident.ship_type,
                    v.notes.get("dims", (0, 0, 0, 0)),
                    ident.draught_m,
                    s_dest[sr],
                    s_eta[sr],
                )
                seq = int(seq + 1) % 10
                text = static_lines(
                    frags,
                    fill,
                    "A" if sr % 2 == 0 else "B",
                    names[int(sline_st[cp])],
                    int(s_ts[sr]),
                    seq,
                    1 + (sr * 7 + cp) % 9999,
                )
                code = int(scodes[cp])
                if code != nz.CLEAN:
                    sentences = text.splitlines(keepends=True)
                    hit = int(rng.integers(len(sentences)))
                    sentences[hit] = nz.damage_text(
                        sentences[hit].encode("ascii"), code, rng
                    ).decode("ascii")
                    text = "".join(sentences)
                parts[j] = text.encode("ascii")
            for j in np.flatnonzero(k == 2).tolist():
                parts[j] = nz.junk_line(
                    rng, int(ts[chunk[j]]), names[int(rng.integers(len(names)))]
                )
            blob = b"".join(parts)
            n_lines += blob.count(b"\n")
            fh.write(blob)
            step("write", min(a + CHUNK_LINES, len(order)), len(order))
    return n_lines


def _write_csv(
    path: Path,
    reports: Reports,
    rows: NDArray[np.bool_],
    fleet: list[Vessel],
    rng: np.random.Generator,
    dup_rate: float,
    t0: int,
) -> int:
    """NOAA MarineCadastre layout (17 columns), one row per delivered report; returns rows written."""
    import polars as pl

    idx = np.flatnonzero(rows)
    dups = idx[rng.random(len(idx)) < dup_rate]
    idx = np.sort(np.concatenate([idx, dups]), kind="stable")
    idx = idx[np.argsort(reports.t[idx], kind="stable")]
    r = reports.take(idx)
    q = quantize(r.msg_type, r.mmsi, r.nav, r.sog, r.lat, r.lon, r.cog, r.heading, r.t)
    owner = {v.mmsi: v for v in fleet}
    vessel_of = [owner.get(int(m), fleet[int(i)]) for m, i in zip(r.mmsi, r.vessel, strict=True)]
    na = q.lat_u == 91 * 600_000
    lat = np.where(na, 91.0, decoded_lat_lon(q.lat_u))
    lon = np.where(na, 181.0, decoded_lat_lon(q.lon_u))
    sog = [None if v == 1023 else v / 10.0 for v in q.sog10.tolist()]
    frame = pl.DataFrame(
        {
            "MMSI": r.mmsi,
            "BaseDateTime": [
                datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S") for t in r.t
            ],
            "LAT": np.round(lat, 5),
            "LON": np.round(lon, 5),
            "SOG": pl.Series(sog, dtype=pl.Float64),
            "COG": pl.Series(np.where(q.cog10 == 3600, np.nan, q.cog10 / 10.0)).fill_nan(None),
            "Heading": np.where(q.heading == 511, 511, q.heading).astype(np.int64),
            "VesselName": [v.name_at(float(t - t0)) for v, t in zip(vessel_of, r.t, strict=True)],
            "IMO": [f"IMO{v.identity.imo}" if v.identity.imo else None for v in vessel_of],
            "CallSign": [v.identity.callsign for v in vessel_of],
            "VesselType": [v.identity.ship_type for v in vessel_of],
            "Status": pl.Series(
                [float(n) if v.cls == "A" else None for n, v in zip(r.nav, vessel_of, strict=True)],
                dtype=pl.Float64,
            ),
            "Length": [float(v.identity.length_m) for v in vessel_of],
            "Width": [float(v.identity.beam_m) for v in vessel_of],
            "Draft": [v.identity.draught_m for v in vessel_of],
            "Cargo": pl.Series([None] * len(vessel_of), dtype=pl.Float64),
            "TransceiverClass": [v.cls for v in vessel_of],
        }
    )
    frame.write_csv(path)
    return frame.height


def derive_truth(
    ctx: Context,
    reports: Reports,
    intact: NDArray[np.bool_],
    is_na: NDArray[np.bool_],
    statics: tuple[Any, ...],
    settings: Settings,
    t0: int,
) -> list[dict[str, Any]]:
    """Every event the detectors should report, plus the look-alikes (see :mod:`tumen.sim.truth`)."""
    params = settings.detect
    ports = ctx.world.watched
    fix = intact & ~reports.spoofed
    q = quantize(
        reports.msg_type[fix],
        reports.mmsi[fix],
        reports.nav[fix],
        reports.sog[fix],
        reports.lat[fix],
        reports.lon[fix],
        reports.cog[fix],
        reports.heading[fix],
        reports.t[fix],
    )
    f = Fixes.build(
        reports.vessel[fix],
        reports.mmsi[fix],
        reports.t[fix],
        decoded_lat_lon(q.lat_u),
        decoded_lat_lon(q.lon_u),
        q.sog10 / 10.0,
    )
    visits = port_visits(f, ports, params)
    events: list[dict[str, Any]] = [
        *visits,
        *voyages(visits, params),
        *gaps(f, ports, params),
        *loitering(f, ports, params),
        *encounters(f, ports, params),
    ]
    for e in visits:
        e.pop("_track", None)
    s_ts, s_vessel, s_name, s_intact = statics
    fleet = ctx.vessels
    keep = np.flatnonzero(s_intact)
    st_mmsi = np.array([fleet[int(s_vessel[k])].mmsi for k in keep], dtype=np.int64)
    st_ts = np.asarray(s_ts)[keep]
    st_name = [s_name[k] for k in keep]
    st_imo = [fleet[int(s_vessel[k])].identity.imo for k in keep]
    st_call = [fleet[int(s_vessel[k])].identity.callsign for k in keep]
    ip = params.identity
    events += identity_from_statics(
        st_mmsi,
        st_ts,
        st_name,
        st_imo,
        st_call,
        min_reports=ip.min_static_reports,
        merge_h=ip.change_merge_h,
    )
    heard = intact & ~is_na
    all_mmsi = np.concatenate([reports.mmsi[heard], st_mmsi])
    all_ts = np.concatenate([reports.t[heard], st_ts])
    events += dprk_mids(all_mmsi, all_ts, params.identity.dprk_mid)
    by_mmsi = {v.mmsi: v for v in fleet}
    for d in ctx.designed:
        if d["type"] != "identity" or d["subtype"] not in ("mmsi_conflict", "position_jump"):
            continue
        a, b = t0 + d["start"], t0 + d["end"]
        if d["subtype"] == "mmsi_conflict":
            imp = by_mmsi[d["impostor_mmsi"]]
            sel = intact & (reports.vessel == imp.idx) & (reports.mmsi == d["mmsi"])
        else:
            v = by_mmsi[d["mmsi"]]
            sel = intact & (reports.vessel == v.idx) & reports.spoofed
        sel &= (reports.t >= a) & (reports.t <= b)
        if d["subtype"] == "position_jump":
            if sel.sum() < ip.jump_min_positions:
                continue
        else:
            # the MMSI must switch between the two transmitters often enough
            same = (
                intact
                & ~reports.spoofed
                & (reports.mmsi == d["mmsi"])
                & (reports.t >= a)
                & (reports.t <= b)
            )
            order = np.argsort(reports.t[same], kind="stable")
            who = (reports.vessel[same] == imp.idx)[order]
            if int(np.count_nonzero(who[1:] != who[:-1])) < ip.conflict_min_switches:
                continue
        t = reports.t[sel]
        events.append(
            {
                "type": "identity",
                "subtype": d["subtype"],
                "mmsi": d["mmsi"],
                "other_mmsi": None,
                "start": int(t.min()),
                "end": int(t.max()),
                "lat": None,
                "lon": None,
                "port": None,
                "from_port": None,
                "to_port": None,
                "evidence": {"n_reports": int(sel.sum())},
                "note": f"planted: {d['note']}",
            }
        )
    # notes from the plan, and the look-alikes
    for e in events:
        if "note" in e:
            continue
        e["note"] = "background: follows from the simulated traffic"
        for d in ctx.designed:
            if (
                d["negative"]
                or d["type"] != e["type"]
                or d["mmsi"] not in (e["mmsi"], e.get("other_mmsi"))
            ):
                continue
            if d.get("subtype") and d["subtype"] != e.get("subtype"):
                continue
            if overlaps(e, {"start": t0 + d["start"], "end": t0 + d["end"]}, 1800.0):
                e["note"] = f"planted: {d['note']}"
                break
    for d in ctx.designed:
        if not d["negative"]:
            continue
        neg = {
            k: d[k]
            for k in ("type", "subtype", "mmsi", "other_mmsi", "port", "from_port", "to_port")
        }
        neg.update(
            start=t0 + int(d["start"]),
            end=t0 + int(d["end"]),
            lat=None,
            lon=None,
            evidence={"look_alike": d["note"]},
            negative=True,
            note=f"look-alike: {d['note']}",
        )
        pair = {neg["mmsi"], neg["other_mmsi"]} - {None}
        clash = any(
            e["type"] == neg["type"]
            and not e.get("negative")
            and {e["mmsi"], e.get("other_mmsi")} - {None} == pair
            and overlaps(e, neg, 0.0)
            for e in events
        )
        if not clash:
            events.append(neg)
    events.sort(
        key=lambda e: (
            e["start"],
            e["type"],
            e["mmsi"],
            e.get("subtype") or "",
            e.get("other_mmsi") or 0,
            e["end"],
        )
    )
    for i, e in enumerate(events, start=1):
        e["event_id"] = f"truth-{i:06d}"
    return events
