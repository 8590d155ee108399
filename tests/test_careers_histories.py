"""Author histories as career evidence: a small replayed example, before and after.

Six persons publish in the covered venues (2014-2022); four are linked to OpenAlex authors
(by ``openalex:`` id or by ORCID) whose histories are fetched from the loopback API
(tests/openalex_replay.py) and read by the sources code into ``author_affiliations``. The
careers and indicators stages then run with ``evidence="papers"`` and
``evidence="papers+histories"``; docs/openalex_api.md quotes the figures this test asserts.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from talentflow.careers import stage as careers_stage
from talentflow.context import StageContext
from talentflow.indicators import stage as indicators_stage
from talentflow.indicators.compute import IndicatorParams, compute
from talentflow.sources import openalex_authors
from talentflow.sources.openalex_api import Client, Politeness, fetch_authors
from tests.openalex_replay import Replay, author, replay_server

CN, US = ("I1", "Tsinghua University", "CN"), ("I2", "Stanford University", "US")

#: person -> (known ids, papers as (year, country)); papers name the same institutions.
PERSONS: dict[str, tuple[list[str], list[tuple[int, str]]]] = {
    # left for the US, went home after 2019 (seen only outside the covered venues)
    "P1": (["openalex:A1"], [(2014, "CN"), (2015, "CN"), (2017, "US"), (2018, "US"), (2019, "US")]),
    # left for the US and stayed
    "P2": (["openalex:A2"], [(2014, "CN"), (2016, "US"), (2017, "US"), (2018, "US")]),
    # stayed (papers every year up to the last year of the data)
    "P3": ([], [(y, "CN") for y in range(2014, 2023)]),
    # left, no OpenAlex link: what the venues show stays all we know
    "P4": ([], [(2015, "CN"), (2017, "US"), (2018, "US")]),
    # linked by ORCID only; went home in 2019
    "P5": (["orcid:0000-0002-1825-0097"], [(2014, "CN"), (2016, "US"), (2017, "US")]),
    # last covered paper in China in 2016; the history shows a move to the US in 2018
    "P6": (["openalex:A6"], [(2014, "CN"), (2015, "CN"), (2016, "CN")]),
}

HISTORIES = [
    author("A1", "P One", [(*CN, [2014, 2015, 2020, 2021, 2022]), (*US, [2017, 2018, 2019])], None),
    author("A2", "P Two", [(*CN, [2014]), (*US, [2016, 2017, 2018, 2019, 2020, 2021])], None),
    author(
        "A5",
        "P Five",
        [(*CN, [2014, 2019, 2020, 2021]), (*US, [2016, 2017])],
        "0000-0002-1825-0097",
    ),
    author("A6", "P Six", [(*CN, [2014, 2015, 2016]), (*US, [2018, 2019, 2020])], None),
]

NAMES = {"CN": CN[1], "US": US[1]}


def _authorships() -> pd.DataFrame:
    rows = [
        {
            "person_id": pid,
            "paper_id": f"{pid}-{year}",
            "year": year,
            "institution": NAMES[cc],
            "country": cc,
            "sector": "education",
            "career_position": None,
            "venue": "nips",
        }
        for pid, (_, papers) in PERSONS.items()
        for year, cc in papers
    ]
    return pd.DataFrame(rows).astype({"career_position": "string"})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Author pages fetched from the loopback API, as `fetch openalex-authors --db` does."""
    root = tmp_path_factory.mktemp("histories")
    ids = [k.removeprefix("openalex:") for ks, _ in PERSONS.values() for k in ks if "openalex" in k]
    orcids = [k.removeprefix("orcid:") for ks, _ in PERSONS.values() for k in ks if "orcid" in k]
    state = Replay({"authors": HISTORIES})
    with replay_server(state), Client(state.url, Politeness(base_delay=0.0)) as client:
        report = fetch_authors(client, root, ids, orcids, name="example")
    assert report.complete and report.records == 4
    return root


def _store(data_dir: Path, evidence: str, path: Path | None = None) -> Any:
    con = ibis.duckdb.connect(str(path) if path else ":memory:")
    con.create_table("authorships", ibis.memtable(_authorships()))
    persons = pd.DataFrame(
        {
            "person_id": list(PERSONS),
            "display_name": [f"Person {p}" for p in PERSONS],
            "known_ids": [k for k, _ in PERSONS.values()],
            "first_year": [min(y for y, _ in papers) for _, papers in PERSONS.values()],
            "last_year": [max(y for y, _ in papers) for _, papers in PERSONS.values()],
            "n_papers": [len(papers) for _, papers in PERSONS.values()],
        }
    )
    con.create_table("persons", ibis.memtable(persons).mutate(n_authorships=ibis._.n_papers))
    openalex_authors.ingest(con.con, data_dir)
    ctx = StageContext(con=con, previous=None, data_dir=None, params={"b": 2, "evidence": evidence})
    careers_stage.run(ctx)
    return con


def _figures(con: Any) -> dict[str, float]:
    out = compute(
        indicators_stage.read_inputs(con),
        IndicatorParams(replicates=0, min_cell=0, groupings=(), stages=False),
    )
    ret = out["returns"]
    ret = ret[(ret["country"] == "CN") & (ret["subset"] == "all")].set_index("k")
    keep = out["retention"]
    keep = keep[
        (keep["country"] == "CN")
        & (keep["basis"] == "first_observed")
        & (keep["subset"] == "all")
        & keep["cohort_year"].isna()  # pooled over cohorts
    ].set_index("k")
    events = con.table("events").filter(ibis._.level == "country").to_pandas()
    return {
        "returns": int((events["kind"] == "return").sum()),
        "migrations": int((events["kind"] == "migration").sum()),
        # Kaplan-Meier shares at the last horizon with persons at risk in both readings
        "return_share_k2": round(float(ret.loc[2, "return_share"]), 3),
        "return_share_k3": round(float(ret.loc[3, "return_share"]), 3) if 3 in ret.index else None,
        "retained_share_k4": round(float(keep.loc[4, "retained_share"]), 3),
    }


def test_histories_fill_years_and_show_returns_outside_the_venues(data_dir: Path) -> None:
    rows = ibis.duckdb.connect()
    openalex_authors.ingest(rows.con, data_dir)
    assert rows.table("author_affiliations").count().execute() == 8 + 7 + 6 + 6

    before = _store(data_dir, "papers")
    after = _store(data_dir, "papers+histories")
    b, a = _figures(before), _figures(after)
    # venues only: four persons left China, nobody is seen coming back (and nobody is at
    # risk of a return 3 years after leaving: the venues lose sight of them first)
    assert b == {
        "returns": 0,
        "migrations": 4,
        "return_share_k2": 0.0,
        "return_share_k3": None,
        "retained_share_k4": 0.25,
    }
    # with histories: P1 and P5 return after 3 years, P6 leaves (seen only in the history)
    assert a == {
        "returns": 2,
        "migrations": 5,
        "return_share_k2": 0.0,
        "return_share_k3": 0.667,
        "retained_share_k4": 0.167,
    }

    py = after.table("person_years").to_pandas().set_index(["person_id", "year"])
    assert py.loc[("P1", 2020), "evidence"] == "openalex_history"
    assert py.loc[("P1", 2020), "country"] == "CN" and py.loc[("P1", 2020), "n_papers"] == 0
    assert py.loc[("P1", 2017), "evidence"] == "paper"
    assert py.loc[("P4", 2016), "evidence"] == "backfill"  # no history: the gap year is filled
    # P3 (no link) and paper years are untouched; history years stop at the data's last year
    assert set(py.loc["P3", "evidence"]) == {"paper"}
    assert py.index.get_level_values("year").max() == 2022
    # the venue-only reading labels every year too, and has no history year
    assert set(before.table("person_years").to_pandas()["evidence"]) == {"paper", "backfill"}

    ev = after.table("events").filter(ibis._.level == "country").to_pandas()
    ret = ev[ev["kind"] == "return"].set_index("person_id")
    assert sorted(ret.index) == ["P1", "P5"]
    assert list(ret.loc["P1", "flags"]).count("openalex_history") == 1
    assert ret.loc["P1", "year"] == 2020 and ret.loc["P5", "year"] == 2019

    p1 = after.table("person_years").filter(ibis._.person_id == "P1").order_by("year")
    assert (
        list(p1.to_pandas()["evidence"])
        == ["paper"] * 2 + ["backfill"] + ["paper"] * 3 + ["openalex_history"] * 3
    )

    params = after.table("build_params").to_pandas()
    assert params[(params.stage == "careers") & (params.name == "evidence")].value.tolist() == [
        '"papers+histories"'
    ]


def test_unknown_evidence_is_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="papers, papers\\+histories"):
        _store(data_dir, "histories")


def test_web_labels_the_evidence(data_dir: Path, tmp_path: Path) -> None:
    from talentflow.web import create_app

    with warnings.catch_warnings():
        # Starlette warns (at import) that its TestClient moves off httpx; it works as documented.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    db = tmp_path / "store.duckdb"
    _store(data_dir, "papers+histories", db).disconnect()
    client = TestClient(create_app(db))
    methods = client.get("/api/methods").json()
    assert methods["careers_evidence"] == "papers+histories"
    counts = {r["evidence"]: r["person_years"] for r in methods["evidence"]}
    # P1 2020-22, P2 2019-21 (2022: no history), P5 2019-21, P6 2018-20
    assert counts["openalex_history"] == 3 + 3 + 3 + 3
    page = client.get("/methods").text
    assert "papers in the covered venues and OpenAlex author histories" in page
    person = client.get("/person/P1").text
    assert "square-open" in person and "openalex_history" in person
    from typer.testing import CliRunner

    from talentflow.cli import app

    shown = CliRunner().invoke(app, ["person", "P1", "--db", str(db)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    years = {line.split()[1]: line for line in shown.output.splitlines() if line.startswith("│ 20")}
    assert "(OpenAlex history)" in years["2020"] and "(gap)" in years["2016"]
    assert "return US->CN" in shown.output and "openalex_history" in shown.output


@pytest.mark.spark
def test_histories_agree_on_duckdb_and_spark(data_dir: Path, spark_session_shared: Any) -> None:
    duck = _store(data_dir, "papers+histories")
    from talentflow.engines import engine_of
    from talentflow.engines.spark import connect_spark

    spark = connect_spark(session=spark_session_shared)
    # the stage reads the store's own names: a database of its own keeps them apart
    spark.raw_sql("CREATE DATABASE IF NOT EXISTS histories_parity")
    spark_session_shared.catalog.setCurrentDatabase("histories_parity")
    try:
        engine_of(duck).copy_tables(
            engine_of(spark), ["authorships", "persons", "author_affiliations"]
        )
        ctx = StageContext(
            con=spark,
            previous=None,
            data_dir=None,
            params={"b": 2, "evidence": "papers+histories"},
            engine=engine_of(spark),
        )
        careers_stage.run(ctx)
        cols = ["person_id", "year", "country", "evidence"]

        def rows(con: Any) -> list[tuple]:
            df = con.table("person_years").select(*cols).to_pandas()
            return sorted(map(tuple, df.astype(str).to_numpy().tolist()))

        assert rows(spark) == rows(duck)
        ev = ["person_id", "year", "kind", "to_country"]
        on_spark = spark.table("events").filter(ibis._.level == "country").to_pandas()
        on_duck = duck.table("events").filter(ibis._.level == "country").to_pandas()
        assert sorted(map(tuple, on_spark[ev].astype(str).to_numpy().tolist())) == sorted(
            map(tuple, on_duck[ev].astype(str).to_numpy().tolist())
        )
        flagged = on_spark[on_spark["flags"].map(lambda f: "openalex_history" in list(f))]
        assert sorted(flagged["person_id"]) == ["P1", "P5", "P6"]
    finally:
        spark_session_shared.catalog.setCurrentDatabase("default")
