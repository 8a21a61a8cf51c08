"""kill -9 in the middle of a replay, restart with the same arguments: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watch_helpers import rules_of

from tumen.store import DuckDBStore


def _args(day, rules: Path, where: Path) -> list[str]:
    return [
        "watch",
        "--replay",
        str(day.nmea),
        "--speed",
        "20000",
        "--batch-s",
        "0.5",
        "--until-end",
        "--rules",
        str(rules),
        "--alerts",
        str(where / "alerts.jsonl"),
        "--db",
        str(where / "t.duckdb"),
        "--ports",
        str(day.ports),
        "-q",
    ]


def _accounting(db: Path) -> tuple[int, int, int, int, int, list[str]]:
    with DuckDBStore(db, read_only=True) as store:
        lines, stored, dup, quar = store.con.execute(
            "SELECT sum(lines), sum(stored), sum(duplicates), sum(quarantined) FROM sources"
        ).fetchone()
        positions = store.scalar("SELECT count(*) FROM positions")
        bodies = [
            b for (b,) in store.con.execute("SELECT body FROM alerts ORDER BY seq").fetchall()
        ]
    return int(lines), int(stored), int(dup), int(quar), int(positions), bodies


@pytest.mark.slow
def test_kill_9_then_restart_loses_and_doubles_nothing(day, cli, tmp_path: Path) -> None:
    rules_of(
        """
        [[rules]]
        name = "everything"
        """,
        tmp_path,
    )
    rules = tmp_path / "rules.toml"
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    ref.mkdir()
    cut.mkdir()

    code, _out, err = cli(*_args(day, rules, ref))
    assert code == 0, err

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tumen", *_args(day, rules, cut)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    alerts = cut / "alerts.jsonl"
    deadline = time.monotonic() + 120
    try:
        # wait until the run is under way (some alerts written), then kill it without warning
        while not (alerts.exists() and alerts.read_bytes().count(b"\n") >= 3):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the replay wrote no alert in 120 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    killed_at = alerts.read_text().count("\n")
    reference = (ref / "alerts.jsonl").read_text()
    assert killed_at < reference.count("\n")  # it really was cut short

    code, _out, err = cli(*_args(day, rules, cut))
    assert code == 0, err

    assert (cut / "alerts.jsonl").read_text() == reference  # none missing, none twice, same order
    got, want = _accounting(cut / "t.duckdb"), _accounting(ref / "t.duckdb")
    assert got[0] == day.lines == got[1] + got[2] + got[3]  # every line accounted once
    assert got == want
