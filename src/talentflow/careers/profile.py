"""Person profiles: observed origin, training country, current country and a mobility typology.

"Origin" is an observed career fact, never inferred from names: ``first_country`` is the country
of the first observed year, ``training_country`` the first country where the person is seen in a
student position (only when the source gives positions).

Typology after Robinson-Garcia et al. (2019), with returns kept apart:

- ``returnee``: made a ``return`` move back to the first observed country;
- ``migrant``: made at least one international move (migration or return) and is not a returnee;
- ``traveller``: no international move, but foreign affiliations beside the origin one
  (temporary positions, or foreign main/secondary affiliations in some year);
- ``stayer``: only ever seen in the first observed country;
- NULL when no country was ever resolved for the person.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _


def build_profile(person_years: Any, country_events: Any) -> Any:
    """The ``person_profile`` table as an Ibis expression."""
    py = person_years.filter(_.observed)
    has_country = _.country.notnull()
    base = py.group_by("person_id").agg(
        first_year=_.year.min(),
        last_year=_.year.max(),
        first_country=_.country.argmin(_.year, where=has_country),
        current_country=_.country.argmax(_.year, where=has_country),
        training_country=_.country.argmin(
            _.year, where=has_country & (_.career_stage == "student")
        ),
        first_sector=_.sector.argmin(_.year, where=_.sector.notnull()),
        current_sector=_.sector.argmax(_.year, where=_.sector.notnull()),
    )
    # Foreign affiliations relative to the first observed country.
    countries = py.select(
        "person_id",
        c=_.secondary_countries.concat(
            ibis.ifelse(has_country, ibis.array([_.country]), ibis.literal([], "array<string>"))
        ),
    ).unnest("c")
    foreign = (
        countries.inner_join(base.select("person_id", "first_country"), "person_id")
        .filter(_.c != _.first_country)
        .group_by("person_id")
        .agg(n_foreign=_.count())
    )
    moves = country_events.group_by("person_id").agg(
        n_international_moves=_.kind.isin(["migration", "return"]).cast("int64").sum(),
        n_temporary=(_.kind == "temporary").cast("int64").sum(),
        returns_to=_.to_country.collect(where=_.kind == "return"),
    )
    prof = (
        base.left_join(moves, "person_id")
        .select(base, "n_international_moves", "n_temporary", "returns_to")
        .left_join(foreign, "person_id")
        .select(base, "n_international_moves", "n_temporary", "returns_to", "n_foreign")
    )
    prof = prof.mutate(
        n_international_moves=_.n_international_moves.fill_null(0),
        n_temporary=_.n_temporary.fill_null(0),
        n_foreign=_.n_foreign.fill_null(0),
    )
    typology = ibis.cases(
        (_.first_country.isnull(), ibis.null("string")),
        (
            _.returns_to.fill_null(ibis.literal([], "array<string>")).contains(_.first_country),
            "returnee",
        ),
        (_.n_international_moves > 0, "migrant"),
        ((_.n_temporary > 0) | (_.n_foreign > 0), "traveller"),
        else_="stayer",
    )
    return prof.select(
        "person_id",
        first_year=_.first_year.cast("int64"),
        last_year=_.last_year.cast("int64"),
        first_country=_.first_country,
        training_country=_.training_country,
        current_country=_.current_country,
        n_international_moves=_.n_international_moves.cast("int64"),
        typology=typology,
        first_sector=_.first_sector,
        current_sector=_.current_sector,
        n_temporary=_.n_temporary.cast("int64"),
    )
