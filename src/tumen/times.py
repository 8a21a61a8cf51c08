"""Times as tumen stores them: naive ``datetime`` in UTC.

One parser for the ISO 8601 times users and files give (CLI flags, API parameters, the
events contract, truth files, alerts): ``Z`` and numeric offsets are converted to UTC, and a
time without a zone *is* UTC (the events contract), never the machine's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 date or time into a naive UTC ``datetime``.

    Parameters
    ----------
    text
        ``2024-01-10``, ``2024-01-10T06:00``, ``2024-01-10T06:00:00Z`` or with an offset
        (``2024-01-10T15:00+09:00`` → 06:00 UTC).  Surrounding white space is ignored.

    Raises
    ------
    ValueError
        When ``text`` is not ISO 8601; callers turn it into their own one-line error.

    Examples
    --------
    >>> parse_utc("2024-03-04T13:26:00+09:00")
    datetime.datetime(2024, 3, 4, 4, 26)
    >>> parse_utc("2024-03-04")
    datetime.datetime(2024, 3, 4, 0, 0)
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def unix_seconds(when: datetime) -> int:
    """A naive UTC (or aware) ``datetime`` as whole Unix seconds."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())
