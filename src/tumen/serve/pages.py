"""The HTML pages of ``tumen serve``: shells that fetch their data from the JSON API.

A page is a Jinja2 template (``templates/``) with autoescaping on; the little it
needs from the server (the MMSI of a vessel page, the API paths) is written into
``<script type="application/json">`` with Jinja's ``tojson`` (``<``, ``>``,
``&`` and ``'`` escaped), and its script (``static/*.js``) fetches the rest and
builds the DOM with ``textContent``, never ``innerHTML``.  Every page has the
search box; every page's data is available as JSON from ``/api`` (datasette's
rule).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from tumen import __version__
from tumen.serve.app import ApiError

router = APIRouter(include_in_schema=False)

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("tumen.serve").joinpath("templates"))),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render(name: str, request: Request, **context: Any) -> HTMLResponse:
    context.setdefault("page_data", {})
    html = _ENV.get_template(name).render(
        version=__version__, db_name=Path(request.app.state.gate.path).name, **context
    )
    return HTMLResponse(html)


@router.get("/")
@router.get("/map")
def map_page(request: Request) -> HTMLResponse:
    return render("map.html.j2", request, title="Map", nav="map")


@router.get("/vessels")
def vessels_page(request: Request) -> HTMLResponse:
    return render("vessels.html.j2", request, title="Vessels", nav="vessels")


@router.get("/events")
def events_page(request: Request) -> HTMLResponse:
    return render("events.html.j2", request, title="Events", nav="events")


@router.get("/search")
def search_page(request: Request) -> HTMLResponse:
    return render("search.html.j2", request, title="Search", nav="search")


@router.get("/alerts")
def alerts_page(request: Request) -> HTMLResponse:
    return render("alerts.html.j2", request, title="Alerts", nav="alerts")


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    try:
        import swagger_ui_bundle  # noqa: F401

        swagger = True
    except ImportError:
        swagger = False
    return render("docs.html.j2", request, title="API", nav="docs", swagger=swagger)


MmsiPath = Annotated[int, PathParam(ge=0, le=999_999_999)]


@router.get("/vessels/{mmsi}")
def vessel_page(request: Request, mmsi: MmsiPath) -> HTMLResponse:
    return render(
        "vessel.html.j2", request, title=f"Vessel {mmsi}", nav="vessels", page_data={"mmsi": mmsi}
    )


@router.get("/vessels/{mmsi}/timeline.svg")
def vessel_timeline_svg(request: Request, mmsi: MmsiPath) -> Response:
    """The report's timeline of the vessel (lanes per event type, AIS reception) as SVG."""
    from tumen.report import dossier as q
    from tumen.report.timeline import TimelineEvent, reception_intervals, vessel_timeline

    settings = request.app.state.settings
    with request.app.state.gate.open() as store:
        events = q.events_for(store, mmsi)
        tr = q.track(store, mmsi, settings.report.max_track_points)
    if not events and not len(tr):
        raise ApiError(404, f"MMSI {mmsi} has no events or positions in the store", "mmsi")
    starts = [ev["start"] for ev in events] + ([tr.ts[0].astype(datetime)] if len(tr) else [])
    ends = [ev["end"] for ev in events] + ([tr.ts[-1].astype(datetime)] if len(tr) else [])
    t0, t1 = min(starts), max(ends)
    pad = max((t1 - t0) * 0.02, timedelta(minutes=30))
    svg = vessel_timeline(
        [TimelineEvent(i, ev["type"], ev["start"], ev["end"]) for i, ev in enumerate(events, 1)],
        (t0 - pad, t1 + pad),
        reception_intervals(tr.ts, settings.detect.gaps.min_gap_h * 3600 / 2) if len(tr) else [],
    )
    return Response(svg, media_type="image/svg+xml")


@router.get("/vessels/{mmsi}/dossier.{fmt}")
def vessel_dossier(request: Request, mmsi: MmsiPath, fmt: str) -> Response:
    """The report (tumen.report.write_report) with this vessel's dossier, as HTML or PDF, to download."""
    from tumen.report import dossier as q
    from tumen.report import write_report

    if fmt not in ("html", "pdf"):
        raise ApiError(404, "a dossier is dossier.html or dossier.pdf", "fmt")
    settings = request.app.state.settings
    settings = settings.model_copy(
        update={"report": settings.report.model_copy(update={"pdf": fmt == "pdf"})}
    )
    with request.app.state.gate.open() as store:
        if not q.resolve_vessels(store, [mmsi]):
            raise ApiError(404, f"MMSI {mmsi} is not in the store", "mmsi")
        if not q.ranking(store):
            raise ApiError(409, "the store is not ranked yet: run `tumen risk --db …` first")
        tmp = tempfile.mkdtemp(prefix="tumen-dossier-")
        try:
            paths = write_report(store, tmp, settings, vessels=[mmsi])
        except BaseException:
            _remove_tree(tmp)
            raise
    path = paths["pdf"] if fmt == "pdf" else paths["html"]
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    from starlette.background import BackgroundTask

    return FileResponse(
        path,
        media_type=media,
        filename=f"tumen-dossier-{mmsi}.{fmt}",
        content_disposition_type="attachment",
        background=BackgroundTask(_remove_tree, tmp),
    )


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
