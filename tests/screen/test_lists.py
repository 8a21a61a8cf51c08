"""Reading and loading the real lists: formats, counts from the README, replacement, bad files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tumen.errors import ListError
from tumen.screen import demo_list_path
from tumen.screen.lists import detect_format, load_lists, loaded_lists
from tumen.screen.lists.base import imo_company_valid, imo_ship_valid
from tumen.screen.lists.ofac import parse_remarks, programs_of, split_remarks
from tumen.store import DuckDBStore


def test_formats_are_recognised_from_content(shared_data: Path, tmp_path: Path) -> None:
    s = shared_data / "sanctions"
    assert detect_format(s / "un" / "un_sc_consolidated_2026-02-27.xml.gz") == "un_xml"
    assert detect_format(s / "ofac" / "sdn_2024-05-03.csv.gz") == "ofac_csv"
    assert detect_format(s / "ofac" / "alt_2025-01-06.csv") == "ofac_alt"
    assert detect_format(s / "ofac" / "add_2025-01-06.csv") == "ofac_add"
    assert detect_format(s / "ofac" / "sdn_comments_2025-01-06.csv") == "ofac_comments"
    assert detect_format(s / "opensanctions" / "sample_consolidated_entities.ftm.json") == "ftm"
    assert detect_format(s / "README.md") is None
    # the name says nothing: an OFAC file renamed .txt is still OFAC
    renamed = tmp_path / "whatever.txt"
    renamed.write_bytes(gzip.decompress((s / "ofac" / "sdn_2024-05-03.csv.gz").read_bytes())[:5000])
    assert detect_format(renamed) == "ofac_csv"


def test_imo_check_digits() -> None:
    assert imo_ship_valid(9161003) and imo_ship_valid("IMO 7937317")
    assert not imo_ship_valid(9161004) and not imo_ship_valid("916100") and not imo_ship_valid(None)
    assert imo_company_valid(1790183) and not imo_company_valid(1790184)


def test_ofac_remarks_are_parsed() -> None:
    items = split_remarks(
        "Former Vessel Flag Malta; alt. Former Vessel Flag Tuvalu; Vessel Registration Identification IMO "
        "9187629; MMSI 572469210; f.k.a. 'ALPHA'; Linked To: NATIONAL IRANIAN TANKER COMPANY."
    )
    facts = parse_remarks(items, "Vessel")
    props = dict(facts.props)
    assert ("imoNumber", "9187629") in facts.props and props["mmsi"] == "572469210"
    assert ("pastFlags", "Malta") in facts.props and ("pastFlags", "Tuvalu") in facts.props
    assert ("previousName", "ALPHA") in facts.props
    assert facts.linked[0][0] == "NATIONAL IRANIAN TANKER COMPANY"
    assert programs_of("DPRK3] [DPRK4") == ["DPRK3", "DPRK4"]


def test_real_lists_load_with_readme_counts(lists_db: Path) -> None:
    with DuckDBStore(lists_db, read_only=True) as store:
        lists = {r["list_id"]: r for r in loaded_lists(store)}
        ofac, un = lists["us_ofac_sdn"], lists["un_sc"]
        # README: 14,965 SDN entries, 851 vessels; the newest SDN file wins over the 2024-04-04 copy
        assert (
            ofac["list_date"] == "2024-05-03"
            and ofac["targets"] == 14965
            and ofac["vessels"] == 851
        )
        assert {f["role"] for f in ofac["files"]} == {"sdn", "alt", "add", "comments"}
        assert ofac["counts"]["orphans"]["alt"] > 0  # ALT rows of later designations are tolerated
        # README: 1,003 UN entries, 155 DPRK, no vessels
        assert un["list_date"] == "2026-02-27" and un["targets"] == 1003 and un["vessels"] == 0
        assert un["counts"]["dprk"] == 155
        rows = store.query(
            "SELECT entity FROM entities WHERE entity_id IN ('ofac-37095', 'ofac-15036', 'unsc-kpe.020')"
        ).to_pylist()
        ents = {json.loads(r["entity"])["id"]: json.loads(r["entity"]) for r in rows}
    lady_r = ents["ofac-37095"]["properties"]
    assert lady_r["imoNumber"] == ["IMO9161003"] and lady_r["program"] == ["RUSSIA-EO14024"]
    artavil = ents["ofac-15036"]["properties"]
    assert artavil["mmsi"] == ["572469210"] and artavil["callSign"] == ["T2EU4"]
    assert {"ALPHA", "ABADAN"} <= set(artavil["previousName"])  # from remarks and ALT.CSV fka
    omm = ents["unsc-kpe.020"]["properties"]
    assert omm["imoNumber"] == ["IMO1790183"]  # the IMO *company* number, check digit valid


def test_every_ofac_vessel_imo_passes_its_check_digit(lists_db: Path) -> None:
    with DuckDBStore(lists_db, read_only=True) as store:
        rows = store.query(
            "SELECT entity FROM entities WHERE list_id = 'us_ofac_sdn' AND schema = 'Vessel'"
        ).to_pylist()
    per_vessel = [json.loads(r["entity"])["properties"].get("imoNumber", []) for r in rows]
    # README: 842 of the 851 vessels carry an IMO number in SDN.CSV (two more in SDN_COMMENTS),
    # and every one passes the check digit
    assert sum(1 for imos in per_vessel if imos) >= 842
    assert all(imo_ship_valid(i) for imos in per_vessel for i in imos)


def test_linked_to_becomes_a_link_with_its_source(lists_db: Path) -> None:
    with DuckDBStore(lists_db, read_only=True) as store:
        rows = store.query(
            "SELECT target_id, role, source FROM links WHERE source_id = 'ofac-37095'"
        ).to_pylist()
    assert rows and rows[0]["target_id"] == "ofac-37049" and rows[0]["role"] == "linked"
    src = json.loads(rows[0]["source"])
    assert (
        src["text"] == "Linked To: TRANSMORFLOT LLC."
        and "37095" in src["ref"]
        and len(src["sha256"]) == 64
    )


def test_newer_copy_replaces_older_and_older_is_skipped(
    shared_data: Path, store: DuckDBStore
) -> None:
    ofac = shared_data / "sanctions" / "ofac"
    first = load_lists(store, [ofac / "sdn_2024-04-04.csv.gz"])[0]
    assert first["status"] == "loaded" and first["targets"] == 14574
    second = load_lists(store, [ofac / "sdn_2024-05-03.csv.gz"])[0]
    assert second["status"] == "replaced" and second["targets"] == 14965
    # README: 403 entries added and 12 removed between the two snapshots (each entry = entity + sanction)
    assert second["added"] >= 2 * 403 and second["removed"] >= 2 * 12
    assert (
        store.scalar("SELECT count(*) FROM entities WHERE list_id = 'us_ofac_sdn' AND target")
        == 14965
    )
    again = load_lists(store, [ofac / "sdn_2024-04-04.csv.gz"])[0]
    assert again["status"] == "skipped_older"
    same = load_lists(store, [ofac / "sdn_2024-05-03.csv.gz"])[0]
    assert same["status"] == "unchanged"
    assert (
        store.scalar("SELECT list_date FROM lists WHERE list_id = 'us_ofac_sdn'").isoformat()
        == "2024-05-03"
    )


def _truncate_gz(src: Path, dst: Path, keep: float) -> None:
    raw = gzip.decompress(src.read_bytes())
    dst.write_bytes(gzip.compress(raw[: int(len(raw) * keep)]))


@pytest.mark.parametrize("kind", ["un_xml", "ofac_csv", "gzip", "ftm"])
def test_malformed_list_names_file_and_element_and_leaves_store_untouched(
    kind: str, shared_data: Path, tmp_path: Path, store: DuckDBStore
) -> None:
    load_lists(store, [demo_list_path()])
    before = store.scalar("SELECT count(*) FROM entities")
    s = shared_data / "sanctions"
    if kind == "un_xml":
        bad = tmp_path / "un.xml.gz"
        _truncate_gz(s / "un" / "un_sc_consolidated_2026-02-27.xml.gz", bad, 0.5)
        fragment = "<INDIVIDUAL>"
    elif kind == "ofac_csv":
        bad = tmp_path / "sdn.csv"
        raw = gzip.decompress((s / "ofac" / "sdn_2024-05-03.csv.gz").read_bytes())
        bad.write_bytes(raw[: len(raw) // 2])
        fragment = "truncated"
    elif kind == "gzip":
        bad = tmp_path / "sdn.csv.gz"
        raw = (s / "ofac" / "sdn_2024-05-03.csv.gz").read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])
        fragment = "gzip data is truncated"
    else:
        bad = tmp_path / "entities.ftm.json"
        lines = demo_list_path().read_text().splitlines()
        bad.write_text("\n".join(lines[:3] + [lines[3][:40]]) + "\n")
        fragment = "line 4"
    with pytest.raises(ListError) as err:
        load_lists(store, [bad])
    assert str(bad) in str(err.value) and fragment in str(err.value)
    assert store.scalar("SELECT count(*) FROM entities") == before
    assert store.scalar("SELECT count(*) FROM lists") == 1


def test_companion_files_alone_are_refused(shared_data: Path, store: DuckDBStore) -> None:
    with pytest.raises(ListError, match="need their SDN.CSV"):
        load_lists(store, [shared_data / "sanctions" / "ofac" / "alt_2025-01-06.csv"])


def test_vessels_and_ownership_csv(tmp_path: Path, store: DuckDBStore) -> None:
    vessels = tmp_path / "un_1718_vessels_2024-03-01.csv"
    vessels.write_text(
        "name,imo,flag,listed_on,reference,previous_names\n"
        "CHONG CHON GANG,7937317,Democratic People's Republic of Korea,2016-03-02,KPv.example,\n"
        "KUM UN SAN 3,8705539,kp,2017-10-10,KPv.example2,KUMUNSAN 3\n"
    )
    summary = load_lists(store, [vessels])[0]
    assert (
        summary["list_id"] == "un_1718_vessels"
        and summary["vessels"] == 2
        and summary["list_date"] == "2024-03-01"
    )
    bad = tmp_path / "bad_vessels.csv"
    bad.write_text("name,imo,flag,listed_on,reference\nX,7937318,kp,2016-03-02,r\n")
    with pytest.raises(ListError, match="line 2: imo '7937318' is not a valid IMO ship number"):
        load_lists(store, [bad])
    owners = tmp_path / "owners.csv"
    owners.write_text(
        "vessel_imo,role,company,country\n7937317,ISM manager,Ocean Maritime Management,KP\n"
    )
    s = load_lists(store, [owners])[0]
    assert s["format"] == "ownership_csv" and s["links"] == 1 and s["targets"] == 0
    assert store.scalar("SELECT role FROM links WHERE list_id = 'owners'") == "manager"


def test_demo_list_holds_the_contract_identities(store: DuckDBStore) -> None:
    summary = load_lists(store, [demo_list_path()])[0]
    assert summary["vessels"] == 6 and summary["list_date"] == "2024-05-03"
    rows = store.query("SELECT entity FROM entities WHERE schema = 'Vessel'").to_pylist()
    imos = {json.loads(r["entity"])["properties"]["imoNumber"][0] for r in rows}
    assert imos == {
        "IMO9179842",
        "IMO9161003",
        "IMO9358010",
        "IMO9743033",
        "IMO8705539",
        "IMO7937317",
    }
    assert all(imo_ship_valid(i) for i in imos)
    roles = {r["role"] for r in store.query("SELECT role FROM links").to_pylist()}
    assert roles == {"owner", "manager"}


def _sdn_rows(shared_data: Path, ent_nums: set[str]) -> list[list[str]]:
    import csv
    import io

    text = gzip.decompress(
        (shared_data / "sanctions" / "ofac" / "sdn_2024-05-03.csv.gz").read_bytes()
    )
    rows = csv.reader(io.StringIO(text.decode("cp1252").rstrip("\x1a")))
    return [r for r in rows if r and r[0] in ent_nums]


def _as_sdn_xml(rows: list[list[str]], count: int | None = None) -> str:
    """Real SDN.CSV records written the way OFAC's sdn.xml carries them."""
    from xml.sax.saxutils import escape

    def null(v: str) -> str:
        return "" if v.strip() == "-0-" else v.strip()

    out = [
        '<?xml version="1.0" standalone="yes"?>',
        '<sdnList xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML">',
        f"<publshInformation><Publish_Date>05/03/2024</Publish_Date><Record_Count>{count or len(rows)}"
        "</Record_Count></publshInformation>",
    ]
    for r in rows:
        kind = {"individual": "Individual", "vessel": "Vessel", "aircraft": "Aircraft"}.get(
            null(r[2]), "Entity"
        )
        if "," in r[1] and kind == "Individual":
            last, first = r[1].split(",", 1)
            names = f"<firstName>{escape(first.strip())}</firstName><lastName>{escape(last.strip())}</lastName>"
        else:
            names = f"<lastName>{escape(r[1])}</lastName>"
        ids = []
        remarks = []
        for item in null(r[11]).rstrip(".").split("; "):
            if item.startswith("Vessel Registration Identification IMO"):
                ids.append(
                    (
                        "Vessel Registration Identification",
                        item.rsplit(" ", 2)[-2] + " " + item.rsplit(" ", 1)[-1],
                    )
                )
            elif item.startswith("MMSI"):
                ids.append(("MMSI", item.split()[-1]))
            elif item.startswith("Linked To:"):
                ids.append(("Linked To", item.split(":", 1)[1].strip()))
            else:
                remarks.append(item)
        id_xml = "".join(
            f"<id><uid>{i}</uid><idType>{escape(t)}</idType><idNumber>{escape(n)}</idNumber></id>"
            for i, (t, n) in enumerate(ids)
        )
        progs = "".join(f"<program>{p}</program>" for p in r[3].strip(" []").split("] ["))
        vessel = (
            (
                f"<vesselInfo><callSign>{null(r[5])}</callSign><vesselType>{escape(null(r[6]))}</vesselType>"
                f"<vesselFlag>{escape(null(r[9]))}</vesselFlag></vesselInfo>"
            )
            if kind == "Vessel"
            else ""
        )
        out.append(
            f"<sdnEntry><uid>{r[0]}</uid>{names}<sdnType>{kind}</sdnType><programList>{progs}</programList>"
            f"<idList>{id_xml}</idList>{vessel}<remarks>{escape('; '.join(remarks))}</remarks></sdnEntry>"
        )
    out.append("</sdnList>")
    return "\n".join(out)


def test_ofac_xml_reads_the_same_records_as_the_csv(
    shared_data: Path, tmp_path: Path, store: DuckDBStore
) -> None:
    rows = _sdn_rows(shared_data, {"37095", "37049", "15036", "23163", "23151"})
    xml = tmp_path / "sdn.xml"
    xml.write_text(_as_sdn_xml(rows), encoding="utf-8")
    assert detect_format(xml) == "ofac_xml"
    summary = load_lists(store, [xml])[0]
    assert (
        summary["format"] == "ofac_xml"
        and summary["list_date"] == "2024-05-03"
        and summary["targets"] == 5
    )
    ents = {
        r["entity_id"]: json.loads(r["entity"])["properties"]
        for r in store.query("SELECT entity_id, entity FROM entities").to_pylist()
    }
    assert ents["ofac-37095"]["imoNumber"] == ["IMO9161003"] and ents["ofac-15036"]["mmsi"] == [
        "572469210"
    ]
    assert ents["ofac-15036"]["callSign"] == ["T2EU4"] and ents["ofac-15036"]["flag"] == ["ir"]
    links = store.query("SELECT source_id, target_id FROM links ORDER BY 1").to_pylist()
    assert {"source_id": "ofac-37095", "target_id": "ofac-37049"} in links
    assert {"source_id": "ofac-23163", "target_id": "ofac-23151"} in links
    # a file that says it holds more records than it does is truncated
    short = tmp_path / "short.xml"
    short.write_text(_as_sdn_xml(rows, count=9), encoding="utf-8")
    with pytest.raises(ListError, match="says 9 records but the file holds 5"):
        load_lists(store, [short])
    cut = tmp_path / "cut.xml"
    cut.write_text(_as_sdn_xml(rows)[:-400], encoding="utf-8")
    with pytest.raises(ListError, match="in <sdnEntry>"):
        load_lists(store, [cut])


def test_lists_update_downloads_then_loads(shared_data: Path, tmp_path: Path) -> None:
    """`tumen lists update` with the URLs pointed at local files (file://): no network in tests."""
    from tumen.config import load_settings
    from tumen.screen.lists.update import download_lists

    s = shared_data / "sanctions"
    sdn = tmp_path / "sdn.csv"
    sdn.write_bytes(gzip.decompress((s / "ofac" / "sdn_2024-05-03.csv.gz").read_bytes()))
    settings = load_settings(
        environ={},
        overrides={
            "screen.un_url": (s / "un" / "un_sc_consolidated_2026-02-27.xml.gz").as_uri(),
            "screen.ofac_urls": [sdn.as_uri(), (s / "ofac" / "alt_2025-01-06.csv").as_uri()],
            "screen.lists_dir": str(tmp_path / "downloads"),
        },
    ).screen
    files = download_lists(settings)
    assert len(files) == 3 and all(f.exists() and f.parent == tmp_path / "downloads" for f in files)
    assert not list((tmp_path / "downloads").glob("*.part"))
    with DuckDBStore(tmp_path / "u.duckdb") as store:
        statuses = {r["list_id"]: r["status"] for r in load_lists(store, files)}
    assert statuses == {"us_ofac_sdn": "loaded", "un_sc": "loaded"}
    bad = settings.model_copy(
        update={"un_url": (tmp_path / "missing.xml").as_uri(), "ofac_urls": []}
    )
    with pytest.raises(ListError, match="download of .*missing.xml failed"):
        download_lists(bad)


def test_sdn_comments_continue_their_own_entrys_remarks(lists_db: Path, shared_data: Path) -> None:
    """SDN_COMMENTS.CSV continues the remarks of the entry it names, and no other."""
    comments = shared_data / "sanctions" / "ofac" / "sdn_comments_2025-01-06.csv"
    tail = {}
    for line in comments.read_text(encoding="cp1252").splitlines():
        ent, _, text = line.partition(",")
        if text.strip('"').endswith("Linked To: LAZARUS GROUP."):
            tail[ent] = text
    assert "28263" in tail  # TIAN Yinyin: her remarks end in the comments file
    with DuckDBStore(lists_db, read_only=True) as store:
        linked = store.query(
            "SELECT l.source_id FROM links l JOIN entities e "
            "ON e.entity_id = l.target_id AND e.list_id = l.list_id "
            "WHERE l.list_id = 'us_ofac_sdn' AND e.caption = 'LAZARUS GROUP'"
        ).to_pylist()
        tian = json.loads(
            store.query("SELECT entity FROM entities WHERE entity_id = 'ofac-28263'").to_pylist()[
                0
            ]["entity"]
        )["properties"]
        last = json.loads(
            store.query("SELECT entity FROM entities WHERE entity_id = 'ofac-48907'").to_pylist()[
                0
            ]["entity"]
        )["properties"]
    sources = {r["source_id"] for r in linked}
    assert "ofac-28263" in sources  # the link from the comments file reaches her
    # her own remarks from SDN.CSV are kept (birth date, nationality) ...
    assert tian.get("birthDate") == ["1986-07-12"] and "cn" in tian.get("nationality", [])
    # ... and the last SDN.CSV entry's remarks do not leak into hers
    assert not set(last.get("registrationNumber", [])) & set(tian.get("registrationNumber", []))


def test_apostrophes_in_names_do_not_merge_remark_items(lists_db: Path) -> None:
    """An apostrophe in a name (PEOPLE'S, QA'IDA, Sa'id) is no quote: the remarks still split.

    Before, the split counted every ``'`` as a quote, so 789 entries of the real SDN.CSV
    (every aircraft: "Manufacturer's Serial Number") lost their ``Linked To:`` links,
    aliases and other facts after the first apostrophe.
    """
    items = split_remarks(
        "DOB 1973; a.k.a. 'Abu Ali al-Kawari'; Linked To: AL QA'IDA; a.k.a. 'ONE; TWO'."
    )
    assert items == [
        "DOB 1973",
        "a.k.a. 'Abu Ali al-Kawari'",
        "Linked To: AL QA'IDA",
        "a.k.a. 'ONE; TWO'",
    ]
    with DuckDBStore(lists_db, read_only=True) as store:
        links = {
            (r["source_id"], r["target_id"])
            for r in store.query(
                "SELECT source_id, target_id FROM links WHERE list_id = 'us_ofac_sdn'"
            ).to_pylist()
        }
        kawari = json.loads(
            store.query("SELECT entity FROM entities WHERE entity_id = 'ofac-18048'").to_pylist()[
                0
            ]["entity"]
        )["properties"]
    assert ("ofac-18554", "ofac-15603") in links  # KIM Kyong Nam -> FOREIGN TRADE BANK OF THE DPRK
    assert ("ofac-32173", "ofac-32171") in links  # vessel TRIPLE SUCCESS -> AL-JAMAL, Sa'id
    assert ("ofac-18048", "ofac-6366") in links and "Abu Ali al-Kawari" in kawari["alias"]
    assert kawari.get("birthDate") == ["1973-09-28"]


def test_quoted_alias_keeps_its_apostrophes(lists_db: Path) -> None:
    """A quoted alias runs to the last quote (it was cut at the first apostrophe: ``ABU-``)."""
    facts = parse_remarks(
        ["a.k.a. 'ABU-'UMAR'", "f.k.a. 'AL-IBRAHIMI, Jamal Fa'far 'Ali'"], "Person"
    )
    assert ("alias", "ABU-'UMAR") in facts.props
    assert ("previousName", "AL-IBRAHIMI, Jamal Fa'far 'Ali") in facts.props
    facts = parse_remarks(["a.k.a. 'ABU-AL-KARKH', 'Yusuf'"], "Person")
    assert [v for _, v in facts.props] == ["ABU-AL-KARKH", "Yusuf"]
    with DuckDBStore(lists_db, read_only=True) as store:
        marzook = json.loads(
            store.query("SELECT entity FROM entities WHERE entity_id = 'ofac-3754'").to_pylist()[0][
                "entity"
            ]
        )["properties"]
    assert "ABU-'UMAR" in marzook["alias"] and "ABU-" not in marzook["alias"]


def test_sdn_comments_join_keeps_the_space_at_the_cut(lists_db: Path) -> None:
    """OFAC cuts SDN.CSV's remarks anywhere, also just before or after a space; the join
    must keep it (it stripped both sides: 'XBT 12j...' became part of the previous item,
    'alt. Digital' + ' Currency' became 'alt. DigitalCurrency', 'U.S. Financial' 'U.S.Financial')."""
    with DuckDBStore(lists_db, read_only=True) as store:
        notes = {
            r["entity_id"]: json.loads(r["entity"])["properties"]["notes"]
            for r in store.query(
                "SELECT entity_id, entity FROM entities "
                "WHERE entity_id IN ('ofac-42496', 'ofac-31212', 'ofac-44718', 'ofac-39593')"
            ).to_pylist()
        }
    text = {k: " ".join(v) for k, v in notes.items()}
    assert "ezzGa; alt. Digital Currency Address - XBT 12j" in text["ofac-42496"]
    assert "alt. Digital Currency Address - BCH" in text["ofac-31212"]
    assert "DigitalCurrency" not in text["ofac-31212"]
    assert "U.S. Financial Institutions: North Korea" in text["ofac-44718"]
    assert "XBT 194xmrZA53" in text["ofac-39593"]


def test_ftm_list_date_is_the_exports_last_seen(shared_data: Path, tmp_path: Path) -> None:
    """An OpenSanctions export is dated by its entities' ``last_seen`` (README: 2024-06-01), not by
    their last change, so a newer export that only delists entities replaces the older copy
    (dated by ``last_change`` it looked older and was skipped, keeping the delisted entities)."""
    sample = shared_data / "sanctions" / "opensanctions" / "sample_consolidated_entities.ftm.json"
    lines = sample.read_text(encoding="utf-8").splitlines()
    newer = [
        json.dumps(obj | {"last_seen": "2024-07-01T10:00:00"})
        for obj in map(json.loads, lines)
        if not str(obj.get("last_change", "")).startswith("2024-03-28")  # two entities delisted
    ]
    (tmp_path / "new").mkdir()
    later = tmp_path / "new" / sample.name
    later.write_text("\n".join(newer) + "\n", encoding="utf-8")
    with DuckDBStore(tmp_path / "f.duckdb") as store:
        first = load_lists(store, [sample])[0]
        assert first["list_date"] == "2024-06-01"
        second = load_lists(store, [later])[0]
        assert second["status"] == "replaced" and second["list_date"] == "2024-07-01"
        assert second["removed"] == 2 and store.scalar("SELECT count(*) FROM entities") == 5
