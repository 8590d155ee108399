"""The indicators stage: careers tables in, indicator tables (with intervals) out.

Reads ``person_years``, ``person_profile``, ``authorships``, ``papers`` (``events`` and
``tenures`` are not needed: moves are taken from the padded person-year panel so that stocks
and flows add up; see docs/indicators.md), writes ``country_year``, ``flows``, ``retention``,
``returns``, ``origin_work``, ``sector_flows`` and ``paper_subfields``, and for the country
groupings asked for (parameter ``groupings``, default all) ``country_year_groups``,
``flows_groups`` and ``country_groups``.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from talentflow.careers.histories import recorded_evidence
from talentflow.indicators.compute import GROUP_TABLES, IndicatorParams, compute

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
    "papers": ["paper_id", "title", "keywords", "abstract", "venue", "year"],
}


def read_inputs(con: Any) -> dict[str, pd.DataFrame]:
    """The columns of the careers and source tables the indicators need, as pandas frames."""
    present = set(con.list_tables())
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
        if keys is not None and name != "papers" and "person_id" in have:
            table = table.left_join(keys, "person_id").drop("person_id_right")
            have.append("person_key")
        if name == "authorships" and "person_id" in have:
            table = table.filter(table.person_id.notnull())
        if name == "person_years" and "secondary_countries" in have:
            # an empty list is read as NULL: millions of empty array objects cost memory, and
            # the panel explodes only the rows that name secondary countries
            sc = table.secondary_countries
            table = table.mutate(secondary_countries=(sc.length() > 0).ifelse(sc, None))
        # through Arrow: Ibis's own pandas conversion walks list columns row by row in Python
        out[name] = table.select(*have).to_pyarrow().to_pandas()
    pa.default_memory_pool().release_unused()  # the Arrow copies are no longer needed
    return out


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow table with a concrete type for every column (all-NULL/empty columns: string)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def run(ctx: Any) -> None:
    """Compute every indicator table on ``ctx.con`` (replacing earlier ones)."""
    params = IndicatorParams.from_mapping(ctx.params)
    ctx.progress("indicators: reading careers tables")
    inputs = read_inputs(ctx.con)
    if "person_years" not in inputs:
        # a build without the careers stage (e.g. `--stage sources`): nothing to compute
        ctx.record_params("indicators", {"skipped": "no person_years table"})
        return
    ctx.progress(f"indicators: computing with {params.replicates} bootstrap replicates")
    tables = compute(inputs, params, consume=True)
    for name, frame in tables.items():
        ctx.con.create_table(name, to_arrow(frame), overwrite=True)
    for name in set(GROUP_TABLES) - set(tables):
        # no groupings this time: leave no grouped tables of an earlier build behind
        if name in ctx.con.list_tables():
            ctx.con.drop_table(name)
    ctx.record_params("indicators", params.__dict__ | {"panel": "padded", "bootstrap": "poisson"})
    # which careers evidence (papers, papers+histories) these figures read
    ctx.record_params("indicators", {"careers_evidence": recorded_evidence(ctx.con)})
