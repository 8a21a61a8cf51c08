"""Fast candidate retrieval over the loaded lists.

:class:`ScreenIndex` holds every sanctioned party of the store's lists (entities with
a ``Sanction``), each with its names (``name``, ``alias``, ``weakAlias``,
``previousName``) normalised by :mod:`tumen.screen.names`, and answers "which list
names could this query be?" in microseconds, without comparing the query to every
name:

* an inverted index from words to names, weighted by inverse document frequency;
* a symmetric-delete index (SymSpell, Garbe 2012) that finds words one edit away
  (typos) without scanning the vocabulary;
* the spacing-free form of every name (``KUMUNSAN3`` for ``KUM UN SAN 3``);
* the Korean comparison keys (:mod:`tumen.screen.korean`) of names with a Korean context;
* exact maps from IMO number, MMSI and call sign to entities.

Only the few retrieved names are then scored by :mod:`tumen.screen.match`.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from followthemoney import model

from tumen.screen.lists.base import clean_imo
from tumen.screen.names import NameForm, name_variants, normalise
from tumen.store.backend import Backend

#: FtM schema → the query type it answers to.
KIND_BY_SCHEMA = {
    "Vessel": "vessel",
    "Person": "person",
    "Organization": "company",
    "Company": "company",
    "LegalEntity": "company",
    "PublicBody": "company",
    "Airplane": "other",
}
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")
KOREAN_COUNTRIES = {"kp", "kr"}
#: Entry kind → its code in the per-name kind array.
_KIND_CODE = {"vessel": 0, "company": 1, "person": 2, "other": 3}
#: Postings longer than this (very common words) are not used for retrieval.
MAX_POSTINGS = 3000
#: Weight of a word found one edit away (relative to an exact word).
TYPO_RETRIEVAL_WEIGHT = 0.8
#: Extra retrieval weight of an exact spacing-free match.
JOINED_BONUS = 50.0


@dataclass(slots=True)
class ListEntry:
    """A sanctioned party as the screener sees it."""

    entity_id: str
    list_id: str
    schema: str
    caption: str
    kind: str
    datasets: list[str]
    programs: list[str]
    designations: list[dict[str, Any]] = field(default_factory=list)
    imos: set[str] = field(default_factory=set)
    mmsis: set[str] = field(default_factory=set)
    callsigns: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)
    korean: bool = False
    idx: int = -1  # position in ScreenIndex.entries


@dataclass(slots=True)
class IndexedName:
    """One name of one entry, normalised (with its strings precomputed for quick scoring).

    ``prop`` is the FtM property the name comes from (``name``, ``alias``, ``weakAlias``,
    ``previousName``), ``listed`` the name as the list writes it and ``how`` which of its
    :func:`~tumen.screen.names.name_variants` ``form`` is (``full``, ``inline``, ``part``).
    """

    entry: int
    prop: str
    form: NameForm
    listed: str = ""
    how: str = "full"
    text: str = ""
    joined: str = ""
    korean_text: str = ""
    korean_joined: str = ""
    plain_joined: str = ""

    def __post_init__(self) -> None:
        self.text = " ".join(self.form.tokens)
        self.joined = "".join(self.form.tokens)
        self.korean_text = " ".join(self.form.korean)
        self.korean_joined = "".join(self.form.korean)
        self.plain_joined = "".join(self.form.plain) if self.form.plain else self.joined


class ScreenIndex:
    """Every sanctioned party of the loaded lists, ready for :func:`tumen.screen.match.screen_query`.

    Build with :meth:`from_store` (reads ``entities``) or :meth:`from_entities`.
    """

    def __init__(self) -> None:
        self.entries: list[ListEntry] = []
        self.names: list[IndexedName] = []
        self._postings: dict[str, Any] = defaultdict(list)
        self._joined: dict[str, Any] = defaultdict(list)
        self._deletes: dict[str, list[str]] = defaultdict(list)
        self._idf: dict[str, float] = {}
        self.by_imo: dict[str, list[int]] = defaultdict(list)
        self.by_mmsi: dict[str, list[int]] = defaultdict(list)
        self.by_callsign: dict[str, list[int]] = defaultdict(list)
        self.by_id: dict[str, int] = {}
        self._name_kind: np.ndarray = np.zeros(0, dtype=np.int8)
        self.fingerprint = ""
        self.as_of: date | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_store(cls, store: Backend, as_of: date | None = None) -> ScreenIndex:
        """Index the sanctioned parties of every list loaded in ``store``.

        With ``as_of``, the lists as they stood on that date (UTC; see
        :func:`tumen.screen.lists.history.entities_as_of_sql`).
        """
        source = "entities"
        if as_of is not None:
            from tumen.screen.lists.history import entities_as_of_sql

            source = f"({entities_as_of_sql(as_of)}) entities"
        rows = store.query(
            f"SELECT entity_id, list_id, schema, caption, datasets, programs, entity FROM {source} "
            "WHERE target ORDER BY list_id, entity_id"
        ).to_pylist()
        sanctions = store.query(
            f"SELECT list_id, entity FROM {source} WHERE schema = 'Sanction'"
        ).to_pylist()
        index = cls()
        by_target: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in sanctions:
            ent = json.loads(row["entity"])
            props = ent.get("properties", {})
            for target in props.get("entity", []):
                by_target[(row["list_id"], target)].append(
                    {
                        "list": row["list_id"],
                        "authority": (props.get("authority") or [None])[0],
                        "programs": props.get("program", []),
                        "listing_date": (props.get("listingDate") or [None])[0],
                        "reference": (props.get("unscId") or props.get("authorityId") or [None])[0],
                        "source_url": (props.get("sourceUrl") or [None])[0],
                    }
                )
        _add_listed_since(store, by_target)
        for row in rows:
            ent = json.loads(row["entity"])
            index._add(
                ent,
                list_id=row["list_id"],
                datasets=json.loads(row["datasets"]),
                programs=json.loads(row["programs"] or "[]"),
                designations=by_target.get((row["list_id"], row["entity_id"]), []),
            )
        index._finish()
        index.fingerprint = lists_fingerprint(store) + (f"@{as_of}" if as_of else "")
        index.as_of = as_of
        return index

    @classmethod
    def from_entities(cls, entities: list[dict[str, Any]], list_id: str = "adhoc") -> ScreenIndex:
        """Index FtM entity dicts directly (tests, notebooks); all are treated as sanctioned."""
        index = cls()
        for ent in entities:
            index._add(
                ent,
                list_id=list_id,
                datasets=[list_id],
                programs=ent["properties"].get("program", []),
                designations=[],
            )
        index._finish()
        return index

    def _add(
        self,
        ent: dict[str, Any],
        *,
        list_id: str,
        datasets: list[str],
        programs: list[str],
        designations: list[dict[str, Any]],
    ) -> None:
        schema = ent["schema"]
        props: dict[str, list[str]] = ent.get("properties", {})
        schema_obj = model.get(schema)
        kind = KIND_BY_SCHEMA.get(
            schema,
            "company" if schema_obj is not None and schema_obj.is_a("LegalEntity") else "other",
        )
        countries = set(
            props.get("flag", [])
            + props.get("country", [])
            + props.get("nationality", [])
            + props.get("citizenship", [])
            + props.get("pastFlags", [])
            + props.get("jurisdiction", [])
        )
        all_names = [n for p in NAME_PROPS for n in props.get(p, [])]
        korean = (
            any("DPRK" in p.upper() or "1718" in p for p in programs)
            or bool(countries & KOREAN_COUNTRIES)
            or any(any("\uac00" <= ch <= "\ud7a3" for ch in n) for n in all_names)
        )
        caption = (props.get("name") or [ent.get("caption") or ent["id"]])[0]
        entry = ListEntry(
            entity_id=ent["id"],
            list_id=list_id,
            schema=schema,
            caption=caption,
            kind=kind,
            datasets=datasets,
            programs=programs,
            designations=designations,
            imos={i for i in (clean_imo(v) for v in props.get("imoNumber", [])) if i},
            mmsis={m.strip() for m in props.get("mmsi", [])},
            callsigns={c.strip().upper() for c in props.get("callSign", [])},
            flags=set(props.get("flag", [])) | set(props.get("pastFlags", [])),
            korean=korean,
        )
        idx = len(self.entries)
        entry.idx = idx
        self.entries.append(entry)
        self.by_id.setdefault(entry.entity_id, idx)
        norm_kind = {"vessel": "vessel", "person": "person", "company": "organization"}.get(
            kind, "any"
        )
        seen: set[tuple[str, ...]] = set()
        for prop in NAME_PROPS:
            for raw in props.get(prop, []):
                for how, variant in name_variants(raw):
                    form = normalise(variant, norm_kind)
                    if not form.tokens or form.tokens in seen:
                        continue
                    seen.add(form.tokens)
                    self._add_name(IndexedName(idx, prop, form, raw, how), korean)
        if entry.kind == "vessel" or schema == "Vessel":
            for imo in entry.imos:
                self.by_imo[imo].append(idx)
            for mmsi in entry.mmsis:
                self.by_mmsi[mmsi].append(idx)
            for cs in entry.callsigns:
                self.by_callsign[cs].append(idx)
        else:
            for imo in entry.imos:  # company IMO numbers: kept apart from ship numbers
                self.by_imo["C" + imo].append(idx)

    def _add_name(self, name: IndexedName, korean: bool) -> None:
        nid = len(self.names)
        self.names.append(name)
        keys = [name.form.tokens] + (
            [name.form.korean] if korean and name.form.korean != name.form.tokens else []
        )
        if name.form.plain and name.form.plain != name.form.tokens:
            keys.append(name.form.plain)
        for toks in keys:
            for tok in set(toks):
                self._postings[tok].append(nid)
            self._joined["".join(toks)].append(nid)

    def _finish(self) -> None:
        n = max(len(self.names), 1)
        postings: dict[str, Any] = {}
        for tok, ids in self._postings.items():
            arr = np.unique(np.asarray(ids, dtype=np.int32))
            postings[tok] = arr
            self._idf[tok] = math.log(1 + n / len(arr))
            if len(tok) >= 4 and not tok.isdigit():
                for d in _deletes(tok):
                    self._deletes[d].append(tok)
        self._postings = postings
        self._joined = {
            k: np.unique(np.asarray(v, dtype=np.int32)) for k, v in self._joined.items()
        }
        self._deletes = dict(self._deletes)
        self._name_kind = np.asarray(
            [_KIND_CODE[self.entries[nm.entry].kind] for nm in self.names], dtype=np.int8
        )

    # ------------------------------------------------------------------ retrieval
    def candidates(self, form: NameForm, kind: str | None = None, limit: int = 40) -> list[int]:
        """Ids of the names most likely to match ``form`` (best first), optionally of one kind.

        Words are weighted by inverse document frequency; words one edit away count
        :data:`TYPO_RETRIEVAL_WEIGHT` of an exact word; an exact spacing-free match adds
        :data:`JOINED_BONUS`.
        """
        return self.candidates_by_kind(form, [kind], limit)[kind]

    def candidates_by_kind(
        self, form: NameForm, kinds: Sequence[str | None], limit: int = 40
    ) -> dict[str | None, list[int]]:
        """:meth:`candidates` for several kinds at once (``None``: every kind).

        The words are looked up and the names weighted once; only the ranking is done
        per kind, so the answer for each kind is the same as :meth:`candidates` gives.
        """
        arrays: list[np.ndarray] = []
        weights: list[float] = []
        for position in _positions(form):
            found: list[np.ndarray] = []
            weight = 0.0
            for tok in position:
                post = self._postings.get(tok)
                if post is not None and len(post) <= MAX_POSTINGS:
                    found.append(post)
                    weight = max(weight, self._idf[tok])
                # a word the lists know is taken as written; others may carry a typo
                if post is None and len(tok) >= 4 and not tok.isdigit():
                    near: set[str] = set()
                    for d in (tok, *_deletes(tok)):
                        near.update(self._deletes.get(d, ()))
                        if d != tok and d in self._postings:
                            near.add(d)
                    near.difference_update(position)
                    for other in near:
                        post = self._postings[other]
                        if len(post) <= MAX_POSTINGS:
                            found.append(post)
                            weight = max(weight, self._idf[other] * TYPO_RETRIEVAL_WEIGHT)
            if found:
                arrays.append(np.unique(np.concatenate(found)) if len(found) > 1 else found[0])
                weights.append(weight)
        joined_hits = [
            self._joined[j]
            for j in {form.joined, "".join(form.korean), "".join(form.plain)}
            if j in self._joined
        ]
        if joined_hits:
            arrays.append(np.unique(np.concatenate(joined_hits)))
            weights.append(JOINED_BONUS)
        if not arrays:
            return {kind: [] for kind in kinds}
        ids = np.concatenate(arrays)
        w = np.repeat(np.asarray(weights), [len(a) for a in arrays])
        # names are scored in ascending id order whatever the kind, so ranking the
        # kind's share of one scoring equals scoring the kind's names alone
        uniq, inv = np.unique(ids, return_inverse=True)
        score = np.bincount(inv, weights=w)
        out: dict[str | None, list[int]] = {}
        for kind in kinds:
            if kind is None:
                k_uniq, k_score = uniq, score
            else:
                keep = self._name_kind[uniq] == _KIND_CODE[kind]
                k_uniq, k_score = uniq[keep], score[keep]
            out[kind] = _top(k_uniq, k_score, limit)
        return out

    def entries_by_identifier(
        self, *, imo: str | None = None, mmsi: str | None = None, callsign: str | None = None
    ) -> dict[int, set[str]]:
        """Entries sharing an identifier with the query: entry → {'imo', 'mmsi', 'callsign'}."""
        out: dict[int, set[str]] = defaultdict(set)
        for key, value, table in (
            ("imo", imo, self.by_imo),
            ("mmsi", mmsi, self.by_mmsi),
            ("callsign", callsign, self.by_callsign),
        ):
            if value:
                for idx in table.get(value, ()):
                    out[idx].add(key)
        return out

    def __len__(self) -> int:
        return len(self.entries)


def _top(ids: np.ndarray, score: np.ndarray, limit: int) -> list[int]:
    """The ``limit`` ids of highest score, best first (ties in id order)."""
    if len(ids) > limit:
        top = np.argpartition(-score, limit)[:limit]
        order = top[np.argsort(-score[top], kind="stable")]
    else:
        order = np.argsort(-score, kind="stable")
    return [int(i) for i in ids[order]]


def _positions(form: NameForm) -> list[set[str]]:
    """The query's words, each with its Korean key and its spelling as written (one
    retrieval vote per word)."""
    out = [{t, k} for t, k in zip(form.tokens, form.korean, strict=True)]
    if form.plain and form.plain != form.tokens and len(form.plain) == len(out):
        for position, word in zip(out, form.plain, strict=True):
            position.add(word)
    return out


def _deletes(token: str) -> list[str]:
    """Every string one deletion away from ``token`` (the SymSpell symmetric-delete keys)."""
    return [token[:i] + token[i + 1 :] for i in range(len(token))]


def _add_listed_since(
    store: Backend, by_target: dict[tuple[str, str], list[dict[str, Any]]]
) -> None:
    """Give each designation its ``listed_since`` (ISO date) and ``listed_since_source``.

    ``list`` when the designation has a ``listing_date`` of its own; else the date of the first
    loaded version holding the entry (``first_version_seen``; :mod:`tumen.screen.lists.history`).
    Stores without list history leave the first-version date out (``None``).
    """
    from tumen.screen.lists.history import designation_periods

    periods = designation_periods(store) if by_target else {}
    for key, designations in by_target.items():
        period = periods.get(key)
        for d in designations:
            if d.get("listing_date"):
                d["listed_since"], d["listed_since_source"] = d["listing_date"], "list"
            else:
                seen = period["first_seen_on"] if period else None
                d["listed_since"] = seen.isoformat() if seen else None
                d["listed_since_source"] = "first_version_seen"


def lists_fingerprint(store: Backend) -> str:
    """Changes whenever a list is loaded or replaced (for caching an index)."""
    if not store.table_exists("lists"):
        return ""
    rows = store.query("SELECT list_id, sha256, loaded_at FROM lists ORDER BY list_id").to_pylist()
    text = "|".join(f"{r['list_id']}:{r['sha256']}:{r['loaded_at']}" for r in rows)
    if store.table_exists("list_versions"):  # an older version kept changes the lists as of a date
        text += "|versions:" + str(
            store.query("SELECT count(*) AS n FROM list_versions").column("n")[0].as_py()
        )
    return text
