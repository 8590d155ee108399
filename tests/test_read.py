"""The read layer (talentflow.read.StoreReader) on a small store written in the test."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from talentflow.read import StoreReader
from talentflow.store import StoreError


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "small.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE flows AS SELECT * FROM (VALUES
          ('US', 'CN', 2020, 'all', 7.0, false),
          ('US', 'GB', 2020, 'all', NULL, true),
          ('CN', 'US', 2021, 'all', 3.0, false),
          ('CN', 'US', 2021, 'llm', 2.0, false)
        ) t(from_country, to_country, year, subset, n, suppressed)""")
    con.execute("""
        CREATE TABLE build_params AS SELECT * FROM (VALUES
          ('indicators', 'min_cell', '3'),
          ('indicators', 'population_papers', '"all"'),
          ('sources', 'data_dir', '"/home/someone/data"'),
          ('careers', 'note', 'not json')
        ) t(stage, name, value)""")
    con.execute("""
        CREATE TABLE coverage AS SELECT * FROM (VALUES
          ('all', 2021, true), ('nips', 2021, true), ('all', 2020, false)
        ) t(venue, year, complete)""")
    con.execute(
        """CREATE TABLE person_profile AS SELECT 'P1' AS person_id, 'US' AS first_country"""
    )
    con.execute("""
        CREATE TABLE person_years AS SELECT * FROM (VALUES
          ('P1', 2021, 'US'), ('P1', 2019, 'GB'), ('P2', 2020, 'CN')
        ) t(person_id, year, country)""")
    con.execute("""
        CREATE TABLE events AS SELECT * FROM (VALUES
          ('P1', 2021, 'institution'), ('P1', 2021, 'country'), ('P1', 2020, 'country')
        ) t(person_id, year, level)""")
    con.close()
    return path


def test_tables_and_filtered_frames(store: Path) -> None:
    with StoreReader(store) as reader:
        assert "flows" in reader.tables and reader.has("flows", "n", "subset")
        assert not reader.has("flows", "share")
        us = reader.frame("flows", from_country="US", year=None)
        assert sorted(us.to_country) == ["CN", "GB"]
        both = reader.frame("flows", subset=["all", "llm"], from_country="CN")
        assert len(both) == 2
        shown = reader.frame("flows", include_suppressed=False)
        assert "GB" not in set(shown.to_country) and len(shown) == 3
        with pytest.raises(KeyError, match="no column 'nope'"):
            reader.frame("flows", nope=1)
        with pytest.raises(KeyError, match=r"no table 'nope'.*tables: build_params"):
            reader.frame("nope")
        assert reader.count("flows") == 4
        assert reader.columns("flows")[:3] == ["from_country", "to_country", "year"]


def test_the_store_is_opened_read_only(store: Path, tmp_path: Path) -> None:
    with StoreReader(store) as reader, pytest.raises(Exception, match=r"(?i)read.only"):
        reader.con.raw_sql("CREATE TABLE x (a INT)")
    with pytest.raises(StoreError, match="talentflow build"):
        StoreReader(tmp_path / "missing.duckdb")


def test_build_parameters_decoded_and_paths_kept_private(store: Path) -> None:
    with StoreReader(store) as reader:
        assert reader.param("indicators", "min_cell") == 3
        assert reader.min_cell() == 3
        assert reader.population_rule() == "all"
        assert reader.param("careers", "note") == "not json"  # kept as written
        assert reader.param("careers", "missing", "default") == "default"
        # the builder's own path for the CLI; its last part only in what surfaces serve
        assert reader.param("sources", "data_dir") == "/home/someone/data"
        served = reader.build_params().set_index("name")["value"]
        assert served["data_dir"] == '"data"'


def test_coverage_and_complete_years(store: Path) -> None:
    with StoreReader(store) as reader:
        yearly = reader.coverage_table()
        assert list(yearly.year) == [2020, 2021] and set(yearly.venue) == {"all"}
        assert len(reader.coverage_table(venues=True)) == 3
        assert reader.complete_years() == [2021]


def test_timeline_orders_a_persons_rows(store: Path) -> None:
    with StoreReader(store) as reader:
        tl = reader.timeline("P1")
        assert tl.profile is not None and tl.profile["first_country"] == "US"
        assert list(tl.years.year) == [2019, 2021]
        assert list(zip(tl.events.year, tl.events.level, strict=True)) == [
            (2020, "country"),
            (2021, "country"),
            (2021, "institution"),
        ]
        nobody = reader.timeline("P9")
        assert nobody.profile is None and nobody.years.empty


def test_copy_to_writes_every_row(store: Path, tmp_path: Path) -> None:
    with StoreReader(store) as reader:
        out = tmp_path / "it's flows.csv"  # a quote in the path must not break the COPY
        assert reader.copy_to("flows", out, "FORMAT CSV, HEADER") == 4
    written = pd.read_csv(out)
    assert len(written) == 4 and written["n"].sum() == 12.0
