"""The one place that opens an engine.

Stages are Ibis expressions; this module turns a store path and an engine name into an Ibis
backend. DuckDB (a single file) is the default; PySpark is optional and imported lazily.
"""

from __future__ import annotations

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
