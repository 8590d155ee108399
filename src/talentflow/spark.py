"""PySpark engine adapter (optional): ``pip install 'talentflow[spark]'``.

Stages are Ibis expressions, so most of them run unchanged on an Ibis PySpark backend. This
module opens that backend (a local session or a cluster), copies tables between engines, and
runs a list of stages on any Ibis connection -- which the engine parity check and the scale
benchmark use. Stages that drop to DuckDB SQL (the sources stage parses JSON with DuckDB) run
on DuckDB first; their output tables are then copied into Spark (:func:`copy_tables`), or read
from the Parquet partitions of :func:`talentflow.sources.openalex_snapshot.write_parquet`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Settings every talentflow session gets (callers' ``conf`` wins).
DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: Local sessions bind the driver to loopback: the machine's public name may not be reachable
#: from itself (sandboxes, laptops on VPNs), which hangs session start.
LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
#: A cheap session for tests: one core, one shuffle partition, no UI.
TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "false",
}
MISSING = (
    "the Spark engine needs PySpark and Java: pip install 'talentflow[spark]' "
    "(and a Java 17 runtime on PATH or JAVA_HOME)"
)


def _engine_unavailable(message: str) -> Exception:
    from talentflow.engine import EngineUnavailable

    return EngineUnavailable(message)


def _splink_jar() -> str | None:
    """The jar of splink's Scala similarity functions (jaro_winkler, ...), for ``spark.jars``.

    The identity stage compares names with them; splink registers them in the session, but
    only when their jar was on the session's class path from the start.
    """
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:  # identity linkage unavailable anyway
        return None
    return similarity_jar_location()


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """Get or create the process's SparkSession with talentflow's defaults.

    Parameters
    ----------
    master
        ``local[*]`` (default), ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...``.
    conf
        Spark settings passed through (``spark.executor.memory``, ...).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise _engine_unavailable(MISSING) from exc
    builder = SparkSession.builder.master(master or "local[*]").appName("talentflow")
    local = LOCAL_CONF if (master or "local").startswith("local") else {}
    settings = {**DEFAULT_CONF, **local, **(conf or {})}
    jars = [j for j in (settings.get("spark.jars"), _splink_jar()) if j]
    if jars:
        settings["spark.jars"] = ",".join(jars)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # typically no Java runtime
        raise _engine_unavailable(f"{MISSING}; starting Spark failed: {exc}") from exc


def spark_connect(path: str | Path | None, *, master: str | None, conf: dict[str, str]) -> Any:
    """Open an Ibis PySpark backend with a local or cluster session.

    ``path`` is the warehouse directory (where ``create_table`` writes managed tables).
    """
    try:
        import ibis
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise _engine_unavailable(MISSING) from exc
    settings = dict(conf)
    if path is not None:
        settings.setdefault("spark.sql.warehouse.dir", str(Path(path).resolve()))
    session = spark_session(master, settings)
    # Ibis's PySpark compiler mistranslates strip/split: fix it before any stage compiles
    import talentflow.ibis_pyspark  # noqa: F401

    return ibis.pyspark.connect(session)


def copy_tables(source: Any, target: Any, names: Iterable[str]) -> None:
    """Copy tables from one Ibis connection to another (via Arrow), replacing them."""
    for name in names:
        data = source.table(name).to_pyarrow()
        target.create_table(name, data, overwrite=True)


def run_stages(
    con: Any,
    stages: Iterable[str],
    *,
    data_dir: str | Path | None,
    params: dict[str, dict[str, Any]] | None = None,
    engine: str = "duckdb",
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Run the named pipeline stages, in build order, on ``con``; seconds per stage.

    Unlike :func:`talentflow.pipeline.build` this neither swaps a store nor needs DuckDB: it is
    how the stages run on Spark, and how the parity check runs the same stage on both engines.
    """
    from talentflow.pipeline import STAGES, StageContext

    wanted = list(stages)
    unknown = set(wanted) - {name for name, _ in STAGES}
    if unknown:
        raise ValueError(f"unknown stage(s): {', '.join(sorted(unknown))}")
    timings: dict[str, float] = {}
    for name, module in STAGES:
        if name not in wanted:
            continue
        ctx = StageContext(
            con=con,
            previous=None,
            data_dir=Path(data_dir) if data_dir is not None else None,
            params=dict((params or {}).get(name, {})),
            progress=progress or (lambda message: None),
            engine=engine,
        )
        t0 = time.perf_counter()
        importlib.import_module(module).run(ctx)
        timings[name] = time.perf_counter() - t0
    return timings
