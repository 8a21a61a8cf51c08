"""What the CLI prints: help as written, flags as flags, tables unwrapped in pipes, logs on -v."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tumen.cli.reference import all_commands
from tumen.config import describe_settings

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = all_commands()
DEMO_LIST = ROOT / "src" / "tumen" / "screen" / "data" / "tumen_demo.ftm.json"


def _words(text: str) -> str:
    return " ".join(text.split())


def _bare(text: str) -> str:
    """``text`` without any whitespace (help is re-wrapped, also at hyphens)."""
    return "".join(text.split())


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_help_prints_every_text_as_written_and_flags_as_flags(cli, path, command) -> None:
    """No markup is eaten (`[risk.weights]` stays), and no flag is labelled ``<bool>``."""
    code, out, err = cli(*path.split()[1:], "--help")
    assert code == 0, err
    shown = _bare(out)
    assert _bare(command.help) in shown
    for param in command.params:
        if param.help and not param.hidden:
            assert _bare(param.help) in shown, f"{path} {param.opts}: help text altered"
    assert "<bool>" not in out
    for param in command.params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            name = max(param.opts, key=len)
            assert re.search(rf"{re.escape(name)}(\s*/\s*\S+)?\s{{2,}}", out), (path, name)


def test_risk_help_shows_the_settings_table_name(cli) -> None:
    code, out, _ = cli("risk", "--help")
    assert code == 0 and "`[risk.weights]` in tumen.toml" in _words(out)
    assert "--json " in out and "--json <" not in out


def test_tables_into_a_pipe_are_not_wrapped_or_cut(tmp_path: Path) -> None:
    """`tumen config` through a real pipe: every description on the row of its setting."""
    proc = subprocess.run(
        [sys.executable, "-m", "tumen", "config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "TERM": "xterm"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    long_rows = [r for r in describe_settings() if len(r["description"] or "") > 80]
    assert long_rows, "no setting with a long description to check"
    lines = proc.stdout.splitlines()
    for row in long_rows:
        # the row whose first column is the setting (another row's description may name it)
        line = next(ln for ln in lines if ln.lstrip("│ ").startswith(f"{row['name']} "))
        assert row["description"] in line, line
    assert "…" not in proc.stdout
    assert max(len(ln) for ln in lines) > 120  # laid out at full width, not 80 columns


def test_tables_into_a_file_in_process_are_not_wrapped(cli, monkeypatch) -> None:
    from tumen.cli import common

    # pytest-xdist's workers run with COLUMNS=80, which Rich takes as an explicit width when the
    # console is made; a user's shell piping `tumen config` has no COLUMNS.
    monkeypatch.setattr(common.out_console, "_width", None)
    code, out, _ = cli("config")
    assert code == 0 and "…" not in out
    longest = max(describe_settings(), key=lambda r: len(r["description"] or ""))
    assert longest["description"] in out


def test_provenance_line_numbers_have_no_thousands_separators() -> None:
    from tumen.report.dossier import format_ranges

    assert format_ranges([(56, 56), (7904, 7904)]) == "56, 7904"
    assert format_ranges([(1200, 1305), (12000, 12000)]) == "1200–1305, 12000"
    assert format_ranges([(1, 1), (3, 4), (9, 9)], limit=2) == "1, 3–4, … (+1 more)"


# -- -v / -q -----------------------------------------------------------------------------------


@pytest.fixture()
def nmea(shared_data: Path) -> Path:
    return shared_data / "ais" / "nmea" / "dma_drift_212123000.nmea"


def test_verbose_logs_to_stderr_in_ingest(cli, nmea: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    code, out, err = cli("ingest", nmea, "--db", db, "--json")
    assert code == 0 and "INFO" not in err and "DEBUG" not in err
    code, out, err = cli("ingest", nmea, "--db", tmp_path / "v.duckdb", "--json", "-v")
    assert code == 0, err
    assert f"INFO tumen.cli.ingest: {nmea.resolve()}: " in err and "stored" in err
    assert "INFO tumen.store.duckdb: store" in err and "(new)" in err
    assert "DEBUG" not in err
    assert out.count("\n") == 1  # logs never reach stdout: the JSON stays one object
    code, out, err = cli("ingest", nmea, "--db", tmp_path / "v.duckdb", "--json", "-vv")
    assert code == 0 and "DEBUG tumen: effective settings" in err
    assert "already ingested" in err


def test_quiet_keeps_stderr_empty(cli, nmea: Path, tmp_path: Path) -> None:
    code, out, err = cli("ingest", nmea, "--db", tmp_path / "s.duckdb", "-q")
    assert code == 0 and out == "" and err == ""


def test_verbose_in_lists_load_and_screen(cli, tmp_path: Path, nmea: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert cli("ingest", nmea, "--db", db, "-q")[0] == 0
    code, _, err = cli("lists", "load", DEMO_LIST, "--db", db, "--json")
    assert code == 0 and "INFO" not in err
    code, _, err = cli("lists", "load", DEMO_LIST, "--db", db, "--json", "--force", "-v")
    assert code == 0, err
    assert "INFO tumen.store.duckdb: store" in err and "INFO tumen: tumen lists load done" in err
    code, _, err = cli("screen", "--db", db, "--json", "-v")
    assert code == 0, err
    assert "INFO tumen: tumen screen done" in err
    code, _, err = cli("screen", "--db", db, "--json")  # the level does not leak between runs
    assert code == 0 and "INFO" not in err


#: commands of cli/screen.py (another part of the code) that do not take -v/-q yet
WITHOUT_VERBOSITY: set[str] = set()  # every command has -v/-q now


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_takes_verbose_and_quiet(path, command) -> None:
    names = {p.name for p in command.params}
    if path in WITHOUT_VERBOSITY:
        assert not {"verbose", "quiet"} <= names, f"{path} has -v/-q now: drop it from the list"
        return
    assert {"verbose", "quiet"} <= names, f"{path} lacks -v/--verbose or -q/--quiet"
