"""Writing AIS: a vectorised encoder for position reports, NMEA 4.10 tag blocks, CSV.

Position reports (types 1, 3 and 18, 168 bits each: ITU-R M.1371-5 Annex 8, §3.1 and
§3.16; field layout as in https://gpsd.gitlab.io/gpsd/AIVDM.html) are bit-packed with
NumPy, a whole batch at once, because pyais encodes one message at a time (≈ 20 µs
each, too slow for tens of millions of reports).  pyais stays the oracle: the tests
check that :func:`position_payloads` equals ``pyais.encode_dict`` bit for bit.  Static
reports (type 5, type 24 parts A and B) change rarely, so they are encoded by pyais
itself, once per distinct content.

Sentences are ``!AIVDM`` (NMEA 0183 / IEC 61162-1) with the XOR checksum; each line
carries an NMEA 4.10 tag block ``\\s:<station>,c:<unix seconds>*hh\\`` (multi-sentence
messages add ``g:<n>-<total>-<group id>``), the form of the real captures in
``shared/data/ais``.

Quantisation is that of the standard: positions in 1/10 000 minute, speed in 0.1 kn
(1023 = not available), course in 0.1° (3600 = not available), heading in degrees
(511 = not available); lat 91 / lon 181 mean "position not available".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from pyais.encode import data_to_payload

#: Raw value meaning "not available" (ITU-R M.1371).
SOG_NA, COG_NA, HEADING_NA = 1023, 3600, 511

_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
#: Characters outside the 6-bit armouring that do not break NMEA framing.
INVALID_ARMOUR = np.frombuffer(b"XYZ[]^_xyz", dtype=np.uint8)


@dataclass
class Quantized:
    """Position reports as the raw integers the standard transmits."""

    msg_type: NDArray[np.int64]
    mmsi: NDArray[np.int64]
    nav: NDArray[np.int64]
    sog10: NDArray[np.int64]
    lon_u: NDArray[np.int64]  # 1/600 000 degree
    lat_u: NDArray[np.int64]
    cog10: NDArray[np.int64]
    heading: NDArray[np.int64]
    second: NDArray[np.int64]
    radio: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.mmsi)


def quantize(
    msg_type: NDArray[np.integer],
    mmsi: NDArray[np.integer],
    nav: NDArray[np.integer],
    sog_kn: NDArray[np.floating],
    lat: NDArray[np.floating],
    lon: NDArray[np.floating],
    cog_deg: NDArray[np.floating],
    heading_deg: NDArray[np.floating],
    ts: NDArray[np.integer],
) -> Quantized:
    """Round engineering values to the raw integers of the standard.

    ``NaN`` speed, course or heading become "not available"; the UTC second field is
    ``ts mod 60``; the radio (communication state) field is a deterministic
    slot-like value derived from ``ts``.
    """
    msg_type = np.asarray(msg_type, dtype=np.int64)
    sog = np.asarray(sog_kn, dtype=float)
    cog = np.asarray(cog_deg, dtype=float)
    hdg = np.asarray(heading_deg, dtype=float)
    ts = np.asarray(ts, dtype=np.int64)
    sog10 = np.where(
        np.isnan(sog), SOG_NA, np.clip(np.rint(np.nan_to_num(sog) * 10), 0, 1022)
    ).astype(np.int64)
    cog10 = np.where(np.isnan(cog), COG_NA, np.rint(np.nan_to_num(cog) * 10) % 3600).astype(
        np.int64
    )
    heading = np.where(np.isnan(hdg), HEADING_NA, np.rint(np.nan_to_num(hdg)) % 360).astype(
        np.int64
    )
    radio = np.where(msg_type == 18, 393222, (ts * 2654435761) & 0x7FFFF)
    return Quantized(
        msg_type=msg_type.astype(np.int64),
        mmsi=np.asarray(mmsi, dtype=np.int64),
        nav=np.asarray(nav, dtype=np.int64),
        sog10=sog10,
        lon_u=np.rint(np.asarray(lon, dtype=float) * 600_000).astype(np.int64),
        lat_u=np.rint(np.asarray(lat, dtype=float) * 600_000).astype(np.int64),
        cog10=cog10,
        heading=heading,
        second=(ts % 60).astype(np.int64),
        radio=radio.astype(np.int64),
    )


def decoded_lat_lon(units: NDArray[np.integer]) -> NDArray[np.float64]:
    """Degrees as pyais decodes raw 1/600 000-degree units (rounded to 6 decimals)."""
    return np.asarray(((10 * np.asarray(units, dtype=np.int64) + 3) // 6) / 1e6)


def armour(sixbit: NDArray[np.integer]) -> NDArray[np.uint8]:
    """ASCII armouring of 6-bit values (0–39 → '0'–'W', 40–63 → '`'–'w')."""
    chars = np.asarray(sixbit, dtype=np.uint8) + 48
    chars[chars > 87] += 8
    return chars


def pack(
    fields: Sequence[tuple[NDArray[np.integer] | int, int]], n: int
) -> tuple[NDArray[np.uint8], int]:
    """Bit-pack ``(values, width)`` fields (two's complement) into armoured characters.

    Returns the ``(n, n_chars)`` character array and the number of fill bits.
    """
    total = sum(width for _, width in fields)
    n_chars = -(-total // 6)
    bits = np.zeros((n, n_chars * 6), dtype=np.uint8)
    pos = 0
    for values, width in fields:
        v = np.broadcast_to(np.asarray(values, dtype=np.int64), (n,)) & ((1 << width) - 1)
        shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
        bits[:, pos : pos + width] = (v[:, None] >> shifts) & 1
        pos += width
    weights = np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)
    sixbit = (bits.reshape(n, n_chars, 6) * weights).sum(axis=2, dtype=np.uint8)
    return armour(sixbit), n_chars * 6 - total


def position_payloads(q: Quantized) -> NDArray[np.uint8]:
    """Armoured 28-character payloads (``(n, 28)`` uint8) of types 1/3 and 18."""
    n = len(q)
    out = np.zeros((n, 28), dtype=np.uint8)
    a = q.msg_type != 18
    if a.any():
        k = int(a.sum())
        chars, _ = pack(
            [
                (q.msg_type[a], 6),
                (0, 2),
                (q.mmsi[a], 30),
                (q.nav[a], 4),
                (0, 8),
                (q.sog10[a], 10),
                (0, 1),
                (q.lon_u[a], 28),
                (q.lat_u[a], 27),
                (q.cog10[a], 12),
                (q.heading[a], 9),
                (q.second[a], 6),
                (0, 2),
                (0, 3),
                (0, 1),
                (q.radio[a], 19),
            ],
            k,
        )
        out[a] = chars
    b = ~a
    if b.any():
        k = int(b.sum())
        chars, _ = pack(
            [
                (18, 6),
                (0, 2),
                (q.mmsi[b], 30),
                (0, 8),
                (q.sog10[b], 10),
                (0, 1),
                (q.lon_u[b], 28),
                (q.lat_u[b], 27),
                (q.cog10[b], 12),
                (q.heading[b], 9),
                (q.second[b], 6),
                (0, 2),
                (1, 1),
                (0, 1),
                (1, 1),
                (1, 1),
                (1, 1),
                (0, 1),
                (0, 1),
                (q.radio[b], 20),
            ],
            k,
        )
        out[b] = chars
    return out


def xor_checksum(chars: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """NMEA checksum (XOR of every byte) of each row of a ``(n, width)`` byte array."""
    return (
        np.bitwise_xor.reduce(chars, axis=1) if chars.shape[1] else np.zeros(len(chars), np.uint8)
    )


def _const(text: str, n: int) -> NDArray[np.uint8]:
    return np.broadcast_to(np.frombuffer(text.encode("ascii"), dtype=np.uint8), (n, len(text)))


def _hex2(values: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.column_stack([_HEX[values >> 4], _HEX[values & 15]])


def _digits(values: NDArray[np.int64], width: int) -> NDArray[np.uint8]:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + 48).astype(np.uint8)


def position_lines(
    payloads: NDArray[np.uint8],
    channel: NDArray[np.uint8],
    station: NDArray[np.uint8],
    ts: NDArray[np.int64],
) -> NDArray[np.uint8]:
    """Whole tagged lines, one per row, as a fixed-width ``(n, width)`` byte array.

    ``station`` is an ``(n, 6)`` byte array of station names, ``channel`` the bytes
    ``b'A'`` or ``b'B'``, ``ts`` Unix seconds (10 digits).  Each row reads
    ``\\s:STATIO,c:1709510400*hh\\!AIVDM,1,1,,A,<28 chars>,0*hh`` plus a newline.
    """
    n = len(payloads)
    tag = np.hstack([_const("s:", n), station, _const(",c:", n), _digits(ts, 10)])
    sentence = np.hstack(
        [_const("AIVDM,1,1,,", n), channel[:, None], _const(",", n), payloads, _const(",0", n)]
    )
    return np.hstack(
        [
            _const("\\", n),
            tag,
            _const("*", n),
            _hex2(xor_checksum(tag)),
            _const("\\!", n),
            sentence,
            _const("*", n),
            _hex2(xor_checksum(sentence)),
            _const("\n", n),
        ]
    )


def checksum_hex(text: str) -> str:
    """Two uppercase hex digits of the NMEA checksum of ``text``."""
    value = 0
    for byte in text.encode("ascii"):
        value ^= byte
    return f"{value:02X}"


def sentence(
    payload: str,
    fill_bits: int,
    channel: str,
    frag_cnt: int = 1,
    frag_num: int = 1,
    seq_id: str = "",
) -> str:
    """One ``!AIVDM`` sentence (without tag block or newline)."""
    body = f"AIVDM,{frag_cnt},{frag_num},{seq_id},{channel},{payload},{fill_bits}"
    return f"!{body}*{checksum_hex(body)}"


def tagged(sentence_text: str, station: str, ts: int, group: str | None = None) -> str:
    """A sentence with its NMEA 4.10 tag block and a newline."""
    tag = f"s:{station},c:{ts}" if group is None else f"g:{group},s:{station},c:{ts}"
    return f"\\{tag}*{checksum_hex(tag)}\\{sentence_text}\n"


@lru_cache(maxsize=200_000)
def static_payload(
    part: int,
    mmsi: int,
    name: str,
    callsign: str,
    imo: int,
    ship_type: int,
    dims: tuple[int, int, int, int],
    draught_m: float,
    destination: str,
    eta: tuple[int, int, int, int],
) -> tuple[tuple[str, ...], int]:
    """Armoured payload fragments (≤ 60 characters each) and fill bits of a static report.

    ``part`` is 5 (type 5), 240 (type 24 part A) or 241 (type 24 part B); encoded by pyais.
    """
    bow, stern, port, starboard = dims
    data: dict[str, str | int | float | bytes | bool]
    if part == 5:
        data = {
            "mmsi": mmsi,
            "ais_version": 0,
            "imo": imo,
            "callsign": callsign,
            "shipname": name,
            "ship_type": ship_type,
            "to_bow": bow,
            "to_stern": stern,
            "to_port": port,
            "to_starboard": starboard,
            "epfd": 1,
            "month": eta[0],
            "day": eta[1],
            "hour": eta[2],
            "minute": eta[3],
            "draught": draught_m,
            "destination": destination,
            "dte": 0,
        }
        armoured, fill = data_to_payload(5, data).encode()
    elif part == 240:
        armoured, fill = data_to_payload(24, {"mmsi": mmsi, "partno": 0, "shipname": name}).encode()
    else:
        data = {
            "mmsi": mmsi,
            "partno": 1,
            "ship_type": ship_type,
            "vendorid": "SIM",
            "callsign": callsign,
            "to_bow": bow,
            "to_stern": stern,
            "to_port": port,
            "to_starboard": starboard,
        }
        armoured, fill = data_to_payload(24, data).encode()
    return tuple(armoured[i : i + 60] for i in range(0, len(armoured), 60)), int(fill)


def static_lines(
    fragments: tuple[str, ...],
    fill_bits: int,
    channel: str,
    station: str,
    ts: int,
    seq_id: int,
    group_id: int,
) -> str:
    """The tagged line(s) of one static report as heard by one station."""
    count = len(fragments)
    if count == 1:
        return tagged(sentence(fragments[0], fill_bits, channel), station, ts)
    out = []
    for i, frag in enumerate(fragments, start=1):
        fill = fill_bits if i == count else 0
        out.append(
            tagged(
                sentence(frag, fill, channel, count, i, str(seq_id)),
                station,
                ts,
                f"{i}-{count}-{group_id}",
            )
        )
    return "".join(out)
