"""The DuckDB store: atomic builds and read-only access.

A build writes a brand-new file beside the store and swaps it in (``os.replace``) only when
every stage has finished. A killed or failed build leaves the previous store untouched; the
half-written file is removed (or, after a hard kill, ignored and replaced by the next build).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from talentflow.engines import connect

DEFAULT_DB = Path("talentflow.duckdb")


class StoreError(RuntimeError):
    """The store is missing or unreadable."""


def building_path(db_path: Path) -> Path:
    """Where a build of ``db_path`` writes before the swap."""
    return db_path.with_name(db_path.name + ".building")


@contextmanager
def atomic_build(db_path: str | Path) -> Iterator[tuple[Any, Any | None]]:
    """Yield ``(new_con, previous_con_or_None)``; swap the new file in on success.

    ``previous_con`` is a read-only Ibis connection to the store being replaced, so stages can
    reuse what did not change (ingested files with the same hash, cached resolutions).
    """
    db_path = Path(db_path)
    tmp = building_path(db_path)
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if db_path.exists():
        try:
            previous = connect(db_path, read_only=True)
        except Exception:  # an unreadable old store is simply not reused
            previous = None
    con = connect(tmp)
    try:
        yield con, previous
        con.raw_sql("CHECKPOINT")
    except BaseException:
        con.disconnect()
        if previous is not None:
            previous.disconnect()
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.disconnect()
    if previous is not None:
        previous.disconnect()
    os.replace(tmp, db_path)


def open_store(db_path: str | Path) -> Any:
    """Open an existing store read-only, with a clear error when it is missing."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreError(f"no store at {db_path}: run `talentflow build` first")
    return connect(db_path, read_only=True)
