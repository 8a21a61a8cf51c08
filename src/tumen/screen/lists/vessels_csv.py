"""Simple CSV lists that a user fills by hand: designated vessels and ownership links.

**Vessels** (e.g. the UN 1718 Committee's Designated Vessels List, which the UN
publishes apart from the Consolidated List, as PDF/HTML): a header row
``name,imo,flag,listed_on,reference`` and optional columns ``program``,
``authority``, ``previous_names`` (``;``-separated), ``mmsi``, ``callsign``,
``source_url``.  Defaults: authority "UN Security Council (1718 Committee)",
program "UN 1718 (DPRK)".  Every IMO number must pass the ship check digit.

**Ownership links** (from a ship registry, Equasis, a company register): a header
row ``vessel_imo,role,company,country`` and an optional ``source`` column.  Each row
states that ``company`` (registered in ``country``) is the vessel's owner, manager,
operator, ...; it becomes an ``Ownership`` (owners) or ``UnknownLink`` (other roles)
entity and an edge of the ownership graph.  These entities are not sanctioned.

The list identity is the file name without extensions and dates.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from tumen.errors import ListError
from tumen.screen.lists.base import (
    Builder,
    ParsedList,
    clean_country,
    date_from_filename,
    date_from_mtime,
    decode_text,
    imo_ship_valid,
    list_stem,
    read_bytes,
    sha256_bytes,
    text_stream,
)

VESSEL_HEADER = ("name", "imo", "flag", "listed_on", "reference")
LINK_HEADER = ("vessel_imo", "role", "company", "country")
DEFAULT_AUTHORITY = "UN Security Council (1718 Committee)"
DEFAULT_PROGRAM = "UN 1718 (DPRK)"


def header_of(first_line: str) -> tuple[str, ...]:
    """The lower-cased header fields of a CSV's first line."""
    row = next(csv.reader([first_line]), [])
    return tuple(c.strip().lower() for c in row)


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    text = decode_text(read_bytes(path), path)
    reader = csv.DictReader(text_stream(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in required if c not in fields]
    if missing:
        raise ListError(
            f"header lacks column(s) {', '.join(missing)}; expected {','.join(required)}", path, 1
        )
    reader.fieldnames = fields
    rows = []
    try:
        for row in reader:
            if None in row or any(row.get(c) is None for c in required):
                raise ListError(
                    f"{len([v for v in row.values() if v is not None])} fields, "
                    f"expected at least {len(required)}; the file is truncated or malformed",
                    path,
                    reader.line_num,
                )
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as exc:
        raise ListError(str(exc), path, reader.line_num) from None
    if not rows:
        raise ListError("no rows below the header", path)
    return rows


def parse_vessels(path: Path) -> ParsedList:
    """Read a designated-vessels CSV into Vessel + Sanction entities."""
    lid = list_stem(path)
    b = Builder(lid.replace("_", "-"), lid)
    entities = []
    counts: Counter[str] = Counter()
    for line, row in _rows(path, VESSEL_HEADER):
        imo = row["imo"].upper().removeprefix("IMO").strip()
        if not row["name"]:
            raise ListError("empty name", path, line)
        if not imo_ship_valid(imo):
            raise ListError(
                f"imo {row['imo']!r} is not a valid IMO ship number (7 digits with check digit); "
                "correct it or leave the row out",
                path,
                line,
            )
        if row["flag"] and not clean_country(row["flag"]):
            raise ListError(f"flag {row['flag']!r} is not a country name or code", path, line)
        v = b.make("Vessel", imo)
        b.add(v, "name", row["name"])
        b.add(v, "imoNumber", imo)
        b.add(v, "flag", row["flag"] or None)
        b.add(
            v,
            "previousName",
            [n.strip() for n in row.get("previous_names", "").split(";") if n.strip()],
        )
        b.add(v, "mmsi", row.get("mmsi") or None)
        b.add(v, "callSign", row.get("callsign") or None)
        s = b.sanction(
            v,
            authority=row.get("authority") or DEFAULT_AUTHORITY,
            programs=[row.get("program") or DEFAULT_PROGRAM],
            reference=row["reference"] or f"{path.name} line {line}",
            listing_date=row["listed_on"] or None,
            source_url=row.get("source_url") or None,
        )
        entities.extend([v, s])
        counts["Vessel"] += 1
    sha = sha256_bytes(path.read_bytes())
    return ParsedList(
        list_id=lid,
        title=f"Designated vessels: {path.name}",
        format="vessels_csv",
        path=path,
        sha256=sha,
        list_date=date_from_filename(path) or date_from_mtime(path),
        entities=entities,
        files=[{"path": str(path), "sha256": sha, "role": "vessels_csv", "rows": counts["Vessel"]}],
        counts=dict(counts),
    )


def normalise_role(text: str) -> str:
    """``'Registered owner'`` → ``owner``; ``'ISM manager'`` → ``manager``; ``'Operator'`` → ``operator``."""
    low = text.strip().lower().replace("_", " ")
    if "manag" in low:
        return "manager"
    if "operat" in low:
        return "operator"
    if "owner" in low:
        return "owner"
    return low or "linked"


def parse_links(path: Path) -> ParsedList:
    """Read an ownership-links CSV (``vessel_imo,role,company,country``)."""
    lid = list_stem(path)
    b = Builder(lid.replace("_", "-"), lid)
    entities = []
    links = []
    vessels: dict[str, object] = {}
    companies: dict[str, object] = {}
    counts: Counter[str] = Counter()
    for line, row in _rows(path, LINK_HEADER):
        imo = row["vessel_imo"].upper().removeprefix("IMO").strip()
        if not imo_ship_valid(imo):
            raise ListError(
                f"vessel_imo {row['vessel_imo']!r} is not a valid IMO ship number", path, line
            )
        if not row["company"]:
            raise ListError("empty company", path, line)
        v = vessels.get(imo)
        if v is None:
            v = b.make("Vessel", "imo", imo)
            b.add(v, "name", f"IMO {imo}")
            b.add(v, "imoNumber", imo)
            vessels[imo] = v
            entities.append(v)
        key = row["company"].upper()
        c = companies.get(key)
        if c is None:
            c = b.make("Company", row["company"])
            b.add(c, "name", row["company"])
            b.add(c, "jurisdiction", row["country"] or None)
            companies[key] = c
            entities.append(c)
        role = normalise_role(row["role"])
        text = f"{row['company']} is {row['role'] or role} of IMO {imo}"
        if row.get("source"):
            text += f" (source: {row['source']})"
        ent, link = b.link(
            "Ownership" if role == "owner" else "UnknownLink",
            v,  # type: ignore[arg-type]
            c,  # type: ignore[arg-type]
            role,
            ref=f"line {line}",
            text=text,
        )
        if ent.schema.name == "UnknownLink":
            ent.set("role", row["role"] or role)
        entities.append(ent)
        links.append(link)
        counts[role] += 1
    sha = sha256_bytes(path.read_bytes())
    return ParsedList(
        list_id=lid,
        title=f"Ownership links: {path.name}",
        format="ownership_csv",
        path=path,
        sha256=sha,
        list_date=date_from_filename(path) or date_from_mtime(path),
        entities=entities,
        links=links,
        files=[{"path": str(path), "sha256": sha, "role": "ownership_csv", "rows": len(links)}],
        counts=dict(counts),
    )
