"""List history: every loaded version of a list, and what a list said on a given date.

``tumen lists load`` keeps each version it loads (tables ``list_versions``,
``list_members``, ``entity_states``, ``list_version_links``; ``lists``/``entities``/
``links`` keep holding the newest version, as before).  From the versions follow:

*date of a version*
    its ``list_date`` (the list's own publication date: UN ``dateGenerated``, the
    date in an OFAC file name, the newest FtM ``last_seen``), else the UTC day it
    was loaded.
*designation period* of a sanctioned entry (:func:`designation_periods`)
    ``listed_since`` is the first-listed date **the list gives** (UN ``LISTED_ON``,
    a ``Sanction``'s ``listingDate``, FtM ``first_seen``; ``listed_since_source =
    "list"``), else the date of the first loaded version that contains the entry
    (``"first_version_seen"``).  ``delisted_on`` is the date of the first later
    version of the same list that no longer contains it (delisting = absence from a
    later version).  ``absent_on`` is the date of the last version *before* its
    first appearance (the entry is known not to have been listed then).  A list that
    drops an entry and lists it again is read as one period from the first listing
    to the last absence.
*status at a time* ``t`` (:func:`designation_status`)
    ``in_force`` (``listed_since <= t < delisted_on``: a sanctions breach),
    ``pre_designation`` (before ``listed_since``, when that is known: the list's own
    date, or ``t <= absent_on``), ``after_delisting`` (``t >= delisted_on``) and
    ``undetermined`` (before the first version seen, with no list date and no
    earlier version: the data cannot tell).
*a list as of a date* ``D`` (:func:`entities_as_of_sql`)
    the newest version dated on or before ``D``; for a list whose first loaded
    version is later than ``D``, only the entries whose list-given date is on or
    before ``D`` (with the entities of that first version that describe them).

Examples
--------
>>> from datetime import date
>>> period = {"listed_since": date(2022, 5, 16), "listed_since_source": "list",
...           "delisted_on": None, "absent_on": None}
>>> designation_status(period, date(2023, 9, 12))
'in_force'
>>> designation_status(period, date(2021, 1, 1))
'pre_designation'
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from tumen.errors import InputError
from tumen.provenance import tumen_version
from tumen.store.backend import Backend

#: Status of a designation at an event's time → the words reports use.
STATUS_LABELS = {
    "in_force": "sanctions breach",
    "pre_designation": "pre-designation pattern",
    "after_delisting": "after delisting",
    "undetermined": "designation date unknown",
}

HISTORY_TABLES = ("list_versions", "list_members", "entity_states", "list_version_links")

#: SQL: one row per version with its date ``d`` and its place ``seq`` (1 = oldest) in its list.
VERSIONS_SQL = """
SELECT version_id, list_id, title, format, path, sha256, files, fingerprint, list_date, loaded_at,
       entities, counts,
       coalesce(list_date, CAST(loaded_at AS DATE)) AS d,
       row_number() OVER (PARTITION BY list_id
                          ORDER BY coalesce(list_date, CAST(loaded_at AS DATE)), loaded_at, version_id) AS seq
FROM list_versions
"""


# --------------------------------------------------------------------------- dates
def first_day(text: str | None) -> date | None:
    """An ISO (possibly partial) date → a date: ``'2016'`` → 2016-01-01, ``'2016-06'`` → 2016-06-01."""
    if not text:
        return None
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(text).strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def parse_day(text: str, flag: str = "--as-of") -> date:
    """A date given by a user (``2024-04-04`` or an ISO time, UTC) → a date; one-line error otherwise."""
    from tumen.times import parse_utc

    try:
        return parse_utc(text).date()
    except ValueError:
        raise InputError(
            f"{flag} {text!r} is not a date; give an ISO 8601 date, e.g. 2024-04-04"
        ) from None


def _sql_date(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


# --------------------------------------------------------------------------- writing
def listed_on_by_target(entities: Sequence[Any], first_seen: dict[str, str]) -> dict[str, date]:
    """The first-listed date the list gives for each sanctioned entity.

    The earliest ``listingDate`` of the ``Sanction`` entities naming it, or its FtM
    ``first_seen`` (from ``first_seen``: entity id → ISO date).
    """
    out: dict[str, date] = {}

    def keep(eid: str, d: date | None) -> None:
        if d is not None and (eid not in out or d < out[eid]):
            out[eid] = d

    for e in entities:
        if e.schema.name == "Sanction":
            dates = [first_day(v) for v in e.get("listingDate", quiet=True)]
            for target in e.get("entity"):
                for d in dates:
                    keep(str(target), d)
    for eid, text in first_seen.items():
        keep(eid, first_day(text))
    return out


def _new_version_id(store: Backend, list_id: str, day: date) -> str:
    base = f"{list_id}@{day.isoformat()}"
    taken = {
        r["version_id"]
        for r in store.query(
            "SELECT version_id FROM list_versions WHERE version_id = ? OR version_id LIKE ?",
            [base, base + ".%"],
        ).to_pylist()
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}.{n}" in taken:
        n += 1
    return f"{base}.{n}"


def fingerprint_of(files: Sequence[dict[str, Any]]) -> str:
    """SHA-256 over the sorted SHA-256 of a version's files (the same files = the same version)."""
    return hashlib.sha256("|".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()


def version_with_fingerprint(store: Backend, fingerprint: str) -> str | None:
    """The version id already holding exactly these files, if any."""
    rows = store.query(
        "SELECT version_id FROM list_versions WHERE fingerprint = ?", [fingerprint]
    ).to_pylist()
    return rows[0]["version_id"] if rows else None


def record_version(
    store: Backend,
    *,
    list_id: str,
    title: str,
    format: str,
    path: str,
    sha256: str,
    files: Sequence[dict[str, Any]],
    list_date: date | None,
    loaded_at: datetime,
    counts: dict[str, Any],
    entity_rows: pa.Table,
    link_rows: pa.Table,
    listed_on: dict[str, date],
) -> str:
    """Write one version (its row, new entity states, members and links); return its id.

    ``entity_rows`` and ``link_rows`` have the columns of ``entities`` and ``links``.
    Call inside the store's transaction.
    """
    day = list_date or loaded_at.date()
    version_id = _new_version_id(store, list_id, day)
    ents = entity_rows.to_pylist()
    states = [hashlib.md5(r["entity"].encode()).hexdigest() for r in ents]
    known = {
        (r["entity_id"], r["state"])
        for r in store.query(
            "SELECT entity_id, state FROM entity_states WHERE list_id = ?", [list_id]
        ).to_pylist()
    }
    fresh = [
        r | {"state": s, "listed_on": listed_on.get(r["entity_id"]) if r["target"] else None}
        for r, s in zip(ents, states, strict=True)
        if (r["entity_id"], s) not in known
    ]
    cols = (
        "list_id",
        "entity_id",
        "state",
        "schema",
        "caption",
        "datasets",
        "programs",
        "target",
        "entity",
    )
    if fresh:
        table = {c: [r[c] for r in fresh] for c in cols}
        store.append(
            "entity_states",
            pa.table(
                {
                    **{
                        c: pa.array(v, pa.bool_() if c == "target" else pa.string())
                        for c, v in table.items()
                    },
                    "listed_on": pa.array([r["listed_on"] for r in fresh], pa.date32()),
                }
            ),
        )
    store.append(
        "list_members",
        pa.table(
            {
                "version_id": pa.array([version_id] * len(ents), pa.string()),
                "entity_id": pa.array([r["entity_id"] for r in ents], pa.string()),
                "state": pa.array(states, pa.string()),
            }
        ),
    )
    if link_rows.num_rows:
        store.append(
            "list_version_links",
            link_rows.drop_columns(["list_id"]).append_column(
                "version_id", pa.array([version_id] * link_rows.num_rows, pa.string())
            ),
        )
    store.append(
        "list_versions",
        pa.table(
            {
                "version_id": [version_id],
                "list_id": [list_id],
                "title": [title],
                "format": [format],
                "path": [path],
                "sha256": [sha256],
                "files": [json.dumps(list(files))],
                "fingerprint": [fingerprint_of(files)],
                "list_date": pa.array([list_date], pa.date32()),
                "loaded_at": pa.array([loaded_at], pa.timestamp("us")),
                "tumen_version": [tumen_version()],
                "entities": [len(ents)],
                "counts": [json.dumps(counts)],
            }
        ),
    )
    return version_id


def ensure_history(store: Backend) -> int:
    """Give every list loaded before list history existed its first version (a migration).

    A store written by an earlier tumen has ``lists``/``entities``/``links`` but no
    versions: each such list becomes one version built from what the store holds
    (first-listed dates from its ``Sanction`` entities).  Does nothing on a store
    whose lists all have versions, or on a read-only store.  Returns the number of
    versions made.
    """
    if not store.table_exists("list_versions"):
        return 0
    missing = store.query(
        "SELECT * FROM lists WHERE list_id NOT IN (SELECT list_id FROM list_versions)"
    ).to_pylist()
    if not missing:
        return 0
    from followthemoney import model

    made = 0
    with store.transaction():
        for row in missing:
            ents = store.query(
                "SELECT entity_id, list_id, schema, caption, datasets, programs, target, entity "
                "FROM entities WHERE list_id = ? ORDER BY entity_id",
                [row["list_id"]],
            )
            links = store.query(
                "SELECT list_id, source_id, target_id, role, link_id, source FROM links WHERE list_id = ?",
                [row["list_id"]],
            )
            sanctions = [
                model.get_proxy(json.loads(r["entity"]))
                for r in ents.to_pylist()
                if r["schema"] == "Sanction"
            ]
            record_version(
                store,
                list_id=row["list_id"],
                title=row["title"],
                format=row["format"],
                path=row["path"],
                sha256=row["sha256"],
                files=json.loads(row["files"]),
                list_date=row["list_date"],
                loaded_at=row["loaded_at"],
                counts=json.loads(row["counts"]),
                entity_rows=ents,
                link_rows=links,
                listed_on=listed_on_by_target(sanctions, {}),
            )
            made += 1
    return made


# --------------------------------------------------------------------------- reading
def list_versions(store: Backend, list_id: str | None = None) -> list[dict[str, Any]]:
    """Every loaded version, oldest first per list: ``version_id``, ``list_id``, ``title``,
    ``format``, ``path``, ``sha256``, ``list_date`` (the list's own, ISO or None), ``date``
    (the version's date, ISO), ``loaded_at`` (ISO, UTC), ``entities``, ``targets``, ``vessels``,
    ``added``/``removed`` (sanctioned entries against the previous version; None for the first),
    ``current`` (the version ``lists``/``entities`` hold)."""
    if not store.table_exists("list_versions"):
        return []
    where = "WHERE v.list_id = ?" if list_id else ""
    rows = store.query(
        f"""
        WITH v AS ({VERSIONS_SQL}),
        t AS (SELECT m.version_id, m.entity_id, s.schema
              FROM list_members m JOIN list_versions lv USING (version_id)
              JOIN entity_states s ON s.list_id = lv.list_id AND s.entity_id = m.entity_id AND s.state = m.state
              WHERE s.target),
        n AS (SELECT version_id, count(*) AS targets, count(*) FILTER (WHERE schema = 'Vessel') AS vessels
              FROM t GROUP BY version_id),
        pairs AS (SELECT a.version_id, b.version_id AS prev FROM v a JOIN v b
                  ON a.list_id = b.list_id AND b.seq = a.seq - 1),
        added AS (SELECT p.version_id, count(*) AS n FROM pairs p JOIN t x ON x.version_id = p.version_id
                  WHERE NOT EXISTS (SELECT 1 FROM t y WHERE y.version_id = p.prev AND y.entity_id = x.entity_id)
                  GROUP BY p.version_id),
        removed AS (SELECT p.version_id, count(*) AS n FROM pairs p JOIN t y ON y.version_id = p.prev
                  WHERE NOT EXISTS (SELECT 1 FROM t x WHERE x.version_id = p.version_id AND x.entity_id = y.entity_id)
                  GROUP BY p.version_id)
        SELECT v.version_id, v.list_id, v.title, v.format, v.path, v.sha256, v.list_date, v.d, v.loaded_at,
               v.entities, v.seq, coalesce(n.targets, 0) AS targets, coalesce(n.vessels, 0) AS vessels,
               CASE WHEN v.seq = 1 THEN NULL ELSE coalesce(added.n, 0) END AS added,
               CASE WHEN v.seq = 1 THEN NULL ELSE coalesce(removed.n, 0) END AS removed,
               v.fingerprint
        FROM v LEFT JOIN n USING (version_id) LEFT JOIN added USING (version_id)
        LEFT JOIN removed USING (version_id)
        {where}
        ORDER BY v.list_id, v.seq
        """,
        [list_id] if list_id else None,
    ).to_pylist()
    current = {
        fingerprint_of(json.loads(r["files"]))
        for r in store.query("SELECT files FROM lists").to_pylist()
    }
    for r in rows:
        r["list_date"] = r["list_date"].isoformat() if r["list_date"] else None
        r["date"] = r.pop("d").isoformat()
        r["loaded_at"] = r["loaded_at"].isoformat(timespec="seconds") + "Z"
        r["current"] = r.pop("fingerprint") in current
    return list(rows)


def resolve_version(store: Backend, ref: str, list_id: str | None = None) -> dict[str, Any]:
    """A version named by its id (``us_ofac_sdn@2024-04-04``) or by a date.

    A date picks, for the list (``list_id``, needed when several lists are loaded),
    the version in force that day: the newest dated on or before it.

    Raises
    ------
    InputError
        The reference is neither a known version id nor a date, or names no version.
    """
    versions = list_versions(store)
    if not versions:
        raise InputError("no list versions in the store; run `tumen lists load PATH` first")
    by_id = {v["version_id"]: v for v in versions}
    if ref in by_id:
        return by_id[ref]
    if "@" in ref:
        raise InputError(
            f"no list version {ref!r}; `tumen lists` shows them (e.g. {next(iter(by_id))})"
        )
    try:
        day = parse_day(ref, "version")
    except InputError:
        raise InputError(
            f"{ref!r} is neither a list version (e.g. {next(iter(by_id))}) nor an ISO date"
        ) from None
    ids = sorted({v["list_id"] for v in versions})
    if list_id is None:
        if len(ids) > 1:
            raise InputError(
                f"several lists are loaded ({', '.join(ids)}); name one with --list, or give version ids"
            )
        list_id = ids[0]
    elif list_id not in ids:
        raise InputError(f"no list {list_id!r} in the store; loaded: {', '.join(ids)}")
    candidates = [v for v in versions if v["list_id"] == list_id and v["date"] <= day.isoformat()]
    if not candidates:
        first = min(v["date"] for v in versions if v["list_id"] == list_id)
        raise InputError(f"{list_id} has no version on or before {day}; its first is dated {first}")
    return candidates[-1]


def _targets_of(store: Backend, version_id: str) -> dict[str, dict[str, Any]]:
    rows = store.query(
        """SELECT s.entity_id, s.state, s.schema, s.caption, s.programs, s.entity
           FROM list_members m JOIN list_versions v USING (version_id)
           JOIN entity_states s ON s.list_id = v.list_id AND s.entity_id = m.entity_id AND s.state = m.state
           WHERE m.version_id = ? AND s.target""",
        [version_id],
    ).to_pylist()
    return {r["entity_id"]: r for r in rows}


def _entry(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity_id": r["entity_id"],
        "caption": r["caption"],
        "schema": r["schema"],
        "programs": json.loads(r["programs"] or "[]"),
    }


def _changed_properties(old: str, new: str) -> list[str]:
    a = json.loads(old).get("properties", {})
    b = json.loads(new).get("properties", {})
    return sorted(k for k in a.keys() | b.keys() if sorted(a.get(k, [])) != sorted(b.get(k, [])))


def diff_versions(store: Backend, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The sanctioned entries added, removed and changed from version ``old`` to ``new``.

    Returns ``{"old": version, "new": version, "note", "added": [...], "removed": [...],
    "changed": [...], "counts": {"added", "removed", "changed"}}``; ``note`` says when the
    two versions were read from different kinds of files (else None); each entry is
    ``{entity_id, caption, schema, programs}``, a changed one also ``properties`` (the
    FtM properties whose values differ).
    """
    a = _targets_of(store, old["version_id"])
    b = _targets_of(store, new["version_id"])
    added = [_entry(b[k]) for k in sorted(b.keys() - a.keys())]
    removed = [_entry(a[k]) for k in sorted(a.keys() - b.keys())]
    changed = [
        _entry(b[k]) | {"properties": _changed_properties(a[k]["entity"], b[k]["entity"])}
        for k in sorted(a.keys() & b.keys())
        if a[k]["state"] != b[k]["state"]
    ]
    roles = {
        r["version_id"]: sorted({f.get("role", "") for f in json.loads(r["files"])})
        for r in store.query(
            "SELECT version_id, files FROM list_versions WHERE version_id IN (?, ?)",
            [old["version_id"], new["version_id"]],
        ).to_pylist()
    }
    note = None
    if roles.get(old["version_id"]) != roles.get(new["version_id"]):
        note = (
            f"the versions were read from different kinds of files "
            f"({', '.join(roles.get(old['version_id'], []))} vs "
            f"{', '.join(roles.get(new['version_id'], []))}, e.g. OFAC ALT/ADD files attach to the "
            "newest SDN.CSV of a load): entries may differ by what those files add"
        )
    return {
        "old": old,
        "new": new,
        "note": note,
        "added": added,
        "removed": removed,
        "changed": changed,
        "counts": {"added": len(added), "removed": len(removed), "changed": len(changed)},
    }


#: SQL: the designation period of every sanctioned entry ever loaded (see the module docstring).
PERIODS_SQL = f"""
WITH v AS ({VERSIONS_SQL}),
present AS (
    SELECT v.list_id, m.entity_id, v.seq, v.d, v.version_id
    FROM list_members m JOIN v USING (version_id)
    JOIN entity_states s ON s.list_id = v.list_id AND s.entity_id = m.entity_id AND s.state = m.state
    WHERE s.target),
agg AS (
    SELECT list_id, entity_id, min(seq) AS first_seq, max(seq) AS last_seq, min(d) AS first_seen_on,
           arg_min(version_id, seq) AS first_version, arg_max(version_id, seq) AS last_version
    FROM present GROUP BY list_id, entity_id),
given AS (
    SELECT list_id, entity_id, min(listed_on) AS listed_on, max(caption) AS caption_any,
           max(schema) AS schema_any
    FROM entity_states WHERE target GROUP BY list_id, entity_id)
SELECT a.list_id, a.entity_id, g.caption_any AS caption, g.schema_any AS schema, g.listed_on,
       a.first_seen_on, a.first_version, a.last_version,
       coalesce(g.listed_on, a.first_seen_on) AS listed_since,
       CASE WHEN g.listed_on IS NOT NULL THEN 'list' ELSE 'first_version_seen' END AS listed_since_source,
       prev.d AS absent_on, nxt.d AS delisted_on, nxt.version_id AS delisted_in
FROM agg a JOIN given g USING (list_id, entity_id)
LEFT JOIN v prev ON prev.list_id = a.list_id AND prev.seq = a.first_seq - 1
LEFT JOIN v nxt ON nxt.list_id = a.list_id AND nxt.seq = a.last_seq + 1
"""


def designation_periods(
    store: Backend, keys: Sequence[tuple[str, str]] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(list_id, entity_id) → the entry's designation period.

    Each value has ``list_id``, ``entity_id``, ``caption``, ``schema``, ``listed_on``
    (the list's own date or None), ``first_seen_on`` (date of the first version holding
    it), ``first_version``, ``last_version``, ``listed_since``, ``listed_since_source``
    (``"list"`` | ``"first_version_seen"``), ``absent_on`` (the previous version's date,
    when one did not hold it), ``delisted_on`` and ``delisted_in`` (the first later
    version without it, else None).  Dates are :class:`datetime.date`.
    """
    if not store.table_exists("list_versions"):
        return {}
    sql = PERIODS_SQL
    params: list[Any] | None = None
    if keys is not None:
        keys = sorted(set(keys))
        if not keys:
            return {}
        sql = f"SELECT * FROM ({PERIODS_SQL}) p WHERE (list_id || chr(31) || entity_id) IN (SELECT unnest(?))"
        params = [[f"{a}\x1f{b}" for a, b in keys]]
    return {(r["list_id"], r["entity_id"]): r for r in store.query(sql, params).to_pylist()}


def designation_status(period: dict[str, Any], when: date | datetime) -> str:
    """``in_force`` | ``pre_designation`` | ``after_delisting`` | ``undetermined`` at ``when`` (UTC).

    A date-only period boundary starts at 00:00 UTC of that day.
    """
    day = when.date() if isinstance(when, datetime) else when
    since: date = period["listed_since"]
    delisted: date | None = period.get("delisted_on")
    if delisted is not None and day >= delisted:
        return "after_delisting"
    if day >= since:
        return "in_force"
    if period.get("listed_since_source") == "list":
        return "pre_designation"
    absent: date | None = period.get("absent_on")
    if absent is not None and day <= absent:
        return "pre_designation"
    return "undetermined"


def listed_as_of(period: dict[str, Any], day: date) -> bool:
    """Whether the entry is known to be listed on ``day`` (its status then is ``in_force``)."""
    return designation_status(period, day) == "in_force"


# --------------------------------------------------------------------------- a list as of a date
def check_as_of(store: Backend, day: date) -> None:
    """Raise a one-line :class:`~tumen.errors.StoreError` when the store cannot answer "as of ``day``".

    That is when its lists were loaded by a tumen without list history and the store is
    opened read-only (a writable open records their versions: :func:`ensure_history`).
    """
    from tumen.errors import StoreError

    if (
        not store.table_exists("list_versions")
        or store.query(
            "SELECT count(*) AS n FROM lists WHERE list_id NOT IN (SELECT list_id FROM list_versions)"
        )
        .column("n")[0]
        .as_py()
    ):
        raise StoreError(
            f"the store's lists have no recorded versions, so it cannot screen as of {day}; "
            "run `tumen lists load` on it once (or `tumen screen` without --query) to record them"
        )


def _chosen_versions_sql(day: date) -> str:
    """One row per list: the version that speaks for it on ``day`` and whether it is later (``early``)."""
    d = _sql_date(day)
    return f"""
    WITH v AS ({VERSIONS_SQL}),
    best AS (SELECT list_id, max(seq) FILTER (WHERE d <= {d}) AS upto, min(seq) AS first FROM v GROUP BY list_id)
    SELECT v.version_id, v.list_id, (b.upto IS NULL) AS early
    FROM v JOIN best b ON b.list_id = v.list_id AND v.seq = coalesce(b.upto, b.first)
    """


def entities_as_of_sql(day: date) -> str:
    """SQL of a relation with the columns of ``entities``: the lists as they stood on ``day``.

    Use it where ``entities`` would be read (``FROM (<this>) entities``).
    """
    d = _sql_date(day)
    return f"""
    SELECT s.entity_id, s.list_id, s.schema, s.caption, s.datasets, s.programs, s.target, s.entity
    FROM ({_chosen_versions_sql(day)}) c
    JOIN list_members m ON m.version_id = c.version_id
    JOIN entity_states s ON s.list_id = c.list_id AND s.entity_id = m.entity_id AND s.state = m.state
    WHERE NOT c.early OR NOT s.target OR (s.listed_on IS NOT NULL AND s.listed_on <= {d})
    """


def links_as_of_sql(day: date) -> str:
    """SQL of a relation with the columns of ``links``: the links stated by the lists on ``day``."""
    return f"""
    SELECT c.list_id, k.source_id, k.target_id, k.role, k.link_id, k.source
    FROM ({_chosen_versions_sql(day)}) c JOIN list_version_links k ON k.version_id = c.version_id
    """


def lists_as_of(store: Backend, day: date) -> list[dict[str, Any]]:
    """The version each list is read from on ``day``: ``list_id``, ``version_id``, ``early``
    (its first version is later than ``day``: only entries the list dates on or before it)."""
    if not store.table_exists("list_versions"):
        return []
    return list(store.query(_chosen_versions_sql(day) + " ORDER BY list_id").to_pylist())


__all__ = [
    "STATUS_LABELS",
    "designation_periods",
    "designation_status",
    "diff_versions",
    "ensure_history",
    "entities_as_of_sql",
    "links_as_of_sql",
    "list_versions",
    "lists_as_of",
    "record_version",
    "resolve_version",
]
