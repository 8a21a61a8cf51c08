"""Write the peer corpora of this folder from local copies of the peers' repositories.

Run by hand when a corpus is refreshed (never at test time; the tests read only the files
written here)::

    python tests/ingest/peer_corpora/build.py GPSD_REPO LIBAIS_REPO PYAIS_REPO

Each argument is a git directory (a clone or a bare mirror) of gpsd, libais and pyais at the
commits named in README.md.  For each corpus it writes ``<corpus>.nmea`` (the peer's
sentences, as the peer ships them) and ``<corpus>.expected.jsonl``: one object per message
the peer decodes, ``{"line", "type", "mmsi", "table", "part", "fields", "tol"}`` -- ``line`` is the
1-based line of the message's last sentence in ``<corpus>.nmea``, ``table`` the tumen table
its row goes to, ``fields`` the peer's values under tumen's column names (:func:`to_columns`),
``tol`` the absolute tolerance of fields the peer prints with fewer decimals.

How the peers' messages are lined up with the lines: the file's sentences are assembled the
way ``tests/ingest/ingest_oracle.py`` does (independently of tumen), and each peer output,
in order, is matched with the next message of the same type and MMSI.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ingest: ingest_oracle

from ingest_oracle import messages  # noqa: E402

#: (corpus, repository, commit, sentences path, expected path or None (= pyais decodes))
SOURCES = {
    "gpsd_sample": (
        "gpsd",
        "63627276f5308e252a51ce529e4da4d139e84ced",
        "test/sample.aivdm",
        "test/sample.aivdm.js.chk",
    ),
    "gpsd_unpack_sixbit": (
        "gpsd",
        "63627276f5308e252a51ce529e4da4d139e84ced",
        "test/daemon/ais_unpack_sixbit.log",
        "test/daemon/ais_unpack_sixbit.log.chk",
    ),
    "libais_typeexamples": (
        "libais",
        "87dadfaa1b4db0b0e9953680051391f2c4375455",
        "test/data/typeexamples.nmea",
        "test/data/typeexamples.json",
    ),
    "pyais_test_decode": (
        "pyais",
        "38afd748e77284a57bff9a0782dbf04a7560d053",
        "tests/test_decode.py",
        None,
    ),
}

POSITION_TYPES = {1, 2, 3, 4, 9, 11, 18, 19, 21, 27}
STATIC_TYPES = {5, 19, 24}


def _num(v: Any) -> float | None:
    return None if v is None or isinstance(v, str) else float(v)


def to_columns(t: int, d: dict[str, Any], table: str, part: str | None) -> dict[str, Any]:
    """A peer's decoded fields under tumen's column names, with ITU-R "not available" → None.

    The rules are those of ``tumen.ingest.records`` (ITU-R M.1371-5 annex 8): lat 91 / lon 181,
    speed 1023 tenths (type 9: 1023 kn, type 27: 63 kn), course 3600 tenths (type 27: 511),
    heading 511, IMO 0 mean "not available".  Text is compared after tumen's documented
    cleaning of six-bit padding (done by the tests, not here).
    """
    out: dict[str, Any] = {}
    if table == "positions":
        lat, lon = _num(d.get("lat")), _num(d.get("lon"))
        if lat is not None and lon is not None:
            na = abs(lat - 91.0) < 1e-4 or abs(lon - 181.0) < 1e-4
            out["lat"], out["lon"] = (None, None) if na else (lat, lon)
        speed = _num(d.get("speed"))
        if speed is not None and t in (1, 2, 3, 9, 18, 19, 27):
            limit = {9: 1023.0, 27: 63.0}.get(t, 102.25)
            out["sog_kn"] = None if speed >= limit else speed
        course = _num(d.get("course"))
        if course is not None and t in (1, 2, 3, 9, 18, 19, 27):
            out["cog_deg"] = None if (course > 359 if t == 27 else course >= 359.95) else course
        if "heading" in d and t in (1, 2, 3, 18, 19):
            out["heading_deg"] = None if int(d["heading"]) > 359 else int(d["heading"])
        status = d.get("status", d.get("nav_status"))
        if isinstance(status, int) and t in (1, 2, 3, 27):
            out["nav_status"] = status
        if isinstance(d.get("accuracy"), bool):
            out["accuracy"] = d["accuracy"]
        if isinstance(d.get("second"), int) and t not in (4, 11):
            out["utc_second"] = d["second"]
    else:
        want_a = part in (None, "24A")
        want_b = part in (None, "24B")
        if want_a and "shipname" in d:
            out["name"] = d["shipname"]
        if (t == 5 or part == "24B") and "callsign" in d:
            out["callsign"] = d["callsign"]
        if t == 5:
            if "destination" in d:
                out["destination"] = d["destination"]
            if d.get("imo") is not None:
                imo = int(d["imo"])
                out["imo"] = imo or None
            if d.get("draught") is not None:
                out["draught_m"] = float(d["draught"])
        if want_b and t != 24 or part == "24B":
            st = d.get("shiptype", d.get("ship_type", d.get("type_and_cargo")))
            if isinstance(st, int):
                out["ship_type"] = st
            if "mothership_mmsi" not in d:
                for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
                    v = d.get(k, d.get({"to_bow": "dim_a", "to_stern": "dim_b", "to_port": "dim_c",
                                        "to_starboard": "dim_d"}[k]))  # fmt: skip
                    if isinstance(v, int):
                        out[f"{k}_m"] = v
    return out


def _unscaled(t: int, d: dict[str, Any]) -> dict[str, Any]:
    """gpsd's ``"scaled":false`` output in the units tumen stores (gpsd ``driver_ais.c`` / AIVDM.html):
    positions in 1/10000 minute (type 27: 1/10 minute), speed and course in tenths (type 9
    speed and type 27 in whole units), draught in decimetres."""
    d = dict(d)
    div = 600.0 if t == 27 else 600000.0
    for k in ("lat", "lon"):
        if isinstance(d.get(k), int):
            d[k] = round(d[k] / div, 6)
    if isinstance(d.get("speed"), int) and t not in (9, 27):
        d["speed"] = d["speed"] / 10.0
    if isinstance(d.get("course"), int) and t != 27:
        d["course"] = d["course"] / 10.0
    if isinstance(d.get("draught"), int):
        d["draught"] = d["draught"] / 10.0
    return d


def _tolerance(peer: str, t: int, d: dict[str, Any]) -> dict[str, float]:
    """Fields the peer writes with fewer decimals than tumen keeps (absolute tolerance)."""
    if peer == "gpsd" and t == 27 and d.get("scaled", True):
        return {"lat": 0.05, "lon": 0.05}  # gpsd_json.c prints type 27 positions with "%.1f"
    return {}


def _git_show(repo: Path, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


_SENTENCE = re.compile(rb"!(?:AI|BS|AB)VD[MO],[^*'\"\\]*\*[0-9A-Fa-f]{2}")


def _pyais_sentences(source: bytes) -> bytes:
    """The sentences written in pyais' test module, one per line, in order of appearance."""
    seen: list[bytes] = [m.group(0) for m in _SENTENCE.finditer(source)]
    return b"".join(s + b"\n" for s in seen)


def _entries(t: int, fields: dict[str, Any], partno: int | None) -> list[tuple[str, str | None]]:
    tables: list[tuple[str, str | None]] = []
    if t in POSITION_TYPES:
        tables.append(("positions", None))
    if t in STATIC_TYPES:
        tables.append(("statics", None if t != 24 else ("24A" if partno == 0 else "24B")))
    return tables


def build(corpus: str, repos: dict[str, Path]) -> int:
    peer, commit, src, chk = SOURCES[corpus]
    raw = _git_show(repos[peer], commit, src)
    text = _pyais_sentences(raw) if peer == "pyais" else raw
    nmea = HERE / f"{corpus}.nmea"
    nmea.write_bytes(text)
    oracle = [m for m in messages(nmea) if m.fields is not None]
    if chk is None:  # pyais: its decode of each sentence is what its tests assert
        peer_out = [dict(m.fields, type=m.fields["msg_type"]) for m in oracle]  # type: ignore[arg-type]
    else:
        peer_out = []
        for line in _git_show(repos[peer], commit, chk).decode().splitlines():
            if line.startswith("{"):
                d = json.loads(line)
                if d.get("class", "AIS") == "AIS":
                    peer_out.append(d)
    rows = []
    k = 0
    for d in peer_out:
        t, mmsi = int(d["type"]), int(d["mmsi"])
        j = next(
            (
                j
                for j in range(k, len(oracle))
                if oracle[j].fields["msg_type"] == t and oracle[j].fields["mmsi"] == mmsi  # type: ignore[index]
            ),
            None,
        )
        if j is None:
            continue  # the peer decoded a message we cannot place (none in this corpus)
        k = j + 1
        m = oracle[j]
        tol = _tolerance(peer, t, d)
        if d.get("scaled") is False:
            d = _unscaled(t, d)
        partno = m.fields.get("partno")  # type: ignore[union-attr]
        for table, part in _entries(t, d, partno):  # type: ignore[arg-type]
            rows.append(
                {
                    "line": m.last_line,
                    "type": t,
                    "mmsi": mmsi,
                    "table": table,
                    "part": part,
                    "fields": to_columns(t, d, table, part),
                    "tol": tol,
                }
            )
        if t not in POSITION_TYPES | STATIC_TYPES:
            rows.append(
                {"line": m.last_line, "type": t, "mmsi": mmsi, "table": "messages", "part": None,
                 "fields": {}, "tol": {}}
            )  # fmt: skip
    out = HERE / f"{corpus}.expected.jsonl"
    out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    return len(rows)


def main(argv: list[str]) -> None:
    repos = dict(zip(("gpsd", "libais", "pyais"), (Path(a) for a in argv), strict=True))
    for corpus in SOURCES:
        print(corpus, build(corpus, repos))


if __name__ == "__main__":
    main(sys.argv[1:])
