"""A small, hand-built store for the risk, report and export tests.

Five vessels over three days (2024-01-10 → 2024-01-13 UTC) in the sea between
Rajin and Dunai, written through the store API exactly as ingest, detect and
screen write them (same tables, same columns, same evidence JSON):

========  ==========  ===============================================================
MMSI      name        what happens
========  ==========  ===============================================================
273111110 ANGARA      calls at Rajin, goes dark on leaving, reappears near Dunai, calls
                      there (voyage Rajin → Dunai), is renamed LAZURIT; listed vessel,
                      owner listed
445123000 KUM UN SAN 3 DPRK MID; meets BELLA at sea; listed vessel
273222220 BELLA       loiters, then meets KUM UN SAN 3; broadcasts SPARTA IV's IMO
351000001 PACIFIC STAR passes through; no events
636000001 SEA HORSE   broadcasts an IMO with a wrong check digit
========  ==========  ===============================================================

Every event cites the stored positions it rests on, and every position cites
its line in a real file written next to the store, so provenance can be
followed from a report back to the bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from tumen.store.duckdb import schema_sql

T0 = datetime(2024, 1, 10, 0, 0, 0)
STEP_MIN = 5

ANGARA, KUMUNSAN, BELLA, PACIFIC, SEAHORSE = 273111110, 445123000, 273222220, 351000001, 636000001


def table_ddl(name: str) -> str:
    """The ``CREATE TABLE IF NOT EXISTS name (...)`` statement of table ``name`` in store/schema.sql."""
    match = re.search(
        rf"CREATE TABLE IF NOT EXISTS {re.escape(name)} \(.*?\n\);", schema_sql(), re.DOTALL
    )
    assert match, f"table {name} is not in store/schema.sql"
    return match.group(0)


#: The real ``matches`` table (for stores opened without the schema); never written by hand.
MATCHES_DDL = table_ddl("matches")


@dataclass
class Scenario:
    """What the builder wrote (ids to assert on)."""

    source_path: Path
    sha256: str
    events: dict[str, str] = field(default_factory=dict)  # label -> event_id
    n_positions: int = 0


def _track(
    waypoints: list[tuple[float, float, float]], silent: list[tuple[float, float]] = ()
) -> np.ndarray:
    """Fixes every STEP_MIN minutes along (hour, lat, lon) waypoints, minus the silent hour ranges."""
    hours = np.arange(waypoints[0][0], waypoints[-1][0] + 1e-9, STEP_MIN / 60)
    wh = np.array([w[0] for w in waypoints])
    lat = np.interp(hours, wh, [w[1] for w in waypoints])
    lon = np.interp(hours, wh, [w[2] for w in waypoints])
    keep = np.ones(hours.shape, bool)
    for a, b in silent:
        keep &= ~((hours > a) & (hours < b))
    # tiny deterministic jitter so stationary fixes are not identical
    jitter = np.sin(hours * 7.0) * 0.0002
    return np.column_stack([hours, lat + jitter, lon + jitter])[keep]


def _sog_kn(track: np.ndarray) -> np.ndarray:
    dlat = np.diff(track[:, 1]) * 60.0
    dlon = np.diff(track[:, 2]) * 60.0 * np.cos(np.radians(track[1:, 1]))
    dist_nmi = np.hypot(dlat, dlon)
    dt_h = np.diff(track[:, 0])
    sog = np.concatenate([[0.0], dist_nmi / np.maximum(dt_h, 1e-9)])
    return np.where(sog < 0.3, 0.1, sog)


TRACKS: dict[int, tuple[list[tuple[float, float, float]], list[tuple[float, float]]]] = {
    ANGARA: (
        [
            (0, 42.2333, 130.300),  # at Rajin
            (6, 42.2333, 130.300),
            (8, 42.230, 130.420),  # leaving, ~10 km out: goes dark after this fix
            (20, 42.800, 132.150),
            (22, 42.860, 132.300),  # reappears near Dunai
            (24, 42.880, 132.3375),
            (34, 42.880, 132.3375),  # at Dunai
            (40, 42.600, 132.600),
            (72, 41.500, 133.500),
        ],
        [(8.0, 21.0)],
    ),
    KUMUNSAN: (
        [(0, 41.000, 130.500), (38, 41.600, 131.200), (47, 41.600, 131.200), (72, 41.100, 130.400)],
        [],
    ),
    BELLA: (
        [
            (0, 42.600, 133.000),
            (20, 41.800, 131.500),
            (28, 41.800, 131.500),  # loitering
            (38, 41.6015, 131.2010),
            (47, 41.6015, 131.2010),  # alongside KUM UN SAN 3
            (72, 42.600, 132.900),
        ],
        [],
    ),
    PACIFIC: ([(0, 40.000, 129.000), (72, 43.000, 134.000)], []),
    SEAHORSE: ([(0, 40.500, 132.000), (24, 40.900, 133.000)], []),
}

STATICS: dict[int, list[tuple[float, int | None, str, str, int, str | None]]] = {
    # mmsi -> [(hour, imo, name, callsign, ship_type, flag)]
    ANGARA: [(h, 9179842, "ANGARA", "UBCT5", 70, "RU") for h in (0, 6, 12, 24)]
    + [(h, 9179842, "LAZURIT", "UBCT5", 70, "RU") for h in (30, 48, 66)],
    KUMUNSAN: [(h, 8705539, "KUM UN SAN 3", "HMYB", 70, "KP") for h in (0, 24, 48)],
    BELLA: [(h, 9743033, "BELLA", "UBAB2", 70, "RU") for h in (0, 24, 48)],
    PACIFIC: [(h, 9305609, "PACIFIC STAR", "3FXY7", 70, "PA") for h in (0, 36)],
    SEAHORSE: [(h, 1234567, "SEA HORSE", "3EQW2", 30, None) for h in (0, 12)],
}


def _ts(hour: float) -> datetime:
    return T0 + timedelta(hours=float(hour))


def _event_id(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]


def build_scenario_store(store, folder: Path) -> Scenario:
    """Fill ``store`` with the scenario; the raw file it cites is written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "scenario_capture.nmea"

    pos_rows: dict[str, list] = {
        k: [] for k in ("pos_id", "mmsi", "ts", "lat", "lon", "sog_kn", "line_no")
    }
    by_vessel: dict[int, dict[str, np.ndarray]] = {}
    lines: list[str] = []
    pos_id = 1_000
    for mmsi, (waypoints, silent) in TRACKS.items():
        tr = _track(waypoints, silent)
        sog = _sog_kn(tr)
        ids = np.arange(pos_id, pos_id + len(tr))
        pos_id += len(tr)
        line_nos = np.arange(len(lines) + 1, len(lines) + 1 + len(tr))
        for h, la, lo in tr:
            lines.append(f"{_ts(h).isoformat()}Z,{mmsi},{la:.5f},{lo:.5f}")
        by_vessel[mmsi] = {
            "hours": tr[:, 0],
            "lat": tr[:, 1],
            "lon": tr[:, 2],
            "ids": ids,
            "sog": sog,
        }
        pos_rows["pos_id"] += ids.tolist()
        pos_rows["mmsi"] += [mmsi] * len(tr)
        pos_rows["ts"] += [_ts(h) for h in tr[:, 0]]
        pos_rows["lat"] += tr[:, 1].tolist()
        pos_rows["lon"] += tr[:, 2].tolist()
        pos_rows["sog_kn"] += sog.tolist()
        pos_rows["line_no"] += line_nos.tolist()

    st_rows: dict[str, list] = {
        k: []
        for k in (
            "static_id",
            "mmsi",
            "ts",
            "imo",
            "name",
            "callsign",
            "ship_type",
            "flag",
            "line_no",
        )
    }
    static_ids: dict[int, list[int]] = {}
    sid = 50_000
    for mmsi, reports in STATICS.items():
        for hour, imo, name, call, stype, flag in reports:
            lines.append(f"{_ts(hour).isoformat()}Z,{mmsi},static,{imo},{name},{call}")
            st_rows["static_id"].append(sid)
            st_rows["mmsi"].append(mmsi)
            st_rows["ts"].append(_ts(hour))
            st_rows["imo"].append(imo)
            st_rows["name"].append(name)
            st_rows["callsign"].append(call)
            st_rows["ship_type"].append(stype)
            st_rows["flag"].append(flag)
            st_rows["line_no"].append(len(lines))
            static_ids.setdefault(mmsi, []).append(sid)
            sid += 1

    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    store.append(
        "sources",
        pa.table(
            {
                "source_id": pa.array([1], pa.int32()),
                "path": [str(source)],
                "sha256": [sha],
                "size_bytes": [source.stat().st_size],
                "format": ["nmea"],
                "ingested_at": [datetime(2024, 2, 1, 12, 0, 0)],
                "tumen_version": ["0.1.0"],
                "lines": [len(lines)],
                "stored": [len(lines)],
                "duplicates": [0],
                "quarantined": [0],
            }
        ),
    )
    n = len(pos_rows["pos_id"])
    store.append(
        "positions",
        pa.table(
            {
                **{k: pos_rows[k] for k in ("pos_id", "mmsi", "ts", "lat", "lon")},
                "sog_kn": pa.array(pos_rows["sog_kn"], pa.float32()),
                "msg_type": pa.array([1] * n, pa.int8()),
                "class": ["A"] * n,
                "station": ["sim"] * n,
                "source_id": pa.array([1] * n, pa.int32()),
                "line_no": pos_rows["line_no"],
                "line_first": pos_rows["line_no"],
            }
        ),
    )
    m = len(st_rows["static_id"])
    store.append(
        "statics",
        pa.table(
            {
                **{
                    k: st_rows[k]
                    for k in ("static_id", "mmsi", "ts", "imo", "name", "callsign", "flag")
                },
                "ship_type": pa.array(st_rows["ship_type"], pa.int16()),
                "msg_type": pa.array([5] * m, pa.int8()),
                "source_id": pa.array([1] * m, pa.int32()),
                "line_no": st_rows["line_no"],
                "line_first": st_rows["line_no"],
            }
        ),
    )

    scenario = Scenario(source_path=source, sha256=sha, n_positions=n)
    events: list[dict] = []

    def ids_between(mmsi: int, h0: float, h1: float) -> list[int]:
        v = by_vessel[mmsi]
        sel = (v["hours"] >= h0 - 1e-9) & (v["hours"] <= h1 + 1e-9)
        return v["ids"][sel].tolist()

    def fix_at(mmsi: int, hour: float) -> tuple[float, float]:
        v = by_vessel[mmsi]
        i = int(np.argmin(np.abs(v["hours"] - hour)))
        return float(v["lat"][i]), float(v["lon"][i])

    def add(
        label: str,
        type_: str,
        mmsi: int,
        h0: float,
        h1: float,
        *,
        detector: str,
        params: dict,
        **kw,
    ) -> None:
        measures = kw.pop("measures", {})
        pos_ids = kw.pop("position_ids", None) or ids_between(mmsi, h0, h1)
        lat, lon = kw.pop("at", fix_at(mmsi, (h0 + h1) / 2))
        evidence = {"detector": detector, "params": params, "position_ids": pos_ids, **measures}
        if "static_ids" in kw:
            evidence["static_ids"] = kw.pop("static_ids")
        eid = _event_id(type_, kw.get("subtype"), mmsi, kw.get("other_mmsi"), h0, detector)
        scenario.events[label] = eid
        events.append(
            {
                "event_id": eid,
                "type": type_,
                "subtype": kw.get("subtype"),
                "mmsi": mmsi,
                "other_mmsi": kw.get("other_mmsi"),
                "start": _ts(h0),
                "end": _ts(h1),
                "lat": lat,
                "lon": lon,
                "port": kw.get("port"),
                "from_port": kw.get("from_port"),
                "to_port": kw.get("to_port"),
                "detector": detector,
                "params": json.dumps(params),
                "evidence": json.dumps(evidence),
                "tumen_version": "0.1.0",
                "detected_at": datetime(2024, 2, 1, 12, 5, 0),
            }
        )

    pv = {"min_duration_min": 30.0, "radius_scale": 1.0}
    add(
        "angara_rajin",
        "port_visit",
        ANGARA,
        0,
        6,
        detector="port_visits",
        params=pv,
        port="Rajin",
        at=(42.2333, 130.30),
        measures={"duration_h": 6.0},
    )
    add(
        "angara_dunai",
        "port_visit",
        ANGARA,
        24,
        34,
        detector="port_visits",
        params=pv,
        port="Dunai",
        at=(42.88, 132.3375),
        measures={"duration_h": 10.0},
    )
    v = by_vessel[ANGARA]
    last = int(v["ids"][v["hours"] <= 8.0 + 1e-9][-1])
    first = int(v["ids"][v["hours"] >= 21.0 - 1e-9][0])
    h_last = float(v["hours"][v["hours"] <= 8.0 + 1e-9][-1])
    h_first = float(v["hours"][v["hours"] >= 21.0 - 1e-9][0])
    add(
        "angara_gap",
        "gap",
        ANGARA,
        h_last,
        h_first,
        detector="gaps",
        params={"min_gap_h": 6.0, "min_port_stay_h": 6.0},
        position_ids=[last, first],
        at=fix_at(ANGARA, h_last),
        measures={
            "duration_h": h_first - h_last,
            "distance_km": 160.2,
            "implied_speed_kn": 6.7,
            "dark_port_candidates": ["Posyet", "Zarubino"],
        },
    )
    add(
        "angara_voyage",
        "voyage",
        ANGARA,
        6,
        24,
        detector="voyages",
        params={"max_duration_days": 60.0},
        from_port="Rajin",
        to_port="Dunai",
        at=(42.5, 131.3),
        position_ids=[first, last],
        measures={"duration_h": 18.0},
    )
    add(
        "angara_rename",
        "identity",
        ANGARA,
        24,
        30,
        detector="identity",
        params={"conflict_min_h": 1.0},
        subtype="identity_change",
        position_ids=[],
        static_ids=static_ids[ANGARA][3:5],
        measures={"before": {"name": "ANGARA"}, "after": {"name": "LAZURIT"}},
    )
    add(
        "encounter",
        "encounter",
        KUMUNSAN,
        40,
        46,
        detector="encounters",
        params={"max_distance_m": 500.0, "min_duration_h": 2.0, "max_speed_kn": 2.0},
        other_mmsi=BELLA,
        position_ids=ids_between(KUMUNSAN, 40, 46) + ids_between(BELLA, 40, 46),
        measures={"min_distance_m": 150.0, "duration_h": 6.0},
    )
    add(
        "bella_loiter",
        "loitering",
        BELLA,
        20,
        28,
        detector="loitering",
        params={"max_speed_kn": 2.0, "min_duration_h": 4.0},
        measures={"duration_h": 8.0},
    )
    add(
        "kumunsan_mid",
        "identity",
        KUMUNSAN,
        0,
        72,
        detector="identity",
        params={"dprk_mid": 445},
        subtype="dprk_mid",
        position_ids=ids_between(KUMUNSAN, 0, 0.5),
        static_ids=static_ids[KUMUNSAN][:1],
    )
    add(
        "seahorse_imo",
        "identity",
        SEAHORSE,
        0,
        12,
        detector="identity",
        params={},
        subtype="invalid_imo",
        position_ids=[],
        static_ids=static_ids[SEAHORSE],
        measures={"imo": 1234567},
    )
    store.append("events", pa.Table.from_pylist(events))

    store.execute(MATCHES_DDL)
    screened = datetime(2024, 2, 1, 12, 10, 0)

    def match(
        mmsi, imo, name, role, entity_id, caption, schema, score, features, programs, path=None
    ):
        return {
            "mmsi": mmsi,
            "imo": imo,
            "name": name,
            "role": role,
            "entity_id": entity_id,
            "caption": caption,
            "schema": schema,
            "score": score,
            "match": score >= 0.7,
            "features": json.dumps(features),
            "datasets": json.dumps(["us_ofac_sdn"]),
            "programs": json.dumps(programs),
            "path": json.dumps(path) if path else None,
            "screened_at": screened,
        }

    store.append(
        "matches",
        pa.Table.from_pylist(
            [
                match(
                    ANGARA,
                    9179842,
                    "ANGARA",
                    "vessel",
                    "ofac-angara",
                    "ANGARA",
                    "Vessel",
                    1.0,
                    {"imo_exact": 1.0, "name_similarity": [1.0, "ANGARA ~ ANGARA"]},
                    ["RUSSIA-EO14024"],
                ),
                match(
                    ANGARA,
                    9179842,
                    "ANGARA",
                    "owner",
                    "ofac-m-leasing",
                    "M LEASING LLC",
                    "Company",
                    0.95,
                    {"linked_to": "OFAC remarks"},
                    ["RUSSIA-EO14024"],
                    [
                        {
                            "from": "ofac-angara",
                            "to": "ofac-m-leasing",
                            "role": "owner",
                            "source": "OFAC SDN remarks",
                        }
                    ],
                ),
                match(
                    KUMUNSAN,
                    8705539,
                    "KUM UN SAN 3",
                    "vessel",
                    "ofac-kumunsan3",
                    "KUM UN SAN 3",
                    "Vessel",
                    0.98,
                    {"imo_exact": 1.0},
                    ["DPRK4"],
                ),
                match(
                    BELLA,
                    9743033,
                    "BELLA",
                    "vessel",
                    "ofac-sparta-iv",
                    "SPARTA IV",
                    "Vessel",
                    0.92,
                    {"imo_exact": 1.0, "previous_name": 0.0},
                    ["RUSSIA-EO14024"],
                ),
                match(
                    PACIFIC,
                    9305609,
                    "PACIFIC STAR",
                    "vessel",
                    "ofac-pacific-pearl",
                    "PACIFIC PEARL",
                    "Vessel",
                    0.41,
                    {"name_similarity": 0.41},
                    ["IRAN"],
                ),
            ]
        ),
    )
    return scenario
