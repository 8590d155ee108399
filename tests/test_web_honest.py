"""The dashboard answers honestly: defaults on complete years, marked coverage, conditional
shares, readings that match their bars, zero bounds, bad URLs answered with what is valid."""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from talentflow.web import create_app
from talentflow.web.marks import ZERO_UPPER
from tests.test_web_store import (
    COVERAGE_CHANGE_YEAR,
    INCOMPLETE_YEAR,
    YEARS,
    make_store,
    shared_store,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(shared_store(tmp_path_factory))) as c:
        yield c


@pytest.fixture(scope="module")
def no_coverage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = make_store(tmp_path_factory.mktemp("web-nocov") / "s.duckdb", coverage=False)
    with TestClient(create_app(db)) as c:
        yield c


def _chart(body: dict, cid: str) -> dict:
    return next(c for c in body["charts"] if c["id"] == cid)


def test_meta_defaults_are_the_last_complete_year_and_the_flagship(client: TestClient) -> None:
    meta = client.get("/api/meta").json()
    assert meta["default_year"] == INCOMPLETE_YEAR - 1
    assert meta["complete_years"] == [y for y in YEARS if y != INCOMPLETE_YEAR]
    assert meta["incomplete_years"] == [INCOMPLETE_YEAR]
    assert COVERAGE_CHANGE_YEAR in meta["coverage_changes"]
    # a pooled NeurIPS population whose years are all complete beats nips2023 (incomplete)
    assert meta["default_population"] == "nips2020-2022"
    groups = meta["population_groups"]
    assert groups[0]["label"] == "Pooled"
    assert groups[0]["populations"][0]["id"] == "nips2020-2022"
    neurips = next(g for g in groups if g["label"] == "NeurIPS")
    assert [p["id"] for p in neurips["populations"]] == ["nips2023", "nips2021"]  # newest first
    assert "incomplete" in neurips["populations"][0]["label"]


def test_without_coverage_the_store_says_coverage_unknown(no_coverage: TestClient) -> None:
    meta = no_coverage.get("/api/meta").json()
    assert meta["complete_years"] is None and meta["incomplete_years"] is None
    assert meta["default_year"] == YEARS[-1]  # nothing to say a year is partial
    page = no_coverage.get("/")
    assert page.status_code == 200 and "Coverage unknown" in page.text
    csv = no_coverage.get("/api/series?country=CN&format=csv").text
    assert "# complete years: coverage unknown" in csv


def test_pages_open_on_the_defaults(client: TestClient) -> None:
    last = str(INCOMPLETE_YEAR - 1)
    assert f'data-canonical="/map?metric=stock_share&amp;year={last}"' in client.get("/map").text
    country = client.get("/country/CN").text
    assert f"year={last}&amp;population=nips2020-2022" in country
    flows = client.get("/flows").text
    assert 'value="nips2020-2022" selected' in flows
    assert '<optgroup label="Pooled">' in flows and '<optgroup label="NeurIPS">' in flows


def test_readings_never_lead_with_an_incomplete_year(client: TestClient) -> None:
    body = client.get("/api/overview", params={"country": "CN", "end": INCOMPLETE_YEAR}).json()
    share = _chart(body, "share")
    assert share["reading"].startswith(f"In {INCOMPLETE_YEAR - 1}, China")
    assert f"{INCOMPLETE_YEAR}: incomplete coverage, not used" in share["reading"]
    flags = {r["year"]: r["complete_year"] for r in share["rows"]}
    assert flags[INCOMPLETE_YEAR] is False and flags[INCOMPLETE_YEAR - 1] is True
    returns = _chart(body, "returns")
    assert returns["reading"].startswith(f"{INCOMPLETE_YEAR - 1}:")
    # and the chart marks the incomplete year and the coverage change
    page = client.get(f"/?country=CN&end={INCOMPLETE_YEAR}").text
    assert "Incomplete years (greyed, open markers): " + str(INCOMPLETE_YEAR) in page
    assert f"Venue coverage changes before {COVERAGE_CHANGE_YEAR}" in page


def test_map_of_an_incomplete_year_says_so(client: TestClient) -> None:
    body = client.get("/api/map", params={"year": INCOMPLETE_YEAR}).json()
    assert body["reading"].startswith(f"{INCOMPLETE_YEAR} has incomplete coverage")


def test_alumni_reading_is_the_bar(client: TestClient) -> None:
    body = client.get("/api/countries/CN", params={"population": "nips2021"}).json()
    alumni = _chart(body, "alumni")
    own = next(r for r in alumni["rows"] if r["work_country"] == "CN")
    pct = int(re.search(r"(\d+)% work there", alumni["reading"]).group(1))  # type: ignore[union-attr]
    assert pct == round(100 * own["value"])
    # a share of the persons of that origin: the work countries add up to one
    assert sum(r["value"] for r in alumni["rows"] if r["value"] is not None) == pytest.approx(1)
    assert "unknown for" in alumni["reading"]  # the unknown-origin share is stated
    # the chart follows the population chosen
    other = _chart(client.get("/api/countries/CN?population=iclr2021").json(), "alumni")
    assert {r["population"] for r in other["rows"]} == {"iclr2021"}


def test_top_institutions_link_to_institution_pages(client: TestClient) -> None:
    html = client.get("/country/US?year=2021").text
    links = re.findall(r'href="(/institution\?name=[^"]+)"', html)
    assert links and all("year=2021" in unescape(link) for link in links)
    r = client.get(unescape(links[0]))
    assert r.status_code == 200 and "Career stages" in r.text


def _selected(html: str, name: str) -> str:
    """The selected option's value of the select ``name`` of a page."""
    select = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S)
    assert select is not None, name
    chosen = re.findall(r'<option value="([^"]*)" selected', select.group(1))
    assert len(chosen) == 1, name
    return unescape(chosen[0])


def _inst_persons(client: TestClient, name: str, year: int, population: str) -> int:
    body = client.get(
        "/api/institutions", params={"name": name, "year": year, "population": population}
    ).json()
    rows = _chart(body, "inst_years")["rows"]
    return next((int(r["persons"]) for r in rows if r["year"] == year), 0)


def _population_counts(db: Path, year: int, venue: str, first: int, last: int) -> dict:
    """Persons per institution in ``year`` among the authors of ``venue`` in first-last,
    and among everyone, read straight from the store."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT institution, count(DISTINCT person_id), count(DISTINCT person_id) FILTER "
            "(WHERE person_id IN (SELECT person_id FROM authorships WHERE venue = ? AND year "
            "BETWEEN ? AND ?)) FROM person_years WHERE year = ? GROUP BY institution",
            [venue, first, last, year],
        ).fetchall()
    finally:
        con.close()
    return {inst: (everyone, of_pop) for inst, everyone, of_pop in rows}


def test_institution_pages_filter_by_year_and_population(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    meta = client.get("/api/meta").json()
    pop, year = meta["default_population"], 2021
    assert pop == "nips2020-2022"
    truth = _population_counts(shared_store(tmp_path_factory), year, "nips", 2020, 2022)
    html = client.get(f"/country/US?year={year}").text
    rows = re.findall(
        r'<td><a href="(/institution\?[^"]+)">([^<]+)</a></td><td>[^<]*</td><td>(\d+)</td>', html
    )
    assert rows, "the country page lists its top institutions"
    for link, name, n in rows:
        query = parse_qs(urlsplit(unescape(link)).query)
        # the link carries the country page's year and population to the institution page
        assert query["year"] == [str(year)] and query["population"] == [pop]
        # the same persons are counted on both pages, and they are the population's
        assert int(n) == _inst_persons(client, unescape(name), year, pop)
        assert int(n) == truth[unescape(name)][1]
    # in 2019 (before the pool) the population is a strict part of everyone observed at
    # some institution: the filter changes the counts
    year = 2019
    truth = _population_counts(shared_store(tmp_path_factory), year, "nips", 2020, 2022)
    name = next(n for n, (everyone, of_pop) in truth.items() if 0 < of_pop < everyone)
    assert _inst_persons(client, name, year, "everyone") == truth[name][0]
    assert _inst_persons(client, name, year, pop) == truth[name][1]
    page = client.get("/institution", params={"name": name, "year": year, "population": pop})
    assert page.status_code == 200
    assert _selected(page.text, "year") == str(year) and _selected(page.text, "population") == pop
    assert "NeurIPS 2020–2022" in page.text  # the charts say whose careers they count


def test_institution_page_opens_on_the_meta_defaults(client: TestClient) -> None:
    meta = client.get("/api/meta").json()
    page = client.get("/institution", params={"name": "Google"})
    assert page.status_code == 200
    assert _selected(page.text, "year") == str(meta["default_year"])
    assert _selected(page.text, "population") == meta["default_population"]
    # and every researcher observed is one choice of the same selector
    assert '<option value="everyone"' in page.text
    everyone = client.get("/institution", params={"name": "Google", "population": "everyone"})
    assert _selected(everyone.text, "population") == "everyone"
    assert "every researcher observed" in everyone.text


def test_countries_lists_countries_ranked(client: TestClient) -> None:
    r = client.get("/country")
    assert r.status_code == 200  # a table, not a redirect to China
    body = client.get("/api/countries").json()
    stocks = [row["stock"] for row in body["rows"]]
    assert stocks == sorted(stocks, reverse=True) and len(stocks) == 8
    assert [row["rank"] for row in body["rows"]] == list(range(1, 9))


def test_retention_reading_states_persons_at_risk(client: TestClient) -> None:
    body = client.get("/api/overview", params={"country": "US"}).json()
    reading = _chart(body, "retention")["reading"]
    assert re.search(r"[\d,]+ still followed at \d+ years", reading)
    page = client.get("/?country=US").text
    assert '"tickformat": "d"' in page  # integer years on the x axes


def test_cohort_years_print_without_thousands_separator(client: TestClient) -> None:
    html = client.get("/?country=US").text
    assert "<td>2,0" not in html


def test_zero_counts_have_an_upper_bound(client: TestClient) -> None:
    body = client.get("/api/flows/bilateral", params={"a": "DE", "b": "FR"}).json()
    zeros = [r for r in body["rows"] if r["value"] == 0]
    assert zeros, "the store has zero flows between DE and FR"
    assert all(r["ci_high"] == pytest.approx(ZERO_UPPER) for r in zeros)
    assert pytest.approx(3.689, abs=1e-3) == ZERO_UPPER


def test_map_rates_need_a_minimum_size_and_rank_by_interval(client: TestClient) -> None:
    body = client.get("/api/map", params={"metric": "net_rate", "year": 2016}).json()
    rows = body["rows"]
    small = [r for r in rows if (r["stock"] or 0) < 100]
    assert small and not any(r["shown_on_map"] for r in small)
    shown = [r for r in rows if r["shown_on_map"]]
    best = max(shown, key=lambda r: r["ci_low"])
    assert best["country_name"] in body["reading"].split(";")[0]


def _figure(html: str, chart: str) -> dict:
    found = re.search(rf'id="fig-{chart}">(.*?)</script>', html, re.S)
    assert found is not None, chart
    figure: dict = json.loads(found.group(1))
    return figure


def test_map_share_is_on_a_log_colour_scale_and_retention_is_coloured(
    client: TestClient,
) -> None:
    body = client.get("/api/map", params={"metric": "stock_share"}).json()
    trace = _figure(client.get("/map").text, "map")["data"][0]
    shares = {r["country"]: r["value"] for r in body["rows"] if r["shown_on_map"]}
    # the colour value is log10 of the share: the largest country does not wash out the rest
    coloured = dict(zip(trace["locations"], trace["z"], strict=False))
    big, small = max(shares, key=shares.get), min(shares, key=shares.get)
    from talentflow.web.names import iso3

    gap = coloured[iso3(big)] - coloured[iso3(small)]
    assert gap == pytest.approx(math.log10(shares[big] / shares[small]))
    assert trace["colorbar"]["ticktext"][0].endswith("%")
    # the retention map (default k) colours the countries with enough persons followed
    retention = client.get("/api/map", params={"metric": "retention"}).json()
    assert any(r["shown_on_map"] for r in retention["rows"])
    assert all(r["at_risk"] >= 20 for r in retention["rows"] if r["shown_on_map"])


def test_scenario_sliders_are_named_for_the_odds_they_multiply(client: TestClient) -> None:
    from talentflow.web.explorer import SLIDERS

    for s in SLIDERS:
        assert s.label.startswith("Odds") and "(e.g. " in s.label  # a policy only in brackets
        assert "odds" in s.help


def test_compare_view_shows_both_countries(client: TestClient) -> None:
    body = client.get("/api/compare", params={"a": "CN", "b": "DE"}).json()
    assert [c["id"] for c in body["charts"]] == [
        "cmp-share",
        "cmp-net-rate",
        "cmp-returns",
        "cmp-retention",
    ]
    for chart in body["charts"]:
        assert {r["country"] for r in chart["rows"]} == {"CN", "DE"}
        assert "China" in chart["reading"] and "Germany" in chart["reading"]
    assert client.get("/compare?a=CN&b=DE").status_code == 200


def test_company_flows_and_llm_labs(client: TestClient) -> None:
    companies = client.get("/api/flows/companies").json()
    assert companies["columns"][:2] == ["from_institution", "to_institution"]
    labs = client.get("/api/labs", params={"group": "frontier"}).json()
    assert any(lab["institution"] == "DeepMind" for lab in labs["labs"])
    joins = _chart(labs, "lab-joins")
    assert all(r["ci_low"] <= r["value"] <= r["ci_high"] for r in joins["rows"])
    # the test store's persons moving to GB at even indices join DeepMind
    countries = _chart(labs, "lab-countries")
    assert sum(r["joiners"] for r in countries["rows"]) >= 1
    assert client.get("/labs?group=frontier").status_code == 200
    assert client.get("/api/labs?group=nobody").status_code == 422


def test_labs_view_lists_every_lab_of_the_table_and_says_which_are_absent(
    client: TestClient,
) -> None:
    from talentflow.web.labs import labs as lab_table

    for group in ("chinese", "frontier"):
        named = [lab.institution for lab in lab_table() if lab.group == group]
        body = client.get("/api/labs", params={"group": group}).json()
        listed = _chart(body, "lab-list")
        assert [r["institution"] for r in listed["rows"]] == named
        # the test store's institutions hold DeepMind only of all the labs
        absent = [r["institution"] for r in listed["rows"] if r["in_corpus"] == "no"]
        assert absent == [n for n in named if n != "DeepMind"]
        for name in absent:
            assert name in listed["reading"]
        page = client.get("/labs", params={"group": group}).text
        assert all(name in page for name in named)
    # with no joiner, the charts say so instead of drawing bare axes
    page = client.get("/labs", params={"group": "chinese"}).text
    found = re.search(r'id="fig-lab-countries">(.*?)</script>', page, re.S)
    assert found is not None
    figure = json.loads(found.group(1))
    assert figure["data"] == []
    assert "Nothing to draw" in figure["layout"]["annotations"][0]["text"]
    chinese = _chart(client.get("/api/labs", params={"group": "chinese"}).json(), "lab-list")
    assert {"Baichuan", "StepFun"} <= {r["institution"] for r in chinese["rows"]}
    assert "no paper in this corpus lists" in chinese["reading"]
    frontier = _chart(client.get("/api/labs", params={"group": "frontier"}).json(), "lab-list")
    deepmind = next(r for r in frontier["rows"] if r["institution"] == "DeepMind")
    assert deepmind["in_corpus"] == "yes" and deepmind["most_in_a_year"] > 0
    assert deepmind["joiners"] == sum(
        r["joiners"]
        for r in _chart(
            client.get("/api/labs", params={"group": "frontier"}).json(), "lab-countries"
        )["rows"]
    )


def test_report_is_served_with_its_scripts_hashed(client: TestClient) -> None:
    r = client.get("/report")
    assert r.status_code == 200 and "plotly.js v" in r.text
    csp = r.headers["content-security-policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_person_pages_hide_hashed_email_ids(client: TestClient) -> None:
    html = client.get("/person/P00003").text
    assert "openreview:~Person31" in html
    assert "email:" not in html and "ab" * 31 not in html
    assert "hashed e-mail identifier" in html


def test_search_results_show_affiliation(client: TestClient) -> None:
    import html as html_lib

    page = html_lib.unescape(client.get("/search?q=li").text)
    persons = client.get("/api/search", params={"q": "li"}).json()["persons"]
    placed = [p for p in persons if p.get("institutions")]
    assert placed, "the fixture has persons named li with an institution"
    for p in placed:
        assert f"{p['institutions']} · " in page


def test_scenario_bands_are_95_percent() -> None:
    from talentflow.web.explorer import LEVEL

    assert LEVEL == 0.95


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/map?year=1800", 422, f"a year of this store, {YEARS[0]}–{YEARS[-1]}"),
        ("/institution?name=", 422, "an institution name"),
        ("/?start=1900&end=2100", 422, f"outside the years of this store ({YEARS[0]}–{YEARS[-1]})"),
        ("/institution?name=Nowhere%20University", 404, "no institution named"),
        ("/flows?population=nips1999", 422, "unknown population"),
        ("/map?metric=nonsense", 422, "unknown metric"),
        ("/person/NOBODY", 404, "no person"),
        ("/labs?group=x", 422, "choose chinese, frontier or all"),
        ("/institution?name=Google&population=nips1999", 422, "unknown population"),
        ("/institution?name=Google&year=1800", 422, "a year of this store"),
        ("/institution?name=Google&year=2099", 422, "outside the years of this store"),
        ("/country/CN?population=nips1999", 422, "unknown population"),
        ("/country/CN?subset=poetry", 422, "unknown subset"),
        ("/flows?subset=poetry", 422, "unknown subset"),
    ],
)
def test_bad_page_urls_answer_an_html_page(
    client: TestClient, url: str, status: int, says: str
) -> None:
    r = client.get(url)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert says in unescape(r.text)
    assert "Cannot show this view" in r.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/map?year=1800",
        "/api/overview?start=1900&end=2100",
        "/api/institutions?name=",
        "/api/institutions?name=Nowhere%20University",
        "/api/flows/origin-work?population=nips1999",
        "/api/institutions?name=Google&population=nips1999",
        "/api/institutions?name=Google&year=1800",
        "/api/flows/pathways?subset=poetry",
    ],
)
def test_bad_api_urls_keep_their_422(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "query"


def test_csv_is_named_by_its_parameters(client: TestClient, tmp_path: Path) -> None:
    r = client.get("/api/flows/bilateral?a=CN&b=US&start=2015&end=2018&format=csv")
    name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"]).group(1)  # type: ignore[union-attr]
    assert name == "talentflow-bilateral-a-CN-b-US-start-2015-end-2018-subset-all.csv"
    (tmp_path / name).write_text(r.text)
    import pandas as pd

    df = pd.read_csv(tmp_path / name, comment="#")
    assert set(df["year"]) == {2015, 2016, 2017, 2018}


def test_suppressed_bars_are_labelled_not_empty() -> None:
    import pandas as pd

    from talentflow.web.charts import bar_figure

    df = pd.DataFrame(
        {
            "label": ["US", "GB", "FR"],
            "value": [12.0, None, 6.0],
            "ci_low": [10.0, None, 4.0],
            "ci_high": [14.0, None, 8.0],
            "suppressed": [False, True, False],
        }
    )
    fig = bar_figure(df, "label", "Researchers")
    marks = [t for t in fig["data"] if t["type"] == "scatter"]
    assert len(marks) == 1 and marks[0]["y"] == ["GB"]
    assert marks[0]["text"] == ["suppressed (too few persons)"]


def test_small_places_are_dots_on_the_map(tmp_path: Path) -> None:
    from talentflow.engines import connect
    from talentflow.web import charts as ch
    from talentflow.web.queries import Queries

    db = make_store(tmp_path / "s.duckdb")
    con = connect(db)
    con.raw_sql(
        "INSERT INTO country_year SELECT * REPLACE ('SG' AS country) FROM country_year "
        "WHERE country = 'JP'"
    )
    con.disconnect()
    q = Queries(db)
    try:
        fig = ch.map_chart(q, "stock_share", 2016).figure
    finally:
        q.close()
    dots = [t for t in fig["data"] if t["type"] == "scattergeo"]
    assert len(dots) == 1 and dots[0]["text"][0].startswith("Singapore:")
    shapes = fig["data"][0]
    assert dots[0]["marker"]["colorscale"] == shapes["colorscale"]


def test_zero_reads_as_none_observed_with_its_bound() -> None:
    from talentflow.web.marks import interval_text

    assert interval_text(0.0, ZERO_UPPER, 0.0, ",.0f") == "none observed; 95% upper bound 3.7"
    assert interval_text(30.0, 49.0, 39.0, ",.0f") == "95% interval 30–49"
    assert interval_text(None, None, 5.0, ",.0f") == "no interval available"


def test_shares_at_zero_or_one_get_an_interval_of_their_persons() -> None:
    import pandas as pd

    from talentflow.web.marks import share_bounds

    df = pd.DataFrame(
        {
            "value": [1.0, 0.0, 0.5, 1.0],
            "ci_low": [1.0, 0.0, 0.4, 0.9],
            "ci_high": [1.0, 0.0, 0.6, 1.0],
            "at_risk": [20, 30, 20, 20],
        }
    )
    out = share_bounds(df)
    # 20 of 20 retained: not "100%-100%" but the Wilson interval of 20 persons
    assert out.loc[0, "ci_low"] == pytest.approx(0.839, abs=1e-3)
    assert out.loc[0, "ci_high"] == pytest.approx(1.0)
    assert out.loc[1, "ci_low"] == pytest.approx(0.0, abs=1e-12)
    assert out.loc[1, "ci_high"] == pytest.approx(0.114, abs=1e-3)
    # proper intervals are kept as the indicators computed them
    assert out.loc[2:].equals(df.loc[2:])


def test_readings_say_one_year_not_one_years(client: TestClient) -> None:
    from talentflow.web.charts.figures import years_text

    assert [years_text(k) for k in (1, 2)] == ["1 year", "2 years"]
    body = client.get("/api/compare", params={"a": "CN", "b": "US"}).json()
    reading = _chart(body, "cmp-retention")["reading"]
    assert "1 years" not in reading
