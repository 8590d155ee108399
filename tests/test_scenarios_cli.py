"""`talentflow scenario run|backtest` through Typer's runner on a small store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.engines import connect
from talentflow.scenarios.synthetic import synthetic_careers

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "talentflow" / "scenarios" / "examples"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("sc") / "store.duckdb"
    py, ev = synthetic_careers(1500, seed=2)
    con = connect(db)
    con.create_table("person_years", py)
    con.create_table("events", ev)
    con.disconnect()
    return db


def test_run_prints_tables_and_writes_an_offline_chart(store, tmp_path):
    chart = tmp_path / "c.html"
    res = CliRunner().invoke(
        app,
        [
            "scenario",
            "run",
            str(EXAMPLES / "us_visa_restrictions.toml"),
            "--db",
            str(store),
            "--years",
            "3",
            "--draws",
            "30",
            "--chart",
            str(chart),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "US visa restrictions" in res.output
    assert "Assumptions" in res.output and "inflow to US from CN, IN" in res.output
    html = chart.read_text()
    # plotly.js is inlined (no <script src=...> to a CDN): the chart works offline
    assert len(html) > 1_000_000 and '<script src="http' not in html
    assert "Assumptions" in html


def test_backtest_command(store):
    res = CliRunner().invoke(
        app,
        [
            "scenario",
            "backtest",
            "--db",
            str(store),
            "--origins",
            "1",
            "--top",
            "3",
            "--draws",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "persistence" in res.output and "overall MAE" in res.output


def test_errors_have_exit_codes(store, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[lever]]\nkind='nope'\ncountry='US'\nfactor=1\n")
    r = CliRunner().invoke(app, ["scenario", "run", str(bad), "--db", str(store)])
    assert r.exit_code == 2 and "unknown lever kind" in r.output
    r = CliRunner().invoke(
        app,
        [
            "scenario",
            "run",
            str(EXAMPLES / "startup_funding.toml"),
            "--db",
            str(tmp_path / "missing.duckdb"),
        ],
    )
    assert r.exit_code == 3
    empty = tmp_path / "empty.duckdb"
    connect(empty).disconnect()
    r = CliRunner().invoke(
        app, ["scenario", "run", str(EXAMPLES / "startup_funding.toml"), "--db", str(empty)]
    )
    assert r.exit_code == 1 and "careers" in r.output


def test_bad_scenario_files_exit_2_with_a_readable_message(store, tmp_path):
    nolever = tmp_path / "nolever.toml"
    nolever.write_text("name = 'x'\n")
    r = CliRunner().invoke(app, ["scenario", "run", str(nolever), "--db", str(store)])
    assert r.exit_code == 2 and "at least one [[lever]] table" in " ".join(r.output.split())
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"name = '\xff\xfe'\n")
    r = CliRunner().invoke(app, ["scenario", "run", str(binary), "--db", str(store)])
    assert r.exit_code == 2 and "not UTF-8" in " ".join(r.output.split())
    assert "Traceback" not in r.output
    huge = tmp_path / "huge.toml"
    huge.write_text("[[lever]]\nkind='retention'\ncountry='DE'\nfactor=1e308\n")
    r = CliRunner().invoke(app, ["scenario", "run", str(huge), "--db", str(store)])
    assert r.exit_code == 2 and "between 0.01 and 100" in " ".join(r.output.split())
