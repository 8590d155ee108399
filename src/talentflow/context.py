"""What a stage gets: :class:`StageContext` (kept apart from the runner in
:mod:`talentflow.pipeline`, so stage modules never import the module that runs them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from talentflow.engines import Engine, engine_of

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default progress callback: say nothing."""


@dataclass
class StageContext:
    """What a stage gets: the new store, the previous one (read-only), its parameters.

    ``con`` is the Ibis backend the stage reads and writes; ``engine`` (derived from ``con``
    when not given) is what the stage uses for the operations Ibis leaves to each engine.
    """

    con: Any
    previous: Any | None
    data_dir: Path | None
    params: dict[str, Any] = field(default_factory=dict)
    progress: Progress = _quiet
    engine: Engine = None  # type: ignore[assignment]  # filled in from con

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = engine_of(self.con)

    def forget_params(self, stage: str) -> None:
        """Drop the ``build_params`` rows of ``stage``: a stage run again on the same store
        (``run_stages``, the parity check) records its parameters afresh, not beside the old."""
        if "build_params" not in self.con.list_tables():
            return
        kept = self.con.table("build_params")
        kept = kept.filter(kept.stage != stage).to_pyarrow()  # a few dozen rows
        self.con.create_table("build_params", kept, overwrite=True)

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
