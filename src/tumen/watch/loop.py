"""``watch``: feeds → spool → micro-batches → ingest + incremental detection + alerts, one transaction each.

Each micro-batch (every ``watch.batch_s`` seconds or ``watch.batch_lines`` lines):

1. the lines of each feed are written to a spool file (:mod:`tumen.watch.spool`);
2. the store is **opened**, and in **one transaction**: each spool file is ingested
   (:func:`tumen.ingest.ingest_paths`: stored / duplicate / quarantined, a ``sources`` row whose
   ``params.watch`` gives the feed, its address and the time window), the detectors run
   incrementally (:func:`tumen.detect.run_detectors`), new identities are screened against the
   loaded lists, the rules are evaluated and the alerts written to table ``alerts``, and every
   feed's position (offset after its last line in the batch) is checkpointed in ``meta``;
3. the store is **closed** — DuckDB admits one writer and no reader while a file is open for
   writing, so between batches other processes (``tumen serve``, ``tumen events``) can read it;
4. the new alerts are delivered: ``--alerts`` JSONL and stdout (``--json``) as soon as the
   transaction has committed (before the close, whose checkpoint can take a second), then
   ``--webhook`` (after the close: its retries must not keep readers out).

Killed at any moment (``kill -9``), a restart with the same arguments resumes each feed after
its checkpoint: a batch is in the store with its checkpoint or not at all, so every line is
accounted once.  The ``alerts`` table is the outbox: alerts committed but not yet appended to
the JSONL file are appended on restart (the file's last complete line tells where it stopped).

In replay (a single ``--replay`` feed), batches are cut on a grid of data time
(``batch_s × speed`` seconds) and every ``batch_lines`` lines from the checkpoint, so that a
replay — interrupted or not — cuts the same batches and raises the same alerts.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tumen.config import Settings
from tumen.detect.events import iso_z
from tumen.errors import StoreError
from tumen.provenance import utc_now
from tumen.store.duckdb import DuckDBStore
from tumen.watch.alerts import WATCH_DDL, Alert, evaluate
from tumen.watch.feeds import Feed, Item, JournalFeed, ReplayFeed
from tumen.watch.rules import Rule
from tumen.watch.spool import batch_name, ready_lines, write_batch

POSITION_KEY = "watch.position."
CLOCK_KEY = "watch.clock"
SCREENED_KEY = "watch.screened_static_id"
OUTPUT_KEY = "watch.output."


@dataclass
class WatchReport:
    """Totals of one ``tumen watch`` run (``lines == stored + duplicates + quarantined``)."""

    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    alerts: int = 0
    batches: int = 0
    seconds: float = 0.0
    last_alert: str | None = None
    feeds: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "alerts": self.alerts,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "last_alert": self.last_alert,
            "feeds": self.feeds,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def summary(self) -> str:
        return (
            f"watch: {self.lines:,} lines: {self.stored:,} stored, {self.duplicates:,} duplicates, "
            f"{self.quarantined:,} quarantined; {self.alerts:,} alerts"
        )


# ----------------------------------------------------------------------------- outputs
class Outputs:
    """Where alerts go: a JSONL file, stdout, a webhook; and how far each got (resume)."""

    def __init__(
        self,
        alerts_path: Path | None,
        to_stdout: bool,
        webhook: str | None,
        settings: Settings,
        say: Callable[[str], None],
    ) -> None:
        self.path = alerts_path.resolve() if alerts_path else None
        self.stdout = to_stdout
        self.webhook = webhook
        self.settings = settings
        self.say = say
        self.webhook_done: int | None = None  # last seq POSTed (checkpointed at the next batch)

    def _key(self, kind: str, target: str) -> str:
        return f"{OUTPUT_KEY}{kind}:{target}"

    def backlog(self, store: DuckDBStore) -> list[tuple[int, str]]:
        """Register the outputs (first use: alerts from now on) and return what was not delivered."""
        top = int(store.scalar("SELECT coalesce(max(seq), 0) FROM alerts"))
        out: dict[int, str] = {}
        for kind, target in (
            ("jsonl", str(self.path) if self.path else None),
            ("webhook", self.webhook),
        ):
            if target is None:
                continue
            key = self._key(kind, target)
            mark = store.scalar("SELECT value FROM meta WHERE key = ?", [key])
            if mark is None:
                store.execute("INSERT INTO meta VALUES (?, ?)", [key, str(top)])
                mark = str(top)
            done = int(mark)
            if kind == "jsonl" and self.path is not None:
                last = _last_line(self.path)
                if last is not None:
                    s = store.scalar("SELECT max(seq) FROM alerts WHERE body = ?", [last])
                    if s is not None:
                        done = int(s)
            if kind == "webhook":
                self.webhook_done = done
            rows = store.con.execute(
                "SELECT seq, body FROM alerts WHERE seq > ? ORDER BY seq", [done]
            ).fetchall()
            for seq, body in rows:
                out.setdefault(int(seq), body)
                if kind == "jsonl":
                    self._jsonl([body])
                else:
                    self._post(int(seq), body)
        return sorted(out.items())

    def checkpoint(self, store: DuckDBStore) -> None:
        """Record the webhook's progress (in the batch's transaction)."""
        if self.webhook and self.webhook_done is not None:
            key = self._key("webhook", self.webhook)
            store.execute("DELETE FROM meta WHERE key = ?", [key])
            store.execute("INSERT INTO meta VALUES (?, ?)", [key, str(self.webhook_done)])

    def deliver(self, alerts: list[Alert]) -> None:
        """Every output: :meth:`deliver_local`, then :meth:`deliver_webhook`."""
        self.deliver_local(alerts)
        self.deliver_webhook(alerts)

    def deliver_local(self, alerts: list[Alert]) -> None:
        """The JSONL file and stdout (fast: watch writes them as soon as the batch commits,
        before it closes the store)."""
        if not alerts:
            return
        lines = [a.line() for a in alerts]
        if self.path is not None:
            self._jsonl(lines)
        if self.stdout:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()

    def deliver_webhook(self, alerts: list[Alert]) -> None:
        """POST each alert (with retries: after the store is closed, so readers are not held up)."""
        if self.webhook:
            for a in alerts:
                self._post(a.seq, a.line())

    def _jsonl(self, lines: list[str]) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()

    def _post(self, seq: int, body: str) -> None:
        """POST one alert; retry with doubling back-off (``watch.webhook_retries``)."""
        import urllib.error
        import urllib.request

        assert self.webhook is not None
        cfg = self.settings.watch
        delay = 0.5
        for attempt in range(cfg.webhook_retries + 1):
            req = urllib.request.Request(
                self.webhook,
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/json", "User-Agent": "tumen-watch"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(req, timeout=cfg.webhook_timeout_s) as resp:
                    if 200 <= resp.status < 300:
                        self.webhook_done = seq
                        return
                    why = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                why = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                why = str(getattr(exc, "reason", exc))
            if attempt < cfg.webhook_retries:
                self.say(f"webhook {self.webhook}: {why}; retrying in {delay:g} s")
                time.sleep(delay)
                delay *= 2
            else:
                self.say(
                    f"webhook {self.webhook}: {why}; giving up on alert seq {seq} after "
                    f"{cfg.webhook_retries + 1} attempts (it is in table alerts and --alerts)"
                )
        self.webhook_done = seq


def _last_line(path: Path) -> str | None:
    """The last complete line of a JSONL file; a torn last line (killed mid-write) is cut off."""
    if not path.exists():
        return None
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as fh:
            fh.truncate(cut)
        data = data[:cut]
    lines = data.rstrip(b"\n").split(b"\n")
    return lines[-1].decode("utf-8") if lines and lines[-1] else None


# ----------------------------------------------------------------------------- screening
def screen_new_identities(store: DuckDBStore, settings: Settings, cache: dict[str, Any]) -> None:
    """Screen the identities first heard since the last batch against the loaded lists.

    Uses :func:`tumen.screen.screen_query` (name, IMO, MMSI, call sign, flag); results go to
    ``watch_matches`` (``tumen screen`` writes ``matches``; both count as *listed*).
    """
    if not store.scalar("SELECT count(*) FROM lists"):
        return
    from tumen.screen import screen_query
    from tumen.screen.index import ScreenIndex, lists_fingerprint

    mark = int(
        store.scalar(
            "SELECT coalesce(max(CAST(value AS BIGINT)), -1) FROM meta WHERE key = ?",
            [SCREENED_KEY],
        )
    )
    top = int(store.scalar("SELECT coalesce(max(static_id), -1) FROM statics"))
    if top <= mark:
        return
    idents = store.con.execute(
        """
        SELECT DISTINCT mmsi, CASE WHEN imo > 0 THEN imo END AS imo, NULLIF(trim(name), '') AS name,
               NULLIF(trim(callsign), '') AS callsign, NULLIF(lower(trim(flag)), '') AS flag
        FROM statics WHERE static_id > ? AND (NULLIF(trim(name), '') IS NOT NULL OR imo > 0)
        ORDER BY ALL
        """,
        [mark],
    ).fetchall()
    fp = lists_fingerprint(store)
    if cache.get("fp") != fp:
        cache["fp"], cache["index"] = fp, ScreenIndex.from_store(store)
    index = cache["index"]
    cfg = settings.screen
    rows: list[tuple[Any, ...]] = []
    for mmsi, imo, name, callsign, flag in idents:
        ident = json.dumps([mmsi, imo, name, callsign, flag])
        if store.scalar("SELECT 1 FROM watch_matches WHERE ident = ? LIMIT 1", [ident]):
            continue
        found = screen_query(
            index,
            name,
            type="vessel",
            imo=str(imo) if imo else None,
            mmsi=mmsi,
            callsign=callsign,
            flag=flag,
            threshold=cfg.threshold,
            limit=cfg.max_candidates,
            min_score=cfg.min_score,
        )
        if not found:
            rows.append((ident, mmsi, imo, name, None, None, None, None, False, None))
        for m in found:
            e = m.entry
            rows.append(
                (
                    ident,
                    mmsi,
                    imo,
                    name,
                    e.entity_id,
                    e.list_id,
                    e.caption,
                    round(m.score, 4),
                    m.match,
                    json.dumps(e.programs),
                )
            )
    if rows:
        store.con.executemany(
            "INSERT INTO watch_matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    _set_meta(store, SCREENED_KEY, str(top))


def _set_meta(store: DuckDBStore, key: str, value: str) -> None:
    store.execute("DELETE FROM meta WHERE key = ?", [key])
    store.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


# ----------------------------------------------------------------------------- the loop
class Watcher:
    """The long-running loop (see the module docstring).

    Parameters
    ----------
    db:
        The store file (created if missing).
    settings:
        ``settings.watch`` (batching, spool, status, webhook), ``settings.ingest``, ``settings.detect``.
    feeds:
        The inputs (:mod:`tumen.watch.feeds`).
    rules:
        The watchlist (:func:`tumen.watch.rules.load_rules`).
    outputs:
        Where alerts go.
    ports:
        Watched-ports CSV for the detectors (None: ``settings.ports`` or the bundled list).
    until_end:
        Stop when every feed has ended (a replayed file or stdin consumed).
    say:
        Writes one line to stderr.
    """

    def __init__(
        self,
        db: Path,
        settings: Settings,
        feeds: list[Feed],
        rules: list[Rule],
        outputs: Outputs,
        *,
        ports: Path | None = None,
        until_end: bool = False,
        say: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
    ) -> None:
        self.db = Path(db)
        self.settings = settings
        self.feeds = feeds
        self.rules = rules
        self.outputs = outputs
        self.ports = ports
        self.until_end = until_end
        self.say = say
        self.report = WatchReport()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.pending: dict[str, list[Item]] = {f.key: [] for f in feeds}
        self.held: dict[str, int] = {f.key: 0 for f in feeds}
        self.positions: dict[str, Any] = {}
        self.clock: datetime | None = None
        self.screen_cache: dict[str, Any] = {}
        replays = [f for f in feeds if isinstance(f, ReplayFeed)]
        self.grid_s = (
            settings.watch.batch_s * replays[0].speed
            if len(feeds) == 1 and replays and replays[0].speed > 0
            else None
        )
        self.replay = len(feeds) == 1 and bool(replays)
        self.on_batch: Callable[[WatchReport, list[Alert]], None] | None = None
        self._last_status = time.monotonic()
        self._lines_at_status = 0

    # -- store -------------------------------------------------------------------
    #: how long to keep trying to open a store another process holds (seconds)
    OPEN_PATIENCE_S = 60.0

    def _open(self) -> DuckDBStore:
        """Open the store for writing; while a reader holds it (``tumen serve``), retry with back-off."""
        delay, waited = 0.02, 0.0
        while True:
            try:
                store = DuckDBStore(self.db, memory_limit=self.settings.watch.memory_limit)
                break
            except StoreError:
                if waited >= self.OPEN_PATIENCE_S:
                    raise
                time.sleep(delay)  # another process has the file: wait for it to close it
                waited += delay
                delay = min(delay * 2, 1.0)
        store.execute(WATCH_DDL)
        return store

    def _startup(self) -> None:
        store = self._open()
        try:
            with store.transaction():
                for f in self.feeds:
                    raw = store.scalar(
                        "SELECT value FROM meta WHERE key = ?", [POSITION_KEY + f.key]
                    )
                    self.positions[f.key] = json.loads(raw) if raw else None
                clock = store.scalar("SELECT value FROM meta WHERE key = ?", [CLOCK_KEY])
                self.clock = datetime.fromisoformat(clock) if clock else None
                backlog = self.outputs.backlog(store)
        finally:
            store.close()
        if backlog:
            self.say(f"watch: delivered {len(backlog)} alert(s) committed before the last stop")

    def spool_dir(self) -> Path:
        return self.settings.watch.spool_dir or (self.db.resolve().parent / "spool")

    def _commit(self, batches: dict[str, list[Item]]) -> list[Alert]:
        """One micro-batch: spool files, then one transaction (ingest, detect, screen, alerts, checkpoints)."""
        from tumen.detect import run_detectors
        from tumen.ingest import ingest_paths

        spool = self.spool_dir()
        files: list[tuple[Feed, Path, list[Item]]] = []
        by_key = {f.key: f for f in self.feeds}
        for key, items in batches.items():
            if not items:
                continue
            first = items[0]
            first_time = first[3] if first[3] is not None else first[2]
            name = batch_name(first_time, self.positions.get(key))
            path = write_batch(spool / key, name, [it[0] for it in items])
            files.append((by_key[key], path, items))
        tick = _Ticker(self.report.timings)
        store = self._open()
        tick("open")
        alerts: list[Alert] = []
        try:
            with store.transaction():
                new_sources: list[int] = []
                for feed, path, items in files:
                    rep = ingest_paths(store, [path], self.settings, fmt="nmea")
                    fr = rep.files[0]
                    self.report.lines += fr.lines
                    self.report.stored += fr.stored
                    self.report.duplicates += fr.duplicates
                    self.report.quarantined += fr.quarantined
                    per = self.report.feeds.setdefault(
                        feed.key, {"lines": 0, "stored": 0, "duplicates": 0, "quarantined": 0}
                    )
                    per["lines"] += fr.lines
                    per["stored"] += fr.stored
                    per["duplicates"] += fr.duplicates
                    per["quarantined"] += fr.quarantined
                    if fr.source_id is not None and not fr.already_ingested:
                        new_sources.append(fr.source_id)
                        times = [it[3] for it in items if it[3] is not None]
                        info = {
                            "watch": {
                                "feed": feed.kind
                                if not isinstance(feed, JournalFeed)
                                else feed.address.split(":")[0],
                                "address": feed.address,
                                "received": [_iso(items[0][2]), _iso(items[-1][2])],
                                "data_time": [_iso(min(times)), _iso(max(times))]
                                if times
                                else None,
                                "position": [self.positions.get(feed.key), items[-1][1]],
                            }
                        }
                        store.execute(
                            "UPDATE sources SET params = CAST(json_merge_patch(coalesce(params, '{}'), ?) AS VARCHAR) WHERE source_id = ?",
                            [json.dumps(info), fr.source_id],
                        )
                if new_sources:
                    t = store.scalar(
                        "SELECT max(ts) FROM positions WHERE source_id IN (SELECT unnest(?))",
                        [new_sources],
                    )
                    if t is not None and (self.clock is None or t > self.clock):
                        self.clock = t
                tick("ingest")
                since = utc_now()
                run_detectors(store, self.settings, ports=self.ports)
                tick("detect")
                screen_new_identities(store, self.settings, self.screen_cache)
                tick("screen")
                alerts = evaluate(
                    store,
                    self.rules,
                    self.settings,
                    since=since,
                    clock=self.clock,
                    ports=self.ports,
                    base=self.db.resolve().parent,
                )
                for feed, _path, items in files:
                    _set_meta(store, POSITION_KEY + feed.key, json.dumps(items[-1][1]))
                if self.clock is not None:
                    _set_meta(store, CLOCK_KEY, self.clock.isoformat())
                self.outputs.checkpoint(store)
                tick("alerts")
            tick("commit")
            # committed: the alerts are in table alerts (the outbox), so they can go out now —
            # the JSONL file and stdout before the close (a checkpoint of the file: up to a
            # second on a busy disk), the webhook after it (its retries must not hold the store)
            self.outputs.deliver_local(alerts)
            tick("deliver")
        finally:
            store.close()
        tick("close")
        for feed, _path, items in files:
            self.positions[feed.key] = items[-1][1]
        self.report.batches += 1
        self.report.alerts += len(alerts)
        if alerts:
            self.report.last_alert = (
                f"{alerts[-1].rule} ({alerts[-1].alert_id}, {iso_z(alerts[-1].raised_at)})"
            )
        return alerts

    # -- batching ----------------------------------------------------------------
    def _cut(self, force: bool) -> dict[str, list[Item]]:
        """The items of the next batch per feed (removed from ``pending``); empty when it is not time yet."""
        limit = self.settings.watch.batch_lines
        out: dict[str, list[Item]] = {}
        for f in self.feeds:
            items = self.pending[f.key]
            if not items:
                continue
            n = len(items)
            if self.grid_s is not None:
                cell0 = _cell(items[0][3], self.grid_s)
                n = next(
                    (i for i, it in enumerate(items) if _cell(it[3], self.grid_s) != cell0),
                    len(items),
                )
                complete = n < len(items) or f.drained()
                n = min(n, limit)
                if not complete and n < limit:
                    continue
            elif self.replay:  # fixed cuts from the checkpoint: the same batches every time
                n = min(n, limit)
            else:  # live: behind (more than batch_lines waiting) → a bigger batch, up to max_batch_lines
                n = min(n, max(limit, self.settings.watch.max_batch_lines))
            final = f.drained() and n == len(items)
            if not final:
                ready = ready_lines([it[0] for it in items[:n]])
                if ready == 0 and self.held[f.key] >= 1:
                    ready = n  # held twice: the missing fragments are not coming
                self.held[f.key] = self.held[f.key] + 1 if ready < n else 0
                n = ready
            if n:
                out[f.key] = items[:n]
                self.pending[f.key] = items[n:]
        return out

    def _pull(self) -> None:
        for f in self.feeds:
            room = max(self.settings.watch.batch_lines, self.settings.watch.max_batch_lines)
            self.pending[f.key].extend(f.poll(max(0, room - len(self.pending[f.key]))))
            while f.notices:
                self.say(f.notices.popleft())

    def _status(self) -> None:
        """Every ``watch.status_s``: lines/s, lines waiting (lag), data time reached, last alert."""
        now = time.monotonic()
        if now - self._last_status < self.settings.watch.status_s:
            return
        rate = (self.report.lines - self._lines_at_status) / max(now - self._last_status, 1e-9)
        lag = sum(len(v) for v in self.pending.values()) + sum(f.pending() for f in self.feeds)
        spilled = sum(f.lag_bytes() for f in self.feeds if isinstance(f, JournalFeed))
        on_disk = f" + {spilled / 2**20:.1f} MiB waiting in the journal" if spilled else ""
        self.say(
            f"watch: {rate:,.0f} lines/s, {self.report.lines:,} lines, lag {lag:,} lines waiting{on_disk}"
            f"{_lag_data(self.clock)}, {self.report.alerts} alerts, last: {self.report.last_alert or '-'}"
        )
        self._last_status, self._lines_at_status = now, self.report.lines

    def run(self) -> WatchReport:
        """Run until stopped (SIGINT/SIGTERM) or, with ``until_end``, until every feed ended."""
        t0 = time.monotonic()
        self._startup()
        for f in self.feeds:
            f.start(self.positions.get(f.key), self.wake)
        cfg = self.settings.watch
        last_commit = time.monotonic()
        self._last_status = time.monotonic()
        self._lines_at_status = 0
        old_handlers = _install_signals(self.stopping, self.wake)
        try:
            while True:
                timeout = max(
                    0.0,
                    min(last_commit + cfg.batch_s, self._last_status + cfg.status_s)
                    - time.monotonic(),
                )
                self.wake.wait(timeout if self.grid_s is None else min(timeout, 0.5))
                self.wake.clear()
                self._pull()
                now = time.monotonic()
                waiting = sum(len(v) for v in self.pending.values())
                ended = all(f.drained() for f in self.feeds)
                due = (
                    self.grid_s is not None
                    or now - last_commit >= cfg.batch_s
                    or waiting >= cfg.batch_lines
                    or ended
                    or self.stopping.is_set()
                )
                while due and any(self.pending.values()):
                    batch = self._cut(force=self.stopping.is_set())
                    if not batch:
                        break
                    alerts = self._commit(batch)  # delivers to --alerts and stdout
                    self.outputs.deliver_webhook(alerts)
                    if self.on_batch is not None:
                        self.on_batch(self.report, alerts)
                    last_commit = time.monotonic()
                    self._pull()
                    self._status()
                    if (
                        self.grid_s is None
                        and sum(len(v) for v in self.pending.values()) < cfg.batch_lines
                    ):
                        break
                self._status()
                if self.stopping.is_set() and not any(self.pending.values()):
                    break
                if self.until_end and ended and not any(self.pending.values()):
                    break
        finally:
            for f in self.feeds:
                f.stop()
            _restore_signals(old_handlers)
        self.report.seconds = time.monotonic() - t0
        return self.report


class _Ticker:
    """Adds the seconds since the previous call to ``timings[step]`` (where a batch spends its time)."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self.t
        self.t = now


def _cell(ts: float | None, grid_s: float) -> int:
    return -1 if ts is None else math.floor(ts / grid_s)


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _lag_data(clock: datetime | None) -> str:
    if clock is None:
        return ""
    behind = (utc_now() - clock).total_seconds()
    return f" (data time {iso_z(clock)}, {behind / 3600:.1f} h behind the wall clock)"


def _install_signals(stopping: threading.Event, wake: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: Any) -> None:
        stopping.set()
        wake.set()

    old: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old[sig] = signal.signal(sig, handler)
    return old


def _restore_signals(old: dict[int, Any]) -> None:
    for sig, h in old.items():
        signal.signal(sig, h)
