"""Recovery: careers simulated with a known policy effect; the fitted model finds it.

The careers engineer's simulator renders papers with realistic noise; the careers stage turns
them into person-years and events; the scenario model is fitted with a policy term switched on
from the policy year, and the true factor must lie inside the 90% interval of the estimated
rate ratio. Two kinds of lever: an outflow effect (hazard of leaving a country) and an inflow
effect (weight of a destination). Coverage over several seeds is reported in docs/scenarios.md.
"""

from __future__ import annotations

import pytest

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams
from talentflow.careers.simulate import PolicyEffect, simulate_careers
from talentflow.engines import connect
from talentflow.scenarios import PolicyTerm, fit_model, load_panel


def _fit(kind: str, country: str, factor: float, year: int, n: int, seed: int):
    corpus = simulate_careers(n, seed=seed, policy=PolicyEffect(kind, country, factor, year))
    con = connect()
    con.create_table("authorships", corpus.authorships)
    tables = build_careers(con, con.table("authorships"), CareerParams())
    for name in ("person_years", "events"):
        con.create_table(name, tables[name], overwrite=True)
    model = fit_model(load_panel(con), policy_terms=[PolicyTerm(kind, country, year)])
    return model.policy_effects(draws=4000, seed=seed).iloc[0]


@pytest.mark.parametrize(
    ("kind", "country", "factor", "seed"),
    [("outflow", "CN", 0.5, 11), ("inflow", "DE", 2.0, 7)],
)
def test_known_policy_effect_is_recovered(kind, country, factor, seed):
    eff = _fit(kind, country, factor, 2015, 6000, seed)
    assert eff["low"] <= factor <= eff["high"], eff.to_dict()
    # and the interval is informative: it excludes "no effect"
    assert not (eff["low"] <= 1.0 <= eff["high"]), eff.to_dict()
