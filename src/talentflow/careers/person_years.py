"""Person-years: one row per person and year with papers (plus backfilled gap years).

The main affiliation of a person-year is the institution listed on most of that year's author
slots (every ``+`` part of a slot counts). Ties are broken, in order, by (1) a named institution
before a country-only resolution, (2) the affiliation listed *first* on more papers (the
author's main one), (3) the institution seen in more distinct years of the person's career (the
stable home beats a visit), (4) a resolved country before an unresolved one, (5) alphabetical
order, so the choice is deterministic. All other institutions and countries of the year are
kept as secondary. Tenures and events read the first-listed affiliation of each slot only.

Gap years of at most ``b`` years between two observed years are added with ``observed = false``
and carry the main affiliation of the last observed year before the gap.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

from talentflow.careers.company_home import company_home
from talentflow.careers.positions import _SENIORITY, resolve_stage

_PARTS_TYPE = "array<struct<institution: string, country: string, sector: string>>"

_STAGE_RANK = ibis.cases(
    *[(_.career_stage == s, r) for s, r in _SENIORITY.items() if s != "staff"], else_=-1
)


def observations(authorships: Any) -> Any:
    """The linked author slots the careers stage reads, one row per authorship.

    A headquarters fallback (``hq_fallback``: the slot named only an organisation with sites
    in several countries) takes the person's known site country there; see
    :func:`carry_site_country`.
    """
    return carry_site_country(raw_observations(authorships))


def raw_observations(authorships: Any) -> Any:
    """:func:`observations` before any fallback's country is replaced."""
    # stores resolved before the flag existed have no fallbacks
    fallback = (
        authorships.hq_fallback.fill_null(False)
        if "hq_fallback" in authorships.columns
        else ibis.literal(False)
    )
    authorships, parts = _with_other_parts(authorships)
    obs = authorships.filter(_.person_id.notnull(), _.year.notnull()).select(
        "person_id",
        year=_.year.cast("int64"),
        paper_id=_.paper_id,
        institution=_.institution,
        country=_.country,
        sector=_.sector,
        career_position=_.career_position,
        hq_fallback=fallback,
        other_parts=parts,
    )
    return obs


def _with_other_parts(authorships: Any) -> tuple[Any, Any]:
    """``authorships`` and its slots' ``other_parts`` (the resolved parts after the first).

    The resolve stage keeps them in ``affiliations``, one row per (raw_affiliation,
    email_domain) pair: only the pairs with other parts are joined on. A table that carries
    the column itself (stores resolved before 2026-12-06, tables built in code) is read as
    it is; without either, every slot has none.
    """
    if "other_parts" in authorships.columns:
        return authorships, authorships.other_parts
    if not {"raw_affiliation", "email_domain"} <= set(authorships.columns):
        return authorships, ibis.null(_PARTS_TYPE)
    backend = authorships.get_backend()
    if "affiliations" not in backend.list_tables():
        return authorships, ibis.null(_PARTS_TYPE)
    aff = backend.table("affiliations")
    aff = aff.filter(aff.other_parts.length() > 0).select(
        _parts_raw=aff.raw_affiliation, _parts_domain=aff.email_domain, other_parts=aff.other_parts
    )
    joined = authorships.left_join(
        aff,
        [
            authorships.raw_affiliation.identical_to(aff._parts_raw),
            authorships.email_domain.identical_to(aff._parts_domain),
        ],
    ).select(*authorships.columns, "other_parts")
    return joined, joined.other_parts


#: People a company needs, for a bare-name stay to take the country it starts from: that
#: many revealing people from outside its headquarters' country, and that many seen there
#: (:mod:`talentflow.careers.company_home`; docs/careers.md).
HOME_SITE_PEOPLE = 5


def carry_site_country(
    obs: Any, home_site_people: int = HOME_SITE_PEOPLE, voters: Any | None = None
) -> Any:
    """Replace a headquarters-fallback country by the person's known site country.

    For every (person, organisation, year) resolved only to the organisation's headquarters,
    the country comes from the person's nearest year with a *known* site of the same
    organisation (a lab or campus named, or a place given); at equal distance the earlier year
    wins (the site carries over), then the more frequent country. So a stayer at Microsoft
    Research Asia who sometimes writes only "Microsoft" stays in China, while a move from
    Beijing to Redmond (named) remains a move.

    Without any known site of a *company*, the stay takes the country it starts from where the
    corpus's revealing people show that is right for the company
    (:mod:`talentflow.careers.company_home`; ``home_site_people`` such people and as many
    seen there, 0: never; ``voters``, a table of ``person_id``: only they may reveal, for
    the evaluation). A Singapore researcher who writes "Salesforce Research" between two NUS
    years stays in Singapore when Salesforce qualifies. Otherwise, and for universities
    (whose bare name is their main campus), the headquarters stays.
    """
    known_all = obs.filter(~_.hq_fallback, _.institution.notnull(), _.country.notnull())
    known = (
        known_all.group_by(["person_id", "institution", "year", "country"])
        .agg(k_n=_.count())
        .rename(k_year="year", k_country="country")
    )
    fallback = obs.filter(_.hq_fallback, _.institution.notnull())
    fallback = fallback.select("person_id", "institution", "year").distinct()
    site = _nearest(fallback.inner_join(known, ["person_id", "institution"]))
    keys = ["person_id", "institution"]
    joined = obs.left_join(site, [*keys, "year"]).drop(
        "person_id_right", "institution_right", "year_right"
    )
    fallback_to = [(joined.hq_fallback & joined.site_country.notnull(), joined.site_country)]
    if home_site_people > 0:
        sited = site.select(*keys).distinct()
        home = company_home(obs, known, sited, home_site_people, voters)
        joined = joined.left_join(home, keys).drop("person_id_right", "institution_right")
        fallback_to.append(
            (joined.hq_fallback & joined.home_country.notnull(), joined.home_country)
        )
    cols = obs.columns
    return joined.select(
        *[c for c in cols if c != "country"], country=ibis.cases(*fallback_to, else_=joined.country)
    ).select(*cols)


def _nearest(cand: Any) -> Any:
    """``(person_id, institution, year, site_country)``: per fallback (person, institution,
    year) of ``cand`` (joined to known ``k_year, k_country, k_n`` rows), the nearest known
    year's country; at equal distance the earlier year, then the more frequent country."""
    cand = cand.mutate(dist=(_.year - _.k_year).abs())
    w = ibis.window(
        group_by=["person_id", "institution", "year"],
        order_by=[
            _.dist,
            ibis.desc((_.k_year < _.year).cast("int8")),
            ibis.desc("k_n"),
            _.k_country,
        ],
    )
    return (
        cand.mutate(_r=ibis.row_number().over(w))
        .filter(_._r == 0)
        .select("person_id", "institution", "year", site_country=_.k_country)
    )


def listed_affiliations(obs: Any) -> Any:
    """Every affiliation each slot lists: the first (``first = true``) and the others."""
    keep = ["person_id", "year", "paper_id"]
    first = obs.select(*keep, "institution", "country", "sector", first=ibis.literal(True))
    # an empty list unnests to nothing: leaving it out spares the unnest most slots
    others = (
        obs.filter(_.other_parts.notnull() & (_.other_parts.length() > 0))
        .select(*keep, "other_parts")
        .unnest("other_parts")
    )
    others = others.select(
        *keep,
        institution=_.other_parts.institution,
        country=_.other_parts.country,
        sector=_.other_parts.sector,
        first=ibis.literal(False),
    )
    return first.union(others)


def main_affiliation(obs: Any) -> Any:
    """Per person-year, every (institution, country, sector) with its rank (1 = main).

    Every listed affiliation counts (a joint "A + B" slot is a paper at A and at B); among
    places listed on as many papers, the one listed first more often is the main one.
    """
    named = listed_affiliations(obs).filter(_.institution.notnull() | _.country.notnull())
    place = ["person_id", "year", "institution", "country", "sector"]
    # distinct papers counted as rows of a de-duplicated table: cheaper than COUNT(DISTINCT)
    papers = named.group_by([*place, "paper_id"]).agg(first=_.first.any())
    per_aff = papers.group_by(place).agg(
        n=_.paper_id.count(),
        n_first=_.paper_id.count(where=_.first),
    )
    inst_years = (
        per_aff.filter(_.institution.notnull())
        .select("person_id", "institution", "year")
        .distinct()
        .group_by(["person_id", "institution"])
        .agg(inst_years=_.count())
    )
    ranked = per_aff.left_join(inst_years, ["person_id", "institution"]).select(
        per_aff, inst_years=_.inst_years.fill_null(0)
    )
    w = ibis.window(
        group_by=["person_id", "year"],
        order_by=[
            _.institution.isnull(),
            ibis.desc("n"),
            ibis.desc("n_first"),
            ibis.desc("inst_years"),
            _.country.isnull(),
            _.institution,
            _.country,
            # one institution can be listed under two sectors; without this the pick is arbitrary
            _.sector,
        ],
    )
    return ranked.mutate(rank=ibis.row_number().over(w) + 1).drop("n_first")


def career_stages(obs: Any, stages: Any) -> Any:
    """Per person-year, the most frequent career stage (ties: the most senior)."""
    staged = obs.filter(_.career_position.notnull()).inner_join(stages, "career_position")
    staged = staged.mutate(career_stage=resolve_stage(_.position_stage, _.sector)).filter(
        _.career_stage.notnull()
    )
    counts = staged.group_by(["person_id", "year", "career_stage"]).agg(n=_.count())
    w = ibis.window(
        group_by=["person_id", "year"],
        order_by=[ibis.desc("n"), ibis.desc(_STAGE_RANK)],
    )
    return (
        counts.mutate(r=ibis.row_number().over(w))
        .filter(_.r == 0)
        .select("person_id", "year", "career_stage")
    )


def build_person_years(obs: Any, stages: Any, backfill: int, ranked: Any | None = None) -> Any:
    """The ``person_years`` table (see docs/tables.md) as an Ibis expression.

    ``ranked`` is :func:`main_affiliation` of ``obs`` when the caller has it materialised
    already (the ranking is the costliest step; it is computed from ``obs`` otherwise).
    """
    if ranked is None:
        ranked = main_affiliation(obs)
    papers = obs.group_by(["person_id", "year"]).agg(n_papers=_.paper_id.nunique())
    main = ranked.filter(_.rank == 1).select(
        "person_id", "year", "institution", "country", "sector"
    )
    main_country = main.select("person_id", "year", main_country=_.country)
    others = ranked.filter(_.rank > 1).left_join(main_country, ["person_id", "year"])
    # sorted: a distinct collection has no order of its own, and engines differ in the one
    # they happen to give (["US", "CH"] on DuckDB, ["CH", "US"] on Spark)
    secondary = others.group_by(["person_id", "year"]).agg(
        secondary_institutions=_.institution.collect(distinct=True).sort(),
        secondary_countries=_.country.collect(
            distinct=True, where=_.main_country.isnull() | (_.country != _.main_country)
        ).sort(),
    )
    observed = (
        papers.left_join(main, ["person_id", "year"])
        .select(papers, "institution", "country", "sector")
        .left_join(secondary, ["person_id", "year"])
        .select(
            "person_id",
            "year",
            "n_papers",
            "institution",
            "country",
            "sector",
            "secondary_institutions",
            "secondary_countries",
        )
        .left_join(career_stages(obs, stages), ["person_id", "year"])
        .select(
            "person_id",
            "year",
            "n_papers",
            "institution",
            "country",
            "sector",
            "career_stage",
            secondary_institutions=_.secondary_institutions.fill_null(
                ibis.literal([], type="array<string>")
            ),
            secondary_countries=_.secondary_countries.fill_null(
                ibis.literal([], type="array<string>")
            ),
            observed=ibis.literal(True),
        )
    )
    if backfill <= 0:
        return observed
    # Gap years (<= b) between two observed years carry the last observed affiliation.
    w = ibis.window(group_by="person_id", order_by="year")
    spans = observed.mutate(next_year=_.year.lead().over(w)).filter(
        (_.next_year - _.year - 1 >= 1) & (_.next_year - _.year - 1 <= backfill)
    )
    offsets = ibis.memtable({"k": list(range(1, backfill + 1))}, schema={"k": "int64"})
    gaps = (
        spans.cross_join(offsets)
        .filter(_.year + _.k < _.next_year)
        .select(
            "person_id",
            year=(_.year + _.k).cast("int64"),
            n_papers=ibis.literal(0, type="int64"),
            institution=_.institution,
            country=_.country,
            sector=_.sector,
            career_stage=_.career_stage,
            secondary_institutions=ibis.literal([], type="array<string>"),
            secondary_countries=ibis.literal([], type="array<string>"),
            observed=ibis.literal(False),
        )
    )
    return observed.union(gaps)
