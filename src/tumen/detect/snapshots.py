"""Compiled-SQL snapshots: the statements ``tumen detect`` runs, as each engine's dialect spells them.

A full run and then an incremental run of :func:`~tumen.detect.pipeline.run_detectors` go over a
tiny store built here (two vessels, one day: a track interrupted by two spoofed excursions, so the
pointer-jumping rounds run; a silence; a renaming), through a :class:`Recorder` around the backend.

- For DuckDB the recorder passes every call to a real in-memory store and keeps the answers of
  its queries.
- For Spark nothing runs: the recorder spells the same run with :data:`~tumen.store.dialect.SPARK`
  and answers each query with the DuckDB run's answer to the same query (the control flow — chunk
  count, pointer-jumping rounds — depends only on those answers, so both runs take the same path).

Each step of the run (``ports``, ``segments and legs``, …, ``write``) gives one file,
``tests/detect/sql_snapshots/<engine>/<nn>_<step>.sql``, holding each distinct statement once, in
the order first run, headed by what the backend was asked to do with it (``materialise NAME``,
``query``, ``execute``).  ``tests/detect/test_sql_snapshots.py`` fails when the SQL drifts from the
committed files, so a dialect change shows in review.  Regenerate with::

    python -m tumen.detect.snapshots --update
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from tumen.config import Settings
from tumen.detect.pipeline import run_detectors
from tumen.store.dialect import DUCKDB, SPARK, Dialect
from tumen.store.duckdb import DuckDBStore

#: Where the snapshots live in a source checkout.
SNAPSHOT_DIR = Path(__file__).resolve().parents[3] / "tests" / "detect" / "sql_snapshots"

#: Engines snapshotted, by dialect name.
ENGINES: tuple[Dialect, ...] = (DUCKDB, SPARK)


def tidy(sql: str) -> str:
    """A statement as kept in a snapshot: dedented, trailing spaces and blank edges removed."""
    lines = textwrap.dedent(sql.strip("\n")).splitlines()
    text = "\n".join(line.rstrip() for line in lines).strip()
    # continuation lines built by Python keep their own indentation; dedent them too
    return textwrap.dedent(text)


class Recorder:
    """A backend that records every statement by step; see the module docstring.

    Parameters
    ----------
    dialect:
        The SQL dialect the detectors are to spell their statements in.
    inner:
        The backend that runs them (DuckDB), or ``None`` to replay ``answers`` instead.
    answers:
        Query results to give back in order (replay).
    """

    def __init__(
        self,
        dialect: Dialect,
        inner: DuckDBStore | None = None,
        answers: list[pa.Table] | None = None,
    ) -> None:
        self.dialect = dialect
        self.inner = inner
        self.answers: list[pa.Table] = [] if answers is None else list(answers)
        self.steps: dict[str, list[str]] = {}
        self._current: list[str] = []

    # -- recording ---------------------------------------------------------------------------
    def _record(self, what: str, sql: str) -> None:
        self._current.append(f"-- {what}\n{tidy(sql)};")

    def step(self, name: str) -> None:
        """Close the statements recorded since the last step as step ``name`` (distinct, in order)."""
        kept = self.steps.setdefault(name, [])
        for stmt in self._current:
            if stmt not in kept:
                kept.append(stmt)
        self._current = []

    def _answer(self, table: pa.Table | None) -> pa.Table:
        if self.inner is None:
            if not self.answers:
                raise RuntimeError("replay ran out of answers: the runs took different paths")
            return self.answers.pop(0)
        assert table is not None
        self.answers.append(table)
        return table

    # -- Backend protocol --------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self._record("query", sql)
        return self._answer(self.inner.query(sql, params) if self.inner else None)

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, batch_rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        yield from self.query(sql, params).to_batches(batch_rows)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._record("execute", sql)
        if self.inner:
            self.inner.execute(sql, params)

    def materialise(
        self,
        name: str,
        query: str | pa.Table,
        params: Sequence[Any] | None = None,
        *,
        append: bool = False,
    ) -> None:
        what = f"materialise {name}{' (append)' if append else ''}"
        if isinstance(query, pa.Table):
            cols = ", ".join(f"{f.name} {f.type}" for f in query.schema)
            self._current.append(f"-- {what} from an Arrow table ({cols})")
        else:
            self._record(what, query)
        if self.inner:
            self.inner.materialise(name, query, params, append=append)

    def append(self, table: str, data: pa.Table) -> None:
        self._current.append(f"-- append to {table} from an Arrow table")
        if self.inner:
            self.inner.append(table, data)

    def replace(self, table: str, data: pa.Table) -> None:
        self._current.append(f"-- replace {table} from an Arrow table")
        if self.inner:
            self.inner.replace(table, data)

    def table_exists(self, table: str) -> bool:
        return self.inner.table_exists(table) if self.inner else True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._current.append("-- begin transaction")
        if self.inner:
            with self.inner.transaction():
                yield
        else:
            yield
        self._current.append("-- commit")

    @contextmanager
    def bulk_appends(self) -> Iterator[None]:
        yield

    def close(self) -> None:
        if self.inner:
            self.inner.close()


# ----------------------------------------------------------------------------------- the tiny store
_T0 = datetime(2024, 1, 1)
_SHIP_A, _SHIP_B = 273_000_001, 273_000_002


def tiny_positions() -> pa.Table:
    """Two vessels over one day, a fix every 10 min (UTC), at sea east of Korea.

    Ship A drifts east at about 1 kn, leaps 300 km away for half an hour twice (two ``jump``
    segments, so its track's runs chain and the pointer jumping runs a round), and is silent for
    seven hours (a gap).  Ship B drifts 300 m beside it for four hours (an encounter).
    """
    rows: list[dict[str, Any]] = []
    for i in range(144):
        t = _T0 + timedelta(minutes=10 * i)
        if 60 <= i < 102:  # seven hours of silence
            continue
        lat, lon = 40.0, 135.0 + 0.003 * i
        if i in (20, 21, 22, 40, 41, 42):  # spoofed excursions
            lat += 3.0
        rows.append({"mmsi": _SHIP_A, "ts": t, "lat": lat, "lon": lon, "sog_kn": 1.0})
        if i < 24:
            rows.append(
                {"mmsi": _SHIP_B, "ts": t, "lat": 40.0027, "lon": 135.0 + 0.003 * i, "sog_kn": 1.0}
            )
    n = len(rows)
    return pa.table(
        {
            "pos_id": pa.array(range(1, n + 1), pa.int64()),
            "mmsi": pa.array([r["mmsi"] for r in rows], pa.int64()),
            "ts": pa.array([r["ts"] for r in rows], pa.timestamp("us")),
            "lat": pa.array([r["lat"] for r in rows], pa.float64()),
            "lon": pa.array([r["lon"] for r in rows], pa.float64()),
            "sog_kn": pa.array([r["sog_kn"] for r in rows], pa.float32()),
            "msg_type": pa.array([1] * n, pa.int8()),
            "source_id": pa.array([1] * n, pa.int32()),
            "line_no": pa.array(range(1, n + 1), pa.int64()),
            "line_first": pa.array(range(1, n + 1), pa.int64()),
        }
    )


def tiny_statics() -> pa.Table:
    """Ship A's static reports: renamed at noon (three reports of each name)."""
    names = ["OLD NAME"] * 3 + ["NEW NAME"] * 3
    times = [_T0 + timedelta(hours=h) for h in (1, 2, 3, 13, 14, 15)]
    n = len(names)
    return pa.table(
        {
            "static_id": pa.array(range(1, n + 1), pa.int64()),
            "mmsi": pa.array([_SHIP_A] * n, pa.int64()),
            "ts": pa.array(times, pa.timestamp("us")),
            "imo": pa.array([9_179_843] * n, pa.int64()),
            "name": pa.array(names, pa.string()),
            "msg_type": pa.array([5] * n, pa.int8()),
            "source_id": pa.array([1] * n, pa.int32()),
            "line_no": pa.array(range(1, n + 1), pa.int64()),
            "line_first": pa.array(range(1, n + 1), pa.int64()),
        }
    )


def _run_both(rec: Recorder) -> None:
    """A full run, then an incremental one after one more position of ship A."""
    # the detectors' statements only: positions_by_vessel is the local store's layout for
    # tumen serve (DuckDB only; see tumen.store.by_vessel), not a detector step
    settings = Settings()
    settings = settings.model_copy(
        update={"serve": settings.serve.model_copy(update={"vessel_index": False})}
    )
    run_detectors(rec, settings, on_progress=lambda step, _d, _n: rec.step(step), full=True)
    rec.step("write")
    if rec.inner is not None:
        extra = tiny_positions().slice(0, 1)
        extra = extra.set_column(0, "pos_id", pa.array([10_000], pa.int64()))
        extra = extra.set_column(
            2, "ts", pa.array([_T0 + timedelta(days=1, minutes=5)], pa.timestamp("us"))
        )
        rec.inner.append("positions", extra)
    run_detectors(rec, settings, on_progress=lambda step, _d, _n: rec.step(step))
    rec.step("write")


def capture() -> dict[str, dict[str, str]]:
    """``{engine: {file name: text}}`` of every engine's snapshot files."""
    store = DuckDBStore(":memory:")
    store.append("positions", tiny_positions())
    store.append("statics", tiny_statics())
    duck = Recorder(DUCKDB, inner=store)
    try:
        _run_both(duck)
    finally:
        store.close()
    out: dict[str, dict[str, str]] = {}
    for dialect in ENGINES:
        rec = duck
        if dialect is not DUCKDB:
            rec = Recorder(dialect, answers=duck.answers)
            _run_both(rec)
        files: dict[str, str] = {}
        for i, (step, statements) in enumerate(rec.steps.items()):
            name = f"{i:02d}_{re.sub(r'[^a-z0-9]+', '_', step.lower()).strip('_')}.sql"
            head = (
                f"-- tumen detect, step {step!r}, {dialect.name} dialect: each distinct statement once.\n"
                "-- Generated by `python -m tumen.detect.snapshots --update`; do not edit.\n\n"
            )
            files[name] = head + "\n\n".join(statements) + "\n"
        out[dialect.name] = files
    return out


def compare(directory: Path = SNAPSHOT_DIR) -> list[str]:
    """Names of the snapshot files that differ from (or are missing in) ``directory``."""
    differ = []
    for engine, files in capture().items():
        folder = directory / engine
        present = {p.name for p in folder.glob("*.sql")} if folder.exists() else set()
        for name, text in files.items():
            path = folder / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                differ.append(f"{engine}/{name}")
        differ.extend(
            f"{engine}/{name} (no longer produced)" for name in sorted(present - set(files))
        )
    return differ


def update(directory: Path = SNAPSHOT_DIR) -> list[Path]:
    """Rewrite the snapshot files in ``directory``; returns the files written."""
    written = []
    for engine, files in capture().items():
        folder = directory / engine
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.sql"):
            if old.name not in files:
                old.unlink()
        for name, text in files.items():
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def snapshot_cli(
    argv: list[str] | None,
    *,
    prog: str,
    description: str,
    default_dir: Path,
    update: Callable[[Path], list[Path]],
    compare: Callable[[Path], list[str]],
) -> int:
    """The command line of a snapshot module: ``--update`` rewrites the files (prints each path),
    otherwise compares and prints ``differs: NAME`` per file that changed (exit 1)."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("--update", action="store_true", help="rewrite the snapshot files")
    ap.add_argument("--dir", type=Path, default=default_dir, help=f"default {default_dir}")
    a = ap.parse_args(argv)
    if a.update:
        for path in update(a.dir):
            print(path)
        return 0
    differ = compare(a.dir)
    for name in differ:
        print(f"differs: {name}", file=sys.stderr)
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    return snapshot_cli(
        argv,
        prog="python -m tumen.detect.snapshots",
        description=__doc__.split("\n")[0],
        default_dir=SNAPSHOT_DIR,
        update=update,
        compare=compare,
    )


if __name__ == "__main__":
    raise SystemExit(main())
