"""Helpers of the serve tests: stores built from the simulated scenario, a hostile vessel,
a real `tumen serve` process, and a writer of alerts (as `tumen watch` writes them).

``build_store`` is tests/scenario_store.py's store (five vessels, the planted Rajin–Dunai
shuttle ANGARA), screened against the bundled demo list and ranked.  ``add_hostile_vessel``
adds a vessel whose every string (name, call sign, destination, flag, port, match caption,
features, ownership path, list entry) is markup.  ``Server`` runs ``tumen serve`` as a real
uvicorn process on 127.0.0.1 and a free port.
"""


from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa

from scenario_store import ANGARA, MATCHES_DDL, build_scenario_store
from tumen.config import load_settings
from tumen.risk import rank_vessels
from tumen.screen import demo_list_path
from tumen.screen.lists import load_lists
from tumen.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[2]

#: Markup that would run if any page treated data as HTML: each sets window.__xss.
HOSTILE = (
    '<img src=x onerror="window.__xss=1">',
    "</script><script>window.__xss=2</script>",
    "<!--<script>window.__xss=3</script>",
    '"><svg onload="window.__xss=4">',
)
HOSTILE_MMSI = 273999999
#: what the in-process test client calls the server (a loopback name, as the host check wants)
BASE = "http://127.0.0.1:8000"


def build_store(folder: Path) -> tuple[Path, object]:
    """The scenario store, screened and ranked; returns (db path, Scenario)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.duckdb"
    store = DuckDBStore(db)
    scenario = build_scenario_store(store, folder / "raw")
    load_lists(store, [demo_list_path()])
    rank_vessels(store, load_settings(environ={}))
    store.close()
    return db, scenario




def add_hostile_vessel(db: Path, folder: Path) -> None:
    """Add a vessel, its positions, events, a match and a list entry whose strings are all markup."""
    t0 = datetime(2024, 1, 10, 0, 0)
    store = DuckDBStore(db)
    n = 30
    store.append(
        "positions",
        pa.table(
            {
                "pos_id": list(range(900_000, 900_000 + n)),
                "mmsi": [HOSTILE_MMSI] * n,
                "ts": [t0 + timedelta(minutes=10 * i) for i in range(n)],
                "lat": [41.9 + 0.01 * i for i in range(n)],
                "lon": [131.9 + 0.01 * i for i in range(n)],
                "source_id": pa.array([1] * n, pa.int32()),
                "line_no": [1] * n,
                "line_first": [1] * n,
            }
        ),
    )
    store.append(
        "statics",
        pa.table(
            {
                "static_id": [990_000 + i for i in range(len(HOSTILE))],
                "mmsi": [HOSTILE_MMSI] * len(HOSTILE),
                "ts": [t0 + timedelta(hours=i) for i in range(len(HOSTILE))],
                "imo": [9179842] * len(HOSTILE),
                "name": list(HOSTILE),
                "callsign": list(reversed(HOSTILE)),
                "destination": list(HOSTILE),
                "flag": list(HOSTILE),
                "source_id": pa.array([1] * len(HOSTILE), pa.int32()),
                "line_no": [2] * len(HOSTILE),
                "line_first": [2] * len(HOSTILE),
            }
        ),
    )
    evidence = {"detector": "loitering", "params": {}, "position_ids": [900_000, 900_001],
                "duration_h": HOSTILE[0], "before": {"name": HOSTILE[1]}}
    store.append(
        "events",
        pa.Table.from_pylist(
            [
                {
                    "event_id": f"hostile{i}",
                    "type": t,
                    "subtype": None,
                    "mmsi": HOSTILE_MMSI,
                    "other_mmsi": None,
                    "start": t0 + timedelta(hours=i),
                    "end": t0 + timedelta(hours=i + 2),
                    "lat": 41.95,
                    "lon": 131.95,
                    "port": HOSTILE[i % len(HOSTILE)],
                    "from_port": HOSTILE[(i + 1) % len(HOSTILE)],
                    "to_port": HOSTILE[(i + 2) % len(HOSTILE)],
                    "detector": "loitering",
                    "params": "{}",
                    "evidence": json.dumps(evidence),
                    "tumen_version": "0.1.0",
                    "detected_at": t0,
                }
                for i, t in enumerate(("loitering", "port_visit", "voyage"))
            ]
        ),
    )
    store.execute(MATCHES_DDL)
    store.append(
        "matches",
        pa.Table.from_pylist(
            [
                {
                    "mmsi": HOSTILE_MMSI, "imo": 9179842, "name": HOSTILE[0], "role": role,
                    "entity_id": HOSTILE[2], "caption": HOSTILE[1], "schema": "Vessel",
                    "score": 0.99, "match": True,
                    "features": json.dumps({HOSTILE[0]: {"score": 1.0, "detail": HOSTILE[3]}}),
                    "datasets": json.dumps([HOSTILE[3]]), "programs": json.dumps([HOSTILE[0]]),
                    "designation": json.dumps([{"authority": HOSTILE[1], "program": HOSTILE[2]}]),
                    "path": json.dumps([{"from": HOSTILE[0], "to": HOSTILE[1], "role": HOSTILE[2], "source": HOSTILE[3]}]),
                    "screened_at": t0,
                }
                for role in ("vessel", "owner")
            ]
        ),
    )
    ftm = folder / "hostile.ftm.json"
    ftm.write_text(
        json.dumps({"id": "hostile-1", "schema": "Vessel", "properties": {"name": [HOSTILE[0], "HOSTILE SHIP"], "imoNumber": ["IMO9179842"]}})
        + "\n",
        encoding="utf-8",
    )
    load_lists(store, [ftm])
    add_hostile_observation(store, t0)
    rank_vessels(store, load_settings(environ={}))
    store.close()


def add_hostile_observation(store: DuckDBStore, t0: datetime) -> None:
    """An observation (tumen observe) of the hostile vessel whose every string is markup."""
    from tumen.observe.ledger import OBSERVATIONS_SCHEMA

    row = {
        "obs_id": 1, "vessel": HOSTILE[0], "mmsi": HOSTILE_MMSI, "imo": 9179842, "name": HOSTILE[1],
        "ts": t0 + timedelta(hours=1), "lat": 41.96, "lon": 131.96, "port": HOSTILE[2],
        "uncertainty_km": 1.0, "kind": "imagery", "source": HOSTILE[0], "note": HOSTILE[3],
        "confidence": "high", "attachment": None, "attachment_sha256": None, "attachment_bytes": None,
        "added_by": HOSTILE[1], "added_at": t0, "origin": "cli", "tumen_version": "0.1.0",
        "seen_name": HOSTILE[2], "seen_imo": None,
    }
    store.append("observations", pa.Table.from_pylist([row], schema=OBSERVATIONS_SCHEMA))




def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``tumen serve`` process on 127.0.0.1 (ended when the fixture ends)."""

    def __init__(self, db: Path, *extra: str, env: dict[str, str] | None = None, token: str | None = None) -> None:
        self.token = token
        #: headers a client needs (the bearer token when the server has one)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        if token:
            extra = (*extra, "--token", token)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), environ.get("PYTHONPATH", "")])
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tumen", "serve", "--db", str(db), "--port", str(self.port), "-q", *extra],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tumen serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                if httpx.get(self.url + "/api/ports", headers=self.headers, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("tumen serve did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()




def add_alerts(db: Path, first_seq: int, n: int) -> None:
    """Write alerts as `tumen watch` does: open the store, write, close; retry while a reader holds it."""
    from tumen.errors import StoreError

    deadline = time.monotonic() + 20
    while True:
        try:
            store = DuckDBStore(db)
            break
        except (StoreError, duckdb.Error):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    with store:
        for i in range(first_seq, first_seq + n):
            body = {"alert_id": f"a{i}", "rule": "dark_near_port", "mmsi": ANGARA, "summary": f"alert {i}"}
            store.execute(
                "INSERT INTO alerts (seq, alert_id, rule, raised_at, is_update, mmsi, event_id, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [i, f"a{i}", "dark_near_port", datetime(2024, 1, 11) + timedelta(hours=i), i % 2 == 0, ANGARA, None, json.dumps(body)],
            )
