"""The fitted model and its projections on small synthetic careers tables."""

from __future__ import annotations

import numpy as np
import pytest

from talentflow.engines import connect
from talentflow.scenarios import (
    Lever,
    Scenario,
    fit_model,
    project,
    run_scenario,
)
from talentflow.scenarios.frames import panel_from_frames
from talentflow.scenarios.synthetic import synthetic_careers


@pytest.fixture(scope="module")
def frames():
    return synthetic_careers(2500, seed=4)


@pytest.fixture(scope="module")
def model(frames):
    py, ev = frames
    return fit_model(panel_from_frames(py, ev))


def test_panel_marks_risk_set_and_outcomes(frames):
    py, ev = frames
    panel = panel_from_frames(py, ev)
    r = panel.rows.to_pandas()
    # every move dated y is the outcome of the person-year y-1
    assert int(r["moved"].sum()) == len(
        ev.merge(py.assign(year=py["year"] + 1)[["person_id", "year"]], on=["person_id", "year"])
    )
    assert not (r["moved"] & ~r["has_next"]).any()
    assert (r.loc[r["year"] == panel.last_year, "has_next"] == False).all()  # noqa: E712


def test_fitted_hazard_and_ties_have_the_simulated_signs(model):
    p = model.parameters().set_index("parameter")
    # students move twice as often in the generator: positive stage effect
    student = model.hazard.names.index("G[0]")
    assert model.hazard.params[student] > 0.3
    # strong pull back to the first country
    assert p.loc["tie_origin", "estimate"] > 1.0


def test_accounting_identity_without_exits_or_entrants(model):
    m = model
    saved = m.cont.copy(), m.entrants.copy()
    try:
        m.cont[:] = 1.0
        m.entrants[:] = 0.0
        res = project(m, [Lever("inflow", "US", 0.5)], years=4, draws=20, seed=1)
    finally:
        m.cont, m.entrants = saved
    stock, net = res["stock"], res["net_flow"]
    start = m.state.sum(axis=(1, 2, 3, 4))
    change = np.diff(
        np.concatenate([np.broadcast_to(start, (20, 1, len(start))), stock], 1), axis=1
    )
    np.testing.assert_allclose(change, net, atol=1e-8)
    np.testing.assert_allclose(net.sum(axis=2), 0.0, atol=1e-8)
    np.testing.assert_allclose(stock.sum(axis=2), start.sum(), rtol=1e-10)


def test_neutral_levers_change_nothing_and_seeds_reproduce(model):
    s = Scenario(levers=[Lever("retention", "US", 1.0), Lever("inflow", "CN", 1.0)])
    from talentflow.scenarios import compare

    a = compare(model, s, years=3, draws=30, seed=5)
    b = compare(model, s, years=3, draws=30, seed=5)
    np.testing.assert_allclose(a.table["difference"], 0.0, atol=1e-9)
    assert a.table.equals(b.table)
    c = compare(model, s, years=3, draws=30, seed=6)
    assert not np.allclose(a.table["baseline_high"], c.table["baseline_high"])


def test_levers_move_the_right_numbers(model):
    from talentflow.scenarios import compare

    s = Scenario(
        levers=[
            Lever("inflow", "US", 0.5, origins=("CN",)),
            Lever("retention", "GB", 2.0),
            Lever("academia_to_industry", "DE", 3.0),
        ]
    )
    res = compare(model, s, years=5, draws=50, seed=0)
    t = res.table.set_index(["measure", "country", "year"])
    y = res.years[-1]
    assert t.loc[("inflow", "US", y), "difference_high"] < 0
    assert t.loc[("outflow", "GB", y), "difference_high"] < 0
    assert t.loc[("stock", "GB", y), "difference_low"] > 0
    assert t.loc[("academia_to_industry", "DE", y), "difference_low"] > 0
    # bands contain the mean
    for run in ("baseline", "scenario"):
        assert (res.table[f"{run}_low"] <= res.table[run] + 1e-9).all()
        assert (res.table[run] <= res.table[f"{run}_high"] + 1e-9).all()
    assert any("inflow to US from CN" in a for a in res.assumptions)


def test_attractiveness_by_stage_and_from_year(model):
    from talentflow.scenarios import compare

    s = Scenario(
        levers=[Lever("attractiveness", "CN", 2.0, stages=("student",), from_year=model.T + 3)]
    )
    res = compare(model, s, years=4, draws=40, seed=0)
    d = res.measure("net_flow").set_index(["country", "year"])["difference"]
    assert abs(d[("CN", model.T + 1)]) < 1e-9 and abs(d[("CN", model.T + 2)]) < 1e-9
    assert d[("CN", model.T + 3)] > 0


def test_run_scenario_reads_the_store(frames):
    py, ev = frames
    con = connect()
    con.create_table("person_years", py.assign(observed=True))
    con.create_table("events", ev)
    s = Scenario(name="t", levers=[Lever("return", "IN", 2.0)])
    res = run_scenario(con, s, years=3, draws=50, seed=0)
    assert set(res.table["measure"]) >= {"stock", "net_flow", "returns"}
    assert res.years == [2025, 2026, 2027]
    r = res.measure("returns").set_index(["country", "year"])
    assert r.loc[("IN", 2025), "difference_low"] > 0
    assert not res.history.empty
