"""Real sockets on 127.0.0.1, a real growing file with rotation, a real HTTP receiver for the webhook.

Every test waits for an event (a batch committed with the expected line count, a request
received), never for a fixed time, and is bounded (timeouts).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from watch_helpers import rules_of

from tumen.store import DuckDBStore
from tumen.watch.feeds import FollowFeed, ReplayFeed, listen_tcp_feed, tcp_feed, udp_feed

N = 3000


@pytest.fixture(scope="module")
def sample(day) -> list[bytes]:
    """The first N lines of the simulated day (tag-block times, some damaged, some multi-part)."""
    with open(day.nmea, "rb") as fh:
        return [fh.readline().rstrip(b"\n") for _ in range(N)]


def _rules(tmp_path: Path):
    return rules_of('[[rules]]\nname = "anything"\n', tmp_path)


def _sources(db: Path) -> list[dict]:
    with DuckDBStore(db, read_only=True) as store:
        return store.query(
            "SELECT path, sha256, lines, stored, duplicates, quarantined, params FROM sources ORDER BY source_id"
        ).to_pylist()


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_feed_reconnects_after_a_drop_and_loses_nothing(sample, watch, tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.settimeout(30)
    half = N // 2

    def serve() -> None:
        for part in (sample[:half], sample[half:]):  # two connections: the first is dropped
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"\r\n".join(part) + b"\r\n")
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1)  # until the client closes its side (after it saw the end)
        server.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    messages: list[str] = []
    run = watch(
        [tcp_feed(f"127.0.0.1:{port}", tmp_path / "spool", 5.0)],
        _rules(tmp_path),
        messages=messages,
        batch_s=0.2,
    )
    run.until(lambda r: r.lines >= N)
    report = run.stop()
    t.join(timeout=30)
    assert report.lines == N == report.stored + report.duplicates + report.quarantined
    assert any("dropped" in m and "reconnecting" in m for m in messages), messages
    assert sum("connected" in m and "dis" not in m for m in messages) >= 2
    rows = _sources(tmp_path / "t.duckdb")
    assert sum(r["lines"] for r in rows) == N
    for r in rows:  # each batch cites its spool file, its hash and the feed's address and window
        assert Path(r["path"]).is_file()
        w = json.loads(r["params"])["watch"]
        assert w["address"] == f"tcp://127.0.0.1:{port}" and w["received"][0] <= w["received"][1]
    # the journal holds the lines as received (bare sentences get a receive-time prefix)
    journal = (
        (tmp_path / "spool" / f"tcp-127.0.0.1-{port}" / "journal.nmea").read_bytes().splitlines()
    )
    bare = [i for i, line in enumerate(sample) if line.startswith(b"!")]
    assert bare  # the sample has a few (damaged lines without their tag block)
    assert [re.sub(rb"^\d{10}\.\d{3},(?=!)", b"", x) for x in journal] == sample
    assert all(re.match(rb"^\d{10}\.\d{3},!", journal[i]) for i in bare)


def test_udp_feed(sample, watch, tmp_path: Path) -> None:
    port = _free_port(socket.SOCK_DGRAM)
    feed = udp_feed(f"127.0.0.1:{port}", tmp_path / "spool")
    run = watch([feed], _rules(tmp_path), batch_s=0.2)
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(0, 600, 3):  # three lines per datagram, as some receivers send
            s.sendto(b"\n".join(sample[i : i + 3]) + b"\n", ("127.0.0.1", port))
            sent += 3  # 200 small datagrams: far below the 4 MiB receive buffer, none dropped
    run.until(lambda r: r.lines >= sent)
    report = run.stop()
    assert report.lines == sent == report.stored + report.duplicates + report.quarantined


def test_listen_tcp_accepts_feeders(sample, watch, tmp_path: Path) -> None:
    port = _free_port()
    feed = listen_tcp_feed(f"127.0.0.1:{port}", tmp_path / "spool")
    run = watch([feed], _rules(tmp_path), batch_s=0.2)
    for part in (sample[:1000], sample[1000:1500]):  # two feeders, one after the other
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"\n".join(part) + b"\n")
    run.until(lambda r: r.lines >= 1500)
    report = run.stop()
    assert report.lines == 1500


def test_follow_a_growing_file_across_rotation(sample, watch, tmp_path: Path) -> None:
    log = tmp_path / "ais.log"
    log.write_bytes(b"\n".join(sample[:500]) + b"\n")
    messages: list[str] = []
    run = watch([FollowFeed(log)], _rules(tmp_path), messages=messages, batch_s=0.2)
    run.until(lambda r: r.lines >= 500)
    with open(log, "ab") as fh:  # the logger writes on, half a line at a time
        fh.write(b"\n".join(sample[500:900]) + b"\n" + sample[900][:20])
        fh.flush()
        fh.write(sample[900][20:] + b"\n")
    run.until(lambda r: r.lines >= 901)
    os.rename(log, tmp_path / "ais.log.1")  # rotation: a new file at the path
    with open(tmp_path / "ais.log.1", "ab") as fh:  # the last lines of the old file
        fh.write(b"\n".join(sample[901:1000]) + b"\n")
    log.write_bytes(b"\n".join(sample[1000:1400]) + b"\n")
    run.until(lambda r: r.lines >= 1400)
    report = run.stop()
    assert report.lines == 1400 == report.stored + report.duplicates + report.quarantined
    assert any("rotated" in m for m in messages)
    with DuckDBStore(tmp_path / "t.duckdb", read_only=True) as store:
        spooled = b"".join(
            Path(p).read_bytes()
            for (p,) in store.con.execute("SELECT path FROM sources ORDER BY source_id").fetchall()
        )
    assert spooled.splitlines() == sample[:1400]  # every line once, in order


class _Receiver:
    """An HTTP server on 127.0.0.1 that records POSTed bodies; answers 500 to the first one."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.fail_first = True
        self.cond = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with owner.cond:
                    if owner.fail_first:
                        owner.fail_first = False
                        self.send_response(500)
                    else:
                        owner.bodies.append(body)
                        self.send_response(204)
                    owner.cond.notify_all()
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhook_posts_every_alert_with_retries(day, watch, tmp_path: Path) -> None:
    receiver = _Receiver()
    try:
        rules = rules_of('[[rules]]\nname = "encounters"\nevent = "encounter"\n', tmp_path)
        messages: list[str] = []
        out = tmp_path / "alerts.jsonl"
        run = watch(
            [ReplayFeed(day.nmea, speed=0)],
            rules,
            alerts=out,
            webhook=receiver.url,
            ports=day.ports,
            until_end=True,
            messages=messages,
            batch_lines=5000,
        )
        run.thread.join(timeout=300)
        report = run.stop()
    finally:
        receiver.close()
    assert report.alerts >= 2
    assert receiver.bodies == out.read_text().splitlines()  # every alert once, in order
    assert any("HTTP 500" in m and "retrying" in m for m in messages)


def test_lines_journaled_before_a_crash_are_ingested_on_restart(
    sample, watch, tmp_path: Path
) -> None:
    """A network feed's journal holds lines read but not yet committed when the process died."""
    port = _free_port()
    feed = listen_tcp_feed(f"127.0.0.1:{port}", tmp_path / "spool")
    feed.dir.mkdir(parents=True)
    feed.journal.write_bytes(b"\n".join(sample[:500]) + b"\n")  # as a killed watch left it
    run = watch([feed], _rules(tmp_path), batch_s=0.2)
    run.until(lambda r: r.lines >= 500)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:  # then the live feed
        c.sendall(b"\n".join(sample[500:700]) + b"\n")
    run.until(lambda r: r.lines >= 700)
    report = run.stop()
    assert report.lines == 700 == report.stored + report.duplicates + report.quarantined
    # restarted with everything consumed: the journal is not read again
    feed2 = listen_tcp_feed(f"127.0.0.1:{port}", tmp_path / "spool")
    assert feed2.key == feed.key
    run2 = watch([feed2], _rules(tmp_path), batch_s=0.2)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"\n".join(sample[700:710]) + b"\n")
    run2.until(lambda r: r.lines >= 10)
    assert run2.stop().lines == 10
    assert sum(r["lines"] for r in _sources(tmp_path / "t.duckdb")) == 710


def test_the_store_is_released_between_batches(sample, watch, tmp_path: Path) -> None:
    """A reader (``tumen serve``) can open the store read-only while watch runs, between batches."""
    port = _free_port()
    run = watch(
        [listen_tcp_feed(f"127.0.0.1:{port}", tmp_path / "spool")], _rules(tmp_path), batch_s=0.2
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"\n".join(sample[:300]) + b"\n")
        run.until(lambda r: r.lines >= 300)
        reader = DuckDBStore(tmp_path / "t.duckdb", read_only=True)  # watch is still running
        try:
            assert reader.scalar("SELECT sum(lines) FROM sources") == 300
            assert reader.table_exists("alerts")  # the table `tumen serve` polls
            c.sendall(b"\n".join(sample[300:400]) + b"\n")  # lines arriving meanwhile wait
            assert run.thread.is_alive()
        finally:
            reader.close()
        run.until(lambda r: r.lines >= 400)  # ... and are committed
    assert run.stop().lines == 400
