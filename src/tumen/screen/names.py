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
5. A parenthesised part of five letters or more is a separate name
   (``KOREA TAESONG TRADING COMPANY (TAESONG)``); shorter ones (acronyms such as
   ``(OMM)``) are dropped.

The Korean key of the tokens (:func:`tumen.screen.korean.fold_tokens`) is computed
alongside.

Examples
--------
>>> normalise("OCEAN MARITIME MANAGEMENT COMPANY, LIMITED (OMM)").tokens
('OCEAN', 'MARITIME', 'MANAGEMENT')
>>> normalise("Chŏn Myŏng-hak").tokens
('CHON', 'MYONG', 'HAK')
>>> normalise("SPARTA IV").numbers
('4',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rigour.names import remove_obj_prefixes, remove_org_types
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
    """

    original: str
    tokens: tuple[str, ...]
    korean: tuple[str, ...]
    numbers: tuple[str, ...]

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


def split_variants(name: str) -> list[str]:
    """The name without parentheses, plus each long parenthesised part as a name of its own."""
    extra = [p.strip() for p in _PAREN.findall(name) if len(re.sub(r"\W", "", p)) >= 5]
    base = _PAREN.sub(" ", name).strip()
    return [n for n in [base, *extra] if n]


@lru_cache(maxsize=200_000)
def normalise(name: str, kind: str = "any") -> NameForm:
    """Normalise one name (``kind``: ``person``, ``organization``, ``vessel`` or ``any``)."""
    text = _ascii(name).replace("'", "").replace("’", "").replace("`", "")
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
    if kind not in ("person", "vessel"):
        kept = [t for t in tokens if t not in GENERIC_WORDS]
        tokens = kept or tokens
    numbers = tuple(t for t in tokens if t.isdigit())
    toks = tuple(tokens)
    return NameForm(name, toks, fold_tokens(toks), numbers)
