"""SQL dialects: the few constructs whose spelling differs between DuckDB and Spark SQL.

Every statement a detector (or risk) runs is written once, as text built with
``d = store.dialect`` and the methods below; nothing engine-specific is written anywhere else
(ibis' ``backends/sql/`` model: one compiler, a small dialect class per engine).  Each method
returns SQL *text*; its docstring gives both renderings (DuckDB → Spark).

Standard SQL that both engines read alike is written plainly, not through the dialect:
``CAST(x AS BIGINT | DOUBLE | INTEGER | BOOLEAN)``, ``CASE``, window functions with
``OVER (PARTITION BY … ORDER BY …)`` and named ``WINDOW w AS (…)``, ``FILTER (WHERE …)`` on
aggregates, ``min_by``/``max_by``/``any_value``/``bool_or``/``bool_and``, ``count(DISTINCT …)``,
``least``/``greatest``, ``floor``/``ceil``, ``%`` (remainder, sign of the dividend in both),
``/`` (always a DOUBLE quotient in both), ``md5``/``concat_ws``/``left``, ``(a, b) IN (SELECT …)``,
``WITH … AS (…)``, ``UNION ALL`` with the same columns in the same order, ``"quoted"``
identifiers (Spark: with :data:`SPARK_SESSION_CONF`), struct field access ``x.f``.

Spark session settings (:data:`SPARK_SESSION_CONF`, applied by the Spark backend): ANSI mode **on**
(``spark.sql.ansi.enabled``, Spark 4's default: an overflow or a bad cast is an error, not a silent
NULL, as in DuckDB), ``"double-quoted"`` names are identifiers (``spark.sql.ansi.doubleQuotedIdentifiers``,
as in DuckDB and standard SQL; strings are always 'single-quoted'), the session time zone is UTC and
``TIMESTAMP`` means a time without zone (``spark.sql.timestampType = TIMESTAMP_NTZ``), like
DuckDB's naive UTC ``TIMESTAMP``.  Every statement was run on Spark 4 with these settings.

Examples
--------
>>> DUCKDB.epoch_s("ts"), SPARK.epoch_s("ts")
('epoch(ts)', '(unix_micros(ts) / 1e6)')
>>> DUCKDB.int_div("a", "b"), SPARK.int_div("a", "b")
('(a // b)', '(a div b)')
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

#: Bits of the ordering key ``k`` left below the millisecond for the tie-break (2**21 values).
TIE_BITS = 2_097_152

#: Settings every Spark session that runs tumen's SQL must have (see the module docstring).
SPARK_SESSION_CONF: dict[str, str] = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
}

#: Prime modulus of the ordering key's tie-break mixing (2**31 − 1, a Mersenne prime).
_TIE_PRIME = 2_147_483_647
#: Multiplier of the tie-break mixing (a prime; keeps every product below 2**52, no overflow).
_TIE_MULT = 1_000_003


class Dialect(ABC):
    """The engine-specific spellings; subclasses :class:`DuckDBDialect` and :class:`SparkDialect`.

    Attributes
    ----------
    name:
        ``"duckdb"`` or ``"spark"``.
    chunked:
        Whether the detectors' window pass runs over the vessels in chunks (``mmsi % n``) to bound
        memory (DuckDB, one machine); Spark partitions and spills by itself, so it runs one pass.
    varchar:
        The name of the string type (``VARCHAR`` → ``STRING``).
    """

    name = "generic"
    chunked = True
    varchar = "VARCHAR"

    def __repr__(self) -> str:
        return f"<{self.name} dialect>"

    # -- tables --------------------------------------------------------------------------------
    @abstractmethod
    def temp_table(self, name: str, query: str) -> str:
        """Statement making ``query``'s result the temporary table ``name`` *now* (not a lazy view).

        DuckDB: ``CREATE OR REPLACE TEMP TABLE name AS query`` → Spark: ``CACHE TABLE name AS query``
        (eager).  Detectors do not call it: they call ``Backend.materialise``, which runs it
        (DuckDB) or computes and checkpoints the result (Spark).
        """
        ...

    @abstractmethod
    def drop_temp(self, name: str) -> str:
        """``DROP TABLE IF EXISTS name`` → ``DROP VIEW IF EXISTS name`` (a temporary table)."""
        ...

    # -- types -----------------------------------------------------------------------------------
    @abstractmethod
    def array_type(self, element: str) -> str:
        """Type of an array: ``BIGINT[]`` → ``ARRAY<BIGINT>``."""
        ...

    @abstractmethod
    def struct_type(self, fields: Sequence[tuple[str, str]]) -> str:
        """Type of a struct: ``STRUCT(a BIGINT, b VARCHAR)`` → ``STRUCT<a: BIGINT, b: STRING>``."""
        ...

    # -- time ------------------------------------------------------------------------------------
    @abstractmethod
    def epoch_s(self, ts: str) -> str:
        """Seconds since 1970 of a UTC TIMESTAMP, as DOUBLE (exact to the microsecond).

        ``epoch(ts)`` → ``(unix_micros(ts) / 1e6)`` (``1e6`` is a DOUBLE; ``1000000.0`` would be a DECIMAL in Spark).
        """
        ...

    @abstractmethod
    def epoch_ms(self, ts: str) -> str:
        """Milliseconds since 1970 (BIGINT): ``epoch_ms(ts)`` → ``unix_millis(ts)``."""
        ...

    @abstractmethod
    def epoch_us(self, ts: str) -> str:
        """Microseconds since 1970 (BIGINT): ``epoch_us(ts)`` → ``unix_micros(ts)``."""
        ...

    @abstractmethod
    def ts_from_us(self, us: str) -> str:
        """UTC TIMESTAMP (naive) from microseconds since 1970 (BIGINT).

        ``make_timestamp(us)`` → ``CAST(timestamp_micros(us) AS TIMESTAMP_NTZ)``.
        """
        ...

    def ts_from_s(self, t: str) -> str:
        """UTC TIMESTAMP (naive) from seconds since 1970 (DOUBLE), rounded to the microsecond."""
        return self.ts_from_us(f"CAST(round(({t}) * 1000000) AS BIGINT)")

    @abstractmethod
    def iso_seconds(self, ts: str) -> str:
        """A TIMESTAMP as ISO-8601 text to the second with ``Z`` (``2024-01-02T03:04:05Z``).

        ``strftime(ts, '%Y-%m-%dT%H:%M:%SZ')`` → ``date_format(ts, 'yyyy-MM-dd''T''HH:mm:ss''Z''')``.
        """
        ...

    # -- numbers ---------------------------------------------------------------------------------
    @abstractmethod
    def int_div(self, a: str, b: str) -> str:
        """Integer division, truncating toward zero (BIGINT): ``(a // b)`` → ``(a div b)``."""
        ...

    @abstractmethod
    def quantile(self, expr: str, q: float) -> str:
        """Exact quantile with linear interpolation between the closest ranks (position
        ``(n − 1) q``): ``quantile_cont(x, q)`` → ``percentile(x, q)``.

        The two engines' results may differ in the last bit (DuckDB interpolates in the
        argument's type, ``lo + (hi − lo) d``; Spark in DOUBLE, ``(1 − d) lo + d hi``): where the
        value is reported, write the interpolation out (as :mod:`tumen.detect.gaps` does)."""
        ...

    @abstractmethod
    def row_id(self) -> str:
        """A unique BIGINT per row of a query that is then materialised (no order implied).

        ``row_number() OVER ()`` → ``monotonically_increasing_id()`` (Spark refuses an unordered
        ``row_number``; the ids are unique, not consecutive).
        """
        ...

    def order_key(self, ts: str, lat: str, lon: str, sog_kn: str) -> str:
        """The portable ordering key ``k`` (BIGINT) of a position report.

        ``k = epoch_ms(ts) × 2**21 + tie`` where ``tie`` in ``[0, 2**21)`` is a deterministic mix of
        the report's content: ``la = floor((lat + 90) × 10**6)``, ``lo = floor((lon + 180) × 10**6)``
        (micro-degrees) and ``s = floor(sog_kn × 10)`` (tenths of a knot, −1 when NULL), folded as
        ``h = ((la mod P) × M + lo) mod P``, ``h = (h × M + s) mod P`` with ``P = 2**31 − 1``,
        ``M = 1 000 003``, then ``tie = h mod 2**21`` (made non-negative).  Only integer
        arithmetic on values floored from the stored DOUBLEs, so every engine gives the same key;
        every product stays below 2**52 (no overflow, even in Spark's ANSI mode).  Ordering by
        ``k`` sorts by time and breaks ties within a millisecond by content, never by ingest
        order.  Same spelling in both engines except ``epoch_ms``.
        """
        p, m, t = _TIE_PRIME, _TIE_MULT, TIE_BITS
        la = f"CAST(floor((({lat}) + 90.0) * 1000000.0) AS BIGINT)"
        lo = f"CAST(floor((({lon}) + 180.0) * 1000000.0) AS BIGINT)"
        s = f"CAST(floor(coalesce(CAST({sog_kn} AS DOUBLE), -0.1) * 10.0) AS BIGINT)"
        h1 = f"((({la}) % {p}) * {m} + ({lo}) % {p}) % {p}"
        h2 = f"(({h1}) * {m} + ({s}) % {p}) % {p}"
        tie = f"((({h2}) % {t} + {t}) % {t})"
        return f"({self.epoch_ms(ts)} * {t} + {tie})"

    # -- text ------------------------------------------------------------------------------------
    @abstractmethod
    def string_literal(self, value: str) -> str:
        """A SQL string literal: ``'it''s'`` in both; Spark also doubles backslashes (its
        literals read ``\\`` escapes)."""
        ...

    @abstractmethod
    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        """Replace every match of a regular expression (``pattern``: Python text, not SQL).

        ``regexp_replace(x, 'p', 'r', 'g')`` (RE2) → ``regexp_replace(x, 'p', 'r')`` (Java).
        Use patterns both read alike (``\\s`` differs only on the vertical tab).
        """
        ...

    # -- structs and arrays ----------------------------------------------------------------------
    @abstractmethod
    def struct(self, *fields: tuple[str, str]) -> str:
        """A struct value from ``(name, expr)`` pairs, in order.

        ``struct_pack(a := x, b := y)`` → ``named_struct('a', x, 'b', y)``.
        """
        ...

    @abstractmethod
    def array(self, *items: str) -> str:
        """An array value: ``[x, y]`` → ``array(x, y)``."""
        ...

    def empty_array(self, element: str) -> str:
        """An empty array of ``element`` type: ``CAST([] AS BIGINT[])`` → ``CAST(array() AS ARRAY<BIGINT>)``."""
        return f"CAST({self.array()} AS {self.array_type(element)})"

    def null_array(self, element: str) -> str:
        """A NULL array of ``element`` type: ``CAST(NULL AS BIGINT[])`` → ``CAST(NULL AS ARRAY<BIGINT>)``."""
        return f"CAST(NULL AS {self.array_type(element)})"

    @abstractmethod
    def id_list(self, *exprs: str) -> str:
        """Array of the non-NULL values of ``exprs`` as BIGINT, each value once (first kept), in order.

        DuckDB: a ``||`` of one-element lists guarded by ``list_contains`` → Spark:
        ``array_distinct(filter(array(…), x -> x IS NOT NULL))`` (``array_distinct`` keeps the first
        occurrence, in order).
        """
        ...

    @abstractmethod
    def collect_list(self, expr: str, order_by: str | None = None) -> str:
        """Aggregate: the values of ``expr`` (never NULL here) as an array, in ``order_by`` order.

        ``list(x ORDER BY o)`` → ``transform(array_sort(collect_list(named_struct('o0', o, …, 'v', x))),
        e -> e.v)`` (sorting on the order keys, then on the value; NULL keys last).
        """
        ...

    def flatten(self, expr: str) -> str:
        """Concatenate an array of arrays: ``flatten(x)`` in both."""
        return f"flatten({expr})"

    @abstractmethod
    def sorted_distinct(self, expr: str) -> str:
        """The distinct elements of an array, ascending: ``list_sort(list_distinct(x))`` →
        ``array_sort(array_distinct(x))``."""
        ...

    # -- JSON ------------------------------------------------------------------------------------
    @abstractmethod
    def json_object(self, *pairs: tuple[str, str]) -> str:
        """A JSON object from ``(key, expr)`` pairs; arrays and structs nest as JSON arrays/objects.

        ``json_object('k', x, …)`` (type JSON) → ``to_json(named_struct('k', x, …))`` (STRING; a NULL
        value leaves its key out — as the merge into the evidence does in DuckDB).
        """
        ...

    @abstractmethod
    def json_value(self, expr: str) -> str:
        """An array or struct as a value inside :meth:`json_object`: ``to_json(x)`` → ``x``."""
        ...

    @abstractmethod
    def evidence(
        self,
        detector: str,
        params: str,
        position_ids: str,
        n_positions: str,
        static_ids: str,
        measures: str,
    ) -> str:
        """The ``evidence`` JSON text of an event (VARCHAR): ``detector`` (text), ``params`` (JSON text),
        ``position_ids`` (array, ``[]`` when NULL), ``n_positions`` and ``static_ids`` where not NULL,
        then the keys of ``measures`` (a :meth:`json_object` or NULL) whose value is not NULL.

        DuckDB: ``json_merge_patch`` of ``json_object``\\ s → Spark: the object texts joined
        (the keys never overlap; ``to_json`` already left out NULL values).
        """
        ...

    @abstractmethod
    def json_text(self, expr: str, path: str) -> str:
        """The text at JSONPath ``path`` (``$.a.b``, ``$[0]``) of JSON text ``expr``; a string
        unquoted, anything else as JSON text.  ``json_extract_string(x, p)`` → ``get_json_object(x, p)``."""
        ...

    @abstractmethod
    def json_fragment(self, expr: str, path: str) -> str:
        """The JSON text (quoted as JSON) at ``path`` of JSON text ``expr``.

        ``CAST(json_extract(x, p) AS VARCHAR)`` → ``get_json_object(x, p)`` (for arrays and objects,
        compact in both).
        """
        ...

    @abstractmethod
    def json_records(self, expr: str, fields: Sequence[str]) -> str:
        """A JSON text array of objects parsed into an array of structs of string ``fields``
        (missing keys NULL; numbers read as text).

        ``from_json(x, '[{"f": "VARCHAR", …}]')`` → ``from_json(x, 'ARRAY<STRUCT<f: STRING, …>>')``.
        """
        ...

    @abstractmethod
    def array_transform(self, array: str, var: str, expr: str) -> str:
        """Map each element ``var`` of ``array`` to ``expr``: ``list_transform(a, v -> e)`` →
        ``transform(a, v -> e)``."""
        ...

    @abstractmethod
    def array_filter(self, array: str, var: str, cond: str) -> str:
        """The elements ``var`` of ``array`` where ``cond`` holds: ``list_filter(a, v -> c)`` →
        ``filter(a, v -> c)``."""
        ...

    @abstractmethod
    def array_size(self, array: str) -> str:
        """Number of elements: ``len(a)`` → ``size(a)``."""
        ...

    @abstractmethod
    def array_distinct(self, array: str) -> str:
        """The distinct elements (order not defined): ``list_distinct(a)`` → ``array_distinct(a)``."""
        ...

    @abstractmethod
    def explode(self, array: str) -> str:
        """A SELECT-list item giving one row per element (one per SELECT):
        ``unnest(a)`` → ``explode(a)``."""
        ...

    @abstractmethod
    def string_agg(self, expr: str, sep: str, *, distinct: bool = False) -> str:
        """Aggregate: the non-NULL texts joined by ``sep`` (a Python string) in ascending order
        (NULL when there are none); ``distinct`` keeps each text once.

        ``string_agg([DISTINCT] x, sep ORDER BY x)`` →
        ``nullif(array_join(array_sort(collect_list|collect_set(x)), sep), '')``.
        """
        ...

    # -- relations -------------------------------------------------------------------------------
    @abstractmethod
    def range_table(self, start: int | str, stop: int | str, alias: str, column: str) -> str:
        """A FROM item: the integers ``start ≤ i < stop`` as ``alias(column)``.

        ``range(start, stop) alias(column)`` → ``(SELECT id AS column FROM range(start, stop)) alias``.
        """
        ...

    @abstractmethod
    def explode_range(self, start: str, stop: str) -> str:
        """A SELECT-list item giving one row per integer ``start ≤ i < stop`` (``start < stop``;
        one per SELECT).  ``unnest(range(start, stop))`` → ``explode(sequence(start, stop - 1))``."""
        ...

    @abstractmethod
    def first_per(self, query: str, columns: Sequence[str], partition: str, order: str) -> str:
        """The first row (by ``order``) of each ``partition`` group of ``query``, with ``columns``.

        ``SELECT cols FROM (query) QUALIFY row_number() OVER (…) = 1`` → the same filter on a
        subquery (Spark has no ``QUALIFY``).
        """
        ...

    @abstractmethod
    def union_all_by_name(self, tables: Sequence[str], columns: Sequence[str]) -> str:
        """All rows of ``tables`` (each holding ``columns``, maybe more, in any order).

        ``SELECT * FROM a UNION ALL BY NAME SELECT * FROM b`` → ``SELECT cols FROM a UNION ALL
        SELECT cols FROM b``.
        """
        ...


class DuckDBDialect(Dialect):
    """DuckDB's spellings (the embedded store, :mod:`tumen.store.duckdb`)."""

    name = "duckdb"
    chunked = True
    varchar = "VARCHAR"

    def temp_table(self, name: str, query: str) -> str:
        return f"CREATE OR REPLACE TEMP TABLE {name} AS {query}"

    def drop_temp(self, name: str) -> str:
        return f"DROP TABLE IF EXISTS {name}"

    def array_type(self, element: str) -> str:
        return f"{element}[]"

    def struct_type(self, fields: Sequence[tuple[str, str]]) -> str:
        return "STRUCT(" + ", ".join(f"{n} {t}" for n, t in fields) + ")"

    def epoch_s(self, ts: str) -> str:
        return f"epoch({ts})"

    def epoch_ms(self, ts: str) -> str:
        return f"epoch_ms({ts})"

    def epoch_us(self, ts: str) -> str:
        return f"epoch_us({ts})"

    def ts_from_us(self, us: str) -> str:
        return f"make_timestamp({us})"

    def iso_seconds(self, ts: str) -> str:
        return f"strftime({ts}, '%Y-%m-%dT%H:%M:%SZ')"

    def int_div(self, a: str, b: str) -> str:
        return f"({a} // {b})"

    def quantile(self, expr: str, q: float) -> str:
        return f"quantile_cont({expr}, {q})"

    def row_id(self) -> str:
        return "row_number() OVER ()"

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return (
            f"regexp_replace({expr}, {self.string_literal(pattern)}, "
            f"{self.string_literal(replacement)}, 'g')"
        )

    def struct(self, *fields: tuple[str, str]) -> str:
        return "struct_pack(" + ", ".join(f"{n} := {e}" for n, e in fields) + ")"

    def array(self, *items: str) -> str:
        return "[" + ", ".join(items) + "]"

    def empty_array(self, element: str) -> str:
        return f"[]::{self.array_type(element)}"

    def id_list(self, *exprs: str) -> str:
        parts = []
        for i, expr in enumerate(exprs):
            cond = f"({expr}) IS NOT NULL"
            if i:
                cond += f" AND NOT list_contains([{', '.join(exprs[:i])}], {expr})"
            parts.append(f"(CASE WHEN {cond} THEN [CAST({expr} AS BIGINT)] ELSE []::BIGINT[] END)")
        return "(" + " || ".join(parts) + ")"

    def collect_list(self, expr: str, order_by: str | None = None) -> str:
        return f"list({expr} ORDER BY {order_by})" if order_by else f"list({expr})"

    def sorted_distinct(self, expr: str) -> str:
        return f"list_sort(list_distinct({expr}))"

    def json_object(self, *pairs: tuple[str, str]) -> str:
        return "json_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs) + ")"

    def json_value(self, expr: str) -> str:
        return f"to_json({expr})"

    def evidence(
        self,
        detector: str,
        params: str,
        position_ids: str,
        n_positions: str,
        static_ids: str,
        measures: str,
    ) -> str:
        return (
            f"CAST(json_merge_patch(json_object('detector', {detector}, 'params', json({params}), "
            f"'position_ids', coalesce({position_ids}, []::BIGINT[])), "
            f"json_merge_patch(CASE WHEN {n_positions} IS NULL THEN '{{}}'::JSON "
            f"ELSE json_object('n_positions', {n_positions}) END, "
            f"json_merge_patch(CASE WHEN {static_ids} IS NULL THEN '{{}}'::JSON "
            f"ELSE json_object('static_ids', {static_ids}) END, coalesce({measures}, '{{}}')::JSON))) "
            "AS VARCHAR)"
        )

    def json_text(self, expr: str, path: str) -> str:
        return f"json_extract_string({expr}, {self.string_literal(path)})"

    def json_fragment(self, expr: str, path: str) -> str:
        return f"CAST(json_extract({expr}, {self.string_literal(path)}) AS VARCHAR)"

    def json_records(self, expr: str, fields: Sequence[str]) -> str:
        shape = "[{" + ", ".join(f'"{f}": "VARCHAR"' for f in fields) + "}]"
        return f"from_json({expr}, {self.string_literal(shape)})"

    def array_transform(self, array: str, var: str, expr: str) -> str:
        return f"list_transform({array}, {var} -> {expr})"

    def array_filter(self, array: str, var: str, cond: str) -> str:
        return f"list_filter({array}, {var} -> {cond})"

    def array_size(self, array: str) -> str:
        return f"len({array})"

    def array_distinct(self, array: str) -> str:
        return f"list_distinct({array})"

    def explode(self, array: str) -> str:
        return f"unnest({array})"

    def string_agg(self, expr: str, sep: str, *, distinct: bool = False) -> str:
        d = "DISTINCT " if distinct else ""
        return f"string_agg({d}{expr}, {self.string_literal(sep)} ORDER BY {expr})"

    def range_table(self, start: int | str, stop: int | str, alias: str, column: str) -> str:
        return f"range({start}, {stop}) {alias}({column})"

    def explode_range(self, start: str, stop: str) -> str:
        return f"unnest(range({start}, {stop}))"

    def first_per(self, query: str, columns: Sequence[str], partition: str, order: str) -> str:
        cols = ", ".join(columns)
        return (
            f"SELECT {cols} FROM ({query}) q "
            f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order}) = 1"
        )

    def union_all_by_name(self, tables: Sequence[str], columns: Sequence[str]) -> str:
        return " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in tables)


class SparkDialect(Dialect):
    """Spark SQL's spellings (Spark 3.5 and 4; session settings :data:`SPARK_SESSION_CONF`)."""

    name = "spark"
    chunked = False
    varchar = "STRING"

    def temp_table(self, name: str, query: str) -> str:
        return f"CACHE TABLE {name} AS {query}"

    def drop_temp(self, name: str) -> str:
        return f"DROP VIEW IF EXISTS {name}"

    def array_type(self, element: str) -> str:
        return f"ARRAY<{self._type(element)}>"

    def struct_type(self, fields: Sequence[tuple[str, str]]) -> str:
        return "STRUCT<" + ", ".join(f"{n}: {self._type(t)}" for n, t in fields) + ">"

    @staticmethod
    def _type(name: str) -> str:
        return "STRING" if name.upper() == "VARCHAR" else name

    def epoch_s(self, ts: str) -> str:
        return f"(unix_micros({ts}) / 1e6)"

    def epoch_ms(self, ts: str) -> str:
        return f"unix_millis({ts})"

    def epoch_us(self, ts: str) -> str:
        return f"unix_micros({ts})"

    def ts_from_us(self, us: str) -> str:
        return f"CAST(timestamp_micros({us}) AS TIMESTAMP_NTZ)"

    def iso_seconds(self, ts: str) -> str:
        return f"date_format({ts}, 'yyyy-MM-dd''T''HH:mm:ss''Z''')"

    def int_div(self, a: str, b: str) -> str:
        return f"({a} div {b})"

    def quantile(self, expr: str, q: float) -> str:
        return f"percentile({expr}, {q})"

    def row_id(self) -> str:
        return "monotonically_increasing_id()"

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return (
            f"regexp_replace({expr}, {self.string_literal(pattern)}, "
            f"{self.string_literal(replacement)})"
        )

    def struct(self, *fields: tuple[str, str]) -> str:
        return "named_struct(" + ", ".join(f"'{n}', {e}" for n, e in fields) + ")"

    def array(self, *items: str) -> str:
        return "array(" + ", ".join(items) + ")"

    def id_list(self, *exprs: str) -> str:
        items = ", ".join(f"CAST({e} AS BIGINT)" for e in exprs)
        return f"array_distinct(filter(array({items}), x -> x IS NOT NULL))"

    def collect_list(self, expr: str, order_by: str | None = None) -> str:
        if not order_by:
            return f"collect_list({expr})"
        keys = _split_top_level(order_by)
        fields = ", ".join(f"'o{i}', {k}" for i, k in enumerate(keys))
        return f"transform(array_sort(collect_list(named_struct({fields}, 'v', {expr}))), e -> e.v)"

    def sorted_distinct(self, expr: str) -> str:
        return f"array_sort(array_distinct({expr}))"

    def json_object(self, *pairs: tuple[str, str]) -> str:
        return "to_json(" + self.struct(*pairs) + ")"

    def json_value(self, expr: str) -> str:
        return expr

    def evidence(
        self,
        detector: str,
        params: str,
        position_ids: str,
        n_positions: str,
        static_ids: str,
        measures: str,
    ) -> str:
        ids = f"coalesce({position_ids}, {self.empty_array('BIGINT')})"

        def body(obj: str) -> str:  # an object's text without its braces (each operand read once)
            return f"regexp_replace({obj}, '^[{{]|[}}]$', '')"

        parts = [
            body(f"to_json(named_struct('detector', {detector}))"),
            f"concat('\"params\":', {params})",
            f"concat('\"position_ids\":', to_json({ids}))",
            f"CASE WHEN {n_positions} IS NOT NULL "
            f"THEN concat('\"n_positions\":', CAST({n_positions} AS STRING)) END",
            f"CASE WHEN {static_ids} IS NOT NULL "
            f"THEN concat('\"static_ids\":', to_json({static_ids})) END",
            f"nullif({body(measures)}, '')",
        ]
        return "concat('{', concat_ws(',', " + ", ".join(parts) + "), '}')"

    def json_text(self, expr: str, path: str) -> str:
        return f"get_json_object({expr}, {self.string_literal(path)})"

    def json_fragment(self, expr: str, path: str) -> str:
        return f"get_json_object({expr}, {self.string_literal(path)})"

    def json_records(self, expr: str, fields: Sequence[str]) -> str:
        shape = "ARRAY<STRUCT<" + ", ".join(f"{f}: STRING" for f in fields) + ">>"
        return f"from_json({expr}, {self.string_literal(shape)})"

    def array_transform(self, array: str, var: str, expr: str) -> str:
        return f"transform({array}, {var} -> {expr})"

    def array_filter(self, array: str, var: str, cond: str) -> str:
        return f"filter({array}, {var} -> {cond})"

    def array_size(self, array: str) -> str:
        return f"size({array})"

    def array_distinct(self, array: str) -> str:
        return f"array_distinct({array})"

    def explode(self, array: str) -> str:
        return f"explode({array})"

    def string_agg(self, expr: str, sep: str, *, distinct: bool = False) -> str:
        agg = "collect_set" if distinct else "collect_list"
        return f"nullif(array_join(array_sort({agg}({expr})), {self.string_literal(sep)}), '')"

    def range_table(self, start: int | str, stop: int | str, alias: str, column: str) -> str:
        return f"(SELECT id AS {column} FROM range({start}, {stop})) {alias}"

    def explode_range(self, start: str, stop: str) -> str:
        return f"explode(sequence({start}, ({stop}) - 1))"

    def first_per(self, query: str, columns: Sequence[str], partition: str, order: str) -> str:
        cols = ", ".join(columns)
        return (
            f"SELECT {cols} FROM (SELECT q.*, row_number() OVER (PARTITION BY {partition} "
            f"ORDER BY {order}) AS _first FROM ({query}) q) q1 WHERE _first = 1"
        )

    def union_all_by_name(self, tables: Sequence[str], columns: Sequence[str]) -> str:
        cols = ", ".join(columns)
        return " UNION ALL ".join(f"SELECT {cols} FROM {t}" for t in tables)


def _split_top_level(expr: str) -> list[str]:
    """Split ``a, f(b, c), d`` at the commas outside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


#: The DuckDB dialect (one instance; dialects hold no state).
DUCKDB = DuckDBDialect()
#: The Spark SQL dialect.
SPARK = SparkDialect()

#: Dialects by name (``--engine``).
DIALECTS: dict[str, Dialect] = {DUCKDB.name: DUCKDB, SPARK.name: SPARK}
