"""Hand-computed fixtures for the breakdowns: subfield subsets, career stages, country groups.

Stage fixture (years 2020-2022, all in academia unless said):

    p: 2020 CN student, 2021 CN student, 2022 US postdoc        -> leaves CN as a student
    q: 2020 CN student, (no 2021 row: padded, stage unknown), 2022 CN faculty
    r: 2021 CN (no stage), 2022 CN industry (company)

Group fixture:

    a: 2020 CN, 2021 HK, 2022 US        -> CN->HK is inside Greater China, HK->US leaves it
    b: 2020 TW, 2021 TW
    c: 2020 DE, 2021 FR, 2022 CN        -> DE->FR is inside the EU27
    d: 2020 US, 2021 HK
    e: 2020 CN (secondary HK), 2021 CN  -> fractional stock split inside Greater China
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import talentflow
from talentflow.cli import app
from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.indicators import stage
from talentflow.indicators.compute import SUBFIELD_SUBSETS, IndicatorParams, compute
from talentflow.indicators.groupings import EU27, GROUPINGS, grouping, groupings_table

REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "data" / "registries"
MEASURES = ["stock", "stock_frac", "inflow", "outflow", "returns", "entries", "exits"]


def _py(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["person_id", "year", "country", "sector", "career_stage", "secondary_countries"],
    )


def cell(t: pd.DataFrame, country: str, year: int, subset: str = "all", sector: str = "all"):
    row = t[(t.country == country) & (t.year == year) & (t.subset == subset) & (t.sector == sector)]
    assert len(row) <= 1
    return row.iloc[0] if len(row) else None


def value(t: pd.DataFrame, col: str, country: str, year: int, subset: str = "all") -> float:
    row = cell(t, country, year, subset)
    return 0.0 if row is None else float(row[col])


# --------------------------------------------------------------------------- subfields


@pytest.fixture(scope="module")
def subfield_tables() -> dict[str, pd.DataFrame]:
    py = _py(
        [
            ("v", 2016, "US", "education", None, []),
            ("v", 2017, "GB", "education", None, []),
            ("w", 2016, "US", "company", None, []),
            ("x", 2016, "CN", "education", None, []),
            ("x", 2017, "CN", "education", None, []),
        ]
    )
    papers = pd.DataFrame(
        {
            "paper_id": ["p1", "p2", "p3"],
            "title": [
                "Semantic segmentation of point clouds",
                "Deep Q-learning for Atari",
                "A cooking recipe",
            ],
            "venue": ["nips", "nips", "cvpr"],
            "year": [2016, 2016, 2017],
        }
    )
    auth = pd.DataFrame(
        {
            "paper_id": ["p1", "p2", "p2", "p3"],
            "person_id": ["v", "v", "w", "x"],
            "venue": ["nips", "nips", "nips", "cvpr"],
            "year": [2016, 2016, 2016, 2017],
        }
    )
    return {"person_years": py, "papers": papers, "authorships": auth}


def test_subfield_subsets(subfield_tables):
    out = compute(subfield_tables, IndicatorParams(replicates=0, min_cell=0, groupings=()))
    tags = out["paper_subfields"].set_index("paper_id")["subfield"]
    assert tags.to_dict() == {"p1": "vision", "p2": "rl", "p3": "vision"}  # p3: venue rule
    cy = out["country_year"]
    # vision = v (p1) and x (p3, a CVPR paper); rl = v and w (p2)
    assert value(cy, "stock", "US", 2016, "vision") == 1  # v
    assert value(cy, "stock", "CN", 2016, "vision") == 1  # x, before the paper: a person subset
    assert value(cy, "stock", "US", 2016, "rl") == 2  # v, w
    assert value(cy, "outflow", "US", 2017, "rl") == 1  # v leaves for GB
    assert cell(cy, "CN", 2016, "rl") is None  # x has no rl paper
    assert not cy["subset"].isin(["theory", "robotics"]).any()  # no such persons: no rows
    f = out["flows"]
    assert set(f[(f.from_country == "US") & (f.to_country == "GB")].subset) == {
        "all",
        "vision",
        "rl",
    }
    ow = out["origin_work"]
    nips = ow[(ow.population == "nips2016") & (ow.origin_basis == "first_observed")]
    margin = nips[nips.origin_country == "ALL"].set_index(["subset", "work_country"])["n"]
    assert margin.to_dict() == {("all", "US"): 2, ("rl", "US"): 2, ("vision", "US"): 1}


def test_subfield_option(subfield_tables):
    params = IndicatorParams(replicates=0, min_cell=0, groupings=(), subfields=("rl",))
    out = compute(subfield_tables, params)
    assert set(out["country_year"].subset) <= {"all", "llm", "rl"} | {
        s for s in out["country_year"].subset if s.startswith("stage:")
    }
    assert "rl" in set(out["retention"].subset) and "vision" not in set(out["retention"].subset)
    none = IndicatorParams.from_mapping({"subfields": "none", "stages": "false", "groupings": ""})
    assert (none.subfields, none.stages, none.groupings) == ((), False, ())
    some = IndicatorParams.from_mapping({"subfields": "vision, rl", "groupings": ["eu27"]})
    assert some.subfields == ("vision", "rl") and some.groupings == ("eu27",)
    every = IndicatorParams.from_mapping({"subfields": "all", "groupings": "all"})
    assert every.subfields == SUBFIELD_SUBSETS and every.groupings == tuple(GROUPINGS)
    with pytest.raises(ValueError, match="unknown subfields"):
        IndicatorParams.from_mapping({"subfields": "llm"})  # llm is always there
    with pytest.raises(ValueError, match="unknown groupings"):
        IndicatorParams(groupings=("asean",))


# --------------------------------------------------------------------------- career stages


@pytest.fixture(scope="module")
def stage_out() -> dict[str, pd.DataFrame]:
    py = _py(
        [
            ("p", 2020, "CN", "education", "student", []),
            ("p", 2021, "CN", "education", "student", []),
            ("p", 2022, "US", "education", "postdoc", []),
            ("q", 2020, "CN", "education", "student", []),
            ("q", 2022, "CN", "education", "faculty", []),
            ("r", 2021, "CN", "education", None, []),
            ("r", 2022, "CN", "company", "industry", []),
        ]
    )
    return compute({"person_years": py}, IndicatorParams(replicates=0, min_cell=0, groupings=()))


def test_stage_stocks(stage_out):
    cy = stage_out["country_year"]
    assert value(cy, "stock", "CN", 2020, "stage:student") == 2  # p, q
    assert value(cy, "stock_share", "CN", 2020, "stage:student") == 1.0
    assert value(cy, "stock", "CN", 2021, "stage:student") == 1  # p
    assert value(cy, "stock", "CN", 2021, "stage:unknown") == 2  # q padded, r unsaid
    assert value(cy, "entries", "CN", 2021, "stage:unknown") == 1  # r
    assert value(cy, "stock", "CN", 2022, "stage:faculty") == 1
    assert value(cy, "stock", "CN", 2022, "stage:industry") == 1
    industry = cell(cy, "CN", 2022, "stage:industry", "industry")
    assert industry is not None and industry.stock == 1  # r, at a company
    assert value(cy, "stock", "CN", 2022, "stage:student") == 0  # the cell holds p's outflow
    assert np.isnan(value(cy, "stock_share", "CN", 2022, "stage:student"))  # no student anywhere
    assert cell(cy, "US", 2022, "stage:student") is None


def test_stage_flows(stage_out):
    cy = stage_out["country_year"]
    # p arrives in the US as a postdoc and leaves CN as a student (the stage of 2021)
    assert value(cy, "inflow", "US", 2022, "stage:postdoc") == 1
    assert value(cy, "inflow_rate", "US", 2022, "stage:postdoc") == 1000.0
    assert value(cy, "outflow", "CN", 2022, "stage:student") == 1
    assert value(cy, "outflow", "CN", 2022, "stage:faculty") == 0
    assert value(cy, "exits", "CN", 2021, "stage:student") == 0  # p's last year is 2022
    # stages are person-year subsets of country_year only
    for name in ("flows", "retention", "returns", "sector_flows"):
        assert not stage_out[name]["subset"].str.startswith("stage:").any(), name


def test_stages_partition_all(stage_out):
    cy = stage_out["country_year"]
    staged = cy[cy.subset.str.startswith("stage:")]
    by_stage = staged.groupby(["country", "year", "sector"])[MEASURES].sum()
    total = cy[cy.subset == "all"].set_index(["country", "year", "sector"])[MEASURES]
    pd.testing.assert_frame_equal(by_stage.sort_index(), total.sort_index(), check_dtype=False)
    # the accounting identity holds on `all`, stage by stage it needs the stage changes
    assert value(cy, "stock", "CN", 2021) - value(cy, "stock", "CN", 2020) == (
        value(cy, "entries", "CN", 2021) - value(cy, "exits", "CN", 2020)
    )


def test_stages_option(stage_out):
    py = _py([("p", 2020, "CN", "education", "student", [])])
    off = compute({"person_years": py}, IndicatorParams(replicates=0, groupings=(), stages=False))
    assert not off["country_year"]["subset"].str.startswith("stage:").any()


# --------------------------------------------------------------------------- groupings


def _group_py() -> pd.DataFrame:
    return _py(
        [
            ("a", 2020, "CN", "education", None, []),
            ("a", 2021, "HK", "education", None, []),
            ("a", 2022, "US", "company", None, []),
            ("b", 2020, "TW", "education", None, []),
            ("b", 2021, "TW", "education", None, []),
            ("c", 2020, "DE", "education", None, []),
            ("c", 2021, "FR", "education", None, []),
            ("c", 2022, "CN", "education", None, []),
            ("d", 2020, "US", "education", None, []),
            ("d", 2021, "HK", "education", None, []),
            ("e", 2020, "CN", "education", None, ["HK"]),
            ("e", 2021, "CN", "education", None, []),
        ]
    )


GROUP_PARAMS = IndicatorParams(replicates=40, min_cell=0, seed=5, stages=False, subfields=())


@pytest.fixture(scope="module")
def group_out() -> dict[str, pd.DataFrame]:
    return compute({"person_years": _group_py()}, GROUP_PARAMS)


def _groups(out, name: str) -> pd.DataFrame:
    g = out["country_year_groups"]
    return g[g.grouping == name]


def test_group_stock_and_flows_by_hand(group_out):
    gc = _groups(group_out, "greater_china")
    assert set(gc.country) == {"Greater China"}
    assert [value(gc, "stock", "Greater China", y) for y in (2020, 2021, 2022)] == [3, 4, 1]
    assert value(gc, "stock_frac", "Greater China", 2020) == pytest.approx(3.0)  # e: 0.5 + 0.5
    assert value(gc, "inflow", "Greater China", 2021) == 1  # d; a's CN -> HK is internal
    assert value(gc, "outflow", "Greater China", 2021) == 0
    assert value(gc, "outflow", "Greater China", 2022) == 1  # a leaves for the US
    assert value(gc, "inflow", "Greater China", 2022) == 1  # c from FR
    cy = group_out["country_year"]
    assert value(cy, "inflow", "HK", 2021) == 2 and value(cy, "outflow", "CN", 2021) == 1
    eu = _groups(group_out, "eu27")
    assert [value(eu, "stock", "EU27", y) for y in (2020, 2021)] == [1, 1]
    assert value(eu, "inflow", "EU27", 2021) == 0  # DE -> FR is internal
    assert value(eu, "outflow", "EU27", 2022) == 1
    f = group_out["flows_groups"]
    yearly = f[(f.grouping == "greater_china") & f.year.notna() & (f.subset == "all")]
    got = {(r.from_country, r.to_country, int(r.year)): r.n for r in yearly.itertuples()}
    assert got == {
        ("US", "Greater China", 2021): 1,
        ("Greater China", "US", 2022): 1,
        ("FR", "Greater China", 2022): 1,
    }


def test_group_stock_is_sum_of_members(group_out):
    cy = group_out["country_year"]
    for name in GROUPINGS:
        members = pd.Series(grouping(name))
        base = cy[(cy.subset == "all") & (cy.sector == "all") & cy.country.isin(members.index)]
        summed = (
            base.assign(group_name=base.country.map(members))
            .groupby(["group_name", "year"])[
                ["stock", "stock_frac", "stock_share", "entries", "exits"]
            ]
            .sum()
        )
        g = _groups(group_out, name)
        g = g[(g.subset == "all") & (g.sector == "all")].set_index(["country", "year"])
        g = g[["stock", "stock_frac", "stock_share", "entries", "exits"]]
        summed.index.names = g.index.names
        pd.testing.assert_frame_equal(g.sort_index(), summed.sort_index(), check_dtype=False)


def test_group_identities(group_out):
    for name in GROUPINGS:
        g = _groups(group_out, name)
        g = g[(g.subset == "all") & (g.sector == "all")]
        f = group_out["flows_groups"]
        f = f[(f.grouping == name) & f.year.notna() & (f.subset == "all")]
        for country in set(g.country):
            for y in range(2020, 2024):
                lhs = value(g, "stock", country, y) - value(g, "stock", country, y - 1)
                rhs = (
                    value(g, "entries", country, y)
                    - value(g, "exits", country, y - 1)
                    + value(g, "inflow", country, y)
                    - value(g, "outflow", country, y)
                )
                assert lhs == rhs, (name, country, y)
                into = f[(f.to_country == country) & (f.year == y)].n.sum()
                assert into == value(g, "inflow", country, y), (name, country, y)
                out_of = f[(f.from_country == country) & (f.year == y)].n.sum()
                assert out_of == value(g, "outflow", country, y), (name, country, y)


def test_group_intervals_come_from_the_grouped_panel(group_out):
    # the same indicators on person-years whose countries were replaced by their group, with
    # the same persons and seed, give the same estimates and intervals
    mapping = grouping("greater_china")
    py = _group_py()
    py["country"] = py["country"].map(lambda c: mapping.get(c, c))
    py["secondary_countries"] = py["secondary_countries"].map(
        lambda cs: [mapping.get(c, c) for c in cs]
    )
    params = IndicatorParams(**{**GROUP_PARAMS.__dict__, "groupings": ()})
    direct = compute({"person_years": py}, params)["country_year"]
    direct = direct[direct.country == "Greater China"].reset_index(drop=True)
    grouped = _groups(group_out, "greater_china").drop(columns="grouping").reset_index(drop=True)
    pd.testing.assert_frame_equal(grouped[direct.columns], direct, check_dtype=False)
    # and not the sum of the members' bounds
    cy = group_out["country_year"]
    members = cy[cy.country.isin(mapping) & (cy.year == 2021) & (cy.subset == "all")]
    members = members[members.sector == "all"]
    g = cell(grouped, "Greater China", 2021)
    assert g.stock_ci_low <= g.stock <= g.stock_ci_high
    assert g.stock_ci_high < members.stock_ci_high.sum()


def test_group_stock_is_summed_from_the_member_cells(monkeypatch):
    # each grouping's stock replicates are the members' cells added up, and the world totals
    # every country's (integer counts, so the same bits as multiplying the persons' weights)
    from talentflow.indicators import bootstrap as bs

    used: list[bool] = []
    summed_via = bs.PersonSums.summed_via

    def spy(self, source, agg):
        out = summed_via(self, source, agg)
        used.append(out.via is not None)
        return out

    monkeypatch.setattr(bs.PersonSums, "summed_via", spy)
    fast = compute({"person_years": _group_py()}, GROUP_PARAMS)
    assert len(used) == 1 + len(GROUPINGS) and all(used)
    monkeypatch.setattr(bs.PersonSums, "summed_via", lambda self, source, agg: self)
    slow = compute({"person_years": _group_py()}, GROUP_PARAMS)
    for name in ("country_year_groups", "flows_groups", "country_year"):
        pd.testing.assert_frame_equal(fast[name], slow[name])


def test_summed_via_only_when_exact():
    from talentflow.indicators import bootstrap as bs

    source = bs.PersonSums(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 3]), 3, 4)
    agg = bs.incidence(np.array([0, 0, 1]), np.array([0, 1, 2]), 2, 3)
    grouped = bs.PersonSums(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 3]), 2, 4)
    assert grouped.summed_via(source, agg).via is not None
    # fractional values are not added exactly in float32; other totals mean another mapping
    weighted = bs.PersonSums(np.array([0, 0, 0, 1]), np.arange(4), 2, 4, np.full(4, 0.3))
    assert weighted.summed_via(source, agg).via is None
    other = bs.PersonSums(np.array([0, 0, 1, 1]), np.arange(4), 2, 4)
    assert other.summed_via(source, agg).via is None


def test_group_suppression():
    params = IndicatorParams(replicates=0, min_cell=4, stages=False, subfields=())
    out = compute({"person_years": _group_py()}, params)
    gc = _groups(out, "greater_china")
    assert not cell(gc, "Greater China", 2021).suppressed  # 4 persons
    row = cell(gc, "Greater China", 2022)  # 1 person: kept, marked, values hidden
    assert row.suppressed and np.isnan(row.stock) and np.isnan(row.stock_ci_low)


def test_groupings_table_and_registry():
    t = groupings_table(("greater_china", "eu27"))
    assert set(t[t.grouping == "greater_china"].country) == {"CN", "HK", "MO", "TW"}
    assert len(set(EU27)) == 27 and "GB" not in EU27
    assert set(t[t.grouping == "eu27"].group_name) == {"EU27"}
    # the shipped M49 table agrees with the country-codes registry
    reg = pd.read_csv(
        REGISTRY / "country-codes" / "country-codes.csv", dtype=str, keep_default_na=False
    )
    reg = reg[reg["Region Name"] != ""].set_index("ISO3166-1-Alpha-2")
    regions, subregions = grouping("m49_region"), grouping("m49_subregion")
    assert set(regions) == set(reg.index)
    assert regions == reg["Region Name"].to_dict()
    assert subregions == reg["Sub-region Name"].to_dict()
    assert regions["NA"] == "Africa"  # Namibia, not a missing value
    with pytest.raises(ValueError, match="unknown grouping"):
        grouping("asean")


# --------------------------------------------------------------------------- API


@pytest.fixture(scope="module")
def group_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("groups") / "store.duckdb"
    con = connect(path)
    con.create_table("person_years", _group_py().astype({"career_stage": "string"}))
    ctx = StageContext(
        con=con,
        previous=None,
        data_dir=None,
        params={"bootstrap": 10, "min_cell": 0, "groupings": "greater_china,eu27"},
    )
    stage.run(ctx)
    con.disconnect()
    return path


def test_api_grouping(group_store):
    with talentflow.open(group_store) as tf:
        assert set(tf.groupings().grouping) == {"greater_china", "eu27"}
        cy = tf.country_year(year=2021, grouping="greater_china")
        # no members; DE is there for c's outflow to FR
        assert set(cy.country) == {"Greater China", "US", "FR", "DE"}
        assert cy.set_index("country").loc["Greater China", "stock"] == 4
        assert cy.set_index("country").is_group.to_dict() == {
            "Greater China": True,
            "US": False,
            "FR": False,
            "DE": False,
        }
        one = tf.country_year("Greater China", grouping="greater_china")
        assert sorted(one.year) == [2020, 2021, 2022]
        flows = tf.flows(grouping="greater_china", year=2021)
        # a's CN -> HK is inside the group; DE -> FR touches no member and is kept
        assert set(zip(flows.from_country, flows.to_country, strict=True)) == {
            ("US", "Greater China"),
            ("DE", "FR"),
        }
        eu = tf.flows(from_country="EU27", grouping="eu27")
        assert set(eu.to_country) == {"CN"}
        assert len(tf.country_year("US", 2021)) == 1  # the ungrouped table is untouched
        with pytest.raises(KeyError, match="no grouping"):
            tf.country_year(grouping="m49_region")


def test_stage_drops_stale_group_tables(group_store, tmp_path):
    path = tmp_path / "copy.duckdb"
    path.write_bytes(group_store.read_bytes())
    con = connect(path)
    ctx = StageContext(con=con, previous=None, data_dir=None, params={"groupings": "none"})
    stage.run(ctx)
    assert "country_year_groups" not in con.list_tables()
    assert "country_groups" not in con.list_tables()
    con.disconnect()


def test_groupings_command():
    listing = CliRunner().invoke(app, ["groupings"])
    assert listing.exit_code == 0, listing.output
    assert "m49_subregion" in listing.output and "eu27" in listing.output
    one = CliRunner().invoke(app, ["groupings", "greater_china"])
    assert one.exit_code == 0 and "CN HK MO TW" in one.output
    assert CliRunner().invoke(app, ["groupings", "asean"]).exit_code == 2


def test_bootstrap_shared_and_point_only_matrices():
    from talentflow.indicators import bootstrap as bs

    rng = np.random.default_rng(0)
    cell, pidx = rng.integers(0, 3, 40), rng.integers(0, 20, 40)
    m = bs.PersonSums(cell, pidx, 3, 20)

    def spec(sums, **kw):
        return bs.Spec({"a": sums, "b": sums}, lambda s: {"a": s["a"], "b": s["b"]}, ("a",), **kw)

    shared = bs.run({"x": spec(m), "y": spec(m)}, 20, replicates=30, seed=2)
    alone = bs.run({"x": spec(bs.PersonSums(cell, pidx, 3, 20))}, 20, replicates=30, seed=2)
    np.testing.assert_array_equal(shared["x"].low["a"], alone["x"].low["a"])
    np.testing.assert_array_equal(shared["y"].high["a"], alone["x"].high["a"])
    assert (alone["x"].low["a"] < alone["x"].point["a"]).any()
    # a point-only sum keeps its estimate and gets no interval
    point = bs.run({"x": spec(m, point_only=("b",))}, 20, replicates=30, seed=2)["x"]
    np.testing.assert_array_equal(point.point["b"], np.bincount(cell, minlength=3))
    assert np.isnan(point.low["b"]).all()
    np.testing.assert_array_equal(point.low["a"], alone["x"].low["a"])


def test_person_sums_points_need_no_matrix(monkeypatch):
    from talentflow.indicators import bootstrap as bs

    rng = np.random.default_rng(1)
    cell, pidx = rng.integers(0, 5, 200), rng.integers(0, 30, 200)
    value = rng.random(200)
    sums = bs.PersonSums(cell, pidx, 6, 30, value)
    # the direct sums are the row sums of the matrix the bootstrap multiplies
    matrix = bs.incidence(cell, pidx, 6, 30, value)
    np.testing.assert_allclose(sums.totals(), np.asarray(matrix.sum(axis=1)).ravel())
    assert sums.totals()[5] == 0.0  # a cell nobody is in
    spec = bs.Spec({"v": sums}, lambda s: {"v": s["v"]}, ("v",))
    with_reps = bs.run({"t": spec}, 30, replicates=10, seed=3)["t"]

    def no_matrix(self, dtype=None):
        raise AssertionError("a run without replicates built a matrix")

    monkeypatch.setattr(bs.PersonSums, "matrix", no_matrix)
    without = bs.run({"t": spec}, 30, replicates=0, seed=3)["t"]
    np.testing.assert_array_equal(without.point["v"], with_reps.point["v"])
    assert np.isnan(without.low["v"]).all() and not np.isnan(with_reps.low["v"][:5]).any()


def test_group_intervals_use_the_same_weights():
    # groupings are estimated in their own bootstrap calls; each person must get the same
    # replicate weights there, so a flow into a one-country part of a group (30 movers US -> HK)
    # has the same interval as the flow into the group
    rows = [
        (f"m{i}", y, c, "education", None, [])
        for i in range(30)
        for y, c in ((2020, "US"), (2021, "HK"))
    ]
    params = IndicatorParams(replicates=40, min_cell=0, seed=7, stages=False, subfields=())
    out = compute({"person_years": _py(rows)}, params)
    f, g = out["flows"], out["flows_groups"]
    one = f[(f.from_country == "US") & (f.to_country == "HK") & (f.year == 2021)]
    grp = g[
        (g.grouping == "greater_china")
        & (g.from_country == "US")
        & (g.to_country == "Greater China")
        & (g.year == 2021)
    ]
    cols = ["n", "ci_low", "ci_high"]
    one, grp = one[one.subset == "all"][cols], grp[grp.subset == "all"][cols]
    assert one["n"].tolist() == [30] and one["ci_high"].iloc[0] > one["ci_low"].iloc[0]
    assert one.to_numpy().tolist() == grp.to_numpy().tolist()


def test_consume_frees_inputs_and_changes_nothing(subfield_tables):
    params = IndicatorParams(replicates=10, min_cell=0, groupings=("eu27",))
    kept = compute(dict(subfield_tables), params)
    inputs = dict(subfield_tables)
    consumed = compute(inputs, params, consume=True)
    assert inputs == {}  # every input was taken out once used
    assert kept.keys() == consumed.keys()
    for name in kept:
        pd.testing.assert_frame_equal(kept[name], consumed[name])


def test_panel_row_and_lookup():
    from talentflow.indicators.cells import _lookup, _panel_row
    from talentflow.indicators.panel import build_panel

    py = pd.DataFrame(
        {
            "person_id": ["b", "a", "a", "b"],
            "year": [2019, 2018, 2021, 2020],
            "country": ["FR", "DE", "US", None],
        }
    )
    panel = build_panel(py)
    assert list(panel.persons) == ["a", "b"]
    pidx = np.array([0, 0, 1, 1, 0, 1])
    year = np.array([2018, 2020, 2020, 2019, 2022, 2018])
    row = _panel_row(panel, pidx, year)
    assert row[-2:].tolist() == [-1, -1]  # outside the person's span
    got = panel.years.iloc[row[:4]]
    assert got["pidx"].tolist() == pidx[:4].tolist() and got["year"].tolist() == year[:4].tolist()
    assert got["country"].astype(str).tolist() == ["DE", "DE", "FR", "FR"]  # padded years carry
    # Arrow lookup, and pandas when Arrow cannot type the values alike
    assert _lookup(pd.Series(["b", "x", None, "a"]), panel.persons).tolist() == [1, -1, -1, 0]
    assert _lookup(pd.Series([1, "a"], dtype=object), panel.persons).tolist() == [-1, 0]


def test_person_keys_give_the_same_tables():
    # read_inputs adds each person's rank among the sorted ids (person_key): the panel then
    # works on integers; the tables must equal those computed from the id strings alone
    from talentflow.careers.simulate import simulate_careers
    from talentflow.indicators.compute import IndicatorParams, compute
    from talentflow.indicators.coverage import FixedPanel
    from talentflow.indicators.synthetic import (
        person_years_from_authorships,
        profile_from_person_years,
    )

    a = simulate_careers(300, seed=5).authorships
    py = person_years_from_authorships(a)
    inputs = {
        "person_years": py,
        "person_profile": profile_from_person_years(py),
        "authorships": a[["paper_id", "person_id", "venue", "year"]],
    }
    ids = np.sort(py["person_id"].dropna().unique().astype(object))
    rank = pd.Series(np.arange(len(ids)), index=ids)
    keyed = {
        name: frame.assign(person_key=frame["person_id"].map(rank))
        for name, frame in inputs.items()
    }
    # the stage reads the keys instead of the ids (read_inputs(..., person_ids=False))
    keys_only = {name: frame.drop(columns="person_id") for name, frame in keyed.items()}
    params = IndicatorParams(replicates=5, groupings=("eu27",))
    venue = a["venue"].mode().iloc[0]
    fixed = FixedPanel(tuple(sorted(a.loc[a["venue"] == venue, "year"].unique())[-3:]), (venue,))
    plain, with_keys, only_keys = (
        compute(frames, params, fixed=fixed) for frames in (inputs, keyed, keys_only)
    )
    assert plain.keys() == with_keys.keys() == only_keys.keys()
    assert "country_year_panel" in plain
    for name in plain:
        pd.testing.assert_frame_equal(plain[name], with_keys[name], obj=name)
        pd.testing.assert_frame_equal(plain[name], only_keys[name], obj=name)
    assert with_keys["origin_work"]["n"].sum() > 0 and with_keys["retention"]["at_risk"].sum() > 0


def test_origin_work_cells_from_codes_equal_key_index_cells():
    from talentflow.indicators import bootstrap as bs
    from talentflow.indicators.flows import _coded_cells

    rng = np.random.default_rng(2)
    n = 500
    # categories in an order that is not sorted (a union of populations) and sorted ones
    pops = pd.Categorical.from_codes(
        rng.integers(0, 4, n), categories=["nips2023", "all2022", "icml2021", "zz"]
    )
    origin = pd.Categorical(rng.choice(["US", "??", "FR", "CN"], n))
    work = pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["GB", "DE", "US"])
    subset = rng.integers(0, 2, n).astype(np.int8)
    frame = pd.DataFrame(
        {
            "population": pops,
            "subset": pd.Categorical.from_codes(subset, categories=["all", "llm"]),
            "origin_country": origin,
            "work_country": work,
        }
    )
    keys = list(frame.columns)
    expected, expected_codes = bs.cells(frame, keys)
    got, codes = _coded_cells(
        [
            (pops.codes, pops.categories),
            (subset, pd.Index(["all", "llm"])),
            (origin.codes, origin.categories),
            (work.codes, work.categories),
        ],
        keys,
    )
    pd.testing.assert_frame_equal(got, expected)
    assert (codes == expected_codes).all()


def test_overlapped_estimates_give_the_tables_of_sequential_ones():
    """Bootstrap sums in a worker thread (while the next tables' cells are made) and in
    several threads per set give the same tables, in the same order, as one thread."""
    from talentflow.careers.simulate import simulate_careers
    from talentflow.indicators.coverage import FixedPanel
    from talentflow.indicators.synthetic import (
        person_years_from_authorships,
        profile_from_person_years,
    )

    a = simulate_careers(400, seed=3).authorships
    py = person_years_from_authorships(a)
    papers = a.drop_duplicates("paper_id")[["paper_id", "venue", "year"]].assign(
        title="A study of large language models"
    )
    venue = a["venue"].mode().iloc[0]
    years = tuple(sorted(a.loc[a["venue"] == venue, "year"].unique())[-3:])
    tables = {
        "person_years": py,
        "person_profile": profile_from_person_years(py),
        "authorships": a[["paper_id", "person_id", "venue", "year"]],
        "papers": papers,
    }
    params = IndicatorParams(replicates=30, min_cell=0, groupings=("eu27", "m49_region"))
    fixed = FixedPanel(years, (venue,))
    seq = compute(dict(tables), params, fixed=fixed, overlap=False)
    both = compute(dict(tables), params, fixed=fixed, overlap=True)
    assert list(seq) == list(both)
    assert {"country_year_panel", "flows_groups", "origin_work"} <= set(seq)
    for name in seq:
        pd.testing.assert_frame_equal(seq[name], both[name])
    assert seq["country_year"]["stock_ci_high"].notna().any()
