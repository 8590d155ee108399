"""Every indicator table computed on the stage's engine (``indicators_on=engine``).

The driver path (:func:`talentflow.indicators.compute.compute`) reads the careers tables into
pandas; this one leaves them where they are. The padded panel
(:mod:`talentflow.indicators.panel_engine`), every table's per-person contributions and point
sums (:mod:`talentflow.indicators.engine_tables`, :mod:`talentflow.indicators.flows_engine`),
the bootstrap weights and the replicate sums (:mod:`talentflow.indicators.replicates`) are Ibis
expressions on the engine; the driver receives cell sums and finishes each cell (rates,
shares, Kaplan-Meier products, intervals, suppression) with the driver path's own functions.
What the driver still holds per row: the papers' titles and keywords, classified once per
distinct paper (``paper_subfields``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from talentflow.indicators.compute import (
    IndicatorParams,
    _flag_complete_years,
    _grouped_tables,
    paper_subfields,
)
from talentflow.indicators.coverage import FixedPanel
from talentflow.indicators.engine_tables import engine_tables
from talentflow.indicators.groupings import grouping


def compute_on_engine(
    engine: Any,
    papers: pd.DataFrame | None,
    params: IndicatorParams,
    *,
    complete_years: set[int] | None = None,
    fixed: FixedPanel | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables :func:`~talentflow.indicators.compute.compute` returns, computed on
    ``engine`` (whose store holds ``person_years``, ``person_profile``, ``authorships`` and
    ``papers``); ``papers`` are the papers' text columns, for the subfield classification.
    Same weights as the driver path, so the same tables (to float32 rounding of fractional
    sums)."""
    subfields = paper_subfields(papers, params)
    out = engine_tables(engine, params, subfields, fixed)
    if params.groupings:
        out |= _grouped_tables(out, {g: grouping(g) for g in params.groupings})
    out["paper_subfields"] = subfields.reset_index(drop=True)
    if complete_years is not None:
        _flag_complete_years(out, complete_years)
    return out
