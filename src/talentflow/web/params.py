"""Validation of the filters pages and the API share (422 with a clear message when wrong)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from talentflow.web.explorer import FACTOR_STEP, Explorer, Setting
from talentflow.web.queries import Queries

PERSON_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


class ParamError(ValueError):
    """A filter the store cannot answer (unknown country, inverted years, ...)."""

    def __init__(self, name: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        #: HTTP status of a page answering this error (the JSON API always answers 422).
        self.status = status

    def detail(self) -> list[dict[str, Any]]:
        """FastAPI-style validation detail."""
        return [{"loc": ["query", self.name], "msg": self.message, "type": "value_error"}]


def queries(request: Request) -> Queries:
    """The app's read-only query object."""
    q: Queries = request.app.state.queries
    return q


def default_country(q: Queries) -> str:
    """China when the store has it, else the country with most researchers."""
    codes = q.countries()
    if "CN" in codes or not codes:
        return "CN"
    lo, hi = q.year_range()
    top = q.top_countries(lo, hi, 1)
    return top[0] if top else codes[0]


def country(q: Queries, code: str | None, name: str = "country") -> str:
    """An upper-cased alpha-2 code the store knows."""
    if code is None or code == "":
        return default_country(q)
    code = code.strip().upper()
    if code not in set(q.countries()):
        shown = code if len(code) <= 8 else code[:8] + "…"
        raise ParamError(
            name,
            f"unknown country {shown!r}: not an ISO 3166-1 alpha-2 code present in this store "
            "(GET /api/meta lists the known codes)",
        )
    return code


#: Default period: the last this-many years of the store (early years have few venues).
DEFAULT_SPAN = 15


def period(q: Queries, start: int | None, end: int | None) -> tuple[int, int]:
    """A start/end year pair inside the store's years (default: the 15 years up to the last
    complete year); start after end, or a year outside the store, is an error."""
    lo, hi = q.year_range()
    for name, value in (("start", start), ("end", end)):
        if value is not None and not lo <= value <= hi:
            raise ParamError(
                name, f"{name} year {value} is outside the years of this store ({lo}–{hi})"
            )
    e = q.last_complete_year() if end is None else end
    s = max(lo, e - DEFAULT_SPAN + 1) if start is None else start
    if s > e:
        raise ParamError("start", f"inverted year range: start {s} is after end {e}")
    return s, e


def year(q: Queries, value: int | None, name: str = "year") -> int:
    """A year inside the store's range (default: the last complete year)."""
    lo, hi = q.year_range()
    if value is None:
        return q.last_complete_year()
    if not lo <= value <= hi:
        raise ParamError(name, f"year {value} is outside the years of this store ({lo}–{hi})")
    return value


def population(q: Queries, value: str | None) -> str | None:
    """A population of ``origin_work`` (default: the flagship, ``Queries.default_population``)."""
    pops = q.populations()
    if value is None or value == "":
        return q.default_population()
    if value not in pops:
        shown = ", ".join(pops[:8]) + (", ..." if len(pops) > 8 else "")
        raise ParamError(
            "population",
            f"unknown population {value[:20]!r}; valid ids are venue+year such as {shown} "
            "(GET /api/meta lists them all)",
        )
    return value


def origin_subset(q: Queries, value: str | None) -> str:
    """A subset of ``origin_work`` (``all``, ``top``, ``llm``, a subfield)."""
    subsets = q.origin_subsets()
    if value is None or value == "":
        return "all"
    if value not in subsets:
        raise ParamError("subset", f"unknown subset {value[:20]!r}; choose one of {subsets}")
    return value


#: The population choice that restricts nothing (every person observed), where a page has it.
EVERYONE = "everyone"


def people_population(q: Queries, value: str | None) -> str | None:
    """A population whose persons a page counts: the flagship by default (:func:`population`),
    :data:`EVERYONE` (None returned) for every person observed."""
    if value == EVERYONE:
        return None
    return population(q, value)


def institution(q: Queries, name: str) -> str:
    """An institution name observed in ``person_years`` (404 on a page when unknown)."""
    name = name.strip()
    if not name:
        raise ParamError("name", "an institution name is needed (search for one at /search)")
    if not q.has_institution(name):
        raise ParamError(
            "name",
            f"no institution named {name[:60]!r} in this store; names are as resolved "
            "(search at /search?q=...)",
            status=404,
        )
    return name


def default_population(q: Queries) -> str | None:
    """The population pages open on (``Queries.default_population``: the flagship)."""
    return q.default_population()


def sector(q: Queries, value: str) -> str:
    """``all`` or a sector present in ``country_year``."""
    if value != "all" and value not in q.sectors():
        raise ParamError(
            "sector", f"unknown sector {value[:20]!r}; choose all or one of {q.sectors()}"
        )
    return value


def person_id(value: str) -> str:
    """A person id of the expected shape (letters, digits and ``_.:-``)."""
    if not PERSON_ID.match(value):
        raise ParamError("person_id", "a person id is 1-64 letters, digits or _.:-")
    return value


def scenario_setting(
    q: Queries,
    ex: Explorer,
    code: str | None,
    factors: dict[str, float],
    visa_from: str | None,
    years: int,
) -> Setting:
    """A validated explorer state: modelled countries only, factors on the slider grid."""
    groups = ex.groups()
    if code is None or code == "":
        c = "CN" if "CN" in groups else groups[0]
    else:
        c = country(q, code)
        if c not in groups:
            raise ParamError(
                "country",
                f"{c} is not one of the countries the scenario model has its own parameters "
                f"for; choose one of {', '.join(groups)}",
            )
    origin: str | None = None
    if visa_from:
        origin = country(q, visa_from, "visa_from")
        if origin not in groups or origin == c:
            raise ParamError(
                "visa_from",
                f"visa_from must be another modelled country ({', '.join(g for g in groups if g != c)}) "
                "or empty for every origin",
            )
    # Snap to the slider grid: a bounded set of states (and of cached projections).
    snapped = {k: round(round(v / FACTOR_STEP) * FACTOR_STEP, 4) for k, v in factors.items()}
    return Setting(country=c, factors=snapped, visa_from=origin, years=years)


def lab_group(value: str | None) -> str:
    """``chinese`` (default), ``frontier`` or ``all``: which LLM labs the labs view shows."""
    v = (value or "chinese").strip().lower()
    if v not in ("chinese", "frontier", "all"):
        raise ParamError("group", f"unknown group {v[:20]!r}; choose chinese, frontier or all")
    return v
