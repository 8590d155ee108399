"""The functions surfaces call: fit from a store, run a scenario."""

from __future__ import annotations

from typing import Any

from talentflow.scenarios.frames import load_panel
from talentflow.scenarios.levers import Scenario
from talentflow.scenarios.model import FitOptions, MoveModel, fit_model
from talentflow.scenarios.project import ScenarioResult, compare


def lever_countries(scenario: Scenario | None) -> tuple[str, ...]:
    """Every country a scenario names (modelled as its own group)."""
    if scenario is None:
        return ()
    out: list[str] = []
    for lv in scenario.levers:
        out.extend([lv.country, *lv.origins])
    return tuple(dict.fromkeys(out))


def fit_from_store(
    con: Any,
    *,
    options: FitOptions | None = None,
    include_countries: tuple[str, ...] = (),
    max_year: int | None = None,
) -> MoveModel:
    """Read the careers tables from ``con`` and fit the move model.

    Fit once and pass the model to :func:`run_scenario` (``model=``) to re-run scenarios
    quickly (e.g. a dashboard moving sliders).
    """
    panel = load_panel(con, max_year=max_year)
    return fit_model(panel, options=options, include_countries=include_countries)


def run_scenario(
    con: Any,
    scenario: Scenario,
    years: int = 10,
    draws: int = 500,
    seed: int = 0,
    *,
    model: MoveModel | None = None,
    options: FitOptions | None = None,
    level: float = 0.90,
) -> ScenarioResult:
    """Project baseline and ``scenario`` ``years`` ahead with ``draws`` parameter draws.

    Parameters
    ----------
    con
        Ibis backend with the careers tables (``person_years``, ``events``); may be ``None``
        when ``model`` is given.
    scenario
        The levers (:class:`~talentflow.scenarios.levers.Scenario`).
    years, draws, seed
        Horizon, number of parameter draws, seed (same seed, same result).
    model
        A model fitted earlier (:func:`fit_from_store`); levers naming countries outside its
        groups then act only on the groups present (stated in the assumptions).
    level
        Interval level of the bands (default 90%).

    Returns
    -------
    ScenarioResult
        ``.table`` with baseline / scenario / difference and their bands per country, year and
        measure; ``.assumptions``; ``.history`` (observed).

    Examples
    --------
    >>> from talentflow.scenarios import Lever, Scenario
    >>> s = Scenario(name="grants", levers=[Lever("attractiveness", "CN", 1.3, stages=("postdoc",))])
    >>> result = run_scenario(con, s, years=5, draws=200)  # doctest: +SKIP
    """
    if model is None:
        model = fit_from_store(con, options=options, include_countries=lever_countries(scenario))
    return compare(model, scenario, years=years, draws=draws, seed=seed, level=level)
