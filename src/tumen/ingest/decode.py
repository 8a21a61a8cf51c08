"""Vectorised decoding of AIS payloads (ITU-R M.1371-5), checked against pyais.

A payload is a string of 6-bit characters ("armouring": ``'0'``-``'W'`` = 0-39,
``'`'``-``'w'`` = 40-63); its bits, minus the fill bits of the last sentence, hold
fixed-width fields.  Decoding one message in Python costs microseconds; here a whole
batch of messages of one type is decoded at once: the characters become a
``(chars, messages)`` array of 6-bit values and each field is a few shifts and masks
over whole rows.

Decoded here (every field, as pyais names and converts them -- pyais is the oracle in
``tests/ingest/test_decode.py``, which compares every message of the real captures):

* 1, 2, 3 position report class A; 4 and 11 base station report; 5 static and voyage
  data; 9 SAR aircraft; 18 and 19 class B position report; 21 aid to navigation;
  24 static data report (parts A and B); 27 long-range position report.

Every other type (6, 7, 8, 10, 12-17, 20, 22, 23, 25, 26, 28) carries neither a position
report nor static data; it is validated (armouring, bit length) and kept whole in the
``messages`` table.

Checks of our own (pyais decodes some of these without complaint):

* every character inside the armouring, else ``undecodable payload``;
* message type 1-28 (pyais reads type 0 as type 1; ITU-R defines no type 0);
* a bit length the type can be decoded from (:data:`DECODE_BITS`): every field a stored row
  needs lies wholly inside the bits received, and no more than five slots' worth
  (:data:`LONGEST_BITS`).  Peers decode the common non-standard forms too (gpsd, pyais,
  libais): type 27 sent as 168 bits, type 1/2/3 of 163 bits, type 24 part A of 160-167
  bits, type 21 of 268 bits, type 7 of 124 bits.  A length outside the ITU-R table
  (:data:`BIT_LENGTHS`, from ITU-R M.1371-5 annex 8 and the gpsd AIVDM notes) is recorded
  as ``nonstandard_length`` on the stored row, so an analyst can filter on it.
  Fields past the end are NULL; a text field keeps the whole characters received.

Six-bit text (names, call signs, destinations): ``@`` is the padding character of
ITU-R M.1371 (6-bit value 0).  Stored text is trimmed of ``@`` and spaces at both ends,
an inner run of ``@`` becomes one space, and an all-``@`` field is NULL
(:func:`clean_sixbit_text`; ``@@J130B`` → ``J130B``, ``HHLA 3@@@@@@@@@B`` → ``HHLA 3 B``).

Reference: ITU-R M.1371-5 (2014) annex 8; https://gpsd.gitlab.io/gpsd/AIVDM.html .
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tumen.ingest import quarantine as Q
from tumen.ingest.scan import I64, U8, spans_to_arrow, windows

# 6-bit value of each armouring character, -1 outside the armouring
SIXBIT = np.full(256, -1, dtype=np.int16)
for _c in range(48, 88):
    SIXBIT[_c] = _c - 48
for _c in range(96, 120):
    SIXBIT[_c] = _c - 56

#: allowed payload bit lengths per type: (min, max) inclusive, or a set of exact lengths
BIT_LENGTHS: dict[int, tuple[int, int] | frozenset[int]] = {
    1: frozenset({168}),
    2: frozenset({168}),
    3: frozenset({168}),
    4: frozenset({168}),
    5: frozenset({424}),
    6: (88, 1008),
    7: frozenset({72, 104, 136, 168}),
    8: (56, 1008),
    9: frozenset({168}),
    10: frozenset({72}),
    11: frozenset({168}),
    12: (72, 1008),
    13: frozenset({72, 104, 136, 168}),
    14: (40, 1008),
    15: (88, 160),
    16: frozenset({96, 144}),
    17: (80, 816),
    18: frozenset({168}),
    19: frozenset({312}),
    20: (72, 160),
    21: (272, 360),
    22: frozenset({168}),
    23: frozenset({160}),
    24: frozenset({160, 168}),  # part A 160 (168 seen in the wild), part B 168; see check_lengths
    25: (40, 168),
    26: (60, 1064),
    27: frozenset({96}),
    28: (40, 168),
}

#: the longest payload of any message: five slots (ITU-R M.1371-5 annex 2), 1008 bits
LONGEST_BITS = 1008

#: fewest bits each decoded kind is decoded from: where the last field a stored row needs
#: ends (a text field at the end may be cut to whole characters).  Any length from there up
#: to :data:`LONGEST_BITS` is decoded (bits after the last field are ignored); a length
#: outside :data:`BIT_LENGTHS` is flagged ``nonstandard_length``.  The types kept whole in
#: ``messages`` need their source MMSI (bits 8-37): :data:`WHOLE_MIN_BITS`.
DECODE_BITS: dict[int | str, int] = {
    1: 143,  # up to the UTC second
    2: 143,
    3: 143,
    4: 134,  # up to the latitude
    11: 134,
    5: 302,  # up to the draught; the destination may be cut to whole characters
    9: 134,  # up to the UTC second
    18: 139,  # up to the UTC second
    19: 301,  # up to the dimensions
    21: 259,  # up to the UTC second; the name extension may be missing
    "24A": 160,  # the name ends at bit 160
    "24B": 162,  # up to the dimensions (or the mothership MMSI)
    27: 94,  # up to the course
}
WHOLE_MIN_BITS = 38

POSITION_TYPES = (1, 2, 3, 4, 9, 11, 18, 19, 21, 27)
STATIC_TYPES = (5, 19, 24)

# field kinds: how pyais converts the raw bits
U, SIGNED, BOOL, STR, SPEED10, FLOAT, LATLON, LATLON600, TURN = range(9)
SKIP = -1  # spare bits


@dataclass(frozen=True)
class FieldSpec:
    name: str
    width: int
    kind: int


def _spec(*fields: tuple[str, int, int]) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(*f) for f in fields)


_HEAD = (("msg_type", 6, U), ("repeat", 2, U), ("mmsi", 30, U))
_T1 = _spec(
    *_HEAD,
    ("status", 4, U),
    ("turn", 8, TURN),
    ("speed", 10, SPEED10),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("course", 12, SPEED10),
    ("heading", 9, U),
    ("second", 6, U),
    ("maneuver", 2, U),
    ("spare_1", 3, SKIP),
    ("raim", 1, BOOL),
    ("radio", 19, U),
)
_T4 = _spec(
    *_HEAD,
    ("year", 14, U),
    ("month", 4, U),
    ("day", 5, U),
    ("hour", 5, U),
    ("minute", 6, U),
    ("second", 6, U),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("epfd", 4, U),
    ("spare_1", 10, SKIP),
    ("raim", 1, BOOL),
    ("radio", 19, U),
)
_T5 = _spec(
    *_HEAD,
    ("ais_version", 2, U),
    ("imo", 30, U),
    ("callsign", 42, STR),
    ("shipname", 120, STR),
    ("ship_type", 8, U),
    ("to_bow", 9, U),
    ("to_stern", 9, U),
    ("to_port", 6, U),
    ("to_starboard", 6, U),
    ("epfd", 4, U),
    ("month", 4, U),
    ("day", 5, U),
    ("hour", 5, U),
    ("minute", 6, U),
    ("draught", 8, SPEED10),
    ("destination", 120, STR),
    ("dte", 1, BOOL),
    ("spare_1", 1, SKIP),
)
_T9 = _spec(
    *_HEAD,
    ("alt", 12, U),
    ("speed", 10, FLOAT),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("course", 12, SPEED10),
    ("second", 6, U),
    ("reserved_1", 8, U),
    ("dte", 1, BOOL),
    ("spare_1", 3, SKIP),
    ("assigned", 1, BOOL),
    ("raim", 1, BOOL),
    ("radio", 20, U),
)
_T18 = _spec(
    *_HEAD,
    ("reserved_1", 8, U),
    ("speed", 10, SPEED10),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("course", 12, SPEED10),
    ("heading", 9, U),
    ("second", 6, U),
    ("reserved_2", 2, U),
    ("cs", 1, BOOL),
    ("display", 1, BOOL),
    ("dsc", 1, BOOL),
    ("band", 1, BOOL),
    ("msg22", 1, BOOL),
    ("assigned", 1, BOOL),
    ("raim", 1, BOOL),
    ("radio", 20, U),
)
_T19 = _spec(
    *_HEAD,
    ("reserved_1", 8, U),
    ("speed", 10, SPEED10),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("course", 12, SPEED10),
    ("heading", 9, U),
    ("second", 6, U),
    ("reserved_2", 4, U),
    ("shipname", 120, STR),
    ("ship_type", 8, U),
    ("to_bow", 9, U),
    ("to_stern", 9, U),
    ("to_port", 6, U),
    ("to_starboard", 6, U),
    ("epfd", 4, U),
    ("raim", 1, BOOL),
    ("dte", 1, BOOL),
    ("assigned", 1, BOOL),
    ("spare_1", 4, SKIP),
)
_T21 = _spec(
    *_HEAD,
    ("aid_type", 5, U),
    ("name", 120, STR),
    ("accuracy", 1, BOOL),
    ("lon", 28, LATLON),
    ("lat", 27, LATLON),
    ("to_bow", 9, U),
    ("to_stern", 9, U),
    ("to_port", 6, U),
    ("to_starboard", 6, U),
    ("epfd", 4, U),
    ("second", 6, U),
    ("off_position", 1, BOOL),
    ("reserved_1", 8, U),
    ("raim", 1, BOOL),
    ("virtual_aid", 1, BOOL),
    ("assigned", 1, BOOL),
    ("spare_1", 1, SKIP),
    ("name_ext", 88, STR),
)
_T24A = _spec(*_HEAD, ("partno", 2, U), ("shipname", 120, STR), ("spare_1", 8, SKIP))
_T24B = _spec(
    *_HEAD,
    ("partno", 2, U),
    ("ship_type", 8, U),
    ("vendorid", 18, STR),
    ("model", 4, U),
    ("serial", 20, U),
    ("callsign", 42, STR),
    ("to_bow", 9, U),
    ("to_stern", 9, U),
    ("to_port", 6, U),
    ("to_starboard", 6, U),
    ("spare_1", 6, SKIP),
)
_T24B_AUX = _spec(
    *_HEAD,
    ("partno", 2, U),
    ("ship_type", 8, U),
    ("vendorid", 18, STR),
    ("model", 4, U),
    ("serial", 20, U),
    ("callsign", 42, STR),
    ("mothership_mmsi", 30, U),
    ("spare_1", 6, SKIP),
)
_T27 = _spec(
    *_HEAD,
    ("accuracy", 1, BOOL),
    ("raim", 1, BOOL),
    ("status", 4, U),
    ("lon", 18, LATLON600),
    ("lat", 17, LATLON600),
    ("speed", 6, FLOAT),
    ("course", 9, FLOAT),
    ("gnss", 1, BOOL),
    ("spare_1", 1, SKIP),
)

#: field layout of each decoded message type ('24A', '24B', '24B_aux' for type 24)
SPECS: dict[int | str, tuple[FieldSpec, ...]] = {
    1: _T1,
    2: _T1,
    3: _T1,
    4: _T4,
    11: _T4,
    5: _T5,
    9: _T9,
    18: _T18,
    19: _T19,
    21: _T21,
    27: _T27,
    "24A": _T24A,
    "24B": _T24B,
    "24B_aux": _T24B_AUX,
}


class SixBits:
    """The payload bits of a group of messages, packed in 60-bit words (10 characters each).

    Bit ``i`` of a payload is bit ``59 - i % 60`` of word ``i // 60``; characters past a
    payload's end are zeros.  A field of up to 60 bits is one or two shifts and masks.
    """

    def __init__(self, pbuf: U8, pay_s: I64, pay_e: I64, fill: I64):
        length = pay_e - pay_s
        self.n = int(pay_s.size)
        self.width = int(length.max()) if self.n else 0
        self.bits = length * 6 - fill
        self.length = length
        self.min_bits = int(self.bits.min()) if self.n else 0
        nwords = (self.width + 9) // 10
        self.nwords = nwords
        self.bad_chars: np.ndarray = np.zeros(0, dtype=bool)
        self.words: list[I64] = []
        if self.n == 0:
            return
        ncols = max(nwords * 10, 1)
        short = int(pay_s.max()) + ncols - pbuf.size
        if short > 0:  # a long payload in the group: rows near the buffer's end read further
            pbuf = np.concatenate([pbuf, np.zeros(short, dtype=np.uint8)])
        chars = windows(pbuf, pay_s, ncols)
        bad = (chars < 48) | (chars > 119) | ((chars > 87) & (chars < 96))
        lo, hi = int(length.min()), int(length.max())
        if lo == hi:
            bad[:, lo:] = False
            inside = None
        else:
            inside = np.arange(ncols)[None, :] < length[:, None]
            bad &= inside
        #: messages holding a character outside the armouring
        self.bad_chars = np.asarray(bad.any(axis=1))
        v = chars - np.uint8(48)
        v -= np.uint8(8) * (v > 40)
        if inside is None:
            v[:, lo:] = 0
        else:
            v[~inside] = 0
        if self.bad_chars.any():
            v[bad] = 0
        vt = np.ascontiguousarray(v.T)
        words = []
        for k in range(nwords):
            w = vt[10 * k].astype(np.int64)
            for j in range(1, 10):
                w <<= 6
                w |= vt[10 * k + j]
            words.append(w)
        self.words = words

    def raw(self, offset: int, width: int) -> I64:
        """Unsigned value of bits ``[offset, offset+width)`` (zeros past the payload), ``width`` <= 60."""
        k, b = divmod(offset, 60)
        if k >= self.nwords:
            return np.zeros(self.n, dtype=np.int64)
        w0 = self.words[k]
        if b + width <= 60:
            return (w0 >> (60 - b - width)) & ((1 << width) - 1)
        hi_bits = 60 - b
        lo_bits = width - hi_bits
        hi = w0 & ((1 << hi_bits) - 1)
        lo = self.words[k + 1] >> (60 - lo_bits) if k + 1 < self.nwords else 0
        return (hi << lo_bits) | lo

    def get(self, offset: int, width: int, signed: bool = False) -> tuple[I64, np.ndarray]:
        """Field value as pyais reads it, and whether it exists (``offset`` < bit length).

        Bits past the end are not there: a field cut short holds only the bits present
        (pyais' semantics); a field starting past the end does not exist (pyais: None).
        """
        full = self.raw(offset, width)
        if offset + width <= self.min_bits:  # present in every message
            val = full
            if signed:
                val = np.where(val >= (1 << (width - 1)), val - (1 << width), val)
            return val, np.ones(self.n, dtype=bool)
        avail = np.clip(self.bits - offset, 0, width)
        exists = avail > 0
        short = width - avail
        val = np.where(exists, full >> np.minimum(short, 63), 0)
        if signed:
            top = np.left_shift(1, np.maximum(avail - 1, 0))
            val = np.where(exists & (val >= top), val - 2 * top, val)
        return val.astype(np.int64), exists


def _text(six: SixBits, offset: int, width: int) -> np.ndarray:
    """Characters of a text field as pyais reads them: a (messages, chars) ASCII matrix.

    Clean it with :func:`text_to_arrow` (``@`` padding and spaces, :func:`clean_sixbit_text`).
    """
    nchar = (width + 5) // 6
    cols = []
    for j in range(nchar):
        v, ex = six.get(offset + 6 * j, 6)
        # a char past the end reads 0 ('@'), as pyais' get() returns 0 there
        v = np.where(ex, v, 0)
        cols.append(np.where(v < 32, v + 64, v))
    return np.stack(cols, axis=1).astype(np.uint8) if cols else np.zeros((six.n, 0), np.uint8)


def text_spans(mat: np.ndarray) -> tuple[I64, I64]:
    """Start and end of each row's text once ``@`` (padding) and spaces are trimmed at both ends."""
    m, w = mat.shape
    keep = (mat != 64) & (mat != 32)
    anyc = keep.any(axis=1)
    start = np.where(anyc, np.argmax(keep, axis=1), 0)
    end = np.where(anyc, w - np.argmax(keep[:, ::-1], axis=1), 0)
    return start.astype(np.int64), end.astype(np.int64)


_AT_RUN = re.compile(r"@+")


def clean_sixbit_text(text: str | None) -> str | None:
    """Six-bit text as stored: ``@`` padding and spaces trimmed at both ends, an inner run of
    ``@`` turned into one space; ``None`` when nothing is left (an all-``@`` field).

    ``@`` is 6-bit value 0, the padding of ITU-R M.1371-5 annex 8 (table 47).

    >>> clean_sixbit_text("@@J130B"), clean_sixbit_text("HHLA 3@@@@@@@@@B"), clean_sixbit_text("@@@@")
    ('J130B', 'HHLA 3 B', None)
    """
    if text is None:
        return None
    out = _AT_RUN.sub(" ", text.strip("@ "))
    return out or None


def text_to_arrow(mat: np.ndarray) -> pa.Array:
    """Arrow strings of a text matrix, cleaned as :func:`clean_sixbit_text` says ('' when empty)."""
    start, end = text_spans(mat)
    w = mat.shape[1]
    flat = np.concatenate([mat.reshape(-1), np.zeros(8, np.uint8)])
    base = np.arange(mat.shape[0], dtype=np.int64) * w
    arr = spans_to_arrow(flat, base + start, base + end)
    inner = (
        (mat == 64)
        & (np.arange(w)[None, :] >= start[:, None])
        & (np.arange(w)[None, :] < end[:, None])
    )
    odd = np.flatnonzero(inner.any(axis=1)) if w else np.zeros(0, np.int64)
    if odd.size:  # rare: an inner run of '@' becomes one space
        values = arr.to_pylist()
        for i in odd.tolist():
            values[i] = _AT_RUN.sub(" ", values[i])
        arr = pa.array(values, type=pa.string())
    return arr


def to_lat_lon(raw: I64) -> np.ndarray:
    """1/10000 minute → degrees, rounded to 6 decimals exactly as pyais does (integer maths)."""
    return np.floor_divide(10 * raw + 3, 6) / 1e6


def to_lat_lon_600(raw: I64) -> np.ndarray:
    """1/10 minute → degrees (type 27), as pyais."""
    return np.floor_divide(10000 * raw + 3, 6) / 1e6


def to_turn(raw: I64) -> np.ndarray:
    """Rate of turn indicator → degrees per minute, as pyais (±127, -128 kept as flags)."""
    f = raw.astype(np.float64)
    val = np.copysign(np.round((f / 4.733) ** 2), f)
    val = np.where(np.abs(raw) == 127, f, val)
    val = np.where(raw == -128, -128.0, val)
    return np.where(raw == 0, 0.0, val)


#: the fields ingest stores (:mod:`tumen.ingest.records`); the others need not be decoded
STORED_FIELDS = frozenset(
    {
        "status", "speed", "accuracy", "lon", "lat", "course", "heading", "second", "imo",
        "callsign", "shipname", "ship_type", "to_bow", "to_stern", "to_port", "to_starboard",
        "draught", "destination", "month", "day", "hour", "minute",
    }
)  # fmt: skip


def decode_fields(
    six: SixBits, spec: tuple[FieldSpec, ...], only: frozenset[str] | None = None
) -> dict[str, object]:
    """The fields of ``spec`` (all, or those named in ``only``) for the messages in ``six``.

    Values are numpy arrays (int64, float64, bool) or, for text, uint8 matrices
    (see :func:`text_to_arrow`); a field that does not exist in a message (past its
    end) is reported in ``result['_exists'][name]``.
    """
    out: dict[str, object] = {}
    exists: dict[str, np.ndarray] = {}
    offset = 0
    for f in spec:
        if f.kind == SKIP or (only is not None and f.name not in only):
            offset += f.width
            continue
        if f.kind == STR:
            out[f.name] = _text(six, offset, f.width)
            exists[f.name] = six.bits > offset
        else:
            signed = f.kind in (SIGNED, LATLON, LATLON600, TURN)
            v, ex = six.get(offset, f.width, signed)
            exists[f.name] = ex
            if f.kind == BOOL:
                out[f.name] = v.astype(bool)
            elif f.kind == SPEED10:
                out[f.name] = v / 10.0
            elif f.kind == FLOAT:
                out[f.name] = v.astype(np.float64)
            elif f.kind == LATLON:
                out[f.name] = to_lat_lon(v)
            elif f.kind == LATLON600:
                out[f.name] = to_lat_lon_600(v)
            elif f.kind == TURN:
                out[f.name] = to_turn(v)
            else:
                out[f.name] = v
        offset += f.width
    out["_exists"] = exists
    return out


# ----------------------------------------------------------------------------- keys
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014): a fast, well-spread 64-bit mix."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    out: np.ndarray = z ^ (z >> np.uint64(31))
    return out


def payload_keys(six: SixBits) -> I64:
    """64-bit key of each payload (its 6-bit values and bit length), stable across runs."""
    h = mix64(np.uint64(0x9E3779B97F4A7C15) ^ six.bits.astype(np.uint64))
    nwords = (six.length + 9) // 10
    for j in range(six.nwords):
        h = np.where(j < nwords, mix64(h ^ six.words[j].astype(np.uint64)), h)
    return h.view(np.int64)


# ----------------------------------------------------------------------------- batch decode
@dataclass
class Decoded:
    """Result of :func:`decode_payloads` for n messages."""

    msg_type: I64  # -1 where undecodable
    code: I64  # quarantine reason code, 0 = fine
    detail: dict[int, str]  # index → detail for quarantined messages
    key: I64  # dedupe key (valid where code == 0)
    mmsi: I64
    # per decoded kind: message indices and their field dicts
    groups: dict[int | str, tuple[I64, dict[str, object]]]
    #: bit length outside the ITU-R table (:data:`BIT_LENGTHS`) though decodable
    nonstandard: np.ndarray | None = None


_MAX_BITS = 1200
_ALLOWED = np.zeros((64, _MAX_BITS + 1), dtype=bool)
for _t, _rule in BIT_LENGTHS.items():
    if isinstance(_rule, tuple):
        _ALLOWED[_t, _rule[0] : _rule[1] + 1] = True
    else:
        _ALLOWED[_t, sorted(_rule)] = True


_ACCEPTED = np.zeros_like(_ALLOWED)
for _t in range(1, 29):
    _ACCEPTED[_t, WHOLE_MIN_BITS : LONGEST_BITS + 1] = True
for _k, _lo in DECODE_BITS.items():
    if isinstance(_k, int):
        _ACCEPTED[_k, :_lo] = False
_ACCEPTED[24, : min(DECODE_BITS["24A"], DECODE_BITS["24B"])] = False
_ACCEPTED |= _ALLOWED  # type 26 may be 1064 bits long


def _lookup(table: np.ndarray, t: I64, bits: I64) -> np.ndarray:
    return table[np.clip(t, 0, 63), np.clip(bits, 0, _MAX_BITS)] & (bits <= _MAX_BITS) & (bits >= 0)


def _allowed(t: I64, bits: I64) -> np.ndarray:
    """Whether each (type, bit length) pair is allowed by :data:`BIT_LENGTHS` (the ITU-R table)."""
    return _lookup(_ALLOWED, t, bits)


def _accepted(t: I64, bits: I64) -> np.ndarray:
    """Whether each (type, bit length) pair can be decoded (:data:`DECODE_BITS`, else the ITU-R table)."""
    return _lookup(_ACCEPTED, t, bits)


def _need(t: int) -> str:
    lo = DECODE_BITS.get(t, WHOLE_MIN_BITS) if t != 24 else DECODE_BITS["24A"]
    rule = BIT_LENGTHS[t]
    hi = max(LONGEST_BITS, rule[1] if isinstance(rule, tuple) else max(rule))
    return f"{lo}-{hi}"


#: per type, characters of its longest ITU-R payload (:data:`BIT_LENGTHS`)
_ITU_CHARS = np.full(64, 10**9, dtype=np.int64)
for _t, _rule in BIT_LENGTHS.items():
    _ITU_CHARS[_t] = -(-(_rule[1] if isinstance(_rule, tuple) else max(_rule)) // 6)


def _add_group(
    groups: dict[int | str, tuple[I64, dict[str, object]]],
    name: int | str,
    idx: I64,
    fields: dict[str, object],
) -> None:
    """Add decoded messages to ``groups[name]`` (concatenated with those already there)."""
    if name not in groups:
        groups[name] = (idx, fields)
        return
    old_idx, old = groups[name]
    merged: dict[str, object] = {}
    for k, v in fields.items():
        if k == "_exists":
            ex_old = old["_exists"]
            assert isinstance(ex_old, dict) and isinstance(v, dict)
            merged[k] = {f: np.concatenate([ex_old[f], v[f]]) for f in v}
        else:
            merged[k] = np.concatenate([np.asarray(old[k]), np.asarray(v)])
    groups[name] = (np.concatenate([old_idx, idx]), merged)


def decode_payloads(
    pbuf: U8, pay_s: I64, pay_e: I64, fill: I64, only: frozenset[str] | None = None
) -> Decoded:
    """Validate and decode a batch of payloads (spans of ``pbuf``).

    ``only`` names the fields to decode (default: every field, as pyais gives them).
    """
    n = int(pay_s.size)
    length = pay_e - pay_s
    bits = length * 6 - fill
    code = np.zeros(n, dtype=np.int64)
    detail: dict[int, str] = {}
    key = np.zeros(n, dtype=np.int64)
    mmsi = np.zeros(n, dtype=np.int64)
    groups: dict[int | str, tuple[I64, dict[str, object]]] = {}
    nonstandard = np.zeros(n, dtype=bool)
    if n == 0:
        return Decoded(np.zeros(0, np.int64), code, detail, key, mmsi, groups, nonstandard)
    und = Q.CODE[Q.UNDECODABLE]
    empty = length <= 0
    code[empty] = und
    for i in np.flatnonzero(empty).tolist():
        detail[i] = "empty payload"
    first = SIXBIT[pbuf[pay_s]].astype(np.int64)
    mtype = np.where(empty, -1, first)
    bad_first = ~empty & (first < 0)
    unknown = ~empty & ~bad_first & ((mtype < 1) | (mtype > 28))
    code[bad_first | unknown] = und
    for i in np.flatnonzero(bad_first).tolist():
        detail[i] = f"character {chr(int(pbuf[pay_s[i]]))!r} outside the 6-bit armouring"
    for i in np.flatnonzero(unknown).tolist():
        detail[i] = f"unknown message type {int(mtype[i])}"
    bad_len = (code == 0) & ~_accepted(mtype, bits)
    code[bad_len] = und
    for i in np.flatnonzero(bad_len).tolist():
        detail[i] = f"type {int(mtype[i])} needs {_need(int(mtype[i]))} bits, got {int(bits[i])}"
    nonstandard[:] = (code == 0) & ~_allowed(mtype, bits)
    live = np.flatnonzero(code == 0)
    lt = mtype[live]
    # payloads longer than the type's ITU-R length are decoded apart: a group is read as wide
    # as its longest payload, and one 1008-bit message must not widen every other one
    long_ = length[live] > _ITU_CHARS[np.clip(lt, 0, 63)]
    subgroups = [
        (typ, live[(lt == typ) & (long_ == lg)])
        for typ in np.unique(lt).tolist()
        for lg in (False, True)
    ]
    for typ, rows in subgroups:
        if rows.size == 0:
            continue
        six = SixBits(pbuf, pay_s[rows], pay_e[rows], fill[rows])
        if six.bad_chars.any():
            for j in np.flatnonzero(six.bad_chars).tolist():
                i = int(rows[j])
                code[i] = und
                seg = pbuf[pay_s[i] : pay_e[i]]
                detail[i] = (
                    f"{int((SIXBIT[seg] < 0).sum())} character(s) outside the 6-bit armouring"
                )
            keep = ~six.bad_chars
            rows = rows[keep]
            if rows.size == 0:
                continue
            six = SixBits(pbuf, pay_s[rows], pay_e[rows], fill[rows])
        key[rows] = payload_keys(six)
        mm, _ = six.get(8, 30)
        mmsi[rows] = mm
        if typ == 24:
            part, _ = six.get(38, 2)
            lens = six.bits
            a_lo, b_lo = DECODE_BITS["24A"], DECODE_BITS["24B"]
            bad24 = (part > 1) | ((part == 0) & (lens < a_lo)) | ((part == 1) & (lens < b_lo))
            # ITU-R: part A 160 bits (168 as many class B units send it), part B 168
            nonstandard[rows] = ~bad24 & ~(
                ((part == 0) & np.isin(lens, [160, 168])) | ((part == 1) & (lens == 168))
            )
            for j in np.flatnonzero(bad24).tolist():
                code[rows[j]] = und
                p = int(part[j])
                detail[int(rows[j])] = (
                    f"type 24 part number {p}"
                    if p > 1
                    else f"type 24 part {'AB'[p]} needs {(a_lo, b_lo)[p]}-{LONGEST_BITS} bits, "
                    f"got {int(lens[j])}"
                )
            aux = (mm >= 980000000) & (mm <= 989999999)
            for name, sel in (
                ("24A", part == 0),
                ("24B", (part == 1) & ~aux),
                ("24B_aux", (part == 1) & aux),
            ):
                sel = sel & ~bad24
                if sel.any():
                    sub = rows[sel]
                    six_sub = SixBits(pbuf, pay_s[sub], pay_e[sub], fill[sub])
                    _add_group(groups, name, sub, decode_fields(six_sub, SPECS[name], only))
        elif typ in SPECS:
            _add_group(groups, typ, rows, decode_fields(six, SPECS[typ], only))
    nonstandard &= code == 0
    return Decoded(mtype, code, detail, key, mmsi, groups, nonstandard)
