"""The build: every stage in order, on one connection, swapped in atomically.

Each stage is a module with ``run(ctx: StageContext) -> None`` that reads tables from
``ctx.con`` and writes its own. Stages never touch files or screens (sources read the input
files, which is their job); parameters are recorded in ``build_params``.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    """
    params = params or {}
    report = BuildReport(Path(db_path))
    started = datetime.now(UTC).isoformat()
    with atomic_build(db_path) as (con, previous):
        for name, module_name in STAGES:
            if stages is not None and name not in stages:
                continue
            ctx = StageContext(
                con=con,
                previous=previous,
                data_dir=Path(data_dir) if data_dir is not None else None,
                params=dict(params.get(name, {})),
                progress=progress or (lambda message: None),
            )
            t0 = time.perf_counter()
            importlib.import_module(module_name).run(ctx)
            report.timings[name] = time.perf_counter() - t0
        info = ibis.memtable(
            {
                "key": ["talentflow_version", "engine", "started", "finished", "data_dir"],
                "value": [
                    __version__,
                    "duckdb",
                    started,
                    datetime.now(UTC).isoformat(),
                    str(data_dir),
                ],
            }
        )
        con.create_table("build_info", info, overwrite=True)
    return report
