"""List history (issue 15): every loaded version kept, designation periods, as-of screening, diffs.

The real-data tests use the two OFAC SDN versions of the shared data (2024-04-04 and
2024-05-03); which entries were added and removed between them is computed here from the
raw CSV rows (by ``ent_num``), independently of tumen's readers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from tumen.screen.lists import load_lists
from tumen.screen.lists.history import (
    designation_periods,
    designation_status,
    ensure_history,
    entities_as_of_sql,
    list_versions,
    resolve_version,
)
from tumen.screen.match import screen_query
from tumen.screen.queries import open_index
from tumen.store import DuckDBStore

OLD, NEW = date(2024, 4, 4), date(2024, 5, 3)


def _raw_sdn(path: Path) -> dict[str, list[str]]:
    text = gzip.decompress(path.read_bytes()).decode("latin-1").rstrip("\x1a")
    return {
        row[0]: row for row in csv.reader(io.StringIO(text)) if row and row[0].strip().isdigit()
    }


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    ofac = shared_data / "sanctions" / "ofac"
    return _raw_sdn(ofac / "sdn_2024-04-04.csv.gz"), _raw_sdn(ofac / "sdn_2024-05-03.csv.gz")


@pytest.fixture(scope="module")
def added_vessel(raw) -> tuple[str, str, str]:
    """(ent_num, name, IMO) of a vessel entry present in the newer OFAC version only."""
    old, new = raw
    for num in sorted(new.keys() - old.keys(), key=int):
        row = new[num]
        if row[2].strip() == "vessel" and "IMO " in row[11]:
            imo = row[11].split("IMO ")[1][:7]
            return num, row[1].strip(), imo
    raise AssertionError("the two OFAC versions differ by no vessel entry")


# --------------------------------------------------------------------------- real data
def test_both_ofac_versions_are_kept_with_their_dates_and_hashes(lists_db: Path, raw) -> None:
    old, new = raw
    with DuckDBStore(lists_db, read_only=True) as store:
        versions = list_versions(store, "us_ofac_sdn")
    assert [v["version_id"] for v in versions] == [
        "us_ofac_sdn@2024-04-04",
        "us_ofac_sdn@2024-05-03",
    ]
    first, second = versions
    assert (first["list_date"], second["list_date"]) == (OLD.isoformat(), NEW.isoformat())
    assert (first["targets"], second["targets"]) == (len(old), len(new))
    assert second["added"] == len(new.keys() - old.keys())
    assert second["removed"] == len(old.keys() - new.keys())
    assert [v["current"] for v in versions] == [False, True]
    assert all(len(v["sha256"]) == 64 and v["path"].endswith(".csv.gz") for v in versions)


def test_an_added_entry_is_not_listed_before_and_listed_after(
    lists_db: Path, raw, added_vessel
) -> None:
    old, new = raw
    num, _name, _imo = added_vessel
    removed = min(old.keys() - new.keys(), key=int)
    kept = min(old.keys() & new.keys(), key=int)
    with DuckDBStore(lists_db, read_only=True) as store:
        periods = designation_periods(store)
    p = periods[("us_ofac_sdn", f"ofac-{num}")]
    assert p["listed_since"] == NEW and p["listed_since_source"] == "first_version_seen"
    assert p["absent_on"] == OLD and p["delisted_on"] is None
    assert designation_status(p, OLD) == "pre_designation"
    assert designation_status(p, NEW) == "in_force"
    gone = periods[("us_ofac_sdn", f"ofac-{removed}")]
    assert gone["delisted_on"] == NEW and gone["delisted_in"] == "us_ofac_sdn@2024-05-03"
    assert designation_status(gone, OLD) == "in_force"
    assert designation_status(gone, NEW) == "after_delisting"
    both = periods[("us_ofac_sdn", f"ofac-{kept}")]
    assert both["listed_since"] == OLD and both["delisted_on"] is None
    # before the first version and with no date of the list's own: the data cannot tell
    assert designation_status(both, date(2024, 1, 1)) == "undetermined"


def test_as_of_screening_on_both_sides_of_an_addition(lists_db: Path, added_vessel, cli) -> None:
    num, name, imo = added_vessel
    before = screen_query(
        open_index(lists_db, as_of=OLD), name, type="vessel", imo=imo, threshold=0.7
    )
    after = screen_query(
        open_index(lists_db, as_of=NEW), name, type="vessel", imo=imo, threshold=0.7
    )
    assert not any(m.match and m.entry.entity_id == f"ofac-{num}" for m in before)
    assert any(m.match and m.entry.entity_id == f"ofac-{num}" for m in after)
    # the CLI says the same, and says as of when
    for day, listed in ((OLD, False), (NEW, True)):
        code, out, err = cli(
            "screen",
            "--query",
            name,
            "--imo",
            imo,
            "--type",
            "vessel",
            "--as-of",
            day.isoformat(),
            "--db",
            lists_db,
            "--json",
        )
        assert code == 0, err
        data = json.loads(out)
        assert data["as_of"] == day.isoformat()
        hit = [m for m in data["matches"] if m["match"] and m["entity_id"] == f"ofac-{num}"]
        assert bool(hit) is listed
        if hit:  # the designation says since when, and how that is known
            (des,) = hit[0]["designation"]
            assert des["listed_since"] == NEW.isoformat()
            assert des["listed_since_source"] == "first_version_seen"


def test_as_of_lists_hold_the_versions_of_that_day(lists_db: Path, raw) -> None:
    old, new = raw
    with DuckDBStore(lists_db, read_only=True) as store:

        def targets(day: date) -> int:
            return store.scalar(
                f"SELECT count(*) FROM ({entities_as_of_sql(day)}) e "
                "WHERE list_id = 'us_ofac_sdn' AND target"
            )

        assert targets(date(2024, 4, 20)) == len(old)
        assert targets(NEW) == len(new)
        assert targets(date(2024, 3, 1)) == 0  # before the first version, OFAC gives no dates


@pytest.fixture(scope="module")
def two_sdn(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the two OFAC SDN.CSV versions only (no companion files: comparable)."""
    ofac = shared_data / "sanctions" / "ofac"
    path = tmp_path_factory.mktemp("two_sdn") / "s.duckdb"
    with DuckDBStore(path) as store:
        load_lists(store, [ofac / "sdn_2024-04-04.csv.gz", ofac / "sdn_2024-05-03.csv.gz"])
    return path


def test_lists_diff_finds_the_added_removed_and_changed_entries(two_sdn: Path, raw, cli) -> None:
    lists_db = two_sdn
    old, new = raw
    code, out, err = cli(
        "lists",
        "diff",
        "2024-04-04",
        "us_ofac_sdn@2024-05-03",
        "--list",
        "us_ofac_sdn",
        "--db",
        lists_db,
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert {e["entity_id"] for e in data["added"]} == {f"ofac-{n}" for n in new.keys() - old.keys()}
    assert {e["entity_id"] for e in data["removed"]} == {
        f"ofac-{n}" for n in old.keys() - new.keys()
    }
    raw_changed = {f"ofac-{n}" for n in old.keys() & new.keys() if old[n] != new[n]}
    changed = {e["entity_id"] for e in data["changed"]}
    assert changed and changed <= raw_changed
    assert all(e["properties"] for e in data["changed"])
    assert data["counts"] == {k: len(data[k]) for k in ("added", "removed", "changed")}
    assert data["note"] is None
    code, out, _ = cli(
        "lists", "diff", "2024-04-04", "2024-05-03", "--list", "us_ofac_sdn", "--db", lists_db
    )
    assert code == 0 and f"+{len(new.keys() - old.keys())} added" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["lists", "diff", "us_ofac_sdn@1999-01-01", "2024-05-03"], "no list version"),
        (["lists", "diff", "yesterday", "2024-05-03", "--list", "us_ofac_sdn"], "nor an ISO date"),
        (["lists", "diff", "2024-04-04", "2024-05-03"], "--list"),
        (
            ["lists", "diff", "2020-01-01", "2024-05-03", "--list", "us_ofac_sdn"],
            "no version on or before",
        ),
        (["lists", "diff", "2024-04-04", "2024-05-03", "--list", "nope"], "no list 'nope'"),
        (["screen", "--query", "X", "--as-of", "2024-13-45"], "--as-of"),
    ],
)
def test_bad_dates_and_unknown_versions_are_one_line_errors(
    lists_db: Path, cli, args: list[str], words: str
) -> None:
    code, out, err = cli(*args, "--db", lists_db)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- small lists
def _vessels_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A designated-vessels list: (name, imo, listed_on) rows."""
    path.write_text(
        "name,imo,flag,listed_on,reference\n"
        + "".join(f"{n},{i},RU,{d},REF-{k}\n" for k, (n, i, d) in enumerate(rows)),
        encoding="utf-8",
    )
    return path


def test_the_lists_own_date_wins_and_older_versions_stay(
    store: DuckDBStore, tmp_path: Path
) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    one = _vessels_csv(
        tmp_path / "v1" / "watch_2024-03-01.csv", [("ANGARA", "9179842", "2022-05-08")]
    )
    two = _vessels_csv(
        tmp_path / "v2" / "watch_2024-04-01.csv",
        [("ANGARA", "9179842", "2022-05-08"), ("LADY R", "9161003", "")],
    )
    first = load_lists(store, [one])[0]
    second = load_lists(store, [two])[0]
    assert (first["version_id"], second["version_id"]) == ("watch@2024-03-01", "watch@2024-04-01")
    assert second["status"] == "replaced"
    periods = designation_periods(store)
    angara = periods[("watch", "watch-9179842")]
    assert angara["listed_since"] == date(2022, 5, 8) and angara["listed_since_source"] == "list"
    assert designation_status(angara, date(2022, 5, 7)) == "pre_designation"
    lady = periods[("watch", "watch-9161003")]
    assert lady["listed_since"] == date(2024, 4, 1) and lady["absent_on"] == date(2024, 3, 1)
    # a list-dated entry counts as of its date even before the first version was loaded
    with_date = store.scalar(
        f"SELECT count(*) FROM ({entities_as_of_sql(date(2023, 1, 1))}) e WHERE target"
    )
    assert with_date == 1
    assert (
        store.scalar(
            f"SELECT count(*) FROM ({entities_as_of_sql(date(2021, 1, 1))}) e WHERE target"
        )
        == 0
    )
    # loading the older file again records nothing new
    again = load_lists(store, [one])[0]
    assert again["status"] == "skipped_older" and again["version_id"] == "watch@2024-03-01"
    assert len(list_versions(store, "watch")) == 2


def test_ftm_first_seen_is_a_first_listed_date(store: DuckDBStore, tmp_path: Path) -> None:
    path = tmp_path / "os.ftm.json"
    path.write_text(
        json.dumps(
            {
                "id": "v1",
                "schema": "Vessel",
                "properties": {"name": ["SEA STAR"], "imoNumber": ["9179842"]},
                "target": True,
                "first_seen": "2021-02-03T10:00:00",
                "last_seen": "2024-06-01T00:00:00",
                "datasets": ["x"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    load_lists(store, [path])
    p = designation_periods(store)[("os", "v1")]
    assert p["listed_since"] == date(2021, 2, 3) and p["listed_since_source"] == "list"


def test_a_store_written_before_list_history_is_migrated(
    store: DuckDBStore, tmp_path: Path, cli
) -> None:
    (tmp_path / "l").mkdir()
    csv_path = _vessels_csv(tmp_path / "l" / "watch_2024-03-01.csv", [("ANGARA", "9179842", "")])
    load_lists(store, [csv_path])
    for table in ("list_versions", "list_members", "entity_states", "list_version_links"):
        store.execute(f"DELETE FROM {table}")
    db = Path(store.path)
    store.close()
    # read-only: cannot answer as-of questions, says so in one line
    code, _, err = cli("screen", "--query", "ANGARA", "--as-of", "2024-03-02", "--db", db)
    assert code != 0 and "no recorded versions" in err and len(err.strip().splitlines()) == 1
    with DuckDBStore(db) as again:
        assert ensure_history(again) == 1
        assert ensure_history(again) == 0
        (v,) = list_versions(again)
        assert v["version_id"] == "watch@2024-03-01" and v["current"] and v["targets"] == 1
    code, out, err = cli(
        "screen", "--query", "ANGARA", "--as-of", "2024-03-02", "--db", db, "--json"
    )
    assert code == 0, err
    assert any(m["match"] for m in json.loads(out)["matches"])


def test_resolve_version_by_date_picks_the_version_in_force(lists_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c.duckdb"
    shutil.copy(lists_db, copy)
    with DuckDBStore(copy, read_only=True) as store:
        assert (
            resolve_version(store, "2024-04-30", "us_ofac_sdn")["version_id"]
            == "us_ofac_sdn@2024-04-04"
        )
        assert (
            resolve_version(store, "2024-05-03", "us_ofac_sdn")["version_id"]
            == "us_ofac_sdn@2024-05-03"
        )


# --------------------------------------------------------------------------- pure functions
@pytest.mark.parametrize(
    ("period", "day", "status"),
    [
        # the list's own date: before it is a pre-designation pattern
        (
            {"listed_since": date(2022, 5, 16), "listed_since_source": "list"},
            date(2022, 5, 15),
            "pre_designation",
        ),
        (
            {"listed_since": date(2022, 5, 16), "listed_since_source": "list"},
            date(2022, 5, 16),
            "in_force",
        ),
        # first seen in a version, absent from the one before: known not listed up to that one
        (
            {
                "listed_since": date(2024, 5, 3),
                "listed_since_source": "first_version_seen",
                "absent_on": date(2024, 4, 4),
            },
            date(2024, 4, 4),
            "pre_designation",
        ),
        (
            {
                "listed_since": date(2024, 5, 3),
                "listed_since_source": "first_version_seen",
                "absent_on": date(2024, 4, 4),
            },
            date(2024, 4, 20),
            "undetermined",
        ),
        (
            {"listed_since": date(2024, 5, 3), "listed_since_source": "first_version_seen"},
            date(2024, 1, 1),
            "undetermined",
        ),
        (
            {
                "listed_since": date(2020, 1, 1),
                "listed_since_source": "list",
                "delisted_on": date(2024, 5, 3),
            },
            date(2024, 5, 2),
            "in_force",
        ),
        (
            {
                "listed_since": date(2020, 1, 1),
                "listed_since_source": "list",
                "delisted_on": date(2024, 5, 3),
            },
            date(2024, 5, 3),
            "after_delisting",
        ),
    ],
)
def test_designation_status(period: dict, day: date, status: str) -> None:
    assert designation_status(period, day) == status


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2016-06-30", date(2016, 6, 30)),
        ("2016-06", date(2016, 6, 1)),
        ("2016", date(2016, 1, 1)),
        ("x", None),
        (None, None),
    ],
)
def test_partial_listing_dates_start_on_their_first_day(text: str | None, day: date | None) -> None:
    from tumen.screen.lists.history import first_day

    assert first_day(text) == day


def test_un_listed_on_is_the_first_listed_date(lists_db: Path, shared_data: Path) -> None:
    import xml.etree.ElementTree as ET

    raw = gzip.decompress(
        (shared_data / "sanctions/un/un_sc_consolidated_2026-02-27.xml.gz").read_bytes()
    )
    listed = {
        el.findtext("REFERENCE_NUMBER").strip(): el.findtext("LISTED_ON").strip()
        for el in ET.fromstring(raw).iter()
        if el.tag in ("INDIVIDUAL", "ENTITY") and el.findtext("UN_LIST_TYPE") == "DPRK"
    }
    with DuckDBStore(lists_db, read_only=True) as store:
        refs = {
            r["entity_id"]: r["ref"]
            for r in store.query(
                "SELECT json_extract_string(entity, '$.properties.entity[0]') AS entity_id, "
                "json_extract_string(entity, '$.properties.unscId[0]') AS ref "
                "FROM entities WHERE list_id = 'un_sc' AND schema = 'Sanction'"
            ).to_pylist()
        }
        periods = designation_periods(store, [("un_sc", e) for e in refs])
    checked = 0
    for eid, ref in refs.items():
        if ref in listed:
            p = periods[("un_sc", eid)]
            assert p["listed_since_source"] == "list"
            assert p["listed_since"].isoformat() == listed[ref][:10], (ref, p)
            checked += 1
    assert checked == len(listed)
