"""Read the careers tables into the person-year panel the move model is fitted on.

The reading and joining happen in the engine (Ibis); what comes back is one row per
person-year (a few columns) and one row per international move, which the model then
aggregates with vectorised pandas/NumPy. Nothing here loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

#: careers sector -> model sector.
SECTOR_MAP = {"education": "academia", "company": "industry"}
#: careers career_stage -> model stage (anything else, or NULL, is "other").
STAGE_MAP = {
    "student": "student",
    "postdoc": "postdoc",
    "faculty": "faculty",
    "industry": "industry",
}
#: Event kinds that count as international moves (visits, ``temporary``, do not).
MOVE_KINDS = ("migration", "return")


class MissingInputs(RuntimeError):
    """The store lacks the careers tables the scenario model needs."""


@dataclass
class Panel:
    """The observed careers, ready for the model.

    Attributes
    ----------
    rows
        One row per person-year with a known country: ``person_id, year, country, sector,
        stage, llm, first_year, first_country, has_next, moved, to_country, kind``.
        ``first_country`` is the first observed country (an observed career fact, not a
        nationality). ``has_next``: the person has a row the next year (at risk of a move).
        ``moved``: an international move (migration or return) is dated the next year.
    moves
        One row per move: ``person_id, year, from_country, to_country, kind``.
    last_year
        The last year of the panel (the forecast origin ``T``).
    """

    rows: pd.DataFrame
    moves: pd.DataFrame
    last_year: int
    #: the inputs as read (contract columns), for re-cutting at an earlier year
    raw_rows: pd.DataFrame | None = None
    raw_moves: pd.DataFrame | None = None
    #: final years left out as only partly covered (see :func:`partial_final_years`)
    dropped_years: tuple[int, ...] = ()
    #: the last year of the underlying data (later than ``last_year`` after a cut): moves
    #: dated ``last_year`` were then detected with later papers to confirm them
    data_end: int | None = None

    @property
    def first_year(self) -> int:
        """The first year with a person-year."""
        return int(self.rows["year"].min())

    def cut(self, last_year: int) -> Panel:
        """The panel as it would have been seen in ``last_year`` (later years dropped and the
        risk set and outcomes recomputed)."""
        if self.raw_rows is None or self.raw_moves is None:
            raise ValueError("this panel keeps no raw inputs to cut")
        rows = self.raw_rows[self.raw_rows["year"] <= last_year]
        moves = self.raw_moves[self.raw_moves["year"] <= last_year]
        return panel_from_frames(rows, moves, last_year=last_year, data_end=self.data_end)


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
    """Read ``person_years`` and ``events`` (and LLM tags when present) into a :class:`Panel`.

    Parameters
    ----------
    con
        An Ibis backend holding the careers tables (see ``docs/tables.md``).
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
    py = con.table("person_years")
    py = py.filter(py.country.notnull())
    dropped: list[int] = []
    per_year = py.group_by("year").agg(n=py.count()).to_pandas().set_index("year")["n"]
    data_end = int(per_year.index.max()) if len(per_year) else None
    if max_year is None and drop_partial_years:
        dropped = partial_final_years(per_year)
        if dropped:
            max_year = min(dropped) - 1
    if max_year is not None:
        py = py.filter(py.year <= max_year)
    py = py.select("person_id", "year", "country", "sector", "career_stage")
    llm = _llm_person_years(con)
    if llm is not None:
        py = py.left_join(llm, ["person_id", "year"]).select(
            "person_id", "year", "country", "sector", "career_stage", "llm"
        )
    ev = con.table("events")
    ev = ev.filter((ev.level == "country") & ev.kind.isin(MOVE_KINDS))
    if max_year is not None:
        ev = ev.filter(ev.year <= max_year)
    ev = ev.select("person_id", "year", "from_country", "to_country", "kind")

    rows = py.to_pandas()
    moves = ev.to_pandas()
    panel = panel_from_frames(rows, moves, last_year=max_year, data_end=data_end)
    panel.dropped_years = tuple(sorted(dropped))
    return panel


def panel_from_frames(
    rows: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    last_year: int | None = None,
    data_end: int | None = None,
) -> Panel:
    """Build a :class:`Panel` from plain person-year and event frames (contract columns).

    ``data_end``: the last year of the data the careers tables were built from (default: the
    last year of ``rows``); see :attr:`Panel.data_end`.
    """
    raw_rows, raw_moves = rows, moves
    rows = rows.copy()
    if rows.empty:
        raise MissingInputs("no person-years with a country: nothing to fit")
    if "llm" not in rows.columns:
        rows["llm"] = False
    rows["llm"] = rows["llm"].astype("boolean").fillna(False).astype(bool)
    rows["country"] = rows["country"].astype(str)
    rows["sector"] = rows["sector"].map(SECTOR_MAP).fillna("other").astype(str)
    rows["stage"] = rows["career_stage"].map(STAGE_MAP).fillna("other").astype(str)
    rows["year"] = rows["year"].astype(np.int64)
    rows = rows.drop(columns=["career_stage"])
    # One row per person-year (the careers contract promises it; be safe).
    rows = rows.sort_values(["person_id", "year", "country"]).drop_duplicates(
        ["person_id", "year"], keep="first"
    )
    first = rows.groupby("person_id", sort=False).agg(
        first_year=("year", "min"), first_country=("country", "first")
    )
    rows = rows.join(first, on="person_id")
    nxt = rows[["person_id", "year"]].assign(year=lambda d: d["year"] - 1, has_next=True)
    rows = rows.merge(nxt, on=["person_id", "year"], how="left")
    rows["has_next"] = rows["has_next"].astype("boolean").fillna(False).astype(bool)

    moves = moves.copy()
    moves = moves[moves["to_country"].notna()]
    moves["year"] = moves["year"].astype(np.int64)
    moves = moves.sort_values(["person_id", "year", "to_country"]).drop_duplicates(
        ["person_id", "year"], keep="first"
    )
    # A move dated year y is the outcome of the person-year y - 1.
    m = moves[["person_id", "year", "to_country", "kind"]].assign(year=lambda d: d["year"] - 1)
    rows = rows.merge(m, on=["person_id", "year"], how="left")
    rows["moved"] = rows["to_country"].notna() & rows["has_next"]
    rows = rows.reset_index(drop=True)
    T = int(rows["year"].max()) if last_year is None else int(min(last_year, rows["year"].max()))
    return Panel(
        rows=rows,
        moves=moves.reset_index(drop=True),
        last_year=T,
        raw_rows=raw_rows,
        raw_moves=raw_moves,
        data_end=int(rows["year"].max()) if data_end is None else int(data_end),
    )
