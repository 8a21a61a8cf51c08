"""The server's faster paths give the answers of the straightforward ones (issue 13, latency).

* the vessel book (every vessel's identity runs, risk, events, segments, match keys read once per
  store state) against the queries per vessel, for every vessel of the scenario and the hostile one;
* :func:`tumen.report.dossier.identities` (one query) against ``identity`` vessel by vessel;
* pages of events taken from the events kept in memory against the page query;
* search over the distinct keys with a score cutoff and the vectorised choice per MMSI against the
  search it replaced (kept below as the reference, as it was);
* answers serialised once (and kept as bytes) against FastAPI's own serialisation of the route;
* answers given again before routing: only after the token and host checks, with the security
  headers, and never for a state of the store they were not read from (a commit in the WAL too).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from serve_helpers import BASE, HOSTILE, HOSTILE_MMSI

from scenario_store import ANGARA, BELLA, KUMUNSAN
from tumen.config import load_settings
from tumen.report import dossier
from tumen.serve import api, create_app, queries
from tumen.serve.api import answer_bytes
from tumen.store import DuckDBStore, by_vessel

SETTINGS = load_settings(environ={})


def _all_mmsis(store: DuckDBStore) -> list[int]:
    return store.query(
        """SELECT mmsi FROM positions UNION SELECT mmsi FROM statics UNION SELECT mmsi FROM events
           UNION SELECT other_mmsi FROM events WHERE other_mmsi IS NOT NULL ORDER BY 1"""
    ).column(0).to_pylist()


def test_the_vessel_book_answers_every_vessel_as_the_queries_do(hostile_db: Path) -> None:
    with DuckDBStore(hostile_db, read_only=True) as store:
        book = queries.VesselBook.from_store(store)
        names = queries.all_latest_names(store)
        covered = by_vessel.coverage(store)
        mmsis = _all_mmsis(store) + [273000777]  # and one never heard
        listed = 0
        for m in mmsis:
            fast = queries.vessel(store, m, names=names, covered=covered, book=book)
            slow = queries.vessel(store, m, names=names, covered=covered)
            assert answer_bytes(fast) == answer_bytes(slow), m
            listed += bool(slow["matches"])
            if book.known(m):  # the book's "known" never says yes where the store says no
                assert queries.vessel_known(store, m)
        assert len(mmsis) >= 6 and listed >= 2  # the matches branch ran, with and without a match
        hostile = queries.vessel(store, HOSTILE_MMSI, book=book)
        assert hostile["identity"]["name"] in HOSTILE and hostile["events"] and hostile["matches"]


def test_identities_in_one_query_are_identity_vessel_by_vessel(hostile_db: Path) -> None:
    with DuckDBStore(hostile_db, read_only=True) as store:
        every = dossier.identities(store)
        mmsis = store.query("SELECT DISTINCT mmsi FROM statics ORDER BY mmsi").column(0).to_pylist()
        assert set(every) <= set(mmsis) and len(every) >= 5
        assert any(len(v["history"]) > 1 for v in every.values())  # BELLA's identity changes
        for m in mmsis:
            one = dossier.identity(store, m)
            assert every.get(m, {**one, "history": []}) == one, m


@pytest.mark.parametrize("sort", ["start", "-start", "end", "-duration", "type", "-mmsi"])
def test_pages_of_events_from_the_kept_rows_are_the_queried_pages(hostile_db: Path, sort: str) -> None:
    with DuckDBStore(hostile_db, read_only=True) as store:
        rows = queries.EventRows.from_store(store)
        total = store.scalar("SELECT count(*) FROM events")
        filters = [queries.EventFilter(), queries.EventFilter(types=("gap", "encounter")),
                   queries.EventFilter(mmsi=ANGARA), queries.EventFilter(mmsi=KUMUNSAN),
                   queries.EventFilter(port="rajin"), queries.EventFilter(bbox=(129.0, 40.0, 134.0, 44.0)),
                   queries.EventFilter(since=datetime(2024, 1, 12), until=datetime(2024, 1, 14))]
        for flt in filters:
            for limit, offset in ((100, 0), (3, 2), (5, total + 1)):
                a = queries.events(store, flt, limit=limit, offset=offset, sort=sort, rows=rows)
                b = queries.events(store, flt, limit=limit, offset=offset, sort=sort)
                assert answer_bytes(a) == answer_bytes(b), (flt, limit, offset)
        assert total > 10


# ------------------------------------------------------------------ search: the reference
def _reference_directory(store: DuckDBStore) -> dict[str, Any]:
    t = store.query(
        """SELECT mmsi, name, imo, callsign, max(ts) AS last_seen, count(*) AS reports
           FROM statics GROUP BY mmsi, name, imo, callsign ORDER BY mmsi"""
    )
    names, calls = t.column("name").to_pylist(), t.column("callsign").to_pylist()
    mmsi = t.column("mmsi").to_numpy()
    imo = np.array([0 if v is None else v for v in t.column("imo").to_pylist()], dtype=np.int64)
    return {"mmsi": mmsi, "imo": imo, "name": names, "callsign": calls,
            "last_seen": t.column("last_seen").to_pylist(), "reports": t.column("reports").to_numpy(),
            "name_key": ["".join(n.upper().split()) if n else "" for n in names],
            "call_key": ["".join(c.upper().split()) if c else "" for c in calls],
            "mmsi_text": mmsi.astype(str), "imo_text": np.where(imo > 0, imo.astype(str), "")}


def _reference_search(store: DuckDBStore, text: str, limit: int, d: dict[str, Any]) -> list[dict[str, Any]]:
    """``queries.search_vessels`` as it was before the distinct keys and the vectorised choice."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    needle = "".join(text.upper().split())
    n = len(d["mmsi"])
    rows: list[dict[str, Any]] = []
    if n and needle:
        sim = JaroWinkler.normalized_similarity
        s_name = process.cdist([needle], d["name_key"], scorer=sim, dtype=np.float32)[0].astype(float)
        s_name[[i for i, k in enumerate(d["name_key"]) if not k]] = 0.0
        contains = np.fromiter((needle in k for k in d["name_key"]), bool, count=n)
        s_name = np.where(contains, np.maximum(s_name, 0.9), s_name)
        s_call = process.cdist([needle], d["call_key"], scorer=sim, dtype=np.float32)[0].astype(float)
        s_call[[i for i, k in enumerate(d["call_key"]) if not k]] = 0.0
        if needle.isdigit():
            s_mmsi = np.char.startswith(d["mmsi_text"], needle).astype(float)
            s_imo = (np.char.startswith(d["imo_text"], needle) & (d["imo_text"] != "")).astype(float)
        else:
            s_mmsi = s_imo = np.zeros(n)
        scores = np.vstack([s_mmsi, s_imo, s_name, s_call])
        best = scores.max(axis=0)
        field = np.array(["mmsi", "imo", "name", "callsign"])[scores.argmax(axis=0)]
        chosen: dict[int, int] = {}
        for k in np.nonzero(best >= 0.8)[0].tolist():
            m = int(d["mmsi"][k])
            j = chosen.get(m)
            if j is None or (best[k], d["last_seen"][k] or datetime.min) > (best[j], d["last_seen"][j] or datetime.min):
                chosen[m] = k
        for m, i in sorted(chosen.items(), key=lambda kv: (-best[kv[1]], kv[0]))[:limit]:
            rows.append({"mmsi": m, "name": d["name"][i], "imo": int(d["imo"][i]) or None,
                         "callsign": d["callsign"][i], "last_seen": d["last_seen"][i],
                         "reports": int(d["reports"][i]), "score": float(best[i]), "matched": str(field[i])})
    if needle.isdigit() and len(needle) == 9 and not any(r["mmsi"] == int(needle) for r in rows):
        rows += [{"mmsi": m, "name": None, "imo": None, "callsign": None, "last_seen": None,
                  "reports": 0, "score": 1.0, "matched": "mmsi"} for m in dossier.resolve_vessels(store, [int(needle)])]
    ranks: dict[int, dict[str, Any]] = {}
    if rows and store.table_exists("risk"):
        for r in store.query("SELECT mmsi, rank, score FROM risk WHERE mmsi IN (SELECT unnest(?::BIGINT[]))",
                             [[r["mmsi"] for r in rows]]).to_pylist():
            ranks[r["mmsi"]] = r
    for r in rows:
        r["last_seen"] = queries.iso(r["last_seen"])
        r["score"] = round(float(r["score"]), 4)
        risk = ranks.get(r["mmsi"])
        r["risk_rank"] = risk["rank"] if risk else None
        r["risk_score"] = risk["score"] if risk else None
    return rows


def test_search_gives_the_answers_of_the_search_it_replaced(hostile_db: Path) -> None:
    with DuckDBStore(hostile_db, read_only=True) as store:
        directory = queries.VesselDirectory.from_store(store)
        ref = _reference_directory(store)
        names = store.query("SELECT DISTINCT name FROM statics WHERE name IS NOT NULL").column(0).to_pylist()
        texts = ["ANGRA", "angara", "BELA", "bella", "KUM UN", "KUMUNSAN 3", "SPARTA", "A", "U", "ZZZZ", "UBCT",
                 "9179842", "917", "273", "2731", str(ANGARA), str(BELLA), "273000999", "0", "<img", "script"]
        texts += names + [n[:2] + n[3:] for n in names if len(n) > 4] + [n[:3] for n in names]
        hits = 0
        for text in texts:
            for limit in (1, 3, 10):
                got = queries.search_vessels(store, text, limit, directory)
                assert got == _reference_search(store, text, limit, ref), (text, limit)
                hits += bool(got)
        assert hits > len(texts)


# ------------------------------------------------------------------ serialisation and kept answers
def test_answers_are_serialised_as_fastapi_serialises_the_route(hostile_db: Path) -> None:
    """``answer_bytes`` is what FastAPI sent for a ``-> dict[str, Any]`` route returning the dict."""
    with DuckDBStore(hostile_db, read_only=True) as store:
        answers = [queries.vessel(store, m) for m in (ANGARA, BELLA, HOSTILE_MMSI)]
        answers.append(queries.events(store, queries.EventFilter(), limit=1000))
        answers.append({"query": "é ü 中 \u2028 </script>", "vessels": queries.search_vessels(store, "BELA", 10),
                        "x": [1.5, 1e-07, 1e16, -0.0, 2**70, None, True]})
    ref = FastAPI()

    @ref.get("/a/{i}")
    def route(i: int) -> dict[str, Any]:
        return answers[i]

    with TestClient(ref) as c:
        for i, value in enumerate(answers):
            assert c.get(f"/a/{i}").content == answer_bytes(value), i


WAL_WRITER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("INSERT INTO meta VALUES ('wal-test', 'committed, not checkpointed')")
    print("committed", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def test_kept_answers_come_after_the_checks_with_the_headers_and_only_for_their_state(
    hostile_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(hostile_db, db)
    settings = load_settings(overrides={"serve.lock_wait_s": 0.3}, environ={})
    app = create_app(db, settings, token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    urls = [f"/api/vessels/{BELLA}", f"/api/vessels/{HOSTILE_MMSI}/track", "/api/events?type=gap&limit=5",
            "/api/search?q=BELA"]
    with TestClient(app, base_url=BASE) as c:
        first = {u: c.get(u, headers=auth) for u in urls}
        hits = app.state.gate.answer_hits
        for u in urls:
            again = c.get(u, headers=auth)
            assert again.status_code == 200 and again.content == first[u].content, u
            assert again.headers["content-type"] == first[u].headers["content-type"]
            assert "'unsafe-inline'" not in again.headers["content-security-policy"]
            assert again.headers["cache-control"] == "no-store" and again.headers["x-frame-options"] == "DENY"
            assert c.get(u).status_code == 401  # the token is checked before a kept answer is given
            assert c.get(u, headers={**auth, "Host": "evil.example"}).status_code == 200  # token: any host
            assert c.head(u, headers=auth).content == b""
        assert app.state.gate.answer_hits >= hits + 2 * len(urls)
        app.state.gate.close()
        # a writer commits (to the WAL, the file itself unchanged) and keeps the store: the kept
        # answers are of a state that is no longer the last committed one, so they are not given
        writer = subprocess.Popen([sys.executable, "-c", WAL_WRITER, str(db), "3"], stdout=subprocess.PIPE, text=True)
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "committed"
            assert Path(str(db) + ".wal").is_file()
            for u in urls:
                assert c.get(u, headers=auth).status_code == 503, u
        finally:
            writer.wait(timeout=30)
        for u in urls:
            r = c.get(u, headers=auth)
            assert r.status_code == 200 and r.content == first[u].content, u


def test_the_vessel_book_is_built_only_for_a_state_asked_often(hostile_db: Path) -> None:
    app = create_app(hostile_db, SETTINGS)
    fresh = create_app(hostile_db, load_settings(environ={"TUMEN_SERVE__ANSWERS_KEPT": "0"}))
    with DuckDBStore(hostile_db, read_only=True) as store:
        mmsis = _all_mmsis(store)
    assert len(mmsis) > api.BOOK_AFTER + 1
    with TestClient(app, base_url=BASE) as c, TestClient(fresh, base_url=BASE) as f:
        for k, m in enumerate(mmsis):
            got = c.get(f"/api/vessels/{m}")
            assert got.status_code == 200 and got.content == f.get(f"/api/vessels/{m}").content, m
            built = app.state.gate.peek("vessel_book") is not None
            assert built == (k >= api.BOOK_AFTER), k
        assert c.get("/api/vessels/273000777").status_code == 404  # not known: the store says so


def test_a_vessel_page_lists_the_observations_of_observed_vessels_only(hostile_db: Path) -> None:
    app = create_app(hostile_db, load_settings(environ={"TUMEN_SERVE__ANSWERS_KEPT": "0"}))
    with DuckDBStore(hostile_db, read_only=True) as store:
        observed = store.query("SELECT DISTINCT mmsi FROM observations").column(0).to_pylist()
        mmsis = _all_mmsis(store)
        direct = {m: api._observations(store, SETTINGS, m) for m in mmsis}
    assert HOSTILE_MMSI in observed and direct[HOSTILE_MMSI]
    with TestClient(app, base_url=BASE) as c:
        for m in mmsis:
            assert c.get(f"/api/vessels/{m}").json()["observations"] == direct[m], m


def test_kept_answers_stay_within_their_memory_bound(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tumen.serve.db import StoreGate

    monkeypatch.setattr(StoreGate, "KEPT_MAX_BYTES", 6_000)
    app = create_app(hostile_db, SETTINGS)
    fresh = create_app(hostile_db, load_settings(environ={"TUMEN_SERVE__ANSWERS_KEPT": "0"}))
    urls = [f"/api/events?limit={n}" for n in (1, 5, 20, 50, 100)] + [f"/api/vessels/{m}" for m in (ANGARA, BELLA)]
    with TestClient(app, base_url=BASE) as c, TestClient(fresh, base_url=BASE) as f:
        for _ in range(2):
            for u in urls:
                assert c.get(u).content == f.get(u).content, u
                gate = app.state.gate
                assert gate._raw_bytes == sum(len(v[2]) for v in gate._raw.values()) <= 6_000
                assert gate._answers_bytes == sum(len(v) for v in gate._answers.values()) <= 6_000
        assert len(c.get("/api/events?limit=100").content) > 6_000  # too big for the bound: answered, not kept
