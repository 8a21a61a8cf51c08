"""Identity fraud: MMSI conflicts, position jumps, identity changes, invalid IMOs, flags, DPRK MIDs."""

from __future__ import annotations

import duckdb
import pytest

from builders import detect, of, statics, track, write
from tumen.detect.identity import imo_valid_sql, load_mids, mid_sql

MMSI = 273456780
SEA = (41.0, 134.5)


def ident(store, subtype, **kw):
    return of(detect(store, **kw), "identity", subtype)


def test_one_mmsi_in_two_places_for_hours_is_a_conflict(store):
    a = (
        track(MMSI)
        .at("2024-01-10T00:00Z", 40.0, 134.0, sog=10)
        .to(40.5, 134.0, over="3h", every="5min")
    )
    b = (
        track(MMSI)
        .at("2024-01-10T01:02Z", 43.0, 131.0, sog=9)
        .to(43.2, 131.5, over="2h", every="7min")
    )
    write(store, a, b)
    (c,) = ident(store, "mmsi_conflict")
    assert c["start"] == "2024-01-10T01:02:00Z" and c["end"] == "2024-01-10T03:00:00Z"
    ev = c["evidence"]
    assert ev["distance_km"] > 300 and ev["implied_speed_kn"] > 1000 and ev["switches"] >= 4
    assert len(ev["position_ids"]) == 2 and len(ev["segments"]) == 2


def test_simultaneous_for_less_than_an_hour_is_no_conflict(store):
    a = (
        track(MMSI)
        .at("2024-01-10T00:00Z", 40.0, 134.0, sog=10)
        .to(40.5, 134.0, over="3h", every="5min")
    )
    b = (
        track(MMSI)
        .at("2024-01-10T01:02Z", 43.0, 131.0, sog=9)
        .to(43.1, 131.2, over="50min", every="7min")
    )
    write(store, a, b)
    assert ident(store, "mmsi_conflict") == []


def test_a_one_hour_jump_that_returns(store):
    t = track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=10).stay("2h")
    t.after("10min", 44.0, 136.0).every("10min", 5).after("10min", *SEA).stay("2h")
    write(store, t)
    events = detect(store)
    (j,) = of(events, "identity", "position_jump")
    assert (j["start"], j["end"]) == ("2024-01-10T02:10:00Z", "2024-01-10T03:00:00Z")
    ev = j["evidence"]
    assert ev["n_positions"] == 6 and ev["implied_speed_kn"] > 1000 and len(ev["position_ids"]) == 4
    assert of(events, "identity", "mmsi_conflict") == [] and of(events, "gap") == []


@pytest.mark.parametrize(("hours", "found"), [("2h50min", 1), ("3h10min", 0)])
def test_jump_duration_limit(store, hours, found):
    t = track(MMSI).at("2024-01-10T00:00Z", *SEA, sog=10).stay("2h")
    t.after("10min", 44.0, 136.0).stay(hours).after("10min", *SEA).stay("2h")
    write(store, t)
    assert len(ident(store, "position_jump")) == found


def test_a_single_bad_fix_is_noise_not_a_jump(store):
    t = (
        track(MMSI)
        .at("2024-01-10T00:00Z", *SEA, sog=10)
        .stay("2h")
        .after("10min", 10.0, 10.0)
        .after("10min", *SEA)
        .stay("1h")
    )
    write(store, t)
    events = detect(store)
    assert of(events, "identity", "position_jump") == [] and of(events, "gap") == []


def test_a_renamed_vessel(store):
    s = statics(MMSI, "2024-01-10T00:00Z", name="MARIA", imo=9358010, callsign="UBCD").every(
        "6min", 5
    )
    s.report(MMSI, "2024-01-11T00:00Z", name="MAIA-1", imo=9358010, callsign="UBCE").every(
        "6min", 5
    )
    write(store, s)
    (c,) = ident(store, "identity_change")
    assert (c["start"], c["end"]) == ("2024-01-10T00:30:00Z", "2024-01-11T00:00:00Z")
    changes = {(x["field"], x["old"], x["new"]) for x in c["evidence"]["changes"]}
    assert changes == {("name", "MARIA", "MAIA-1"), ("callsign", "UBCD", "UBCE")}
    assert len(c["evidence"]["static_ids"]) == 2  # the last old and first new report


def test_a_single_garbled_report_is_no_renaming(store):
    s = statics(MMSI, "2024-01-10T00:00Z", name="ANGARA", imo=9179842).every("6min", 5)
    s.report(MMSI, "2024-01-10T00:40Z", name="ANGAR@", imo=9179842)
    s.report(MMSI, "2024-01-10T00:46Z", name="ANGARA", imo=9179842).every("6min", 5)
    s.report(MMSI, "2024-01-10T02:00Z", name="angara  ", imo=9179842)  # case and spaces only
    write(store, s)
    assert ident(store, "identity_change") == []


def test_invalid_and_valid_imo(store):
    write(
        store,
        statics(MMSI, "2024-01-10T00:00Z", imo=9179842).every("6min", 2),  # ANGARA: valid
        statics(MMSI + 1, "2024-01-10T00:00Z", imo=9179843).every("6min", 2),  # wrong check digit
        statics(MMSI + 2, "2024-01-10T00:00Z", imo=123456).every("6min", 2),  # six digits
        statics(MMSI + 3, "2024-01-10T00:00Z", imo=0).every("6min", 2),  # not available
        statics(MMSI + 4, "2024-01-10T00:00Z", imo=9179843),  # one report only: a bit error?
    )
    got = {e["mmsi"]: e["evidence"] for e in ident(store, "invalid_imo")}
    assert set(got) == {MMSI + 1, MMSI + 2}
    assert got[MMSI + 1]["reason"] == "check digit" and got[MMSI + 1]["expected_check_digit"] == 2
    assert got[MMSI + 2]["reason"] == "not seven digits"


@pytest.mark.parametrize(
    ("imo", "valid"),
    [
        (9179842, True),
        (9161003, True),
        (9358010, True),
        (9743033, True),
        (8705539, True),
        (7937317, True),
        (9074729, True),
        (9074728, False),
        (1234567, True),
        (1234568, False),
        (999999, False),
    ],
)
def test_imo_check_digit(imo, valid):
    assert duckdb.sql(f"SELECT {imo_valid_sql(str(imo))}").fetchone()[0] is valid


def test_flag_mismatch_where_a_flag_is_declared(store):
    write(
        store,
        statics(MMSI, "2024-01-10T00:00Z", flag="RU").every("6min", 1),  # 273 = Russia: fine
        statics(MMSI + 1, "2024-01-10T00:00Z", flag="PA").every("6min", 1),  # 273 but Panama
        statics(236123456, "2024-01-10T00:00Z", flag="GB"),  # Gibraltar MID, British flag: fine
        statics(MMSI + 2, "2024-01-10T00:00Z", name="NO FLAG").every("6min", 1),
    )
    (f,) = ident(store, "flag_mismatch")
    assert f["mmsi"] == MMSI + 1
    assert (f["evidence"]["declared_flag"], f["evidence"]["mid_flag"]) == ("PA", "RU")


def test_dprk_mid(store):
    write(
        store,
        track(445123456).at("2024-01-10T00:00Z", *SEA).stay("1h"),
        statics(445999999, "2024-01-10T05:00Z", name="KUM UN SAN 3", imo=8705539).every("6min", 2),
        statics(445777777, "2024-01-10T05:00Z", name="NOISE"),  # one corrupt MMSI is not a vessel
        track(MMSI).at("2024-01-10T00:00Z", *SEA).stay("1h"),
    )
    got = {e["mmsi"]: e for e in ident(store, "dprk_mid")}
    assert set(got) == {445123456, 445999999}
    assert (got[445123456]["start"], got[445123456]["end"]) == (
        "2024-01-10T00:00:00Z",
        "2024-01-10T01:00:00Z",
    )
    assert got[445123456]["evidence"]["n_positions"] == 7
    assert got[445999999]["evidence"]["static_ids"]


def test_mid_table_and_formats():
    mids = {r["mid"]: r for r in load_mids().to_pylist()}
    assert (
        mids[445]["iso2"] == "KP" and mids[273]["iso2"] == "RU" and mids[236]["parent_iso2"] == "GB"
    )
    assert all(len(r["iso2"]) == 2 for r in mids.values()) and len(mids) > 280
    cases = {
        273456780: 273,
        2734567: 273,
        27345678: 273,
        873456789: 734,
        992731234: 273,
        982731234: 273,
        111273123: 273,
    }
    for mmsi, mid in cases.items():
        assert duckdb.sql(f"SELECT {mid_sql(str(mmsi))}").fetchone()[0] == mid, mmsi
