"""Shared test fixtures: where the real data mirror lives, and small corpora cut from it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

#: ../shared/data beside the repository (as laid out for developers and CI).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data mirror; the tests need it and fail loudly without it."""
    assert SHARED_DATA.is_dir(), f"the data mirror is missing at {SHARED_DATA}"
    return SHARED_DATA


def cut(src: Path, dest: Path, n: int) -> list[dict]:
    """Write the first ``n`` records of a real JSON-array file to ``dest``; return them."""
    records = json.loads(src.read_text(encoding="utf-8"))[:n]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(records), encoding="utf-8")
    return records


def rows(db: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the store ``db`` (opened read-only)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def real_sources_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The sources stage over the whole real mirror, built once per test session."""
    from talentflow.pipeline import build

    db = tmp_path_factory.mktemp("real") / "sources.duckdb"
    build(shared_data, db, stages=["sources"])
    return db


@pytest.fixture(scope="session")
def spark_session_shared(tmp_path_factory: pytest.TempPathFactory):
    """The one cheap local Spark session of a test run (every Spark test shares it).

    Opened by :func:`talentflow.engines.spark.spark_session`, so it carries splink's similarity jar;
    managed tables go to a fresh warehouse, never to ``./spark-warehouse`` of the checkout.
    """
    from talentflow.engines.spark import TEST_CONF, spark_session

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = spark_session("local[1]", {**TEST_CONF, "spark.sql.warehouse.dir": str(warehouse)})
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest):
    """A fresh, empty store on each engine: in-memory DuckDB, or a database of its own in the
    shared Spark session (dropped afterwards), so tests never see each other's tables."""
    from talentflow.engines import connect, engine_of

    if request.param == "duckdb":
        con = connect()
        yield engine_of(con)
        con.disconnect()
        return
    import uuid

    from talentflow.engines.spark import connect_spark

    session = request.getfixturevalue("spark_session_shared")
    con = connect_spark(session=session)
    database = f"test_{uuid.uuid4().hex[:12]}"
    previous = session.catalog.currentDatabase()
    views = _temporary_views(session)
    session.sql(f"CREATE DATABASE {database}")
    session.catalog.setCurrentDatabase(database)
    yield engine_of(con)
    session.catalog.setCurrentDatabase(previous)
    # Temporary views belong to the session, not the database (splink registers its inputs
    # as views): one left over points at files dropped with the database below, and every
    # later test would list it among its own tables.
    for name in _temporary_views(session) - views:
        session.catalog.dropTempView(name)
    session.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")


def _temporary_views(session) -> set[str]:
    return {t.name for t in session.catalog.listTables() if t.isTemporary}


@pytest.fixture()
def con(engine):
    """The Ibis backend of :func:`engine` (what stage tests read and write tables on)."""
    return engine.con
