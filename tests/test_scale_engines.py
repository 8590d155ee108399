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

from talentflow.spark import copy_tables, run_stages

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
#: Stages after sources (which parses JSON with DuckDB SQL and runs on DuckDB only).
NEUTRAL_CANDIDATES = ("resolve", "identity", "careers", "indicators")


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


@pytest.mark.spark
@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 8): splink's JARO_WINKLER UDF is not registered in the Spark "
    "session, so the identity stage's probabilistic step cannot run on Spark yet",
)
def test_every_stage_table_is_identical_on_spark(
    sources_built: Any, real_slice: Path, spark_shared: Any
) -> None:
    from talentflow.pipeline import STAGES

    later = [n for n, _ in STAGES if n in NEUTRAL_CANDIDATES]
    duck = ibis.duckdb.connect()
    copy_tables(sources_built, duck, ["papers", "authorships"])
    run_stages(duck, later, data_dir=real_slice)
    spark = ibis.pyspark.connect(spark_shared)
    copy_tables(sources_built, spark, ["papers", "authorships"])
    run_stages(spark, later, data_dir=real_slice, engine="spark")
    produced = {t for t in duck.list_tables() if not t.startswith("_")} - {"build_params"}
    assert {"papers", "authorships"} <= produced
    for name in sorted(produced):
        left = _canonical(duck.table(name).to_pyarrow())
        right = _canonical(spark.table(name).to_pyarrow())
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)
