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
