"""NMEA 4.10 tag blocks: ``\\s:STATION,c:UNIXTIME,g:1-2-1234*hh\\`` before a sentence.

A tag block is a comma-separated list of ``key:value`` fields between two
backslashes, closed by ``*hh`` (its own checksum).  tumen reads:

``c``
    receive time, Unix seconds (10 digits) or milliseconds (13 digits), UTC.
``s``
    source / receiving station (``rORBCOMM008``, ``42809``).
``g``
    sentence group ``n-m-id``: sentence n of m, group id (joins multi-part messages
    whose sentences carry no sequence id).
``si``
    source identity used by the Danish Maritime Authority (``AISD``, ``IALA``, ``MSSIS``).

The tag block checksum is **not** enforced: some providers (Spire) write ``*00``.
Other keys (``t``, ``T``, ``q``, ``d``, ``n``, ``i``, ``r``...) are ignored.

Reference: NMEA 0183 v4.10 section 7.9 ("TAG blocks"); gpsd's AIVDM notes,
https://gpsd.gitlab.io/gpsd/AIVDM.html#_nmea_tag_blocks .
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tumen.ingest.scan import I64, NO_TIME, U8, B, positions_of, read_uint, scan_digits

#: fields looked at per tag block
MAX_FIELDS = 10


@dataclass
class TagFields:
    """What the tag blocks of a set of spans say (one entry per span)."""

    time_us: I64  # NO_TIME where there is no c: field
    time_bad: B  # c: present but not a usable number
    station_s: I64  # s: value span (-1 if none)
    station_e: I64
    si_s: I64  # si: value span (-1 if none)
    si_e: I64
    group: I64  # g: group id (-1 if none)


def unix_to_us(value: I64, ndigits: I64) -> I64:
    """Unix time in seconds (up to 11 digits) or milliseconds (12-13 digits) → microseconds."""
    return np.where(ndigits >= 12, value * 1_000, value * 1_000_000).astype(np.int64)


def parse_tag_spans(buf: U8, start: I64, end: I64) -> TagFields:
    """Read the tag block fields inside ``buf[start:end]`` (the text between the backslashes).

    Vectorised over all spans: field ``j`` of every span is examined at once.
    """
    n = start.size
    out = TagFields(
        time_us=np.full(n, NO_TIME, dtype=np.int64),
        time_bad=np.zeros(n, dtype=bool),
        station_s=np.full(n, -1, dtype=np.int64),
        station_e=np.full(n, -1, dtype=np.int64),
        si_s=np.full(n, -1, dtype=np.int64),
        si_e=np.full(n, -1, dtype=np.int64),
        group=np.full(n, -1, dtype=np.int64),
    )
    if n == 0:
        return out
    delim = np.flatnonzero((buf == 44) | (buf == 42))
    delim = np.concatenate([delim, np.full(MAX_FIELDS + 2, buf.size + 1024, dtype=np.int64)])
    k = np.searchsorted(delim, start, side="left")
    fs = start.copy()
    live = start < end
    for j in range(MAX_FIELDS):
        if not live.any():
            break
        fe = np.minimum(delim[k + j], end)
        b0 = buf[np.where(live, fs, 0)]
        b1 = buf[np.where(live, fs + 1, 0)]
        b2 = buf[np.where(live, fs + 2, 0)]
        colon1 = b1 == ord(":")
        is_c = live & (b0 == ord("c")) & colon1 & (out.time_us == NO_TIME) & ~out.time_bad
        if is_c.any():
            val, nd = scan_digits(buf, np.where(is_c, fs + 2, 0), np.where(is_c, fe, 0), 13)
            good = is_c & (nd >= 9) & (fs + 2 + nd == fe)
            us = unix_to_us(val, nd)
            out.time_us = np.where(good, us, out.time_us)
            out.time_bad |= is_c & ~good
        is_s = live & (b0 == ord("s")) & colon1 & (out.station_s < 0)
        out.station_s = np.where(is_s, fs + 2, out.station_s)
        out.station_e = np.where(is_s, fe, out.station_e)
        is_si = live & (b0 == ord("s")) & (b1 == ord("i")) & (b2 == ord(":")) & (out.si_s < 0)
        out.si_s = np.where(is_si, fs + 3, out.si_s)
        out.si_e = np.where(is_si, fe, out.si_e)
        is_g = live & (b0 == ord("g")) & colon1 & (out.group < 0)
        if is_g.any():
            out.group = np.where(is_g, _group_id(buf, fs + 2, fe, is_g), out.group)
        # next field: only if this one ended at a comma (a '*' starts the checksum)
        nxt = delim[k + j]
        live &= (nxt < end) & (buf[np.minimum(nxt, buf.size - 1)] == 44)
        fs = nxt + 1
    ok_range = (out.time_us == NO_TIME) | (
        (out.time_us >= 315532800 * 10**6) & (out.time_us < 4102444800 * 10**6)
    )
    out.time_bad |= ~ok_range
    out.time_us = np.where(ok_range, out.time_us, NO_TIME)
    return out


def _group_id(buf: U8, start: I64, end: I64, live: B) -> I64:
    """The id of a ``g:n-m-id`` group field (the digits after the last '-'), -1 if malformed."""
    dash = positions_of(buf, 45)
    # last dash before end
    idx = np.searchsorted(dash, end, side="left") - 1
    d = np.where(idx >= 0, dash[np.maximum(idx, 0)], -1)
    ok = live & (d > start)
    val, good = read_uint(buf, np.where(ok, d + 1, 0), np.where(ok, end, 0), 12)
    return np.where(ok & good, val, -1).astype(np.int64)
