"""Score detected events against a truth file: precision, recall and F1 per event type.

A detected event (table ``events``) *matches* a truth event when

* the type is the same, and so are the vessel(s) — the unordered pair
  ``{mmsi, other_mmsi}`` for encounters, ``mmsi`` otherwise —, the port
  (``port_visit``), the ports in order (``voyage``) and the subtype (``identity``);
* their times overlap once each interval is widened by the type's tolerance
  (:class:`tumen.config.EvaluateParams`: 1 h for port visits, gaps, encounters and
  loitering, 2 h for voyages and for ``mmsi_conflict``, ``position_jump`` and
  ``identity_change``); ``dprk_mid``, ``invalid_imo`` and ``flag_mismatch`` describe a
  vessel rather than a moment and match whatever their times.

Matching is one-to-one and greedy: candidate pairs are taken in order of decreasing
time overlap (then increasing start difference), each event used once.  Unmatched
truth events are *missed* (false negatives), unmatched detections *spurious* (false
positives).  Truth lines marked ``"negative": true`` are look-alikes: they are not
positives, and a spurious detection that matches one is also listed in
``negatives_hit``.

Precision = tp / (tp + fp), recall = tp / (tp + fn) (each 1.0 when its denominator is
0), F1 their harmonic mean; ``overall`` sums tp, fp and fn over the types.  ``timing``
gives, per type, the median and largest distance (minutes) between the start and end
times of matched detections and their truth.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tumen.config import EvaluateParams, Settings
from tumen.detect.events import EVENT_TYPES
from tumen.errors import StoreError
from tumen.sim.truth import iso, read_truth
from tumen.store.backend import Backend

#: Event types always present in ``by_type`` (issue 4).
TYPES = EVENT_TYPES
_FIELDS = (
    "event_id",
    "type",
    "subtype",
    "mmsi",
    "other_mmsi",
    "start",
    "end",
    "port",
    "from_port",
    "to_port",
)


def match_key(e: dict[str, Any]) -> tuple[Any, ...]:
    """What two events must share to be compared at all."""
    kind = e["type"]
    if kind == "encounter":
        pair = sorted(int(m) for m in (e["mmsi"], e.get("other_mmsi")) if m is not None)
        return (kind, *pair)
    if kind == "port_visit":
        return (kind, int(e["mmsi"]), e.get("port"))
    if kind == "voyage":
        return (kind, int(e["mmsi"]), e.get("from_port"), e.get("to_port"))
    return (kind, e.get("subtype"), int(e["mmsi"]))  # identity subtypes, gaps, loitering


def tolerance_s(e: dict[str, Any], params: EvaluateParams) -> float | None:
    """Time slack (s) of an event's type; ``None`` = times not compared."""
    kind = e["type"]
    if kind == "identity":
        if e.get("subtype") in params.timeless_subtypes:
            return None
        return params.identity_h * 3600.0
    hours = {
        "port_visit": params.port_visit_h,
        "voyage": params.voyage_h,
        "gap": params.gap_h,
        "encounter": params.encounter_h,
        "loitering": params.loitering_h,
    }.get(kind, 1.0)
    return hours * 3600.0


def _pairs(
    truth: list[dict[str, Any]], found: list[dict[str, Any]], params: EvaluateParams
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of truth rows to detected rows."""
    by_key: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for j, d in enumerate(found):
        by_key[match_key(d)].append(j)
    candidates: list[tuple[float, float, int, int]] = []
    for i, t in enumerate(truth):
        tol = tolerance_s(t, params)
        for j in by_key.get(match_key(t), []):
            d = found[j]
            overlap = min(t["end"], d["end"]) - max(t["start"], d["start"])
            if tol is not None and overlap < -tol:
                continue
            candidates.append((-overlap, abs(t["start"] - d["start"]), i, j))
    candidates.sort()
    used_t: set[int] = set()
    used_d: set[int] = set()
    out = []
    for _o, _s, i, j in candidates:
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        out.append((i, j))
    return out


def _rates(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def _public(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: e.get(k) for k in _FIELDS if k in e or k in ("subtype", "other_mmsi")}
    out["start"], out["end"] = iso(e["start"]), iso(e["end"])
    for k in ("detector", "note"):
        if e.get(k) is not None:
            out[k] = e[k]
    return out


def _timing(
    truth: list[dict[str, Any]],
    found: list[dict[str, Any]],
    matched: list[tuple[int, int]],
    params: EvaluateParams,
) -> dict[str, Any]:
    """How far matched detections start and end from the truth, per type (minutes).

    Identity subtypes whose times are not compared (``params.timeless_subtypes``) are left out.
    """
    out: dict[str, Any] = {}
    for kind in sorted({truth[i]["type"] for i, _ in matched}):
        pairs = [(truth[i], found[j]) for i, j in matched if truth[i]["type"] == kind]
        if kind == "identity":
            pairs = [(t, d) for t, d in pairs if t.get("subtype") not in params.timeless_subtypes]
            if not pairs:
                continue
        starts = sorted(abs(d["start"] - t["start"]) / 60.0 for t, d in pairs)
        ends = sorted(abs(d["end"] - t["end"]) / 60.0 for t, d in pairs)
        out[kind] = {
            "start_offset_min_median": round(starts[len(starts) // 2], 2),
            "start_offset_min_max": round(starts[-1], 2),
            "end_offset_min_median": round(ends[len(ends) // 2], 2),
            "end_offset_min_max": round(ends[-1], 2),
        }
    return out


def score(
    truth: list[dict[str, Any]], found: list[dict[str, Any]], params: EvaluateParams
) -> dict[str, Any]:
    """Compare events (``start``/``end`` in Unix seconds); the ``--json`` object of ``tumen evaluate``."""
    positives = [t for t in truth if not t.get("negative")]
    negatives = [t for t in truth if t.get("negative")]
    matched = _pairs(positives, found, params)
    hit_t = {i for i, _ in matched}
    hit_d = {j for _, j in matched}
    missed = [positives[i] for i in range(len(positives)) if i not in hit_t]
    spurious = [found[j] for j in range(len(found)) if j not in hit_d]
    neg_pairs = _pairs(negatives, spurious, params)
    types = list(TYPES) + sorted({e["type"] for e in (*positives, *found)} - set(TYPES))
    by_type: dict[str, Any] = {}
    for kind in types:
        tp = sum(1 for i, _ in matched if positives[i]["type"] == kind)
        by_type[kind] = _rates(
            tp,
            sum(1 for e in spurious if e["type"] == kind),
            sum(1 for e in missed if e["type"] == kind),
        )
    subtypes: list[str] = sorted(
        {
            str(e["subtype"])
            for e in (*positives, *found)
            if e["type"] == "identity" and e.get("subtype")
        }
    )
    by_subtype = {}
    for sub in subtypes:
        tp = sum(
            1
            for i, _ in matched
            if positives[i]["type"] == "identity" and positives[i].get("subtype") == sub
        )
        fp = sum(1 for e in spurious if e["type"] == "identity" and e.get("subtype") == sub)
        fn = sum(1 for e in missed if e["type"] == "identity" and e.get("subtype") == sub)
        by_subtype[sub] = _rates(tp, fp, fn)
    return {
        "by_type": by_type,
        "overall": _rates(len(matched), len(spurious), len(missed)),
        "missed": [_public(e) for e in missed],
        "spurious": [_public(e) for e in spurious],
        "negatives_hit": [
            {"negative": _public(negatives[i]), "detected": _public(spurious[j])}
            for i, j in neg_pairs
        ],
        "by_subtype": by_subtype,
        "timing": _timing(positives, found, matched, params),
        "counts": {"truth": len(positives), "negatives": len(negatives), "detected": len(found)},
        "tolerance_h": {
            "port_visit": params.port_visit_h,
            "voyage": params.voyage_h,
            "gap": params.gap_h,
            "encounter": params.encounter_h,
            "loitering": params.loitering_h,
            "identity": params.identity_h,
            "timeless_subtypes": list(params.timeless_subtypes),
        },
    }


def detected_events(store: Backend) -> list[dict[str, Any]]:
    """The store's ``events`` table as dicts with Unix-second times."""
    if not store.table_exists("events"):
        raise StoreError("the store has no events table; run `tumen detect` first")
    table = store.query(
        'SELECT event_id, type, subtype, mmsi, other_mmsi, start, "end", port, from_port, to_port, detector '
        "FROM events ORDER BY start, event_id"
    )
    seconds = {}
    for col in ("start", "end"):
        arr = table.column(col)
        unit = getattr(arr.type, "unit", "us")
        per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
        seconds[col] = [
            None if v is None else v // per_s for v in pc.cast(arr, pa.int64()).to_pylist()
        ]
    rows: list[dict[str, Any]] = table.drop_columns(["start", "end"]).to_pylist()
    for r, a, b in zip(rows, seconds["start"], seconds["end"], strict=True):
        r["start"], r["end"] = int(a or 0), int(b or 0)
    return rows


def evaluate(
    store: Backend, truth_path: str | Path, settings: Settings | None = None
) -> dict[str, Any]:
    """Score the store's events against ``truth_path`` (see the module docstring).

    Returns
    -------
    dict
        ``{"by_type": {type: {tp, fp, fn, precision, recall, f1}}, "overall": {...},
        "missed": [...], "spurious": [...], "negatives_hit": [...]}`` plus
        ``by_subtype``, ``counts`` and ``tolerance_h``.
    """
    settings = settings or Settings()
    result = score(read_truth(truth_path), detected_events(store), settings.sim.evaluate)
    result["truth_file"] = str(truth_path)
    return result
