"""``tumen serve``: the web workspace and JSON API over a store (see tumen.serve)."""

from __future__ import annotations

import importlib.util
import ipaddress
from typing import Annotated

import typer

from tumen.cli.common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    QuietOpt,
    VerboseOpt,
    app,
    err_console,
    print_json,
    settings_from,
)
from tumen.errors import ConfigError, StoreError


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is the loopback interface only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on (default: serve.host = 127.0.0.1); another address needs --token.", show_default=False),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="TCP port (default: serve.port = 8000).", show_default=False),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Require Authorization: Bearer TOKEN on every request (or set TUMEN_SERVE__TOKEN).", show_default=False),
    ] = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Serve the web workspace (map, vessel pages, events, search) and the JSON API.

    Read-only: the store is opened read-only for each request, so `tumen ingest`
    or `tumen watch` can write it meanwhile.  Pages load nothing from the
    internet.  The API is described at /docs (OpenAPI at /openapi.json).
    """
    import uvicorn

    from tumen.serve.app import create_app

    settings = settings_from(config, db=db, serve__host=host, serve__port=port, serve__token=token)
    bind = settings.serve.host
    secret = settings.serve.token.get_secret_value() if settings.serve.token is not None else None
    if not is_loopback(bind) and not secret:
        raise ConfigError(
            f"--host {bind} is not loopback: give --token TOKEN (or set TUMEN_SERVE__TOKEN) so that only you can read the store"
        )
    if not settings.db.is_file():
        raise StoreError(f"{settings.db}: no such store; run `tumen ingest` first, or give --db")
    application = create_app(settings.db, settings, token=secret)
    shown = f"[{bind}]" if ":" in bind else bind
    url = f"http://{shown}:{settings.serve.port}/"
    if json_out:
        print_json({"url": url, "db": str(settings.db), "token": bool(secret)})
    elif not quiet:
        err_console.print(f"serving {settings.db} at {url} (read-only; Ctrl-C stops)", highlight=False)
    # httptools (a runtime dependency): uvicorn's C HTTP parser, less CPU per request than h11
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    uvicorn.run(application, host=bind, port=settings.serve.port, log_level="warning" if quiet else ("debug" if verbose > 1 else "info"),
                access_log=not quiet, server_header=False, http=http)
