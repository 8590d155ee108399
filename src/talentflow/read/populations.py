"""Queries about what the store covers: countries, years, populations, sectors."""

from __future__ import annotations

import re

import ibis
import pandas as pd

from talentflow.read.base import (
    _cached,
)
from talentflow.read.build import BuildReader

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


class PopulationReader(BuildReader):
    """Countries, years, populations and their completeness: what a page may ask for."""

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

        try:
            return int(self.param("indicators", "llm_era_start", LLM_ERA_START))
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

    def coverage_table(self, *, venues: bool = False) -> pd.DataFrame | None:
        """The ``coverage`` table (``venue = 'all'`` rows unless ``venues``) by year and venue,
        or None for a store without it."""
        if not self.has("coverage"):
            return None
        t = self._t("coverage")
        if not venues:
            t = t.filter(t.venue == "all")
        return self._run(t.order_by(["year", "venue"]), limit=None)

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

    @_cached
    def population_rule(self) -> str:
        """The build's ``population_papers`` rule (``accepted`` when not recorded)."""
        return str(self.param("indicators", "population_papers", "accepted"))

    @_cached
    def min_cell(self) -> int:
        """The indicators' minimum cell size (``build_params``; 5 when not recorded)."""
        try:
            return int(self.param("indicators", "min_cell", 5))
        except (TypeError, ValueError):
            return 5
