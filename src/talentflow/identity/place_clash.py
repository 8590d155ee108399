"""Evidence against a weak link: the person's own place at the same venue-year.

The weak rules of the decisions (the unique-name rule, an exact name with an old co-author,
a group adopted through a linked record, the second round) attach a record on little more
than its name. Their wrong links are mostly a namesake publishing at the same conference
as the person: the person's own papers there were attached on strong evidence (ids, or a
link at ``attach_threshold`` by the ordinary rule) and name one institution, the namesake's
record another.

:func:`refuse_place_clashes` runs after the decisions (both rounds). A weakly attached
record with a resolved institution is taken back from its person when the person's
*anchored* records of the same venue-year (an identifier, or a plain link at
``attach_threshold``) name institutions and none of them

- is the record's institution,
- shares the record's e-mail domain, or
- appears on the record's own paper (a co-author's slot: misaligned affiliation lists put
  the person's place on another author, and a visiting author writes with their home team).

The refused entity (a record, or a cluster known only by hashed e-mails) becomes its own
person. Only the same venue-year is compared: one submission round, one place. Across
venues of one year people move (a paper at AISTATS from Columbia and at NeurIPS from AI2):
compared over the whole year, the rule took 18 known people's records on the default
evaluation's development split for 12 wrong links.
"""

from __future__ import annotations

import ibis

from talentflow.identity.evidence import (
    ADOPTED,
    GROUP,
    REFUSED,
    SECOND_ROUND,
    SHARED_COAUTHOR,
    UNIQUE_NAME,
)

#: Evidence prefixes of the decisions' weak rules (``decide``, ``rescore``).
WEAK_PREFIXES = (UNIQUE_NAME, SHARED_COAUTHOR, SECOND_ROUND, GROUP)


def weak_link(assignments: ibis.Table) -> ibis.Value:
    """True for a record attached by one of the decisions' weak rules."""
    ev = assignments.cluster_evidence.fill_null("")
    weak = ev.contains(ADOPTED)
    for prefix in WEAK_PREFIXES:
        weak = weak | ev.startswith(prefix)
    return (assignments.rule == "splink") & weak


def places_of(authorships: ibis.Table, features: ibis.Table) -> ibis.Table | None:
    """``(authorship_id, paper_id, venue, year, institution, domain)``: the resolved
    institution only (a raw affiliation string would clash with its own resolved name), the
    registrable e-mail domains of the features (one row per domain: a record that lists
    several positions has several). None when the authorships have no ``institution`` or
    ``venue``."""
    if not {"institution", "venue"} <= set(authorships.columns):
        return None
    inst = authorships.institution.cast("string").nullif("")
    a = authorships.select("authorship_id", institution=inst)
    cols = ("authorship_id", "paper_id", "venue", "year")
    more = features.filter(features.more_domains.notnull())
    f = features.select(*cols, "domain").union(
        more.select(*cols, domain=more.more_domains.unnest())
    )
    return f.join(a, "authorship_id")


def refuse_place_clashes(
    assignments: ibis.Table,
    places: ibis.Table,
    members: ibis.Table,
    *,
    attach_threshold: float,
) -> ibis.Table:
    """``assignments`` with the weak links that clash with their person's venue-year taken
    back (module docstring). Same columns; a refused entity's records get its own key, rule
    ``singleton`` (``identifier`` for a cluster of hashed e-mails) and the evidence
    ``REFUSED`` followed by the key of the person it was taken from."""
    a = assignments.join(places, "authorship_id")
    weak = weak_link(a)
    anchored = (a.rule == "identifier") | (
        (a.rule == "splink") & (a.match_probability >= attach_threshold) & ~weak
    )
    a = a.mutate(weak=weak, anchored=anchored)
    keys = ["person_key", "venue", "year"]
    anchors = (
        a.filter(a.anchored & a.institution.notnull())
        .select(*keys, a_inst=a.institution, a_dom=a.domain)
        .distinct()
    )
    checked = a.filter(a.weak & a.institution.notnull()).select(
        "authorship_id", *keys, "paper_id", "institution", "domain"
    )
    pairs = checked.join(anchors, keys)
    agree = pairs.filter(
        (pairs.a_inst == pairs.institution) | (pairs.a_dom == pairs.domain).fill_null(False)
    ).select("authorship_id")
    on_paper = places.filter(places.institution.notnull()).select(
        "paper_id", a_inst=places.institution
    )
    on_paper = pairs.join(on_paper.distinct(), ["paper_id", "a_inst"]).select("authorship_id")
    clash = (
        pairs.select("authorship_id", "person_key")
        .distinct()
        .anti_join(agree.union(on_paper), "authorship_id")
    )
    refused = (
        members.join(clash, "authorship_id")
        .select("entity_id", refused_from=clash.person_key)
        .distinct()
    )
    # One person taken per entity (an e-mail cluster's records are attached together).
    refused = refused.group_by("entity_id").aggregate(refused_from=refused.refused_from.min())
    m = assignments.join(members.select("authorship_id", "entity_id"), "authorship_id")
    m = m.left_join(refused, "entity_id").drop("entity_id_right")
    out = m.refused_from.notnull()
    return m.select(
        "authorship_id",
        person_key=ibis.ifelse(out, m.entity_id, m.person_key),
        rule=ibis.ifelse(
            out, ibis.ifelse(m.entity_id != m.authorship_id, "identifier", "singleton"), m.rule
        ),
        match_probability=ibis.ifelse(out, ibis.null("float64"), m.match_probability),
        cluster_evidence=ibis.ifelse(
            out, ibis.literal(REFUSED) + m.refused_from, m.cluster_evidence
        ),
    )
