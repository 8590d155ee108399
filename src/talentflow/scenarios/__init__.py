"""What would a policy change? A calibrated model of international moves, levers, backtests.

Public face (see ``docs/scenarios.md``)::

    from talentflow.scenarios import Scenario, Lever, run_scenario
    scenario = Scenario.from_toml("my_policy.toml")          # or Scenario(levers=[Lever(...)])
    result = run_scenario(con, scenario, years=10, draws=500, seed=0)
    result.table       # baseline vs scenario by country/year/measure, with bands
    result.assumptions # what the levers change, and what the model assumes
"""

from __future__ import annotations

from talentflow.scenarios.backtest import BacktestResult, backtest
from talentflow.scenarios.frames import MissingInputs, Panel, load_panel
from talentflow.scenarios.levers import LEVER_KINDS, Lever, Scenario, ScenarioError
from talentflow.scenarios.model import FitOptions, MoveModel, PolicyTerm, fit_model
from talentflow.scenarios.project import MEASURES, ScenarioResult, compare, project
from talentflow.scenarios.service import fit_from_store, run_scenario

__all__ = [
    "LEVER_KINDS",
    "MEASURES",
    "BacktestResult",
    "FitOptions",
    "Lever",
    "MissingInputs",
    "MoveModel",
    "Panel",
    "PolicyTerm",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "backtest",
    "compare",
    "fit_from_store",
    "fit_model",
    "load_panel",
    "project",
    "run_scenario",
]
