"""Benchmark: ``tumen watch`` fed over loopback TCP — alert latency, sustained throughput, memory.

    python bench/watch.py                              # 60 s at 10 000 lines/s, then 60 s at 20 000 lines/s
    python bench/watch.py --seconds 600 --throughput-rate 20000   # the issue's 10-minute soak
    python bench/watch.py --latency-only --seconds 30
    python bench/watch.py --kill 5 --seconds 60           # kill -9 at 5 random moments under 10 000 lines/s
    python bench/watch.py --soak 180                      # 3 minutes at 20 000 lines/s (days repeated)
    python bench/watch.py --src /other/checkout/src ...   # the same run with another tree's tumen

A simulated feed (``tumen.sim.simulate``: tag-block NMEA with receive times, damage and
duplicates) is served by a TCP server in this process at a steady rate (lines/s, sent in
10 ms slices); ``tumen watch --tcp`` runs as a child process with a watchlist of four rules
(encounters, gaps, loitering, identity) and writes ``--alerts``.  This process notes when each
line was sent and when each alert line appeared in the alerts file (polled every 5 ms).

Latency of an alert = (moment its line appeared in the alerts file) − (moment the first line
whose data time is ≥ the alert's ``raised_at`` was sent): ``raised_at`` is the data time at
which the alert's condition became true, so that line is the one that completed it.

Throughput: the lines sent per second of wall time from the child's start to the moment the
last line was accounted (stored + duplicates + quarantined); the lines accounted and the lag
(lines sent but not yet accounted) are read every 0.5 s from the child's status line on stderr
(``TUMEN_WATCH__STATUS_S=0.5``), without opening its store.  Peak memory: the child's ``VmHWM`` (peak resident set) just before it
is stopped; CPU: its user+system time.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tumen.config import Settings  # noqa: E402
from tumen.sim import simulate  # noqa: E402
from tumen.watch.feeds import line_time  # noqa: E402

#: the tumen source tree the watch child runs (``--src``: e.g. another checkout, for before/after)
CHILD_SRC = [ROOT / "src"]

RULES = """
[[rules]]
name = "encounters"
event = "encounter"

[[rules]]
name = "gaps"
event = "gap"

[[rules]]
name = "loitering"
event = "loitering"

[[rules]]
name = "identity"
event = "identity"
"""


def _proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def run_once(
    lines: list[bytes],
    times: list[float],
    rate: float,
    seconds: float,
    work: Path,
    ports: Path,
    label: str,
) -> dict[str, Any]:
    """Serve ``rate`` lines/s for ``seconds`` to a ``tumen watch --tcp`` child; measure."""
    n = min(len(lines), int(rate * seconds))
    shutil.rmtree(work, ignore_errors=True)  # a fresh store, spool and alerts file
    work.mkdir(parents=True)
    (work / "rules.toml").write_text(RULES)
    alerts_path = work / "alerts.jsonl"
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    sent_at = [0.0] * n
    sent_count = [0]
    done = threading.Event()
    connected_at = [0.0]

    def serve() -> None:
        conn, _ = server.accept()
        connected_at[0] = time.time()
        with conn:
            t0 = time.monotonic()
            step = max(1, int(rate / 100))  # 10 ms slices
            i = 0
            while i < n:
                due = t0 + i / rate
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                j = min(n, i + step)
                stamp = time.time()
                conn.sendall(b"\n".join(lines[i:j]) + b"\n")
                for k in range(i, j):
                    sent_at[k] = stamp
                i = j
                sent_count[0] = j
            done.set()
            # keep the connection open until the child is stopped (a drop would be a reconnect)
            with contextlib.suppress(OSError):
                conn.recv(1)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    # a status line every 0.5 s: the bench reads the lines committed from it
    env = dict(os.environ, PYTHONPATH=str(CHILD_SRC[0]), TUMEN_WATCH__STATUS_S="0.5")
    err_path = work / "stderr.txt"
    out_path = work / "stdout.jsonl"  # a file, not a pipe: nobody reads a pipe while it runs
    with open(err_path, "w") as err, open(out_path, "wb") as out_fh:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tumen",
                "watch",
                "--tcp",
                f"127.0.0.1:{port}",
                "--rules",
                str(work / "rules.toml"),
                "--alerts",
                str(alerts_path),
                "--db",
                str(work / "t.duckdb"),
                "--ports",
                str(ports),
                "--json",
            ],
            env=env,
            stdout=out_fh,
            stderr=err,
            cwd=work,
        )
    seen: list[tuple[float, str]] = []
    lag_samples: list[tuple[float, int]] = []
    pos = 0
    peak_kib = 0
    cpu = 0.0
    spool_lines = 0
    t_start = time.time()
    last_sample = 0.0
    first_commit: tuple[float, int] | None = (
        None  # (when, lines accounted) at the first status line
    )
    while True:
        if alerts_path.exists():
            with open(alerts_path, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
            cut = chunk.rfind(b"\n") + 1
            now = time.time()
            for line in chunk[:cut].splitlines():
                seen.append((now, line.decode()))
            pos += cut
        now = time.time()
        if now - last_sample >= 0.5:
            last_sample = now
            st = _proc_status(child.pid)
            peak_kib = max(peak_kib, int(st.get("VmHWM", "0 kB").split()[0]))
            found = re.findall(rb"watch: [\d,]+ lines/s, ([\d,]+) lines", err_path.read_bytes())
            if (
                found
            ):  # lines committed (stored + duplicates + quarantined), from the last status line
                spool_lines = int(found[-1].replace(b",", b""))
            lag_samples.append((now - t_start, sent_count[0] - spool_lines))
            if first_commit is None and spool_lines > 0:
                first_commit = (now, spool_lines)
        if done.is_set() and spool_lines >= n:
            break
        if now - t_start > seconds * 10 + 300:
            print(f"{label}: gave up waiting for the child to catch up", file=sys.stderr)
            break
        time.sleep(0.005)
    t_end = time.time()
    if alerts_path.exists():  # the last batch's alerts (written just before its status line)
        chunk = alerts_path.read_bytes()[pos:]
        seen.extend((t_end, line.decode()) for line in chunk.splitlines())
    peak_kib = max(peak_kib, int(_proc_status(child.pid).get("VmHWM", "0 kB").split()[0]))
    cpu = _cpu_s(child.pid)
    child.send_signal(signal.SIGINT)
    child.wait(timeout=120)
    out = out_path.read_bytes()
    server.close()
    # latency
    order = sorted(range(n), key=lambda k: times[k])
    ts_sorted = [times[k] for k in order]
    first_sent: list[float] = []
    best = float("inf")
    for k in reversed(order):  # earliest send among lines with data time >= T
        best = min(best, sent_at[k])
        first_sent.append(best)
    first_sent.reverse()
    lat = []
    for appeared, line in seen:
        a = json.loads(line)
        from datetime import datetime

        raised = datetime.fromisoformat(a["raised_at"].replace("Z", "+00:00")).timestamp()
        idx = bisect.bisect_left(ts_sorted, raised)
        if idx >= len(ts_sorted):
            continue
        lat.append(appeared - first_sent[idx])
    summary = json.loads(out.decode().strip().splitlines()[-1]) if out.strip() else {}
    wall = t_end - t_start
    q = statistics.quantiles(lat, n=20) if len(lat) >= 2 else [float("nan")] * 19
    return {
        "label": label,
        "rate_target": rate,
        "lines_sent": n,
        "send_seconds": round(n / rate, 1),
        "wall_s": round(wall, 1),
        "throughput_lps": round(n / wall),
        # after the start-up (imports, first open): lines accounted per second from the first
        # status line that shows a committed batch to the last line accounted
        "first_commit_s": round(first_commit[0] - t_start, 1) if first_commit else None,
        "sustained_after_first_commit_lps": round(
            (n - first_commit[1]) / max(t_end - first_commit[0], 1e-9)
        )
        if first_commit
        else None,
        "cpu_s": round(cpu, 1),
        "cpu_per_line_us": round(cpu / n * 1e6, 1),
        "peak_rss_mib": round(peak_kib / 1024),
        "alerts": len(seen),
        "latency_p50_s": round(statistics.median(lat), 2) if lat else None,
        "latency_p95_s": round(q[18], 2) if lat else None,
        "latency_max_s": round(max(lat), 2) if lat else None,
        "lag_max_lines": max((x for _, x in lag_samples), default=0),
        "lag_last_lines": lag_samples[-1][1] if lag_samples else 0,
        "lag_lines_at": {  # lines sent but not yet accounted, every quarter of the send time
            f"{q * n / rate:.0f}s": next(
                (x for t, x in lag_samples if t >= connected_at[0] - t_start + q * n / rate), None
            )
            for q in (0.25, 0.5, 0.75, 1.0)
        },
        "summary": {
            k: summary.get(k)
            for k in (
                "lines",
                "stored",
                "duplicates",
                "quarantined",
                "alerts",
                "batches",
                "timings",
            )
        },
        "load_average": os.getloadavg(),
    }


_TAG = re.compile(rb"^\\([^*]*)\*([0-9A-Fa-f]{2})\\")


def shifted(lines: list[bytes], seconds: int) -> list[bytes]:
    """The lines with their tag-block receive time (``c:``) moved by ``seconds`` and the tag
    block's checksum recomputed: a second pass over the simulated days, for long soaks."""
    out = []
    for line in lines:
        m = _TAG.match(line)
        if not m:
            out.append(line)
            continue
        body = re.sub(rb"c:(\d+)", lambda c: b"c:%d" % (int(c.group(1)) + seconds), m.group(1))
        ck = 0
        for ch in body:
            ck ^= ch
        out.append(b"\\" + body + b"*%02X\\" % ck + line[m.end() :])
    return out


def _watch_cmd(follow: Path, work: Path, ports: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tumen",
        "watch",
        "--follow",
        str(follow),
        "--rules",
        str(work / "rules.toml"),
        "--alerts",
        str(work / "alerts.jsonl"),
        "--db",
        str(work / "t.duckdb"),
        "--ports",
        str(ports),
        "--json",
    ]


def _store_totals(db: Path) -> dict[str, Any]:
    from tumen.store import DuckDBStore

    with DuckDBStore(db, read_only=True) as store:
        lines, stored, dup, quar = store.con.execute(
            "SELECT sum(lines), sum(stored), sum(duplicates), sum(quarantined) FROM sources"
        ).fetchone()
        n_alerts = store.scalar("SELECT count(*) FROM alerts")
    return {
        "lines": int(lines or 0),
        "stored": int(stored or 0),
        "duplicates": int(dup or 0),
        "quarantined": int(quar or 0),
        "alerts_table": int(n_alerts or 0),
    }


def _alert_keys(path: Path) -> list[tuple[Any, ...]]:
    keys = []
    for line in path.read_text().splitlines():
        a = json.loads(line)
        ev = a["event"]
        keys.append((a["alert_id"], a["rule"], a["update"], ev["event_id"], ev["start"]))
    return keys


def _err(work: Path, proc: int) -> bytes:
    return (work / f"stderr{proc}.txt").read_bytes()


def kill_run(
    lines: list[bytes], rate: float, seconds: float, kills: int, seed: int, work: Path, ports: Path
) -> dict[str, Any]:
    """Feed ``rate`` lines/s into a growing file followed by ``tumen watch --follow``; kill -9 the
    child at ``kills`` random moments (restarting it at once with the same arguments); when all
    lines are written and read, stop it and compare with an uninterrupted ``--replay`` of the
    same file: every line accounted once, the same alerts, none twice."""
    import random

    n = min(len(lines), int(rate * seconds))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "rules.toml").write_text(RULES)
    feed = work / "feed.nmea"
    feed.write_bytes(b"")
    env = dict(os.environ, PYTHONPATH=str(CHILD_SRC[0]), TUMEN_WATCH__STATUS_S="0.5")
    done = threading.Event()

    def write() -> None:
        t0 = time.monotonic()
        step = max(1, int(rate / 100))
        with open(feed, "ab") as fh:
            for i in range(0, n, step):
                due = t0 + i / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                fh.write(b"\n".join(lines[i : i + step]) + b"\n")
                fh.flush()
        done.set()

    rng = random.Random(seed)
    procs = 0

    def start() -> subprocess.Popen[bytes]:
        nonlocal procs
        procs += 1
        err = open(work / f"stderr{procs}.txt", "w")  # noqa: SIM115 - closed with the child
        return subprocess.Popen(
            _watch_cmd(feed, work, ports),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=work,
        )

    writer = threading.Thread(target=write, daemon=True)
    t_start = time.monotonic()
    child = start()
    writer.start()
    killed_at = []
    committed = []
    for _ in range(kills):
        # a random moment after the child has committed its first batch (else the kill would
        # only hit the start-up): up to 1.5 batch periods later, while lines keep coming
        while not re.search(rb"watch: [\d,]+ lines/s, [1-9][\d,]* lines", _err(work, procs)):
            if child.poll() is not None:
                raise RuntimeError(f"the watch child exited: {_err(work, procs)[-500:]!r}")
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 3.0))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        killed_at.append(round(time.monotonic() - t_start, 1))
        found = re.findall(rb"watch: [\d,]+ lines/s, ([\d,]+) lines", _err(work, procs))
        committed.append(int(found[-1].replace(b",", b"")) if found else 0)
        child = start()
    writer.join()
    # wait until the last child has read and committed everything: its status line shows no lag
    # and an unchanged line count for 3 s
    last, since = None, time.monotonic()
    deadline = time.monotonic() + seconds * 10 + 300
    while time.monotonic() < deadline:
        found = re.findall(
            rb"watch: [\d,]+ lines/s, ([\d,]+) lines, lag ([\d,]+) lines waiting(?! \+)",
            (work / f"stderr{procs}.txt").read_bytes(),
        )
        cur = found[-1] if found else None
        if cur != last:
            last, since = cur, time.monotonic()
        elif cur is not None and cur[1] == b"0" and time.monotonic() - since > 3:
            break
        time.sleep(0.25)
    child.send_signal(signal.SIGINT)
    child.wait(timeout=300)
    wall = time.monotonic() - t_start
    got = _store_totals(work / "t.duckdb")
    keys = _alert_keys(work / "alerts.jsonl")
    # the uninterrupted reference: the same file, replayed in one run
    ref = work / "reference"
    ref.mkdir()
    (ref / "rules.toml").write_text(RULES)
    cmd = _watch_cmd(feed, ref, ports)
    cmd[cmd.index("--follow") : cmd.index("--follow") + 2] = [
        "--replay",
        str(feed),
        "--speed",
        "0",
        "--until-end",
    ]
    subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ref
    )
    want = _store_totals(ref / "t.duckdb")
    ref_keys = _alert_keys(ref / "alerts.jsonl")
    return {
        "label": f"kill -9 x{kills}",
        "rate_target": rate,
        "lines_sent": n,
        "killed_at_s": killed_at,
        "lines_committed_by_each_killed_process_at_its_last_status": committed,
        "processes": procs,
        "wall_s": round(wall, 1),
        "accounted": got,
        "reference": want,
        "lines_accounted_equal_sent": got["lines"] == n
        and got["lines"] == got["stored"] + got["duplicates"] + got["quarantined"],
        "same_accounting_as_reference": {
            k: got[k] for k in ("lines", "stored", "duplicates", "quarantined")
        }
        == {k: want[k] for k in ("lines", "stored", "duplicates", "quarantined")},
        "alerts": len(keys),
        "alerts_reference": len(ref_keys),
        "alerts_twice": len(keys) - len(set(keys)),
        "alerts_identical": sorted(keys) == sorted(ref_keys),
        "alerts_missing": len(set(ref_keys) - set(keys)),
        "alerts_extra": len(set(keys) - set(ref_keys)),
    }


def baseline(lines: list[bytes], n: int, work: Path, ports: Path) -> dict[str, Any]:
    """The after-the-fact alternative, in this process: the same n lines as one file,
    ``ingest_paths`` then ``run_detectors`` (``tumen ingest`` + ``tumen detect``)."""
    from tumen.detect import run_detectors
    from tumen.ingest import ingest_paths
    from tumen.store import DuckDBStore

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "lines.nmea"
    src.write_bytes(b"\n".join(lines[:n]) + b"\n")
    w0, c0 = time.perf_counter(), time.process_time()
    with DuckDBStore(work / "t.duckdb") as store:
        ingest_paths(store, [src], Settings())
        run_detectors(store, Settings(), ports=ports)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {
        "label": "baseline ingest+detect",
        "lines": n,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "throughput_lps": round(n / wall),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="feed time per run (s)")
    ap.add_argument("--latency-rate", type=float, default=10_000.0)
    ap.add_argument("--throughput-rate", type=float, default=20_000.0)
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip the in-process ingest + detect baseline"
    )
    ap.add_argument("--hours", type=float, default=72.0)
    ap.add_argument("--vessels", type=int, default=1000)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument(
        "--kill",
        type=int,
        default=0,
        metavar="N",
        help="instead: kill -9 the child at N random moments under load (--latency-rate, --seconds)",
    )
    ap.add_argument("--seed", type=int, default=7, help="random moments of --kill")
    ap.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead: one run at --throughput-rate for SECONDS (the simulated days repeated, time-shifted)",
    )
    ap.add_argument(
        "--src",
        type=Path,
        default=ROOT / "src",
        help="tumen source tree the watch child runs (default: this checkout's src/)",
    )
    args = ap.parse_args()
    CHILD_SRC[0] = args.src.resolve()
    work = args.work or Path(tempfile.mkdtemp(prefix="tumen-bench-watch-"))
    sim_dir = work / "sim"
    if not (sim_dir / "ais.nmea").exists():
        t = time.perf_counter()
        simulate(
            sim_dir,
            seed=11,
            hours=args.hours,
            vessels=args.vessels,
            fmt="nmea",
            settings=Settings(),
        )
        print(
            f"simulated {args.hours:g} h, {args.vessels} vessels in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
    lines = (sim_dir / "ais.nmea").read_bytes().splitlines()
    times: list[float] = []
    last = 0.0
    for line in lines:
        ts = line_time(line)
        last = ts if ts is not None else last
        times.append(last)
    if args.kill:
        res = kill_run(
            lines,
            args.latency_rate,
            args.seconds,
            args.kill,
            args.seed,
            work / "kill",
            sim_dir / "ports.csv",
        )
        print(json.dumps(res, indent=1), flush=True)
        return
    if args.soak:
        need = int(args.throughput_rate * args.soak)
        # the feed's span from its first and last lines (a damaged line may carry any time)
        known = sorted(t for t in times if t > 0)
        span = int(known[len(known) * 99 // 100] - known[len(known) // 100]) + 3600
        more, k = list(lines), 1
        while len(more) < need:
            more += shifted(lines, span * k)
            k += 1
        more_times = []
        last = 0.0
        for line in more[:need]:
            ts = line_time(line)
            last = ts if ts is not None else last
            more_times.append(last)
        res = run_once(
            more[:need],
            more_times,
            args.throughput_rate,
            args.soak,
            work / "soak",
            sim_dir / "ports.csv",
            f"soak {args.soak:g} s",
        )
        print(json.dumps(res, indent=1), flush=True)
        return
    results = [
        run_once(
            lines,
            times,
            args.latency_rate,
            args.seconds,
            work / "latency",
            sim_dir / "ports.csv",
            "latency",
        )
    ]
    print(json.dumps(results[-1]), flush=True)
    if not args.latency_only:
        results.append(
            run_once(
                lines,
                times,
                args.throughput_rate,
                args.seconds,
                work / "throughput",
                sim_dir / "ports.csv",
                "throughput",
            )
        )
        print(json.dumps(results[-1]), flush=True)
    if not args.no_baseline:
        results.append(
            baseline(lines, results[0]["lines_sent"], work / "baseline", sim_dir / "ports.csv")
        )
        print(json.dumps(results[-1]), flush=True)
    print(
        json.dumps(
            {
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "sim_lines": len(lines),
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
