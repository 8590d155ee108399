"""The PySpark engine (optional): ``pip install 'talentflow[spark]'``.

Stages are Ibis expressions, so they run unchanged on an Ibis PySpark backend. This module
opens that backend (a local session or a cluster) and gives a build a database of its own in
a shared session. The sources stage (DuckDB's JSON reader) runs on DuckDB; its tables are
copied in (:meth:`Engine.copy_tables`), or read from the Parquet partitions of
:func:`talentflow.sources.openalex_snapshot.write_parquet`.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from talentflow.engines.base import SPARK_MISSING, Engine, EngineUnavailable

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
        raise EngineUnavailable(SPARK_MISSING) from exc
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
        raise EngineUnavailable(f"{SPARK_MISSING}; starting Spark failed: {exc}") from exc


def connect_spark(
    path: str | Path | None = None,
    *,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    session: Any | None = None,
) -> Any:
    """An Ibis PySpark backend on ``session`` or on a local or cluster session it opens.

    ``path`` is the warehouse directory (where ``create_table`` writes managed tables).
    """
    try:
        import ibis
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise EngineUnavailable(SPARK_MISSING) from exc
    if session is None:
        settings = dict(conf or {})
        if path is not None:
            settings.setdefault("spark.sql.warehouse.dir", str(Path(path).resolve()))
        session = spark_session(master, settings)
    # Ibis's PySpark compiler mistranslates strip/split: fix it before any stage compiles
    import talentflow.engines.pyspark_compiler  # noqa: F401

    return ibis.pyspark.connect(session)


class SparkEngine(Engine):
    """PySpark through Ibis; :attr:`session` is its SparkSession."""

    name = "spark"

    @property
    def session(self) -> Any:
        """The ``pyspark.sql.SparkSession`` under the Ibis backend."""
        return self.con._session

    def replace_table(self, source: str, target: str) -> None:
        self.con.drop_table(target, force=True)
        self.con.rename_table(source, target)

    def splink_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.session, break_lineage_method="persist")


class BuildDatabase:
    """A database of its own, in a fresh warehouse folder, for one build on a shared session.

    It keeps the build's tables apart from anything else in the session, and Spark refuses to
    create a managed table where an older run left files. :meth:`close` drops both.
    """

    def __init__(
        self, parent: Path, *, master: str | None = None, conf: dict[str, str] | None = None
    ) -> None:
        self.warehouse = Path(tempfile.mkdtemp(prefix=".spark-warehouse-", dir=parent))
        self.engine = SparkEngine(connect_spark(self.warehouse, master=master, conf=conf))
        session = self.engine.session
        self.database = f"talentflow_build_{uuid.uuid4().hex[:12]}"
        self.previous_database = session.catalog.currentDatabase()
        location = (self.warehouse / self.database).as_uri()
        session.sql(f"CREATE DATABASE {self.database} LOCATION '{location}'")
        session.catalog.setCurrentDatabase(self.database)

    def close(self) -> None:
        """Drop the build's database and warehouse (the session may be shared)."""
        session = self.engine.session
        session.catalog.setCurrentDatabase(self.previous_database)
        session.sql(f"DROP DATABASE IF EXISTS {self.database} CASCADE")
        shutil.rmtree(self.warehouse, ignore_errors=True)
