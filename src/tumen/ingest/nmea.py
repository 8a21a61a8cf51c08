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
  -- the last all-digit field is the receive time (Unix seconds), an ``r...``/``b...`` field the station;
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tumen.ingest import quarantine as Q
from tumen.ingest.files import LineBatch
from tumen.ingest.scan import (
    I64,
    NO_TIME,
    PAD,
    U8,
    B,
    civil_to_us,
    count_between,
    first_at_or_after,
    gather,
    hex_value,
    index_at_or_after,
    is_digit,
    last_before,
    positions_of,
    read_uint,
    scan_digits,
    skip_spaces,
    strip_spans,
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


@dataclass
class RowScan:
    """Per-row result of :func:`scan_rows` (arrays of the rows' length)."""

    kind: I64
    talker: I64
    vdo: B
    count: I64
    num: I64
    seq: I64
    chan: I64
    pay_s: I64
    pay_e: I64
    fill: I64
    ck_given: I64
    ck_calc: I64
    t_own: I64  # time from the row's own tag block / prefix / trailer (NO_TIME if none)
    t_bad: B  # a time source is present but unreadable
    st_s: I64  # station span (tag s:, $PGHP station, trailer r/b field), -1 if none
    st_e: I64
    si_s: I64  # tag si: span, -1 if none
    si_e: I64
    group: I64  # tag g: id, -1 if none


def _empty_scan(n: int) -> RowScan:
    z = np.zeros(n, dtype=np.int64)
    m1 = np.full(n, -1, dtype=np.int64)
    return RowScan(
        kind=np.full(n, K_COMPLEX, dtype=np.int64),
        talker=z.copy(),
        vdo=np.zeros(n, dtype=bool),
        count=z.copy(),
        num=z.copy(),
        seq=m1.copy(),
        chan=z.copy(),
        pay_s=z.copy(),
        pay_e=z.copy(),
        fill=z.copy(),
        ck_given=m1.copy(),
        ck_calc=m1.copy(),
        t_own=np.full(n, NO_TIME, dtype=np.int64),
        t_bad=np.zeros(n, dtype=bool),
        st_s=m1.copy(),
        st_e=m1.copy(),
        si_s=m1.copy(),
        si_e=m1.copy(),
        group=m1.copy(),
    )


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
    """Trailing ``,field,...`` after ``*hh``: (epoch µs or NO_TIME, epoch present, station span)."""
    n = star.size
    t = np.full(n, NO_TIME, dtype=np.int64)
    has = np.zeros(n, dtype=bool)
    st_s = np.full(n, -1, dtype=np.int64)
    st_e = np.full(n, -1, dtype=np.int64)
    if not rows.any():
        return t, has, st_s, st_e
    lc = last_before(comma, e)
    last_ok = rows & (lc >= star + 3)
    val, ok = read_uint(buf, np.where(last_ok, lc + 1, 0), np.where(last_ok, e, 0), 13)
    nd = e - lc - 1
    epoch = last_ok & ok & (nd >= 9)
    t = np.where(epoch, unix_to_us(val, nd), NO_TIME)
    rng = (t >= 315532800 * 10**6) & (t < 4102444800 * 10**6)
    t = np.where(epoch & rng, t, NO_TIME)
    has = epoch & rng
    k = np.where(rows, index_at_or_after(comma, star + 3), 0)
    live = rows.copy()
    for j in range(12):
        c = comma[k + j]
        live &= c < e
        if not live.any():
            break
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
    out = _empty_scan(n)
    if n == 0:
        return out
    s, e = strip_spans(buf, starts, ends)
    blank = e <= s
    c0 = buf[np.where(blank, 0, s)]
    comment = ~blank & (c0 == 35)
    out.kind[blank] = K_BLANK
    out.kind[comment] = K_COMMENT

    bang = positions_of(buf, 33)
    comma = positions_of(buf, 44)
    star = positions_of(buf, 42)
    bsl = positions_of(buf, 92)
    nb = count_between(bang, s, e)
    nbs = count_between(bsl, s, e)

    # ---- header and non-AIS lines (no '!') -------------------------------------------
    none = ~blank & ~comment & (nb == 0)
    tagonly = none & (c0 == 92) & (buf[np.maximum(e - 1, 0)] == 92) & (nbs == 2) & (e - s >= 2)
    gh = (
        none
        & (c0 == 36)
        & (buf[s + 1] == ord("P"))
        & (buf[s + 2] == ord("G"))
        & (buf[s + 3] == ord("H"))
        & (buf[s + 4] == ord("P"))
        & (buf[s + 5] == 44)
    )
    other = none & (c0 == 36) & ~gh
    out.kind[other] = K_NONAIS

    if tagonly.any():
        rows = np.flatnonzero(tagonly)
        tf = parse_tag_spans(buf, s[rows] + 1, e[rows] - 1)
        out.kind[rows] = K_TAGHDR
        out.t_own[rows] = tf.time_us
        out.t_bad[rows] = tf.time_bad
        out.st_s[rows], out.st_e[rows] = tf.station_s, tf.station_e
        out.si_s[rows], out.si_e[rows] = tf.si_s, tf.si_e
        out.group[rows] = tf.group

    if gh.any():
        rows = np.flatnonzero(gh)
        k = index_at_or_after(comma, s[rows] + 5)
        # fields 1..13 lie between consecutive commas; the last ends at '*'
        fend = np.minimum(first_at_or_after(star, s[rows]), e[rows])
        vals = []
        oks = np.ones(rows.size, dtype=bool)
        for j in range(1, 9):  # 1: msg type, 2-8: y m d h mi s ms
            a = comma[k + j - 1] + 1
            b = np.minimum(comma[k + j], fend)
            v, ok = read_uint(buf, a, b, 4)
            if j >= 2:
                vals.append(v)
                oks &= ok
        st_a = comma[k + 10] + 1
        st_b = np.minimum(comma[k + 11], fend)
        has_st = (comma[k + 10] < fend) & (st_b > st_a)
        us, valid = civil_to_us(
            vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6] * 1000
        )
        good = oks & valid & (vals[6] < 1000)
        out.kind[rows] = K_GHHDR
        out.t_own[rows] = np.where(good, us, NO_TIME)
        out.t_bad[rows] = ~good
        out.st_s[rows] = np.where(has_st, st_a, -1)
        out.st_e[rows] = np.where(has_st, st_b, -1)

    # ---- one sentence on the line --------------------------------------------------
    cand = ~blank & ~comment & (nb == 1)
    if cand.any():
        rows = np.flatnonzero(cand)
        _parse_sentence_rows(buf, s, e, rows, out, bang, comma, star, bsl, tz)

    # whatever is left: lines without '!' that are not headers or '$' sentences
    return out


def _parse_sentence_rows(
    buf: U8,
    s: I64,
    e: I64,
    rows: I64,
    out: RowScan,
    bang: I64,
    comma: I64,
    star: I64,
    bsl: I64,
    tz: str,
) -> None:
    S, E = s[rows], e[rows]
    P = first_at_or_after(bang, S)
    ok = (buf[P + 3] == 86) & (buf[P + 4] == 68) & ((buf[P + 5] == 77) | (buf[P + 5] == 79))
    ok &= _TALKER[buf[P + 1]] & _TALKER[buf[P + 2]]
    k = index_at_or_after(comma, P)
    c = [comma[k + j] for j in range(6)]
    ok &= c[0] == P + 6
    ok &= (c[1] == c[0] + 2) & is_digit(buf, c[0] + 1)
    ok &= (c[2] == c[1] + 2) & is_digit(buf, c[1] + 1)
    seq_len = c[3] - c[2] - 1
    seq, seq_ok = read_uint(buf, c[2] + 1, c[3], 2)
    ok &= (seq_len == 0) | seq_ok
    chan_len = c[4] - c[3] - 1
    ok &= (chan_len == 0) | (chan_len == 1)
    st = first_at_or_after(star, P)
    ok &= (st > c[5]) & (st + 3 <= E)
    h1, h2 = hex_value(buf, st + 1), hex_value(buf, st + 2)
    ok &= (h1 >= 0) & (h2 >= 0)
    lc = last_before(comma, st)
    ok &= (st == lc + 2) & is_digit(buf, lc + 1)

    # prefix before the '!'
    empty = P == S
    tag = (
        (buf[S] == 92)
        & (buf[np.maximum(P - 1, 0)] == 92)
        & (count_between(bsl, S, P) == 2)
        & (P - S >= 2)
    )
    rest = ok & ~empty & ~tag
    iso_us, iso_m, iso_utc, iso_ok = _iso_prefix(buf, S, P, rest)
    rest2 = rest & ~iso_m
    ep_us, ep_m, ep_ok = _epoch_prefix(buf, S, P, rest2)
    known = empty | tag | iso_m | ep_m
    ok &= known

    t = np.full(rows.size, NO_TIME, dtype=np.int64)
    bad = np.zeros(rows.size, dtype=bool)
    st_s = np.full(rows.size, -1, dtype=np.int64)
    st_e = np.full(rows.size, -1, dtype=np.int64)
    si_s = np.full(rows.size, -1, dtype=np.int64)
    si_e = np.full(rows.size, -1, dtype=np.int64)
    group = np.full(rows.size, -1, dtype=np.int64)
    tag_rows = ok & tag
    if tag_rows.any():
        ti = np.flatnonzero(tag_rows)
        tf = parse_tag_spans(buf, S[ti] + 1, P[ti] - 1)
        t[ti], bad[ti] = tf.time_us, tf.time_bad
        st_s[ti], st_e[ti] = tf.station_s, tf.station_e
        si_s[ti], si_e[ti] = tf.si_s, tf.si_e
        group[ti] = tf.group
    iso_rows = ok & iso_m
    if iso_rows.any():
        local = iso_rows & ~iso_utc & iso_ok
        us = iso_us.copy()
        if local.any():
            us[local] = local_to_utc(iso_us[local], tz)
        t = np.where(iso_rows & iso_ok, us, t)
        bad |= iso_rows & ~iso_ok
    ep_rows = ok & ep_m
    t = np.where(ep_rows & ep_ok, ep_us, t)
    bad |= ep_rows & ~ep_ok

    trailer = ok & (st + 3 < E) & (buf[st + 3] == 44)
    if trailer.any():
        tt, thas, ts_s, ts_e = _trailer(buf, st, E, trailer, comma)
        use_t = trailer & thas & (t == NO_TIME) & ~bad
        t = np.where(use_t, tt, t)
        use_st = trailer & (st_s < 0) & (ts_s >= 0)
        st_s = np.where(use_st, ts_s, st_s)
        st_e = np.where(use_st, ts_e, st_e)

    good = rows[ok]
    out.kind[good] = K_SENT
    o = ok
    out.talker[good] = buf[P[o] + 1].astype(np.int64) * 256 + buf[P[o] + 2]
    out.vdo[good] = buf[P[o] + 5] == 79
    out.count[good] = buf[c[0][o] + 1].astype(np.int64) - 48
    out.num[good] = buf[c[1][o] + 1].astype(np.int64) - 48
    out.seq[good] = np.where(seq_len[o] == 0, -1, seq[o])
    out.chan[good] = np.where(chan_len[o] == 1, buf[c[3][o] + 1], 0)
    out.pay_s[good] = c[4][o] + 1
    out.pay_e[good] = c[5][o]
    out.fill[good] = buf[lc[o] + 1].astype(np.int64) - 48
    out.ck_given[good] = h1[o].astype(np.int64) * 16 + h2[o]
    out.ck_calc[good] = xor_spans(buf, P[o] + 1, st[o]).astype(np.int64)
    out.t_own[good] = t[o]
    out.t_bad[good] = bad[o]
    out.st_s[good], out.st_e[good] = st_s[o], st_e[o]
    out.si_s[good], out.si_e[good] = si_s[o], si_e[o]
    out.group[good] = group[o]


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


def _run_info(kind: I64) -> tuple[B, I64, I64, I64, I64]:
    """Header runs: (is_hdr, hstart, last tag header in run, last $PGHP in run, next non-header)."""
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
    return is_hdr, np.where(is_hdr, idx, prev_nonhdr + 1), last_tag, last_gh, next_nonhdr


def parse_batch(batch: LineBatch, *, tz: str, fragment_gap: int) -> ParsedBatch:
    """Parse a batch of NMEA lines into messages, failed sentences and line fates.

    Unless ``batch.final``, lines at the end that belong to a message still waiting for
    fragments (or a header run waiting for its sentence) are left undecided:
    ``n_lines`` tells how many lines were decided; the caller hands the rest back to the reader.
    """
    n = batch.n
    buf = batch.buf
    rs = scan_rows(buf, batch.starts, batch.ends, tz)
    kind = rs.kind

    # ---- slow path: complex lines → virtual lines ----------------------------------
    complex_rows = np.flatnonzero(kind == K_COMPLEX)
    line_code = np.zeros(n, dtype=np.int64)
    line_detail: dict[int, str] = {}
    line_code[kind == K_BLANK] = Q.CODE[Q.BLANK]
    line_code[kind == K_COMMENT] = Q.CODE[Q.COMMENT]
    line_code[kind == K_NONAIS] = Q.CODE[Q.NOT_AIS]
    v_line: list[int] = []
    v_text: list[bytes] = []
    v_time: list[int] = []
    v_bad: list[bool] = []
    data = batch.data
    for r in complex_rows.tolist():
        sp = split_line(data[int(batch.starts[r]) : int(batch.ends[r])], tz)
        if sp.reason:
            line_code[r] = sp.reason
            if sp.detail:
                line_detail[r] = sp.detail
            continue
        for text in sp.virtual:
            v_line.append(r)
            v_text.append(text)
            v_time.append(NO_TIME if sp.time_us is None else sp.time_us)
            v_bad.append(sp.time_bad)
    ext_parts: list[bytes] = []
    base = len(data)
    v_starts = np.zeros(len(v_text), dtype=np.int64)
    v_ends = np.zeros(len(v_text), dtype=np.int64)
    pos = base
    for i, text in enumerate(v_text):
        v_starts[i] = pos
        v_ends[i] = pos + len(text)
        ext_parts.append(text + b"\n")
        pos += len(text) + 1
    ext = b"".join(ext_parts)
    if ext:
        pbuf = np.concatenate(
            [buf[:base], np.frombuffer(ext, dtype=np.uint8), np.zeros(PAD, np.uint8)]
        )
        pbuf[base:][pbuf[base:] >= 0x80] = 0x7F
    else:
        pbuf = buf
    vs = scan_rows(pbuf, v_starts, v_ends, tz)
    v_line_a = np.asarray(v_line, dtype=np.int64)
    v_time_a = np.asarray(v_time, dtype=np.int64)
    v_bad_a = np.asarray(v_bad, dtype=bool)

    # ---- sentence table: original one-sentence lines + virtual lines ---------------
    o_rows = np.flatnonzero(kind == K_SENT)
    v_ok = np.flatnonzero(vs.kind == K_SENT)
    v_fail = np.flatnonzero(vs.kind != K_SENT)
    # virtual sentences that do not parse: malformed, on their original line
    fail_lines = v_line_a[v_fail]

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a[o_rows], b[v_ok]])

    s_line = np.concatenate([o_rows, v_line_a[v_ok]])
    s_order = np.concatenate([np.zeros(o_rows.size, np.int64), v_ok + 1])
    talker = cat(rs.talker, vs.talker)
    count = cat(rs.count, vs.count)
    num = cat(rs.num, vs.num)
    seq = cat(rs.seq, vs.seq)
    chan = cat(rs.chan, vs.chan)
    pay_s = cat(rs.pay_s, vs.pay_s)
    pay_e = cat(rs.pay_e, vs.pay_e)
    fill = cat(rs.fill, vs.fill)
    ck_given = cat(rs.ck_given, vs.ck_given)
    ck_calc = cat(rs.ck_calc, vs.ck_calc)
    t_own = cat(rs.t_own, vs.t_own)
    t_bad = cat(rs.t_bad, vs.t_bad)
    st_s = cat(rs.st_s, vs.st_s)
    st_e = cat(rs.st_e, vs.st_e)
    si_s = cat(rs.si_s, vs.si_s)
    si_e = cat(rs.si_e, vs.si_e)
    group = cat(rs.group, vs.group)
    # logger prefix time of a complex line applies to its virtual sentences
    nv = v_ok.size
    if nv:
        tail = slice(o_rows.size, o_rows.size + nv)
        vt = v_time_a[v_ok]
        vb = v_bad_a[v_ok]
        own_none = (t_own[tail] == NO_TIME) & ~t_bad[tail]
        t_own[tail] = np.where(own_none & (vt != NO_TIME), vt, t_own[tail])
        t_bad[tail] = t_bad[tail] | (own_none & vb)
    order = np.lexsort((s_order, s_line))
    (
        s_line,
        talker,
        count,
        num,
        seq,
        chan,
        pay_s,
        pay_e,
        fill,
        ck_given,
        ck_calc,
        t_own,
        t_bad,
        st_s,
        st_e,
        si_s,
        si_e,
        group,
    ) = (
        a[order]
        for a in (
            s_line,
            talker,
            count,
            num,
            seq,
            chan,
            pay_s,
            pay_e,
            fill,
            ck_given,
            ck_calc,
            t_own,
            t_bad,
            st_s,
            st_e,
            si_s,
            si_e,
            group,
        )
    )

    # ---- header runs ---------------------------------------------------------------
    is_hdr, hstart, last_tag, last_gh, next_nonhdr = _run_info(kind)
    lt = last_tag[s_line]
    lg = last_gh[s_line]
    has_lt = lt >= 0
    has_lg = lg >= 0
    ltc = np.maximum(lt, 0)
    lgc = np.maximum(lg, 0)
    # time: own > tag header c: > $PGHP
    t = t_own.copy()
    bad = t_bad.copy()
    none = (t == NO_TIME) & ~bad
    use = none & has_lt & ((rs.t_own[ltc] != NO_TIME) | rs.t_bad[ltc])
    t = np.where(use, rs.t_own[ltc], t)
    bad |= use & rs.t_bad[ltc]
    none = (t == NO_TIME) & ~bad
    use = none & has_lg
    t = np.where(use, rs.t_own[lgc], t)
    bad |= use & rs.t_bad[lgc]
    # station: own s:/trailer > tag header s: > $PGHP station > own si: > header si:
    for cond, src_s, src_e in (
        (has_lt, rs.st_s[ltc], rs.st_e[ltc]),
        (has_lg, rs.st_s[lgc], rs.st_e[lgc]),
        (np.ones_like(has_lt), si_s, si_e),
        (has_lt, rs.si_s[ltc], rs.si_e[ltc]),
    ):
        take = (st_s < 0) & cond & (src_s >= 0)
        st_s = np.where(take, src_s, st_s)
        st_e = np.where(take, src_e, st_e)
    # group id from a tag header line as well
    group = np.where((group < 0) & has_lt, rs.group[ltc], group)

    # ---- sentence-level checks -----------------------------------------------------
    plen = pay_e - pay_s
    s_code = np.zeros(s_line.size, dtype=np.int64)
    malformed = (count < 1) | (num < 1) | (num > count) | (fill > 5) | (plen > MAX_PAYLOAD)
    s_code[malformed] = Q.CODE[Q.MALFORMED]
    s_code[(s_code == 0) & (ck_given != ck_calc)] = Q.CODE[Q.BAD_CHECKSUM]
    s_code[(s_code == 0) & bad] = Q.CODE[Q.BAD_TIME]

    q_line: list[np.ndarray] = [fail_lines]
    q_code: list[np.ndarray] = [np.full(fail_lines.size, Q.CODE[Q.MALFORMED], dtype=np.int64)]
    q_detail: list[str | None] = [None] * int(fail_lines.size)
    bad_idx = np.flatnonzero(s_code != 0)
    q_line.append(s_line[bad_idx])
    q_code.append(s_code[bad_idx])
    for i in bad_idx.tolist():
        code = int(s_code[i])
        if code == Q.CODE[Q.BAD_CHECKSUM]:
            q_detail.append(f"checksum *{int(ck_given[i]):02X}, computed {int(ck_calc[i]):02X}")
        elif code == Q.CODE[Q.MALFORMED]:
            if plen[i] > MAX_PAYLOAD:
                q_detail.append(f"payload of {int(plen[i])} characters")
            elif fill[i] > 5:
                q_detail.append(f"{int(fill[i])} fill bits")
            else:
                q_detail.append(f"fragment {int(num[i])} of {int(count[i])}")
        else:
            q_detail.append(None)

    good = s_code == 0
    single = np.flatnonzero(good & (count == 1))
    multi = np.flatnonzero(good & (count > 1))

    # ---- multi-part assembly -----------------------------------------------------
    asm = assemble(
        multi, s_line, talker, count, num, seq, chan, group, n, batch.final, fragment_gap
    )

    # ---- where this batch ends -----------------------------------------------------
    cut = n
    if not batch.final:
        nonhdr = np.flatnonzero(~is_hdr)
        cut = int(nonhdr[-1]) + 1 if nonhdr.size else 0
        if asm.pending_first.size:
            cut = min(cut, int(hstart[asm.pending_first].min()))
        lo = hstart[s_line[asm.span_first]]
        hi = s_line[asm.span_last]
        while True:
            before = cut
            if cut < n:
                cut = min(cut, int(hstart[cut]))
            straddle = (hi >= cut) & (lo < cut)
            if straddle.any():
                cut = int(lo[straddle].min())
            if cut == before:
                break

    # ---- messages: single sentences, then assembled ones ----------------------------
    keep_single = single[s_line[single] < cut]
    done_keep = asm.msg_last_line < cut
    msg_of = asm.frag_msg  # per fragment (in asm.frags order): its message number
    keep_frag = done_keep[msg_of]
    frags = asm.frags[keep_frag]
    fmsg = msg_of[keep_frag]
    # renumber kept messages 0..k-1
    kept = np.flatnonzero(done_keep)
    renum = np.full(done_keep.size, -1, dtype=np.int64)
    renum[kept] = np.arange(kept.size)
    fmsg = renum[fmsg]
    k = kept.size
    base_len = pbuf.size - PAD
    plen_f = pay_e[frags] - pay_s[frags]
    blob = gather(pbuf, pay_s[frags], plen_f)
    if blob.size:
        pbuf = np.concatenate([pbuf[:base_len], blob, np.zeros(PAD, np.uint8)])
    msg_len = np.bincount(fmsg, weights=plen_f, minlength=k).astype(np.int64)
    a_s = base_len + np.concatenate([[0], np.cumsum(msg_len)[:-1]]) if k else np.zeros(0, np.int64)
    a_e = a_s + msg_len
    first_frag = np.searchsorted(fmsg, np.arange(k), side="left")
    last_frag = np.searchsorted(fmsg, np.arange(k), side="right") - 1
    a_f = fill[frags[last_frag]] if k else np.zeros(0, np.int64)
    # first fragment with a time / a station
    big = np.iinfo(np.int64).max
    pos = np.arange(frags.size, dtype=np.int64)
    has_t = t[frags] != NO_TIME
    tpick = (
        np.minimum.reduceat(np.where(has_t, pos, big), first_frag) if k else np.zeros(0, np.int64)
    )
    a_t = (
        np.where(tpick < big, t[frags[np.minimum(tpick, max(frags.size - 1, 0))]], NO_TIME)
        if k
        else np.zeros(0, np.int64)
    )
    has_st = st_s[frags] >= 0
    spick = (
        np.minimum.reduceat(np.where(has_st, pos, big), first_frag) if k else np.zeros(0, np.int64)
    )
    sp = frags[np.minimum(spick, max(frags.size - 1, 0))] if k else np.zeros(0, np.int64)
    a_ss = np.where(spick < big, st_s[sp], -1) if k else np.zeros(0, np.int64)
    a_se = np.where(spick < big, st_e[sp], -1) if k else np.zeros(0, np.int64)
    # fragment lines per message, without repeats (two fragments on one line)
    fl = s_line[frags]
    new_line = np.ones(frags.size, dtype=bool)
    if frags.size > 1:
        new_line[1:] = (fmsg[1:] != fmsg[:-1]) | (fl[1:] != fl[:-1])
    a_fl = fl[new_line]
    a_fc = np.bincount(fmsg[new_line], minlength=k).astype(np.int64)
    a_first = hstart[fl[first_frag]] if k else np.zeros(0, np.int64)
    a_last = fl[last_frag] if k else np.zeros(0, np.int64)

    cnts = np.concatenate([np.ones(keep_single.size, dtype=np.int64), a_fc])
    ptr = np.zeros(cnts.size + 1, dtype=np.int64)
    np.cumsum(cnts, out=ptr[1:])
    msgs = Messages(
        pay_s=np.concatenate([pay_s[keep_single], a_s]),
        pay_e=np.concatenate([pay_e[keep_single], a_e]),
        fill=np.concatenate([fill[keep_single], a_f]),
        ts=np.concatenate([t[keep_single], a_t]),
        st_s=np.concatenate([st_s[keep_single], a_ss]),
        st_e=np.concatenate([st_e[keep_single], a_se]),
        line_first=np.concatenate([hstart[s_line[keep_single]], a_first]),
        line_no=np.concatenate([s_line[keep_single], a_last]),
        frag_ptr=ptr,
        frag_lines=np.concatenate([s_line[keep_single], a_fl]),
    )

    # failed fragments: each fragment line quarantined 'incomplete multi-part'
    fails = asm.failed[s_line[asm.failed] < cut]
    if fails.size:
        q_line.append(s_line[fails])
        q_code.append(np.full(fails.size, Q.CODE[Q.INCOMPLETE], dtype=np.int64))
        q_detail.extend(
            asm.failed_detail[j] for j in np.flatnonzero(s_line[asm.failed] < cut).tolist()
        )
    ql = np.concatenate(q_line) if q_line else np.zeros(0, np.int64)
    qc = np.concatenate(q_code) if q_code else np.zeros(0, np.int64)
    keep_q = ql < cut
    qd = [d for d, kq in zip(q_detail, keep_q.tolist(), strict=True) if kq]

    # header lines share the fate of the next non-header line, if it holds a sentence
    has_sentence = np.zeros(n + 1, dtype=bool)
    has_sentence[s_line] = True
    has_sentence[fail_lines] = True
    tgt = next_nonhdr
    hdr_target = np.where(is_hdr & (tgt < n) & has_sentence[np.minimum(tgt, n)], tgt, -1)
    line_code[is_hdr & (hdr_target < 0)] = Q.CODE[Q.HEADER_ONLY]
    line_code[~is_hdr & (line_code == 0) & ~has_sentence[:n]] = Q.CODE[Q.NOT_AIS]

    return ParsedBatch(
        pbuf=pbuf,
        n_lines=cut,
        messages=msgs,
        q_line=ql[keep_q],
        q_code=qc[keep_q],
        q_detail=qd,
        line_code=line_code[:cut],
        line_detail={k: v for k, v in line_detail.items() if k < cut},
        hdr_target=hdr_target[:cut],
        is_hdr=is_hdr[:cut],
    )


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
