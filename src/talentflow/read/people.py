"""Queries about institutions and persons: profiles, timelines, events, search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from talentflow.careers.summary import event_counts
from talentflow.careers.tenures import most_common
from talentflow.read.base import (
    MAX_ROWS,
    MAX_SEARCH,
    _cached,
)
from talentflow.read.indicators import IndicatorReader


def _without_emails(person: dict[str, Any]) -> dict[str, Any]:
    """A person's record without hashed e-mail identifiers (``email:<hash>``): they identify
    nobody to a reader and need not be shown; the count of them is kept."""
    ids = person.get("known_ids")
    if ids is None or isinstance(ids, str):
        return person
    ids = list(ids)
    kept = [i for i in ids if not str(i).startswith("email:")]
    return {**person, "known_ids": kept, "email_ids_hidden": len(ids) - len(kept)}


@dataclass
class Timeline:
    """A person's profile row (None: no such person), person-years and events (country and
    institution level), every row of each."""

    person_id: str
    profile: dict[str, Any] | None
    years: pd.DataFrame
    events: pd.DataFrame


class PeopleReader(IndicatorReader):
    """Institutions, persons and search."""

    # -- institutions, persons, search ---------------------------------------------------------

    @_cached
    def institution(
        self, name: str, year: int | None = None, population: str | None = None
    ) -> dict[str, pd.DataFrame]:
        """Profile of one institution from person-years and events (observed counts);
        ``year`` limits the career stages to that year, ``population`` counts only the
        persons of that population (:meth:`population_persons`; None: every person)."""
        out: dict[str, pd.DataFrame] = {}
        if self.has("person_years", "institution"):
            t = self._of_population(
                self._t("person_years").filter(ibis._.institution == name), population
            )
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
            e = self._of_population(self._t("events"), population)
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

    def _of_population(self, t: Any, population: str | None) -> Any:
        """Rows of ``t`` (with a ``person_id``) of the persons of ``population`` (None: all;
        no row when the store cannot tell who the population is)."""
        if population is None:
            return t
        who = self.population_persons(population)
        if who is None:
            return t.filter(ibis.literal(False))
        return t.semi_join(who.select("person_id"), "person_id")

    @_cached
    def top_institutions(
        self, country: str, year: int, n: int = 15, population: str | None = None
    ) -> pd.DataFrame:
        """Institutions of ``country`` with most observed researchers in ``year`` (a count;
        ``population``: of the persons of that population only)."""
        if not self.has("person_years", "institution", "country"):
            return pd.DataFrame(columns=["institution", "sector", "persons"])
        t = self._t("person_years")
        sel = t.filter((t.country == country) & (t.year == year) & t.institution.notnull())
        sel = self._of_population(sel, population)
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

    def timeline(self, person_id: str) -> Timeline:
        """One person's whole career (``person_profile``, ``person_years``, ``events``)."""
        prof = self._pandas(self._t("person_profile").filter(ibis._.person_id == person_id))
        years = self._t("person_years").filter(ibis._.person_id == person_id)
        events = self._t("events").filter(ibis._.person_id == person_id)
        return Timeline(
            person_id,
            prof.iloc[0].to_dict() if len(prof) else None,
            self._pandas(years.order_by("year")),
            self._pandas(events.order_by(["year", "level"])),
        )

    def event_counts(
        self, *, level: str = "country", first_year: int | None = None
    ) -> pd.DataFrame:
        """Events of one ``level`` by year and kind with the flagged counts
        (:func:`talentflow.careers.summary.event_counts`)."""
        with self._lock:
            return event_counts(self._t("events"), level=level, first_year=first_year)

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
