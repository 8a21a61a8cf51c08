"""Mid-period designations of the simulator (issue 15): in its truth and in the list it writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tumen.config import Settings
from tumen.screen.lists import load_lists
from tumen.screen.lists.history import designation_periods
from tumen.sim import simulate
from tumen.sim.designations import EVADER_ROLES, plan_designations, read_designations
from tumen.sim.pipeline import build_fleet
from tumen.sim.scenarios import NAMED

T0 = datetime(2024, 3, 4, tzinfo=UTC).timestamp()
NAMED_IMOS = {imo for imo, _k, _f in NAMED.values()}


def test_planted_evaders_are_designated_inside_the_period() -> None:
    for seed in (0, 1):
        fleet = build_fleet(seed, 120, 150, None).vessels
        plan = plan_designations(fleet, seed, T0, 120, NAMED_IMOS)
        assert plan == plan_designations(fleet, seed, T0, 120, NAMED_IMOS)  # the seed decides
        by_mmsi = {v.mmsi: v for v in fleet}
        pool = [v for v in fleet if v.role in EVADER_ROLES and v.identity.imo not in NAMED_IMOS]
        assert 1 <= len(plan) <= len(pool)
        start = datetime.fromtimestamp(T0, UTC).date()
        for d in plan:
            v = by_mmsi[d["mmsi"]]
            assert (
                v.role in EVADER_ROLES and d["imo"] not in NAMED_IMOS and d["imo"] == v.identity.imo
            )
            assert start < d["listed_on"] <= start + timedelta(days=4)


def test_simulate_writes_the_designations_as_a_list(tmp_path: Path, store) -> None:
    sim = simulate(tmp_path / "sim", seed=3, hours=48, vessels=40, settings=Settings())
    assert (
        sim.designations is not None and sim.designations.name == "sim_designations_2024-03-05.csv"
    )
    truth = read_designations(sim.designations)
    assert len(truth) == sim.n_designations == sim.to_json()["n_designations"] >= 1
    (summary,) = load_lists(store, [sim.designations])
    assert summary["list_id"] == "sim_designations" and summary["targets"] == len(truth)
    periods = designation_periods(store)
    for d in truth:
        p = periods[("sim_designations", f"sim-designations-{d['imo']}")]
        assert p["listed_since"] == d["listed_on"] and p["listed_since_source"] == "list"
