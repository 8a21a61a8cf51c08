"""NMEA 0183 AIS lines → AIS messages, vectorised over a batch of lines.

What a line may hold (all seen in the real captures, see ``shared/data/ais/README.md``):

* ``!AIVDM,1,1,,A,<payload>,0*hh`` -- one sentence; any two-character talker
  (``AI``, ``BS``, ``AB``, ``SA``, ``--``...), ``VDM`` (heard) or ``VDO`` (own ship);
  an extra field before the checksum (Navico: ``...,0,0*1C``) is allowed.
* a tag block before the sentence: ``\\s:STATION,c:UNIX*hh\\!AIVDM,...`` (:mod:`.tagblock`);
* a logger prefix: ``2016-03-31 00:00:01, !AIVDM...`` (ISO 8601; local time unless it ends
  in ``Z`` or an offset -- ``ingest.tz`` / ``--tz`` names the zone) or ``1490075479,!AIVDM...``
  (Unix seconds or milliseconds);
* trailing fields after the checksum (USCG / MSSIS): ``...*hh,d-109,S2105,r003669946,1325394060``
  -- the first all-digit field is the receive time (Unix seconds), an ``r...``/``b...`` field the station;
* several sentences on one line (aggregators joining the fragments of a message);
* header lines: a tag block alone on its line, or a Gatehouse ``$PGHP,1,yyyy,mm,dd,hh,mi,ss,ms,
  country,region,station,...`` line, giving time and station to the next sentence line.

Receive time of a sentence, first present of: its own tag block ``c:``, its logger prefix,
its trailing epoch field, the ``c:`` of a tag-block header line, a ``$PGHP`` header line.
If that first source is present but unreadable the sentence is quarantined (``unparseable
time``).  With none, the message is stored with ``ts`` NULL.

Multi-part messages are assembled by (talker, fragment count, sequence id, channel); when the
sequence id is empty the tag block group id (``g:``) stands in.  Fragment ``k+1`` must follow
fragment ``k`` within ``ingest.fragment_gap_lines`` lines, else the message is incomplete.

Everything except the few lines that need it (several sentences on a line, unusual prefixes,
junk) is parsed by numpy kernels over the whole batch (:mod:`.scan`); the checksum is one
``np.bitwise_xor.reduceat`` over the batch buffer.

References: NMEA 0183 v4.10; ITU-R M.1371-5 annex 8; Eric S. Raymond, "AIVDM/AIVDO protocol
decoding", https://gpsd.gitlab.io/gpsd/AIVDM.html .
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tumen.ingest import quarantine as Q
from tumen.ingest.files import LineBatch
from tumen.ingest.scan import (
    DIGIT as _DIGIT,
)
from tumen.ingest.scan import (
    HEX as _HEX,
)
from tumen.ingest.scan import (
    I64,
    NO_TIME,
    PAD,
    U8,
    B,
    civil_to_us,
    first_at_or_after,
    gather,
    index_at_or_after,
    is_digit,
    last_before,
    read_uint,
    scan_digits,
    skip_spaces,
    special_positions,
    strip_spans,
    windows,
    xor_spans,
)
from tumen.ingest.tagblock import parse_tag_spans, unix_to_us

# line kinds
K_BLANK, K_COMMENT, K_SENT, K_TAGHDR, K_GHHDR, K_NONAIS, K_COMPLEX, K_MALFORMED, K_BINARY = range(9)

#: longest payload accepted in one sentence (characters; pyais refuses more too)
MAX_PAYLOAD = 200

_TALKER = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-":
    _TALKER[_c] = True
_TEXT = np.zeros(256, dtype=bool)  # printable ASCII, tab
_TEXT[32:127] = True
_TEXT[9] = True


SENT_FIELDS = (
    "talker", "count", "num", "seq", "chan", "pay_s", "pay_e", "fill", "ck_given", "ck_calc",
    "t_own", "t_bad", "st_s", "st_e", "si_s", "si_e", "group",
)  # fmt: skip


@dataclass
class Sentences:
    """One row per AIS sentence that parsed: the row (line) it is on, and its fields."""

    row: I64
    talker: I64
    count: I64
    num: I64
    seq: I64  # -1: empty
    chan: I64  # channel character, 0: empty
    pay_s: I64  # payload span in the buffer
    pay_e: I64
    fill: I64
    ck_given: I64
    ck_calc: I64
    t_own: I64  # time from the sentence's own tag block / prefix / trailer (NO_TIME if none)
    t_bad: B  # a time source is present but unreadable
    st_s: I64  # station span (tag s:, trailer r/b field), -1 if none
    st_e: I64
    si_s: I64  # tag si: span, -1 if none
    si_e: I64
    group: I64  # tag g: id, -1 if none

    @classmethod
    def empty(cls) -> Sentences:
        z = np.zeros(0, dtype=np.int64)
        f = np.zeros(0, dtype=bool)
        return cls(z, z, z, z, z, z, z, z, z, z, z, z, f, z, z, z, z, z)

    def take(self, idx: I64) -> Sentences:
        return Sentences(row=self.row[idx], **{f: getattr(self, f)[idx] for f in SENT_FIELDS})

    @staticmethod
    def concat(parts: list[Sentences]) -> Sentences:
        return Sentences(
            row=np.concatenate([p.row for p in parts]),
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in SENT_FIELDS},
        )


@dataclass
class RowScan:
    """Per-row result of :func:`scan_rows`: the kind of each row, header fields, sentences."""

    kind: I64
    # header rows (tag block alone, $PGHP): time and station they give (arrays over all rows)
    h_time: I64
    h_bad: B
    h_st_s: I64
    h_st_e: I64
    h_si_s: I64
    h_si_e: I64
    h_group: I64
    sentences: Sentences


def local_to_utc(us: I64, tz: str) -> I64:
    """Naive local times (µs) in zone ``tz`` → UTC µs (ambiguous/nonexistent → earliest)."""
    if tz.upper() in ("UTC", "Z", "ETC/UTC", "GMT") or us.size == 0:
        return us
    arr = pa.array(us, type=pa.timestamp("us"))
    conv = pc.assume_timezone(arr, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    return np.asarray(conv.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _iso_prefix(buf: U8, s: I64, p: I64, rows: B) -> tuple[I64, B, B, B]:
    """Rows whose text before the '!' is ``YYYY-MM-DD[T ]HH:MM:SS[.fff][Z][,] ``.

    Returns (µs as written, matched, is_utc, ok) for the rows in ``rows``.
    """
    n = s.size
    z = np.zeros(n, dtype=bool)
    m = rows & (p - s >= 19)
    if not m.any():
        return np.zeros(n, dtype=np.int64), z, z, z
    sel = np.flatnonzero(m)
    S0 = s[sel]
    col = [buf[S0 + k].astype(np.int32) - 48 for k in range(19)]
    ok = np.ones(sel.size, dtype=bool)
    for k in (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18):
        ok &= (col[k] >= 0) & (col[k] <= 9)
    ok &= (col[4] == -3) & (col[7] == -3) & (col[13] == 10) & (col[16] == 10)
    ok &= (col[10] == -16) | (col[10] == 36)
    m[sel] = ok
    if not m.any():
        return np.zeros(n, dtype=np.int64), z, z, z
    sel = sel[ok]
    col = [c[ok].astype(np.int64) for c in col]
    year = col[0] * 1000 + col[1] * 100 + col[2] * 10 + col[3]
    two = [col[k] * 10 + col[k + 1] for k in (5, 8, 11, 14, 17)]
    S, P = s[sel], p[sel]
    q = S + 19
    frac = np.zeros(sel.size, dtype=np.int64)
    good = np.ones(sel.size, dtype=bool)
    dot = buf[q] == 46
    if dot.any():
        val, nd = scan_digits(buf, np.where(dot, q + 1, 0), np.where(dot, P, 0), 9)
        frac = np.where(
            dot,
            np.where(
                nd <= 6, val * 10 ** np.clip(6 - nd, 0, 6), val // 10 ** np.clip(nd - 6, 0, 3)
            ),
            0,
        )
        good &= ~dot | (nd >= 1)
        q = np.where(dot, q + 1 + nd, q)
    utc = buf[q] == 90
    q = q + utc
    q = q + (buf[q] == 44)
    q = skip_spaces(buf, q, P)
    good &= q == P
    us, valid = civil_to_us(year, two[0], two[1], two[2], two[3], two[4], frac)
    m[sel] = good
    out_us = np.zeros(n, dtype=np.int64)
    out_us[sel] = us
    utc_all = z.copy()
    utc_all[sel] = utc & good
    ok_all = z.copy()
    ok_all[sel] = good & valid
    return out_us, m, utc_all, ok_all


def _epoch_prefix(buf: U8, s: I64, p: I64, rows: B) -> tuple[I64, B, B]:
    """Rows whose text before the '!' is ``<unix seconds or ms>[.frac],`` (then optional spaces)."""
    n = s.size
    val, nd = scan_digits(buf, np.where(rows, s, 0), np.where(rows, p, 0), 13)
    m = rows & (nd >= 9)
    q = s + nd
    frac = np.zeros(n, dtype=np.int64)
    dot = m & (buf[np.where(m, q, 0)] == 46)
    if dot.any():
        fv, fd = scan_digits(buf, np.where(dot, q + 1, 0), np.where(dot, p, 0), 6)
        frac = np.where(dot, fv * 10 ** np.clip(6 - fd, 0, 6), 0)
        q = np.where(dot, q + 1 + fd, q)
        # more fraction digits than 6: skip them
        _, extra = scan_digits(buf, np.where(dot, q, 0), np.where(dot, p, 0), 12)
        q = q + extra
    m &= buf[np.where(m, q, 0)] == 44
    q = skip_spaces(buf, q + 1, p)
    m &= q == p
    us = unix_to_us(val, nd) + np.where(nd >= 12, 0, frac)
    ok = m & (us >= 315532800 * 10**6) & (us < 4102444800 * 10**6)
    return us, m, ok


def _trailer(buf: U8, star: I64, e: I64, rows: B, comma: I64) -> tuple[I64, B, I64, I64]:
    """Trailing ``,field,...`` after ``*hh``: (epoch µs or NO_TIME, epoch present, station span).

    The receive time is the first all-digit field of 9 to 13 digits (Unix seconds or ms):
    USCG NAIS lines may carry a second one after it (``...,r003669946,1325394060,1325394001``)
    that lags the receiver's own ``t`` clock field by up to two minutes; libais
    (``ais/stream``'s USCG pattern) likewise reads the field after the station.
    """
    n = star.size
    t = np.full(n, NO_TIME, dtype=np.int64)
    has = np.zeros(n, dtype=bool)
    st_s = np.full(n, -1, dtype=np.int64)
    st_e = np.full(n, -1, dtype=np.int64)
    if not rows.any():
        return t, has, st_s, st_e
    k = np.where(rows, index_at_or_after(comma, star + 3), 0)
    live = rows.copy()
    for j in range(12):
        c = comma[k + j]
        live &= c < e
        if not live.any():
            break
        fe = np.minimum(comma[k + j + 1], e)
        want = live & ~has & (fe - c - 1 >= 9)
        if want.any():
            val, ok = read_uint(buf, np.where(want, c + 1, 0), np.where(want, fe, 0), 13)
            us = unix_to_us(val, fe - c - 1)
            epoch = want & ok & (us >= 315532800 * 10**6) & (us < 4102444800 * 10**6)
            t = np.where(epoch, us, t)
            has |= epoch
        f0 = buf[np.where(live, c + 1, 0)]
        f1 = buf[np.where(live, c + 2, 0)]
        is_st = live & ((f0 == ord("r")) | (f0 == ord("b"))) & is_digit(
            buf, np.where(live, c + 2, 0)
        ) | (live & (f0 == ord("r")) & (f1 >= 65) & (f1 <= 90))
        take = is_st & (st_s < 0)
        st_s = np.where(take, c + 1, st_s)
        st_e = np.where(take, np.minimum(comma[k + j + 1], e), st_e)
    return t, has, st_s, st_e


def scan_rows(buf: U8, starts: I64, ends: I64, tz: str) -> RowScan:
    """Classify rows ``buf[starts:ends]`` and parse the single-sentence forms, all at once.

    Rows the vectorised parser cannot settle come back as ``K_COMPLEX``.
    """
    n = starts.size
    m1 = np.full(n, -1, dtype=np.int64)
    out = RowScan(
        kind=np.full(n, K_COMPLEX, dtype=np.int64),
        h_time=np.full(n, NO_TIME, dtype=np.int64),
        h_bad=np.zeros(n, dtype=bool),
        h_st_s=m1,
        h_st_e=m1.copy(),
        h_si_s=m1.copy(),
        h_si_e=m1.copy(),
        h_group=m1.copy(),
        sentences=Sentences.empty(),
    )
    if n == 0:
        return out
    s, e = strip_spans(buf, starts, ends)
    blank = e <= s
    c0 = buf[np.where(blank, 0, s)]
    comment = ~blank & (c0 == 35)
    out.kind[blank] = K_BLANK
    out.kind[comment] = K_COMMENT

    sp = special_positions(buf)
    bang, comma, star, bsl = sp[33], sp[44], sp[42], sp[92]
    dash = None  # '-' offsets: found only if a tag block has a g: field
    k = index_at_or_after(bang, s)
    first = bang[k]
    second = bang[np.minimum(k + 1, bang.size - 1)]
    none = ~blank & ~comment & (first >= e)  # no '!' on the line
    one = ~blank & ~comment & (first < e) & (second >= e)

    # ---- header and non-AIS lines (no '!') -------------------------------------------
    tagonly = none & (c0 == 92) & (buf[np.maximum(e - 1, 0)] == 92) & (e - s >= 2)
    if tagonly.any():
        rows = np.flatnonzero(tagonly)
        rows = rows[first_at_or_after(bsl, s[rows] + 1) == e[rows] - 1]  # no '\\' inside
        tf = parse_tag_spans(buf, s[rows] + 1, e[rows] - 1, comma, star, dash)
        out.kind[rows] = K_TAGHDR
        out.h_time[rows], out.h_bad[rows] = tf.time_us, tf.time_bad
        out.h_st_s[rows], out.h_st_e[rows] = tf.station_s, tf.station_e
        out.h_si_s[rows], out.h_si_e[rows] = tf.si_s, tf.si_e
        out.h_group[rows] = tf.group
    dollar = none & (c0 == 36)
    if dollar.any():
        rows = np.flatnonzero(dollar)
        w = windows(buf, s[rows], 6)
        gh = (w[:, 1] == 80) & (w[:, 2] == 71) & (w[:, 3] == 72) & (w[:, 4] == 80) & (w[:, 5] == 44)
        out.kind[rows[~gh]] = K_NONAIS
        rows = rows[gh]
        if rows.size:
            _gatehouse(buf, s[rows], e[rows], rows, out, comma, star)

    # ---- one sentence on the line --------------------------------------------------
    if one.any():
        rows = np.flatnonzero(one)
        out.sentences = _parse_sentences(
            buf, s[rows], e[rows], first[rows], rows, comma, star, bsl, dash, tz
        )
        out.kind[out.sentences.row] = K_SENT
    # whatever is left is K_COMPLEX: several sentences, unusual prefixes, junk
    return out


def _gatehouse(buf: U8, s: I64, e: I64, rows: I64, out: RowScan, comma: I64, star: I64) -> None:
    """``$PGHP,1,yyyy,mm,dd,hh,mi,ss,ms,country,region,station,online,cc*hh`` header rows."""
    k = index_at_or_after(comma, s + 5)
    fend = np.minimum(first_at_or_after(star, s), e)
    vals = []
    oks = np.ones(rows.size, dtype=bool)
    for j in range(1, 9):  # 1: message type, 2-8: y m d h mi s ms
        a = comma[k + j - 1] + 1
        b = np.minimum(comma[k + j], fend)
        v, ok = read_uint(buf, a, b, 4)
        if j >= 2:
            vals.append(v)
            oks &= ok
    st_a = comma[k + 10] + 1
    st_b = np.minimum(comma[k + 11], fend)
    has_st = (comma[k + 10] < fend) & (st_b > st_a)
    us, valid = civil_to_us(vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6] * 1000)
    good = oks & valid & (vals[6] < 1000)
    out.kind[rows] = K_GHHDR
    out.h_time[rows] = np.where(good, us, NO_TIME)
    out.h_bad[rows] = ~good
    out.h_st_s[rows] = np.where(has_st, st_a, -1)
    out.h_st_e[rows] = np.where(has_st, st_b, -1)


def _parse_sentences(
    buf: U8,
    S: I64,
    E: I64,
    P: I64,
    rows: I64,
    comma: I64,
    star: I64,
    bsl: I64,
    dash: I64 | None,
    tz: str,
) -> Sentences:
    """Parse rows holding one ``!`` (at ``P``) as ``[prefix]!ttVDx,c,n,s,ch,payload,f*hh[,trailer]``.

    Reads fixed-offset byte windows instead of searching: ``!AIVDM,1,1,`` and the short
    fields after it lie within 16 bytes of the '!', the fill bits and checksum within 8 of
    the comma ending the payload.  Rows that do not fit are left out (slow path).
    """
    m = rows.size
    ar = np.arange(m)
    w = windows(buf, P, 16)
    ok = (w[:, 3] == 86) & (w[:, 4] == 68) & ((w[:, 5] == 77) | (w[:, 5] == 79))
    ok &= _TALKER[w[:, 1]] & _TALKER[w[:, 2]] & (w[:, 6] == 44) & (w[:, 8] == 44) & (w[:, 10] == 44)
    count = w[:, 7].astype(np.int64) - 48
    num = w[:, 9].astype(np.int64) - 48
    ok &= (count >= 0) & (count <= 9) & (num >= 0) & (num <= 9)
    d11, d12 = w[:, 11].astype(np.int64) - 48, w[:, 12].astype(np.int64) - 48
    dig11, dig12 = (d11 >= 0) & (d11 <= 9), (d12 >= 0) & (d12 <= 9)
    seq0 = w[:, 11] == 44
    seq1 = dig11 & (w[:, 12] == 44)
    seq2 = dig11 & dig12 & (w[:, 13] == 44)
    ok &= seq0 | seq1 | seq2
    seq = np.where(seq1, d11, np.where(seq2, d11 * 10 + d12, -1))
    c3 = np.where(seq0, 11, np.where(seq1, 12, 13))  # offset of the comma before the channel
    ch1 = w[ar, np.minimum(c3 + 1, 15)]
    ch2 = w[ar, np.minimum(c3 + 2, 15)]
    chan0 = ch1 == 44
    chan1 = ~chan0 & (ch2 == 44)
    ok &= chan0 | chan1
    chan = np.where(chan1, ch1, 0).astype(np.int64)
    pay_s = P + c3 + np.where(chan0, 2, 3)
    c5 = first_at_or_after(comma, pay_s)
    t8 = windows(buf, np.minimum(c5, buf.size - 8), 8)
    h1, h2 = _HEX[t8[:, 3]], _HEX[t8[:, 4]]
    simple = (t8[:, 2] == 42) & _DIGIT[t8[:, 1]] & (h1 >= 0) & (h2 >= 0)
    st = c5 + 2
    fill = t8[:, 1].astype(np.int64) - 48
    odd = ok & ~simple
    if odd.any():  # extra fields before the checksum (e.g. Navico: ',0,0*1C')
        oi = np.flatnonzero(odd)
        st_o = first_at_or_after(star, c5[oi])
        lc = last_before(comma, st_o)
        good = (st_o == lc + 2) & _DIGIT[buf[np.minimum(lc + 1, buf.size - 1)]]
        good &= (_HEX[buf[np.minimum(st_o + 1, buf.size - 1)]] >= 0) & (
            _HEX[buf[np.minimum(st_o + 2, buf.size - 1)]] >= 0
        )
        st[oi] = st_o
        fill[oi] = buf[np.minimum(lc + 1, buf.size - 1)].astype(np.int64) - 48
        h1[oi] = _HEX[buf[np.minimum(st_o + 1, buf.size - 1)]]
        h2[oi] = _HEX[buf[np.minimum(st_o + 2, buf.size - 1)]]
        ok[oi] &= good
    ok &= (c5 >= pay_s) & (st + 3 <= E)

    # prefix before the '!'
    empty = P == S
    tag = ~empty & (buf[S] == 92) & (buf[np.maximum(P - 1, 0)] == 92) & (P - S >= 2)
    if tag.any():
        ti = np.flatnonzero(tag)
        tag[ti] = first_at_or_after(bsl, S[ti] + 1) == P[ti] - 1  # no '\\' inside the tag block
    rest = ok & ~empty & ~tag
    t = np.full(m, NO_TIME, dtype=np.int64)
    bad = np.zeros(m, dtype=bool)
    known = empty | tag
    if rest.any():
        iso_us, iso_m, iso_utc, iso_ok = _iso_prefix(buf, S, P, rest)
        ep_us, ep_m, ep_ok = _epoch_prefix(buf, S, P, rest & ~iso_m)
        known |= iso_m | ep_m
        local = iso_m & ~iso_utc & iso_ok
        if local.any():
            iso_us[local] = local_to_utc(iso_us[local], tz)
        t = np.where(iso_m & iso_ok, iso_us, np.where(ep_m & ep_ok, ep_us, t))
        bad |= (iso_m & ~iso_ok) | (ep_m & ~ep_ok)
    ok &= known

    keep = np.flatnonzero(ok)
    st_s = np.full(keep.size, -1, dtype=np.int64)
    st_e = st_s.copy()
    si_s = st_s.copy()
    si_e = st_s.copy()
    group = st_s.copy()
    t, bad = t[keep], bad[keep]
    tag_k = np.flatnonzero(tag[keep])
    if tag_k.size:
        r = keep[tag_k]
        tf = parse_tag_spans(buf, S[r] + 1, P[r] - 1, comma, star, dash)
        t[tag_k], bad[tag_k] = tf.time_us, tf.time_bad
        st_s[tag_k], st_e[tag_k] = tf.station_s, tf.station_e
        si_s[tag_k], si_e[tag_k] = tf.si_s, tf.si_e
        group[tag_k] = tf.group
    Pk, Ek, stk = P[keep], E[keep], st[keep]
    trailer = (stk + 3 < Ek) & (buf[np.minimum(stk + 3, buf.size - 1)] == 44)
    if trailer.any():
        tt, thas, ts_s, ts_e = _trailer(buf, stk, Ek, trailer, comma)
        use_t = trailer & thas & (t == NO_TIME) & ~bad
        t = np.where(use_t, tt, t)
        use_st = trailer & (st_s < 0) & (ts_s >= 0)
        st_s = np.where(use_st, ts_s, st_s)
        st_e = np.where(use_st, ts_e, st_e)
    wk = w[keep]
    return Sentences(
        row=rows[keep],
        talker=wk[:, 1].astype(np.int64) * 256 + wk[:, 2],
        count=count[keep],
        num=num[keep],
        seq=seq[keep],
        chan=chan[keep],
        pay_s=pay_s[keep],
        pay_e=c5[keep],
        fill=fill[keep],
        ck_given=h1[keep].astype(np.int64) * 16 + h2[keep],
        ck_calc=xor_spans(buf, Pk + 1, stk).astype(np.int64),
        t_own=t,
        t_bad=bad,
        st_s=st_s,
        st_e=st_e,
        si_s=si_s,
        si_e=si_e,
        group=group,
    )


# ---------------------------------------------------------------------------- slow path
_SENT_START = re.compile(rb"![A-Z0-9-]{2}VD[MO],")
_TIMEISH = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}:\d{2}|^\d{9,}(\.\d+)?$"
)
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")


def prefix_time(prefix: bytes, tz: str) -> tuple[int | None, bool]:
    """Time written before a sentence by a logger, if any: ``(µs UTC or None, unreadable)``.

    Accepts ISO 8601 (``-`` or ``/`` between date parts; an offset or ``Z`` is honoured,
    otherwise the time is local to ``tz``) and Unix seconds or milliseconds.  Text that
    does not look like a time is ignored; text that looks like one but is not valid is
    reported unreadable.
    """
    text = prefix.decode("ascii", errors="replace").strip().rstrip(",;").strip()
    if not text:
        return None, False
    if _EPOCH.match(text):
        value = float(text)
        us = (
            int(round(value * 1000))
            if len(text.split(".")[0]) >= 12
            else int(round(value * 1_000_000))
        )
        ok = 315532800 * 10**6 <= us < 4102444800 * 10**6
        return (us if ok else None), not ok
    if not _TIMEISH.search(text):
        return None, False
    cand = text.replace("/", "-").replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(cand)
    except ValueError:
        return None, True
    if dt.tzinfo is None:
        try:
            dt = (
                dt.replace(tzinfo=ZoneInfo(tz))
                if tz.upper() not in ("UTC", "Z")
                else dt.replace(tzinfo=UTC)
            )
        except (KeyError, ValueError):  # pragma: no cover - tz is validated by the CLI
            dt = dt.replace(tzinfo=UTC)
    us = int(round(dt.timestamp() * 1_000_000))
    ok = 315532800 * 10**6 <= us < 4102444800 * 10**6
    return (us if ok else None), not ok


@dataclass
class Split:
    """How the slow path reads one line."""

    virtual: list[bytes] = field(default_factory=list)  # one per sentence: [tag block] + sentence
    time_us: int | None = None  # logger prefix time for the sentences
    time_bad: bool = False
    reason: int = 0  # when the line holds no sentence: why
    detail: str | None = None


def split_line(line: bytes, tz: str) -> Split:
    """Cut a line the vectorised parser could not read into one virtual line per sentence.

    A virtual line is the sentence with the tag block directly before it (if any); the
    text before the first one is a logger prefix (:func:`prefix_time`).  Lines with no
    sentence get a quarantine reason.
    """
    out = Split()
    starts = [m.start() for m in _SENT_START.finditer(line)]
    if not starts:
        text = line.strip()
        printable = all(32 <= b < 127 or b == 9 for b in text)
        if b"VDM," in text or b"VDO," in text:
            out.reason = Q.CODE[Q.MALFORMED]
            out.detail = (
                "no '!' starts the sentence"
                if b"!" not in text
                else "not a well-formed !..VDM sentence"
            )
        elif not printable:
            out.reason = Q.CODE[Q.BINARY]
        else:
            out.reason = Q.CODE[Q.NOT_AIS]
            if text[:1] in (b"$", b"!"):
                out.detail = text.split(b",")[0][:16].decode("ascii", errors="replace")
        return out
    # each sentence owns the tag block right before it
    begins = []
    for st in starts:
        b = st
        if st >= 2 and line[st - 1 : st] == b"\\":
            open_ = line.rfind(b"\\", 0, st - 1)
            if open_ >= 0:
                b = open_
        begins.append(b)
    ends = begins[1:] + [len(line)]
    for b, en in zip(begins, ends, strict=True):
        out.virtual.append(line[b:en].strip())
    out.time_us, out.time_bad = prefix_time(line[: begins[0]], tz)
    return out


# ---------------------------------------------------------------------------- batch parse
@dataclass
class Messages:
    """AIS messages found in a batch (single sentences and assembled multi-part messages)."""

    pay_s: I64  # payload span in ParsedBatch.pbuf
    pay_e: I64
    fill: I64
    ts: I64  # µs UTC or NO_TIME
    st_s: I64  # station span in pbuf, -1 if unknown
    st_e: I64
    line_first: I64  # batch-local line indices (including header lines)
    line_no: I64
    frag_ptr: I64  # CSR: fragment lines of message i are frag_lines[frag_ptr[i]:frag_ptr[i+1]]
    frag_lines: I64


@dataclass
class ParsedBatch:
    """Everything :func:`parse_batch` learned from a batch of lines."""

    pbuf: U8  # batch buffer followed by the bytes the slow path and assembler made
    n_lines: int  # lines decided (the rest go back to the reader)
    messages: Messages
    # sentences quarantined before decoding: line, reason code, detail
    q_line: I64
    q_code: I64
    q_detail: list[str | None]
    # per line (length n_lines): reason code for lines carrying no sentence (0 = has one)
    line_code: I64
    line_detail: dict[int, str]
    # per line: for header lines the line whose fate they share (-1: none → header only)
    hdr_target: I64
    is_hdr: B


def _run_info(kind: I64) -> _Runs:
    """Header runs: is_hdr, hstart, last tag header in run, last $PGHP in run, next non-header."""
    n = kind.size
    idx = np.arange(n, dtype=np.int64)
    is_hdr = (kind == K_TAGHDR) | (kind == K_GHHDR)
    nonhdr_idx = np.where(~is_hdr, idx, -1)
    prev_nonhdr = np.concatenate([[-1], np.maximum.accumulate(nonhdr_idx)[:-1]]) if n else idx
    hstart = prev_nonhdr + 1
    hstart = np.where(is_hdr, idx, hstart)  # for a header line itself: itself
    last_tag = (
        np.concatenate([[-1], np.maximum.accumulate(np.where(kind == K_TAGHDR, idx, -1))[:-1]])
        if n
        else idx
    )
    last_gh = (
        np.concatenate([[-1], np.maximum.accumulate(np.where(kind == K_GHHDR, idx, -1))[:-1]])
        if n
        else idx
    )
    last_tag = np.where(last_tag > prev_nonhdr, last_tag, -1)
    last_gh = np.where(last_gh > prev_nonhdr, last_gh, -1)
    big = n + 1
    nxt = np.where(~is_hdr, idx, big)[::-1]
    next_nonhdr = np.minimum.accumulate(nxt)[::-1] if n else idx
    # run start for non-header lines: first header line directly before them
    return _Runs(is_hdr, np.where(is_hdr, idx, prev_nonhdr + 1), last_tag, last_gh, next_nonhdr)


def parse_batch(batch: LineBatch, *, tz: str, fragment_gap: int) -> ParsedBatch:
    """Parse a batch of NMEA lines into messages, failed sentences and line fates.

    Unless ``batch.final``, lines at the end that belong to a message still waiting for
    fragments (or a header run waiting for its sentence) are left undecided:
    ``n_lines`` tells how many lines were decided; the caller hands the rest back to the reader.

    The steps, one function each:

    1. :func:`scan_rows` -- classify every line and parse the one-sentence lines (vectorised);
    2. :func:`_split_complex_lines` -- the other lines, one by one, into virtual lines;
    3. :func:`_merge_virtual` -- parse those and merge all sentences in line order;
    4. :func:`_inherit_headers` -- time, station and group from header lines before a sentence;
    5. :func:`_check_sentences` -- malformed, bad checksum, unreadable time;
    6. :func:`assemble` -- join multi-part messages;
    7. :func:`_batch_cut` -- where the decided lines end;
    8. :func:`_messages` -- the messages of the decided lines;
    9. :func:`_line_fates` -- quarantine reasons of lines and header lines.
    """
    n = batch.n
    rs = scan_rows(batch.buf, batch.starts, batch.ends, tz)
    cx = _split_complex_lines(batch, rs.kind, tz)
    pbuf, st, fail_lines = _merge_virtual(batch, rs, cx, tz)
    runs = _run_info(rs.kind)
    t, bad, st_s, st_e, group = _inherit_headers(st, rs, runs)
    s_code, q = _check_sentences(st, bad, fail_lines)
    good = s_code == 0
    single = np.flatnonzero(good & (st.count == 1))
    multi = np.flatnonzero(good & (st.count > 1))
    asm = assemble(
        multi, st.row, st.talker, st.count, st.num, st.seq, st.chan, group, n, batch.final,
        fragment_gap,
    )  # fmt: skip
    cut = _batch_cut(n, batch.final, runs, asm, st.row)
    pbuf, msgs = _messages(pbuf, st, t, st_s, st_e, single, asm, runs, cut)
    # failed fragments: each fragment line quarantined 'incomplete multi-part'
    fails = asm.failed[st.row[asm.failed] < cut]
    if fails.size:
        q.add(
            st.row[fails],
            Q.CODE[Q.INCOMPLETE],
            [asm.failed_detail[j] for j in np.flatnonzero(st.row[asm.failed] < cut).tolist()],
        )
    q_line, q_code, q_detail = q.before(cut)
    line_code, hdr_target = _line_fates(n, cx.line_code, runs, st.row, fail_lines)
    return ParsedBatch(
        pbuf=pbuf,
        n_lines=cut,
        messages=msgs,
        q_line=q_line,
        q_code=q_code,
        q_detail=q_detail,
        line_code=line_code[:cut],
        line_detail={k: v for k, v in cx.line_detail.items() if k < cut},
        hdr_target=hdr_target[:cut],
        is_hdr=runs.is_hdr[:cut],
    )


@dataclass
class _Complex:
    """What the slow path made of the lines the vectorised parser left (:func:`split_line`)."""

    line_code: I64  # per line: reason code of lines without sentence (also blank, comment, ...)
    line_detail: dict[int, str]
    v_line: list[int] = field(default_factory=list)  # per virtual line: the line it comes from
    v_text: list[bytes] = field(default_factory=list)
    v_time: list[int] = field(default_factory=list)  # logger prefix time (NO_TIME: none)
    v_bad: list[bool] = field(default_factory=list)


def _split_complex_lines(batch: LineBatch, kind: I64, tz: str) -> _Complex:
    """Line reasons of blank, comment and non-AIS lines; complex lines → virtual lines."""
    n = batch.n
    cx = _Complex(np.zeros(n, dtype=np.int64), {})
    cx.line_code[kind == K_BLANK] = Q.CODE[Q.BLANK]
    cx.line_code[kind == K_COMMENT] = Q.CODE[Q.COMMENT]
    cx.line_code[kind == K_NONAIS] = Q.CODE[Q.NOT_AIS]
    for r in np.flatnonzero(kind == K_COMPLEX).tolist():
        sp = split_line(batch.line_bytes(r), tz)
        if sp.reason:
            cx.line_code[r] = sp.reason
            if sp.detail:
                cx.line_detail[r] = sp.detail
            continue
        for text in sp.virtual:
            cx.v_line.append(r)
            cx.v_text.append(text)
            cx.v_time.append(int(NO_TIME) if sp.time_us is None else sp.time_us)
            cx.v_bad.append(sp.time_bad)
    return cx


def _merge_virtual(
    batch: LineBatch, rs: RowScan, cx: _Complex, tz: str
) -> tuple[U8, Sentences, I64]:
    """Append the virtual lines to the batch buffer, parse them, and merge every sentence in
    line order (sentences of one line in the order written).

    Returns (buffer, sentences, lines of virtual sentences that do not parse: malformed).
    """
    if not cx.v_text:
        return batch.buf, rs.sentences, np.zeros(0, dtype=np.int64)  # in line order already
    base = batch.size
    lengths = np.array([len(t) + 1 for t in cx.v_text], dtype=np.int64)
    v_starts = base + np.concatenate([[0], np.cumsum(lengths)[:-1]])
    v_ends = v_starts + lengths - 1
    ext = b"".join(t + b"\n" for t in cx.v_text)
    pbuf = np.concatenate(
        [batch.buf[:base], np.frombuffer(ext, dtype=np.uint8), np.zeros(PAD, np.uint8)]
    )
    pbuf[base:][pbuf[base:] >= 0x80] = 0x7F
    v_line = np.asarray(cx.v_line, dtype=np.int64)
    vs = scan_rows(pbuf, v_starts, v_ends, tz).sentences
    v_ok = vs.row
    ok_mask = np.zeros(len(cx.v_text), dtype=bool)
    ok_mask[v_ok] = True
    fail_lines = v_line[~ok_mask]
    # the logger prefix time of a complex line applies to its virtual sentences
    vt = np.asarray(cx.v_time, dtype=np.int64)[v_ok]
    vb = np.asarray(cx.v_bad, dtype=bool)[v_ok]
    own_none = (vs.t_own == NO_TIME) & ~vs.t_bad
    vs.t_own = np.where(own_none & (vt != NO_TIME), vt, vs.t_own)
    vs.t_bad = vs.t_bad | (own_none & vb)
    vs.row = v_line[v_ok]
    st = Sentences.concat([rs.sentences, vs])
    s_order = np.concatenate([np.zeros(rs.sentences.row.size, np.int64), v_ok + 1])
    return pbuf, st.take(np.lexsort((s_order, st.row))), fail_lines


@dataclass
class _Runs:
    """Header runs of a batch (see :func:`_run_info`), per line."""

    is_hdr: B
    hstart: I64  # first line of the header run before a line (the line itself if none)
    last_tag: I64  # last tag-block header line of that run, -1 if none
    last_gh: I64  # last $PGHP header line of that run, -1 if none
    next_nonhdr: I64  # next line that is not a header


def _inherit_headers(st: Sentences, rs: RowScan, runs: _Runs) -> tuple[I64, B, I64, I64, I64]:
    """Per sentence: receive time, unreadable-time flag, station span and group id, taking
    what its own line lacks from the header lines before it.

    Time: own (tag block c:, prefix, trailer) > tag header c: > $PGHP.  Station: own
    s:/trailer > tag header s: > $PGHP station > own si: > header si:.
    """
    lt = runs.last_tag[st.row]
    lg = runs.last_gh[st.row]
    has_lt, has_lg = lt >= 0, lg >= 0
    ltc, lgc = np.maximum(lt, 0), np.maximum(lg, 0)
    t = st.t_own.copy()
    bad = st.t_bad.copy()
    none = (t == NO_TIME) & ~bad
    use = none & has_lt & ((rs.h_time[ltc] != NO_TIME) | rs.h_bad[ltc])
    t = np.where(use, rs.h_time[ltc], t)
    bad |= use & rs.h_bad[ltc]
    none = (t == NO_TIME) & ~bad
    use = none & has_lg
    t = np.where(use, rs.h_time[lgc], t)
    bad |= use & rs.h_bad[lgc]
    st_s, st_e = st.st_s, st.st_e
    for cond, src_s, src_e in (
        (has_lt, rs.h_st_s[ltc], rs.h_st_e[ltc]),
        (has_lg, rs.h_st_s[lgc], rs.h_st_e[lgc]),
        (np.ones_like(has_lt), st.si_s, st.si_e),
        (has_lt, rs.h_si_s[ltc], rs.h_si_e[ltc]),
    ):
        take = (st_s < 0) & cond & (src_s >= 0)
        st_s = np.where(take, src_s, st_s)
        st_e = np.where(take, src_e, st_e)
    group = np.where((st.group < 0) & has_lt, rs.h_group[ltc], st.group)
    return t, bad, st_s, st_e, group


@dataclass
class _Quarantined:
    """Sentences quarantined before decoding: their lines, reason codes and details."""

    lines: list[I64] = field(default_factory=list)
    codes: list[I64] = field(default_factory=list)
    details: list[str | None] = field(default_factory=list)

    def add(self, lines: I64, code: int | I64, details: Sequence[str | None]) -> None:
        self.lines.append(np.asarray(lines, dtype=np.int64))
        self.codes.append(np.broadcast_to(np.asarray(code, dtype=np.int64), lines.shape).copy())
        self.details.extend(details)

    def before(self, cut: int) -> tuple[I64, I64, list[str | None]]:
        """Those on lines before ``cut`` (the rest are parsed again with the next batch)."""
        ql = np.concatenate(self.lines) if self.lines else np.zeros(0, np.int64)
        qc = np.concatenate(self.codes) if self.codes else np.zeros(0, np.int64)
        keep = ql < cut
        qd = [d for d, k in zip(self.details, keep.tolist(), strict=True) if k]
        return ql[keep], qc[keep], qd


def _check_sentences(st: Sentences, bad_time: B, fail_lines: I64) -> tuple[I64, _Quarantined]:
    """Per sentence a quarantine code (0 = fine): malformed fields, bad checksum, unreadable time."""
    plen = st.pay_e - st.pay_s
    s_code = np.zeros(st.row.size, dtype=np.int64)
    malformed = (
        (st.count < 1) | (st.num < 1) | (st.num > st.count) | (st.fill > 5) | (plen > MAX_PAYLOAD)
    )
    s_code[malformed] = Q.CODE[Q.MALFORMED]
    s_code[(s_code == 0) & (st.ck_given != st.ck_calc)] = Q.CODE[Q.BAD_CHECKSUM]
    s_code[(s_code == 0) & bad_time] = Q.CODE[Q.BAD_TIME]
    q = _Quarantined()
    q.add(fail_lines, Q.CODE[Q.MALFORMED], [None] * int(fail_lines.size))
    bad_idx = np.flatnonzero(s_code != 0)
    details: list[str | None] = []
    for i in bad_idx.tolist():
        code = int(s_code[i])
        if code == Q.CODE[Q.BAD_CHECKSUM]:
            details.append(
                f"checksum *{int(st.ck_given[i]):02X}, computed {int(st.ck_calc[i]):02X}"
            )
        elif code == Q.CODE[Q.MALFORMED]:
            if plen[i] > MAX_PAYLOAD:
                details.append(f"payload of {int(plen[i])} characters")
            elif st.fill[i] > 5:
                details.append(f"{int(st.fill[i])} fill bits")
            else:
                details.append(f"fragment {int(st.num[i])} of {int(st.count[i])}")
        else:
            details.append(None)
    q.add(st.row[bad_idx], s_code[bad_idx], details)
    return s_code, q


def _batch_cut(n: int, final: bool, runs: _Runs, asm: Assembly, s_line: I64) -> int:
    """How many lines of the batch are decided: all if ``final``; else the lines before a
    trailing header run, a message still waiting for fragments, or a run of fragments
    straddling the cut."""
    if final:
        return n
    nonhdr = np.flatnonzero(~runs.is_hdr)
    cut = int(nonhdr[-1]) + 1 if nonhdr.size else 0
    if asm.pending_first.size:
        cut = min(cut, int(runs.hstart[asm.pending_first].min()))
    lo = runs.hstart[s_line[asm.span_first]]
    hi = s_line[asm.span_last]
    while True:
        before = cut
        if cut < n:
            cut = min(cut, int(runs.hstart[cut]))
        straddle = (hi >= cut) & (lo < cut)
        if straddle.any():
            cut = int(lo[straddle].min())
        if cut == before:
            return cut


def _first_with(has: B, first_frag: I64, nk: int) -> I64:
    """Per message (fragments from ``first_frag``), position of its first fragment with ``has``
    (a huge number if none)."""
    big = np.iinfo(np.int64).max
    if not nk:
        return np.zeros(0, np.int64)
    fpos = np.arange(has.size, dtype=np.int64)
    return np.asarray(np.minimum.reduceat(np.where(has, fpos, big), first_frag), dtype=np.int64)


def _messages(
    pbuf: U8,
    st: Sentences,
    t: I64,
    st_s: I64,
    st_e: I64,
    single: I64,
    asm: Assembly,
    runs: _Runs,
    cut: int,
) -> tuple[U8, Messages]:
    """The messages of lines before ``cut``: single sentences, then assembled ones (their
    payloads joined after the buffer, which is returned extended).  A multi-part message
    takes time and station from its first fragment that has them."""
    s_line, pay_s, pay_e, fill = st.row, st.pay_s, st.pay_e, st.fill
    keep_single = single[s_line[single] < cut]
    done_keep = asm.msg_last_line < cut
    keep_frag = done_keep[asm.frag_msg]
    frags = asm.frags[keep_frag]
    kept = np.flatnonzero(done_keep)  # renumber kept messages 0..k-1
    renum = np.full(done_keep.size, -1, dtype=np.int64)
    renum[kept] = np.arange(kept.size)
    fmsg = renum[asm.frag_msg[keep_frag]]
    nk = kept.size
    base_len = pbuf.size - PAD
    plen_f = pay_e[frags] - pay_s[frags]
    blob = gather(pbuf, pay_s[frags], plen_f)
    if blob.size:
        pbuf = np.concatenate([pbuf[:base_len], blob, np.zeros(PAD, np.uint8)])
    msg_len = np.bincount(fmsg, weights=plen_f, minlength=nk).astype(np.int64)
    a_s = base_len + np.concatenate([[0], np.cumsum(msg_len)[:-1]]) if nk else np.zeros(0, np.int64)
    a_e = a_s + msg_len
    first_frag = np.searchsorted(fmsg, np.arange(nk), side="left")
    last_frag = np.searchsorted(fmsg, np.arange(nk), side="right") - 1
    z = np.zeros(0, np.int64)
    a_f = fill[frags[last_frag]] if nk else z
    last_pos = max(frags.size - 1, 0)
    tpick = _first_with(t[frags] != NO_TIME, first_frag, nk)
    a_t = (
        np.where(tpick < np.iinfo(np.int64).max, t[frags[np.minimum(tpick, last_pos)]], NO_TIME)
        if nk
        else z
    )
    spick = _first_with(st_s[frags] >= 0, first_frag, nk)
    spf = frags[np.minimum(spick, last_pos)] if nk else z
    a_ss = np.where(spick < np.iinfo(np.int64).max, st_s[spf], -1) if nk else z
    a_se = np.where(spick < np.iinfo(np.int64).max, st_e[spf], -1) if nk else z
    # fragment lines per message, without repeats (two fragments on one line)
    fl = s_line[frags]
    new_line = np.ones(frags.size, dtype=bool)
    if frags.size > 1:
        new_line[1:] = (fmsg[1:] != fmsg[:-1]) | (fl[1:] != fl[:-1])
    a_fl = fl[new_line]
    a_fc = np.bincount(fmsg[new_line], minlength=nk).astype(np.int64)
    a_first = runs.hstart[fl[first_frag]] if nk else z
    a_last = fl[last_frag] if nk else z
    cnts = np.concatenate([np.ones(keep_single.size, dtype=np.int64), a_fc])
    ptr = np.zeros(cnts.size + 1, dtype=np.int64)
    np.cumsum(cnts, out=ptr[1:])
    return pbuf, Messages(
        pay_s=np.concatenate([pay_s[keep_single], a_s]),
        pay_e=np.concatenate([pay_e[keep_single], a_e]),
        fill=np.concatenate([fill[keep_single], a_f]),
        ts=np.concatenate([t[keep_single], a_t]),
        st_s=np.concatenate([st_s[keep_single], a_ss]),
        st_e=np.concatenate([st_e[keep_single], a_se]),
        line_first=np.concatenate([runs.hstart[s_line[keep_single]], a_first]),
        line_no=np.concatenate([s_line[keep_single], a_last]),
        frag_ptr=ptr,
        frag_lines=np.concatenate([s_line[keep_single], a_fl]),
    )


def _line_fates(
    n: int, line_code: I64, runs: _Runs, s_line: I64, fail_lines: I64
) -> tuple[I64, I64]:
    """Reason codes of lines carrying no sentence, and the line each header line follows.

    A header line shares the fate of the next non-header line if that holds a sentence
    (-1 otherwise: 'header without AIS sentence'); a line with neither a sentence nor a
    reason yet is 'not an AIS sentence'.
    """
    has_sentence = np.zeros(n + 1, dtype=bool)
    has_sentence[s_line] = True
    has_sentence[fail_lines] = True
    tgt = runs.next_nonhdr
    is_hdr = runs.is_hdr
    hdr_target = np.where(is_hdr & (tgt < n) & has_sentence[np.minimum(tgt, n)], tgt, -1)
    line_code = line_code.copy()
    line_code[is_hdr & (hdr_target < 0)] = Q.CODE[Q.HEADER_ONLY]
    line_code[~is_hdr & (line_code == 0) & ~has_sentence[:n]] = Q.CODE[Q.NOT_AIS]
    return line_code, hdr_target


@dataclass
class Assembly:
    """Multi-part messages found among a batch's fragments (indices into the sentence table)."""

    frags: I64  # fragments of complete messages, message after message, in fragment order
    frag_msg: I64  # per entry of ``frags``: message number
    msg_last_line: I64  # per message: line of its last fragment
    failed: I64  # fragments that belong to no complete message
    failed_detail: list[str]
    pending_first: I64  # lines of the first fragment of messages that may still complete
    span_first: I64  # per complete or failed run: its first fragment
    span_last: I64  # ... and its last


def assemble(
    rows: I64,
    line: I64,
    talker: I64,
    count: I64,
    num: I64,
    seq: I64,
    chan: I64,
    group: I64,
    n_lines: int,
    final: bool,
    gap: int,
) -> Assembly:
    """Join fragments (``rows``, in line order) into messages, vectorised.

    Fragments are grouped by key (talker, count, sequence id -- or tag group id when the
    sequence id is empty --, channel).  Within a key, taken in line order, fragment i
    *links* to fragment i-1 when its number is one more and it lies within ``gap`` lines.
    A message is a run of linked fragments numbered 1..count.  Everything else failed,
    except, unless ``final``, a run at the end of its key that began with fragment 1 and
    may still be completed by lines after the batch (pending).
    """
    i64 = np.int64
    empty = np.zeros(0, dtype=i64)
    if rows.size == 0:
        return Assembly(empty, empty, empty, empty, [], empty, empty, empty)
    sid = np.where(seq[rows] >= 0, seq[rows], np.where(group[rows] >= 0, -2 - group[rows], -1))
    order = np.lexsort((np.arange(rows.size), chan[rows], sid, count[rows], talker[rows]))
    r = rows[order]
    k_t, k_c, k_s, k_h = talker[r], count[r], sid[order], chan[r]
    newkey = np.ones(r.size, dtype=bool)
    newkey[1:] = (
        (k_t[1:] != k_t[:-1])
        | (k_c[1:] != k_c[:-1])
        | (k_s[1:] != k_s[:-1])
        | (k_h[1:] != k_h[:-1])
    )
    nm = num[r]
    ln = line[r]
    link = np.zeros(r.size, dtype=bool)
    link[1:] = ~newkey[1:] & (nm[1:] == nm[:-1] + 1) & (ln[1:] - ln[:-1] <= gap)
    idx = np.arange(r.size, dtype=i64)
    region = np.maximum.accumulate(np.where(~link, idx, 0))  # first fragment of the linked run
    starts_one = nm[region] == 1
    complete_end = starts_one & (nm == k_c)
    ends = np.flatnonzero(complete_end)
    begins = region[ends]
    sizes = ends - begins + 1
    in_msg = np.zeros(r.size, dtype=bool)
    frag_pos = np.repeat(begins, sizes) + (
        np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    in_msg[frag_pos] = True
    frags = r[frag_pos]
    frag_msg = np.repeat(np.arange(ends.size, dtype=i64), sizes)
    # pending: the last run of a key, started by fragment 1, not complete, still within reach
    last_of_key = np.zeros(r.size, dtype=bool)
    last_of_key[:-1] = newkey[1:]
    last_of_key[-1] = True
    pend_end = last_of_key & starts_one & ~complete_end & (ln + gap >= n_lines) & (not final)
    pend_runs = region[pend_end]
    pending = np.zeros(r.size, dtype=bool)
    if pend_runs.size:
        psz = np.flatnonzero(pend_end) - pend_runs + 1
        ppos = np.repeat(pend_runs, psz) + (
            np.arange(int(psz.sum())) - np.repeat(np.cumsum(psz) - psz, psz)
        )
        pending[ppos] = True
    failed_pos = np.flatnonzero(~in_msg & ~pending)
    details = []
    for p in failed_pos.tolist():
        c = int(k_c[p])
        if starts_one[p]:
            got = int(nm[p])
            details.append(f"fragment {got + 1} of {c} missing (or more than {gap} lines later)")
        else:
            details.append(
                f"fragment {int(nm[p])} of {c} without fragment {int(nm[p]) - 1} just before it"
            )
    # runs (complete or failed) for the batch cut: first and last fragment in line order
    run_start = ~link
    run_id = np.cumsum(run_start) - 1
    firsts = r[np.flatnonzero(run_start)]
    lasts_pos = np.concatenate([np.flatnonzero(run_start)[1:] - 1, [r.size - 1]])
    lasts = r[lasts_pos]
    keep_run = ~pending[np.flatnonzero(run_start)]
    del run_id
    # messages in line order of their last fragment (so later code can cut by line)
    msg_last_line = ln[ends]
    morder = np.argsort(msg_last_line, kind="stable")
    inv = np.empty_like(morder)
    inv[morder] = np.arange(morder.size)
    frag_msg = inv[frag_msg]
    forder = np.lexsort((np.arange(frag_msg.size), frag_msg))
    return Assembly(
        frags=frags[forder],
        frag_msg=frag_msg[forder],
        msg_last_line=msg_last_line[morder],
        failed=r[failed_pos][np.argsort(ln[failed_pos], kind="stable")],
        failed_detail=[details[j] for j in np.argsort(ln[failed_pos], kind="stable").tolist()],
        pending_first=ln[pend_runs],
        span_first=firsts[keep_run],
        span_last=lasts[keep_run],
    )
