"""The one place that opens an engine.

Stages are Ibis expressions; this module turns a store path and an engine name into an Ibis
backend. DuckDB (a single file) is the default; PySpark is optional and imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis

ENGINES = ("duckdb", "spark")


class EngineUnavailable(RuntimeError):
    """Raised when an optional engine is asked for but not installed."""


def connect(
    path: str | Path | None = None,
    *,
    engine: str = "duckdb",
    read_only: bool = False,
    spark_master: str | None = None,
    spark_conf: dict[str, str] | None = None,
) -> Any:
    """Open an Ibis backend on the store at ``path``.

    Parameters
    ----------
    path
        DuckDB file (``None`` for an in-memory store). For Spark, a warehouse directory.
    engine
        ``"duckdb"`` (default) or ``"spark"``.
    read_only
        Open a DuckDB store read-only (surfaces use this).

    Examples
    --------
    >>> con = connect()
    >>> con.list_tables()
    []
    """
    if engine == "duckdb":
        con = (
            ibis.duckdb.connect()
            if path is None
            else ibis.duckdb.connect(str(path), read_only=read_only)
        )
        # Stages report their own progress; DuckDB's bar would write to the terminal.
        con.raw_sql("SET enable_progress_bar = false")
        return con
    if engine == "spark":
        from talentflow.spark import spark_connect

        return spark_connect(path, master=spark_master, conf=spark_conf or {})
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def raw_duckdb(con: Any) -> Any:
    """The DuckDB connection under an Ibis DuckDB backend (for reader functions Ibis lacks)."""
    return con.con


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


def replace_table(con: Any, source: str, target: str) -> None:
    """Drop table ``target`` and rename ``source`` to it: a new version takes the old one's
    place without being copied (Ibis's DuckDB backend has no rename)."""
    con.drop_table(target, force=True)
    if con.name == "duckdb":
        con.raw_sql(f'ALTER TABLE "{source}" RENAME TO "{target}"')
    else:
        con.rename_table(source, target)
