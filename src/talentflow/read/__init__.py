"""The read layer: every surface reads a built store through :class:`StoreReader`.

The notebook API (``talentflow.open``), the web app and its JSON API, the HTML report,
``talentflow export`` and the CLI's summaries (``stats``, ``coverage``, ``events``,
``person``) all read here; none of them opens the store or writes a query its own way.

The reader opens the store read-only (:func:`talentflow.store.open_store`), knows which tables
and columns it has, reads the build's own records (``build_params``, ``build_info``,
``coverage``, complete years, defaults) and answers the common queries: indicator slices by
population, subset, year and country with their interval columns, person timelines, search.
Every query is an Ibis expression over the tables of ``docs/tables.md``: user input reaches the
store only as Ibis literals (which Ibis quotes), never as SQL text; results of the surfaces'
queries are capped in size and cached (a store never changes under a reader; a new build is a
new file, see :meth:`StoreReader.reopen`).

Indicator tables carry their interval as ``<measure>_ci_low``/``<measure>_ci_high`` when a table
holds several estimates (``country_year``) and as ``ci_low``/``ci_high`` otherwise; both are read.

One class per resource, each extending the one before (``base`` -> ``build`` ->
``populations`` -> ``indicators`` -> ``people``); :class:`StoreReader` is the whole.
"""

from __future__ import annotations

from talentflow.read.base import MAX_ROWS, MAX_SEARCH, MEASURES
from talentflow.read.people import PeopleReader, Timeline
from talentflow.read.populations import (
    FLAGSHIP_VENUES,
    VENUE_LABELS,
    flagship_population,
    population_parts,
    venue_label,
)


class StoreReader(PeopleReader):
    """Read-only access to one built store.

    Parameters
    ----------
    db_path
        The DuckDB store written by ``talentflow build``.
    cache_size
        How many query results to keep in memory.

    Examples
    --------
    >>> reader = StoreReader("talentflow.duckdb")  # doctest: +SKIP
    >>> reader.country_series("CN", 2015, 2020, measure="stock_share")  # doctest: +SKIP
    >>> reader.frame("flows", from_country="US", year=2021)  # doctest: +SKIP
    """


__all__ = [
    "FLAGSHIP_VENUES",
    "MAX_ROWS",
    "MAX_SEARCH",
    "MEASURES",
    "VENUE_LABELS",
    "StoreReader",
    "Timeline",
    "flagship_population",
    "population_parts",
    "venue_label",
]
