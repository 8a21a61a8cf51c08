"""A labelled evaluation set for screening, generated (seeded) from the real lists.

:func:`generate` draws list entries from the loaded lists (a :class:`ScreenIndex`)
and writes queries of two kinds:

**True variants** of a listed vessel, company or person name, each labelled with the
entries it must find (the drawn entry, plus entries of other lists that carry the
same name or IMO number):

``exact``, ``case``          the name as listed, or in other letter case;
``spacing``                  spaces removed or added inside a word (``KUMUNSAN 3``);
``typo``                     one random edit (substitution, deletion, insertion,
                             transposition) in a word of five letters or more;
``punctuation``              hyphens/commas/dots replaced or dropped, ``M/V`` prefix;
``legal_form``               legal form removed or replaced (``LLC`` → ``OOO``, ``Co., Ltd``);
``word_order``               person names in the other order (family name last/first);
``previous_name``            a former name of a vessel or company (``f.k.a.``);
``south_korean``             a DPRK-romanised Korean name in South Korean spellings
                             (``RI`` → ``LEE``, ``PAK`` → ``PARK``, ``CHOL`` → ``CHEOL``, ...);
``mccune_reischauer``        with McCune–Reischauer diacritics and hyphenated given names;
``cyrillic``                 a Russian-program name written in Cyrillic;
``roman_numeral``            ``SPARTA IV`` ↔ ``SPARTA 4``.

**Hard negatives** — real-looking names that are not on the lists:

``number_changed``           a listed vessel name with a number no listed name of that
                             base carries (``KUM UN SAN 7``);
``word_replaced``            a listed vessel or company name with one word replaced by a
                             word of another listed name (``KOREA MINING SHIPPING``);
``extra_word``               a word of another vessel name put before a listed vessel name
                             (as ``SASCO ANGARA`` is another ship than ``ANGARA``);
``korean_person``            a Korean name (surname + two given syllables from the lists)
                             that differs from every listed Korean name in a whole syllable;
``person_replaced``          a listed person's name with the last word taken from another person.

A negative is kept only if its normalised words (and Korean keys) neither equal, contain
nor are contained in any listed name's (``extra_word`` excepted, by design).
The generator's own spelling tables are written independently of
:mod:`tumen.screen.korean` (from the romanisation standards), so the evaluation does
not simply replay the matcher's table.

:func:`generate_user_written` makes a second set: names as users write them (hull-number
markers, abbreviated company words, a place in parentheses with "Limited", word order,
Korean romanisation), each with near misses written the same way.

:func:`evaluate` scores a set with :func:`~tumen.screen.match.screen_query` and with
plain rapidfuzz ``token_sort_ratio`` (best threshold), in the same run.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tumen.screen.index import ScreenIndex
from tumen.screen.names import name_variants, normalise

#: South Korean / popular spellings of DPRK-romanised words (generator's own table).
SOUTH = {
    "RI": ["LEE", "YI", "RHEE"],
    "PAK": ["PARK", "BAK"],
    "CHOE": ["CHOI"],
    "JONG": ["JEONG", "CHUNG", "JUNG"],
    "O": ["OH"],
    "KIM": ["KIM", "GIM"],
    "RIM": ["LIM", "IM"],
    "RYU": ["YOO", "YU"],
    "YUN": ["YOON"],
    "MUN": ["MOON"],
    "SIN": ["SHIN"],
    "CHOL": ["CHEOL", "CHUL"],
    "SONG": ["SEONG", "SUNG"],
    "YONG": ["YEONG", "YOUNG"],
    "MYONG": ["MYEONG", "MYUNG"],
    "HYON": ["HYEON", "HYUN"],
    "KYONG": ["GYEONG", "KYUNG"],
    "SOK": ["SEOK", "SUK"],
    "HYOK": ["HYEOK", "HYUK"],
    "UN": ["EUN"],
    "KWANG": ["GWANG"],
    "KUK": ["GUK"],
    "CHON": ["JEON", "CHUN"],
    "CHANG": ["JANG"],
    "KANG": ["GANG"],
    "TONG": ["DONG"],
    "PONG": ["BONG"],
    "TAE": ["DAE"],
    "KIL": ["GIL"],
    "KU": ["GU", "KOO"],
    "SU": ["SOO"],
    "HUN": ["HOON"],
    "JU": ["JOO"],
    "CHU": ["JU", "JOO"],
    "TOK": ["DEOK"],
    "PYONG": ["BYEONG"],
    "SONGHAK": ["SEONGHAK"],
    "RYONG": ["RYEONG", "YONG"],
    "HO": ["HO"],
    "NAM": ["NAM"],
    "IL": ["IL"],
}
#: DPRK words that McCune–Reischauer writes with a breve (ŏ / ŭ).
MR = {
    "CHOL": "Ch'ŏl",
    "SONG": "Sŏng",
    "YONG": "Yŏng",
    "MYONG": "Myŏng",
    "HYON": "Hyŏn",
    "KYONG": "Kyŏng",
    "SOK": "Sŏk",
    "HYOK": "Hyŏk",
    "UN": "Ŭn",
    "CHON": "Chŏn",
    "CHOE": "Ch'oe",
    "PYONG": "P'yŏng",
    "TOK": "Tŏk",
    "JONG": "Chŏng",
    "RYONG": "Ryŏng",
}
LEGAL_SWAPS = {
    "LLC": ["OOO", "Limited Liability Company", ""],
    "CO LTD": ["Company Limited", "Co., Ltd.", ""],
    "COMPANY LIMITED": ["Co Ltd", ""],
    "LIMITED": ["Ltd", ""],
    "CORPORATION": ["Corp", ""],
    "OOO": ["LLC", ""],
    "AO": ["JSC", ""],
    "COMPANY": ["Co.", ""],
    "CO": ["Company", ""],
    "JSC": ["AO", "Joint Stock Company", ""],
    "LTD": ["Limited", ""],
}
CYR = [
    ("SHCH", "Щ"),
    ("SH", "Ш"),
    ("CH", "Ч"),
    ("ZH", "Ж"),
    ("KH", "Х"),
    ("TS", "Ц"),
    ("YU", "Ю"),
    ("YA", "Я"),
    ("YE", "Е"),
    ("YO", "Ё"),
    ("A", "А"),
    ("B", "Б"),
    ("V", "В"),
    ("G", "Г"),
    ("D", "Д"),
    ("E", "Е"),
    ("Z", "З"),
    ("I", "И"),
    ("Y", "Й"),
    ("K", "К"),
    ("L", "Л"),
    ("M", "М"),
    ("N", "Н"),
    ("O", "О"),
    ("P", "П"),
    ("R", "Р"),
    ("S", "С"),
    ("T", "Т"),
    ("U", "У"),
    ("F", "Ф"),
    ("C", "К"),
    ("H", "Х"),
    ("W", "В"),
    ("X", "КС"),
    ("J", "Дж"),
    ("Q", "К"),
]
ENGLISH_LEGAL = {
    "LLC",
    "OOO",
    "JSC",
    "AO",
    "PJSC",
    "OJSC",
    "CJSC",
    "LIMITED",
    "LIABILITY",
    "COMPANY",
    "JOINT",
    "STOCK",
    "OPEN",
    "CLOSED",
    "PUBLIC",
    "CO",
    "LTD",
    "ADDITIONAL",
    "PAO",
    "ZAO",
    "OAO",
    "CORPORATION",
    "CORP",
    "INCORPORATED",
    "INC",
    "SPOL",
    "SRO",
    "OBSHCHESTVO",
    "OGRANICHENNOI",
    "OGRANICHENNOY",
    "OTVETSTVENNOSTYU",
    "AKTSIONERNOE",
    "PRIVATE",
}
#: Letters and pairs that BGN/PCGN romanisation of Russian never writes: names with them are
#: English (or other) words, which have no faithful Cyrillic spelling to test against.
NOT_RUSSIAN = re.compile(r"[WQXC]|TH|OO|EE|PH")
ROMAN = {"2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII", "8": "VIII"}


@dataclass
class Query:
    """One labelled query."""

    qid: str
    name: str
    type: str
    positive: bool
    variant: str
    expected: set[str] = field(default_factory=set)
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "name": self.name,
            "type": self.type,
            "positive": self.positive,
            "variant": self.variant,
            "expected": sorted(self.expected),
            "source": self.source,
        }


def _to_cyrillic(text: str) -> str:
    """Latin (BGN/PCGN-like, as OFAC writes Russian names) → Cyrillic, letter by letter."""
    out, i, up = [], 0, text.upper()
    while i < len(up):
        if up[i] == "H" and i and up[i - 1] not in "KZSC" and up[i - 1] not in "AEIOUY":
            i += 1  # JOHN → Джон: an H after a consonant is silent
            continue
        if up[i] == "Y" and not any(up.startswith(p, i) for p in ("YA", "YU", "YE", "YO")):
            prev = up[i - 1] if i else ""
            out.append("Й" if (not prev or prev in "AEIOU") else "Ы")
            i += 1
            continue
        for lat, cyr in CYR:
            if up.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            out.append(up[i])
            i += 1
    return "".join(out).capitalize()


def _typo(rng: random.Random, name: str) -> str | None:
    words = name.split()
    idx = [
        i
        for i, w in enumerate(words)
        if len(w) >= 5 and w.isalpha() and w.upper() not in ENGLISH_LEGAL
    ]
    if not idx:
        return None
    i = rng.choice(idx)
    w = list(words[i])
    pos = rng.randrange(1, len(w) - 1)
    op = rng.choice(["sub", "del", "ins", "swap"])
    letters = "AEIOUNRSTLK" if w[pos].isupper() else "aeiounrstlk"
    if op == "sub":
        w[pos] = rng.choice([c for c in letters if c != w[pos]])
    elif op == "del":
        del w[pos]
    elif op == "ins":
        w.insert(pos, rng.choice(letters))
    else:
        w[pos], w[pos + 1 if pos + 1 < len(w) else pos - 1] = (
            w[pos + 1 if pos + 1 < len(w) else pos - 1],
            w[pos],
        )
    words[i] = "".join(w)
    out = " ".join(words)
    return out if out != name else None


def _korean_words(name: str) -> list[str]:
    return re.sub(r"[-,]", " ", name).upper().split()


def generate(
    index: ScreenIndex, n_positive: int = 600, n_negative: int = 600, seed: int = 0
) -> list[Query]:
    """Generate a labelled evaluation set from the entries of ``index`` (see the module docstring)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(index.entries):
        if e.kind in ("vessel", "company", "person"):
            by_kind[e.kind].append(i)
    names_of: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for nm in index.names:
        names_of[nm.entry].append((nm.prop, nm.form.original))
    same_name: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for nm in index.names:
        same_name[nm.form.tokens].add(index.entries[nm.entry].entity_id)
    listed_tokens = set(same_name)
    imo_ids: dict[str, set[str]] = defaultdict(set)
    for e in index.entries:
        for imo in e.imos:
            imo_ids[imo].add(e.entity_id)

    def expected(i: int, name: str) -> set[str]:
        e = index.entries[i]
        out = {e.entity_id} | same_name.get(normalise(name).tokens, set())
        for imo in e.imos:
            out |= imo_ids[imo]
        return out

    korean_by_kind = {k: [i for i in v if index.entries[i].korean] for k, v in by_kind.items()}
    queries: list[Query] = []
    kinds = ["vessel"] * 4 + ["company"] * 3 + ["person"] * 3
    attempts = 0
    while sum(q.positive for q in queries) < n_positive and attempts < n_positive * 50:
        attempts += 1
        kind = rng.choice(kinds)
        pool = by_kind[kind]
        # half of the draws from entries with a Korean or Russian context (the region watched)
        i = rng.choice(pool)
        korean_pool = korean_by_kind.get(kind, [])
        if kind in ("person", "company") and korean_pool and rng.random() < 0.35:
            i = rng.choice(korean_pool)
        elif rng.random() < 0.5:
            focus = [
                j
                for j in rng.sample(pool, min(len(pool), 40))
                if index.entries[j].korean or any("RUSSIA" in p for p in index.entries[j].programs)
            ]
            if focus:
                i = rng.choice(focus)
        e = index.entries[i]
        primary = [n for p, n in names_of[i] if p == "name"]
        if not primary:
            continue
        base = primary[0]
        variant, text = _variant(rng, kind, e, base, names_of[i])
        if not text or not normalise(text).tokens:
            continue
        queries.append(
            Query(f"p{len(queries)}", text, kind, True, variant, expected(i, base), e.entity_id)
        )
    # ---------------------------------------------------------------- negatives
    words_by_kind: dict[str, list[list[str]]] = defaultdict(list)
    for nm in index.names:
        k = index.entries[nm.entry].kind
        if nm.prop in ("name", "alias"):
            words_by_kind[k].append(list(nm.form.plain or nm.form.tokens))  # words as listed
    korean_people = [
        list(nm.form.tokens)
        for nm in index.names
        if index.entries[nm.entry].kind == "person"
        and index.entries[nm.entry].korean
        and len(nm.form.tokens) == 3
    ]
    listed_korean = {tuple(sorted(normalise(" ".join(t), "person").korean)) for t in korean_people}
    surnames = sorted({t[0] for t in korean_people})
    given = sorted({g for t in korean_people for g in t[1:]})
    token_sets: dict[str, list[frozenset[str]]] = defaultdict(list)
    for nm in index.names:
        for key in {nm.form.tokens, nm.form.korean}:
            fs = frozenset(key)
            for t in key:
                token_sets[t].append(fs)

    def overlaps_listed(form: Any) -> bool:
        """Whether the words (or Korean keys) equal, contain or are contained in a listed name's."""
        for key in (form.tokens, form.korean):
            mine = frozenset(key)
            for t in key:
                for other in token_sets.get(t, ()):
                    if other <= mine or mine <= other:
                        return True
        return False

    negatives: list[Query] = []
    tries = 0
    while len(negatives) < n_negative and tries < n_negative * 200:
        tries += 1
        r = rng.random()
        superset_ok = False
        if r < 0.25:
            kind, variant = "vessel", "number_changed"
            cands = [w for w in words_by_kind["vessel"] if any(t.isdigit() for t in w)]
            w = list(rng.choice(cands))
            pos = [k for k, t in enumerate(w) if t.isdigit()][-1]
            w[pos] = str(int(w[pos]) + rng.choice([1, 2, 3, 5, 7, 10, 11]))
            text = " ".join(w)
        elif r < 0.5:
            kind = rng.choice(["vessel", "company"])
            variant = "word_replaced"
            a, b = list(rng.choice(words_by_kind[kind])), rng.choice(words_by_kind[kind])
            spots = [k for k, t in enumerate(a) if not t.isdigit()]
            fresh = [t for t in b if t not in a and not t.isdigit()]
            if len(a) < 2 or not spots or not fresh:
                continue
            a[rng.choice(spots)] = rng.choice(fresh)
            text = " ".join(a)
        elif r < 0.58:
            kind, variant, superset_ok = "vessel", "extra_word", True
            a, b = rng.choice(words_by_kind["vessel"]), rng.choice(words_by_kind["vessel"])
            fresh = [t for t in b if t not in a and not t.isdigit() and len(t) >= 3]
            if not fresh:
                continue
            text = " ".join([rng.choice(fresh), *a])
        elif r < 0.85 and surnames:
            kind, variant = "person", "korean_person"
            text = f"{rng.choice(surnames)} {rng.choice(given)} {rng.choice(given)}"
            if tuple(sorted(normalise(text, "person").korean)) in listed_korean:
                continue
        else:
            kind, variant = "person", "person_replaced"
            a, b = rng.choice(words_by_kind["person"]), rng.choice(words_by_kind["person"])
            if len(a) < 2 or len(b) < 2 or b[-1] in a:
                continue
            text = " ".join(a[:-1] + b[-1:])
        form = normalise(text, {"company": "organization"}.get(kind, kind))
        if not form.tokens or form.tokens in listed_tokens:
            continue
        if not superset_ok and overlaps_listed(form):
            continue
        if any(q.name == text for q in negatives):
            continue
        negatives.append(Query(f"n{len(negatives)}", text, kind, False, variant, set(), ""))
    return queries + negatives


def _variant(
    rng: random.Random, kind: str, e: Any, base: str, names: list[tuple[str, str]]
) -> tuple[str, str | None]:
    options = ["exact", "case", "spacing", "typo", "punctuation"]
    prev = [n for p, n in names if p == "previousName"]
    if prev:
        options += ["previous_name"] * 2
    if kind == "company":
        options += ["legal_form"] * 2
    if kind == "person":
        options += ["word_order"]
    if e.korean and kind in ("person", "company"):
        options += ["south_korean"] * 8 + ["mccune_reischauer"] * 5
    core_words = [w for w in re.sub(r"[-,.']", " ", base).upper().split() if w not in ENGLISH_LEGAL]
    if (
        any("RUSSIA" in p for p in e.programs)
        and kind in ("company", "person", "vessel")
        and core_words
        and not NOT_RUSSIAN.search(" ".join(core_words))
    ):
        options += ["cyrillic"] * 2
    if kind == "vessel" and re.search(r"\b(\d|II|III|IV|V|VI|VII|VIII)\b", base):
        options += ["roman_numeral"]
    variant = rng.choice(options)
    text: str | None = base
    words = base.replace(",", "").split()
    if variant == "case":
        text = base.title() if base.isupper() else base.upper()
    elif variant == "spacing":
        joinable = [
            k
            for k in range(len(words) - 1)
            if words[k].upper() not in ENGLISH_LEGAL and words[k + 1].upper() not in ENGLISH_LEGAL
        ]
        if joinable and rng.random() < 0.6:
            k = rng.choice(joinable)
            text = " ".join(words[:k] + [words[k] + words[k + 1]] + words[k + 2 :])
        else:
            long = [
                k
                for k, w in enumerate(words)
                if len(w) >= 6 and w.isalpha() and w.upper() not in ENGLISH_LEGAL
            ]
            if not long:
                return variant, None
            k = rng.choice(long)
            cut = rng.randrange(3, len(words[k]) - 2)
            text = " ".join(words[:k] + [words[k][:cut], words[k][cut:]] + words[k + 1 :])
    elif variant == "typo":
        text = _typo(rng, base)
    elif variant == "punctuation":
        text = (
            re.sub(r"[-.,]", " ", base)
            if re.search(r"[-.,]", base)
            else ("M/V " + base if kind == "vessel" else base.replace(" ", "-", 1))
        )
    elif variant == "previous_name":
        text = rng.choice(prev)
    elif variant == "legal_form":
        up = " " + re.sub(r"[.,]", "", base.upper()) + " "
        for form, repl in LEGAL_SWAPS.items():
            if f" {form} " in up:
                text = up.replace(f" {form} ", f" {rng.choice(repl)} ").strip()
                break
        else:
            text = base + rng.choice([" LLC", " Co., Ltd.", " Limited"])
    elif variant == "word_order":
        if "," in base:
            last, first = base.split(",", 1)
            text = f"{first.strip()} {last.strip()}"
        elif len(words) > 1:
            text = " ".join(words[1:] + words[:1])
    elif variant == "south_korean":
        ws = _korean_words(base)
        changed = [rng.choice(SOUTH[w]) if w in SOUTH and rng.random() < 0.8 else w for w in ws]
        if changed == ws:
            return variant, None
        text = " ".join(changed).title()
    elif variant == "mccune_reischauer":
        ws = _korean_words(base)
        out = [MR.get(w, w.title()) for w in ws]
        if len(out) == 3 and kind == "person":
            text = f"{out[0]} {out[1]}-{out[2].lower()}"
        else:
            text = " ".join(out)
        if text.upper() == base.upper():
            return variant, None
    elif variant == "cyrillic":
        core = [w for w in re.sub(r"[-,.']", " ", base).upper().split() if w not in ENGLISH_LEGAL]
        if not core:
            return variant, None
        text = " ".join(_to_cyrillic(w) if w.isalpha() else w for w in core)
        if kind == "company":
            text = rng.choice(["ООО ", "АО ", "ПАО ", ""]) + text
    elif variant == "roman_numeral":
        m = re.search(r"\b(\d)\b", base)
        if m and m.group(1) in ROMAN:
            text = base[: m.start()] + ROMAN[m.group(1)] + base[m.end() :]
        else:
            inv = {v: k for k, v in ROMAN.items()}
            text = " ".join(inv.get(w, w) for w in words)
    return variant, text


# --------------------------------------------------------------------------- written by users
#: How people abbreviate company words (the generator's own table, as written in trade
#: registers and shipping databases; the matcher takes its spellings from rigour).
ABBREVIATIONS = {
    "TRADING": ["TRDG", "Trdg."],
    "INTERNATIONAL": ["INTL", "Int'l", "Intl."],
    "MANAGEMENT": ["MGMT", "Mgmt."],
    "SHIPPING": ["SHPG", "Shpg."],
    "CORPORATION": ["CORP", "Corp."],
    "COMPANY": ["CO", "Co."],
    "LIMITED": ["LTD", "Ltd."],
    "AND": ["&"],
    "&": ["and", "AND"],
    "HOLDINGS": ["HLDGS"],
    "GROUP": ["GRP"],
    "DEVELOPMENT": ["DEV"],
    "BROTHERS": ["BROS"],
    "SERVICES": ["SVCS"],
}
#: Hull-number markers people write before a vessel's number (``{n}`` is the number).
HULL_MARKERS = ["No.{n}", "NO {n}", "No. {n}", "Nr. {n}", "#{n}", "No{n}", "{n}호"]
#: Places companies carry in their names (written in parentheses by registers).
PLACES = [
    "HONG KONG",
    "HONGKONG",
    "SINGAPORE",
    "DALIAN",
    "SHANGHAI",
    "SHENZHEN",
    "CHINA",
    "KOREA",
    "RUSSIA",
    "UAE",
    "DUBAI",
    "MALAYSIA",
    "THAILAND",
    "TAIWAN",
    "CYPRUS",
    "ASIA",
    "FZE",
]
_LEGAL_TAIL = re.compile(
    r"(?:\s*,?\s*(?:CO\.?|COMPANY)?\s*,?\s*(?:LTD\.?|LIMITED|LLC|FZE|INC\.?))+\s*$", re.I
)
_TRAILING_NUMBER = re.compile(r"^(.*\D)\s+(\d{1,3})$")


class _Truth:
    """What the lists say about a written name: the entries it must find, and whether
    a made-up name touches a listed one (equal, contained or containing words)."""

    def __init__(self, index: ScreenIndex) -> None:
        self.index = index
        self.same_name: dict[tuple[str, ...], set[str]] = defaultdict(set)
        self.token_sets: dict[str, list[frozenset[str]]] = defaultdict(list)
        self.imo_ids: dict[str, set[str]] = defaultdict(set)
        for nm in index.names:
            self.same_name[nm.form.tokens].add(index.entries[nm.entry].entity_id)
            for key in {nm.form.tokens, nm.form.korean}:
                fs = frozenset(key)
                for t in key:
                    self.token_sets[t].append(fs)
        for e in index.entries:
            for imo in e.imos:
                self.imo_ids[imo].add(e.entity_id)

    def expected(self, i: int, name: str) -> set[str]:
        e = self.index.entries[i]
        out = {e.entity_id} | self.same_name.get(normalise(name).tokens, set())
        for imo in e.imos:
            out |= self.imo_ids[imo]
        return out

    def touches_listed(self, text: str, kind: str) -> bool:
        """Whether any way the screener reads ``text`` (with and without its parentheses)
        has the words of a listed name, or words a listed name contains, or none."""
        for _, variant in name_variants(text, parts=False):
            form = normalise(variant, {"company": "organization"}.get(kind, kind))
            if not form.tokens:
                return True
            for key in (form.tokens, form.korean):
                mine = frozenset(key)
                for t in key:
                    for other in self.token_sets.get(t, ()):
                        if other <= mine or mine <= other:
                            return True
        return False


def _abbreviate(rng: random.Random, name: str) -> str | None:
    words = name.replace(",", " ").split()
    spots = [k for k, w in enumerate(words) if w.upper().rstrip(".") in ABBREVIATIONS]
    if not spots:
        return None
    for k in spots:
        if k == spots[0] or rng.random() < 0.7:
            words[k] = rng.choice(ABBREVIATIONS[words[k].upper().rstrip(".")])
    return " ".join(words)


def _place_in_parentheses(rng: random.Random, name: str) -> str | None:
    """``X MARINE HONG KONG LTD`` → ``X Marine (Hong Kong) Limited``."""
    up = name.upper().replace(",", " ")
    core = _LEGAL_TAIL.sub("", up).strip()
    for place in PLACES:
        if core.endswith(" " + place) and len(core) > len(place) + 3:
            head = core[: -len(place)].strip()
            tail = rng.choice(["Limited", "Co., Limited", "Company Limited", "Ltd."])
            return f"{head.title()} ({place.title()}) {tail}"
    return None


def generate_user_written(
    index: ScreenIndex, n_positive: int = 200, n_negative: int = 200, seed: int = 0
) -> list[Query]:
    """Names as users write them, from real list entries (see ``bench/screen_eval.py``).

    Positives (labelled with the entries they must find):

    ``hull_marker``        a listed vessel ``NAME 3`` written ``NAME No.3``, ``NO 3``,
                           ``Nr. 3``, ``#3``, ``3호`` ...;
    ``abbreviation``       a listed company with TRADING, INTERNATIONAL, MANAGEMENT,
                           SHIPPING, CORPORATION, COMPANY, LIMITED, AND abbreviated;
    ``paren_limited``      a listed company ending in a place and a legal form written
                           with the place in parentheses and "Limited";
    ``word_order``         a listed person's name in the other order;
    ``romanisation``       a DPRK-romanised Korean name in South Korean or
                           McCune–Reischauer spelling.

    Negatives (near misses; each touches no listed name): the same writings of a listed
    name whose number (vessels) or distinctive word (companies, people) was replaced by
    one no listed name of that form carries.
    """
    rng = random.Random(seed)
    truth = _Truth(index)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(index.entries):
        by_kind[e.kind].append(i)
    primary: dict[int, str] = {}
    for nm in index.names:
        if nm.prop == "name" and nm.how == "full":
            primary.setdefault(nm.entry, nm.listed or nm.form.original)
    numbered = [i for i in by_kind["vessel"] if i in primary and _TRAILING_NUMBER.match(primary[i])]
    abbreviable = [
        i
        for i in by_kind["company"]
        if i in primary
        and any(
            w.upper().rstrip(".") in ABBREVIATIONS for w in primary[i].replace(",", " ").split()
        )
    ]
    placed = [
        i for i in by_kind["company"] if i in primary and _place_in_parentheses(rng, primary[i])
    ]
    korean_people = [i for i in by_kind["person"] if i in primary and index.entries[i].korean]
    korean_named = [
        i
        for i in by_kind["company"] + by_kind["vessel"]
        if i in primary and index.entries[i].korean
    ]
    people = [i for i in by_kind["person"] if i in primary and len(primary[i].split()) > 1]
    company_words = sorted(
        {
            t
            for nm in index.names
            if index.entries[nm.entry].kind == "company"
            for t in nm.form.tokens
            if len(t) >= 4 and t.isalpha()
        }
    )
    person_words = sorted(
        {t for i in korean_people for t in normalise(primary[i], "person").tokens}
    )

    def write(variant: str, i: int, base: str) -> str | None:
        if variant == "hull_marker":
            m = _TRAILING_NUMBER.match(base)
            if not m:
                return None
            return f"{m.group(1).strip()} {rng.choice(HULL_MARKERS).format(n=m.group(2))}"
        if variant == "abbreviation":
            return _abbreviate(rng, base)
        if variant == "paren_limited":
            return _place_in_parentheses(rng, base)
        if variant == "word_order":
            if "," in base:
                last, first = base.split(",", 1)
                return f"{first.strip()} {last.strip()}"
            words = base.split()
            return " ".join(words[1:] + words[:1]) if len(words) > 1 else None
        if variant == "romanisation":
            ws = _korean_words(base)
            if rng.random() < 0.6:
                out = [rng.choice(SOUTH[w]) if w in SOUTH else w for w in ws]
                text = " ".join(out).title()
            else:
                text = " ".join(MR.get(w, w.title()) for w in ws)
            return text if text.upper() != " ".join(ws) else None
        raise ValueError(variant)

    pools = {
        "hull_marker": numbered,
        "abbreviation": abbreviable,
        "paren_limited": placed,
        "word_order": people,
        "romanisation": korean_people + korean_named,
    }
    kinds = {"hull_marker": "vessel", "abbreviation": "company", "paren_limited": "company"}
    variants = [v for v, pool in pools.items() if pool]
    queries: list[Query] = []
    attempts = 0
    while sum(q.positive for q in queries) < n_positive and attempts < n_positive * 50:
        attempts += 1
        variant = variants[attempts % len(variants)]
        i = rng.choice(pools[variant])
        base = primary[i]
        text = write(variant, i, base)
        if not text or any(q.name == text for q in queries):
            continue
        kind = kinds.get(variant, index.entries[i].kind)
        queries.append(
            Query(
                f"u{len(queries)}",
                text,
                kind,
                True,
                variant,
                truth.expected(i, base),
                index.entries[i].entity_id,
            )
        )
    negatives: list[Query] = []
    tries = 0
    while len(negatives) < n_negative and tries < n_negative * 200:
        tries += 1
        variant = variants[tries % len(variants)]
        i = rng.choice(pools[variant])
        base = primary[i]
        kind = kinds.get(variant, index.entries[i].kind)
        if variant == "hull_marker":
            m = _TRAILING_NUMBER.match(base)
            assert m is not None
            altered = (
                f"{m.group(1).strip()} {int(m.group(2)) + rng.choice([1, 2, 3, 5, 7, 10, 11])}"
            )
        else:
            words = base.replace(",", " ").split()
            pool = person_words if kind == "person" else company_words
            spots = [
                k
                for k, w in enumerate(words)
                if w.isalpha()
                and len(w) >= 3
                and w.upper() not in ABBREVIATIONS
                and w.upper() not in ENGLISH_LEGAL
                and w.upper() not in " ".join(PLACES)
            ]
            if not spots or not pool:
                continue
            words[rng.choice(spots)] = rng.choice(pool)
            altered = " ".join(words)
        if truth.touches_listed(altered, kind):
            continue
        text = write(variant, i, altered)
        if not text or truth.touches_listed(text, kind) or any(q.name == text for q in negatives):
            continue
        negatives.append(Query(f"v{len(negatives)}", text, kind, False, variant, set(), ""))
    return queries + negatives


@dataclass
class EvalResult:
    """Recall and precision of one method on one set."""

    method: str
    threshold: float
    tp: int
    fp: int
    fn: int
    positives: int
    negatives: int
    seconds: float
    by_variant: dict[str, tuple[int, int]] = field(default_factory=dict)  # variant → (right, total)

    @property
    def recall(self) -> float:
        return self.tp / self.positives if self.positives else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if (self.tp + self.fp) else 1.0


def _tally(
    method: str,
    threshold: float,
    queries: list[Query],
    outcomes: list[tuple[bool, bool]],
    seconds: float,
) -> EvalResult:
    """``outcomes[i]`` = (any match over threshold, a right entity among the matches)."""
    tp = fp = fn = 0
    by_variant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q, (matched, right) in zip(queries, outcomes, strict=True):
        ok = right if q.positive else not matched
        by_variant[q.variant][0] += int(ok)
        by_variant[q.variant][1] += 1
        if q.positive:
            if right:
                tp += 1
            else:
                fn += 1
                if matched:
                    fp += 1
        elif matched:
            fp += 1
    pos = sum(q.positive for q in queries)
    return EvalResult(
        method,
        threshold,
        tp,
        fp,
        fn,
        pos,
        len(queries) - pos,
        seconds,
        {k: (v[0], v[1]) for k, v in sorted(by_variant.items())},
    )


def evaluate(index: ScreenIndex, queries: list[Query], threshold: float = 0.7) -> EvalResult:
    """Recall/precision of :func:`~tumen.screen.match.screen_query` at ``threshold``."""
    from tumen.screen.match import screen_query

    t0 = time.perf_counter()
    outcomes = []
    for q in queries:
        found = screen_query(index, q.name, type=q.type, threshold=threshold, limit=5)
        hits = [m for m in found if m.match]
        outcomes.append((bool(hits), any(m.entry.entity_id in q.expected for m in hits)))
    return _tally("tumen screen_query", threshold, queries, outcomes, time.perf_counter() - t0)


def evaluate_rapidfuzz(index: ScreenIndex, queries: list[Query]) -> EvalResult:
    """Plain rapidfuzz ``token_sort_ratio`` (with ``default_process``) against every list name
    of the query's type, at the threshold (0–100) with the best F1 on this set."""
    from rapidfuzz import fuzz, process, utils

    t0 = time.perf_counter()
    by_kind: dict[str, tuple[list[str], list[str]]] = {}
    for kind in ("vessel", "company", "person"):
        names = [
            (nm.form.original, index.entries[nm.entry].entity_id)
            for nm in index.names
            if index.entries[nm.entry].kind == kind
        ]
        by_kind[kind] = ([n for n, _ in names], [i for _, i in names])
    best_scores: list[tuple[float, bool]] = []
    for q in queries:
        choices, ids = by_kind[q.type]
        res = process.extractOne(
            q.name, choices, scorer=fuzz.token_sort_ratio, processor=utils.default_process
        )
        if res is None:
            best_scores.append((0.0, False))
        else:
            best_scores.append((float(res[1]), ids[res[2]] in q.expected))
    seconds = time.perf_counter() - t0
    best: EvalResult | None = None
    for t in range(50, 101):
        outcomes = [(s >= t, s >= t and right) for s, right in best_scores]
        r = _tally("rapidfuzz token_sort_ratio", t / 100, queries, outcomes, seconds)
        f1 = (
            2 * r.precision * r.recall / (r.precision + r.recall) if (r.precision + r.recall) else 0
        )
        if best is None or f1 > 2 * best.precision * best.recall / max(
            best.precision + best.recall, 1e-9
        ):
            best = r
    assert best is not None
    return best
