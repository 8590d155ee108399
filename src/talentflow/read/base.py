"""Read-only access to one store: the connection, the tables it has, the result cache, any
table as a filtered frame, and the helpers every query uses."""

from __future__ import annotations

import functools
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Self, TypeVar

import ibis
import numpy as np
import pandas as pd

from talentflow.store import open_store

#: Most rows any query returns (a cap on response size whatever the parameters).
MAX_ROWS = 5000


#: Most results of a search.
MAX_SEARCH = 50


#: Measures of ``country_year`` the surfaces show, with a plain label.
MEASURES: dict[str, str] = {
    "stock": "Active researchers",
    "stock_share": "Share of the world's active researchers",
    "net_rate": "Net migration rate (per 1,000 researchers)",
    "inflow": "Researchers arriving",
    "outflow": "Researchers leaving",
    "net_flow": "Net flow (arrivals - departures)",
    "returns": "Returnees",
    "inflow_rate": "Arrival rate (per 1,000)",
    "outflow_rate": "Departure rate (per 1,000)",
}


F = TypeVar("F", bound=Callable[..., Any])


def _public(value: str) -> str:
    """``value``, or only the last part of it when it is an absolute path of the build's
    machine (where the builder keeps the data is no reader's business)."""
    if value.startswith("~") or PurePosixPath(value).is_absolute():
        return PurePosixPath(value).name
    if PureWindowsPath(value).is_absolute():
        return PureWindowsPath(value).name
    return value


def _public_json(value: Any) -> Any:
    """A JSON-encoded build parameter with :func:`_public` applied to a string value."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        return value
    return json.dumps(_public(decoded)) if isinstance(decoded, str) else value


def _cached(fn: F) -> F:
    """Memoise a query method per instance (bounded LRU; the store is immutable)."""

    @functools.wraps(fn)
    def wrapper(self: ReaderBase, *args: Any, **kwargs: Any) -> Any:
        key = (fn.__name__, args, tuple(sorted(kwargs.items())))
        return self.memo(key, lambda: fn(self, *args, **kwargs))

    return wrapper  # type: ignore[return-value]


class ReaderBase:
    """The connection to one store (read-only), the result cache and the helpers every query uses.

    ``con`` is the Ibis connection (read-only); ``tables`` the names of the store's tables.
    """

    def __init__(self, db_path: str | Path, cache_size: int = 2048) -> None:
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._cache_size = cache_size
        self._open()

    def _open(self) -> None:
        self.con = open_store(self.db_path)
        with warnings.catch_warnings():
            # Ibis 12 reads schemas with DuckDB 1.5's deprecated ``fetch_arrow_table``; the
            # table expressions are built once here (queries then skip the schema lookups).
            warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
            self._tables = {name: self.con.table(name) for name in self.con.list_tables()}
        self.tables = frozenset(self._tables)
        self._columns = {name: frozenset(t.columns) for name, t in self._tables.items()}

    def close(self) -> None:
        """Close the store."""
        self.con.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reopen(self) -> None:
        """Read the file at ``db_path`` anew (a build replaced it), with an empty cache.

        The same object keeps serving: queries already running finish on the old file first
        (they hold the lock), later ones read the new one. The old connection is closed
        before the new one opens, since DuckDB would otherwise hand back the database it
        already has open under that name.
        """
        with self._lock:
            self.con.disconnect()
            self._cache.clear()
            self._open()

    # -- any table ---------------------------------------------------------------------------

    def columns(self, table: str) -> list[str]:
        """Column names of ``table``, in the store's order."""
        return list(self._t(table).columns)

    def count(self, table: str) -> int:
        """Rows of ``table``."""
        t = self._t(table)
        return int(self._run(t.aggregate(n=t.count()))["n"].iloc[0])

    def frame(self, table: str, *, include_suppressed: bool = True, **filters: Any) -> pd.DataFrame:
        """All rows of ``table`` filtered on its columns, as a DataFrame (not cached, no cap).

        A filter value that is a list, tuple or set means "any of"; ``None`` leaves the column
        unfiltered. Suppressed cells (``suppressed`` true, values NULL) are kept unless
        ``include_suppressed=False``.
        """
        t = self._t(table)
        for col, value in filters.items():
            if value is None:
                continue
            if col not in t.columns:
                raise KeyError(f"{table} has no column {col!r}; columns: {', '.join(t.columns)}")
            if isinstance(value, list | tuple | set):
                t = t.filter(t[col].isin(list(value)))
            else:
                t = t.filter(t[col] == value)
        if not include_suppressed and "suppressed" in t.columns:
            t = t.filter(~t.suppressed)
        return self._pandas(t)

    def _pandas(self, expr: Any) -> pd.DataFrame:
        """Every row of ``expr`` through Ibis' own conversion (its column types)."""
        with self._lock:
            return expr.to_pandas()

    def copy_to(self, table: str, path: Path, options: str) -> int:
        """Write ``table`` to the file ``path`` with DuckDB's ``COPY`` (``options`` such as
        ``FORMAT CSV, HEADER``); returns the rows written."""
        self._t(table)
        escaped = str(path).replace("'", "''")
        with self._lock:
            self.con.raw_sql(f"COPY \"{table}\" TO '{escaped}' ({options})")
        return self.count(table)

    def _t(self, name: str) -> Any:
        """The table ``name``, or a :class:`KeyError` that lists the tables there are."""
        if name not in self._tables:
            raise KeyError(
                f"no table {name!r} in {self.db_path}; tables: {', '.join(sorted(self.tables))}"
            )
        return self._tables[name]

    # -- helpers -----------------------------------------------------------------------------

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per ``key`` (same bounded LRU as the queries; the store is fixed)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = build()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return value

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` exists (with all ``columns``)."""
        return table in self.tables and set(columns) <= self._columns[table]

    def _run(self, expr: Any, limit: int | None = MAX_ROWS) -> pd.DataFrame:
        # Ibis compiles the expression (quoting every literal); DuckDB runs it. Going through
        # Arrow directly avoids Ibis' pandas path (warns under pandas 3) and its deprecated
        # DuckDB fetch call. One connection serves every thread: one query at a time.
        sql = self.con.compile(expr if limit is None else expr.limit(limit))
        with self._lock:
            cursor = self.con.raw_sql(sql)
            fetch = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
            return fetch().to_pandas()

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a fixed SQL text as Python tuples (no user input ever reaches ``sql``)."""
        with self._lock:
            return list(self.con.raw_sql(sql).fetchall())

    def _ci_names(self, table: str, measure: str) -> tuple[str | None, str | None]:
        cols = self._columns.get(table, frozenset())
        for low, high in ((f"{measure}_ci_low", f"{measure}_ci_high"), ("ci_low", "ci_high")):
            if low in cols and high in cols:
                return low, high
        return None, None

    def _estimate(self, t: Any, table: str, measure: str) -> dict[str, Any]:
        """Columns value/ci_low/ci_high/suppressed for ``measure`` of table ``t``."""
        low, high = self._ci_names(table, measure)
        nan = ibis.literal(None, type="float64")
        out = {
            "value": t[measure].cast("float64"),
            "ci_low": t[low].cast("float64") if low else nan,
            "ci_high": t[high].cast("float64") if high else nan,
        }
        out["suppressed"] = (
            t["suppressed"].fill_null(False)
            if "suppressed" in self._columns[table]
            else ibis.literal(False)
        )
        return out

    def _subset(self, t: Any, table: str, subset: str = "all") -> Any:
        """Rows of one subset (``all`` / ``llm``) when the table is split by subset."""
        return t.filter(t.subset == subset) if "subset" in self._columns[table] else t

    @staticmethod
    def _hide_suppressed(df: pd.DataFrame) -> pd.DataFrame:
        if "suppressed" in df and df["suppressed"].any():
            df = df.copy()
            mask = df["suppressed"].astype(bool)
            df.loc[mask, ["value", "ci_low", "ci_high"]] = np.nan
        return df
