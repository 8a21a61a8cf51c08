"""The report as a person sees it: HTML in headless Chromium, PDF pages through poppler.

Needs Debian's ``chromium`` and ``poppler-utils`` (installed by scripts/setup.sh test,
which .ci/run calls).  Missing tools are a failure, not a skip.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from scenario_store import ANGARA, BELLA, KUMUNSAN, SEAHORSE, build_scenario_store
from tumen.config import load_settings
from tumen.report import write_report
from tumen.risk import rank_vessels
from tumen.screen import demo_list_path
from tumen.screen.lists import load_lists
from tumen.store import DuckDBStore

pytestmark = pytest.mark.browser

SECTIONS = ["Summary of the period", "Top-risk vessels", "Annex A", "Annex B", "Annex C"]
DOSSIER_PARTS = ["Why this vessel", "Identity history", "Screening", "Events"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The scenario store, ranked, and its report (HTML + PDF)."""
    folder = tmp_path_factory.mktemp("report")
    store = DuckDBStore(folder / "store.duckdb")
    build_scenario_store(store, folder / "raw")
    load_lists(store, [demo_list_path()])  # the list the matches were screened against
    settings = load_settings(environ={})
    rank_vessels(store, settings)
    paths = write_report(store, folder / "out", settings)
    event_ids = store.query("SELECT event_id FROM events").column("event_id").to_pylist()
    store.close()
    return {"paths": paths, "event_ids": set(event_ids), "folder": folder}


@pytest.fixture(scope="module")
def page(report, browser):
    requests: list[str] = []
    pg = browser.new_page(viewport={"width": 1200, "height": 900})
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(Path(report["paths"]["html"]).as_uri())
    pg.wait_for_load_state("load")
    pg.requests = requests  # type: ignore[attr-defined]
    yield pg
    pg.close()


def test_html_is_one_self_contained_file(report) -> None:
    text = Path(report["paths"]["html"]).read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    assert not doc.xpath("//script[@src]") and not doc.xpath("//link[@rel='stylesheet']")
    # every inline script and style is allowed by its hash, nothing else is
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    runnable = [s for s in doc.xpath("//script") if s.get("type") != "application/json"]
    assert (
        len(runnable) == 2
    )  # Leaflet and the map script (report.interactive_map is on by default)
    for el in runnable + doc.xpath("//style"):
        digest = base64.b64encode(hashlib.sha256(el.text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert not doc.xpath("//@style")
    srcs = doc.xpath("//@src")
    assert srcs and all(s.startswith("data:image/") for s in srcs)
    hrefs = doc.xpath("//a/@href")
    assert all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]
    assert not any(re.search(r"url\((?!data:)", el.text) for el in doc.xpath("//style"))


def test_page_in_chromium_shows_map_timeline_and_every_event(report, page, tmp_path: Path) -> None:
    shot = report["folder"] / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000

    # nothing was fetched but the file itself and its embedded data
    assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests

    # every embedded figure decoded to a real picture
    sizes = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.alt, e.naturalWidth, e.naturalHeight])"
    )
    assert sizes and all(w > 300 and h > 100 for _alt, w, h in sizes), sizes

    body = page.inner_text("body")
    for heading in SECTIONS:
        assert heading in body
    lists = page.locator("table.lists").inner_text()
    assert "tumen_demo" in lists and re.search(
        r"[0-9a-f]{64}", lists
    )  # the list file and its SHA-256

    # one dossier per ranked vessel with signals, each with map, timeline and event table
    for mmsi in (ANGARA, KUMUNSAN, BELLA, SEAHORSE):
        dossier = page.locator(f"article.dossier[data-mmsi='{mmsi}']")
        assert dossier.count() == 1
        text = dossier.inner_text()
        for part in DOSSIER_PARTS:
            assert part in text
        assert dossier.locator("figure.vessel-map img").count() == 1
        assert dossier.locator("figure.timeline img").count() == 1
        assert dossier.locator("table.dossier-events tr.event-row").count() >= 1

    # every event in the store is in the annex, and each dossier lists its own events
    annex = set(
        page.eval_on_selector_all(
            "table.events-annex tr.event-row", "els => els.map(e => e.dataset.eventId)"
        )
    )
    assert annex == report["event_ids"]
    in_dossiers = set(
        page.eval_on_selector_all(
            "table.dossier-events tr.event-row", "els => els.map(e => e.dataset.eventId)"
        )
    )
    assert in_dossiers == report["event_ids"]  # every event here belongs to a dossier vessel
    for eid in report["event_ids"]:
        assert eid in body

    # the identity history shows the renaming, the screening shows the listed owner
    angara = page.locator(f"article.dossier[data-mmsi='{ANGARA}']").inner_text()
    assert "ANGARA" in angara and "LAZURIT" in angara and "M LEASING LLC" in angara
    assert "Rajin → Dunai" in angara
    # provenance, compact: file, short SHA-256, line numbers, detector run, version; the full
    # hash is in annex B and the run's parameters in annex C, each once
    prov = page.locator(f"article.dossier[data-mmsi='{ANGARA}'] td.prov").first.inner_text()
    assert "scenario_capture.nmea" in prov and "SHA-256" in prov and "lines" in prov
    assert "run R" in prov and "tumen 0.1.0" in prov and "min_duration_min" not in prov
    run = re.search(r"run (R\d+)", prov).group(1)
    assert "min_duration_min" in page.locator(f"#run-{run}").inner_text()
    assert re.search(
        r"[0-9a-f]{64}",
        page.locator("#sources").locator("xpath=following-sibling::table[1]").inner_text(),
    )


def _pdf_text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def test_pdf_has_the_same_sections(report, tmp_path: Path) -> None:
    pdf = Path(report["paths"]["pdf"])
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm not found: run scripts/setup.sh test (apt-get install poppler-utils)")
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    n_pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert "A4" in info and n_pages >= 5

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == n_pages

    from PIL import Image

    for png in pngs:
        with Image.open(png) as im:
            assert im.size[0] > 300
            lo, hi = im.convert("L").getextrema()
            assert hi == 255 and lo < 200  # white paper with something printed on it

    text = _pdf_text(pdf)
    for heading in SECTIONS + DOSSIER_PARTS:
        assert heading in text
    for name in ("LAZURIT", "KUM UN SAN 3", "BELLA", "SEA HORSE"):
        assert name in text
    flat = re.sub(r"\s+", "", text)
    for eid in report["event_ids"]:
        assert eid in flat
    # the dossiers start on their own pages, each with its map drawn (vector paths, so check by text)
    pages_with_dossier = [
        i for i in range(1, n_pages + 1) if "Why this vessel" in _pdf_text(pdf, i)
    ]
    assert len(pages_with_dossier) == 4
    # a map page: its axis labels are drawn as paths, but its caption is text
    assert text.count("Track of MMSI") == 4 and text.count("Timeline (UTC)") == 4


def test_vessel_selection_by_imo_and_top(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    build_scenario_store(store, tmp_path / "raw")
    settings = load_settings(overrides={"report.pdf": False}, environ={})
    out = write_report(store, tmp_path / "one", settings, vessels=[9743033])  # BELLA's IMO
    assert out["vessels"] == [BELLA] and out["pdf"] is None
    out = write_report(store, tmp_path / "top", settings, top=1)
    assert out["vessels"] == [ANGARA]
    out = write_report(store, tmp_path / "both", settings, vessels=[SEAHORSE], top=1)
    assert out["vessels"] == [SEAHORSE, ANGARA]
    doc = lxml_html.fromstring(Path(out["html"]).read_text(encoding="utf-8"))
    assert [a.get("data-mmsi") for a in doc.xpath("//article[@data-mmsi]")] == [
        str(SEAHORSE),
        str(ANGARA),
    ]
    store.close()


def test_cli_report(cli, tmp_path: Path) -> None:
    import json

    store = DuckDBStore(tmp_path / "s.duckdb")
    build_scenario_store(store, tmp_path / "raw")
    store.close()
    code, out, err = cli(
        "report",
        "--db",
        tmp_path / "s.duckdb",
        "--vessel",
        str(ANGARA),
        "--out",
        tmp_path / "r",
        "--no-pdf",
        "--json",
    )
    assert code == 0, err
    obj = json.loads(out)
    assert Path(obj["html"]).exists() and obj["pdf"] is None and obj["vessels"] == [ANGARA]
    code, out, err = cli(
        "report", "--db", tmp_path / "s.duckdb", "--vessel", "999999999", "--out", tmp_path / "r2"
    )
    assert code != 0 and "999999999" in err


def test_pdf_annex_is_capped_but_html_lists_every_event(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    build_scenario_store(store, tmp_path / "raw")
    n_events = store.query("SELECT count(*) AS n FROM events").column("n")[0].as_py()
    settings = load_settings(overrides={"report.pdf_annex_max_events": 3}, environ={})
    out = write_report(store, tmp_path / "r", settings, top=1)
    store.close()
    doc = lxml_html.fromstring(Path(out["html"]).read_text(encoding="utf-8"))
    assert (
        len(doc.xpath("//table[contains(@class, 'events-annex')]//tr[@data-event-id]")) == n_events
    )
    text = re.sub(r"\s+", " ", _pdf_text(Path(out["pdf"])))
    assert f"{n_events - 3} more not listed here" in text and "report.html" in text


def test_an_empty_store_gives_a_report_that_says_so(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "empty.duckdb")
    out = write_report(
        store, tmp_path / "r", load_settings(overrides={"report.pdf": False}, environ={})
    )
    store.close()
    assert out["vessels"] == [] and out["events"] == 0
    doc = lxml_html.fromstring(Path(out["html"]).read_text(encoding="utf-8"))
    text = doc.text_content()
    assert "No vessel shows any risk signal in this period." in text and "Annex A" in text


def test_interactive_map_is_on_by_default_and_works_offline(browser, tmp_path: Path) -> None:
    """report.interactive_map (on by default) adds a Leaflet map per dossier; without tiles it still draws coast, track and events."""
    store = DuckDBStore(tmp_path / "s.duckdb")
    build_scenario_store(store, tmp_path / "raw")
    settings = load_settings(overrides={"report.pdf": False}, environ={})
    assert settings.report.interactive_map and not settings.report.online_tiles
    out = write_report(store, tmp_path / "r", settings, vessels=[ANGARA])
    store.close()
    errors: list[str] = []
    pg = browser.new_page(viewport={"width": 1200, "height": 900})
    # offline: every request for tiles fails, as it does on a machine without internet
    pg.route("http*://**/*", lambda route: route.abort())
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(Path(out["html"]).as_uri())
    pg.wait_for_load_state("load")
    lmap = pg.locator(f"article.dossier[data-mmsi='{ANGARA}'] .lmap")
    assert lmap.count() == 1
    assert lmap.locator(".leaflet-pane path").count() > 5  # coastline, track pieces, the gap
    numbers = lmap.locator(".leaflet-tooltip").all_inner_texts()
    assert {"1", "3", "5"} <= set(numbers)  # port visits and the gap carry their event numbers
    lmap.screenshot(path=str(tmp_path / "interactive.png"))
    pg.close()
    assert not errors, errors
    assert (tmp_path / "interactive.png").stat().st_size > 10_000


def _pdf_words(pdf: Path) -> list[tuple[int, str, float, float, float, float]]:
    """Every word of the PDF as poppler lays it out: (page, text, xMin, yMin, xMax, yMax) in points."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = []
    for n, page in enumerate(out.split("<page ")[1:], start=1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            page,
        ):
            x0, y0, x1, y1 = map(float, m.group(1, 2, 3, 4))
            words.append((n, html.unescape(m.group(5)), x0, y0, x1, y1))
    return words


def test_pdf_reads_cleanly(report) -> None:
    """Page 1 holds the whole summary; no word runs into another; ids and hashes are never split."""
    pdf = Path(report["paths"]["pdf"])
    words = _pdf_words(pdf)

    # page 1: the five summary tiles on one row, then the findings and the overview map
    page1 = [w for w in words if w[0] == 1]
    labels = {"heard": None, "reports": None, "events": None, "matching": None, "input": None}
    for _p, text, _x0, y0, _x1, _y1 in page1:
        if text in labels and labels[text] is None:
            labels[text] = y0
    assert None not in labels.values(), labels
    assert max(labels.values()) - min(labels.values()) < 2, labels  # one row
    p1 = re.sub(r"\s+", " ", _pdf_text(pdf, 1))
    assert "Findings at a glance" in p1 and "Tracks of the vessels given a dossier" in p1

    # no two words on one line overlap ("DURATION" ran into "WHAT AND WHERE", times into places)
    by_line: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for page, text, x0, y0, x1, _y1 in words:
        by_line.setdefault((page, round(y0)), []).append((x0, x1, text))
    collisions = []
    for (page, _y), line in by_line.items():
        line.sort()
        for (_a0, a1, a), (b0, _b1, b) in zip(line, line[1:], strict=False):
            if b0 < a1 - 0.5:
                collisions.append((page, a, b))
    assert not collisions, collisions[:10]

    # headers of the dossier's event table are words of their own
    texts = [w[1] for w in words]
    for header in ("EVENT", "WHEN", "WHAT", "WHERE", "MEASURES", "PROVENANCE"):
        assert header in texts

    # ids and hashes are printed whole, never broken across lines
    whole = set(texts)
    assert report["event_ids"] <= whole, sorted(report["event_ids"] - whole)[:5]
    hashes = [t for t in texts if re.fullmatch(r"[0-9a-f]{64}", t)]
    assert hashes  # annex B: each input file's full SHA-256
    pieces = [
        t
        for t in texts
        if re.fullmatch(r"[0-9a-f]{8,63}", t)
        and re.search("[a-f]", t)
        and t not in whole & report["event_ids"]
    ]
    assert not pieces, pieces[:5]  # no hash cut in pieces
    # times are words of their own, not glued to the next cell
    assert not [t for t in texts if re.fullmatch(r"\d\d:\d\d:\d\d\S+", t)]
