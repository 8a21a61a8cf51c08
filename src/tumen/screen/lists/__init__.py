"""Sanctions lists: recognise, read and load them into the store.

Formats are recognised from the content, never the file name (``.gz`` is fine):

==================  ==============================================================
``un_xml``          UN SC Consolidated List — root ``<CONSOLIDATED_LIST>`` (:mod:`.un`)
``ofac_xml``        OFAC ``sdn.xml`` — root ``<sdnList>`` (:mod:`.ofac`)
``ofac_csv``        OFAC legacy ``SDN.CSV`` (12 fields, no header) with its companion
                    ``ALT.CSV`` (5), ``ADD.CSV`` (6), ``SDN_COMMENTS.CSV`` (2) (:mod:`.ofac`)
``ftm``             FollowTheMoney JSON lines (:mod:`.ftm`)
``vessels_csv``     header ``name,imo,flag,listed_on,reference`` (:mod:`.vessels_csv`)
``ownership_csv``   header ``vessel_imo,role,company,country`` (:mod:`.vessels_csv`)
==================  ==============================================================

A list has an identity (``list_id``: ``un_sc``, ``us_ofac_sdn``, else the file name
without extensions and dates) and a date.  Loading a list whose identity is already
in the store replaces the older copy in one transaction (the summary says how many
entities were added, removed and changed); an identical copy is ``unchanged`` and
an older one is ``skipped_older`` unless ``force``.  Every file of a call is parsed
before anything is written, so a malformed or truncated file raises
:class:`~tumen.errors.ListError` naming the file and element and leaves the lists
already in the store untouched.

When several copies of one list are given in one call (a folder holding
``sdn_2024-04-04.csv.gz`` and ``sdn_2024-05-03.csv.gz``) the newest is loaded and
the others are reported as ``superseded``.  The OFAC companion files attach to
the newest ``SDN.CSV`` of the call.

Every copy read is also kept as a *version* of its list (``superseded`` and
``skipped_older`` ones too; each summary names its ``version_id``), so that the
lists can be read as they stood on any date: :mod:`.history`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from tumen.errors import ListError
from tumen.provenance import tumen_version, utc_now
from tumen.screen.lists import ftm, ofac, un, vessels_csv
from tumen.screen.lists.base import ParsedList, head_bytes
from tumen.store.backend import Backend

FORMATS = (
    "un_xml",
    "ofac_xml",
    "ofac_csv",
    "ofac_alt",
    "ofac_add",
    "ofac_comments",
    "ftm",
    "vessels_csv",
    "ownership_csv",
)


def detect_format(path: str | Path) -> str | None:
    """The list format of a file from its first bytes, or ``None`` if it is not a list."""
    import csv

    p = Path(path)
    head = head_bytes(p)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        import re

        body = re.sub(r"<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text, flags=re.S).lstrip()
        m = re.match(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", body)
        root = m.group(2) if m else ""
        if root == "CONSOLIDATED_LIST":
            return "un_xml"
        if root == "sdnList":
            return "ofac_xml"
        return None
    if text.startswith("{"):
        first = text.splitlines()[0]
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return "ftm" if '"schema"' in first else None
        return "ftm" if isinstance(obj, dict) and "schema" in obj else None
    first_line = head.decode("latin-1").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    header = vessels_csv.header_of(first_line)
    if header[: len(vessels_csv.VESSEL_HEADER)] == vessels_csv.VESSEL_HEADER or (
        set(vessels_csv.VESSEL_HEADER) <= set(header)
    ):
        return "vessels_csv"
    if set(vessels_csv.LINK_HEADER) <= set(header):
        return "ownership_csv"
    try:
        row = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        return None
    kind = ofac.sniff_csv_row(row)
    return {
        "sdn": "ofac_csv",
        "alt": "ofac_alt",
        "add": "ofac_add",
        "comments": "ofac_comments",
    }.get(kind or "")


def _expand(paths: Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """Files to read: (path, given explicitly).  Folders are walked recursively, sorted."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            out.extend(
                (f.resolve(), False)
                for f in sorted(p.rglob("*"))
                if f.is_file() and not f.name.startswith(".")
            )
        elif p.is_file():
            out.append((p.resolve(), True))
        else:
            raise ListError("no such file or folder; give list files or a folder holding them", p)
    return out


@dataclass
class _Job:
    kind: str
    path: Path
    companions: dict[str, Path]


def plan(paths: Iterable[str | Path]) -> tuple[list[_Job], list[dict[str, Any]]]:
    """Decide what to read: one job per list file; OFAC companions attached to the newest SDN.

    Returns the jobs and the notes on files not loaded (not a list, superseded).
    """
    from tumen.screen.lists.base import date_from_filename, date_from_mtime

    jobs: list[_Job] = []
    notes: list[dict[str, Any]] = []
    companions: dict[str, list[Path]] = {"ofac_alt": [], "ofac_add": [], "ofac_comments": []}
    for path, explicit in _expand(paths):
        kind = detect_format(path)
        if kind is None:
            if explicit:
                raise ListError(
                    "not a list this version reads (UN XML, OFAC SDN CSV/XML, FtM JSON lines, "
                    "vessels or ownership CSV)",
                    path,
                )
            notes.append({"path": str(path), "status": "not_a_list"})
            continue
        if kind in companions:
            companions[kind].append(path)
        else:
            jobs.append(_Job(kind, path, {}))
    sdn_jobs = [j for j in jobs if j.kind == "ofac_csv"]
    if any(companions.values()) and not sdn_jobs:
        names = ", ".join(p.name for ps in companions.values() for p in ps)
        raise ListError(
            f"{names}: OFAC companion files need their SDN.CSV; load them together with it",
            next(p for ps in companions.values() for p in ps),
        )
    if sdn_jobs:

        def when(p: Path) -> date:
            return date_from_filename(p) or date_from_mtime(p)

        newest = max(sdn_jobs, key=lambda j: when(j.path))
        for kind, ps in companions.items():
            if ps:
                newest.companions[kind] = max(ps, key=when)
                notes.extend(
                    {"path": str(p), "status": "superseded"}
                    for p in ps
                    if p != newest.companions[kind]
                )
    return jobs, notes


def parse_job(job: _Job) -> ParsedList:
    """Read one list (no store access)."""
    if job.kind == "un_xml":
        return un.parse(job.path)
    if job.kind == "ofac_xml":
        return ofac.parse_xml(job.path)
    if job.kind == "ofac_csv":
        return ofac.parse_csv(
            job.path,
            alt=job.companions.get("ofac_alt"),
            add=job.companions.get("ofac_add"),
            comments=job.companions.get("ofac_comments"),
        )
    if job.kind == "ftm":
        return ftm.parse(job.path)
    if job.kind == "vessels_csv":
        return vessels_csv.parse_vessels(job.path)
    if job.kind == "ownership_csv":
        return vessels_csv.parse_links(job.path)
    raise ListError(f"unsupported list format {job.kind}", job.path)  # pragma: no cover


def _entity_rows(parsed: ParsedList) -> pa.Table:
    by_entity = parsed.counts.pop("_datasets_by_entity", {})
    programs: dict[str, list[str]] = {}
    for e in parsed.entities:
        if e.schema.name == "Sanction":
            for target in e.get("entity"):
                programs.setdefault(target, [])
                for prog in e.get("program", quiet=True):
                    if prog not in programs[target]:
                        programs[target].append(prog)
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "entity_id",
            "list_id",
            "schema",
            "caption",
            "datasets",
            "programs",
            "target",
            "entity",
        )
    }
    seen: set[str] = set()
    for e in parsed.entities:
        eid = str(e.id)
        if eid in seen:
            raise ListError(f"entity id {eid!r} occurs twice; the file is malformed", parsed.path)
        seen.add(eid)
        is_target = "sanction" in e.get("topics", quiet=True) and e.schema.name != "Sanction"
        progs = programs.get(eid, []) + [
            p for p in e.get("program", quiet=True) if p not in programs.get(eid, [])
        ]
        rows["entity_id"].append(eid)
        rows["list_id"].append(parsed.list_id)
        rows["schema"].append(e.schema.name)
        rows["caption"].append(e.caption)
        rows["datasets"].append(json.dumps(by_entity.get(eid) or [parsed.list_id]))
        rows["programs"].append(json.dumps(progs) if is_target else None)
        rows["target"].append(bool(is_target))
        rows["entity"].append(json.dumps(e.to_dict(), ensure_ascii=False, sort_keys=True))
    return pa.table(rows)


def _link_rows(parsed: ParsedList) -> pa.Table:
    main = parsed.files[0] if parsed.files else {"path": str(parsed.path), "sha256": parsed.sha256}
    rows: dict[str, list[Any]] = {
        k: [] for k in ("list_id", "source_id", "target_id", "role", "link_id", "source")
    }
    for link in parsed.links:
        rows["list_id"].append(parsed.list_id)
        rows["source_id"].append(link.source_id)
        rows["target_id"].append(link.target_id)
        rows["role"].append(link.role)
        rows["link_id"].append(link.link_id)
        rows["source"].append(
            json.dumps(
                {
                    "list": parsed.list_id,
                    "file": main["path"],
                    "sha256": main["sha256"],
                    "ref": link.ref,
                    "text": link.text,
                },
                ensure_ascii=False,
            )
        )
    return pa.table(rows, schema=pa.schema([(k, pa.string()) for k in rows]))


def _job_fingerprint(job: _Job) -> str:
    from tumen.provenance import sha256_file

    shas = [sha256_file(job.path), *(sha256_file(p) for p in job.companions.values())]
    return hashlib.sha256("|".join(sorted(shas)).encode()).hexdigest()


def _stored_fingerprints(store: Backend) -> dict[str, dict[str, Any]]:
    """Fingerprint of each loaded list's files → a short summary of it."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.query(
        "SELECT list_id, title, format, list_date, entities, files FROM lists"
    ).to_pylist():
        shas = [f["sha256"] for f in json.loads(r["files"])]
        fp = hashlib.sha256("|".join(sorted(shas)).encode()).hexdigest()
        out[fp] = {
            "list_id": r["list_id"],
            "title": r["title"],
            "format": r["format"],
            "list_date": r["list_date"].isoformat() if r["list_date"] else None,
            "entities": r["entities"],
        }
    if store.table_exists("list_versions"):
        for r in store.query(
            "SELECT version_id, list_id, title, format, list_date, entities, fingerprint "
            "FROM list_versions"
        ).to_pylist():
            out.setdefault(  # a version kept in the history but not the current copy: older
                r["fingerprint"],
                {
                    "list_id": r["list_id"],
                    "title": r["title"],
                    "format": r["format"],
                    "list_date": r["list_date"].isoformat() if r["list_date"] else None,
                    "entities": r["entities"],
                    "status": "skipped_older",
                },
            )["version_id"] = r["version_id"]
    return out


def _fingerprint(parsed: ParsedList) -> str:
    return hashlib.sha256("|".join(sorted(f["sha256"] for f in parsed.files)).encode()).hexdigest()


def load_lists(
    store: Backend,
    paths: Sequence[str | Path] | str | Path,
    *,
    force: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Load list files (or folders of them) into the store's ``lists``/``entities``/``links``.

    Parameters
    ----------
    store:
        The store to write.
    paths:
        Files or folders; formats are recognised from content.  Files in a folder
        that are not lists (a README) are skipped and reported.
    force:
        Load a copy even if the store holds a newer or identical one.
    on_progress:
        Called as ``on_progress(path, entities)`` after each list is read.

    Returns
    -------
    list of dict
        One summary per list file considered: ``list_id``, ``title``, ``format``,
        ``path``, ``list_date`` (ISO), ``status`` (``loaded`` | ``replaced`` |
        ``unchanged`` | ``skipped_older`` | ``superseded`` | ``not_a_list``),
        ``entities``, ``targets``, ``vessels``, ``links``, ``added``, ``removed``,
        ``changed`` and ``counts``.

    Raises
    ------
    ListError
        A file is malformed or truncated; nothing is written.
    """
    from tumen.screen.lists.history import ensure_history

    if isinstance(paths, (str, Path)):
        paths = [paths]
    jobs, notes = plan(paths)
    ensure_history(store)
    stored = {} if force else _stored_fingerprints(store)
    parsed_by_id: dict[str, list[ParsedList]] = {}
    unchanged: list[dict[str, Any]] = []
    for job in jobs:
        fp = _job_fingerprint(job)
        if fp in stored:  # the very same files are loaded already: nothing to read
            unchanged.append({"status": "unchanged"} | stored[fp] | {"path": str(job.path)})
            continue
        parsed = parse_job(job)
        if on_progress:
            on_progress(str(job.path), len(parsed.entities))
        parsed_by_id.setdefault(parsed.list_id, []).append(parsed)
    summaries: list[dict[str, Any]] = list(unchanged)
    with store.transaction():
        for group in parsed_by_id.values():
            # every version is kept (oldest first); the newest of the call may become current
            group.sort(key=lambda p: p.list_date or date.min)
            for older in group[:-1]:
                rows = (_entity_rows(older), _link_rows(older))
                notes.append(
                    {
                        "path": str(older.path),
                        "list_id": older.list_id,
                        "status": "superseded",
                        "list_date": older.list_date.isoformat() if older.list_date else None,
                        "version_id": _keep_version(store, older, *rows),
                    }
                )
            newest = group[-1]
            rows = (_entity_rows(newest), _link_rows(newest))
            summary = _write(store, newest, force=force, rows=rows)
            summaries.append(summary | {"version_id": _keep_version(store, newest, *rows)})
    return summaries + notes


def _keep_version(
    store: Backend, parsed: ParsedList, entity_rows: pa.Table, link_rows: pa.Table
) -> str:
    """Record ``parsed`` in the list history (once per set of files); return its version id."""
    from tumen.screen.lists.history import (
        listed_on_by_target,
        record_version,
        version_with_fingerprint,
    )

    known = version_with_fingerprint(store, _fingerprint(parsed))
    if known is not None:
        return known
    return record_version(
        store,
        list_id=parsed.list_id,
        title=parsed.title,
        format=parsed.format,
        path=str(parsed.path),
        sha256=parsed.sha256,
        files=parsed.files,
        list_date=parsed.list_date,
        loaded_at=utc_now(),
        counts={k: v for k, v in parsed.counts.items() if not k.startswith("_")},
        entity_rows=entity_rows,
        link_rows=link_rows,
        listed_on=listed_on_by_target(
            parsed.entities, parsed.counts.get("_first_seen_by_entity", {})
        ),
    )


def _write(
    store: Backend,
    parsed: ParsedList,
    *,
    force: bool,
    rows: tuple[pa.Table, pa.Table] | None = None,
) -> dict[str, Any]:
    existing = store.query(
        "SELECT list_date, files FROM lists WHERE list_id = ?", [parsed.list_id]
    ).to_pylist()
    summary: dict[str, Any] = {
        "list_id": parsed.list_id,
        "title": parsed.title,
        "format": parsed.format,
        "path": str(parsed.path),
        "list_date": parsed.list_date.isoformat() if parsed.list_date else None,
    }
    fingerprint = _fingerprint(parsed)
    if existing and not force:
        old = existing[0]
        old_fp = hashlib.sha256(
            "|".join(sorted(f["sha256"] for f in json.loads(old["files"]))).encode()
        ).hexdigest()
        if old_fp == fingerprint:
            return summary | {"status": "unchanged", **_count_summary(parsed)}
        if old["list_date"] and parsed.list_date and parsed.list_date < old["list_date"]:
            return summary | {
                "status": "skipped_older",
                "loaded_date": old["list_date"].isoformat(),
                **_count_summary(parsed),
            }
    entity_rows, link_rows = (
        rows if rows is not None else (_entity_rows(parsed), _link_rows(parsed))
    )
    old_hashes = {
        r["entity_id"]: r["h"]
        for r in store.query(
            "SELECT entity_id, md5(entity) AS h FROM entities WHERE list_id = ?", [parsed.list_id]
        ).to_pylist()
    }
    new_hashes = {
        eid: hashlib.md5(ent.encode()).hexdigest()
        for eid, ent in zip(
            entity_rows.column("entity_id").to_pylist(),
            entity_rows.column("entity").to_pylist(),
            strict=True,
        )
    }
    added = len(new_hashes.keys() - old_hashes.keys())
    removed = len(old_hashes.keys() - new_hashes.keys())
    changed = sum(
        1 for k in new_hashes.keys() & old_hashes.keys() if new_hashes[k] != old_hashes[k]
    )
    store.execute("DELETE FROM entities WHERE list_id = ?", [parsed.list_id])
    store.execute("DELETE FROM links WHERE list_id = ?", [parsed.list_id])
    store.execute("DELETE FROM lists WHERE list_id = ?", [parsed.list_id])
    store.append("entities", entity_rows)
    store.append("links", link_rows)
    counts = {k: v for k, v in parsed.counts.items() if not k.startswith("_")}
    store.append(
        "lists",
        pa.table(
            {
                "list_id": [parsed.list_id],
                "title": [parsed.title],
                "format": [parsed.format],
                "path": [str(parsed.path)],
                "sha256": [parsed.sha256],
                "files": [json.dumps(parsed.files)],
                "list_date": pa.array([parsed.list_date], pa.date32()),
                "loaded_at": pa.array([utc_now()], pa.timestamp("us")),
                "tumen_version": [tumen_version()],
                "entities": [entity_rows.num_rows],
                "counts": [json.dumps(counts)],
            }
        ),
    )
    return summary | {
        "status": "replaced" if existing else "loaded",
        **_count_summary(parsed),
        "added": added,
        "removed": removed,
        "changed": changed,
        "counts": counts,
    }


def _count_summary(parsed: ParsedList) -> dict[str, int]:
    targets = sum(
        1
        for e in parsed.entities
        if "sanction" in e.get("topics", quiet=True) and e.schema.name != "Sanction"
    )
    vessels = sum(1 for e in parsed.entities if e.schema.name == "Vessel")
    return {
        "entities": len(parsed.entities),
        "targets": targets,
        "vessels": vessels,
        "links": len(parsed.links),
    }


def loaded_lists(store: Backend) -> list[dict[str, Any]]:
    """What the store holds: one dict per list (``list_id``, ``title``, ``format``, ``path``,
    ``list_date``, ``loaded_at``, ``entities``, ``targets``, ``vessels``, ``links``, ``files``)."""
    rows = store.query(
        """
        SELECT l.list_id, l.title, l.format, l.path, l.sha256, l.list_date, l.loaded_at, l.entities, l.files,
               l.counts,
               (SELECT count(*) FROM entities e WHERE e.list_id = l.list_id AND e.target) AS targets,
               (SELECT count(*) FROM entities e WHERE e.list_id = l.list_id AND e.schema = 'Vessel') AS vessels,
               (SELECT count(*) FROM links k WHERE k.list_id = l.list_id) AS links
        FROM lists l ORDER BY l.list_id
        """
    ).to_pylist()
    for r in rows:
        r["list_date"] = r["list_date"].isoformat() if r["list_date"] else None
        r["loaded_at"] = r["loaded_at"].isoformat(timespec="seconds") + "Z"
        r["files"] = json.loads(r["files"])
        r["counts"] = json.loads(r["counts"])
    return list(rows)


__all__ = ["FORMATS", "detect_format", "load_lists", "loaded_lists", "plan"]
