"""Korean names across romanisations: one comparison key for North and South spellings.

Korean names on the sanctions lists are romanised the North Korean way (the DPRK's
own system, close to McCune–Reischauer without diacritics: ``RI``, ``PAK``,
``CHOE``, ``JONG``, ``O``, ``Chon Myong Hak``), while ship registries, company
filings, news and rigour's transliteration of Hangul follow the South Korean
Revised Romanization of 2000 (``LEE``/``YI``, ``BAK``/``PARK``, ``CHOI``, ``JEONG``,
``OH``, ``Jeon Myeong-hak``) or McCune–Reischauer with diacritics and
apostrophes (``Chŏn Myŏng-hak``, ``Ch'oe``).  Matching needs one key for all of them.

The key of a token is built in three steps:

1. **Spelling rules** (letter level), applied to an upper-case ASCII token with
   diacritics and apostrophes already removed (``Chŏn`` → ``CHON``, ``Ch'oe`` → ``CHOE``):

   ========================  ==========================================================
   ``YEO, EO`` → ``YO, O``   RR ``eo`` = MR ``ŏ`` = North ``o`` (명 MYEONG / MYŎNG / MYONG)
   ``EU`` → ``U``            RR ``eu`` = MR ``ŭ`` = North ``u`` (은 EUN / ŬN / UN)
   ``OO`` → ``U``, ``EE`` → ``I``   popular spellings (MOON, SOO, LEE)
   ``J`` → ``CH``            RR / North ``j`` = MR unaspirated ``ch`` (전 JEON / CHŎN / JON)
   ``G`` → ``K``, ``D`` → ``T``, ``B`` → ``P``   RR voiced initials = MR unaspirated
                             ``k``, ``t``, ``p`` (광 GWANG / KWANG); aspiration marks
                             (``k'``) are dropped, so aspirated and plain stops merge
   ``KK, TT, PP, SS, TCH`` → single   tense consonants
   ``SH`` → ``S``            popular SHIN = 신 SIN
   ========================  ==========================================================

2. **Table of irregular variants** (``data/korean_variants.csv``: kind, canonical
   North form, variants, Hangul, note): surnames whose South spelling is not rule-
   derived (``LEE``/``YI``/``RHEE`` = ``RI``; ``PARK`` = ``PAK``; ``CHOI`` = ``CHOE``;
   ``OH`` = ``O``; ``LIM``/``IM`` = ``RIM``; ``NOH``/``ROH`` = ``RO``; ...) and the
   popular given-name syllables (``CHUL`` = ``CHOL``, ``SUNG`` = ``SONG``, ``YOUNG`` =
   ``YONG``, ``HYUN`` = ``HYON``, ...).  Both columns go through the rules of step 1,
   so the table holds only what the rules cannot derive.

3. **Hangul** input is romanised one syllable at a time with rigour's
   transliteration (Revised Romanization) and each syllable becomes a token, so
   ``전명학`` → ``JEON MYEONG HAG`` → key ``CHON MYONG HAK``.

The key is used only against list entries with a Korean context (a DPRK program,
Korean nationality, country or flag, or a Hangul name), so folding ``G``/``K`` or
``D``/``T`` never merges unrelated Western names.

Sources: McCune & Reischauer (1939), *The Romanization of the Korean Language*;
Ministry of Culture and Tourism (2000), *Romanization of Korean* (Revised
Romanization); DPRK (2002) romanisation, as used in the UN 1718 list.

Examples
--------
>>> fold_tokens(["JON", "MYONG", "HAK"]) == fold_tokens(["CHON", "MYONG", "HAK"])
True
>>> fold_tokens(["LEE", "CHOL", "MIN"])
('RI', 'CHOL', 'MIN')
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

_RULES: tuple[tuple[str, str], ...] = (
    ("YEO", "YO"),
    ("WEO", "WO"),
    ("EO", "O"),
    ("EU", "U"),
    ("OO", "U"),
    ("EE", "I"),
    ("TCH", "CH"),
    ("JJ", "CH"),
    ("J", "CH"),
    ("KK", "K"),
    ("GG", "K"),
    ("G", "K"),
    ("DD", "T"),
    ("TT", "T"),
    ("D", "T"),
    ("BB", "P"),
    ("PP", "P"),
    ("B", "P"),
    ("SS", "S"),
    ("SH", "S"),
)
_RULE_RE = re.compile("|".join(re.escape(a) for a, _ in _RULES))
_RULE_MAP = dict(_RULES)

HANGUL_SYLLABLES = re.compile(r"[\uac00-\ud7a3]+")
#: Korean legal-form words removed before romanisation (주식회사 = joint-stock company, ...).
HANGUL_LEGAL_FORMS = (
    "주식회사",
    "유한회사",
    "합자회사",
    "합명회사",
    "유한책임회사",
    "(주)",
    "㈜",
    "(유)",
)


def spelling_rules(token: str) -> str:
    """Step 1: the letter-level rules on an upper-case ASCII token."""
    return _RULE_RE.sub(lambda m: _RULE_MAP[m.group(0)], token)


@lru_cache(maxsize=1)
def variant_table() -> dict[str, str]:
    """Step 2: folded variant → folded canonical form, from ``data/korean_variants.csv``."""
    table: dict[str, str] = {}
    text = (
        resources.files("tumen.screen")
        .joinpath("data/korean_variants.csv")
        .read_text(encoding="utf-8")
    )
    for row in csv.DictReader(text.splitlines()):
        canonical = spelling_rules(row["canonical"].strip().upper())
        for variant in row["variants"].split(";"):
            v = spelling_rules(variant.strip().upper())
            if v and v != canonical:
                table.setdefault(v, canonical)
    return table


def table_rows() -> list[dict[str, str]]:
    """The documented table itself (kind, canonical, variants, hangul, note)."""
    text = (
        resources.files("tumen.screen")
        .joinpath("data/korean_variants.csv")
        .read_text(encoding="utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """The comparison key of one upper-case ASCII token (steps 1 and 2)."""
    folded = spelling_rules(token)
    return variant_table().get(folded, folded)


def fold_tokens(tokens: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The key of a tokenised name (numbers are kept as they are)."""
    return tuple(t if t.isdigit() else fold_token(t) for t in tokens)


def romanise_hangul(text: str) -> str:
    """Step 3: Hangul syllables → space-separated Revised Romanization syllables (via rigour).

    Legal-form words (주식회사, ...) are removed first.  Other characters are kept.
    """
    from rigour.text.translit import ascii_text

    for form in HANGUL_LEGAL_FORMS:
        text = text.replace(form, " ")
    return HANGUL_SYLLABLES.sub(
        lambda m: " " + " ".join(ascii_text(ch) for ch in m.group(0)) + " ", text
    )


def has_hangul(text: str) -> bool:
    """Whether ``text`` holds Hangul syllables."""
    return HANGUL_SYLLABLES.search(text) is not None
