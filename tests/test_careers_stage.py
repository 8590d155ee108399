"""The careers stage in the pipeline, and the `talentflow sweep` / `talentflow person` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest
from typer.testing import CliRunner

from talentflow.careers import stage
from talentflow.careers.positions import position_stage
from talentflow.careers.simulate import simulate_careers
from talentflow.cli import app
from talentflow.context import StageContext
from talentflow.pipeline import STAGES

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


def _run_on(con: Any, n_persons: int = 300) -> None:
    """The stage on ``n_persons`` simulated careers, backfill 1."""
    corpus = simulate_careers(n_persons, seed=2)
    con.create_table("authorships", ibis.memtable(corpus.authorships))
    stage.run(StageContext(con=con, previous=None, data_dir=None, params={"b": 1}))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("careers") / "store.duckdb"
    con = ibis.duckdb.connect(str(path))
    _run_on(con)
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


def test_stage_writes_the_contract_and_records_parameters(con):
    _run_on(con, 120)
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


def test_stage_without_person_ids_writes_empty_tables(con):
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


#: The simulated corpus the fake sources stage below writes (the real sources stage needs files).
_FIXTURE_AUTHORSHIPS = simulate_careers(300, seed=2).authorships


def run(ctx: StageContext) -> None:
    """A stand-in ``sources`` stage for the build test: writes simulated authorships."""
    ctx.con.create_table("authorships", ibis.memtable(_FIXTURE_AUTHORSHIPS))


def _built(tmp_path: Path, monkeypatch, name: str, options: list[str]) -> tuple[dict, Any]:
    monkeypatch.setattr(
        "talentflow.pipeline.STAGES",
        [("sources", __name__), ("careers", "talentflow.careers.stage")],
    )
    db = tmp_path / f"{name}.duckdb"
    result = CliRunner().invoke(app, ["build", "--data", str(tmp_path), "--db", str(db), *options])
    assert result.exit_code == 0, result.output
    con = ibis.duckdb.connect(str(db), read_only=True)
    try:
        params = con.table("build_params").filter(ibis._.stage == "careers").to_pandas()
        events = con.table("events").filter(ibis._.level == "country").to_pandas()
    finally:
        con.disconnect()
    return dict(zip(params["name"], params["value"], strict=True)), events


def test_cli_build_passes_and_records_event_parameters(tmp_path, monkeypatch):
    got, default = _built(tmp_path, monkeypatch, "default", [])
    assert (got["backfill"], got["overlap"], got["temporary"]) == ("2", "3", "4")
    got, changed = _built(tmp_path, monkeypatch, "changed", ["-b", "0", "-o", "1", "-d", "1"])
    assert (got["backfill"], got["overlap"], got["temporary"]) == ("0", "1", "1")
    # Long options are the same options.
    got_long, _ = _built(
        tmp_path, monkeypatch, "long", ["--backfill", "0", "--overlap", "1", "--temporary", "1"]
    )
    assert got_long == got

    def counts(ev: Any) -> dict:
        return ev.groupby("kind").size().to_dict()

    assert counts(changed) != counts(default)
    # d bounds the length of a temporary position: 1 year now, up to 4 by default.
    temp = {
        k: ev[ev["kind"] == "temporary"]["duration_years"]
        for k, ev in (("default", default), ("changed", changed))
    }
    assert (temp["changed"] <= 1).all()
    assert (temp["default"] > 1).any() and (temp["default"] <= 4).all()


def test_event_counts_by_kind_and_year(store):
    from talentflow.careers.summary import event_counts, flagged_shares

    con = ibis.duckdb.connect(str(store), read_only=True)
    try:
        events = con.table("events")
        counts = event_counts(events)
        raw = events.filter(ibis._.level == "country").to_pandas()
    finally:
        con.disconnect()
    assert counts["n"].sum() == len(raw)
    by = raw.groupby(["year", "kind"]).size()
    assert counts.set_index(["year", "kind"])["n"].to_dict() == by.to_dict()
    flagged = raw["flags"].map(lambda f: f is not None and len(f) > 0)
    assert counts["flagged"].sum() == int(flagged.sum())
    censored = raw["flags"].map(lambda f: any(x.startswith("censored") for x in (f or [])))
    assert counts["censored"].sum() == int(censored.sum())
    assert (counts["ambiguous"] <= counts["flagged"]).all()
    shares = flagged_shares(counts).set_index("kind")
    assert shares.loc["all", "n"] == len(raw)
    assert shares.loc["all", "flagged_share"] == pytest.approx(flagged.mean())


def test_cli_events(store):
    runner = CliRunner()
    result = runner.invoke(app, ["events", "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert "migration" in result.output and "flagged" in result.output
    assert "Totals and flagged shares" in result.output
    inst = runner.invoke(app, ["events", "--db", str(store), "--level", "institution"])
    assert inst.exit_code == 0 and "move" in inst.output
    assert runner.invoke(app, ["events", "--db", str(store), "--level", "x"]).exit_code == 2
    none = runner.invoke(app, ["events", "--db", str(store.with_name("none.duckdb"))])
    assert none.exit_code == 3


def _sorted_rows(table: Any) -> list[tuple]:
    frame = table.to_pandas()
    return sorted(map(repr, frame[sorted(frame.columns)].itertuples(index=False)))


def test_stage_writes_what_the_expressions_give(con):
    """The stage writes person_years and tenures as soon as they are known and reads them
    back; every table equals the one the unwritten expressions (temporary tables) give."""
    from talentflow.careers.build import build_careers
    from talentflow.careers.params import CareerParams

    corpus = simulate_careers(150, seed=3)
    con.create_table("authorships", ibis.memtable(corpus.authorships))
    stage.run(StageContext(con=con, previous=None, data_dir=None, params={"b": 1}))
    expected = build_careers(con, con.table("authorships"), CareerParams(backfill=1))
    for name in stage.OUTPUTS:
        written = con.table(name)
        assert written.columns == expected[name].columns, name
        assert written.count().execute() > 0, name
        assert _sorted_rows(written) == _sorted_rows(expected[name]), name
