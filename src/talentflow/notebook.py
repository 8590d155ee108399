"""The notebook API: ``talentflow.open(db)`` and DataFrames out, read through
:class:`talentflow.read.StoreReader`.

Examples
--------
>>> import talentflow                                       # doctest: +SKIP
>>> tf = talentflow.open("talentflow.duckdb")               # doctest: +SKIP
>>> tf.flows(from_country="US", to_country="CN")            # doctest: +SKIP
>>> tf.retention(country="US", basis="training")            # doctest: +SKIP
>>> tf.drilldown("flows", from_country="US", to_country="CN", year=2021)  # doctest: +SKIP
>>> tf.country_year("CN", 2023, subset="stage:student")      # doctest: +SKIP
>>> tf.country_year("EU27", grouping="eu27")                # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from talentflow.read import StoreReader


class Observatory:
    """Read-only access to a built store; every method returns a pandas DataFrame.

    Filters are keyword arguments on the table's columns (a list means "any of"); ``None``
    leaves a column unfiltered. Suppressed cells are returned (``suppressed`` is true and their
    values are NULL) unless ``include_suppressed=False``.
    """

    def __init__(self, db: str | Path) -> None:
        self.path = Path(db)
        self.reader = StoreReader(self.path)

    # -- tables ----------------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Names of the tables in the store."""
        return sorted(self.reader.tables)

    def table(self, name: str, *, include_suppressed: bool = True, **filters: Any) -> pd.DataFrame:
        """Any table of the store, filtered on its columns (see
        :meth:`talentflow.read.StoreReader.frame`)."""
        return self.reader.frame(name, include_suppressed=include_suppressed, **filters)

    def country_year(
        self,
        country: str | list[str] | None = None,
        year: int | list[int] | None = None,
        *,
        subset: str = "all",
        sector: str = "all",
        grouping: str | None = None,
        **filters: Any,
    ) -> pd.DataFrame:
        """Stocks, flows, rates and returns per country and year (``country_year``).

        ``subset``: ``all``, ``llm``, a subfield (``vision``, ``rl``, ...) or a career stage
        (``stage:student``, ``stage:faculty``, ...). ``grouping`` (see :meth:`groupings`, e.g.
        ``"greater_china"``, ``"eu27"``, ``"m49_region"``) replaces the members of each group
        by the group, computed on the regrouped panel (``country`` may then name a group, e.g.
        ``"Greater China"``); the other countries are returned unchanged. The frame then has an
        ``is_group`` column.
        """
        where = {"year": year, "subset": subset, "sector": sector, **filters}
        if grouping is None:
            return self.table("country_year", country=country, **where)
        return self._grouped("country_year", grouping, ("country",), country, where)

    def groupings(self, grouping: str | None = None) -> pd.DataFrame:
        """Member countries of each grouping in the store (``grouping, country, group_name``)."""
        if not self.reader.has("country_groups"):
            return pd.DataFrame({"grouping": [], "country": [], "group_name": []}, dtype=object)
        return self.table("country_groups", grouping=grouping)

    def _grouped(
        self,
        table: str,
        grouping: str,
        ends: tuple[str, ...],
        country: str | list[str] | None,
        where: dict[str, Any],
    ) -> pd.DataFrame:
        """Rows of ``<table>_groups`` for ``grouping`` plus ``table``'s rows of non-members.

        Rows that touch no member are the same on the grouped and the ungrouped panel (same
        persons, same bootstrap weights), so they are read from the ungrouped table.
        """
        members = self.groupings(grouping)
        if members.empty:
            known = sorted(set(self.groupings()["grouping"]))
            raise KeyError(f"no grouping {grouping!r} in the store; built: {known}")
        grouped = self.table(f"{table}_groups", grouping=grouping, **where).drop(columns="grouping")
        base = self.table(table, **where)
        inside = base[list(ends)].isin(set(members["country"])).any(axis=1)
        out = pd.concat(
            [grouped.assign(is_group=True), base[~inside].assign(is_group=False)],
            ignore_index=True,
        )
        if country is not None:
            wanted = [country] if isinstance(country, str) else list(country)
            out = out[out[list(ends)].isin(wanted).any(axis=1)]
        return out.reset_index(drop=True)

    def flows(
        self,
        from_country: str | list[str] | None = None,
        to_country: str | list[str] | None = None,
        year: int | list[int] | None = None,
        *,
        subset: str = "all",
        grouping: str | None = None,
        **filters: Any,
    ) -> pd.DataFrame:
        """Bilateral flows; ``year=None`` rows are the pooled (all-years) totals.

        With ``grouping`` (see :meth:`country_year`) moves between two members of a group are
        not flows, and ``from_country``/``to_country`` may name groups.
        """
        if grouping is None:
            return self.table(
                "flows",
                from_country=from_country,
                to_country=to_country,
                year=year,
                subset=subset,
                **filters,
            )
        out = self._grouped(
            "flows",
            grouping,
            ("from_country", "to_country"),
            None,
            {"year": year, "subset": subset, **filters},
        )
        for col, value in (("from_country", from_country), ("to_country", to_country)):
            if value is not None:
                out = out[out[col].isin([value] if isinstance(value, str) else list(value))]
        return out.reset_index(drop=True)

    def retention(
        self,
        country: str | list[str] | None = None,
        *,
        basis: str = "first_observed",
        cohort_year: int | None = None,
        subset: str = "all",
        **filters: Any,
    ) -> pd.DataFrame:
        """Kaplan-Meier retention curves; ``cohort_year`` NULL rows pool all cohorts."""
        return self.table(
            "retention",
            country=country,
            basis=basis,
            cohort_year=cohort_year,
            subset=subset,
            **filters,
        )

    def returns(
        self, country: str | list[str] | None = None, *, subset: str = "all", **filters: Any
    ) -> pd.DataFrame:
        """Cumulative return shares after leaving a country."""
        return self.table("returns", country=country, subset=subset, **filters)

    def origin_work(
        self,
        population: str | list[str] | None = None,
        *,
        origin_basis: str = "first_observed",
        subset: str = "all",
        **filters: Any,
    ) -> pd.DataFrame:
        """Origin -> work-country matrix of a population (e.g. ``"nips2022"``)."""
        return self.table(
            "origin_work",
            population=population,
            origin_basis=origin_basis,
            subset=subset,
            **filters,
        )

    def sector_flows(
        self,
        country: str | list[str] | None = None,
        year: int | list[int] | None = None,
        *,
        subset: str = "all",
        **filters: Any,
    ) -> pd.DataFrame:
        """Moves between academia, industry, government and other, by country."""
        return self.table("sector_flows", country=country, year=year, subset=subset, **filters)

    # -- drill-down ------------------------------------------------------------------------
    def drilldown(self, table: str, **cell: Any) -> dict[str, pd.DataFrame]:
        """The persons, moves and papers behind one cell of an indicator table.

        Supported: ``country_year`` (country, year), ``flows`` (from_country, to_country,
        year), ``sector_flows`` (country, year, from_sector, to_sector), ``origin_work``
        (population, work_country), ``retention`` (country, cohort_year, basis) and ``returns``
        (country). Returns ``{"persons", "moves", "papers"}`` frames; ``moves`` are the
        panel moves of those persons (with the careers ``events`` they match, when present).
        """
        from talentflow.indicators.cells import _origins
        from talentflow.indicators.panel import build_panel
        from talentflow.indicators.stage import read_inputs

        inputs = read_inputs(self.reader.con)
        panel = build_panel(inputs["person_years"])
        y = panel.years.assign(person_id=panel.persons[panel.years["pidx"].to_numpy()])
        mv = panel.moves.assign(person_id=panel.persons[panel.moves["pidx"].to_numpy()])
        year = cell.get("year")
        if table == "country_year":
            ids = y[(y.country == cell["country"]) & (y.year == year)].person_id
        elif table == "flows":
            m = mv[
                (mv.from_country == cell["from_country"]) & (mv.to_country == cell["to_country"])
            ]
            ids = (m if year is None else m[m.year == year]).person_id
        elif table == "sector_flows":
            sm = panel.sector_moves.assign(
                person_id=panel.persons[panel.sector_moves["pidx"].to_numpy()]
            )
            sm = sm[
                (sm.country == cell["country"])
                & (sm.from_sector == cell["from_sector"])
                & (sm.to_sector == cell["to_sector"])
            ]
            ids = (sm if year is None else sm[sm.year == year]).person_id
        elif table == "origin_work":
            a = inputs["authorships"]
            a = a[(a.venue + a.year.astype(str)) == cell["population"]]
            here = a.merge(y, on=["person_id", "year"])
            ids = here[here.country == cell["work_country"]].person_id
        elif table in ("retention", "returns"):
            o = _origins(panel, inputs.get("person_profile"))
            col = "training_country" if cell.get("basis") == "training" else "first_country"
            if table == "returns":
                ids = mv[mv.from_country == cell["country"]].person_id
            else:
                ids = pd.Series(panel.persons[o[o[col] == cell["country"]]["pidx"].to_numpy()])
        else:
            raise ValueError(f"no drill-down for table {table!r}")
        ids = sorted(set(ids))
        persons = (
            self.table("persons", person_id=ids)
            if self.reader.has("persons")
            else (pd.DataFrame({"person_id": ids}))
        )
        moves = mv[mv.person_id.isin(ids)].drop(columns="pidx")
        if self.reader.has("events"):
            ev = self.table("events", person_id=ids, level="country")
            if len(ev):
                moves = moves.merge(
                    ev[["person_id", "year", "from_country", "to_country", "kind", "event_id"]],
                    on=["person_id", "year", "from_country", "to_country"],
                    how="left",
                )
        papers = pd.DataFrame()
        if "authorships" in inputs and ids:
            a = inputs["authorships"]
            a = a[a.person_id.isin(ids)]
            if year is not None:
                a = a[a.year.between(year - 1, year)]
            papers = a
            if self.reader.has("papers") and len(a):
                p = self.table("papers", paper_id=sorted(set(a.paper_id)))
                papers = a.merge(p[["paper_id", "title"]], on="paper_id", how="left")
        return {
            "persons": persons,
            "moves": moves.reset_index(drop=True),
            "papers": papers.reset_index(drop=True),
        }

    def close(self) -> None:
        """Release the store."""
        self.reader.close()

    def __enter__(self) -> Observatory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(db: str | Path) -> Observatory:
    """Open a built store for notebooks; see :class:`Observatory`."""
    return Observatory(db)
