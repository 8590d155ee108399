"""The DuckDB engine (the default): a single store file, or an in-memory database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis

from talentflow.engines.base import Engine


def connect_duckdb(path: str | Path | None = None, *, read_only: bool = False) -> Any:
    """An Ibis DuckDB backend on the file at ``path`` (``None``: in memory)."""
    con = (
        ibis.duckdb.connect()
        if path is None
        else ibis.duckdb.connect(str(path), read_only=read_only)
    )
    # Stages report their own progress; DuckDB's bar would write to the terminal.
    con.raw_sql("SET enable_progress_bar = false")
    return con


@contextmanager
def unordered_inserts(db: Any) -> Iterator[None]:
    """On a DuckDB connection, let inserts ignore row order inside the block.

    Inserts then stream, run on every thread and may spill. The setting is global to the
    database, so connections opened from ``db`` see it too; the value it had before (a
    user's own ``SET``) is restored afterwards, not reset to DuckDB's default.
    """
    setting = "preserve_insertion_order"
    old = db.execute(f"SELECT current_setting('{setting}')").fetchone()[0]
    db.execute(f"SET {setting} = false")
    try:
        yield
    finally:
        db.execute(f"SET {setting} = {'true' if old else 'false'}")


class DuckDBEngine(Engine):
    """DuckDB through Ibis; :attr:`connection` is the DuckDB connection underneath, for the
    stages whose readers Ibis lacks (the sources stage's JSON parsing)."""

    name = "duckdb"

    @property
    def connection(self) -> Any:
        """The ``duckdb.DuckDBPyConnection`` under the Ibis backend."""
        return self.con.con

    def replace_table(self, source: str, target: str) -> None:
        # Ibis's DuckDB backend has no rename: a new version takes the old one's place
        # without being copied.
        self.con.drop_table(target, force=True)
        self.con.raw_sql(f'ALTER TABLE "{source}" RENAME TO "{target}"')

    def set_column(self, table: str, column: str, source: str, key: str) -> None:
        # An UPDATE writes the one new column; a rewrite would copy every column of the
        # table (the identity stage's person_id on authorships: a fifth of the time).
        from ibis.backends.sql.datatypes import DuckDBType

        dtype = DuckDBType.to_string(self.con.table(source).schema()[column])
        t, c, s, k = (_ident(x) for x in (table, column, source, key))
        self.con.raw_sql(f"ALTER TABLE {t} DROP COLUMN IF EXISTS {c}")
        self.con.raw_sql(f"ALTER TABLE {t} ADD COLUMN {c} {dtype}")
        self.con.raw_sql(f"UPDATE {t} SET {c} = _s.{c} FROM {s} AS _s WHERE {t}.{k} = _s.{k}")

    def set_columns(
        self,
        table: str,
        source: str,
        columns: Sequence[str],
        keys: Sequence[str],
        *,
        drop: Iterable[str] = (),
    ) -> None:
        # One UPDATE writes the new columns only, where a rewrite would copy the whole table
        # (the resolve stage's five columns on authorships). DuckDB updates a LIST column as
        # a delete and re-insert of the row, so a list column gains little here.
        from ibis.backends.sql.datatypes import DuckDBType

        schema = self.con.table(source).schema()
        t, s = _ident(table), _ident(source)
        for c in (*columns, *drop):
            self.con.raw_sql(f"ALTER TABLE {t} DROP COLUMN IF EXISTS {_ident(c)}")
        for c in columns:
            self.con.raw_sql(
                f"ALTER TABLE {t} ADD COLUMN {_ident(c)} {DuckDBType.to_string(schema[c])}"
            )
        sets = ", ".join(f"{_ident(c)} = _s.{_ident(c)}" for c in columns)
        on = " AND ".join(f"{t}.{_ident(k)} IS NOT DISTINCT FROM _s.{_ident(k)}" for k in keys)
        self.con.raw_sql(f"UPDATE {t} SET {sets} FROM {s} AS _s WHERE {on}")

    @contextmanager
    def unordered_inserts(self) -> Iterator[None]:
        with unordered_inserts(self.connection):
            yield

    def temp_table(self, name: str, expr: Any) -> Any:
        return self.con.create_table(name, expr, temp=True)

    def splink_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.connection)

    def set_limits(self, memory_limit: str | None = None, temp_dir: str | None = None) -> None:
        """DuckDB's ``memory_limit`` and ``temp_directory`` (where it spills)."""
        if memory_limit:
            self.con.raw_sql(f"SET memory_limit = '{_literal(memory_limit)}'")
        if temp_dir:
            self.con.raw_sql(f"SET temp_directory = '{_literal(str(temp_dir))}'")

    def checkpoint(self) -> None:
        """Write the WAL into the store file."""
        self.con.raw_sql("CHECKPOINT")


def _ident(name: str) -> str:
    """A table or column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    """A setting value as an SQL string literal body (quotes doubled)."""
    return value.replace("'", "''")
