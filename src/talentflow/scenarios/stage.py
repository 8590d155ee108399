"""The scenarios stage: fit the move model on the careers tables and store it with a baseline.

Writes ``scenario_parameters`` (part, parameter, estimate, se) and ``scenario_baseline``
(country, year, measure, mean, low, high: a baseline projection with 90% bands). When the
careers tables are absent (a partial build) the stage records why and writes nothing.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from talentflow.context import StageContext
from talentflow.scenarios.frames import MissingInputs, load_panel
from talentflow.scenarios.model import FitOptions, fit_model
from talentflow.scenarios.project import MEASURES, project

OUTPUTS = ("scenario_parameters", "scenario_baseline")


def run(ctx: StageContext) -> None:
    """Fit the model and store its parameters and a baseline projection."""
    years = int(ctx.params.get("years", 10))
    draws = int(ctx.params.get("draws", 200))
    seed = int(ctx.params.get("seed", 0))
    opts = FitOptions(
        n_countries=int(ctx.params.get("n_countries", FitOptions.n_countries)),
    )
    params = {"years": years, "draws": draws, "seed": seed, **opts.__dict__}
    try:
        panel = load_panel(ctx.con)
    except MissingInputs as exc:
        ctx.record_params("scenarios", {**params, "skipped": str(exc)})
        return
    ctx.progress("scenarios: fitting the move model")
    try:
        model = fit_model(panel, options=opts)
    except (ValueError, np.linalg.LinAlgError) as exc:
        # Too little data to fit (a tiny slice): the build goes on, the reason is recorded.
        ctx.record_params("scenarios", {**params, "skipped": f"fit failed: {exc}"})
        return
    ctx.record_params(
        "scenarios",
        {
            **params,
            "T": model.T,
            "groups": model.groups,
            "dropped_partial_years": list(panel.dropped_years),
        },
    )
    ctx.con.create_table("scenario_parameters", ibis.memtable(model.parameters()), overwrite=True)
    ctx.progress("scenarios: baseline projection")
    res = project(model, [], years=years, draws=draws, seed=seed)
    horizon = [model.T + k for k in range(1, years + 1)]
    frames = []
    C = model.n_groups
    for m in MEASURES:
        a = res[m]
        frames.append(
            pd.DataFrame(
                {
                    "country": np.tile(model.groups, years),
                    "year": np.repeat(horizon, C).astype(np.int64),
                    "measure": m,
                    "mean": a.mean(0).ravel(),
                    "low": np.quantile(a, 0.05, axis=0).ravel(),
                    "high": np.quantile(a, 0.95, axis=0).ravel(),
                }
            )
        )
    ctx.con.create_table(
        "scenario_baseline", ibis.memtable(pd.concat(frames, ignore_index=True)), overwrite=True
    )
