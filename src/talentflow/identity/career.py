"""A record's self-declared career stage as evidence for or against a name-only link.

OpenReview records carry the author's career position of the paper's year (``PhD student``,
``MS student``, ``Full Professor``, ...; ``authorships.career_position``). The position says
nothing about *which* person of a name wrote the paper, but it does say how likely the author
is to have published before. Counted on the OpenReview-profile records of 2022: authors with
an identified record in an earlier year stated an undergraduate or master's position about
five times less often than authors seen for the first time (2.1% against 11.0%), a PhD
student listed first about half as often (8.4% against 15.4%), and a post (postdoc, faculty,
researcher, engineer) 1.3 to 1.7 times as often
(``bench/results/2026-12-06-identity-evidence-night.md``).

The unique-name rule (:mod:`talentflow.identity.decide`) links a record to the one
identified person with its first-last name on the name alone; whether that person is the
author or a newcomer with the same name is exactly what the stage speaks to:

- ``early_career_guard`` (evidence against): 1 refuses the rule to a record whose position
  names an undergraduate or master's student; 2 also to a PhD student listed as first
  author;
- ``established_support`` (evidence for): a record naming a post other than a student or an
  intern counts as the rule's support (instead of the person seen on two papers or at the
  same venue).

Positions are matched by pattern on the lower-cased text (``+``-joined parts included);
nothing about the person is inferred from their name.

Both are off by default: in this corpus only records with an id state a position (none of
the authorships without an id does), and such records are never free entities, so the rules
cannot act on a build. Their gains on the evaluations came from positions left on records
whose ids were hidden; the evaluations' mask now empties them (``truth.PROFILE_ONLY_COLUMNS``).
They are kept for a source that states positions without ids.
"""

from __future__ import annotations

import ibis

#: Undergraduate and master's students (``Undergrad student``, ``MS student``, ``Master``).
UNDERGRAD_OR_MASTERS = r"(undergrad|bachelor|master|ms student|msc|m\.s\.)"
#: PhD students (``PhD student``, ``Ph.D. candidate``, ``Graduate Student``).
PHD_STUDENT = r"(phd|ph\.d|doctoral student|graduate student)"
#: Anything naming a student or an intern: never an established post.
STUDENT_OR_INTERN = r"(student|intern|undergrad|bachelor|master|msc|phd|ph\.d|doctoral)"


def record_stages(authorships: ibis.Table) -> ibis.Table | None:
    """``(authorship_id, early, phd_first, established)`` of the authorships that name a
    career position; ``None`` when the table has no ``career_position`` column.

    ``early``: an undergraduate or master's student; ``phd_first``: a PhD student listed as
    first author (``author_position`` 0); ``established``: a post that is neither a student
    nor an intern.
    """
    if "career_position" not in authorships.columns:
        return None
    a = authorships
    pos = a.career_position.cast("string").lower().strip()
    a = a.filter(pos.notnull() & (pos != ""))
    pos = a.career_position.cast("string").lower()
    first = (
        (a.author_position == 0).fill_null(False)
        if "author_position" in a.columns
        else ibis.literal(False)
    )
    return a.select(
        "authorship_id",
        early=pos.re_search(UNDERGRAD_OR_MASTERS),
        phd_first=pos.re_search(PHD_STUDENT) & first,
        established=~pos.re_search(STUDENT_OR_INTERN),
    )


def entity_stages(stages: ibis.Table, members: ibis.Table, level: float) -> ibis.Table:
    """``(entity_id, early, established)`` per entity of ``members`` (``entity_id,
    authorship_id``) with a stated position: ``early`` when any of its records is an early
    career stage at ``level`` (1: undergraduate or master's student; 2: also a PhD student
    as first author), ``established`` when every record with a position names an established
    post."""
    m = members.select("entity_id", "authorship_id").join(stages, "authorship_id")
    early = m.early | (m.phd_first & (level >= 2))
    return m.group_by("entity_id").aggregate(early=early.max(), established=m.established.min())


def paired_records(pairs: ibis.Table, threshold: float) -> ibis.Table:
    """``(entity_id)`` of the free entities scored at ``threshold`` or more with another free
    entity: those the decisions group with other unidentified records (step 3)."""
    rr = pairs.filter(
        ~pairs.is_cluster_l & ~pairs.is_cluster_r & (pairs.match_probability >= threshold)
    )
    ends = rr.select(entity_id=rr.entity_id_l).union(rr.select(entity_id=rr.entity_id_r))
    return ends.distinct()


def unique_name_support(
    best: ibis.Table,
    support: ibis.Value,
    stages: ibis.Table,
    p: dict[str, float],
    paired: ibis.Table | None = None,
) -> tuple[ibis.Table, ibis.Value]:
    """``best`` (one row per free entity ``free``) joined with its stage, and the unique-name
    rule's support adjusted by it (see the module's text): early career stages refuse the
    rule; an established post counts as support for a record that ``paired`` (see
    :func:`paired_records`) does not hold (on the development split ``nips2023,icml2023``
    the post brought 21 known people and 13 new ones among records grouped with others, 43
    and 7 among lone records)."""
    out = best.left_join(
        stages.select(free=stages.entity_id, st_early=stages.early, st_est=stages.established),
        "free",
    ).drop("free_right")
    if p.get("established_support", 0) > 0:
        lone = ibis.literal(True)
        if paired is not None:
            out = out.left_join(paired.select(free=paired.entity_id, st_paired=True), "free")
            out = out.drop("free_right")
            lone = out.st_paired.isnull()
        support = support | (out.st_est.fill_null(False) & lone)
    if p.get("early_career_guard", 0) > 0:
        support = support & ~out.st_early.fill_null(False)
    return out, support
