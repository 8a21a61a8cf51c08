"""Matching against the real UN + OFAC lists: identifiers, transliterations, negatives, features."""

from __future__ import annotations

import pytest

from tumen.screen.korean import fold_tokens, table_rows, variant_table
from tumen.screen.match import WEIGHTS, name_similarity, screen_query
from tumen.screen.names import normalise


def best(index, name, **kw):
    found = screen_query(index, name, **kw)
    return found[0] if found else None


def test_korean_table_is_documented_and_consistent() -> None:
    rows = table_rows()
    assert rows and all(
        r["kind"] in ("surname", "syllable") and r["canonical"] and r["note"] is not None
        for r in rows
    )
    table = variant_table()
    # the North's spelling and the South's give one key
    for north, south in [
        ("RI", "LEE"),
        ("PAK", "PARK"),
        ("CHOE", "CHOI"),
        ("JONG", "JEONG"),
        ("O", "OH"),
        ("CHOL", "CHUL"),
        ("SONG", "SUNG"),
    ]:
        assert fold_tokens([north]) == fold_tokens([south]), (north, south)
    assert fold_tokens(["JON", "MYONG", "HAK"]) == fold_tokens(["CHON", "MYONG", "HAK"])
    assert (
        normalise("Chŏn Myŏng-hak", "person").korean == normalise("Jon Myong Hak", "person").korean
    )
    assert normalise("전명학", "person").korean == normalise("Chon Myong Hak", "person").korean
    assert all(k != v for k, v in table.items())


@pytest.mark.parametrize(
    "query, kwargs, caption, feature",
    [
        ("CHONG CHON GANG", {"type": "vessel", "imo": "7937317"}, "CHONG CHON GANG", "imo_exact"),
        (
            "RENAMED",
            {"type": "vessel", "imo": "9179842"},
            "ANGARA",
            "imo_exact",
        ),  # Russia program, DPRK trade
        (None, {"type": "vessel", "imo": "IMO 9358010"}, "MAIA-1", "imo_exact"),
        ("KUMUNSAN 3", {"type": "vessel"}, "KUM UN SAN 3", "name_similarity"),
        ("Lady R", {"type": "vessel"}, "LADY R", "name_similarity"),
        ("SPARTA 4", {"type": "vessel"}, "SPARTA IV", "name_similarity"),
        ("NEPTUN", {"type": "vessel", "flag": "Russia"}, "MAIA-1", "previous_name"),
        ("ARTAVIL", {"type": "vessel", "mmsi": "572469210"}, "ARTAVIL", "mmsi_exact"),
        (
            "Ocean Maritime Management Co., Ltd",
            {"type": "company"},
            "OCEAN MARITIME MANAGEMENT",
            "name_similarity",
        ),
        ("ООО Трансморфлот", {"type": "company"}, "TRANSMORFLOT LLC", "name_similarity"),
        ("OOO Alfa-Lizing", {}, "ALFA-LIZING OOO", "name_similarity"),
        ("Lee Je Son", {"type": "person"}, "RI JE-SON", "name_similarity"),
        ("Ким Чен Ын", {"type": "person"}, "KIM, Jong Un", "name_similarity"),
        ("Yun Ho Jin", {"type": "person"}, "YUN HO-JIN", "name_similarity"),
        ("Jin Ho Yun", {"type": "person"}, "YUN HO-JIN", "name_similarity"),  # word order
        ("李方伟", {"type": "person"}, "LI, Fangwei", "name_similarity"),  # Chinese script → pinyin
        ("马晓红", {"type": "person"}, "MA, Xiaohong", "name_similarity"),
        (
            "김정은",
            {"type": "person"},
            "KIM, Jong Un",
            "name_similarity",
        ),  # Hangul → RR → Korean key
        ("리제선", {"type": "person"}, "RI JE-SON", "name_similarity"),
    ],
)
def test_true_variants_match(real_index, query, kwargs, caption, feature) -> None:
    found = screen_query(real_index, query, **kwargs)
    # the listed entry is a match (NEPTUN is also the current name of another listed ship)
    m = next((m for m in found if m.entry.caption.startswith(caption)), None)
    assert m is not None and m.match and m.entry.caption.startswith(caption), m and m.entry.caption
    assert feature in m.features and 0.0 <= m.score <= 1.0
    assert m.entry.designations and m.entry.designations[0]["reference"]


@pytest.mark.parametrize(
    "query, kwargs",
    [
        ("KUM UN SAN 4", {"type": "vessel"}),  # another number: another ship
        ("SPARTA V", {"type": "vessel"}),
        ("SASCO LADY R", {"type": "vessel"}),  # an extra word
        ("RI CHOL HO", {"type": "person"}),  # one syllable differs from listed names
        ("Korea Mining Export Corporation", {"type": "company"}),
        (
            "ANGARA",
            {"type": "vessel", "imo": "9242986"},
        ),  # the IMO of SASCO ANGARA: a different hull
    ],
)
def test_hard_negatives_do_not_match(real_index, query, kwargs) -> None:
    found = screen_query(real_index, query, **kwargs)
    assert not [
        m
        for m in found
        if m.match and m.entry.caption.upper().replace(",", "") in (query.upper(), "ANGARA")
    ], [(m.entry.caption, m.score) for m in found]
    if query == "ANGARA":
        angara = [m for m in found if m.entry.caption == "ANGARA"]
        assert angara and not angara[0].match and "imo_mismatch" in angara[0].features


def test_invalid_imo_is_not_used(real_index) -> None:
    # 7937318 fails the check digit: no identifier match, only the name
    m = best(real_index, "CHONG CHON GANG", type="vessel", imo="7937318")
    assert m is not None and "imo_exact" not in m.features and "imo_mismatch" not in m.features


def test_features_explain_the_score(real_index) -> None:
    m = best(real_index, "KUMUNSAN 3", type="vessel")
    feat = m.features["name_similarity"]
    assert feat["detail"] == "name_similarity 1.00 'KUM UN SAN 3' ~ 'KUMUNSAN 3'"
    assert feat["weight"] == WEIGHTS["vessel_name_similarity"]
    out = m.to_json()
    assert set(out) >= {
        "entity_id",
        "caption",
        "schema",
        "score",
        "match",
        "features",
        "datasets",
        "programs",
    }
    assert out["datasets"] == ["us_ofac_sdn"] and out["programs"] == ["DPRK4"]


def test_name_similarity_rules() -> None:
    n = normalise
    assert name_similarity(n("KUMUNSAN 3", "vessel"), n("KUM UN SAN 3", "vessel"))[0] == 1.0
    assert name_similarity(n("SPARTA 3", "vessel"), n("SPARTA 4", "vessel"))[0] < 0.5
    assert name_similarity(n("RI CHOL HO", "person"), n("RI CHOL MIN", "person"))[0] < 0.6
    assert name_similarity(n("TRANSMORFLOTT", "company"), n("TRANSMORFLOT", "company"))[0] > 0.85
    s, korean = name_similarity(
        n("Jeon Myeong-hak", "person"), n("CHON MYONG HAK", "person"), korean=True
    )
    assert s == 1.0 and korean


def test_results_are_ranked_and_limited(real_index) -> None:
    found = screen_query(real_index, "KOREA SHIPPING", limit=4)
    assert len(found) <= 4 and [m.score for m in found] == sorted(
        (m.score for m in found), reverse=True
    )


@pytest.mark.parametrize(
    "query", ["KUMUNSAN 3", "Korea Ryonbong General Corporation", "Chon Myong Hak", "SEPRTA IV"]
)
def test_retrieval_for_several_kinds_equals_one_kind_at_a_time(real_index, query) -> None:
    """An untyped query looks its words up once; each kind's candidates must not change."""
    form = normalise(query, "any")
    kinds = [None, "vessel", "company", "person"]
    together = real_index.candidates_by_kind(form, kinds, limit=16)
    for kind in kinds:
        alone = real_index.candidates(form, kind=kind, limit=16)
        assert together[kind] == alone
        assert all(real_index.entries[real_index.names[i].entry].kind == kind for i in alone) or (
            kind is None
        )
    assert together[None], f"no candidate at all for {query!r}"


def test_untyped_query_finds_what_each_typed_query_finds(real_index) -> None:
    """Without a type the screener scores every kind's best candidates, as each typed query does."""
    for name, kind in [("KUMUNSAN 3", "vessel"), ("Chon Myong Hak", "person")]:
        typed = {m.entry.entity_id: m.score for m in screen_query(real_index, name, type=kind)}
        untyped = {m.entry.entity_id: m.score for m in screen_query(real_index, name, limit=50)}
        assert typed and all(untyped.get(e) == s for e, s in typed.items())


def test_ship_imo_is_not_compared_with_a_company_imo(real_index) -> None:
    """A listed shipping company's IMO number is its company number (README): a query's ship
    IMO that differs from it is no ``imo_mismatch`` (it pushed OMM's exact name to 0.55)."""
    found = screen_query(real_index, "Ocean Maritime Management Company", imo="9179842", limit=10)
    omm = [m for m in found if m.entry.entity_id == "unsc-kpe.020"]
    assert omm and omm[0].match and "imo_mismatch" not in omm[0].features


# --------------------------------------------------------------- names as users write them
def _matches(index, query, type_):
    return [m for m in screen_query(index, query, type=type_, limit=10) if m.match]


def _listed_tokens(index, text, kind):
    form = normalise(text, kind)
    return [nm for nm in index.names if nm.form.tokens == form.tokens]


@pytest.mark.parametrize(
    "query, entity_id",
    [
        ("KUM UN SAN No.3", "ofac-23163"),  # listed KUM UN SAN 3
        ("RYE SONG GANG NO 1", "ofac-23186"),  # listed RYE SONG GANG 1
        ("UL JI BONG No. 6", "ofac-23525"),  # listed UL JI BONG 6
        ("HAP JANG GANG Nr. 6", "ofac-23728"),  # listed HAP JANG GANG 6
        ("Chon Myong #1", "ofac-23726"),  # listed CHON MYONG 1
        ("KUM UN SAN 3호", "ofac-23163"),
        ("금은산 3호", "ofac-23163"),
    ],
)
def test_hull_number_marker_finds_the_listed_hull(real_index, query, entity_id) -> None:
    """``No.3``, ``NO 1``, ``Nr. 6``, ``#1`` and Korean ``3호`` are hull numbers (they scored
    0.42–0.64 before, below the threshold); nothing else matches."""
    found = _matches(real_index, query, "vessel")
    assert [m.entry.entity_id for m in found] == [entity_id], [
        (m.entry.caption, m.score) for m in screen_query(real_index, query, type="vessel")
    ]


@pytest.mark.parametrize(
    "query", ["KUM UN SAN No.7", "UL JI BONG No. 9", "HAP JANG GANG No. 4", "RYE SONG GANG NO 5"]
)
def test_hull_number_marker_with_another_number_matches_nothing(real_index, query) -> None:
    """Near misses: the listed name with a number no listed vessel of that name carries."""
    assert not _listed_tokens(real_index, query, "vessel")  # the premise, from the real lists
    assert not _matches(real_index, query, "vessel")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Korea Unpha Shpg & Trdg", {"ofac-23710"}),  # KOREA UNPHA SHIPPING & TRADING
        ("Korea Unpha Shipping and Trading", {"ofac-23710"}),
        ("Ocean Maritime Mgmt Co., Ltd.", {"ofac-17068", "unsc-kpe.020"}),
        ("Leader Intl Trdg Ltd", {"unsc-kpe.017", "ofac-15616"}),  # UN alias, OFAC name
        ("Alfa Investment & Intl Trdg", {"unsc-iqe.206"}),
        ("Hongxiang Marine Hong Kong Co", {"ofac-23765"}),
    ],
)
def test_abbreviated_company_words_find_the_listed_company(real_index, query, expected) -> None:
    """TRDG, SHPG, INTL, MGMT, CO and & are the words the list spells out (0.27–0.49 before)."""
    found = _matches(real_index, query, "company")
    assert {m.entry.entity_id for m in found} == expected, [
        (m.entry.caption, m.score) for m in found
    ]


@pytest.mark.parametrize(
    "query", ["Korea Unpha Shpg & Mgmt", "Ocean Marine Mgmt Co., Ltd.", "Leader Intl Shpg Ltd"]
)
def test_abbreviated_near_misses_match_nothing(real_index, query) -> None:
    """A listed company's name with one word changed stays below the threshold."""
    assert not _listed_tokens(real_index, query, "organization")
    assert not _matches(real_index, query, "company")


def test_abbreviations_come_from_rigour_symbols() -> None:
    n = normalise
    assert n("KOREA UNPHA SHPG & TRDG", "organization").tokens == (
        n("KOREA UNPHA SHIPPING AND TRADING", "organization").tokens
    )
    # a domain symbol joins only spellings of one word: MARINE is not MARITIME
    assert n("OCEAN MARINE", "organization").tokens != n("OCEAN MARITIME", "organization").tokens
    # vessels and people keep their words
    assert n("TRADING STAR", "vessel").tokens == ("TRADING", "STAR")


@pytest.mark.parametrize(
    "query, entity_id",
    [
        (
            "Hongxiang Marine (Hong Kong) Limited",
            "ofac-23765",
        ),  # listed HONGXIANG MARINE HONG KONG LTD
        ("Jiaxiang Industry (Hong Kong) Limited", "ofac-28364"),
        ("Green Industries (Hong Kong) Limited", "ofac-27165"),
        ("Reach Shipping Lines (Hong Kong) Co., Limited", "ofac-30107"),
        ("Tian Fang (Hong Kong) Holdings Limited", "ofac-40209"),
    ],
)
def test_place_in_parentheses_is_no_name_of_its_own(real_index, query, entity_id) -> None:
    """The query's "(Hong Kong)" used to be screened alone and met the listed parts
    "(HONG KONG)" of LEADER (HONG KONG) INTERNATIONAL and others at 1.0, ranked first."""
    found = screen_query(real_index, query, limit=10)
    assert found[0].entry.entity_id == entity_id and found[0].score == 1.0
    assert [m.entry.entity_id for m in found if m.match] == [entity_id], [
        (m.entry.caption, m.score) for m in found
    ]
    assert found[0].matched_name is not None
    listed = real_index.entries[real_index.by_id[entity_id]]
    assert found[0].features["name_similarity"]["matched_name"] in [listed.caption] + [
        nm.listed for nm in real_index.names if nm.entry == listed.idx
    ]


def test_listed_part_in_parentheses_still_finds_its_party(real_index) -> None:
    """A list's parenthesised alias stays a name; the match says which listed name it was."""
    m = _matches(real_index, "Leader Hong Kong International", "company")[0]
    assert m.entry.entity_id == "unsc-kpe.017"
    feat = m.features["name_similarity"]
    assert feat["matched_name"] == "LEADER (HONG KONG) INTERNATIONAL"
    assert feat["matched_variant"] == "inline" and feat["matched_prop"] == "name"
    sapico = [
        m for m in _matches(real_index, "SAPICO", "company") if m.entry.entity_id == "unsc-ire.061"
    ]
    assert sapico, "the UN list's SAHAND ALUMINUM PARTS INDUSTRIAL COMPANY (SAPICO)"
    feat = sapico[0].features["name_similarity"]
    assert feat["matched_variant"] == "part" and feat["matched_name"].endswith("(SAPICO)")
    assert sapico[0].to_json()["matched_name"] == {"name": feat["matched_name"], "prop": "name"}
