"""The UN Security Council Consolidated List (XML).

Source: https://scsanctions.un.org/resources/xml/en/consolidated.xml, schema
https://www.un.org/sc/resources/sc-sanctions.xsd.  Root ``<CONSOLIDATED_LIST
dateGenerated=...>`` with ``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY``;
``UN_LIST_TYPE`` names the regime (``DPRK`` for the 1718 Committee),
``REFERENCE_NUMBER`` the designation (``KPi.001``, ``KPe.020``), names are
``FIRST_NAME`` … ``FOURTH_NAME`` plus ``*_ALIAS`` blocks with a ``QUALITY``
(``Good``/``a.k.a.`` → alias, ``Low``/``f.k.a.`` → weak alias / former name).

The Consolidated List holds **no vessels**: the DPRK-related vessels are published
separately by the 1718 Committee (load them with :mod:`.vessels_csv`).  The "IMO
number" in some DPRK entities' ``COMMENTS1`` is the IMO **company** number; it is
kept as ``imoNumber`` of the organisation only when it passes the company check digit.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from tumen.errors import ListError
from tumen.screen.lists.base import Builder, ParsedList, imo_company_valid, read_bytes, sha256_bytes

LIST_ID = "un_sc"
TITLE = "UN Security Council Consolidated List"
AUTHORITY = "UN Security Council"
SOURCE_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"

#: UN_LIST_TYPE → the committee that designates under it (program names as published).
REGIMES = {
    "DPRK": "UN 1718 (DPRK)",
    "Al-Qaida": "UN 1267/1989/2253 (ISIL (Da'esh) and Al-Qaida)",
    "Taliban": "UN 1988 (Taliban)",
    "Iran": "UN 1737/2231 (Iran)",
    "Iraq": "UN 1518 (Iraq)",
}


def _text(el: Any, name: str) -> str:
    child = el.find(name)
    return (child.text or "").strip() if child is not None and child.text else ""


def _values(el: Any, name: str) -> list[str]:
    out = []
    for block in el.findall(name):
        for v in block.findall("VALUE"):
            if v.text and v.text.strip():
                out.append(v.text.strip())
    return out


def parse(path: Path) -> ParsedList:
    """Read the UN consolidated XML into FtM entities (Person, Organization, Sanction).

    Raises
    ------
    ListError
        On malformed or truncated XML (naming the element being read), or an
        entry without a reference number or name.
    """
    from lxml import etree

    raw = read_bytes(path)
    b = Builder("unsc", LIST_ID)
    entities = []
    counts: Counter[str] = Counter()
    generated: str | None = None
    current = "CONSOLIDATED_LIST"
    last_ref = ""
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        for i in range(0, len(raw), 1 << 20):
            parser.feed(raw[i : i + (1 << 20)])
            for event, el in parser.read_events():
                if event == "start":
                    if el.tag == "CONSOLIDATED_LIST":
                        generated = el.get("dateGenerated")
                    elif el.tag in ("INDIVIDUAL", "ENTITY"):
                        current = el.tag
                    continue
                if el.tag not in ("INDIVIDUAL", "ENTITY"):
                    continue
                ref = _text(el, "REFERENCE_NUMBER")
                if not ref:
                    raise ListError(
                        f"<{el.tag}> DATAID {_text(el, 'DATAID') or '?'} has no REFERENCE_NUMBER; the file is malformed",
                        path,
                        el.sourceline,
                    )
                last_ref = ref
                entities.extend(_entry(b, el, path))
                counts["Person" if el.tag == "INDIVIDUAL" else "Organization"] += 1
                if _text(el, "UN_LIST_TYPE") == "DPRK":
                    counts["dprk"] += 1
                el.clear()
                current = "CONSOLIDATED_LIST"
        parser.close()
    except etree.XMLSyntaxError as exc:
        after = f" after {last_ref}" if last_ref else ""
        raise ListError(
            f"XML is malformed or truncated in <{current}>{after} ({exc.msg}); download the list again",
            path,
            getattr(exc, "lineno", None),
        ) from None
    if not entities:
        raise ListError("<CONSOLIDATED_LIST> holds no INDIVIDUAL or ENTITY; not a UN list", path)
    list_date = date.fromisoformat(generated[:10]) if generated else None
    sha = sha256_bytes(path.read_bytes())
    return ParsedList(
        list_id=LIST_ID,
        title=TITLE,
        format="un_xml",
        path=path,
        sha256=sha,
        list_date=list_date,
        entities=entities,
        files=[
            {
                "path": str(path),
                "sha256": sha,
                "role": "consolidated_xml",
                "rows": sum(counts.values()),
            }
        ],
        counts=dict(counts),
    )


def _entry(b: Builder, el: Any, path: Path) -> list[Any]:
    ref = _text(el, "REFERENCE_NUMBER")
    person = el.tag == "INDIVIDUAL"
    e = b.make("Person" if person else "Organization", ref)
    parts = [_text(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    parts = [p for p in parts if p]
    if not parts:
        raise ListError(
            f"<{el.tag}> {ref} has no FIRST_NAME; the file is malformed", path, el.sourceline
        )
    names = [n.strip() for n in " ".join(parts).split(" ; ")] if not person else [" ".join(parts)]
    b.add(e, "name", names[0])
    b.add(e, "alias", names[1:])
    regime = _text(el, "UN_LIST_TYPE")
    if (
        person and regime == "DPRK"
    ):  # the 1718 list writes the family name first (KPi.001 YUN HO-JIN)
        b.add(e, "lastName", parts[0])
        b.add(e, "firstName", " ".join(parts[1:]) or None)
    elif person:
        b.add(e, "firstName", parts[0])
        b.add(e, "lastName", " ".join(parts[1:]) or None)
    for alias in el.findall(f"{el.tag}_ALIAS"):
        name = _text(alias, "ALIAS_NAME")
        if not name:
            continue
        quality = _text(alias, "QUALITY").lower()
        for single in (n.strip() for n in name.split(";")):
            if not single:
                continue
            if quality in ("low",):
                b.add(e, "weakAlias", single)
            elif quality in ("f.k.a.", "fka"):
                b.add(e, "previousName", single)
            else:
                b.add(e, "alias", single)
    for orig in el.findall("NAME_ORIGINAL_SCRIPT"):
        if orig.text and orig.text.strip():
            b.add(e, "alias", orig.text.strip())
    comments = _text(el, "COMMENTS1")
    b.add(e, "notes", comments or None)
    for num in re.findall(r"IMO\)?\s*(?:Number|No\.?)?:?\s*(\d{7})", comments, re.I):
        if imo_company_valid(num):
            b.add(e, "imoNumber", num)
    for addr in el.findall(f"{el.tag}_ADDRESS"):
        fields = [
            _text(addr, k) for k in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")
        ]
        text = ", ".join(f for f in fields if f)
        if text:
            b.add(e, "address", text)
        b.add(e, "country", _text(addr, "COUNTRY") or None)
    if person:
        b.add(e, "nationality", _values(el, "NATIONALITY"))
        b.add(e, "title", _values(el, "TITLE"))
        b.add(e, "position", _values(el, "DESIGNATION"))
        b.add(e, "gender", _text(el, "GENDER").lower() or None)
        for dob in el.findall("INDIVIDUAL_DATE_OF_BIRTH"):
            b.add(e, "birthDate", _text(dob, "DATE") or _text(dob, "YEAR") or None)
        for doc in el.findall("INDIVIDUAL_DOCUMENT"):
            kind, number = _text(doc, "TYPE_OF_DOCUMENT"), _text(doc, "NUMBER")
            if number and "passport" in kind.lower():
                b.add(e, "passportNumber", number)
            elif number:
                b.add(e, "idNumber", number)
    e.add("sourceUrl", SOURCE_URL)
    sanction = b.sanction(
        e,
        authority=AUTHORITY,
        programs=[REGIMES.get(regime, f"UN {regime}")],
        reference=ref,
        unsc_id=ref,
        listing_date=_text(el, "LISTED_ON") or None,
        source_url=SOURCE_URL,
        reason=comments or None,
    )
    return [e, sanction]
