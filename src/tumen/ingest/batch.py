"""One batch of lines: prepared (parsed, decoded, rows built) and then committed to the store.

The work is split in two so that preparing batch *k+1* (numpy, no store access) can run
while batch *k* is committed (dedupe against the store, appends):

:func:`prepare_nmea` / :func:`tumen.ingest.csv.prepare_csv`
    lines → :class:`Prepared`: candidate rows, dedupe keys, and every line's quarantine
    reason where it has one.
:func:`commit`
    drops duplicates (within the batch and against ``ingest_keys``), appends the stored
    rows with fresh ids, writes quarantined lines, and returns the line counts.

Line accounting (see :mod:`tumen.ingest.quarantine`): every line gets a rank -- 3 stored,
2 duplicate, 1 quarantined -- as the best rank of the messages on it; header lines copy
the rank of the line they head.  Each line is counted exactly once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tumen.ingest import quarantine as Q
from tumen.ingest.decode import STORED_FIELDS, Decoded, decode_payloads
from tumen.ingest.dedupe import SeenKeys, batch_duplicates, remember
from tumen.ingest.files import LineBatch
from tumen.ingest.nmea import ParsedBatch
from tumen.ingest.records import CLASS_OF_TYPE, Part, build_rows, check_messages
from tumen.ingest.scan import I64, NO_TIME, B, spans_to_arrow
from tumen.store.backend import Backend

STORED, DUPLICATE, QUARANTINED = 3, 2, 1

_CLASS_LUT = np.full(64, -1, dtype=np.int8)
for _t, _c in CLASS_OF_TYPE.items():
    _CLASS_LUT[_t] = 0 if _c == "A" else 1

POSITION_COLUMNS: dict[str, pa.DataType] = {
    "lat": pa.float64(),
    "lon": pa.float64(),
    "sog_kn": pa.float32(),
    "cog_deg": pa.float32(),
    "heading_deg": pa.int16(),
    "nav_status": pa.int8(),
    "msg_type": pa.int8(),
    "accuracy": pa.bool_(),
    "utc_second": pa.int8(),
    "class_text": pa.string(),  # CSV: the class column; AIS: class follows from msg_type
    "nonstandard_length": pa.bool_(),
}
STATIC_COLUMNS: dict[str, pa.DataType] = {
    "imo": pa.int64(),
    "name": pa.string(),
    "callsign": pa.string(),
    "ship_type": pa.int16(),
    "to_bow_m": pa.int16(),
    "to_stern_m": pa.int16(),
    "to_port_m": pa.int16(),
    "to_starboard_m": pa.int16(),
    "destination": pa.string(),
    "draught_m": pa.float32(),
    "flag": pa.string(),
    "msg_type": pa.int8(),
    "part_code": pa.int8(),
    "length_m": pa.float32(),
    "width_m": pa.float32(),
    "eta": pa.string(),
    "nonstandard_length": pa.bool_(),
}


@dataclass
class Prepared:
    """A batch ready to commit.  Message arrays have one entry per message (or CSV row).

    Which lines are quarantined (and why) is settled here: dedupe only decides between
    stored and duplicate, so the commit needs no text of the batch.
    """

    first_line: int  # 1-based number of line 0
    n_lines: int
    # messages
    key: I64
    ts: I64
    mmsi: I64
    code: I64  # quarantine code per message, 0 = fine
    frag_ptr: I64
    frag_lines: I64
    line_first: I64
    line_no: I64
    station: pa.Array
    decoded: Decoded | None  # fields to build rows from (see rows()); None once built
    positions: list[Part]
    statics: list[Part]
    others: I64  # message indices for the ``messages`` table
    other_type: I64
    other_payload: pa.Array
    other_fill: I64
    other_nonstandard: B  # bit length outside the ITU-R table (see tumen.ingest.decode)
    # header lines share the outcome of the line they head (-1: none)
    hdr_target: I64
    is_hdr: B
    # quarantined lines: index in the batch, reason code, detail, text
    q_index: I64
    q_code: I64
    q_detail: list[str | None]
    q_raw: pa.Array

    def build(self) -> None:
        """Build the candidate rows from the decoded fields (done where the batch is committed)."""
        if self.decoded is not None:
            rows = build_rows(self.decoded, self.code)
            self.positions, self.statics = rows.positions, rows.statics
            self.decoded = None


def quarantined_lines(
    n: int,
    code: I64,
    detail: dict[int, str],
    frag_ptr: I64,
    frag_lines: I64,
    q_line: I64,
    q_code: I64,
    q_detail: list[str | None],
    line_code: I64,
    line_detail: dict[int, str],
    hdr_target: I64,
    is_hdr: B,
) -> tuple[I64, I64, list[str | None]]:
    """The lines of a batch that end quarantined: (indices, reason codes, details).

    A line is quarantined when no message on it decoded well (see :mod:`tumen.ingest.quarantine`);
    its reason is that of the first failure on it.  Header lines follow the line they head.
    """
    rank = np.zeros(n, dtype=np.int8)  # 2: holds a good message, 1: quarantined
    qcode = np.zeros(n, dtype=np.int64)
    qdetail: dict[int, str] = {}
    cnt = np.diff(frag_ptr)
    if frag_lines.size:
        msg_rank = np.where(code == 0, DUPLICATE, QUARANTINED).astype(np.int8)
        np.maximum.at(rank, frag_lines, np.repeat(msg_rank, cnt))
        bad = np.flatnonzero(msg_rank == QUARANTINED)
        if bad.size:
            cb = cnt[bad]
            pos = np.repeat(frag_ptr[bad], cb) + (
                np.arange(int(cb.sum())) - np.repeat(np.cumsum(cb) - cb, cb)
            )
            lines = frag_lines[pos]
            owner = np.repeat(bad, cb)
            qcode[lines[::-1]] = code[owner][::-1]
            if detail:
                for ln, i in zip(lines[::-1].tolist(), owner[::-1].tolist(), strict=True):
                    d = detail.get(i)
                    if d is not None:
                        qdetail[ln] = d
                    else:
                        qdetail.pop(ln, None)
    if q_line.size:
        np.maximum.at(rank, q_line, QUARANTINED)
        for ln, c, d in zip(
            q_line[::-1].tolist(), q_code[::-1].tolist(), q_detail[::-1], strict=True
        ):
            if rank[ln] == QUARANTINED:
                qcode[ln] = c
                if d is not None:
                    qdetail[ln] = d
                else:
                    qdetail.pop(ln, None)
    nl = np.flatnonzero(line_code)
    if nl.size:
        rank[nl] = np.maximum(rank[nl], QUARANTINED)
        qcode[nl] = np.where(rank[nl] == QUARANTINED, line_code[nl], qcode[nl])
        for ln, d in line_detail.items():
            qdetail[ln] = d
    hdr = np.flatnonzero(is_hdr & (hdr_target >= 0))
    if hdr.size:
        tgt = hdr_target[hdr]
        rank[hdr] = rank[tgt]
        qcode[hdr] = qcode[tgt]
        for h, t in zip(hdr.tolist(), tgt.tolist(), strict=True):
            if rank[h] == QUARANTINED and t in qdetail:
                qdetail[h] = qdetail[t]
    if n and rank.min() < 1:
        missing = int(np.flatnonzero(rank < 1)[0])
        raise AssertionError(f"line {missing} of the batch was given no outcome (ingest bug)")
    q = np.flatnonzero(rank == QUARANTINED)
    return q, qcode[q], [qdetail.get(i) for i in q.tolist()] if qdetail else [None] * q.size


def decode_batch(pb: ParsedBatch) -> Decoded:
    """Decode the payloads of a parsed batch (the fields ingest stores)."""
    m = pb.messages
    return decode_payloads(pb.pbuf, m.pay_s, m.pay_e, m.fill, only=STORED_FIELDS)


def prepare_nmea(
    batch: LineBatch, pb: ParsedBatch, window_us: int, dec: Decoded | None = None
) -> Prepared:
    """Decode the messages of a parsed NMEA batch (unless ``dec`` is given), check them and
    settle which lines are quarantined; the rows are built at commit (:meth:`Prepared.build`)."""
    m = pb.messages
    if dec is None:
        dec = decode_batch(pb)
    code, detail = check_messages(dec)
    kinds = np.zeros(code.size, dtype=bool)
    for idx, _f in dec.groups.values():
        kinds[idx] = True
    others = np.flatnonzero((dec.code == 0) & ~kinds)
    q, qc, qd = quarantined_lines(
        pb.n_lines,
        code,
        detail,
        m.frag_ptr,
        m.frag_lines,
        pb.q_line,
        pb.q_code,
        pb.q_detail,
        pb.line_code,
        pb.line_detail,
        pb.hdr_target,
        pb.is_hdr,
    )
    return Prepared(
        first_line=batch.first_line,
        n_lines=pb.n_lines,
        key=dec.key,
        ts=m.ts,
        mmsi=dec.mmsi,
        code=code,
        frag_ptr=m.frag_ptr,
        frag_lines=m.frag_lines,
        line_first=m.line_first,
        line_no=m.line_no,
        station=spans_to_arrow(pb.pbuf, m.st_s, m.st_e),
        decoded=dec,
        positions=[],
        statics=[],
        others=others,
        other_type=dec.msg_type[others],
        other_payload=spans_to_arrow(pb.pbuf, m.pay_s[others], m.pay_e[others]),
        other_fill=m.fill[others],
        other_nonstandard=(
            dec.nonstandard[others]
            if dec.nonstandard is not None
            else np.zeros(others.size, dtype=bool)
        ),
        hdr_target=pb.hdr_target,
        is_hdr=pb.is_hdr,
        q_index=q,
        q_code=qc,
        q_detail=qd,
        q_raw=batch.raw_lines(q),
    )


@dataclass
class Context:
    """State of one file's ingest, carried from batch to batch."""

    store: Backend
    source_id: int
    window_us: int
    next_pos_id: int
    next_static_id: int
    next_msg_id: int
    seen: SeenKeys
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    #: untimed stored rows of this file, per table: (dedupe keys, row ids), batch after batch
    untimed_rows: dict[str, list[tuple[I64, I64]]] = field(default_factory=dict)
    #: dedupe keys of the untimed duplicates of this file
    untimed_dups: list[I64] = field(default_factory=list)
    #: duplicates folded into a stored row of this file (its ``repeats``); set by fold_repeats
    repeats_folded: int = 0

    def _keep_untimed(self, table: str, key: I64, ts: I64, first_id: int) -> None:
        untimed = ts == NO_TIME
        if untimed.any():
            ids = np.arange(first_id, first_id + key.size, dtype=np.int64)
            self.untimed_rows.setdefault(table, []).append((key[untimed], ids[untimed]))


def _ts_array(ts: I64) -> pa.Array:
    none = ts == NO_TIME
    return pa.array(
        np.where(none, 0, ts), type=pa.timestamp("us"), mask=none if none.any() else None
    )


def _take(col: pa.Array | np.ndarray, keep: np.ndarray, typ: pa.DataType) -> pa.Array:
    if isinstance(col, np.ndarray):
        return pa.array(col[keep], type=typ)
    return col.filter(pa.array(keep)).cast(typ)


def _gather_parts(
    parts: list[Part], stored: B, columns: dict[str, pa.DataType]
) -> tuple[I64, dict[str, pa.Array]]:
    """Concatenate the stored rows of several parts, column by column (NULL where a part lacks one)."""
    msgs: list[np.ndarray] = []
    cols: dict[str, list[pa.Array]] = {c: [] for c in columns}
    for part in parts:
        keep = stored[part.msg]
        k = int(keep.sum())
        if k == 0:
            continue
        msgs.append(part.msg[keep])
        for c, typ in columns.items():
            if c in part.cols:
                cols[c].append(_take(part.cols[c], keep, typ))
            else:
                cols[c].append(pa.nulls(k, type=typ))
    if not msgs:
        return np.zeros(0, dtype=np.int64), {}
    return np.concatenate(msgs), {c: pa.concat_arrays(v) for c, v in cols.items()}


def _class_array(msg_type: pa.Array) -> pa.Array:
    t = pc.fill_null(msg_type, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    idx = _CLASS_LUT[np.clip(t, 0, 63)]
    none = idx < 0
    ind = pa.array(np.where(none, 0, idx), type=pa.int8(), mask=none if none.any() else None)
    return pa.DictionaryArray.from_arrays(ind, pa.array(["A", "B"]))


def commit(ctx: Context, p: Prepared) -> None:
    """Dedupe a prepared batch against the store, append its rows and count its lines."""
    store = ctx.store
    p.build()
    n_msg = p.key.size
    ok = p.code == 0
    good = np.flatnonzero(ok)
    dup_in_batch = np.zeros(n_msg, dtype=bool)
    dup_in_batch[good] = batch_duplicates(p.key[good], p.ts[good], ctx.window_us)
    cand = np.flatnonzero(ok & ~dup_in_batch)
    sdup = ctx.seen.duplicates(store, p.key[cand], p.ts[cand])
    stored = np.zeros(n_msg, dtype=bool)
    stored[cand[~sdup]] = True
    dup = ok & ~stored
    # remember every copy, stored or duplicate: a copy within the window of a duplicate is a
    # duplicate too, in this batch (neighbours in time) and in the next ones alike
    seen = np.flatnonzero(ok)
    if seen.size:
        remember(store, p.key[seen], p.ts[seen])
        ctx.seen.add(p.key[seen], p.ts[seen])

    def common(msg: I64, id_name: str, first_id: int) -> dict[str, pa.Array]:
        return {
            id_name: pa.array(np.arange(first_id, first_id + msg.size, dtype=np.int64)),
            "mmsi": pa.array(p.mmsi[msg]),
            "ts": _ts_array(p.ts[msg]),
            "source_id": pa.array(np.full(msg.size, ctx.source_id, dtype=np.int32)),
            "line_no": pa.array(p.line_no[msg] + p.first_line),
            "line_first": pa.array(p.line_first[msg] + p.first_line),
        }

    msg, cols = _gather_parts(p.positions, stored, POSITION_COLUMNS)
    if msg.size:
        table = common(msg, "pos_id", ctx.next_pos_id)
        table.update(cols)
        klass = _class_array(cols["msg_type"])
        text = table.pop("class_text")
        table["class"] = (
            klass if text.null_count == len(text) else pc.coalesce(text, klass.cast(pa.string()))
        )
        table["station"] = pc.dictionary_encode(p.station.take(pa.array(msg)))
        store.append("positions", pa.table(table))
        ctx._keep_untimed("positions", p.key[msg], p.ts[msg], ctx.next_pos_id)
        ctx.next_pos_id += msg.size
        ctx.rows["positions"] += msg.size
    msg, cols = _gather_parts(p.statics, stored, STATIC_COLUMNS)
    if msg.size:
        table = common(msg, "static_id", ctx.next_static_id)
        part = cols.pop("part_code").to_numpy(zero_copy_only=False)
        part = np.nan_to_num(part.astype(np.float64), nan=0).astype(np.int8)
        table.update(cols)
        table["part"] = pa.DictionaryArray.from_arrays(
            pa.array(np.where(part == 0, 0, part - 1), type=pa.int8(), mask=part == 0),
            pa.array(["24A", "24B"]),
        )
        store.append("statics", pa.table(table))
        ctx._keep_untimed("statics", p.key[msg], p.ts[msg], ctx.next_static_id)
        ctx.next_static_id += msg.size
        ctx.rows["statics"] += msg.size
    if p.others.size:
        keep = stored[p.others]
        if keep.any():
            msg = p.others[keep]
            table = common(msg, "msg_id", ctx.next_msg_id)
            table["msg_type"] = pa.array(p.other_type[keep].astype(np.int8))
            table["payload"] = p.other_payload.filter(pa.array(keep))
            table["fill_bits"] = pa.array(p.other_fill[keep].astype(np.int8))
            table["station"] = p.station.take(pa.array(msg))
            table["nonstandard_length"] = pa.array(p.other_nonstandard[keep])
            store.append("messages", pa.table(table))
            ctx._keep_untimed("messages", p.key[msg], p.ts[msg], ctx.next_msg_id)
            ctx.next_msg_id += msg.size
            ctx.rows["messages"] += msg.size

    untimed_dup = dup & (p.ts == NO_TIME)
    if untimed_dup.any():
        ctx.untimed_dups.append(p.key[untimed_dup])
    _account_lines(ctx, p, stored, dup)


_ID_COLUMN = {"positions": "pos_id", "statics": "static_id", "messages": "msg_id"}


def fold_repeats(ctx: Context) -> None:
    """Write ``repeats`` on the untimed rows of the file that later identical copies repeated.

    A file without receive times that holds the same payload twice stores it once (see
    :mod:`tumen.ingest.dedupe`); the copies after the first are counted as duplicates and
    their number is recorded on the stored row, so that nothing is lost silently.  Copies
    of a row stored from an earlier file stay plain duplicates.  Sets ``ctx.repeats_folded``.
    """
    if not ctx.untimed_dups:
        return
    dup_keys, counts = np.unique(np.concatenate(ctx.untimed_dups), return_counts=True)
    folded = np.zeros(dup_keys.size, dtype=bool)
    for table, parts in ctx.untimed_rows.items():
        keys = np.concatenate([k for k, _ in parts])
        ids = np.concatenate([i for _, i in parts])
        pos = np.searchsorted(dup_keys, keys)
        pos = np.minimum(pos, dup_keys.size - 1)
        hit = dup_keys[pos] == keys
        if not hit.any():
            continue
        folded[pos[hit]] = True
        ctx.store.execute("CREATE TEMP TABLE IF NOT EXISTS _tumen_repeats (id BIGINT, n INTEGER)")
        ctx.store.execute("DELETE FROM _tumen_repeats")
        ctx.store.append(
            "_tumen_repeats",
            pa.table({"id": ids[hit], "n": pa.array(counts[pos[hit]], pa.int32())}),
        )
        col = _ID_COLUMN[table]
        ctx.store.execute(
            f"UPDATE {table} SET repeats = r.n FROM _tumen_repeats r WHERE {table}.{col} = r.id"
        )
    ctx.repeats_folded = int(counts[folded].sum())


def _account_lines(ctx: Context, p: Prepared, stored: B, dup: B) -> None:
    """Count the batch's lines (stored / duplicate / quarantined) and write its quarantined lines."""
    n = p.n_lines
    rank = np.zeros(n, dtype=np.int8)
    if p.frag_lines.size:
        msg_rank = np.where(stored, STORED, np.where(dup, DUPLICATE, 0)).astype(np.int8)
        np.maximum.at(rank, p.frag_lines, np.repeat(msg_rank, np.diff(p.frag_ptr)))
    hdr = np.flatnonzero(p.is_hdr & (p.hdr_target >= 0))
    if hdr.size:
        rank[hdr] = rank[p.hdr_target[hdr]]
    rank[p.q_index] = QUARANTINED
    if n and rank.min() < 1:
        missing = int(np.flatnonzero(rank < 1)[0])
        raise AssertionError(f"line {p.first_line + missing} was given no outcome (ingest bug)")
    counts = np.bincount(rank, minlength=4)
    ctx.lines += n
    ctx.stored += int(counts[STORED])
    ctx.duplicates += int(counts[DUPLICATE])
    ctx.quarantined += int(counts[QUARANTINED])
    q = p.q_index
    if q.size:
        reason_names = np.array(["", *Q.REASONS], dtype=object)
        for c, k in zip(*np.unique(p.q_code, return_counts=True), strict=True):
            ctx.reasons[Q.REASON_OF[int(c)]] += int(k)
        ctx.store.append(
            "quarantine",
            pa.table(
                {
                    "source_id": pa.array(np.full(q.size, ctx.source_id, dtype=np.int32)),
                    "line_no": pa.array(q + p.first_line),
                    "raw": p.q_raw,
                    "reason": pa.array(reason_names[p.q_code], type=pa.string()),
                    "detail": pa.array(p.q_detail, type=pa.string()),
                }
            ),
        )
