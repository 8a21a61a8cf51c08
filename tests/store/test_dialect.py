"""The dialect layer (issue 14): DuckDB's renderings run and mean what the docstrings say; the
ordering key is the documented integer formula, so any engine reproduces it."""

from __future__ import annotations

import json
import math
from datetime import datetime

import duckdb
import pytest

from tumen.store.dialect import DIALECTS, DUCKDB, SPARK, TIE_BITS, Dialect


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    return c


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def order_key_reference(ts: datetime, lat: float, lon: float, sog_kn: float | None) -> int:
    """The ordering key as the dialect's docstring defines it, in plain Python integers."""
    p, m = 2_147_483_647, 1_000_003

    def rem(a: int, b: int) -> int:  # SQL's %: the sign of the dividend
        return int(math.fmod(a, b))

    la = math.floor((lat + 90.0) * 1e6)
    lo = math.floor((lon + 180.0) * 1e6)
    s = math.floor((sog_kn if sog_kn is not None else -0.1) * 10.0)
    h = rem(rem(la, p) * m + rem(lo, p), p)
    h = rem(h * m + rem(s, p), p)
    tie = rem(rem(h, TIE_BITS) + TIE_BITS, TIE_BITS)
    ms = (ts - datetime(1970, 1, 1)).days * 86_400_000 + (ts - datetime(1970, 1, 1)).seconds * 1000
    ms += (ts - datetime(1970, 1, 1)).microseconds // 1000
    return ms * TIE_BITS + tie


@pytest.mark.parametrize(
    ("ts", "lat", "lon", "sog"),
    [
        (datetime(2024, 1, 10, 3, 4, 5, 678000), 42.2476, 130.3011, 0.1),
        (datetime(2024, 1, 10, 3, 4, 5, 678000), 42.2476, 130.3011, 0.2),
        (datetime(2024, 6, 1), -33.8688, -151.2093, None),
        (datetime(2001, 1, 1, 0, 0, 0, 1000), -90.0, -180.0, 102.3),
        (datetime(2030, 12, 31, 23, 59, 59, 999000), 90.0, 180.0, 0.0),
        (datetime(2024, 3, 1), 0.000001, -0.000001, 14.7),
    ],
)
def test_order_key_is_the_documented_integer_formula(
    con: duckdb.DuckDBPyConnection, ts: datetime, lat: float, lon: float, sog: float | None
) -> None:
    expr = DUCKDB.order_key("ts", "lat", "lon", "sog_kn")
    got = con.execute(
        f"SELECT {expr} FROM (SELECT CAST(? AS TIMESTAMP) AS ts, CAST(? AS DOUBLE) AS lat, "
        "CAST(? AS DOUBLE) AS lon, CAST(? AS REAL) AS sog_kn)",
        [ts, lat, lon, sog],
    ).fetchone()[0]
    # REAL: the stored speed is a float32, read as the DOUBLE it equals
    sog64 = (
        None
        if sog is None
        else float(con.execute("SELECT CAST(CAST(? AS REAL) AS DOUBLE)", [sog]).fetchone()[0])
    )
    assert got == order_key_reference(ts, lat, lon, sog64)
    # the tie-break stays below the millisecond: ordering by k is ordering by time first
    assert 0 <= got % TIE_BITS < TIE_BITS
    assert got // TIE_BITS == order_key_reference(ts, lat, lon, sog64) // TIE_BITS


def test_order_key_spelt_alike_but_for_the_epoch() -> None:
    duck = DUCKDB.order_key("ts", "lat", "lon", "sog_kn")
    spark = SPARK.order_key("ts", "lat", "lon", "sog_kn")
    assert "hash(" not in duck and "hash(" not in spark
    assert duck.replace("epoch_ms(ts)", "unix_millis(ts)") == spark


def test_time_round_trip(con: duckdb.DuckDBPyConnection) -> None:
    t = "CAST(1704855845.123456 AS DOUBLE)"
    assert one(con, f"SELECT {DUCKDB.ts_from_s(t)}") == datetime(2024, 1, 10, 3, 4, 5, 123456)
    assert one(con, f"SELECT {DUCKDB.epoch_s(DUCKDB.ts_from_s(t))}") == 1704855845.123456
    assert one(con, f"SELECT {DUCKDB.epoch_us(DUCKDB.ts_from_s(t))}") == 1704855845123456
    assert one(con, f"SELECT {DUCKDB.iso_seconds(DUCKDB.ts_from_s(t))}") == "2024-01-10T03:04:05Z"


def test_id_list_keeps_first_occurrences_in_order(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, f"SELECT {DUCKDB.id_list('7', 'NULL', '3', '7', '5')}") == [7, 3, 5]
    assert one(con, f"SELECT {DUCKDB.id_list('NULL', 'NULL')}") == []


def test_ordered_and_sorted_lists(con: duckdb.DuckDBPyConnection) -> None:
    rows = "(VALUES (2, 'b', 1), (1, 'c', 2), (1, 'a', 3)) t(o, f, v)"
    assert one(con, f"SELECT {DUCKDB.collect_list('v', 'o, f')} FROM {rows}") == [3, 2, 1]
    flat = DUCKDB.sorted_distinct(DUCKDB.flatten(DUCKDB.collect_list(DUCKDB.array("o", "v"))))
    assert one(con, f"SELECT {flat} FROM {rows}") == [1, 2, 3]


def test_relations(con: duckdb.DuckDBPyConnection) -> None:
    rng = DUCKDB.range_table(0, 3, "o", "i")
    assert con.execute(f"SELECT i FROM {rng} ORDER BY i").fetchall() == [(0,), (1,), (2,)]
    ex = DUCKDB.explode_range("a", "a + 2")
    assert con.execute(f"SELECT {ex} AS d FROM (SELECT 5 AS a) ORDER BY d").fetchall() == [
        (5,),
        (6,),
    ]
    first = DUCKDB.first_per(
        "SELECT * FROM (VALUES (1, 'x', 2), (1, 'y', 1), (2, 'z', 0)) t(g, s, o)",
        ["g", "s"],
        "g",
        "o",
    )
    assert sorted(con.execute(first).fetchall()) == [(1, "y"), (2, "z")]
    con.execute("CREATE TABLE a AS SELECT 1 AS x, 'p' AS y")
    con.execute("CREATE TABLE b AS SELECT 'q' AS y, 2 AS x")
    union = DUCKDB.union_all_by_name(["a", "b"], ["x", "y"])
    assert sorted(con.execute(union).fetchall()) == [(1, "p"), (2, "q")]
    assert "BY NAME" not in SPARK.union_all_by_name(["a", "b"], ["x", "y"])


def test_numbers(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, f"SELECT {DUCKDB.int_div('17', '5')}") == 3
    assert one(con, f"SELECT {DUCKDB.int_div('-7', '2')}") == -3  # toward zero, as Spark's div
    q = DUCKDB.quantile("x", 0.9)
    values = "(VALUES (1e0), (2e0), (3e0), (4e0)) t(x)"
    assert one(con, f"SELECT {q} FROM {values}") == pytest.approx(3.7)
    ids = con.execute(f"SELECT {DUCKDB.row_id()} AS id FROM range(5)").fetchall()
    assert len({i for (i,) in ids}) == 5


def test_text(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, f"SELECT {DUCKDB.string_literal(chr(39) + 'a' + chr(92))}") == "'a\\"
    assert SPARK.string_literal("a\\s'") == "'a\\\\s\\''"
    spaced = DUCKDB.regexp_replace_all("'a  b' || chr(9) || 'c'", r"\s+", " ")
    assert one(con, f"SELECT {spaced}") == "a b c"


def test_evidence_leaves_out_null_measures(con: duckdb.DuckDBPyConnection) -> None:
    measures = DUCKDB.json_object(
        ("x", "1.5"), ("gone", "CAST(NULL AS DOUBLE)"), ("l", DUCKDB.array("1", "2"))
    )
    ev = DUCKDB.evidence(
        "'gaps'", "'{\"a\":1}'", DUCKDB.id_list("5", "6"), "CAST(NULL AS BIGINT)", "[7]", measures
    )
    assert json.loads(one(con, f"SELECT {ev}")) == {
        "detector": "gaps",
        "params": {"a": 1},
        "position_ids": [5, 6],
        "static_ids": [7],
        "x": 1.5,
        "l": [1, 2],
    }


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_every_construct_is_spelt_by_both(dialect: Dialect) -> None:
    # every construct the base class leaves open is spelt by each concrete dialect
    open_ones = sorted(Dialect.__abstractmethods__)
    assert len(open_ones) >= 20
    missing = [n for n in open_ones if getattr(type(dialect), n) is getattr(Dialect, n)]
    assert not missing, missing
    assert not type(dialect).__abstractmethods__
    assert SPARK.temp_table("t", "SELECT 1") != DUCKDB.temp_table("t", "SELECT 1")
    assert (
        SPARK.array_type("BIGINT") == "ARRAY<BIGINT>" and DUCKDB.array_type("BIGINT") == "BIGINT[]"
    )


def test_json_and_array_constructs(con: duckdb.DuckDBPyConnection) -> None:
    doc = '\'[{"reference": 37095, "authority": "OFAC"}, {"list": "UN", "reference": ""}]\''
    assert one(con, f"SELECT {DUCKDB.json_text(doc, '$[0].authority')}") == "OFAC"
    assert json.loads(str(one(con, f"SELECT {DUCKDB.json_fragment(doc, '$[1]')}"))) == {
        "list": "UN",
        "reference": "",
    }
    recs = DUCKDB.json_records(doc, ("reference", "authority", "list"))
    refs = DUCKDB.array_filter(
        DUCKDB.array_transform(
            recs, "x", "CASE WHEN x.reference <> '' THEN x.authority || ' #' || x.reference END"
        ),
        "k",
        "k IS NOT NULL",
    )
    assert one(con, f"SELECT {refs}") == ["OFAC #37095"]
    assert one(con, f"SELECT {DUCKDB.array_size(recs)}") == 2
    assert sorted(one(con, f"SELECT {DUCKDB.array_distinct('[3, 1, 3]')}")) == [1, 3]
    rows = con.execute(f"SELECT {DUCKDB.explode('[1, 2]')} AS x ORDER BY x").fetchall()
    assert rows == [(1,), (2,)]
    words = "(VALUES ('b'), ('a'), ('b'), (NULL)) t(w)"
    assert one(con, f"SELECT {DUCKDB.string_agg('w', ', ', distinct=True)} FROM {words}") == "a, b"
    assert one(con, f"SELECT {DUCKDB.string_agg('w', '; ')} FROM {words}") == "a; b; b"
    assert one(con, f"SELECT {DUCKDB.string_agg('w', ', ')} FROM {words} WHERE w IS NULL") is None
