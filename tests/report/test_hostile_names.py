"""Names are hostile: AIS names, call signs and destinations come over the air from anyone,
list and company names from files, port names from a CSV.  They must reach the report, its
zoomable maps and the KML as text, in every context, and no script they carry may run.

Checked in headless Chromium (Debian's, through Playwright, as test_report_render.py): no
script runs (the payloads set ``window.__xss`` or ``XSS``), no element the payloads would
create exists, the names read as written, and the page reports no Content-Security-Policy
violation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from scenario_store import ANGARA, BELLA, KUMUNSAN, build_scenario_store
from tumen.config import load_settings
from tumen.export.kml import KML_NS, write_kml
from tumen.report import write_report
from tumen.risk import rank_vessels
from tumen.screen import demo_list_path
from tumen.screen.lists import load_lists
from tumen.store import DuckDBStore

pytestmark = pytest.mark.browser

#: one payload per field; each would set a flag if it ran
HOSTILE = {
    "partner_name": '<img src=x onerror="window.__xss=1">',  # BELLA, KUM UN SAN 3's encounter partner
    "vessel_name": "<!--<SCRIPT>",  # KUM UN SAN 3: would open a comment in the map data
    "angara_name": "</script><script>window.__xss=2</script>",
    "callsign": '"><svg onload=XSS=3>',
    "destination": "' onmouseover='window.__xss=4",
    "list_vessel": "<SVG ONLOAD=XSS=5>",  # as AIS six-bit text could carry it
    "company": "M&LEASING <b>LLC</b> &amp; <iframe srcdoc='<script>parent.__xss=6</script>'>",
    "port": "Dunai<img src=x onerror=window.__xss=7>",
    "list_title": "UN & <i>friends</i> <script>window.__xss=8</script>",
}
#: what a person must read somewhere on the page (the names as written)
MUST_SHOW = [
    "partner_name",
    "vessel_name",
    "angara_name",
    "callsign",
    "list_vessel",
    "company",
    "port",
]

FLAGS_JS = "() => [window.__xss, window.XSS, document.querySelectorAll('[onerror],[onload],[onmouseover],iframe,svg script').length]"


def _hostile_store(folder: Path) -> tuple[DuckDBStore, Path]:
    store = DuckDBStore(folder / "store.duckdb")
    build_scenario_store(store, folder / "raw")
    load_lists(store, [demo_list_path()])
    h = HOSTILE
    store.execute("UPDATE statics SET name = ? WHERE mmsi = ?", [h["partner_name"], BELLA])
    store.execute("UPDATE statics SET name = ? WHERE mmsi = ?", [h["vessel_name"], KUMUNSAN])
    store.execute(
        "UPDATE statics SET name = ?, callsign = ?, destination = ? WHERE mmsi = ?",
        [h["angara_name"], h["callsign"], h["destination"], ANGARA],
    )
    store.execute(
        "UPDATE matches SET caption = ?, name = ? WHERE role = 'vessel'",
        [h["list_vessel"], h["list_vessel"]],
    )
    path = [
        {
            "from": "ofac-angara",
            "from_caption": h["list_vessel"],
            "to": "ofac-m-leasing",
            "to_caption": h["company"],
            "role": "owner",
            "source": h["company"],
        }
    ]
    store.execute(
        "UPDATE matches SET caption = ?, path = ? WHERE role <> 'vessel'",
        [h["company"], json.dumps(path)],
    )
    # a dated designation, so the dossier's designation-timing table (authority, ports) is shown
    store.execute(
        "UPDATE matches SET designation = ?",
        [json.dumps([{"authority": h["company"], "listing_date": "2024-01-11"}])],
    )
    store.execute("UPDATE events SET port = ? WHERE port = 'Dunai'", [h["port"]])
    store.execute("UPDATE events SET to_port = ? WHERE to_port = 'Dunai'", [h["port"]])
    store.execute("UPDATE lists SET title = ?", [h["list_title"]])
    ports = folder / "ports.csv"
    bundled = (Path(__file__).parents[2] / "src/tumen/data/ports.csv").read_text(encoding="utf-8")
    ports.write_text(
        bundled.replace("\nDunai,", "\n" + h["port"].replace(",", " ") + ","), encoding="utf-8"
    )
    return store, ports


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    store, ports = _hostile_store(folder)
    settings = load_settings(
        overrides={"ports": str(ports), "report.pdf": False, "report.interactive_map": True},
        environ={},
    )
    rank_vessels(store, settings)
    report = write_report(store, folder / "out", settings)
    kml = folder / "findings.kml"
    write_kml(store, kml, settings)
    store.close()
    return {"html": Path(report["html"]), "kml": kml, "vessels": report["vessels"]}


def _watch(page) -> dict[str, list[str]]:
    """Collect console errors, page errors and CSP violations of ``page``."""
    seen: dict[str, list[str]] = {"console": [], "errors": []}
    page.on(
        "console",
        lambda m: seen["console"].append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def test_hostile_names_in_the_report_are_text_and_run_nothing(hostile, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = _watch(page)
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(hostile["html"].as_uri())
    page.wait_for_load_state("load")

    # the map data of the <!--<SCRIPT> vessel swallowed nothing: every dossier and the annexes are there
    assert page.locator("article.dossier").count() == len(hostile["vessels"]) >= 3
    body = page.inner_text("body")
    assert "Annex C" in body and "Watched ports" in body
    assert page.locator(".lmap .leaflet-pane path").count() > 10  # every map was drawn

    # open every popup of every zoomable map: the partner's name is in one, as text
    popups = []
    for handle in page.locator(".lmap path.leaflet-interactive").element_handles():
        handle.dispatch_event("click")
        popups += page.locator(".leaflet-popup-content").all_inner_texts()
    assert any(HOSTILE["partner_name"] in p for p in popups), popups
    # and hover each port: its name shows as text in the tooltip
    text = page.inner_text("body")
    for key in MUST_SHOW:
        assert HOSTILE[key] in text, key

    assert page.evaluate(FLAGS_JS) == [None, None, 0]
    assert page.evaluate("document.title") == load_settings(environ={}).report.title
    assert page.evaluate("window.__csp") == [], page.evaluate("window.__csp")
    assert not [m for m in seen["console"] if "Content Security Policy" in m], seen["console"]
    assert not seen["errors"], seen["errors"]
    page.close()


def test_hostile_names_in_the_kml_are_text_and_run_nothing(hostile, browser) -> None:
    root = etree.parse(str(hostile["kml"])).getroot()
    names = [n.text or "" for n in root.iter(f"{{{KML_NS}}}name")]
    assert any(HOSTILE["port"] in n for n in names)
    assert any(HOSTILE["angara_name"] in n for n in names)
    # a description is HTML to Google Earth: show each one in Chromium as such a balloon would
    descriptions = [d.text or "" for d in root.iter(f"{{{KML_NS}}}description")]
    page = browser.new_page()
    seen = _watch(page)
    shown = []
    for html in descriptions:
        page.set_content(f"<!DOCTYPE html><title>balloon</title><body>{html}</body>")
        assert page.evaluate(FLAGS_JS) == [None, None, 0], html
        shown.append(page.inner_text("body"))
    page.close()
    assert not seen["errors"], seen["errors"]
    joined = "\n".join(shown)
    for key in ("partner_name", "port", "angara_name"):
        assert HOSTILE[key] in joined, key
