"""Parity of the identity linkage on DuckDB and Spark for a small input."""

from __future__ import annotations

import ibis
import pytest

from talentflow.identity import features, identifiers
from test_identity_link import build_world

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_con():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("talentflow-identity-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield ibis.pyspark.connect(session)


def _clusters(con, authorships) -> dict[str, str]:
    """Identifier clusters (after the trust guards) computed on ``con``."""
    con.create_table("idp_authorships", ibis.memtable(authorships), overwrite=True)
    a = con.table("idp_authorships")
    con.create_table("idp_names", features.name_table(con, a), overwrite=True)
    feats = features.authorship_features(a, con.table("idp_names"), None)
    con.create_table("idp_features", feats, overwrite=True)
    ids = identifiers.trusted_ids(identifiers.authorship_ids(a), con.table("idp_features"))
    con.create_table("idp_ids", ids, overwrite=True)
    cl = identifiers.identifier_clusters(con, a, ids=con.table("idp_ids"))
    rows = cl.to_pyarrow().to_pylist()
    return {r["authorship_id"]: r["cluster_key"] for r in rows}


def test_identifier_clusters_agree_on_duckdb_and_spark(spark_con) -> None:
    world = build_world(papers_per_lab_year=1, labs="ABD")
    authorships = world.authorships.drop_columns(["truth"])
    on_duckdb = _clusters(ibis.duckdb.connect(), authorships)
    on_spark = _clusters(spark_con, authorships)
    assert on_duckdb  # the world has ids from 2021 on
    assert on_spark == on_duckdb
