"""NMEA 0183 line variants, one at a time, with payloads made by pyais' encoder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from ingest_helpers import POS, STATIC, balanced, ingest_text, pghp, sentences, tag, with_checksum

from tumen.config import Settings
from tumen.ingest import ingest_paths
from tumen.store import DuckDBStore

T0 = datetime(2024, 1, 10, 10, 1, 30)
UNIX0 = int(T0.replace(tzinfo=UTC).timestamp())


def one(store, sql: str):  # type: ignore[no-untyped-def]
    rows = store.query(sql).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def reasons(store) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {
        r["line_no"]: r["reason"]
        for r in store.query("SELECT line_no, reason FROM quarantine").to_pylist()
    }


def test_plain_sentence_decodes_every_stored_column(tmp_path: Path) -> None:
    report, store = ingest_text(tmp_path, sentences(POS)[0] + "\n")
    assert (report.lines, report.stored, report.duplicates, report.quarantined) == (1, 1, 0, 0)
    row = one(store, "SELECT * FROM positions")
    assert row["mmsi"] == 273456780 and row["lat"] == 42.25 and row["lon"] == 130.3
    assert row["sog_kn"] == pytest.approx(12.3) and row["cog_deg"] == pytest.approx(45.6)
    assert row["heading_deg"] == 44 and row["nav_status"] == 0 and row["msg_type"] == 1
    assert row["class"] == "A" and row["utc_second"] == 30
    assert row["ts"] is None  # no time anywhere on the line: stored with ts NULL
    assert row["line_no"] == row["line_first"] == 1
    src = one(store, "SELECT * FROM sources")
    assert row["source_id"] == src["source_id"] and src["lines"] == 1 and len(src["sha256"]) == 64


def test_tag_block_prefix_gives_time_and_station(tmp_path: Path) -> None:
    line = tag(s="rORBCOMM008", c=UNIX0) + sentences(POS)[0]
    _, store = ingest_text(tmp_path, line + "\n")
    row = one(store, "SELECT ts, station FROM positions")
    assert row == {"ts": T0, "station": "rORBCOMM008"}


def test_millisecond_tag_time(tmp_path: Path) -> None:
    line = tag(c=UNIX0 * 1000 + 250) + sentences(POS)[0]
    _, store = ingest_text(tmp_path, line + "\n")
    assert one(store, "SELECT ts FROM positions")["ts"] == T0.replace(microsecond=250_000)


def test_tag_block_alone_on_its_line_heads_the_next_sentence(tmp_path: Path) -> None:
    text = "\n".join([tag(s="AISD", c=UNIX0), sentences(POS)[0]]) + "\n"
    report, store = ingest_text(tmp_path, text)
    assert (report.lines, report.stored) == (2, 2)  # the header shares the fate of its sentence
    row = one(store, "SELECT ts, station, line_first, line_no FROM positions")
    assert row == {"ts": T0, "station": "AISD", "line_first": 1, "line_no": 2}


def test_gatehouse_header_gives_time_and_station(tmp_path: Path) -> None:
    text = (
        "\n".join(
            [tag(si="AISD"), pghp(T0.replace(microsecond=123000), "2190067"), sentences(POS)[0]]
        )
        + "\n"
    )
    report, store = ingest_text(tmp_path, text)
    assert (report.lines, report.stored, report.quarantined) == (3, 3, 0)
    row = one(store, "SELECT ts, station, line_first FROM positions")
    assert row == {"ts": T0.replace(microsecond=123000), "station": "2190067", "line_first": 1}


def test_header_without_sentence_is_quarantined(tmp_path: Path) -> None:
    text = "\n".join([pghp(T0), "$PSTT,10A,219,1*7F", sentences(POS)[0], pghp(T0)]) + "\n"
    report, store = ingest_text(tmp_path, text)
    assert balanced(report)
    assert reasons(store) == {
        1: "header without AIS sentence",
        2: "not an AIS sentence",
        4: "header without AIS sentence",
    }
    assert (
        one(store, "SELECT ts FROM positions")["ts"] is None
    )  # the $PGHP was not directly before it


def test_iso_prefix_in_local_time_with_tz(tmp_path: Path) -> None:
    text = "2016-03-31 12:00:01, " + sentences(POS)[0] + "\n"
    _, store = ingest_text(tmp_path, text, ingest__tz="Europe/Paris")
    # Paris is UTC+2 on 31 March 2016 (summer time began on the 27th)
    assert one(store, "SELECT ts FROM positions")["ts"] == datetime(2016, 3, 31, 10, 0, 1)


def test_iso_prefix_with_zone_ignores_tz(tmp_path: Path) -> None:
    lines = ["2016-03-31T12:00:01Z,", "2016-03-31T14:00:01+02:00 ", "2016-03-31T12:00:01.250Z "]
    text = "".join(
        p + s + "\n"
        for p, s in zip(lines, [sentences(dict(POS, second=s))[0] for s in (1, 2, 3)], strict=True)
    )
    _, store = ingest_text(tmp_path, text, ingest__tz="Asia/Vladivostok")
    got = [r["ts"] for r in store.query("SELECT ts FROM positions ORDER BY line_no").to_pylist()]
    assert got == [
        datetime(2016, 3, 31, 12, 0, 1),
        datetime(2016, 3, 31, 12, 0, 1),
        datetime(2016, 3, 31, 12, 0, 1, 250000),
    ]


def test_epoch_prefix_seconds_and_milliseconds(tmp_path: Path) -> None:
    text = (
        f"{UNIX0},{sentences(POS)[0]}\n{UNIX0 * 1000 + 500},{sentences(dict(POS, second=31))[0]}\n"
    )
    _, store = ingest_text(tmp_path, text)
    got = [r["ts"] for r in store.query("SELECT ts FROM positions ORDER BY line_no").to_pylist()]
    assert got == [T0, T0.replace(microsecond=500000)]


def test_uscg_trailing_fields(tmp_path: Path) -> None:
    line = sentences(POS)[0] + f",d-109,S2105,t101130.00,T30.137,r003669946,{UNIX0},{UNIX0 - 59}"
    _, store = ingest_text(tmp_path, line + "\n")
    assert one(store, "SELECT ts, station FROM positions") == {"ts": T0, "station": "r003669946"}


def test_uscg_receive_time_is_the_epoch_after_the_station(
    shared_data: Path, tmp_path: Path
) -> None:
    """In the USCG NAIS capture every line ends ``r<station>,<epoch>,<epoch>``: the first
    epoch agrees with the receiver's own ``tHHMMSS`` clock field (within 5 s), the last lags
    it by 40-100 s.  The stored time is the first (as libais reads it)."""
    path = shared_data / "ais" / "nmea" / "aisdb_uscg_trailer_201201.nmea"
    store = DuckDBStore(tmp_path / "t.duckdb")
    ingest_paths(store, [path], Settings())
    lines = path.read_text().splitlines()
    rows = store.query(
        "SELECT ts, line_no FROM positions UNION ALL SELECT ts, line_no FROM statics "
        "UNION ALL SELECT ts, line_no FROM messages"
    ).to_pylist()
    # 23 messages: line 1, a base station saying "position not available", is stored too
    assert len(rows) == 23
    for r in rows:
        fields = lines[r["line_no"] - 1].split("*")[1].split(",")
        epochs = [int(f) for f in fields[1:] if f.isdigit()]
        clock = next(f for f in fields if f.startswith("t"))
        assert len(epochs) == 2
        assert r["ts"] == datetime.fromtimestamp(epochs[0], UTC).replace(tzinfo=None)
        hms = r["ts"].hour * 3600 + r["ts"].minute * 60 + r["ts"].second
        t_clock = int(clock[1:3]) * 3600 + int(clock[3:5]) * 60 + int(clock[5:7])
        assert 0 <= hms - t_clock <= 5


def test_any_talker_and_own_ship_reports(tmp_path: Path) -> None:
    lines = [
        sentences(dict(POS, mmsi=273000001), talker="BS")[0],
        sentences(dict(POS, mmsi=273000002), talker="AB", vdo=True)[0],
        with_checksum(
            sentences(dict(POS, mmsi=273000003))[0].split("*")[0].replace("!AIVDM", "!--VDM")
        ),
        sentences(dict(POS, mmsi=273000004), talker="SA")[0],
    ]
    report, store = ingest_text(tmp_path, "\n".join(lines) + "\n")
    assert report.stored == 4
    assert sorted(store.query("SELECT mmsi FROM positions").column("mmsi").to_pylist()) == [
        273000001,
        273000002,
        273000003,
        273000004,
    ]


def test_two_part_message_on_two_lines_and_on_one_line(tmp_path: Path) -> None:
    parts = sentences(STATIC, seq=3)
    other = sentences(dict(STATIC, mmsi=445123456, shipname="KUM UN SAN 3"), seq=4, channel="B")
    text = (
        "\n".join([parts[0], parts[1], tag(c=UNIX0) + other[0] + tag(g="2-2-77") + other[1]]) + "\n"
    )
    report, store = ingest_text(tmp_path, text)
    assert (report.lines, report.stored) == (3, 3)
    rows = store.query("SELECT * FROM statics ORDER BY line_no").to_pylist()
    assert [r["name"] for r in rows] == ["ANGARA", "KUM UN SAN 3"]
    a = rows[0]
    assert (a["imo"], a["callsign"], a["ship_type"], a["destination"]) == (
        9179842,
        "UBCD7",
        70,
        "RAJIN",
    )
    assert (a["to_bow_m"], a["to_stern_m"], a["length_m"], a["width_m"]) == (100, 20, 120.0, 20.0)
    assert a["draught_m"] == pytest.approx(6.5) and a["eta"] == "01-10T10:30" and a["msg_type"] == 5
    assert (a["line_first"], a["line_no"]) == (1, 2)
    assert rows[1]["ts"] == T0 and (rows[1]["line_first"], rows[1]["line_no"]) == (3, 3)


def test_three_part_message_stored_whole(tmp_path: Path) -> None:
    parts = sentences({"type": 8, "mmsi": 273456780, "data": b"tumen" * 20}, seq=4)
    assert len(parts) == 3
    report, store = ingest_text(tmp_path, "\n".join(parts) + "\n")
    assert report.stored == 3
    row = one(store, "SELECT * FROM messages")
    assert row["msg_type"] == 8 and row["mmsi"] == 273456780
    assert row["payload"] == "".join(p.split(",")[5] for p in parts)
    assert (row["line_first"], row["line_no"]) == (1, 3)


def test_group_id_joins_fragments_without_sequence_id(tmp_path: Path) -> None:
    def no_seq(sentence: str) -> str:  # empty the sequence id field
        f = sentence.split("*")[0].split(",")
        f[3] = ""
        return with_checksum(",".join(f))

    a = [no_seq(x) for x in sentences(STATIC)]
    b = [no_seq(x) for x in sentences(dict(STATIC, mmsi=273000009, shipname="LADY R"))]
    text = "\n".join(
        [
            tag(g="1-2-11", c=UNIX0) + a[0],
            tag(g="1-2-12", c=UNIX0) + b[0],
            tag(g="2-2-11") + a[1],
            tag(g="2-2-12") + b[1],
        ]
    )
    report, store = ingest_text(tmp_path, text + "\n")
    assert report.stored == 4
    assert sorted(store.query("SELECT name FROM statics").column("name").to_pylist()) == [
        "ANGARA",
        "LADY R",
    ]


def test_fragments_too_far_apart_are_incomplete(tmp_path: Path) -> None:
    parts = sentences(STATIC, seq=1)
    filler = [sentences(dict(POS, second=i % 60, mmsi=273000100 + i))[0] for i in range(5)]
    text = "\n".join([parts[0], *filler, parts[1]]) + "\n"
    report, store = ingest_text(tmp_path, text, ingest__fragment_gap_lines=3)
    assert reasons(store) == {1: "incomplete multi-part", 7: "incomplete multi-part"}
    report, store = ingest_text(
        tmp_path, text, name="again.nmea", ingest__fragment_gap_lines=6, store=store
    )
    assert report.quarantined == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "blank line"),
        ("   ", "blank line"),
        ("# a comment !AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C", "comment"),
        (
            "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
            "not an AIS sentence",
        ),
        ("epoch,AIS_Sentences", "not an AIS sentence"),
        ("53l3sj42A590=5Q2220UHE:04=@Ttr222222221@9HH", "not an AIS sentence"),
        ("AIVDM,2,2,1,B,00000000000,2*26", "malformed sentence"),
        ("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0", "malformed sentence"),
        ("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,7*5C", "malformed sentence"),
        ("!AIVDM,1,2,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C", "malformed sentence"),
        ("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*00", "bad checksum"),
        (with_checksum("!AIVDM,1,1,,A,,0"), "undecodable payload"),
        # 22 characters: 132 bits, the latitude (bits 89-116) but not the UTC second (137-143)
        (with_checksum("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@,0"), "undecodable payload"),
        (with_checksum("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00S~,0"), "undecodable payload"),
        (with_checksum("!AIVDM,1,1,,A,05M67FC000G?ufbE`FepT@3n00Sa,0"), "undecodable payload"),
        (tag(c="16x0000000") + sentences(POS)[0], "unparseable time"),
        ("2016-13-45 25:00:00, " + sentences(POS)[0], "unparseable time"),
        ("\x00\x01\x02\xff\xfe junk", "binary data"),
    ],
)
def test_quarantine_reasons(tmp_path: Path, line: str, reason: str) -> None:
    text = sentences(POS)[0] + "\n" + line + "\n"
    report, store = ingest_text(tmp_path, text.encode("latin-1"))
    assert (report.lines, report.stored, report.quarantined) == (2, 1, 1)
    row = one(store, "SELECT line_no, raw, reason FROM quarantine")
    assert row["reason"] == reason and row["line_no"] == 2


def test_out_of_range_position(tmp_path: Path) -> None:
    # 200 degrees east cannot be encoded by pyais as a float; build the raw value by hand
    good = sentences(POS)[0]
    report, store = ingest_text(tmp_path, good + "\n")
    assert report.stored == 1
    from pyais.encode import encode_dict as enc

    s = enc(dict(POS, lon=-181.5), talker_id="AI", sentence_type="VDM")[0]
    report, store = ingest_text(tmp_path, s + "\n", name="b.nmea", store=store)
    assert report.quarantined == 1 and set(reasons(store).values()) == {"out of range"}


def test_line_holding_two_sentences_counts_once(tmp_path: Path) -> None:
    a = sentences(dict(POS, mmsi=273000011))[0]
    b = sentences(dict(POS, mmsi=273000012))[0]
    bad = "!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*00"
    report, store = ingest_text(tmp_path, f"{a}{b}\n{bad}{a}\n{bad}\n")
    # line 2: a failed sentence and a repeat of line 1's first message → a duplicate line
    assert (report.lines, report.stored, report.duplicates, report.quarantined) == (3, 1, 1, 1)
    assert store.query("SELECT count(*) AS n FROM positions").column("n")[0].as_py() == 2


def test_last_line_without_newline_and_crlf(tmp_path: Path) -> None:
    text = sentences(POS)[0] + "\r\n" + sentences(dict(POS, second=40))[0]
    report, store = ingest_text(tmp_path, text)
    assert (report.lines, report.stored) == (2, 2)
    assert store.query("SELECT count(*) AS n FROM positions").column("n")[0].as_py() == 2
