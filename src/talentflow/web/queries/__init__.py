"""Read-only queries the web app, the JSON API and the report share.

Every method builds an Ibis expression over the precomputed tables of ``docs/tables.md`` and
returns a small pandas frame. User input only ever reaches the store as Ibis literals (which Ibis
quotes), never as SQL text; the store is opened read-only; results are capped in size and cached
(the store never changes under a running server).

Indicator tables carry their interval as ``<measure>_ci_low``/``<measure>_ci_high`` when a table
holds several estimates (``country_year``) and as ``ci_low``/``ci_high`` otherwise; both are read.

One class per resource, each extending the one before (base -> build -> populations ->
indicators -> people); :class:`Queries` is the whole."""

from __future__ import annotations

from talentflow.web.queries.base import MAX_ROWS, MAX_SEARCH, MEASURES
from talentflow.web.queries.people import PeopleQueries
from talentflow.web.queries.populations import (
    FLAGSHIP_VENUES,
    VENUE_LABELS,
    flagship_population,
    population_parts,
    venue_label,
)


class Queries(PeopleQueries):
    """Read-only access to one store.

    Parameters
    ----------
    db_path
        The DuckDB store written by ``talentflow build``.
    cache_size
        How many query results to keep in memory.

    Examples
    --------
    >>> q = Queries("talentflow.duckdb")  # doctest: +SKIP
    >>> q.country_series("CN", 2015, 2020, measure="stock_share")  # doctest: +SKIP
    """


__all__ = [
    "FLAGSHIP_VENUES",
    "MAX_ROWS",
    "MAX_SEARCH",
    "MEASURES",
    "VENUE_LABELS",
    "Queries",
    "flagship_population",
    "population_parts",
    "venue_label",
]
