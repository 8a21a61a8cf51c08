"""Documentation stays true: the CLI reference is current and every option explains itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tumen.cli.reference import all_commands, cli_reference_markdown

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = all_commands()


def test_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == cli_reference_markdown(), (
        "docs/cli.md is out of date: run `python -m tumen.cli.reference > docs/cli.md`"
    )


def test_the_issues_commands_exist() -> None:
    names = {path for path, _ in COMMANDS}
    for required in (
        "tumen ingest",
        "tumen export",
        "tumen detect",
        "tumen events",
        "tumen simulate",
        "tumen evaluate",
        "tumen lists",
        "tumen lists load",
        "tumen lists update",
        "tumen screen",
        "tumen risk",
        "tumen report",
        "tumen demo",
        "tumen config",
    ):
        assert required in names


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path: str, command: object) -> None:
    assert (command.help or "").strip(), f"{path} has no help text"  # type: ignore[attr-defined]
    for param in command.params:  # type: ignore[attr-defined]
        if param.param_type_name != "option" or param.hidden:
            continue
        text = param.help or ""
        assert text.strip(), f"{path} {param.opts[0]} has no help text"
        # Rich would swallow "[default: …]" as markup: write defaults in parentheses.
        assert not re.search(r"\[[a-z][^\]]*\]", text), f"{path} {param.opts[0]}: {text!r}"


def test_every_command_takes_db_or_out_and_json() -> None:
    for path, command in COMMANDS:
        names = {p.name for p in command.params}
        if path in ("tumen simulate", "tumen demo", "tumen lists update"):
            continue
        assert "db" in names, f"{path} has no --db"
        assert "json_out" in names or "fmt" in names, f"{path} has no --json"


def test_detector_reference_is_current() -> None:
    from tumen.detect.registry import DETECTORS, detectors_markdown

    current = (ROOT / "docs" / "detectors.md").read_text(encoding="utf-8")
    assert current == detectors_markdown(), (
        "docs/detectors.md is out of date: run `python -m tumen.detect.registry > docs/detectors.md`"
    )
    for det in DETECTORS:  # every detector states its definition and public source
        assert f"`{det.event_type}`" in current and det.source in current
