"""The vectorised AIS encoder agrees with pyais, the oracle, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais import decode
from pyais.encode import ais_to_nmea_0183, encode_dict
from pyais.messages import NMEAMessage

from tumen.sim.encode import (
    decoded_lat_lon,
    position_lines,
    position_payloads,
    quantize,
    static_lines,
    static_payload,
)


def _pyais_sentence(q, i: int, channel: str) -> str:
    data = {
        "msg_type": int(q.msg_type[i]),
        "type": int(q.msg_type[i]),
        "mmsi": int(q.mmsi[i]),
        "speed": q.sog10[i] / 10,
        "lon": q.lon_u[i] / 600_000,
        "lat": q.lat_u[i] / 600_000,
        "course": q.cog10[i] / 10,
        "heading": int(q.heading[i]),
        "second": int(q.second[i]),
        "radio": int(q.radio[i]),
    }
    if q.msg_type[i] == 18:
        data.update(cs=1, dsc=1, band=1, msg22=1)
    else:
        data.update(status=int(q.nav[i]), turn=0, maneuver=0)
    return encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel=channel)[0]


def _random_reports(n: int, seed: int):
    rng = np.random.default_rng(seed)
    msg_type = rng.choice([1, 3, 18], n)
    lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    sog, cog, hdg = rng.uniform(0, 102.2, n), rng.uniform(0, 360, n), rng.uniform(0, 360, n)
    sog[:5], cog[5:10], hdg[10:15] = np.nan, np.nan, np.nan
    lat[15:20], lon[15:20] = 91.0, 181.0  # position not available
    ts = rng.integers(1_600_000_000, 1_900_000_000, n)
    q = quantize(
        msg_type,
        rng.integers(200_000_000, 775_999_999, n),
        rng.integers(0, 16, n),
        sog,
        lat,
        lon,
        cog,
        hdg,
        ts,
    )
    return q, ts


def test_position_payloads_equal_pyais_encoder() -> None:
    q, ts = _random_reports(1500, seed=7)
    channel = np.where(np.arange(len(ts)) % 2 == 0, ord("A"), ord("B")).astype(np.uint8)
    station = np.frombuffer(b"RUVVO1" * len(ts), dtype=np.uint8).reshape(-1, 6)
    lines = position_lines(position_payloads(q), channel, station, ts)
    for i in range(len(ts)):
        text = lines[i].tobytes().decode("ascii")
        tag, sentence = text[1:].split("\\", 1)
        assert sentence.rstrip("\n") == _pyais_sentence(q, i, chr(channel[i]))
        assert tag == f"s:RUVVO1,c:{ts[i]}*{_xor(tag.split('*')[0]):02X}"


def _xor(text: str) -> int:
    value = 0
    for byte in text.encode():
        value ^= byte
    return value


@settings(max_examples=200, deadline=None)
@given(
    msg_type=st.sampled_from([1, 3, 18]),
    mmsi=st.integers(1, 999_999_999),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    sog=st.floats(0, 102.2),
    cog=st.floats(0, 359.94),
    heading=st.floats(0, 359.4),
    ts=st.integers(1_000_000_000, 9_999_999_999),
)
def test_any_report_round_trips_through_pyais(
    msg_type, mmsi, lat, lon, sog, cog, heading, ts
) -> None:
    q = quantize(
        np.array([msg_type]),
        np.array([mmsi]),
        np.array([5]),
        np.array([sog]),
        np.array([lat]),
        np.array([lon]),
        np.array([cog]),
        np.array([heading]),
        np.array([ts]),
    )
    line = position_lines(
        position_payloads(q),
        np.array([ord("A")], np.uint8),
        np.frombuffer(b"SATAIS", np.uint8).reshape(1, 6),
        np.array([ts]),
    )[0]
    sentence = line.tobytes().decode().split("\\")[2].strip()
    assert sentence == _pyais_sentence(q, 0, "A")
    msg = decode(sentence).asdict()
    assert msg["mmsi"] == mmsi and msg["msg_type"] == msg_type
    assert msg["lat"] == decoded_lat_lon(q.lat_u)[0] and msg["lon"] == decoded_lat_lon(q.lon_u)[0]
    assert abs(msg["lat"] - lat) <= 1 / 600_000 and abs(msg["lon"] - lon) <= 1 / 600_000
    assert msg["speed"] == q.sog10[0] / 10 and abs(msg["speed"] - sog) <= 0.05 + 1e-9
    assert msg["second"] == ts % 60


def test_static_reports_are_pyais_sentences_with_group_tag_blocks() -> None:
    frags, fill = static_payload(
        5, 273123456, "MAIA-1", "UBXY7", 9358010, 70, (100, 20, 8, 8), 6.4, "RAJIN", (3, 5, 10, 30)
    )
    text = static_lines(frags, fill, "B", "RUVVO1", 1709510400, 3, 1234)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("\\g:1-2-1234,s:RUVVO1,c:1709510400*") and lines[1].startswith(
        "\\g:2-2-1234,"
    )
    sentences = [ln.split("\\")[2] for ln in lines]
    assert sentences == ais_to_nmea_0183("".join(frags), "AI", "VDM", "B", fill, seq_id=3)
    msg = decode(*sentences).asdict()
    assert (msg["shipname"], msg["imo"], msg["callsign"], msg["destination"]) == (
        "MAIA-1",
        9358010,
        "UBXY7",
        "RAJIN",
    )
    for sentence in sentences:
        assert NMEAMessage(sentence.encode()).is_valid
    a = static_lines(
        *static_payload(240, 273000001, "MRS-150", "", 0, 30, (10, 5, 3, 3), 0, "", (0, 0, 24, 60)),
        "A",
        "SATAIS",
        1709510400,
        1,
        1,
    )
    b = static_lines(
        *static_payload(
            241, 273000001, "MRS-150", "UAB1", 0, 30, (10, 5, 3, 3), 0, "", (0, 0, 24, 60)
        ),
        "A",
        "SATAIS",
        1709510400,
        1,
        1,
    )
    part_a = decode(a.split("\\")[2].strip()).asdict()
    part_b = decode(b.split("\\")[2].strip()).asdict()
    assert part_a["shipname"] == "MRS-150" and part_a["partno"] == 0
    assert part_b["callsign"] == "UAB1" and part_b["ship_type"] == 30 and part_b["partno"] == 1
