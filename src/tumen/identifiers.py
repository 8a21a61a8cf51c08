"""IMO numbers: the ONE definition of their check digits, in Python and as SQL.

An IMO **ship** identification number is seven digits; the last is the check digit, the last digit
of the sum of the first six multiplied by 7, 6, 5, 4, 3, 2 (IMO Resolution A.1117(30), "IMO ship
identification number scheme", 2017, annex §4; it replaced A.1078(28) with the same rule).
Example: 9179842 → 9·7 + 1·6 + 7·5 + 9·4 + 8·3 + 4·2 = 172 → check digit 2.

An IMO **company and registered owner** identification number (MSC.1/Circ.1142, the scheme
behind the UN and OFAC lists' ``IMO 1790183`` for companies) is also seven digits; its check digit
is ``(11 − Σ d_i·w_i mod 11) mod 10`` with weights 8, 6, 4, 2, 9, 7.

:func:`imo_valid_sql` and :func:`imo_check_sql` build the ship rule as SQL from the same
:data:`IMO_SHIP_WEIGHTS` for the set-based detectors; a test checks that they agree with
:func:`imo_ship_valid` on every seven-digit number of a range and on real listed vessels.

Examples
--------
>>> imo_ship_valid(9179842), imo_ship_valid(9179843), imo_ship_valid("IMO 9161003")
(True, False, True)
>>> imo_check_digit(917984)
2
"""

from __future__ import annotations

import re

#: Weights of the first six digits of an IMO ship number (IMO Res. A.1117(30)).
IMO_SHIP_WEIGHTS = (7, 6, 5, 4, 3, 2)
#: Weights of the first six digits of an IMO company / registered owner number (MSC.1/Circ.1142).
IMO_COMPANY_WEIGHTS = (8, 6, 4, 2, 9, 7)

_SEVEN = re.compile(r"\d{7}")


def imo_check_digit(first_six: int) -> int:
    """The check digit an IMO ship number with these first six digits ends in.

    >>> imo_check_digit(916100)
    3
    """
    digits = [int(c) for c in f"{first_six:06d}"]
    return sum(d * w for d, w in zip(digits, IMO_SHIP_WEIGHTS, strict=True)) % 10


def _seven_digits(number: int | str | None) -> list[int] | None:
    """The seven digits of ``9161003`` / ``'9161003'`` / ``'IMO 9161003'``, else ``None``."""
    if number is None or isinstance(number, bool):
        return None
    text = str(number).strip().upper()
    if text.startswith("IMO"):
        text = text[3:].strip()
    if not _SEVEN.fullmatch(text) or text == "0000000":
        return None
    return [int(c) for c in text]


def imo_ship_valid(number: int | str | None) -> bool:
    """Whether ``number`` is seven digits with a correct IMO **ship** check digit.

    Accepts an int, a string of seven digits, or ``'IMO 1234567'``; anything else is invalid.

    >>> imo_ship_valid(9161003), imo_ship_valid(9161004), imo_ship_valid(916100)
    (True, False, False)
    """
    digits = _seven_digits(number)
    if digits is None:
        return False
    total = sum(d * w for d, w in zip(digits[:6], IMO_SHIP_WEIGHTS, strict=True))
    return total % 10 == digits[6]


def imo_company_valid(number: int | str | None) -> bool:
    """Whether ``number`` is seven digits with a correct IMO **company / registered owner** check digit.

    >>> imo_company_valid(1790183), imo_company_valid(1790184)
    (True, False)
    """
    digits = _seven_digits(number)
    if digits is None:
        return False
    total = sum(d * w for d, w in zip(digits[:6], IMO_COMPANY_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == digits[6]


def _weighted_sum_sql(imo: str) -> str:
    # digit p (10**p's place) as floor((imo mod 10**(p+1)) / 10**p): plain SQL that DuckDB and
    # Spark read alike (no integer-division operator, whose spelling differs); exact below 2**53
    return " + ".join(
        f"CAST(floor(((({imo}) % {10 ** (p + 1)}) / {10**p})) AS BIGINT) * {w}"
        for p, w in zip(range(6, 0, -1), IMO_SHIP_WEIGHTS, strict=True)
    )


def imo_check_sql(imo: str) -> str:
    """SQL expression: the check digit the seven-digit integer ``imo`` should end in."""
    return f"(({_weighted_sum_sql(imo)}) % 10)"


def imo_valid_sql(imo: str) -> str:
    """SQL condition: the integer ``imo`` is a seven-digit IMO ship number with a correct check digit."""
    return f"(({imo}) BETWEEN 1000000 AND 9999999 AND {imo_check_sql(imo)} = ({imo}) % 10)"
