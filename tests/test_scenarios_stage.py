"""The scenarios build stage, partly covered final years, and the fit's end-of-data rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.pipeline import STAGES
from talentflow.scenarios import backtest, fit_model, load_panel, stage
from talentflow.scenarios.frames import panel_from_frames, partial_final_years
from talentflow.scenarios.synthetic import synthetic_careers


@pytest.fixture(scope="module")
def frames():
    return synthetic_careers(1500, seed=3)


def _store(con, py: pd.DataFrame, ev: pd.DataFrame):
    con.create_table("person_years", py)
    con.create_table("events", ev)
    return con


def test_stage_is_registered_after_indicators():
    names = [n for n, _ in STAGES]
    assert dict(STAGES)["scenarios"] == "talentflow.scenarios.stage"
    assert names.index("scenarios") > names.index("careers")
    if "indicators" in names:
        assert names.index("scenarios") == names.index("indicators") + 1


def test_partial_final_years():
    counts = pd.Series({2020: 100, 2021: 120, 2022: 130, 2023: 50, 2024: 10})
    assert partial_final_years(counts) == [2024, 2023]
    assert partial_final_years(counts.iloc[:3]) == []
    # half is the threshold: 65 of 130 is kept
    assert partial_final_years(pd.Series({2022: 130, 2023: 65})) == []


def test_stage_writes_model_and_baseline_and_drops_a_partial_year(con, frames):
    py, ev = frames
    last = int(py["year"].max())
    # Keep only a tenth of the last year's person-years: a year still being published.
    tail = py[py["year"] == last]
    thin = pd.concat([py[py["year"] < last], tail.iloc[: len(tail) // 10]], ignore_index=True)
    _store(con, thin, ev)
    stage.run(StageContext(con=con, previous=None, data_dir=None, params={"draws": 50}))
    params = con.table("build_params").to_pandas()
    got = {r.name: json.loads(r.value) for r in params.itertuples() if r.stage == "scenarios"}
    assert got["T"] == last - 1
    assert got["dropped_partial_years"] == [last]
    base = con.table("scenario_baseline").to_pandas()
    assert set(base["year"]) == set(range(last, last + 10))
    assert (base["low"] <= base["mean"] + 1e-9).all() and (
        base["mean"] <= base["high"] + 1e-9
    ).all()
    pars = con.table("scenario_parameters").to_pandas()
    assert {"hazard", "choice"} <= set(pars["part"]) and pars["se"].notna().all()


def test_stage_without_careers_tables_records_why(con):
    stage.run(StageContext(con=con, previous=None, data_dir=None))
    params = con.table("build_params").to_pandas()
    assert "skipped" in set(params["name"])
    assert "scenario_baseline" not in con.list_tables()


def test_last_year_moves_are_left_out_only_at_the_end_of_the_data(frames):
    py, ev = frames
    full = panel_from_frames(py, ev)
    T = full.last_year
    at_end = fit_model(full)
    # The same panel cut one year earlier still has later data: its last year counts.
    cut = full.cut(T - 1)
    assert cut.data_end == T
    in_cut = fit_model(cut)
    rows = full.rows.to_pandas()
    dated_before_T = int(rows.loc[rows["year"] < T - 1, "moved"].sum())
    assert at_end.hazard.n_events == dated_before_T
    assert at_end.hazard.n_events < int(rows.loc[rows["year"] < T, "moved"].sum())
    # in the cut every move up to its last year T - 1 is used
    assert in_cut.hazard.n_events == int(cut.rows.to_pandas()["moved"].sum())
    assert any("left out of the fit" in n for n in at_end.notes)
    assert not any("left out of the fit" in n for n in in_cut.notes)


def test_load_panel_keeps_partial_years_when_asked(con, frames):
    py, ev = frames
    last = int(py["year"].max())
    tail = py[py["year"] == last]
    thin = pd.concat([py[py["year"] < last], tail.iloc[:5]], ignore_index=True)
    _store(con, thin, ev)
    assert load_panel(con).last_year == last - 1
    assert load_panel(con, drop_partial_years=False).last_year == last
    assert load_panel(con, max_year=last).last_year == last


def test_stage_fits_the_same_model_on_every_engine(con, frames):
    """The stage on ``con`` (DuckDB or Spark) gives the parameters and baseline of a fit on an
    in-memory DuckDB store: the engines count the same cells."""
    py, ev = frames
    _store(con, py, ev)
    stage.run(StageContext(con=con, previous=None, data_dir=None, params={"draws": 30}))
    ref = connect()
    _store(ref, py, ev)
    stage.run(StageContext(con=ref, previous=None, data_dir=None, params={"draws": 30}))
    for name, keys in (
        ("scenario_parameters", ["part", "parameter"]),
        ("scenario_baseline", ["country", "year", "measure"]),
    ):
        got = con.table(name).to_pandas().sort_values(keys).reset_index(drop=True)
        want = ref.table(name).to_pandas().sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-6)


def test_backtest_on_the_engine_equals_the_backtest_on_frames(con, frames):
    py, ev = frames
    _store(con, py, ev)
    on_engine = backtest(con, horizon=2, top=4, n_origins=1, draws=20)
    on_frames = backtest(panel_from_frames(py, ev), horizon=2, top=4, n_origins=1, draws=20)
    assert on_engine.origins == on_frames.origins and on_engine.countries == on_frames.countries
    pd.testing.assert_frame_equal(on_engine.forecasts, on_frames.forecasts, rtol=1e-6)
