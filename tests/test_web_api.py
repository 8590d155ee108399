"""The JSON API and pages in-process (FastAPI TestClient) on a small store built in code."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from talentflow.web import create_app
from tests.test_web_store import COUNTRIES, YEARS, shared_store

with warnings.catch_warnings():
    # Starlette warns (at import) that its TestClient moves off httpx; it works as documented.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = shared_store(tmp_path_factory)
    with TestClient(create_app(db)) as c:
        yield c


def test_meta_lists_what_the_store_has(client: TestClient) -> None:
    meta = client.get("/api/meta").json()
    assert {c["code"] for c in meta["countries"]} == set(COUNTRIES)
    assert meta["years"] == [YEARS[0], YEARS[-1]]
    assert meta["populations"] == ["iclr2021", "nips2020-2022", "nips2021", "nips2023"]
    assert {"code": "CN", "name": "China"} in meta["countries"]


def test_overview_defaults_to_china_and_has_five_answers(client: TestClient) -> None:
    body = client.get("/api/overview").json()
    # the default period ends at the last complete year (the store's last year is incomplete)
    assert body["country"] == "CN" and (body["start"], body["end"]) == (YEARS[0], YEARS[-2])
    ids = [c["id"] for c in body["charts"]]
    assert ids == ["retention", "bilateral", "returns", "share", "llm"]
    for chart in body["charts"]:
        assert chart["reading"] and chart["rows"], chart["id"]
        assert {"value", "ci_low", "ci_high"} <= set(chart["columns"]), chart["id"]
    share = next(c for c in body["charts"] if c["id"] == "share")
    assert "China" in share["reading"]
    assert [r["year"] for r in share["rows"]] == YEARS[:-1]
    for r in share["rows"]:
        assert r["ci_low"] <= r["value"] <= r["ci_high"]


def test_overview_follows_country_and_period(client: TestClient) -> None:
    body = client.get("/api/overview", params={"country": "de", "start": 2015, "end": 2017}).json()
    assert body["country"] == "DE"
    share = next(c for c in body["charts"] if c["id"] == "share")
    assert [r["year"] for r in share["rows"]] == [2015, 2016, 2017]
    assert "Germany" in share["reading"]
    bilateral = next(c for c in body["charts"] if c["id"] == "bilateral")
    assert {(r["from_country"], r["to_country"]) for r in bilateral["rows"]} == {
        ("DE", "US"),
        ("US", "DE"),
    }


@pytest.mark.parametrize(
    ("url", "field", "words"),
    [
        ("/api/overview?country=XX", "country", "unknown country 'XX'"),
        ("/api/overview?country=China", "country", "unknown country"),
        ("/api/overview?start=2020&end=2015", "start", "inverted year range"),
        ("/api/map?year=1990", "year", "outside the years"),
        ("/api/flows/bilateral?a=CN&b=ZZ", "b", "unknown country 'ZZ'"),
        ("/api/flows/origin-work?population=nips1999", "population", "unknown population"),
        ("/api/series?sector=mining", "sector", "unknown sector"),
        ("/api/countries/QQ", "code", "unknown country"),
    ],
)
def test_bad_parameters_are_422_with_a_clear_message(
    client: TestClient, url: str, field: str, words: str
) -> None:
    r = client.get(url)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"][-1] == field
    assert words in detail["msg"]


def test_schema_violations_are_422(client: TestClient) -> None:
    assert client.get("/api/map?metric=nonsense").status_code == 422
    assert client.get("/api/search?q=" + "x" * 101).status_code == 422
    assert client.get("/api/search?q=li&limit=51").status_code == 422
    assert client.get("/api/overview?start=1800").status_code == 422


def test_csv_download_matches_json(client: TestClient) -> None:
    params = {"country": "US", "start": 2014, "end": 2016, "measure": "net_rate"}
    rows = client.get("/api/series", params=params).json()["rows"]
    r = client.get("/api/series", params={**params, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    # named by its parameters, with '#' metadata lines before the header row
    assert (
        'filename="talentflow-series-net_rate-country-US-start-2014-end-2016'
        in (r.headers["content-disposition"])
    )
    meta = [line for line in r.text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# parameters: country=US, start=2014, end=2016") for line in meta)
    assert any(line.startswith("# store years: 2012-2023") for line in meta)
    assert any("talentflow_version=0.1.0" in line for line in meta)
    body = "\n".join(line for line in r.text.splitlines() if not line.startswith("#"))
    parsed = list(csv.DictReader(io.StringIO(body)))
    assert [int(p["year"]) for p in parsed] == [row["year"] for row in rows]
    assert [float(p["value"]) for p in parsed] == pytest.approx([row["value"] for row in rows])


def test_map_covers_countries_and_uses_iso3_geometry_keys(client: TestClient) -> None:
    body = client.get("/api/map", params={"metric": "net_rate", "year": 2016}).json()
    assert {r["country"] for r in body["rows"]} == set(COUNTRIES)
    retention = client.get("/api/map", params={"metric": "retention", "year": 2015, "k": 3}).json()
    assert retention["params"]["k"] == 3 and retention["rows"]
    assert all(0 <= r["value"] <= 1 for r in retention["rows"] if r["value"] is not None)


def test_origin_work_excludes_margin_rows(client: TestClient) -> None:
    body = client.get("/api/flows/origin-work", params={"population": "nips2021"}).json()
    origins = {r["origin_country"] for r in body["rows"]}
    assert "ALL" not in origins and "unknown" in origins


def test_sector_flows_and_top_pairs(client: TestClient) -> None:
    sectors = client.get("/api/flows/sectors", params={"country": "FR"}).json()
    assert {(r["from_sector"], r["to_sector"]) for r in sectors["rows"]} == {
        ("academia", "industry"),
        ("industry", "academia"),
    }
    top = client.get("/api/flows/top", params={"start": 2020, "end": 2023}).json()
    pairs = {(r["from_country"], r["to_country"]) for r in top["rows"]}
    assert 1 <= len(pairs) <= 6
    assert all(2020 <= r["year"] <= 2023 for r in top["rows"])  # pooled (NULL-year) rows excluded


def test_country_profile_parts(client: TestClient) -> None:
    body = client.get("/api/countries/CN", params={"year": 2018}).json()
    assert [c["id"] for c in body["charts"]] == [
        "destinations",
        "sources",
        "alumni",
        "sector_mix",
        "stages",
    ]
    dest = body["charts"][0]["rows"]
    assert dest and all(r["partner"] != "CN" for r in dest)
    assert client.get("/api/countries/CN?part=alumni&format=csv").status_code == 200
    assert client.get("/api/countries/CN?format=csv").status_code == 422


def test_person_institution_and_search(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "müller"}).json()
    assert found["persons"] and all("Müller" in p["display_name"] for p in found["persons"])
    pid = found["persons"][0]["person_id"]
    person = client.get(f"/api/persons/{pid}").json()
    assert person["person"]["person_id"] == pid
    assert [y["year"] for y in person["years"]] == sorted(y["year"] for y in person["years"])
    assert client.get("/api/persons/P99999").status_code == 422
    assert client.get("/api/persons/bad%20id").status_code == 422
    inst = client.get("/api/institutions", params={"name": "Google"}).json()
    assert [c["id"] for c in inst["charts"]][:2] == ["inst_years", "inst_stages"]
    hit = client.get("/api/search", params={"q": "google"}).json()["institutions"][0]
    assert hit["institution"] == "Google"


def _store_rows(tmp_path_factory: pytest.TempPathFactory, sql: str) -> list[tuple]:
    """Rows of ``sql`` read straight from the test store (what the API must agree with)."""
    import duckdb

    con = duckdb.connect(str(shared_store(tmp_path_factory)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_search_gives_an_institution_its_most_frequent_country(
    tmp_path_factory: pytest.TempPathFactory, client: TestClient
) -> None:
    counts = _store_rows(
        tmp_path_factory,
        "SELECT institution, country, count(*) FROM person_years WHERE country IS NOT NULL "
        "AND lower(institution) LIKE '%univ%' GROUP BY ALL",
    )
    best: dict[str, tuple[int, str]] = {}
    for inst, country, n in counts:  # most rows, ties to the first country name
        if inst not in best or (-n, country) < (-best[inst][0], best[inst][1]):
            best[inst] = (n, country)
    found = client.get("/api/search", params={"q": "univ", "limit": 50}).json()["institutions"]
    assert found and all(r["country"] == best[r["institution"]][1] for r in found)


def test_search_input_is_data_not_sql(client: TestClient) -> None:
    for text in ["' OR 1=1 --", "%", "_", "x'); DROP TABLE persons; --"]:
        r = client.get("/api/search", params={"q": text})
        assert r.status_code == 200
        assert r.json()["persons"] == []
    assert client.get("/api/meta").json()["countries"]  # the store is intact


def test_methods(client: TestClient) -> None:
    body = client.get("/api/methods").json()
    assert {r["venue"] for r in body["coverage"]} == {"nips", "iclr"}
    assert {(p["stage"], p["name"]) for p in body["build_params"]} >= {("indicators", "min_cell")}
    assert body["limitations"] and body["build_info"]["engine"] == "duckdb"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?country=US&start=2015&end=2020",
        "/map",
        "/map?metric=retention&year=2015&k=3",
        "/map?metric=net_rate",
        "/flows",
        "/flows?population=iclr2021&basis=training&a=GB&b=FR",
        "/country/JP?year=2016",
        "/institution?name=Inria",
        "/person/P00001",
        "/search?q=smith",
        "/search",
        "/methods",
    ],
)
def test_pages_render(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "https://" not in r.text and "http://" not in r.text  # nothing loaded from elsewhere
    assert "/assets/plotly.min.js" in r.text


def test_page_with_bad_filter_is_422_page(client: TestClient) -> None:
    r = client.get("/?country=XX")
    assert r.status_code == 422
    assert "unknown country" in r.text


def test_country_redirect(client: TestClient) -> None:
    r = client.get("/country?code=fr&year=2015", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/country/FR?year=2015"


def test_security_surface(client: TestClient) -> None:
    # plotly.js comes from the installed package; the map geometry from the static folder
    js = client.get("/assets/plotly.min.js")
    assert js.status_code == 200 and b"plotly.js" in js.content[:200]
    assert client.get("/static/topojson/world_110m.json").json()["objects"]["countries"]
    # nothing outside the static folder
    for path in [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fqueries.py",
        "/static//etc/passwd",
    ]:
        assert client.get(path).status_code == 404, path
    # read-only server: GET only; capped URL size
    assert client.post("/api/meta").status_code == 405
    assert client.get("/api/search?q=" + "a" * 3000).status_code == 414
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp


def test_store_is_opened_read_only(client: TestClient) -> None:
    q = client.app.state.queries  # type: ignore[attr-defined]
    with pytest.raises(Exception, match=r"(?i)read.only"):
        q.con.raw_sql("DELETE FROM persons")


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/overview",
        "/api/map",
        "/api/flows/bilateral",
        "/api/search",
        "/api/methods",
    } <= paths
    assert not any(not p.startswith("/api/") for p in paths)  # pages are not part of the API


def test_serve_defaults_to_loopback() -> None:
    import inspect

    from talentflow.web import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    from talentflow.store import StoreError

    with pytest.raises(StoreError, match="no store"):
        create_app(tmp_path / "missing.duckdb")


def test_search_shows_each_person_main_institutions_country_and_years(
    tmp_path_factory: pytest.TempPathFactory, client: TestClient
) -> None:
    rows = _store_rows(
        tmp_path_factory,
        "SELECT person_id, institution, country FROM person_years WHERE person_id IN "
        "(SELECT person_id FROM persons WHERE lower(display_name) LIKE '%li wei%')",
    )
    from collections import Counter, defaultdict

    insts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    countries: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for pid, inst, country in rows:
        insts[pid].update([inst] if inst is not None else [])
        countries[pid].update([country] if country is not None else [])

    def top(counts: Counter[str], k: int) -> list[str]:  # most years, ties to the name
        return sorted(counts, key=lambda v: (-counts[v], v))[:k]

    found = client.get("/api/search", params={"q": "li wei", "limit": 50}).json()["persons"]
    assert len(found) > 1  # namesakes to tell apart
    for p in found:
        assert p["institutions"] == "; ".join(top(insts[p["person_id"]], 2))
        assert p["country"] == top(countries[p["person_id"]], 1)[0]
        assert p["first_year"] <= p["last_year"]
    # The page shows them beside each name.
    page = client.get("/search", params={"q": "li wei"}).text
    first = found[0]
    assert first["institutions"].split("; ")[0] in page
    assert f"{first['first_year']}–{first['last_year']}" in page
