"""The padded panel on the engine (``indicators.panel_engine``) equals ``panel.build_panel``'s
frames, on DuckDB and Spark, on small worlds built in code: movers, gaps, unknown countries
and sectors, secondary countries, students, returns, duplicate person-years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentflow.indicators import panel_engine as pe
from talentflow.indicators.cells import _authorships
from talentflow.indicators.compute import _person_subsets, paper_flags
from talentflow.indicators.panel import build_panel, regroup
from talentflow.indicators.stage import _READ
from talentflow.indicators.subfields import classify
from talentflow.indicators.synthetic import worked_example

WORLD = pd.DataFrame(
    [
        # a mover who returns, with a gap, a secondary country and a student stage
        ("p1", 2010, "US", "education", "student", ["GB", "US", None, "GB"], True),
        ("p1", 2012, "GB", "company", "postdoc", None, True),
        ("p1", 2013, None, None, None, ["FR"], True),
        ("p1", 2015, "US", "facility", "faculty", [], True),
        # unknown first years: the next known country is carried back
        ("p2", 2011, None, "education", None, None, True),
        ("p2", 2012, None, None, "student", None, True),
        ("p2", 2013, "CN", None, None, ["HK"], True),
        ("p2", 2014, "HK", "company", None, None, True),
        # never a known country: left out
        ("p3", 2010, None, "education", None, None, True),
        # two rows for one person-year: the observed one wins, then the first country
        ("p4", 2010, "DE", "weird-sector", None, None, False),
        ("p4", 2010, "FR", "education", None, None, True),
        ("p4", 2010, "AT", "company", None, None, True),
        ("p4", 2011, "DE", "education", None, None, True),
        # a sector change without a move, and a one-year career
        ("p5", 2016, "JP", "education", "student", None, True),
        ("p5", 2017, "JP", "company", "industry", None, True),
        ("p6", 2018, "BR", None, None, None, None),
    ],
    columns=_READ["person_years"],
)
MAPPING = {"CN": "Greater China", "HK": "Greater China", "GB": "Europe", "FR": "Europe"}


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
        elif frame[col].dtype.kind in "iu":
            frame[col] = frame[col].astype(np.int64)
        elif frame[col].dtype.kind == "b":
            frame[col] = frame[col].astype(bool)
    keys = [c for c in frame.columns if c != "weight"]
    return frame.sort_values(keys).reset_index(drop=True)


def _driver_frames(panel, names=("years", "frac", "moves", "sector_moves")) -> dict:
    out = {}
    for name in names:
        frame = getattr(panel, name)
        keyed = frame.assign(person_key=panel.keys[frame["pidx"].to_numpy()])
        cols = ["person_key", *[c for c in frame.columns if c != "pidx"]]
        out[name] = _canonical(keyed[cols])
    return out


def _engine_frames(ep: pe.EnginePanel) -> dict:
    out = {}
    for name in ("years", "frac", "moves", "sector_moves"):
        out[name] = _canonical(getattr(ep, name).to_pyarrow().to_pandas())
    return out


def _keyed(py: pd.DataFrame) -> pd.DataFrame:
    ids = np.sort(py["person_id"].dropna().unique())
    return py.assign(person_key=np.searchsorted(ids, py["person_id"]))


def _compare(left: dict, right: dict) -> None:
    for name, a in left.items():
        b = right[name]
        assert sorted(a.columns) == sorted(b.columns), name
        b = _canonical(b[list(a.columns)])
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)


@pytest.mark.parametrize("world", ["built", "worked_example"])
def test_engine_panel_equals_the_driver_panel(engine, world):
    py = WORLD if world == "built" else worked_example()["person_years"]
    con = engine.con
    table = con.create_table("person_years", py)
    keys = pe.person_keys(table)
    ep = pe.materialise(engine, table, keys)
    try:
        driver = build_panel(_keyed(py))
        left = _driver_frames(driver)
        _compare(left, _engine_frames(ep))
        # the built world has what the comparison must cover
        if world == "built":
            assert left["moves"]["is_return"].any() and (~left["moves"]["is_return"]).any()
            assert (left["frac"]["weight"] < 1).any()
            assert len(left["sector_moves"]) and left["years"]["student"].any()
            assert "p3" not in set(driver.persons)
        # regrouped: moves inside a group vanish
        gp = pe.regrouped(engine, ep, MAPPING, "test")
        gleft = _driver_frames(regroup(driver, MAPPING), ("years", "moves", "sector_moves"))
        gright = {
            n: _canonical(getattr(gp, n).to_pyarrow().to_pandas())
            for n in ("years", "moves", "sector_moves")
        }
        _compare(gleft, gright)
    finally:
        pe.drop(engine)
    assert not [t for t in con.list_tables() if t.startswith("_ind_")]


def test_engine_subsets_equal_the_driver_subsets(engine):
    tables = worked_example()
    papers = tables["papers"].assign(
        decision=["accept", "rejected"], tier=["top", None], keywords=["", ""], abstract=["", ""]
    )
    extra = pd.DataFrame(
        {"paper_id": ["p3"], "person_id": ["b"], "venue": ["iclr"], "year": [2011]}
    )
    auth = pd.concat([tables["authorships"], extra], ignore_index=True)
    py = tables["person_years"]
    con = engine.con
    table = con.create_table("person_years", py)
    tags = classify(papers, llm_era_start=2012)
    keys = pe.person_keys(table)
    ep = pe.materialise(engine, table, keys)
    try:
        subsets = (
            pe.person_subsets(
                ep,
                con.create_table("authorships", auth),
                keys,
                con.create_table("papers", papers),
                con.create_table("tags", tags[["paper_id", "subfield", "is_llm_era"]]),
                ("rl", "vision", "other_ml"),
            )
            .to_pyarrow()
            .to_pandas()
        )
    finally:
        pe.drop(engine)
    panel = build_panel(_keyed(py))
    a = _authorships(_keyed(auth), panel, tags, paper_flags(papers))
    want = _person_subsets(a, panel.n_persons, ("rl", "vision", "other_ml"))
    expected = sorted(
        (int(panel.keys[i]), name) for name, m in want.items() for i in np.flatnonzero(m)
    )
    got = sorted(zip(subsets["person_key"].astype(int), subsets["subset"], strict=True))
    assert got == expected
    # the top paper's authors and the llm era paper's (a, c), p3's author b (unclassified title)
    assert {s for _, s in got} >= {"all", "llm", "top"}


def test_indicators_on_the_engine_give_the_driver_tables(engine):
    """Parity: with ``indicators_on=engine`` (panel, contributions, point estimates and
    replicates of country_year, flows, the grouped and the fixed-panel tables on the engine)
    every table equals the driver path's: same seed, same intervals (to float32)."""
    from talentflow.engines import connect
    from tests.test_indicators_stage import _run_on, _stage_tables

    driver = connect()
    _run_on(driver)
    _run_on(engine.con, indicators_on="engine")
    a, b = _stage_tables(driver), _stage_tables(engine.con)
    assert set(a) == set(b) and {"country_year_groups", "flows_groups"} <= set(a)
    assert (
        len(a["country_year"])
        and len(a["flows"])
        and a["country_year"]["stock_ci_high"].notna().any()
    )
    assert not [t for t in engine.con.list_tables() if t.startswith("_ind_")]
    for name in a:
        pd.testing.assert_frame_equal(
            a[name], b[name], check_dtype=False, check_exact=False, rtol=1e-6, obj=name
        )


def _simulated_world(con) -> None:
    """300 simulated careers (movers, students, secondary countries) with decisions, top
    tiers and titles of several subfields: every table, the fixed panel included, has rows."""
    from talentflow.careers.simulate import simulate_careers
    from talentflow.indicators.synthetic import (
        person_years_from_authorships,
        profile_from_person_years,
    )

    a = simulate_careers(300, seed=3).authorships
    py = person_years_from_authorships(a)
    papers = a.drop_duplicates("paper_id")[["paper_id", "venue", "year"]].reset_index(drop=True)
    titles = ["Large language models", "Robot grasping", "Image segmentation", "Bandits", "X"]
    papers["title"] = [titles[i % len(titles)] for i in range(len(papers))]
    papers["keywords"] = ""
    papers["abstract"] = ""
    papers["decision"] = ["rejected" if i % 7 == 0 else "accept" for i in range(len(papers))]
    papers["tier"] = ["top" if i % 5 == 0 else None for i in range(len(papers))]
    con.create_table("person_years", py)
    con.create_table("person_profile", profile_from_person_years(py))
    con.create_table("authorships", a[["paper_id", "person_id", "venue", "year"]])
    con.create_table("papers", papers)


def test_indicators_on_the_engine_on_simulated_careers(engine):
    """The parity of every table on a world where the fixed panel, the stages, the subsets
    and the groupings all have cells."""
    from talentflow.context import StageContext
    from talentflow.engines import connect
    from talentflow.indicators import stage
    from tests.test_indicators_stage import _stage_tables

    params = {"bootstrap": 30, "min_cell": 3, "llm_era_start": 2012}
    driver = connect()
    for con, mode in ((driver, "driver"), (engine.con, "engine")):
        _simulated_world(con)
        ctx = StageContext(
            con=con, previous=None, data_dir=None, params=params | {"indicators_on": mode}
        )
        stage.run(ctx)
    a, b = _stage_tables(driver), _stage_tables(engine.con)
    assert set(a) == set(b)
    for name in ("country_year_panel", "flows_panel", "flows_groups"):
        assert len(a[name]) > 10, name
    cy = a["country_year"]
    assert {"llm", "top", "stage:student", "rl"} <= set(cy["subset"])
    assert cy["stock_frac"].ne(cy["stock"]).any()
    for name in a:
        pd.testing.assert_frame_equal(
            a[name], b[name], check_dtype=False, check_exact=False, rtol=1e-6, obj=name
        )


def test_indicators_on_the_engine_read_nothing_per_person_to_the_driver(monkeypatch):
    """With ``indicators_on=engine`` the stage reads only the papers' text to the driver and
    never builds the driver's panel."""
    from talentflow.context import StageContext
    from talentflow.engines import connect
    from talentflow.indicators import compute as compute_module
    from talentflow.indicators import stage

    read: list[object] = []
    real_read = stage.read_inputs

    def recording_read(con, names=None, **kwargs):
        read.append(names)
        return real_read(con, names, **kwargs)

    def no_panel(*args, **kwargs):
        raise AssertionError("the driver's panel was built")

    monkeypatch.setattr(stage, "read_inputs", recording_read)
    monkeypatch.setattr(compute_module, "build_panel", no_panel)
    con = connect()
    _simulated_world(con)
    params = {"bootstrap": 5, "min_cell": 3, "indicators_on": "engine"}
    stage.run(StageContext(con=con, previous=None, data_dir=None, params=params))
    assert read == [("papers",)]
    assert con.table("retention").count().execute() > 0
    assert con.table("country_year").count().execute() > 0
