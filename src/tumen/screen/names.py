"""Name normalisation for screening: one comparable form per name.

Steps (each from a library where one exists):

1. Hangul → syllable-wise Revised Romanization (:func:`tumen.screen.korean.romanise_hangul`);
   Chinese legal forms (有限公司 ...) removed; every other script (Cyrillic, Chinese,
   Greek, ...) transliterated to ASCII by rigour (``rigour.text.translit.ascii_text``:
   ``ООО Трансморфлот`` → ``OOO Transmorflot``, ``董方红`` → ``dong fang hong``).
2. Upper case; hyphens, slashes and punctuation become spaces (``MAIA-1`` → ``MAIA 1``,
   ``Myong-hak`` → ``MYONG HAK``); apostrophes vanish (``Ch'oe`` → ``CHOE``).
3. Legal-form words removed: rigour's org-type table (``rigour.names.remove_org_types``:
   LLC, OOO, JSC, PJSC, Ltd, GmbH, S.A., ...) plus the generic words it keeps
   (:data:`GENERIC_WORDS`: CO, COMPANY, CORPORATION, LIMITED, ...); vessel prefixes
   (M/V, MT, ...) removed by ``rigour.names.remove_obj_prefixes``.
4. Roman numerals II–XX become digits (``SPARTA IV`` → ``SPARTA 4``); numbers are
   kept apart for the number-mismatch feature.
5. Hull-number markers before a number are dropped from vessel and organisation
   names (``No.3``, ``NO 1``, ``Nr. 6``, ``#3``, Korean ``3호`` → ``3``), so a name written
   ``KUM UN SAN No.3`` compares with the listed ``KUM UN SAN 3``.
6. Organisation words that rigour's name tagger files under one symbol are written
   as that symbol (``TRDG``, ``TRADING`` → ``TRADE``; ``INTL`` → ``INTL``; ``MGMT``,
   ``MANAGEMENT`` → ``MGMT``; ``SHPG`` → ``SHIPPING``; ``CORP`` ...) — see
   :func:`org_word`; ``&`` and ``AND`` are dropped.
7. Variants of a name with parentheses (:func:`name_variants`): the name without the
   parenthesised part, the name with it kept inline (``X MARINE (HONG KONG) LIMITED``
   → ``X MARINE HONG KONG LIMITED``) and — for list names only — a parenthesised part of
   five letters or more as a name of its own (``KOREA TAESONG TRADING COMPANY
   (TAESONG)``), unless every word of it is a place, a legal form or a generic word
   known to rigour's tagger (``(HONG KONG)``, ``(SINGAPORE)``, ``(HOLDING)``): a place
   is no name, and two different companies "of Hong Kong" must not match on it.

The Korean key of the tokens (:func:`tumen.screen.korean.fold_tokens`) is computed
alongside.

Examples
--------
>>> normalise("OCEAN MARITIME MANAGEMENT COMPANY, LIMITED", "organization").tokens
('OCEAN', 'MARITIME', 'MGMT')
>>> normalise("Chŏn Myŏng-hak").tokens
('CHON', 'MYONG', 'HAK')
>>> normalise("SPARTA IV").numbers
('4',)
>>> normalise("KUM UN SAN No.3", "vessel").tokens
('KUM', 'UN', 'SAN', '3')
>>> normalise("KOREA INTL SHPG & TRDG CO", "organization").tokens
('KOREA', 'INTL', 'SHIPPING', 'TRADE')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rigour.names import NameTypeTag, analyze_names, remove_obj_prefixes, remove_org_types
from rigour.text.translit import ascii_text

from tumen.screen.korean import fold_tokens, has_hangul, romanise_hangul

#: Words that name a legal form or are generic for companies, removed from organisation
#: and vessel names on both sides (rigour's org-type table keeps these).
GENERIC_WORDS = frozenset(
    [
        "CO",
        "COMPANY",
        "COMPANIES",
        "LIABILITY",
        "CORP",
        "CORPORATION",
        "INCORPORATED",
        "INC",
        "LIMITED",
        "LTD",
        "LLC",
        "LLP",
        "PLC",
        "OOO",
        "ZAO",
        "OAO",
        "PAO",
        "AO",
        "TOO",
        "ODO",
        "IP",
        "JSC",
        "PJSC",
        "OJSC",
        "CJSC",
        "GMBH",
        "AG",
        "SA",
        "SARL",
        "SRL",
        "SPA",
        "BV",
        "NV",
        "FZE",
        "FZC",
        "FZCO",
        "DMCC",
        "SDN",
        "BHD",
        "PTE",
        "PVT",
        "PT",
        "HOESA",
        "CHUSIK",
        "JUSIK",
        "CHUSIKHOESA",
        "JUSIKHOESA",
        "GONGSI",
        "YOUXIAN",
        "GONGSI",
        "YOUXIANGONGSI",
        "THE",
    ]
)
CHINESE_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "公司",
    "集团",
    "集團",
)
ROMAN = {
    "II": "2",
    "III": "3",
    "IV": "4",
    "VI": "6",
    "VII": "7",
    "VIII": "8",
    "IX": "9",
    "XI": "11",
    "XII": "12",
    "XIII": "13",
    "XIV": "14",
    "XV": "15",
    "XVI": "16",
    "XVII": "17",
    "XVIII": "18",
    "XIX": "19",
    "XX": "20",
}
_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
#: Legal-form phrases (English and romanised Russian) that rigour's table misses in some spellings.
_LEGAL_PHRASES = re.compile(
    r"\b(?:(?:OPEN|CLOSED|PUBLIC|PRIVATE|NON PUBLIC)\s+)?JOINT\s+STOCK(?:\s+(?:COMPANY|CO))?\b"
    r"|\b(?:LIMITED|ADDITIONAL)\s+LIABILITY(?:\s+(?:COMPANY|CO|PARTNERSHIP))?\b"
    r"|\b(?:PUBLICHNOE\s+|ZAKRYTOE\s+|OTKRYTOE\s+|NEPUBLICHNOE\s+)?AKTSIONERNOE\s+OBSHCHESTVO\b"
    r"|\bOBSHCHESTVO\s+S\s+OGRANICHENNOI\s+OTVETSTVENNOSTYU\b|\bOBSHCHESTVO\s+S\s+OGRANICHENNOY\s+OTVETSTVENNOSTYU\b"
)
#: Single-letter roman numerals, read as numbers only at the end of a vessel name (``SKIF V``).
_LAST_ROMAN = {"I": "1", "V": "5", "X": "10"}
_PAREN = re.compile(r"\(([^()]*)\)")
#: A hull-number marker written before a number (``No.3``, ``NO 1``, ``Nr. 6``, ``No15``, ``№ 2``, ``#3``).
_HULL_MARKER = re.compile(r"(?:\b(?:NO|NR|NUM|NUMBER)|[№#])\s*\.?\s*(?=\d)", re.IGNORECASE)
#: The Korean counter 호 (號, "number") after a number: ``금은산 3호`` is hull No. 3.
_KOREAN_HULL = re.compile(r"(\d)\s*호")
#: Connectives dropped from organisation names (``TRADING & SHIPPING`` = ``TRADING AND SHIPPING``).
CONNECTIVES = frozenset(["AND"])
#: rigour symbol categories whose members are spellings of one word (``TRDG`` ~ ``TRADING``).
_SYMBOL = "SYMBOL"
#: ... and categories whose members are related words (``MARINE`` ~ ``MARITIME``); a word is
#: written as such a symbol only when one is an abbreviation of the other (``SHPG`` ~ ``SHIPPING``).
_DOMAIN = "DOMAIN"
_DIGITS_LETTERS = re.compile(r"(?<=\d)(?=[A-Z])|(?<=[A-Z])(?=\d)")


@dataclass(frozen=True, slots=True)
class NameForm:
    """A normalised name.

    Attributes
    ----------
    original:
        The name as given.
    tokens:
        Upper-case ASCII words without legal forms (numbers as digits).
    korean:
        The Korean comparison key of ``tokens`` (:mod:`tumen.screen.korean`).
    numbers:
        The numeric tokens, in order.
    plain:
        ``tokens`` with the words as written, before :func:`org_word` (equal to
        ``tokens`` for vessels and people): a name written without a space
        (``STARSINTERNATIONAL``) or with a typo in a symbol word (``STTATE``) compares
        with the listed words as written.
    """

    original: str
    tokens: tuple[str, ...]
    korean: tuple[str, ...]
    numbers: tuple[str, ...]
    plain: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def joined(self) -> str:
        return "".join(self.tokens)


def _ascii(text: str) -> str:
    if has_hangul(text):
        text = romanise_hangul(text)
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        for form in CHINESE_LEGAL_FORMS:
            text = text.replace(form, " ")
        text = "".join(f" {ch} " if "\u4e00" <= ch <= "\u9fff" else ch for ch in text)
    if text.isascii():
        return text
    # BGN/PCGN writes Х as KH (as the OFAC list does); rigour's transliteration gives H
    text = text.replace("Х", "Kh").replace("х", "kh")
    return ascii_text(text)


def _category(symbol: Any) -> str:
    return str(symbol.category).rsplit(".", 1)[-1]


def _is_abbreviation(short: str, long: str) -> bool:
    """``short`` is ``long`` with letters left out, same first letter (``SHPG`` of ``SHIPPING``)."""
    if not short or not long or short[0] != long[0] or len(short) > len(long):
        return False
    it = iter(long)
    return all(ch in it for ch in short)


@lru_cache(maxsize=100_000)
def org_word(word: str) -> str:
    """The comparable spelling of one upper-case word of an organisation name.

    rigour's organisation-name tagger (``rigour.names.analyze_names``, the tables behind
    nomenklatura's logic-v2 symbol matching) files spellings of one word under one
    symbol: ``TRADING``, ``TRADE`` and ``TRDG`` are ``TRADE``; ``INTERNATIONAL``, ``INTL``
    and ``INT'L`` are ``INTL``; ``MANAGEMENT``, ``MGMT``, ``MGT`` are ``MGMT``; ``CORP``
    and ``CORPORATION`` are ``CORP`` (also translations: ``TICARET``, ``GRUPO``).  Words
    of a *domain* symbol are related words rather than spellings (``MARINE`` and
    ``MARITIME``, ``OIL`` and ``PETROLEUM``), so a domain symbol is used only when word
    and symbol are one word (one abbreviates the other: ``SHPG`` → ``SHIPPING``,
    ``TECHNOLOGY`` → ``TECH``).  Of several symbols the
    one so related to the word is taken (``NATIONAL`` → ``NATL``).  Other words come back
    as given.

    >>> [org_word(w) for w in ["TRDG", "INTL", "SHPG", "MARINE", "KOREA"]]
    ['TRADE', 'INTL', 'SHIPPING', 'MARINE', 'KOREA']
    """
    if len(word) < 2 or word.isdigit():
        return word
    related: list[str] = []
    other: list[str] = []
    for nm in analyze_names(
        NameTypeTag.ORG, [word], phonetics=False, numerics=False, consolidate=False, rewrite=False
    ):
        for span in nm.spans:
            if len(span.parts) != 1:
                continue
            sid, cat = str(span.symbol.id).upper(), _category(span.symbol)
            if (cat == _SYMBOL and _related(word, sid)) or (
                cat == _DOMAIN and (_is_abbreviation(word, sid) or _is_abbreviation(sid, word))
            ):
                related.append(sid)
            elif cat == _SYMBOL:
                other.append(sid)
    found = related or other
    return max(found, key=lambda x: (len(x), x)) if found else word


def _related(a: str, b: str) -> bool:
    """One word abbreviates the other, or both start alike (``TRADE``, ``TRADING``)."""
    if a == b or _is_abbreviation(a, b) or _is_abbreviation(b, a):
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4


@lru_cache(maxsize=50_000)
def _is_qualifier(part: str) -> bool:
    """Whether every word of a parenthesised part is a place, legal form or generic word."""
    names = analyze_names(
        NameTypeTag.ORG, [part], phonetics=False, numerics=False, consolidate=False
    )
    if not names:
        return True
    for nm in names:
        covered = {id(p) for span in nm.spans for p in span.parts}
        if any(id(p) not in covered and p.form.upper() not in GENERIC_WORDS for p in nm.parts):
            return False
    return True


def name_variants(name: str, *, parts: bool = True) -> list[tuple[str, str]]:
    """The names to compare for one written name, each with how it was made.

    ``("full", name)`` — the name without its parenthesised parts; ``("inline", ...)``
    — the name with the parentheses dropped and their words kept (only when there
    are parentheses); ``("part", ...)`` — with ``parts``, each parenthesised part of
    five letters or more that is not only a place, a legal form or generic words.

    >>> name_variants("HONGXIANG MARINE (HONG KONG) LIMITED")
    [('full', 'HONGXIANG MARINE LIMITED'), ('inline', 'HONGXIANG MARINE HONG KONG LIMITED')]
    >>> name_variants("KOREA TAESONG TRADING COMPANY (TAESONG)")[-1]
    ('part', 'TAESONG')
    """
    if "(" not in name:
        return [("full", name.strip())] if name.strip() else []
    base = " ".join(_PAREN.sub(" ", name).split())
    inline = " ".join(name.replace("(", " ").replace(")", " ").split())
    out = [("full", base), ("inline", inline)]
    if parts:
        for p in _PAREN.findall(name):
            p = p.strip()
            if len(re.sub(r"\W", "", p)) >= 5 and not _is_qualifier(p):
                out.append(("part", p))
    seen: set[str] = set()
    kept = []
    for how, text in out:
        if text and text not in seen:
            seen.add(text)
            kept.append((how, text))
    return kept


def split_variants(name: str) -> list[str]:
    """The texts of :func:`name_variants` (list side: parenthesised parts included)."""
    return [text for _, text in name_variants(name)]


@lru_cache(maxsize=200_000)
def normalise(name: str, kind: str = "any") -> NameForm:
    """Normalise one name (``kind``: ``person``, ``organization``, ``vessel`` or ``any``)."""
    # hull-number markers go before transliteration (호 is Hangul); people have none
    name_in = name if kind == "person" else _HULL_MARKER.sub(" ", _KOREAN_HULL.sub(r"\1 ", name))
    text = _ascii(name_in).replace("&", " AND ").replace("'", "").replace("’", "").replace("`", "")
    text = _PUNCT.sub(" ", text).upper()
    text = _DIGITS_LETTERS.sub(" ", text) if kind == "vessel" else text
    if kind == "vessel":
        stripped = remove_obj_prefixes(text.lower())
        text = stripped.upper() if stripped.strip() else text
    elif kind != "person":
        low = _LEGAL_PHRASES.sub(" ", text)
        low = remove_obj_prefixes(low.lower()) if kind == "any" else low.lower()
        stripped = remove_org_types(low, replacement=" ")
        if stripped.strip():
            text = stripped.upper()
    raw_tokens = text.split()
    tokens = [ROMAN.get(t, t) for t in raw_tokens]
    if kind == "vessel" and len(tokens) > 1 and tokens[-1] in _LAST_ROMAN:
        tokens[-1] = _LAST_ROMAN[tokens[-1]]
    plain = tokens
    if kind not in ("person", "vessel"):
        plain = [t for t in tokens if t not in CONNECTIVES] or tokens
        words = [org_word(t) for t in plain]
        plain = [t for t in plain if t not in GENERIC_WORDS] or plain
        tokens = [t for t in words if t not in GENERIC_WORDS] or words
    numbers = tuple(t for t in tokens if t.isdigit())
    toks = tuple(tokens)
    return NameForm(name, toks, fold_tokens(toks), numbers, tuple(plain))
