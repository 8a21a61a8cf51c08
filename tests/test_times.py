"""The one ISO 8601 parser (tumen.times): UTC in, naive UTC out, never the machine's zone."""

from __future__ import annotations

from datetime import datetime

import pytest

from tumen.times import parse_utc, unix_seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-04", datetime(2024, 3, 4)),
        ("2024-03-04T04:26", datetime(2024, 3, 4, 4, 26)),
        ("2024-03-04T04:26:00Z", datetime(2024, 3, 4, 4, 26)),
        ("2024-03-04T04:26:00z", datetime(2024, 3, 4, 4, 26)),
        (" 2024-03-04T13:26:00+09:00 ", datetime(2024, 3, 4, 4, 26)),  # Vladivostok/Pyongyang offsets
        ("2024-03-03T23:30:00-05:00", datetime(2024, 3, 4, 4, 30)),
    ],
)
def test_times_become_naive_utc(text: str, expected: datetime) -> None:
    assert parse_utc(text) == expected


def test_a_time_without_zone_is_utc_whatever_the_machine_zone(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Vladivostok")
    time.tzset()
    try:
        assert unix_seconds(parse_utc("1970-01-02T00:00:00")) == 86_400
        assert unix_seconds(parse_utc("1970-01-02T10:00:00+10:00")) == 86_400
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "04/03/2024"])
def test_not_iso_8601_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_utc(text)
