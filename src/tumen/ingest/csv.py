"""CSV layouts: NOAA MarineCadastre, Danish Maritime Authority, and any CSV by ``--columns``.

Recognised from the header line:

NOAA MarineCadastre (https://marinecadastre.gov/ais/; times UTC)
    ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,
    Length,Width,Draft,Cargo`` (2015-2017, 16 columns; ``Status`` as text, ``VesselType`` in
    NOAA's own 4-digit codes for 2017) and the same plus ``TransceiverClass`` (17 columns,
    2018 on; ``IMO`` written ``IMO9307839``).
Danish Maritime Authority daily files (http://web.ais.dk/aisdata/; times UTC, day first)
    ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,
    Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing
    device,Draught,Destination,ETA,Data source type,A,B,C,D`` with ``dd/mm/yyyy HH:MM:SS``.
Any other CSV
    ``--columns mmsi=COL,ts=COL,lat=COL,lon=COL[,sog=COL,cog=COL,heading=COL,nav_status=COL,
    name=COL,imo=COL,callsign=COL,ship_type=COL,draught=COL,destination=COL,station=COL,
    class=COL]``; times as ISO 8601 (a zone or ``Z`` honoured, else local to ``--tz``),
    Unix seconds/milliseconds, or ``dd/mm/yyyy HH:MM:SS``.

Each data row becomes a ``positions`` row; its static columns (name, IMO, call sign, type,
size, draught, destination, ETA) become a ``statics`` row when they differ from the last
ones stored for that MMSI in the file.  A row whose latitude or longitude is empty or reads
91 / 181 ("not available") is stored with ``lat``/``lon`` NULL, like an AIS report.  The header line is quarantined as ``csv header``
(so the layout is on record); rows are checked like AIS messages (MMSI, time, position).
"""

from __future__ import annotations

import csv as _csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from tumen.errors import InputError
from tumen.ingest import quarantine as Q
from tumen.ingest.batch import Prepared, quarantined_lines
from tumen.ingest.dedupe import row_keys
from tumen.ingest.files import (
    DMA_CSV,
    NOAA_CSV,
    LineBatch,
    split_header,
)
from tumen.ingest.files import (
    norm_column as _norm,
)
from tumen.ingest.records import Part
from tumen.ingest.scan import MAX_TIME_US, MIN_TIME_US, NO_TIME
from tumen.store.backend import Backend

#: canonical field → column name in each known layout (lower case)
NOAA_MAP = {
    "mmsi": "mmsi", "ts": "basedatetime", "lat": "lat", "lon": "lon", "sog": "sog", "cog": "cog",
    "heading": "heading", "name": "vesselname", "imo": "imo", "callsign": "callsign",
    "ship_type": "vesseltype", "nav_status": "status", "length": "length", "width": "width",
    "draught": "draft", "class": "transceiverclass",
}  # fmt: skip
DMA_MAP = {
    "ts": "timestamp", "class": "type of mobile", "mmsi": "mmsi", "lat": "latitude", "lon": "longitude",
    "nav_status": "navigational status", "sog": "sog", "cog": "cog", "heading": "heading",
    "imo": "imo", "callsign": "callsign", "name": "name", "ship_type": "ship type", "width": "width",
    "length": "length", "draught": "draught", "destination": "destination", "eta": "eta",
    "to_bow": "a", "to_stern": "b", "to_port": "c", "to_starboard": "d",
}  # fmt: skip
#: what DMA files write in a text column (IMO, callsign, destination) for "not known"
DMA_UNKNOWN = "Unknown"
CUSTOM_FIELDS = (
    "mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "name", "imo", "callsign",
    "ship_type", "draught", "destination", "station", "class", "length", "width",
)  # fmt: skip
REQUIRED = ("mmsi", "ts", "lat", "lon")

#: ITU-R M.1371 navigational status by its usual English text (NOAA 2017, DMA)
NAV_STATUS_TEXT = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted manoeuverability": 3,
    "restricted maneuverability": 3,
    "restricted manoeuvrability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart": 14,
    "ais-sart is active": 14,
    "unknown value": 15,
    "undefined": 15,
    "not defined": 15,
}
#: DMA "Ship type" text → ITU-R M.1371 ship type (first digit class; DMA drops the second digit)
DMA_SHIP_TYPE = {
    "wig": 20, "fishing": 30, "towing": 31, "towing long/wide": 32, "dredging": 33, "diving": 34,
    "military": 35, "sailing": 36, "pleasure": 37, "hsc": 40, "pilot": 50, "sar": 51, "tug": 52,
    "port tender": 53, "anti-pollution": 54, "law enforcement": 55, "medical": 58,
    "not party to conflict": 59, "passenger": 60, "cargo": 70, "tanker": 80, "other": 90,
}  # fmt: skip


def parse_columns(spec: str | dict[str, str] | None) -> dict[str, str] | None:
    """``"mmsi=ShipId,ts=Time,lat=Lat,lon=Lon"`` → ``{"mmsi": "ShipId", ...}`` (validated)."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        mapping = dict(spec)
    else:
        mapping = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            if "=" not in item:
                raise InputError(
                    f"--columns: {item!r} is not FIELD=COLUMN; write e.g. mmsi=MMSI,ts=Time,lat=Lat,lon=Lon"
                )
            k, v = item.split("=", 1)
            mapping[k.strip().lower()] = v.strip()
    unknown = sorted(set(mapping) - set(CUSTOM_FIELDS))
    if unknown:
        raise InputError(
            f"--columns: unknown field(s) {', '.join(unknown)}; known: {', '.join(CUSTOM_FIELDS)}"
        )
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise InputError(
            f"--columns: {', '.join(missing)} missing; mmsi, ts, lat and lon are required"
        )
    return mapping


@dataclass
class CsvLayout:
    """How to read one CSV file: its format, header and column positions."""

    format: str
    header: list[str]
    index: dict[str, int]  # canonical field → column index

    @classmethod
    def of(
        cls, fmt: str, header_line: str, columns: dict[str, str] | None, path: str | Path | None
    ) -> CsvLayout:
        header = split_header(header_line)
        lower = [_norm(h) for h in header]
        if fmt == NOAA_CSV:
            mapping = NOAA_MAP
        elif fmt == DMA_CSV:
            mapping = DMA_MAP
        else:
            if columns is None:  # pragma: no cover - sniff refuses this
                raise InputError("unknown CSV layout; give --columns", path)
            mapping = {k: _norm(v) for k, v in columns.items()}
            absent = [f"{k}={columns[k]}" for k, v in mapping.items() if v not in lower]
            if absent:
                raise InputError(
                    f"--columns names column(s) not in the header: {', '.join(absent)}; the header has: {', '.join(header)}",
                    path,
                )
        index = {k: lower.index(v) for k, v in mapping.items() if v in lower}
        return cls(fmt, header, index)


@dataclass
class CsvState:
    """What a CSV file's ingest carries from batch to batch."""

    layout: CsvLayout
    tz: str
    header_seen: bool = False
    last_static: dict[int, int] = field(
        default_factory=dict
    )  # mmsi → hash of its last static tuple


def _col(df: pl.DataFrame, name: str) -> pl.Series | None:
    return df.get_column(name) if name in df.columns else None


def _float(s: pl.Series | None, n: int) -> np.ndarray:
    if s is None:
        return np.full(n, np.nan)
    v = s.str.strip_chars().cast(pl.Float64, strict=False)
    return v.fill_null(np.nan).to_numpy()


def _text(s: pl.Series | None, n: int, unknown: str | None = None) -> pa.Array:
    """Stripped text column, empty (or ``unknown``, any case: a layout's "no value") → NULL."""
    if s is None:
        return pa.nulls(n, pa.string())
    arr = s.str.strip_chars().to_arrow().cast(pa.string())
    none = pc.equal(pc.utf8_length(arr), 0)
    if unknown is not None:
        none = pc.or_(none, pc.equal(pc.utf8_lower(arr), unknown.lower()))
    return pc.if_else(none, pa.scalar(None, pa.string()), arr)


def _times(s: pl.Series, fmt: str, tz: str) -> np.ndarray:
    """Parse a time column → µs UTC (NO_TIME where unreadable)."""
    v = s.str.strip_chars()
    e = pl.col("v")
    if fmt == NOAA_CSV:
        expr = pl.coalesce(
            [
                e.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"),
                e.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"),
            ]
        ).dt.epoch("us")
        us = pl.DataFrame({"v": v}).select(expr.alias("t"))["t"]
    elif fmt == DMA_CSV:
        expr = e.str.to_datetime("%d/%m/%Y %H:%M:%S", strict=False, time_unit="us").dt.epoch("us")
        us = pl.DataFrame({"v": v}).select(expr.alias("t"))["t"]
    else:
        us = _custom_times(v, tz)
    out = us.fill_null(int(NO_TIME)).to_numpy().astype(np.int64)
    bad = (out < MIN_TIME_US) | (out >= MAX_TIME_US)
    return np.where(bad, NO_TIME, out)


_AWARE = (
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%d %H:%M:%S%:z",
)
_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
)


def _custom_times(v: pl.Series, tz: str) -> pl.Series:
    """Unix seconds/ms, ISO 8601 with a zone, or naive ISO / day-first times local to ``tz`` → µs UTC."""
    e = pl.col("v")
    is_epoch = e.str.contains(r"^\d{9,13}(\.\d+)?$")
    num = e.cast(pl.Float64, strict=False)
    ms = e.str.split(".").list.first().str.len_chars() >= 12
    epoch_us = (
        pl.when(is_epoch).then(pl.when(ms).then(num * 1e3).otherwise(num * 1e6)).cast(pl.Int64)
    )
    aware = pl.coalesce(
        [
            e.str.replace(r"Z$", "+00:00").str.to_datetime(f, strict=False, time_unit="us")
            for f in _AWARE
        ]
    ).dt.epoch("us")
    naive = pl.coalesce([e.str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE])
    if tz.upper() not in ("UTC", "Z", "GMT"):
        naive = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    naive_us = naive.dt.epoch("us")
    return pl.DataFrame({"v": v}).select(pl.coalesce([epoch_us, aware, naive_us]).alias("t"))["t"]


def _nav_status(s: pl.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if s is None:
        return np.zeros(n, np.int8), np.ones(n, bool)
    v = s.str.strip_chars().str.to_lowercase()
    num = np.asarray(
        v.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy(), dtype=np.float64
    )
    txt = (
        v.replace_strict(NAV_STATUS_TEXT, default=None, return_dtype=pl.Float64)
        .fill_null(np.nan)
        .to_numpy()
    )
    out = np.where(np.isnan(num), np.asarray(txt, dtype=np.float64), num)
    null = np.isnan(out) | (out < 0) | (out > 15)
    return np.where(null, 0, out).astype(np.int8), null


def _ship_type(s: pl.Series | None, n: int, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    if s is None:
        return np.zeros(n, np.int16), np.ones(n, bool)
    v = s.str.strip_chars()
    if fmt == DMA_CSV:
        out = v.str.to_lowercase().replace_strict(
            DMA_SHIP_TYPE, default=None, return_dtype=pl.Float64
        )
    else:
        out = v.cast(pl.Float64, strict=False)
    arr = np.asarray(out.fill_null(np.nan).to_numpy(), dtype=np.float64)
    null = np.isnan(arr) | (arr <= 0) | (arr > 32767)
    return np.where(null, 0, arr).astype(np.int16), null


def prepare_csv(batch: LineBatch, state: CsvState, window_us: int) -> Prepared:
    """Read a batch of CSV lines into candidate rows (one message per data row)."""
    lay = state.layout
    n = batch.n
    texts = [batch.raw_line(i) for i in range(n)]
    line_code = np.zeros(n, dtype=np.int64)
    line_detail: dict[int, str] = {}
    data_idx: list[int] = []
    data_rows: list[list[str]] = []
    width = len(lay.header)
    for i, text in enumerate(texts):
        if not text.strip():
            line_code[i] = Q.CODE[Q.BLANK]
            continue
        if not state.header_seen:
            state.header_seen = True
            line_code[i] = Q.CODE[Q.CSV_HEADER]
            line_detail[i] = lay.format
            continue
        try:
            row = next(_csv.reader([text]), [])
        except _csv.Error as exc:  # e.g. a field over csv.field_size_limit() (junk, no newlines)
            line_code[i] = Q.CODE[Q.MALFORMED_ROW]
            line_detail[i] = str(exc)
            continue
        if len(row) != width:
            line_code[i] = Q.CODE[Q.MALFORMED_ROW]
            line_detail[i] = f"{len(row)} fields, the header has {width}"
            continue
        data_idx.append(i)
        data_rows.append(row)
    m = len(data_rows)
    idx = np.asarray(data_idx, dtype=np.int64)
    cols = {name: [r[j] for r in data_rows] for name, j in lay.index.items()}
    df = (
        pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in cols.items()})
        if m
        else pl.DataFrame()
    )
    code = np.zeros(m, dtype=np.int64)
    detail: dict[int, str] = {}
    if m:
        mmsi_s = df["mmsi"].str.strip_chars().cast(pl.Float64, strict=False)
        mmsi_f = mmsi_s.fill_null(np.nan).to_numpy()
        bad_mmsi = (
            np.isnan(mmsi_f) | (mmsi_f < 1) | (mmsi_f > 999_999_999) | (mmsi_f != np.floor(mmsi_f))
        )
        mmsi = np.where(bad_mmsi, 0, mmsi_f).astype(np.int64)
        ts = _times(df["ts"], lay.format, state.tz)
        lat = _float(_col(df, "lat"), m)
        lon = _float(_col(df, "lon"), m)
    else:
        bad_mmsi = np.zeros(0, bool)
        mmsi = np.zeros(0, np.int64)
        ts = np.zeros(0, np.int64)
        lat = lon = np.zeros(0)
    # empty, or 91 / 181 ("not available"): stored without position; text that is no number: malformed
    blank = np.array(
        [not (a.strip() and b.strip()) for a, b in zip(cols["lat"], cols["lon"], strict=True)]
        if m
        else [],
        dtype=bool,
    )
    unreadable = (np.isnan(lat) | np.isnan(lon)) & ~blank
    no_pos = np.isnan(lat) | np.isnan(lon) | (lat == 91) | (lon == 181)
    out_rng = ~no_pos & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    bad_time = ts == NO_TIME
    for sel, reason in (
        (bad_mmsi, Q.BAD_MMSI),
        (bad_time, Q.BAD_TIME),
        (unreadable, Q.MALFORMED_ROW),
        (out_rng, Q.OUT_OF_RANGE),
    ):
        hit = sel & (code == 0)
        code[hit] = Q.CODE[reason]
    for j in np.flatnonzero(code).tolist():
        c = Q.REASON_OF[int(code[j])]
        if c == Q.BAD_MMSI:
            detail[j] = f"MMSI {cols['mmsi'][j]!r}"
        elif c == Q.BAD_TIME:
            detail[j] = f"time {cols['ts'][j]!r}"
        else:
            detail[j] = f"lat {cols['lat'][j]!r}, lon {cols['lon'][j]!r}"

    sog = _float(_col(df, "sog"), m)
    cog = _float(_col(df, "cog"), m)
    heading = _float(_col(df, "heading"), m)
    nav, nav_null = _nav_status(_col(df, "nav_status"), m)
    sog_null = np.isnan(sog) | (sog < 0) | (sog >= 102.25)
    cog_null = np.isnan(cog) | (cog < 0) | (cog >= 360)
    hdg_null = np.isnan(heading) | (heading < 0) | (heading > 359)
    klass = _text(_col(df, "class"), m)
    cls_np = np.asarray(klass.to_pylist() if m else [], dtype=object)
    msg_type_null = np.ones(m, dtype=bool)
    pos_cols: dict[str, pa.Array | np.ndarray] = {
        "lat": pa.array(np.where(no_pos, 0.0, lat), mask=no_pos),
        "lon": pa.array(np.where(no_pos, 0.0, lon), mask=no_pos),
        "sog_kn": pa.array(np.where(sog_null, 0, sog).astype(np.float32), mask=sog_null),
        "cog_deg": pa.array(np.where(cog_null, 0, cog).astype(np.float32), mask=cog_null),
        "heading_deg": pa.array(np.where(hdg_null, 0, heading).astype(np.int16), mask=hdg_null),
        "nav_status": pa.array(nav, mask=nav_null),
        "msg_type": pa.array(np.zeros(m, np.int8), mask=msg_type_null),
    }
    good = np.flatnonzero(code == 0)
    positions = [
        Part(
            good,
            {
                k: (v[good] if isinstance(v, np.ndarray) else v.take(pa.array(good)))
                for k, v in pos_cols.items()
            },
        )
    ]
    class_letter = [
        None
        if c is None
        else (
            "A"
            if str(c).strip().upper() in ("A", "CLASS A")
            else "B"
            if str(c).strip().upper() in ("B", "CLASS B")
            else None
        )
        for c in cls_np
    ]
    positions[0].cols["class_text"] = pa.array(
        [class_letter[j] for j in good.tolist()], type=pa.string()
    )

    # statics: when the static columns of an MMSI change
    statics: list[Part] = []
    if m:
        static = _static_columns(df, m, lay.format)
        present = np.zeros(m, dtype=bool)
        for arr in static.values():
            present |= np.asarray(arr.is_valid()) if isinstance(arr, pa.Array) else ~np.isnan(arr)
        h = _static_hash(static, m)
        emit = np.zeros(m, dtype=bool)
        for j in good.tolist():
            if not present[j]:
                continue
            mm = int(mmsi[j])
            if state.last_static.get(mm) != int(h[j]):
                state.last_static[mm] = int(h[j])
                emit[j] = True
        sel = np.flatnonzero(emit)
        if sel.size:
            cols_s = {
                k: (v[sel] if isinstance(v, np.ndarray) else v.take(pa.array(sel)))
                for k, v in static.items()
            }
            cols_s["msg_type"] = pa.nulls(sel.size, pa.int8())
            statics.append(Part(sel, cols_s))

    key = row_keys([mmsi, ts, lat, lon, sog, cog, heading]) if m else np.zeros(0, np.int64)
    station = _text(_col(df, "station"), m) if m else pa.array([], pa.string())
    ptr = np.arange(m + 1, dtype=np.int64)
    no_hdr = np.full(n, -1, dtype=np.int64)
    not_hdr = np.zeros(n, dtype=bool)
    q, qc, qd = quarantined_lines(
        n, code, detail, ptr, idx, np.zeros(0, np.int64), np.zeros(0, np.int64), [],
        line_code, line_detail, no_hdr, not_hdr,
    )  # fmt: skip
    return Prepared(
        first_line=batch.first_line,
        n_lines=n,
        key=key,
        ts=ts,
        mmsi=mmsi,
        code=code,
        frag_ptr=ptr,
        frag_lines=idx,
        line_first=idx,
        line_no=idx,
        station=station,
        decoded=None,
        positions=positions,
        statics=statics,
        others=np.zeros(0, np.int64),
        other_type=np.zeros(0, np.int64),
        other_payload=pa.array([], pa.string()),
        other_fill=np.zeros(0, np.int64),
        other_nonstandard=np.zeros(0, dtype=bool),
        hdr_target=no_hdr,
        is_hdr=not_hdr,
        q_index=q,
        q_code=qc,
        q_detail=qd,
        q_raw=batch.raw_lines(q),
    )


def _static_columns(df: pl.DataFrame, m: int, fmt: str) -> dict[str, pa.Array | np.ndarray]:
    out: dict[str, pa.Array | np.ndarray] = {}
    imo_s = _col(df, "imo")
    if imo_s is not None:
        imo = (
            imo_s.str.strip_chars()
            .str.to_uppercase()
            .str.strip_prefix("IMO")
            .cast(pl.Float64, strict=False)
            .to_numpy()
        )
        imo = np.asarray(imo, dtype=np.float64)
        null = np.isnan(imo) | (imo <= 0)
        out["imo"] = pa.array(np.where(null, 0, imo).astype(np.int64), mask=null)
    # DMA writes "Unknown" where the vessel's static report has not been received
    unknown = DMA_UNKNOWN if fmt == DMA_CSV else None
    out["name"] = _text(_col(df, "name"), m, unknown)
    out["callsign"] = _text(_col(df, "callsign"), m, unknown)
    st, st_null = _ship_type(_col(df, "ship_type"), m, fmt)
    out["ship_type"] = pa.array(st, mask=st_null)
    for f, c in (("length", "length_m"), ("width", "width_m"), ("draught", "draught_m")):
        v = _float(_col(df, f), m)
        null = np.isnan(v) | (v <= 0)
        out[c] = pa.array(np.where(null, 0, v).astype(np.float32), mask=null)
    for f, c in (
        ("to_bow", "to_bow_m"),
        ("to_stern", "to_stern_m"),
        ("to_port", "to_port_m"),
        ("to_starboard", "to_starboard_m"),
    ):
        if f in df.columns:
            v = _float(_col(df, f), m)
            null = np.isnan(v) | (v < 0) | (v > 32767)
            out[c] = pa.array(np.where(null, 0, v).astype(np.int16), mask=null)
    out["destination"] = _text(_col(df, "destination"), m, unknown)
    eta_s = _col(df, "eta")
    if eta_s is not None:
        eta = (
            eta_s.str.strip_chars()
            .str.to_datetime("%d/%m/%Y %H:%M:%S", strict=False)
            .dt.strftime("%m-%dT%H:%M")
        )
        out["eta"] = eta.to_arrow().cast(pa.string())
    return out


def _static_hash(static: dict[str, pa.Array | np.ndarray], m: int) -> np.ndarray:
    frame = pl.DataFrame(
        {
            k: pl.from_arrow(v) if isinstance(v, pa.Array) else pl.Series(v)
            for k, v in static.items()
        }
    )
    return frame.hash_rows(seed=0).to_numpy() if m else np.zeros(0, np.uint64)


def count_static_reports(store: Backend, source_id: int) -> None:
    """Set ``statics.n_reports`` for the rows a CSV file wrote.

    A CSV file repeats a vessel's static columns on every row, and ingest stores a
    ``statics`` row only when they change; that row stands for the MMSI's stored position
    rows of the file from its line up to the next change.  Detectors that need a value
    "seen in N reports" (``detect.identity.min_static_reports``) sum ``n_reports``.
    """
    store.execute(
        """
        UPDATE statics SET n_reports = c.n
        FROM (
            WITH st AS (
                SELECT static_id, mmsi, line_no,
                       lead(line_no) OVER (PARTITION BY mmsi ORDER BY line_no) AS next_line
                FROM statics WHERE source_id = ?
            )
            SELECT st.static_id, count(p.pos_id) AS n
            FROM st JOIN positions p
              ON p.source_id = ? AND p.mmsi = st.mmsi
             AND p.line_no >= st.line_no AND (st.next_line IS NULL OR p.line_no < st.next_line)
            GROUP BY st.static_id
        ) c
        WHERE statics.static_id = c.static_id
        """,
        [source_id, source_id],
    )
