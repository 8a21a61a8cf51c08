"""Real-world damage to an AIS feed, and what an ingest must make of it.

Kinds (rates are per line, from :class:`tumen.config.SimSettings`):

``bad_checksum``
    a line whose ``*hh`` does not match → ingest quarantines it ("bad checksum").
``bad_armour``
    a payload character outside the 6-bit armouring, checksum recomputed so it is
    valid → quarantined ("undecodable payload").
``bad_length``
    the second half of the payload dropped (fewer bits than the fields a stored row
    needs, see ``tumen.ingest.decode.DECODE_BITS``), checksum recomputed → quarantined ("undecodable payload").
``truncated``
    the line cut short (a partial read) → quarantined.
``junk``
    extra lines that carry no AIS message: binary bytes, other NMEA sentences,
    half a tag block, an empty line → quarantined.
``not_available``
    extra position reports of a real vessel with lat 91 / lon 181, speed, course and
    heading "not available" → stored without position (``lat``/``lon`` NULL).
``out_of_order``
    a line written up to 20 s later than its time (tag block ``c:`` unchanged).

Duplicates are not made here: they come from two stations hearing the same report
(:mod:`tumen.sim.reception`); ingest counts them as duplicates.  A report whose
every copy is damaged is lost and absent from the ground truth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tumen.sim.encode import INVALID_ARMOUR, checksum_hex

#: Corruption codes of a line.
CLEAN, BAD_CHECKSUM, BAD_ARMOUR, BAD_LENGTH, TRUNCATED = 0, 1, 2, 3, 4


def corruption(n: int, rng: np.random.Generator, rates: dict[str, float]) -> NDArray[np.int8]:
    """Draw a corruption code for each of ``n`` lines."""
    u = rng.random(n)
    out = np.zeros(n, dtype=np.int8)
    edge = 0.0
    for code, key in (
        (BAD_CHECKSUM, "bad_checksum"),
        (BAD_ARMOUR, "bad_armour"),
        (BAD_LENGTH, "bad_length"),
        (TRUNCATED, "truncated"),
    ):
        rate = rates.get(key, 0.0)
        out[(u >= edge) & (u < edge + rate)] = code
        edge += rate
    return out


def damage_fixed(
    lines: NDArray[np.uint8], codes: NDArray[np.int8], rng: np.random.Generator
) -> None:
    """Apply bad checksums and bad armouring in place to fixed-width position lines.

    The layout is that of :func:`tumen.sim.encode.position_lines`: the sentence
    checksum occupies the two bytes before the newline; the payload the 28 bytes
    starting 16 bytes after the tag block's closing backslash.
    """
    if not len(lines):
        return
    width = lines.shape[1]
    bad = np.flatnonzero(codes == BAD_CHECKSUM)
    if len(bad):
        pos = width - 2
        old = lines[bad, pos]
        hexchars = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
        shift = rng.integers(1, 16, len(bad))
        value = np.searchsorted(hexchars, old)
        lines[bad, pos] = hexchars[(value + shift) % 16]
    arm = np.flatnonzero(codes == BAD_ARMOUR)
    if len(arm):
        # sentence starts after "\\!" : find it from the fixed layout
        start = int(np.flatnonzero(lines[0] == ord("!"))[0]) + 1
        payload0 = start + len("AIVDM,1,1,,A,")
        col = payload0 + rng.integers(0, 28, len(arm))
        lines[arm, col] = INVALID_ARMOUR[rng.integers(0, len(INVALID_ARMOUR), len(arm))]
        body = lines[arm, start : width - 4]
        cs = np.bitwise_xor.reduce(body, axis=1)
        hexchars = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
        lines[arm, width - 3] = hexchars[cs >> 4]
        lines[arm, width - 2] = hexchars[cs & 15]


def damage_text(line: bytes, code: int, rng: np.random.Generator) -> bytes:
    """Damage one tagged line (any message type) by ``code``; returns the new bytes."""
    text = line.decode("ascii")
    if code == BAD_CHECKSUM:
        head, _, tail = text.rstrip("\n").rpartition("*")
        new = f"{(int(tail[:2], 16) + int(rng.integers(1, 255))) % 256:02X}"
        return f"{head}*{new}\n".encode("ascii")
    if code == TRUNCATED:
        cut = int(rng.integers(5, max(6, len(text) - 6)))
        return (text[:cut] + "\n").encode("ascii")
    tag_end = text.index("\\!") + 2
    body = text[tag_end:].rstrip("\n").rpartition("*")[0]
    fields = body.split(",")
    payload = fields[5]
    if code == BAD_ARMOUR:
        k = int(rng.integers(len(payload)))
        payload = (
            payload[:k]
            + chr(int(INVALID_ARMOUR[int(rng.integers(len(INVALID_ARMOUR)))]))
            + payload[k + 1 :]
        )
    elif code == BAD_LENGTH:
        payload = payload[: len(payload) // 2]
    fields[5] = payload
    body = ",".join(fields)
    return f"{text[:tag_end]}{body}*{checksum_hex(body)}\n".encode("ascii")


def junk_line(rng: np.random.Generator, ts: int, station: str) -> bytes:
    """A line that carries no AIS message."""
    kind = int(rng.integers(5))
    if kind == 0:
        return (
            # one line: no line end inside (ingest ends a line at \n, \r\n or a lone \r)
            bytes(rng.integers(0, 256, int(rng.integers(8, 60)), dtype=np.uint8).tolist())
            .replace(b"\n", b" ")
            .replace(b"\r", b" ")
            + b"\n"
        )
    if kind == 1:
        body = f"GPGGA,{ts % 86400:06d}.00,4307.12,N,13152.33,E,1,08,0.9,12.0,M,,M,,"
        return f"${body}*{checksum_hex(body)}\n".encode("ascii")
    if kind == 2:
        return f"!AIVDM,1,1,,B,{station}\n".encode("ascii")
    if kind == 3:
        return b"\n"
    return f"!AIVDM,1,1,,A,{'0' * int(rng.integers(1, 10))}\n".encode("ascii")
