"""PySpark engine adapter (optional): ``pip install 'talentflow[spark]'``."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def spark_connect(path: str | Path | None, *, master: str | None, conf: dict[str, str]) -> Any:
    """Open an Ibis PySpark backend with a local or cluster session."""
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from talentflow.engine import EngineUnavailable

        raise EngineUnavailable(
            "the Spark engine needs PySpark: pip install 'talentflow[spark]'"
        ) from exc
    builder = SparkSession.builder.master(master or "local[*]").appName("talentflow")
    settings = {
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
    }
    if path is not None:
        settings["spark.sql.warehouse.dir"] = str(Path(path).resolve())
    settings.update(conf)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    return ibis.pyspark.connect(session)
