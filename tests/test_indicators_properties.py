"""Properties: accounting identities, invariance to row order and person-id relabelling,
intervals that contain the estimate and narrow as the sample grows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentflow.indicators.compute import TABLES, IndicatorParams, compute

COUNTRIES = ["US", "CN", "GB", "HK", None]
GROUPINGS = ("greater_china", "m49_region")
SECTORS = ["education", "company", "government", None]


@st.composite
def person_years(draw, max_persons: int = 8) -> pd.DataFrame:
    n = draw(st.integers(1, max_persons))
    rows = []
    for p in range(n):
        years = sorted(draw(st.sets(st.integers(2000, 2007), min_size=1, max_size=6)))
        for y in years:
            rows.append(
                (
                    f"p{p}",
                    y,
                    draw(st.sampled_from(COUNTRIES)),
                    draw(st.sampled_from(SECTORS)),
                    draw(st.sampled_from(["student", None])),
                    draw(st.lists(st.sampled_from(["US", "CN", "FR", "TW"]), max_size=1)),
                )
            )
    return pd.DataFrame(
        rows,
        columns=["person_id", "year", "country", "sector", "career_stage", "secondary_countries"],
    )


def _tables(py: pd.DataFrame) -> dict[str, pd.DataFrame]:
    persons = sorted(py["person_id"].unique())
    papers = pd.DataFrame(
        {
            "paper_id": ["x", "y"],
            "title": ["Large language models", "Image segmentation"],
            "venue": ["nips", "nips"],
            "year": [2005, 2005],
        }
    )
    auth = pd.DataFrame(
        {
            "paper_id": ["x" if i % 2 else "y" for i in range(len(persons))],
            "person_id": persons,
            "venue": "nips",
            "year": 2005,
        }
    )
    return {"person_years": py, "papers": papers, "authorships": auth}


SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in df.columns if df[c].dtype == object or c in ("year", "cohort_year", "k")]
    return df.sort_values(keys, na_position="last", kind="mergesort").reset_index(drop=True)


def _estimates_and_bounds(out):
    single = {
        "flows": "n",
        "flows_groups": "n",
        "sector_flows": "n",
        "retention": "retained_share",
        "returns": "return_share",
        "origin_work": "share",
    }
    for name, table in out.items():
        for col in table.columns:
            if col.endswith("ci_low"):
                prefix = col[: -len("ci_low")]
                est = prefix.rstrip("_") if prefix else single[name]
                yield name, est, table[est], table[col], table[prefix + "ci_high"]


@SETTINGS
@given(person_years())
def test_identities_and_intervals(py):
    params = IndicatorParams(
        replicates=30, min_cell=0, k_max=4, llm_era_start=2000, seed=1, groupings=GROUPINGS
    )
    out = compute(_tables(py), params)
    cy = out["country_year"]
    cy = cy[cy.sector == "all"]
    groups = out["country_year_groups"]
    groups = groups[groups.sector == "all"]
    # stock change = entries - exits + inflow - outflow (padding rule), per subset and country,
    # and per group of every grouping
    for frame, subset in [(cy, "all"), (cy, "llm"), (cy, "vision")] + [
        (groups[groups.grouping == g], "all") for g in GROUPINGS
    ]:
        wide = frame[frame.subset == subset].set_index(["country", "year"])
        for country in wide.index.get_level_values(0).unique():

            def get(col, year, c=country, w=wide):
                return w[col].get((c, year), 0.0) if (c, year) in w.index else 0.0

            for y in range(1999, 2009):
                lhs = get("stock", y) - get("stock", y - 1)
                rhs = get("entries", y) - get("exits", y - 1) + get("inflow", y) - get("outflow", y)
                assert lhs == rhs, (subset, country, y)
    # bilateral flows sum to inflows and outflows; pooled rows sum the yearly ones
    for c_frame, f in [(cy, out["flows"])] + [
        (groups[groups.grouping == g], out["flows_groups"].query("grouping == @g"))
        for g in GROUPINGS
    ]:
        yearly = f[f.year.notna()]
        inflow = yearly.groupby(["to_country", "year", "subset"])["n"].sum()
        outflow = yearly.groupby(["from_country", "year", "subset"])["n"].sum()
        # person subsets (stages are person-year subsets of country_year only)
        for r in c_frame[~c_frame.subset.str.startswith("stage:")].itertuples():
            assert inflow.get((r.country, r.year, r.subset), 0.0) == r.inflow
            assert outflow.get((r.country, r.year, r.subset), 0.0) == r.outflow
        assert f[f.year.isna()].n.sum() == yearly.n.sum()
    # shares sum to 1 in every year with a stock (a stage may hold only departures in a year)
    shares = cy.groupby(["year", "subset"]).agg(share=("stock_share", "sum"), n=("stock", "sum"))
    assert np.allclose(shares[shares.n > 0].share.to_numpy(), 1.0)
    # career stages partition every person-year of `all`
    staged = cy[cy.subset.str.startswith("stage:")].groupby(["country", "year"])
    measures = ["stock", "stock_frac", "inflow", "outflow", "entries", "exits", "returns"]
    everyone = cy[cy.subset == "all"].set_index(["country", "year"])[measures].sort_index()
    assert np.allclose(staged[measures].sum().sort_index().to_numpy(), everyone.to_numpy())
    # every interval contains its estimate (replicates are stored as float32)
    for name, est, value, low, high in _estimates_and_bounds(out):
        ok = value.notna() & low.notna()
        tol = 1e-5 * np.maximum(1.0, value[ok].abs())
        assert (low[ok] <= value[ok] + tol).all(), (name, est)
        assert (high[ok] >= value[ok] - tol).all(), (name, est)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person_years(), st.randoms(use_true_random=False))
def test_invariant_to_row_order_and_relabelling(py, rnd):
    params = IndicatorParams(
        replicates=20, min_cell=2, k_max=4, llm_era_start=2000, seed=3, groupings=GROUPINGS
    )
    tables = _tables(py)
    a = compute(tables, params)
    # row order: identical, intervals included (weights follow sorted person ids)
    order = list(range(len(py)))
    rnd.shuffle(order)
    shuffled = dict(tables, person_years=py.iloc[order].reset_index(drop=True))
    b = compute(shuffled, params)
    for name in (*TABLES, "paper_subfields", "country_year_groups", "flows_groups"):
        pd.testing.assert_frame_equal(_sorted(a[name]), _sorted(b[name]), check_dtype=False)
    # relabelling persons: identical point estimates and suppression
    ids = sorted(py["person_id"].unique())
    new = [f"z{rnd.randrange(10**9)}_{i}" for i in range(len(ids))]
    mapping = dict(zip(ids, new, strict=True))
    relabelled = {
        name: t.assign(person_id=t["person_id"].map(mapping)) if "person_id" in t else t
        for name, t in tables.items()
    }
    c = compute(relabelled, params)
    for name in (*TABLES, "country_year_groups", "flows_groups"):
        keep = [col for col in a[name].columns if "ci_" not in col]
        pd.testing.assert_frame_equal(
            _sorted(a[name][keep]), _sorted(c[name][keep]), check_dtype=False
        )


def _simulated(n_persons: int, seed: int) -> pd.DataFrame:
    """Random careers: each person 1-6 consecutive years, a country switch with prob 0.3."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_persons):
        start = int(rng.integers(2000, 2010))
        length = int(rng.integers(1, 7))
        country = rng.choice(["US", "CN", "GB"], p=[0.5, 0.3, 0.2])
        for y in range(start, start + length):
            if rng.random() < 0.3:
                country = rng.choice(["US", "CN", "GB"])
            rows.append((f"p{p}", y, country, "education", None, []))
    return pd.DataFrame(
        rows,
        columns=["person_id", "year", "country", "sector", "career_stage", "secondary_countries"],
    )


def test_intervals_narrow_as_sample_grows():
    params = IndicatorParams(replicates=200, min_cell=0, k_max=3, seed=11)
    small = compute({"person_years": _simulated(200, 5)}, params)
    large = compute({"person_years": _simulated(3200, 5)}, params)

    def width(out, table, est, low, high, **where):
        t = out[table]
        for k, v in where.items():
            t = t[t[k].isna()] if v is None else t[t[k] == v]
        assert len(t) == 1
        r = t.iloc[0]
        assert r[low] <= r[est] <= r[high]
        return r[high] - r[low]

    cell = {"country": "US", "year": 2008, "subset": "all", "sector": "all"}
    assert width(
        large, "country_year", "stock_share", "stock_share_ci_low", "stock_share_ci_high", **cell
    ) < 0.5 * width(
        small, "country_year", "stock_share", "stock_share_ci_low", "stock_share_ci_high", **cell
    )
    # the small sample's cell holds a handful of outflows, so its percentile interval is coarse:
    # the widths' ratio is about 2 (not 4) under any weight stream (seeds 11-13, with the
    # portable hash and with NumPy's Poisson generator alike)
    assert width(
        large, "country_year", "outflow_rate", "outflow_rate_ci_low", "outflow_rate_ci_high", **cell
    ) < 0.6 * width(
        small, "country_year", "outflow_rate", "outflow_rate_ci_low", "outflow_rate_ci_high", **cell
    )
    ret = {"country": "US", "cohort_year": None, "basis": "first_observed", "subset": "all", "k": 2}
    assert width(large, "retention", "retained_share", "ci_low", "ci_high", **ret) < 0.5 * width(
        small, "retention", "retained_share", "ci_low", "ci_high", **ret
    )
