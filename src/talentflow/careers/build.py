"""Assemble the careers tables from linked, resolved authorships (engine-side throughout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pandas as pd
from ibis import _

from talentflow.careers.events import detect_events
from talentflow.careers.histories import label_events, label_person_years, with_histories
from talentflow.careers.params import CareerParams
from talentflow.careers.person_years import build_person_years, main_affiliation, observations
from talentflow.careers.positions import stage_table
from talentflow.careers.profile import build_profile
from talentflow.careers.tenures import LEVELS, build_tenures, person_span
from talentflow.engines import engine_of

_TEMP_IDS = count()
#: Name prefix of the stage's intermediate tables.
TEMP_PREFIX = "_careers_"

TENURE_COLUMNS = [
    "person_id",
    "tenure_id",
    "level",
    "country",
    "institution",
    "sector",
    "start_year",
    "end_year",
    "n_years_observed",
    "censored_left",
    "censored_right",
    "n_papers",
]


def temp_table(con: Any, expr: Any, stem: str) -> Any:
    """Materialise an intermediate result as a temporary table (see
    :meth:`talentflow.engines.base.Engine.temp_table`), named ``_careers_...`` like every
    intermediate (never copied into the store; the stage drops them when done)."""
    name = f"{TEMP_PREFIX}{stem}_{next(_TEMP_IDS)}"
    return engine_of(con).temp_table(name, expr)


@dataclass
class CareerInputs:
    """Intermediate tables shared by the event detector, the stage and the sweep."""

    con: Any
    obs: Any
    ranked: Any
    span: Any
    dataset_first_year: int

    def main(self, level: str) -> Any:
        """person_id, year, main_unit: the main place of each observed person-year."""
        return self.ranked.filter(_.rank == 1).select(
            "person_id", "year", main_unit=self.ranked[level]
        )

    def place_names(self) -> Any:
        """Affiliations with a country of each (person, year), with their rank (see
        :func:`talentflow.careers.events.detect_events`, which keeps the top one of each
        (person, year, country) an event needs)."""
        return self.ranked.filter(_.country.notnull()).select(
            "person_id", "year", "country", "institution", "sector", "rank"
        )


def prepare(con: Any, authorships: Any, evidence: str = "papers") -> CareerInputs:
    """Materialise the observations and per-year affiliation ranks once.

    ``evidence="papers+histories"`` adds author-history years (:mod:`careers.histories`).
    """
    obs = temp_table(con, with_histories(con, observations(authorships), evidence), "obs")
    ranked = temp_table(con, main_affiliation(obs), "ranked")
    span = temp_table(con, person_span(obs), "span")
    first = obs.year.min().execute()
    # no observations: DuckDB returns None, Spark NaN
    return CareerInputs(con, obs, ranked, span, 0 if pd.isna(first) else int(first))


def tenures_and_events(
    inputs: CareerInputs,
    params: CareerParams,
    levels: tuple[str, ...] = LEVELS,
    *,
    written: Any | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tenures and events per level, as Ibis expressions.

    ``written``: a ``tenures`` table already written (all levels, :data:`TENURE_COLUMNS`):
    each level's tenures are read from it instead of being built as a temporary table.
    """
    tenures: dict[str, Any] = {}
    events: dict[str, Any] = {}
    for level in levels:
        if written is not None:
            # a tenure's unit is its own column at its level (see build_tenures)
            ten = written.filter(written.level == level).mutate(unit=written[level])
        else:
            ten = temp_table(inputs.con, _level_tenures(inputs, params, level), f"tenures_{level}")
        tenures[level] = ten
        events[level] = detect_events(
            ten,
            inputs.main(level),
            inputs.span,
            params,
            level=level,
            dataset_first_year=inputs.dataset_first_year,
            place_names=inputs.place_names() if level == "country" else None,
        )
    return tenures, events


def _level_tenures(inputs: CareerInputs, params: CareerParams, level: str) -> Any:
    return build_tenures(
        inputs.obs,
        level,
        params.backfill,
        fill_seen_elsewhere=params.backfill_seen,
        span=inputs.span,
    )


#: Writes a store table: ``write(name, expression)`` -> the written table.
Writer = Callable[[str, Any], Any]


def build_careers(
    con: Any,
    authorships: Any,
    params: CareerParams,
    *,
    evidence: str = "papers",
    write: Writer | None = None,
) -> dict[str, Any]:
    """All four careers tables as expressions over temporary tables on ``con``.

    ``evidence``: ``papers`` (venue author slots only) or ``papers+histories`` (see
    :mod:`talentflow.careers.histories`); ``person_years.evidence`` labels each year.

    Returns a mapping ``{"person_years", "tenures", "events", "person_profile"}`` to Ibis
    expressions; the caller writes them (the stage) or inspects them (tests, sweep). With
    ``write`` (the stage's), ``person_years`` and ``tenures`` are written with it as soon as
    they are known and the later steps read the written tables: they are neither kept as
    temporary tables nor copied (the mapping then holds the written tables).
    """
    inputs = prepare(con, authorships, evidence)
    positions = inputs.obs.select("career_position").distinct().to_pyarrow()
    stages = stage_table([p.as_py() for p in positions.column(0)])
    years = label_person_years(
        build_person_years(inputs.obs, stages, params.backfill, ranked=inputs.ranked)
    )
    if write is None:
        person_years = temp_table(con, years, "person_years")
        tenures, events = tenures_and_events(inputs, params)
        tenure_table = (
            tenures["country"]
            .select(TENURE_COLUMNS)
            .union(tenures["institution"].select(TENURE_COLUMNS))
        )
    else:
        person_years = write("person_years", years)
        all_levels = [
            _level_tenures(inputs, params, level).select(TENURE_COLUMNS) for level in LEVELS
        ]
        tenure_table = write("tenures", all_levels[0].union(*all_levels[1:]))
        _, events = tenures_and_events(inputs, params, written=tenure_table)
    country_events = temp_table(con, events["country"], "events_country")
    event_table = label_events(country_events.union(events["institution"]), person_years)
    profile = build_profile(person_years, country_events)
    return {
        "person_years": person_years,
        "tenures": tenure_table,
        "events": event_table,
        "person_profile": profile,
    }
