"""Risk ranking: explained signals, weights from one place, the `risk` table and `tumen risk`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from scenario_store import ANGARA, BELLA, KUMUNSAN, PACIFIC, SEAHORSE, build_scenario_store
from tumen.config import load_settings
from tumen.risk import rank_vessels
from tumen.risk.signals import SIGNALS, load_watched_ports
from tumen.risk.weights import RiskWeights
from tumen.tracks.geo import M_PER_DEG


@pytest.fixture()
def scenario(store, tmp_path: Path):
    return build_scenario_store(store, tmp_path / "raw")


def _by_mmsi(table: pa.Table) -> dict[int, dict]:
    rows = {}
    for row in table.to_pylist():
        row["signals"] = {s["signal"]: s for s in json.loads(row["signals"])}
        rows[row["mmsi"]] = row
    return rows


def test_every_signal_has_a_documented_weight() -> None:
    fields = RiskWeights.model_fields
    assert {s.name for s in SIGNALS} == set(fields)
    assert all(f.description for f in fields.values())


def test_scenario_ranking_and_explanations(store, scenario) -> None:
    settings = load_settings(environ={})
    table = rank_vessels(store, settings)
    rows = _by_mmsi(table)

    # the sanctioned shuttle ranks first, the harmless transit last
    assert table.column("mmsi")[0].as_py() == ANGARA
    assert rows[PACIFIC]["score"] == 0 and rows[PACIFIC]["rank"] == 5
    assert [r["rank"] for r in table.to_pylist()] == [1, 2, 3, 4, 5]

    angara = rows[ANGARA]
    assert angara["name"] == "LAZURIT" and angara["imo"] == 9179842  # latest identity
    sig = angara["signals"]
    assert set(sig) == {
        "sanctioned_vessel",
        "sanctioned_party",
        "nk_ru_voyage",
        "dprk_port_visit",
        "dark_near_port",
        "dark_shuttle_route",
        "identity_change",
    }
    assert sig["nk_ru_voyage"]["event_ids"] == [scenario.events["angara_voyage"]]
    assert sig["nk_ru_voyage"]["notes"] == ["Rajin → Dunai"]
    assert sig["dark_shuttle_route"]["event_ids"] == [scenario.events["angara_gap"]]
    assert "Rajin–Dunai" in sig["dark_shuttle_route"]["notes"][0]
    assert sig["sanctioned_party"]["entity_ids"] == ["ofac-m-leasing"]
    assert sig["sanctioned_party"]["points"] == pytest.approx(25 * 0.95)
    # the score is exactly the sum of the listed points
    assert angara["score"] == pytest.approx(sum(s["points"] for s in sig.values()), abs=1e-6)

    # encounter: both sides get it; the partner's listing and DPRK MID are explained
    kum, bella = rows[KUMUNSAN]["signals"], rows[BELLA]["signals"]
    enc = scenario.events["encounter"]
    assert kum["encounter"]["event_ids"] == [enc] == bella["encounter"]["event_ids"]
    assert bella["encounter_dprk_partner"]["event_ids"] == [enc]
    assert "encounter_dprk_partner" not in kum  # BELLA is Russian
    assert kum["sanctioned_partner"]["points"] == pytest.approx(20 * 0.92)
    assert "dprk_mid" in kum and "loitering" in bella
    assert set(rows[SEAHORSE]["signals"]) == {"invalid_imo"}

    # every cited event exists
    known = set(store.query("select event_id from events").column("event_id").to_pylist())
    cited = {e for r in rows.values() for s in r["signals"].values() for e in s["event_ids"]}
    assert cited and cited <= known

    # the table is stored
    stored = store.query("select mmsi, score, rank from risk order by rank")
    assert stored.column("mmsi").to_pylist() == table.column("mmsi").to_pylist()


def test_weights_are_configurable(store, scenario, tmp_path: Path) -> None:
    toml = tmp_path / "tumen.toml"
    toml.write_text("[risk.weights]\nsanctioned_vessel = 0\nloitering = 50\n")
    settings = load_settings(toml, environ={})
    rows = _by_mmsi(rank_vessels(store, settings))
    assert "sanctioned_vessel" not in rows[ANGARA]["signals"]
    assert rows[BELLA]["signals"]["loitering"]["points"] == 50
    assert rows[BELLA]["rank"] == 1
    weights = json.loads(store.query("select weights from risk limit 1").column(0)[0].as_py())
    assert weights["loitering"] == 50 and weights["repeat_decay"] == 0.5


def _add_voyage(store, mmsi: int, hour: float, from_port: str, to_port: str) -> None:
    t = datetime(2024, 1, 12) + timedelta(hours=hour)
    store.append(
        "events",
        pa.Table.from_pylist(
            [
                {
                    "event_id": f"extra-{mmsi}-{hour}",
                    "type": "voyage",
                    "mmsi": mmsi,
                    "start": t,
                    "end": t + timedelta(hours=20),
                    "from_port": from_port,
                    "to_port": to_port,
                    "detector": "voyages",
                    "params": "{}",
                    "evidence": json.dumps(
                        {"detector": "voyages", "params": {}, "position_ids": []}
                    ),
                    "tumen_version": "0.1.0",
                    "detected_at": t,
                }
            ]
        ),
    )


def test_repeated_signal_decays(store, scenario) -> None:
    _add_voyage(store, ANGARA, 30, "Dunai", "Rajin")  # a second NK–RU voyage
    _add_voyage(store, ANGARA, 50, "Rajin", "Chongjin")  # KP–KP: not a signal
    _add_voyage(store, ANGARA, 70, "Vladivostok", "Nakhodka")  # RU–RU: not a signal
    settings = load_settings(environ={})
    sig = _by_mmsi(rank_vessels(store, settings))[ANGARA]["signals"]["nk_ru_voyage"]
    assert sig["count"] == 2 and sig["points"] == pytest.approx(20 + 10)
    assert f"extra-{ANGARA}-30" in sig["event_ids"] and f"extra-{ANGARA}-50" not in sig["event_ids"]
    settings = load_settings(overrides={"risk.repeat_decay": 1.0}, environ={})
    sig = _by_mmsi(rank_vessels(store, settings))[ANGARA]["signals"]["nk_ru_voyage"]
    assert sig["points"] == pytest.approx(40)


def _gap_store(store, lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> None:
    """One vessel, one 10-hour gap between two fixes."""
    t0 = datetime(2024, 3, 1)
    store.append(
        "positions",
        pa.Table.from_pylist(
            [
                {
                    "pos_id": 1,
                    "mmsi": 1,
                    "ts": t0,
                    "lat": lat_a,
                    "lon": lon_a,
                    "source_id": 1,
                    "line_no": 1,
                    "line_first": 1,
                },
                {
                    "pos_id": 2,
                    "mmsi": 1,
                    "ts": t0 + timedelta(hours=10),
                    "lat": lat_b,
                    "lon": lon_b,
                    "source_id": 1,
                    "line_no": 2,
                    "line_first": 2,
                },
            ]
        ),
    )
    store.append(
        "events",
        pa.Table.from_pylist(
            [
                {
                    "event_id": "g1",
                    "type": "gap",
                    "mmsi": 1,
                    "start": t0,
                    "end": t0 + timedelta(hours=10),
                    "lat": lat_a,
                    "lon": lon_a,
                    "detector": "gaps",
                    "params": "{}",
                    "evidence": json.dumps(
                        {"detector": "gaps", "params": {}, "position_ids": [1, 2]}
                    ),
                    "tumen_version": "0.1.0",
                    "detected_at": t0,
                }
            ]
        ),
    )


def _km_east(lat: float, lon: float, km: float) -> tuple[float, float]:
    import math

    return lat, lon + km / (111.195 * math.cos(math.radians(lat)))


@pytest.mark.parametrize("extra_km, expected", [(13.9, True), (14.1, False)])
def test_dark_near_port_threshold(store, extra_km: float, expected: bool) -> None:
    # Rajin radius 4 km + near_port_km 10 km = 14 km
    rajin = next(p for p in load_watched_ports() if p.name == "Rajin")
    a = _km_east(rajin.lat, rajin.lon, extra_km)
    _gap_store(store, *a, 38.0, 134.0)  # the other end far out at sea
    sig = _by_mmsi(rank_vessels(store, load_settings(environ={})))[1]["signals"]
    assert ("dark_near_port" in sig) is expected
    assert "dark_shuttle_route" not in sig


@pytest.mark.parametrize("offset_km, expected", [(29.0, True), (31.0, False)])
def test_dark_shuttle_route_corridor(
    store, tmp_path: Path, offset_km: float, expected: bool
) -> None:
    # both ends on the Chongjin–Vladivostok line, shifted sideways by offset_km (corridor 30 km)
    csv = tmp_path / "ports.csv"
    csv.write_text(
        "name,country,lat,lon,radius_km\nChongjin,KP,41.766667,129.816667,5\nVladivostok,RU,43.116667,131.883333,5\n"
    )
    ports = {p.name: p for p in load_watched_ports(csv)}
    a, b = ports["Chongjin"], ports["Vladivostok"]
    import math

    # a point 40 % / 60 % of the way, pushed south-east perpendicular to the line (the line runs NE)
    def along(f: float) -> tuple[float, float]:
        lat = a.lat + f * (b.lat - a.lat)
        lon = a.lon + f * (b.lon - a.lon)
        km_deg = M_PER_DEG / 1000.0
        kx = km_deg * math.cos(math.radians((a.lat + b.lat) / 2))
        dx, dy = (b.lon - a.lon) * kx, (b.lat - a.lat) * km_deg
        n = math.hypot(dx, dy)
        px, py = dy / n, -dx / n  # unit normal
        return lat + py * offset_km / km_deg, lon + px * offset_km / kx

    _gap_store(store, *along(0.4), *along(0.6))
    sig = _by_mmsi(rank_vessels(store, load_settings(environ={}), ports=csv))[1]["signals"]
    assert ("dark_shuttle_route" in sig) is expected


def test_the_scenario_matches_table_is_the_real_one(tmp_path: Path) -> None:
    import duckdb

    from scenario_store import MATCHES_DDL
    from tumen.store import DuckDBStore

    describe = 'SELECT column_name, column_type, "null" FROM (DESCRIBE matches)'
    with DuckDBStore(tmp_path / "real.duckdb") as real:
        want = [tuple(r.values()) for r in real.query(describe).to_pylist()]
    con = duckdb.connect()
    con.execute(MATCHES_DDL)
    assert con.execute(describe).fetchall() == want


def test_a_ports_file_with_a_utf8_bom_reads_like_one_without(tmp_path: Path) -> None:
    # risk used to read ports with its own loader, which took the BOM into the first column's name
    text = "name,country,lat,lon,radius_km\nChongjin,kp,41.766667,129.816667,5\n"
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_text(text, encoding="utf-8")
    bom.write_text(text, encoding="utf-8-sig")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    got = load_watched_ports(bom)
    assert got == load_watched_ports(plain) and got[0].name == "Chongjin"
    assert got[0].country == "KP"  # the one loader's normalisation


def test_without_screening_the_sanctions_signals_are_absent(store, tmp_path: Path) -> None:
    _gap_store(store, 42.0, 131.0, 42.1, 131.2)
    # screening has not run: the matches table (created with the schema) is empty
    assert not store.table_exists("matches") or store.scalar("SELECT count(*) FROM matches") == 0
    table = rank_vessels(store, load_settings(environ={}))
    assert table.num_rows == 1 and table.column("rank").to_pylist() == [1]


def test_cli_risk_json(cli, store, scenario) -> None:
    path = store.path
    store.close()
    code, out, err = cli("risk", "--db", path, "--json", "--top", "3")
    assert code == 0, err
    obj = json.loads(out)
    assert obj["n_vessels"] == 5 and len(obj["vessels"]) == 3
    top = obj["vessels"][0]
    assert top["mmsi"] == ANGARA and top["rank"] == 1
    assert {s["signal"] for s in top["signals"]} >= {"sanctioned_vessel", "nk_ru_voyage"}
    code, out, err = cli("risk", "--db", path)
    assert code == 0 and "LAZURIT" in out and "Rajin → Dunai" in out


def test_a_match_keyed_by_imo_reaches_every_mmsi_that_broadcast_it(store, scenario) -> None:
    """Screening may key a match by IMO only; the vessel is every MMSI that sent that IMO."""
    store.execute("DELETE FROM matches WHERE mmsi = ?", [BELLA])
    store.append(
        "matches",
        pa.Table.from_pylist(
            [
                {
                    "mmsi": None,
                    "imo": 9743033,
                    "name": "SPARTA IV",
                    "role": "vessel",
                    "entity_id": "ofac-sparta-iv",
                    "caption": "SPARTA IV",
                    "schema": "Vessel",
                    "score": 1.0,
                    "match": True,
                    "features": "{}",
                    "datasets": "[]",
                    "programs": "[]",
                    "screened_at": datetime(2024, 2, 1),
                }
            ]
        ),
    )
    rows = _by_mmsi(rank_vessels(store, load_settings(environ={})))
    assert rows[BELLA]["signals"]["sanctioned_vessel"]["entity_ids"] == ["ofac-sparta-iv"]
    # and KUM UN SAN 3, which met BELLA, still gets the listed-partner signal
    assert rows[KUMUNSAN]["signals"]["sanctioned_partner"]["points"] == pytest.approx(20.0)


def test_cli_risk_on_a_missing_store_is_one_line(cli, tmp_path: Path) -> None:
    code, out, err = cli("risk", "--db", tmp_path / "x.duckdb")
    assert code == 4 and "no such store" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "x.duckdb").exists()


def _designation(list_id: str, reference: str) -> str:
    return json.dumps(
        [
            {
                "list": list_id,
                "authority": "US Treasury Office of Foreign Assets Control (OFAC)",
                "programs": ["RUSSIA-EO14024"],
                "reference": reference,
            }
        ]
    )


def test_one_designation_cited_by_two_lists_counts_once(store, scenario) -> None:
    """The demo list cites OFAC entry 37095, OFAC's own list carries it too: one designation, not two."""
    settings = load_settings(environ={})
    before = _by_mmsi(rank_vessels(store, settings))[ANGARA]["signals"]["sanctioned_vessel"]
    store.execute(
        "UPDATE matches SET designation = ? WHERE entity_id = 'ofac-angara'",
        [_designation("us_ofac_sdn", "37095")],
    )
    store.execute(
        """INSERT INTO matches (mmsi, imo, name, role, entity_id, caption, schema, score, match,
                               features, datasets, programs, designation, screened_at)
           SELECT mmsi, imo, name, role, 'tumen-demo-angara', caption, schema, score, match,
                  features, '["tumen_demo"]', programs, ?, screened_at
           FROM matches WHERE entity_id = 'ofac-angara'""",
        [_designation("tumen_demo", "37095")],
    )
    sig = _by_mmsi(rank_vessels(store, settings))[ANGARA]["signals"]["sanctioned_vessel"]
    assert sig["count"] == 1 and sig["points"] == before["points"]
    assert "37095" in sig["notes"][0] and "tumen_demo" in sig["notes"][0]
    assert "us_ofac_sdn" in sig["notes"][0]

    # a second, different designation of the same vessel does count
    store.execute(
        "UPDATE matches SET designation = ? WHERE entity_id = 'tumen-demo-angara'",
        [_designation("tumen_demo", "40001")],
    )
    sig = _by_mmsi(rank_vessels(store, settings))[ANGARA]["signals"]["sanctioned_vessel"]
    assert sig["count"] == 2 and sig["points"] > before["points"]
