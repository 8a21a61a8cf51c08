"""The rules file: the TOML form of the issue, and one-line errors naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tumen.errors import InputError
from tumen.watch.rules import Facts, load_rules, matches

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules.toml"


def test_the_documented_example_loads() -> None:
    rules = load_rules(EXAMPLE)
    assert len(rules) >= 5 and len({r.name for r in rules}) == len(rules)
    assert any(r.area is not None for r in rules) and any(r.listed for r in rules)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[rules]]\nevent = 'gap'\n", "rules[1]: key 'name': required"),
        (
            "[[rules]]\nname = 'a'\nevent = 'gapp'\n",
            'rules[1] ("a"): key \'event\': "gapp" is not an event type',
        ),
        ("[[rules]]\nname = 'a'\nsubtype = 'renamed'\n", "key 'subtype'"),
        (
            "[[rules]]\nname = 'a'\nevent = 'gap'\nsubtype = 'dprk_mid'\n",
            "key 'subtype': subtypes belong to",
        ),
        ("[[rules]]\nname = 'a'\nmmsi = ['x1']\n", "key 'mmsi': 'x1' is not a number"),
        ("[[rules]]\nname = 'a'\nlisted = 'yes'\n", "key 'listed': give true or false"),
        ("[[rules]]\nname = 'a'\nmin_score = -1\n", "key 'min_score'"),
        ("[[rules]]\nname = 'a'\ncooldown = 3\n", "key 'cooldown': unknown key"),
        ("[[rules]]\nname = 'a'\narea = 'missing.geojson'\n", "key 'area'"),
        (
            "[[rules]]\nname = 'a'\n[[rules]]\nname = 'a'\n",
            "rules[2] (\"a\"): key 'name': two rules",
        ),
        ("rules = 3\n", "give at least one [[rules]]"),
        ("[[rules]\nname = 'a'\n", "not valid TOML"),
    ],
)
def test_bad_rules_say_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "watch.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_rules(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message


def test_bad_rules_file_is_one_line_from_the_cli(cli, tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[[rules]]\nname = 'a'\nevent = 'meeting'\n")
    code, _out, err = cli(
        "watch", "--replay", str(path), "--rules", str(path), "--db", str(tmp_path / "t.duckdb")
    )
    assert code == 2 and "key 'event'" in err and "Traceback" not in err


def test_conditions_all_hold(tmp_path: Path) -> None:
    (tmp_path / "area.geojson").write_text(
        '{"type": "Polygon", "coordinates": [[[130, 42], [131, 42], [131, 43], [130, 43], [130, 42]]]}'
    )
    (tmp_path / "r.toml").write_text(
        "[[rules]]\nname = 'a'\nevent = 'gap'\nimo = [9179842]\nports = ['Rajin']\narea = 'area.geojson'\n"
    )
    (rule,) = load_rules(tmp_path / "r.toml")
    ev = {
        "type": "gap",
        "subtype": None,
        "mmsi": 1,
        "other_mmsi": None,
        "lat": 42.5,
        "lon": 130.5,
        "evidence": {
            "dark_port_candidates": [{"port": "Rajin"}],
            "end_lat": 50.0,
            "end_lon": 140.0,
        },
    }
    facts = Facts(set(), {1: {9179842}}, {}, None)
    assert matches(rule, ev, facts)
    assert not matches(rule, dict(ev, type="loitering"), facts)
    assert not matches(rule, ev, Facts(set(), {1: {1234567}}, {}, None))
    assert not matches(
        rule, dict(ev, evidence={"dark_port_candidates": [{"port": "Dunai"}]}), facts
    )
    assert not matches(
        rule, dict(ev, lat=10.0, evidence={"dark_port_candidates": [{"port": "Rajin"}]}), facts
    )
