"""Surfaces and coverage: last complete year, the LLM era, denominators of origin -> work.

A small web store (tests/test_web_store.py, years 2012-2023) with a ``coverage`` table calling
2023 (like 2025 in the real corpus) and 2016 incomplete, ``complete_year`` on ``country_year``
and ``llm_era_start = 2019`` recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from talentflow.engines import connect
from talentflow.web import charts as ch
from talentflow.web import params as pv
from talentflow.web.queries import Queries
from tests.test_web_store import YEARS, make_store

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
INCOMPLETE = {2016, 2023}


@pytest.fixture(scope="module")
def q(tmp_path_factory: pytest.TempPathFactory) -> Queries:
    path = make_store(tmp_path_factory.mktemp("cov") / "store.duckdb", coverage=False)
    con = connect(path)
    cov = pd.DataFrame(
        {
            "venue": "all",
            "year": YEARS,
            "papers": 100,
            "complete": [y not in INCOMPLETE for y in YEARS],
        }
    )
    con.create_table("coverage", cov)
    cy = con.table("country_year")
    con.create_table(
        "country_year_flagged", cy.mutate(complete_year=~cy.year.isin(list(INCOMPLETE)))
    )
    con.drop_table("country_year")
    con.create_table("country_year", con.table("country_year_flagged"))
    con.drop_table("country_year_flagged")
    params = con.table("build_params").to_pyarrow().to_pandas()
    extra = pd.DataFrame(
        {"stage": ["indicators"], "name": ["llm_era_start"], "value": [json.dumps(2019)]}
    )
    con.create_table("build_params", pd.concat([params, extra]), overwrite=True)
    con.disconnect()
    queries = Queries(Path(path))
    yield queries
    queries.close()


def test_defaults_use_the_last_complete_year(q: Queries) -> None:
    assert q.last_complete_year() == 2022
    assert q.incomplete_years() == [2016, 2023]
    assert pv.period(q, None, None) == (2012, 2022)
    assert pv.year(q, None) == 2022
    assert pv.year(q, 2023) == 2023  # asked for explicitly: shown, and flagged


def test_headline_reads_the_last_complete_year(q: Queries) -> None:
    chart = ch.share_chart(q, "CN", 2012, 2023)
    assert chart.reading.startswith("In 2022,"), chart.reading
    assert "2016, 2023" in chart.note and "incomplete" in chart.note.lower()
    # the series itself keeps the incomplete years, flagged
    flags = chart.table.set_index("year")["complete_year"]
    assert not flags[2023] and flags[2022]


def test_llm_series_starts_at_the_era(q: Queries) -> None:
    chart = ch.llm_chart(q, "CN", 2012, 2022)
    llm = chart.table[chart.table["subset"] == "llm"]
    assert len(llm) and llm["year"].min() == 2019
    assert chart.table[chart.table["subset"] == "all"]["year"].min() == 2012
    assert "2019" in chart.title and "LLM era" in chart.title
    assert "language-model" in chart.reading and "since 2019" in chart.reading
    assert chart.params["start"] == 2019
    # a period before the era has no LLM series at all
    early = ch.llm_chart(q, "CN", 2012, 2015)
    assert not (early.table["subset"] == "llm").any()
    assert "starts in 2019" in early.reading


def test_stay_reading_divides_by_a_known_origin() -> None:
    df = pd.DataFrame(
        {
            "origin_country": ["CN", "CN", "unknown", "unknown"],
            "work_country": ["CN", "US", "CN", "US"],
            "n": [30.0, 10.0, 40.0, 20.0],
            "unknown_origin_share": [0.6, 0.6, 0.6, 0.6],
        }
    )
    text = ch._stay_reading(df, "all2023", "training")
    # 30 of the 40 with a known origin stay (75%); the old reading gave 30 of 100
    assert "of the 40 researchers whose origin (training) is known, 75% work" in text
    assert "60% of the population is unknown" in text


SIZES = pd.DataFrame(
    {
        "population": ["all2024", "icml2024", "nips2021-2024", "nips2024", "www2025"],
        "persons": [30000.0, 5000.0, 32000.0, 17000.0, 900.0],
    }
)
POPS = list(SIZES["population"])


def test_default_population_is_a_decided_population_of_complete_years() -> None:
    from talentflow.read import flagship_population

    done = [2021, 2022, 2023, 2024]
    # no decisions in the store: the pooled NeurIPS population of complete years (flagship)
    assert flagship_population(POPS, done, 2024, SIZES, None) == "nips2021-2024"
    # NeurIPS without decisions: the largest decided venue-year of the last complete year
    assert flagship_population(POPS, done, 2024, SIZES, ["icml2024"]) == "icml2024"
    # decided venue-years, none of them in the last complete year: the largest one still
    assert flagship_population(POPS, done, 2024, SIZES, ["icml2021"]) == "nips2024"
    # a store with no decision at all does not restrict
    assert flagship_population(POPS, done, 2024, SIZES, []) == "nips2021-2024"
    # NeurIPS decided in every year: the pool; a pool with an incomplete year is not used
    decided = [f"nips{y}" for y in done]
    assert flagship_population(POPS, done, 2024, SIZES, decided) == "nips2021-2024"
    assert flagship_population(POPS, [2022, 2023, 2024], 2024, SIZES, decided) == "nips2024"
