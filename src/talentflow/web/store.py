"""The store a running server reads, reopened when a build swaps a new one in.

A build replaces the store file by name (``os.replace``): a server that keeps its connection
keeps reading the old file. :class:`LiveStore` looks at the file at most once a second and,
when it changed, opens the new one for the next requests; ``/healthz`` says which store is
served and, when a newer one could not be opened, that the previous one still is.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from talentflow.read import StoreReader
from talentflow.web.explorer import Explorer


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is replaced (inode, modification time, size)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _is_duckdb(path: Path) -> bool:
    """Whether ``path`` starts like a DuckDB database file (``DUCK`` after the checksum)."""
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LiveStore:
    """Read-only queries and scenario explorer on the current store at ``db_path``.

    Parameters
    ----------
    db_path
        The store written by ``talentflow build``.
    on_reopen
        Called after a newer store was opened (e.g. to warm its pages again).
    check_every
        Seconds between two looks at the file.
    """

    def __init__(
        self,
        db_path: str | Path,
        on_reopen: Callable[[], None] | None = None,
        check_every: float = 1.0,
    ) -> None:
        self.path = Path(db_path)
        self.queries = StoreReader(self.path)
        self.explorer = Explorer(self.path)
        self.check_every = check_every
        self.on_reopen = on_reopen
        self._stamp = _stamp(self.path)
        self._opened = _now()
        self._reopened = 0
        self._note: str | None = None
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._state: Any = None

    def attach(self, state: Any) -> None:
        """Publish the current queries and explorer on ``state`` (the app's ``state``)."""
        self._state = state
        state.queries = self.queries
        state.explorer = self.explorer
        state.store = self

    def refresh(self) -> None:
        """Open the store anew if its file was replaced since it was opened."""
        if time.monotonic() - self._checked < self.check_every:
            return
        with self._lock:
            if time.monotonic() - self._checked < self.check_every:
                return
            self._checked = time.monotonic()
            stamp = _stamp(self.path)
            if stamp is None:
                self._note = f"{self.path.name} is gone: serving the store opened at {self._opened}"
                return
            if stamp == self._stamp:
                return
            if not _is_duckdb(self.path):  # a half-copied or foreign file: keep the old one
                self._note = (
                    f"the file now at {self.path.name} is not a DuckDB store: serving the "
                    f"previous store, opened at {self._opened}"
                )
                return
            if self.explorer.busy():
                # its open connection would make DuckDB hand the old file back: next time
                return
            try:
                self.queries.reopen()
            except Exception as exc:
                self._note = f"the new {self.path.name} could not be opened ({type(exc).__name__})"
                return
            self.explorer = Explorer(self.path)
            self._stamp, self._opened, self._note = stamp, _now(), None
            self._reopened += 1
            if self._state is not None:
                self.attach(self._state)
        if self.on_reopen is not None:
            self.on_reopen()

    def health(self) -> dict[str, Any]:
        """Which store is served: its build time, when it was opened, how often reopened."""
        info = self.queries.build_info()
        return {
            "file": self.path.name,
            "built": info.get("finished"),
            "opened": self._opened,
            "reopened": self._reopened,
            "serving": "previous" if self._note else "current",
            "note": self._note,
        }

    def close(self) -> None:
        """Close the connection."""
        self.queries.close()
