"""``tumen config``: show the effective settings."""

from __future__ import annotations

from rich.table import Table

from tumen.cli.common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    QuietOpt,
    VerboseOpt,
    app,
    out_console,
    print_json,
    settings_from,
)
from tumen.config import describe_settings


@app.command("config")
def config_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Print the effective settings (defaults < tumen.toml < TUMEN_* env < flags)."""
    settings = settings_from(config, db=db)
    if json_out:
        print_json(settings.model_dump(mode="json"))
        return
    flat = settings.model_dump(mode="json")
    table = Table("setting", "value", "default", "description", title="tumen settings")
    for row in describe_settings():
        node: object = flat
        for part in row["name"].split("."):
            node = node[part]  # type: ignore[index]
        table.add_row(row["name"], str(node), str(row["default"]), row["description"] or "")
    out_console.print(table)
