"""Queries over the indicator tables (country_year, retention, returns, flows, ...)."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from talentflow.read.base import (
    MEASURES,
    _cached,
)
from talentflow.read.populations import (
    PopulationReader,
    population_parts,
)


class IndicatorReader(PopulationReader):
    """Indicator series: shares, retention, returns, flows, pathways, alumni, sectors, stages."""

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
    def pathways(self, population: str, subset: str = "all") -> pd.DataFrame:
        """Persons of one venue-year population by first observed -> training -> work country.

        The population's authors (``authorships`` of that venue and year, linked to a person)
        are counted once each; the work country is their ``person_years`` country in the
        population's year, origin and training come from ``person_profile`` (observed career
        facts: first observed country, country of a student position when the source says).
        ``subset`` keeps the authors of the population's papers of that subset, as
        ``origin_work`` does (``top``, ``llm``, a subfield; :meth:`subset_papers`).
        Columns: origin_country, training_country (NULL = not known), work_country, n.
        """
        parts = population_parts(population)
        if subset == "all" and parts is not None and parts[0] != "all" and parts[1] == parts[2]:
            paths = self.all_pathways()
            sel = paths[paths["population"] == population]
            return sel.drop(columns="population").reset_index(drop=True)
        cols = ["origin_country", "training_country", "work_country", "n"]
        who = self.population_persons(population, subset)
        if who is None:
            return pd.DataFrame(columns=cols)
        return self._run(self._paths(who, []), limit=1_000_000)[cols]

    def population_persons(self, population: str, subset: str = "all") -> Any | None:
        """``(person_id, year)`` of each person of a population (an Ibis table; None when the
        store lacks a table it needs or the label is not venue+year).

        ``nips2021-2023``: the venue's authors over those years, ``all2023``: every venue's
        authors that year; each person once, with the last year of the pool they authored in
        (the year their work country is read from). ``subset``: authors of the population's
        papers of that subset only.
        """
        parts = population_parts(population)
        a = self._population_authorships()
        if a is None or parts is None:
            return None
        venue, first, last = parts
        cond = a.year.between(first, last)
        if venue != "all":
            cond = cond & (a.venue == venue)
        a = a.filter(cond)
        if subset != "all":
            papers = self.subset_papers(subset)
            if papers is None:
                return None
            a = a.semi_join(papers, "paper_id")
        return a.group_by("person_id").aggregate(year=a.year.max())

    def subset_papers(self, subset: str) -> Any | None:
        """``paper_id`` of the papers of an ``origin_work`` subset, by the indicators' rule:
        ``top`` = ``papers.tier = 'top'``, ``llm`` = LLM papers of the LLM era, any other
        name = papers of that subfield (``paper_subfields``). None when the store cannot say."""
        if subset == "top":
            if not self.has("papers", "tier"):
                return None
            p = self._t("papers")
            return p.filter(p.tier == "top").select("paper_id")
        if not self.has("paper_subfields", "subfield", "is_llm_era"):
            return None
        s = self._t("paper_subfields")
        cond = s.subfield == subset
        if subset == "llm":
            cond = cond & s.is_llm_era
        return s.filter(cond).select("paper_id")

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
