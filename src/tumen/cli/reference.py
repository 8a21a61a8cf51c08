"""The command-line reference (``docs/cli.md``), generated from the commands themselves.

``python -m tumen.cli.reference > docs/cli.md`` regenerates it; a test fails when the
file is out of date or when a command or option has no help text.
"""

from __future__ import annotations

from typing import Any

import typer.main


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name in sorted(getattr(group, "commands", {})):
        sub = group.commands[name]
        path = f"{prefix} {name}"
        out.append((path, sub))
        out.extend(_commands(sub, path))
    return out


def all_commands() -> list[tuple[str, Any]]:
    """Every ``tumen`` command and sub-command as ``("tumen ingest", command)``, sorted."""
    from tumen.cli import app

    return _commands(typer.main.get_command(app), "tumen")


def _default(param: Any) -> str:
    if param.param_type_name != "option" or param.is_flag and not param.default:
        return ""
    if getattr(param, "show_default", None) is False or getattr(param, "count", False):
        return ""
    if param.default is None or callable(param.default):
        return ""
    if isinstance(param.default, (list, tuple)) and not param.default:
        return ""
    return f"`{param.default}`"


def cli_reference_markdown() -> str:
    """The Markdown text of ``docs/cli.md``."""
    lines = [
        "# Command-line reference",
        "",
        "Generated from the commands by `python -m tumen.cli.reference > docs/cli.md`;",
        "`tests/test_docs.py` fails when it is out of date. Every command prints data on",
        "stdout (`--json` for one JSON object) and progress and errors on stderr.",
        "",
    ]
    for path, cmd in all_commands():
        lines += [f"## `{path}`", ""]
        help_text = (cmd.help or "").strip()
        if help_text:
            lines += [help_text.replace("\b\n", ""), ""]
        args = [p for p in cmd.params if p.param_type_name == "argument"]
        opts = [p for p in cmd.params if p.param_type_name == "option"]
        usage = path + "".join(
            f" {a.name.upper()}{'...' if a.nargs == -1 else ''}" for a in args if a.name
        )
        lines += ["```", f"{usage} [OPTIONS]", "```", ""]
        if opts:
            lines += ["| option | meaning | default |", "|---|---|---|"]
            for opt in opts:
                names = ", ".join(f"`{n}`" for n in [*opt.opts, *opt.secondary_opts])
                meaning = (opt.help or "").replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {names} | {meaning} | {_default(opt)} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(cli_reference_markdown(), end="")
