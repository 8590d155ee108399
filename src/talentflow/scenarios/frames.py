"""The observed careers as the move model sees them: a handle on the careers tables.

A :class:`Panel` holds Ibis expressions over ``person_years`` and ``events`` (and LLM tags when
present) on the store's engine; the model asks it for counts per covariate cell
(:mod:`talentflow.scenarios.cells`), so only aggregates ever reach the driver, on DuckDB as
on Spark. Cutting the panel at an earlier year (the backtest) filters the inputs and derives
everything again in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import pandas as pd

from talentflow.scenarios import cells
from talentflow.scenarios.cells import SECTOR_MAP, STAGE_MAP

__all__ = [
    "MOVE_KINDS",
    "PARTIAL_YEAR_SHARE",
    "SECTOR_MAP",
    "STAGE_MAP",
    "MissingInputs",
    "Panel",
    "load_panel",
    "panel_from_frames",
    "partial_final_years",
]

#: Event kinds that count as international moves (visits, ``temporary``, do not).
MOVE_KINDS = ("migration", "return")


class MissingInputs(RuntimeError):
    """The store lacks the careers tables the scenario model needs."""


@dataclass
class Panel:
    """The observed careers, ready for the model (expressions on the store's engine).

    Attributes
    ----------
    person_years
        Person-years with a country up to ``last_year`` (:func:`cells.person_year_input`).
    moves
        International moves up to ``last_year``, one per person and year
        (:func:`cells.move_input`).
    last_year
        The last year of the panel (the forecast origin ``T``).
    first_year
        The first year with a person-year.
    dropped_years
        Final years left out as only partly covered (see :func:`partial_final_years`).
    data_end
        The last year of the underlying data (later than ``last_year`` after a cut): moves
        dated ``last_year`` were then detected with later papers to confirm them.
    """

    person_years: ibis.Table
    moves: ibis.Table
    last_year: int
    first_year: int
    dropped_years: tuple[int, ...] = ()
    data_end: int | None = None
    #: person-years per raw country-year and moves per (from, to, year), read once
    _stock: pd.DataFrame | None = field(default=None, repr=False)
    _flows: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def rows(self) -> ibis.Table:
        """One row per person-year with the derived columns (:func:`cells.derived_rows`): an
        expression for the engine, never brought to the driver (a fit caches it in the engine
        while it counts its cells)."""
        return cells.derived_rows(self.person_years, self.moves)

    def stock(self) -> pd.DataFrame:
        """Person-years per raw ``country, year`` (``n``)."""
        if self._stock is None:
            self._stock = cells.stock(self.person_years)
        return self._stock

    def flows(self) -> pd.DataFrame:
        """Moves per raw ``from_country, to_country, year`` (``n``)."""
        if self._flows is None:
            self._flows = cells.move_flows(self.moves)
        return self._flows

    def cut(self, last_year: int) -> Panel:
        """The panel as it would have been seen in ``last_year`` (later years dropped and the
        risk set and outcomes derived again)."""
        py = self.person_years.filter(self.person_years.year <= last_year)
        mv = self.moves.filter(self.moves.year <= last_year)
        stock = self.stock()
        stock = stock[stock["year"] <= last_year].reset_index(drop=True)
        if stock.empty:
            raise MissingInputs(f"no person-years with a country up to {last_year}")
        flows = self.flows()
        return replace(
            self,
            person_years=py,
            moves=mv,
            last_year=int(min(last_year, stock["year"].max())),
            first_year=int(stock["year"].min()),
            dropped_years=(),
            _stock=stock,
            _flows=flows[flows["year"] <= last_year].reset_index(drop=True),
        )


def _has(con: Any, name: str) -> bool:
    return name in con.list_tables()


def _llm_person_years(con: Any) -> Any | None:
    """(person_id, year) pairs with at least one LLM-subfield paper, when the tables allow it."""
    if not _has(con, "paper_subfields") or not _has(con, "authorships"):
        return None
    auth = con.table("authorships")
    sub = con.table("paper_subfields")
    if "person_id" in auth.columns:
        links = auth.select("paper_id", "year", "person_id")
    elif _has(con, "person_links"):
        pl = con.table("person_links")
        links = auth.join(pl, auth.authorship_id == pl.authorship_id).select(
            auth.paper_id, auth.year, pl.person_id
        )
    else:
        return None
    llm_papers = sub.filter(sub.subfield == "llm").select("paper_id").distinct()
    return (
        links.join(llm_papers, "paper_id")
        .select("person_id", "year")
        .distinct()
        .mutate(llm=ibis.literal(True))
    )


#: A final year with fewer person-years than this share of the year before is partly covered.
PARTIAL_YEAR_SHARE = 0.5


def partial_final_years(counts: pd.Series, share: float = PARTIAL_YEAR_SHARE) -> list[int]:
    """Final years that look only partly covered (the corpus is still being filled in).

    ``counts``: person-years per year. Walking back from the last year, a year with fewer than
    ``share`` times the person-years of the year before is dropped, until one is not.
    Dropping it keeps a projection from starting from a half-empty year (e.g. a conference
    season not yet published).
    """
    counts = counts.sort_index()
    years = list(counts.index)
    out: list[int] = []
    while len(years) >= 2 and counts[years[-1]] < share * counts[years[-2]]:
        out.append(int(years.pop()))
    return out


def load_panel(con: Any, *, max_year: int | None = None, drop_partial_years: bool = True) -> Panel:
    """A :class:`Panel` on ``person_years`` and ``events`` (and LLM tags when present).

    Parameters
    ----------
    con
        An Ibis backend holding the careers tables (see ``docs/tables.md``), DuckDB or Spark.
    max_year
        Keep only years up to this one (the backtest's fitting window). Note the careers
        tables themselves were built on the whole corpus (see ``docs/scenarios.md``).
    drop_partial_years
        When ``max_year`` is not given, leave out final years that are only partly covered
        (:func:`partial_final_years`); they are listed in ``Panel.dropped_years``.
    """
    for name in ("person_years", "events"):
        if not _has(con, name):
            raise MissingInputs(
                f"the store has no `{name}` table: build the careers stage first "
                "(`talentflow build`)"
            )
    ev = con.table("events")
    ev = ev.filter((ev.level == "country") & ev.kind.isin(MOVE_KINDS))
    py = cells.person_year_input(con.table("person_years"), _llm_person_years(con))
    return _panel(py, cells.move_input(ev), max_year, drop_partial_years)


def _panel(py: ibis.Table, mv: ibis.Table, max_year: int | None, drop_partial: bool) -> Panel:
    stock = cells.stock(py)
    if stock.empty:
        raise MissingInputs("no person-years with a country: nothing to fit")
    per_year = stock.groupby("year")["n"].sum()
    data_end = int(per_year.index.max())
    dropped: list[int] = []
    if max_year is None and drop_partial:
        dropped = partial_final_years(per_year)
        if dropped:
            max_year = min(dropped) - 1
    full = Panel(
        person_years=py,
        moves=mv,
        last_year=data_end,
        first_year=int(per_year.index.min()),
        data_end=data_end,
        _stock=stock,
    )
    panel = full if max_year is None else full.cut(max_year)
    panel.dropped_years = tuple(sorted(dropped))
    return panel


def panel_from_frames(
    rows: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    last_year: int | None = None,
    data_end: int | None = None,
    con: Any | None = None,
) -> Panel:
    """A :class:`Panel` on plain person-year and event frames (contract columns: ``person_id,
    year, country, sector, career_stage`` and optionally ``llm``; ``person_id, year,
    from_country, to_country``), loaded into ``con`` (default: a new in-memory DuckDB).

    ``data_end``: the last year of the data the frames come from (default: the last year of
    ``rows``); see :attr:`Panel.data_end`.
    """
    con = ibis.duckdb.connect() if con is None else con
    cols = ["person_id", "year", "country", "sector", "career_stage"]
    cols += ["llm"] if "llm" in rows.columns else []
    py_t = con.create_table("_scenario_person_years", rows[cols], overwrite=True)
    ev = moves[["person_id", "year", "from_country", "to_country"]].assign(kind="migration")
    ev_t = con.create_table("_scenario_events", ev, overwrite=True)
    py = cells.person_year_input(py_t, None)
    panel = _panel(py, cells.move_input(ev_t), last_year, drop_partial=False)
    if data_end is not None:
        panel.data_end = int(data_end)
    return panel
