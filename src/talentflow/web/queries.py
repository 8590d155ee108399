"""Read-only queries the web app, the JSON API and the report share.

Every method builds an Ibis expression over the precomputed tables of ``docs/tables.md`` and
returns a small pandas frame. User input only ever reaches the store as Ibis literals (which Ibis
quotes), never as SQL text; the store is opened read-only; results are capped in size and cached
(the store never changes under a running server).

Indicator tables carry their interval as ``<measure>_ci_low``/``<measure>_ci_high`` when a table
holds several estimates (``country_year``) and as ``ci_low``/``ci_high`` otherwise; both are read.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

import ibis
import numpy as np
import pandas as pd

from talentflow.careers.tenures import most_common
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

#: Below this share of the year before's papers at the venues a year covers, the year is a
#: coverage change (its trend mixes venues entering or leaving with people moving).
COVERAGE_CHANGE = 0.75
#: Venues whose populations are the flagship default (NeurIPS).
FLAGSHIP_VENUES = ("nips", "neurips")
#: Readable names of common venue ids (others are shown as they are).
VENUE_LABELS = {
    "nips": "NeurIPS",
    "neurips": "NeurIPS",
    "iclr": "ICLR",
    "icml": "ICML",
    "cvpr": "CVPR",
    "iccv": "ICCV",
    "eccv": "ECCV",
    "acl": "ACL",
    "emnlp": "EMNLP",
    "naacl": "NAACL",
    "aaai": "AAAI",
    "ijcai": "IJCAI",
    "aistats": "AISTATS",
    "colt": "COLT",
    "corl": "CoRL",
    "uai": "UAI",
    "kdd": "KDD",
    "www": "WWW",
    "sigir": "SIGIR",
    "colm": "COLM",
    "tmlr": "TMLR",
    "mlsys": "MLSys",
    "all": "Every venue",
}
_POPULATION = re.compile(r"^(.*?)(\d{4})(?:-(\d{4}))?$")


def population_parts(population: str) -> tuple[str, int, int] | None:
    """``nips2021-2024`` -> ("nips", 2021, 2024); ``all2023`` -> ("all", 2023, 2023)."""
    m = _POPULATION.match(population)
    if m is None or not m.group(1):
        return None
    lo = int(m.group(2))
    return m.group(1), lo, int(m.group(3) or lo)


def venue_label(venue: str) -> str:
    """A readable venue name (``nips`` -> NeurIPS)."""
    return VENUE_LABELS.get(venue.lower(), venue)


def flagship_population(
    populations: list[str],
    complete_years: list[int] | None,
    last_complete: int,
    sizes: pd.DataFrame,
    decided: list[str] | None,
) -> str | None:
    """The population pages open on.

    In order: a pooled NeurIPS population (``nips<first>-<last>``) whose years are all complete
    and carry decisions; the newest such NeurIPS year; the venue-year of ``last_complete`` with
    most persons (``sizes``: population, persons) among those whose papers mostly carry a
    decision (``decided``; any venue-year when none does); every venue of that year
    (``all<year>``); the newest population. ``complete_years`` None (coverage unknown) and
    ``decided`` None or empty (no decisions in the store) do not restrict.
    """
    if not populations:
        return None
    done = set(complete_years or [])
    # no venue-year with decisions (a store built before them): decisions do not restrict
    have = set(decided) if decided else None

    def usable(venue: str, lo: int, hi: int) -> bool:
        years = range(lo, hi + 1)
        return (complete_years is None or all(y in done for y in years)) and (
            have is None or all(f"{venue}{y}" in have for y in years)
        )

    parts = [(p, population_parts(p)) for p in populations]
    nips = [(p, x) for p, x in parts if x and x[0] in FLAGSHIP_VENUES and usable(*x)]
    pooled = sorted((x[2], x[2] - x[1], p) for p, x in nips if x[2] > x[1])
    if pooled:
        return pooled[-1][2]
    single = sorted((x[1], p) for p, x in nips)
    if single:
        return single[-1][1]
    last = str(last_complete)
    # a single venue-year (``icml2024``), not a pool (``all2024``, ``nips2021-2024``)
    mine = sizes[
        sizes["population"].astype(str).str.endswith(last)
        & ~sizes["population"].astype(str).str.startswith("all")
        & ~sizes["population"].astype(str).str.contains("-")
    ]
    if have is not None and mine["population"].isin(list(have)).any():
        mine = mine[mine["population"].isin(list(have))]
    if len(mine):
        return str(mine.sort_values("persons").iloc[-1]["population"])
    alls = f"all{last_complete}"
    return alls if alls in populations else populations[-1]


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
    def wrapper(self: Queries, *args: Any, **kwargs: Any) -> Any:
        key = (fn.__name__, args, tuple(sorted(kwargs.items())))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = fn(self, *args, **kwargs)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    return wrapper  # type: ignore[return-value]


class Queries:
    """Read-only access to one store.

    Parameters
    ----------
    db_path
        The DuckDB store written by ``talentflow build``.
    cache_size
        How many query results to keep in memory.

    Examples
    --------
    >>> q = Queries("talentflow.duckdb")  # doctest: +SKIP
    >>> q.country_series("CN", 2015, 2020, measure="stock_share")  # doctest: +SKIP
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

    def _t(self, name: str) -> Any:
        return self._tables[name]

    def _run(self, expr: Any, limit: int = MAX_ROWS) -> pd.DataFrame:
        # Ibis compiles the expression (quoting every literal); DuckDB runs it. Going through
        # Arrow directly avoids Ibis' pandas path (warns under pandas 3) and its deprecated
        # DuckDB fetch call. One connection serves every thread: one query at a time.
        sql = self.con.compile(expr.limit(limit))
        with self._lock:
            cursor = self.con.con.execute(sql)
            fetch = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
            return fetch().to_pandas()

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

    # -- dimensions ----------------------------------------------------------------------------

    @_cached
    def countries(self) -> list[str]:
        """Country codes present in the indicators (or, before indicators, in person-years)."""
        for table, col in (("country_year", "country"), ("person_years", "country")):
            if self.has(table, col):
                t = self._t(table)
                df = self._run(t.select(c=t[col]).filter(ibis._.c.notnull()).distinct())
                return sorted(df["c"].astype(str))
        return []

    @_cached
    def year_range(self) -> tuple[int, int]:
        """First and last year with indicators (or papers)."""
        for table in ("country_year", "person_years", "papers"):
            if self.has(table, "year"):
                t = self._t(table)
                df = self._run(t.aggregate(lo=t.year.min(), hi=t.year.max()))
                if df["lo"].notna().all():
                    return int(df["lo"].iloc[0]), int(df["hi"].iloc[0])
        return (2000, 2000)

    @_cached
    def complete_years(self) -> list[int] | None:
        """Years the ``coverage`` table calls complete (None: a store without it)."""
        if not self.has("coverage", "complete"):
            return None
        t = self._t("coverage")
        df = self._run(t.filter((t.venue == "all") & t.complete).select("year"))
        return sorted(int(y) for y in df["year"])

    @_cached
    def last_complete_year(self) -> int:
        """The last complete year (headline readings and defaults), else the last year."""
        lo, hi = self.year_range()
        done = [y for y in self.complete_years() or [] if lo <= y <= hi]
        return done[-1] if done else hi

    @_cached
    def incomplete_years(self) -> list[int]:
        """Years of the store's range the ``coverage`` table calls incomplete."""
        done = self.complete_years()
        if done is None:
            return []
        lo, hi = self.year_range()
        return [y for y in range(lo, hi + 1) if y not in set(done)]

    @_cached
    def llm_era_start(self) -> int:
        """First year of the LLM era as built (``build_params``; the default otherwise)."""
        from talentflow.indicators.subfields import LLM_ERA_START

        df = self.build_params()
        row = df[(df["stage"] == "indicators") & (df["name"] == "llm_era_start")]
        try:
            return int(row["value"].iloc[0]) if len(row) else LLM_ERA_START
        except (TypeError, ValueError):
            return LLM_ERA_START

    @_cached
    def decided_populations(self) -> list[str] | None:
        """Venue-year labels (``nips2023``) whose papers mostly carry a decision (``coverage``
        share_with_decision >= 0.5); None for a store without the table."""
        if not self.has("coverage", "share_with_decision"):
            return None
        t = self._t("coverage")
        df = self._run(
            t.filter((t.venue != "all") & (t.share_with_decision >= 0.5)).select("venue", "year"),
            limit=1_000_000,
        )
        return [f"{v}{int(y)}" for v, y in zip(df["venue"], df["year"], strict=True)]

    @_cached
    def population_sizes(self) -> pd.DataFrame:
        """Persons with a work country per ``origin_work`` population (subset ``all``)."""
        if not self.has("origin_work", "population"):
            return pd.DataFrame(columns=["population", "persons"])
        t = self._t("origin_work")
        expr = (
            t.filter(
                (t.subset == "all")
                & (t.origin_basis == "first_observed")
                & (t.origin_country == "ALL")
            )
            .group_by("population")
            .aggregate(persons=t.n.sum())
        )
        return self._run(expr.order_by("population"))

    @_cached
    def populations(self) -> list[str]:
        """Venue-year populations of ``origin_work``."""
        if not self.has("origin_work", "population"):
            return []
        t = self._t("origin_work")
        return sorted(self._run(t.select("population").distinct())["population"].astype(str))

    @_cached
    def sectors(self) -> list[str]:
        """Sectors of ``country_year`` other than ``all``."""
        if not self.has("country_year", "sector"):
            return []
        t = self._t("country_year")
        df = self._run(t.filter(t.sector != "all").select("sector").distinct())
        return sorted(df["sector"].dropna().astype(str))

    # -- coverage and defaults -------------------------------------------------------------------

    @_cached
    def coverage_years(self) -> pd.DataFrame | None:
        """The ``coverage`` table's ``venue = 'all'`` rows (one per year), or None without it.

        None means *coverage unknown*: the surfaces then say so rather than guess which years
        are complete.
        """
        if not self.has("coverage", "venue", "year", "complete"):
            return None
        t = self._t("coverage")
        cols = [
            c
            for c in (
                "year",
                "n_venues",
                "papers",
                "population_papers",
                "overlap_prev",
                "overlap_next",
            )
            if c in self._columns["coverage"]
        ]
        df = self._run(
            t.filter(t.venue == "all").select(*cols, "complete").order_by("year"), limit=500
        )
        df["year"] = df["year"].astype(int)
        df["complete"] = df["complete"].fillna(False).astype(bool)
        return df

    @_cached
    def coverage_changes(self) -> list[int]:
        """Years ``y`` where the venues changed from ``y - 1``: either year's venues hold less
        than ``COVERAGE_CHANGE`` of the other's papers.

        Read from ``coverage.overlap_prev`` (share of year ``y - 1``'s papers at venues year
        ``y`` covers) and the year before's ``overlap_next``: below the threshold, a trend
        across ``y - 1 -> y`` mixes a change of corpus with moves of people.
        """
        cov = self.coverage_years()
        if cov is None or not {"overlap_prev", "overlap_next"} <= set(cov.columns):
            return []
        prev_next = cov["overlap_next"].shift(1).where(cov["year"].diff() == 1)
        worst = pd.concat([cov["overlap_prev"], prev_next], axis=1).min(axis=1, skipna=True)
        low = worst.notna() & (worst < COVERAGE_CHANGE)
        return [int(y) for y in cov.loc[low, "year"]]

    @_cached
    def default_population(self) -> str | None:
        """The flagship population of ``origin_work`` (see :func:`flagship_population`)."""
        return flagship_population(
            self.populations(),
            self.complete_years(),
            self.last_complete_year(),
            self.population_sizes(),
            self.decided_populations(),
        )

    @_cached
    def population_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Populations grouped for a selector: pooled groups first, then one group per venue.

        Each group is ``(label, [(population id, option label), ...])``, newest first.
        """
        pooled: list[tuple[tuple[bool, bool, int, str], str, str]] = []
        venues: dict[str, list[tuple[int, str, str]]] = {}
        other: list[tuple[str, str]] = []
        done = self.complete_years()
        for p in self.populations():
            parts = population_parts(p)
            if parts is None:
                other.append((p, p))
                continue
            venue, lo, hi = parts
            span = f"{lo}" if lo == hi else f"{lo}–{hi}"
            flag = ""
            if done is not None and not all(y in done for y in range(lo, hi + 1)):
                flag = " (incomplete year)"
            name = "every venue" if venue == "all" else venue_label(venue)
            if venue == "all" or hi > lo:
                key = (venue not in FLAGSHIP_VENUES, venue == "all", -hi, name.lower())
                pooled.append((key, p, f"{name} {span}, pooled{flag}"))
            else:
                venues.setdefault(venue, []).append((lo, p, f"{name} {span}{flag}"))
        groups: list[tuple[str, list[tuple[str, str]]]] = []
        if pooled:
            groups.append(("Pooled", [(p, label) for _, p, label in sorted(pooled)]))
        for venue in sorted(venues, key=lambda v: (v not in FLAGSHIP_VENUES, venue_label(v))):
            rows = sorted(venues[venue], reverse=True)
            groups.append((venue_label(venue), [(p, label) for _, p, label in rows]))
        if other:
            groups.append(("Other", other))
        return groups

    @_cached
    def origin_subsets(self) -> list[str]:
        """Subsets of ``origin_work`` (``all``, ``top``, ``llm``, subfields)."""
        if not self.has("origin_work", "subset"):
            return ["all"]
        t = self._t("origin_work")
        found = set(self._run(t.select("subset").distinct())["subset"].astype(str))
        return sorted(found, key=lambda s: (s != "all", s != "top", s))

    # -- country indicators ----------------------------------------------------------------------

    @_cached
    def country_series(
        self,
        country: str,
        start: int,
        end: int,
        measure: str = "stock_share",
        subset: str = "all",
        sector: str = "all",
    ) -> pd.DataFrame:
        """``measure`` of ``country_year`` for one country by year, with its interval."""
        if measure not in MEASURES or not self.has("country_year", measure):
            return pd.DataFrame(columns=["year", "value", "ci_low", "ci_high", "suppressed"])
        t = self._t("country_year")
        expr = t.filter(
            (t.country == country)
            & t.year.between(start, end)
            & (t.subset == subset)
            & (t.sector == sector)
        )
        flag = {"complete_year": expr.complete_year} if "complete_year" in expr.columns else {}
        expr = expr.select(year=expr.year, **self._estimate(expr, "country_year", measure), **flag)
        return self._hide_suppressed(self._run(expr.order_by("year")))

    @_cached
    def world_year(
        self, year: int, measure: str = "stock_share", subset: str = "all"
    ) -> pd.DataFrame:
        """``measure`` for every country in one year (the map)."""
        if measure not in MEASURES or not self.has("country_year", measure):
            return pd.DataFrame(columns=["country", "value", "ci_low", "ci_high", "suppressed"])
        t = self._t("country_year")
        expr = t.filter((t.year == year) & (t.subset == subset) & (t.sector == "all"))
        expr = expr.select(country=expr.country, **self._estimate(expr, "country_year", measure))
        return self._hide_suppressed(self._run(expr.order_by("country")))

    @_cached
    def retention_curves(
        self, country: str, start: int, end: int, basis: str = "training"
    ) -> pd.DataFrame:
        """Retention curves (share still working in ``country`` k years on) per cohort."""
        if not self.has("retention"):
            return pd.DataFrame(
                columns=["cohort_year", "k", "at_risk", "value", "ci_low", "ci_high"]
            )
        t = self._subset(self._t("retention"), "retention")
        # cohort_year NULL: all cohorts pooled (kept beside the cohorts of the period).
        expr = t.filter(
            (t.country == country)
            & (t.basis == basis)
            & (t.cohort_year.between(start, end) | t.cohort_year.isnull())
        )
        expr = expr.select(
            cohort_year=expr.cohort_year,
            k=expr.k,
            at_risk=expr.at_risk,
            **self._estimate(expr, "retention", "retained_share"),
        )
        return self._hide_suppressed(self._run(expr.order_by(["cohort_year", "k"])))

    @_cached
    def retention_bases(self, country: str) -> list[str]:
        """Bases (``training``, ``first_observed``) with retention rows for ``country``."""
        if not self.has("retention"):
            return []
        t = self._t("retention")
        t = self._subset(t, "retention")
        df = self._run(t.filter(t.country == country).select("basis").distinct())
        return sorted(df["basis"].astype(str), key=lambda b: b != "training")

    @_cached
    def retention_world(self, cohort_year: int, k: int, basis: str) -> pd.DataFrame:
        """Retention after ``k`` years of the ``cohort_year`` cohort, every country (the map)."""
        if not self.has("retention"):
            return pd.DataFrame(columns=["country", "value", "ci_low", "ci_high"])
        t = self._subset(self._t("retention"), "retention")
        expr = t.filter((t.cohort_year == cohort_year) & (t.k == k) & (t.basis == basis))
        expr = expr.select(
            country=expr.country,
            at_risk=expr.at_risk,
            **self._estimate(expr, "retention", "retained_share"),
        )
        return self._hide_suppressed(self._run(expr.order_by("country")))

    @_cached
    def returns_curve(self, country: str) -> pd.DataFrame:
        """Share of those who left ``country`` who are back within k years."""
        if not self.has("returns"):
            return pd.DataFrame(columns=["k", "at_risk", "value", "ci_low", "ci_high"])
        t = self._subset(self._t("returns"), "returns")
        expr = t.filter(t.country == country)
        expr = expr.select(
            k=expr.k, at_risk=expr.at_risk, **self._estimate(expr, "returns", "return_share")
        )
        return self._hide_suppressed(self._run(expr.order_by("k")))

    # -- flows -----------------------------------------------------------------------------------

    @_cached
    def bilateral(self, a: str, b: str, start: int, end: int, subset: str = "all") -> pd.DataFrame:
        """Flows a -> b and b -> a by year, with intervals."""
        if not self.has("flows"):
            return pd.DataFrame(columns=["year", "from_country", "to_country", "value"])
        t = self._t("flows")
        expr = t.filter(
            (
                ((t.from_country == a) & (t.to_country == b))
                | ((t.from_country == b) & (t.to_country == a))
            )
            & t.year.between(start, end)
        )
        expr = self._subset(expr, "flows", subset)
        expr = expr.select(
            year=expr.year,
            from_country=expr.from_country,
            to_country=expr.to_country,
            **self._estimate(expr, "flows", "n"),
        )
        return self._hide_suppressed(self._run(expr.order_by(["from_country", "year"])))

    @_cached
    def top_countries(self, start: int, end: int, n: int = 8) -> list[str]:
        """The ``n`` countries with most active researchers over the period."""
        if not self.has("country_year", "stock"):
            return self.countries()[:n]
        t = self._t("country_year")
        expr = (
            t.filter(t.year.between(start, end) & (t.subset == "all") & (t.sector == "all"))
            .group_by("country")
            .aggregate(total=ibis._.stock.sum())
            .order_by(ibis.desc("total"))
        )
        return list(self._run(expr, limit=n)["country"].astype(str))

    @_cached
    def top_pairs(self, start: int, end: int, subset: str = "all", n: int = 8) -> pd.DataFrame:
        """Yearly flows of the ``n`` largest country pairs among the top countries."""
        if not self.has("flows"):
            return pd.DataFrame(columns=["year", "from_country", "to_country", "value"])
        top = self.top_countries(start, end, 10)
        t = self._t("flows")
        base = self._subset(t, "flows", subset).filter(
            t.year.between(start, end) & t.from_country.isin(top) & t.to_country.isin(top)
        )
        pairs = (
            base.group_by(["from_country", "to_country"])
            .aggregate(total=base.n.sum())
            .order_by(ibis.desc("total"))
            .limit(n)
        )
        expr = base.semi_join(pairs, ["from_country", "to_country"])
        expr = expr.select(
            year=expr.year,
            from_country=expr.from_country,
            to_country=expr.to_country,
            **self._estimate(expr, "flows", "n"),
        )
        return self._hide_suppressed(
            self._run(expr.order_by(["from_country", "to_country", "year"]))
        )

    @_cached
    def partners(
        self, country: str, year: int, direction: str = "out", n: int = 10
    ) -> pd.DataFrame:
        """Top destinations (``out``) or sources (``in``) of ``country`` in ``year``."""
        if not self.has("flows"):
            return pd.DataFrame(columns=["partner", "value", "ci_low", "ci_high"])
        t = self._t("flows")
        own, other = (
            ("from_country", "to_country") if direction == "out" else ("to_country", "from_country")
        )
        expr = self._subset(t, "flows").filter((t[own] == country) & (t.year == year))
        expr = expr.select(partner=expr[other], **self._estimate(expr, "flows", "n"))
        df = self._hide_suppressed(self._run(expr.order_by(ibis.desc("value")), limit=n))
        return df

    @_cached
    def origin_work(
        self, population: str, basis: str = "first_observed", subset: str = "all"
    ) -> pd.DataFrame:
        """Origin -> work-country counts and shares of one venue-year population."""
        if not self.has("origin_work"):
            return pd.DataFrame(columns=["origin_country", "work_country", "n", "value"])
        t = self._subset(self._t("origin_work"), "origin_work", subset)
        expr = t.filter(
            (t.population == population)
            & (t.origin_basis == basis)
            & (t.n > 0)
            # "ALL" rows are the margin over origins; NULL is an unknown origin.
            & (t.origin_country.isnull() | (t.origin_country != "ALL"))
        )
        extra = (
            {"training_country": expr.training_country}
            if "training_country" in expr.columns
            else {}
        )
        for col in (
            "origin_share",
            "origin_share_ci_low",
            "origin_share_ci_high",
            "unknown_origin_share",
        ):
            if col in expr.columns:
                extra[col] = expr[col]
        expr = expr.select(
            origin_country=expr.origin_country.fill_null("unknown"),
            work_country=expr.work_country,
            n=expr.n.cast("float64"),
            **extra,
            **self._estimate(expr, "origin_work", "share"),
        )
        return self._hide_suppressed(self._run(expr.order_by(ibis.desc("n"))))

    @_cached
    def pathways(self, population: str) -> pd.DataFrame:
        """Persons of one venue-year population by first observed -> training -> work country.

        The population's authors (``authorships`` of that venue and year, linked to a person)
        are counted once each; the work country is their ``person_years`` country in the
        population's year, origin and training come from ``person_profile`` (observed career
        facts: first observed country, country of a student position when the source says).
        Columns: origin_country, training_country (NULL = not known), work_country, n.
        """
        parts = population_parts(population)
        if parts is not None and (parts[0] == "all" or parts[1] != parts[2]):
            return self._pooled_pathways(*parts)
        paths = self.all_pathways()
        sel = paths[paths["population"] == population]
        return sel.drop(columns="population").reset_index(drop=True)

    def _pooled_pathways(self, venue: str, first: int, last: int) -> pd.DataFrame:
        """:meth:`pathways` of a pooled population (``nips2021-2023``: the venue's authors over
        those years; ``all2023``: every venue's authors that year), each person counted once
        with the work country of the last year of the pool they authored in."""
        cols = ["origin_country", "training_country", "work_country", "n"]
        a = self._population_authorships()
        if a is None:
            return pd.DataFrame(columns=cols)
        cond = a.year.between(first, last)
        if venue != "all":
            cond = cond & (a.venue == venue)
        a = a.filter(cond)
        who = a.group_by("person_id").aggregate(year=a.year.max())
        return self._run(self._paths(who, []), limit=1_000_000)[cols]

    @_cached
    def all_pathways(self) -> pd.DataFrame:
        """:meth:`pathways` of every population in one pass (kept in memory; small)."""
        cols = ["population", "origin_country", "training_country", "work_country", "n"]
        a = self._population_authorships()
        if a is None:
            return pd.DataFrame(columns=cols)
        who = a.select(
            "person_id", "year", population=a.venue.concat(a.year.cast("string"))
        ).distinct()
        # every population's paths (tens of thousands of rows); answers are one population each
        return self._run(self._paths(who, ["population"]), limit=10_000_000)[cols]

    def _population_authorships(self) -> Any | None:
        """Linked authorships of the papers the build's population rule admits (None when the
        store lacks a table the paths need)."""
        if not (
            self.has("authorships", "person_id", "venue", "year")
            and self.has("person_years", "country")
            and self.has("person_profile", "first_country", "training_country")
        ):
            return None
        a = self._t("authorships")
        if self.population_rule() == "accepted" and self.has("papers", "decision"):
            # the venue-year population: authors of the papers the build's rule admits
            p = self._t("papers")
            out = p.filter(p.decision.isin(["rejected", "withdrawn"])).select("paper_id")
            a = a.anti_join(out, "paper_id")
        return a.filter(a.person_id.notnull() & a.venue.notnull() & a.year.notnull())

    def _paths(self, who: Any, by: list[str]) -> Any:
        """Persons of ``who`` (person_id, year[, by...]) counted by first observed -> training
        -> work country (their ``person_years`` country that year)."""
        py = self._t("person_years")
        py = py.filter(py.country.notnull()).select(
            pid=py.person_id, yr=py.year, work_country=py.country
        )
        pp = self._t("person_profile").select(
            ppid=ibis._.person_id,
            origin_country=ibis._.first_country,
            training_country=ibis._.training_country,
        )
        joined = who.join(py, (who.person_id == py.pid) & (who.year == py.yr)).left_join(
            pp, ibis._.person_id == pp.ppid
        )
        return (
            joined.group_by(
                *[joined[c] for c in by],
                origin_country=joined.origin_country.fill_null("unknown"),
                training_country=joined.training_country,
                work_country=joined.work_country,
            )
            .aggregate(n=joined.person_id.nunique().cast("float64"))
            .order_by([*by, ibis.desc("n"), "origin_country", "work_country"])
        )

    @_cached
    def population_rule(self) -> str:
        """The build's ``population_papers`` rule (``accepted`` when not recorded)."""
        df = self.build_params()
        row = df[(df["stage"] == "indicators") & (df["name"] == "population_papers")]
        return str(row["value"].iloc[0]).strip('"') if len(row) else "accepted"

    @_cached
    def min_cell(self) -> int:
        """The indicators' minimum cell size (``build_params``; 5 when not recorded)."""
        df = self.build_params()
        row = df[(df["stage"] == "indicators") & (df["name"] == "min_cell")]
        try:
            return int(row["value"].iloc[0]) if len(row) else 5
        except (TypeError, ValueError):
            return 5

    @_cached
    def alumni(
        self,
        country: str,
        basis: str = "training",
        population: str | None = None,
        subset: str = "all",
    ) -> pd.DataFrame:
        """Where researchers whose origin is ``country`` work (one population, or all).

        ``origin_share`` (with ``origin_share_ci_low``/``_high``) is the share of the persons
        of that origin, when the store has it; ``value`` is the share of the whole population.
        """
        if not self.has("origin_work"):
            return pd.DataFrame(columns=["population", "work_country", "n", "value"])
        t = self._subset(self._t("origin_work"), "origin_work", subset)
        cond = (t.origin_country == country) & (t.origin_basis == basis) & (t.n > 0)
        if population is not None:
            cond = cond & (t.population == population)
        expr = t.filter(cond)
        expr = expr.select(
            population=expr.population,
            work_country=expr.work_country,
            n=expr.n.cast("float64"),
            **self._origin_share(expr),
            **self._estimate(expr, "origin_work", "share"),
        )
        return self._hide_suppressed(self._run(expr.order_by(["population", ibis.desc("n")])))

    def _origin_share(self, t: Any) -> dict[str, Any]:
        """``origin_share`` columns of ``origin_work`` when present (h19's conditional shares)."""
        cols = (
            "origin_share",
            "origin_share_ci_low",
            "origin_share_ci_high",
            "unknown_origin_share",
        )
        have = self._columns.get("origin_work", frozenset())
        return {c: t[c].cast("float64") for c in cols if c in have}

    @_cached
    def sector_flows(self, country: str, start: int, end: int) -> pd.DataFrame:
        """Moves between sectors (academia <-> industry) in ``country`` by year."""
        if not self.has("sector_flows"):
            return pd.DataFrame(columns=["year", "from_sector", "to_sector", "value"])
        t = self._subset(self._t("sector_flows"), "sector_flows")
        expr = t.filter(
            (t.country == country) & t.year.between(start, end) & (t.from_sector != t.to_sector)
        )
        extra = {"domestic": expr.domestic} if "domestic" in expr.columns else {}
        expr = expr.select(
            year=expr.year,
            from_sector=expr.from_sector,
            to_sector=expr.to_sector,
            **extra,
            **self._estimate(expr, "sector_flows", "n"),
        )
        order = ["from_sector", "to_sector", *extra, "year"]
        return self._hide_suppressed(self._run(expr.order_by(order)))

    @_cached
    def sector_mix(self, country: str, year: int) -> pd.DataFrame:
        """Active researchers of ``country`` in ``year`` by sector."""
        if not self.has("country_year", "stock"):
            return pd.DataFrame(columns=["sector", "value"])
        t = self._t("country_year")
        expr = t.filter(
            (t.country == country) & (t.year == year) & (t.subset == "all") & (t.sector != "all")
        )
        expr = expr.select(sector=expr.sector, **self._estimate(expr, "country_year", "stock"))
        return self._hide_suppressed(self._run(expr.order_by(ibis.desc("value"))))

    @_cached
    def career_stages(self, country: str, year: int) -> pd.DataFrame:
        """Observed researchers of ``country`` in ``year`` by career stage (a count, not a sample)."""
        if not self.has("person_years", "career_stage"):
            return pd.DataFrame(columns=["career_stage", "persons"])
        df = self.stage_counts()
        sel = df[(df["country"] == country) & (df["year"] == year)]
        return (
            sel[["stage", "persons"]]
            .sort_values(["persons", "stage"], ascending=[False, True])
            .reset_index(drop=True)
        )

    @_cached
    def stage_counts(self) -> pd.DataFrame:
        """Persons by country, year and career stage: one pass, kept in memory (small)."""
        t = self._t("person_years")
        expr = t.group_by(
            country=t.country, year=t.year, stage=t.career_stage.fill_null("unknown")
        ).aggregate(persons=t.person_id.nunique())
        # every (country, year, stage) cell: a few thousand rows, far from any response size
        return self._run(expr, limit=10_000_000)

    # -- institutions, persons, search ---------------------------------------------------------

    @_cached
    def institution(self, name: str, year: int | None = None) -> dict[str, pd.DataFrame]:
        """Profile of one institution from person-years and events (observed counts);
        ``year`` limits the career stages to that year."""
        out: dict[str, pd.DataFrame] = {}
        if self.has("person_years", "institution"):
            t = self._t("person_years").filter(ibis._.institution == name)
            out["by_year"] = self._run(
                t.group_by("year").aggregate(persons=t.person_id.nunique()).order_by("year")
            )
            ty = t if year is None else t.filter(t.year == year)
            out["stages"] = self._run(
                ty.group_by(stage=ty.career_stage.fill_null("unknown"))
                .aggregate(persons=ty.person_id.nunique())
                .order_by(ibis.desc("persons"))
            )
            out["where"] = self._run(
                t.group_by(["country", "sector"])
                .aggregate(person_years=t.count())
                .order_by(ibis.desc("person_years")),
                limit=5,
            )
        if self.has("events", "from_institution"):
            e = self._t("events")
            for key, own, other in (
                ("destinations", "from_institution", "to_institution"),
                ("sources", "to_institution", "from_institution"),
            ):
                sel = e.filter((e[own] == name) & e[other].notnull() & (e[other] != name))
                out[key] = self._run(
                    sel.group_by(institution=sel[other])
                    .aggregate(moves=sel.count())
                    .order_by([ibis.desc("moves"), "institution"]),
                    limit=10,
                )
        return out

    @_cached
    def country_table(self, year: int) -> pd.DataFrame:
        """Every country in ``year``: stock, share, arrivals, departures, net rate, returnees.

        One row per country with the interval of each estimate (``<measure>_ci_low/high``).
        """
        cols = ["stock", "stock_share", "inflow", "outflow", "net_rate", "returns"]
        if not self.has("country_year", *cols):
            return pd.DataFrame(columns=["country", *cols])
        t = self._t("country_year")
        expr = t.filter((t.year == year) & (t.subset == "all") & (t.sector == "all"))
        sel: dict[str, Any] = {"country": expr.country}
        for m in cols:
            sel[m] = expr[m].cast("float64")
            low, high = self._ci_names("country_year", m)
            if low and high:
                sel[f"{m}_ci_low"] = expr[low].cast("float64")
                sel[f"{m}_ci_high"] = expr[high].cast("float64")
        if "suppressed" in self._columns["country_year"]:
            sel["suppressed"] = expr.suppressed.fill_null(False)
        return self._run(expr.select(**sel).order_by([ibis.desc("stock"), "country"]))

    @_cached
    def top_institutions(self, country: str, year: int, n: int = 15) -> pd.DataFrame:
        """Institutions of ``country`` with most observed researchers in ``year`` (a count)."""
        if not self.has("person_years", "institution", "country"):
            return pd.DataFrame(columns=["institution", "sector", "persons"])
        t = self._t("person_years")
        sel = t.filter((t.country == country) & (t.year == year) & t.institution.notnull())
        sector = most_common(sel, ["institution"], "sector") if "sector" in t.columns else None
        agg = sel.group_by("institution").aggregate(persons=sel.person_id.nunique())
        if sector is not None:
            agg = agg.left_join(sector, "institution").select("institution", "sector", "persons")
        return self._run(agg.order_by([ibis.desc("persons"), "institution"]), limit=n)

    @_cached
    def institution_moves(
        self, start: int, end: int, sector: str | None = "company", n: int = 15
    ) -> pd.DataFrame:
        """The largest institution-to-institution moves (``events`` at institution level) over
        ``start``-``end``, between institutions of ``sector`` on both sides (None: any)."""
        cols = ["from_institution", "to_institution", "from_country", "to_country", "moves"]
        if not self.has("events", "from_institution", "to_institution", "level"):
            return pd.DataFrame(columns=cols)
        e = self._t("events")
        cond = (
            (e.level == "institution")
            & e.year.between(start, end)
            & e.from_institution.notnull()
            & e.to_institution.notnull()
            & (e.from_institution != e.to_institution)
            & (e.kind != "temporary")
        )
        if sector is not None and "from_sector" in e.columns:
            cond = cond & (e.from_sector == sector) & (e.to_sector == sector)
        sel = e.filter(cond)
        expr = (
            sel.group_by(["from_institution", "to_institution"])
            .aggregate(
                from_country=sel.from_country.mode(),
                to_country=sel.to_country.mode(),
                moves=sel.person_id.nunique(),
            )
            .order_by([ibis.desc("moves"), "from_institution", "to_institution"])
        )
        return self._run(expr, limit=n)[cols]

    @_cached
    def joins(self, institutions: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Persons joining one of ``institutions`` (institution-level moves, not visits).

        One row per (person, year, institution joined): where they came from (institution,
        country, sector) and their first observed country (``first_country``).
        """
        cols = [
            "person_id",
            "year",
            "institution",
            "from_institution",
            "from_country",
            "from_sector",
            "to_country",
            "first_country",
        ]
        if not self.has("events", "from_institution", "to_institution", "level"):
            return pd.DataFrame(columns=cols)
        e = self._t("events")
        sel = e.filter(
            (e.level == "institution")
            & e.to_institution.isin(list(institutions))
            & e.year.between(start, end)
            & (e.kind != "temporary")
        )
        expr = sel.select(
            person_id=sel.person_id,
            year=sel.year,
            institution=sel.to_institution,
            from_institution=sel.from_institution,
            from_country=sel.from_country,
            from_sector=sel.from_sector if "from_sector" in sel.columns else ibis.null("string"),
            to_country=sel.to_country,
        ).distinct()
        if self.has("person_profile", "first_country"):
            pp = self._t("person_profile").select(
                ppid=ibis._.person_id, first_country=ibis._.first_country
            )
            expr = expr.left_join(pp, expr.person_id == pp.ppid).drop("ppid")
        else:
            expr = expr.mutate(first_country=ibis.null("string"))
        return self._run(expr.order_by(["year", "institution", "person_id"]), limit=MAX_ROWS * 4)[
            cols
        ]

    @_cached
    def staff(self, institutions: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Observed researchers at each of ``institutions`` per year (a count)."""
        if not self.has("person_years", "institution"):
            return pd.DataFrame(columns=["institution", "year", "persons"])
        t = self._t("person_years")
        sel = t.filter(t.institution.isin(list(institutions)) & t.year.between(start, end))
        return self._run(
            sel.group_by(["institution", "year"])
            .aggregate(persons=sel.person_id.nunique())
            .order_by(["institution", "year"])
        )

    @_cached
    def has_institution(self, name: str) -> bool:
        """Whether ``name`` is an institution of ``person_years``."""
        if not self.has("person_years", "institution"):
            return False
        t = self._t("person_years")
        return len(self._run(t.filter(t.institution == name).select("institution"), limit=1)) > 0

    @_cached
    def person(self, person_id: str) -> dict[str, Any]:
        """One person's profile, yearly career, moves and papers."""
        out: dict[str, Any] = {}
        if self.has("persons"):
            p = self._t("persons")
            df = self._run(p.filter(p.person_id == person_id), limit=1)
            out["person"] = df.iloc[0].to_dict() if len(df) else None
            if out["person"] is not None:
                out["person"] = _without_emails(out["person"])
        if self.has("person_profile"):
            p = self._t("person_profile")
            df = self._run(p.filter(p.person_id == person_id), limit=1)
            out["profile"] = df.iloc[0].to_dict() if len(df) else None
        if self.has("person_years"):
            t = self._t("person_years")
            out["years"] = self._run(t.filter(t.person_id == person_id).order_by("year"), limit=200)
        if self.has("events"):
            t = self._t("events")
            out["events"] = self._run(
                t.filter(t.person_id == person_id).order_by(["year", "level"]), limit=200
            )
        if self.has("authorships", "person_id") and self.has("papers"):
            a = self._t("authorships")
            p = self._t("papers")
            a = a.filter(a.person_id == person_id)
            cols = [c for c in ("institution", "country") if c in a.columns]
            joined = a.select("paper_id", "author_position", *cols).join(p, "paper_id")
            keep = [c for c in ("year", "venue", "title", "paper_id", *cols) if c in joined.columns]
            out["papers"] = self._run(
                joined.select(*keep).order_by([ibis.desc("year"), "title"]), limit=200
            )
        return out

    @_cached
    def search(self, q: str, limit: int = 20) -> dict[str, pd.DataFrame]:
        """Persons by name, id or known id; institutions by name (case-insensitive)."""
        limit = max(1, min(limit, MAX_SEARCH))
        needle = q.strip().lower()
        out: dict[str, pd.DataFrame] = {}
        if self.has("persons"):
            p = self._t("persons")
            cond = p.display_name.lower().contains(needle) | (p.person_id == q.strip())
            if "known_ids" in p.columns:
                cond = cond | p.known_ids.contains(q.strip())
            cols = [
                c
                for c in ("person_id", "display_name", "first_year", "last_year", "n_papers")
                if c in p.columns
            ]
            out["persons"] = self._places(
                self._run(
                    p.filter(cond).select(*cols).order_by([ibis.desc("n_papers"), "person_id"]),
                    limit=limit,
                )
            )
        if self.has("person_years", "institution"):
            t = self._t("person_years")
            hits = t.filter(t.institution.lower().contains(needle))
            # the country seen most often, ties to the first name (SQL mode picks at random)
            country = most_common(hits, ["institution"], "country")
            out["institutions"] = self._run(
                hits.group_by(["institution"])
                .aggregate(persons=hits.person_id.nunique())
                .left_join(country, "institution")
                .select("institution", "persons", "country")
                .order_by([ibis.desc("persons"), "institution"]),
                limit=limit,
            )
        return out

    def _places(self, found: pd.DataFrame, top: int = 2) -> pd.DataFrame:
        """``found`` persons with ``institutions`` (their ``top`` institutions by years seen,
        ``; ``-joined) and ``country`` (the most frequent), so namesakes can be told apart."""
        if found.empty or not self.has("person_years", "institution", "country"):
            return found
        t = self._t("person_years")
        mine = t.filter(t.person_id.isin(list(found.person_id)))
        counts = (
            mine.filter(mine.institution.notnull())
            .group_by(["person_id", "institution"])
            .aggregate(_n=ibis._.count())
        )
        w = ibis.window(group_by="person_id", order_by=[ibis.desc("_n"), "institution"])
        ranked = counts.mutate(_rk=ibis.row_number().over(w))
        insts = self._run(ranked.filter(ranked._rk < top).select("person_id", "institution", "_rk"))
        joined = (
            insts.sort_values(["person_id", "_rk"])
            .groupby("person_id")["institution"]
            .agg("; ".join)
            .rename("institutions")
        )
        country = self._run(most_common(mine, ["person_id"], "country"))
        out = found.merge(joined, on="person_id", how="left")
        return out.merge(country, on="person_id", how="left")

    # -- methods and data ------------------------------------------------------------------------

    @_cached
    def coverage(self) -> pd.DataFrame:
        """Papers and author slots by venue and year (what the build saw)."""
        if not self.has("papers", "venue", "year"):
            return pd.DataFrame(columns=["venue", "year", "papers"])
        p = self._t("papers")
        agg = {"papers": p.count()}
        if "n_authors" in p.columns:
            agg["author_slots"] = p.n_authors.sum()
        expr = p.group_by(["venue", "year"]).aggregate(**agg).order_by(["venue", "year"])
        return self._run(expr)

    @_cached
    def resolved_share(self) -> pd.DataFrame:
        """Share of author slots with a resolved country, by year."""
        if not self.has("authorships", "country", "year"):
            return pd.DataFrame(columns=["year", "slots", "with_country"])
        a = self._t("authorships")
        expr = (
            a.group_by("year")
            .aggregate(slots=a.count(), with_country=a.country.notnull().sum())
            .mutate(share=ibis._.with_country / ibis._.slots)
            .order_by("year")
        )
        return self._run(expr)

    @_cached
    def build_params(self) -> pd.DataFrame:
        """Every parameter of the build (stage, name, JSON value); paths by their last part."""
        if not self.has("build_params"):
            return pd.DataFrame(columns=["stage", "name", "value"])
        t = self._t("build_params")
        df = self._run(t.select("stage", "name", "value").order_by(["stage", "name"]))
        df["value"] = [_public_json(v) for v in df["value"]]
        return df

    @_cached
    def reference_notes(self) -> list[str]:
        """What reference data the resolver used or lacked (``build_params`` resolve notes)."""
        df = self.build_params()
        rows = df[(df["stage"] == "resolve") & (df["name"] == "reference_notes")]
        if rows.empty:
            return []
        notes = json.loads(str(rows["value"].iloc[-1])) or []
        # a note may name the folder the builder passed: no absolute paths in what we serve
        return [" ".join(_public(word) for word in str(n).split(" ")) for n in notes]

    @_cached
    def evidence_summary(self) -> pd.DataFrame:
        """Person-years and persons by career evidence (``paper``, ``openalex_history``,
        ``backfill``), for the methods page; empty for a store without the column."""
        if not self.has("person_years", "evidence"):
            return pd.DataFrame(columns=["evidence", "person_years", "persons"])
        t = self._t("person_years")
        return self._run(
            t.group_by("evidence")
            .aggregate(person_years=t.count(), persons=t.person_id.nunique())
            .order_by("evidence")
        )

    def careers_evidence(self) -> str:
        """The careers evidence of this build (``build_params``), ``papers`` if not recorded."""
        df = self.build_params()
        if df.empty or "name" not in df.columns:
            return "papers"
        row = df[(df["stage"] == "careers") & (df["name"] == "evidence")]
        return str(row["value"].iloc[-1]).strip('"') if len(row) else "papers"

    @_cached
    def build_info(self) -> dict[str, str]:
        """Key/value facts of the build (version, engine, times)."""
        if not self.has("build_info"):
            return {}
        df = self._run(self._t("build_info"))
        return {str(k): _public(str(v)) for k, v in zip(df["key"], df["value"], strict=True)}

    @_cached
    def ingest_summary(self) -> pd.DataFrame:
        """Files read per source and status, with record counts."""
        if not self.has("ingest_log"):
            return pd.DataFrame(columns=["source", "status", "files"])
        t = self._t("ingest_log")
        agg: dict[str, Any] = {"files": t.count()}
        for col in ("records_read", "records_kept", "records_quarantined"):
            if col in t.columns:
                agg[col] = t[col].sum()
        return self._run(
            t.group_by(["source", "status"]).aggregate(**agg).order_by(["source", "status"])
        )


def _without_emails(person: dict[str, Any]) -> dict[str, Any]:
    """A person's record without hashed e-mail identifiers (``email:<hash>``): they identify
    nobody to a reader and need not be shown; the count of them is kept."""
    ids = person.get("known_ids")
    if ids is None or isinstance(ids, str):
        return person
    ids = list(ids)
    kept = [i for i in ids if not str(i).startswith("email:")]
    return {**person, "known_ids": kept, "email_ids_hidden": len(ids) - len(kept)}
