"""Simulated vessels: identities (MMSI, IMO, name, call sign, type) and what they broadcast.

MMSIs start with the Maritime Identification Digits (MID) of the flag State
(ITU, *Table of Maritime Identification Digits*: 273 Russia, 445 DPR Korea, 412–414
China, 440–441 Republic of Korea, 431–432 Japan, 351–357 Panama, 667 Sierra Leone,
…).  IMO numbers carry the check digit of IMO Resolution A.1117(30) (weights 7..2 on
the first six digits, last digit of the sum), except where a scenario plants an
invalid one on purpose.  Names and call signs are invented; the six vessels of
CONTRACTS.md (ANGARA, LADY R, MAIA-1, SPARTA IV, KUM UN SAN 3, CHONG CHON GANG) keep
their real, publicly designated names and IMO numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tumen.identifiers import imo_check_digit
from tumen.sim.motion import Leg

#: Flag (ISO 3166 alpha-2) → MIDs.
MIDS: dict[str, tuple[int, ...]] = {
    "RU": (273,),
    "KP": (445,),
    "CN": (412, 413, 414),
    "KR": (440, 441),
    "JP": (431, 432),
    "PA": (351, 352, 353, 354, 355, 356, 357),
    "SL": (667,),
    "TG": (671,),
    "MN": (457,),
    "KH": (514, 515),
    "HK": (477,),
    "LR": (636,),
    "MH": (538,),
}

#: ITU-R M.1371 ship and cargo type codes used here.
SHIP_TYPES = {"cargo": 70, "tanker": 80, "fishing": 30, "passenger": 60, "tug": 52, "other": 90}

_AIS_CHARS = set("@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?")

_WORDS = {
    "RU": [
        "VOSTOK",
        "PRIMORYE",
        "SIBIR",
        "AMUR",
        "KAPITAN BELOUSOV",
        "SVETLAYA",
        "TAIGA",
        "OKEAN",
        "BAIKAL",
        "ZOLOTOY ROG",
        "NADEZHDA",
        "SAKHALIN",
        "KAMCHATKA",
        "ZARYA",
        "ARKTIKA",
        "IRTYSH",
        "LENA",
        "USSURI",
        "PARTIZAN",
        "SEVER",
        "VITYAZ",
        "KOMANDOR",
        "ALEUT",
        "SHTURMAN",
    ],
    "CN": [
        "HAI FENG",
        "XIN HUA",
        "SHUN DA",
        "DA YUAN",
        "JIN HAI",
        "HUA XIANG",
        "YUAN FU",
        "MING ZHOU",
        "TIAN LONG",
        "FU XING",
        "ZHE HAI",
        "LU HAI",
        "HONG YUN",
        "AN SHUN",
        "CHANG HANG",
    ],
    "KR": [
        "HANA",
        "DAEWON",
        "SEOHAE",
        "BLUE OCEAN",
        "SUNNY",
        "DONGHAE",
        "KUMYANG",
        "HANJIN",
        "PAN OCEAN",
        "SEA STAR",
        "KOREA",
        "NAMSUNG",
        "HYUNDAI",
        "SINOKOR",
        "DAE HO",
    ],
    "JP": [
        "SHINSEI MARU",
        "KAIYO MARU",
        "HOKUTO MARU",
        "NIPPON MARU",
        "TOYO MARU",
        "FUKUJU MARU",
        "SAKURA MARU",
        "KOTOBUKI MARU",
        "EIHO MARU",
        "HAKUREI MARU",
    ],
    "KP": [
        "RYONG GANG",
        "PAEK MA",
        "CHOL SAN",
        "SONG JIN",
        "RAK WON",
        "MU BONG",
        "JI SONG",
        "KWANG MYONG",
    ],
    "ANY": [
        "OCEAN GRACE",
        "SEA PIONEER",
        "GOLDEN STAR",
        "BLUE WAVE",
        "PACIFIC LINK",
        "EASTERN GLORY",
        "GRAND UNITY",
        "SILVER BAY",
        "NORTH WIND",
        "ROYAL PEARL",
        "BRIGHT SKY",
        "LUCKY STAR",
        "ASIA HARMONY",
        "GREAT FORTUNE",
        "SUN RISE",
        "NEW HORIZON",
        "MERIDIAN",
        "AURORA",
        "POLAR BEAR",
        "CAPE NOVA",
    ],
}
_CALL_PREFIX = {
    "RU": "U",
    "CN": "B",
    "KR": "D",
    "JP": "J",
    "KP": "HM",
    "PA": "3E",
    "SL": "9L",
    "TG": "5V",
    "MN": "JV",
    "KH": "XU",
    "HK": "VR",
    "LR": "A8",
    "MH": "V7",
}


def mid_of(mmsi: int) -> int:
    """The MID (first three digits) of a ship-station MMSI."""
    return mmsi // 1_000_000


@dataclass
class Identity:
    """What a vessel says about itself in its static reports (type 5 / 24)."""

    name: str
    callsign: str
    imo: int | None
    ship_type: int
    length_m: int
    beam_m: int
    draught_m: float


@dataclass
class Vessel:
    """One simulated ship: who it is, where it goes and what it transmits.

    Attributes
    ----------
    idx:
        Index of the vessel in the scenario (stable for a seed).
    mmsi:
        Its own MMSI.
    cls:
        AIS transponder class, ``"A"`` or ``"B"``.
    msg_type:
        Position report type it sends (1 or 3 for class A, 18 for class B).
    identity:
        Static data at the start; ``renames`` lists ``(t_s, new name)`` changes.
    legs:
        Its motion plan, contiguous in time (seconds since the scenario start).
    dark:
        ``(t0_s, t1_s)`` intervals with the transponder switched off.
    mmsi_windows:
        ``(t0_s, t1_s, mmsi)``: transmit another MMSI during the window (an impostor).
    jumps:
        ``(t0_s, t1_s, north_km, east_km)``: spoofed offset of the reported position.
    role:
        What it does in the scenario (``background:cargo``, ``shuttle``, ``sts``, …).
    """

    idx: int
    mmsi: int
    cls: str
    msg_type: int
    flag: str
    identity: Identity
    role: str
    legs: list[Leg] = field(default_factory=list)
    renames: list[tuple[float, str]] = field(default_factory=list)
    dark: list[tuple[float, float]] = field(default_factory=list)
    mmsi_windows: list[tuple[float, float, int]] = field(default_factory=list)
    jumps: list[tuple[float, float, float, float]] = field(default_factory=list)
    send_statics: bool = True
    notes: dict[str, Any] = field(default_factory=dict)

    def name_at(self, t: float) -> str:
        """The name broadcast at time ``t`` (s)."""
        name = self.identity.name
        for when, new in self.renames:
            if t >= when:
                name = new
        return name


class IdentityFactory:
    """Unique MMSIs, IMO numbers, names and call signs for a seed."""

    def __init__(self, rng: np.random.Generator, reserved_imos: set[int] | None = None) -> None:
        self.rng = rng
        self.mmsis: set[int] = set()
        self.imos: set[int] = set(reserved_imos or ())
        self.names: set[str] = set()

    def mmsi(self, flag: str) -> int:
        """A fresh MMSI with a MID of ``flag``."""
        mids = MIDS[flag]
        while True:
            mid = int(mids[int(self.rng.integers(len(mids)))])
            value = mid * 1_000_000 + int(self.rng.integers(100_000, 999_999))
            if value not in self.mmsis:
                self.mmsis.add(value)
                return value

    def imo(self, valid: bool = True) -> int:
        """A fresh IMO number (with a wrong check digit when ``valid`` is False)."""
        while True:
            six = int(self.rng.integers(800_000, 985_000))
            check = imo_check_digit(six)
            if not valid:
                check = (check + 1 + int(self.rng.integers(9))) % 10
            value = six * 10 + check
            if value not in self.imos:
                self.imos.add(value)
                return value

    def name(self, flag: str, fishing: bool = False) -> str:
        """A fresh vessel name in the style of ``flag``."""
        words = _WORDS.get(flag, _WORDS["ANY"])
        for _ in range(1000):
            base = words[int(self.rng.integers(len(words)))]
            if fishing and flag == "CN":
                base = ["LU RONG YU", "LIAO DA ZHONG YU", "ZHE DAI YU", "MIN LONG YU"][
                    int(self.rng.integers(4))
                ]
                value = f"{base} {int(self.rng.integers(100, 9999))}"
            elif fishing and flag == "RU":
                value = f"{['MRS', 'MRTK', 'SRTM', 'RS'][int(self.rng.integers(4))]}-{int(self.rng.integers(100, 9999))}"
            elif fishing and flag == "JP":
                value = f"{base} NO.{int(self.rng.integers(1, 99))}"
            else:
                value = (
                    f"{base} {int(self.rng.integers(1, 99))}" if self.rng.random() < 0.6 else base
                )
            value = value[:20]
            if value not in self.names and set(value) <= _AIS_CHARS:
                self.names.add(value)
                return value
        raise RuntimeError("ran out of vessel names")

    def callsign(self, flag: str) -> str:
        """A call sign with the ITU prefix style of ``flag`` (max 7 characters)."""
        prefix = _CALL_PREFIX.get(flag, "V")
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        body = "".join(letters[int(i)] for i in self.rng.integers(0, 26, 3))
        return (prefix + body + str(int(self.rng.integers(0, 10))))[:7]
