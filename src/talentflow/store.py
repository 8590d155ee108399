"""The DuckDB store: atomic builds and read-only access.

A build writes a brand-new file beside the store (``DB.building``) and swaps it in
(``os.replace``) only when every stage has finished. A killed or failed build leaves the
previous store untouched; the half-written file is removed (or, after a hard kill, ignored and
replaced by the next build). Readers keep reading the previous store meanwhile: they open it
read-only, and the swap replaces the name, not the file they have open.

One build at a time per store: a build holds an exclusive lock on ``DB.lock`` (an advisory
``flock``, released by the operating system when the process ends, however it ends). A second
build into the same store is refused with :class:`StoreBusy`, or waits for the first one with
``wait=True``.
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


class StoreBusy(RuntimeError):
    """Another build into the same store is running."""


def lock_path(db_path: Path) -> Path:
    """The lock file a build of ``db_path`` holds."""
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def build_lock(db_path: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the store's build lock; refuse (:class:`StoreBusy`) or ``wait`` when it is held.

    Where ``fcntl`` is missing (Windows) builds are not serialised.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = lock_path(db_path)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StoreBusy(
                f"another build into {db_path} is running ({holder}); this one was not "
                "started and the store is unchanged: wait for it to finish (or pass --wait), "
                "or build into another --db"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def building_path(db_path: Path) -> Path:
    """Where a build of ``db_path`` writes before the swap."""
    return db_path.with_name(db_path.name + ".building")


@contextmanager
def atomic_build(db_path: str | Path, *, wait: bool = False) -> Iterator[tuple[Any, Any | None]]:
    """Yield ``(new_con, previous_con_or_None)``; swap the new file in on success.

    ``previous_con`` is a read-only Ibis connection to the store being replaced, so stages can
    reuse what did not change (ingested files with the same hash, cached resolutions). The
    store's build lock is held throughout (:func:`build_lock`; ``wait`` as there).
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(db_path, wait=wait), _atomic_build(db_path) as cons:
        yield cons


@contextmanager
def _atomic_build(db_path: Path) -> Iterator[tuple[Any, Any | None]]:
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
