"""The build: every stage in order, on one connection, swapped in atomically.

Each stage is a module with ``run(ctx: StageContext) -> None`` that reads tables from
``ctx.con`` and writes its own. Stages never touch files or screens (sources read the input
files, which is their job); parameters are recorded in ``build_params``.

With ``engine="spark"`` the stages of ``SPARK_STAGES`` run on a PySpark session through the
same Ibis code; the sources stage (DuckDB's JSON reader) and the scenario fit (NumPy and
statsmodels on small tables) stay on DuckDB, and every table the Spark stages write is copied
back into the DuckDB store, which the surfaces read.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis

from talentflow import __version__
from talentflow.store import atomic_build

#: Stages in build order: (name, module holding ``run``).
STAGES: list[tuple[str, str]] = [
    ("sources", "talentflow.sources.stage"),
    ("resolve", "talentflow.resolve.stage"),
    ("identity", "talentflow.identity.stage"),
    ("careers", "talentflow.careers.stage"),  # after identity (reads person_id)
    ("indicators", "talentflow.indicators.stage"),  # after careers
    ("scenarios", "talentflow.scenarios.stage"),  # after indicators: fits the move model
]
#: Stages that run on Spark when the build's engine is ``spark``.
SPARK_STAGES = ("resolve", "identity", "careers", "indicators")
#: Store tables a Spark stage never reads (kept on DuckDB only).
_DUCKDB_ONLY = ("raw_papers", "raw_authorships", "ingest_log", "quarantine")

Progress = Callable[[str], None]


@dataclass
class StageContext:
    """What a stage gets: the new store, the previous one (read-only), its parameters."""

    con: Any
    previous: Any | None
    data_dir: Path | None
    params: dict[str, Any] = field(default_factory=dict)
    progress: Progress = lambda message: None
    engine: str = "duckdb"

    def record_params(self, stage: str, params: dict[str, Any]) -> None:
        """Append ``params`` of ``stage`` to the ``build_params`` table."""
        rows = {
            "stage": [stage] * len(params),
            "name": list(params),
            "value": [json.dumps(v, default=str) for v in params.values()],
        }
        table = ibis.memtable(rows, schema={"stage": "string", "name": "string", "value": "string"})
        if "build_params" in self.con.list_tables():
            self.con.insert("build_params", table)
        else:
            self.con.create_table("build_params", table)


@dataclass
class BuildReport:
    """Timings per stage, for the CLI and benchmarks."""

    db_path: Path
    timings: dict[str, float] = field(default_factory=dict)


def build(
    data_dir: str | Path | None,
    db_path: str | Path,
    *,
    params: dict[str, dict[str, Any]] | None = None,
    stages: list[str] | None = None,
    progress: Progress | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    spark_conf: dict[str, str] | None = None,
    memory_limit: str | None = None,
    temp_dir: str | Path | None = None,
    wait: bool = False,
) -> BuildReport:
    """Build the store at ``db_path`` from the source folders under ``data_dir``.

    Parameters
    ----------
    data_dir
        A folder holding source folders (``paperlists/``, ``openreview/``, ``openalex/``...).
    db_path
        The DuckDB store; replaced only when the whole build succeeds.
    params
        Per-stage parameter overrides, e.g. ``{"careers": {"backfill": 2}}``.
    stages
        Run only these stages (in build order); default all.
    engine
        ``"duckdb"`` (default) or ``"spark"``: where ``SPARK_STAGES`` run.
    spark_master, spark_conf
        The Spark master URL (default ``local[*]``) and settings passed through.
    memory_limit, temp_dir
        DuckDB's ``memory_limit`` (e.g. ``"8GB"``; default 80% of RAM) and where it spills
        what does not fit (default: beside the store). A stage that still runs out of memory
        raises :class:`OutOfMemory`, which names the stage and the settings to change.
    wait
        When another build into ``db_path`` is running, wait for it instead of raising
        :class:`talentflow.store.StoreBusy`.
    """
    from talentflow.engine import ENGINES

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    params = params or {}
    report = BuildReport(Path(db_path))
    started = datetime.now(UTC).isoformat()
    spark: _SparkRun | None = None
    with atomic_build(db_path, wait=wait) as (con, previous), ExitStack() as cleanup:
        if memory_limit:
            con.raw_sql(f"SET memory_limit = '{_setting(memory_limit)}'")
        if temp_dir:
            con.raw_sql(f"SET temp_directory = '{_setting(str(temp_dir))}'")
        for name, module_name in STAGES:
            if stages is not None and name not in stages:
                continue
            on_spark = engine == "spark" and name in SPARK_STAGES
            if on_spark and spark is None:
                spark = _open_spark(con, db_path, spark_master, spark_conf)
                cleanup.callback(spark.close)
            ctx = StageContext(
                con=spark.backend if on_spark and spark is not None else con,
                previous=previous,
                data_dir=Path(data_dir) if data_dir is not None else None,
                params=dict(params.get(name, {})),
                progress=progress or (lambda message: None),
                engine="spark" if on_spark else "duckdb",
            )
            t0 = time.perf_counter()
            try:
                importlib.import_module(module_name).run(ctx)
            except (MemoryError, duckdb.OutOfMemoryException) as exc:
                raise OutOfMemory(name, engine, exc) from exc
            if on_spark and spark is not None:
                _copy_back(spark.backend, con)
            report.timings[name] = time.perf_counter() - t0
        info = ibis.memtable(
            {
                "key": ["talentflow_version", "engine", "started", "finished", "data_dir"],
                "value": [
                    __version__,
                    engine,
                    started,
                    datetime.now(UTC).isoformat(),
                    str(data_dir),
                ],
            }
        )
        con.create_table("build_info", info, overwrite=True)
    return report


class OutOfMemory(RuntimeError):
    """A stage ran out of memory; the message says which and what to change."""

    def __init__(self, stage: str, engine: str, cause: BaseException) -> None:
        hint = (
            "set --memory-limit to what this machine can give (e.g. 60% of its RAM; a limit "
            "set too low for the stage fails like this too) so DuckDB spills to --temp-dir "
            "on a disk with free space, or run the table stages on a cluster with "
            "--engine spark --spark-master URL"
        )
        if engine == "spark":
            hint = "raise spark.driver.memory / spark.executor.memory with --spark-conf"
        super().__init__(f"stage {stage!r} ran out of memory ({cause}); {hint}")
        self.stage = stage


def _setting(value: str) -> str:
    """A DuckDB setting value as an SQL string literal body (quotes doubled)."""
    return value.replace("'", "''")


@dataclass
class _SparkRun:
    """The build's Spark backend, its own database and warehouse folder, and what to restore."""

    backend: Any
    database: str
    previous_database: str
    warehouse: Path

    def close(self) -> None:
        """Drop the build's database and warehouse (the session may be shared)."""
        session = self.backend._session
        session.catalog.setCurrentDatabase(self.previous_database)
        session.sql(f"DROP DATABASE IF EXISTS {self.database} CASCADE")
        shutil.rmtree(self.warehouse, ignore_errors=True)


def _open_spark(
    con: Any, db_path: str | Path, master: str | None, conf: dict[str, str] | None
) -> _SparkRun:
    """A Spark backend holding the store's tables so far, in a database of its own.

    The build's own database (in a fresh warehouse folder beside the store) keeps its tables
    apart from anything else in a shared session, and Spark refuses to create a managed table
    where an older run left files. :meth:`_SparkRun.close` removes both.
    """
    from talentflow.engine import connect
    from talentflow.spark import copy_tables

    warehouse = Path(tempfile.mkdtemp(prefix=".spark-warehouse-", dir=Path(db_path).parent))
    backend = connect(warehouse, engine="spark", spark_master=master, spark_conf=conf)
    session = backend._session
    run = _SparkRun(
        backend=backend,
        database=f"talentflow_build_{uuid.uuid4().hex[:12]}",
        previous_database=session.catalog.currentDatabase(),
        warehouse=warehouse,
    )
    session.sql(f"CREATE DATABASE {run.database} LOCATION '{(warehouse / run.database).as_uri()}'")
    session.catalog.setCurrentDatabase(run.database)
    names = [t for t in con.list_tables() if not t.startswith("_") and t not in _DUCKDB_ONLY]
    copy_tables(con, backend, names)
    return run


def _copy_back(spark: Any, con: Any) -> None:
    """Copy every table on Spark into the DuckDB store (replacing the older copies)."""
    from talentflow.spark import copy_tables

    names = [t for t in spark.list_tables() if not t.startswith(("_", "ibis_"))]
    copy_tables(spark, con, names)
