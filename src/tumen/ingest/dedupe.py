"""Duplicates: the same AIS message heard twice, or the same file ingested twice.

Definition
----------
A message is a **duplicate** when an earlier copy -- same payload key (a 64-bit hash of
its 6-bit payload and bit length, :func:`tumen.ingest.decode.payload_keys`) -- was received
no more than ``ingest.dedupe_window_s`` seconds before it (or after it, for copies already
in the store): the same radio transmission picked up by another station, or relayed by
two feeds.  The earlier copy may itself be a duplicate, so a run of identical reports
each within the window of the previous one is stored once.  An AIS position report holds
its UTC second and radio state, so two distinct reports practically never share a payload
within a minute; static reports repeat identically every six minutes and are kept each
time they are heard again later than the window.

For input in time order the outcome does not depend on the batch size: within a batch,
copies are compared with their neighbour in time; across batches and files, with the
keys of every earlier copy (stored or duplicate) kept in ``ingest_keys``.

Messages without a receive time compare equal in time to each other (and never to timed
ones): a file without times that holds the same payload twice keeps it once, and the stored
row's ``repeats`` column records how many later copies of the same file it stands for
(:func:`tumen.ingest.batch.fold_repeats`; ``repeats_folded`` in the ingest report).

A CSV row's key hashes its MMSI, time, position, speed, course and heading, so only
identical rows are duplicates.

A whole file whose SHA-256 is already in ``sources`` is not read again: all its lines
count as duplicates.

Implementation: within a batch, sort by (key, time) and compare neighbours; against
the store, a join of the batch's keys with the ``ingest_keys`` table restricted to the
batch's time range (DuckDB prunes by min/max per row group), all in the file's
transaction, so batches and files see each other's keys.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tumen.ingest.decode import mix64
from tumen.ingest.scan import I64, NO_TIME, B
from tumen.store.backend import Backend

KEYS_TABLE = "ingest_keys"
PROBE_TABLE = "ingest_probe"


def batch_duplicates(key: I64, ts: I64, window_us: int) -> B:
    """Which entries repeat an earlier entry (key equal, times within the window).

    "Earlier" is by time, then by position in the batch; the first copy is kept.
    """
    n = key.size
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return dup
    # only keys that occur more than once need the (key, time) order
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rep = ks[1:] == ks[:-1]
    if not rep.any():
        return dup
    multi = np.zeros(n, dtype=bool)
    multi[1:] |= rep
    multi[:-1] |= rep
    sub = order[multi]
    sub = sub[np.lexsort((ts[sub], key[sub]))]  # stable: equal (key, time) keep batch order
    ks, t = key[sub], ts[sub]
    same = (ks[1:] == ks[:-1]) & ((t[1:] - t[:-1]) <= window_us)
    dup[sub[1:]] = same
    return dup


def store_duplicates(store: Backend, key: I64, ts: I64, window_us: int, has_keys: bool) -> B:
    """Which entries repeat a key already in the store (within the window).

    Only entries whose time lies within the window of stored keys of the batch's time
    range are probed (for a time-ordered feed: the first seconds of each batch).
    """
    n = key.size
    dup = np.zeros(n, dtype=bool)
    if n == 0 or not has_keys:
        return dup
    timed = ts != NO_TIME
    probe = np.zeros(n, dtype=bool)
    if timed.any():
        lo = int(ts[timed].min()) - window_us
        hi = int(ts[timed].max()) + window_us
        got = store.query(
            f"SELECT min(ts_us) AS a, max(ts_us) AS b FROM {KEYS_TABLE} WHERE ts_us BETWEEN ? AND ?",
            [lo, hi],
        )
        a, b = got.column("a")[0].as_py(), got.column("b")[0].as_py()
        if a is not None:
            probe |= timed & (ts >= a - window_us) & (ts <= b + window_us)
    if (~timed).any():
        got = store.query(
            f"SELECT 1 AS x FROM {KEYS_TABLE} WHERE ts_us = ? LIMIT 1", [int(NO_TIME)]
        )
        if got.num_rows:
            probe |= ~timed
    idx = np.flatnonzero(probe)
    if idx.size == 0:
        return dup
    store.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {PROBE_TABLE} (i BIGINT, key BIGINT, ts_us BIGINT)"
    )
    store.execute(f"DELETE FROM {PROBE_TABLE}")
    store.append(PROBE_TABLE, pa.table({"i": idx, "key": key[idx], "ts_us": ts[idx]}))
    pt = ts[idx]
    pt_timed = pt != NO_TIME
    lo = int(pt[pt_timed].min()) - window_us if pt_timed.any() else 1
    hi = int(pt[pt_timed].max()) + window_us if pt_timed.any() else 0
    untimed = int(NO_TIME) if (~pt_timed).any() else 0
    hits = store.query(
        f"SELECT p.i FROM {PROBE_TABLE} p JOIN {KEYS_TABLE} k ON k.key = p.key "
        "WHERE (k.ts_us BETWEEN ? AND ? OR k.ts_us = ?) AND abs(p.ts_us - k.ts_us) <= ?",
        [lo, hi, untimed, window_us],
    )
    if hits.num_rows:
        dup[hits.column("i").to_numpy()] = True
    return dup


_BITS_MASK = (1 << 20) - 1


class SeenKeys:
    """The keys of the file being ingested that lie within reach of the next batch.

    For a time-ordered file a new message can only repeat a copy seen in the last window
    of time: those keys are kept here (sorted, in memory) and checked with numpy, and the
    store is asked only for what memory cannot settle -- messages older than that horizon
    (out-of-order input), time ranges where keys from earlier files exist, untimed messages.
    The answer is the same as asking the store for everything.

    Parameters
    ----------
    before:
        ``(min, max)`` receive time (µs) of the timed keys stored before this file, or None.
    before_untimed:
        Whether untimed keys were stored before this file.
    """

    def __init__(self, window_us: int, before: tuple[int, int] | None, before_untimed: bool):
        self.window_us = window_us
        self.before = before
        self.before_untimed = before_untimed
        self.newest = int(NO_TIME)
        self.untimed = False
        self.key = np.zeros(0, dtype=np.int64)
        self.ts = np.zeros(0, dtype=np.int64)
        self.base = 0
        self.span = 4 * window_us + 2
        self.ukeys = np.zeros(0, dtype=np.int64)
        self.comp = np.zeros(0, dtype=np.int64)
        self.bits = np.zeros(_BITS_MASK + 1, dtype=bool)

    def duplicates(self, store: Backend, key: I64, ts: I64) -> B:
        """Which entries repeat a key seen before (this file or the store), within the window."""
        w = self.window_us
        n = key.size
        dup = np.zeros(n, dtype=bool)
        timed = ts != NO_TIME
        ask = ~timed & (self.before_untimed or self.untimed)
        if self.before is not None:
            ask |= timed & (ts >= self.before[0] - w) & (ts <= self.before[1] + w)
        if self.newest != NO_TIME:
            ask |= timed & (ts < self.newest - w)  # older than what memory holds
        mem = timed & ~ask
        if mem.any() and self.comp.size:
            # (key rank, time offset) packed in one sortable int64: a match is a packed value
            # between those of (rank, t - w) and (rank, t + w)
            idx = np.flatnonzero(mem)
            idx = idx[self.bits[key[idx] & _BITS_MASK]]  # cheap filter: most keys are new
            k, t = key[idx], ts[idx]
            r = np.searchsorted(self.ukeys, k)
            present = (r < self.ukeys.size) & (self.ukeys[np.minimum(r, self.ukeys.size - 1)] == k)
            span = self.span
            low = r * span + np.clip(t - w - self.base, 0, span - 1)
            high = r * span + np.clip(t + w - self.base, 0, span - 1)
            count = np.searchsorted(self.comp, high, side="right") - np.searchsorted(
                self.comp, low, side="left"
            )
            hit = present & (count > 0) & (t + w >= self.base)
            dup[idx[hit]] = True
        if ask.any():
            idx = np.flatnonzero(ask)
            dup[idx] = store_duplicates(store, key[idx], ts[idx], w, True)
        return dup

    def add(self, key: I64, ts: I64) -> None:
        """Keys just remembered in the store: keep those still within reach."""
        timed = ts != NO_TIME
        self.untimed |= bool((~timed).any())
        if not timed.any():
            return
        self.newest = max(self.newest, int(ts[timed].max()))
        self.base = self.newest - 2 * self.window_us
        k = np.concatenate([self.key, key[timed]])
        t = np.concatenate([self.ts, ts[timed]])
        near = t >= self.base
        self.key, self.ts = k[near], t[near]
        self.span = 4 * self.window_us + 2
        self.ukeys, rank = np.unique(self.key, return_inverse=True)
        self.bits = np.zeros(_BITS_MASK + 1, dtype=bool)
        self.bits[self.ukeys & _BITS_MASK] = True
        self.comp = np.sort(rank.astype(np.int64) * self.span + (self.ts - self.base))


def remember(store: Backend, key: I64, ts: I64) -> None:
    """Record the keys of messages seen (stored or duplicate)."""
    if key.size:
        store.append(KEYS_TABLE, pa.table({"key": key, "ts_us": ts}))


def row_keys(columns: list[np.ndarray]) -> I64:
    """64-bit key of table rows from numeric columns (floats by their bits; NaN equal to NaN)."""
    n = columns[0].size if columns else 0
    h = np.full(n, 0x51ED270B27A6F1C3, dtype=np.uint64)
    for col in columns:
        arr = np.asarray(col)
        if arr.dtype.kind == "f":
            arr = np.where(np.isnan(arr), np.nan, arr).astype(np.float64).view(np.uint64)
        else:
            arr = arr.astype(np.int64).view(np.uint64)
        h = mix64(h ^ arr)
    return h.view(np.int64)
