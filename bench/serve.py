"""Benchmark: `tumen serve` latency under 20 concurrent clients, and the map page in Chromium.

    python bench/serve.py                         # 10 M positions, 20 000 vessels (bench/detect.py's data)
    python bench/serve.py --positions 1e6         # quicker
    python bench/serve.py --db store.duckdb       # an existing store (detected, ranked)

What it does:

1. builds the store of the detector benchmark (``bench/detect.py``'s generator: one day,
   planted gaps, encounters, loitering, port calls, identity fraud), adds one vessel with a
   30-day track of 100 000 positions, runs every detector, loads the bundled demo list and ranks;
2. starts ``tumen serve`` (uvicorn) on 127.0.0.1 and a free port;
3. for each endpoint, 20 client threads (one keep-alive HTTP connection each) send requests
   for ``--seconds`` seconds (bounded), cycling through a fixed set of URLs, after a warm-up;
   p50 / p95 / max latency (ms) and requests/s are reported:
   ``/api/events`` (filtered: by type, by MMSI, by time window, by bbox),
   ``/api/vessels/{mmsi}`` (ranked vessels), ``/api/vessels/{mmsi}/track`` (the 30-day,
   100 000-position track, simplified to the screen by default; and one-day tracks),
   ``/api/search`` (misspelt names, MMSIs, IMOs);
4. opens ``/map`` in headless Chromium (Debian's) 3 times: first contentful paint, first
   meaningful paint (the map drawn with tracks and events: the page's ``tumen-map-ready``
   mark), and the page weight (bytes transferred, every request).

Clients and server share the machine's cores, so the latencies include the clients' own CPU
time and queueing: on a 2-core machine they are upper bounds.  Goals (issue 13): p95 < 100 ms
for each endpoint, < 300 ms for a 100k-position track simplified to the screen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

LONG_MMSI = 273555000
LONG_POSITIONS = 100_000


def build(db: Path, positions: int, vessels: int) -> dict[str, Any]:
    import detect as bd  # bench/detect.py
    from tumen.config import load_settings
    from tumen.detect import run_detectors
    from tumen.risk import rank_vessels
    from tumen.screen import demo_list_path
    from tumen.screen.lists import load_lists
    from tumen.store import DuckDBStore

    t = time.perf_counter()
    info = bd.generate(db, positions, vessels)
    gen_s = time.perf_counter() - t
    # one vessel sailing a loop for 30 days: 100 000 fixes, one every 26 s
    n = LONG_POSITIONS
    i = np.arange(n)
    ang = 2 * np.pi * i / n * 12  # 12 laps
    with DuckDBStore(db) as store:
        first = int(store.query("SELECT max(pos_id) AS m FROM positions").column("m")[0].as_py()) + 1
        store.append(
            "positions",
            pa.table(
                {
                    "pos_id": pa.array(np.arange(first, first + n, dtype=np.int64)),
                    "mmsi": pa.array(np.full(n, LONG_MMSI, np.int64)),
                    "ts": pa.array(bd.T0 + (i * 26 * 1_000_000).astype("timedelta64[us]")),
                    "lat": pa.array(41.5 + 0.8 * np.sin(ang)),
                    "lon": pa.array(132.0 + 1.2 * np.cos(ang)),
                    "sog_kn": pa.array(np.full(n, 10.0, np.float32)),
                    "source_id": pa.array(np.ones(n, np.int32)),
                    "line_no": pa.array(np.arange(first, first + n, dtype=np.int64)),
                    "line_first": pa.array(np.arange(first, first + n, dtype=np.int64)),
                }
            ),
        )
        settings = load_settings(environ={})
        t = time.perf_counter()
        run_detectors(store, settings, full=True)
        load_lists(store, [demo_list_path()])
        rank_vessels(store, settings)
        prep_s = time.perf_counter() - t
        n_pos = store.scalar("SELECT count(*) FROM positions")
        n_ves = store.scalar("SELECT count(DISTINCT mmsi) FROM positions")
        n_ev = store.scalar("SELECT count(*) FROM events")
    return {"generate_s": gen_s, "detect_screen_rank_s": prep_s, "positions": n_pos, "vessels": n_ves,
            "events": n_ev, "planted": {k: v for k, v in info.items() if isinstance(v, int)}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def urls(db: Path) -> dict[str, list[str]]:
    """The request mix of each endpoint, read from the store."""
    from tumen.store import DuckDBStore

    with DuckDBStore(db, read_only=True) as store:
        top = store.query("SELECT mmsi FROM risk WHERE score > 0 ORDER BY rank LIMIT 40").column("mmsi").to_pylist()
        enc = store.query("SELECT mmsi FROM events WHERE type = 'encounter' LIMIT 10").column("mmsi").to_pylist()
        names = store.query("SELECT DISTINCT name, imo FROM statics WHERE name IS NOT NULL LIMIT 20").to_pylist()
        t0, t1 = store.query('SELECT min(start) AS a, max("end") AS b FROM events').to_pylist()[0].values()
    mid = t0 + (t1 - t0) / 2
    window = f"since={mid.strftime('%Y-%m-%dT%H:%M')}Z&until={(mid + (t1 - t0) / 8).strftime('%Y-%m-%dT%H:%M')}Z"
    events = [
        "/api/events?type=encounter&limit=100",
        "/api/events?type=gap&limit=100&offset=100",
        f"/api/events?{window}&limit=100",
        "/api/events?bbox=130,41,133,43&limit=100",
        "/api/events?type=identity&subtype=invalid_imo&limit=50",
        "/api/events?port=Rajin&limit=100",
    ] + [f"/api/events?mmsi={m}" for m in enc[:6]]

    def misspell(name: str) -> str:
        return name[:2] + name[3:] if len(name) > 4 else name + "X"

    search = [f"/api/search?q={misspell(r['name']).replace(' ', '+')}" for r in names[:10]]
    search += [f"/api/search?q={r['imo']}" for r in names[:5] if r["imo"]] + [f"/api/search?q={m}" for m in top[:5]]
    return {
        "events": events,
        "vessel": [f"/api/vessels/{m}" for m in top],
        "track_30d": [f"/api/vessels/{LONG_MMSI}/track"],
        "track_1d": [f"/api/vessels/{m}/track" for m in top],
        "search": search,
    }


def load(base: str, paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=30) as c:
            c.get(paths[k % len(paths)])  # warm-up (connection, caches)
            j = k
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = c.get(paths[j % len(paths)])
                mine.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    with lock:
                        errors.append(f"{r.status_code} {paths[j % len(paths)]}")
                j += 1
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t, c0 = time.perf_counter(), time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall, cpu = time.perf_counter() - t, time.process_time() - c0
    q = np.percentile(lat, [50, 95]) if lat else [float("nan")] * 2
    # the clients' own CPU (this process, 20 threads sharing one interpreter): on loopback they
    # compete with the server for the same cores
    return {"requests": len(lat), "rps": len(lat) / wall, "p50_ms": float(q[0]), "p95_ms": float(q[1]),
            "max_ms": max(lat) if lat else None, "errors": len(errors), "error_examples": errors[:3],
            "client_cpu_ms_per_request": cpu * 1000 / max(1, len(lat) + clients)}


def proc_cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) of process ``pid`` so far, seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def single(base: str, path: str, n: int = 20) -> dict[str, Any]:
    """One client alone: the latency without queueing (median of n)."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as c:
        c.get(path)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t) * 1000)
        body = r.content
    return {"median_ms": statistics.median(times), "bytes": len(body)}


def cpu_per_request(base: str, pid: int, mix: dict[str, list[str]], repeats: int = 60) -> dict[str, Any]:
    """Server CPU per request (ms, from /proc, all threads), one client, sequential: each URL of a
    mix asked for the first time in this store state ("first visit"), then the mix asked again
    until ``repeats`` requests ("repeat": answered from the kept answers when they are on).

    Call on a freshly started server.  Warm-up requests that are not in the mix build what the
    server keeps per store state (the identities for search, the latest names, ...) first, so
    that "first" is the cost of a new URL, not of the first request after start (reported as
    ``warmup_cpu_ms``)."""
    import httpx

    out: dict[str, Any] = {}
    warm = ["/api/events?limit=1&offset=7", f"/api/vessels/{LONG_MMSI}", "/api/search?q=warm+up",
            f"/api/vessels/{LONG_MMSI}/track?simplify_m=7", "/api/search?q=ABCD+EFG"]
    with httpx.Client(base_url=base, timeout=120) as c:
        c0 = proc_cpu_s(pid)
        for w in warm:
            c.get(w)
        out["warmup_cpu_ms"] = (proc_cpu_s(pid) - c0) * 1000
        for name, paths in mix.items():
            c0, t0 = proc_cpu_s(pid), time.perf_counter()
            for p in paths:
                r = c.get(p)
                if r.status_code != 200:
                    raise SystemExit(f"{p}: {r.status_code} {r.text[:200]}")
            first_cpu, first_wall = (proc_cpu_s(pid) - c0) * 1000 / len(paths), (time.perf_counter() - t0) * 1000 / len(paths)
            n = max(repeats, len(paths))
            c0, t0 = proc_cpu_s(pid), time.perf_counter()
            for k in range(n):
                c.get(paths[k % len(paths)])
            out[name] = {"first_cpu_ms": first_cpu, "first_wall_ms": first_wall,
                         "repeat_cpu_ms": (proc_cpu_s(pid) - c0) * 1000 / n,
                         "repeat_wall_ms": (time.perf_counter() - t0) * 1000 / n, "urls": len(paths)}
    return out


def gate_comparison(db: Path, path: str, n: int = 40) -> dict[str, Any]:
    """Sequential requests in this process: the store kept open between requests (``linger_s``
    0.25 s, the default) against opened and closed for every request (``linger_s`` 0), wall and
    CPU time per request (median wall; CPU = process CPU / n)."""
    import resource

    from fastapi.testclient import TestClient

    from tumen.config import load_settings
    from tumen.serve import create_app

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    out = {}
    for label, linger in (("shared", 0.25), ("per_request", 0.0)):
        app = create_app(db, load_settings(overrides={"serve.linger_s": linger}, environ={}))
        with TestClient(app, base_url="http://127.0.0.1") as c:
            c.get(path)
            times = []
            c0 = cpu()
            for _ in range(n):
                t = time.perf_counter()
                c.get(path)
                times.append((time.perf_counter() - t) * 1000)
            out[label] = {"median_ms": statistics.median(times), "cpu_ms": (cpu() - c0) * 1000 / n,
                          "opens": app.state.gate.opens}
    out["ratio_wall"] = out["per_request"]["median_ms"] / out["shared"]["median_ms"]
    out["ratio_cpu"] = out["per_request"]["cpu_ms"] / out["shared"]["cpu_ms"]
    return out


def paths_comparison(db: Path, rounds: int = 3) -> dict[str, Any]:
    """The per-vessel and filtered reads, fast path against the direct query, in this process on
    one open store, alternating (CPU and wall per call, median over the vessels x rounds):

    * ``track``: ``queries.track`` of the 40 top-ranked vessels (~500 fixes each) and of the
      100 000-fix vessel, from ``positions_by_vessel`` (+ the later positions) vs a scan of
      ``positions`` (``covered=None``);
    * ``known``: the 404 check of an MMSI never heard, through the clustered table vs ``positions``;
    * ``names``: the latest names of a page of 100 events from the kept dict vs the query;
    * ``export``: ``/api/export?format=csv&type=gap`` through the app, filters in the events query
      (provenance read for the kept events only) vs the full export filtered afterwards.
    """
    import csv
    import io

    import duckdb
    from fastapi.testclient import TestClient

    from tumen.config import load_settings
    from tumen.export.evidence_csv import EVENT_COLUMNS, event_rows
    from tumen.serve import create_app, queries
    from tumen.store import DuckDBStore, by_vessel

    settings = load_settings(environ={})
    con = duckdb.connect(str(db), read_only=True)
    store = DuckDBStore.over(con.cursor(), db)
    covered = by_vessel.coverage(store)
    if covered is None:
        raise SystemExit(f"{db}: positions_by_vessel is not built (run tumen detect)")
    top = store.query("SELECT mmsi FROM risk WHERE score > 0 ORDER BY rank LIMIT 40").column("mmsi").to_pylist()
    page = store.query("SELECT mmsi, other_mmsi FROM events ORDER BY start LIMIT 100").to_pylist()
    page_mmsis = [r["mmsi"] for r in page] + [r["other_mmsi"] for r in page if r["other_mmsi"]]

    def timed(fn: Any) -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000

    def compare(calls: list[tuple[Any, Any]]) -> dict[str, Any]:
        fast_w, fast_c, slow_w, slow_c = [], [], [], []
        for _ in range(rounds):
            for fast, slow in calls:
                w, c = timed(fast)
                fast_w.append(w)
                fast_c.append(c)
                w, c = timed(slow)
                slow_w.append(w)
                slow_c.append(c)
        out = {"fast_ms": statistics.median(fast_w), "fast_cpu_ms": statistics.median(fast_c),
               "direct_ms": statistics.median(slow_w), "direct_cpu_ms": statistics.median(slow_c)}
        out["ratio_wall"] = out["direct_ms"] / max(out["fast_ms"], 1e-6)
        out["ratio_cpu"] = out["direct_cpu_ms"] / max(out["fast_cpu_ms"], 1e-6)
        return out

    def track_calls(mmsis: list[int]) -> list[tuple[Any, Any]]:
        kw = {"since": None, "until": None, "simplify_m": None}
        return [(lambda m=m: queries.track(store, settings, m, covered=covered, **kw),
                 lambda m=m: queries.track(store, settings, m, **kw)) for m in mmsis]

    res: dict[str, Any] = {"track_1d": compare(track_calls(top)), "track_30d": compare(track_calls([LONG_MMSI]))}
    unknown = 273_999_999
    res["known"] = compare([(
        lambda: store.query(f"SELECT 1 FROM {by_vessel.positions_sql(covered, 'mmsi = ?')[0]} p LIMIT 1", [unknown] * 2),
        lambda: store.query("SELECT 1 FROM positions WHERE mmsi = ? LIMIT 1", [unknown]),
    )])
    names = queries.all_latest_names(store)
    res["names"] = compare([(lambda: queries.latest_names(store, page_mmsis, names),
                             lambda: queries.latest_names(store, page_mmsis))])
    con.close()

    app = create_app(db, settings)
    with TestClient(app, base_url="http://127.0.0.1") as c, DuckDBStore(db, read_only=True) as st:
        def old_export() -> None:
            keep = queries.event_ids(st, queries.EventFilter(types=("gap",)))
            rows = [r for r in event_rows(st, settings) if r["event_id"] in keep]
            buf = io.StringIO()
            csv.DictWriter(buf, fieldnames=list(EVENT_COLUMNS), extrasaction="ignore").writerows(rows)

        res["export_csv_gap"] = compare([(lambda: c.get("/api/export", params={"format": "csv", "type": "gap"}),
                                          old_export)])
    return res


def map_paint(base: str, runs: int = 3) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(runs):
            ctx = b.new_context(viewport={"width": 1280, "height": 900})  # a cold cache each time
            page = ctx.new_page()
            sizes: list[int] = []
            page.on("requestfinished", lambda r, sizes=sizes: sizes.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
            page.goto(base + "/map")
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            page.wait_for_timeout(300)
            m = page.evaluate("""() => {
                const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                const ready = performance.getEntriesByName('tumen-map-ready')[0];
                return {fcp: fcp ? fcp.startTime : null, ready: ready ? ready.startTime : null,
                        requests: performance.getEntriesByType('resource').length + 1};
            }""")
            m["bytes"] = sum(sizes)
            out.append(m)
            ctx.close()
        b.close()
    return {
        "fcp_ms": statistics.median(r["fcp"] for r in out),
        "meaningful_ms": statistics.median(r["ready"] for r in out),
        "bytes": statistics.median(r["bytes"] for r in out),
        "requests": out[0]["requests"],
        "runs": out,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=float, default=10e6, help="positions (default 10 M)")
    ap.add_argument("--vessels", type=int, default=None, help="vessels (default positions / 500)")
    ap.add_argument("--db", type=Path, default=None, help="use this store (already detected and ranked)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--seconds", type=float, default=15.0, help="load per endpoint, seconds (default 15)")
    ap.add_argument("--gate-only", action="store_true", help="only compare a shared open with an open per request (needs --db)")
    ap.add_argument("--paths-only", action="store_true",
                    help="only compare the per-vessel and filtered reads with the direct queries (needs --db)")
    ap.add_argument("--load-only", action="store_true",
                    help="only the 20-client load (and one client alone): no in-process comparisons, no browser")
    ap.add_argument("--only", default=None, help="comma-separated endpoint mixes to load (events, vessel, track_30d, track_1d, search)")
    ap.add_argument("--server-src", type=Path, default=None,
                    help="run the server from this source tree's src/ (e.g. an older checkout, for before/after on one store)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    if args.gate_only:
        print(json.dumps(gate_comparison(args.db, "/api/events?type=encounter&limit=100"), indent=1))
        return 0
    if args.paths_only:
        print(json.dumps(paths_comparison(args.db), indent=1))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="tumen-bench-serve-"))
    res: dict[str, Any] = {"load_average_before": os.getloadavg(), "machine": f"{platform.machine()}, CPython {platform.python_version()}, {os.cpu_count()} cores",
                           "clients": args.clients, "seconds": args.seconds}
    try:
        db = args.db
        if db is None:
            db = tmp / "bench.duckdb"
            positions = int(args.positions)
            res["store"] = build(db, positions, args.vessels or positions // 500)
            print(json.dumps(res["store"]), file=sys.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, PYTHONPATH=str((args.server_src or ROOT) / "src"))
        res["server_src"] = str(args.server_src or ROOT)
        res["answers_kept"] = os.environ.get("TUMEN_SERVE__ANSWERS_KEPT", "default")
        server = subprocess.Popen([sys.executable, "-m", "tumen", "serve", "--db", str(db), "--port", str(port), "-q"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            import httpx

            for _ in range(600):
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            mix = urls(db)
            if args.only:
                mix = {k: v for k, v in mix.items() if k in args.only.split(",")}
            if not args.load_only:
                res["gate"] = gate_comparison(db, mix["events"][0])
                res["paths"] = paths_comparison(db)
            res["cpu"] = cpu_per_request(base, server.pid, mix)
            print("cpu", json.dumps(res["cpu"]), file=sys.stderr)
            res["single"] = {k: single(base, v[0]) for k, v in mix.items()}
            res["load"] = {}
            for name, paths in mix.items():
                c0 = proc_cpu_s(server.pid)
                res["load"][name] = load(base, paths, args.clients, args.seconds)
                cpu = proc_cpu_s(server.pid) - c0
                # the server's own CPU per request (warm-up requests included): machine load aside
                res["load"][name]["server_cpu_ms_per_request"] = cpu * 1000 / max(1, res["load"][name]["requests"] + args.clients)
                print(name, json.dumps(res["load"][name]), file=sys.stderr)
            res["load_average_after"] = os.getloadavg()
            if not args.load_only:
                res["map"] = map_paint(base)
                print("map", json.dumps({k: v for k, v in res["map"].items() if k != "runs"}), file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
