"""HTML pages: thin routes that validate filters, ask ``charts`` and render a template.

Filters travel in the query string, and each page writes its full (canonical) filters back into
the address bar, so any view can be shared as a URL and reproduced exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from talentflow.web import charts as ch
from talentflow.web import explorer as ex_
from talentflow.web import params as pv
from talentflow.web.api import Ex, State, country_profile_charts
from talentflow.web.methods import EVIDENCE_NOTES, LIMITATIONS
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

Q = Annotated[Queries, Depends(pv.queries)]
Text = Annotated[str | None, Query(max_length=40)]
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]


def cell(value: Any) -> str:
    """A table cell: numbers readable, missing values as n/a."""
    value = ch.clean(value)
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1:
            return f"{value:,.0f}"
        if abs(value) < 1:
            return f"{value:.3f}"
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


templates.env.filters["cell"] = cell
templates.env.filters["country"] = country_name


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
        context = {
            "countries": sorted(((c, country_name(c)) for c in q.countries()), key=lambda x: x[1]),
            "years": list(range(lo, hi + 1)),
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
    k: Annotated[int, Query(ge=1, le=20)] = 5,
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
) -> Response:
    """Sankey, bilateral flows, academia <-> industry."""
    if basis not in ch.BASIS_LABEL:
        raise pv.ParamError("basis", "basis is training or first_observed")
    pop = pv.population(q, population)
    ca = pv.country(q, a, "a")
    cb = pv.country(q, b or ch.partner_for(ca), "b")
    s, e = pv.period(q, start, end)

    def build() -> dict[str, Any]:
        charts = (
            [] if pop is None else [ch.pathways_chart(q, pop), ch.sankey_chart(q, pop, str(basis))]
        )
        charts += [
            ch.bilateral_chart(q, ca, cb, s, e),
            ch.top_pairs_chart(q, s, e),
            ch.sector_chart(q, ca, s, e),
        ]
        return {"charts": charts, "populations": q.populations(), "title": "Flows"}

    params = {"population": pop, "basis": basis, "a": ca, "b": cb, "start": s, "end": e}
    return render(request, "flows.html", "/flows", params, build)


@router.get("/country", response_class=HTMLResponse)
def country_default(q: Q, code: Text = None, year: YearQ = None) -> Response:
    """Redirect to a country profile (default China)."""
    c = pv.country(q, code, "code")
    suffix = f"?year={pv.year(q, year)}" if year is not None else ""
    return RedirectResponse(f"/country/{c}{suffix}", status_code=303)


@router.get("/country/{code}", response_class=HTMLResponse)
def country_profile(request: Request, q: Q, code: str, year: YearQ = None) -> Response:
    """Destinations, sources, alumni, sector mix, career stages."""
    c = pv.country(q, code[:8], "code")
    y = pv.year(q, year)
    return render(
        request,
        "country.html",
        f"/country/{c}",
        {"year": y},
        lambda: {
            "charts": country_profile_charts(q, c, y),
            "country": c,
            "title": f"Country profile: {country_name(c)}",
        },
    )


@router.get("/institution", response_class=HTMLResponse)
def institution(
    request: Request, q: Q, name: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    """One institution's profile."""
    return render(
        request,
        "institution.html",
        "/institution",
        {"name": name},
        lambda: {
            "charts": ch.institution_charts(q, name),
            "name": name,
            "title": f"Institution: {name}",
        },
    )


@router.get("/person/{person_id}", response_class=HTMLResponse)
def person(request: Request, q: Q, person_id: str) -> Response:
    """A person's career timeline."""
    pid = pv.person_id(person_id)
    data = q.person(pid)
    if not data.get("person"):
        raise pv.ParamError("person_id", f"no person {pid!r} in this store")
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
            "limitations": LIMITATIONS,
            "title": "Methods and data",
        },
    )
