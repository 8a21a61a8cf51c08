"""`tumen ingest` and `tumen export` from the command line: JSON contract, errors, re-ingest, export."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tumen.store import DuckDBStore

CAPTURE = "dma_aislib_stream_20100611.nmea"


def test_ingest_json_contract_and_reingest(cli, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = shared_data / "ais" / "nmea" / CAPTURE
    db = tmp_path / "t.duckdb"
    code, out, err = cli("ingest", src, "--db", db, "--json")
    assert code == 0, err
    first = json.loads(out)
    for key in ("lines", "stored", "duplicates", "quarantined"):
        assert isinstance(first[key], int)
    assert first["lines"] == 8551 == first["stored"] + first["duplicates"] + first["quarantined"]
    assert first["files"][0]["path"] == str(src.resolve()) and len(first["files"][0]["sha256"]) == 64
    # the same file again, and a gzip copy of it: nothing new is stored
    gz = tmp_path / (CAPTURE + ".gz")
    gz.write_bytes(gzip.compress(src.read_bytes()))
    code, out, _ = cli("ingest", src, gz, "--db", db, "--json")
    again = json.loads(out)
    assert code == 0
    assert again["files"][0]["already_ingested"] and again["files"][0]["duplicates"] == 8551
    assert again["stored"] == 0 and again["rows"] == {"positions": 0, "statics": 0, "messages": 0}
    assert again["lines"] == 2 * 8551 == again["duplicates"] + again["quarantined"]
    with DuckDBStore(db, read_only=True) as store:
        assert (
            store.scalar("SELECT count(*) FROM sources") == 2
        )  # the .gz is another file (its lines were read)
        assert store.scalar("SELECT count(*) FROM positions") == first["rows"]["positions"]


def test_ingest_summary_adds_up(cli, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(
        "ingest", shared_data / "ais" / "nmea" / "gfw_errors.nmea", "--db", tmp_path / "t.duckdb"
    )
    assert code == 0, err
    # lines 1 and 3 carry 186-bit position reports (decoded, flagged nonstandard_length);
    # lines 2 and 4 are cut copies whose checksum no longer matches
    assert "5 lines = 3 stored + 0 duplicates + 2 quarantined" in " ".join(out.split())
    assert "bad checksum" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "is a PDF"),
        (bytes(range(256)) * 64, "binary data"),
        (b"ship,time,y,x\n1,2,3,4\n", "unknown column layout"),
        (b"hello\nworld\n", "holds no AIS sentences"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli, shared_data: Path, tmp_path: Path, content, message
) -> None:  # type: ignore[no-untyped-def]
    good = shared_data / "ais" / "nmea" / "gfw_errors.nmea"
    bad = tmp_path / "input.dat"
    if content is not None:
        bad.write_bytes(content)
    db = tmp_path / "t.duckdb"
    code, out, err = cli("ingest", good, bad, "--db", db)
    assert code == 2
    assert message in err and str(bad) in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out
    assert (
        not db.exists()
    )  # refused before the store was opened: the good file was not ingested either


def test_directory_and_tz(cli, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_data / "ais" / "nmea" / "vernon_seine_20160404.log.gz", folder)
    (folder / "README.md").write_text("# notes about this capture\n")
    db = tmp_path / "t.duckdb"
    code, out, err = cli("ingest", folder, "--db", db, "--tz", "Europe/Paris", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert [Path(f["path"]).name for f in got["files"]] == ["vernon_seine_20160404.log.gz"]
    assert [Path(s["path"]).name for s in got["skipped"]] == ["README.md"]
    with DuckDBStore(db, read_only=True) as store:
        first = store.scalar("SELECT min(ts) FROM positions")
    assert str(first).startswith(
        "2016-04-03 22:00"
    )  # 00:00 in Paris (UTC+2) is 22:00 UTC the day before
    code, _, err = cli("ingest", folder, "--db", db, "--tz", "Mars/Olympus")
    assert code == 3 and "unknown time zone" in err


def test_documentation_in_a_directory_is_skipped_even_when_it_quotes_sentences(
    cli, shared_data: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The shared captures' README quotes AIS sentences; walking the folder must not store them."""
    readme = shared_data / "ais" / "README.md"
    assert "!AIVDM," in readme.read_text()
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(readme, folder)
    shutil.copy(shared_data / "ais" / "nmea" / "gfw_mixed_types.nmea", folder)
    db = tmp_path / "t.duckdb"
    code, out, err = cli("ingest", folder, "--db", db, "--json")
    assert code == 0, err
    got = json.loads(out)
    assert [Path(f["path"]).name for f in got["files"]] == ["gfw_mixed_types.nmea"]
    assert [(Path(s["path"]).name, "documentation" in s["reason"]) for s in got["skipped"]] == [
        ("README.md", True)
    ]
    lines = sum(1 for _ in (folder / "gfw_mixed_types.nmea").open())
    assert got["lines"] == lines == got["stored"] + got["duplicates"] + got["quarantined"]
    # named on its own, the same file is read (its quoted sentences are the user's choice)
    code, out, err = cli("ingest", folder / "README.md", "--db", tmp_path / "r.duckdb", "--json")
    assert code == 0 and json.loads(out)["stored"] > 0, err


def test_export_parquet_and_csv_roundtrip(cli, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.duckdb"
    cli("ingest", shared_data / "ais" / "nmea" / CAPTURE, "--db", db)
    with DuckDBStore(db, read_only=True) as store:
        want = store.query("SELECT * FROM positions ORDER BY pos_id")
    out = tmp_path / "positions.parquet"
    code, stdout, err = cli("export", "positions", "--out", out, "--db", db, "--json")
    assert code == 0, err
    assert json.loads(stdout) == {
        "table": "positions",
        "out": str(out),
        "format": "parquet",
        "rows": want.num_rows,
    }
    got = pq.read_table(out)
    assert got.schema.names == want.schema.names
    assert got.sort_by("pos_id").to_pylist() == want.to_pylist()
    out_csv = tmp_path / "quarantine.txt"
    code, _, err = cli("export", "quarantine", "--out", out_csv, "--format", "csv", "--db", db)
    assert code == 0, err
    with DuckDBStore(db, read_only=True) as store:
        n = store.scalar("SELECT count(*) FROM quarantine")
    assert pacsv.read_csv(out_csv).num_rows == n
    code, _, err = cli("export", "nosuchtable", "--out", tmp_path / "x.parquet", "--db", db)
    assert code == 2 and "positions" in err
    code, _, err = cli(
        "export", "positions", "--out", tmp_path / "x.kmz", "--format", "kmz", "--db", db
    )
    assert code == 2 and "unknown export format" in err
