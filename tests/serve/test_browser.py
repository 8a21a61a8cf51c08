"""The workspace as a person sees it: real headless Chromium (Debian's) against a real
`tumen serve` on 127.0.0.1.  Screenshots at 1,280 and 800 px go to $TUMEN_SCREENSHOTS
(or the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from serve_helpers import HOSTILE, HOSTILE_MMSI, Server

from scenario_store import ANGARA, BELLA, KUMUNSAN

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("TUMEN_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, url: str, width: int = 1280, token: str | None = None):
    """A page that records CSP violations, script errors, dialogs and requests to other hosts.

    With a token, the page first opens ``/?token=…`` as a person would (the server keeps it in a cookie)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    if token:
        base = url.split("/", 3)
        page.goto("/".join(base[:3]) + "/?token=" + token)
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        assert "token" not in page.url
    page.problems = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.problems.append(f"script error: {e}"))
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: page.problems.append(f"offsite: {r.url}") if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return page


def test_map_shows_the_shuttle_track_and_its_events_and_a_click_opens_raw_lines(browser, server, scenario_db, shots) -> None:
    scenario = scenario_db[1]
    page = open_page(browser, server.url + "/map", token=server.token)
    track = page.locator(f"path.track[data-mmsi='{ANGARA}']")
    assert track.count() >= 1 and len(track.first.get_attribute("d") or "") > 20
    angara_events = [e for e in httpx.get(server.url + "/api/events", params={"mmsi": ANGARA}, headers=server.headers).json()["events"] if e["lat"] is not None]
    drawn = set(page.eval_on_selector_all("path.event", "els => els.map(e => e.dataset.eventId)"))
    assert {e["event_id"] for e in angara_events} <= drawn
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / f"map-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    gap = scenario.events["angara_gap"]
    page.locator(f"path.event[data-event-id='{gap}']").dispatch_event("click")
    page.locator("#summary .raw-button").click()
    page.wait_for_selector("#summary .raw-line")
    shown = page.eval_on_selector_all("#summary .raw-line", "els => els.map(e => [Number(e.dataset.line), e.textContent])")
    file_lines = scenario.source_path.read_text(encoding="utf-8").splitlines()
    assert shown and all(text.strip().endswith(file_lines[n - 1]) for n, text in shown)
    assert str(scenario.source_path) in page.locator("#summary .raw-file").inner_text()
    page.screenshot(path=str(shots / "map-raw-1280.png"))

    # an encounter opened from its vessel: both vessels' tracks and the summary
    enc = scenario.events["encounter"]
    page.goto(server.url + f"/map?mmsi={KUMUNSAN}&event={enc}")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    drawn = set(page.eval_on_selector_all("path.track", "els => els.map(e => Number(e.dataset.mmsi))"))
    assert drawn == {KUMUNSAN, BELLA}
    assert "BELLA" in page.locator("#summary").inner_text()
    assert page.problems == []  # type: ignore[attr-defined]
    page.close()


def test_vessel_page_explains_the_risk_and_shows_raw_messages(browser, server, shots) -> None:
    api = httpx.get(server.url + f"/api/vessels/{ANGARA}", headers=server.headers).json()
    page = open_page(browser, server.url + f"/vessels/{ANGARA}", token=server.token)
    rows = page.eval_on_selector_all("#risk tbody tr", "els => els.map(e => [e.dataset.signal, e.cells[1].textContent])")
    assert [r[0] for r in rows] == [s["signal"] for s in api["risk"]["signals"]]
    assert [float(r[1]) for r in rows] == [round(s["points"], 1) for s in api["risk"]["signals"]]
    assert page.locator("#risk-score").inner_text() == f"{api['risk']['score']:.1f}"
    assert "M LEASING LLC" in page.locator("#matches").inner_text()
    assert page.locator("#matches .ownership").count() == 1
    assert page.locator("#identity tbody tr").count() == len(api["identity_history"])
    for _ in range(100):  # the timeline is drawn by the report's matplotlib code (CSP forbids wait_for_function's eval)
        if page.eval_on_selector("#timeline", "img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert page.eval_on_selector("#timeline", "img => img.naturalWidth") > 0
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / f"vessel-{width}.png"), full_page=True)
    page.locator("#events tbody tr .raw-button").first.click()
    page.wait_for_selector("#raw .raw-line")
    assert str(ANGARA) in page.locator("#raw").inner_text()
    assert page.locator("#dossier-pdf").get_attribute("href") == f"/vessels/{ANGARA}/dossier.pdf"
    assert page.problems == []  # type: ignore[attr-defined]
    page.close()


def test_search_box_finds_a_vessel_by_a_misspelt_name(browser, server, shots) -> None:
    page = open_page(browser, server.url + "/events", token=server.token)
    page.fill("#search-q", "ANGRA")
    page.press("#search-q", "Enter")
    page.wait_for_url("**/search?q=ANGRA")
    page.wait_for_selector("body[data-ready='1']")
    first = page.locator("#found-vessels a.vessel-link").first
    assert first.get_attribute("href") == f"/vessels/{ANGARA}" and "ANGARA" in first.inner_text()
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"search-{width}.png"), full_page=True)
    page.goto(server.url + "/events?type=gap")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#events tbody tr").count() == 1
    page.screenshot(path=str(shots / "events-800.png"), full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    page.close()


@pytest.fixture(scope="module")
def hostile_server(hostile_db):
    srv = Server(hostile_db)
    yield srv
    srv.stop()


def test_hostile_strings_in_every_field_stay_text(browser, hostile_server, shots) -> None:
    base = hostile_server.url
    pages = [
        f"/vessels/{HOSTILE_MMSI}", f"/map?mmsi={HOSTILE_MMSI}&event=hostile0", "/events", "/vessels",
        "/search?" + str(httpx.QueryParams({"q": HOSTILE[0]})),
    ]
    for path in pages:
        page = open_page(browser, base + path)
        page.wait_for_timeout(200)
        if path.startswith("/vessels/"):
            assert page.locator("#vessel-title").inner_text() == HOSTILE[-1]  # the latest name, as text
            assert HOSTILE[1] in page.locator("#matches").inner_text()
            observed = page.locator("#observations").inner_text()  # tumen observe: source and note as text
            assert HOSTILE[0] in observed and HOSTILE[3] in observed
            page.locator("#events tbody tr .raw-button").first.click()
            page.wait_for_selector("#raw .raw-source")
            page.screenshot(path=str(shots / "hostile-vessel-1280.png"), full_page=True)
        if path.startswith("/map?"):
            assert HOSTILE[0] in page.locator("#summary").inner_text()
            # the observations layer: a marker whose summary sets source, note and name seen as text
            page.locator("path.observation[data-obs-id='1']").dispatch_event("click")
            shown = page.locator("#summary").inner_text()
            assert all(x in shown for x in (HOSTILE[0], HOSTILE[2], HOSTILE[3])), shown
            page.screenshot(path=str(shots / "hostile-map-observation-1280.png"))
        if path.startswith("/search"):
            assert page.locator("#found-vessels a.vessel-link").count() >= 1
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("img[src='x'], svg[onload], script:not([src]):not([type])").count() == 0, path
        assert page.problems == [], (path, page.problems)  # type: ignore[attr-defined]
        page.close()
