"""The alerts of a batch are written in one append: cool-down and order as one by one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from watch_helpers import rules_of

from tumen.store import DuckDBStore
from tumen.watch.feeds import ReplayFeed


@pytest.mark.slow
def test_cooldown_holds_within_one_batch_and_the_table_matches_the_file(
    day, watch, tmp_path: Path
) -> None:
    """The whole day in ONE batch: every opening of a vessel's port visits is in that batch, so
    the cool-down must see the openings of the batch itself, not only the table's."""
    rules = rules_of(
        """
        [[rules]]
        name = "any event"
        event = "*"

        [[rules]]
        name = "port visit, cooled down"
        event = "port_visit"
        cooldown_h = 48
        """,
        tmp_path,
    )
    out = tmp_path / "a.jsonl"
    db = tmp_path / "s.duckdb"
    run = watch(
        [ReplayFeed(day.nmea, speed=0)],
        rules,
        db=db,
        alerts=out,
        ports=day.ports,
        until_end=True,
        batch_lines=10**7,
    )
    run.thread.join(timeout=300)
    report = run.stop()
    assert report.batches == 1
    lines = out.read_text().splitlines()
    alerts = [json.loads(x) for x in lines]

    def openings(rule: str) -> dict[int, int]:
        n: dict[int, int] = {}
        for a in alerts:
            if a["rule"] == rule and not a["update"] and a["event"]["type"] == "port_visit":
                n[a["event"]["mmsi"]] = n.get(a["event"]["mmsi"], 0) + 1
        return n

    every, cooled = openings("any event"), openings("port visit, cooled down")
    assert max(every.values()) >= 2
    assert set(cooled) == set(every) and set(cooled.values()) == {1}
    with DuckDBStore(db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT seq, alert_id, rule, is_update, mmsi, event_id, body FROM alerts ORDER BY seq"
        ).fetchall()
    assert [r[0] for r in rows] == list(range(1, len(lines) + 1))
    assert [r[6] for r in rows] == lines
    for r, a in zip(rows, alerts, strict=True):
        assert (r[1], r[2], r[3], r[4], r[5]) == (
            a["alert_id"],
            a["rule"],
            a["update"],
            a["event"]["mmsi"],
            a["event"]["event_id"],
        )


def test_alerts_reach_the_file_before_the_store_is_closed(
    day, watch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's alerts are in ``--alerts`` as soon as its transaction commits, before the close
    (its checkpoint would otherwise add to every alert's latency)."""
    out = tmp_path / "a.jsonl"
    seen: list[tuple[int, int]] = []  # (alerts in the table, lines in the file) at each close
    close = DuckDBStore.close

    def spy(self: DuckDBStore) -> None:
        if self.table_exists("alerts") and self.path.endswith("s.duckdb"):
            n = self.scalar("SELECT count(*) FROM alerts")
            seen.append((int(n), out.read_text().count("\n") if out.exists() else 0))
        close(self)

    monkeypatch.setattr(DuckDBStore, "close", spy)
    run = watch(
        [ReplayFeed(day.nmea, speed=0)],
        rules_of('[[rules]]\nname = "any event"\nevent = "*"\n', tmp_path),
        db=tmp_path / "s.duckdb",
        alerts=out,
        ports=day.ports,
        until_end=True,
        batch_lines=8000,
    )
    run.thread.join(timeout=300)
    run.stop()
    assert len(seen) >= 3 and seen[-1][0] > 10
    assert all(in_table == in_file for in_table, in_file in seen), seen
