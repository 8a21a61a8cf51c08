"""Benchmark: tumen's full ingest against a plain pyais decode loop over the same lines.

    python bench/ingest.py                     # 4 million sentences, writes BENCHMARKS.md
    python bench/ingest.py --sentences 500000  # quicker
    python bench/ingest.py --keep /tmp/bench   # keep the generated file and store

What is measured
----------------
A file of several million NMEA sentences is made from (a) every AIS sentence of the real
captures in ``../shared/data/ais/nmea`` (all message types, multi-part messages, the odd
broken one) and (b) messages made by pyais' encoder (types 1, 2, 3, 4, 5, 9, 18, 19, 21,
24 and 27 with random fields), each sentence framed as an aggregator writes it:
``\\s:STATION,c:UNIX*hh\\!AIVDM,...``, times increasing.  The pool is repeated, each copy
later in time, up to ``--sentences``.

* **tumen**: ``tumen.ingest.ingest_paths`` into a fresh DuckDB file -- parse, checksum,
  assemble, decode, dedupe, store, count every line -- timed from call to return.
* **pyais**: ``for msg in pyais.stream.FileReaderStream(path): msg.decode()`` -- the plain
  loop (pyais reads the tag blocks and assembles multi-part messages itself), nothing else.

Each runs in its own child process (so the peak resident memory measured, sampled from
``/proc/self/status`` every 20 ms, is its own).  Both read the same file; speeds are NMEA
sentences per second of wall time.  The figures and the command go to ``BENCHMARKS.md``
(section between ``<!-- bench:ingest -->`` markers) and to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = re.compile(rb"![A-Z0-9-]{2}VD[MO],[^*\\!]*\*[0-9A-Fa-f]{2}")
STATIONS = ["rORBCOMM008", "42809", "2190067", "AISD", "r003669946", "MSSIS", "rMT2083", "FM112"]


def _shared_data() -> Path | None:
    env = os.environ.get("TUMEN_SHARED_DATA")
    if env:
        return Path(env)
    for parent in [ROOT, *ROOT.parents]:
        if (parent / "shared" / "data" / "ais").is_dir():
            return parent / "shared" / "data"
    return None


def _capture_sentences(data: Path) -> list[bytes]:
    """Every AIS sentence of the real captures, in file order (fragments stay adjacent)."""
    import gzip

    out: list[bytes] = []
    for path in sorted((data / "ais" / "nmea").iterdir()):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for line in raw.split(b"\n"):
            if line.lstrip().startswith(b"#"):
                continue
            out.extend(m.group(0) for m in SENTENCE.finditer(line))
    return out


def _encoded_sentences(n: int, seed: int) -> list[bytes]:
    """``n`` messages from pyais' encoder with random fields (about 8 % static reports)."""
    from pyais import encode_dict

    rng = random.Random(seed)
    fleet = [rng.randrange(200_000_000, 775_999_999) for _ in range(3000)]
    out: list[bytes] = []
    while len(out) < n:
        mmsi = rng.choice(fleet)
        lat, lon = round(rng.uniform(-60, 70), 5), round(rng.uniform(-180, 180), 5)
        t = rng.choices(
            [1, 2, 3, 18, 5, 24, 19, 27, 4, 9, 21], weights=[40, 4, 12, 15, 5, 3, 1, 1, 3, 1, 2]
        )[0]
        d: dict[str, object] = {"type": t, "mmsi": mmsi}
        if t in (1, 2, 3, 18, 19, 4, 9, 21, 27):
            d.update(lat=lat, lon=lon)
        if t in (1, 2, 3, 18, 19, 9):
            d.update(
                speed=round(rng.uniform(0, 25), 1),
                course=round(rng.uniform(0, 359), 1),
                second=rng.randrange(60),
            )
        if t in (1, 2, 3, 18, 19):
            d.update(heading=rng.randrange(360))
        if t in (5, 19, 24):
            d.update(shipname=f"VESSEL {mmsi % 10000}", ship_type=rng.choice([30, 52, 60, 70, 80]))
        if t == 5:
            d.update(
                imo=rng.randrange(7_000_000, 9_999_999),
                callsign="UABC",
                destination="VOSTOCHNY",
                draught=6.4,
            )
        if t == 24:
            d.update(partno=rng.randrange(2))
        if t == 21:
            d.update(name="BUOY", aid_type=1)
        seq = rng.randrange(10) if t in (5, 19) else None
        out.extend(
            s.encode()
            for s in encode_dict(
                d, talker_id="AI", sentence_type="VDM", radio_channel="AB"[len(out) % 2], seq_id=seq
            )
        )
    return out


def _tag(station: str, t: int) -> bytes:
    body = f"s:{station},c:{t}"
    return f"\\{body}*{reduce(xor, body.encode(), 0):02X}\\".encode()


def make_file(path: Path, n_sentences: int, seed: int = 0) -> dict[str, int]:
    """Write the benchmark file; returns its composition."""
    data = _shared_data()
    real = _capture_sentences(data) if data else []
    synthetic = _encoded_sentences(max(200_000, len(real) // 2), seed)
    pool = real + synthetic
    t0 = int(datetime(2024, 1, 10, tzinfo=UTC).timestamp())
    written = 0
    copy = 0
    with open(path, "wb") as fh:
        while written < n_sentences:
            # each copy of the pool lies one day after the previous one (no duplicates across copies)
            base = t0 + copy * 86_400
            lines = []
            for i, s in enumerate(pool):
                if written + len(lines) >= n_sentences and s.split(b",", 3)[2] == b"1":
                    break  # enough, and not inside a multi-part message
                lines.append(_tag(STATIONS[i % len(STATIONS)], base + i // 20) + s)
            fh.write(b"\n".join(lines) + b"\n")
            written += len(lines)
            copy += 1
    return {
        "sentences": written,
        "real_sentences_in_pool": len(real),
        "synthetic_in_pool": len(synthetic),
    }


# ----------------------------------------------------------------------------- child runs
class PeakRSS:
    """Sample this process's resident memory every ``every`` seconds; keep the peak (bytes)."""

    def __init__(self, every: float = 0.02):
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def run_tumen(path: Path, db: Path) -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "src"))
    import resource

    from tumen.config import load_settings
    from tumen.ingest import ingest_paths
    from tumen.store import DuckDBStore

    settings = load_settings(environ={})
    with PeakRSS() as mem:
        t = time.perf_counter()
        with DuckDBStore(db) as store:
            report = ingest_paths(store, [path], settings)
        seconds = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu_main": own.ru_utime + own.ru_stime,
        "cpu_reader": kids.ru_utime + kids.ru_stime,
        "peak_rss": mem.peak,
        "lines": report.lines,
        "stored": report.stored,
        "duplicates": report.duplicates,
        "quarantined": report.quarantined,
        "rows": report.rows,
        "reasons": report.reasons,
    }


def run_pyais(path: Path) -> dict[str, object]:
    from pyais.stream import FileReaderStream

    ok = failed = 0
    with PeakRSS() as mem:
        t = time.perf_counter()
        for msg in FileReaderStream(str(path)):
            try:
                msg.decode()
                ok += 1
            except Exception:  # noqa: BLE001 - the plain loop skips what pyais refuses
                failed += 1
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_rss": mem.peak, "decoded": ok, "failed": failed}


def _child(args: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}, load average {load} at start"


def _section(fig: dict[str, object]) -> str:
    t, p = fig["tumen"], fig["pyais"]
    assert isinstance(t, dict) and isinstance(p, dict)
    n = fig["sentences"]
    tu, py = n / t["seconds"], n / p["seconds"]
    return "\n".join(
        [
            "<!-- bench:ingest -->",
            "## Ingest: tumen vs a plain pyais loop (`bench/ingest.py`)",
            "",
            f"Command: `{fig['command']}`  ",
            f"Machine: {fig['machine']}  ",
            f"Date: {fig['date']}; Python {platform.python_version()}, pyais {fig['pyais_version']}, DuckDB {fig['duckdb_version']}",
            "",
            f"Input: {n:,} NMEA sentences on {t['lines']:,} lines ({fig['file_mb']:.0f} MB), tag-blocked "
            f"(`\\s:…,c:…*hh\\!AIVDM…`): every sentence of the 29 real captures and pyais-encoded messages, "
            "repeated a day apart.",
            "",
            "| | wall time | sentences/s | peak RSS |",
            "|---|---:|---:|---:|",
            f"| tumen `ingest_paths` (parse, checksum, assemble, decode, dedupe, DuckDB store, line accounting) | "
            f"{t['seconds']:.1f} s | {tu:,.0f} | {t['peak_rss'] / 2**20:,.0f} MiB |",
            f"| plain pyais loop (`FileReaderStream` + `decode()`) | {p['seconds']:.1f} s | {py:,.0f} | "
            f"{p['peak_rss'] / 2**20:,.0f} MiB |",
            f"| **ratio tumen / pyais** | | **{tu / py:.1f}×** | |",
            "",
            f"tumen's outcome: {t['stored']:,} lines stored, {t['duplicates']:,} duplicates, {t['quarantined']:,} "
            f"quarantined; rows {t['rows']}.  pyais decoded {p['decoded']:,} messages and refused {p['failed']:,}.",
            "",
            f"Where tumen's time goes (CPU seconds): the reading process (read, parse, checksum, assemble, "
            f"decode; `tumen.ingest.workers`) {t['cpu_reader']:.1f} s, the main process (rows, dedupe, DuckDB "
            f"appends, line accounting) {t['cpu_main']:.1f} s; the two run side by side on the two cores.  "
            "In the main process about half is DuckDB appending rows (one thread, `positions` dominating); "
            "in the reading process about two thirds is parsing the lines.",
            "<!-- /bench:ingest -->",
        ]
    )


def _write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"<!-- bench:ingest -->.*?<!-- /bench:ingest -->", re.S)
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sentences", type=int, default=4_000_000, help="NMEA sentences in the file (count)"
    )
    ap.add_argument("--keep", type=Path, help="folder to keep the file and the store in")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "BENCHMARKS.md", help="Markdown file to update"
    )
    ap.add_argument("--child", nargs=2, metavar=("WHICH", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        which, file = a.child
        res = run_tumen(Path(file), a.db) if which == "tumen" else run_pyais(Path(file))
        print(json.dumps(res))
        return
    import duckdb
    import pyais

    folder = a.keep or Path(tempfile.mkdtemp(prefix="tumen-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.nmea"
    db = folder / "bench.duckdb"
    machine = _machine()
    print(f"making {a.sentences:,} sentences in {path} ...", flush=True)
    comp = make_file(path, a.sentences)
    if db.exists():
        db.unlink()
    print("tumen ingest ...", flush=True)
    tumen = _child(["--child", "tumen", str(path), "--db", str(db)])
    print("plain pyais loop ...", flush=True)
    plain = _child(["--child", "pyais", str(path)])
    fig = {
        "command": "python bench/ingest.py"
        + ("" if a.sentences == 4_000_000 else f" --sentences {a.sentences}"),
        "machine": machine,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "pyais_version": pyais.__version__,
        "duckdb_version": duckdb.__version__,
        "sentences": comp["sentences"],
        "file_mb": path.stat().st_size / 2**20,
        "tumen": tumen,
        "pyais": plain,
    }
    section = _section(fig)
    print(section)
    _write_section(a.out, section)
    if not a.keep:
        path.unlink()
        db.unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    main()
