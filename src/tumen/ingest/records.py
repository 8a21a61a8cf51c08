"""Decoded AIS fields → rows of the store's ``positions``, ``statics`` and ``messages`` tables.

Conventions (the columns are documented in ``store/schema.sql``):

* ``sog_kn``: speed over ground in knots; "not available" (1023, type 27: 63) → NULL.
  Type 9 (SAR aircraft) reports whole knots.
* ``cog_deg``: course over ground in degrees; 3600 tenths (type 27: 511) and beyond → NULL.
* ``heading_deg``: true heading in degrees; 511 and other values over 359 → NULL.
* ``nav_status``: ITU-R M.1371 navigational status (types 1-3 and 27), kept as sent.
* ``class``: 'A' for types 1-3 (and 5 in statics), 'B' for 18, 19, 24; NULL otherwise
  (see :data:`CLASS_OF_TYPE`).
* A position report reading lat 91 or lon 181 ("not available") is stored with ``lat`` and
  ``lon`` NULL: its MMSI, time, speed and status prove the vessel was transmitting (gaps
  count it as heard), and every consumer doing geometry skips NULL positions.  A position
  beyond +-90 / +-180 (other than 'not available') is quarantined (``out of range``); a
  type 19 report with such a position still gives its static row.
* ``nonstandard_length``: the payload's bit length is not the ITU-R one (see
  :data:`tumen.ingest.decode.DECODE_BITS`), though every stored field was received.
* statics: ``imo`` 0 → NULL, empty texts → NULL (``@`` padding cleaned, see
  :func:`tumen.ingest.decode.clean_sixbit_text`); ship type and dimensions as sent;
  ``length_m``/``width_m`` are to_bow+to_stern and to_port+to_starboard when not 0;
  ``eta`` is 'MM-DDTHH:MM' when month, day, hour and minute are all valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from tumen.ingest import quarantine as Q
from tumen.ingest.decode import Decoded, text_to_arrow
from tumen.ingest.scan import I64

#: transponder class by message type (None: not a ship's transponder, or unknown)
CLASS_OF_TYPE = {1: "A", 2: "A", 3: "A", 5: "A", 18: "B", 19: "B", 24: "B"}
OUT_RANGE = Q.CODE[Q.OUT_OF_RANGE]


@dataclass
class Part:
    """Rows of one table: the message each row comes from, and its columns."""

    msg: I64
    cols: dict[str, pa.Array | np.ndarray] = field(default_factory=dict)


def _masked(values: np.ndarray, null: np.ndarray, typ: pa.DataType) -> pa.Array:
    return pa.array(values, type=typ, mask=null) if null.any() else pa.array(values, type=typ)


def _position_part(idx: I64, f: dict[str, object], typ: int) -> Part:
    """Position rows of one message type (those out of range left out; 'not available' → NULL)."""
    lat = np.asarray(f["lat"])
    lon = np.asarray(f["lon"])
    no_pos = (lat == 91.0) | (lon == 181.0)
    out = ~no_pos & ((np.abs(lat) > 90.0) | (np.abs(lon) > 180.0))
    sel = np.flatnonzero(~out)
    null = no_pos[sel]
    cols: dict[str, pa.Array | np.ndarray] = {
        "lat": _masked(lat[sel], null, pa.float64()),
        "lon": _masked(lon[sel], null, pa.float64()),
    }
    if typ in (1, 2, 3, 18, 19):
        speed = np.asarray(f["speed"])[sel]
        course = np.asarray(f["course"])[sel]
        heading = np.asarray(f["heading"])[sel]
        cols["sog_kn"] = _masked(speed.astype(np.float32), speed >= 102.25, pa.float32())
        cols["cog_deg"] = _masked(course.astype(np.float32), course >= 359.95, pa.float32())
        cols["heading_deg"] = _masked(heading.astype(np.int16), heading > 359, pa.int16())
    elif typ == 9:
        speed = np.asarray(f["speed"])[sel]
        course = np.asarray(f["course"])[sel]
        cols["sog_kn"] = _masked(speed.astype(np.float32), speed >= 1023, pa.float32())
        cols["cog_deg"] = _masked(course.astype(np.float32), course >= 359.95, pa.float32())
    elif typ == 27:
        speed = np.asarray(f["speed"])[sel]
        course = np.asarray(f["course"])[sel]
        cols["sog_kn"] = _masked(speed.astype(np.float32), speed >= 63, pa.float32())
        cols["cog_deg"] = _masked(course.astype(np.float32), course > 359, pa.float32())
    if typ in (1, 2, 3, 27):
        cols["nav_status"] = pa.array(np.asarray(f["status"])[sel].astype(np.int8))
    cols["accuracy"] = pa.array(np.asarray(f["accuracy"])[sel])
    if "second" in f:
        cols["utc_second"] = pa.array(np.asarray(f["second"])[sel].astype(np.int8))
    cols["msg_type"] = np.full(sel.size, typ, dtype=np.int8)
    return Part(idx[sel], cols)


def _text(f: dict[str, object], name: str, sel: np.ndarray | None = None) -> pa.Array:
    mat = np.asarray(f[name])
    if sel is not None:
        mat = mat[sel]
    arr = text_to_arrow(mat)
    # empty text → NULL
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def _dims(f: dict[str, object]) -> dict[str, pa.Array | np.ndarray]:
    bow = np.asarray(f["to_bow"])
    stern = np.asarray(f["to_stern"])
    port = np.asarray(f["to_port"])
    star = np.asarray(f["to_starboard"])
    length = bow + stern
    width = port + star
    return {
        "to_bow_m": bow.astype(np.int16),
        "to_stern_m": stern.astype(np.int16),
        "to_port_m": port.astype(np.int16),
        "to_starboard_m": star.astype(np.int16),
        "length_m": _masked(length.astype(np.float32), length == 0, pa.float32()),
        "width_m": _masked(width.astype(np.float32), width == 0, pa.float32()),
    }


def _static_part(name: int | str, idx: I64, f: dict[str, object]) -> Part:
    cols: dict[str, pa.Array | np.ndarray] = {}
    n = idx.size
    if name == 5:
        imo = np.asarray(f["imo"])
        cols["imo"] = _masked(imo, imo == 0, pa.int64())
        cols["callsign"] = _text(f, "callsign")
        cols["name"] = _text(f, "shipname")
        cols["ship_type"] = np.asarray(f["ship_type"]).astype(np.int16)
        cols.update(_dims(f))
        dr = np.asarray(f["draught"])
        cols["draught_m"] = dr.astype(np.float32)
        cols["destination"] = _text(f, "destination")
        mo, d, h, mi = (np.asarray(f[k]) for k in ("month", "day", "hour", "minute"))
        valid = (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= 31) & (h <= 23) & (mi <= 59)
        eta = [
            f"{a:02d}-{b:02d}T{c:02d}:{e:02d}" if v else None
            for a, b, c, e, v in zip(
                mo.tolist(), d.tolist(), h.tolist(), mi.tolist(), valid.tolist(), strict=True
            )
        ]
        cols["eta"] = pa.array(eta, type=pa.string())
        cols["msg_type"] = np.full(n, 5, dtype=np.int8)
    elif name == 19:
        cols["name"] = _text(f, "shipname")
        cols["ship_type"] = np.asarray(f["ship_type"]).astype(np.int16)
        cols.update(_dims(f))
        cols["msg_type"] = np.full(n, 19, dtype=np.int8)
    elif name == "24A":
        cols["name"] = _text(f, "shipname")
        cols["part_code"] = np.full(n, 1, dtype=np.int8)
        cols["msg_type"] = np.full(n, 24, dtype=np.int8)
    else:  # 24B, 24B_aux
        cols["ship_type"] = np.asarray(f["ship_type"]).astype(np.int16)
        cols["callsign"] = _text(f, "callsign")
        if name == "24B":
            cols.update(_dims(f))
        cols["part_code"] = np.full(n, 2, dtype=np.int8)
        cols["msg_type"] = np.full(n, 24, dtype=np.int8)
    return Part(idx, cols)


@dataclass
class Rows:
    """Candidate rows of a batch, before dedupe decides which messages are stored."""

    positions: list[Part]
    statics: list[Part]
    others: I64  # message indices for the ``messages`` table
    code: I64  # per message: quarantine code after position checks (0 = has rows)
    detail: dict[int, str]


def check_messages(dec: Decoded) -> tuple[I64, dict[int, str]]:
    """Quarantine code per message (0 = it gives rows) and details, position checks included.

    A position report out of range gives no row (a type 19 report still gives its static
    row); one reading 'not available' gives a row without position.
    """
    code = dec.code.copy()
    detail = dict(dec.detail)
    has_static = np.zeros(code.size, dtype=bool)
    for name, (idx, _f) in dec.groups.items():
        if name in (5, 19, "24A", "24B", "24B_aux"):
            has_static[idx] = True
    for name, (idx, f) in dec.groups.items():
        if name not in (1, 2, 3, 4, 9, 11, 18, 19, 21, 27):
            continue
        lat = np.asarray(f["lat"])
        lon = np.asarray(f["lon"])
        no_pos = (lat == 91.0) | (lon == 181.0)
        out = ~no_pos & ((np.abs(lat) > 90.0) | (np.abs(lon) > 180.0))
        bad = np.flatnonzero(out & ~has_static[idx])
        if bad.size:
            rejected = idx[bad]
            code[rejected] = OUT_RANGE
            for i, a, b in zip(
                rejected.tolist(), lat[bad].tolist(), lon[bad].tolist(), strict=True
            ):
                detail[i] = f"lat {a:g}, lon {b:g}"
    return code, detail


def build_rows(dec: Decoded, code: I64 | None = None) -> Rows:
    """Turn decoded fields into candidate rows (``code``: from :func:`check_messages`)."""
    detail: dict[int, str] = {}
    if code is None:
        code, detail = check_messages(dec)
    positions: list[Part] = []
    statics: list[Part] = []
    ns = dec.nonstandard if dec.nonstandard is not None else np.zeros(code.size, dtype=bool)
    for name, (idx, f) in dec.groups.items():
        if name in (5, 19, "24A", "24B", "24B_aux"):
            part = _static_part(name, idx, f)
            part.cols["nonstandard_length"] = ns[part.msg]
            statics.append(part)
    for name, (idx, f) in dec.groups.items():
        if name in (1, 2, 3, 4, 9, 11, 18, 19, 21, 27):
            assert isinstance(name, int)
            part = _position_part(idx, f, name)
            part.cols["nonstandard_length"] = ns[part.msg]
            positions.append(part)
    decoded_kinds = np.zeros(code.size, dtype=bool)
    for _name, (idx, _f) in dec.groups.items():
        decoded_kinds[idx] = True
    others = np.flatnonzero((dec.code == 0) & ~decoded_kinds)
    return Rows(positions, statics, others, code, detail)
