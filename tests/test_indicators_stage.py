"""The indicators stage on a store, the notebook API, and `talentflow validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import talentflow
from talentflow.cli import app
from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.indicators import stage
from talentflow.indicators.synthetic import worked_example as fixture_tables
from talentflow.pipeline import STAGES

CONTRACT = {
    "country_year": [
        "country",
        "year",
        "subset",
        "sector",
        "stock",
        "stock_frac",
        "stock_share",
        "inflow",
        "outflow",
        "net_flow",
        "inflow_rate",
        "outflow_rate",
        "net_rate",
        "returns",
        "stock_ci_low",
        "stock_ci_high",
        "suppressed",
    ],
    "flows": [
        "from_country",
        "to_country",
        "year",
        "subset",
        "n",
        "ci_low",
        "ci_high",
        "suppressed",
    ],
    "retention": [
        "country",
        "cohort_year",
        "basis",
        "k",
        "at_risk",
        "retained_share",
        "ci_low",
        "ci_high",
        "suppressed",
    ],
    "returns": ["country", "k", "at_risk", "return_share", "ci_low", "ci_high", "suppressed"],
    "origin_work": [
        "population",
        "origin_basis",
        "origin_country",
        "work_country",
        "n",
        "share",
        "ci_low",
        "ci_high",
        "suppressed",
    ],
    "sector_flows": [
        "country",
        "year",
        "from_sector",
        "to_sector",
        "n",
        "ci_low",
        "ci_high",
        "suppressed",
    ],
    "paper_subfields": ["paper_id", "subfield", "is_llm_era", "rule"],
}


#: The stage's parameters on the worked example.
PARAMS = {"bootstrap": 20, "min_cell": 2, "k_max": 3, "llm_era_start": 2012}


def _run_on(con, **params) -> None:
    """The stage on the worked example (plus one country move) on ``con``."""
    for name, frame in fixture_tables().items():
        con.create_table(name, frame)
    events = pd.DataFrame(
        {
            "event_id": ["e1"],
            "person_id": ["d"],
            "year": [2011],
            "level": ["country"],
            "kind": ["migration"],
            "from_country": ["GB"],
            "to_country": ["US"],
        }
    )
    con.create_table("events", events)
    stage.run(StageContext(con=con, previous=None, data_dir=None, params=PARAMS | params))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ind") / "store.duckdb"
    con = connect(path)
    _run_on(con)
    con.disconnect()
    return path


def test_stage_is_registered_after_careers():
    names = [n for n, _ in STAGES]
    assert "indicators" in names  # later stages (scenarios) may read indicators
    if "careers" in names:
        assert names.index("careers") < names.index("indicators")


def test_stage_writes_contract_tables(con):
    _run_on(con)
    for name, cols in CONTRACT.items():
        assert set(cols) <= set(con.table(name).columns), name
    params = con.table("build_params").to_pandas()
    ind = params[params.stage == "indicators"].set_index("name")["value"].map(json.loads)
    assert ind["replicates"] == 20 and ind["min_cell"] == 2 and ind["llm_era_start"] == 2012
    cy = con.table("country_year").to_pandas()
    us = cy[(cy.country == "US") & (cy.year == 2011) & (cy.subset == "all") & (cy.sector == "all")]
    assert us.stock.tolist() == [3] and not us.suppressed.iloc[0]
    assert cy[cy.suppressed].stock.isna().all()


def test_stage_skips_without_careers_tables(con):
    stage.run(StageContext(con=con, previous=None, data_dir=None))
    assert "country_year" not in con.list_tables()


def _stage_tables(con) -> dict[str, pd.DataFrame]:
    """Every table the indicators stage wrote, rows in a canonical order."""
    inputs = {*fixture_tables(), "events", "build_params"}
    names = [t for t in con.list_tables() if t not in inputs and not t.startswith("ibis_")]
    out = {}
    for name in names:
        frame = con.table(name).to_pandas()
        for col in frame.columns[[d == "object" for d in frame.dtypes]]:  # lists as tuples
            frame[col] = frame[col].map(
                lambda v: tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v
            )
        keys = [c for c in frame.columns if frame[c].dtype == object or frame[c].dtype == bool]
        keys += [c for c in frame.columns if c not in keys]
        out[name] = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return out


@pytest.mark.spark
def test_every_indicator_table_is_the_same_on_duckdb_and_spark(spark_session_shared):
    """Parity: the stage on the same small input gives the same tables on both engines (point
    estimates, flags and intervals; floats to 1e-9)."""
    from talentflow.engines.spark import connect_spark

    duck = connect()
    _run_on(duck)
    spark = connect_spark(session=spark_session_shared)
    session = spark_session_shared
    previous = session.catalog.currentDatabase()
    session.sql("CREATE DATABASE IF NOT EXISTS test_indicator_parity")
    session.catalog.setCurrentDatabase("test_indicator_parity")
    try:
        _run_on(spark)
        a, b = _stage_tables(duck), _stage_tables(spark)
    finally:
        session.catalog.setCurrentDatabase(previous)
        session.sql("DROP DATABASE IF EXISTS test_indicator_parity CASCADE")
    assert set(a) == set(b) and {"country_year", "flows", "coverage"} <= set(a)
    for name in a:
        left, right = a[name], b[name]
        assert list(left.columns) == list(right.columns), name
        assert len(left) == len(right), name
        pd.testing.assert_frame_equal(
            left, right, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-9, obj=name
        )


def test_bootstrap_on_the_engine_gives_the_same_tables(con):
    """Replicate sums summed on the engine (DuckDB, or Spark: the map-reduce of
    indicators.replicates) give the tables of the driver's sparse products: the same weights,
    so the same point estimates and the same intervals (to float32 rounding)."""
    driver = connect()
    _run_on(driver)
    _run_on(con, bootstrap_on="engine")
    a, b = _stage_tables(driver), _stage_tables(con)
    assert set(a) == set(b) and "country_year_groups" in a
    assert not [t for t in con.list_tables() if t.startswith("_ind_")]  # intermediates dropped
    for name in a:
        pd.testing.assert_frame_equal(
            a[name], b[name], check_dtype=False, check_exact=False, rtol=1e-6, obj=name
        )
    params = con.table("build_params").to_pandas().set_index("name")["value"]
    assert json.loads(params["bootstrap_on"]) == "engine"


def test_api_methods_return_frames(store):
    with talentflow.open(store) as tf:
        cy = tf.country_year("US", year=[2011, 2012])
        assert sorted(cy.year.tolist()) == [2011, 2012]
        assert len(tf.flows(include_suppressed=False)) == 0  # every flow is under min_cell=2
        assert len(tf.flows()) > 0
        ret = tf.retention("US")
        assert set(ret.basis) == {"first_observed"}
        assert len(tf.returns("GB")) == 1
        ow = tf.origin_work("nips2013")
        assert set(ow.origin_basis) == {"first_observed"}
        assert len(tf.sector_flows("US")) > 0
        with pytest.raises(KeyError):
            tf.table("flows", nonsense=1)


def test_api_drilldown(store):
    with talentflow.open(store) as tf:
        cell = tf.drilldown("flows", from_country="GB", to_country="US", year=2011)
        assert cell["persons"].person_id.tolist() == ["d"]
        moves = cell["moves"]
        assert len(moves) == 2  # d's two moves, the first matched to the careers event
        assert moves[moves.year == 2011].event_id.tolist() == ["e1"]
        stock = tf.drilldown("country_year", country="US", year=2011)
        assert stock["persons"].person_id.tolist() == ["a", "c", "d"]
        pop = tf.drilldown("origin_work", population="nips2013", work_country="CN")
        assert pop["persons"].person_id.tolist() == ["a"]
        assert "Large Language Models are Fun" in set(pop["papers"].title)


def test_validate_command_writes_report(store, tmp_path):
    out = tmp_path / "validation.md"
    result = CliRunner().invoke(app, ["validate", "--db", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "MacroPolo" in text and "CSET" in text and "MPIDR" in text
    assert "| llm |" in text  # the subfield precision table


def test_validate_without_store_exits_3(tmp_path):
    result = CliRunner().invoke(
        app, ["validate", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "v.md")]
    )
    assert result.exit_code == 3


def test_export_indicator_table(store, tmp_path):
    out = tmp_path / "flows.csv"
    result = CliRunner().invoke(app, ["export", "flows", "--db", str(store), "-o", str(out)])
    assert result.exit_code == 0, result.output
    flows = pd.read_csv(out)
    assert {"from_country", "to_country", "n", "ci_low", "ci_high", "suppressed"} <= set(flows)
    assert flows["suppressed"].all() and flows["n"].isna().all()  # marked, not dropped


def run(ctx: StageContext) -> None:
    """A stand-in ``sources`` stage for the CLI build test: the worked example's careers."""
    for name, frame in fixture_tables().items():
        ctx.con.create_table(name, frame)


def test_cli_build_passes_bootstrap_on_to_the_stage(tmp_path, monkeypatch):
    """`talentflow build --bootstrap-on engine` reaches the stage (the replicate sums run as
    engine queries, recorded in build_params) and gives the intervals of the default."""
    from talentflow.indicators import bootstrap

    monkeypatch.setattr(
        "talentflow.pipeline.STAGES",
        [("sources", __name__), ("indicators", "talentflow.indicators.stage")],
    )
    calls: list[int] = []
    engine_sums = bootstrap.replicate_sums

    def counted(*args, **kwargs):
        calls.append(1)
        return engine_sums(*args, **kwargs)

    monkeypatch.setattr(bootstrap, "replicate_sums", counted)
    runner = CliRunner()
    common = ["--data", str(tmp_path), "--bootstrap", "20", "--min-cell", "2"]
    built = {}
    for mode, options in (("driver", []), ("engine", ["--bootstrap-on", "engine"])):
        db = tmp_path / f"{mode}.duckdb"
        calls.clear()
        result = runner.invoke(app, ["build", "--db", str(db), *common, *options])
        assert result.exit_code == 0, result.output
        assert bool(calls) == (mode == "engine")
        con = connect(db, read_only=True)
        try:
            params = con.table("build_params").to_pandas()
            ind = params[params.stage == "indicators"].set_index("name")["value"]
            assert json.loads(ind["bootstrap_on"]) == mode
            tables = _stage_tables(con)
            built[mode] = {k: v for k, v in tables.items() if k != "build_info"}  # timestamps
        finally:
            con.disconnect()
    assert set(built["driver"]) == set(built["engine"]) and "country_year" in built["engine"]
    for name, frame in built["driver"].items():
        pd.testing.assert_frame_equal(
            frame, built["engine"][name], check_dtype=False, check_exact=False, rtol=1e-6, obj=name
        )
    bad = runner.invoke(app, ["build", "--db", str(tmp_path / "bad.duckdb"), *common,
                              "--bootstrap-on", "cluster"])  # fmt: skip
    assert bad.exit_code == 2
    assert "--bootstrap-on takes driver or engine" in " ".join(bad.output.split())
    assert not (tmp_path / "bad.duckdb").exists()
