"""Engine-neutral stage code on DuckDB and Spark, and the parity check on a real slice.

The ``con`` fixture is parametrised by engine; the Spark half is marked ``spark`` and shares one
cheap session (local[1], one shuffle partition, no UI). Run only DuckDB with ``-m "not spark"``.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from talentflow.spark import run_stages

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: A real slice of the mirror: small venue-years that share authors across years and sources.
SLICE = (
    "openreview/iclr/iclr2013.json",
    "openreview/iclr/iclr2014.json",
    "openreview/alt/alt2025.json",
    "paperlists/aistats/aistats1999.json",
    "paperlists/aistats/aistats2005.json",
    "paperlists/automl/automl2022.json",
    "paperlists/automl/automl2024.json",
)


@pytest.fixture(scope="session")
def spark_shared(spark_session_shared: Any) -> Any:
    return spark_session_shared


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def con(request: pytest.FixtureRequest) -> Any:
    if request.param == "duckdb":
        return ibis.duckdb.connect()
    return ibis.pyspark.connect(request.getfixturevalue("spark_shared"))


def test_tables_round_trip(con: Any) -> None:
    data = pa.table({"a": [1, 2, 3], "b": ["x", None, "z"]})
    con.create_table("t_round", data, overwrite=True)
    back = con.table("t_round").order_by("a").to_pyarrow()
    assert back.column("b").to_pylist() == ["x", None, "z"]


def test_grouped_window_expression(con: Any) -> None:
    # The kind of expression careers uses: per-person ordering and lagged values.
    data = pa.table(
        {"p": ["a", "a", "a", "b"], "y": [2019, 2020, 2022, 2020], "c": ["US", "US", "GB", "CN"]}
    )
    con.create_table("t_win", data, overwrite=True)
    t = con.table("t_win")
    w = ibis.window(group_by=t.p, order_by=t.y)
    moved = t.mutate(prev=t.c.lag().over(w)).filter(lambda s: s.prev.notnull() & (s.prev != s.c))
    rows = moved.select("p", "y", "prev", "c").to_pyarrow().to_pylist()
    assert rows == [{"p": "a", "y": 2022, "prev": "US", "c": "GB"}]


def test_unknown_stage_is_refused(con: Any) -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        run_stages(con, ["nope"], data_dir=None)


# --- parity on a real slice -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slice")
    for rel in SLICE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / rel, root / rel)
    (root / "registries").symlink_to(DATA / "registries")
    return root


@pytest.fixture(scope="module")
def sources_built(real_slice: Path) -> Any:
    """The slice's sources output on DuckDB: the common input of both engines."""
    con = ibis.duckdb.connect()
    run_stages(con, ["sources"], data_dir=real_slice)
    return con


def _canonical(table: pa.Table) -> pd.DataFrame:
    """Order-free, type-tolerant form of a table for comparison across engines."""
    frame = table.to_pandas()
    for col in frame.columns:
        frame[col] = frame[col].map(_cell)
    cols = sorted(frame.columns)
    return frame[cols].sort_values(cols, key=lambda s: s.astype(str)).reset_index(drop=True)


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float):
        return round(value, 9)
    if hasattr(value, "tolist") and not isinstance(value, str):
        return tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    return value


def test_sources_slice_has_real_rows(sources_built: Any) -> None:
    assert sources_built.table("papers").count().execute() > 50
    assert sources_built.table("authorships").count().execute() > 100


#: Tables (and columns) that do not depend on the person ids of the identity stage.
_BEFORE_IDENTITY = {"papers": [], "affiliations": [], "authorships": ["person_id"]}


@pytest.mark.spark
def test_build_runs_on_spark_and_matches_duckdb_up_to_linkage(
    real_slice: Path, spark_shared: Any, tmp_path: Path
) -> None:
    """`build(engine="spark")` runs the table stages on Spark and writes the same store.

    Known gap (issue 8): splink's EM training and u sampling differ between engines, so about
    3% of the slice's authorships get another person id on Spark, and every table built on
    person ids (careers, indicators, scenarios) differs with it. Those tables are compared by
    name and schema; the tables before linkage are compared row for row.
    """
    from talentflow.pipeline import SPARK_STAGES, build

    duck_db, spark_db = tmp_path / "duck.duckdb", tmp_path / "spark.duckdb"
    build(real_slice, duck_db)
    report = build(real_slice, spark_db, engine="spark")
    assert set(SPARK_STAGES) <= set(report.timings)
    assert not list(tmp_path.glob(".spark-warehouse-*"))  # the build's warehouse is removed
    duck = ibis.duckdb.connect(str(duck_db), read_only=True)
    spark_store = ibis.duckdb.connect(str(spark_db), read_only=True)
    engine = spark_store.table("build_info").to_pandas().set_index("key")["value"]["engine"]
    assert engine == "spark"
    produced = set(duck.list_tables()) - {"build_info", "build_params"}
    assert {"papers", "authorships", "persons", "events", "country_year"} <= produced
    assert produced == set(spark_store.list_tables()) - {"build_info", "build_params"}
    for name in sorted(produced):
        left, right = duck.table(name), spark_store.table(name)
        assert set(left.columns) == set(right.columns), name
        if name in _BEFORE_IDENTITY:
            drop = _BEFORE_IDENTITY[name]
            pd.testing.assert_frame_equal(
                _canonical(left.drop(*drop).to_pyarrow()),
                _canonical(right.drop(*drop).to_pyarrow()),
                check_dtype=False,
                obj=name,
            )
    # linkage itself runs on Spark: every authorship gets a person
    assert spark_store.table("authorships").person_id.isnull().sum().execute() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "presto"], "--engine takes duckdb or spark"),
        (["--engine", "spark", "--spark-conf", "no-equals-sign"], "--spark-conf takes KEY=VALUE"),
    ],
)
def test_build_refuses_bad_engine_options(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from talentflow.cli import app

    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["build", "--data", str(DATA), "--db", str(db), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not db.exists()


def test_out_of_memory_names_the_stage_and_keeps_the_previous_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from talentflow.cli import app

    data = tmp_path / "data"
    rel = "paperlists/automl/automl2022.json"
    (data / rel).parent.mkdir(parents=True)
    shutil.copy(DATA / rel, data / rel)
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    first = runner.invoke(
        app, ["build", "--data", str(data), "--db", str(db), "--stage", "sources"]
    )
    assert first.exit_code == 0, first.output
    before = db.read_bytes()
    result = runner.invoke(
        app,
        ["build", "--data", str(data), "--db", str(db), "--stage", "sources",
         "--memory-limit", "2MB"],
    )  # fmt: skip
    assert result.exit_code == 4
    text = " ".join(result.output.split())
    assert "stage 'sources' ran out of memory" in text and "--memory-limit" in text
    assert db.read_bytes() == before  # the previous store is untouched
