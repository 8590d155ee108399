"""HTML pages: thin routes that validate filters, ask ``charts`` and render a template.

Filters travel in the query string, and each page writes its full (canonical) filters back into
the address bar, so any view can be shared as a URL and reproduced exactly.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from talentflow.report.html import render_report
from talentflow.web import charts as ch
from talentflow.web import compare as cmp
from talentflow.web import explorer as ex_
from talentflow.web import labs as lb
from talentflow.web import params as pv
from talentflow.web.assets import CSP
from talentflow.web.cells import cell
from talentflow.web.json_api import Ex, State, country_profile_charts
from talentflow.web.methods import EVIDENCE_NOTES, LIMITATIONS
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

Q = Annotated[Queries, Depends(pv.queries)]
Text = Annotated[str | None, Query(max_length=40)]
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]


templates.env.filters["cell"] = cell
templates.env.filters["country"] = country_name


def subset_choices(q: Queries) -> list[tuple[str, str]]:
    """The Authors selector: each subset of the store with what it counts, in words."""
    return [(s, ch.subset_label(s)) for s in q.origin_subsets()]


def page_html(
    q: Queries,
    template: str,
    path: str,
    params: dict[str, Any],
    build: Callable[[], dict[str, Any]],
) -> str:
    """``template`` rendered with ``build()`` and the shared context, once per canonical URL."""
    canonical = path + (
        "?" + urlencode({k: v for k, v in params.items() if v is not None}) if params else ""
    )

    def html() -> str:
        lo, hi = q.year_range()
        done = q.complete_years()
        context = {
            "countries": sorted(((c, country_name(c)) for c in q.countries()), key=lambda x: x[1]),
            "years": list(range(lo, hi + 1)),
            # None: coverage unknown (no coverage table)
            "complete_years": None if done is None else set(done),
            "canonical": canonical,
            "params": params,
            "path": path,
            **build(),
        }
        return templates.get_template(template).render(context)

    html_text: str = q.memo(("page", template, canonical), html)
    return html_text


def render(
    request: Request,
    template: str,
    path: str,
    params: dict[str, Any],
    build: Callable[[], dict[str, Any]],
) -> Response:
    """The page ``template`` as a response (see :func:`page_html`)."""
    return HTMLResponse(page_html(request.app.state.queries, template, path, params, build))


def overview_html(q: Queries, c: str, s: int, e: int) -> str:
    """The overview page of one country and period."""
    return page_html(
        q,
        "overview.html",
        "/",
        {"country": c, "start": s, "end": e},
        lambda: {
            "charts": ch.overview_charts(q, c, s, e),
            "title": f"{country_name(c)} at a glance",
            "country_name": country_name(c),
        },
    )


#: Overview pages rendered at start-up (the countries with most researchers).
PREWARM_COUNTRIES = 25


def prewarm(q: Queries, n: int = PREWARM_COUNTRIES) -> int:
    """Render the default-period overview of the ``n`` largest countries into the cache.

    Returns how many pages were rendered. The store never changes under a server, so these
    pages stay valid; a visitor then gets them without touching the store.
    """
    s, e = pv.period(q, None, None)
    codes = list(dict.fromkeys([pv.default_country(q), *q.top_countries(s, e, n)]))
    for c in codes:
        overview_html(q, c, s, e)
    # One-pass aggregates behind country profiles and the flows page's Sankey.
    q.stage_counts()
    q.all_pathways()
    return len(codes)


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, q: Q, country: Text = None, start: YearQ = None, end: YearQ = None
) -> Response:
    """The headline questions for one country."""
    c = pv.country(q, country)
    s, e = pv.period(q, start, end)
    return HTMLResponse(overview_html(q, c, s, e))


@router.get("/map", response_class=HTMLResponse)
def world_map(
    request: Request,
    q: Q,
    metric: Text = "stock_share",
    year: YearQ = None,
    k: Annotated[int, Query(ge=1, le=20)] = 3,
) -> Response:
    """Choropleth with a year slider."""
    if metric not in ch.MAP_METRICS:
        raise pv.ParamError(
            "metric", f"unknown metric {str(metric)[:20]!r}; choose one of {list(ch.MAP_METRICS)}"
        )
    y = pv.year(q, year)
    params: dict[str, Any] = {"metric": metric, "year": y}
    if metric == "retention":
        params["k"] = k
    return render(
        request,
        "map.html",
        "/map",
        params,
        lambda: {
            "the_chart": ch.map_chart(q, str(metric), y, k),
            "metrics": ch.MAP_METRICS,
            "title": "World map",
        },
    )


@router.get("/flows", response_class=HTMLResponse)
def flows(
    request: Request,
    q: Q,
    population: Text = None,
    basis: Text = "first_observed",
    a: Text = None,
    b: Text = None,
    start: YearQ = None,
    end: YearQ = None,
    subset: Text = None,
) -> Response:
    """Sankey, bilateral flows, company-to-company moves, academia <-> industry."""
    if basis not in ch.BASIS_LABEL:
        raise pv.ParamError("basis", "basis is training or first_observed")
    pop = pv.population(q, population)
    ca = pv.country(q, a, "a")
    cb = pv.country(q, b or ch.partner_for(ca), "b")
    s, e = pv.period(q, start, end)

    sub = pv.origin_subset(q, subset)

    def build() -> dict[str, Any]:
        charts = (
            []
            if pop is None
            else [ch.pathways_chart(q, pop, sub), ch.sankey_chart(q, pop, str(basis), sub)]
        )
        charts += [
            ch.bilateral_chart(q, ca, cb, s, e),
            ch.top_pairs_chart(q, s, e),
            lb.company_flows_chart(q, s, e),
            ch.sector_chart(q, ca, s, e),
        ]
        return {
            "charts": charts,
            "population_groups": q.population_groups(),
            "subsets": subset_choices(q),
            "title": "Flows",
        }

    params = {
        "population": pop,
        "basis": basis,
        "subset": sub,
        "a": ca,
        "b": cb,
        "start": s,
        "end": e,
    }
    return render(request, "flows.html", "/flows", params, build)


@router.get("/country", response_class=HTMLResponse)
def countries(request: Request, q: Q, code: Text = None, year: YearQ = None) -> Response:
    """Every country ranked (``code`` given: that country's profile)."""
    if code:
        c = pv.country(q, code, "code")
        suffix = f"?year={pv.year(q, year)}" if year is not None else ""
        return RedirectResponse(f"/country/{c}{suffix}", status_code=303)
    y = pv.year(q, year)
    return render(
        request,
        "countries.html",
        "/country",
        {"year": y},
        lambda: {"the_chart": cmp.country_table_chart(q, y), "title": "Countries"},
    )


@router.get("/country/{code}", response_class=HTMLResponse)
def country_profile(
    request: Request,
    q: Q,
    code: str,
    year: YearQ = None,
    population: Text = None,
    subset: Text = None,
) -> Response:
    """Destinations, sources, alumni, sector mix, career stages, top institutions."""
    c = pv.country(q, code[:8], "code")
    y = pv.year(q, year)
    pop = pv.population(q, population)
    sub = pv.origin_subset(q, subset)
    return render(
        request,
        "country.html",
        f"/country/{c}",
        {"year": y, "population": pop, "subset": sub},
        lambda: {
            "charts": country_profile_charts(q, c, y, pop, sub),
            "institutions": q.top_institutions(c, y, population=pop),
            "population_label": ch.population_label(q, pop),
            "everyone": pv.EVERYONE,
            "population_groups": q.population_groups(),
            "subsets": subset_choices(q),
            "country": c,
            "title": f"Country profile: {country_name(c)}",
        },
    )


@router.get("/compare", response_class=HTMLResponse)
def compare(
    request: Request, q: Q, a: Text = None, b: Text = None, start: YearQ = None, end: YearQ = None
) -> Response:
    """Two countries side by side."""
    ca = pv.country(q, a, "a")
    cb = pv.country(q, b or ch.partner_for(ca), "b")
    s, e = pv.period(q, start, end)
    return render(
        request,
        "compare.html",
        "/compare",
        {"a": ca, "b": cb, "start": s, "end": e},
        lambda: {
            "charts": cmp.compare_charts(q, ca, cb, s, e),
            "title": f"{country_name(ca)} and {country_name(cb)} side by side",
        },
    )


@router.get("/labs", response_class=HTMLResponse)
def llm_labs(
    request: Request,
    q: Q,
    group: Text = "chinese",
    start: YearQ = None,
    end: YearQ = None,
) -> Response:
    """Who joins the frontier and Chinese LLM labs, from where."""
    g = pv.lab_group(group)
    s, e = pv.period(q, start, end)
    return render(
        request,
        "labs.html",
        "/labs",
        {"group": g, "start": s, "end": e},
        lambda: {
            "charts": lb.lab_charts(q, g, s, e),
            "labs": [lab for lab in lb.labs() if g in ("all", lab.group)],
            "groups": {"all": "All listed LLM labs", **lb.GROUPS},
            "title": "LLM labs: who joins them, from where",
        },
    )


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, q: Q, country: Text = None) -> Response:
    """The self-contained report (the file ``talentflow report`` writes)."""
    c = pv.country(q, country)
    html: str = q.memo(("report", c), lambda: render_report(q, country=c))
    return HTMLResponse(html, headers={"Content-Security-Policy": report_csp(html)})


def report_csp(html: str) -> str:
    """The dashboard's policy with the report's own inline scripts allowed by their hashes."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    ]
    return CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(hashes))


@router.get("/institution", response_class=HTMLResponse)
def institution(
    request: Request,
    q: Q,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    year: YearQ = None,
    population: Text = None,
) -> Response:
    """One institution's profile: the persons of a population (default the flagship, or
    everyone), its career stages in ``year`` (default the last complete year)."""
    n = pv.institution(q, name)
    y = pv.year(q, year)
    pop = pv.people_population(q, population)
    return render(
        request,
        "institution.html",
        "/institution",
        {"name": n, "year": y, "population": pop or pv.EVERYONE},
        lambda: {
            "charts": ch.institution_charts(q, n, y, pop),
            "population_groups": q.population_groups(),
            "everyone": pv.EVERYONE,
            "name": n,
            "title": f"Institution: {n}",
        },
    )


@router.get("/person/{person_id}", response_class=HTMLResponse)
def person(request: Request, q: Q, person_id: str) -> Response:
    """A person's career timeline."""
    pid = pv.person_id(person_id)
    data = q.person(pid)
    if not data.get("person"):
        raise pv.ParamError("person_id", f"no person {pid!r} in this store", status=404)
    return render(
        request,
        "person.html",
        f"/person/{pid}",
        {},
        lambda: {
            "data": data,
            "the_chart": ch.person_chart(data),
            "title": f"Person: {data['person'].get('display_name', pid)}",
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request, q: Q, text: Annotated[str | None, Query(alias="q", max_length=100)] = None
) -> Response:
    """Search persons and institutions."""
    return render(
        request,
        "search.html",
        "/search",
        {"q": text} if text else {},
        lambda: {
            "found": q.search(text, 50) if text and text.strip() else {},
            "text": text or "",
            "title": "Search",
        },
    )


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios(request: Request, q: Q, ex: Ex, setting: State) -> Response:
    """Scenario explorer: levers as sliders, baseline vs scenario with bands."""
    return render(
        request,
        "scenarios.html",
        "/scenarios",
        setting.params(),
        lambda: {
            "charts": ex_.explorer_charts(ex, setting),
            "assumptions": ex.assumptions(setting),
            "groups": ex.groups(),
            "sliders": ex_.SLIDERS,
            "factor_min": ex_.FACTOR_MIN,
            "factor_max": ex_.FACTOR_MAX,
            "factor_step": ex_.FACTOR_STEP,
            "max_years": ex_.MAX_YEARS,
            "draws": ex.draws,
            "level_pct": f"{ex_.LEVEL:.0%}",
            "level": ex_.LEVEL,
            "state": urlencode(setting.params()),
            "title": f"Scenario explorer: {country_name(setting.country)}",
        },
    )


@router.get("/methods", response_class=HTMLResponse)
def methods(request: Request, q: Q) -> Response:
    """Coverage, build parameters, known limitations."""
    return render(
        request,
        "methods.html",
        "/methods",
        {},
        lambda: {
            "the_chart": ch.coverage_chart(q),
            "resolved": q.resolved_share(),
            "ingest": q.ingest_summary(),
            "build_params": q.build_params(),
            "build_info": q.build_info(),
            "evidence": q.evidence_summary(),
            "careers_evidence": q.careers_evidence(),
            "evidence_notes": EVIDENCE_NOTES,
            "reference_notes": q.reference_notes(),
            "limitations": LIMITATIONS,
            "title": "Methods and data",
        },
    )


#: Path prefixes that are not pages (their errors stay JSON or plain).
NOT_PAGES = ("/api", "/static", "/assets", "/docs", "/openapi.json", "/healthz", "/redoc")


def is_page(path: str) -> bool:
    """Whether ``path`` is an HTML page (errors as an HTML page) rather than data."""
    return not path.startswith(NOT_PAGES)


def explain_invalid(q: Queries, errors: Any) -> tuple[str, str]:
    """The first invalid parameter of a request and a message saying what is valid."""
    err: dict[str, Any] = next(iter(errors), {})
    loc = err.get("loc") or ("query", "?")
    name = str(loc[-1])
    got = err.get("input")
    lo, hi = q.year_range()
    valid = {
        "year": f"a year of this store, {lo}–{hi}",
        "start": f"a year of this store, {lo}–{hi}",
        "end": f"a year of this store, {lo}–{hi}",
        "k": "a whole number of years from 1 to 20",
        "name": "an institution name (find one at /search)",
        "q": "up to 100 characters",
    }.get(name, "see the API documentation at /docs")
    shown = "" if got is None else f" (got {str(got)[:40]!r})"
    return name, f"{name}: {err.get('msg', 'invalid value')}{shown}. Valid: {valid}."


def error_page(request: Request, name: str, message: str, status: int) -> Response:
    """An HTML page saying what was wrong with a parameter, with the given 4xx status."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": "Cannot show this view",
            "message": message,
            "param": name,
            "countries": [],
            "canonical": "",
        },
        status_code=status,
    )
