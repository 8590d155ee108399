"""Two stores compared table by table: row counts, schema and content, order-independent.

Used to show that a change of code leaves a build's tables as they were (``talentflow evaluate
stores BEFORE AFTER``). Both stores are attached read-only to one in-memory DuckDB; the content
of a table is compared as a multiset of rows (``EXCEPT ALL`` both ways), so row order does not
count and duplicate rows do. When rows differ, each column is compared alone the same way to
say which columns changed.

Some columns record *when* or *how fast* a build ran, not what it found; they are left out of
the content comparison unless ``strict`` (see :data:`VOLATILE` and :data:`RUN_SPECIFIC`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talentflow.engines import connect
from talentflow.store import StoreError

#: Columns that differ between two builds of the same code and data: the build's times,
#: version and data folder (``build_info.value``), when each file was read
#: (``ingest_log.ingested_at``). Their tables are still compared on every other column.
VOLATILE: tuple[str, ...] = ("build_info.value", "ingest_log.ingested_at")

#: Parts of ``build_params`` values that change from run to run, removed before comparing
#: unless strict: timings (JSON objects under ``seconds``/``cpu_seconds``, as the identity
#: stage's ``stats`` records them) and splink's random ``linker_uid`` (identity ``model``).
RUN_SPECIFIC = (r'"(cpu_)?seconds": \{[^}]*\}', r'"linker_uid": "[^"]*"')

FLOATS = ("FLOAT", "DOUBLE", "REAL")


@dataclass
class TableDiff:
    """How one table differs between store A and store B (``None``: the table is missing)."""

    table: str
    rows_a: int | None
    rows_b: int | None
    schema: list[str] = field(default_factory=list)
    only_a: int = 0
    only_b: int = 0
    columns: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """Whether the table is the same in both stores (ignored columns aside)."""
        return (
            self.rows_a is not None
            and self.rows_a == self.rows_b
            and not self.schema
            and self.only_a == 0
            and self.only_b == 0
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ignore_map(ignore: tuple[str, ...]) -> tuple[set[str], dict[str, set[str]]]:
    """``TABLE`` and ``TABLE.COLUMN`` entries to (whole tables, columns per table)."""
    tables: set[str] = set()
    columns: dict[str, set[str]] = {}
    for item in ignore:
        table, _, column = item.partition(".")
        if column:
            columns.setdefault(table, set()).add(column)
        else:
            tables.add(table)
    return tables, columns


def compare_stores(
    a: str | Path,
    b: str | Path,
    *,
    tolerance: float = 0.0,
    ignore: tuple[str, ...] = (),
    strict: bool = False,
) -> list[TableDiff]:
    """Compare every table of the stores ``a`` and ``b``.

    Parameters
    ----------
    a, b
        DuckDB stores written by ``talentflow build`` (opened read-only).
    tolerance
        Floating-point columns are compared after rounding to multiples of ``tolerance``
        (0: exactly). Two values closer than ``tolerance`` can still round apart when they
        straddle a boundary: the tolerance makes small noise unlikely to count, not impossible.
    ignore
        ``TABLE`` (compare only its row count and schema) or ``TABLE.COLUMN`` (leave the column
        out of the content), added to :data:`VOLATILE` unless ``strict``.
    strict
        Compare every column, the run-specific parts of ``build_params`` values included.

    Returns
    -------
    list of TableDiff
        One per table of either store, by name; ``same`` says whether it matches.
    """
    paths = {"a": Path(a), "b": Path(b)}
    for path in paths.values():
        if not path.exists():
            raise StoreError(f"no store at {path}")
    skip_tables, skip_columns = _ignore_map(ignore if strict else (*VOLATILE, *ignore))
    con = connect()
    try:
        for alias, path in paths.items():
            escaped = str(path).replace("'", "''")
            con.raw_sql(f"ATTACH '{escaped}' AS {alias} (READ_ONLY)")
        schemas = {alias: _schemas(con, alias) for alias in paths}
        out = []
        for table in sorted(set(schemas["a"]) | set(schemas["b"])):
            cols_a, cols_b = schemas["a"].get(table), schemas["b"].get(table)
            diff = TableDiff(
                table,
                _count(con, "a", table) if cols_a is not None else None,
                _count(con, "b", table) if cols_b is not None else None,
            )
            out.append(diff)
            if cols_a is None or cols_b is None:
                continue
            diff.schema = _schema_changes(cols_a, cols_b)
            if table in skip_tables:
                diff.ignored = ["(content)"]
                continue
            diff.ignored = sorted(skip_columns.get(table, set()) & (set(cols_a) | set(cols_b)))
            common = [c for c in cols_a if c in cols_b and c not in diff.ignored]
            if not common:
                continue
            exprs = {c: _value(c, cols_a[c], cols_b[c], tolerance, strict, table) for c in common}
            diff.only_a, diff.only_b = _except_all(con, table, list(exprs.values()))
            if diff.only_a or diff.only_b:
                diff.columns = [c for c, e in exprs.items() if any(_except_all(con, table, [e]))]
        return out
    finally:
        con.disconnect()


def _schemas(con: Any, alias: str) -> dict[str, dict[str, str]]:
    """Table -> {column: type} of the attached store ``alias``, columns in order."""
    rows = con.raw_sql(
        f"""SELECT table_name, column_name, data_type FROM duckdb_columns()
        WHERE database_name = '{alias}' AND schema_name = 'main' ORDER BY table_name,
        column_index"""
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        out.setdefault(table, {})[column] = kind
    return out


def _count(con: Any, alias: str, table: str) -> int:
    return int(con.raw_sql(f"SELECT count(*) FROM {alias}.main.{_quote(table)}").fetchone()[0])


def _schema_changes(cols_a: dict[str, str], cols_b: dict[str, str]) -> list[str]:
    changes = [f"-{c}" for c in cols_a if c not in cols_b]
    changes += [f"+{c}" for c in cols_b if c not in cols_a]
    changes += [
        f"{c}: {cols_a[c]} -> {cols_b[c]}" for c in cols_a if cols_b.get(c, cols_a[c]) != cols_a[c]
    ]
    return changes


def _value(
    column: str, kind_a: str, kind_b: str, tolerance: float, strict: bool, table: str
) -> str:
    """The SQL a column is compared by (the same on both sides)."""
    col = _quote(column)
    if kind_a != kind_b:
        return f"CAST({col} AS VARCHAR)"
    if tolerance > 0 and kind_a in FLOATS:
        return f"round({col} / {tolerance!r}) * {tolerance!r}"
    if not strict and table == "build_params" and column == "value":
        for pattern in RUN_SPECIFIC:
            col = f"regexp_replace({col}, '{pattern}', '', 'g')"
    return col


def _except_all(con: Any, table: str, exprs: list[str]) -> tuple[int, int]:
    """Rows of ``exprs`` in A and not B, and in B and not A (multisets)."""
    select = ", ".join(f"{e} AS c{i}" for i, e in enumerate(exprs))
    counts = []
    for left, right in (("a", "b"), ("b", "a")):
        sql = (
            f"SELECT count(*) FROM (SELECT {select} FROM {left}.main.{_quote(table)} "
            f"EXCEPT ALL SELECT {select} FROM {right}.main.{_quote(table)})"
        )
        counts.append(int(con.raw_sql(sql).fetchone()[0]))
    return counts[0], counts[1]
