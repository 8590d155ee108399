"""The JSON API under ``/api``: the same charts the pages show, as data (or CSV).

Every chart endpoint answers ``format=json`` (default: title, plain reading, columns, rows with
95% intervals) or ``format=csv`` (the data table). Parameters are validated: an unknown country,
an inverted year range or a year outside the store is a 422 with a message saying what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from talentflow.web import charts as ch
from talentflow.web import compare as cmp
from talentflow.web import labs as lb
from talentflow.web import params as pv
from talentflow.web.explorer import (
    DEFAULT_YEARS,
    FACTOR_MAX,
    FACTOR_MIN,
    FACTOR_STEP,
    LEVEL,
    MAX_YEARS,
    Explorer,
    Setting,
    explorer_charts,
)
from talentflow.web.names import country_name
from talentflow.web.queries import MAX_SEARCH, MEASURES, Queries

router = APIRouter(prefix="/api", tags=["data"])

Q = Annotated[Queries, Depends(pv.queries)]
Country = Annotated[
    str | None,
    Query(max_length=8, description="ISO 3166-1 alpha-2 code (default CN)", examples=["CN"]),
]
Year = Annotated[int | None, Query(ge=1900, le=2100, description="a year")]
Start = Annotated[
    int | None, Query(ge=1900, le=2100, description="first year (default: first in store)")
]
End = Annotated[
    int | None, Query(ge=1900, le=2100, description="last year (default: last in store)")
]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
Subset = Annotated[
    Literal["all", "llm", "top"],
    Query(
        description="all researchers; llm: authors of a language-model paper of the LLM era "
        "(year >= llm_era_start); top: authors of a top-tier paper"
    ),
]
Population = Annotated[str | None, Query(max_length=40, examples=["nips2021"])]
#: A subset of ``origin_work`` (its subfield subsets too), checked against the store.
OriginSubset = Annotated[
    str | None, Query(max_length=20, description="all (default), top (top-tier authors), ...")
]
Basis = Annotated[
    Literal["training", "first_observed"],
    Query(description="origin basis: country of training, or first observed country"),
]
Measure = Literal[
    "stock",
    "stock_share",
    "net_rate",
    "inflow",
    "outflow",
    "net_flow",
    "returns",
    "inflow_rate",
    "outflow_rate",
]


def cached(q: Queries, key: tuple[Any, ...], build: Callable[[], Response]) -> Response:
    """The response of ``build()``, computed once per key (validated parameters)."""

    def freeze() -> tuple[int, bytes, str | None, dict[str, str]]:
        r = build()
        keep = {k: v for k, v in r.headers.items() if k.lower() == "content-disposition"}
        return r.status_code, bytes(r.body), r.media_type, keep

    status, body, media_type, headers = q.memo(("response", *key), freeze)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def csv_name(chart: ch.Chart) -> str:
    """``talentflow-<chart>-<param>-<value>...csv``: the file says which view it holds."""
    parts = [chart.id] + [
        f"{k}-{v}" for k, v in chart.params.items() if v is not None and k != "part"
    ]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(str(p) for p in parts))
    return f"talentflow-{name[:150]}.csv"


def csv_header(chart: ch.Chart, q: Queries | None) -> str:
    """``#`` lines before a CSV's header row: what, which population and years, which build."""
    lines = [f"talentflow: {chart.title}"]
    params = ", ".join(f"{k}={v}" for k, v in chart.params.items() if v is not None)
    if params:
        lines.append(f"parameters: {params}")
    if q is not None:
        lo, hi = q.year_range()
        done = q.complete_years()
        lines.append(f"store years: {lo}-{hi}")
        lines.append(
            "complete years: coverage unknown"
            if done is None
            else f"incomplete years: {', '.join(map(str, q.incomplete_years())) or 'none'}"
        )
        info = q.build_info()
        build = ", ".join(
            f"{k}={info[k]}" for k in ("talentflow_version", "engine", "finished") if k in info
        )
        if build:
            lines.append(f"build: {build}")
    if chart.reading:
        lines.append(f"reading: {chart.reading}")
    if chart.note:
        lines.append(f"note: {chart.note}")
    lines.append("intervals: 95% (ci_low, ci_high); empty = suppressed or not available")
    return "".join("# " + line.replace("\n", " ") + "\n" for line in lines)


def respond(chart: ch.Chart, fmt: str, q: Queries | None = None) -> Response:
    """A chart as JSON or as a CSV download (named by its parameters, ``#`` metadata lines
    first: read it with ``pandas.read_csv(..., comment="#")``)."""
    if fmt == "csv":
        return Response(
            csv_header(chart, q) + chart.table.to_csv(index=False),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{csv_name(chart)}"'},
        )
    return JSONResponse(chart.to_json())


def respond_many(
    charts: list[ch.Chart],
    fmt: str,
    part: str | None,
    extra: dict[str, Any],
    q: Queries | None = None,
) -> Response:
    """Several charts as JSON, or one of them (``part``) as CSV."""
    if part is not None:
        chosen = [c for c in charts if c.id == part or c.params.get("part") == part]
        if not chosen:
            raise pv.ParamError(
                "part", f"unknown part {part[:20]!r}; choose one of {[c.id for c in charts]}"
            )
        return respond(chosen[0], fmt, q)
    if fmt == "csv":
        raise pv.ParamError("part", f"CSV needs one part: one of {[c.id for c in charts]}")
    return JSONResponse({**extra, "charts": [c.to_json() for c in charts]})


@router.get("/meta", summary="Countries, years, populations and measures of this store")
def meta(q: Q) -> dict[str, Any]:
    """What the filters may take."""
    lo, hi = q.year_range()
    done = q.complete_years()
    return {
        "countries": [{"code": c, "name": country_name(c)} for c in q.countries()],
        "years": [lo, hi],
        # the year pages open on: the last complete year (coverage unknown: the last year)
        "default_year": q.last_complete_year(),
        # null when the store has no coverage table (coverage unknown)
        "complete_years": done,
        "incomplete_years": None if done is None else q.incomplete_years(),
        "coverage_changes": q.coverage_changes(),
        "default_population": q.default_population(),
        "populations": q.populations(),
        "population_groups": [
            {"label": label, "populations": [{"id": p, "label": text} for p, text in items]}
            for label, items in q.population_groups()
        ],
        "origin_subsets": q.origin_subsets(),
        "measures": MEASURES,
        "sectors": q.sectors(),
        "map_metrics": {k: v[0] for k, v in ch.MAP_METRICS.items()},
        "build": q.build_info(),
    }


@router.get("/overview", summary="The headline questions for one country and period")
def overview(
    q: Q,
    country: Country = None,
    start: Start = None,
    end: End = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
    format: Format = "json",
) -> Response:
    """Retention, net flow with the US, returnees, world share and LLM researchers."""
    c = pv.country(q, country)
    s, e = pv.period(q, start, end)
    extra = {"country": c, "country_name": country_name(c), "start": s, "end": e}
    return cached(
        q,
        ("overview", c, s, e, part, format),
        lambda: respond_many(ch.overview_charts(q, c, s, e), format, part, extra, q),
    )


@router.get("/series", summary="One measure of one country by year")
def series(
    q: Q,
    country: Country = None,
    start: Start = None,
    end: End = None,
    measure: Measure = "stock_share",
    subset: Subset = "all",
    sector: Annotated[str, Query(max_length=20)] = "all",
    format: Format = "json",
) -> Response:
    """A ``country_year`` measure with its interval."""
    c = pv.country(q, country)
    s, e = pv.period(q, start, end)
    sec = pv.sector(q, sector)
    df = q.country_series(c, s, e, measure, subset, sec)
    chart = ch.Chart(
        id=f"series-{measure}",
        title=f"{country_name(c)}: {ch.measure_label(measure)}",
        reading="",
        figure={},
        table=df,
        api="/api/series",
        params={
            "country": c,
            "start": s,
            "end": e,
            "measure": measure,
            "subset": subset,
            "sector": sec,
        },
    )
    return cached(
        q, ("series", c, s, e, measure, subset, sec, format), lambda: respond(chart, format, q)
    )


@router.get("/retention", summary="Retention curves per cohort")
def retention(
    q: Q,
    country: Country = None,
    start: Start = None,
    end: End = None,
    basis: Basis = "training",
    format: Format = "json",
) -> Response:
    """Share of a cohort still working in the country k years on."""
    c = pv.country(q, country)
    s, e = pv.period(q, start, end)
    return cached(
        q,
        ("retention", c, s, e, basis, format),
        lambda: respond(ch.retention_chart(q, c, s, e, basis), format, q),
    )


@router.get("/returns", summary="Return curve: share back within k years")
def returns(q: Q, country: Country = None, format: Format = "json") -> Response:
    """Share of those who left who are back within k years."""
    c = pv.country(q, country)
    df = q.returns_curve(c)
    chart = ch.Chart(
        id="return-curve",
        title=f"Share of leavers back in {country_name(c)} within k years",
        reading="",
        figure={},
        table=df,
        api="/api/returns",
        params={"country": c},
    )
    return respond(chart, format, q)


@router.get("/map", summary="One metric for every country in one year")
def world_map(
    q: Q,
    metric: Annotated[Literal["stock_share", "net_rate", "retention"], Query()] = "stock_share",
    year: Year = None,
    k: Annotated[int, Query(ge=1, le=20, description="years after the cohort (retention)")] = 3,
    format: Format = "json",
) -> Response:
    """The world map's data."""
    y = pv.year(q, year)
    return cached(
        q, ("map", metric, y, k, format), lambda: respond(ch.map_chart(q, metric, y, k), format, q)
    )


@router.get("/flows/bilateral", summary="Flows between two countries by year")
def bilateral(
    q: Q,
    a: Country = None,
    b: Country = None,
    start: Start = None,
    end: End = None,
    subset: Subset = "all",
    format: Format = "json",
) -> Response:
    """a -> b and b -> a, with intervals."""
    ca = pv.country(q, a, "a")
    cb = pv.country(q, b or ch.partner_for(ca), "b")
    s, e = pv.period(q, start, end)
    return cached(
        q,
        ("bilateral", ca, cb, s, e, subset, format),
        lambda: respond(ch.bilateral_chart(q, ca, cb, s, e, subset), format, q),
    )


@router.get("/flows/top", summary="Largest bilateral flows between the top countries")
def top_flows(
    q: Q, start: Start = None, end: End = None, subset: Subset = "all", format: Format = "json"
) -> Response:
    """Yearly flows of the largest pairs."""
    s, e = pv.period(q, start, end)
    return cached(
        q,
        ("top", s, e, subset, format),
        lambda: respond(ch.top_pairs_chart(q, s, e, subset), format, q),
    )


@router.get("/flows/origin-work", summary="Origin -> work of a venue-year population")
def origin_work(
    q: Q,
    population: Population = None,
    basis: Annotated[Literal["first_observed", "training"], Query()] = "first_observed",
    subset: OriginSubset = None,
    format: Format = "json",
) -> Response:
    """The Sankey's data (shares of the whole population and of each known origin)."""
    pop = pv.population(q, population)
    if pop is None:
        raise pv.ParamError("population", "this store has no origin -> work populations")
    sub = pv.origin_subset(q, subset)
    return cached(
        q,
        ("sankey", pop, basis, sub, format),
        lambda: respond(ch.sankey_chart(q, pop, basis, sub), format, q),
    )


@router.get(
    "/flows/pathways", summary="First observed -> training -> work of a venue-year population"
)
def pathways(
    q: Q,
    population: Population = None,
    subset: OriginSubset = None,
    format: Format = "json",
) -> Response:
    """The three-stage Sankey's data: persons per path, share with a 95% interval."""
    pop = pv.population(q, population)
    if pop is None:
        raise pv.ParamError("population", "this store has no venue-year populations")
    sub = pv.origin_subset(q, subset)
    return cached(
        q,
        ("pathways", pop, sub, format),
        lambda: respond(ch.pathways_chart(q, pop, sub), format, q),
    )


@router.get("/flows/sectors", summary="Academia <-> industry moves by year")
def sector_flows(
    q: Q, country: Country = None, start: Start = None, end: End = None, format: Format = "json"
) -> Response:
    """Moves between sectors within a country."""
    c = pv.country(q, country)
    s, e = pv.period(q, start, end)
    return cached(
        q, ("sectors", c, s, e, format), lambda: respond(ch.sector_chart(q, c, s, e), format, q)
    )


def country_profile_charts(
    q: Queries, c: str, y: int, population: str | None = None, subset: str = "all"
) -> list[ch.Chart]:
    """Charts of a country profile (alumni of ``population``, default the flagship)."""
    return [
        ch.partners_chart(q, c, y, "out"),
        ch.partners_chart(q, c, y, "in"),
        ch.alumni_chart(q, c, population, subset),
        ch.sector_mix_chart(q, c, y),
        ch.stages_chart(
            q.career_stages(c, y),
            f"{country_name(c)} {y}",
            "stages",
            f"/api/countries/{c}",
            {"year": y, "part": "stages"},
        ),
    ]


@router.get("/countries/{code}", summary="Country profile")
def country_profile(
    q: Q,
    code: str,
    year: Year = None,
    population: Population = None,
    subset: OriginSubset = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
    format: Format = "json",
) -> Response:
    """Top destinations and sources, alumni outcomes, sector mix, career stages."""
    c = pv.country(q, code[:8], "code")
    y = pv.year(q, year)
    pop = pv.population(q, population)
    sub = pv.origin_subset(q, subset)
    extra = {"country": c, "country_name": country_name(c), "year": y, "population": pop}
    return cached(
        q,
        ("country", c, y, pop, sub, part, format),
        lambda: respond_many(country_profile_charts(q, c, y, pop, sub), format, part, extra, q),
    )


@router.get("/countries", summary="Every country ranked by active researchers in one year")
def countries(q: Q, year: Year = None, format: Format = "json") -> Response:
    """Stock, share, arrivals, departures, net rate and returnees of every country."""
    y = pv.year(q, year)
    return cached(
        q, ("countries", y, format), lambda: respond(cmp.country_table_chart(q, y), format, q)
    )


@router.get("/compare", summary="Two countries side by side")
def compare(
    q: Q,
    a: Country = None,
    b: Country = None,
    start: Start = None,
    end: End = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
    format: Format = "json",
) -> Response:
    """Share of the world, net migration rate, returnees and retention of two countries."""
    ca = pv.country(q, a, "a")
    cb = pv.country(q, b or ch.partner_for(ca), "b")
    s, e = pv.period(q, start, end)
    extra = {"a": ca, "b": cb, "start": s, "end": e}
    return cached(
        q,
        ("compare", ca, cb, s, e, part, format),
        lambda: respond_many(cmp.compare_charts(q, ca, cb, s, e), format, part, extra, q),
    )


@router.get("/labs", summary="Who joins the frontier and Chinese LLM labs, from where")
def llm_labs(
    q: Q,
    group: Annotated[Literal["chinese", "frontier", "all"], Query()] = "chinese",
    start: Start = None,
    end: End = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
    format: Format = "json",
) -> Response:
    """Joins per year, source countries, sectors and institutions, returnees, staff."""
    s, e = pv.period(q, start, end)
    extra = {
        "group": group,
        "start": s,
        "end": e,
        "labs": [lab.__dict__ for lab in lb.labs() if group in ("all", lab.group)],
    }
    return cached(
        q,
        ("labs", group, s, e, part, format),
        lambda: respond_many(lb.lab_charts(q, group, s, e), format, part, extra, q),
    )


@router.get("/flows/companies", summary="The largest company-to-company moves")
def company_flows(q: Q, start: Start = None, end: End = None, format: Format = "json") -> Response:
    """Institution-level moves between two companies over a period."""
    s, e = pv.period(q, start, end)
    return cached(
        q, ("companies", s, e, format), lambda: respond(lb.company_flows_chart(q, s, e), format, q)
    )


@router.get("/institutions", summary="Institution profile")
def institution(
    q: Q,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    year: Year = None,
    population: Annotated[
        str | None,
        Query(
            max_length=40,
            description="whose careers count: a population id (default: the flagship of "
            "/api/meta) or everyone",
        ),
    ] = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
    format: Format = "json",
) -> Response:
    """Researchers by year, career stages (of ``year``, default the last complete year),
    destinations and sources of moves, of the persons of ``population``."""
    n = pv.institution(q, name)
    y = pv.year(q, year)
    pop = pv.people_population(q, population)
    shown = pop or pv.EVERYONE
    return cached(
        q,
        ("institution", n, y, shown, part, format),
        lambda: respond_many(
            ch.institution_charts(q, n, y, pop),
            format,
            part,
            {"institution": n, "year": y, "population": shown},
            q,
        ),
    )


@router.get("/persons/{person_id}", summary="One person's career")
def person(q: Q, person_id: str) -> dict[str, Any]:
    """Profile, yearly career, moves and papers of one person."""
    pid = pv.person_id(person_id)
    data = q.person(pid)
    if not data.get("person"):
        raise pv.ParamError("person_id", f"no person {pid!r} in this store")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if hasattr(value, "to_dict"):
            out[key] = [{k: ch.clean(v) for k, v in r.items()} for r in value.to_dict("records")]
        elif isinstance(value, dict):
            out[key] = {k: ch.clean(v) for k, v in value.items()}
        else:
            out[key] = value
    return out


@router.get("/search", summary="Search persons and institutions")
def search(
    q: Q,
    text: Annotated[
        str, Query(alias="q", min_length=1, max_length=100, description="name, id or institution")
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20,
) -> dict[str, Any]:
    """Persons by name or id, institutions by name."""
    found = q.search(text, limit)
    return {
        key: [{k: ch.clean(v) for k, v in r.items()} for r in df.to_dict("records")]
        for key, df in found.items()
    }


@router.get("/methods", summary="Coverage, build parameters and limitations")
def methods(
    q: Q, part: Annotated[Literal["coverage"] | None, Query()] = None, format: Format = "json"
) -> Response:
    """What the build read and how it was configured."""
    from talentflow.web.methods import LIMITATIONS

    cov = ch.coverage_chart(q)
    if part is not None or format == "csv":
        return respond(cov, format, q)
    return JSONResponse(
        {
            "coverage": cov.records(),
            "resolved_share": [
                {k: ch.clean(v) for k, v in r.items()}
                for r in q.resolved_share().to_dict("records")
            ],
            "ingest": [
                {k: ch.clean(v) for k, v in r.items()}
                for r in q.ingest_summary().to_dict("records")
            ],
            "build_params": [
                {k: ch.clean(v) for k, v in r.items()} for r in q.build_params().to_dict("records")
            ],
            "build_info": q.build_info(),
            "careers_evidence": q.careers_evidence(),
            "evidence": [
                {k: ch.clean(v) for k, v in r.items()}
                for r in q.evidence_summary().to_dict("records")
            ],
            "limitations": LIMITATIONS,
        }
    )


def explorer(request: Request) -> Explorer:
    """The app's scenario explorer (model fitted once per process)."""
    ex: Explorer = request.app.state.explorer
    return ex


Ex = Annotated[Explorer, Depends(explorer)]
Factor = Annotated[
    float,
    Query(
        ge=FACTOR_MIN,
        le=FACTOR_MAX,
        description=f"odds factor ({FACTOR_MIN}–{FACTOR_MAX}; 1 = no change; snapped to "
        f"steps of {FACTOR_STEP})",
    ),
]


def scenario_state(
    q: Q,
    ex: Ex,
    country: Country = None,
    grants: Factor = 1.0,
    industry: Factor = 1.0,
    visa: Factor = 1.0,
    returns: Factor = 1.0,
    startup: Factor = 1.0,
    visa_from: Annotated[
        str | None,
        Query(max_length=8, description="origin the visa lever applies to (empty: every origin)"),
    ] = None,
    years: Annotated[int, Query(ge=1, le=MAX_YEARS, description="years projected")] = DEFAULT_YEARS,
) -> Setting:
    """The explorer's validated state (shared by the page and the API)."""
    factors = {
        "grants": grants,
        "industry": industry,
        "visa": visa,
        "returns": returns,
        "startup": startup,
    }
    return pv.scenario_setting(q, ex, country, factors, visa_from, years)


State = Annotated[Setting, Depends(scenario_state)]


@router.get(
    "/scenario",
    summary="Scenario explorer: baseline vs scenario under policy levers",
    responses={
        503: {
            "description": "the store cannot support the move model (no careers tables), "
            "or the explorer is busy with other projections (retry)"
        }
    },
)
def scenario(
    q: Q,
    ex: Ex,
    setting: State,
    part: Annotated[Literal["stock", "net_flow", "effect"] | None, Query()] = None,
    figure: Annotated[bool, Query(description="include the Plotly figures")] = False,
    preview: Annotated[
        bool, Query(description="point estimates only (fast, no bands): a first answer")
    ] = False,
    format: Format = "json",
) -> Response:
    """Stock and net flow of one country projected with and without the levers, with bands.

    Levers are odds factors (see ``docs/scenarios.md``): ``grants`` (attractiveness for
    students and postdocs), ``industry`` (industry retention), ``visa`` (inflow, from
    ``visa_from`` or every origin), ``returns`` (return moves), ``startup`` (academia ->
    domestic industry). The answer states the assumptions of the projection.
    """
    key = ("scenario", tuple(sorted(setting.params().items())), part, figure, preview, format)

    def build() -> Response:
        charts = explorer_charts(ex, setting, preview)
        if part is not None:
            chosen = next(c for c in charts if c.params.get("part") == part)
            if format == "csv":
                return respond(chosen, format, q)
            return JSONResponse(chosen.to_json(with_figure=figure))
        if format == "csv":
            raise pv.ParamError("part", "CSV needs one part: stock, net_flow or effect")
        return JSONResponse(
            {
                **setting.params(),
                "country_name": country_name(setting.country),
                "levers": [lv.to_dict() for lv in setting.levers()],
                "assumptions": ex.assumptions(setting),
                "draws": 0 if preview else ex.draws,
                "preview": preview,
                "level": LEVEL,
                "groups": ex.groups(),
                "charts": [c.to_json(with_figure=figure) for c in charts],
            }
        )

    return cached(q, key, build)
