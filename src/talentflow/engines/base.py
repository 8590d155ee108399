"""The contract every engine meets, and what is the same on all of them.

Stages are Ibis expressions on ``ctx.con``; what Ibis does not cover (replacing a table in
place, the insert-order setting, splink's database API, copying tables between engines) goes
through an :class:`Engine`, so no stage reaches for a backend's private handles or branches on
its name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: Engine names, the default first.
ENGINES = ("duckdb", "spark")

#: What to install when the Spark engine is asked for but missing.
SPARK_MISSING = (
    "the Spark engine needs PySpark and Java: pip install 'talentflow[spark]' "
    "(and a Java 17 runtime on PATH or JAVA_HOME)"
)


class EngineUnavailable(RuntimeError):
    """Raised when an optional engine is asked for but not installed (or cannot start)."""


class Engine(ABC):
    """An Ibis backend plus the few operations Ibis leaves to each engine.

    Parameters
    ----------
    con
        The Ibis backend (what stages read and write tables on).
    """

    #: ``"duckdb"`` or ``"spark"``.
    name: str = ""

    def __init__(self, con: Any) -> None:
        self.con = con

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @abstractmethod
    def replace_table(self, source: str, target: str) -> None:
        """Drop table ``target`` and give ``source`` its name (no copy where the engine can
        rename)."""

    def set_column(self, table: str, column: str, source: str, key: str) -> None:
        """Give ``table`` the column ``column`` of table ``source``, matched on ``key`` (NULL
        where ``source`` has no row; ``source`` holds each key at most once), as its last
        column, replacing a column of that name.

        Here: a new table with the column joined on, which then takes the old one's place.
        """
        t = self.con.table(table)
        if column in t.columns:
            t = t.drop(column)
        s = self.con.table(source).select(key, column)
        new = t.left_join(s, key).drop(f"{key}_right")
        scratch = f"_{table}__{column}"
        self.con.create_table(scratch, new, overwrite=True)
        self.replace_table(scratch, table)

    def set_columns(
        self,
        table: str,
        source: str,
        columns: Sequence[str],
        keys: Sequence[str],
        *,
        drop: Iterable[str] = (),
    ) -> None:
        """Give ``table`` the ``columns`` of table ``source``, matched on the columns ``keys``
        of both (NULL equal to NULL; NULL where ``source`` has no row; ``source`` holds each
        key at most once), as its last columns in that order, replacing columns of those
        names; columns named in ``drop`` are removed.

        Here: one new table with the columns joined on, which then takes the old one's place.
        """
        t = self.con.table(table)
        gone = [c for c in (*columns, *drop) if c in t.columns]
        if gone:
            t = t.drop(*gone)
        s = self.con.table(source)
        s = s.select(*[s[k].name(f"_key{i}") for i, k in enumerate(keys)], *columns)
        on = [t[k].identical_to(s[f"_key{i}"]) for i, k in enumerate(keys)]
        new = t.left_join(s, on).select(*t.columns, *columns)
        scratch = f"_{table}__columns"
        self.con.create_table(scratch, new, overwrite=True)
        self.replace_table(scratch, table)

    @contextmanager
    def unordered_inserts(self) -> Iterator[None]:
        """Inside the block inserts may ignore row order (an engine without the setting:
        nothing to do)."""
        yield

    def temp_table(self, name: str, expr: Any) -> Any:
        """Materialise ``expr`` as an intermediate table ``name`` (gone with the session where
        the engine has temporary tables; otherwise drop it with :meth:`drop_tables`)."""
        return self.con.create_table(name, expr, overwrite=True)

    def drop_tables(self, prefix: str) -> None:
        """Drop every table whose name starts with ``prefix`` (a stage's intermediates)."""
        for name in self.con.list_tables():
            if name.startswith(prefix):
                self.con.drop_table(name, force=True)

    @abstractmethod
    def splink_api(self) -> Any:
        """splink's database API on this engine's own session/connection."""

    def copy_tables(self, target: Engine, names: Iterable[str]) -> None:
        """Copy tables from this engine to ``target`` (via Arrow), replacing them there."""
        for name in names:
            target.con.create_table(name, self.con.table(name).to_pyarrow(), overwrite=True)

    def user_tables(self) -> list[str]:
        """Tables a stage wrote (not intermediates ``_...`` nor Ibis's ``ibis_...``)."""
        return [t for t in self.con.list_tables() if not t.startswith(("_", "ibis_"))]
