"""The flows page's three-stage Sankey: first observed -> training -> work of a population."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from talentflow.engines import connect
from talentflow.web import create_app
from talentflow.web.charts import NOT_KNOWN, wilson
from tests.test_web_store import make_store

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Enough authors per venue-year that some paths pass the minimum cell of 5.
    return make_store(tmp_path_factory.mktemp("pathways") / "store.duckdb", n_persons=400)


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


def _expected_paths(db: Path, venue: str, year: int, llm_only: bool = False) -> pd.DataFrame:
    """The population's persons and their three countries, read back independently
    (``llm_only``: the authors of its LLM papers of the LLM era)."""
    con = connect(db, read_only=True)
    try:
        a = con.table("authorships").to_pyarrow().to_pandas()
        py = con.table("person_years").to_pyarrow().to_pandas()
        pp = con.table("person_profile").to_pyarrow().to_pandas()
        sf = con.table("paper_subfields").to_pyarrow().to_pandas()
    finally:
        con.disconnect()
    a = a[(a["venue"] == venue) & (a["year"] == year)]
    if llm_only:
        llm = sf[(sf["subfield"] == "llm") & sf["is_llm_era"]]["paper_id"]
        a = a[a["paper_id"].isin(llm)]
    who = a[["person_id"]].drop_duplicates()
    work = py[py["year"] == year][["person_id", "country"]]
    return who.merge(work, on="person_id").merge(
        pp[["person_id", "first_country", "training_country"]], on="person_id", how="left"
    )


def test_paths_count_each_author_once_with_three_stages(db: Path, client: TestClient) -> None:
    expected = _expected_paths(db, "nips", 2021)
    assert len(expected) >= 5  # the fixture has a population to draw
    body = client.get("/api/flows/pathways", params={"population": "nips2021"}).json()
    assert body["id"] == "sankey"
    assert f"{len(expected):,} authors" in body["reading"]
    known = expected["training_country"].notna().mean()
    assert f"known for {known:.0%}" in body["reading"]
    stay = (expected["first_country"] == expected["country"]).mean()
    assert f"{stay:.0%} work in the country where they were first observed" in body["reading"]
    rows = body["rows"]
    assert len(rows) >= 3
    assert {"origin_country", "training_country", "work_country", "n"} <= set(body["columns"])
    # a person without a training country is its own node, not dropped
    missing = int(expected["training_country"].isna().sum())
    assert (
        missing and 0 < sum(r["n"] for r in rows if r["training_country"] == NOT_KNOWN) <= missing
    )
    # every path shown is a path of the population (countries outside the top ten pooled)
    paths = set(
        zip(
            expected["first_country"],
            expected["training_country"].fillna(NOT_KNOWN),
            expected["country"],
            strict=True,
        )
    )
    for r in rows:
        if "Other" not in (r["origin_country"], r["training_country"], r["work_country"]):
            assert (r["origin_country"], r["training_country"], r["work_country"]) in paths
    # small paths are left out of the table and counted in the note
    shown = sum(r["n"] for r in rows)
    assert shown <= len(expected)
    assert all(r["n"] >= 5 for r in rows)
    hidden = int(len(expected) - shown)
    assert f"({hidden:,} persons) are left out" in body["note"]
    for r in rows:
        assert r["value"] == pytest.approx(r["n"] / len(expected))
        assert r["ci_low"] <= r["value"] <= r["ci_high"]


def test_wilson_interval_is_a_proper_interval() -> None:
    lo, hi = wilson(0.0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0 < hi < 0.35
    lo, hi = wilson(5.0, 10)
    assert lo < 0.5 < hi and lo == pytest.approx(1 - hi)


def test_sankey_figure_has_origin_training_and_work_columns(client: TestClient) -> None:
    r = client.get("/flows", params={"population": "nips2021"})
    assert r.status_code == 200
    html = r.text
    for head in ("First observed in", "Trained in", "Works in"):
        assert head in html
    assert 'id="sankey"' in html and 'id="origin-work"' in html
    assert "/api/flows/pathways?population=nips2021&amp;subset=all&amp;format=csv" in html


def test_unknown_population_is_422(client: TestClient) -> None:
    r = client.get("/api/flows/pathways", params={"population": "nips1999"})
    assert r.status_code == 422 and "unknown population" in r.json()["detail"][0]["msg"]


def _figure(html: str, chart: str) -> dict:
    found = re.search(
        rf'<script type="application/json" id="fig-{chart}">(.*?)</script>', html, re.S
    )
    assert found is not None
    figure: dict = json.loads(found.group(1))
    return figure


def test_authors_selector_narrows_the_three_stage_sankey(db: Path, client: TestClient) -> None:
    everyone = _expected_paths(db, "nips", 2021)
    llm = _expected_paths(db, "nips", 2021, llm_only=True)
    assert 5 <= len(llm) < len(everyone)  # the fixture's LLM authors are a strict part
    body = client.get(
        "/api/flows/pathways", params={"population": "nips2021", "subset": "llm"}
    ).json()
    assert f"{len(llm):,} authors" in body["reading"]
    assert "authors of LLM-era LLM papers" in body["reading"]
    assert body["params"]["subset"] == "llm"
    assert sum(r["n"] for r in body["rows"]) <= len(llm)
    # the page's diagram follows the Authors selector (same population, other subset)
    pages = {
        sub: client.get("/flows", params={"population": "nips2021", "subset": sub})
        for sub in ("all", "llm")
    }
    assert all(r.status_code == 200 for r in pages.values())
    flows = {sub: _figure(r.text, "sankey")["data"][0]["link"]["value"] for sub, r in pages.items()}
    assert sum(flows["llm"]) < sum(flows["all"])
    assert "/api/flows/pathways?population=nips2021&amp;subset=llm" in pages["llm"].text
    # a pooled population follows it too
    pooled = {
        sub: client.get(
            "/api/flows/pathways", params={"population": "nips2020-2022", "subset": sub}
        ).json()["reading"]
        for sub in ("all", "llm")
    }
    assert pooled["all"] != pooled["llm"]


def test_unknown_subset_is_422_and_an_error_page(client: TestClient) -> None:
    r = client.get("/api/flows/pathways", params={"population": "nips2021", "subset": "poetry"})
    assert r.status_code == 422 and "unknown subset" in r.json()["detail"][0]["msg"]
    page = client.get("/flows", params={"subset": "poetry"})
    assert page.status_code == 422 and "Cannot show this view" in page.text
    assert "unknown subset" in page.text
