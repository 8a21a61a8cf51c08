"""Rank vessels by risk: signals → points → a score per vessel, written to table ``risk``.

The score of a vessel is the sum of its signals' points (see
:mod:`tumen.risk.weights` for the formula and :mod:`tumen.risk.signals` for the
definitions).  It is not a probability: it orders vessels for an analyst, and
every point is explained by the events or list matches it rests on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from tumen.detect.ports import Port
from tumen.provenance import tumen_version, utc_now
from tumen.risk.signals import SIGNAL_TITLES, SignalContext, ports_for_findings, union_query

if TYPE_CHECKING:
    from tumen.config import Settings
    from tumen.store.backend import Backend

#: Columns of table ``risk`` in order (see store/schema.sql, section risk).
RISK_SCHEMA = pa.schema(
    [
        ("mmsi", pa.int64()),
        ("imo", pa.int64()),
        ("name", pa.string()),
        ("flag", pa.string()),
        ("score", pa.float64()),
        ("rank", pa.int32()),
        ("signals", pa.string()),
        ("n_events", pa.int32()),
        ("weights", pa.string()),
        ("tumen_version", pa.string()),
        ("ranked_at", pa.timestamp("us")),
    ]
)

_VESSELS_SQL = """
WITH v AS (
    SELECT mmsi FROM positions
    UNION SELECT mmsi FROM statics
    UNION SELECT mmsi FROM events
    UNION SELECT other_mmsi FROM events WHERE other_mmsi IS NOT NULL
),
s AS (
    SELECT mmsi,
           max_by(imo, coalesce(ts, TIMESTAMP '1970-01-01')) FILTER (WHERE imo IS NOT NULL AND imo > 0) AS imo,
           max_by(name, coalesce(ts, TIMESTAMP '1970-01-01')) FILTER (WHERE name IS NOT NULL AND name <> '') AS name,
           max_by(flag, coalesce(ts, TIMESTAMP '1970-01-01')) FILTER (WHERE flag IS NOT NULL AND flag <> '') AS flag
    FROM statics GROUP BY mmsi
)
SELECT CAST(v.mmsi AS BIGINT) AS mmsi, CAST(s.imo AS BIGINT) AS imo, s.name, s.flag
FROM v LEFT JOIN s ON s.mmsi = v.mmsi
"""


def has_signals(score: float | None) -> bool:
    """Whether a vessel of table ``risk`` shows at least one risk signal (its score is above 0).

    The one definition behind "N vessels with risk signals" in ``tumen risk``,
    ``tumen demo`` and the report; every vessel the store has heard is *ranked*
    (it has a row and a rank), only these are *with signals*.
    """
    return score is not None and score > 0


def ranking_counts(scores: Sequence[float | None]) -> dict[str, int]:
    """``{"n_vessels": ranked vessels, "n_with_signals": those with at least one risk signal}``."""
    return {"n_vessels": len(scores), "n_with_signals": sum(1 for s in scores if has_signals(s))}


def signal_occurrences(
    store: Backend, settings: Settings, ports: Sequence[Port] | None = None
) -> pl.DataFrame:
    """Every occurrence of every signal in the store, one row each.

    Returns
    -------
    polars.DataFrame
        Columns ``signal, mmsi, event_id, entity_id, value, note`` (see
        :mod:`tumen.risk.signals`); duplicates (same vessel, signal, event and
        entity) are removed, keeping the highest value.
    """
    port_list = list(ports) if ports is not None else ports_for_findings(store, settings.ports)
    ctx = SignalContext(
        ports=port_list,
        near_port_km=settings.risk.near_port_km,
        corridor_km=settings.risk.corridor_km,
        dprk_mid=settings.detect.identity.dprk_mid,
        has_matches=store.table_exists("matches"),
        corroboration_sql=_corroboration_sql(store, settings, port_list),
        dialect=store.dialect,
    )
    df = pl.from_arrow(store.query(union_query(ctx)))
    assert isinstance(df, pl.DataFrame)
    return distinct_occurrences(df)


def distinct_occurrences(df: pl.DataFrame) -> pl.DataFrame:
    """One row per (vessel, signal, event, entity), whatever order the engine returned them in.

    Of duplicates the highest ``value`` is kept; among equal values the first ``note`` in sort
    order (an entity listed under two designations, e.g. OFAC 17068 and UN KPe.020, gives two
    rows that differ only in the note: which one is cited must not depend on the engine's row
    order, so DuckDB and Spark cite the same).
    """
    keys = ["mmsi", "signal", "event_id", "entity_id"]
    return (
        df.filter(pl.col("mmsi").is_not_null())
        .sort(
            [*keys[:2], "value", *keys[2:], "note"],
            descending=[False, False, True, False, False, False],
            nulls_last=True,
        )
        .unique(subset=keys, keep="first", maintain_order=True)
    )


def _corroboration_sql(store: Backend, settings: Settings, ports: Sequence[Port]) -> str | None:
    """The observations' corroboration query (:mod:`tumen.observe.corroborate`), or ``None`` when
    the store holds no observation."""
    if not store.table_exists("observations"):
        return None
    if not store.query("SELECT 1 AS x FROM observations LIMIT 1").num_rows:
        return None
    from tumen.observe.corroborate import corroboration_sql, ports_table, states_identity

    table = ports_table(ports)
    return corroboration_sql(
        table,
        settings.detect.port_visits.radius_scale,
        settings.observe.max_speed_kn,
        settings.observe.window_h,
        identity=states_identity(store),
        dialect=store.dialect,
    )


def score_signals(occurrences: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Points per (vessel, signal): ``weight × Σ_k value_k × decay^(k−1)``, strongest first.

    Returns
    -------
    polars.DataFrame
        Columns ``mmsi, signal, weight, count, value, points, event_ids, entity_ids, notes``;
        signals with weight 0 are dropped.
    """
    weights = settings.risk.weights
    decay = settings.risk.repeat_decay
    wtable = pl.DataFrame(
        {"signal": list(SIGNAL_TITLES), "weight": [weights.weight(s) for s in SIGNAL_TITLES]},
        schema={"signal": pl.String, "weight": pl.Float64},
    )
    if occurrences.height == 0:
        return pl.DataFrame(
            schema={
                "mmsi": pl.Int64,
                "signal": pl.String,
                "weight": pl.Float64,
                "count": pl.UInt32,
                "value": pl.Float64,
                "points": pl.Float64,
                "event_ids": pl.List(pl.String),
                "entity_ids": pl.List(pl.String),
                "notes": pl.List(pl.String),
            }
        )
    ranked = (
        occurrences.sort(
            ["mmsi", "signal", "value", "event_id"], descending=[False, False, True, False]
        )
        .with_columns(k=pl.int_range(pl.len()).over(["mmsi", "signal"]))
        .with_columns(eff=pl.col("value") * pl.lit(decay, dtype=pl.Float64).pow(pl.col("k")))
    )
    return (
        ranked.group_by(["mmsi", "signal"], maintain_order=True)
        .agg(
            count=pl.len(),
            value=pl.col("eff").sum(),
            event_ids=pl.col("event_id").drop_nulls().unique(maintain_order=True),
            entity_ids=pl.col("entity_id").drop_nulls().unique(maintain_order=True),
            notes=pl.col("note").drop_nulls().unique(maintain_order=True),
        )
        .join(wtable, on="signal", how="left")
        .filter(pl.col("weight") > 0)
        .with_columns(points=pl.col("weight") * pl.col("value"))
        .sort(["mmsi", "points"], descending=[False, True])
    )


def _signal_json(rows: list[dict[str, Any]]) -> str:
    out = [
        {
            "signal": r["signal"],
            "title": SIGNAL_TITLES.get(r["signal"], r["signal"]),
            "weight": r["weight"],
            "value": round(r["value"], 6),
            "points": round(r["points"], 3),
            "count": r["count"],
            "event_ids": r["event_ids"],
            "entity_ids": r["entity_ids"],
            "notes": r["notes"][:20],
        }
        for r in rows
    ]
    return json.dumps(out, ensure_ascii=False)


def rank_vessels(
    store: Backend, settings: Settings, *, ports: str | Path | None = None, write: bool = True
) -> pa.Table:
    """Score and rank every vessel in the store; replace table ``risk``; return it.

    Parameters
    ----------
    store:
        A tumen store with ``positions``, ``statics``, ``events`` and (after
        screening) ``matches``.
    settings:
        ``settings.risk`` gives the weights, ``repeat_decay``, ``near_port_km`` and
        ``corridor_km``.
    ports:
        A watched-ports CSV the user named (else ``settings.ports``); it must be the file the
        events were detected with.  By default the ports detection recorded are used
        (:func:`tumen.detect.ports.ports_detection_used`).
    write:
        Replace table ``risk`` with the result (``False``: only return it, e.g. on a read-only store).

    Returns
    -------
    pyarrow.Table
        Table ``risk``: one row per vessel (MMSI), best first — ``mmsi, imo, name,
        flag, score`` (points), ``rank`` (1 = highest), ``signals`` (JSON list of
        ``{signal, title, weight, value, points, count, event_ids, entity_ids,
        notes}``, highest points first), ``n_events`` (distinct events behind
        the score, i.e. cited by its signals: a vessel's dossier lists all its events
        and says how many of them these are), ``weights`` (JSON of the
        weights used), ``tumen_version``, ``ranked_at`` (UTC).

    Examples
    --------
    >>> table = rank_vessels(store, settings)            # doctest: +SKIP
    >>> table.slice(0, 3).select(["mmsi", "name", "score"]).to_pylist()  # doctest: +SKIP
    """
    port_list = ports_for_findings(store, ports if ports is not None else settings.ports)
    occ = signal_occurrences(store, settings, port_list)
    scored = score_signals(occ, settings)
    vessels = pl.from_arrow(store.query(_VESSELS_SQL))
    assert isinstance(vessels, pl.DataFrame)

    per_vessel: dict[int, list[dict[str, Any]]] = {}
    for row in scored.iter_rows(named=True):  # one row per (vessel, signal): small
        per_vessel.setdefault(int(row["mmsi"]), []).append(row)
    totals = scored.group_by("mmsi").agg(
        score=pl.col("points").sum(),
        n_events=pl.col("event_ids").list.explode().drop_nulls().n_unique().cast(pl.Int32),
    )
    table = (
        vessels.join(totals, on="mmsi", how="full", coalesce=True)
        .with_columns(
            score=pl.col("score").fill_null(0.0).round(3),
            n_events=pl.col("n_events").fill_null(0),
        )
        .sort(["score", "mmsi"], descending=[True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).cast(pl.Int32))
    )
    weights_json = json.dumps(
        {
            **settings.risk.weights.model_dump(),
            "repeat_decay": settings.risk.repeat_decay,
            "near_port_km": settings.risk.near_port_km,
            "corridor_km": settings.risk.corridor_km,
        }
    )
    mmsis = table.get_column("mmsi").to_list()
    out = pa.table(
        {
            "mmsi": pa.array(mmsis, pa.int64()),
            "imo": pa.array(table.get_column("imo").to_list(), pa.int64()),
            "name": pa.array(table.get_column("name").to_list(), pa.string()),
            "flag": pa.array(table.get_column("flag").to_list(), pa.string()),
            "score": pa.array(table.get_column("score").to_list(), pa.float64()),
            "rank": pa.array(table.get_column("rank").to_list(), pa.int32()),
            "signals": pa.array(
                [_signal_json(per_vessel.get(int(m), [])) for m in mmsis], pa.string()
            ),
            "n_events": pa.array(table.get_column("n_events").to_list(), pa.int32()),
            "weights": pa.array([weights_json] * len(mmsis), pa.string()),
            "tumen_version": pa.array([tumen_version()] * len(mmsis), pa.string()),
            "ranked_at": pa.array([utc_now()] * len(mmsis), pa.timestamp("us")),
        },
        schema=RISK_SCHEMA,
    )
    if write:
        store.replace("risk", out)
    return out
