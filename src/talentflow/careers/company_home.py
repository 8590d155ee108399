"""Where a stay at a company known only by its bare name is placed.

A slot naming only a multinational ("Microsoft") is resolved to its headquarters. When the
person names a site of the company in another year, that site carries over
(:func:`talentflow.careers.person_years.carry_site_country`). When they never do, the stay
is placed in the country it starts from (the person's latest known place up to the first
bare year, else the first one after it) for the companies where that is what the corpus's
own *revealing* people show: people who write the bare name in some years and name the site
in others. A company qualifies when at least ``min_people`` such people came from another
country than the headquarters and more of their bare slots were written at the site of that
country than at the headquarters (Microsoft: people coming from China mostly named Microsoft
Research Asia; weighed by slots, since the guess is made for every bare slot),
and the company is seen in the stay's country, not as a fallback, by ``min_people`` other
people. Universities never qualify: a bare "The Chinese University of Hong Kong" is the Hong
Kong campus. Which companies qualify is learned from each build's own corpus; the
evaluation is :mod:`talentflow.careers.fallback_eval`.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

KEYS = ["person_id", "institution"]


def stay_start_country(known: Any, stays: Any) -> Any:
    """``(person_id, institution, home_country)``: per stay (``person_id, institution,
    first_year``), the country of the person's latest known year at *another* place up to
    ``first_year``, else the first after it (then more slots, then the smaller code).
    ``known``: ``person_id, institution, k_year, k_country, k_n``."""
    other = known.rename(k_institution="institution")
    cand = stays.inner_join(other, "person_id").filter(_.k_institution != _.institution)
    w = ibis.window(
        group_by=KEYS,
        order_by=[
            ibis.desc((_.k_year <= _.first_year).cast("int8")),
            (_.k_year - _.first_year).abs(),
            ibis.desc("k_n"),
            _.k_country,
        ],
    )
    return (
        cand.mutate(_r=ibis.row_number().over(w))
        .filter(_._r == 0)
        .select(*KEYS, home_country=_.k_country)
    )


def bare_company_slots(obs: Any) -> Any:
    """The observations naming a company by its bare name (headquarters fallbacks)."""
    return obs.filter(_.hq_fallback, _.institution.notnull(), _.sector == "company")


def qualifying_companies(bare: Any, known: Any, min_people: int, voters: Any | None = None) -> Any:
    """``institution`` of the companies whose revealing people (``voters``: a table of
    ``person_id``, when only some may count) coming from another country than the
    headquarters wrote more of their bare slots at their own country's site than at the
    headquarters. ``bare``: :func:`bare_company_slots`."""
    # one headquarters per name; min(), not mode(): PySpark has no mode
    hq = bare.group_by("institution").agg(hq_country=_.country.min())
    named = known.group_by(KEYS).agg(first_named=_.k_year.min())
    first_bare = bare.group_by(KEYS).agg(first_bare=_.year.min(), n_bare=_.count())
    revealed = first_bare.inner_join(named, KEYS)
    if voters is not None:
        revealed = revealed.semi_join(voters, "person_id")
    stays = revealed.select(*KEYS, first_year=ibis.least(_.first_bare, _.first_named))
    home = stay_start_country(known, stays).inner_join(revealed.select(*KEYS, "n_bare"), KEYS)
    # the site they name most (the truth of their bare years, as carried)
    w = ibis.window(group_by=KEYS, order_by=[ibis.desc("n"), _.k_country])
    site = (
        known.group_by([*KEYS, "k_country"])
        .agg(n=_.k_n.sum())
        .mutate(_r=ibis.row_number().over(w))
        .filter(_._r == 0)
        .select(*KEYS, site_country=_.k_country)
    )
    votes = home.inner_join(site, KEYS).inner_join(hq, "institution")
    votes = votes.filter(_.home_country != _.hq_country)
    # Weighed by bare slots: the guess is made for every bare slot, and people who write the
    # bare name often are not those who name their site often (Google, Alibaba by people:
    # qualified; by slots: not).
    tally = votes.group_by("institution").agg(
        n=_.count(),
        home_right=ibis.ifelse(_.site_country == _.home_country, _.n_bare, 0).sum(),
        hq_right=ibis.ifelse(_.site_country == _.hq_country, _.n_bare, 0).sum(),
    )
    return tally.filter((_.n >= min_people) & (_.home_right > _.hq_right)).select("institution")


def company_home(
    obs: Any, known: Any, sited: Any, min_people: int, voters: Any | None = None
) -> Any:
    """``(person_id, institution, home_country)`` for the bare-name stays at a qualifying
    company with no known site of it (``sited``: the person-institutions that name one)."""
    bare = bare_company_slots(obs)
    stays = bare.group_by(KEYS).agg(first_year=_.year.min()).anti_join(sited, KEYS)
    stays = stays.semi_join(qualifying_companies(bare, known, min_people, voters), "institution")
    home = stay_start_country(known, stays)
    # other people only: a person with no known site of the company is not among them
    seen = (
        known.group_by(["institution", "k_country"])
        .agg(n_people=_.person_id.nunique())
        .filter(_.n_people >= min_people)
        .select("institution", home_country="k_country")
    )
    return home.semi_join(seen, ["institution", "home_country"])
