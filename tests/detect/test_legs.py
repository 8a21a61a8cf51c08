"""The legs pass: its cheap candidate test never drops a row that an exact flag would keep."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tumen.config import load_settings
from tumen.detect import legs
from tumen.tracks.geo import KN_MS, M_PER_DEG

SETTINGS = load_settings(environ={}).detect
KEEP = "brk OR last OR is_gap OR slow_e OR slow_l OR near OR coalesce(p_near, false)"
COLUMNS = f"{legs.PASS_COLUMNS}, brk, last, p_k"


def fixes(seed: int, vessels: int = 60, per: int = 400) -> pa.Table:
    """Fixes whose legs sit on and around every threshold the flags test: time steps around ten
    minutes, an hour and six hours (and zero), implied speeds around 2 kn, SOG just under, at and
    just over 2 kn or missing, a few fixes near a port."""
    rng = np.random.default_rng(seed)
    n = vessels * per
    dt = rng.choice([0.0, 0.0004, 1.0, 30.0, 599.0, 600.0, 601.0, 3600.0, 3601.0, 21600.0, 3e4], n)
    kn = rng.choice([0.0, 1.9, 1.999, 2.0, 2.001, 2.1, 3.0, 12.0, 60.0], n)
    sog = rng.choice([np.nan, 0.0, 1.999, 2.0, 2.001, 12.0], n)
    hdg = rng.uniform(0, 2 * np.pi, n)
    step_m = kn * KN_MS * np.maximum(dt, 1.0) * rng.uniform(0.999, 1.001, n)
    dlat = step_m * np.cos(hdg) / M_PER_DEG
    dlon = step_m * np.sin(hdg) / (M_PER_DEG * np.cos(np.radians(40.0)))
    vessel = np.repeat(np.arange(vessels), per)
    first = np.arange(n) % per == 0
    dt[first], dlat[first], dlon[first] = 0.0, 0.0, 0.0

    def cum(x: np.ndarray) -> np.ndarray:
        c = np.cumsum(x)
        return c - np.repeat(c[first], per) + np.repeat(x[first], per)

    t = 1.7e9 + cum(dt)
    return pa.table(
        {
            "mmsi": pa.array(273_000_000 + vessel, pa.int64()),
            "k": pa.array(np.floor(t * 1000).astype(np.int64) * 2**21 + np.arange(n), pa.int64()),
            "t": pa.array(t),
            "lat": pa.array(40.0 + cum(dlat)),
            "lon": pa.array(140.0 + cum(dlon)),
            "sog_kn": pa.array(sog, pa.float32(), from_pandas=True),
            "pos_id": pa.array(np.arange(n), pa.int64()),
            "near": pa.array(rng.random(n) < 0.01),
        }
    )


@pytest.mark.parametrize(
    "speeds", [(2.0, 2.0), (5.0, 1.0), (0.5, 3.0)], ids=["default", "enc-faster", "lo-faster"]
)
def test_the_candidate_test_keeps_every_flagged_row(store, monkeypatch, speeds):
    settings = SETTINGS.model_copy(
        update={
            "encounters": SETTINGS.encounters.model_copy(update={"max_speed_kn": speeds[0]}),
            "loitering": SETTINGS.loitering.model_copy(update={"max_speed_kn": speeds[1]}),
        }
    )
    store.execute(
        "CREATE TEMP TABLE _fx (mmsi BIGINT, k BIGINT, t DOUBLE, lat DOUBLE, lon DOUBLE, "
        "sog_kn REAL, pos_id BIGINT, near BOOLEAN)"
    )
    store.append("_fx", fixes(seed=int(speeds[0] * 10 + speeds[1])))
    query = f"SELECT {COLUMNS} FROM ({{}}) x WHERE {KEEP} ORDER BY pos_id"
    kept = store.query(query.format(legs._window_sql("SELECT * FROM _fx", "mmsi", settings)))
    monkeypatch.setattr(legs, "candidate_sql", lambda _settings: "TRUE")
    exact = store.query(query.format(legs._window_sql("SELECT * FROM _fx", "mmsi", settings)))
    assert kept.equals(exact)
    flags = exact.select(["is_gap", "slow_e", "slow_l"]).to_pydict()
    # the data reach every flag, and most legs are flagged by none
    assert all(any(v) for v in flags.values())
    assert exact.num_rows < 0.8 * store.query("SELECT count(*) AS n FROM _fx")["n"][0].as_py()
