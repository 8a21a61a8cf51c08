"""The risk signals' weights: the ONE place where they are defined and documented.

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

from pydantic import BaseModel, ConfigDict, Field


class RiskWeights(BaseModel):
    """Points each risk signal is worth (points per occurrence before ``repeat_decay``).

    Every field is one signal of :data:`tumen.risk.signals.SIGNALS`; its
    description says what the signal is.  Set a weight to 0 to switch a signal off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- sanctions -----------------------------------------------------------
    sanctioned_vessel: float = Field(
        40.0, ge=0, description="The vessel itself matches a listed vessel (points × match score)."
    )
    sanctioned_party: float = Field(
        25.0,
        ge=0,
        description="Its registered owner, manager or operator matches a listed party (points × match score).",
    )
    sanctioned_partner: float = Field(
        20.0,
        ge=0,
        description="It met at sea a vessel that matches a listed vessel (points per encounter).",
    )
    # -- voyages and port calls ---------------------------------------------
    nk_ru_voyage: float = Field(
        20.0,
        ge=0,
        description="Voyage between a North Korean and a Russian watched port (points per voyage).",
    )
    dprk_port_visit: float = Field(
        10.0, ge=0, description="Port visit at a North Korean watched port (points per visit)."
    )
    # -- dark periods --------------------------------------------------------
    dark_near_port: float = Field(
        8.0,
        ge=0,
        description="AIS gap that starts or ends near a watched port (points per gap).",
    )
    dark_shuttle_route: float = Field(
        10.0,
        ge=0,
        description=(
            "AIS gap on a North Korea–Russia shuttle route, or during which the vessel could "
            "have called at a North Korean port (points per gap)."
        ),
    )
    # -- at sea --------------------------------------------------------------
    encounter: float = Field(
        6.0, ge=0, description="Ship-to-ship encounter at sea (points per encounter)."
    )
    encounter_dprk_partner: float = Field(
        10.0,
        ge=0,
        description="Encounter with a DPRK vessel (MID 445 or North Korean flag) (points per encounter).",
    )
    loitering: float = Field(3.0, ge=0, description="Loitering at sea (points per event).")
    # -- identity ------------------------------------------------------------
    mmsi_conflict: float = Field(
        8.0,
        ge=0,
        description="Its MMSI was transmitted from two places at once (points per event).",
    )
    position_jump: float = Field(
        4.0,
        ge=0,
        description="Short excursion at an impossible speed: spoofed position (points per event).",
    )
    identity_change: float = Field(
        6.0,
        ge=0,
        description="Name, IMO or call sign changed in its static reports (points per event).",
    )
    invalid_imo: float = Field(
        5.0,
        ge=0,
        description="It broadcast an IMO number whose check digit is wrong (points per event).",
    )
    flag_mismatch: float = Field(
        5.0, ge=0, description="MMSI's MID disagrees with the declared flag (points per event)."
    )
    dprk_mid: float = Field(
        15.0, ge=0, description="It transmits with North Korea's MID 445 (points per event)."
    )

    def weight(self, signal: str) -> float:
        """The weight of ``signal`` (points)."""
        return float(getattr(self, signal))


DEFAULT_WEIGHTS = RiskWeights()
