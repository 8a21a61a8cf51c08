"""Scoring a query against list entries, with the features that explain each score.

The design follows nomenklatura's ``logic-v2`` matcher: a few **main features**
give the evidence for a match, **qualifiers** move the score up or down, and every
feature reports what it compared.  All weights live in :data:`WEIGHTS` below (one
place; change them there and re-run ``bench/screen_eval.py``).

Main features (each in [0, 1] before its weight):

``imo_exact``
    The query's IMO number equals a listed vessel's (both pass the IMO check digit;
    see :func:`tumen.screen.lists.base.imo_ship_valid`).  The hull is the same
    whatever it is called now.
``mmsi_exact`` / ``callsign_exact``
    Same MMSI / call sign as listed.  Weaker: both are reassigned with the flag.
``name_similarity``
    The best similarity of the query name to the entry's names and aliases.
``previous_name``
    The best similarity to a former name (``f.k.a.``; ``previousName``).
``weak_alias``
    The best similarity to a weak alias (OFAC weak a.k.a., UN low-quality alias).

The score is the noisy-OR of the strongest name feature and the identifier
features (independent evidence adds up: ``1 - Π(1 - wᵢ·sᵢ)``), plus the qualifiers:

``imo_mismatch``
    The query and a listed vessel give valid IMO numbers that differ: a different hull
    (an organisation's IMO number is a company number and is not compared).
``mmsi_mismatch``
    Both give an MMSI and they differ (weak: MMSIs change with the flag).
``flag_match`` / ``flag_mismatch``
    The query's flag is / is not among the listed flag and former flags.

The result is clipped to [0, 1]; ``match`` is ``score >= threshold``
(``screen.threshold``, default 0.7).

**Name similarity** compares the normalised words of two names
(:mod:`tumen.screen.names`) with rigour's ``compare_parts`` (the residue-distance
aligner nomenklatura uses: typo-tolerant, number-strict, cheap token merge/split
so ``KUMUNSAN`` ~ ``KUM UN SAN``), in the given word order and sorted, keeping the
better.  Aligned words count by their score; words left over on the query side
count :data:`WEIGHTS` ``extra_query_word`` and on the list side
``extra_list_word`` as zeros, and query words the listed name lacks multiply the
similarity by ``extra_word``; words shorter than ``min_fuzzy_letters`` must be equal
(one letter makes another Korean syllable); when both sides have a word the other lacks (one word
*replaced* by another, ``RI CHOL HO`` vs ``RI CHOL MIN``) the similarity is
multiplied by ``substitution``; different numbers (``SPARTA 3`` vs ``SPARTA 4``)
multiply it by ``number_mismatch``, a number on one side only by ``number_missing``.
For entries with a Korean context the Korean comparison keys
(:mod:`tumen.screen.korean`) are compared as well and the better result kept
(feature detail ``korean_key``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.fuzz import ratio as _ratio
from rapidfuzz.fuzz import token_sort_ratio as _token_sort
from rigour.names import NamePart, compare_parts

from tumen.screen.index import IndexedName, ListEntry, ScreenIndex
from tumen.screen.lists.base import clean_country, clean_imo, imo_ship_valid
from tumen.screen.names import NameForm, name_variants, normalise
from tumen.store.backend import Backend

#: Every weight of the screener, in one place.
WEIGHTS: dict[str, float] = {
    # main features (multiplied with the feature's value)
    "imo_exact": 1.0,
    "mmsi_exact": 0.85,
    "callsign_exact": 0.6,
    "name_similarity": 1.0,  # organisations and people
    "vessel_name_similarity": 0.9,  # a vessel name alone is weaker evidence than its IMO
    "previous_name": 0.85,
    "weak_alias": 0.8,
    # qualifiers (added to the score)
    "imo_mismatch": -0.45,
    "mmsi_mismatch": -0.1,
    "flag_match": 0.05,
    "flag_mismatch": -0.05,
    # name similarity internals
    "extra_query_word": 1.5,
    "extra_list_word": 0.6,
    "min_fuzzy_letters": 5,  # words shorter than this must be equal (RI CHOL HO ≠ RI CHOL MIN)
    "min_fuzzy_letters_korean_person": 7,  # Korean syllables differ by one letter (PYONG ≠ KYONG)
    "single_word_edit": 0.8,  # one Damerau edit in a one-word name of 5+ letters (HENNA ~ HNENA)
    "substitution": 0.75,
    "extra_word": 0.85,  # the query has words the listed name lacks (SASCO ANGARA is not ANGARA)
    "number_mismatch": 0.5,
    "number_missing": 0.8,
    "weak_pair": 0.5,  # an aligned pair scoring below this counts as a replaced word
}

QUERY_TYPES = ("vessel", "company", "person")
#: How a query type normalises its names.
_NORM_KIND = {"vessel": "vessel", "company": "organization", "person": "person", None: "any"}
#: How many names are retrieved per query (by word overlap) ...
RETRIEVE = 16
#: ... and how many of them, ranked by a quick rapidfuzz score, are aligned and scored
SCORE_TOP = 4
#: (names with a quick score below this, 0–100, are not scored at all).
QUICK_FLOOR = 40.0


@dataclass
class Match:
    """One candidate list entry for a query, with its score and features."""

    entry: ListEntry
    score: float
    match: bool
    features: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def matched_name(self) -> dict[str, str] | None:
        """Which of the party's names gave the name evidence: the name as listed and its
        property (``name``, ``alias``, ``weakAlias``, ``previousName``); ``None`` when only
        identifiers matched."""
        best: tuple[float, dict[str, Any]] | None = None
        for key in ("name_similarity", "previous_name", "weak_alias"):
            f = self.features.get(key)
            if f and "matched_name" in f and (best is None or f["score"] * f["weight"] > best[0]):
                best = (f["score"] * f["weight"], f)
        if best is None:
            return None
        return {"name": best[1]["matched_name"], "prop": best[1]["matched_prop"]}

    @property
    def explanation(self) -> list[str]:
        """One line per feature, e.g. ``name_similarity 0.93 'KUM UN SAN 3' ~ 'KUMUNSAN 3'``."""
        return [f["detail"] for f in self.features.values()]

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the ``--query-file`` output contract."""
        e = self.entry
        return {
            "entity_id": e.entity_id,
            "caption": e.caption,
            "schema": e.schema,
            "score": round(self.score, 4),
            "match": self.match,
            "features": self.features,
            "matched_name": self.matched_name,
            "datasets": e.datasets,
            "programs": e.programs,
            "list_id": e.list_id,
            "designation": e.designations,
            "explanation": self.explanation,
        }


# --------------------------------------------------------------------------- name similarity
@lru_cache(maxsize=400_000)
def _parts(tokens: tuple[str, ...]) -> list[NamePart]:
    return [NamePart(t.lower(), i, phonetics=False) for i, t in enumerate(tokens)]


def _align_score(q: tuple[str, ...], r: tuple[str, ...], short: float) -> float:
    if not q or not r:
        return 0.0
    if "".join(q) == "".join(r):
        return 1.0
    num = den = 0.0
    q_left = r_left = 0
    weak = WEIGHTS["weak_pair"]
    for a in compare_parts(_parts(q), _parts(r)):
        nq, nr = len(a.qps), len(a.rps)
        if nq and nr:
            a_score = a.score
            if (
                a_score < 1.0
                and min(len(a.qstr.replace(" ", "")), len(a.rstr.replace(" ", ""))) < short
            ):
                a_score = 0.0
            if a_score < weak:
                q_left += nq
                r_left += nr
                den += nq * WEIGHTS["extra_query_word"] + nr * WEIGHTS["extra_list_word"]
            else:
                num += a_score * (nq + nr)
                den += nq + nr
        elif nq:
            q_left += nq
            den += nq * WEIGHTS["extra_query_word"]
        else:
            r_left += nr
            den += nr * WEIGHTS["extra_list_word"]
    score = num / den if den else 0.0
    if q_left and r_left:
        score *= WEIGHTS["substitution"]
    elif q_left:
        score *= WEIGHTS["extra_word"]
    if (
        len(q) == 1
        and len(r) == 1
        and min(len(q[0]), len(r[0])) >= short
        and score < WEIGHTS["single_word_edit"]
        and DamerauLevenshtein.distance(q[0], r[0], score_cutoff=1) <= 1
    ):
        score = WEIGHTS["single_word_edit"]
    return score


@lru_cache(maxsize=400_000)
def token_similarity(
    q: tuple[str, ...], r: tuple[str, ...], short: float = WEIGHTS["min_fuzzy_letters"]
) -> float:
    """Similarity of two token tuples in [0, 1] (word order free; see the module docstring).

    Aligned words with fewer than ``short`` letters (the longer of the two) must be equal.
    """
    score = _align_score(q, r, short)
    if score < 0.95 and len(q) > 1 and len(r) > 1:
        shared = set(q) & set(r)
        # sorting can only help when the shared words come in another order (or none is shared)
        if not shared or [t for t in q if t in shared] != [t for t in r if t in shared]:
            qs, rs = tuple(sorted(q)), tuple(sorted(r))
            if qs != q or rs != r:
                score = max(score, _align_score(qs, rs, short))
    return score


def name_similarity(
    q: NameForm, r: NameForm, korean: bool = False, person: bool = False
) -> tuple[float, bool]:
    """Similarity of two normalised names and whether the Korean key gave it.

    ``korean``: the list entry has a Korean context (compare the Korean keys too);
    with ``person`` as well, words shorter than ``min_fuzzy_letters_korean_person``
    must be equal (a Korean given name is syllables of 1–5 letters).  Numbers must
    agree: different numbers multiply the similarity by ``WEIGHTS['number_mismatch']``,
    a number on one side only by ``WEIGHTS['number_missing']``.
    """
    short = (
        WEIGHTS["min_fuzzy_letters_korean_person"]
        if korean and person
        else WEIGHTS["min_fuzzy_letters"]
    )
    score = token_similarity(q.tokens, r.tokens, short)
    if score < 1.0 and q.plain and r.plain and (q.plain != q.tokens or r.plain != r.tokens):
        score = max(score, token_similarity(q.plain, r.plain, short))
    by_korean = False
    if korean and score < 1.0 and (q.korean != q.tokens or r.korean != r.tokens):
        k = token_similarity(q.korean, r.korean, short)
        if k > score:
            score, by_korean = k, True
    if q.numbers or r.numbers:
        if q.numbers and r.numbers:
            if sorted(q.numbers) != sorted(r.numbers):
                score *= WEIGHTS["number_mismatch"]
        else:
            score *= WEIGHTS["number_missing"]
    return score, by_korean


def prefilter(index: ScreenIndex, form: NameForm, name_ids: list[int]) -> list[IndexedName]:
    """The :data:`SCORE_TOP` retrieved names closest to ``form`` by a quick measure.

    The quick measure is the larger of rapidfuzz's ``ratio`` on the spacing-free forms and
    ``token_sort_ratio`` on the words (and on the Korean keys for Korean-context entries,
    and on the words as written before :func:`~tumen.screen.names.org_word`).
    """
    q_joined, q_text = form.joined, form.text
    p_joined = "".join(form.plain) if form.plain else q_joined
    k_joined, k_text = "".join(form.korean), " ".join(form.korean)
    ranked = []
    names, entries = index.names, index.entries
    for nid in name_ids:
        nm = names[nid]
        quick = max(_ratio(q_joined, nm.joined), _token_sort(q_text, nm.text))
        if p_joined != q_joined or nm.plain_joined != nm.joined:
            quick = max(quick, _ratio(p_joined, nm.plain_joined))
        if entries[nm.entry].korean and nm.korean_joined != nm.joined:
            quick = max(
                quick, _ratio(k_joined, nm.korean_joined), _token_sort(k_text, nm.korean_text)
            )
        if quick >= QUICK_FLOOR:
            ranked.append((-quick, nid))
    ranked.sort()
    return [names[nid] for _, nid in ranked[:SCORE_TOP]]


# --------------------------------------------------------------------------- one query
def _clean_mmsi(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if text.isdigit() and len(text) == 9 else None


def _feature(score: float, weight: float, detail: str, **extra: Any) -> dict[str, Any]:
    return {"score": round(score, 4), "weight": weight, "detail": detail, **extra}


def score_entry(
    index: ScreenIndex,
    idx: int,
    forms: Sequence[NameForm],
    names: Sequence[IndexedName],
    *,
    imo: str | None,
    mmsi: str | None,
    callsign: str | None,
    flag: str | None,
    id_hits: set[str],
    threshold: float,
) -> Match:
    """Score one list entry against a query (names already normalised)."""
    entry = index.entries[idx]
    features: dict[str, dict[str, Any]] = {}
    best: dict[str, tuple[float, IndexedName, NameForm, bool]] = {}
    for nm in names:
        group = {"previousName": "previous_name", "weakAlias": "weak_alias"}.get(
            nm.prop, "name_similarity"
        )
        for form in forms:
            s, by_korean = name_similarity(form, nm.form, entry.korean, entry.kind == "person")
            if group not in best or s > best[group][0]:
                best[group] = (s, nm, form, by_korean)
    name_weight_key = "vessel_name_similarity" if entry.kind == "vessel" else "name_similarity"
    name_evidence = 0.0
    for group, (s, nm, form, by_korean) in best.items():
        if s <= 0:
            continue
        weight = WEIGHTS[name_weight_key] if group == "name_similarity" else WEIGHTS[group]
        detail = f"{group} {s:.2f} {nm.form.original!r} ~ {form.original!r}"
        if nm.how != "full":
            detail += f" (from the {nm.prop} {nm.listed!r})"
        elif nm.prop == "alias":
            detail += " (alias)"
        if by_korean:
            detail += f" (korean_key {' '.join(nm.form.korean)} ~ {' '.join(form.korean)})"
        features[group] = _feature(
            s,
            weight,
            detail,
            query=form.original,
            candidate=nm.form.original,
            korean_key=by_korean,
            matched_name=nm.listed or nm.form.original,
            matched_prop=nm.prop,
            matched_variant=nm.how,
        )
        name_evidence = max(name_evidence, s * weight)
    evidence = [name_evidence]
    if "imo" in id_hits:
        features["imo_exact"] = _feature(1.0, WEIGHTS["imo_exact"], f"imo_exact IMO {imo}")
        evidence.append(WEIGHTS["imo_exact"])
    if "mmsi" in id_hits:
        features["mmsi_exact"] = _feature(1.0, WEIGHTS["mmsi_exact"], f"mmsi_exact MMSI {mmsi}")
        evidence.append(WEIGHTS["mmsi_exact"])
    if "callsign" in id_hits:
        features["callsign_exact"] = _feature(
            1.0, WEIGHTS["callsign_exact"], f"callsign_exact {callsign}"
        )
        evidence.append(WEIGHTS["callsign_exact"])
    miss = 1.0
    for e in evidence:
        miss *= 1.0 - min(max(e, 0.0), 1.0)
    score = 1.0 - miss
    if score > 0:
        # a listed organisation's IMO number is a company number, never a hull's
        if imo and entry.imos and entry.kind == "vessel" and "imo" not in id_hits:
            w = WEIGHTS["imo_mismatch"]
            features["imo_mismatch"] = _feature(
                1.0, w, f"imo_mismatch IMO {imo} vs listed {', '.join(sorted(entry.imos))}"
            )
            score += w
        if mmsi and entry.mmsis and "mmsi" not in id_hits:
            w = WEIGHTS["mmsi_mismatch"]
            features["mmsi_mismatch"] = _feature(
                1.0, w, f"mmsi_mismatch MMSI {mmsi} vs listed {', '.join(sorted(entry.mmsis))}"
            )
            score += w
        if flag and entry.flags:
            if flag in entry.flags:
                w = WEIGHTS["flag_match"]
                features["flag_match"] = _feature(1.0, w, f"flag_match {flag}")
            else:
                w = WEIGHTS["flag_mismatch"]
                features["flag_mismatch"] = _feature(
                    1.0, w, f"flag_mismatch {flag} vs listed {', '.join(sorted(entry.flags))}"
                )
            score += w
    score = min(max(score, 0.0), 1.0)
    return Match(entry, score, score >= threshold, features)


def screen_query(
    store_or_index: Backend | ScreenIndex,
    name: str | None,
    *,
    type: str | None = None,
    imo: str | int | None = None,
    mmsi: str | int | None = None,
    flag: str | None = None,
    callsign: str | None = None,
    threshold: float = 0.7,
    limit: int = 5,
    min_score: float = 0.0,
) -> list[Match]:
    """Screen one name (and optional identifiers) against the loaded lists.

    Parameters
    ----------
    store_or_index:
        A store with lists loaded (its index is built once and cached) or a
        :class:`~tumen.screen.index.ScreenIndex`.
    name:
        The name to screen (any script); may be ``None`` when identifiers are given.
    type:
        ``vessel``, ``company`` or ``person`` to restrict the candidates; ``None`` for all.
    imo, mmsi, callsign, flag:
        Vessel identifiers.  An IMO number counts only if it passes the ship check
        digit; ``flag`` is a country name or ISO code.
    threshold:
        Score at or above which a candidate is a match (``screen.threshold``).
    limit:
        Candidates returned, best first.
    min_score:
        Candidates scoring below this are left out.

    Returns
    -------
    list of Match
        Ranked by score (best first).

    Examples
    --------
    >>> from tumen.screen import demo_index
    >>> [m.entry.caption for m in screen_query(demo_index(), "KUMUNSAN 3", type="vessel")][:1]
    ['KUM UN SAN 3']
    """
    index = store_or_index if isinstance(store_or_index, ScreenIndex) else get_index(store_or_index)
    if type is not None and type not in QUERY_TYPES:
        from tumen.errors import InputError

        raise InputError(f"type {type!r} is not one of {', '.join(QUERY_TYPES)}")
    imo_text = clean_imo(imo)
    imo_valid = imo_text if imo_text and imo_ship_valid(imo_text) else None
    mmsi_text = _clean_mmsi(mmsi)
    cs = callsign.strip().upper() if callsign and callsign.strip() else None
    flag_code = clean_country(flag) if flag else None
    # the query's parenthesised parts are qualifiers ("(Hong Kong)"), not names of their own
    variants = [text for _, text in name_variants(name, parts=False)] if name else []
    if name and ("Х" in name or "х" in name):  # Cyrillic Х: KH (BGN/PCGN, as OFAC writes) or H
        variants += [v.replace("Х", "H").replace("х", "h") for v in variants]
    kinds = [type] if type is not None else list(QUERY_TYPES)
    # normalised per kind: variant → kind → form (words left after the kind's legal forms)
    forms_of = [{kind: normalise(v, _NORM_KIND[kind]) for kind in kinds} for v in variants]
    forms_by_kind = {kind: [f[kind] for f in forms_of if f[kind].tokens] for kind in kinds}
    by_entry: dict[int, list[IndexedName]] = {}
    for by_kind in forms_of:
        # a variant that normalises alike for several kinds is looked up once for all of them
        groups: dict[tuple[tuple[str, ...], ...], list[str]] = {}
        for kind, form in by_kind.items():
            if form.tokens:
                groups.setdefault((form.tokens, form.korean, form.plain), []).append(kind)
        for same in groups.values():
            form = by_kind[same[0]]
            found = index.candidates_by_kind(form, same, limit=RETRIEVE)
            for kind in same:
                for nm in prefilter(index, form, found[kind]):
                    by_entry.setdefault(nm.entry, []).append(nm)
    id_hits = index.entries_by_identifier(imo=imo_valid, mmsi=mmsi_text, callsign=cs)
    if type is not None:
        id_hits = {k: v for k, v in id_hits.items() if index.entries[k].kind == type}
    results: list[Match] = []
    for idx in set(by_entry) | set(id_hits):
        kind = index.entries[idx].kind
        m = score_entry(
            index,
            idx,
            forms_by_kind.get(kind) or forms_by_kind.get("company", []),
            _dedupe(by_entry.get(idx, [])),
            imo=imo_valid,
            mmsi=mmsi_text,
            callsign=cs,
            flag=flag_code,
            id_hits=id_hits.get(idx, set()),
            threshold=threshold,
        )
        if m.score > 0 and m.score >= min_score:
            results.append(m)
    results.sort(key=lambda m: (-m.score, m.entry.caption, m.entry.entity_id))
    return results[:limit]


def _dedupe(names: list[IndexedName]) -> list[IndexedName]:
    seen: set[int] = set()
    out = []
    for nm in names:
        if id(nm) not in seen:
            seen.add(id(nm))
            out.append(nm)
    return out


_INDEX_CACHE: dict[tuple[int, str], ScreenIndex] = {}


def get_index(store: Backend, as_of: date | None = None) -> ScreenIndex:
    """The index of the lists loaded in ``store``, built once per loaded-lists state
    (``as_of``: the lists as they stood on that date, UTC)."""
    from tumen.screen.index import lists_fingerprint

    key = (id(store), lists_fingerprint(store) + (f"@{as_of}" if as_of else ""))
    cached = _INDEX_CACHE.get(key)
    if cached is None:
        for old in [k for k in _INDEX_CACHE if k[0] == id(store)]:
            del _INDEX_CACHE[old]
        cached = ScreenIndex.from_store(store, as_of=as_of)
        _INDEX_CACHE[key] = cached
    return cached


# --------------------------------------------------------------------------- many queries
#: Below this many queries, screening stays in one process (forking costs more than it saves).
PARALLEL_MIN = 2000
_FORK_INDEX: ScreenIndex | None = None


def _one(index: ScreenIndex, q: dict[str, Any], opts: dict[str, Any]) -> list[Match]:
    return screen_query(
        index,
        q.get("name"),
        type=q.get("type"),
        imo=q.get("imo"),
        mmsi=q.get("mmsi"),
        flag=q.get("flag"),
        callsign=q.get("callsign"),
        threshold=float(opts["threshold"]),
        limit=int(opts["limit"]),
        min_score=float(opts["min_score"]),
    )


def _screen_chunk(
    args: tuple[list[dict[str, Any]], dict[str, Any]],
) -> list[list[tuple[int, float, bool, Any]]]:
    queries, opts = args
    assert _FORK_INDEX is not None
    index = _FORK_INDEX
    out = []
    for q in queries:
        found = _one(index, q, opts)
        out.append([(m.entry.idx, m.score, m.match, m.features) for m in found])
    return out


def screen_many(
    index: ScreenIndex,
    queries: Sequence[dict[str, Any]],
    *,
    threshold: float = 0.7,
    limit: int = 5,
    min_score: float = 0.0,
    workers: int = 1,
) -> list[list[Match]]:
    """Screen many queries (dicts with ``name`` and optional ``type``, ``imo``, ``mmsi``,
    ``flag``, ``callsign``); results in input order.

    With ``workers`` > 1 (0 = one per CPU core) and at least :data:`PARALLEL_MIN`
    queries, the queries are split over forked worker processes that share the index
    (copy-on-write); results are identical to the one-process run.
    """
    import os

    n_workers = (os.cpu_count() or 1) if workers == 0 else workers
    opts: dict[str, Any] = {"threshold": threshold, "limit": limit, "min_score": min_score}
    if n_workers <= 1 or len(queries) < PARALLEL_MIN:
        return [_one(index, q, opts) for q in queries]
    import multiprocessing

    global _FORK_INDEX
    _FORK_INDEX = index
    size = max(1, len(queries) // (n_workers * 4))
    chunks = [(list(queries[i : i + size]), opts) for i in range(0, len(queries), size)]
    try:
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            parts = pool.map(_screen_chunk, chunks)
    finally:
        _FORK_INDEX = None
    return [
        [Match(index.entries[idx], score, match, features) for idx, score, match, features in row]
        for part in parts
        for row in part
    ]
