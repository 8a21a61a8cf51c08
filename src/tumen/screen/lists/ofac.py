"""The US OFAC Specially Designated Nationals (SDN) list: legacy CSV files and ``sdn.xml``.

Source: US Treasury, Office of Foreign Assets Control, "SDN List - Data Specification"
(https://ofac.treasury.gov/specially-designated-nationals-list-data-formats-data-schemas).

The legacy CSV list is four files without header rows, Windows-1252, nulls written
``-0-``, ``SDN.CSV`` ending with a ``0x1A`` byte:

=================  ===================================================================
``SDN.CSV``        ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
                   Tonnage, GRT, Vess_flag, Vess_owner, Remarks
``ADD.CSV``        ent_num, Add_num, Address, City/State/Province/Postal Code, Country,
                   Add_remarks
``ALT.CSV``        ent_num, alt_num, alt_type (aka / fka / nka), alt_name, alt_remarks
``SDN_COMMENTS``   ent_num, Remarks_Extended (the remarks cut off in ``SDN.CSV``)
=================  ===================================================================

Vessel identifiers live in the remarks (``Vessel Registration Identification IMO
7937317; MMSI 572469210; Former Vessel Flag Malta; f.k.a. 'ALPHA'; Linked To:
NATIONAL IRANIAN TANKER COMPANY.``).  ``Linked To:`` names another SDN entry; it
becomes an ``UnknownLink`` entity and a ``linked`` edge of the ownership graph.
Companion rows (ADD/ALT/COMMENTS) whose ``ent_num`` is not in the SDN file (entries
designated after it) are counted as orphans and otherwise ignored.

``sdn.xml`` (root ``<sdnList>``) carries the same records as XML; its ``idList``
entries (``idType`` / ``idNumber``) are read with the same parser as the remarks.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from followthemoney.proxy import EntityProxy

from tumen.errors import ListError
from tumen.screen.lists.base import (
    Builder,
    Link,
    ParsedList,
    clean_date,
    date_from_filename,
    date_from_mtime,
    decode_text,
    imo_company_valid,
    imo_ship_valid,
    read_bytes,
    sha256_bytes,
    text_stream,
)

LIST_ID = "us_ofac_sdn"
TITLE = "US OFAC Specially Designated Nationals (SDN) List"
AUTHORITY = "US Treasury Office of Foreign Assets Control (OFAC)"
DETAIL_URL = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}"

SCHEMA_BY_TYPE = {
    "individual": "Person",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "": "Organization",
}
SDN_TYPES = {"individual", "vessel", "aircraft", "-0-", ""}
ALT_TYPES = {"aka", "fka", "nka"}


def _null(value: str | None) -> str:
    text = (value or "").strip()
    return "" if text == "-0-" else text


def _as_written(value: str | None) -> str:
    """A remarks field unstripped (its edge spaces may join it to a continuation), or ''."""
    return value if value is not None and _null(value) else ""


def programs_of(field: str) -> list[str]:
    """``'DPRK3] [DPRK4'`` → ``['DPRK3', 'DPRK4']``."""
    return [p.strip(" []") for p in re.split(r"\]\s*\[", _null(field)) if p.strip(" []")]


# --------------------------------------------------------------------------- sniffing
def sniff_csv_row(row: list[str]) -> str | None:
    """Which OFAC legacy file a first row belongs to (``sdn``/``alt``/``add``/``comments``)."""
    if not row or not row[0].strip().isdigit():
        return None
    if len(row) == 12 and row[2].strip().lower() in SDN_TYPES:
        return "sdn"
    if len(row) == 5 and row[2].strip().lower() in ALT_TYPES | {"-0-"}:
        return "alt"
    if len(row) == 6:
        return "add"
    if len(row) == 2:
        return "comments"
    return None


# --------------------------------------------------------------------------- remarks
_ITEM_SPLIT = re.compile(r";\s+")
_ALIAS_ITEM = re.compile(r"(?:[afn]\.k\.a\.|formerly known as)\s*'", re.I)


def split_remarks(text: str) -> list[str]:
    """Split OFAC remarks on ``;`` outside quoted aliases; trailing full stop removed.

    Apostrophes inside names (``PEOPLE'S``, ``QA'IDA``, ``Manufacturer's``) are not
    quotes: an item is joined with the next piece only when it opens an alias quote
    (``a.k.a. 'FOO``) that the next piece closes (``BAR'``).

    >>> split_remarks("Linked To: LORD'S RESISTANCE ARMY; a.k.a. 'FOO; BAR'.")
    ["Linked To: LORD'S RESISTANCE ARMY", "a.k.a. 'FOO; BAR'"]
    """
    text = _null(text).rstrip()
    if text.endswith("."):
        text = text[:-1]
    pieces = [p.strip() for p in _ITEM_SPLIT.split(text) if p.strip()]
    items: list[str] = []
    for piece in pieces:
        last = items[-1] if items else ""
        if (
            _ALIAS_ITEM.match(last)
            and not last.endswith("'")
            and not _ALIAS_ITEM.match(piece)
            and piece.count("'") % 2 == 1
        ):
            items[-1] = f"{last}; {piece}"
        else:
            items.append(piece)
    return items


_NAME_SEP = re.compile(r"'\s*,\s*'")


def quoted_names(item: str) -> list[str]:
    """The names quoted in an alias item, apostrophes inside them kept.

    The quote runs from the first ``'`` to the last one; ``', '`` separates names.

    >>> quoted_names("a.k.a. 'ABU-'UMAR'"), quoted_names("a.k.a. 'ABU-AL-KARKH', 'Yusuf'")
    (["ABU-'UMAR"], ['ABU-AL-KARKH', 'Yusuf'])
    """
    first, last = item.find("'"), item.rfind("'")
    if first < 0 or last <= first:
        return []
    return [n.strip(" '") for n in _NAME_SEP.split(item[first + 1 : last]) if n.strip(" '")]


class RemarkFacts:
    """Facts read from remarks / id items of one SDN entry."""

    def __init__(self) -> None:
        self.props: list[tuple[str, str]] = []
        self.linked: list[tuple[str, str]] = []  # (name, statement)
        self.imo_company: list[str] = []
        self.bad_imo: list[str] = []


def parse_remarks(items: Iterable[str], schema: str) -> RemarkFacts:
    """Read vessel identifiers, aliases, former names and links from remark items."""
    facts = RemarkFacts()
    vessel = schema == "Vessel"
    person = schema == "Person"
    for item in items:
        low = item.lower()
        if low.startswith("linked to:"):
            name = item.split(":", 1)[1].strip().rstrip(".").strip()
            if name:
                facts.linked.append((name, item if item.endswith(".") else item + "."))
        elif "imo" in low and ("identification" in low or low.startswith("imo")):
            m = re.search(r"IMO\s*(\d{7})", item, re.I)
            if m:
                num = m.group(1)
                if vessel:
                    (
                        facts.props.append(("imoNumber", num))
                        if imo_ship_valid(num)
                        else facts.bad_imo.append(num)
                    )
                elif imo_company_valid(num):
                    facts.imo_company.append(num)
                else:
                    facts.bad_imo.append(num)
        elif low.startswith("mmsi"):
            m = re.search(r"(\d{9})", item)
            if m:
                facts.props.append(("mmsi", m.group(1)))
        elif low.startswith(("former vessel flag", "alt. former vessel flag")):
            flag = re.sub(r"^(alt\. )?former vessel flag\s*", "", item, flags=re.I)
            facts.props.append(("pastFlags", flag))
        elif low.startswith("vessel year of build"):
            facts.props.append(("buildDate", item.rsplit(" ", 1)[-1]))
        elif low.startswith("other vessel type"):
            facts.props.append(("pastTypes", item[len("other vessel type") :].strip()))
        elif low.startswith("other vessel call sign"):
            facts.props.append(("callSign", item.rsplit(" ", 1)[-1]))
        elif low.startswith("other vessel flag"):
            facts.props.append(("pastFlags", item[len("other vessel flag") :].strip()))
        elif low.startswith("f.k.a.") or low.startswith("formerly known as"):
            for name in quoted_names(item):
                facts.props.append(("previousName", name))
        elif low.startswith("a.k.a.") or low.startswith("n.k.a."):
            for name in quoted_names(item):
                facts.props.append(("alias", name))
        elif low.startswith("tax id no."):
            facts.props.append(("taxNumber", item[len("tax id no.") :].strip()))
        elif low.startswith("registration number") and not vessel:
            facts.props.append(("registrationNumber", item[len("registration number") :].strip()))
        elif low.startswith("organization established date"):
            facts.props.append(("incorporationDate", item.rsplit("date", 1)[-1].strip()))
        elif person and low.startswith("dob "):
            facts.props.append(("birthDate", item[4:].strip()))
        elif person and low.startswith("pob "):
            facts.props.append(("birthPlace", item[4:].strip()))
        elif person and low.startswith(("nationality ", "alt. nationality ")):
            facts.props.append(("nationality", item.split("nationality", 1)[1].strip()))
        elif person and low.startswith(("citizen ", "alt. citizen ")):
            facts.props.append(("citizenship", item.split("citizen", 1)[1].strip()))
        elif person and low.startswith("gender "):
            facts.props.append(("gender", item[7:].strip().lower()))
        elif low.startswith("website "):
            facts.props.append(("website", item[8:].strip()))
        elif low.startswith("email address "):
            facts.props.append(("email", item[len("email address ") :].strip()))
    return facts


# --------------------------------------------------------------------------- common record → entities
class _Record:
    """One SDN entry in a format-neutral shape."""

    def __init__(self, ent_num: str, name: str, sdn_type: str, programs: list[str], ref: str):
        self.ent_num = ent_num
        self.name = name
        self.sdn_type = sdn_type
        self.programs = programs
        self.ref = ref  # 'SDN.CSV line 12' / '<sdnEntry> uid 17069'
        self.title = ""
        self.call_sign = ""
        self.vessel_type = ""
        self.tonnage = ""
        self.grt = ""
        self.flag = ""
        self.owner = ""
        self.remark_items: list[str] = []
        self.aliases: list[tuple[str, str]] = []  # (alt_type, name)
        self.addresses: list[tuple[str, str]] = []  # (full address text, country)
        self.first_name = ""
        self.last_name = ""


class _Assembler:
    """Turns :class:`_Record` objects into FtM entities and links (shared by CSV and XML)."""

    def __init__(self, path: Path):
        self.path = path
        self.b = Builder("ofac", LIST_ID)
        self.entities: list[EntityProxy] = []
        self.links: list[Link] = []
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.pending_links: list[tuple[EntityProxy, str, str, str]] = []
        self.counts: Counter[str] = Counter()

    def add(self, rec: _Record) -> None:
        schema = SCHEMA_BY_TYPE.get(rec.sdn_type.lower().strip(), "Organization")
        b = self.b
        e = b.make(schema, rec.ent_num)
        if not rec.name:
            raise ListError(f"{rec.ref}: entry without a name; the file is malformed", self.path)
        b.add(e, "name", rec.name)
        if schema == "Person":
            b.add(e, "firstName", rec.first_name)
            b.add(e, "lastName", rec.last_name)
            if "," in rec.name and not rec.last_name:
                last, first = rec.name.split(",", 1)
                b.add(e, "lastName", last)
                b.add(e, "firstName", first)
            b.add(e, "title", rec.title)
        if schema == "Vessel":
            b.add(e, "callSign", rec.call_sign)
            b.add(e, "type", rec.vessel_type)
            b.add(e, "tonnage", rec.tonnage.replace(",", ""))
            b.add(e, "grossRegisteredTonnage", rec.grt.replace(",", ""))
            b.add(e, "flag", rec.flag)
        elif schema == "Airplane":
            b.add(e, "type", rec.vessel_type)
        for alt_type, alt_name in rec.aliases:
            kind = alt_type.lower().replace(".", "")
            prop = "previousName" if kind == "fka" else "alias"
            if kind == "weak":
                prop = "weakAlias"
            b.add(e, prop, alt_name)
        for text, country in rec.addresses:
            b.add(e, "address", text)
            b.add(e, "country", country)
        facts = parse_remarks(rec.remark_items, schema)
        for prop, value in facts.props:
            if e.schema.get(prop) is not None:
                b.add(e, prop, value)
        for num in facts.imo_company:
            if e.schema.get("imoNumber") is not None:
                b.add(e, "imoNumber", num)
            else:
                b.add(e, "registrationNumber", f"IMO {num}")
        if facts.bad_imo:
            self.counts["imo_check_digit_failed"] += len(facts.bad_imo)
            b.add(e, "notes", [f"IMO {n} fails its check digit" for n in facts.bad_imo])
        b.add(e, "notes", "; ".join(rec.remark_items) or None)
        e.add("sourceUrl", DETAIL_URL.format(rec.ent_num))
        sanction = b.sanction(
            e,
            authority=AUTHORITY,
            programs=rec.programs,
            reference=rec.ent_num,
            source_url=DETAIL_URL.format(rec.ent_num),
        )
        self.entities.extend([e, sanction])
        self.by_name[_name_key(rec.name)].append(e.id or "")
        for name, text in facts.linked:
            self.pending_links.append((e, name, text, rec.ref))
        self.counts[schema] += 1

    def finish(self) -> None:
        """Resolve ``Linked To:`` names to the SDN entries that carry them."""
        for e, name, text, ref in self.pending_links:
            targets = self.by_name.get(_name_key(name), [])
            if not targets:
                self.counts["links_unresolved"] += 1
                continue
            for tid in targets:
                ent, link = self.b.link("UnknownLink", e, tid, "linked", ref=ref, text=text)
                self.entities.append(ent)
                self.links.append(link)


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().rstrip(".").upper())


# --------------------------------------------------------------------------- CSV
def _read_csv_rows(path: Path, raw: bytes, kind: str, ncols: int) -> list[tuple[int, list[str]]]:
    text = decode_text(raw, path, ("cp1252", "latin-1"))
    text = text.rstrip("\x1a\r\n \t")
    if text and not (text.endswith('"') or text.endswith("-0-")):
        last = text.count("\n") + 1
        raise ListError(
            f"{kind.upper()}: the last record ends mid-field (every record ends with a quoted "
            "field or -0-); the file is truncated — download it again",
            path,
            last,
        )
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(text_stream(text))
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            line = reader.line_num
            if not row[0].strip().isdigit() or len(row) != ncols:
                what = f"ent_num {row[0].strip()!r}" if row and row[0].strip() else "a row"
                raise ListError(
                    f"{kind.upper()} record {what} has {len(row)} fields, expected {ncols}; "
                    "the file is truncated or not an OFAC legacy CSV — download it again",
                    path,
                    line,
                )
            rows.append((line, row))
    except csv.Error as exc:
        raise ListError(
            f"{kind.upper()}: {exc}; the file is truncated or malformed",
            path,
            reader.line_num,
        ) from None
    if not rows:
        raise ListError(f"{kind.upper()}: no records", path)
    return rows


def parse_csv(
    sdn_path: Path,
    *,
    alt: Path | None = None,
    add: Path | None = None,
    comments: Path | None = None,
) -> ParsedList:
    """Read the legacy CSV files (``SDN.CSV`` plus any of ``ALT``/``ADD``/``SDN_COMMENTS``).

    The list date is the date in the ``SDN.CSV`` file name if there is one
    (``sdn_2024-05-03.csv``), else the file's modification date: the CSV carries
    no publication date of its own.
    """
    raw = read_bytes(sdn_path)
    files: list[dict[str, Any]] = []
    sdn_rows = _read_csv_rows(sdn_path, raw, "sdn", 12)
    files.append(
        {
            "path": str(sdn_path),
            "sha256": sha256_bytes(sdn_path.read_bytes()),
            "role": "sdn",
            "rows": len(sdn_rows),
        }
    )
    records: dict[str, _Record] = {}
    for line, row in sdn_rows:
        ent = row[0].strip()
        rec = _Record(
            ent,
            _null(row[1]),
            _null(row[2]),
            programs_of(row[3]),
            f"SDN.CSV line {line} (ent_num {ent})",
        )
        rec.title, rec.call_sign, rec.vessel_type = _null(row[4]), _null(row[5]), _null(row[6])
        rec.tonnage, rec.grt, rec.flag, rec.owner = (
            _null(row[7]),
            _null(row[8]),
            _null(row[9]),
            _null(row[10]),
        )
        # kept as written: SDN_COMMENTS may continue it after a space cut off at its end
        rec.remark_items = [_as_written(row[11])]
        records[ent] = rec
    orphans: Counter[str] = Counter()
    if comments is not None:
        rows = _read_csv_rows(comments, read_bytes(comments), "sdn_comments", 2)
        files.append(
            {
                "path": str(comments),
                "sha256": sha256_bytes(comments.read_bytes()),
                "role": "comments",
                "rows": len(rows),
            }
        )
        for _, row in rows:
            found = records.get(row[0].strip())
            if found is None:
                orphans["comments"] += 1
                continue
            # SDN_COMMENTS continues the remarks cut off at the end of SDN.CSV's field, mid-word
            # or at a space on either side ('... alt. Digital' + ' Currency Address ...')
            found.remark_items = [found.remark_items[0] + _as_written(row[1])]
    for rec in records.values():
        rec.remark_items = split_remarks(rec.remark_items[0])
    if alt is not None:
        rows = _read_csv_rows(alt, read_bytes(alt), "alt", 5)
        files.append(
            {
                "path": str(alt),
                "sha256": sha256_bytes(alt.read_bytes()),
                "role": "alt",
                "rows": len(rows),
            }
        )
        for _, row in rows:
            found = records.get(row[0].strip())
            if found is None:
                orphans["alt"] += 1
                continue
            kind = _null(row[2]).lower()
            remarks = _null(row[4]).lower()
            if "weak" in remarks:
                kind = "weak"
            found.aliases.append((kind, _null(row[3])))
    if add is not None:
        rows = _read_csv_rows(add, read_bytes(add), "add", 6)
        files.append(
            {
                "path": str(add),
                "sha256": sha256_bytes(add.read_bytes()),
                "role": "add",
                "rows": len(rows),
            }
        )
        for _, row in rows:
            found = records.get(row[0].strip())
            if found is None:
                orphans["add"] += 1
                continue
            parts = [_null(row[2]), _null(row[3]), _null(row[4])]
            text = ", ".join(p for p in parts if p)
            if text:
                found.addresses.append((text, _null(row[4])))
    asm = _Assembler(sdn_path)
    for rec in records.values():
        asm.add(rec)
    asm.finish()
    list_date = date_from_filename(sdn_path) or date_from_mtime(sdn_path)
    counts: dict[str, Any] = dict(asm.counts)
    counts["orphans"] = dict(orphans)
    return ParsedList(
        list_id=LIST_ID,
        title=TITLE,
        format="ofac_csv",
        path=sdn_path,
        sha256=files[0]["sha256"],
        list_date=list_date,
        entities=asm.entities,
        links=asm.links,
        files=files,
        counts=counts,
    )


# --------------------------------------------------------------------------- XML
def parse_xml(path: Path) -> ParsedList:
    """Read OFAC's ``sdn.xml`` (root ``<sdnList>``, any namespace).

    The list date is ``publshInformation/Publish_Date`` (MM/DD/YYYY).
    """
    from lxml import etree

    raw = read_bytes(path)
    asm = _Assembler(path)
    publish: str | None = None
    record_count: int | None = None
    current = "sdnList"
    n = 0
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        for i in range(0, len(raw), 1 << 20):
            parser.feed(raw[i : i + (1 << 20)])
            for event, el in parser.read_events():
                tag = etree.QName(el).localname
                if event == "start":
                    if tag == "sdnEntry":
                        current = "sdnEntry"
                    continue
                if tag == "Publish_Date":
                    publish = clean_date((el.text or "").strip())
                elif tag == "Record_Count":
                    record_count = int((el.text or "0").strip() or 0)
                elif tag == "sdnEntry":
                    asm.add(_xml_record(el, path))
                    n += 1
                    el.clear()
                    current = "sdnList"
        parser.close()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if hasattr(exc, "lineno") else None
        raise ListError(
            f"XML is malformed or truncated in <{current}> after {n} complete entries ({exc.msg}); "
            "download the list again",
            path,
            line,
        ) from None
    if n == 0:
        raise ListError("<sdnList> holds no <sdnEntry>; not an SDN list", path)
    if record_count is not None and record_count != n:
        raise ListError(
            f"<publshInformation> says {record_count} records but the file holds {n} <sdnEntry>; "
            "the file is truncated — download it again",
            path,
        )
    asm.finish()
    list_date = (
        date.fromisoformat(publish) if publish and len(publish) == 10 else date_from_filename(path)
    )
    return ParsedList(
        list_id=LIST_ID,
        title=TITLE,
        format="ofac_xml",
        path=path,
        sha256=sha256_bytes(path.read_bytes()),
        list_date=list_date or date_from_mtime(path),
        entities=asm.entities,
        links=asm.links,
        files=[
            {
                "path": str(path),
                "sha256": sha256_bytes(path.read_bytes()),
                "role": "sdn_xml",
                "rows": n,
            }
        ],
        counts=dict(asm.counts),
    )


def _xml_record(el: Any, path: Path) -> _Record:
    def child(node: Any, name: str) -> str:
        for c in node:
            if isinstance(c.tag, str) and c.tag.rsplit("}", 1)[-1] == name:
                return (c.text or "").strip()
        return ""

    def children(node: Any, name: str) -> list[Any]:
        return [
            c for c in node.iter() if isinstance(c.tag, str) and c.tag.rsplit("}", 1)[-1] == name
        ]

    uid = child(el, "uid")
    if not uid:
        raise ListError("<sdnEntry> without <uid>; the file is malformed", path, el.sourceline)
    first, last = child(el, "firstName"), child(el, "lastName")
    sdn_type = child(el, "sdnType").lower()
    sdn_type = "" if sdn_type == "entity" else sdn_type
    name = f"{last}, {first}" if first and sdn_type == "individual" else (f"{first} {last}".strip())
    programs = [p.text.strip() for p in children(el, "program") if p.text and p.text.strip()]
    rec = _Record(uid, name, sdn_type, programs, f"<sdnEntry> uid {uid} (line {el.sourceline})")
    rec.first_name, rec.last_name = first, last
    rec.title = child(el, "title")
    items = split_remarks(child(el, "remarks"))
    for id_el in children(el, "id"):
        id_type, number = child(id_el, "idType"), child(id_el, "idNumber")
        if id_type:
            items.append(
                f"{id_type} {number}".strip()
                if not id_type.lower().startswith("linked to")
                else f"Linked To: {number}"
            )
    rec.remark_items = items
    for aka in children(el, "aka"):
        a_first, a_last = child(aka, "firstName"), child(aka, "lastName")
        a_name = (
            f"{a_last}, {a_first}"
            if a_first and sdn_type == "individual"
            else f"{a_first} {a_last}".strip()
        )
        kind = child(aka, "type").lower().replace(".", "") or "aka"
        if child(aka, "category").lower() == "weak":
            kind = "weak"
        rec.aliases.append((kind, a_name))
    for addr in children(el, "address"):
        parts = [
            child(addr, k)
            for k in (
                "address1",
                "address2",
                "address3",
                "city",
                "stateOrProvince",
                "postalCode",
                "country",
            )
        ]
        text = ", ".join(p for p in parts if p)
        if text:
            rec.addresses.append((text, child(addr, "country")))
    for vi in children(el, "vesselInfo"):
        rec.call_sign = child(vi, "callSign")
        rec.vessel_type = child(vi, "vesselType")
        rec.flag = child(vi, "vesselFlag")
        rec.owner = child(vi, "vesselOwner")
        rec.tonnage = child(vi, "tonnage")
        rec.grt = child(vi, "grossRegisteredTonnage")
    return rec
