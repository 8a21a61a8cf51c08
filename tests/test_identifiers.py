"""The one IMO check digit (tumen.identifiers): right on real listed vessels, the same in Python and SQL."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import duckdb
import pytest

from tumen.identifiers import (
    imo_check_digit,
    imo_check_sql,
    imo_company_valid,
    imo_ship_valid,
    imo_valid_sql,
)

#: Vessels designated by the UN 1718 Committee / OFAC, with the IMO numbers those lists give
#: (UN S/2019/171 annexes; OFAC SDN entries for ANGARA, LADY R, MAIA-1, SPARTA IV, KUM UN SAN 3,
#: CHONG CHON GANG).
LISTED = [9179842, 9161003, 9358010, 9743033, 8705539, 7937317]


def _sql_valid(values: list[int]) -> list[bool]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, imo BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.execute(f"SELECT {imo_valid_sql('imo')} FROM t ORDER BY i").fetchall()
    return [bool(r[0]) for r in rows]


@pytest.mark.parametrize("imo", LISTED)
def test_listed_vessels_pass_and_every_other_last_digit_fails(imo: int) -> None:
    assert imo_ship_valid(imo) and imo_ship_valid(str(imo)) and imo_ship_valid(f"IMO {imo}")
    assert imo_check_digit(imo // 10) == imo % 10
    wrong = [imo // 10 * 10 + d for d in range(10) if d != imo % 10]
    assert not any(imo_ship_valid(w) for w in wrong)
    assert _sql_valid([imo, *wrong]) == [True] + [False] * 9


def test_worked_example_of_the_resolution() -> None:
    # 9179842: 9*7 + 1*6 + 7*5 + 9*4 + 8*3 + 4*2 = 172, check digit 2
    assert imo_check_digit(917984) == 2
    got = duckdb.sql(f"SELECT {imo_check_sql('9179842')}").fetchone()
    assert got is not None and got[0] == 2


def test_not_seven_digits_is_invalid() -> None:
    for bad in (None, "", "916100", 916100, "91610033", "IMO", "0000000", "9161OO3", True):
        assert not imo_ship_valid(bad)  # type: ignore[arg-type]
    assert _sql_valid([0, 916100, 10_000_000]) == [False, False, False]


def test_python_and_sql_agree_on_a_range_of_numbers() -> None:
    values = list(range(9_170_000, 9_190_000)) + list(range(1_000_000, 1_010_000))
    assert _sql_valid(values) == [imo_ship_valid(v) for v in values]
    assert sum(imo_ship_valid(v) for v in values) == len(values) // 10  # one in ten is valid


def test_python_and_sql_agree_on_every_imo_of_a_real_ofac_list(shared_data: Path) -> None:
    text = gzip.decompress((shared_data / "sanctions/ofac/sdn_2024-05-03.csv.gz").read_bytes())
    imos = sorted(
        {int(m) for m in re.findall(rb"Vessel Registration Identification IMO (\d{7})\b", text)}
    )
    assert len(imos) > 500
    python = [imo_ship_valid(i) for i in imos]
    assert _sql_valid(imos) == python
    # nearly every listed vessel's IMO is a valid ship number (a few entries give company numbers)
    assert sum(python) >= 0.98 * len(imos)


def test_company_numbers() -> None:
    # Ocean Maritime Management Company's number on the UN list, and the same with its last digit changed
    assert imo_company_valid(1790183) and not imo_company_valid(1790184)
    assert not imo_company_valid(None) and not imo_company_valid("179018")
