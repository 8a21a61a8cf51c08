"""``watch --replay``: the simulator's planted behaviours raise exactly the alerts the rules ask for.

The oracle is the simulator's truth (``truth.jsonl``) and the demo sanctions list read directly
(vessel names), never the alerts' own code.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import rules_of, truth

from tumen.config import Settings
from tumen.ingest import ingest_paths
from tumen.screen import demo_list_path
from tumen.screen.lists import load_lists
from tumen.store import DuckDBStore
from tumen.watch.feeds import ReplayFeed
from tumen.watch.rules import normalise_name

TOL = timedelta(hours=1)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _listed_names() -> set[str]:
    names = set()
    for line in demo_list_path().read_text().splitlines():
        e = json.loads(line)
        if e["schema"] == "Vessel" and "sanction" in e["properties"].get("topics", []):
            names.update(normalise_name(n) for n in e["properties"]["name"])
    return names


def _situations(alerts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        out.setdefault(a["alert_id"], []).append(a)
    return out


def _near(a: dict[str, Any], t: dict[str, Any]) -> bool:
    return abs(_t(a["start"]) - _t(t["start"])) <= TOL


@pytest.mark.slow
def test_planted_behaviours_raise_exactly_the_alerts_asked_for(day, watch, tmp_path: Path) -> None:
    events = truth(day)
    positives = [e for e in events if not e.get("negative")]
    loiter = next(e for e in positives if e["type"] == "loitering")
    box = {
        "type": "Polygon",
        "coordinates": [
            [
                [loiter["lon"] - 0.2, loiter["lat"] - 0.2],
                [loiter["lon"] + 0.2, loiter["lat"] - 0.2],
                [loiter["lon"] + 0.2, loiter["lat"] + 0.2],
                [loiter["lon"] - 0.2, loiter["lat"] + 0.2],
                [loiter["lon"] - 0.2, loiter["lat"] - 0.2],
            ]
        ],
    }
    (tmp_path / "box.geojson").write_text(
        json.dumps({"type": "Feature", "geometry": box, "properties": {}})
    )
    rules = rules_of(
        """
        [[rules]]
        name = "listed vessel meets another at sea"
        event = "encounter"
        listed = true

        [[rules]]
        name = "listed vessel goes dark"
        event = "gap"
        listed = true

        [[rules]]
        name = "renamed"
        event = "identity"
        subtype = "identity_change"

        [[rules]]
        name = "loitering in the box"
        event = "loitering"
        area = "box.geojson"
        """,
        tmp_path,
    )
    db = tmp_path / "t.duckdb"
    with DuckDBStore(db) as store:
        load_lists(store, [demo_list_path()])
    feed = ReplayFeed(day.nmea, speed=20000)
    run = watch([feed], rules, db=db, ports=day.ports, until_end=True, batch_s=0.5)
    run.thread.join(timeout=300)
    report = run.stop()
    assert report.lines == day.lines == report.stored + report.duplicates + report.quarantined
    assert report.batches > 3  # the day was cut in several micro-batches
    # ... and each line ended as it does when `tumen ingest` reads the whole file at once
    whole = ingest_paths(DuckDBStore(":memory:"), [day.nmea], Settings())
    assert (report.stored, report.duplicates, report.quarantined) == (
        whole.stored,
        whole.duplicates,
        whole.quarantined,
    )
    alerts = [a.body for a in run.alerts]
    assert report.alerts == len(alerts) > 0

    with DuckDBStore(db, read_only=True) as store:
        names = store.query(
            "SELECT DISTINCT mmsi, name FROM statics WHERE name IS NOT NULL"
        ).to_pylist()
        last_fix = dict(
            store.con.execute("SELECT mmsi, max(ts) FROM positions GROUP BY mmsi").fetchall()
        )
        end_of_data = store.scalar("SELECT max(ts) FROM positions")
        table = store.con.execute("SELECT body FROM alerts ORDER BY seq").fetchall()
    listed = {r["mmsi"] for r in names if normalise_name(r["name"]) in _listed_names()}
    assert listed  # the demo list names planted vessels
    assert [json.loads(b) for (b,) in table] == alerts  # the table holds exactly what was delivered

    by_rule: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for aid, items in _situations(alerts).items():
        by_rule.setdefault(items[0]["rule"], {})[aid] = items
        assert [a["update"] for a in items][0] is False  # every situation opens before it updates
        assert all(a["event"]["provenance"] for a in items)  # cites spool files and lines

    # encounters of a listed vessel: exactly those of the truth
    want = [
        e for e in positives if e["type"] == "encounter" and {e["mmsi"], e["other_mmsi"]} & listed
    ]
    got = list(by_rule.get("listed vessel meets another at sea", {}).values())
    assert len(want) >= 1 and len(got) == len(want)
    for w in want:
        hit = [
            s
            for s in got
            if {s[0]["event"]["mmsi"], s[0]["event"]["other_mmsi"]} == {w["mmsi"], w["other_mmsi"]}
        ]
        assert len(hit) == 1 and _near(hit[0][0]["event"], w)
        assert hit[0][0]["event"]["end"] is None and hit[0][-1]["update"] is True
        assert abs(_t(hit[0][-1]["event"]["end"]) - _t(w["end"])) <= TOL

    # gaps of listed vessels: the closed ones of the truth, plus those still dark at the end
    want_gaps = [e for e in positives if e["type"] == "gap" and e["mmsi"] in listed]
    still_dark = {
        m for m in listed if last_fix.get(m) and end_of_data - last_fix[m] >= timedelta(hours=6)
    }
    got = list(by_rule.get("listed vessel goes dark", {}).values())
    closed = [s for s in got if s[-1]["update"]]
    open_only = [s for s in got if not s[-1]["update"]]
    assert len(closed) == len(want_gaps) >= 1
    for w in want_gaps:
        assert any(s[0]["event"]["mmsi"] == w["mmsi"] and _near(s[0]["event"], w) for s in closed)
    assert {s[0]["event"]["mmsi"] for s in open_only} == still_dark
    for s in got:  # the open alert and its update share the event id the gap detector gives
        assert len({a["event"]["event_id"] for a in s}) == 1

    want = [e for e in positives if e["type"] == "identity" and e["subtype"] == "identity_change"]
    got = list(by_rule.get("renamed", {}).values())
    assert len(got) == len(want) >= 1
    assert {s[0]["event"]["mmsi"] for s in got} == {w["mmsi"] for w in want}

    got = list(by_rule.get("loitering in the box", {}).values())
    assert len(got) == 1 and got[0][0]["event"]["mmsi"] == loiter["mmsi"]

    # no look-alike: no alert rests on a negative of the truth
    for neg in (e for e in events if e.get("negative")):
        for a in alerts:
            ev = a["event"]
            same = {ev["mmsi"], ev["other_mmsi"]} - {None} == {neg["mmsi"], neg["other_mmsi"]} - {
                None
            }
            assert not (same and ev["type"] == neg["type"] and _near(ev, neg)), (neg, a["alert_id"])

    # vessel identity and matches travel with the alert
    one = by_rule["listed vessel meets another at sea"]
    bodies = next(iter(one.values()))
    ves = [bodies[0]["vessel"], bodies[0]["other_vessel"]]
    assert any(v["matches"] for v in ves)


@pytest.mark.slow
def test_replaying_a_day_again_gives_the_same_alerts(day, watch, tmp_path: Path) -> None:
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
    outs = []
    for i in range(2):
        out = tmp_path / f"a{i}.jsonl"
        run = watch(
            [ReplayFeed(day.nmea, speed=0)],
            rules,
            db=tmp_path / f"s{i}.duckdb",
            alerts=out,
            ports=day.ports,
            until_end=True,
            batch_lines=4000,
        )
        run.thread.join(timeout=300)
        run.stop()
        outs.append(out.read_text())
    assert outs[0] == outs[1] and outs[0].count("\n") > 10
    lines = [json.loads(x) for x in outs[0].splitlines()]

    def openings(rule: str) -> dict[int, int]:
        n: dict[int, int] = {}
        for a in lines:
            if a["rule"] == rule and not a["update"] and a["event"]["type"] == "port_visit":
                n[a["event"]["mmsi"]] = n.get(a["event"]["mmsi"], 0) + 1
        return n

    every, cooled = openings("any event"), openings("port visit, cooled down")
    assert max(every.values()) >= 2  # some vessel visits ports twice in the day ...
    assert set(cooled) == set(every) and set(cooled.values()) == {1}  # ... alerted once in 48 h
