"""The padded panel's derived rows against plain pandas definitions of them.

``build_panel`` and ``regroup`` avoid hashing every row (fractional rows are placed by index
arithmetic, shares merged only where a person-year has several rows, returns looked up only
among movers); these properties check that they still say what the simple group-bys say.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentflow.indicators.panel import _merge_shares, build_panel, regroup

COUNTRIES = ["US", "CN", "HK", "TW", "FR", None]
MAPPING = {"CN": "Greater China", "HK": "Greater China", "TW": "Greater China"}


@st.composite
def person_years(draw, max_persons: int = 6) -> pd.DataFrame:
    rows = []
    for p in range(draw(st.integers(1, max_persons))):
        for y in sorted(draw(st.sets(st.integers(2000, 2008), min_size=1, max_size=6))):
            listed = draw(st.lists(st.sampled_from(COUNTRIES), max_size=3))
            rows.append(
                (
                    f"p{p}",
                    y,
                    draw(st.sampled_from(COUNTRIES)),
                    draw(st.sampled_from(["education", "company", None])),
                    draw(st.sampled_from([None, listed])),
                )
            )
    return pd.DataFrame(
        rows, columns=["person_id", "year", "country", "sector", "secondary_countries"]
    )


def _reference_frac(years: pd.DataFrame, py: pd.DataFrame, persons: np.ndarray) -> pd.DataFrame:
    """Main country plus the distinct other secondary countries, equal shares."""
    pidx = {p: i for i, p in enumerate(persons)}
    listed = {
        (pidx[r.person_id], r.year): [c for c in r.secondary_countries if c is not None]
        for r in py.itertuples()
        if r.person_id in pidx and r.secondary_countries is not None
    }
    rows = []
    for r in years.itertuples():
        countries = [r.country]
        for c in listed.get((r.pidx, r.year), []):
            if c not in countries:
                countries.append(c)
        rows += [(r.pidx, r.year, c, 1.0 / len(countries)) for c in countries]
    return pd.DataFrame(rows, columns=["pidx", "year", "country", "weight"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person_years())
def test_fractional_rows_follow_the_definition(py):
    panel = build_panel(py)
    frac = panel.frac.assign(country=panel.frac["country"].astype(object))
    expected = _reference_frac(panel.years, py, panel.persons)
    got = frac[["pidx", "year", "country", "weight"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    # the rows of a person-year are next to each other, in (pidx, year) order
    cell = frac["pidx"].to_numpy() * 10_000 + frac["year"].to_numpy()
    assert (np.diff(cell) >= 0).all()
    # the same categories on both tables, so codes compare
    assert list(panel.frac["country"].cat.categories) == list(panel.years["country"].cat.categories)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person_years())
def test_regrouped_shares_and_returns_follow_the_definition(py):
    panel = build_panel(py)
    grouped = regroup(panel, MAPPING)
    frac = panel.frac.assign(
        country=panel.frac["country"].astype(object).map(lambda c: MAPPING.get(c, c))
    )
    expected = (
        frac.groupby(["pidx", "year", "country"], sort=False)
        .agg(sector=("sector", "first"), weight=("weight", "sum"))
        .reset_index()
    )
    got = grouped.frac.assign(country=grouped.frac["country"].astype(object))
    pd.testing.assert_frame_equal(
        got[["pidx", "year", "country", "sector", "weight"]].reset_index(drop=True),
        expected[["pidx", "year", "country", "sector", "weight"]],
        check_dtype=False,
        check_categorical=False,
    )
    # a return is an arrival in a country the person was in in an earlier panel year
    years = grouped.years.assign(country=grouped.years["country"].astype(object))
    for m in grouped.moves.itertuples():
        before = years[(years["pidx"] == m.pidx) & (years["year"] < m.year)]
        assert m.is_return == (m.to_country in set(before["country"]))


def test_merge_shares_needs_person_year_order():
    frac = pd.DataFrame(
        {
            "pidx": [1, 0],
            "year": [2000, 2000],
            "country": pd.Categorical(["US", "US"]),
            "sector": pd.Categorical(["academia", "academia"]),
            "stage": pd.Categorical(["unknown", "unknown"]),
            "weight": [1.0, 1.0],
        }
    )
    with pytest.raises(ValueError, match="order"):
        _merge_shares(frac)
