"""The identity stage's intermediate tables: temporary where the engine has them.

On DuckDB a temporary table lives in memory (spilling to the temp directory under the memory
limit) and is never compressed and written into the store file, which cost about as much CPU
as computing the 1M-authorship feature table itself; it is gone with the session. Engines
without temporary tables get an ordinary table, dropped with the stage's other intermediates.
"""

from __future__ import annotations

from typing import Any

from talentflow.engines import engine_of


def scratch_table(con: Any, name: str, expr: Any) -> Any:
    """Materialise ``expr`` as intermediate table ``name`` (replacing one of that name) and
    return it."""
    con.drop_table(name, force=True)
    return engine_of(con).temp_table(name, expr)
