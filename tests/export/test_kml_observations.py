"""The KML export carries the observations (tumen.observe) as placemarks, hostile text escaped.

The store (tests/builders.py, then `tumen detect`): a vessel broadcasting the name
``<img src=x onerror=alert(1)>`` calls at Rajin, goes dark for 20 h and reappears at Dunai; an
observation at Rajin in the dark time (source, note and the name seen hostile too) confirms the
dark port call.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from builders import statics, track, write
from tumen.export.kml import KML_NS
from tumen.store import DuckDBStore

MMSI = 273456780
NAME = "<img src=x onerror=alert(1)>"
NOTE = "</script><!--<script>alert(1)</script> ]]> & done"
SOURCE = "]]><![CDATA[<script>alert(2)</script>]]>"
SEEN = "]]></name><name>x"
K = f"{{{KML_NS}}}"


def _store(tmp_path: Path, cli) -> Path:
    from tumen.detect.ports import load_ports

    ports = {p["name"]: p for p in load_ports().to_pylist()}
    r, d = ports["Rajin"], ports["Dunai"]
    ship = track(MMSI).at("2024-01-10T00:00Z", r["lat"], r["lon"]).stay("3h")
    ship.silence("20h").fix(d["lat"], d["lon"]).stay("3h")
    path = tmp_path / "k.duckdb"
    with DuckDBStore(path) as store:
        write(store, ship, statics(MMSI, "2024-01-10T00:00Z", name=NAME).every("6min", 3))
    code, _, err = cli("detect", "--db", path, "--json")
    assert code == 0, err
    return path


def test_kml_has_the_observations_escaped(cli, tmp_path: Path) -> None:
    db = _store(tmp_path, cli)
    code, out, err = cli("events", "--db", db, "--json", "--type", "gap")
    assert code == 0, err
    (gap,) = json.loads(out)["events"]
    mid = datetime.fromisoformat(gap["start"][:-1]) + timedelta(hours=8)
    code, out, err = cli(
        "observe", "add", "--db", db, "--json", "--vessel", str(MMSI),
        "--time", f"{mid:%Y-%m-%dT%H:%M}Z", "--port", "Rajin", "--kind", "imagery",
        "--source", SOURCE, "--note", NOTE, "--seen-name", SEEN, "--confidence", "high",
    )  # fmt: skip
    assert code == 0, err
    obs = json.loads(out)
    assert [c["outcome"] for c in obs["corroboration"]] == ["confirms"]

    kml = tmp_path / "f.kml"
    code, _, err = cli("export", "findings", "--db", db, "--format", "kml", "--out", kml)
    assert code == 0, err
    raw = kml.read_bytes()
    # nothing hostile survives as markup in the file itself
    for bad in (b"<img", b"<script", b"</script", b"]]>", b"<![CDATA[", b"</name><name>"):
        assert bad not in raw, bad

    root = etree.fromstring(raw)
    (folder,) = [f for f in root.iter(f"{K}Folder") if f.findtext(f"{K}name") == "Observations"]
    (pm,) = folder.findall(f"{K}Placemark")
    assert pm.get("id") == f"observation-{obs['obs_id']}"
    # names are plain text: the hostile name reads back exactly
    assert pm.findtext(f"{K}name") == f"O{obs['obs_id']} imagery: {NAME}"
    data = {d.get("name"): d.findtext(f"{K}value") for d in pm.iter(f"{K}Data")}
    assert data == {
        "obs_id": str(obs["obs_id"]),
        "mmsi": str(MMSI),
        "kind": "imagery",
        "outcomes": "confirms",
    }
    assert pm.findtext(f"{K}TimeStamp/{K}when") == obs["ts"]
    lon, lat = map(float, pm.findtext(f"{K}Point/{K}coordinates").split(","))
    assert (round(lat, 5), round(lon, 5)) == (round(obs["lat"], 5), round(obs["lon"], 5))
    # the balloon is HTML (Google Earth renders it): a table whose cells hold the texts as text
    balloon = lxml_html.fromstring(pm.findtext(f"{K}description"))
    assert [e.tag for e in balloon.iter() if e.tag in ("img", "script", "name")] == []
    cells = {tr.findtext("th"): tr.find("td").text_content() for tr in balloon.iter("tr")}
    assert cells["Source"] == SOURCE and cells["Note"] == NOTE
    assert cells["Identity seen"] == f"name {SEEN}"
    assert NAME in cells["Vessel"]
    assert cells["confirms"].startswith("dark port call at Rajin confirmed by observation 1")

    # fastkml validates the document against the OGC KML 2.2 schema while parsing
    from fastkml import kml as fastkml

    doc = fastkml.KML.parse(str(kml))
    names = [f.name for f in doc.features[0].features]
    assert names[0] == "Watched ports" and names[-1] == "Observations"
