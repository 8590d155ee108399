"""Populations of accepted papers, the top tier, coverage completeness and the fixed venue panel.

Small inputs built in code. The population fixture (venue ``conf``, years 2020-2022):

    a: CN 2020-2022, authors p1 (2020, accepted, top-tier, an LLM title) and p3 (2021, rejected)
    b: US 2020-2022, authors p2 (2020, rejected) and p4 (2021, withdrawn)
    c: CN 2020, US 2021-2022 (moves), authors p5 (2021, unknown decision) and p6 (2022, top)
    d: GB 2021, author of p4 only (withdrawn): a career, but in no population under `accepted`
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.indicators import stage
from talentflow.indicators.compute import IndicatorParams, compute, paper_flags
from talentflow.indicators.coverage import (
    FixedPanel,
    completeness,
    coverage_table,
    fixed_panel,
    population_years,
    year_flags,
)

PARAMS = {"replicates": 0, "min_cell": 0, "groupings": (), "stages": False, "llm_era_start": 2019}


def _py(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "year", "country"]).assign(sector="education")


@pytest.fixture()
def population_tables() -> dict[str, pd.DataFrame]:
    py = _py(
        [
            ("a", 2020, "CN"),
            ("a", 2021, "CN"),
            ("a", 2022, "CN"),
            ("b", 2020, "US"),
            ("b", 2021, "US"),
            ("b", 2022, "US"),
            ("c", 2020, "CN"),
            ("c", 2021, "US"),
            ("c", 2022, "US"),
            ("d", 2021, "GB"),
        ]
    )
    papers = pd.DataFrame(
        {
            "paper_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "title": ["Large language models", "x", "y", "z", "w", "v"],
            "venue": ["conf"] * 6,
            "year": [2020, 2020, 2021, 2021, 2021, 2022],
            "decision": ["accepted", "rejected", "rejected", "withdrawn", "unknown", "accepted"],
            "tier": ["top", None, None, None, None, "top"],
        }
    )
    auth = pd.DataFrame(
        {
            "paper_id": ["p1", "p2", "p3", "p4", "p4", "p5", "p6"],
            "person_id": ["a", "b", "a", "b", "d", "c", "c"],
        }
    )
    auth = auth.merge(papers[["paper_id", "venue", "year"]], on="paper_id")
    return {"person_years": py, "papers": papers, "authorships": auth}


def _margin(ow: pd.DataFrame, population: str, subset: str = "all") -> dict[str, float]:
    sel = ow[
        (ow.population == population)
        & (ow.subset == subset)
        & (ow.origin_basis == "first_observed")
        & (ow.origin_country == "ALL")
    ]
    return sel.set_index("work_country")["n"].to_dict()


def test_population_counts_accepted_papers_only(population_tables):
    out = compute(population_tables, IndicatorParams(**PARAMS))
    ow = out["origin_work"]
    # 2020: a (p1 accepted); b's only paper is rejected
    assert _margin(ow, "conf2020") == {"CN": 1}
    # 2021: c (p5, unknown decision: admitted); a's p3 rejected, b and d's p4 withdrawn
    assert _margin(ow, "conf2021") == {"US": 1}
    # the careers still count everyone: d (withdrawn only) is in the GB stock of 2021
    cy = out["country_year"]
    gb = cy[(cy.country == "GB") & (cy.subset == "all") & (cy.sector == "all")]
    assert gb.set_index("year")["stock"].to_dict() == {2021: 1}
    assert cy[(cy.country == "US") & (cy.year == 2020) & (cy.subset == "all")].stock.iloc[0] == 1


def test_population_rule_all_counts_submissions(population_tables):
    out = compute(population_tables, IndicatorParams(**PARAMS, population_papers="all"))
    ow = out["origin_work"]
    assert _margin(ow, "conf2020") == {"CN": 1, "US": 1}  # a and b
    assert _margin(ow, "conf2021") == {"CN": 1, "US": 2, "GB": 1}  # a; b, c; d


def test_population_rule_is_validated():
    with pytest.raises(ValueError, match="population_papers"):
        IndicatorParams(population_papers="maybe")
    assert IndicatorParams.from_mapping({"population-papers": "all"}).population_papers == "all"


def test_paper_flags_without_decision_columns():
    papers = pd.DataFrame({"paper_id": ["x", "y"], "venue": ["v", "v"], "year": [2020, 2020]})
    flags = paper_flags(papers)
    assert flags["in_population"].tolist() == [True, True]  # every decision unknown
    assert flags["is_top"].tolist() == [False, False]


def test_top_subset_everywhere(population_tables):
    out = compute(population_tables, IndicatorParams(**PARAMS))
    cy = out["country_year"]
    top = cy[(cy.subset == "top") & (cy.sector == "all")]
    # top = a (p1) and c (p6): whole careers, as every person subset
    stock = top.groupby("year")["stock"].sum().to_dict()
    assert stock == {2020: 2, 2021: 2, 2022: 2}
    f = out["flows"]
    assert set(f[(f.subset == "top") & f.year.notna()].from_country) == {"CN"}  # c's move
    assert "top" in set(out["retention"].subset)
    ow = out["origin_work"]
    assert _margin(ow, "conf2020", "top") == {"CN": 1}  # a's p1
    assert _margin(ow, "conf2022", "top") == {"US": 1}  # c's p6
    assert _margin(ow, "conf2021", "top") == {}  # no top-tier paper in 2021


def test_llm_subset_needs_an_admitted_paper(population_tables):
    tables = dict(population_tables)
    papers = tables["papers"].copy()
    papers.loc[papers.paper_id == "p3", "title"] = "Instruction tuning of large language models"
    tables["papers"] = papers
    out = compute(tables, IndicatorParams(**{**PARAMS, "llm_era_start": 2020}))
    llm = out["country_year"][out["country_year"].subset == "llm"]
    # a has p1 (accepted, LLM); p3 (rejected) would add no one
    assert set(llm.country) == {"CN"}
    out2 = compute(tables, IndicatorParams(**{**PARAMS, "llm_era_start": 2021}))
    # from 2021 on only p3 is an LLM paper of the era, and it was rejected: no llm persons
    assert not (out2["country_year"].subset == "llm").any()


def test_pooled_populations(population_tables):
    out = compute(population_tables, IndicatorParams(**PARAMS, pool_end=2022, pool_years=3))
    ow = out["origin_work"]
    assert {"all2020", "all2021", "all2022", "conf2020-2022"} <= set(ow.population)
    # each person once, at the last year of the pool they authored an admitted paper:
    # a (2020, CN), c (2022, US)
    assert _margin(ow, "conf2020-2022") == {"CN": 1, "US": 1}
    assert _margin(ow, "conf2020-2022", "top") == {"CN": 1, "US": 1}
    assert _margin(ow, "all2021") == _margin(ow, "conf2021")
    off = compute(population_tables, IndicatorParams(**PARAMS, pools=False))
    assert not off["origin_work"].population.str.startswith("all").any()


def test_origin_shares_condition_on_a_known_origin():
    # persons x, y trained (first observed) in CN; x works in the US in 2021. z: unknown origin
    py = _py([("x", 2020, "CN"), ("x", 2021, "US"), ("y", 2021, "CN"), ("z", 2021, "US")])
    profile = pd.DataFrame(
        {
            "person_id": ["x", "y", "z"],
            "first_country": ["CN", "CN", "US"],
            "training_country": ["CN", "CN", None],
        }
    )
    auth = pd.DataFrame(
        {"paper_id": ["p", "p", "p"], "person_id": ["x", "y", "z"], "venue": "v", "year": 2021}
    )
    tables = {"person_years": py, "person_profile": profile, "authorships": auth}
    out = compute(tables, IndicatorParams(**PARAMS, pools=False))
    ow = out["origin_work"]
    tr = ow[(ow.population == "v2021") & (ow.subset == "all") & (ow.origin_basis == "training")]
    cn_us = tr[(tr.origin_country == "CN") & (tr.work_country == "US")].iloc[0]
    assert cn_us["share"] == pytest.approx(1 / 3)  # of the population
    assert cn_us["origin_share"] == pytest.approx(1 / 2)  # of those trained in CN
    # one of three persons has no training country, stated beside the shares
    assert tr["unknown_origin_share"].dropna().unique().tolist() == [pytest.approx(1 / 3)]
    margin = tr[tr.origin_country == "ALL"]
    assert np.allclose(margin["origin_share"], margin["share"])


# --------------------------------------------------------------------------- completeness


def _counts(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["venue", "year", "population_papers"])
    for col in ("papers", "accepted_papers", "top_papers", "authorships"):
        df[col] = df["population_papers"]
    for col in (
        "rejected_papers",
        "withdrawn_papers",
        "unknown_decision_papers",
        "authorships_with_country",
    ):
        df[col] = 0
    return df.assign(with_decision=True)


def test_completeness_rule():
    counts = _counts(
        [
            ("big", 2021, 1000),
            ("small", 2021, 100),
            ("big", 2022, 1100),
            ("small", 2022, 100),
            ("new", 2022, 50),
            ("big", 2023, 1200),
            ("small", 2023, 120),
            ("small", 2024, 130),  # the big venue is missing: like 2025 in the real corpus
        ]
    )
    c = completeness(counts).set_index("year")
    assert c.loc[2024, "overlap_prev"] == pytest.approx(120 / 1320)
    assert np.isnan(c.loc[2024, "overlap_next"])
    assert c.loc[2024, "overlap"] == pytest.approx(120 / 1320)  # one neighbour only
    assert c["complete"].to_dict() == {2021: True, 2022: True, 2023: True, 2024: False}
    # 2022's new venue holds 50 / 1250 of 2022: 2021 and 2023 still cover 96% of it
    assert c.loc[2023, "overlap_prev"] == pytest.approx(1200 / 1250)
    # the neighbours together: 2022 (1200 of 1250 covered) and 2024 (130 of 130)
    assert c.loc[2023, "overlap"] == pytest.approx((1200 + 130) / (1250 + 130))
    # the threshold decides: demand 97% and 2021/2023 fall short of 2022's new venue
    strict = completeness(counts, threshold=0.97).set_index("year")["complete"]
    assert not strict[2021] and not strict[2023] and strict[2022]


def test_a_gap_year_is_incomplete_on_both_sides():
    counts = _counts(
        [("a", 2019, 500), ("b", 2019, 500), ("a", 2020, 500), ("a", 2021, 500), ("b", 2021, 600)]
    )
    c = completeness(counts).set_index("year")
    # 2020 lacks venue b: it covers 500 + 500 of the neighbours' 1000 + 1100 papers
    assert c.loc[2020, "overlap"] == pytest.approx(1000 / 2100)
    # 2019 and 2021 cover every venue of 2020, though 2020 lacks one of theirs
    assert c["complete"].to_dict() == {2019: True, 2020: False, 2021: True}
    # a lone year has no neighbour to differ from
    assert completeness(_counts([("a", 2000, 3)]))["complete"].tolist() == [True]


def test_fixed_panel_and_coverage_table():
    counts = _counts(
        [
            ("a", 2020, 10),
            ("a", 2021, 10),
            ("b", 2021, 10),
            ("a", 2022, 10),
            ("b", 2022, 10),
            ("a", 2023, 20),
            ("b", 2023, 10),
            ("b", 2024, 1),
        ]
    )
    c = completeness(counts)
    assert c.set_index("year")["complete"].to_dict() == {
        2020: True,  # covers a: exactly half of 2021 (the threshold is inclusive)
        2021: True,
        2022: True,
        2023: True,  # covers all of 2024's venues
        2024: False,  # covers b: a third of 2023
    }
    fp = fixed_panel(counts, c, panel_years=3)
    assert fp == FixedPanel((2021, 2022, 2023), ("a", "b"))
    fp4 = fixed_panel(counts, c, panel_years=4)
    assert fp4.years == (2020, 2021, 2022, 2023) and fp4.venues == ("a",)
    cov = coverage_table(counts, c, None, fp)
    alls = cov[cov.venue == "all"].set_index("year")
    assert alls.loc[2021, "papers"] == 20 and alls.loc[2021, "n_venues"] == 2
    assert cov[(cov.venue == "b") & (cov.year == 2022)].in_fixed_panel.iloc[0]
    assert not cov[(cov.venue == "a") & (cov.year == 2020)].in_fixed_panel.iloc[0]
    assert alls.loc[2021, "share_with_decision"] == 1.0


def test_year_flags_of_populations_and_pooled_rows():
    assert population_years("nips2021-2024") == (2021, 2024)
    assert population_years("all2023") == (2023, 2023)
    ow = pd.DataFrame({"population": ["nips2021", "nips2021-2024", "iclr2023"]})
    assert year_flags(ow, {2021, 2022, 2023}, "population").tolist() == [True, False, True]
    fl = pd.DataFrame({"year": pd.array([2021, None, 2024], dtype="Int64")})
    flags = year_flags(fl, {2021})
    assert flags.iloc[0] and flags.isna().iloc[1] and not flags.iloc[2]


# --------------------------------------------------------------------------- the fixed panel


def test_fixed_panel_series_moves_only_when_people_do():
    """Venue `late` enters in 2023 with three new CN persons: the all-venue stock of CN jumps,
    the fixed-panel stock (venue `core`, present every year) does not; a move of a core
    person shows in both."""
    rows, auth = [], []
    for y in (2021, 2022, 2023):
        rows += [("u", y, "US"), ("v", y, "CN")]
        auth += [(f"c{y}u", "u", "core", y), (f"c{y}v", "v", "core", y)]
    rows += [("w", 2021, "CN"), ("w", 2022, "CN"), ("w", 2023, "US")]  # w moves CN -> US
    auth += [(f"c{y}w", "w", "core", y) for y in (2021, 2022, 2023)]
    for i in range(3):
        rows.append((f"n{i}", 2023, "CN"))
        auth.append((f"l{i}", f"n{i}", "late", 2023))
    py = _py(rows)
    authorships = pd.DataFrame(auth, columns=["paper_id", "person_id", "venue", "year"])
    tables = {"person_years": py, "authorships": authorships}
    fixed = FixedPanel((2021, 2022, 2023), ("core",))
    out = compute(tables, IndicatorParams(**PARAMS), fixed=fixed, complete_years={2021, 2022})
    cy = out["country_year"]
    cn = cy[(cy.country == "CN") & (cy.subset == "all") & (cy.sector == "all")]
    assert cn.set_index("year")["stock"].to_dict() == {2021: 2, 2022: 2, 2023: 4}
    panel = out["country_year_panel"]
    pcn = panel[(panel.country == "CN") & (panel.subset == "all")].set_index("year")
    assert pcn["stock"].to_dict() == {2021: 2, 2022: 2, 2023: 1}  # only w left
    assert pcn.loc[2023, "outflow"] == 1
    assert pcn.loc[2023, "outflow_rate"] == pytest.approx(1000.0)  # 1 of a stock of 1
    assert set(panel["basis"]) == {"fixed_panel"}
    fl = out["flows_panel"]
    assert fl[(fl.from_country == "CN") & (fl.year == 2023) & (fl.subset == "all")].n.iloc[0] == 1
    # completeness flags on the indicator rows
    assert cn.set_index("year")["complete_year"].to_dict() == {2021: True, 2022: True, 2023: False}
    pooled = out["flows"][out["flows"].year.isna()]
    assert pooled["complete_year"].isna().all()


# --------------------------------------------------------------------------- stage and CLI


def _run_stage(con, population_tables) -> None:
    tables = dict(population_tables)
    # one author slot of the seven has no resolved country
    tables["authorships"] = tables["authorships"].assign(
        country=["CN", "US", "CN", "US", None, "US", "US"]
    )
    for name, frame in tables.items():
        con.create_table(name, frame)
    stage.run(StageContext(con=con, previous=None, data_dir=None, params=dict(PARAMS)))


def test_stage_writes_coverage_and_records_decisions(con, population_tables):
    _run_stage(con, population_tables)
    cov = con.table("coverage").to_pyarrow().to_pandas()
    params = con.table("build_params").to_pyarrow().to_pandas()
    row = cov[(cov.venue == "conf") & (cov.year == 2021)].iloc[0]
    assert (row.papers, row.accepted_papers, row.rejected_papers, row.withdrawn_papers) == (
        3,
        0,
        1,
        1,
    )
    assert row.population_papers == 1 and row.unknown_decision_papers == 1
    assert row.share_with_decision == pytest.approx(2 / 3)
    assert set(cov[cov.venue == "all"].year) == {2020, 2021, 2022}
    assert cov[(cov.venue == "all") & (cov.year == 2021)].share_with_country.iloc[0] == 0.75
    recorded = dict(zip(params.name, params.value, strict=False))
    assert '"conf2021": 1' in recorded["venue_years_without_decision"]
    assert recorded["population_papers"] == '"accepted"'


def test_coverage_command_lists_venues(tmp_path, population_tables):
    path = tmp_path / "s.duckdb"
    con = connect(path)
    _run_stage(con, population_tables)
    con.disconnect()
    result = CliRunner().invoke(app, ["coverage", "--db", str(path), "--venues"])
    assert result.exit_code == 0, result.output
    assert "conf" in result.output and "2021" in result.output


def test_coverage_command_without_table(tmp_path):
    path = tmp_path / "e.duckdb"
    con = connect(path)
    con.create_table("papers", pd.DataFrame({"paper_id": ["x"]}))
    con.disconnect()
    result = CliRunner().invoke(app, ["coverage", "--db", str(path)])
    assert result.exit_code == 3
    assert "no coverage table" in result.output
