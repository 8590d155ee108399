"""The dashboard in real headless Chromium (Debian's ``chromium``, driven by Playwright).

A real uvicorn server on a free loopback port serves a small store built in code. Every request
the browser makes is intercepted: anything not addressed to loopback is aborted and fails the
test. Screenshots of every page go to ``test-artifacts/web/`` (override with
``TALENTFLOW_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from talentflow.web import create_app
from tests.test_web_store import shared_store

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TALENTFLOW_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = (
    Path(
        os.environ.get(
            "TALENTFLOW_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"
        )
    )
    / "web"
)
#: Generous: CI machines are small (2 cores) and plotly.js is 4.8 MB of JavaScript to compile.
TIMEOUT_MS = 90_000
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

PAGES = {
    "overview": "/",
    "overview-incomplete": "/?end=2023",
    "map": "/map",
    "map-retention": "/map?metric=retention",
    "map-net-rate": "/map?metric=net_rate",
    "flows": "/flows",
    "flows-llm": "/flows?subset=llm",
    "scenarios": "/scenarios",
    "countries": "/country",
    "country": "/country/CN",
    "compare": "/compare?a=CN&b=DE",
    "labs": "/labs",
    "labs-frontier": "/labs?group=frontier",
    "institution": "/institution?name=Google",
    "institution-everyone": "/institution?name=Google&population=everyone&year=2019",
    "person": "/person/P00003",
    "search": "/search?q=li",
    "methods": "/methods",
    "report": "/report?country=DE",
    "error": "/map?year=1800",
    "not-found": "/institution?name=Nowhere",
}
#: Pages that answer an error status on purpose (the bad-URL pages).
STATUS = {"error": 422, "not-found": 404}
AXE = Path(__file__).parent / "assets" / "axe" / "axe.min.js"
#: The last complete year of the test store (its last year, 2023, is incomplete).
LAST_COMPLETE = 2022


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = shared_store(tmp_path_factory)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watch:
    """What a page did: console errors, page errors, requests (and non-loopback ones)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []

    def route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture(scope="module")
def shared(browser: Browser) -> Iterator[tuple[BrowserContext, Watch]]:
    # One context for the module: plotly.js is fetched and compiled once (as for a real user).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watch = Watch()
    context.route("**/*", watch.route)
    context.set_default_timeout(TIMEOUT_MS)
    yield context, watch
    context.close()


@pytest.fixture
def page(shared: tuple[BrowserContext, Watch]) -> Iterator[tuple[Page, Watch]]:
    context, watch = shared
    watch.errors.clear()
    watch.requests.clear()
    watch.outside.clear()
    pg = context.new_page()
    pg.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.errors.append(str(e)))
    yield pg, watch
    pg.close()
    assert watch.outside == [], f"requests left loopback: {watch.outside}"


def _rendered(pg: Page) -> int:
    """Wait until every figure on the page is drawn; return how many there are."""
    n = pg.locator("[data-figure]").count()
    pg.wait_for_function(
        "() => [...document.querySelectorAll('[data-figure]')].every(e => e.dataset.rendered)",
        timeout=TIMEOUT_MS,
    )
    return n


def _apply(pg: Page) -> None:
    """Press the filter form's Apply button and wait for the new page's figures."""
    with pg.expect_navigation():
        pg.click("form.filters button[type=submit]")
    _rendered(pg)


def _readings(pg: Page) -> list[str]:
    return pg.locator(".reading").all_inner_texts()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_and_draws_without_errors(
    base_url: str, page: tuple[Page, Watch], name: str
) -> None:
    pg, watch = page
    response = pg.goto(base_url + PAGES[name])
    assert response is not None and response.status == STATUS.get(name, 200)
    n = _rendered(pg)
    if name not in ("search", *STATUS):
        assert n >= 1
        # plotly drew an SVG for each figure
        assert pg.locator(".plot .main-svg").count() >= n
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if name in STATUS:  # the browser logs the error status itself; nothing else may fail
        watch.errors[:] = [e for e in watch.errors if "status of 4" not in e]
    assert watch.errors == []


def test_every_page_route_is_drawn_audited_and_screenshotted() -> None:
    # PAGES feeds the drawing test (a screenshot each) and the axe audit: every HTML route
    # of the app must be in it (else a new page would go unaudited)
    from talentflow.web import pages

    routes = {r.path for r in pages.router.routes if "GET" in getattr(r, "methods", ())}
    covered = {urlsplit(url).path for url in PAGES.values()}
    templated = {"/country/{code}": "/country/CN", "/person/{person_id}": "/person/P00003"}
    missing = [path for path in routes if templated.get(path, path) not in covered]
    assert missing == []


def test_map_draws_countries_from_local_geometry(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/map?metric=stock_share&year=2020")
    _rendered(pg)
    pg.wait_for_selector(".choroplethlocation", state="attached")
    assert pg.locator(".choroplethlocation").count() >= 5
    assert any(u.endswith("/static/topojson/world_110m.json") for u in watch.requests)
    assert watch.errors == []


def test_changing_country_updates_overview(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/")
    _rendered(pg)
    before = _readings(pg)
    assert "China" in pg.locator("#share .reading").inner_text()
    pg.select_option("select[name=country]", "DE")
    _apply(pg)
    after = _readings(pg)
    assert parse_qs(urlsplit(pg.url).query)["country"] == ["DE"]
    assert "Germany" in pg.locator("#share .reading").inner_text()
    assert after != before
    assert watch.errors == []


def test_year_slider_updates_map(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/map")
    _rendered(pg)
    assert str(LAST_COMPLETE) in pg.locator("#map h2").inner_text()
    before = pg.locator("#map .reading").inner_text()
    pg.eval_on_selector("#year", "e => { e.value = 2015; e.dispatchEvent(new Event('change')); }")
    pg.wait_for_timeout(300)
    assert parse_qs(urlsplit(pg.url).query)["year"] == [str(LAST_COMPLETE)]  # no reload yet
    _apply(pg)
    assert parse_qs(urlsplit(pg.url).query)["year"] == ["2015"]
    assert "2015" in pg.locator("#map h2").inner_text()
    assert pg.locator("#map .reading").inner_text() != before
    assert watch.errors == []


def _view(pg: Page) -> dict[str, Any]:
    return {
        "readings": _readings(pg),
        "selects": pg.eval_on_selector_all(
            "form.filters select", "els => els.map(e => [e.name, e.value])"
        ),
    }


def test_shared_url_reproduces_view(base_url: str, browser: Browser) -> None:
    first = browser.new_context()
    first.set_default_timeout(TIMEOUT_MS)
    pg = first.new_page()
    pg.goto(base_url + "/flows")
    _rendered(pg)
    pg.select_option("select[name=a]", "GB")
    pg.select_option("select[name=start]", "2016")
    _apply(pg)
    shared = pg.url  # the address bar carries every filter
    query = parse_qs(urlsplit(shared).query)
    assert query["a"] == ["GB"] and query["start"] == ["2016"] and "population" in query
    view = _view(pg)
    first.close()

    second = browser.new_context()  # a fresh browser session opening the shared link
    second.set_default_timeout(TIMEOUT_MS)
    pg2 = second.new_page()
    pg2.goto(shared)
    _rendered(pg2)
    assert _view(pg2) == view
    assert "United Kingdom" in pg2.locator("#bilateral h2").inner_text()
    second.close()


def test_default_view_url_is_complete(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, _ = page
    pg.goto(base_url + "/")
    _rendered(pg)
    query = parse_qs(urlsplit(pg.url).query)
    assert query["country"] == ["CN"]
    assert {"start", "end"} <= set(query)
    assert query["end"] == [str(LAST_COMPLETE)]  # the last complete year, not the partial one


def test_data_table_and_csv_link(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/?country=US&start=2014&end=2020")
    _rendered(pg)
    pg.locator("#share summary").click()
    rows = pg.locator("#share table tbody tr")
    assert rows.count() == 7  # one per year 2014-2020
    href = pg.locator("#share a[download]").get_attribute("href")
    assert href is not None
    csv = pg.request.get(base_url + href)
    assert csv.ok
    lines = [line for line in csv.text().splitlines() if not line.startswith("#")]
    assert lines[0].startswith("year,value,ci_low,ci_high")
    assert len(lines) == 8
    assert watch.errors == []


def test_non_loopback_requests_are_caught(base_url: str, browser: Browser) -> None:
    # The guard itself: a navigation to an outside host is seen and stopped before it leaves
    # (``.invalid`` never resolves either, so nothing could go out even without the guard).
    context = browser.new_context()
    watch = Watch()
    context.route("**/*", watch.route)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(base_url + "/search")
    with pytest.raises(PlaywrightError):
        pg.goto("http://outside.invalid/x.png")
    context.close()
    assert watch.outside == ["http://outside.invalid/x.png"]


def _settled(pg: Page, key: str, value: str) -> None:
    """Wait until the explorer shows the banded projection of a state with ``key=value``."""
    pg.wait_for_function(
        "([k, v]) => new URLSearchParams(document.querySelector('form.explorer').dataset.state"
        " || '').get(k) === v",
        arg=[key, value],
    )
    assert parse_qs(urlsplit(pg.url).query)[key] == [value]  # and the address bar says so


def _explorer_view(pg: Page) -> dict[str, Any]:
    return {
        "readings": _readings(pg),
        "sliders": pg.eval_on_selector_all(
            "form.explorer input[type=range], form.explorer select",
            "els => els.map(e => [e.name, e.value])",
        ),
        "assumptions": pg.locator("#assumptions li").all_inner_texts(),
        "title": pg.locator("h1").inner_text(),
        "last_row": pg.locator("#scenario-stock tbody tr").last.text_content(),
    }


def test_scenario_slider_updates_chart_and_url(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/scenarios?country=US")
    _rendered(pg)
    before = _explorer_view(pg)
    assert "No lever moved" in before["assumptions"][0]
    trace_y = "() => document.getElementById('plot-scenario-stock').data.at(-1).y.join()"
    y_before = pg.evaluate(trace_y)
    # Move the visa slider as a user would: value changes, then a change event on release.
    pg.eval_on_selector(
        "#visa", "e => { e.value = 0.5; e.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    _settled(pg, "visa", "0.5")
    _rendered(pg)
    after = _explorer_view(pg)
    assert after["readings"] != before["readings"]
    assert after["assumptions"][0].startswith("inflow to US")
    assert pg.evaluate(trace_y) != y_before  # the scenario line was redrawn
    assert after["last_row"] != before["last_row"]  # and the data table follows
    asked = [u for u in watch.requests if "/api/scenario?" in u]
    assert any("preview=true" in u for u in asked)  # the fast first answer
    assert any("preview" not in u for u in asked)  # then the banded one
    href = pg.locator("#scenario-stock a[download]").get_attribute("href")
    assert href is not None and "visa=0.5" in href
    csv = pg.request.get(base_url + href)
    lines = [line for line in csv.text().splitlines() if not line.startswith("#")]
    assert csv.ok and lines[0].startswith("year,observed,baseline")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "scenarios-visa.png"), full_page=True)
    assert watch.errors == []


def test_scenario_shared_url_reproduces_view(base_url: str, browser: Browser) -> None:
    first = browser.new_context()
    first.set_default_timeout(TIMEOUT_MS)
    pg = first.new_page()
    pg.goto(base_url + "/scenarios")
    _rendered(pg)
    pg.eval_on_selector(
        "#grants", "e => { e.value = 1.5; e.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    _settled(pg, "grants", "1.5")
    _rendered(pg)
    pg.select_option("select[name=years]", "5")
    _settled(pg, "years", "5")
    _rendered(pg)
    pg.select_option("form.explorer select[name=country]", "DE")
    _settled(pg, "country", "DE")
    _rendered(pg)
    assert "Germany" in pg.locator("h1").inner_text()
    assert "attractiveness of DE" in pg.locator("#assumptions li").first.inner_text()
    shared = pg.url
    query = parse_qs(urlsplit(shared).query)
    assert query["grants"] == ["1.5"] and query["years"] == ["5"] and query["country"] == ["DE"]
    view = _explorer_view(pg)
    first.close()

    second = browser.new_context()
    second.set_default_timeout(TIMEOUT_MS)
    pg2 = second.new_page()
    pg2.goto(shared)
    _rendered(pg2)
    assert _explorer_view(pg2) == view
    second.close()


def test_defaults_open_on_complete_years_and_the_flagship(
    base_url: str, page: tuple[Page, Watch]
) -> None:
    pg, watch = page
    pg.goto(base_url + "/flows")
    _rendered(pg)
    assert pg.eval_on_selector("select[name=population]", "e => e.value") == "nips2020-2022"
    groups = pg.eval_on_selector_all(
        "select[name=population] optgroup", "gs => gs.map(g => g.label)"
    )
    assert groups[0] == "Pooled" and "NeurIPS" in groups
    pg.goto(base_url + "/map")
    _rendered(pg)
    assert pg.eval_on_selector("#year", "e => e.value") == str(LAST_COMPLETE)
    # an incomplete year asked for explicitly is greyed and labelled on the chart
    pg.goto(base_url + "/?country=CN&end=2023")
    _rendered(pg)
    shapes = pg.evaluate("() => document.getElementById('plot-share').layout.shapes")
    grey = [s for s in shapes if s["type"] == "rect"]
    assert [(s["x0"], s["x1"]) for s in grey] == [(2022.5, 2023.5)]
    notes = pg.evaluate(
        "() => document.getElementById('plot-share').layout.annotations.map(a => [a.x, a.text])"
    )
    assert [2023, "incomplete"] in notes
    assert pg.locator("#plot-share svg text", has_text="incomplete").count() == 1
    assert "2022" in pg.locator("#share .reading").inner_text()
    assert pg.locator("select[name=end] option[value='2023']").inner_text() == "2023 (incomplete)"
    assert watch.errors == []


def test_comparison_view(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/compare?a=CN&b=DE")
    n = _rendered(pg)
    assert n == 4
    names = pg.evaluate("() => document.getElementById('plot-cmp-share').data.map(t => t.name)")
    assert names == ["China", "Germany"]
    assert "China" in pg.locator("#cmp-share .reading").inner_text()
    pg.select_option("select[name=b]", "JP")
    _apply(pg)
    assert parse_qs(urlsplit(pg.url).query)["b"] == ["JP"]
    names = pg.evaluate("() => document.getElementById('plot-cmp-share').data.map(t => t.name)")
    assert names == ["China", "Japan"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "compare-cn-jp.png"), full_page=True)
    assert watch.errors == []


def _sankey(pg: Page) -> tuple[str, int]:
    """The drawn Sankey (its traces as JSON) and the number of authors its reading counts."""
    drawn = pg.evaluate(
        "() => { const e = document.getElementById('plot-sankey');"
        " return JSON.stringify([e.data, e.layout.annotations]); }"
    )
    reading = pg.locator("#sankey .reading").inner_text()
    found = re.search(r"([\d,]+) authors with a known work country", reading)
    assert found is not None, reading
    return drawn, int(found.group(1).replace(",", ""))


def test_authors_selector_redraws_the_three_stage_sankey(
    base_url: str, page: tuple[Page, Watch]
) -> None:
    pg, watch = page
    pg.goto(base_url + "/flows?population=nips2021")
    _rendered(pg)
    before, n_before = _sankey(pg)
    heading = pg.locator("#sankey h2").inner_text()
    pg.select_option("select[name=subset]", "llm")
    _apply(pg)
    assert parse_qs(urlsplit(pg.url).query)["subset"] == ["llm"]
    after, n_after = _sankey(pg)
    assert 0 < n_after < n_before  # fewer persons: the LLM papers' authors only
    assert after != before  # and the diagram was drawn anew from them
    assert pg.locator("#sankey h2").inner_text() != heading
    assert "authors of LLM-era LLM papers" in pg.locator("#sankey .reading").inner_text()
    assert watch.errors == []


def test_institution_filters_from_a_country_page(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(base_url + "/country/US?year=2021")
    _rendered(pg)
    link = pg.locator("#institutions a").first
    name = link.inner_text()
    with pg.expect_navigation():
        link.click()
    _rendered(pg)
    query = parse_qs(urlsplit(pg.url).query)
    assert query["name"] == [name] and query["year"] == ["2021"]
    assert query["population"] == ["nips2020-2022"]
    assert pg.eval_on_selector("select[name=population]", "e => e.value") == "nips2020-2022"
    title = pg.locator("#inst_years h2").inner_text()
    pg.select_option("select[name=population]", "everyone")
    _apply(pg)
    assert parse_qs(urlsplit(pg.url).query)["population"] == ["everyone"]
    assert "every researcher observed" in pg.locator("#inst_years h2").inner_text() != title
    assert watch.errors == []


def test_keyboard_arrows_on_a_select_keep_page_and_focus(
    base_url: str, page: tuple[Page, Watch]
) -> None:
    pg, watch = page
    pg.goto(base_url + "/")
    _rendered(pg)
    pg.evaluate("() => { window.__stay = 1; }")  # gone if the page reloads
    url = pg.url
    select = pg.locator("select[name=country]")
    select.focus()
    before = select.input_value()
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("ArrowDown")
    pg.wait_for_timeout(500)
    assert select.input_value() != before  # the value moved
    assert pg.url == url and pg.evaluate("() => window.__stay") == 1  # no reload
    assert pg.evaluate("() => document.activeElement.name") == "country"  # focus stays
    chosen = select.input_value()
    # the Apply button is reached with the keyboard and applies the choice
    pg.locator("form.filters button[type=submit]").focus()
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    _rendered(pg)
    assert parse_qs(urlsplit(pg.url).query)["country"] == [chosen]
    assert watch.errors == []


@pytest.mark.parametrize(
    ("url", "control", "key"),
    [("/map", "#year", "ArrowLeft"), ("/scenarios?country=US", "#grants", "ArrowRight")],
)
def test_keyboard_arrows_on_a_slider_keep_page_and_focus(
    base_url: str, page: tuple[Page, Watch], url: str, control: str, key: str
) -> None:
    pg, watch = page
    pg.goto(base_url + url)
    _rendered(pg)
    pg.evaluate("() => { window.__stay = 1; }")  # gone if the page reloads
    slider = pg.locator(control)
    slider.focus()
    before = slider.input_value()
    pg.keyboard.press(key)
    pg.keyboard.press(key)
    pg.wait_for_timeout(800)
    assert slider.input_value() != before  # the value moved
    assert pg.evaluate("() => window.__stay") == 1  # no reload
    assert pg.evaluate("() => '#' + document.activeElement.id") == control  # focus stays
    if control == "#grants":  # the explorer redraws in place, the slider keeps the focus
        _settled(pg, "grants", slider.input_value())
        _rendered(pg)
        assert pg.evaluate("() => '#' + document.activeElement.id") == control
    assert watch.errors == []


def test_skip_link_goes_to_main(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, _ = page
    pg.goto(base_url + "/map")
    _rendered(pg)
    pg.keyboard.press("Tab")
    assert pg.evaluate("() => document.activeElement.className") == "skip"
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => document.activeElement.id === 'main'")
    assert urlsplit(pg.url).fragment == "main"


def test_toolbar_covers_no_legend(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, _ = page
    pg.goto(base_url + "/compare?a=CN&b=DE")
    _rendered(pg)
    card = pg.locator("#plot-cmp-share")
    card.hover()  # the toolbar shows on hover
    bar = pg.locator("#plot-cmp-share .modebar").bounding_box()
    legend = pg.locator("#plot-cmp-share .legend").bounding_box()
    plot = pg.locator("#plot-cmp-share .nsewdrag").first.bounding_box()
    assert bar is not None and legend is not None and plot is not None

    def overlap(a: dict, b: dict) -> bool:
        return not (
            a["x"] + a["width"] <= b["x"]
            or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"]
            or b["y"] + b["height"] <= a["y"]
        )

    assert not overlap(bar, legend)
    assert bar["y"] + bar["height"] <= plot["y"] + 1  # above the plotting area


@pytest.fixture(scope="module")
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    # the page's CSP refuses injected scripts; the audit bypasses it (the pages do not)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.route(
        "**/*",
        lambda r: (
            r.continue_() if (urlsplit(r.request.url).hostname or "") in LOOPBACK else r.abort()
        ),
    )
    yield context
    context.close()


@pytest.mark.parametrize("name", [*PAGES, "docs"])
def test_accessibility_axe(base_url: str, axe_context: BrowserContext, name: str) -> None:
    pg = axe_context.new_page()
    try:
        if name == "docs":  # Swagger UI (the API documentation page) draws itself
            pg.goto(base_url + "/docs")
            pg.wait_for_selector(".opblock-summary-path", timeout=TIMEOUT_MS)
        else:
            pg.goto(base_url + PAGES[name])
            _rendered(pg)
        pg.add_script_tag(path=str(AXE))
        result = pg.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} -- "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], "\n".join(bad)
    finally:
        pg.close()


def test_api_docs_render_from_local_files(base_url: str, page: tuple[Page, Watch]) -> None:
    pg, watch = page
    response = pg.goto(base_url + "/docs")
    assert response is not None and response.status == 200
    # Swagger UI drew the operations from /openapi.json (nothing blocked by the CSP)
    pg.wait_for_selector(".opblock-summary-path", timeout=TIMEOUT_MS)
    assert pg.locator(".opblock").count() >= 12
    assert any(u.endswith("/openapi.json") for u in watch.requests)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "docs.png"))
    assert watch.errors == []
