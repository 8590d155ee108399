"""The build: every stage in order, on one connection, swapped in atomically.

Each stage is a module with ``run(ctx: StageContext) -> None`` that reads tables from
``ctx.con`` and writes its own. Stages never touch files or screens (sources read the input
files, which is their job); parameters are recorded in ``build_params``.

With ``engine="spark"`` the stages of ``SPARK_STAGES`` run on a PySpark session through the
same Ibis code (the scenario stage counts its covariate cells there and fits the small count
tables on the driver); the sources stage (DuckDB's JSON reader) stays on DuckDB, and every table
the Spark stages write is copied back into the DuckDB store, which the surfaces read. :func:`run_stage` is the one place a stage
runs; :func:`build` and :func:`run_stages` (stages on any connection, for the parity check and
the benchmarks) both go through it.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis

from talentflow import __version__
from talentflow.context import Progress, StageContext, _quiet
from talentflow.engines import Engine, check_engine, engine_of
from talentflow.engines.duckdb import DuckDBEngine
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
SPARK_STAGES = ("resolve", "identity", "careers", "indicators", "scenarios")
#: Store tables a Spark stage never reads (kept on DuckDB only).
_DUCKDB_ONLY = ("raw_papers", "raw_authorships", "ingest_log", "quarantine")

__all__ = [
    "SPARK_STAGES",
    "STAGES",
    "BuildReport",
    "OutOfMemory",
    "StageContext",
    "StageSelectionError",
    "build",
    "check_stages",
]


@dataclass
class BuildReport:
    """Timings per stage, for the CLI and benchmarks."""

    db_path: Path
    timings: dict[str, float] = field(default_factory=dict)


def run_stage(name: str, ctx: StageContext) -> float:
    """Run stage ``name`` with ``ctx``; its wall seconds. Out-of-memory becomes
    :class:`OutOfMemory` naming the stage."""
    modules = dict(STAGES)
    if name not in modules:
        raise ValueError(f"unknown stage {name!r}; choose from {', '.join(modules)}")
    t0 = time.perf_counter()
    ctx.forget_params(name)
    try:
        importlib.import_module(modules[name]).run(ctx)
    except (MemoryError, duckdb.OutOfMemoryException) as exc:
        raise OutOfMemory(name, ctx.engine.name, exc) from exc
    return time.perf_counter() - t0


def run_stages(
    con: Any,
    stages: Iterable[str],
    *,
    data_dir: str | Path | None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Run the named stages, in build order, on ``con`` (any engine); seconds per stage.

    Unlike :func:`build` this neither swaps a store nor needs DuckDB: it is how the parity
    check runs the same stage on both engines.
    """
    wanted = list(stages)
    _check_known(wanted)
    engine = engine_of(con)
    timings: dict[str, float] = {}
    for name, _ in STAGES:
        if name in wanted:
            ctx = _context(engine, None, data_dir, (params or {}).get(name), progress)
            timings[name] = run_stage(name, ctx)
    return timings


def _context(
    engine: Engine,
    previous: Any | None,
    data_dir: str | Path | None,
    params: dict[str, Any] | None,
    progress: Progress | None,
) -> StageContext:
    return StageContext(
        con=engine.con,
        previous=previous,
        data_dir=Path(data_dir) if data_dir is not None else None,
        params=dict(params or {}),
        progress=progress or _quiet,
        engine=engine,
    )


class StageSelectionError(ValueError):
    """``--stage`` names an unknown stage, or a stage without the stages it reads from."""


def _check_known(stages: Iterable[str]) -> None:
    """Raise :class:`StageSelectionError` naming the stages when one of ``stages`` is unknown."""
    order = [name for name, _ in STAGES]
    unknown = sorted(set(stages) - set(order))
    if unknown:
        raise StageSelectionError(
            f"unknown stage(s) {', '.join(unknown)}; the stages are {', '.join(order)}"
        )


def check_stages(stages: Iterable[str] | None) -> None:
    """Raise :class:`StageSelectionError` unless ``stages`` is empty or every stage comes with
    the stages before it.

    A build writes a new store from the source folders, so a stage named alone would find
    none of its inputs and replace a full store with a nearly empty one.
    """
    if stages is None:
        return
    order = [name for name, _ in STAGES]
    wanted = set(stages)
    _check_known(wanted)
    for i, name in enumerate(order):
        missing = [s for s in order[:i] if s not in wanted]
        if name in wanted and missing:
            raise StageSelectionError(
                f"stage {name} reads what {', '.join(missing)} write, and a build starts a new "
                f"store from the sources: name those stages too (--stage {' --stage '.join(order[: i + 1])}), "
                "or leave --stage out; the store was not touched"
            )


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
        Run only these stages (in build order); default all. Each must come with the stages
        before it (:func:`check_stages`): a build starts a new store from the sources.
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
    check_engine(engine)
    check_stages(stages)
    params = params or {}
    report = BuildReport(Path(db_path))
    started = datetime.now(UTC).isoformat()
    spark: Engine | None = None
    with atomic_build(db_path, wait=wait) as (con, previous), ExitStack() as cleanup:
        store = DuckDBEngine(con)
        store.set_limits(memory_limit, str(temp_dir) if temp_dir else None)
        for name, _ in STAGES:
            if stages is not None and name not in stages:
                continue
            on_spark = engine == "spark" and name in SPARK_STAGES
            if on_spark and spark is None:
                from talentflow.engines.spark import BuildDatabase

                database = BuildDatabase(Path(db_path).parent, master=spark_master, conf=spark_conf)
                cleanup.callback(database.close)
                spark = database.engine
                # the store's tables so far, except those only the sources stage reads
                store.copy_tables(spark, [t for t in store.user_tables() if t not in _DUCKDB_ONLY])
            runner = spark if on_spark and spark is not None else store
            ctx = _context(runner, previous, data_dir, params.get(name), progress)
            report.timings[name] = run_stage(name, ctx)
            if runner is not store:
                t0 = time.perf_counter()
                runner.copy_tables(store, runner.user_tables())
                report.timings[name] += time.perf_counter() - t0
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
