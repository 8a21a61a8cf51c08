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

from tumen.ingest.scan import I64, NO_TIME, U8, B, first_at_or_after, positions_of, read_uint

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


def parse_tag_spans(
    buf: U8,
    start: I64,
    end: I64,
    comma: I64 | None = None,
    star: I64 | None = None,
    dash: I64 | None = None,
) -> TagFields:
    """Read the tag block fields inside ``buf[start:end]`` (the text between the backslashes).

    Vectorised over all spans: field ``j`` of every span is examined at once.  ``comma``,
    ``star`` and ``dash`` are the sorted offsets of those bytes in ``buf``
    (:func:`tumen.ingest.scan.special_positions`); computed here if not given.
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
    if comma is None or star is None:
        comma, star = positions_of(buf, 44), positions_of(buf, 42)
    # the fields end at the tag block's '*' (or its end); it is nearly always 3 before the end
    last = np.where(buf[np.maximum(end - 3, 0)] == 42, end - 3, end)
    odd = last == end
    if odd.any():
        last[odd] = np.minimum(first_at_or_after(star, start[odd]), end[odd])
    k = np.searchsorted(comma, start, side="left")
    fs = start.copy()
    live = start < last
    for j in range(MAX_FIELDS):
        if not live.any():
            break
        nxt = comma[k + j]
        fe = np.minimum(nxt, last)
        at = np.where(live, fs, 0)
        b0, b1, b2 = buf[at], buf[at + 1], buf[at + 2]
        colon1 = live & (b1 == 58)
        is_c = colon1 & (b0 == 99) & (out.time_us == NO_TIME) & ~out.time_bad
        if is_c.any():
            ci = np.flatnonzero(is_c)
            a, b = fs[ci] + 2, fe[ci]
            val, good = read_uint(buf, a, b, 13)
            good &= b - a >= 9
            out.time_us[ci] = np.where(good, unix_to_us(val, b - a), NO_TIME)
            out.time_bad[ci] = ~good
        is_s = colon1 & (b0 == 115) & (out.station_s < 0)
        out.station_s = np.where(is_s, fs + 2, out.station_s)
        out.station_e = np.where(is_s, fe, out.station_e)
        is_si = live & (b0 == 115) & (b1 == 105) & (b2 == 58) & (out.si_s < 0)
        if is_si.any():
            out.si_s = np.where(is_si, fs + 3, out.si_s)
            out.si_e = np.where(is_si, fe, out.si_e)
        is_g = colon1 & (b0 == 103) & (out.group < 0)
        if is_g.any():
            if dash is None:
                dash = positions_of(buf, 45)
            out.group = np.where(is_g, _group_id(buf, fs + 2, fe, is_g, dash), out.group)
        # a next field follows only if this one ended at a comma before the '*'
        live &= nxt < last
        fs = nxt + 1
    ok_range = (out.time_us == NO_TIME) | (
        (out.time_us >= 315532800 * 10**6) & (out.time_us < 4102444800 * 10**6)
    )
    out.time_bad |= ~ok_range
    out.time_us = np.where(ok_range, out.time_us, NO_TIME)
    return out


def _group_id(buf: U8, start: I64, end: I64, live: B, dash: I64) -> I64:
    """The id of a ``g:n-m-id`` group field (the digits after the last '-'), -1 if malformed."""
    idx = np.searchsorted(dash, end, side="left") - 1
    d = np.where(idx >= 0, dash[np.maximum(idx, 0)], -1)
    ok = live & (d > start)
    val, good = read_uint(buf, np.where(ok, d + 1, 0), np.where(ok, end, 0), 12)
    return np.where(ok & good, val, -1).astype(np.int64)
