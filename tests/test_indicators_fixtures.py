"""Hand-computed fixtures for every indicator, incl. padding, censoring and suppression.

The fixture (``talentflow.indicators.synthetic.worked_example``, years 2010-2014):

    a: 2010 US (student), 2012 US (student; secondary GB), 2013 CN   -> gap 2011 padded as US
    b: 2010 CN, 2011 CN
    c: 2011 US (student), 2012 country unknown, 2014 US               -> 2012, 2013 padded as US
    d: 2010 GB, 2011 US, 2012 GB, 2013 GB                             -> leaves GB, returns

Papers (venue nips, 2013): p1 "Large Language Models ..." by a and c; p2 "Bandits" by d.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from talentflow.indicators.compute import IndicatorParams, compute
from talentflow.indicators.synthetic import worked_example as fixture_tables


@pytest.fixture(scope="module")
def out() -> dict[str, pd.DataFrame]:
    params = IndicatorParams(replicates=0, min_cell=0, k_max=3, llm_era_start=2012)
    return compute(fixture_tables(), params)


def cy(out, country, year, subset="all", sector="all"):
    t = out["country_year"]
    row = t[(t.country == country) & (t.year == year) & (t.subset == subset) & (t.sector == sector)]
    assert len(row) == 1, (country, year, subset, sector)
    return row.iloc[0]


def test_padded_stock(out):
    assert cy(out, "US", 2010).stock == 1
    assert cy(out, "US", 2011).stock == 3  # a (padded gap), c, d
    assert cy(out, "US", 2013).stock == 1  # c, padded through the unknown year and the gap
    assert cy(out, "US", 2014).stock == 1
    assert cy(out, "CN", 2011).stock == 1
    assert cy(out, "US", 2011).stock_share == pytest.approx(3 / 4)


def test_fractional_stock(out):
    # a's 2012 is split between US (main) and GB (secondary)
    assert cy(out, "US", 2012).stock_frac == pytest.approx(1.5)
    assert cy(out, "GB", 2012).stock_frac == pytest.approx(1.5)
    assert cy(out, "GB", 2012).stock == 1


def test_flows_and_rates(out):
    us11 = cy(out, "US", 2011)
    assert (us11.inflow, us11.outflow, us11.net_flow, us11.entries) == (1, 0, 1, 1)
    assert us11.inflow_rate == pytest.approx(1000 / 3)
    us12 = cy(out, "US", 2012)
    assert (us12.inflow, us12.outflow, us12.net_flow) == (0, 1, -1)
    assert us12.net_rate == pytest.approx(-500.0)
    gb12 = cy(out, "GB", 2012)
    assert gb12.returns == 1  # d comes back to GB
    assert cy(out, "CN", 2013).returns == 0  # a's first time in CN
    assert cy(out, "CN", 2011).exits == 1  # b's last year


def test_bilateral_flows(out):
    f = out["flows"]
    yearly = f[f.year.notna() & (f.subset == "all")]
    got = {(r.from_country, r.to_country, int(r.year)): r.n for r in yearly.itertuples()}
    assert got == {("GB", "US", 2011): 1, ("US", "GB", 2012): 1, ("US", "CN", 2013): 1}
    pooled = f[f.year.isna() & (f.subset == "all")]
    assert pooled.n.sum() == 3


def test_retention_censoring(out):
    r = out["retention"]
    us = r[
        (r.country == "US")
        & r.cohort_year.isna()
        & (r.basis == "first_observed")
        & (r.subset == "all")
    ].set_index("k")
    # a leaves after 3 years; c is censored at 3 years without leaving
    assert us.at_risk.tolist() == [2, 2, 2]
    assert us.retained_share.tolist() == [1.0, 1.0, 0.5]
    gb = r[
        (r.country == "GB")
        & r.cohort_year.isna()
        & (r.basis == "first_observed")
        & (r.subset == "all")
    ]
    assert gb.retained_share.tolist() == [0.0]
    cn = r[(r.country == "CN") & (r.cohort_year == 2010) & (r.subset == "all")]
    assert cn.at_risk.tolist() == [1] and cn.retained_share.tolist() == [1.0]  # b censored


def test_retention_training_basis(out):
    r = out["retention"]
    tr = r[
        (r.country == "US") & r.cohort_year.isna() & (r.basis == "training") & (r.subset == "all")
    ].set_index("k")
    # a trains until 2012 and leaves in 2013; c trains in 2011 and stays (censored at 3)
    assert tr.at_risk.tolist() == [2, 1, 1]
    assert tr.retained_share.tolist() == [0.5, 0.5, 0.5]
    by_cohort = r[(r.basis == "training") & (r.subset == "all") & r.cohort_year.notna()]
    assert sorted(by_cohort.cohort_year.unique().tolist()) == [2011, 2012]


def test_returns(out):
    r = out["returns"]
    gb = r[(r.country == "GB") & (r.subset == "all")]
    assert gb.k.tolist() == [1] and gb.return_share.tolist() == [1.0]
    us = r[(r.country == "US") & (r.subset == "all")]
    # d left the US in 2012 and is censored after 1 year; a left in 2013, its last year
    assert us.at_risk.tolist() == [1] and us.return_share.tolist() == [0.0]


def test_sector_flows(out):
    s = out["sector_flows"]
    pooled = s[s.year.isna() & (s.subset == "all")]
    got = {(r.country, r.from_sector, r.to_sector, r.domestic): r.n for r in pooled.itertuples()}
    assert got == {
        ("US", "academia", "industry", True): 2,  # a in 2012, c in 2014
        ("CN", "industry", "academia", False): 1,  # a moving to CN in 2013
    }


def test_origin_work_and_llm_subset(out):
    ow = out["origin_work"]
    base = ow[(ow.population == "nips2013") & (ow.origin_basis == "first_observed")]
    allsub = base[base.subset == "all"]
    cell = allsub[(allsub.origin_country == "US") & (allsub.work_country == "CN")]
    assert cell.n.tolist() == [1] and cell.share.tolist() == [pytest.approx(1 / 3)]
    margin = allsub[allsub.origin_country == "ALL"].set_index("work_country")
    assert margin.share.to_dict() == pytest.approx({"CN": 1 / 3, "GB": 1 / 3, "US": 1 / 3})
    llm = base[(base.subset == "llm") & (base.origin_country == "ALL")].set_index("work_country")
    assert llm.share.to_dict() == pytest.approx({"CN": 0.5, "US": 0.5})
    # training origin is unknown for d: kept as a NULL origin, not dropped
    tr = ow[(ow.population == "nips2013") & (ow.origin_basis == "training") & (ow.subset == "all")]
    assert tr.origin_country.isna().sum() == 1
    # the llm subset of country_year is a's and c's careers
    assert cy(out, "US", 2011, subset="llm").stock == 2


def test_paper_subfields(out):
    ps = out["paper_subfields"].set_index("paper_id")
    assert ps.loc["p1", "subfield"] == "llm" and bool(ps.loc["p1", "is_llm_era"])
    assert ps.loc["p2", "subfield"] == "rl"


def test_suppression_marks_and_keeps_rows():
    params = IndicatorParams(replicates=10, min_cell=2, k_max=3, llm_era_start=2012)
    sup = compute(fixture_tables(), params)
    full = compute(
        fixture_tables(), IndicatorParams(replicates=0, min_cell=0, k_max=3, llm_era_start=2012)
    )
    for name in ("country_year", "flows", "retention", "returns", "origin_work", "sector_flows"):
        assert len(sup[name]) == len(full[name]), name  # never dropped
    t = sup["country_year"]
    gb = t[(t.country == "GB") & (t.year == 2010) & (t.subset == "all") & (t.sector == "all")]
    assert gb.suppressed.tolist() == [True]
    assert gb[["stock", "stock_ci_low", "inflow"]].isna().all(axis=None)
    us = t[(t.country == "US") & (t.year == 2011) & (t.subset == "all") & (t.sector == "all")]
    assert us.suppressed.tolist() == [False] and us.stock.tolist() == [3]
    assert sup["flows"].suppressed.all() and sup["flows"].n.isna().all()


def test_intervals_present_and_seeded():
    params = IndicatorParams(replicates=30, min_cell=0, k_max=3, llm_era_start=2012, seed=7)
    one = compute(fixture_tables(), params)["country_year"]
    two = compute(fixture_tables(), params)["country_year"]
    pd.testing.assert_frame_equal(one, two)
    other = compute(
        fixture_tables(),
        IndicatorParams(replicates=30, min_cell=0, k_max=3, llm_era_start=2012, seed=8),
    )
    assert not np.allclose(
        one.stock_ci_high.to_numpy(), other["country_year"].stock_ci_high.to_numpy()
    )
    assert math.isfinite(one.stock_ci_high.max())


def test_pair_net_flows_and_complementary_suppression():
    rows = [(f"u{i}", y, c) for i in range(3) for y, c in ((2010, "US"), (2011, "CN"))]
    rows += [("c0", 2010, "CN"), ("c0", 2011, "US")]
    py = pd.DataFrame(rows, columns=["person_id", "year", "country"])
    open_ = compute({"person_years": py}, IndicatorParams(replicates=0, min_cell=0))["flows"]
    f = open_[(open_.year == 2011) & (open_.subset == "all")].set_index("from_country")
    assert f.loc["US", "n"] == 3 and f.loc["US", "net"] == 2 and f.loc["CN", "net"] == -2
    sup = compute({"person_years": py}, IndicatorParams(replicates=10, min_cell=2))["flows"]
    s = sup[(sup.year == 2011) & (sup.subset == "all")].set_index("from_country")
    assert s.loc["US", "n"] == 3 and not s.loc["US", "suppressed"]
    # the net would reveal the suppressed CN -> US count (1), so it is hidden too
    assert np.isnan(s.loc["US", "net"]) and np.isnan(s.loc["US", "net_ci_low"])
    assert s.loc["CN", "suppressed"] and np.isnan(s.loc["CN", "n"])
