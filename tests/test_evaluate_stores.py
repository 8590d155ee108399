"""`talentflow evaluate stores A B`: two stores compared table by table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.read.compare import compare_stores

TIMING = (
    '{"pairs": 10, "seconds": {"features": 1.5}, "cpu_seconds": {"features": 2.5}, '
    '"linker_uid": "abc"}'
)


def make_store(path: Path, *statements: str, timing: str = TIMING, started: str = "t0") -> Path:
    """A store with ``flows``, ``build_info`` and ``build_params``, then ``statements``."""
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE flows AS SELECT from_country, to_country, year, n::DOUBLE AS n FROM (VALUES
          ('US', 'CN', 2020, 7.0), ('US', 'GB', 2020, 2.5), ('CN', 'US', 2021, 3.0),
          ('CN', 'US', 2021, 3.0)
        ) t(from_country, to_country, year, n)""")
    con.execute(f"CREATE TABLE build_info AS SELECT 'started' AS key, '{started}' AS value")
    con.execute(
        f"CREATE TABLE build_params AS SELECT 'identity' AS stage, 'stats' AS name, "
        f"'{timing}' AS value"
    )
    for sql in statements:
        con.execute(sql)
    con.close()
    return path


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["evaluate", "stores", *map(str, args)])
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def before(tmp_path: Path) -> Path:
    return make_store(tmp_path / "before.duckdb")


def test_identical_stores_in_another_row_order(before: Path, tmp_path: Path) -> None:
    after = make_store(
        tmp_path / "after.duckdb",
        "CREATE OR REPLACE TABLE flows AS SELECT * FROM flows ORDER BY n DESC, from_country",
        # another build's start time and timings: not what the build found
        timing=(
            '{"pairs": 10, "seconds": {"features": 9.0}, "cpu_seconds": {"features": 8.1}, '
            '"linker_uid": "xyz"}'
        ),
        started="t1",
    )
    code, out = run(before, after)
    assert code == 0, out
    assert "3 tables compared, 3 identical" in out
    strict = compare_stores(before, after, strict=True)
    assert {d.table for d in strict if not d.same} == {"build_info", "build_params"}


def test_a_changed_value_is_reported_with_its_column(before: Path, tmp_path: Path) -> None:
    after = make_store(
        tmp_path / "after.duckdb", "UPDATE flows SET n = 8.0 WHERE to_country = 'CN'"
    )
    code, out = run(before, after)
    assert code == 1
    assert "differ: flows" in out
    (flows,) = [d for d in compare_stores(before, after) if d.table == "flows"]
    assert (flows.rows_a, flows.rows_b, flows.only_a, flows.only_b) == (4, 4, 1, 1)
    assert flows.columns == ["n"] and flows.schema == []


def test_a_lost_duplicate_row_counts(before: Path, tmp_path: Path) -> None:
    # the same set of rows, one duplicate fewer: a multiset comparison sees it
    after = make_store(
        tmp_path / "after.duckdb",
        "CREATE OR REPLACE TABLE flows AS SELECT DISTINCT * FROM flows",
    )
    (flows,) = [d for d in compare_stores(before, after) if d.table == "flows"]
    assert (flows.rows_a, flows.rows_b, flows.only_a, flows.only_b) == (4, 3, 1, 0)


def test_schema_and_missing_tables(before: Path, tmp_path: Path) -> None:
    after = make_store(
        tmp_path / "after.duckdb",
        "ALTER TABLE flows ADD COLUMN share DOUBLE",
        "ALTER TABLE flows ALTER year TYPE BIGINT",
        "DROP TABLE build_info",
        "CREATE TABLE events AS SELECT 1 AS id",
    )
    diffs = {d.table: d for d in compare_stores(before, after)}
    assert diffs["flows"].schema == ["+share", "year: INTEGER -> BIGINT"]
    # the values of the common columns are still the same (year compared as text)
    assert diffs["flows"].only_a == diffs["flows"].only_b == 0
    assert diffs["build_info"].rows_b is None and not diffs["build_info"].same
    assert diffs["events"].rows_a is None and diffs["events"].rows_b == 1
    code, out = run(before, after)
    assert code == 1 and "+share" in out and "events" in out


def test_tolerance_and_ignored_columns(before: Path, tmp_path: Path) -> None:
    after = make_store(tmp_path / "after.duckdb", "UPDATE flows SET n = n + 1e-9")
    assert run(before, after)[0] == 1
    assert run(before, after, "--tolerance", "1e-6")[0] == 0
    assert run(before, after, "--ignore", "flows.n")[0] == 0
    code, out = run(before, after, "--ignore", "flows")
    assert code == 0 and "flows.(content)" in out


def test_a_missing_store_is_named(before: Path, tmp_path: Path) -> None:
    code, out = run(before, tmp_path / "nowhere.duckdb")
    assert code == 3 and "nowhere.duckdb" in out


def test_a_changed_count_beside_timings_is_reported(before: Path, tmp_path: Path) -> None:
    after = make_store(
        tmp_path / "after.duckdb", timing=TIMING.replace('"pairs": 10', '"pairs": 11')
    )
    diffs = {d.table: d for d in compare_stores(before, after)}
    assert not diffs["build_params"].same and diffs["build_params"].columns == ["value"]
