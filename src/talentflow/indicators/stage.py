"""The indicators stage: careers tables in, indicator tables (with intervals) out.

Reads ``person_years``, ``person_profile``, ``authorships``, ``papers`` (``events`` and
``tenures`` are not needed: moves are taken from the padded person-year panel so that stocks
and flows add up; see docs/indicators.md), writes ``country_year``, ``flows``, ``retention``,
``returns``, ``origin_work``, ``sector_flows``, ``paper_subfields``, ``coverage`` (what each
venue-year holds, which years are complete), ``country_year_panel`` and ``flows_panel`` (the
coverage-consistent basis of a fixed venue panel), and for the country
groupings asked for (parameter ``groupings``, default all) ``country_year_groups``,
``flows_groups`` and ``country_groups``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from talentflow.careers.histories import recorded_evidence
from talentflow.indicators.compute import GROUP_TABLES, PANEL_TABLES, IndicatorParams, compute
from talentflow.indicators.coverage import (
    FixedPanel,
    classified_counts,
    completeness,
    coverage_table,
    fixed_panel,
    venue_year_counts,
)
from talentflow.indicators.on_engine import compute_on_engine

_READ = {
    "person_years": [
        "person_id",
        "year",
        "country",
        "sector",
        "career_stage",
        "secondary_countries",
        "observed",
    ],
    "person_profile": ["person_id", "first_country", "training_country"],
    "authorships": ["paper_id", "person_id", "venue", "year"],
    "papers": ["paper_id", "title", "keywords", "abstract", "venue", "year", "decision", "tier"],
}


def read_inputs(
    con: Any, names: tuple[str, ...] | None = None, *, person_ids: bool = True
) -> dict[str, pd.DataFrame]:
    """The columns of the careers and source tables the indicators need (``names``: only
    these tables), as pandas frames.

    Each person's rank among the sorted ids comes as ``person_key``; without ``person_ids``
    it stands for ``person_id`` (the stage: the indicators need no id, and millions of id
    strings are not read; the panel's ``persons`` are then the keys).
    """
    present = set(con.list_tables()) & set(names or _READ)
    out: dict[str, pd.DataFrame] = {}
    keys = None
    if "person_years" in present:
        # Each person's rank among the sorted distinct ids (``person_key``), computed by the
        # engine: the panel then works on integers and never hashes or sorts millions of id
        # strings in Python (memory-latency bound, and slow at 10M author slots).
        py = con.table("person_years")
        keys = py.filter(py.person_id.notnull()).select("person_id").distinct()
        keys = keys.mutate(person_key=ibis.row_number().over(order_by=keys.person_id))
    for name, cols in _READ.items():
        if name not in present:
            continue
        table = con.table(name)
        have = [c for c in cols if c in table.columns]
        if name in ("authorships", "person_years") and "person_id" in have:
            table = table.filter(table.person_id.notnull())
        if keys is not None and name != "papers" and "person_id" in have:
            table = table.left_join(keys, "person_id").drop("person_id_right")
            if person_ids:
                have.append("person_key")
            else:
                have[have.index("person_id")] = "person_key"
        if name == "person_years" and "secondary_countries" in have:
            # an empty list is read as NULL: millions of empty array objects cost memory, and
            # the panel explodes only the rows that name secondary countries
            sc = table.secondary_countries
            table = table.mutate(secondary_countries=(sc.length() > 0).ifelse(sc, None))
        # through Arrow: Ibis's own pandas conversion walks list columns row by row in Python
        out[name] = table.select(*have).to_pyarrow().to_pandas()
    pa.default_memory_pool().release_unused()  # the Arrow copies are no longer needed
    return out


#: Types of the indicator tables' non-numeric columns: an empty frame cannot tell them (pandas
#: makes an empty column float64), and a store whose ``flows`` has a float ``from_country``
#: breaks every reader that compares it with a country code.
LABEL_TYPES = {
    **dict.fromkeys(
        (
            "subset",
            "country",
            "from_country",
            "to_country",
            "origin_country",
            "work_country",
            "basis",
            "origin_basis",
            "population",
            "from_sector",
            "to_sector",
            "sector",
            "grouping",
            "group_name",
        ),
        pa.string(),
    ),
    "domestic": pa.bool_(),
}


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow table with a concrete type for every column (all-NULL/empty columns: string).

    In an empty frame the columns of :data:`LABEL_TYPES` get their own type.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, f in enumerate(table.schema):
        label = LABEL_TYPES.get(f.name) if table.num_rows == 0 else None
        if label is not None and f.type != label:
            table = table.set_column(i, f.name, pa.array([], label))
        elif pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def run(ctx: Any) -> None:
    """Compute every indicator table on ``ctx.con`` (replacing earlier ones)."""
    params = IndicatorParams.from_mapping(ctx.params)
    ctx.progress("indicators: reading careers tables")
    # resolved here, so build_params records where the tables were computed
    params = dataclasses.replace(params, indicators_on=params.where(ctx.engine.name))
    on_engine = params.indicators_on == "engine"
    # on the engine only the papers' text comes to the driver (classified once per paper)
    inputs = read_inputs(ctx.con, ("papers",) if on_engine else None, person_ids=False)
    if "person_years" not in ctx.con.list_tables():
        # a build without the careers stage (e.g. `--stage sources`): nothing to compute
        ctx.record_params("indicators", {"skipped": "no person_years table"})
        return
    ctx.progress("indicators: coverage of venue-years")
    counts = venue_year_counts(ctx.con, params.population_papers)
    complete = completeness(counts, params.complete_threshold)
    fixed = fixed_panel(counts, complete, params.panel_years)
    done = set(complete.loc[complete["complete"].astype(bool), "year"].astype(int))
    if params.pool_end is None and done:
        # pooled venue populations end at the last complete year
        params = dataclasses.replace(params, pool_end=max(done))
    ctx.progress(f"indicators: computing with {params.replicates} bootstrap replicates")
    if on_engine:
        papers = inputs.pop("papers", None)
        tables = compute_on_engine(ctx.engine, papers, params, complete_years=done, fixed=fixed)
    else:
        engine = ctx.engine if params.bootstrap_on == "engine" else None
        tables = compute(
            inputs, params, consume=True, complete_years=done, fixed=fixed, engine=engine
        )
    for name, frame in tables.items():
        ctx.con.create_table(name, to_arrow(frame), overwrite=True)
    for name in set(GROUP_TABLES + PANEL_TABLES) - set(tables):
        # no groupings (or no fixed panel) this time: leave no tables of an earlier build
        if name in ctx.con.list_tables():
            ctx.con.drop_table(name)
    cov = coverage_table(counts, complete, classified_counts(ctx.con), fixed)
    ctx.con.create_table("coverage", to_arrow(cov), overwrite=True)
    ctx.record_params(
        "indicators",
        params.__dict__
        | {"panel": "padded", "bootstrap": "poisson"}
        | _coverage_params(counts, complete, fixed),
    )
    # which careers evidence (papers, papers+histories) these figures read
    ctx.record_params("indicators", {"careers_evidence": recorded_evidence(ctx.con)})


def _coverage_params(counts: Any, complete: Any, fixed: FixedPanel) -> dict[str, Any]:
    """What the build knew about decisions and coverage (recorded in ``build_params``)."""
    unknown = counts[counts["unknown_decision_papers"] > 0]
    with_decision = bool(counts["with_decision"].all()) if len(counts) else False
    return {
        "decision_column": "present" if with_decision else "missing (every decision unknown)",
        "papers_without_decision": int(counts["unknown_decision_papers"].sum()),
        "venue_years_without_decision": {
            f"{r.venue}{r.year}": int(r.unknown_decision_papers) for r in unknown.itertuples()
        },
        "complete_years": sorted(int(y) for y in complete.loc[complete["complete"], "year"]),
        "incomplete_years": sorted(int(y) for y in complete.loc[~complete["complete"], "year"]),
        "fixed_panel_years": list(fixed.years),
        "fixed_panel_venues": list(fixed.venues),
    }
