"""Reading while a writer writes: a real writer process opens, writes and closes the store
between micro-batches (as `tumen watch` does) while requests go on; and the alert stream."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from serve_helpers import BASE, add_alerts

from tumen.config import load_settings
from tumen.serve import create_app

WRITER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    db, first, n, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    def connect():
        deadline = time.monotonic() + 20
        while True:
            try:
                return duckdb.connect(db)
            except duckdb.IOException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
    for i in range(first, first + n):
        con = connect()
        con.execute("INSERT INTO alerts (seq, alert_id, rule, raised_at, is_update, mmsi, event_id, body) "
                    "VALUES (?, ?, 'gap', TIMESTAMP '2024-01-12', false, 273111110, NULL, ?)",
                    [i, f"w{i}", json.dumps({"seq": i})])
        con.close()
        print(i, flush=True)
        time.sleep(pause)
    """
)

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def test_reads_go_on_while_a_writer_opens_writes_and_closes(tmp_path: Path) -> None:
    from serve_helpers import build_store

    db, _ = build_store(tmp_path / "s")
    n = 12
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "1", str(n), "0.02"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # a reader shares one open of the store for at most hold_s: then the writer gets a turn
    app = create_app(db, load_settings(overrides={"serve.hold_s": 0.2}, environ={}))
    statuses: list[int] = []
    seen: list[int] = []
    with TestClient(app, base_url=BASE) as c:
        deadline = time.monotonic() + 60
        while writer.poll() is None and time.monotonic() < deadline:
            r = c.get("/api/alerts", params={"limit": 1000})
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert r.headers["retry-after"] and r.json()["status"] == 503
            else:
                assert r.status_code == 200, r.text
                seen.append(len(r.json()["alerts"]))
            assert c.get("/api/events", params={"limit": 5}).status_code in (200, 503)
        out, err = writer.communicate(timeout=30)
        assert writer.returncode == 0, err  # the writer was never locked out
        assert out.split() == [str(i) for i in range(1, n + 1)]
        assert statuses.count(200) >= 1
        assert seen == sorted(seen)  # each read sees what was committed before it, never less
        assert len(set(seen)) >= 2  # reads ran between the writes, not only before or after
        final = c.get("/api/alerts", params={"limit": 1000}).json()
        assert [a["seq"] for a in final["alerts"]] == list(range(1, n + 1))


def test_a_writer_holding_the_store_too_long_gets_503_with_retry_after(tmp_path: Path) -> None:
    from serve_helpers import build_store

    db, _ = build_store(tmp_path / "s")
    settings = load_settings(overrides={"serve.lock_wait_s": 0.3}, environ={})
    app = create_app(db, settings)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with TestClient(app, base_url=BASE) as c:
            r = c.get("/api/events")
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert r.json()["status"] == 503 and "writer" in r.json()["error"]
            assert c.get("/healthz").json()["status"] == "busy"
            holder.wait(timeout=20)
            assert c.get("/api/events").status_code == 200
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def _events(lines: list[str]) -> list[dict]:
    out, cur = [], {}
    for line in lines:
        if line == "":
            if cur:
                out.append(cur)
            cur = {}
        elif line.startswith(":"):
            out.append({"comment": line})
        else:
            k, _, v = line.partition(": ")
            cur[k] = v
    return out


def _write_alerts(db: Path, first: int, n: int) -> None:
    add_alerts(db, first, n)  # opens, writes, closes; retries while the server holds the store


def test_alert_stream_sends_new_alerts_resumes_after_last_event_id_and_keeps_alive(server, scenario_db) -> None:
    db = scenario_db[0]
    _write_alerts(db, 1, 3)
    with httpx.stream("GET", server.url + "/api/alerts/stream", params={"after_seq": 0, "max_s": 2.5},
                      headers=server.headers, timeout=20) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        got = _events(list(r.iter_lines()))
    alerts = [e for e in got if e.get("event") == "alert"]
    assert [int(e["id"]) for e in alerts] == [1, 2, 3]
    assert json.loads(alerts[0]["data"])["body"]["summary"] == "alert 1"
    assert any("keep-alive" in e.get("comment", "") for e in got)
    assert got[-1].get("event") == "end"

    with httpx.stream("GET", server.url + "/api/alerts/stream", params={"max_s": 1.5},
                      headers={"Last-Event-ID": "2", **server.headers}, timeout=20) as r:
        resumed = [int(e["id"]) for e in _events(list(r.iter_lines())) if e.get("event") == "alert"]
    assert resumed == [3]

    # a live stream (from "now") receives an alert written while it is open
    later = threading.Timer(0.8, _write_alerts, args=(db, 4, 1))
    later.start()
    with httpx.stream("GET", server.url + "/api/alerts/stream", params={"max_s": 3.5}, headers=server.headers, timeout=20) as r:
        live = [int(e["id"]) for e in _events(list(r.iter_lines())) if e.get("event") == "alert"]
    later.join()
    assert live == [4]
    bad = httpx.get(server.url + "/api/alerts/stream", headers={"Last-Event-ID": "x", **server.headers}, timeout=10)
    assert bad.status_code == 422 and bad.json()["param"] == "Last-Event-ID"


def test_token_on_a_real_server_401_without_200_with(server) -> None:
    assert server.token  # started with --token
    assert httpx.get(server.url + "/api/vessels", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer " + server.token[:-1]}
    assert httpx.get(server.url + "/api/vessels", headers=wrong, timeout=10).status_code == 401
    ok = httpx.get(server.url + "/api/vessels", headers=server.headers, timeout=10)
    assert ok.status_code == 200 and ok.json()["total"] == 5


def test_non_loopback_bind_without_token_is_refused_with_one_line(cli, scenario_db) -> None:
    code, out, err = cli("serve", "--db", scenario_db[0], "--host", "0.0.0.0")
    assert code == 3 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--token" in err and "0.0.0.0" in err


@pytest.mark.parametrize("host", ["192.168.1.5", "example.org", "::"])
def test_other_non_loopback_hosts_are_refused_too(cli, scenario_db, host) -> None:
    code, _, err = cli("serve", "--db", scenario_db[0], "--host", host)
    assert code == 3 and "TUMEN_SERVE__TOKEN" in err


def test_serve_needs_an_existing_store(cli, tmp_path) -> None:
    code, _, err = cli("serve", "--db", tmp_path / "absent.duckdb")
    assert code == 4 and "no such store" in err
