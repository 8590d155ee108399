"""Engines: where the stages' Ibis expressions run (DuckDB by default, Spark to scale out).

:func:`connect` opens an Ibis backend; :func:`engine_of` wraps a backend in its
:class:`~talentflow.engines.base.Engine`, which stages use (``ctx.engine``) for what Ibis
leaves to each engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from talentflow.engines.base import ENGINES, SPARK_MISSING, Engine, EngineUnavailable
from talentflow.engines.duckdb import DuckDBEngine, connect_duckdb

__all__ = [
    "ENGINES",
    "SPARK_MISSING",
    "Engine",
    "EngineUnavailable",
    "check_engine",
    "connect",
    "engine_of",
]


def check_engine(engine: str) -> None:
    """Raise ``ValueError`` naming the choices when ``engine`` is not one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


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
    check_engine(engine)
    if engine == "duckdb":
        return connect_duckdb(path, read_only=read_only)
    from talentflow.engines.spark import connect_spark

    return connect_spark(path, master=spark_master, conf=spark_conf or {})


def engine_of(con: Any) -> Engine:
    """The :class:`Engine` of an Ibis backend (``con.name`` is ``duckdb`` or ``pyspark``)."""
    if con.name == "duckdb":
        return DuckDBEngine(con)
    if con.name == "pyspark":
        from talentflow.engines.spark import SparkEngine

        return SparkEngine(con)
    raise ValueError(f"no talentflow engine for an Ibis {con.name!r} backend")
