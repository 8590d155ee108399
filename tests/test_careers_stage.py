"""The careers stage in the pipeline, and the `talentflow sweep` / `talentflow person` commands."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest
from typer.testing import CliRunner

from talentflow.careers import stage
from talentflow.careers.positions import position_stage
from talentflow.careers.simulate import simulate_careers
from talentflow.cli import app
from talentflow.pipeline import STAGES, StageContext

CONTRACT = {
    "person_years": [
        "person_id",
        "year",
        "n_papers",
        "institution",
        "country",
        "sector",
        "career_stage",
        "secondary_institutions",
        "secondary_countries",
        "observed",
    ],
    "tenures": [
        "person_id",
        "tenure_id",
        "level",
        "country",
        "institution",
        "sector",
        "start_year",
        "end_year",
        "n_years_observed",
        "censored_left",
        "censored_right",
    ],
    "events": [
        "event_id",
        "person_id",
        "year",
        "level",
        "kind",
        "from_country",
        "to_country",
        "from_institution",
        "to_institution",
        "from_sector",
        "to_sector",
        "flags",
    ],
    "person_profile": [
        "person_id",
        "first_year",
        "last_year",
        "first_country",
        "training_country",
        "current_country",
        "n_international_moves",
        "typology",
        "first_sector",
        "current_sector",
    ],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("careers") / "store.duckdb"
    corpus = simulate_careers(300, seed=2)
    con = ibis.duckdb.connect(str(path))
    con.create_table("authorships", ibis.memtable(corpus.authorships))
    stage.run(StageContext(con=con, previous=None, data_dir=None, params={"b": 1}))
    con.disconnect()
    return path


def test_stage_is_registered_after_identity_and_before_indicators():
    names = [name for name, _ in STAGES]
    assert "careers" in names
    assert ("talentflow.careers.stage") in dict(STAGES).values()
    if "indicators" in names:
        assert names.index("careers") < names.index("indicators")
    if "identity" in names:
        assert names.index("identity") < names.index("careers")


def test_stage_writes_the_contract_and_records_parameters(store):
    con = ibis.duckdb.connect(str(store), read_only=True)
    try:
        for table, columns in CONTRACT.items():
            schema = con.table(table).schema()
            assert set(columns) <= set(schema.names), table
            assert con.table(table).count().execute() > 0
        events = con.table("events").to_pandas()
        assert set(events["kind"]) <= {"migration", "temporary", "return", "move"}
        assert events["event_id"].is_unique
        assert set(events["level"]) == {"country", "institution"}
        params = con.table("build_params").to_pandas()
        got = dict(zip(params["name"], params["value"], strict=True))
        assert (got["backfill"], got["overlap"], got["temporary"]) == ("1", "3", "4")
        assert not any(t.startswith("_careers") for t in con.list_tables())
    finally:
        con.disconnect()


def test_stage_without_person_ids_writes_empty_tables():
    con = ibis.duckdb.connect()
    corpus = simulate_careers(20, seed=1)
    con.create_table(
        "authorships", ibis.memtable(corpus.authorships.drop(columns=["person_id", "sector"]))
    )
    stage.run(StageContext(con=con, previous=None, data_dir=None))
    for table, columns in CONTRACT.items():
        assert set(columns) <= set(con.table(table).schema().names)
        assert con.table(table).count().execute() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PhD student", "student"),
        ("MS student", "student"),
        ("Undergrad student", "student"),
        ("Intern", "student"),
        ("Postdoc", "postdoc"),
        ("Assistant Professor", "faculty"),
        ("Full Professor+Principal Researcher", "faculty"),
        ("Principal Researcher", "staff"),
        ("Researcher", "staff"),
        ("Applied Scientist", "industry"),
        ("Founder", "industry"),
        ("Visiting Scholar", "other"),
        ("", None),
    ],
)
def test_position_mapping(raw, expected):
    assert position_stage(raw or None) == expected


def test_cli_person_timeline(store):
    con = ibis.duckdb.connect(str(store), read_only=True)
    ev = con.table("events").filter(ibis._.level == "country").to_pandas()
    con.disconnect()
    mover = ev[ev["kind"] == "migration"].iloc[0]
    result = CliRunner().invoke(app, ["person", mover.person_id, "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert mover.person_id in result.output
    assert f"migration {mover.from_country}->{mover.to_country}" in result.output
    missing = CliRunner().invoke(app, ["person", "nobody", "--db", str(store)])
    assert missing.exit_code == 1


def test_cli_sweep(store):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["sweep", "--db", str(store), "--backfill", "1,2", "--overlap", "3", "--temporary", "4"],
    )
    assert result.exit_code == 0, result.output
    assert "US->CN" in result.output and "CN->US" in result.output
    assert result.output.count("│ 1 │ 3 │ 4 │") == 1 and result.output.count("│ 2 │ 3 │ 4 │") == 1
    bad = runner.invoke(app, ["sweep", "--db", str(store), "--backfill", "x"])
    assert bad.exit_code == 2
    none = runner.invoke(app, ["sweep", "--db", str(store.with_name("none.duckdb"))])
    assert none.exit_code == 3
