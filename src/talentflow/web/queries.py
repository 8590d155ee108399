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
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
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

F = TypeVar("F", bound=Callable[..., Any])


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
        self.con = open_store(self.db_path)
        self._lock = threading.RLock()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._cache_size = cache_size
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
        expr = expr.select(year=expr.year, **self._estimate(expr, "country_year", measure))
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
        paths = self.all_pathways()
        sel = paths[paths["population"] == population]
        return sel.drop(columns="population").reset_index(drop=True)

    @_cached
    def all_pathways(self) -> pd.DataFrame:
        """:meth:`pathways` of every population in one pass (kept in memory; small)."""
        cols = ["population", "origin_country", "training_country", "work_country", "n"]
        if not (
            self.has("authorships", "person_id", "venue", "year")
            and self.has("person_years", "country")
            and self.has("person_profile", "first_country", "training_country")
        ):
            return pd.DataFrame(columns=cols)
        a = self._t("authorships")
        who = (
            a.filter(a.person_id.notnull() & a.venue.notnull() & a.year.notnull())
            .select("person_id", "year", population=a.venue.concat(a.year.cast("string")))
            .distinct()
        )
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
        expr = (
            joined.group_by(
                population=joined.population,
                origin_country=joined.origin_country.fill_null("unknown"),
                training_country=joined.training_country,
                work_country=joined.work_country,
            )
            .aggregate(n=joined.person_id.nunique().cast("float64"))
            .order_by(["population", ibis.desc("n"), "origin_country", "work_country"])
        )
        # every population's paths (tens of thousands of rows); answers are one population each
        return self._run(expr, limit=10_000_000)[cols]

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
    def alumni(self, country: str, basis: str = "training") -> pd.DataFrame:
        """Where researchers whose origin is ``country`` work, across populations."""
        if not self.has("origin_work"):
            return pd.DataFrame(columns=["population", "work_country", "n", "value"])
        t = self._subset(self._t("origin_work"), "origin_work")
        expr = t.filter((t.origin_country == country) & (t.origin_basis == basis) & (t.n > 0))
        expr = expr.select(
            population=expr.population,
            work_country=expr.work_country,
            n=expr.n.cast("float64"),
            **self._estimate(expr, "origin_work", "share"),
        )
        return self._hide_suppressed(self._run(expr.order_by(["population", ibis.desc("n")])))

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
    def institution(self, name: str) -> dict[str, pd.DataFrame]:
        """Profile of one institution from person-years and events (observed counts)."""
        out: dict[str, pd.DataFrame] = {}
        if self.has("person_years", "institution"):
            t = self._t("person_years").filter(ibis._.institution == name)
            out["by_year"] = self._run(
                t.group_by("year").aggregate(persons=t.person_id.nunique()).order_by("year")
            )
            out["stages"] = self._run(
                t.group_by(stage=t.career_stage.fill_null("unknown"))
                .aggregate(persons=t.person_id.nunique())
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
    def person(self, person_id: str) -> dict[str, Any]:
        """One person's profile, yearly career, moves and papers."""
        out: dict[str, Any] = {}
        if self.has("persons"):
            p = self._t("persons")
            df = self._run(p.filter(p.person_id == person_id), limit=1)
            out["person"] = df.iloc[0].to_dict() if len(df) else None
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
            out["persons"] = self._run(
                p.filter(cond).select(*cols).order_by([ibis.desc("n_papers"), "person_id"]),
                limit=limit,
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
        """Every parameter of the build (stage, name, JSON value)."""
        if not self.has("build_params"):
            return pd.DataFrame(columns=["stage", "name", "value"])
        t = self._t("build_params")
        return self._run(t.select("stage", "name", "value").order_by(["stage", "name"]))

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

    def build_info(self) -> dict[str, str]:
        """Key/value facts of the build (version, engine, times)."""
        if not self.has("build_info"):
            return {}
        df = self._run(self._t("build_info"))
        return {str(k): str(v) for k, v in zip(df["key"], df["value"], strict=True)}

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
