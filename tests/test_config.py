"""Settings: precedence, validation and documentation of every field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tumen.config import Settings, describe_settings, load_settings
from tumen.errors import ConfigError


def test_defaults_follow_the_published_definitions() -> None:
    s = load_settings(environ={})
    assert s.detect.gaps.min_gap_h == 6.0
    assert s.detect.encounters.max_distance_m == 500.0
    assert s.detect.encounters.min_duration_h == 2.0
    assert s.detect.loitering.min_duration_h == 4.0
    assert s.detect.segments.max_speed_kn == 50.0
    assert s.detect.port_visits.min_duration_min == 30.0


def test_precedence_toml_env_flags(tmp_path: Path) -> None:
    toml = tmp_path / "tumen.toml"
    toml.write_text('db = "from_toml.duckdb"\n[detect.gaps]\nmin_gap_h = 12\nmin_port_stay_h = 3\n')
    s = load_settings(toml, environ={})
    assert s.db == Path("from_toml.duckdb") and s.detect.gaps.min_gap_h == 12
    s = load_settings(toml, environ={"TUMEN_DETECT__GAPS__MIN_GAP_H": "8"})
    assert s.detect.gaps.min_gap_h == 8 and s.detect.gaps.min_port_stay_h == 3
    s = load_settings(
        toml,
        overrides={"detect.gaps.min_gap_h": 9, "db": None},
        environ={"TUMEN_DETECT__GAPS__MIN_GAP_H": "8"},
    )
    assert s.detect.gaps.min_gap_h == 9 and s.db == Path("from_toml.duckdb")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[detect.gaps]\nmin_gap_h = -1\n", "detect.gaps.min_gap_h"),
        ("[detect.gaps]\nmin_gap_hours = 1\n", "min_gap_hours"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_bad_config_says_where(tmp_path: Path, text: str, fragment: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_settings(toml, environ={})


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_every_setting_is_documented() -> None:
    rows = describe_settings(Settings)
    undocumented = [r["name"] for r in rows if not r["description"]]
    assert rows and not undocumented, f"settings without a description: {undocumented}"


def test_config_command_prints_effective_json(cli, tmp_path: Path) -> None:
    code, out, _ = cli("config", "--json", "--db", tmp_path / "x.duckdb")
    assert code == 0
    data = json.loads(out)
    assert data["db"].endswith("x.duckdb")
    assert data["detect"]["encounters"]["max_speed_kn"] == 2.0


def test_tumen_variables_that_are_not_settings_are_ignored() -> None:
    # TUMEN_SHARED_DATA locates the shared data folder (tests, demo); it is not a setting
    s = load_settings(environ={"TUMEN_SHARED_DATA": "/data", "TUMEN_REPORT__TOP_N": "3"})
    assert s.report.top_n == 3
