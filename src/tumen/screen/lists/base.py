"""What every list reader shares: reading files, building FtM entities, the parsed list.

Each reader (:mod:`.un`, :mod:`.ofac`, :mod:`.ftm`, :mod:`.vessels_csv`, :mod:`.links_csv`)
turns official files into a :class:`ParsedList`: FollowTheMoney entities (the
sanctioned parties, one ``Sanction`` entity per designation, and link entities
such as ``Ownership``, ``Directorship`` and ``UnknownLink``) plus the ownership /
association edges (:class:`Link`) with the place each one is stated.

IMO numbers are validated with their check digits (IMO Resolution A.1117(30),
and the company/registered-owner scheme of IMO's Unique Company and Registered
Owner Identification Number Scheme, MSC/Circ.1142): a ship number's seventh
digit is the sum of its first six digits weighted 7..2, mod 10; a company
number's seventh digit is ``(11 - sum(d_i * w_i) mod 11) mod 10`` with weights
8, 6, 4, 2, 9, 7 (both defined once, in :mod:`tumen.identifiers`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.types import registry

from tumen.errors import ListError
from tumen.identifiers import imo_company_valid as imo_company_valid
from tumen.identifiers import imo_ship_valid as imo_ship_valid

#: Link roles as they appear in the ``links`` table and the ownership paths.
LINK_ROLES = ("owner", "manager", "operator", "director", "linked")


@dataclass
class Link:
    """One edge of the ownership graph, as stated by a list or registry file.

    ``source_id`` is the asset / organisation / entity that mentions the link,
    ``target_id`` the owner, manager, director or linked party.
    """

    source_id: str
    target_id: str
    role: str
    link_id: str | None
    ref: str  # where in the file: 'OFAC ent_num 37095', 'line 12', ...
    text: str  # the statement itself, e.g. 'Linked To: TRANSMORFLOT LLC.'


@dataclass
class ParsedList:
    """A list read from its files, before it is written to the store."""

    list_id: str
    title: str
    format: str
    path: Path
    sha256: str
    list_date: date | None
    entities: list[EntityProxy] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- files
def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic bytes.

    Raises
    ------
    ListError
        When a ``.gz`` file is truncated or corrupt.
    """
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ListError(
                f"gzip data is truncated or corrupt ({exc}); download the list again",
                path,
            ) from None
    return raw


def head_bytes(path: Path, n: int = 65536) -> bytes:
    """The first ``n`` bytes of the (decompressed) file, for format detection."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                return gz.read(n)
        except (EOFError, OSError, zlib.error) as exc:
            raise ListError(f"gzip data is truncated or corrupt ({exc})", path) from None
    with open(path, "rb") as fh:
        return fh.read(n)


def sha256_bytes(raw: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(raw).hexdigest()


def decode_text(
    raw: bytes, path: Path, encodings: tuple[str, ...] = ("utf-8-sig", "cp1252", "latin-1")
) -> str:
    """Decode bytes with the first encoding that works (OFAC files are Windows-1252)."""
    for enc in encodings:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ListError("cannot decode the file as UTF-8 or Windows-1252", path)  # pragma: no cover


def text_stream(text: str) -> io.StringIO:
    """A file-like object over ``text`` for the csv module."""
    return io.StringIO(text, newline="")


_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d\d|19\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_from_filename(path: Path) -> date | None:
    """A date written in the file name (``sdn_2024-05-03.csv`` or ``20240503``), if any."""
    m = _DATE_IN_NAME.search(path.name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_from_mtime(path: Path) -> date:
    """The file's modification date (UTC)."""
    from datetime import UTC

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def list_stem(path: Path) -> str:
    """The list identity for files without an official one: the file name without
    extensions and dates, lower-case (``un_1718_vessels_2024-03-01.csv`` → ``un_1718_vessels``)."""
    name = path.name.lower()
    for ext in (".gz", ".json", ".jsonl", ".ftm", ".csv", ".ijson", ".ndjson"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    for ext in (".json", ".jsonl", ".ftm", ".csv"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    name = _DATE_IN_NAME.sub("", name)
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    return name or "list"


# --------------------------------------------------------------------------- IMO numbers
def clean_imo(value: Any) -> str | None:
    """``'IMO 9161003'`` / ``9161003`` → ``'9161003'`` (7 digits), else ``None``."""
    if value is None:
        return None
    text = re.sub(r"\s+", "", str(value)).upper()
    text = text.removeprefix("IMO")
    return text if re.fullmatch(r"\d{7}", text) else None


# --------------------------------------------------------------------------- FtM building
@lru_cache(maxsize=4096)
def clean_country(value: str) -> str | None:
    """A country name or code → ISO 3166-1 alpha-2 (lower case), via FtM (cached: it is slow)."""
    text = value.strip()
    if not text or text in {"-0-", "None Identified"}:
        return None
    return registry.country.clean(text)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


@lru_cache(maxsize=8192)
def clean_date(value: str) -> str | None:
    """``'30 Jun 2016'``, ``'Jun 2016'``, ``'2016'``, ``'2016-06-30'``, ``'circa 1960'`` →
    ISO (partial) date text, or ``None``."""
    text = value.strip().lower().removeprefix("circa").strip()
    if not text or text == "-0-":
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:t.*)?", text)
    if m:
        return "-".join(g for g in m.groups() if g)
    m = re.fullmatch(r"(\d{1,2}) ([a-z]{3})[a-z]* (\d{4})", text)
    if m and m.group(2) in _MONTHS:
        return f"{m.group(3)}-{_MONTHS[m.group(2)]:02d}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"([a-z]{3})[a-z]* (\d{4})", text)
    if m and m.group(1) in _MONTHS:
        return f"{m.group(2)}-{_MONTHS[m.group(1)]:02d}"
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)  # OFAC XML: MM/DD/YYYY
    if m:
        return f"{m.group(3)}-{m.group(1)}-{m.group(2)}"
    return None


NULLS = {"", "-0-", "none", "null", "n/a"}


class Builder:
    """Makes FollowTheMoney entities for one list, with ids prefixed by the list.

    Values are cleaned the way FtM would, with caches for the slow cleaners
    (countries, dates), and the OFAC null ``-0-`` dropped.
    """

    def __init__(self, prefix: str, dataset: str):
        self.prefix = prefix
        self.dataset = dataset

    def make(self, schema: str, *key: str) -> EntityProxy:
        entity = model.make_entity(schema)
        slug = "-".join(re.sub(r"[^a-z0-9.]+", "-", str(k).strip().lower()).strip("-") for k in key)
        entity.id = f"{self.prefix}-{slug}"
        return entity

    def add(self, entity: EntityProxy, prop: str, value: Any) -> None:
        """Add a value (skipping nulls); countries and dates are cleaned with caches."""
        if value is None:
            return
        if isinstance(value, (list, tuple, set)):
            for v in value:
                self.add(entity, prop, v)
            return
        text = str(value).strip()
        if text.lower() in NULLS:
            return
        ptype = entity.schema.get(prop)
        if ptype is None:
            raise KeyError(f"{entity.schema.name} has no property {prop!r}")
        if ptype.type == registry.country:
            code = clean_country(text)
            if code:
                entity.add(prop, code, cleaned=True)
            return
        if ptype.type == registry.date:
            iso = clean_date(text)
            if iso:
                entity.add(prop, iso, cleaned=True)
            return
        entity.add(prop, text)

    def sanction(
        self,
        target: EntityProxy,
        *,
        authority: str,
        programs: list[str],
        reference: str,
        listing_date: str | None = None,
        source_url: str | None = None,
        reason: str | None = None,
        unsc_id: str | None = None,
        country: str | None = None,
    ) -> EntityProxy:
        """The ``Sanction`` entity (the designation) of ``target``."""
        s = self.make("Sanction", str(target.id).removeprefix(self.prefix + "-"), "sanction")
        s.add("entity", target.id)
        self.add(s, "authority", authority)
        self.add(s, "program", programs)
        self.add(s, "authorityId", reference)
        self.add(s, "unscId", unsc_id)
        self.add(s, "listingDate", listing_date)
        self.add(s, "sourceUrl", source_url)
        self.add(s, "reason", reason)
        self.add(s, "country", country)
        target.add("topics", "sanction")
        self.add(target, "program", programs)
        return s

    def link(
        self,
        schema: str,
        source: EntityProxy | str,
        target: EntityProxy | str,
        role: str,
        *,
        ref: str,
        text: str,
        description: str | None = None,
    ) -> tuple[EntityProxy, Link]:
        """A link entity (Ownership / Directorship / UnknownLink) and its graph edge.

        ``source`` is the asset, organisation or subject that states the link;
        ``target`` the owner, director or linked party.
        """
        sid = source if isinstance(source, str) else source.id
        tid = target if isinstance(target, str) else target.id
        assert sid is not None and tid is not None
        ent = self.make(
            schema, sid.removeprefix(self.prefix + "-"), role, tid.removeprefix(self.prefix + "-")
        )
        if schema == "Ownership":
            ent.add("asset", sid)
            ent.add("owner", tid)
        elif schema == "Directorship":
            ent.add("organization", sid)
            ent.add("director", tid)
        else:
            ent.add("subject", sid)
            ent.add("object", tid)
        self.add(ent, "role", role)
        self.add(ent, "description", description or text)
        return ent, Link(sid, tid, role, ent.id, ref, text)
