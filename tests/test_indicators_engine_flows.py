"""retention, returns, origin_work and sector_flows on the engine (indicators/flows_engine.py)
give the driver path's tables: same cells, same point estimates, same intervals (same seed,
same weights; up to float32 rounding of the replicate sums), on DuckDB and on Spark.

The engine reads the padded panel as engine tables (``_ind_panel_*``, ``_ind_subsets``); until
the stage builds them there, the tests build the driver panel and upload its frames, keyed by
``person_key`` (the contract between the two).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentflow.engines import connect, engine_of
from talentflow.indicators import flows_engine as fe
from talentflow.indicators.cells import _authorships
from talentflow.indicators.compute import (
    IndicatorParams,
    _person_subsets,
    compute,
    paper_flags,
)
from talentflow.indicators.panel import build_panel
from talentflow.indicators.stage import to_arrow
from talentflow.indicators.subfields import classify
from talentflow.indicators.synthetic import worked_example

TABLES = ("retention", "returns", "origin_work", "sector_flows")
PARAMS = IndicatorParams(
    replicates=20,
    min_cell=1,
    k_max=4,
    llm_era_start=2012,
    groupings=(),
    stages=False,
    pool_years=3,
)
COUNTRIES = ("US", "CN", "GB", "DE")
TITLES = (
    "Large language models are few-shot learners",
    "Deep reinforcement learning for Atari",
    "Image segmentation with convolutional networks",
    "Robot grasping from pixels",
    "Convergence bounds for stochastic gradient descent",
    "A kernel method",
)


def _worked_world() -> dict[str, pd.DataFrame]:
    """The hand-computed example, plus a rejected paper (its author d is in no population
    under the accepted rule) and a profile giving c a training country."""
    w = worked_example()
    w["papers"] = pd.concat(
        [
            w["papers"].assign(decision=None, tier=["top", None]),
            pd.DataFrame(
                {
                    "paper_id": ["p3"],
                    "title": ["Language models reject"],
                    "venue": ["nips"],
                    "year": [2012],
                    "decision": ["rejected"],
                    "tier": [None],
                }
            ),
        ],
        ignore_index=True,
    )
    w["authorships"] = pd.concat(
        [
            w["authorships"],
            pd.DataFrame(
                {"paper_id": ["p3"], "person_id": ["d"], "venue": ["nips"], "year": [2012]}
            ),
        ],
        ignore_index=True,
    )
    w["person_profile"] = pd.DataFrame(
        {"person_id": ["c"], "first_country": [None], "training_country": ["US"]}
    )
    return w


def _random_world(seed: int, n: int = 80) -> dict[str, pd.DataFrame]:
    """Careers with movers, returners, gaps, unknown countries, students and censoring;
    papers with decisions (rejected and withdrawn among them), top tiers and subfields."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        pid = f"p{i:03d}"
        start = int(rng.integers(2008, 2018))
        country = str(rng.choice(COUNTRIES))
        student_years = int(rng.integers(0, 4))
        for y in range(start, start + int(rng.integers(1, 9))):
            if rng.random() < 0.25:
                country = str(rng.choice(COUNTRIES))  # a move (maybe back home)
            if rng.random() < 0.15:
                continue  # a year without papers: padded
            known = rng.random() > 0.1 and i % 17 != 5  # every 17th person: never known
            sector = rng.choice(["education", "company", "government", None])
            stage = "student" if y < start + student_years else rng.choice([None, "faculty"])
            second = [str(rng.choice(COUNTRIES))] if rng.random() < 0.1 else []
            rows.append((pid, y, country if known else None, sector, stage, second))
    person_years = pd.DataFrame(
        rows,
        columns=["person_id", "year", "country", "sector", "career_stage", "secondary_countries"],
    )
    ids = sorted(set(person_years["person_id"]))
    prof = rng.choice(ids, size=len(ids) // 3, replace=False)
    profile = pd.DataFrame(
        {
            "person_id": prof,
            "first_country": [
                str(rng.choice(COUNTRIES)) if rng.random() < 0.3 else None for _ in prof
            ],
            "training_country": [
                str(rng.choice(COUNTRIES)) if rng.random() < 0.6 else None for _ in prof
            ],
        }
    )
    papers, authorships = [], []
    for j in range(120):
        venue = str(rng.choice(["nips", "iclr", "icml"]))
        year = int(rng.integers(2011, 2021))
        decision = rng.choice(["accepted", "rejected", "withdrawn", None], p=[0.5, 0.2, 0.1, 0.2])
        tier = "top" if rng.random() < 0.2 else None
        papers.append((f"w{j}", str(rng.choice(TITLES)), venue, year, decision, tier))
        for pid in rng.choice([*ids, "ghost"], size=int(rng.integers(1, 5)), replace=False):
            authorships.append((f"w{j}", pid, venue, year))
    return {
        "person_years": person_years,
        "person_profile": profile,
        "papers": pd.DataFrame(
            papers, columns=["paper_id", "title", "venue", "year", "decision", "tier"]
        ),
        "authorships": pd.DataFrame(
            authorships, columns=["paper_id", "person_id", "venue", "year"]
        ),
    }


def _load(con, world: dict[str, pd.DataFrame], params: IndicatorParams) -> None:
    """The inputs and the contract tables (from the driver's panel) on ``con``."""
    py = world["person_years"]
    con.create_table("person_years", py[["person_id", "year", "country"]])
    for name in ("person_profile", "papers", "authorships"):
        con.create_table(name, to_arrow(world[name]))  # all-NULL columns typed as strings
    panel = build_panel(py)
    subfields = classify(world["papers"], llm_era_start=params.llm_era_start)
    con.create_table("paper_subfields", subfields[["paper_id", "subfield", "is_llm_era"]])
    flags = paper_flags(world["papers"], params.population_papers)
    auth = _authorships(world["authorships"], panel, subfields, flags)
    subsets = _person_subsets(auth, panel.n_persons, params.subfields)
    fe.load_driver_panel(con, panel, subsets)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    keys = [c for c in out.columns if out[c].dtype == object or out[c].dtype == bool]
    keys += [c for c in ("year", "cohort_year", "k") if c in out.columns]
    return out.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def _check_same(driver: dict[str, pd.DataFrame], engine: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        a, b = _canonical(driver[name]), _canonical(engine[name])
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b) > 0, name
        pd.testing.assert_frame_equal(
            a, b, check_dtype=False, check_exact=False, rtol=1e-5, atol=1e-6, obj=name
        )


def _both(engine, world: dict[str, pd.DataFrame], params: IndicatorParams = PARAMS):
    driver = compute({k: v.copy() for k, v in world.items()}, params)
    _load(engine.con, world, params)
    builders = fe.flow_tables(engine, params)
    return driver, fe.estimate(engine, builders, params)


def test_worked_example_on_the_engine_equals_the_driver(engine):
    driver, out = _both(engine, _worked_world())
    _check_same(driver, out)
    # the hand-computed figures of docs/indicators.md
    ret = out["retention"]
    us = ret[(ret.country == "US") & ret.cohort_year.isna() & (ret.subset == "all")]
    first = us[us.basis == "first_observed"].sort_values("k")
    assert first.retained_share.tolist() == [1.0, 1.0, 0.5]
    back = out["returns"].set_index(["country", "subset", "k"])["return_share"]
    assert back["GB", "all", 1] == 1.0 and back["US", "all", 1] == 0.0
    ow = out["origin_work"]
    # d's only other paper is rejected: nips2012 is no population under the accepted rule
    assert "nips2012" not in set(ow.population) and "nips2013" in set(ow.population)
    nips = ow[(ow.population == "nips2013") & (ow.subset == "all") & (ow.origin_country == "ALL")]
    assert sorted(nips[nips.origin_basis == "first_observed"].share) == pytest.approx([1 / 3] * 3)
    # c's training country (profile) is known, a's from the panel, d's unknown
    tr = ow[(ow.population == "nips2013") & (ow.subset == "all") & (ow.origin_basis == "training")]
    assert tr.unknown_origin_share.iloc[0] == pytest.approx(1 / 3)
    # no intermediate of the engine path is left behind
    assert not [t for t in engine.con.list_tables() if t.startswith(("_ind_fe_", "_ind_contrib"))]


def test_random_world_on_the_engine_equals_the_driver(engine):
    world = _random_world(7)
    driver, out = _both(engine, world)
    _check_same(driver, out)
    # the world exercises what the tables must get right
    ret, back = out["retention"], out["returns"]
    assert set(ret.basis) == {"first_observed", "training"}
    assert (ret.retained_share < 1).any() and (ret.retained_share == 1).any()
    assert (back.return_share > 0).any()
    assert ret.cohort_year.isna().any() and ret.cohort_year.notna().any()
    ow = out["origin_work"]
    assert {"llm", "top", "vision", "rl"} <= set(ow.subset)
    assert any(p.startswith("all") for p in ow.population)
    assert any("-" in p for p in ow.population)  # a pooled venue
    assert out["sector_flows"].domestic.nunique() == 2
    # the intervals are real intervals, not copies of the estimate
    assert (ret.ci_low < ret.ci_high).any() and (ow.ci_low < ow.ci_high).any()


def test_population_rule_all_counts_rejected_papers(engine):
    params = IndicatorParams(**{**PARAMS.__dict__, "population_papers": "all", "pools": False})
    world = _random_world(11, n=50)
    driver, out = _both(engine, world, params)
    _check_same(driver, out)
    rule = IndicatorParams(**{**params.__dict__, "population_papers": "accepted"})
    accepted = compute({k: v.copy() for k, v in world.items()}, rule)["origin_work"]

    # submissions widen some populations
    def size(frame):
        m = frame[(frame.subset == "all") & (frame.origin_country == "ALL")]
        return m.groupby("population")["n"].sum()

    wide, narrow = size(out["origin_work"]), size(accepted)
    assert set(narrow.index) <= set(wide.index)
    assert (wide.reindex(narrow.index) >= narrow).all() and (wide.sum() > narrow.sum())


def test_another_seed_gives_other_intervals():
    """The seed reaches the engine's weights (DuckDB; the same code on Spark)."""
    engine = engine_of(connect())
    world = _random_world(3, n=50)
    _load(engine.con, world, PARAMS)
    a = fe.estimate(engine, fe.flow_tables(engine, PARAMS), PARAMS)
    other = IndicatorParams(**{**PARAMS.__dict__, "seed": PARAMS.seed + 1})
    b = fe.estimate(engine, fe.flow_tables(engine, other), other)
    for name in TABLES:
        x, y = _canonical(a[name]), _canonical(b[name])
        point = [c for c in x.columns if c in ("n", "at_risk", "retained_share", "return_share")]
        pd.testing.assert_frame_equal(x[point], y[point])
        assert not np.allclose(x["ci_high"], y["ci_high"], equal_nan=True), name


def test_a_store_without_profile_or_papers():
    """Without ``person_profile``, ``papers`` and ``paper_subfields`` every origin comes from
    the panel and every authorship counts (DuckDB), as on the driver."""
    engine = engine_of(connect())
    world = _worked_world()
    del world["person_profile"], world["papers"]
    driver = compute({k: v.copy() for k, v in world.items()}, PARAMS)
    con = engine.con
    con.create_table("person_years", world["person_years"][["person_id", "year", "country"]])
    con.create_table("authorships", world["authorships"])
    panel = build_panel(world["person_years"])
    no_tags = pd.DataFrame({"paper_id": [], "subfield": [], "is_llm_era": []})
    auth = _authorships(world["authorships"], panel, no_tags.astype({"is_llm_era": bool}), None)
    fe.load_driver_panel(con, panel, _person_subsets(auth, panel.n_persons, PARAMS.subfields))
    out = fe.estimate(engine, fe.flow_tables(engine, PARAMS), PARAMS)
    _check_same(driver, out)
    # the rejected submission counts when no decision is known
    assert "nips2012" in set(out["origin_work"].population)
