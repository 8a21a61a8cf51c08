"""The bundled ports list, its documentation, and the detectors' registry and documentation."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from builders import distance_m
from tumen.config import DetectSettings
from tumen.detect.ports import bundled_ports_path, load_ports
from tumen.detect.registry import DETECTORS
from tumen.errors import InputError

PORTS = load_ports().to_pylist()
DOC = (bundled_ports_path().parent / "PORTS.md").read_text(encoding="utf-8")


def test_bundled_ports_cover_the_issue_and_have_sources():
    names = {p["name"] for p in PORTS}
    assert names == {
        "Rajin",
        "Chongjin",
        "Kimchaek",
        "Sinpo",
        "Hungnam",
        "Wonsan",
        "Nampo",
        "Songrim",
        "Haeju",
        "Vladivostok",
        "Bolshoy Kamen",
        "Dunai",
        "Nakhodka",
        "Vostochny",
        "Slavyanka",
        "Posyet",
        "Zarubino",
    }
    assert all(p["source"] and p["country"] in {"KP", "RU"} for p in PORTS)


@pytest.mark.parametrize("port", PORTS, ids=lambda p: p["name"])
def test_each_radius_is_documented(port):
    row = re.search(rf"^\| {re.escape(port['name'])} \| \**([\d.]+)\**", DOC, re.M)
    assert row, f"{port['name']} has no row in PORTS.md"
    assert float(row.group(1)) == port["radius_km"]


def test_no_two_bundled_circles_overlap():
    for i, a in enumerate(PORTS):
        for b in PORTS[i + 1 :]:
            gap = (
                distance_m(a["lat"], a["lon"], b["lat"], b["lon"]) / 1000
                - a["radius_km"]
                - b["radius_km"]
            )
            assert gap > 0, (a["name"], b["name"])


def test_extra_columns_and_bom_are_accepted(tmp_path: Path):
    f = tmp_path / "p.csv"
    f.write_text(
        "\ufeffname,country,lat,lon,radius_km,note\nX,ru,1.5,2.5,0.5,anything\n", encoding="utf-8"
    )
    (p,) = load_ports(f).to_pylist()
    assert (p["name"], p["country"], p["lat"], p["radius_km"]) == ("X", "RU", 1.5, 0.5)


def test_missing_ports_file(tmp_path: Path):
    with pytest.raises(InputError, match="no such ports file"):
        load_ports(tmp_path / "nope.csv")


def test_a_ports_path_that_cannot_be_read_is_an_input_error(tmp_path: Path):
    # a directory given to --ports was an IsADirectoryError traceback, not a one-line error
    with pytest.raises(InputError, match="cannot read the ports file"):
        load_ports(tmp_path)


def test_every_detector_is_documented_and_configured():
    types = set()
    for det in DETECTORS:
        module = importlib.import_module(f"tumen.detect.{det.name}")
        doc = module.__doc__ or ""
        assert "Source" in doc or "Sources" in doc, det.name
        assert det.source.startswith("https://")
        assert det.settings_key in DetectSettings.model_fields
        types.add(det.event_type)
    assert types == {"port_visit", "voyage", "gap", "encounter", "loitering", "identity"}
    assert len({d.name for d in DETECTORS}) == len(DETECTORS)
