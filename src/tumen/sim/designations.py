"""Mid-period designations: some planted vessels are listed while the scenario runs.

A back-test (``bench/backtest.py``) asks whether the vessels designated *after* a date
were already ranked high *before* it.  The simulator makes that measurable: of the
planted vessels that play an evasion role (:data:`EVADER_ROLES`) under an invented
identity (the six real vessels of :data:`tumen.sim.scenarios.NAMED` keep their real
designations), about half, chosen with the seed, are designated on a day inside the
period: the UTC day holding a time drawn uniformly between 35 % and 65 % of the period
(for periods under two days: the second day).  The designation takes effect at 00:00
UTC of that day.

The simulator writes them as a designated-vessels list
(:mod:`tumen.screen.lists.vessels_csv`), ``sim_designations_<last day>.csv`` — the
list as published at the end of the period, each row with its ``listed_on`` date,
``mmsi`` and ``reference`` ``SIM-<n>`` — which is also the truth of the designations.
The authority is "tumen simulator (SIM)": invented designations, never real ones.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tumen.identifiers import imo_ship_valid

#: Planted roles that evade sanctions (the candidates for a designation).
EVADER_ROLES = ("shuttle", "sts", "dark_voyage", "dprk_trader", "loiter", "impostor")
AUTHORITY = "tumen simulator (SIM)"
PROGRAM = "SIM-DPRK"
HEADER = ("name", "imo", "flag", "listed_on", "reference", "mmsi", "authority", "program")


def plan_designations(
    vessels: list[Any], seed: int, t0: float, hours: float, named: set[int]
) -> list[dict[str, Any]]:
    """Pick the designated vessels and their dates (see the module docstring).

    Returns one dict per designation: ``name``, ``imo``, ``flag``, ``mmsi``,
    ``role``, ``listed_on`` (a :class:`datetime.date`), ``reference``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    pool = [
        v
        for v in vessels
        if v.role in EVADER_ROLES
        and v.identity.imo not in named
        and v.identity.imo
        and imo_ship_valid(str(v.identity.imo))
    ]
    if not pool:
        return []
    k = max(1, len(pool) // 2)
    chosen = sorted(rng.choice(len(pool), size=k, replace=False).tolist())
    start_day = datetime.fromtimestamp(t0, UTC).date()
    out = []
    for n, i in enumerate(chosen, start=1):
        v = pool[i]
        if hours < 48:
            day = start_day + timedelta(days=1)
        else:
            at = t0 + float(rng.uniform(0.35, 0.65)) * hours * 3600.0
            day = max(datetime.fromtimestamp(at, UTC).date(), start_day + timedelta(days=1))
        out.append(
            {
                "name": v.identity.name,
                "imo": int(v.identity.imo),
                "flag": v.flag,
                "mmsi": int(v.mmsi),
                "role": v.role,
                "listed_on": day,
                "reference": f"SIM-{n}",
            }
        )
    return out


def write_designations(out_dir: Path, rows: list[dict[str, Any]], last_day: date) -> Path | None:
    """Write the list ``sim_designations_<last_day>.csv``; ``None`` when nothing is designated."""
    for old in out_dir.glob("sim_designations_*.csv"):
        old.unlink()
    if not rows:
        return None
    path = out_dir / f"sim_designations_{last_day.isoformat()}.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow(
                [
                    r["name"],
                    r["imo"],
                    r["flag"],
                    r["listed_on"].isoformat(),
                    r["reference"],
                    r["mmsi"],
                    AUTHORITY,
                    PROGRAM,
                ]
            )
    return path


def read_designations(path: str | Path) -> list[dict[str, Any]]:
    """The designations of a ``sim_designations_*.csv`` (``listed_on`` as a date, ``mmsi`` an int)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        r
        | {
            "mmsi": int(r["mmsi"]),
            "imo": int(r["imo"]),
            "listed_on": date.fromisoformat(r["listed_on"]),
        }
        for r in rows
    ]


__all__ = ["EVADER_ROLES", "plan_designations", "read_designations", "write_designations"]
