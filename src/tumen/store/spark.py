"""The Apache Spark engine: the :class:`~tumen.store.backend.Backend` protocol over a SparkSession.

Everything Spark-specific lives in this module (as everything DuckDB-specific lives in
``duckdb.py``).  The detectors' SQL is the same on both engines; what differs between the two SQL
dialects is spelled in :mod:`tumen.store.dialect` (``backend.dialect``).

Tables
    Spark SQL has no mutable temporary tables, so every table of a run is a *temporary view* over a
    computed DataFrame.  :meth:`SparkBackend.materialise` computes a query at once (see
    :data:`MATERIALISE`) and registers the result under a name; the statements the pipeline runs
    against its tables (``INSERT INTO t …``, ``DELETE FROM t WHERE …``, ``CREATE TEMP TABLE t (…)``,
    ``DROP TABLE t``) are carried out copy-on-write: the new contents are computed and registered in
    place of the old.  A run on Spark is not transactional; it writes nothing outside Spark until its
    events are written as Parquet (:meth:`SparkBackend.write_events`).

Input
    :meth:`SparkBackend.from_layout` reads the Parquet layout that
    ``tumen export --format parquet --partition-by day`` writes (``positions/day=YYYY-MM-DD/*.parquet``,
    ``statics/…``, ``sources/…``) as the tables ``positions``, ``statics`` and ``sources``; every other
    table of ``store/schema.sql`` starts empty.

Times
    The session time zone is UTC; timestamps leave as Arrow ``timestamp[us]`` without zone (as
    DuckDB gives them) and Python ``datetime`` parameters without zone are taken as UTC.

Example
-------
>>> backend = SparkBackend.from_layout("export/", master="local[2]")   # doctest: +SKIP
>>> backend.query("SELECT count(*) AS n FROM positions").column("n")[0]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tumen.errors import BackendUnavailable, InputError, StoreError
from tumen.store.dialect import SPARK, SPARK_SESSION_CONF, Dialect

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from tumen.config import SparkSettings

log = logging.getLogger(__name__)

#: Ways to compute a table at once (``[spark] materialise``), fastest first on small data
#: (``bench/engines.py --materialise``): ``checkpoint`` = ``DataFrame.localCheckpoint(eager=True)``
#: (computed into the executors' block stores, lineage cut, so loops do not grow their plans);
#: ``cache`` = ``cache()`` then ``count()`` (keeps the lineage: plans grow with each loop round);
#: ``parquet`` = written to the scratch folder and read back (survives executor loss; slowest).
MATERIALISE = ("checkpoint", "cache", "parquet")

#: The tables a Parquet layout holds (one folder each), as written by ``tumen export --format
#: parquet --partition-by day`` (:func:`tumen.export.layout.write_layout`).
LAYOUT_TABLES = ("positions", "statics", "sources")

_CREATE_AS = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>\w+)\s+AS\s+(?P<query>.*)$",
    re.I | re.S,
)
_CREATE_COLS = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>\w+)\s*\((?P<cols>.*)\)\s*;?\s*$",
    re.I | re.S,
)
_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<name>\"?\w+\"?)\s*(?:\((?P<cols>[^()]*)\))?\s*(?P<query>(?:SELECT|WITH|VALUES|\().*)$",
    re.I | re.S,
)
_DELETE = re.compile(
    r"^\s*DELETE\s+FROM\s+(?P<name>\"?\w+\"?)\s*(?:WHERE\s+(?P<cond>.*))?$", re.I | re.S
)
_DROP = re.compile(
    r"^\s*DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?(?P<name>\"?\w+\"?)\s*;?\s*$", re.I | re.S
)
#: DuckDB column types of ``CREATE TEMP TABLE t (…)`` and their Spark names
_TYPES = {"VARCHAR": "STRING", "TEXT": "STRING", "REAL": "FLOAT", "HUGEINT": "DECIMAL(38,0)"}


def _log4j_config() -> str:
    return str(resources.files("tumen.store").joinpath("log4j2-spark.properties"))


def check_java() -> str:
    """The ``java`` Spark will start, or :class:`~tumen.errors.BackendUnavailable` saying how to get one."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise BackendUnavailable(
            "the Spark engine needs Java 17 or newer and none was found (no `java` on the PATH, "
            "JAVA_HOME unset); install it (Debian: apt-get install default-jre-headless, or "
            "`scripts/setup.sh spark`) or use --engine duckdb"
        )
    return java


def spark_session(settings: SparkSettings | None = None, master: str | None = None) -> SparkSession:
    """Start (or join) the SparkSession tumen runs on, configured from ``[spark]`` settings.

    Quiet: Spark's JVM logs only errors (``store/log4j2-spark.properties``), no progress bars, no
    web UI.  UTC session time zone; Arrow transfers on.

    Raises
    ------
    BackendUnavailable
        pyspark is not installed or no Java runtime is found.
    """
    from tumen.config import SparkSettings

    s = settings or SparkSettings()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BackendUnavailable(
            "the Spark engine needs pyspark; install it with `pip install 'tumen[spark]'` "
            "(or `scripts/setup.sh spark`), or use --engine duckdb"
        ) from None
    check_java()
    java_opts = f"-Dlog4j2.configurationFile=file:{_log4j_config()} -Duser.timezone=UTC"
    options = {
        "spark.app.name": "tumen",
        "spark.master": master or s.master,
        "spark.driver.memory": s.driver_memory,
        "spark.driver.extraJavaOptions": java_opts,
        "spark.executor.extraJavaOptions": java_opts,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.shuffle.partitions": str(s.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        **s.conf,
        **SPARK_SESSION_CONF,
    }
    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    t0 = time.perf_counter()
    # pyspark warns about pandas versions on import of its testing helpers; tumen uses Arrow only.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        _launch_quiet_jvm(options)
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement as a JSON record with the JVM stack; tumen reports the
    # error itself, in one line (SparkBackend._sql)
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    log.info(
        "spark %s session on %s started in %.1f s",
        session.version,
        session.sparkContext.master,
        time.perf_counter() - t0,
    )
    return session


#: Lines the JVM prints on its stderr that tell a tumen user nothing; :func:`forward_jvm_stderr`
#: drops them.  Spark 4's launcher always adds ``--add-modules=jdk.incubator.vector``
#: (``org.apache.spark.launcher.JavaModuleOptions``), and the JVM then announces the incubator
#: module at start, with no option to silence it.
JVM_NOISE: tuple[re.Pattern[bytes], ...] = (re.compile(rb"^WARNING: Using incubator modules: "),)


def forward_jvm_stderr(stream: Any, write: Any) -> None:
    """Copy the JVM's stderr (``stream``, bytes lines) to ``write`` line by line, without the
    :data:`JVM_NOISE` lines; returns when the JVM closes it."""
    for line in iter(stream.readline, b""):
        if not any(p.match(line) for p in JVM_NOISE):
            write(line)


def _launch_quiet_jvm(options: dict[str, str]) -> None:
    """Start Spark's JVM (py4j gateway) with its stderr passed through :func:`forward_jvm_stderr`
    to this process's stderr, unless a JVM is already there (an earlier session, or
    ``spark-submit``/a notebook that started Python from the JVM)."""
    import subprocess
    import threading

    from pyspark import SparkConf
    from pyspark.core.context import SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return
    conf = SparkConf(loadDefaults=False).setAll(list(options.items()))
    gateway = launch_gateway(conf, popen_kwargs={"stderr": subprocess.PIPE})  # type: ignore[no-untyped-call]
    threading.Thread(
        target=forward_jvm_stderr,
        args=(gateway.proc.stderr, lambda line: os.write(2, line)),
        name="spark-jvm-stderr",
        daemon=True,
    ).start()
    SparkContext._ensure_initialized(gateway=gateway, conf=conf)


@contextmanager
def spark_errors(sql: str) -> Iterator[None]:
    """Spark's errors as one-line :class:`~tumen.errors.StoreError` naming the statement."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JJavaError) as exc:
        text = str(exc).strip()
        if isinstance(exc, Py4JJavaError):  # "An error occurred while calling …\n: java.…: why"
            text = str(exc.java_exception).strip() or text
        first = text.splitlines()[0] if text else type(exc).__name__
        stmt = " ".join(sql.split())[:160]
        raise StoreError(f"spark: {first} (in: {stmt})") from exc


def _utc(value: Any) -> Any:
    """A parameter as Spark should see it: naive datetimes are UTC."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _naive(table: pa.Table) -> pa.Table:
    """Timestamps with a zone (Spark's TIMESTAMP) as UTC timestamps without zone (DuckDB's)."""
    fields = []
    changed = False
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            fields.append(pa.field(f.name, pa.timestamp("us"), f.nullable))
            changed = True
        else:
            fields.append(f)
    return table.cast(pa.schema(fields)) if changed else table


def _plain(table: pa.Table) -> pa.Table:
    """An Arrow table Spark can take: dictionaries (DuckDB ENUMs) decoded to strings."""
    fields = [
        pa.field(f.name, f.type.value_type, True) if pa.types.is_dictionary(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def _unquote(name: str) -> str:
    return name.strip().strip('"').strip("`")


def _quote(name: str) -> str:
    return f"`{name}`"


class SparkBackend:
    """A tumen store on Apache Spark: tables are temporary views of one SparkSession.

    Parameters
    ----------
    session:
        The SparkSession (from :func:`spark_session`).
    materialise_by:
        One of :data:`MATERIALISE`.
    scratch:
        Folder for ``parquet`` materialisation (``None``: a temporary folder, removed on close).
    owns_session:
        Stop the session on :meth:`close` (``False`` when it is shared, as in the tests).
    """

    def __init__(
        self,
        session: SparkSession,
        *,
        materialise_by: str = "checkpoint",
        scratch: str | Path | None = None,
        owns_session: bool = True,
    ) -> None:
        if materialise_by not in MATERIALISE:
            raise StoreError(
                f"unknown materialisation {materialise_by!r}; choose one of {', '.join(MATERIALISE)}"
            )
        self.spark = session
        self.materialise_by = materialise_by
        self._own_scratch = scratch is None
        self.scratch = Path(scratch) if scratch else None
        self.owns_session = owns_session
        self._frames: dict[str, DataFrame] = {}
        self._counter = itertools.count()
        self.path = f"spark:{session.sparkContext.master}"
        self._create_schema_tables()

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_layout(
        cls,
        layout: str | Path,
        *,
        settings: SparkSettings | None = None,
        master: str | None = None,
        session: SparkSession | None = None,
    ) -> SparkBackend:
        """A backend whose ``positions``, ``statics`` and ``sources`` are the Parquet layout ``layout``.

        ``layout`` may be a local folder or any URL Spark reads (``gs://``, ``s3a://``, ``hdfs://``).

        Raises
        ------
        InputError
            ``layout`` holds no ``positions`` folder.
        """
        from tumen.config import SparkSettings

        s = settings or SparkSettings()
        own = session is None
        spark = session or spark_session(s, master)
        backend = cls(spark, materialise_by=s.materialise, scratch=s.scratch, owns_session=own)
        backend.register_layout(layout)
        return backend

    def register_layout(self, layout: str | Path) -> None:
        """Register the tables of a Parquet layout (see :meth:`from_layout`) as this backend's input."""
        root = str(layout).rstrip("/")
        local = "://" not in root
        if local and not (Path(root) / "positions").is_dir():
            raise InputError(
                "not a tumen Parquet layout (no positions/ folder); write one with "
                "`tumen export --format parquet --partition-by day --out DIR`",
                Path(root),
            )
        for table in LAYOUT_TABLES:
            path = f"{root}/{table}"
            if local and not Path(path).exists():
                continue
            df = self.spark.read.option("basePath", path).parquet(path)
            # the Hive partition column is a path artefact, not a column of the table
            if "day" in df.columns and table != "sources":
                df = df.drop("day")
            self._register(table, df)

    def _create_schema_tables(self) -> None:
        """Every table of ``store/schema.sql``, empty, with its columns and types."""
        from tumen.store.duckdb import DuckDBStore

        with DuckDBStore(":memory:") as mem:
            names = mem.query(
                "SELECT table_name FROM information_schema.tables ORDER BY table_name"
            ).column("table_name")
            for name in names.to_pylist():
                empty = _plain(mem.query(f'SELECT * FROM "{name}" LIMIT 0'))
                self._register(name, self._empty(empty.schema))

    # -- Backend protocol -------------------------------------------------------
    #: Spark SQL's spellings (:mod:`tumen.store.dialect`).
    dialect: Dialect = SPARK

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        df = self._sql(sql, params)
        with spark_errors(sql):
            return _naive(df.toArrow())

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, batch_rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        yield from self.query(sql, params).to_batches(max_chunksize=batch_rows)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement; table writes are done copy-on-write (see the module docstring)."""
        if m := _CREATE_AS.match(sql):
            self.materialise(m["name"], m["query"], params)
        elif m := _CREATE_COLS.match(sql):
            cols = ", ".join(
                f"CAST(NULL AS {self._type(t)}) AS {_quote(c)}"
                for c, t in (
                    part.strip().split(None, 1) for part in m["cols"].split(",") if part.strip()
                )
            )
            self.materialise(m["name"], f"SELECT {cols} WHERE false")
        elif m := _INSERT.match(sql):
            self._insert(_unquote(m["name"]), m["cols"], m["query"], params)
        elif m := _DELETE.match(sql):
            name = _unquote(m["name"])
            keep = f"SELECT * FROM {_quote(name)}"
            if m["cond"]:
                keep += f" WHERE NOT coalesce(({m['cond']}), false)"
                self.materialise(name, keep, params)
            else:
                self.materialise(name, keep + " WHERE false")
        elif m := _DROP.match(sql):
            self._drop(_unquote(m["name"]))
        else:
            df = self._sql(sql, params)
            with spark_errors(sql):
                df.collect()

    def append(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        target = self._frames.get(table)
        df = self.spark.createDataFrame(_plain(data))
        if target is not None:
            df = target.unionByName(self._conform(df, target), allowMissingColumns=True)
        self._register(table, self._compute(table, df))

    def replace(self, table: str, data: pa.Table) -> None:
        target = self._frames.get(table)
        df = self.spark.createDataFrame(_plain(data))
        if target is not None:
            df = self._conform(df, target)
        self._register(table, self._compute(table, df))

    def table_exists(self, table: str) -> bool:
        return table in self._frames or bool(self.spark.catalog.tableExists(table))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """No transactions on Spark: statements take effect one by one (nothing leaves Spark
        until :meth:`write_events`, so a failed run writes nothing)."""
        yield

    @contextmanager
    def bulk_appends(self) -> Iterator[None]:
        yield

    def close(self) -> None:
        for name in list(self._frames):
            self._drop(name)
        if self._own_scratch and self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        if self.owns_session:
            self.spark.stop()

    def __enter__(self) -> SparkBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- materialise --------------------------------------------------------------
    def materialise(
        self,
        name: str,
        query: str | pa.Table,
        params: Sequence[Any] | None = None,
        *,
        append: bool = False,
    ) -> None:
        """Compute ``query`` (a SELECT, or an Arrow table) now and make the result readable as
        table ``name`` for the rest of the run; ``append=True`` adds the rows to ``name``.

        Never a lazy view: the pointer-jumping loops read a table they then replace.
        """
        if isinstance(query, pa.Table):
            df = self.spark.createDataFrame(_plain(query))
        else:
            df = self._sql(query, params)
        target = self._frames.get(name) if append else None
        if target is not None:
            df = target.unionByName(
                self._conform(df.toDF(*target.columns[: len(df.columns)]), target)
            )
        self._register(name, self._compute(name, df))

    def _compute(self, name: str, df: DataFrame) -> DataFrame:
        with spark_errors(f"materialise {name}"):
            return self._compute_now(name, df)

    def _compute_now(self, name: str, df: DataFrame) -> DataFrame:
        if self.materialise_by == "checkpoint":
            return self._forget_partitioning(df.localCheckpoint(eager=True))
        if self.materialise_by == "cache":
            df = df.cache()
            df.count()
            return df
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix="tumen-spark-"))
        path = str(self.scratch / f"{name}-{next(self._counter)}")
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)

    # -- output ------------------------------------------------------------------
    def register_parquet(self, name: str, path: str | Path) -> list[str]:
        """Read the Parquet ``path`` (a file or a folder of part files, any URL Spark reads) as table
        ``name`` of ``store/schema.sql``: its columns cast to the table's types, extra columns
        dropped.  Returns the file's columns (extra ones included).

        Raises
        ------
        InputError
            One line naming ``path``: not readable as Parquet, or a column of the table is missing.
        """
        target = self._frames.get(name)
        if target is None:
            raise StoreError(f"no table {name!r} in store/schema.sql to read {path} as")
        where = str(path)
        if "://" not in where and not Path(where).exists():
            raise InputError(f"no such file or folder (the {name} Parquet)", Path(where))
        with spark_errors(f"read parquet {where}"):
            try:
                df = self.spark.read.parquet(where)
            except Exception as exc:  # AnalysisException: not Parquet, empty folder
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InputError(f"not readable as Parquet ({first})", Path(where)) from None
        missing = [c for c in target.columns if c not in df.columns]
        if missing:
            raise InputError(
                f"not a {name} table: lacks column(s) {', '.join(missing)} "
                "(CONTRACTS.md, section The store)",
                Path(where),
            )
        self._register(name, self._conform(df, target))
        return list(df.columns)

    def write_table(self, data: pa.Table, out: str | Path) -> None:
        """Write an Arrow table (a result collected on the driver) as Parquet at ``out`` (a folder
        of one part file, any URL Spark writes; replaced if it exists)."""
        df = self.spark.createDataFrame(_plain(data))
        with spark_errors(f"write parquet {out}"):
            df.coalesce(1).write.mode("overwrite").parquet(str(out))

    def write_events(self, out: str | Path, query: str | None = None) -> int:
        """Write the run's events as Parquet at ``out`` (a folder of part files, any URL Spark writes).

        The columns are those of ``events`` (``tumen.detect.events.EVENT_COLUMNS``) and
        ``ports`` (the record of the watched ports used, as the store keeps it) and
        ``provenance``: JSON ``{"positions": [[pos_id, source_id, line_first, line_no], …],
        "statics": […], "sources": {source_id: {"path", "sha256"}}}`` for the rows the evidence
        cites, so the events keep their file, SHA-256 and line numbers wherever they go.
        Returns the number of events.
        """
        events = query or "SELECT * FROM events"
        df = self._sql(
            f"""
            WITH ev AS ({events}),
            ids AS (
                SELECT event_id,
                       from_json(evidence, 'position_ids ARRAY<BIGINT>, static_ids ARRAY<BIGINT>') AS j
                FROM ev
            ),
            pos AS (
                SELECT i.event_id,
                       collect_list(array(p.pos_id, CAST(p.source_id AS BIGINT), p.line_first, p.line_no)) AS rows,
                       collect_set(p.source_id) AS srcs
                FROM (SELECT event_id, explode(j.position_ids) AS id FROM ids) i
                JOIN positions p ON p.pos_id = i.id
                GROUP BY i.event_id
            ),
            sta AS (
                SELECT i.event_id,
                       collect_list(array(s.static_id, CAST(s.source_id AS BIGINT), s.line_first, s.line_no)) AS rows,
                       collect_set(s.source_id) AS srcs
                FROM (SELECT event_id, explode(j.static_ids) AS id FROM ids) i
                JOIN statics s ON s.static_id = i.id
                GROUP BY i.event_id
            ),
            src AS (
                SELECT e.event_id,
                       map_from_entries(collect_set(struct(CAST(so.source_id AS STRING),
                                                           named_struct('path', so.path, 'sha256', so.sha256)))) AS m
                FROM (SELECT event_id, explode(array_union(coalesce(pos.srcs, array()),
                                                           coalesce(sta.srcs, array()))) AS sid
                      FROM ev LEFT JOIN pos USING (event_id) LEFT JOIN sta USING (event_id)) e
                JOIN sources so ON so.source_id = e.sid
                GROUP BY e.event_id
            )
            SELECT ev.*,
                   to_json(named_struct(
                       'positions', coalesce(pos.rows, array()),
                       'statics', coalesce(sta.rows, array()),
                       'sources', coalesce(src.m, map()))) AS provenance,
                   (SELECT max(value) FROM meta WHERE key = 'detect.ports') AS ports
            FROM ev
            LEFT JOIN pos ON pos.event_id = ev.event_id
            LEFT JOIN sta ON sta.event_id = ev.event_id
            LEFT JOIN src ON src.event_id = ev.event_id
            """
        )
        df = df.localCheckpoint(eager=True)
        n = df.count()
        df.coalesce(1 if n < 5_000_000 else max(1, n // 5_000_000)).write.mode("overwrite").parquet(
            str(out)
        )
        return int(n)

    # -- internals ---------------------------------------------------------------
    def _sql(self, sql: str, params: Sequence[Any] | None = None) -> DataFrame:
        with spark_errors(sql):
            if params:
                return self.spark.sql(sql, args=[_utc(p) for p in params])
            return self.spark.sql(sql)

    def _register(self, name: str, df: DataFrame) -> None:
        old = self._frames.get(name)
        df.createOrReplaceTempView(name)
        self._frames[name] = df
        if old is not None and old is not df and self.materialise_by == "cache":
            old.unpersist()

    def _drop(self, name: str) -> None:
        old = self._frames.pop(name, None)
        self.spark.catalog.dropTempView(name)
        if old is not None and self.materialise_by == "cache":
            old.unpersist()

    def _forget_partitioning(self, checkpointed: DataFrame) -> DataFrame:
        """The checkpointed rows as a DataFrame that claims no output partitioning.

        Spark 4's checkpoint keeps the plan's output partitioning; when that partitioning names a
        column the result no longer has (a ``GROUP BY mmsi`` whose ``mmsi`` was renamed), a later
        query reading the table twice fails with ``NoSuchElementException: key not found:
        mmsi#…`` (seen in the identity detector's union).  Re-wrapping the checkpointed RDD drops
        that claim; the rows are not recomputed.
        """
        from pyspark.sql import DataFrame as _DataFrame

        jdf = checkpointed._jdf
        plain = self.spark._jsparkSession.internalCreateDataFrame(
            jdf.queryExecution().toRdd(), jdf.schema(), False
        )
        return _DataFrame(plain, self.spark)

    def _empty(self, schema: pa.Schema) -> DataFrame:
        """An empty DataFrame with the Arrow ``schema``'s columns (no Spark job)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        return self.spark.createDataFrame([], from_arrow_schema(schema, prefer_timestamp_ntz=True))

    @staticmethod
    def _type(duck_type: str) -> str:
        t = duck_type.strip().upper()
        return _TYPES.get(t, t)

    def _conform(self, df: DataFrame, target: DataFrame) -> DataFrame:
        """``df``'s columns cast to ``target``'s types, in ``target``'s order (missing ones null)."""
        from pyspark.sql import functions as F

        have = set(df.columns)
        return df.select(
            *[
                (F.col(_quote(f.name)) if f.name in have else F.lit(None))
                .cast(f.dataType)
                .alias(f.name)
                for f in target.schema.fields
            ]
        )

    def _insert(
        self, name: str, cols: str | None, query: str, params: Sequence[Any] | None
    ) -> None:
        target = self._frames.get(name)
        if target is None:
            raise StoreError(f"INSERT INTO {name}: no such table in this Spark run")
        body = query.strip()
        if body[:6].upper() == "VALUES":
            body = f"SELECT * FROM {body}"
        new = self._sql(body, params)
        names = (
            [_unquote(c) for c in cols.split(",")] if cols else target.columns[: len(new.columns)]
        )
        new = new.toDF(*names)
        merged = target.unionByName(self._conform(new, target))
        self._register(name, self._compute(name, merged))
