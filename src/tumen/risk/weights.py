"""The risk signals' weights: how they make a score, and where they are set.

The weights themselves are the fields of :class:`tumen.config.RiskWeights` (one field per signal,
with its default and description): settings are the bottom layer of tumen, so the class lives in
:mod:`tumen.config` and is re-exported here.

A vessel's risk score is a sum of *points*.  Each signal (see
:mod:`tumen.risk.signals` for the definitions) contributes::

    points = weight × Σ_k value_k × repeat_decay^(k−1)

over the signal's occurrences for that vessel (events, or list matches), taken
strongest first: ``value`` is 1 for an event and the match score (0–1) for a
sanctions match.  With the default ``repeat_decay`` of 0.5 the first
occurrence counts in full, the second half as much, the third a quarter, …, so
one signal can never give more than twice its weight and a vessel seen in many
harmless port calls does not outrank one sanctioned vessel.

The default weights follow the order of evidence the UN Panel of Experts on
DPRK (reports S/2019/171, S/2024/215) and the joint US advisory
"North Korea Ship-to-Ship Transfers" (OFAC/State/USCG, 2020-05-14, updated
2024) give to each indicator: a listed vessel or owner first, then port calls
and voyages between North Korean and Russian ports, dark periods near those
ports, ship-to-ship transfers at sea (worse with a listed or DPRK partner), and
the identity tricks used to hide them (MMSI sharing, spoofed positions,
renaming, fraudulent IMO numbers, false flags).

Change them in ``tumen.toml``::

    [risk.weights]
    sanctioned_vessel = 60
    loitering = 1

or with ``TUMEN_RISK__WEIGHTS__LOITERING=1``.  ``tumen config`` lists them all.
"""

from __future__ import annotations

from tumen.config import RiskWeights as RiskWeights

__all__ = ["DEFAULT_WEIGHTS", "RiskWeights"]

DEFAULT_WEIGHTS = RiskWeights()
