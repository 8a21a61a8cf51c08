"""Vectorised scanning of byte buffers: the numpy kernels under the line parsers.

A batch of input lines is one ``uint8`` array (``buf``) plus the start and end
offset of each line.  Instead of looping over lines in Python, the parsers ask
questions of all lines at once: where is the first ``!`` after each offset,
what number do the digits at these offsets spell, which lines hold a byte
outside a set.  Every function here works on whole arrays of offsets.

``buf`` always ends with :data:`PAD` zero bytes, so that gathers a few bytes
past any offset inside the data never leave the array.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

#: zero bytes appended to every buffer so that ``buf[i + k]`` is safe for small ``k``
PAD = 64

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

#: "no time" in the int64 microsecond columns (-2**62, far outside any real time)
NO_TIME = np.int64(-(2**62))

DIGIT = np.zeros(256, dtype=bool)
_DIGIT = DIGIT
_DIGIT[ord("0") : ord("9") + 1] = True
HEX = np.full(256, -1, dtype=np.int16)
_HEX = HEX
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[ord(" "), ord("\t"), ord("\r"), 0x0B, 0x0C]] = True


def padded(data: bytes | bytearray | memoryview) -> U8:
    """Copy ``data`` into a ``uint8`` array with :data:`PAD` trailing zeros.

    Bytes >= 0x80 become 0x7F (DEL), a byte that no valid sentence contains, so
    that the buffer is ASCII (and thus valid UTF-8) whatever the file held.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    buf = np.zeros(raw.size + PAD, dtype=np.uint8)
    buf[: raw.size] = raw
    high = buf >= 0x80
    if high.any():
        buf[high] = 0x7F
    return buf


def positions_of(buf: U8, byte: int) -> I64:
    """Sorted offsets of every occurrence of ``byte``, followed by sentinels.

    The sentinels point into the zero padding (``PAD // 2`` before the end), so they
    compare greater than every real offset and a few bytes past them can still be read.
    """
    pos = np.flatnonzero(buf == byte)
    return np.concatenate([pos, np.full(16, buf.size - PAD // 2, dtype=np.int64)])


#: the bytes the NMEA parsers locate: '!' ',' '*' '\\'
SPECIAL = b"!,*\\"


def special_positions(buf: U8) -> dict[int, I64]:
    """Sorted offsets (with sentinels) of each byte of :data:`SPECIAL`, by byte value.

    (One comparison per byte value: cheaper in numpy than a 256-entry lookup table.)
    """
    return {c: positions_of(buf, c) for c in SPECIAL}


def first_at_or_after(pos: I64, offsets: I64) -> I64:
    """For each offset, the first position in ``pos`` (sorted) that is ``>= offset``."""
    return pos[np.searchsorted(pos, offsets, side="left")]


def index_at_or_after(pos: I64, offsets: I64) -> I64:
    """Index into ``pos`` of the first position ``>= offset``."""
    return np.searchsorted(pos, offsets, side="left")


def count_between(pos: I64, lo: I64, hi: I64) -> I64:
    """How many positions lie in ``[lo, hi)`` for each pair."""
    return np.searchsorted(pos, hi, side="left") - np.searchsorted(pos, lo, side="left")


def last_before(pos: I64, offsets: I64) -> I64:
    """For each offset, the last position in ``pos`` that is ``< offset`` (-1 if none)."""
    idx = np.searchsorted(pos, offsets, side="left") - 1
    out = np.where(idx >= 0, pos[np.maximum(idx, 0)], -1)
    return out.astype(np.int64)


def is_digit(buf: U8, at: I64) -> B:
    """Whether ``buf[at]`` is an ASCII digit."""
    return _DIGIT[buf[at]]


def hex_value(buf: U8, at: I64) -> npt.NDArray[np.int16]:
    """Value of the hex digit at each offset, -1 where it is not one."""
    return _HEX[buf[at]]


def read_uint(buf: U8, start: I64, end: I64, max_digits: int = 18) -> tuple[I64, B]:
    """Parse the unsigned decimal integer spelt by ``buf[start:end]`` for each span.

    Returns ``(value, ok)``; ``ok`` is false where the span is empty, longer than
    ``max_digits`` or holds a non-digit (``value`` is then 0).
    """
    n = end - start
    ok = (n >= 1) & (n <= max_digits)
    value = np.zeros(start.size, dtype=np.int64)
    longest = int(n[ok].max()) if ok.any() else 0
    if longest == 0:
        return value, ok
    digits = windows(buf, np.where(ok, start, 0), longest) - np.uint8(
        48
    )  # uint8: non-digits wrap > 9
    for k in range(longest):
        d = digits[:, k]
        live = k < n
        ok &= ~live | (d <= 9)
        value = np.where(live, value * 10 + d, value)
    return np.where(ok, value, 0), ok


def scan_digits(buf: U8, start: I64, limit: I64, max_digits: int) -> tuple[I64, I64]:
    """Read the run of digits that begins at each ``start`` (stopping at ``limit``).

    Returns ``(value, ndigits)``; a run longer than ``max_digits`` stops there.
    """
    value = np.zeros(start.size, dtype=np.int64)
    count = np.zeros(start.size, dtype=np.int64)
    live = start < limit
    for k in range(max_digits):
        if not live.any():
            break
        at = np.where(live, start + k, 0)
        d = buf[at].astype(np.int64) - 48
        live &= (d >= 0) & (d <= 9) & (start + k < limit)
        value = np.where(live, value * 10 + d, value)
        count += live
    return value, count


def skip_spaces(buf: U8, at: I64, limit: I64) -> I64:
    """Advance each offset over spaces and tabs, not past ``limit``."""
    at = at.copy()
    live = at < limit
    while live.any():
        sp = live & _SPACE[buf[np.where(live, at, 0)]]
        if not sp.any():
            break
        at += sp
        live = sp & (at < limit)
    return at


def strip_spans(buf: U8, start: I64, end: I64) -> tuple[I64, I64]:
    """Move span ends inward over whitespace (spaces, tabs, CR) on both sides."""
    start = skip_spaces(buf, start, end)
    end = end.copy()
    live = end > start
    while live.any():
        sp = live & _SPACE[buf[np.where(live, end - 1, 0)]]
        if not sp.any():
            break
        end -= sp
        live = sp & (end > start)
    return start, end


def xor_spans(buf: U8, start: I64, end: I64) -> npt.NDArray[np.uint8]:
    """XOR of the bytes in ``buf[start:end]`` for each span (the NMEA checksum); 0 if empty."""
    if start.size == 0:
        return np.zeros(0, dtype=np.uint8)
    nonempty = end > start
    idx = np.empty(start.size * 2, dtype=np.int64)
    idx[0::2] = np.where(nonempty, start, 0)
    idx[1::2] = np.where(nonempty, end, 1)
    # reduceat needs indices < len; spans never reach into the padding
    out = np.bitwise_xor.reduceat(buf, idx)[0::2]
    return np.where(nonempty, out, 0).astype(np.uint8)


def gather(buf: U8, start: I64, length: I64) -> U8:
    """Concatenate ``buf[start:start+length]`` for every span into one array."""
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint8)
    offs = np.zeros(length.size + 1, dtype=np.int64)
    np.cumsum(length, out=offs[1:])
    idx = np.arange(total, dtype=np.int64) - np.repeat(offs[:-1] - start, length)
    return buf[idx]


def windows(buf: U8, start: I64, width: int) -> U8:
    """Rows ``buf[start:start+width]`` as a ``(len(start), width)`` array, one memcpy per row.

    ``start + width`` must stay inside ``buf`` (true for offsets in the data: see :data:`PAD`).
    """
    view = np.lib.stride_tricks.as_strided(
        buf, shape=(buf.size - width + 1, width), strides=(1, 1), writeable=False
    )
    out: U8 = view[start]
    return out


def spans_to_arrow(buf: U8, start: I64, end: I64, valid: B | None = None) -> pa.Array:
    """Arrow ``string`` array of the spans (null where ``valid`` is false or start < 0)."""
    ok = (start >= 0) & (end >= start)
    if valid is not None:
        ok &= valid
    length = np.where(ok, end - start, 0)
    data = gather(buf, np.where(ok, start, 0), length)
    offs = np.zeros(start.size + 1, dtype=np.int32 if data.size < 2**31 else np.int64)
    np.cumsum(length, out=offs[1:])
    kind = pa.string() if offs.dtype == np.int32 else pa.large_string()
    mask = None if ok.all() else pa.py_buffer(np.packbits(ok, bitorder="little"))
    return pa.Array.from_buffers(kind, start.size, [mask, pa.py_buffer(offs), pa.py_buffer(data)])


def days_from_civil(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: I64 = era * 146097 + doe - 719468
    return days


_MDAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

#: times accepted as real receive times: 1980-01-01 .. 2100-01-01 UTC, in microseconds
MIN_TIME_US = np.int64(315532800 * 1_000_000)
MAX_TIME_US = np.int64(4102444800 * 1_000_000)


def civil_to_us(
    y: I64, mo: I64, d: I64, h: I64, mi: I64, s: I64, us: I64 | int = 0
) -> tuple[I64, B]:
    """Microseconds since 1970 (UTC) of calendar fields, and whether they form a valid time."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mdays = _MDAYS[np.clip(mo, 0, 12)] - ((mo == 2) & ~leap)
    ok = (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= mdays) & (h <= 23) & (mi <= 59) & (s <= 60)
    days = days_from_civil(y, np.clip(mo, 1, 12), d)
    t = ((days * 24 + h) * 60 + mi) * 60 + s
    out = t * 1_000_000 + us
    ok &= (out >= MIN_TIME_US) & (out < MAX_TIME_US)
    return out.astype(np.int64), ok
