"""Backtests: naive baselines computed as defined, errors reported per country."""

from __future__ import annotations

import numpy as np
import pytest

from talentflow.scenarios import backtest
from talentflow.scenarios.backtest import observed_net_flows
from talentflow.scenarios.frames import panel_from_frames
from talentflow.scenarios.synthetic import synthetic_careers


@pytest.fixture(scope="module")
def result():
    py, ev = synthetic_careers(2500, seed=9)
    panel = panel_from_frames(py, ev)
    return panel, backtest(panel, horizon=3, top=5, n_origins=2, draws=40)


def test_baselines_and_observed_follow_their_definitions(result):
    panel, res = result
    net = observed_net_flows(panel).set_index(["country", "year"])["net_flow"]
    fc = res.forecasts
    assert res.origins == [2020, 2021]
    assert len(fc) == 2 * 3 * 5
    for r in fc.itertuples():
        assert r.observed == net.get((r.country, r.year), 0.0)
        assert r.persistence == net.get((r.country, r.origin), 0.0)
        avg = np.mean([net.get((r.country, y), 0.0) for y in range(r.origin - 2, r.origin + 1)])
        assert r.avg3 == pytest.approx(avg)
        assert r.model_low <= r.model <= r.model_high


def test_errors_per_country_and_overall(result):
    _, res = result
    assert list(res.errors["country"]) == res.countries
    fc = res.forecasts
    us = fc[fc["country"] == res.countries[0]]
    row = res.errors.set_index("country").loc[res.countries[0]]
    assert row["mae_model"] == pytest.approx((us["model"] - us["observed"]).abs().mean())
    o = res.overall.set_index("method")
    assert o.loc["persistence", "mae"] == pytest.approx(
        (fc["persistence"] - fc["observed"]).abs().mean()
    )
    # the generator's flows are stationary: a calibrated model beats persistence
    assert res.beats_persistence


def test_no_room_for_a_backtest_is_an_error():
    py, ev = synthetic_careers(300, seed=1, start_year=2018, end_year=2022)
    with pytest.raises(ValueError, match="no forecast origin"):
        backtest(panel_from_frames(py, ev), horizon=3)


def test_rate_basis_and_skipped_years(result):
    panel, _ = result
    res = backtest(
        panel, horizon=3, top=5, n_origins=2, draws=40, measure="rate", skip_years=[2021]
    )
    # 2021 is neither an origin nor scored; the origins are the last two others with room
    assert res.origins == [2019, 2020]
    fc = res.forecasts
    assert 2021 not in set(fc["year"]) and len(fc)
    net = observed_net_flows(panel).set_index(["country", "year"])["net_flow"]
    py, _ = synthetic_careers(2500, seed=9)
    stock = py[py["country"].notna()].groupby(["country", "year"]).size()
    for r in fc.itertuples():
        rate = 1000.0 * net.get((r.country, r.year), 0.0) / stock[(r.country, r.year)]
        assert r.observed == pytest.approx(rate)
        assert r.persistence == pytest.approx(
            1000.0 * net.get((r.country, r.origin), 0.0) / stock[(r.country, r.origin)]
        )
        # the three-year mean leaves the skipped year out
        years = [y for y in range(r.origin - 2, r.origin + 1) if y != 2021]
        avg = np.mean(
            [1000.0 * net.get((r.country, y), 0.0) / stock[(r.country, y)] for y in years]
        )
        assert r.avg3 == pytest.approx(avg)
    assert any("Incomplete years" in n for n in res.notes)
    with pytest.raises(ValueError, match="measure"):
        backtest(panel, measure="share")
