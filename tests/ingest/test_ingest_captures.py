"""Every real capture in ../shared/data/ais/nmea, ingested and checked message by message.

The oracle (``ingest_oracle.py``) reads each file independently and decodes every
message with pyais.  For each of those messages we require:

* the vectorised decoder agrees with pyais on every field (enumerations compared through
  pyais' own mapping, text after the documented cleaning of '@' padding), or refuses the
  message for a reason pyais does not check (type 0, or a bit length too short for the
  fields a row needs / longer than five slots);
* the ingested store holds it: the rows written from its line equal pyais' fields
  (position -- NULL where pyais reads 91 / 181 --, speed, course, heading, status, names,
  dimensions, ...), or it is a duplicate -- an identical payload came earlier in the file --,
  or it is quarantined with a reason the decoded fields justify;

and for the file as a whole: lines read = lines in the README table = stored + duplicates
+ quarantined, one quarantine row per quarantined line, and the receive times span the
README's time range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attr
import numpy as np
import pyais.messages as pm
import pytest
from ingest_oracle import SHARED_DATA, OracleMessage, messages, readme_table

from tumen.config import load_settings
from tumen.ingest import ingest_paths
from tumen.ingest.decode import (
    BIT_LENGTHS,
    DECODE_BITS,
    LONGEST_BITS,
    SPECS,
    WHOLE_MIN_BITS,
    clean_sixbit_text,
    decode_payloads,
    text_to_arrow,
)
from tumen.ingest.scan import padded
from tumen.store import DuckDBStore

NMEA_DIR = SHARED_DATA / "ais" / "nmea" if SHARED_DATA else Path("missing")
CAPTURES = sorted(p.name for p in NMEA_DIR.iterdir()) if NMEA_DIR.is_dir() else []
LOCAL_TZ = {"vernon": "Europe/Paris"}  # the README: Vernon logger prefixes are Paris local time
ENUM_FIELDS = {"status", "maneuver", "epfd", "ship_type", "aid_type"}


def _tz(name: str) -> str:
    return next((tz for prefix, tz in LOCAL_TZ.items() if name.startswith(prefix)), "UTC")


def _pyais_class(fields: dict[str, object]) -> type:
    t = int(fields["msg_type"])  # type: ignore[arg-type]
    if t == 24:
        if fields.get("partno") == 0:
            return pm.MessageType24PartA
        return (
            pm.MessageType24PartBAuxiliaryCraft
            if "mothership_mmsi" in fields
            else pm.MessageType24PartB
        )
    return pm.MSG_CLASS[t]


_CONVERTERS: dict[tuple[type, str], object] = {}


def _as_pyais(cls: type, name: str, value: object) -> object:
    """Our raw value of an enumerated field, mapped the way pyais maps it."""
    key = (cls, name)
    if key not in _CONVERTERS:
        f = attr.fields_dict(cls)[name]
        _CONVERTERS[key] = (f.metadata.get("to_converter"), f.converter)
    conv, attr_conv = _CONVERTERS[key]  # type: ignore[misc]
    if conv is not None:
        value = conv(value)
    if attr_conv is not None:
        value = attr_conv(value)
    return int(value)  # type: ignore[call-overload]


def _allowed(t: int, bits: int) -> bool:
    """Whether a payload of ``bits`` bits of type ``t`` can be decoded (from the fields its
    row needs up to five slots, or an ITU-R length)."""
    rule = BIT_LENGTHS.get(t)
    if rule is None:
        return False
    itu = rule[0] <= bits <= rule[1] if isinstance(rule, tuple) else bits in rule
    need = DECODE_BITS.get(t, WHOLE_MIN_BITS) if t != 24 else DECODE_BITS["24A"]
    return itu or need <= bits <= LONGEST_BITS


def _check_decoder(oracle: list[OracleMessage]) -> tuple[int, int]:
    """Decode the oracle's messages with our decoder; compare every field. Returns (compared, refused)."""
    good = [m for m in oracle if m.fields is not None]
    blob = "".join(m.payload for m in good).encode()
    lengths = np.array([len(m.payload) for m in good], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    fill = np.array([m.fill for m in good], dtype=np.int64)
    dec = decode_payloads(padded(blob), starts, starts + lengths, fill)
    compared = refused = 0
    for i in np.flatnonzero(dec.code).tolist():
        f = good[i].fields
        assert f is not None
        t = int(f["msg_type"])  # type: ignore[arg-type]
        bits = 6 * len(good[i].payload) - good[i].fill
        # refused only for what pyais does not check: type, bit length, 24 part number
        assert (
            t == 0 or t > 28 or not _allowed(t, bits) or (t == 24 and "type 24" in dec.detail[i])
        ), dec.detail[i]
        refused += 1
    for name, (idx, fields) in dec.groups.items():
        exists = fields["_exists"]
        assert isinstance(exists, dict)
        for spec in SPECS[name]:
            if spec.name.startswith("spare"):
                continue
            col = fields[spec.name]
            text = isinstance(col, np.ndarray) and col.ndim == 2
            values = text_to_arrow(col).to_pylist() if text else np.asarray(col).tolist()
            ex = exists[spec.name].tolist()
            rows = idx.tolist()
            got_all = [v if e else None for v, e in zip(values, ex, strict=True)]
            want_all = [good[i].fields.get(spec.name) for i in rows]  # type: ignore[union-attr]
            if text:  # pyais keeps '@' padding inside and in front; tumen cleans it
                want_all = [w if w is None else (clean_sixbit_text(w) or "") for w in want_all]
            if spec.name in ENUM_FIELDS:
                got_all = [
                    None if g is None else _as_pyais(_pyais_class(good[i].fields), spec.name, g)  # type: ignore[arg-type]
                    for g, i in zip(got_all, rows, strict=True)
                ]
            if got_all != want_all:
                j = next(
                    j for j, (g, w) in enumerate(zip(got_all, want_all, strict=True)) if g != w
                )
                pytest.fail(
                    f"{name} {spec.name}: ours {got_all[j]!r}, pyais {want_all[j]!r}, payload {good[rows[j]].payload}"
                )
            compared += len(idx) if spec.name == "msg_type" else 0
    in_groups = np.zeros(len(good), dtype=bool)
    for idx, _ in dec.groups.values():
        in_groups[idx] = True
    for i in np.flatnonzero((dec.code == 0) & ~in_groups).tolist():  # kept whole in `messages`
        f = good[i].fields
        assert f is not None
        assert dec.msg_type[i] == f["msg_type"] and dec.mmsi[i] == f["mmsi"]
        compared += 1
    assert compared + refused == len(good)
    return compared, refused


def _rows_by_line(store: DuckDBStore, table: str) -> dict[int, list[dict[str, object]]]:
    rows: dict[int, list[dict[str, object]]] = {}
    for r in store.query(f"SELECT * FROM {table}").to_pylist():
        rows.setdefault(int(r["line_no"]), []).append(r)
    return rows


def _f32(x: float) -> float:
    return float(np.float32(x))


def _check_position(row: dict[str, object], f: dict[str, object]) -> None:
    t = int(f["msg_type"])  # type: ignore[arg-type]
    assert row["mmsi"] == f["mmsi"] and row["msg_type"] == t
    if f["lat"] == 91 or f["lon"] == 181:  # "not available": stored without position
        assert row["lat"] is None and row["lon"] is None
    else:
        assert row["lat"] == f["lat"] and row["lon"] == f["lon"]
    speed, course = f.get("speed"), f.get("course")
    na_speed = {9: 1023.0, 27: 63.0}.get(t, 102.3)
    if speed is not None and t in (1, 2, 3, 9, 18, 19, 27):
        assert row["sog_kn"] == (None if speed >= na_speed else _f32(speed))  # type: ignore[operator]
    if course is not None and t in (1, 2, 3, 9, 18, 19, 27):
        na = course > 359 if t == 27 else course >= 360  # type: ignore[operator]
        assert row["cog_deg"] == (None if na else _f32(course))  # type: ignore[arg-type]
    if t in (1, 2, 3, 18, 19):
        h = f["heading"]
        assert row["heading_deg"] == (None if h > 359 else h)  # type: ignore[operator]
    if t in (1, 2, 3, 27):
        assert row["nav_status"] == f["status"]
    assert row["accuracy"] == f["accuracy"]
    if "second" in f:
        assert row["utc_second"] == f["second"]
    assert row["class"] == {1: "A", 2: "A", 3: "A", 18: "B", 19: "B"}.get(t)


def _check_static(row: dict[str, object], f: dict[str, object], cls: type) -> None:
    assert row["mmsi"] == f["mmsi"]
    if "shipname" in f:
        assert row["name"] == clean_sixbit_text(f["shipname"])
    if "callsign" in f:
        assert row["callsign"] == clean_sixbit_text(f["callsign"])
    if "imo" in f:
        assert row["imo"] == (f["imo"] or None)
    if "ship_type" in f:
        assert _as_pyais(cls, "ship_type", row["ship_type"]) == f["ship_type"]
    for dim in ("to_bow", "to_stern", "to_port", "to_starboard"):
        if dim in f:
            assert row[f"{dim}_m"] == f[dim]
    if "draught" in f:
        assert row["draught_m"] == _f32(f["draught"])  # type: ignore[arg-type]
    if "destination" in f:
        assert row["destination"] == clean_sixbit_text(f["destination"])


def _check_other(row: dict[str, object], m: OracleMessage) -> None:
    f = m.fields
    assert f is not None
    assert row["msg_type"] == f["msg_type"] and row["mmsi"] == f["mmsi"]
    assert row["payload"] == m.payload and row["fill_bits"] == m.fill


#: captures whose README time range comes from a trailing field that lags the receive time
#: tumen stores: how much later the stored times may reach
README_TIME_FROM_LAST_FIELD = {"aisdb_uscg_trailer_201201.nmea": timedelta(seconds=100)}


def _readme_time(text: str, tz: str) -> tuple[datetime, datetime] | None:
    if "–" not in text:
        return None
    a, b = (datetime.fromisoformat(x.strip()) for x in text.split("–"))
    zone = ZoneInfo(tz)
    return tuple(x.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for x in (a, b))  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.parametrize("name", CAPTURES)
def test_capture_against_pyais(name: str, shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "ais" / "nmea" / name
    readme = readme_table(shared_data)[name]
    tz = _tz(name)
    settings = load_settings(overrides={"ingest.tz": tz}, environ={})
    store = DuckDBStore(tmp_path / "t.duckdb")
    report = ingest_paths(store, [path], settings)

    # accounting
    fr = report.files[0]
    assert fr.lines == int(readme["lines"].replace(",", ""))
    assert fr.lines == fr.stored + fr.duplicates + fr.quarantined
    q = store.query("SELECT line_no, reason FROM quarantine").to_pylist()
    assert len(q) == fr.quarantined == len({r["line_no"] for r in q})
    quarantined = {r["line_no"]: r["reason"] for r in q}

    oracle = messages(path)
    compared, refused = _check_decoder(oracle)

    positions = _rows_by_line(store, "positions")
    statics = _rows_by_line(store, "statics")
    others = _rows_by_line(store, "messages")
    stored_msgs = dup_msgs = quarantined_msgs = 0
    copies: dict[tuple[str, int], list[int]] = {}  # (payload, fill) → lines of its copies
    for m in oracle:
        copies.setdefault((m.payload, m.fill), []).append(m.last_line)

    def has_row(line: int) -> bool:
        return bool(positions.get(line) or statics.get(line) or others.get(line))

    for m in oracle:
        line = m.last_line
        if line in quarantined:
            quarantined_msgs += 1
            reason = quarantined[line]
            f = m.fields
            if f is None:
                assert reason in ("undecodable payload", "incomplete multi-part"), (
                    line,
                    reason,
                    m.error,
                )
                continue
            t, bits = int(f["msg_type"]), 6 * len(m.payload) - m.fill  # type: ignore[arg-type]
            if reason == "undecodable payload":
                assert t == 0 or not _allowed(t, bits) or t == 24, (line, t, bits)
            elif reason == "out of range":
                assert abs(f["lat"]) > 90 or abs(f["lon"]) > 180  # type: ignore[arg-type]
            elif reason == "incomplete multi-part":
                # joined by the oracle across more lines than ingest.fragment_gap_lines allows
                assert m.lines[-1] - m.lines[0] > settings.ingest.fragment_gap_lines
            else:
                pytest.fail(f"line {line}: pyais decodes it, but it was quarantined as {reason!r}")
            continue
        rows = positions.get(line, []) + statics.get(line, []) + others.get(line, [])
        if not rows:
            # a duplicate: another copy of the same payload in the file has the row (heard
            # earlier by time -- by line when untimed -- by another station; or an untimed
            # repeat, folded into the first copy's row)
            assert any(c != line and has_row(c) for c in copies[m.payload, m.fill]), line
            dup_msgs += 1
            continue
        stored_msgs += 1
        assert m.fields is not None, (line, m.error)
        f = m.fields
        cls = _pyais_class(f)
        t = int(f["msg_type"])  # type: ignore[arg-type]
        lat, lon = f.get("lat"), f.get("lon")
        na = lat == 91 or lon == 181
        out = lat is None or (not na and (abs(lat) > 90 or abs(lon) > 180))  # type: ignore[arg-type]
        if t in (1, 2, 3, 4, 9, 11, 18, 19, 21, 27) and not (t == 19 and out):
            assert any(_matches(_check_position, r, f) for r in positions.get(line, [])), (line, f)
        if t in (5, 19, 24):
            assert any(_matches(_check_static, r, f, cls) for r in statics.get(line, [])), (line, f)
        if t not in (1, 2, 3, 4, 5, 9, 11, 18, 19, 21, 24, 27):
            assert any(_matches(_check_other, r, m) for r in others.get(line, [])), (line, f)
    # every message the oracle found is stored, a duplicate or quarantined, and ingest saw
    # (kept a dedupe key for) exactly the stored and duplicate ones
    assert stored_msgs + dup_msgs + quarantined_msgs == len(oracle)
    assert compared + refused == len([m for m in oracle if m.fields is not None])
    assert store.scalar("SELECT count(*) FROM ingest_keys") == stored_msgs + dup_msgs
    n_rows = sum(len(v) for v in positions.values()) + sum(len(v) for v in statics.values())
    assert n_rows + sum(len(v) for v in others.values()) >= stored_msgs

    # receive times span the README's range (same time zone reading)
    span = _readme_time(readme["time range"], tz)
    if name in README_TIME_FROM_LAST_FIELD and span is not None:
        # the README read the extra epoch after the USCG logger time, which lags it by up
        # to 100 s (see test_uscg_receive_time_is_the_epoch_after_the_station)
        span = (span[0], span[1] + README_TIME_FROM_LAST_FIELD[name])
    got = store.query(
        "SELECT min(ts) AS a, max(ts) AS b FROM (SELECT ts FROM positions UNION ALL SELECT ts FROM statics "
        "UNION ALL SELECT ts FROM messages)"
    ).to_pylist()[0]
    if span is not None and fr.stored:
        assert got["a"] is not None
        # the README gives whole seconds
        assert span[0] <= got["a"] and got["b"] < span[1] + timedelta(seconds=1)
    store.close()


def _matches(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except AssertionError:
        return False
    return True
