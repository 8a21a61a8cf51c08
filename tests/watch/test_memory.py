"""``watch.memory_limit``: watch's store connection is capped, and the cap changes no alert."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from watch_helpers import rules_of, settings

from tumen.watch.feeds import ReplayFeed
from tumen.watch.loop import Outputs, Watcher


def _bytes(text: str) -> int:
    """A DuckDB memory size (``'300.0 MiB'``, ``'1.0 GiB'``) in bytes."""
    number, unit = text.split()
    scale = {
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
    }
    return round(float(number) * scale[unit])


def _limit_of_watch_connection(tmp_path: Path, **watch: object) -> int:
    w = Watcher(
        tmp_path / "t.duckdb",
        settings(**watch),
        [],
        [],
        Outputs(None, False, None, settings(), lambda s: None),
        say=lambda s: None,
    )
    store = w._open()
    try:
        return _bytes(store.scalar("SELECT current_setting('memory_limit')"))
    finally:
        store.close()


def test_the_watch_connection_is_capped_by_default_and_by_the_setting(tmp_path: Path) -> None:
    assert _limit_of_watch_connection(tmp_path) == 512 * 2**20  # default 512 MiB, not 80 % of RAM
    assert _limit_of_watch_connection(tmp_path, memory_limit="300MiB") == 300 * 2**20
    con = duckdb.connect()  # DuckDB's own default: 80 % of this machine's memory
    try:
        default = _bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    finally:
        con.close()
    assert default != 2**30


@pytest.mark.slow
def test_a_small_memory_limit_changes_no_alert(day, watch, tmp_path: Path) -> None:
    """A cap 170 times smaller gives byte-identical alerts (DuckDB spills to disk, or does not need to)."""
    rules = rules_of('[[rules]]\nname = "any event"\nevent = "*"\n', tmp_path)
    outs = []
    for i, limit in enumerate(("48MiB", "8GiB")):
        out = tmp_path / f"a{i}.jsonl"
        run = watch(
            [ReplayFeed(day.nmea, speed=0)],
            rules,
            db=tmp_path / f"s{i}.duckdb",
            alerts=out,
            ports=day.ports,
            until_end=True,
            batch_lines=6000,
            memory_limit=limit,
        )
        run.thread.join(timeout=300)
        report = run.stop()
        assert report.lines == report.stored + report.duplicates + report.quarantined > 0
        outs.append(out.read_text())
    assert outs[0] == outs[1] and outs[0].count("\n") > 10
