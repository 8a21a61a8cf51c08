"""The FastAPI application of ``tumen serve``: JSON API, pages, static files and security.

:func:`create_app` builds the app over one store file.  Layout (datasette's
``app.py`` + ``views/``): :mod:`tumen.serve.api` the JSON API under ``/api``,
:mod:`tumen.serve.pages` the HTML pages, ``static/`` the scripts and styles they
load (Leaflet is the copy bundled in ``tumen/report/static``; Swagger UI comes
from the ``swagger-ui-bundle`` package): nothing is loaded from another host.

Security (see docs/serve.md):

* read-only: the store is opened read-only (:mod:`tumen.serve.db`) and no route
  writes; only GET/HEAD are allowed;
* with a token every request except ``/healthz`` needs ``Authorization: Bearer
  TOKEN`` (or the ``tumen_token`` cookie that ``/?token=TOKEN`` sets for
  browsers), compared with :func:`hmac.compare_digest`; otherwise ``401``;
* without a token the server refuses requests whose ``Host`` is not a loopback
  name (a web page cannot reach it through DNS rebinding);
* every response carries a Content-Security-Policy without ``'unsafe-inline'``
  (scripts and styles only from this server); pages put strings from AIS and
  lists into the DOM with ``textContent`` and receive data as JSON.
"""

from __future__ import annotations

import hmac
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tumen import __version__
from tumen.config import Settings
from tumen.errors import StoreError
from tumen.serve.db import StoreBusy, StoreGate

#: The Content-Security-Policy of every response: nothing inline, nothing from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
TOKEN_COOKIE = "tumen_token"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Paths open without the token (no data).
OPEN_PATHS = {"/healthz"}


class ApiError(Exception):
    """An error answered as ``{"error": message, "status": status}`` (plus ``param`` when one is at fault)."""

    def __init__(
        self, status: int, message: str, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.headers = status, message, param, headers


def error_response(
    status: int, message: str, param: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if param is not None:
        body["param"] = param
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


#: ``scope`` key an endpoint sets to the store state (:meth:`StoreGate.version`) its ``200``
#: answer was read from when that answer depends only on the store and the URL: :class:`Guard`
#: then keeps it (:meth:`StoreGate.keep_raw`) and answers the same URL again from memory.
KEEP = "tumen.keep"


class Guard:
    """ASGI middleware in front of every route: refuses what :func:`create_app`'s ``check`` refuses
    (method, host, token), answers ``GET`` of a URL kept for the store's current state from
    memory (see :data:`KEEP`), and adds the security headers (and ``Cache-Control: no-store`` to
    the API) to every response.

    A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware``
    runs every response through a task group and a stream, a fixed cost on every request.
    """

    def __init__(self, app: Any, check: Any, gate: StoreGate) -> None:
        self.app, self.check, self.gate = app, check, gate

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        api = path.startswith("/api/") or path == "/openapi.json"

        def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
            have = {k.lower() for k, _ in headers}
            extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()
                     if k.lower().encode("latin-1") not in have]
            if api and b"cache-control" not in have:
                extra.append((b"cache-control", b"no-store"))
            return [*headers, *extra]

        refused = self.check(Request(scope))
        if refused is not None:
            refused.raw_headers[:] = secured(list(refused.raw_headers))
            await refused(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if api and scope["method"] == "GET":
            kept = self.gate.kept_raw(path, query)
            if kept is not None:
                await send({"type": "http.response.start", "status": 200, "headers": kept[0]})
                await send({"type": "http.response.body", "body": kept[1]})
                return
        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def send_secured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(list(message.get("headers", [])))
                start.update(message)
            elif message["type"] == "http.response.body":
                version = scope.get(KEEP)
                if version is not None and start.get("status") == 200 and scope["method"] == "GET":
                    parts.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        self.gate.keep_raw(path, query, version, start["headers"], b"".join(parts))
            await send(message)

        await self.app(scope, receive, send_secured)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "header", "body")]
        name = ".".join(loc) or None
        msg = str(err.get("msg", "invalid"))
        given = err.get("input")
        details.append({"param": name, "message": msg, "input": given if isinstance(given, str | int | float) else None})
    first = details[0] if details else {"param": None, "message": "invalid request"}
    text = f"{first['param']}: {first['message']}" if first["param"] else str(first["message"])
    if first.get("input") is not None:
        text += f" (got {first['input']!r})"
    return text, first["param"], details


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(
    db: str | Path,
    settings: Settings | None = None,
    *,
    token: str | None = None,
    loopback_only: bool | None = None,
) -> FastAPI:
    """The application over the store ``db``.

    Parameters
    ----------
    db:
        The DuckDB store (opened read-only, per request; see :mod:`tumen.serve.db`).
    settings:
        Effective settings (``serve.*`` limits; detector parameters for tracks).
    token:
        Bearer token every request must carry; default ``settings.serve.token``.
    loopback_only:
        Refuse requests whose ``Host`` header is not a loopback name (default:
        when there is no token).
    """
    from tumen.config import load_settings
    from tumen.serve import api, pages

    settings = settings or load_settings()
    if token is None and settings.serve.token is not None:
        token = settings.serve.token.get_secret_value()
    if loopback_only is None:
        loopback_only = not token
    gate = StoreGate(
        db,
        lock_wait_s=settings.serve.lock_wait_s,
        hold_s=settings.serve.hold_s,
        linger_s=settings.serve.linger_s,
        answers=settings.serve.answers_kept,
    )

    app = FastAPI(
        title="tumen",
        version=__version__,
        description=(
            "Read-only JSON API over a tumen store: events, vessels ranked by risk, "
            "vessel dossiers, tracks, search, provenance, alerts and exports. "
            "Times are ISO-8601 UTC; coordinates WGS84 degrees ([lon, lat] in GeoJSON)."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.gate = gate
    app.state.settings = settings
    app.state.streams = 0

    token_bytes = token.encode("utf-8") if token else None

    def _authorised(request: Request) -> bool:
        assert token_bytes is not None
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), token_bytes):
            return True
        cookie = request.cookies.get(TOKEN_COOKIE)
        return cookie is not None and hmac.compare_digest(cookie.encode("utf-8"), token_bytes)

    def _check(request: Request) -> Response | None:
        """The answer to a request refused before routing (method, host, token), or ``None``."""
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "read-only server: only GET and HEAD are allowed", headers={"Allow": "GET, HEAD"})
        if loopback_only and _host_name(request.headers.get("host", "")) not in LOOPBACK_NAMES:
            return error_response(400, "this server answers only requests addressed to 127.0.0.1 or localhost")
        if token_bytes is not None and request.url.path not in OPEN_PATHS and not _authorised(request):
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode("utf-8"), token_bytes):
                # a browser's first visit with ?token=…: keep it in a cookie, drop it from the URL
                rest = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"]
                target = request.url.path + ("?" + urlencode(rest) if rest else "")
                response: Response = RedirectResponse(target, status_code=303)
                response.set_cookie(
                    TOKEN_COOKIE, given, httponly=True, samesite="strict", secure=request.url.scheme == "https"
                )
                return response
            return error_response(
                401,
                "missing or wrong token: send Authorization: Bearer TOKEN (browsers: open /?token=TOKEN once)",
                headers={"WWW-Authenticate": 'Bearer realm="tumen"'},
            )
        return None

    app.add_middleware(Guard, check=_check, gate=gate)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.param, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        text, param, details = _validation_message(exc)
        return error_response(422, text, param, errors=details)

    @app.exception_handler(StoreBusy)
    async def _busy(request: Request, exc: StoreBusy) -> JSONResponse:
        return error_response(503, str(exc), headers={"Retry-After": "1"})

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        return error_response(500, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path}"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.get("/healthz", tags=["meta"], summary="Liveness and whether the store can be read")
    def healthz() -> JSONResponse:
        """``{"status": "ok", "version"}``; ``503`` with ``status: "busy"`` while a writer holds the store."""
        try:
            with gate.open() as store:
                store.scalar("SELECT 1")
        except StoreBusy:
            return JSONResponse({"status": "busy", "version": __version__}, status_code=503,
                                headers={"Retry-After": "1"})
        return JSONResponse({"status": "ok", "version": __version__})

    app.include_router(api.router)
    app.include_router(pages.router)
    static = resources.files("tumen.serve").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    leaflet = resources.files("tumen.report").joinpath("static")
    app.mount("/vendor/leaflet", StaticFiles(directory=str(leaflet)), name="leaflet")
    try:
        import swagger_ui_bundle

        app.mount("/vendor/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    except ImportError:  # the /docs page then lists the endpoints itself
        pass
    return app
